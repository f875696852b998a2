import Foundation

/// Claude Code session JSONL (or `{"loglines": [...]}` exports). The main line is followed through
/// `parentUuid` from the last main-line record back to the root; sidechains (sub-agents), progress
/// records, snapshots and meta messages are dropped and counted; compaction summaries go to `meta`.
/// One trajectory per session id.
struct ClaudeCodeImporter: FormatImporter {
    let name = "claude-code"

    static func records(_ file: ParsedFile) -> [(Int?, JSONValue)] {
        switch file {
        case .lines(let ls, _): return ls.map { ($0.line, $0.value) }
        case .document(let v):
            if let logs = v["loglines"]?.arrayValue { return logs.enumerated().map { (nil, $0.element) } }
            return []
        }
    }

    /// A session file: some user/assistant records with a `message.role`, and most records typed. A few
    /// junk lines (a bare string or number, an object with a misspelt key) do not make it another format:
    /// they are quarantined one by one.
    func recognizes(_ file: ParsedFile, path: String) -> Bool {
        let recs = Self.records(file)
        guard !recs.isEmpty else { return false }
        let typed = recs.filter { $0.1["type"]?.stringValue != nil }.count
        return recs.contains { r in
            ["user", "assistant"].contains(r.1["type"]?.stringValue ?? "") && r.1["message"]?["role"] != nil
        } && typed * 2 > recs.count
    }

    static let noise: Set<String> = ["progress", "file-history-snapshot", "queue-operation", "system", "attachment"]

    /// `{"type": "system", "subtype": "compact_boundary"}`: where the context was compacted. It carries no
    /// message but links the records after it (through its `uuid`) to those before (`logicalParentUuid`).
    static func isCompactBoundary(_ rec: JSONValue) -> Bool {
        rec["type"]?.stringValue == "system" && rec["subtype"]?.stringValue == "compact_boundary"
    }

    /// Why a record that is not a user/assistant message with a `message` is quarantined.
    static func junkReason(_ rec: JSONValue) -> String {
        switch rec {
        case .object(let o):
            if let type = o["type"]?.stringValue {
                return "record of type '\(type)' has no message (keys: \(o.keys.sorted().joined(separator: ", ")))"
            }
            return "record has no type (keys: \(o.keys.sorted().joined(separator: ", ")))"
        case .string: return "line is a JSON string, not a session record"
        case .int, .double: return "line is a JSON number, not a session record"
        case .bool: return "line is a JSON boolean, not a session record"
        case .null: return "line is JSON null, not a session record"
        case .array: return "line is a JSON array, not a session record"
        }
    }

    func importFile(_ file: ParsedFile, path: String, display: String, options: ImportOptions) -> ImportResult {
        var total = ImportResult(format: name)
        let all = Self.records(file)
        var summaries: [String] = []
        var bySession: [String: [(Int?, Int, JSONValue)]] = [:]
        var sessionOrder: [String] = []
        for (i, (line, rec)) in all.enumerated() {
            let type = rec["type"]?.stringValue ?? ""
            if type == "summary" {
                if let s = rec["summary"]?.stringValue { summaries.append(s) }
                continue
            }
            let boundary = Self.isCompactBoundary(rec)
            if Self.noise.contains(type) && !boundary { total.drop("record_\(type)"); continue }
            guard boundary || ((type == "user" || type == "assistant") && rec["message"] != nil) else {
                total.quarantined.append(QuarantineEntry(file: display, line: line, index: line == nil ? i : nil,
                                                         reason: Self.junkReason(rec)))
                continue
            }
            if rec["isSidechain"]?.boolValue == true { total.drop("sidechain_record"); continue }
            if rec["isMeta"]?.boolValue == true { total.drop("meta_message"); continue }
            let session = rec["sessionId"]?.stringValue ?? Importers.stem(path)
            if bySession[session] == nil { sessionOrder.append(session) }
            bySession[session, default: []].append((line, i, rec))
        }
        for session in sessionOrder {
            let recs = Self.mainLine(bySession[session]!, dropped: &total)
            var c = Conversation(format: name, options: options)
            var first: (Int?, Int)?
            for (line, i, rec) in recs {
                if Self.isCompactBoundary(rec) { total.drop("compact_boundary"); continue }
                if first == nil { first = (line, i) }
                let msg = rec["message"]!
                if rec["isCompactSummary"]?.boolValue == true {
                    summaries.append(msg["content"]?.text ?? "")
                    continue
                }
                ChatDialect.feedAnthropic(role: msg["role"]?.stringValue ?? rec["type"]!.stringValue!, content: msg["content"], into: &c)
            }
            var meta: [String: JSONValue] = ["session_id": .string(session)]
            if !summaries.isEmpty { meta["summaries"] = .array(summaries.map(JSONValue.string)) }
            let src = Source(format: name, file: display, line: first?.0, offset: first?.0 == nil ? first?.1 : nil)
            let made = c.trajectory(id: session, source: src, meta: meta)
            var r = c.result
            if let t = made { r.trajectories = [t] }
            else { r.quarantined.append(QuarantineEntry(file: display, reason: "session \(session) has no user message")) }
            total.merge(r)
        }
        return total
    }

