import Foundation
import Testing
@testable import Trajectories

/// Hand-made hostile files: each must be quarantined or refused with a clear reason, never crash and
/// never lose records silently.
@Suite struct BrokenFileTests {
    func write(_ name: String, _ data: Data) throws -> String {
        let url = try tempDir().appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    @Test func yamlCassetteAliasBombIsRefusedWithoutExpandingIt() throws {
        var y = "interactions:\n- request: &r0 {body: {messages: [{role: user, content: lol}]}, uri: x}\n"
        for i in 1...9 { y += "- extra\(i): &r\(i) [" + Array(repeating: "*r\(i - 1)", count: 9).joined(separator: ", ") + "]\n" }
        let path = try write("bomb.yaml", Data(y.utf8))
        #expect {
            _ = try Importers.importFile(path: path, display: "bomb.yaml")
        } throws: { e in
            "\(e)".contains("bomb.yaml") && "\(e)".contains("expands to more than 1000000 nodes")
        }
    }

    @Test func claudeCodeSessionWithBadLinesQuarantinesThemAndKeepsTheRest() throws {
        let lines = [
            #"{"type":"user","uuid":"u1","parentUuid":null,"sessionId":"s","message":{"role":"user","content":"Fix the build"}}"#,
            #"{"type":"assistant","uuid":"a1","parentUuid":"u1","sessionId":"s","message":{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"make"}}]}}"#,
            #"{"type":"assistant","uuid":"a2","parentUuid":"a1","sessionId":"s","message":{"role":"assistant","content":[{"type":"tool_use","#,
            #"{"type":"progress","uuid":"p1","parentUuid":"a1","sessionId":"s","data":{"pct":50}}"#,
            #"{"type":"user","uuid":"u2","parentUuid":"a1","sessionId":"s","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok\u001b[31m red\u001b[0m","is_error":false}]}}"#,
            #"{"type":"assistant","uuid":"x1","parentUuid":"u2","isSidechain":true,"sessionId":"s","message":{"role":"assistant","content":"sub-agent chatter"}}"#,
            #"{"type":"assistant","uuid":"a3","parentUuid":"u2","sessionId":"s","message":{"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"AAAA"},{"type":"text","text":"Build fixed."}]}}"#,
            "\u{0}\u{1}\u{2} not json at all",
        ]
        let path = try write("session.jsonl", Data(lines.joined(separator: "\r\n").utf8))
        let r = try Importers.importFile(path: path, display: "session.jsonl")
        #expect(r.format == "claude-code")
        #expect(r.quarantined.map(\.line) == [3, 8])
        #expect(r.quarantined[0].reason.contains("truncated record"))
        let t = try #require(r.trajectories.first)
        #expect(t.task == "Fix the build")
        #expect(t.steps.count == 1)
        #expect(t.steps[0].observation?.content == "ok red", "ANSI escapes are stripped")
        #expect(t.answer == "Build fixed.")
        #expect(r.dropped["sidechain_record"] == 1)
        #expect(r.dropped["record_progress"] == 1)
        #expect(r.dropped["thinking_block"] == 1)
        #expect(r.cleaned["ansi_escapes"] == 1)
    }

    @Test func truncatedAndGarbageDocumentsAreRefusedWithAReason() throws {
        let truncated = try write("cut.json", Data(#"{"schema_version": "ATIF-v1.5", "steps": [{"step_id": 1, "source": "us"#.utf8))
        #expect(throws: ImportError.self) { _ = try Importers.importFile(path: truncated, display: "cut.json") }
        let garbage = try write("garbage.bin", Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }))
        do {
            _ = try Importers.importFile(path: garbage, display: "garbage.bin")
            Issue.record("garbage must not import")
        } catch let e as ImportError {
            #expect("\(e)".contains("tried: native, spark"))
        }
    }

    @Test func wrongTypesInARecognisedFormatAreQuarantinedNotCrashing() throws {
        // ShareGPT records where conversations is a string, a record is a number, and a turn has no text.
        let json = #"[{"conversations": "oops"}, 7, {"conversations": [{"from": "human", "value": 3}, {"from": "gpt", "value": "hi"}]}, {"conversations": [{"from": "human", "value": "real task"}, {"from": "function_call", "value": "{not json"}, {"from": "observation", "value": "out"}]}]"#
        let path = try write("sg.json", Data(json.utf8))
        let r = try Importers.importFile(path: path, display: "sg.json", format: "sharegpt")
        #expect(r.trajectories.map(\.task) == ["real task"])
        #expect(r.quarantined.map(\.index) == [0, 1, 2])
        let step = try #require(r.trajectories.first?.steps.first)
        #expect(step.action?.tool == "unknown")
        #expect(step.observation?.content == "out")
    }

