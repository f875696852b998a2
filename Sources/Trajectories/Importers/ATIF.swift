import Foundation

/// ATIF (Agent Trajectory Interchange Format, Harbor / Terminal-Bench) v1.x: `steps` with `source`
/// user / agent / system, `tool_calls`, `observation.results` (paired by `source_call_id`), sub-agent
/// and continued-trajectory references (kept in `meta`), and `is_copied_context` steps (skipped).
/// Terminus-style agents put their commands in a JSON message (`commands[].keystrokes`) instead of
/// tool calls; those become `terminal` actions.
struct ATIFImporter: FormatImporter {
    let name = "atif"

    func recognizes(_ file: ParsedFile, path: String) -> Bool {
        guard case .document(let v) = file else { return false }
        return v["schema_version"]?.stringValue?.hasPrefix("ATIF") == true && v["steps"]?.arrayValue != nil
    }

    static func task(_ prompt: String) -> String {
        if let r = prompt.range(of: "**Original Task:**") {
            let rest = prompt[r.upperBound...]
            let end = rest.range(of: "\n\n**")?.lowerBound ?? rest.endIndex
            return rest[..<end].trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let r = prompt.range(of: "Task Description:\n") else { return prompt }
        var t = String(prompt[r.upperBound...])
        if let e = t.range(of: "\n\nCurrent terminal state") { t = String(t[..<e.lowerBound]) }
        return t.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func importFile(_ file: ParsedFile, path: String, display: String, options: ImportOptions) -> ImportResult {
        guard case .document(let doc) = file else { return ImportResult(format: name) }
        var c = Conversation(format: name, options: options)
        var meta: [String: JSONValue] = [:]
        var subagents: [JSONValue] = []
        for step in doc["steps"]?.arrayValue ?? [] {
            let message = step["message"]?.text ?? ""
            if step["is_copied_context"]?.boolValue == true {
                // A continuation repeats earlier context; only its task statement is needed.
                if c.task == nil, step["source"]?.stringValue == "user" { c.user(Self.task(message)) }
                c.result.drop("copied_context_step")
                continue
            }
            let results = step["observation"]?["results"]?.arrayValue ?? []
            for res in results { if let refs = res["subagent_trajectory_ref"]?.arrayValue { subagents += refs } }
            switch step["source"]?.stringValue {
            case "user":
                if c.task == nil { c.user(Self.task(message)) } else { c.user(message) }
            case "system":
                c.result.drop("system_step")
            default:
                if let r = step["reasoning_content"]?.stringValue, !r.isEmpty { c.thinking(r, keep: options.keepThinking) }
                let calls = step["tool_calls"]?.arrayValue ?? []
                if !calls.isEmpty {
                    c.assistant(message)
                    for call in calls {
                        let args = call["arguments"]?.decodedIfString ?? .object([:])
                        c.call(id: call["tool_call_id"]?.stringValue, tool: call["function_name"]?.stringValue ?? "unknown",
                               input: args, command: args["command"]?.stringValue ?? args["keystrokes"]?.stringValue,
                               timestamp: step["timestamp"]?.stringValue)
                    }
                    for res in results where res["subagent_trajectory_ref"] == nil {
                        c.result(id: res["source_call_id"]?.stringValue, content: res["content"]?.text ?? "")
                    }
                } else {
                    // Terminus-style agents answer with JSON: analysis, plan and keystroke commands.
                    let parsed = JSONValue.string(message).decodedIfString.objectValue
                    let commands = parsed?["commands"]?.arrayValue ?? []
                    let plan = [parsed?["analysis"]?.stringValue, parsed?["plan"]?.stringValue].compactMap { $0 }.joined(separator: "\n")
                    let thought = plan.isEmpty ? message : plan
                    let output = results.compactMap { $0["content"]?.text }.joined(separator: "\n")
                    if !commands.isEmpty {
                        let keys = commands.compactMap { $0["keystrokes"]?.stringValue }.joined()
                        c.call(id: nil, tool: "terminal", input: .object(["commands": .array(commands)]), command: keys,
                               thought: thought, timestamp: step["timestamp"]?.stringValue)
                        c.result(id: nil, content: output)
                    } else {
                        c.assistant(thought)
                        if !output.isEmpty { c.observe(output) }
                    }
                }
            }
        }
        if let s = doc["session_id"] { meta["session_id"] = s }
        if let a = doc["agent"]?["name"] { meta["agent"] = a }
        if let cont = doc["continued_trajectory_ref"] { meta["continued_trajectory_ref"] = cont }
        if !subagents.isEmpty { meta["subagent_trajectory_refs"] = .array(subagents) }
        let made = c.trajectory(id: Importers.stem(path), source: Source(format: name, file: display), meta: meta)
        var r = c.result
        if let t = made {
            r.trajectories = [t]
        } else {
            r.quarantined.append(QuarantineEntry(file: display, reason: "no user step with the task"))
        }
        return r
    }
}

/// Gemini CLI session logs: `{sessionId, messages: [{type: user | gemini | info | error, content,
/// thoughts, toolCalls}]}`.
struct GeminiCLIImporter: FormatImporter {
    let name = "gemini-cli"

    func recognizes(_ file: ParsedFile, path: String) -> Bool {
        guard case .document(let v) = file, v["sessionId"] != nil, let m = v["messages"]?.arrayValue else { return false }
        return m.contains { ["user", "gemini"].contains($0["type"]?.stringValue ?? "") }
    }

    func importFile(_ file: ParsedFile, path: String, display: String, options: ImportOptions) -> ImportResult {
        guard case .document(let doc) = file else { return ImportResult(format: name) }
        var c = Conversation(format: name, options: options)
        for m in doc["messages"]?.arrayValue ?? [] {
            let text = m["content"]?.text ?? ""
            switch m["type"]?.stringValue {
            case "user": c.user(text)
            case "gemini":
                for th in m["thoughts"]?.arrayValue ?? [] {
                    c.thinking([th["subject"]?.stringValue, th["description"]?.stringValue].compactMap { $0 }.joined(separator: ": "),
                               keep: options.keepThinking)
                }
                c.assistant(text)
                for call in m["toolCalls"]?.arrayValue ?? [] {
                    let args = call["args"]?.decodedIfString ?? .object([:])
                    c.call(id: call["id"]?.stringValue, tool: call["name"]?.stringValue ?? "unknown", input: args,
                           command: args["command"]?.stringValue, timestamp: m["timestamp"]?.stringValue)
                    let output = (call["result"]?.arrayValue ?? []).compactMap { part -> String? in
                        if let resp = part["functionResponse"]?["response"] { return ChatDialect.render(resp["output"] ?? resp) }
                        return part["text"]?.stringValue
                    }.joined(separator: "\n")
                    c.result(id: call["id"]?.stringValue, content: output.isEmpty ? (call["resultDisplay"]?.text ?? "") : output,
                             isError: call["status"]?.stringValue.map { $0 == "error" })
                }
            default: c.result.drop("message_\(m["type"]?.stringValue ?? "untyped")")
            }
        }
        let id = doc["sessionId"]?.stringValue ?? Importers.stem(path)
        let made = c.trajectory(id: id, source: Source(format: name, file: display))
        var r = c.result
        if let t = made { r.trajectories = [t] }
        else { r.quarantined.append(QuarantineEntry(file: display, reason: "no user message with the task")) }
        return r
    }
}
