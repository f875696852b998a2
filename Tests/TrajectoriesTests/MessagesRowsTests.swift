import Foundation
import TestSupport
import Testing
@testable import Trajectories

/// `openai-messages` rows, written by hand in the shapes users bring: the Python peer's corpus
/// (`../shared/bench/gen_corpus.py`), TRL's conversational datasets, OpenAI fine-tuning files.
@Suite struct MessagesRowsTests {
    static let rows = [
        // 1: the peer's shape — system, user, one assistant turn with two calls (arguments as JSON text), two results.
        #"{"id":"run-1","task_key":"web/scrape","messages":[{"role":"system","content":"You are an agent."},{"role":"user","content":"Collect the titles."},{"role":"assistant","content":"Let me look.","tool_calls":[{"id":"c1","type":"function","function":{"name":"bash","arguments":"{\"command\":\"ls\"}"}},{"id":"c2","type":"function","function":{"name":"browser","arguments":"{\"action\":\"open\",\"url\":\"https://x.test\"}"}}]},{"role":"tool","tool_call_id":"c2","content":"<html>"},{"role":"tool","tool_call_id":"c1","content":"a.py"},{"role":"assistant","content":"Done: 3 titles."}],"outcome":{"status":"success","reward":0.78}}"#,
        // 2: TRL conversational language modeling, no id, content as parts, object arguments, tools.
        #"{"messages":[{"role":"user","content":[{"type":"text","text":"What is 2+2?"}]},{"role":"assistant","content":null,"tool_calls":[{"id":"k","type":"function","function":{"name":"calc","arguments":{"expr":"2+2"}}}]},{"role":"tool","tool_call_id":"k","content":"4"},{"role":"assistant","content":"4"}],"tools":[{"type":"function","function":{"name":"calc"}}],"reward":0.5}"#,
        // 3: a line that is not a conversation.
        #"{"sensor":"t1","reading":21.5,"label":"ok"}"#,
        // 4: double-encoded arguments; instance_id names the task, id the run; resolved.
        #"{"id":7,"instance_id":"django__django-1","messages":[{"role":"user","content":"Fix it."},{"role":"assistant","tool_calls":[{"id":"z","function":{"name":"bash","arguments":"\"{\\\"command\\\":\\\"pytest\\\"}\""}}]},{"role":"tool","tool_call_id":"z","content":"1 passed"},{"role":"assistant","content":"Fixed."}],"resolved":false}"#,
        // 5: not JSON.
        #"{"messages": [ {"role": "user""#,
        // 6: a conversation without a user message.
        #"{"id":"s","messages":[{"role":"system","content":"x"},{"role":"assistant","content":"hi"}],"label":1}"#,
        // 7: a JSON array, not an object.
        #"[1, 2]"#,
        // 8: label as a string; an unanswered call.
        #"{"id":"u","messages":[{"role":"user","content":"Go."},{"role":"assistant","content":"","tool_calls":[{"id":"q","function":{"name":"bash","arguments":{"command":"make"}}}]}],"label":"failure"}"#,
    ]

