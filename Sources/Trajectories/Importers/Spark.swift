import Foundation

/// SPARK runs: `trajectory.jsonl` events (`execution_result` per attempt, `reflect_call` with the
/// exploration memo, `skill_gen_call`, `pdi_snapshot`, `task_summary`) and, beside it, `attempts.json`.
/// Each attempt becomes one trajectory (task key = the SPARK task), its steps read from the agent's
/// event stream (`agent_stdout_full`: agent messages and command executions), else from
/// `agent_commands`. The memo written after an attempt (Verified Facts / Next Strategy) is kept in
/// `meta.memo`; PDI uses it later.
struct SparkImporter: FormatImporter {
    let name = "spark"
    static let eventTypes: Set<String> = ["execution_result", "task_summary", "reflect_call", "skill_gen_call", "pdi_snapshot"]

    func recognizes(_ file: ParsedFile, path: String) -> Bool {
        let objs = Importers.objects(file)
        return !objs.isEmpty && objs.contains { $0["type"]?.stringValue == "execution_result" }
            && objs.allSatisfy { Self.eventTypes.contains($0["type"]?.stringValue ?? "") }
    }

    /// What an attempt achieved. The verifier's reward and test counts decide when they exist: the harness
    /// marks an attempt `ERROR` when the agent timed out or exited non-zero, even after the work was done
    /// and verified (reward 1.0, every test passed — `attempts.json` and the task summary then record PASS).
    /// `ERROR` with no verifier reward is a failure; `INFRA_ERROR` with none is unknown (the environment
    /// failed, not the agent).
    static func status(_ raw: String?, success: Bool?, reward: Double?, tests: TestCounts?) -> Outcome.Status {
        let raw = raw?.uppercased()
        switch raw {
        case "PASS": return .success
        case "PARTIAL": return .partial
        case "FAIL": return .failure
        case "ERROR", "INFRA_ERROR":
            guard let reward else { return raw == "ERROR" ? .failure : .unknown }
            if reward >= 1, tests.map({ $0.failed == 0 }) ?? true { return .success }
            if reward > 0 { return .partial }
            return raw == "ERROR" ? .failure : .unknown
        default:
            if let success { return success ? .success : .failure }
            return .unknown
        }
    }

    /// The verifier's reward of one `execution_result` (`result`: its `result_json`, decoded):
    /// `result_json.verifier_result.rewards.reward` when the harness wrote a result; otherwise the event's `reward`, except for `ERROR`/`INFRA_ERROR` events
    /// without a verifier result, whose `reward: 0.0` is a default and not a verdict.
    static func verifierReward(_ e: JSONValue, result: JSONValue?) -> Double? {
        if let r = result?["verifier_result"]?["rewards"]?["reward"]?.doubleValue { return r }
        let status = e["status"]?.stringValue?.uppercased()
        if status == "ERROR" || status == "INFRA_ERROR" { return nil }
        return e["reward"]?.doubleValue
    }

    /// Test counts: the CTRF report's summary (passed, failed, skipped; pending and other count as
    /// skipped) when there is one, else `n_passed` of `n_tests` (zero tests is no count).
    static func testCounts(_ e: JSONValue) -> TestCounts? {
        if let summary = embedded(e["ctrf_json"])?["results"]?["summary"],
           let passed = summary["passed"]?.intValue, let failed = summary["failed"]?.intValue {
            let skipped = (summary["skipped"]?.intValue ?? 0) + (summary["pending"]?.intValue ?? 0) + (summary["other"]?.intValue ?? 0)
            if passed + failed + skipped > 0 { return TestCounts(passed: passed, failed: failed, skipped: skipped) }
        }
        if let passed = e["n_passed"]?.intValue, let n = e["n_tests"]?.intValue, n > 0 {
            return TestCounts(passed: passed, failed: max(0, n - passed))
        }
        return nil
    }

    /// A JSON document stored either as an object or as a string holding JSON.
    static func embedded(_ v: JSONValue?) -> JSONValue? {
        guard let v, v != .null else { return nil }
        if let text = v.stringValue { return try? JSONCoding.decoder.decode(JSONValue.self, from: Data(text.utf8)) }
        return v
    }

    /// The task instruction, when a prompt in the run quotes it.
    static func task(from events: [JSONValue]) -> String? {
        for e in events {
            guard let prompt = e["user_prompt"]?.stringValue else { continue }
            for marker in ["### Task Pattern:\n", "### Task Description:\n", "### Task:\n"] {
                guard let r = prompt.range(of: marker) else { continue }
                var t = String(prompt[r.upperBound...])
                if let end = t.range(of: "\n---") { t = String(t[..<end.lowerBound]) }
                let trimmed = t.trimmingCharacters(in: .whitespacesAndNewlines)
                if !trimmed.isEmpty { return trimmed }
            }
        }
        return nil
    }

