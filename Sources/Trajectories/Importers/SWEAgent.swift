import Foundation

/// SWE-agent `.traj` files: v0.7 (`state` as a JSON string, `history` with demonstrations) and v1.x
/// (`state` as an object, function-calling `history`). Steps come from `trajectory` (action,
/// observation, thought already paired); a file with only `history` is read from its messages.
/// `info.exit_status` "submitted" is not success: without a test report the outcome stays unknown.
struct SWEAgentImporter: FormatImporter {
    let name = "swe-agent"

    /// SWE-agent's own interface commands; any other action is a shell command.
    static let aciCommands: Set<String> = ["open", "goto", "scroll_up", "scroll_down", "create", "edit", "insert",
                                           "find_file", "search_dir", "search_file", "submit", "str_replace_editor",
                                           "filemap", "exit_forfeit"]

    func recognizes(_ file: ParsedFile, path: String) -> Bool {
        guard case .document(let v) = file, v.objectValue != nil else { return false }
        if let t = v["trajectory"]?.arrayValue, let first = t.first { return first["action"] != nil && first["observation"] != nil }
        if let h = v["history"]?.arrayValue, let first = h.first { return first["role"] != nil && first["agent"] != nil }
        return false
    }

    static func tool(of action: String) -> String {
        let first = action.split(whereSeparator: { $0 == " " || $0 == "\n" }).first.map(String.init) ?? ""
        return aciCommands.contains(first) ? first : "bash"
    }

