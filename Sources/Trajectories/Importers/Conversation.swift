import Foundation

/// Builds canonical steps from a stream of chat events, the way every chat-shaped format needs it:
/// the first user text is the task, assistant text becomes the thought of the call that follows it,
/// each tool call becomes a step, results are paired with calls by id (falling back to the oldest
/// unanswered call when ids are empty or missing), and assistant text after the last call is the answer.
struct Conversation {
    private(set) var task: String?
    private(set) var steps: [Step] = []
    private var pendingText: [String] = []
    /// Step index of every call not yet answered, in call order.
    private var unanswered: [(id: String?, step: Int)] = []
    /// Calls given up on (`abandonUnanswered`): they stay without a result, counted at the end.
    private var abandoned = 0
    var result: ImportResult
    let cleaner: TextCleaner

    init(format: String, options: ImportOptions) {
        result = ImportResult(format: format)
        cleaner = TextCleaner(options: options)
    }

    mutating func user(_ text: String) {
        let t = cleaner.clean(text, observation: false, into: &result)
        if t.isBlank {
            result.drop("empty_user_message")
            return
        }
        if task == nil {
            task = t
            return
        }
        flushText()
        steps.append(Step(index: steps.count, observation: Observation(content: "User: " + t)))
    }

    mutating func assistant(_ text: String) {
        let t = cleaner.clean(text, observation: false, into: &result).trimmedOfWhitespace()
        if !t.isEmpty { pendingText.append(t) }
    }

    mutating func thinking(_ text: String, keep: Bool) {
        if keep { assistant(text) } else { result.drop("thinking_block") }
    }

    /// Records a call; `thought` overrides the pending assistant text.
    mutating func call(id: String?, tool: String, input: JSONValue, command: String? = nil, thought: String? = nil,
                       timestamp: String? = nil) {
        let text = thought.map { cleaner.clean($0, observation: false, into: &result) } ?? takeText()
        if thought != nil { flushText() }
        let cleanInput = input.mapStrings { cleaner.clean($0, observation: false, into: &result) }
        let id = id.flatMap { $0.isEmpty ? nil : $0 }
        steps.append(Step(index: steps.count, thought: text,
                          action: Action(tool: tool, input: cleanInput, command: command, callID: id),
                          timestamp: timestamp))
        unanswered.append((id, steps.count - 1))
    }

    /// Calls made and not yet answered.
    var unansweredCalls: Int { unanswered.count }

    /// Gives up on the calls not yet answered: they stay without a result (counted at the end) and a later
    /// result is never paired with them. For layouts that pair by position, where a turn's results can
    /// only answer that turn's calls.
    mutating func abandonUnanswered() {
        abandoned += unanswered.count
        unanswered = []
    }

    /// Pairs a result with its call. Returns false when there was no call to pair with (the result is
    /// then kept as an observation-only step and counted).
    @discardableResult
    mutating func result(id: String?, content: String, isError: Bool? = nil, exitCode: Int? = nil) -> Bool {
        let obs = Observation(content: cleaner.clean(content, observation: true, into: &result), exitCode: exitCode,
                              isError: isError)
        let id = id.flatMap { $0.isEmpty ? nil : $0 }
        var slot: Int?
        if let id, let k = unanswered.firstIndex(where: { $0.id == id }) { slot = k }
        else if id == nil || !unanswered.contains(where: { $0.id != nil }) { slot = unanswered.indices.first }
        else if let k = unanswered.firstIndex(where: { $0.id == nil }) { slot = k }
        if let k = slot {
            steps[unanswered[k].step].observation = obs
            unanswered.remove(at: k)
            return true
        }
        flushText()
        steps.append(Step(index: steps.count, observation: obs))
        result.drop("unpaired_tool_result_kept_as_observation")
        return false
    }

    /// A step that observed something without a tool call (a parse error the harness reported, a
    /// terminal screen after a message): the pending assistant text is its thought.
    mutating func observe(_ content: String, exitCode: Int? = nil) {
        let obs = Observation(content: cleaner.clean(content, observation: true, into: &result), exitCode: exitCode)
        steps.append(Step(index: steps.count, thought: takeText(), observation: obs))
    }

    /// Text that arrived before a step with its own thought, or between user turns, becomes a
    /// thought-only step so that nothing is lost.
    private mutating func flushText() {
        if let t = takeText() { steps.append(Step(index: steps.count, thought: t)) }
    }

    private mutating func takeText() -> String? {
        defer { pendingText = [] }
        return pendingText.isEmpty ? nil : pendingText.joined(separator: "\n\n")
    }

    /// The steps and the answer (assistant text after the last step).
    mutating func finish() -> (steps: [Step], answer: String?) {
        let answer = takeText()
        if unanswered.count + abandoned > 0 { result.drop("tool_call_without_result", unanswered.count + abandoned) }
        abandoned = 0
        return (steps, answer)
    }

    /// One record of a file as an import result: its trajectory, or — without a task — a quarantine entry
    /// giving `reason` with the record's line (JSON Lines) or index (a document's array).
    mutating func rowResult(id: String, source: Source, meta: [String: JSONValue], line: Int?, index: Int,
                            missingTask reason: String) -> ImportResult {
        let made = trajectory(id: id, source: source, meta: meta)
        var r = result
        if let t = made { r.trajectories = [t] }
        else { r.quarantined.append(QuarantineEntry(file: source.file, line: line, index: line == nil ? index : nil, reason: reason)) }
        return r
    }

