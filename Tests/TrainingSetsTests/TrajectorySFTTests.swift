import Foundation
import TestSupport
import Testing
@testable import TrainingSets
import Trajectories
import Yams

func agentRun(id: String = "run-1", answer: String? = "Done: tests pass.") -> Trajectory {
    Trajectory(
        id: id, task: "Fix the bug in parser.py", taskKey: "fix/parser",
        steps: [
            Step(index: 0, thought: "Look first.", action: Action(tool: "bash", input: .object(["command": .string("cat parser.py")]),
                                                                command: "cat parser.py", callID: "toolu_1"),
                 observation: Observation(content: "def parse(): ...", exitCode: 0)),
            Step(index: 1, thought: "Thinking about the fix."),
            Step(index: 2, thought: "Edit.", action: Action(tool: "edit", input: .object(["path": .string("parser.py"), "line": .int(3)]),
                                                          callID: "toolu_1"),
                 observation: Observation(content: "edited")),
            Step(index: 3, thought: "Run tests.", action: Action(tool: "bash", input: .object(["command": .string("pytest")]), command: "pytest"),
                 observation: nil),
        ],
        answer: answer, outcome: Outcome(status: .success, reward: 1),
        source: Source(format: "native", file: "in.jsonl", line: 4))
}

@Suite struct TrajectorySFTTests {
    @Test func messagesRoundTripAndPairEveryToolCall() throws {
        let sft = TrajectorySFT(options: .init(format: .messages, system: "Be careful."))
        guard case .success(let line) = try sft.render(agentRun()) else { Issue.record("not rendered"); return }
        let obj = try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any])
        let messages = try #require(obj["messages"] as? [[String: Any]])
        #expect(messages.map { $0["role"] as? String } == ["system", "user", "assistant", "tool", "assistant", "assistant", "tool",
                                                           "assistant", "tool", "assistant"])
        // Every tool call is answered by a tool message with its id, right after it.
        var callIDs: [String] = []
        for (i, m) in messages.enumerated() {
            guard let calls = m["tool_calls"] as? [[String: Any]] else { continue }
            for call in calls {
                let id = try #require(call["id"] as? String)
                callIDs.append(id)
                let fn = try #require(call["function"] as? [String: Any])
                // A JSON object, as Hugging Face chat templates render it (a JSON string is double-encoded there).
                #expect(fn["arguments"] is [String: Any])
                let reply = messages[i + 1]
                #expect(reply["role"] as? String == "tool")
                #expect(reply["tool_call_id"] as? String == id)
            }
        }
        #expect(callIDs.count == 3)
        #expect(Set(callIDs).count == 3, "call ids must be unique within a record: \(callIDs)")
        let prov = try #require(obj["provenance"] as? [String: Any])
        #expect(prov["trajectory_id"] as? String == "run-1")
        #expect(prov["steps"] as? [Int] == [0, 3])
        #expect(prov["source"] as? String == "in.jsonl:4")
    }

    /// trajectory-sft writes `MessagesRecord.jsonLine()`, a hand-written writer: its bytes must be the
    /// encoder's (sorted keys, nil fields left out, escapes, numbers) for every shape a record takes.
    @Test func messagesLineEqualsTheEncoder() throws {
        var odd = agentRun(id: "run-ü/\"2\"")
        odd.task = "Fix \u{1}\u{1F} tabs\t \"quotes\" back\\slash / 東京 😀\r\n"
        odd.steps[0].action!.input = .object(["z": .double(1.5), "a": .array([.int(-3), .double(1e21), .double(0.1), .null, .bool(true)]),
                                                "é": .object(["b": .string("x"), "B": .bool(false), "ä": .string("\u{7F}")]),
                                                "command": .string("echo \"$HOME\"/x")])
        odd.steps[2].action!.input = .string("bare input")
        odd.source = nil
        let cases: [(TrajectorySFT.Options, Trajectory)] = [
            (.init(format: .messages, system: "Be careful."), agentRun()),
            (.init(format: .messages), agentRun(answer: nil)),
            (.init(format: .openai), odd),
            (.init(format: .messages, includeThoughts: false), odd),
            (.init(format: .messages), Trajectory(id: "empty", task: "t", steps: [], answer: "only an answer")),
        ]
        var compared = 0
        for (options, t) in cases {
            var record = TrajectorySFT(options: options).messages(t)
            for weak in [nil, "weak-1"] as [String?] {
                record.provenance.weakTrajectoryID = weak
                #expect(try record.jsonLine() == JSONCoding.line(record))
                #expect(try record.jsonLine() == JSONCoding.foundationEncoder.encode(record))
                compared += 1
            }
        }
        #expect(compared == 10)
    }

    @Test func thoughtsCanBeLeftOut() throws {
        let r = TrajectorySFT(options: .init(format: .messages, includeThoughts: false)).messages(agentRun())
        #expect(!r.messages.contains { $0.content.contains("Look first") })
    }

    @Test func sharegptAlternatesAndEndsWithTheAssistant() throws {
        let sft = TrajectorySFT(options: .init(format: .sharegpt))
        let r = try #require(sft.sharegpt(agentRun()))
        let roles = r.conversations.map(\.from)
        #expect(roles == ["human", "function_call", "observation", "function_call", "observation", "function_call", "observation", "gpt"])
        for (i, role) in roles.enumerated() {
            #expect((i % 2 == 0) == ["human", "observation"].contains(role), "turn \(i) is \(role)")
        }
        let call = try #require(try JSONSerialization.jsonObject(with: Data(r.conversations[1].value.utf8)) as? [String: Any])
        #expect(call["name"] as? String == "bash")
        let tools = try #require(try JSONSerialization.jsonObject(with: Data(r.tools.utf8)) as? [[String: Any]])
        #expect(tools.map { $0["name"] as? String } == ["bash", "edit"])
        // Without an answer or a closing thought there is nothing for the assistant to end on.
        var noAnswer = agentRun(answer: nil)
        noAnswer.steps.removeLast(2)
        noAnswer.steps.remove(at: 1)
        guard case .failure(let skip) = try sft.render(noAnswer) else { Issue.record("should be skipped"); return }
        #expect(skip.reason == "no_final_response")
    }

    @Test func alpacaHasTheTranscript() {
        let r = TrajectorySFT(options: .init(format: .alpaca)).alpaca(agentRun())
        #expect(r.instruction == "Fix the bug in parser.py")
        #expect(r.output.hasPrefix("Thought: Look first.\nAction: bash(cat parser.py)\nObservation: def parse(): ..."))
        #expect(r.output.hasSuffix("Final answer: Done: tests pass."))
    }

    @Test func splitIsDeterministicKeepsFamiliesTogetherAndFollowsTheSeed() {
        let keys = (0..<2000).map { "task-\($0)" }
        let a = Splitter(seed: 1, testFraction: 0.1)
        let first = keys.map { a.split(key: $0) }
        #expect(first == keys.map { Splitter(seed: 1, testFraction: 0.1).split(key: $0) })
        let share = Double(first.filter { $0 == "test" }.count) / Double(keys.count)
        #expect(share > 0.07 && share < 0.13)
        #expect(first != keys.map { Splitter(seed: 2, testFraction: 0.1).split(key: $0) })
        // One family: the same task under other keys, with harness meta-text, other numbers or spacing.
        var x = agentRun(id: "x"), y = agentRun(id: "y"), z = agentRun(id: "z"), w = agentRun(id: "w")
        x.task = "Upgrade sqlalchemy from 1.4.52 to 2.0.30 in requirements.txt"; x.taskKey = "upgrade/1"
        y.task = "Attempt 2: the previous run did not pass verification. Upgrade  SQLAlchemy from 1.4 to 2.0 in requirements.txt"; y.taskKey = "upgrade/9"
        z.task = "upgrade sqlalchemy from 1.3.0 to 1.4.1 in requirements.txt"
        w.task = "Downgrade sqlalchemy in requirements.txt"
        var v = agentRun(id: "v")
        v.task = "Upgrade sqlalchemy from 1452 to 2030 in requirementstxt"
        #expect(Splitter.key(x) == Splitter.key(y) && Splitter.key(x) == Splitter.key(z) && Splitter.key(x) == Splitter.key(v) && Splitter.key(x) != Splitter.key(w))
        #expect(a.split(x) == a.split(y) && a.split(x) == a.split(z))
        #expect(Splitter(seed: 1, testFraction: 0).split(key: "k") == "train")
    }

    @Test func cardHasValidFrontMatterNamingEverySplit() throws {
        let dir = try Scratch.directory("card")
        let w = try DatasetWriter(directory: dir, description: .init(
            name: "demo", style: "trajectory-sft", format: .messages, license: "apache-2.0", pipeline: "p",
            configHash: "abc", toolVersion: "0.1.0", seed: 1, summary: "Demo."))
        try w.write(Data("{\"a\":1}".utf8), split: "train")
        try w.write(Data("{\"a\":2}".utf8), split: "train")
        try w.write(Data("{\"a\":3}".utf8), split: "test")
        w.skip("no_steps")
        let m = try w.finish(inputs: [], prepare: [])
        #expect(m.records == 3 && m.splits["train"]?.records == 2 && m.skipped == ["no_steps": 1])
        let trainSHA = try ContentHash.sha256(fileAt: dir.appendingPathComponent("data/train/train-00000.jsonl").path)
        #expect(m.splits["train"]?.parts.map(\.sha256) == [trainSHA.hex])
        let card = try String(contentsOf: dir.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(card.hasPrefix("---\n"))
        let front = String(card.dropFirst(4).prefix { _ in true }).components(separatedBy: "\n---\n")[0]
        let yaml = try #require(try Yams.load(yaml: front) as? [String: Any])
        #expect(yaml["license"] as? String == "apache-2.0")
        #expect(yaml["size_categories"] as? [String] == ["n<1K"])
        #expect(yaml["task_categories"] as? [String] == ["text-generation"])
        let configs = try #require(yaml["configs"] as? [[String: Any]])
        let files = try #require(configs.first?["data_files"] as? [[String: String]])
        #expect(files == [["split": "train", "path": "data/train/*.jsonl"], ["split": "test", "path": "data/test/*.jsonl"]])
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: dir.appendingPathComponent("manifest.json")))
        #expect(manifest == m)
    }
}
