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

    static func status(_ raw: String?, success: Bool?, reward: Double?) -> Outcome.Status {
        switch raw?.uppercased() {
        case "PASS": return .success
        case "PARTIAL": return .partial
        case "FAIL", "ERROR": return .failure
        case "INFRA_ERROR": return .unknown  // the environment failed, not the agent
        default:
            if let success { return success ? .success : .failure }
            return .unknown
        }
    }

    /// `/bin/bash -lc 'cmd'` → `cmd` (codex wraps every command this way).
    static func unwrap(_ command: String) -> String {
        for prefix in ["/bin/bash -lc ", "bash -lc ", "/bin/sh -c ", "sh -c "] where command.hasPrefix(prefix) {
            var rest = String(command.dropFirst(prefix.count))
            if rest.hasPrefix("'") && rest.hasSuffix("'") && rest.count >= 2 {
                rest = String(rest.dropFirst().dropLast()).replacingOccurrences(of: "'\\''", with: "'")
            } else if rest.hasPrefix("\"") && rest.hasSuffix("\"") && rest.count >= 2 {
                rest = String(rest.dropFirst().dropLast())
            }
            return rest
        }
        return command
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
        let lines: [(Int?, JSONValue)]
        switch file {
        case .lines(let ls, _): lines = ls.map { ($0.line, $0.value) }
        case .document(let v): lines = (v.arrayValue ?? [v]).map { (nil, $0) }
        }
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
                for cmd in commands.split(separator: "\n") where !cmd.trimmingCharacters(in: .whitespaces).isEmpty {
                    c.call(id: nil, tool: "bash", input: .object(["command": .string(String(cmd))]), command: String(cmd))
                }
            }
            let reward = e["reward"]?.doubleValue
            var outcome = Outcome(status: Self.status(e["status"]?.stringValue, success: e["success"]?.boolValue, reward: reward),
                                  reward: reward, detail: e["status"]?.stringValue)
            if let passed = e["n_passed"]?.intValue, let n = e["n_tests"]?.intValue { outcome.tests = TestCounts(passed: passed, failed: n - passed) }
            if let err = e["error"]?.stringValue, !err.isEmpty { outcome.detail = (outcome.detail ?? "") + ": " + err }
            var meta: [String: JSONValue] = ["spark_task": .string(taskName)]
            if let memo = memos[attempt] { meta["memo"] = .string(memo) }
            if let summary = e["test_summary"]?.stringValue { meta["test_summary"] = .string(summary) }
            if let commands = e["agent_commands"]?.stringValue { meta["agent_commands"] = .string(commands) }
            if let exploration = attemptsDoc?["exploration_memo"]?.stringValue, memos[attempt] == nil,
               attemptsDoc?["attempts"]?.arrayValue?.count == attempt + 1 {
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
                let command = Self.unwrap(item["command"]?.stringValue ?? "")
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
