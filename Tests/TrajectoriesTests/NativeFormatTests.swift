import Foundation
import TestSupport
import Testing
@testable import Trajectories

func tempDir(_ name: String = #function) throws -> URL {
    try Scratch.directory("traj")
}

func sampleTrajectory(id: String = "t-1") -> Trajectory {
    Trajectory(
        id: id, task: "Fix the failing test in utils/dates.py", taskKey: "fix/dates", attempt: 2,
        steps: [
            Step(index: 0, thought: "Run the test.",
                 action: Action(tool: "bash", input: .object(["command": .string("pytest -q")]), command: "pytest -q", callID: "call_a"),
                 observation: Observation(content: "1 failed", exitCode: 1), timestamp: "2026-11-01T10:00:00Z"),
            Step(index: 1, thought: "Edit the parser.",
                 action: Action(tool: "str_replace_editor",
                                input: .object(["path": .string("utils/dates.py"), "old_str": .string("a"), "new_str": .string("b"),
                                                "flags": .array([.int(1), .double(2.5), .bool(true), .null])])),
                 observation: Observation(content: "edited", isError: false)),
            Step(index: 2, thought: "Done."),
        ],
        answer: "Fixed the off-by-one in parse_date.",
        outcome: Outcome(status: .success, reward: 1, tests: TestCounts(passed: 3, failed: 0), detail: "all green"),
        source: Source(format: "swe-agent", file: "runs/a.traj", line: nil, offset: 4),
        meta: ["model": .string("m-1"), "cost": .double(0.25)])
}

@Suite struct NativeFormatTests {
    @Test func roundTripPreservesEveryField() throws {
        let t = sampleTrajectory()
        let line = try NativeWriter.line(t)
        let bytes = [UInt8](line)
        guard case .trajectory(let back, let repaired) = NativeReader.decode(bytes[...], file: "x.jsonl", line: 1) else {
            Issue.record("did not decode"); return
        }
        #expect(back == t)
        #expect(!repaired)
        // Writing again gives the same bytes (sorted keys).
        #expect(try NativeWriter.line(back) == line)
    }

    @Test func missingSourceIsFilledWithFileAndLine() throws {
        let json = #"{"id":"a","task":"t","steps":[{"thought":"x"},{"thought":"y"}]}"#
        guard case .trajectory(let t, _) = NativeReader.decode(Array(json.utf8)[...], file: "in/c.jsonl", line: 7) else {
            Issue.record("did not decode"); return
        }
        #expect(t.source == Source(format: "native", file: "in/c.jsonl", line: 7))
        #expect(t.steps.map(\.index) == [0, 1])
        #expect(t.outcome.status == .unknown)
    }

