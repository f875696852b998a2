import Foundation

/// `openai-messages`: one trajectory per JSON line, a `messages` list in the OpenAI/TRL chat layout with
/// metadata beside it — what OpenAI fine-tuning files, TRL datasets and most published trajectory sets
/// look like:
///
///     {"id": "run-7", "task_key": "fix-parser", "messages": [{"role": "system", …}, {"role": "user", …},
///      {"role": "assistant", "content": …, "tool_calls": [{"id": …, "function": {"name": …, "arguments": …}}]},
///      {"role": "tool", "tool_call_id": …, "content": …}, …], "tools": [...], "outcome": {"status": "success"}}
///
/// Each line is read on its own (the format streams, is cached in chunks and decoded on every core, like
/// the native one). The first user message is the task; `system` (and `developer`) messages are kept in
/// `meta.system`; tool calls take `arguments` as an object, a JSON string or a double-encoded one; results are
/// paired with calls by `tool_call_id`; content is a string or a list of parts. The id is `id` (or
/// `instance_id`); a row without one is named `<file stem>-L<line>`, stable as long as the row stays on its
/// line. The task key is `task_key` (or `instance_id` when `id` names the run). The outcome comes from
/// `outcome` (`{status, reward}` or a status string), else `reward` (1 success, 0 failure, in between
/// partial), `resolved`, `success` or `label`; nothing known stays `unknown`. `tools` and every other key
/// go to `meta`. A line that is not a conversation is quarantined with its number.
public enum MessagesRows {
    public static let format = "openai-messages"

    static let chatRoles: Set<String> = ["system", "developer", "user", "assistant", "tool", "function"]

    /// Whether a value is a row of this format: an object whose `messages` is a non-empty list of
    /// `{role, …}` objects in the OpenAI roles. Rows whose content parts are LLaMA-Factory's typed
    /// `{type, value}` parts are another layout (`llamafactory`) and are not claimed.
    public static func isRow(_ v: JSONValue) -> Bool {
        guard let messages = v["messages"]?.arrayValue, !messages.isEmpty else { return false }
        return messages.allSatisfy { m in
            guard let role = m["role"]?.stringValue, chatRoles.contains(role) else { return false }
            let parts = m["content"]?.arrayValue ?? []
            return !parts.contains(where: LlamaFactoryImporter.isTypedPart)
        }
    }

    /// What one line became: a trajectory (with what the import dropped or cleaned, by kind), or a
    /// quarantine entry.
    public struct Decoded: Sendable {
        public var result: NativeLineResult
        public var dropped: [String: Int]
        public var cleaned: [String: Int]
    }

    public static func decode(_ bytes: ArraySlice<UInt8>, file: String, line: Int, options: ImportOptions = ImportOptions()) -> Decoded {
        func quarantine(_ reason: String) -> Decoded {
            Decoded(result: .quarantined(QuarantineEntry(file: file, line: line, reason: reason, excerpt: QuarantineEntry.excerpt(of: bytes))),
                    dropped: [:], cleaned: [:])
        }
        // The byte reader validates every string it reads, so a line it reads needs no UTF-8 check first.
        var repaired: [UInt8]? = nil
        let row: JSONValue
        if let v = JSONValue.parseFast(bytes) {
            row = v
        } else {
            repaired = UTF8Repair.repairIfNeeded(bytes)
            guard let v = JSONValue.parse(repaired.map { ArraySlice($0) } ?? bytes) else {
                return quarantine("invalid JSON: " + JSONShape.diagnose(bytes))
            }
            row = v
        }
        guard let object = row.objectValue else { return quarantine("not a conversation: a JSON \(Self.kind(row)), not an object") }
        guard isRow(row) else {
            let keys = object.keys.sorted().prefix(8).joined(separator: ", ")
            return quarantine("not a conversation: an object with keys \(keys.isEmpty ? "(none)" : keys); expected a 'messages' list of {role, content} in the OpenAI chat layout")
        }
        var c = Conversation(format: format, options: options)
        var meta: [String: JSONValue] = [:]
        let messages = object["messages"]!.arrayValue!
        let system = messages.filter { ["system", "developer"].contains($0["role"]?.stringValue ?? "") }.compactMap { $0["content"]?.text }
        if !system.isEmpty { meta["system"] = .string(system.joined(separator: "\n\n")) }
        ChatDialect.feedOpenAI(messages.filter { !["system", "developer"].contains($0["role"]?.stringValue ?? "") }, into: &c)

        let consumed: Set<String> = ["messages", "id", "instance_id", "task_key", "outcome", "reward", "resolved", "success", "label"]
        for (k, v) in object where !consumed.contains(k) { meta[k] = v }
        let runID = object["id"].flatMap(Self.name)
        let instance = object["instance_id"].flatMap(Self.name)
        let id = runID ?? instance ?? "\(Importers.stem(file))-L\(line)"
        var taskKey = object["task_key"].flatMap(Self.name)
        if taskKey == nil, runID != nil, let instance { taskKey = instance }
        guard var t = c.trajectory(id: id, source: Source(format: format, file: file, line: line), outcome: outcome(object), meta: meta) else {
            return quarantine("the conversation has no user message (its first user message is the task)")
        }
        t.taskKey = taskKey
        return Decoded(result: .trajectory(t, repairedUTF8: repaired != nil), dropped: c.result.dropped, cleaned: c.result.cleaned)
    }

