import Catalog
import Foundation
import Testing
@testable import Engine
import Pipelines

@Suite(.serialized) struct PublishTests {
    @Test func buildsKeepVersionsAndPublishIsIdempotentAndRefusesConflicts() throws {
        let base = try scratch("publish")
        let yaml = """
            version: 1
            name: publish-test
            inputs:
              - path: \(repoRoot.path)/pipelines/samples/part-*.jsonl
            outputs:
              skills: {style: skills, curated: \(repoRoot.path)/skills}
            package: {skills: [skill, tar.gz]}
            """
        try Data(yaml.utf8).write(to: base.appendingPathComponent("p.yaml"))
        let out = base.appendingPathComponent("out")
        let spec = try PipelineLoader.load(path: base.appendingPathComponent("p.yaml").path)
        let first = try BuildRunner(options: .init(outDirectory: out)).run(spec)
        let second = try BuildRunner(options: .init(outDirectory: out)).run(spec)
        #expect(first.skillVersions != nil && !first.skillVersions!.isEmpty)
        #expect(first.skillVersions == second.skillVersions, "unchanged skills keep their versions")
        #expect(Set(first.skillVersions!.values) == [1])
        let catalog = try Catalog(path: out.appendingPathComponent("catalog.sqlite").path)
        #expect(try catalog.runs().count == 2)
        let diff = try catalog.diff(1, 2)
        #expect(diff.added.isEmpty && diff.changed.isEmpty && diff.removed.isEmpty)
        #expect(try catalog.search("jsonl duplicate ids").first?.name == "jsonl-dataset-audit")

        let dest = base.appendingPathComponent("published")
        let p1 = try Publisher.publish(outDirectory: out, to: dest)
        #expect(p1.published.count == first.skillVersions!.count * 2)
        let before = try treeHashes(dest)
        let p2 = try Publisher.publish(outDirectory: out, to: dest)
        #expect(p2.published.isEmpty && p2.unchanged.count == p1.published.count)
        let after = try treeHashes(dest)
        #expect(before.filter { $0.key.hasPrefix("archives/") || $0.key == "SHA256SUMS" || $0.key == "index.json" }
                == after.filter { $0.key.hasPrefix("archives/") || $0.key == "SHA256SUMS" || $0.key == "index.json" })
        // SHA256SUMS matches the published bytes.
        let sums = try String(contentsOf: dest.appendingPathComponent("SHA256SUMS"), encoding: .utf8).split(separator: "\n")
        #expect(sums.count == p1.published.count)
        for line in sums {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            #expect(after[String(parts[1])] == String(parts[0]))
        }
        // Tampering with a published archive: the next publish refuses to overwrite it.
        let victim = dest.appendingPathComponent(p1.published[0])
        try Data("different bytes".utf8).write(to: victim)
        #expect(throws: Publisher.Conflict.self) { _ = try Publisher.publish(outDirectory: out, to: dest) }
        #expect(try String(contentsOf: victim, encoding: .utf8) == "different bytes")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dest.path).filter { $0.hasPrefix(".staging") }.isEmpty)
    }
}
