import Foundation
import TestSupport
import Testing
@testable import Engine
import Pipelines
import TrainingSets

@Suite struct ForeignInputTests {
    /// A Claude Code session and a Harbor result.json: detected, imported, joined and built.
    @Test func claudeCodeSessionWithHarborOutcome() throws {
        let dir = try scratch("foreign")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("runs"), withIntermediateDirectories: true)
        let session = [
            #"{"type":"user","uuid":"u1","parentUuid":null,"sessionId":"trial-7","message":{"role":"user","content":"Create hello.txt containing hi"}}"#,
            #"{"type":"assistant","uuid":"a1","parentUuid":"u1","sessionId":"trial-7","message":{"role":"assistant","content":[{"type":"text","text":"Writing the file."},{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"echo hi > hello.txt"}}]}}"#,
            #"{"type":"user","uuid":"u2","parentUuid":"a1","sessionId":"trial-7","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":""}]}}"#,
            #"{"type":"assistant","uuid":"a2","parentUuid":"u2","sessionId":"trial-7","message":{"role":"assistant","content":[{"type":"text","text":"Done."}]}}"#,
        ].joined(separator: "\n")
        try Data(session.utf8).write(to: dir.appendingPathComponent("runs/s.jsonl"))
        try Data(#"{"id": "r-1", "task_name": "hello", "trial_name": "trial-7", "verifier_result": {"rewards": {"reward": 1.0}}}"#.utf8)
            .write(to: dir.appendingPathComponent("result.json"))
        try Data("""
        version: 1
        inputs:
          - path: runs/*.jsonl
            outcomes: result.json
        prepare:
          - filter: {outcome: [success]}
        outputs:
          sft: {style: trajectory-sft, test_split: 0}
        """.utf8).write(to: dir.appendingPathComponent("p.yaml"))
        let spec = try PipelineLoader.load(path: dir.appendingPathComponent("p.yaml").path)
        let r = try BuildRunner(options: .init(outDirectory: dir.appendingPathComponent("out"))).run(spec)
        #expect(r.outcomesJoined == 1)
        #expect(r.datasets.first?.records == 1)
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: dir.appendingPathComponent("out/datasets/sft/manifest.json")))
        #expect(manifest.inputs.map(\.format) == ["claude-code"])
        let line = try DatasetFiles.text(dir.appendingPathComponent("out/datasets/sft"), "train")
        #expect(line.contains("echo hi > hello.txt") && line.contains("\"outcome\":\"success\""))
    }

    @Test func anUnrecognisedInputFailsNamingTheFormatsTried() throws {
        let dir = try scratch("unknown")
        try Data("just some text\n".utf8).write(to: dir.appendingPathComponent("notes.txt"))
        try Data("version: 1\ninputs:\n  - path: notes.txt\noutputs:\n  a: {style: trajectory-sft}\n".utf8)
            .write(to: dir.appendingPathComponent("p.yaml"))
        let spec = try PipelineLoader.load(path: dir.appendingPathComponent("p.yaml").path)
        do {
            _ = try BuildRunner(options: .init(outDirectory: dir.appendingPathComponent("out"))).run(spec)
            Issue.record("expected a failure")
        } catch {
            #expect("\(error)".contains("cannot detect the trajectory format: it holds text that is not JSON (tried: native, spark, openhands-output"), "\(error)")
        }
    }
}
