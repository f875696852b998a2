import Foundation

/// OpenHands event streams: a list of events, or `{"trajectory": [...]}` as exported. Actions
/// (`run`, `edit`, `read`, `browse`, `run_ipython`, `message`, `finish`, …) are paired with the
/// observation whose `cause` is the action's id (else by tool-call id). Bookkeeping events (recall,
/// state changes, system prompt) are dropped and counted.
struct OpenHandsEventsImporter: FormatImporter {
    let name = "openhands"

    static func events(_ v: JSONValue) -> [JSONValue]? {
        let list = v["trajectory"]?.arrayValue ?? v.arrayValue
        guard let list, let first = list.first, first["source"] != nil,
              list.contains(where: { $0["action"] != nil || $0["observation"] != nil }) else { return nil }
        return list
    }

    func recognizes(_ file: ParsedFile, path: String) -> Bool {
        guard case .document(let v) = file else { return false }
        return Self.events(v) != nil
    }

    func importFile(_ file: ParsedFile, path: String, display: String, options: ImportOptions) -> ImportResult {
        guard case .document(let v) = file, let events = Self.events(v) else { return ImportResult(format: name) }
        var c = Conversation(format: name, options: options)
        Self.feed(events, into: &c)
        let made = c.trajectory(id: Importers.stem(path), source: Source(format: name, file: display))
        var r = c.result
        if let t = made {
            r.trajectories = [t]
        } else {
            r.quarantined.append(QuarantineEntry(file: display, reason: "no user message with the task"))
        }
        return r
    }

    static let noiseActions: Set<String> = ["recall", "system", "change_agent_state", "null", "condensation"]
    static let noiseObservations: Set<String> = ["recall", "agent_state_changed", "null", "user_rejected", "condensation"]

    /// The call the model made for an action, from `tool_call_metadata`: the tool call in its `model_response`
    /// whose id is `tool_call_id` — its id, function name and arguments as the model sent them (OpenHands'
    /// own `args` drop a created file's text into `content: ""` and add internal `start`/`end`).
    static func modelCall(_ e: JSONValue) -> (id: String, name: String, arguments: JSONValue?)? {
        guard let meta = e["tool_call_metadata"]?.decodedIfString, let id = meta["tool_call_id"]?.stringValue, !id.isEmpty else { return nil }
        let name = meta["function_name"]?.stringValue
        for choice in meta["model_response"]?["choices"]?.arrayValue ?? [] {
            for call in choice["message"]?["tool_calls"]?.arrayValue ?? [] where call["id"]?.stringValue == id {
                let fn = call["function"]
                return (id, fn?["name"]?.stringValue ?? name ?? "unknown", fn?["arguments"]?.decodedIfString)
            }
        }
        return name.map { (id, $0, nil) }
    }

    /// OpenHands' bookkeeping keys in `args`, not part of what the model asked for.
    static let internalArgs = ["thought", "impl_source", "translated_ipython_code", "is_input", "blocking", "is_static",
                               "hidden", "confirmation_state", "security_risk"]