    /// Steps, answer and task as a trajectory, or nil when there was no task at all.
    mutating func trajectory(id: String, source: Source, outcome: Outcome = Outcome(), taskOverride: String? = nil,
                             meta: [String: JSONValue] = [:]) -> Trajectory? {
        let (steps, answer) = finish()
        guard let task = taskOverride ?? task else { return nil }
        return Trajectory(id: id, task: task, steps: steps, answer: answer, outcome: outcome, source: source, meta: meta)
    }
}

/// Reading helpers shared by the chat-shaped importers.
enum ChatDialect {
    /// OpenAI chat-completions messages (also legacy `function_call`, `tool` and `function` roles).
    static func feedOpenAI(_ messages: [JSONValue], into c: inout Conversation) {
        for m in messages {
            let role = m["role"]?.stringValue ?? ""
            switch role {
            case "system", "developer": c.result.drop("system_prompt")
            case "user":
                if let parts = m["content"]?.arrayValue {
                    c.result.drop("image", parts.filter { ["image_url", "input_image", "image"].contains($0["type"]?.stringValue ?? "") }.count)
                }
                if let t = m["content"]?.text { c.user(t) }
            case "assistant":
                if let t = m["content"]?.text { c.assistant(t) }
                if let r = m["reasoning_content"]?.stringValue { c.thinking(r, keep: c.cleaner.options.keepThinking) }
                for call in m["tool_calls"]?.arrayValue ?? [] {
                    let fn = call["function"] ?? .object([:])
                    let name = fn["name"]?.stringValue ?? "unknown"
                    let args = fn["arguments"]?.decodedIfString ?? .object([:])
                    c.call(id: call["id"]?.stringValue, tool: name, input: args, command: args["command"]?.stringValue)
                }
                if let fc = m["function_call"] {
                    let args = fc["arguments"]?.decodedIfString ?? .object([:])
                    c.call(id: nil, tool: fc["name"]?.stringValue ?? "unknown", input: args, command: args["command"]?.stringValue)
                }
            case "tool", "function":
                if let parts = m["content"]?.arrayValue {
                    c.result.drop("image", parts.filter { ["image_url", "input_image", "image"].contains($0["type"]?.stringValue ?? "") }.count)
                }
                c.result(id: m["tool_call_id"]?.stringValue, content: m["content"]?.text ?? "")
            default: c.result.drop("unknown_role")
            }
        }
    }

    /// Anthropic Messages API content blocks (also Claude Code records, which wrap them).
    static func feedAnthropic(role: String, content: JSONValue?, into c: inout Conversation) {
        guard let content else { return }
        if let s = content.stringValue {
            if role == "user" { c.user(s) } else { c.assistant(s) }
            return
        }
        for block in content.arrayValue ?? [] {
            let type = block["type"]?.stringValue ?? ""
            switch type {
            case "text":
                let t = block["text"]?.stringValue ?? ""
                if role == "user" { c.user(t) } else { c.assistant(t) }
            case "tool_use", "server_tool_use":
                let input = block["input"]?.decodedIfString ?? .object([:])
                c.call(id: block["id"]?.stringValue, tool: block["name"]?.stringValue ?? "unknown", input: input,
                       command: input["command"]?.stringValue)
            case "tool_result":
                c.result.drop("image", (block["content"]?.arrayValue ?? []).filter { $0["type"]?.stringValue == "image" }.count)
                c.result(id: block["tool_use_id"]?.stringValue, content: block["content"]?.text ?? "",
                         isError: block["is_error"]?.boolValue)
            case "thinking": c.thinking(block["thinking"]?.stringValue ?? "", keep: c.cleaner.options.keepThinking)
            case "redacted_thinking": c.result.drop("thinking_block")
            case "image", "document": c.result.drop(type)
            default:
                if type.hasSuffix("_tool_result") {  // server tools: code_execution_tool_result, web_search_tool_result…
                    c.result(id: block["tool_use_id"]?.stringValue, content: block["content"].map(Self.render) ?? "")
                } else {
                    c.result.drop("block_\(type.isEmpty ? "untyped" : type)")
                }
            }
        }
    }

    /// Gemini API `contents` (parts with text / functionCall / functionResponse; calls carry no ids).
    static func feedGemini(_ contents: [JSONValue], into c: inout Conversation) {
        for turn in contents {
            let role = turn["role"]?.stringValue ?? "user"
            for part in turn["parts"]?.arrayValue ?? [] {
                if let t = part["text"]?.stringValue {
                    if part["thought"]?.boolValue == true { c.thinking(t, keep: c.cleaner.options.keepThinking); continue }
                    if role == "model" { c.assistant(t) } else { c.user(t) }
                } else if let fc = part["functionCall"] {
                    let args = fc["args"] ?? .object([:])
                    c.call(id: fc["id"]?.stringValue, tool: fc["name"]?.stringValue ?? "unknown", input: args,
                           command: args["command"]?.stringValue)
                } else if let fr = part["functionResponse"] {
                    c.result(id: fr["id"]?.stringValue, content: fr["response"].map(Self.render) ?? "")
                } else if part["inlineData"] != nil || part["fileData"] != nil {
                    c.result.drop("image")
                } else {
                    c.result.drop("unknown_part")
                }
            }
        }
    }

    /// A JSON value as observation text: strings as they are, anything else as compact JSON.
    static func render(_ v: JSONValue) -> String {
        if let s = v.stringValue { return s }
        if let t = v.text, v.arrayValue != nil { return t }
        return v.canonicalJSON()
    }
}
