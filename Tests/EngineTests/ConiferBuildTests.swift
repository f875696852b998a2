import Foundation
import TestSupport
import Testing
@testable import Engine
import Pipelines
import TrainingSets
import Trajectories

@Suite(.serialized) struct ConiferBuildTests {
    func build(_ yaml: String, base: URL, out: URL) throws -> BuildResult {
        let file = base.appendingPathComponent("p-\(UInt32.random(in: 0...UInt32.max)).yaml")
        try Data(yaml.utf8).write(to: file)
        return try BuildRunner(options: .init(outDirectory: out)).run(try PipelineLoader.load(path: file.path))
    }

    func records(_ dir: URL) throws -> [ConiferRecord] {
        try ["train", "test"].flatMap { name -> [ConiferRecord] in
            try DatasetFiles.text(dir, name).split(separator: "\n").map {
                try JSONDecoder().decode(ConiferRecord.self, from: Data($0.utf8))
            }
        }
    }

    static func sampleYAML(seed: Int) -> String {
        """
        version: 1
        name: conifer-test
        seed: \(seed)
        inputs:
          - path: \(repoRoot.path)/pipelines/samples/part-*.jsonl
            outcomes: \(repoRoot.path)/pipelines/samples/outcomes.jsonl
        outputs:
          instruct: {style: conifer, levels: 5}
        """
    }