    /// The issue text: the replay config's problem statement, else the first non-demonstration user
    /// message, cut to the part between "ISSUE:" and "INSTRUCTIONS:" when the template has them.
    static func task(_ doc: JSONValue) -> String? {
        let replay = doc["replay_config"]?.decodedIfString
        if let text = replay?["problem_statement"]?["text"]?.stringValue, !text.isEmpty { return text }
        for m in doc["history"]?.arrayValue ?? [] where m["role"]?.stringValue == "user" && m["is_demo"]?.boolValue != true {
            guard var text = m["content"]?.text else { continue }
            if text.contains("--- DEMONSTRATION ---") { continue }
            if let r = text.range(of: "ISSUE:\n") { text = String(text[r.upperBound...]) }
            if let r = text.range(of: "\n\nINSTRUCTIONS:") { text = String(text[..<r.lowerBound]) }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return nil
    }

    func importFile(_ file: ParsedFile, path: String, display: String, options: ImportOptions) -> ImportResult {
        guard case .document(let doc) = file else { return ImportResult(format: name) }
        var c = Conversation(format: name, options: options)
        if let traj = doc["trajectory"]?.arrayValue, !traj.isEmpty {
            for entry in traj {
                let action = (entry["action"]?.stringValue ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                let thought = entry["thought"]?.stringValue ?? entry["response"]?.stringValue
                c.call(id: nil, tool: Self.tool(of: action), input: .object(["command": .string(action)]),
                       command: action, thought: thought)
                c.result(id: nil, content: entry["observation"]?.stringValue ?? "")
            }
        } else {
            for m in doc["history"]?.arrayValue ?? [] where m["is_demo"]?.boolValue != true {
                switch m["role"]?.stringValue {
                case "assistant":
                    let thought = m["thought"]?.stringValue ?? m["content"]?.text
                    let action = (m["action"]?.stringValue ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                    if let calls = m["tool_calls"]?.arrayValue, !calls.isEmpty {
                        for (k, call) in calls.enumerated() {
                            let args = call["function"]?["arguments"]?.decodedIfString ?? .object([:])
                            c.call(id: call["id"]?.stringValue, tool: call["function"]?["name"]?.stringValue ?? Self.tool(of: action),
                                   input: args, command: action.isEmpty ? nil : action, thought: k == 0 ? thought : nil)
                        }
                    } else if !action.isEmpty {
                        // Older files (and tool_calls kept as Python repr text) carry the action as text.
                        c.call(id: nil, tool: Self.tool(of: action), input: .object(["command": .string(action)]),
                               command: action, thought: thought)
                    } else if let thought { c.assistant(thought) }
                case "tool", "user":
                    if c.task == nil { c.user(Self.task(doc) ?? m["content"]?.text ?? ""); continue }
                    let ids = m["tool_call_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
                    c.result(id: ids.first, content: m["content"]?.text ?? "")
                default: c.result.drop("system_prompt")
                }
            }
        }
        let info = doc["info"] ?? .object([:])
        let exit = info["exit_status"]?.stringValue
        let submission = info["submission"]?.stringValue
        var outcome = Outcome(status: .unknown, detail: exit.map { "exit_status: \($0)" })
        if (submission ?? "").isEmpty, let exit, !exit.lowercased().hasPrefix("submitted") {
            outcome.status = .failure
            outcome.detail = "exit_status: \(exit) (nothing submitted)"
        }
        var meta: [String: JSONValue] = [:]
        if let stats = info["model_stats"] { meta["model_stats"] = stats }
        if let env = doc["environment"] { meta["environment"] = env }
        var t = c.trajectory(id: Importers.stem(path), source: Source(format: name, file: display), outcome: outcome,
                             taskOverride: Self.task(doc), meta: meta)
        if let submission, !submission.isEmpty { t?.answer = submission }
        var r = c.result
        if let t { r.trajectories = [t] } else {
            r.quarantined.append(QuarantineEntry(file: display, reason: "no issue text found (no problem statement and no user message)"))
        }
        return r
    }
}

/// mini-swe-agent trajectories: `{info, messages, trajectory_format}` or a bare message list. v1
/// observations are `<returncode>N</returncode><output>…</output>` user messages; v2 uses `tool`
/// messages and tool calls.
struct MiniSWEAgentImporter: FormatImporter {
    let name = "mini-swe-agent"

    static func messages(_ file: ParsedFile) -> [JSONValue]? {
        guard case .document(let v) = file else { return nil }
        if let m = v["messages"]?.arrayValue,
           v["trajectory_format"]?.stringValue?.hasPrefix("mini-swe-agent") == true || v["info"]?["mini_version"] != nil {
            return m
        }
        if let list = v.arrayValue, !list.isEmpty, list.allSatisfy({ $0["role"] != nil }) {
            let text = list.compactMap { $0["content"]?.text }.joined(separator: "\n")
            if text.contains("<returncode>") || text.contains("```mswea_bash_command") { return list }
        }
        return nil
    }

    func recognizes(_ file: ParsedFile, path: String) -> Bool { Self.messages(file) != nil }

    static func splitAction(_ text: String) -> (thought: String, command: String?) {
        for fence in ["```mswea_bash_command", "```bash", "```sh"] {
            guard let open = text.range(of: fence) else { continue }
            let afterOpen = text[open.upperBound...]
            guard let close = afterOpen.range(of: "```") else { continue }
            let command = afterOpen[..<close.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
            var thought = String(text[..<open.lowerBound]).trimmingCharacters(in: .whitespacesAndNewlines)
            if thought.hasPrefix("THOUGHT:") { thought = String(thought.dropFirst(8)).trimmingCharacters(in: .whitespaces) }
            return (thought, command)
        }
        return (text, nil)
    }

    static func observation(_ text: String) -> (content: String, exit: Int?) {
        guard let rc = text.range(of: "<returncode>"), let rcEnd = text.range(of: "</returncode>") , rc.upperBound <= rcEnd.lowerBound else {
            return (text, nil)
        }
        let code = Int(text[rc.upperBound..<rcEnd.lowerBound].trimmingCharacters(in: .whitespaces))
        var output = text
        if let o = text.range(of: "<output>"), let e = text.range(of: "</output>", options: .backwards), o.upperBound <= e.lowerBound {
            output = String(text[o.upperBound..<e.lowerBound])
            if output.hasPrefix("\n") { output.removeFirst() }
        }
        return (output, code)
    }

    static func task(_ text: String) -> String {
        var t = text
        if let r = t.range(of: "Please solve this issue: ") { t = String(t[r.upperBound...]) }
        if let r = t.range(of: "\n\nYou can execute bash commands") { t = String(t[..<r.lowerBound]) }
        return t.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func importFile(_ file: ParsedFile, path: String, display: String, options: ImportOptions) -> ImportResult {
        guard let messages = Self.messages(file) else { return ImportResult(format: name) }
        var c = Conversation(format: name, options: options)
        for m in messages {
            let text = m["content"]?.text ?? ""
            switch m["role"]?.stringValue {
            case "system": c.result.drop("system_prompt")
            case "user":
                if c.task == nil { c.user(Self.task(text)); continue }
                let (content, exit) = Self.observation(text)
                c.result(id: nil, content: content, exitCode: exit)
            case "tool":
                let (content, exit) = Self.observation(text)
                c.result(id: m["tool_call_id"]?.stringValue, content: content, exitCode: exit)
            case "assistant":
                if let calls = m["tool_calls"]?.arrayValue, !calls.isEmpty {
                    c.assistant(text)
                    for call in calls {
                        let args = call["function"]?["arguments"]?.decodedIfString ?? .object([:])
                        c.call(id: call["id"]?.stringValue, tool: call["function"]?["name"]?.stringValue ?? "bash", input: args,
                               command: args["command"]?.stringValue)
                    }
                } else {
                    let (thought, command) = Self.splitAction(text)
                    if let command {
                        c.call(id: nil, tool: "bash", input: .object(["command": .string(command)]), command: command, thought: thought)
                    } else { c.assistant(thought) }
                }
            default: c.result.drop("unknown_role")
            }
        }
        var outcome = Outcome()
        var meta: [String: JSONValue] = [:]
        if case .document(let doc) = file, let info = doc["info"] {
            if let exit = info["exit_status"]?.stringValue { outcome.detail = "exit_status: \(exit)" }
            if let v = info["mini_version"] { meta["mini_version"] = v }
        }
        var r: ImportResult
        if let t = c.trajectory(id: Importers.stem(path), source: Source(format: name, file: display), outcome: outcome, meta: meta) {
            r = c.result
            r.trajectories = [t]
        } else {
            r = c.result
            r.quarantined.append(QuarantineEntry(file: display, reason: "no user message with the task"))
        }
        return r
    }
}