    @Test func fiftyMegabyteSingleLineIsReadAndBounded() throws {
        let huge = String(repeating: "x", count: 50 << 20)
        // Native: read whole (native files are trusted to be what skillforge wrote).
        let t = Trajectory(id: "big", task: "t", steps: [Step(index: 0, action: Action(tool: "bash"), observation: Observation(content: huge))])
        let native = try write("big.jsonl", try NativeWriter.line(t) + Data("\n".utf8))
        let r = try Importers.importFile(path: native, display: "big.jsonl")
        #expect(r.trajectories.first?.steps.first?.observation?.content.utf8.count == 50 << 20)
        // Foreign formats bound huge observations to the configured size, keeping head and tail.
        let line = #"{"type":"user","message":{"role":"user","content":"task"}}"# + "\n"
            + #"{"type":"assistant","message":{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"Bash","input":{}}]}}"# + "\n"
            + #"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":"HEAD"# + huge + #"TAIL"}]}}"#
        let cc = try write("big-session.jsonl", Data(line.utf8))
        let b = try Importers.importFile(path: cc, display: "big-session.jsonl", options: ImportOptions(maxObservationBytes: 4096))
        let content = try #require(b.trajectories.first?.steps.first?.observation?.content)
        #expect(content.utf8.count < 4200)
        #expect(content.hasPrefix("HEAD") && content.hasSuffix("TAIL") && content.contains("bytes truncated by skillforge"))
        #expect(b.cleaned["truncated_observation"] == 1)
        // A 50 MB line of garbage in a JSON Lines file is one quarantined line.
        let junk = try write("junk.jsonl", Data(("{\"id\":\"a\",\"task\":\"t\",\"steps\":[]}\n{" + huge + "\n").utf8))
        let j = try Importers.importFile(path: junk, display: "junk.jsonl")
        #expect(j.trajectories.count == 1)
        #expect(j.quarantined.map(\.line) == [2])
    }

    @Test func base64ImagesAndDoubleEncodedArgumentsAreHandled() throws {
        let image = "data:image/png;base64," + String(repeating: "iVBORw0KGgo", count: 100)
        // `arguments` holds a JSON string whose content is itself JSON text (double encoding).
        let doubleEncoded = #""\"{\\\"command\\\": \\\"ls -la\\\"}\"""#
        let json = """
        {"messages": [
          {"role": "system", "content": "sys"},
          {"role": "user", "content": [{"type": "text", "text": "List files"}, {"type": "image_url", "image_url": {"url": "\(image)"}}]},
          {"role": "assistant", "content": null, "tool_calls": [{"id": "", "type": "function", "function": {"name": "bash", "arguments": \(doubleEncoded)}}]},
          {"role": "tool", "tool_call_id": "", "content": "a.txt \(image)"},
          {"role": "assistant", "content": "There is a.txt."}
        ]}
        """
        let path = try write("chat.json", Data(json.utf8))
        let r = try Importers.importFile(path: path, display: "chat.json")
        #expect(r.format == "openai-chat")
        let t = try #require(r.trajectories.first)
        #expect(t.task == "List files")
        #expect(t.steps.first?.action?.input["command"]?.stringValue == "ls -la")
        #expect(t.steps.first?.action?.command == "ls -la")
        #expect(t.steps.first?.observation?.content.hasPrefix("a.txt [image dropped:") == true)
        #expect(r.dropped["image"] == 1 && r.dropped["base64_image"] == 1)
        #expect(t.answer == "There is a.txt.")
    }
}

@Suite struct UTF8ImportTests {
    @Test func invalidUTF8InAForeignFormatIsRepairedAndCounted() throws {
        var bytes = Array(#"{"type":"user","message":{"role":"user","content":"caf"#.utf8) + [0xE9] + Array(#" task"}}"#.utf8)
        bytes += Array("\n".utf8) + Array(#"{"type":"assistant","message":{"role":"assistant","content":"ok"}}"#.utf8)
        let url = try tempDir().appendingPathComponent("s.jsonl")
        try Data(bytes).write(to: url)
        let r = try Importers.importFile(path: url.path, display: "s.jsonl")
        #expect(r.trajectories.first?.task == "caf\u{FFFD} task")
        #expect(r.cleaned["invalid_utf8_repaired"] == 1)
    }
}