    func write(_ lines: [String]) throws -> String {
        let dir = try Scratch.directory("messages-rows")
        let path = dir.appendingPathComponent("rows.jsonl").path
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func rowsImportExactly() throws {
        let path = try write(Self.rows)
        #expect(try Importers.detect(path: path, display: "rows.jsonl") == "openai-messages")
        let r = try Importers.importFile(path: path, display: "rows.jsonl")
        #expect(r.trajectories.map(\.id) == ["run-1", "rows-L2", "7", "u"])
        #expect(r.quarantined.map(\.line) == [3, 5, 6, 7])
        #expect(r.quarantined[0].reason.contains("keys label, reading, sensor"))
        #expect(r.quarantined[2].reason.contains("no user message"))
        let byID = Dictionary(uniqueKeysWithValues: r.trajectories.map { ($0.id, $0) })

        let peer = try #require(byID["run-1"])
        #expect(peer.task == "Collect the titles." && peer.taskKey == "web/scrape" && peer.answer == "Done: 3 titles.")
        #expect(peer.meta["system"]?.stringValue == "You are an agent.")
        #expect(peer.outcome.status == .success && peer.outcome.reward == 0.78)
        #expect(peer.steps.count == 2)
        #expect(peer.steps[0].thought == "Let me look." && peer.steps[0].action?.tool == "bash" && peer.steps[0].action?.input["command"]?.stringValue == "ls")
        // Results are paired by tool_call_id, not by order.
        #expect(peer.steps[0].observation?.content == "a.py" && peer.steps[1].observation?.content == "<html>")
        #expect(peer.steps[1].action?.input["url"]?.stringValue == "https://x.test" && peer.steps[1].action?.callID == "c2")
        #expect(peer.source?.format == "openai-messages" && peer.source?.line == 1)

        let trl = try #require(byID["rows-L2"])
        #expect(trl.task == "What is 2+2?" && trl.answer == "4" && trl.outcome.status == .partial && trl.outcome.reward == 0.5)
        #expect(trl.steps.first?.action?.input["expr"]?.stringValue == "2+2" && trl.steps.first?.observation?.content == "4")
        #expect(trl.meta["tools"]?.arrayValue?.count == 1)

        let swe = try #require(byID["7"])
        #expect(swe.taskKey == "django__django-1" && swe.outcome.status == .failure)
        #expect(swe.steps.first?.action?.input["command"]?.stringValue == "pytest" && swe.steps.first?.action?.command == "pytest")

        let u = try #require(byID["u"])
        #expect(u.outcome.status == .failure && u.steps.count == 1 && u.steps[0].observation == nil)
        #expect(r.dropped["tool_call_without_result"] == 1)
    }

    /// Line ends (CRLF, progress-bar CR) and terminal escapes are cleaned in every text and counted.
    @Test func textIsCleanedAndTheCleaningCounted() throws {
        let row = #"{"id":"c","messages":[{"role":"user","content":"Run it.\r\nNow."},{"role":"assistant","tool_calls":[{"id":"a","function":{"name":"bash","arguments":{"command":"make"}}}]},{"role":"tool","tool_call_id":"a","content":"10%\r50%\r100%\r\n\u001b[32mok\u001b[0m caf\u00e9 \u001b\u00e9"}],"outcome":"success"}"#
        let r = try Importers.importFile(path: try write([row]), display: "rows.jsonl")
        let t = try #require(r.trajectories.first)
        #expect(t.task == "Run it.\nNow.")
        #expect(t.steps.first?.observation?.content == "10%\n50%\n100%\nok caf\u{e9} ")
        #expect(r.cleaned["line_endings"] == 2)
        #expect(r.cleaned["ansi_escapes"] == 1)
    }

    @Test func theEngineStreamsTheSameRecords() throws {
        // The line-by-line decoder the engine uses gives the importer's trajectories.
        let path = try write(Self.rows)
        let imported = try Importers.importFile(path: path, display: "rows.jsonl").trajectories
        var streamed: [Trajectory] = []
        let reader = try LineReader(path: path)
        while let batch = try reader.nextBatch() {
            for line in batch.lines {
                if case .trajectory(let t, _) = LineFormat.openaiMessages.decode(batch.bytes[line.range], file: "rows.jsonl", line: line.number,
                                                                                options: ImportOptions()).result { streamed.append(t) }
            }
        }
        #expect(streamed == imported)
    }

    @Test func otherJSONLinesAreRefusedFromTheirFirstLinesAndSaySo() throws {
        let dir = try Scratch.directory("refuse")
        // Sensor records, then a file of several GB that is mostly a hole: only its head may be read.
        let url = dir.appendingPathComponent("sensors.jsonl")
        var head = ""
        for i in 0..<2000 { head += #"{"sensor":"s\#(i % 7)","reading":\#(i),"label":"ok"}"# + "\n" }
        try Data(head.utf8).write(to: url)
        let h = try FileHandle(forWritingTo: url)
        try h.truncate(atOffset: 6 << 30)
        try h.close()
        var read = 0
        #expect(try Importers.detect(path: url.path, display: "sensors.jsonl", bytesRead: &read) == nil)
        #expect(read <= FormatDetector.maxHeadBytes, "read \(read) bytes")
        #expect(FormatDetector.describe(head: try FormatDetector.head(path: url.path)) == "JSON lines whose records have keys label, reading, sensor")
        #expect(throws: ImportError.self) { try Importers.importFile(path: url.path, display: "sensors.jsonl") }
        // A file whose first line is longer than 64 KiB is still judged by whole lines.
        let long = dir.appendingPathComponent("long.jsonl")
        let big = String(repeating: "x", count: 200_000)
        try Data((#"{"messages":[{"role":"user","content":"\#(big)"},{"role":"assistant","content":"ok"}]}"# + "\n" + Self.rows[0] + "\n").utf8).write(to: long)
        #expect(try Importers.detect(path: long.path, display: "long.jsonl") == "openai-messages")
    }

    @Test func otherFormatsAreNotClaimed() throws {
        // LLaMA-Factory's typed-content rows and ShareGPT rows are other layouts.
        let typed = #"{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"tool_call","value":"{}"}]}]}"#
        let sharegpt = #"{"conversations":[{"from":"human","value":"hi"},{"from":"gpt","value":"yo"}]}"#
        for line in [typed, sharegpt] {
            #expect(!MessagesRows.isRow(try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))))
        }
    }
}
