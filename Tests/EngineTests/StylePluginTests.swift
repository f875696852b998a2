import Foundation
import TestSupport
import Testing
@testable import Engine
import Pipelines
import Styles
import TrainingSets
import Trajectories

/// A style defined here, in the test target, that the engine builds without knowing it (issue 17: output
/// styles as plug-ins). It writes one record per trajectory that has a final answer: the task behind a
/// prefix set in the pipeline, and the answer.
struct TaskAnswerStyle: OutputStyle {
    var declaration: StyleDeclaration {
        StyleDeclaration(name: "task-answer", keys: ["prefix", "min_steps"]) { key, value in
            switch key {
            case "prefix": return value.count > 20 ? "'prefix' must be at most 20 characters" : nil
            case "min_steps": return Int(value).map { $0 >= 0 } == true ? nil : "'min_steps' must be a whole number of at least 0, found '\(value)'"
            default: return nil
            }
        }
    }

    func summary(_ o: OutputSpec) -> String { "Each task with its final answer (a test-only style)." }

    func makeBuilder(_ o: OutputSpec, context: StyleContext) throws -> any DatasetBuilder {
        Builder(writer: try context.datasetWriter(o), splitter: Splitter(seed: context.seed, testFraction: o.testFraction),
                prefix: o.settings?["prefix"] ?? "", minSteps: Int(o.settings?["min_steps"] ?? "0") ?? 0)
    }

    final class Builder: DatasetBuilder {
        let writer: DatasetWriter
        let splitter: Splitter
        let prefix: String
        let minSteps: Int
        var written = 0
        init(writer: DatasetWriter, splitter: Splitter, prefix: String, minSteps: Int) {
            self.writer = writer
            self.splitter = splitter
            self.prefix = prefix
            self.minSteps = minSteps
        }

        func add(_ batch: [Trajectory]) throws {
            for t in batch where t.steps.count >= minSteps {
                guard let answer = t.answer else { continue }
                let record = ["messages": [ChatMessage(role: "user", content: prefix + t.task), ChatMessage(role: "assistant", content: answer)]]
                try writer.write(JSONCoding.line(record), split: splitter.split(t))
                written += 1
            }
        }

        func finish() throws -> [String: JSONValue] { ["written": .int(Int64(written))] }
    }
}

@Suite(.serialized) struct StylePluginTests {
    init() { OutputStyles.register(TaskAnswerStyle()) }

    /// Four trajectories written here: two with answers and ≥ 2 steps, one with an answer and 1 step, one without an answer.
    func corpus(_ dir: URL) throws {
        func step(_ i: Int) -> Step {
            Step(index: i, thought: nil, action: Action(tool: "bash", input: .object(["command": .string("ls")]), command: "ls"),
                 observation: Observation(content: "a.txt", exitCode: 0))
        }
        let ts = [
            Trajectory(id: "a", task: "List the files", steps: [step(0), step(1)], answer: "a.txt", outcome: Outcome(status: .success)),
            Trajectory(id: "b", task: "Count the files", steps: [step(0), step(1), step(2)], answer: "1", outcome: Outcome(status: .success)),
            Trajectory(id: "c", task: "Name one file", steps: [step(0)], answer: "a.txt", outcome: Outcome(status: .success)),
            Trajectory(id: "d", task: "Delete the files", steps: [step(0), step(1)], answer: nil, outcome: Outcome(status: .failure)),
        ]
        var data = Data()
        for t in ts { data.append(try NativeWriter.line(t)); data.append(0x0A) }
        try data.write(to: dir.appendingPathComponent("corpus.jsonl"))
    }

    func pipeline(_ dir: URL, output: String) throws -> URL {
        let url = dir.appendingPathComponent("p.yaml")
        try Data("""
            version: 1
            name: plugin
            inputs: [{path: corpus.jsonl}]
            outputs:
            \(output)
            package: {skills: [], catalog: false}
            """.utf8).write(to: url)
        return url
    }

    @Test func aStyleFromOutsideTheEngineBuildsADataset() throws {
        let dir = try scratch("plugin")
        try corpus(dir)
        let url = try pipeline(dir, output: """
              qa: {style: task-answer, prefix: "Q: ", min_steps: 2, test_split: 0}
            """)
        let spec = try PipelineLoader.load(path: url.path)
        #expect(spec.outputs[0].settings == ["prefix": "Q: ", "min_steps": "2"])
        let r = try BuildRunner(options: .init(outDirectory: dir.appendingPathComponent("out"))).run(spec)
        // a and b have answers and at least two steps; c has one step, d no answer.
        #expect(r.datasets.map(\.records) == [2])
        let dataset = dir.appendingPathComponent("out/datasets/qa")
        let lines = try DatasetFiles.text(dataset, "train").split(separator: "\n").map { try JSONDecoder().decode([String: [ChatMessage]].self, from: Data($0.utf8)) }
        #expect(Set(lines.map { $0["messages"]![0].content }) == ["Q: List the files", "Q: Count the files"])
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: dataset.appendingPathComponent("manifest.json")))
        #expect(manifest.style == "task-answer")
        #expect(try String(contentsOf: dataset.appendingPathComponent("README.md"), encoding: .utf8).contains("Each task with its final answer"))
    }

    @Test func theLoaderChecksAPluginsKeysAndSettingsWithTheirLines() throws {
        let dir = try scratch("plugin-errors")
        try corpus(dir)
        let url = try pipeline(dir, output: """
              qa: {style: task-answer, min_steps: many}
              qb: {style: task-answer, levels: 3}
              qc: {style: task-anser}
            """)
        do {
            _ = try PipelineLoader.load(path: url.path)
            Issue.record("the pipeline should be refused")
        } catch let e as SpecError {
            let text = "\(e)"
            #expect(text.contains("p.yaml:5:"), "\(text)")
            #expect(text.contains("'min_steps' must be a whole number of at least 0, found 'many'"), "\(text)")
            #expect(text.contains("'levels' does not apply to style 'task-answer' (its keys: prefix, min_steps)"), "\(text)")
            #expect(text.contains("unknown style 'task-anser'") && text.contains("task-answer"), "\(text)")
        }
    }
}
