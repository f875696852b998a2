import Foundation
import Pipelines
import Engine
import TestSupport
import Testing
import Trajectories

/// The datasets in the trainers their users run: TRL's SFT, DPO and GRPO trainers on a tiny random model
/// under several real chat templates, and LLaMA-Factory's own data pipeline (Tests/clients/check_*.py).
/// The Python environments come from `.ci/run` (`.build-venv/trl`, `.build-venv/llamafactory`, or the
/// paths in SKILLFORGE_TRL_PYTHON / SKILLFORGE_LLAMAFACTORY_PYTHON); without them the test prints a
/// notice and skips, except under CI=true, where it fails.
@Suite(.serialized) struct RealTrainerTests {
    static func python(_ variable: String, _ venv: String) -> String? {
        let path = ProcessInfo.processInfo.environment[variable] ?? repoRoot.appendingPathComponent(".build-venv/\(venv)/bin/python").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    func trainers(on datasets: URL, label: String) throws {
        // The scripts' temporary files (model, caches, trainer output) go under this test's scratch folder.
        let tmp = try scratch("trainer-tmp")
        let env = ["TMPDIR": tmp.path]
        guard let trl = Self.python("SKILLFORGE_TRL_PYTHON", "trl"), let lf = Self.python("SKILLFORGE_LLAMAFACTORY_PYTHON", "llamafactory") else {
            if isCI { Issue.record("CI=true but the trainer environments are missing (.ci/run makes .build-venv/trl and .build-venv/llamafactory)") }
            else { print("NOTICE: skipping the real-trainer test (\(label)): no .build-venv/trl or .build-venv/llamafactory; .ci/run shows how to make them") }
            return
        }
        let (status, output) = try run(trl, [repoRoot.appendingPathComponent("Tests/clients/check_trainers.py").path, datasets.path,
                                             "--templates", "qwen2_5,qwen3_8,llama3_1"], env: env)
        print(output.split(separator: "\n").filter { $0.hasPrefix("ok") || $0.hasPrefix("FAIL") || $0.contains("checks passed") }.joined(separator: "\n"))
        #expect(status == 0, "TRL (\(label)):\n\(output.suffix(4000))")
        #expect(output.contains("SFTTrainer 2 steps") && output.contains("DPOTrainer 2 steps") && output.contains("GRPOTrainer 1 step"))
        let (lfStatus, lfOutput) = try run(lf, [repoRoot.appendingPathComponent("Tests/clients/check_llamafactory.py").path, datasets.path], env: env)
        print(lfOutput.split(separator: "\n").filter { $0.hasPrefix("ok") || $0.hasPrefix("FAIL") }.joined(separator: "\n"))
        #expect(lfStatus == 0, "LLaMA-Factory (\(label)):\n\(lfOutput.suffix(4000))")
    }

    @Test func everyConfigOfTheSampleBuildTrains() throws {
        let out = try scratch("trainers")
        _ = try BuildRunner(options: .init(outDirectory: out)).run(try PipelineLoader.load(path: repoRoot.appendingPathComponent("pipelines/sample.yaml").path))
        try trainers(on: out.appendingPathComponent("datasets"), label: "sample build")
    }

    @Test func everyConfigOfASparkAndSampleBuildTrains() throws {
        guard let spark = sharedData("spark", for: "the SPARK trainer test") else { return }
        let dir = try scratch("trainers-spark")
        let yaml = """
            version: 1
            name: spark-and-sample
            seed: 42
            max_bad_fraction: 0.05
            \(sparkAndSampleInputs(spark))
            prepare:
              - redact: {secrets: true}
              - dedupe: {method: exact}
            outputs:
              trajectories: {style: trajectory-sft, prepare: [{filter: {outcome: [success, partial], min_steps: 2}}]}
              sharegpt: {style: trajectory-sft, format: sharegpt, prepare: [{filter: {outcome: [success]}}]}
              instruct: {style: conifer}
              cada: {style: cada, rules: \(repoRoot.path)/pipelines/safety/consequences.yaml, codes: \(repoRoot.path)/pipelines/safety/codes.yaml}
            """
        try Data(yaml.utf8).write(to: dir.appendingPathComponent("p.yaml"))
        let out = dir.appendingPathComponent("out")
        _ = try BuildRunner(options: .init(outDirectory: out)).run(try PipelineLoader.load(path: dir.appendingPathComponent("p.yaml").path))
        try trainers(on: out.appendingPathComponent("datasets"), label: "SPARK + sample build")
    }
}
