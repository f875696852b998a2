import Foundation
import TestSupport
import Testing
@testable import Catalog

func skill(_ name: String, description: String, body: String, file: String = "x") -> Catalog.SkillInput {
    Catalog.SkillInput(name: name, description: description, body: body, source: "distilled", status: "verified", rounds: 1,
                       passRate: 1, terms: (0.8, 0.5, 0), pdi: 0.5, archives: ["\(name).skill"], archiveSHA256: "abc", archiveSize: 10,
                       files: [("scripts/run.sh", file, 10, true)], evidence: [("traj-1", [0, 2])])
}

func runInput() -> Catalog.RunInput {
    Catalog.RunInput(pipeline: "p", configHash: "h", toolVersion: "0.1.0", startedAt: Date(), finishedAt: Date(), status: "ok", stats: "{}", inputs: [])
}

@Suite struct CatalogTests {
    func open() throws -> Catalog {
        let dir = try Scratch.directory("cat")
        return try Catalog(path: dir.appendingPathComponent("catalog.sqlite").path)
    }

    @Test func versionsAreImmutableOverThreeBuilds() throws {
        let c = try open()
        let a = skill("alpha", description: "Alpha. Use for a.", body: "Do a.")
        let b = skill("beta", description: "Beta. Use for b.", body: "Do b.")
        let g = skill("gamma", description: "Gamma. Use for g.", body: "Do g.")
        let r1 = try c.record(run: runInput(), datasets: [], skills: [a, b, g])
        #expect(r1.versions == ["alpha": 1, "beta": 1, "gamma": 1])
        // Unchanged: same versions.
        let r2 = try c.record(run: runInput(), datasets: [], skills: [a, b, g])
        #expect(r2.versions == ["alpha": 1, "beta": 1, "gamma": 1])
        // Changed beta (body), removed gamma, added delta.
        let b2 = skill("beta", description: "Beta. Use for b.", body: "Do b, better.")
        let d = skill("delta", description: "Delta. Use for d.", body: "Do d.")
        let r3 = try c.record(run: runInput(), datasets: [], skills: [a, b2, d])
        #expect(r3.versions == ["alpha": 1, "beta": 2, "delta": 1])
        let diff = try c.diff(r2.run, r3.run)
        #expect(diff.added == ["delta"] && diff.changed == ["beta"] && diff.removed == ["gamma"] && diff.unchanged == ["alpha"])
        #expect(try c.diff(r1.run, r2.run).added.isEmpty)
        #expect(try c.history("beta").map(\.version) == [1, 2])
        #expect(try c.skill("beta", version: 1)?.0.version == 1)
        #expect(try c.skill("beta")?.0.version == 2)
        // A changed file hash is a change too.
        let r4 = try c.record(run: runInput(), datasets: [], skills: [skill("alpha", description: "Alpha. Use for a.", body: "Do a.", file: "y")])
        #expect(r4.versions["alpha"] == 2)
        #expect(try c.skills().map { "\($0.name)@\($0.version)" } == ["alpha@2", "beta@2", "delta@1", "gamma@1"])
    }

    @Test func searchRanksABodyMatchAboveUnrelatedSkills() throws {
        let c = try open()
        try c.record(run: runInput(), datasets: [], skills: [
            skill("unrelated-one", description: "Formats dates. Use for calendars.", body: "Parse and print dates."),
            skill("deploy-helper", description: "Helps with deployments. Use when releasing.", body: "Rotate the kubernetes secrets, then run helm upgrade with the new values."),
            skill("unrelated-two", description: "Counts words. Use for text statistics.", body: "Split and count."),
        ])
        let hits = try c.search("kubernetes helm")
        #expect(hits.first?.name == "deploy-helper")
        #expect(hits.count == 1)
        #expect(hits.first?.snippet.contains("[kubernetes]") == true)
        #expect(try c.search("").isEmpty)
    }

    @Test func snapshotIsAConsistentCopy() throws {
        let c = try open()
        try c.record(run: runInput(), datasets: [], skills: [skill("alpha", description: "A. Use for a.", body: "Do a.")])
        let copy = Scratch.file("snap.sqlite")
        try c.snapshot(to: copy)
        #expect(try Catalog(path: copy.path).skills().map(\.name) == ["alpha"])
    }

    @Test func aDamagedCatalogIsReportedClearly() throws {
        let url = Scratch.file("bad.sqlite")
        try Data("this is not a database, just text that fills the header........................".utf8).write(to: url)
        do {
            _ = try Catalog(path: url.path)
            Issue.record("expected an error")
        } catch {
            // The commands add what to do ('skillforge catalog rebuild'): FaultInjectionTests.
            #expect("\(error)".hasPrefix("\(url.path): cannot open the catalog (") && "\(error)".contains("not a database"))
        }
    }
}
