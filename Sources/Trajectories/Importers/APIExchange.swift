import Foundation

/// Conversations recorded at the API: OpenAI chat completions, Anthropic Messages and Gemini
/// `generateContent`, from SDK request/response snapshots (`[{request, response}]`), HTTP cassettes
/// (`interactions:` in YAML) or a bare `messages` list. The last request holds the whole conversation
/// so far; its response is appended. An error response is kept in the outcome's detail.
struct APIExchangeImporter: FormatImporter {
    enum Dialect: String, Sendable, CaseIterable { case openai = "openai-chat", anthropic = "anthropic-messages", gemini = "gemini-api" }
    /// nil: any dialect (the auto-detected `api-exchange`); otherwise only that dialect's conversations.
    let dialect: Dialect?
    var name: String { dialect?.rawValue ?? "api-exchange" }

    struct Exchange {
        var request: JSONValue
        var response: JSONValue?
        var dialect: Dialect
        var messages: [JSONValue] { request["messages"]?.arrayValue ?? request["contents"]?.arrayValue ?? [] }
    }

    /// The conversations in a file. A recording holds one request per turn, each repeating the turns
    /// before it; a request that a later request of the same dialect extends is not a conversation of
    /// its own, so only the final request of each conversation (with its response) is kept.
    static func exchanges(_ file: ParsedFile) -> [Exchange]? {
        guard case .document(let v) = file else { return nil }
        var all: [Exchange] = []
        func add(_ body: JSONValue, _ resp: JSONValue?, _ url: String) {
            all.append(Exchange(request: body, response: resp, dialect: dialect(of: body, url: url)))
        }
        if let pairs = v["interactions"]?.arrayValue ?? (v.arrayValue?.first?["request"] != nil ? v.arrayValue : nil) {
            for pair in pairs {
                guard let req = pair["request"], let body = (req["parsed_body"] ?? req["body"])?.decodedIfString,
                      body["messages"] != nil || body["contents"] != nil else { continue }
                add(body, pair["response"].flatMap { $0["parsed_body"] ?? $0["body"] },
                    req["uri"]?.stringValue ?? req["url"]?.stringValue ?? "")
            }
        } else if v["messages"]?.arrayValue != nil || v["contents"]?.arrayValue != nil {
            add(v, nil, "")
        } else if let list = v.arrayValue, !list.isEmpty, list.allSatisfy({ $0["role"] != nil && $0["content"] != nil || $0["tool_calls"] != nil }) {
            add(.object(["messages": v]), nil, "")
        }
        guard !all.isEmpty else { return nil }
        func same(_ a: JSONValue, _ b: JSONValue) -> Bool { a["role"] == b["role"] && a["content"]?.text == b["content"]?.text && a["parts"] == b["parts"] }
        return all.enumerated().filter { i, ex in
            !all[(i + 1)...].contains { later in
                later.dialect == ex.dialect && later.messages.count > ex.messages.count
                    && zip(ex.messages.prefix(1), later.messages.prefix(1)).allSatisfy { same($0, $1) }
            }
        }.map(\.element)
    }

    static func dialect(of request: JSONValue, url: String) -> Dialect {
        if request["contents"] != nil { return .gemini }
        let messages = request["messages"]?.arrayValue ?? []
        if messages.contains(where: { ["system", "tool", "developer", "function"].contains($0["role"]?.stringValue ?? "") || $0["tool_calls"] != nil }) {
            return .openai
        }
        let blockTypes = messages.flatMap { $0["content"]?.arrayValue ?? [] }.compactMap { $0["type"]?.stringValue }
        if blockTypes.contains(where: { ["tool_use", "tool_result", "thinking"].contains($0) }) || url.contains("anthropic") { return .anthropic }
        return .openai
    }

    func recognizes(_ file: ParsedFile, path: String) -> Bool {
        guard let list = Self.exchanges(file) else { return false }
        return dialect.map { d in list.contains { $0.dialect == d } } ?? true
    }