    @Test(arguments: [
        (#"{"id":"a","task":"t","steps":"nope"}"#, "steps: expected an array"),
        (#"{"task":"t"}"#, "id: required field is missing"),
        (#"{"id":"","task":"t"}"#, "id: must not be empty"),
        (#"{"id":"a","task":"t","outcome":{"status":"submitted"}}"#, "outcome.status: unknown status 'submitted'"),
        (#"{"id":"a","task":"t","steps":[{"action":{"tool":5}}]}"#, "steps[0].action.tool: expected a string"),
        (#"{"id":"a","task":"t","schema":"other/9"}"#, "schema: unsupported schema"),
        (#"{"id":"a","task":"t","steps":[{"thought":"#, "truncated record"),
        ("\u{1}\u{2}garbage", "not a JSON object (starts with byte 0x01"),
        (#"[1,2]"#, "record: expected an object"),
    ])
    func malformedRecordsAreQuarantinedWithAReason(json: String, reason: String) {
        guard case .quarantined(let q) = NativeReader.decode(Array(json.utf8)[...], file: "f.jsonl", line: 12) else {
            Issue.record("expected quarantine for \(json)"); return
        }
        #expect(q.location == "f.jsonl:12")
        #expect(q.reason.contains(reason), "reason was: \(q.reason)")
    }

    @Test func invalidUTF8IsRepairedAndCounted() throws {
        var bytes = Array(#"{"id":"a","task":"caf"#.utf8)
        bytes += [0xE9, 0x28]
        bytes += Array(#""}"#.utf8)
        guard case .trajectory(let t, let repaired) = NativeReader.decode(bytes[...], file: "f", line: 1) else {
            Issue.record("invalid UTF-8 must be repaired, not quarantined"); return
        }
        #expect(repaired)
        #expect(t.task == "caf\u{FFFD}(")
    }
}

@Suite struct LineReaderTests {
    func lines(of text: [UInt8], chunk: Int) throws -> [(Int, String)] {
        let dir = try tempDir()
        let path = dir.appendingPathComponent("f.jsonl").path
        FileManager.default.createFile(atPath: path, contents: Data(text))
        let r = try LineReader(path: path, chunkSize: chunk)
        var out: [(Int, String)] = []
        while let b = try r.nextBatch(maxLines: 2) {
            for l in b.lines { out.append((l.number, String(decoding: b.bytes[l.range], as: UTF8.self))) }
        }
        return out
    }

    @Test(arguments: [1, 3, 7, 1 << 16])
    func crlfBlankLinesAndMissingFinalNewline(chunk: Int) throws {
        let text = Array("a\r\nbb\n\n  \ncc\r\n\ndd".utf8)
        let got = try lines(of: text, chunk: chunk)
        #expect(got.map(\.0) == [1, 2, 5, 7])
        #expect(got.map(\.1) == ["a", "bb", "cc", "dd"])
    }

    @Test func veryLongLineIsReadWhole() throws {
        let long = [UInt8](repeating: UInt8(ascii: "x"), count: 5_000_000)
        let got = try lines(of: Array("first\n".utf8) + long + Array("\nlast\n".utf8), chunk: 1 << 16)
        #expect(got.count == 3)
        #expect(got[1].1.utf8.count == 5_000_000)
        #expect(got[2] == (3, "last"))
    }

    @Test func readQuarantinesBadLinesWithLineNumbers() throws {
        let dir = try tempDir()
        let path = dir.appendingPathComponent("mixed.jsonl").path
        let good = String(decoding: try NativeWriter.line(sampleTrajectory()), as: UTF8.self)
        let text = [good, "{broken", "", good.replacingOccurrences(of: "\"t-1\"", with: "\"t-2\""), "{\"id\": 3, \"task\": \"x\"}"]
            .joined(separator: "\n")
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        let (ts, bad) = try NativeReader.read(path: path, displayPath: "mixed.jsonl")
        #expect(ts.map(\.id) == ["t-1", "t-2"])
        #expect(bad.map(\.location) == ["mixed.jsonl:2", "mixed.jsonl:5"])
        #expect(bad[1].reason == "id: expected a string")
    }

    @Test func missingFileIsAClearError() {
        #expect(throws: ReadError.self) { try LineReader(path: "/nonexistent/skillforge/file.jsonl") }
    }
}

@Suite struct OutcomeJoinTests {
    @Test func jsonlAndCSVSideFiles() throws {
        let dir = try tempDir()
        let jsonl = dir.appendingPathComponent("o.jsonl")
        try Data("""
        {"id": "a", "status": "success", "reward": 1}
        {"id": "b", "resolved": false}
        {"id": "c", "status": "submitted"}
        {"id": "a", "status": "failure"}
        not json

        """.utf8).write(to: jsonl)
        let t = try OutcomeTable(path: jsonl.path, displayPath: "o.jsonl")
        #expect(t.entries["a"]?.status == .success)
        #expect(t.entries["a"]?.reward == 1)
        #expect(t.entries["b"]?.status == .failure)
        #expect(t.entries["c"] == nil)
        #expect(t.quarantined.map(\.line) == [3, 4, 5])

        let csv = dir.appendingPathComponent("o.csv")
        try Data("id,status,reward\r\nx,partial,0.5\n\"y,1\",,0.25\nz,,abc\n".utf8).write(to: csv)
        let c = try OutcomeTable(path: csv.path, displayPath: "o.csv")
        #expect(c.entries["x"] == .init(status: .partial, reward: 0.5, detail: nil))
        #expect(c.entries["y,1"] == .init(status: nil, reward: 0.25, detail: nil))
        #expect(c.quarantined.map(\.line) == [4])

        var traj = Trajectory(id: "y,1", task: "t", outcome: Outcome(status: .unknown))
        #expect(c.join(&traj))
        // A reward alone does not make a success: unknown stays unknown.
        #expect(traj.outcome.status == .unknown)
        #expect(traj.outcome.reward == 0.25)
    }

    @Test func detectionLooksAtContent() {
        #expect(FormatDetector.detect(head: Data("garbage\n{\"schema\":\"skillforge.trajectory/1\",\"id\":\"a\"}\n".utf8)) == "native")
        #expect(FormatDetector.detect(head: Data("{\"messages\": []}\n".utf8)) == nil)
    }
}
