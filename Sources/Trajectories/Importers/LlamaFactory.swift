import Foundation

/// `llamafactory`: LLaMA-Factory's typed-content messages layout (its v1 data format), one trajectory per
/// row of a JSON array or JSON Lines file:
///
///     {"messages": [{"role": "system", "content": [{"type": "text", "value": "…"}]},
///                   {"role": "user", "content": [{"type": "text", "value": "…"}], "loss_weight": 0.0},
///                   {"role": "assistant", "content": [{"type": "reasoning", "value": "…"}, {"type": "text", "value": "…"},
///                                                      {"type": "tool_call", "value": "{\"name\": …, \"arguments\": {…}}"}]},
///                   {"role": "tool", "content": [{"type": "text", "value": "[\"result 1\", \"result 2\"]"}]}, …],
///      "tools": "[…]"}
///
/// Roles system/user/assistant/tool. Assistant parts keep their order: `text` is the thought of the call that
/// follows it (or the answer), `reasoning` is thinking (dropped and counted unless kept), `tool_call` is a
/// call whose value is `{name, arguments}` as JSON text or an object. A tool message answers the calls of
/// the assistant turn before it: with one call, its text is that call's result; with several, its text is a
/// JSON list holding one result per call, matched by position. Calls no tool message answers stay without
/// a result (counted). `system` text goes to `meta.system`, `tools` (decoded) to `meta.tools`.
struct LlamaFactoryImporter: FormatImporter {
    let name = "llamafactory"

    /// A part of this layout: `{type, value}` (OpenAI's parts carry `text`, not `value`).
    static func isTypedPart(_ p: JSONValue) -> Bool {
        p["type"]?.stringValue != nil && p["value"] != nil && p["text"] == nil
    }

    static func isRow(_ v: JSONValue) -> Bool {
        guard let messages = v["messages"]?.arrayValue, !messages.isEmpty else { return false }
        var typed = false
        for m in messages {
            guard let role = m["role"]?.stringValue, ["system", "user", "assistant", "tool"].contains(role) else { return false }
            if let parts = m["content"]?.arrayValue {
                guard parts.allSatisfy(isTypedPart) else { return false }
                typed = typed || !parts.isEmpty
            }
        }
        return typed
    }

    func recognizes(_ file: ParsedFile, path: String) -> Bool {
        Importers.objects(file).prefix(20).contains(where: Self.isRow)
    }

    /// The text of a message: its `text` parts' values (a plain string content is taken as it is).
    static func text(_ content: JSONValue?) -> String? {
        if let s = content?.stringValue { return s }
        let texts = (content?.arrayValue ?? []).filter { $0["type"]?.stringValue == "text" }.compactMap { $0["value"]?.stringValue }
        return texts.isEmpty ? nil : texts.joined(separator: "\n")
    }

    func importFile(_ file: ParsedFile, path: String, display: String, options: ImportOptions) -> ImportResult {
        var total = ImportResult(format: name)
        let rows = Importers.rows(file)
        let stem = Importers.stem(path)
        for (i, (line, row)) in rows.enumerated() {
            guard Self.isRow(row), let messages = row["messages"]?.arrayValue else {
                let keys = row.objectValue.map { $0.keys.sorted().prefix(8).joined(separator: ", ") } ?? "not an object"
                total.quarantined.append(QuarantineEntry(file: display, line: line, index: line == nil ? i : nil,
                    reason: "row is not a LLaMA-Factory messages row (\(keys)); expected 'messages' of {role, content: [{type, value}]}"))
                continue
            }
            var c = Conversation(format: name, options: options)
            var system: [String] = []
            for m in messages {
                let content = m["content"]
                switch m["role"]?.stringValue ?? "" {
                case "system":
                    if let t = Self.text(content) { system.append(t) }
                    c.result.drop("system_prompt")
                case "user":
                    c.abandonUnanswered()
                    if let t = Self.text(content) { c.user(t) }
                case "assistant":
                    c.abandonUnanswered()
                    Self.feedAssistant(content, into: &c)
                case "tool":
                    Self.feedTool(content, into: &c)
                default: break
                }
                let media = (content?.arrayValue ?? []).filter { ["image", "video", "audio", "image_url"].contains($0["type"]?.stringValue ?? "") }.count
                c.result.drop("media_part", media)
            }
            var meta: [String: JSONValue] = [:]
            if !system.isEmpty { meta["system"] = .string(system.joined(separator: "\n\n")) }
            if let tools = row["tools"] { meta["tools"] = tools.decodedIfString }
            for (k, v) in row.objectValue ?? [:] where !["messages", "tools", "id"].contains(k) { meta[k] = v }
            let id = row["id"]?.stringValue ?? "\(stem)-\(line.map { "L\($0)" } ?? String(i))"
            let src = Source(format: name, file: display, line: line, offset: line == nil ? i : nil)
            total.merge(c.rowResult(id: id, source: src, meta: meta, line: line, index: i,
                                    missingTask: "conversation has no user message (its first user message is the task)"))
        }
        return total
    }

    static func feedAssistant(_ content: JSONValue?, into c: inout Conversation) {
        if let s = content?.stringValue { c.assistant(s); return }
        for part in content?.arrayValue ?? [] {
            let value = part["value"]
            switch part["type"]?.stringValue {
            case "text": c.assistant(value?.stringValue ?? "")
            case "reasoning": c.thinking(value?.stringValue ?? "", keep: c.cleaner.options.keepThinking)
            case "tool_call":
                let call = value?.decodedIfString ?? .null
                let args = call["arguments"]?.decodedIfString ?? .object([:])
                c.call(id: call["id"]?.stringValue, tool: call["name"]?.stringValue ?? "unknown", input: args,
                       command: args["command"]?.stringValue)
            default: break
            }
        }
    }

    /// One result per call of the turn before: a JSON list matched by position when that turn made several.
    static func feedTool(_ content: JSONValue?, into c: inout Conversation) {
        let text = Self.text(content) ?? ""
        let calls = c.unansweredCalls
        if calls > 1, case .array(let results) = JSONValue.string(text).decodedIfString {
            for result in results.prefix(calls) {
                c.result(id: nil, content: result.stringValue ?? result.canonicalJSON())
            }
            for extra in results.dropFirst(calls) { c.result(id: nil, content: extra.stringValue ?? extra.canonicalJSON()) }
            return
        }
        c.result(id: nil, content: text)
    }
}