    /// Records waiting in the spill file (none held in memory) give the same dataset as records held
    /// in memory.
    @Test func spilledRecordsGiveTheSameDataset() throws {
        let dir = try scratch("conifer-spill")
        var trajectories: [Trajectory] = []
        for part in ["part-01.jsonl", "part-02.jsonl"] {
            trajectories += try NativeReader.read(path: repoRoot.appendingPathComponent("pipelines/samples/\(part)").path).trajectories
        }
        func make(_ name: String, held: Int) throws -> [String: String] {
            let desc = DatasetWriter.Description(name: "instruct", style: "conifer", format: .messages, license: "other", pipeline: "t",
                                                 configHash: "", toolVersion: "", seed: 3, summary: "")
            let writer = try DatasetWriter(directory: dir.appendingPathComponent("\(name)/instruct"), description: desc)
            let builder = ConiferBuilder(options: .init(seed: 3), writer: writer, splitter: Splitter(seed: 3, testFraction: 0.2),
                                         recordsHeldInMemory: held)
            try builder.add(trajectories)
            let stats = try builder.finish()
            try writer.finish(inputs: [], prepare: [], stats: stats)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent(name).path) == ["instruct"], "the spill file is left behind")
            return try treeHashes(dir.appendingPathComponent(name))
        }
        let held = try make("held", held: 1 << 30)
        #expect(held.count >= 3)
        #expect(try make("spilled", held: 0) == held)
        #expect(try make("some", held: 40_000) == held)
    }

    @Test func sampleCorpusConstraintsAllPassAndOutputIsSeeded() throws {
        let base = try scratch("conifer")
        let r = try build(Self.sampleYAML(seed: 42), base: base, out: base.appendingPathComponent("a"))
        _ = try build(Self.sampleYAML(seed: 42), base: base, out: base.appendingPathComponent("b"))
        _ = try build(Self.sampleYAML(seed: 7), base: base, out: base.appendingPathComponent("c"))
        let a = base.appendingPathComponent("a/datasets/instruct")
        #expect(r.datasets.first!.records > 300)
        // Re-check every output file: each constraint on its own answer, spans, critiques.
        let parts = ["train", "test", "external_feedback/train", "external_feedback/test", "rl/train", "rl/test"].flatMap { DatasetFiles.parts(a, $0) }
        #expect(parts.count == 6)
        for part in parts {
            let report = try ConstraintAudit.audit(path: part.path)
            #expect(report.failures.isEmpty, "\(report.failures.prefix(5))")
            #expect(report.unreadable.isEmpty)
        }
        // Byte-identical with the same seed, different with another.
        #expect(try treeHashes(a) == treeHashes(base.appendingPathComponent("b/datasets/instruct")))
        #expect(try DatasetFiles.data(a, "train") != DatasetFiles.data(base.appendingPathComponent("c/datasets/instruct"), "train"))
        let recs = try records(a)
        // Every kind is present, levels are 1…5, and per reference each level has more constraints and its own answer.
        #expect(Set(recs.map(\.kind)) == ["single", "internal_feedback", "easy_to_hard"])
        let singles = Dictionary(grouping: recs.filter { $0.kind == "single" }, by: \.provenance.trajectoryID)
        var oneAnswer = 0
        for (_, rs) in singles {
            let sorted = rs.sorted { $0.level < $1.level }
            #expect(sorted.map(\.level) == Array(1...sorted.count))
            for k in 1..<sorted.count { #expect(sorted[k].constraints.count > sorted[k - 1].constraints.count) }
            if Set(sorted.map { $0.messages.last!.content }).count == 1 { oneAnswer += 1 }
        }
        #expect(Double(oneAnswer) <= 0.1 * Double(singles.count), "\(oneAnswer) of \(singles.count) references answer every level alike")
        // No string `prompt` column (TRL would read it as prompt–completion data); tool schemas beside the messages.
        let firstLine = try #require(DatasetFiles.text(a, "train").split(separator: "\n").first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(firstLine.utf8)) as? [String: Any])
        #expect(object["prompt"] == nil && object["tools"] is [[String: Any]])
        // Curriculum: the train file is ordered by level.
        let train = try DatasetFiles.text(a, "train").split(separator: "\n")
            .map { try JSONDecoder().decode(ConiferRecord.self, from: Data($0.utf8)).level }
        #expect(train == train.sorted())
        // No give-up answer and no harness meta-text in any target.
        let text = try DatasetFiles.text(a, "train") + DatasetFiles.text(a, "test")
        #expect(!text.contains("I could not finish") && !text.contains("did not pass verification"))
        // External feedback: prompt–completion, the weak answer from a failed attempt of the same family in the prompt.
        let all = try NativeReader.read(path: repoRoot.appendingPathComponent("pipelines/samples/part-01.jsonl").path).trajectories
            + NativeReader.read(path: repoRoot.appendingPathComponent("pipelines/samples/part-02.jsonl").path).trajectories
        let byID = Dictionary(all.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let feedback = try ["external_feedback/train", "external_feedback/test"].flatMap { split in
            try DatasetFiles.text(a, split).split(separator: "\n").map { try JSONDecoder().decode(ConiferFeedbackRecord.self, from: Data($0.utf8)) }
        }
        #expect(feedback.count > 20)
        for e in feedback {
            #expect(e.prompt.filter { $0.role == "user" }.count == 2 && e.completion.count == 1)
            let weak = try #require(e.provenance.weakTrajectoryID.flatMap { byID[$0] })
            let ref = try #require(byID[e.provenance.trajectoryID])
            #expect(Splitter.key(weak) == Splitter.key(ref) && weak.outcome.status != .success)
            #expect(e.prompt.contains { $0.role == "assistant" && $0.content == weak.answer })
        }
        let m = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: a.appendingPathComponent("manifest.json")))
        #expect(m.stats["records_per_level"]?["1"] != nil)
        #expect((m.stats["rejected_share"].flatMap { if case .double(let d) = $0 { d } else { nil } } ?? 0) > 0)
    }

    @Test func sparkRunsGiveVerifiedConstraints() throws {
        guard let shared = sharedData("spark", for: "the SPARK Conifer test") else { return }
        let base = try scratch("conifer-spark")
        let r = try build("""
            version: 1
            inputs:
              - path: \(shared.path)/*/trajectory.jsonl
            outputs:
              instruct: {style: conifer}
            """, base: base, out: base.appendingPathComponent("out"))
        #expect(r.datasets.first!.records > 20)
        let dir = base.appendingPathComponent("out/datasets/instruct")
        for part in DatasetFiles.parts(dir, "train") + DatasetFiles.parts(dir, "test") {
            let report = try ConstraintAudit.audit(path: part.path)
            #expect(report.failures.isEmpty, "\(report.failures.prefix(5))")
        }
        #expect(!DatasetFiles.parts(dir, "external_feedback/train").isEmpty || !DatasetFiles.parts(dir, "external_feedback/test").isEmpty)
        for part in ["external_feedback/train", "external_feedback/test", "rl/train", "rl/test"].flatMap({ DatasetFiles.parts(dir, $0) }) {
            let report = try ConstraintAudit.audit(path: part.path)
            #expect(report.failures.isEmpty && report.unreadable.isEmpty, "\(report.failures.prefix(5))")
        }
    }
}