    func importFile(_ file: ParsedFile, path: String, display: String, options: ImportOptions) -> ImportResult {
        var total = ImportResult(format: name)
        let list = (Self.exchanges(file) ?? []).filter { dialect == nil || $0.dialect == dialect }
        for (k, ex) in list.enumerated() {
            var c = Conversation(format: ex.dialect.rawValue, options: options)
            var outcome = Outcome()
            var response = ex.response?.decodedIfString
            if let text = response?.stringValue, text.contains("event: ") || text.hasPrefix("data:") {
                response = Self.assembleAnthropicStream(text)
            }
            if let err = response?["error"] {
                outcome.detail = "API error: " + (err["message"]?.stringValue ?? err.canonicalJSON())
                response = nil
            }
            switch ex.dialect {
            case .openai:
                var messages = ex.messages
                if let m = response?["choices"]?.arrayValue?.first?["message"] { messages.append(m) }
                ChatDialect.feedOpenAI(messages, into: &c)
            case .anthropic:
                if ex.request["system"] != nil { c.result.drop("system_prompt") }
                for m in ex.messages {
                    ChatDialect.feedAnthropic(role: m["role"]?.stringValue ?? "user", content: m["content"], into: &c)
                }
                if let r = response, r["content"] != nil {
                    ChatDialect.feedAnthropic(role: "assistant", content: r["content"], into: &c)
                    if let stop = r["stop_reason"]?.stringValue { outcome.detail = outcome.detail ?? "stop_reason: \(stop)" }
                }
            case .gemini:
                var contents = ex.messages
                if let content = response?["candidates"]?.arrayValue?.first?["content"] { contents.append(content) }
                ChatDialect.feedGemini(contents, into: &c)
            }
            let id = list.count == 1 ? Importers.stem(path) : "\(Importers.stem(path))-\(k + 1)"
            let made = c.trajectory(id: id, source: Source(format: ex.dialect.rawValue, file: display, offset: list.count == 1 ? nil : k),
                                    outcome: outcome)
            var r = c.result
            if let t = made { r.trajectories = [t] }
            else { r.quarantined.append(QuarantineEntry(file: display, index: k, reason: "the conversation has no user message")) }
            total.merge(r)
        }
        if let only = Set(list.map(\.dialect)).first, Set(list.map(\.dialect)).count == 1 { total.format = only.rawValue }
        return total
    }

    /// Rebuilds a Messages API response from its server-sent events.
    static func assembleAnthropicStream(_ text: String) -> JSONValue {
        var blocks: [Int: [String: JSONValue]] = [:]
        var partialJSON: [Int: String] = [:]
        var message: [String: JSONValue] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("data:") {
            let payload = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
            guard let ev = try? JSONCoding.decoder.decode(JSONValue.self, from: Data(payload.utf8)) else { continue }
            let index = ev["index"]?.intValue ?? 0
            switch ev["type"]?.stringValue {
            case "message_start": message = ev["message"]?.objectValue ?? [:]
            case "content_block_start": blocks[index] = ev["content_block"]?.objectValue ?? [:]
            case "content_block_delta":
                let d = ev["delta"] ?? .null
                switch d["type"]?.stringValue {
                case "text_delta": blocks[index, default: [:]]["text"] = .string((blocks[index]?["text"]?.stringValue ?? "") + (d["text"]?.stringValue ?? ""))
                case "thinking_delta": blocks[index, default: [:]]["thinking"] = .string((blocks[index]?["thinking"]?.stringValue ?? "") + (d["thinking"]?.stringValue ?? ""))
                case "input_json_delta": partialJSON[index, default: ""] += d["partial_json"]?.stringValue ?? ""
                default: break
                }
            case "message_delta":
                if let stop = ev["delta"]?["stop_reason"] { message["stop_reason"] = stop }
            default: break
            }
        }
        for (i, json) in partialJSON where !json.isEmpty {
            blocks[i]?["input"] = JSONValue.string(json).decodedIfString
        }
        message["content"] = .array(blocks.keys.sorted().map { JSONValue.object(blocks[$0]!) })
        return .object(message)
    }
}
