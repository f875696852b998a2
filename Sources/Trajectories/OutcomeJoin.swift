import Foundation

/// Outcomes kept outside the trajectories (a labels file, an evaluation report), joined by id.
///
/// Accepted side files:
/// - JSONL: `{"id": "...", "status": "success", "reward": 1.0, "detail": "..."}` per line (`resolved: true/false`
///   is accepted for SWE-bench-style reports and maps to success/failure);
/// - CSV with a header naming `id` and at least one of `status`, `reward`, `resolved`.
/// A row that cannot be read is quarantined with its line number; unknown ids are counted.
public struct OutcomeTable: Sendable {
    public struct Entry: Sendable, Hashable {
        public var status: Outcome.Status?
        public var reward: Double?
        public var detail: String?
    }

    public private(set) var entries: [String: Entry] = [:]
    public private(set) var quarantined: [QuarantineEntry] = []
    public let file: String

    public init(path: String, displayPath: String) throws {
        file = displayPath
        let lower = path.lowercased()
        if lower.hasSuffix(".csv") { try loadCSV(path) }
        else if lower.hasSuffix(".json") { try loadHarborResults(path) }
        else { try loadJSONL(path) }
    }

    /// Harbor `result.json` (one trial, or a list of them): `verifier_result.rewards.reward` is the
    /// verifier's pass rate, so 1 is success, 0 failure and anything between partial. The entry is
    /// joined by the trial name, the task name or the result id, whichever the trajectory uses.
    private mutating func loadHarborResults(_ path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReadError.cannotOpen(path: path, reason: "cannot read outcomes file")
        }
        guard let doc = try? JSONCoding.decoder.decode(JSONValue.self, from: data) else {
            quarantined.append(QuarantineEntry(file: file, reason: "invalid JSON: \(JSONShape.diagnose([UInt8](data)[...]))"))
            return
        }
        for (i, trial) in (doc.arrayValue ?? [doc]).enumerated() {
            guard let reward = trial["verifier_result"]?["rewards"]?["reward"]?.doubleValue else {
                quarantined.append(QuarantineEntry(file: file, index: i, reason: "no verifier_result.rewards.reward in this result"))
                continue
            }
            let status: Outcome.Status = reward >= 1 ? .success : (reward <= 0 ? .failure : .partial)
            let entry = Entry(status: status, reward: reward, detail: "harbor verifier reward \(reward)")
            for key in ["trial_name", "task_name", "id"] {
                if let id = trial[key]?.stringValue, entries[id] == nil { entries[id] = entry }
            }
        }
    }

    /// Applies the side file's outcome to `t`. Fields the side file does not state are left as they were.
    public func join(_ t: inout Trajectory) -> Bool {
        guard let e = entries[t.id] else { return false }
        if let s = e.status { t.outcome.status = s }
        if let r = e.reward { t.outcome.reward = r }
        if let d = e.detail { t.outcome.detail = d }
        return true
    }

    private mutating func add(id: String, status: String?, reward: Double?, resolved: Bool?, detail: String?,
                              line: Int, raw: ArraySlice<UInt8>) {
        var entry = Entry(status: nil, reward: reward, detail: detail)
        if let status {
            guard let s = Outcome.Status(rawValue: status.lowercased()) else {
                quarantined.append(QuarantineEntry(file: file, line: line,
                    reason: "unknown status '\(status)' (expected success, failure, partial or unknown)",
                    excerpt: QuarantineEntry.excerpt(of: raw)))
                return
            }
            entry.status = s
        } else if let resolved {
            entry.status = resolved ? .success : .failure
        }
        if entries[id] != nil {
            quarantined.append(QuarantineEntry(file: file, line: line, reason: "duplicate id '\(id)' (the first row is used)",
                                               excerpt: QuarantineEntry.excerpt(of: raw)))
            return
        }
        entries[id] = entry
    }

    private struct Row: Decodable {
        var id: String
        var status: String?
        var reward: Double?
        var resolved: Bool?
        var detail: String?
    }

    private mutating func loadJSONL(_ path: String) throws {
        let reader = try LineReader(path: path)
        let decoder = JSONCoding.decoder
        while let batch = try reader.nextBatch() {
            for line in batch.lines {
                let raw = batch.bytes[line.range]
                do {
                    let row = try decoder.decode(Row.self, from: Data(raw))
                    add(id: row.id, status: row.status, reward: row.reward, resolved: row.resolved, detail: row.detail,
                        line: line.number, raw: raw)
                } catch {
                    quarantined.append(QuarantineEntry(file: file, line: line.number, reason: JSONCoding.describe(error),
                                                       excerpt: QuarantineEntry.excerpt(of: raw)))
                }
            }
        }
    }

    private mutating func loadCSV(_ path: String) throws {
        let reader = try LineReader(path: path)
        var header: [String]?
        while let batch = try reader.nextBatch() {
            for line in batch.lines {
                let raw = batch.bytes[line.range]
                let fields = Self.splitCSV(String(decoding: raw, as: UTF8.self))
                guard let h = header else {
                    header = fields.map { $0.lowercased().trimmingCharacters(in: .whitespaces) }
                    if !header!.contains("id") {
                        quarantined.append(QuarantineEntry(file: file, line: line.number,
                            reason: "CSV header has no 'id' column; every row will be ignored"))
                    }
                    continue
                }
                func field(_ name: String) -> String? {
                    guard let i = h.firstIndex(of: name), i < fields.count else { return nil }
                    let v = fields[i].trimmingCharacters(in: .whitespaces)
                    return v.isEmpty ? nil : v
                }
                guard let id = field("id") else {
                    quarantined.append(QuarantineEntry(file: file, line: line.number, reason: "row has no id",
                                                       excerpt: QuarantineEntry.excerpt(of: raw)))
                    continue
                }
                var reward: Double?
                if let r = field("reward") {
                    guard let v = Double(r), v.isFinite else {
                        quarantined.append(QuarantineEntry(file: file, line: line.number, reason: "reward '\(r)' is not a number",
                                                           excerpt: QuarantineEntry.excerpt(of: raw)))
                        continue
                    }
                    reward = v
                }
                let resolved = field("resolved").flatMap { Bool($0.lowercased()) }
                add(id: id, status: field("status"), reward: reward, resolved: resolved, detail: field("detail"),
                    line: line.number, raw: raw)
            }
        }
    }

    /// Splits one CSV line (RFC 4180 quoting; fields with embedded newlines are not supported).
    static func splitCSV(_ line: String) -> [String] {
        var fields: [String] = []
        var cur = ""
        var quoted = false
        var chars = line.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? chars.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let n = chars.next() {
                        if n == "\"" { cur.append("\"") } else { quoted = false; pending = n }
                    } else { quoted = false }
                } else { cur.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { fields.append(cur); cur = "" }
            else { cur.append(c) }
        }
        fields.append(cur)
        return fields
    }
}
