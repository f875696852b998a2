import Foundation
import Engine
import Pipelines
import TestSupport
import Testing
import Trajectories

/// Nothing of a test family reaches training: over every config of every dataset of a build (declared and
/// auxiliary), no trajectory is in both splits, no train record holds the task text of a test trajectory,
/// and the CADA case library (shown to the model in train records) holds train trajectories only.
/// Expected facts come from the input files and the records' provenance, not from the build's statistics.
@Suite struct LeakageTests {
    struct Seen {
        var split: String
        var ids: Set<String>
        var text: String
    }

    /// Every record of a dataset with its split, the trajectories it names and all its strings.
    static func records(_ dataset: URL) throws -> [Seen] {
        var out: [Seen] = []
        let root = dataset.appendingPathComponent("data")
        guard let e = FileManager.default.enumerator(atPath: root.path) else { return [] }
        while let rel = e.nextObject() as? String {
            guard rel.hasSuffix(".jsonl") else { continue }
            let split = URL(fileURLWithPath: rel).deletingLastPathComponent().lastPathComponent
            for line in try String(contentsOf: root.appendingPathComponent(rel), encoding: .utf8).split(separator: "\n") {
                let v = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
                var ids = Set<String>()
                for key in ["trajectory_id", "weak_trajectory_id"] {
                    if let id = v["provenance"]?[key]?.stringValue ?? v[key]?.stringValue { ids.insert(id) }
                }
                var text = ""
                v.forEachString { text += $0 + "\n" }
                out.append(Seen(split: split, ids: ids, text: text))
            }
        }
        return out
    }

    /// Checks every dataset under `out/datasets` against the tasks of the input trajectories.
    func check(_ out: URL, inputs: [Trajectory], datasets expected: Int) throws {
        let task = Dictionary(inputs.map { ($0.id, $0.task) }, uniquingKeysWith: { a, _ in a })
        let datasets = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("datasets").path).sorted()
        #expect(datasets.count == expected)
        for name in datasets {
            let seen = try Self.records(out.appendingPathComponent("datasets/\(name)"))
            #expect(!seen.isEmpty)
            let testIDs = Set(seen.filter { $0.split == "test" }.flatMap(\.ids))
            let trainIDs = Set(seen.filter { $0.split == "train" }.flatMap(\.ids))
            #expect(!testIDs.isEmpty && !trainIDs.isEmpty, "\(name): one split is empty")
            #expect(testIDs.isDisjoint(with: trainIDs), "\(name): \(testIDs.intersection(trainIDs).sorted().prefix(5)) in both splits")
            let testTasks = Set(testIDs.compactMap { task[$0] }.filter { $0.count >= 20 })
            var leaks: [String] = []
            for r in seen where r.split == "train" {
                if let t = testTasks.first(where: { r.text.contains($0) }) { leaks.append(String(t.prefix(60))) }
            }
            #expect(leaks.isEmpty, "\(name): \(leaks.count) train records hold a test task, e.g. \(leaks.prefix(3))")
        }
        // The case library: cases of train trajectories only.
        let cada = out.appendingPathComponent("datasets/cada")
        let testIDs = Set(try Self.records(cada).filter { $0.split == "test" }.flatMap(\.ids))
        let cases = try DatasetFiles.text(cada, "cases/train").split(separator: "\n").map { try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
        #expect(!cases.isEmpty)
        #expect(cases.allSatisfy { !testIDs.contains($0["trajectory_id"]!.stringValue!) })
    }

    static func sampleInputs() throws -> [Trajectory] {
        try ["part-01.jsonl", "part-02.jsonl"].flatMap {
            try NativeReader.read(path: repoRoot.appendingPathComponent("pipelines/samples/\($0)").path).trajectories
        }
    }

    @Test func noTestFamilyReachesTraining() throws {
        let out = try scratch("leakage")
        _ = try BuildRunner(options: .init(outDirectory: out)).run(try PipelineLoader.load(path: repoRoot.appendingPathComponent("pipelines/sample.yaml").path))
        try check(out, inputs: try Self.sampleInputs(), datasets: 5)
    }

    @Test func noTestFamilyReachesTrainingOnSparkRunsAndTheSamples() throws {
        guard let spark = sharedData("spark", for: "the SPARK leakage test") else { return }
        let dir = try scratch("leakage-spark")
        try Data("""
            version: 1
            seed: 42
            \(sparkAndSampleInputs(spark))
            outputs:
              trajectories: {style: trajectory-sft}
              instruct: {style: conifer}
              cada: {style: cada, rules: \(repoRoot.path)/pipelines/safety/consequences.yaml, codes: \(repoRoot.path)/pipelines/safety/codes.yaml}
            """.utf8).write(to: dir.appendingPathComponent("p.yaml"))
        let out = dir.appendingPathComponent("out")
        _ = try BuildRunner(options: .init(outDirectory: out)).run(try PipelineLoader.load(path: dir.appendingPathComponent("p.yaml").path))
        var inputs = try Self.sampleInputs()
        for run in try FileManager.default.contentsOfDirectory(atPath: spark.path).sorted() {
            let file = spark.appendingPathComponent("\(run)/trajectory.jsonl").path
            guard FileManager.default.fileExists(atPath: file) else { continue }
            inputs += try Importers.importFile(path: file, display: file).trajectories
        }
        #expect(inputs.count > 300)
        try check(out, inputs: inputs, datasets: 3)
    }
}