    /// Records on the path from the last record back to the root through `parentUuid`; files without
    /// uuids keep their order. Records off the path (abandoned branches) are counted. A compaction
    /// boundary has no parent of its own: the walk goes on from its `logicalParentUuid` (the last record
    /// before compaction), or, when that record was carried over past the boundary (a preserved segment),
    /// from the last preserved record still before it; a boundary with neither goes on from the record
    /// just before it in the file. Records before a compaction are part of the session.
    static func mainLine(_ recs: [(Int?, Int, JSONValue)], dropped: inout ImportResult) -> [(Int?, Int, JSONValue)] {
        let hasLinks = recs.contains { $0.2["parentUuid"]?.stringValue != nil }
        guard hasLinks else { return recs }
        var byID: [String: Int] = [:]
        for (k, r) in recs.enumerated() { if let u = r.2["uuid"]?.stringValue { byID[u] = k } }
        var path: [Int] = []
        var seen = Set<Int>()
        var cur: Int? = recs.indices.last
        while let k = cur, seen.insert(k).inserted {
            path.append(k)
            let rec = recs[k].2
            if isCompactBoundary(rec) {
                let preserved = rec["compactMetadata"]?["preservedMessages"]?["uuids"]?.arrayValue?.compactMap(\.stringValue) ?? []
                let candidates = [rec["logicalParentUuid"]?.stringValue].compactMap { $0 } + preserved.reversed()
                cur = candidates.lazy.compactMap { byID[$0] }.first { !seen.contains($0) }
                    ?? (k > 0 ? (0..<k).reversed().first { !seen.contains($0) && !isCompactBoundary(recs[$0].2) } : nil)
            } else {
                cur = rec["parentUuid"]?.stringValue.flatMap { byID[$0] }
            }
        }
        // Roots that are not reached by links (a record whose parent was a dropped record) keep order.
        let onPath = Set(path)
        let orphans = recs.indices.filter { !onPath.contains($0) && recs[$0].2["parentUuid"]?.stringValue == nil && !isCompactBoundary(recs[$0].2) }
        let keep = Set(path).union(orphans.filter { $0 < (path.last ?? 0) })
        dropped.drop("off_main_line_record", recs.count - keep.count)
        return recs.indices.filter(keep.contains).map { recs[$0] }
    }
}

/// ShareGPT / LLaMA-Factory records: `conversations` (or `messages`) with `from`/`value` (or
/// `role`/`content`); `function_call` values are `{"name", "arguments"}` JSON; `observation` answers the
/// last call; `tools` may be a JSON string. One trajectory per record.
struct ShareGPTImporter: FormatImporter {
    let name = "sharegpt"

    static func turns(_ rec: JSONValue) -> [JSONValue]? {
        let list = rec["conversations"]?.arrayValue ?? rec["messages"]?.arrayValue
        guard let list, let first = list.first, first["from"] != nil || (first["role"] != nil && first["content"] != nil) else { return nil }
        if first["role"] != nil && rec["conversations"] == nil {
            // OpenAI-style `messages` lists are another format; ShareGPT role lists use user/assistant/function.
            return list.contains { ["function_call", "observation"].contains($0["role"]?.stringValue ?? "") } ? list : nil
        }
        return list
    }

    func recognizes(_ file: ParsedFile, path: String) -> Bool {
        Importers.objects(file).prefix(20).contains { Self.turns($0) != nil }
    }

    func importFile(_ file: ParsedFile, path: String, display: String, options: ImportOptions) -> ImportResult {
        var total = ImportResult(format: name)
        let stem = Importers.stem(path)
        let rows = Importers.rows(file)
        for (i, (line, rec)) in rows.enumerated() {
            guard let turns = Self.turns(rec) else {
                total.quarantined.append(QuarantineEntry(file: display, line: line, index: line == nil ? i : nil,
                                                         reason: "record has no conversations list"))
                continue
            }
            var c = Conversation(format: name, options: options)
            if rec["system"] != nil { c.result.drop("system_prompt") }
            for turn in turns {
                let role = turn["from"]?.stringValue ?? turn["role"]?.stringValue ?? ""
                let value = turn["value"]?.text ?? turn["content"]?.text ?? ""
                switch role {
                case "human", "user": c.user(value)
                case "gpt", "assistant": c.assistant(value)
                case "function_call":
                    let call = JSONValue.string(value).decodedIfString
                    let args = call["arguments"]?.decodedIfString ?? .object([:])
                    c.call(id: nil, tool: call["name"]?.stringValue ?? "unknown", input: args, command: args["command"]?.stringValue)
                case "observation", "tool", "function": c.result(id: nil, content: value)
                case "system": c.result.drop("system_prompt")
                default: c.result.drop("unknown_role")
                }
            }
            var meta: [String: JSONValue] = [:]
            if let tools = rec["tools"] { meta["tools"] = tools.decodedIfString }
            let src = Source(format: name, file: display, line: line, offset: line == nil ? i : nil)
            total.merge(c.rowResult(id: "\(stem)-\(i)", source: src, meta: meta, line: line, index: i, missingTask: "conversation has no human turn"))
        }
        return total
    }
}