    func importFile(_ file: ParsedFile, path: String, display: String, options: ImportOptions) -> ImportResult {
        var total = ImportResult(format: name)
        let lines = Importers.rows(file)
        let events = lines.map(\.1)
        let dir = (path as NSString).deletingLastPathComponent
        let taskName = events.first { $0["type"]?.stringValue == "task_summary" }?["task_name"]?.stringValue
            ?? (dir as NSString).lastPathComponent
        let taskText = Self.task(from: events) ?? taskName
        var memos: [Int: String] = [:]
        for e in events where e["type"]?.stringValue == "reflect_call" {
            if let a = e["attempt"]?.intValue, let memo = e["memo_after"]?.stringValue { memos[a] = memo }
        }
        var attemptsDoc: JSONValue?
        let attemptsPath = (dir as NSString).appendingPathComponent("attempts.json")
        if let data = FileManager.default.contents(atPath: attemptsPath) {
            attemptsDoc = try? JSONCoding.decoder.decode(JSONValue.self, from: data)
            if attemptsDoc == nil {
                total.quarantined.append(QuarantineEntry(file: (display as NSString).deletingLastPathComponent + "/attempts.json",
                                                         reason: "attempts.json is not valid JSON; memos from it are not used"))
            }
        }
        var laterVerdicts: [Int: String] = [:]
        if let list = events.first(where: { $0["type"]?.stringValue == "task_summary" })?["status_trajectory"]?.arrayValue {
            for (i, v) in list.enumerated() { if let v = v.stringValue { laterVerdicts[i] = v.uppercased() } }
        }
        for (i, a) in (attemptsDoc?["attempts"]?.arrayValue ?? []).enumerated() {
            if let v = a["status"]?.stringValue { laterVerdicts[a["attempt"]?.intValue ?? i] = v.uppercased() }
        }
        for (line, e) in lines {
            let type = e["type"]?.stringValue ?? ""
            guard type == "execution_result" else {
                if type != "reflect_call" && type != "task_summary" { total.drop("event_\(type)") }
                continue
            }
            let attempt = e["attempt"]?.intValue ?? 0
            var c = Conversation(format: name, options: options)
            c.user(taskText)
            if let stdout = e["agent_stdout_full"]?.stringValue, !stdout.isEmpty {
                Self.feedCodexEvents(stdout, into: &c)
            } else if let commands = e["agent_commands"]?.stringValue {
                for cmd in ShellWords.splitLogged(commands) {
                    c.call(id: nil, tool: "bash", input: .object(["command": .string(cmd)]), command: cmd)
                }
            }
            let result = Self.embedded(e["result_json"])  // decoded once: reward and exception
            let reward = Self.verifierReward(e, result: result)
            let tests = Self.testCounts(e)
            var status = Self.status(e["status"]?.stringValue, success: e["success"]?.boolValue, reward: reward, tests: tests)
            // The run's own later verdict on this attempt (attempts.json, else the task summary's status list)
            // settles an ERROR/INFRA_ERROR event the verifier did not score.
            if reward == nil, let verdict = laterVerdicts[attempt], ["PASS", "PARTIAL", "FAIL"].contains(verdict) {
                status = Self.status(verdict, success: nil, reward: nil, tests: tests)
            }
            var outcome = Outcome(status: status, reward: reward, tests: tests, detail: e["status"]?.stringValue)
            var problems: [String] = []
            if let err = e["error"]?.stringValue, !err.isEmpty { problems.append(err) }
            if let exception = result?["exception_info"]?["exception_type"]?.stringValue { problems.append(exception) }
            if !problems.isEmpty { outcome.detail = (outcome.detail ?? "") + ": " + problems.joined(separator: "; ") }
            var meta: [String: JSONValue] = ["spark_task": .string(taskName)]
            if let memo = memos[attempt] { meta["memo"] = .string(memo) }
            if let summary = e["test_summary"]?.stringValue { meta["test_summary"] = .string(summary) }
            if let commands = e["agent_commands"]?.stringValue { meta["agent_commands"] = .string(commands) }
            // The run's final memo belongs to the last attempt only when no reflection wrote it already
            // (otherwise it is the previous attempt's memo, and copying it would compare that memo with itself).
            if let exploration = attemptsDoc?["exploration_memo"]?.stringValue, memos[attempt] == nil,
               attemptsDoc?["attempts"]?.arrayValue?.count == attempt + 1, !memos.values.contains(exploration) {
                meta["memo"] = .string(exploration)
            }
            let made = c.trajectory(id: "spark-\(taskName)-attempt-\(attempt)", source: Source(format: name, file: display, line: line),
                                    outcome: outcome, meta: meta)
            var r = c.result
            if var t = made {
                t.taskKey = taskName
                t.attempt = attempt + 1
                r.trajectories = [t]
            }
            total.merge(r)
        }
        return total
    }

    /// Codex `exec --json` events inside the agent's stdout; other lines (shell warnings) are counted.
    static func feedCodexEvents(_ stdout: String, into c: inout Conversation) {
        for raw in stdout.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("{"), let ev = try? JSONCoding.decoder.decode(JSONValue.self, from: Data(line.utf8)) else {
                c.result.drop("non_json_stdout_line")
                continue
            }
            let type = ev["type"]?.stringValue ?? ""
            guard type == "item.completed", let item = ev["item"] else {
                c.result.drop(type == "item.started" || type == "item.updated" ? "progress_event" : "session_event")
                continue
            }
            switch item["type"]?.stringValue {
            case "agent_message": c.assistant(item["text"]?.stringValue ?? "")
            case "reasoning": c.thinking(item["text"]?.stringValue ?? "", keep: c.cleaner.options.keepThinking)
            case "command_execution":
                let command = ShellWords.unwrap(item["command"]?.stringValue ?? "")
                c.call(id: item["id"]?.stringValue, tool: "bash", input: .object(["command": .string(command)]), command: command)
                c.result(id: item["id"]?.stringValue, content: item["aggregated_output"]?.stringValue ?? "",
                         exitCode: item["exit_code"]?.intValue)
            case "file_change":
                let changes = item["changes"] ?? .array([])
                c.call(id: item["id"]?.stringValue, tool: "apply_patch", input: .object(["changes": changes]))
                c.result(id: item["id"]?.stringValue, content: item["status"]?.stringValue ?? "")
            default: c.result.drop("item_\(item["type"]?.stringValue ?? "untyped")")
            }
        }
    }
}
