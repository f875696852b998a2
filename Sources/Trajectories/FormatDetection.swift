import Foundation

/// Decides which reader understands a file by looking at its content, not its name.
public enum FormatDetector {
    /// The detected format name, or nil when no known format matches.
    public static func detect(path: String) throws -> String? {
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw ReadError.cannotOpen(path: path, reason: "permission denied or missing")
        }
        defer { try? h.close() }
        let head = try h.read(upToCount: 64 << 10) ?? Data()
        return detect(head: head)
    }

    public static func detect(head: Data) -> String? {
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