    static func feed(_ events: [JSONValue], into c: inout Conversation) {
        /// Ids of actions that are not tool calls (messages, thoughts, finish, bookkeeping): their
        /// observations only acknowledge them.
        var nonCalls: [String: String] = [:]
        /// Event id of each call → the id its observation is paired by (the model's tool call id when known).
        var callIDs: [String: String] = [:]
        func key(_ v: JSONValue?) -> String? { v.flatMap { $0.intValue.map(String.init) ?? $0.stringValue } }
        func nonEmpty(_ s: String?) -> String? { s.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 } }
        for e in events {
            let source = e["source"]?.stringValue ?? ""
            let args = e["args"]?.decodedIfString ?? .object([:])
            let stamp = e["timestamp"]?.stringValue
            if let action = e["action"]?.stringValue {
                if ["message", "think", "finish"].contains(action) || noiseActions.contains(action), let id = key(e["id"]) {
                    nonCalls[id] = action
                }
                if noiseActions.contains(action) { c.result.drop("event_\(action)"); continue }
                let thought = nonEmpty(args["thought"]?.stringValue)
                switch action {
                case "message":
                    let text = args["content"]?.stringValue ?? e["message"]?.stringValue ?? ""
                    if source == "user" { c.user(text) } else { c.assistant(text) }
                case "think":
                    c.assistant(thought ?? e["message"]?.stringValue ?? "")
                case "finish":
                    // The summary is `final_thought` (or the finish call's `message`, or `outputs.content`);
                    // the event's `message` repeats the thought or is OpenHands' stock "All done!" line.
                    let summary = nonEmpty(args["final_thought"]?.stringValue) ?? nonEmpty(modelCall(e)?.arguments?["message"]?.stringValue)
                        ?? nonEmpty(args["outputs"]?["content"]?.stringValue)
                    if let thought, thought != summary { c.assistant(thought) }
                    if let summary { c.assistant(summary) }
                    else if thought == nil { c.assistant(e["message"]?.stringValue ?? "") }
                    else { c.result.drop("finish_message_repeating_the_thought") }
                default:
                    let model = modelCall(e)
                    var input: JSONValue
                    if let arguments = model?.arguments, case .object = arguments {
                        input = arguments
                    } else {
                        input = args
                        if case .object(var o) = input {
                            for k in internalArgs { o.removeValue(forKey: k) }
                            if o["content"]?.stringValue == "" { o.removeValue(forKey: "content") }
                            input = .object(o)
                        }
                    }
                    let shell = action == "run" || action == "run_ipython"
                    let command = shell ? (input["command"]?.stringValue ?? input["code"]?.stringValue ?? args["command"]?.stringValue ?? args["code"]?.stringValue) : nil
                    let id = model?.id ?? key(e["id"])
                    if let event = key(e["id"]), let id { callIDs[event] = id }
                    c.call(id: id, tool: model?.name ?? action, input: input, command: command, thought: thought, timestamp: stamp)
                }
            } else if let obs = e["observation"]?.stringValue {
                if noiseObservations.contains(obs) { c.result.drop("event_\(obs)"); continue }
                if let cause = key(e["cause"]), let acted = nonCalls[cause] { c.result.drop("acknowledgement_of_\(acted)"); continue }
                let extras = e["extras"]?.decodedIfString
                let exit = extras?["metadata"]?["exit_code"]?.intValue ?? extras?["exit_code"]?.intValue
                let cause = key(e["cause"])
                let id = cause.flatMap { callIDs[$0] } ?? modelCall(e)?.id ?? cause
                let isError = obs == "error" ? true : (e["success"]?.boolValue.map { !$0 })
                c.result(id: id, content: e["content"]?.stringValue ?? e["message"]?.stringValue ?? "",
                         isError: isError, exitCode: exit)
            } else {
                c.result.drop("event_without_action")
            }
        }
    }
}

/// OpenHands evaluation `output.jsonl`: one instance per line with `history`, `instruction`,
/// `test_result` (`git_patch`, and `report.resolved` when the harness graded it) and `error`.
struct OpenHandsOutputImporter: FormatImporter {
    let name = "openhands-output"

    func recognizes(_ file: ParsedFile, path: String) -> Bool {
        Importers.objects(file).first.map { $0["instance_id"] != nil && $0["history"] != nil } ?? false
    }

    func importFile(_ file: ParsedFile, path: String, display: String, options: ImportOptions) -> ImportResult {
        var total = ImportResult(format: name)
        let rows = Importers.rows(file)
        for (i, (line, row)) in rows.enumerated() {
            guard let id = row["instance_id"]?.stringValue, let history = row["history"]?.arrayValue else {
                total.quarantined.append(QuarantineEntry(file: display, line: line, index: line == nil ? i : nil,
                                                         reason: "record has no instance_id or history"))
                continue
            }
            var c = Conversation(format: name, options: options)
            OpenHandsEventsImporter.feed(history, into: &c)
            let test = row["test_result"]?.decodedIfString
            var outcome = Outcome()
            if let resolved = test?["report"]?["resolved"]?.boolValue {
                outcome.status = resolved ? .success : .failure
                outcome.detail = resolved ? "resolved" : "not resolved"
            }
            if let err = row["error"]?.stringValue, !err.isEmpty {
                outcome.detail = (outcome.detail.map { $0 + "; " } ?? "") + "error: " + err
            }
            let problem = row["instance"]?.decodedIfString["problem_statement"]?.stringValue
            var t = c.trajectory(id: id, source: Source(format: name, file: display, line: line, offset: line == nil ? i : nil),
                                 outcome: outcome, taskOverride: problem ?? row["instruction"]?.stringValue,
                                 meta: ["instance_id": .string(id)])
            if let patch = test?["git_patch"]?.stringValue, !patch.isEmpty { t?.answer = patch }
            var r = c.result
            if let t { r.trajectories = [t] }
            total.merge(r)
        }
        return total
    }
}