    static func kind(_ v: JSONValue) -> String {
        switch v {
        case .null: return "null"
        case .bool: return "boolean"
        case .int, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// An id or key: a non-empty string, or a number written as text.
    static func name(_ v: JSONValue) -> String? {
        switch v {
        case .string(let s): return s.isEmpty ? nil : s
        case .int(let i): return String(i)
        default: return nil
        }
    }

    /// The outcome a row states, from the first of `outcome`, `reward`, `resolved`, `success`, `label`.
    static func outcome(_ row: [String: JSONValue]) -> Outcome {
        func status(_ s: String) -> Outcome.Status? {
            switch s.lowercased() {
            case "success", "succeeded", "pass", "passed", "resolved", "solved", "correct", "true", "ok": return .success
            case "failure", "failed", "fail", "error", "unresolved", "incorrect", "false", "wrong": return .failure
            case "partial", "partially_resolved": return .partial
            default: return nil
            }
        }
        func fromReward(_ r: Double) -> Outcome.Status { r >= 1 ? .success : r <= 0 ? .failure : .partial }
        if let o = row["outcome"] {
            var out = Outcome()
            if let s = o.stringValue { out.status = status(s) ?? .unknown; return out }
            out.reward = o["reward"]?.doubleValue
            if let s = o["status"]?.stringValue.flatMap(status) { out.status = s } else if let r = out.reward { out.status = fromReward(r) }
            out.detail = o["detail"]?.stringValue
            return out
        }
        if let r = row["reward"]?.doubleValue { return Outcome(status: fromReward(r), reward: r) }
        for key in ["resolved", "success"] {
            if case .bool(let b)? = row[key] { return Outcome(status: b ? .success : .failure) }
        }
        switch row["label"] {
        case .bool(let b)?: return Outcome(status: b ? .success : .failure)
        case .int(let i)? where i == 0 || i == 1: return Outcome(status: i == 1 ? .success : .failure)
        case .string(let s)?: return Outcome(status: status(s) ?? .unknown)
        default: return Outcome()
        }
    }
}

/// The `openai-messages` importer for whole files (`skillforge import`, and files given with `format:`);
/// the engine streams such files line by line instead (`LineFormat`).
struct MessagesRowsImporter: FormatImporter {
    let name = MessagesRows.format

    func recognizes(_ file: ParsedFile, path: String) -> Bool {
        guard case .lines(let ls, _) = file else { return false }
        return ls.prefix(20).contains { MessagesRows.isRow($0.value) }
    }

    func importFile(_ file: ParsedFile, path: String, display: String, options: ImportOptions) -> ImportResult {
        var r = ImportResult(format: name)
        do {
            let reader = try LineReader(path: path, maxLineBytes: options.maxRecordBytes)
            while let batch = try reader.nextBatch() {
                r.quarantined += batch.overlong.map { NativeReader.overlongLine(file: display, line: $0.number, bytes: $0.bytes, limit: options.maxRecordBytes) }
                for line in batch.lines {
                    let d = MessagesRows.decode(batch.bytes[line.range], file: display, line: line.number, options: options)
                    switch d.result {
                    case .trajectory(let t, let fixed):
                        r.trajectories.append(t)
                        if fixed { r.cleaned["invalid_utf8_repaired", default: 0] += 1 }
                    case .quarantined(let q): r.quarantined.append(q)
                    }
                    r.dropped.merge(d.dropped, uniquingKeysWith: +)
                    r.cleaned.merge(d.cleaned, uniquingKeysWith: +)
                }
            }
        } catch {
            r.quarantined.append(QuarantineEntry(file: display, reason: "\(error)"))
        }
        return r
    }
}

/// Formats whose records are one per line, each decodable on its own: the engine streams them, caches
/// large files in chunks and decodes batches on every core.
public enum LineFormat: String, Sendable {
    case native
    case openaiMessages = "openai-messages"

    /// Decodes one line; `dropped` and `cleaned` count what the import left out or changed.
    public func decode(_ bytes: ArraySlice<UInt8>, file: String, line: Int, options: ImportOptions) -> MessagesRows.Decoded {
        switch self {
        case .native: return MessagesRows.Decoded(result: NativeReader.decode(bytes, file: file, line: line), dropped: [:], cleaned: [:])
        case .openaiMessages: return MessagesRows.decode(bytes, file: file, line: line, options: options)
        }
    }
}
