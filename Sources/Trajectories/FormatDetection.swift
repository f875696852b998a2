import Foundation

/// Decides which reader understands a file by looking at its content, not its name.
public enum FormatDetector {
    /// The most a line-format check reads of a file: 64 KiB, more (up to 4 MiB) while no whole line is in it.
    public static let maxHeadBytes = 4 << 20

    /// The detected line format (`native`, `openai-messages`), or nil when the file's first lines are not
    /// one. Reads at most `maxHeadBytes`.
    public static func detect(path: String) throws -> String? {
        detect(head: try head(path: path))
    }

    /// The start of a file: 64 KiB, or up to `maxHeadBytes` when no line ends in the first 64 KiB.
    public static func head(path: String) throws -> Data {
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw ReadError.cannotOpen(path: path, reason: "permission denied or missing")
        }
        defer { try? h.close() }
        var head = try h.read(upToCount: 64 << 10) ?? Data()
        while head.count < maxHeadBytes, !head.contains(0x0A), let more = try h.read(upToCount: min(1 << 20, maxHeadBytes - head.count)), !more.isEmpty {
            head.append(more)
        }
        return head
    }

    public static func detect(head: Data) -> String? {
        if let native = detectNative(head: head) { return native }
        // OpenAI/TRL `messages` rows: most of the first whole JSON lines (up to eight) are conversations (a
        // junk line among them is quarantined when the file is read).
        var rows = 0, others = 0
        for line in wholeLines(head).prefix(8) {
            guard let v = try? JSONCoding.decoder.decode(JSONValue.self, from: Data(line)) else { continue }
            if MessagesRows.isRow(v) { rows += 1 } else { others += 1 }
        }
        return rows > 0 && rows > others ? MessagesRows.format : nil
    }

    /// The complete, non-blank lines of a file's head (a last line cut by the head's end is left out
    /// unless the head is the whole file).
    static func wholeLines(_ head: Data) -> [Data] {
        var lines = head.split(separator: 0x0A, omittingEmptySubsequences: true)
        if head.last != 0x0A, !lines.isEmpty, head.count >= 64 << 10 { lines.removeLast() }
        return lines.filter { !$0.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D } }.map { Data($0) }
    }

    /// A JSON Lines file's first whole lines as a parsed file (nil when the head is not JSON Lines: fewer
    /// than two whole lines that are JSON objects).
    public static func jsonLinesPrefix(_ head: Data) -> ParsedFile? {
        var values: [(line: Int, value: JSONValue)] = []
        var number = 0
        for raw in head.split(separator: 0x0A, omittingEmptySubsequences: false) {
            number += 1
            guard values.count < 64 else { break }
            if raw.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            guard let v = try? JSONCoding.decoder.decode(JSONValue.self, from: Data(raw)) else {
                if values.isEmpty { return nil }
                continue
            }
            values.append((number, v))
        }
        guard values.count >= 2, values.allSatisfy({ $0.value.objectValue != nil }) else { return nil }
        return .lines(values, bad: [])
    }

    /// What a file holds, in a few words, for an error that says why it was refused.
    public static func describe(head: Data) -> String {
        if let prefix = jsonLinesPrefix(head) { return describe(prefix) }
        let text = String(decoding: head.prefix(4096), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("{") || text.hasPrefix("[") { return "a JSON document" }
        return text.isEmpty ? "nothing (the file is empty)" : "text that is not JSON"
    }

    /// What a parsed file holds: the keys its records have.
    public static func describe(_ file: ParsedFile) -> String {
        func keys(_ values: [JSONValue]) -> String {
            var seen: [String] = []
            for v in values.prefix(20) { for k in (v.objectValue ?? [:]).keys.sorted() where !seen.contains(k) { seen.append(k) } }
            return seen.prefix(10).joined(separator: ", ") + (seen.count > 10 ? ", …" : "")
        }
        switch file {
        case .lines(let ls, _):
            let k = keys(ls.map(\.value))
            return k.isEmpty ? "JSON lines that are not objects" : "JSON lines whose records have keys \(k)"
        case .document(let v):
            if let o = v.objectValue { return "a JSON object with keys \(keys([.object(o)]))" }
            if let a = v.arrayValue { return "a JSON array of \(a.count) item(s)" + (a.first?.objectValue != nil ? " with keys \(keys(a))" : "") }
            return "a JSON value that is not an object or array"
        }
    }

    static func detectNative(head: Data) -> String? {
        // Native: JSONL whose records are trajectory objects. The first lines may be malformed (they
        // are quarantined later), so several are looked at.
        let text = String(decoding: head, as: UTF8.self)
        var looked = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).prefix(20) {
            let trimmed = line.drop { $0 == " " || $0 == "\t" || $0 == "\u{FEFF}" }
            guard trimmed.first == "{" else { continue }
            looked += 1
            if trimmed.contains("\"\(nativeSchemaTag)\"") { return "native" }
            if trimmed.contains("\"id\"") && trimmed.contains("\"task\"") && trimmed.contains("\"steps\"") { return "native" }
            if looked >= 5 { break }
        }
        return nil
    }
}
