import Foundation
import Testing
@testable import Engine
import Pipelines
import Skills
import Trajectories

@Suite(.serialized) struct SkillsBuildTests {
    func agentskillsAvailable() -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["agentskills", "--version"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try? p.run()
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    @Test func sampleCorpusSkillsAreVerifiedGroundedAndValid() throws {
        let base = try scratch("skills")
        let yaml = """
            version: 1
            name: skills-test
            inputs:
              - path: \(repoRoot.path)/pipelines/samples/part-*.jsonl
                outcomes: \(repoRoot.path)/pipelines/samples/outcomes.jsonl
            outputs:
              skills: {style: skills, min_support: 2, curated: \(repoRoot.path)/skills}
            """
        try Data(yaml.utf8).write(to: base.appendingPathComponent("p.yaml"))
        let out = base.appendingPathComponent("out")
        let r = try BuildRunner(options: .init(outDirectory: out)).run(try PipelineLoader.load(path: base.appendingPathComponent("p.yaml").path))
        #expect(r.skills != nil)
        let index = try JSONDecoder().decode([SkillSetBuilder.Entry].self, from: Data(contentsOf: out.appendingPathComponent("skills/index.json")))
        let distilled = index.filter { $0.source == "distilled" }
        #expect(distilled.count >= 5)
        #expect(index.filter { $0.source == "curated" }.map(\.status) == ["verified", "verified", "verified"])
        let corpus = try NativeReader.read(path: repoRoot.appendingPathComponent("pipelines/samples/part-01.jsonl").path).trajectories
            + NativeReader.read(path: repoRoot.appendingPathComponent("pipelines/samples/part-02.jsonl").path).trajectories
        let steps = Dictionary(corpus.map { ($0.id, Set($0.steps.map(\.index))) }, uniquingKeysWith: { a, _ in a })
        let citation = try NSRegularExpression(pattern: #"`([\w.-]+)` step (\d+)"#)
        for e in distilled {
            let dir = out.appendingPathComponent("skills/\(e.name)")
            let record = try JSONDecoder().decode(VerificationRecord.self, from: Data(contentsOf: dir.appendingPathComponent("verification.json")))
            #expect(["verified", "rejected"].contains(record.status))
            if record.status == "rejected" { #expect(!record.reasons.isEmpty) }
            #expect(record.terms != nil && record.pdi != nil)
            // Every citation in the evidence names a real trajectory step.
            let evidence = try String(contentsOf: dir.appendingPathComponent("references/evidence.md"), encoding: .utf8)
            let ns = evidence as NSString
            let matches = citation.matches(in: evidence, range: NSRange(location: 0, length: ns.length))
            #expect(!matches.isEmpty)
            for m in matches {
                let id = ns.substring(with: m.range(at: 1)), step = Int(ns.substring(with: m.range(at: 2)))!
                #expect(steps[id]?.contains(step) == true, "\(e.name): \(id) step \(step)")
            }
            // No instance-specific ids or secrets leak into the bundle.
            let bundle = try SkillBundle.read(directory: dir)
            #expect(!SurrogateVerifier().verify(bundle).diagnoses.contains { $0.category == .boundary })
        }
        // The reference validator accepts every bundle skillforge verified.
        guard agentskillsAvailable() else {
            if isCI { Issue.record("CI=true but agentskills (PyPI skills-ref) is not installed") }
            else { print("NOTICE: skipping agentskills validation of distilled bundles: pip install skills-ref") }
            return
        }
        for e in index where e.status == "verified" {
            let dir = e.source == "curated" ? repoRoot.appendingPathComponent("skills/\(e.name)") : out.appendingPathComponent("skills/\(e.name)")
            let (status, output) = try run("/usr/bin/env", ["agentskills", "validate", dir.path])
            #expect(status == 0, "\(e.name): \(output)")
        }
    }

    /// PDI for every SPARK run that ships a SKILL.md, each scored against its own run, z-scored together.
    @Test func sparkSkillsPDITable() throws {
        guard let spark = sharedData("spark", for: "the SPARK PDI table") else { return }
        var rows: [(String, PDI.Terms)] = []
        for task in try FileManager.default.contentsOfDirectory(atPath: spark.path).sorted() {
            let dir = spark.appendingPathComponent(task)
            guard let skill = try? String(contentsOf: dir.appendingPathComponent("SKILL.md"), encoding: .utf8) else { continue }
            let runs = try Importers.importFile(path: dir.appendingPathComponent("trajectory.jsonl").path, display: task).trajectories
            rows.append((task, PDI.terms(skill: skill, successes: runs.filter { $0.outcome.status == .success }, attempts: runs)))
        }
        #expect(rows.count == 9)
        let pdi = PDI.index(rows.map(\.1))
        print("SPARK PDI table (task, phi_exec, phi_plan, phi_oss, PDI):")
        for (i, (task, t)) in rows.enumerated() {
            print(String(format: "  %-32@ %.4f %.4f %.4f %+.3f", task as NSString, t.exec, t.plan, t.oss, pdi[i]))
            #expect(t.exec >= 0.3 && t.exec <= 1 && t.plan >= 0.3 && t.plan <= 1 && t.oss >= 0 && t.oss <= 1)
        }
        #expect(abs(pdi.reduce(0, +)) < 1e-9, "z-scores of a population sum to zero")
        // Tasks solved on the first attempt have nothing to oscillate over.
        for (task, t) in rows where ["citation-check", "energy-market-pricing", "fix-build-agentops", "software-dependency-audit"].contains(task) {
            #expect(t.oss == 0, "\(task)")
        }
        // φ_oss compares what consecutive attempts verified and failed (issue 19 item 7), worked out from the
        // test summaries with a separate script: mean over pairs of 0.5·Jaccard(passed) + 0.5·Jaccard(failed).
        // exceltable: 0/8 then 8/0 → 0; lean4: 3 passed 1 failed, then 4 passed → 0.5·3/4; trend: 18 passed
        // 1 failed, then 19 passed → 0.5·18/19; google-auto: the same 3 failures twice, then all pass →
        // (1 + 1 + 0)/3; r2r: 5 passed 1 failed three times, then 6 passed → (1 + 1 + 0.5·5/6)/3.
        let expectedOss: [String: Double] = ["exceltable-in-ppt": 0, "lean4-proof": 0.375, "trend-anomaly-causal-inference": 9.0 / 19,
                                             "fix-build-google-auto": 2.0 / 3, "r2r-mpc-control": (2 + 5.0 / 12) / 3]
        for (task, t) in rows { if let want = expectedOss[task] { #expect(abs(t.oss - want) < 1e-9, "\(task): \(t.oss) vs \(want)") } }
    }
}
