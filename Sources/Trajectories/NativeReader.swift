import Foundation

/// The result of decoding one native line.
public enum NativeLineResult: Sendable {
    case trajectory(Trajectory, repairedUTF8: Bool)
    case quarantined(QuarantineEntry)
}

/// Reads the native JSONL format. Decoding is a pure function of the line so that batches can be
/// decoded in parallel; `NativeReader.read` is the simple sequential form.
public enum NativeReader {
    /// Decodes one line. `file` is the path recorded in provenance and quarantine entries.
    public static func decode(_ bytes: ArraySlice<UInt8>, file: String, line: Int) -> NativeLineResult {
        // The byte-level reader takes every well-formed record; anything else (and every error) goes
        // through JSONDecoder, which has the final word.
        if var t = NativeFastDecoder.decode(bytes) {
            if t.source == nil { t.source = Source(format: "native", file: file, line: line) }
            return .trajectory(t, repairedUTF8: false)
        }
        return decodeWithFoundation(bytes, file: file, line: line)
    }

    /// The reference reader: `JSONDecoder` through the `Codable` conformances, with UTF-8 repair.
    public static func decodeWithFoundation(_ bytes: ArraySlice<UInt8>, file: String, line: Int) -> NativeLineResult {
        let repaired = UTF8Repair.repairIfNeeded(bytes)
        let data = repaired.map { Data($0) } ?? Data(bytes)
        do {
            var t = try JSONCoding.decoder.decode(Trajectory.self, from: data)
            if t.source == nil { t.source = Source(format: "native", file: file, line: line) }
            return .trajectory(t, repairedUTF8: repaired != nil)
        } catch {
            var reason = JSONCoding.describe(error)
            if case DecodingError.dataCorrupted(let ctx) = error, ctx.codingPath.isEmpty {
                reason = "invalid JSON: " + JSONShape.diagnose(bytes)
            }
            return .quarantined(QuarantineEntry(file: file, line: line, reason: reason,
                                                excerpt: QuarantineEntry.excerpt(of: bytes)))
        }
    }

    /// The quarantine entry for a line over the record limit.
    public static func overlongLine(file: String, line: Int, bytes: Int, limit: Int) -> QuarantineEntry {
        QuarantineEntry(file: file, line: line,
                        reason: "the line is \(bytes) bytes, over max_record_bytes (\(limit)); it was skipped unread. Split the record, or raise max_record_bytes on the input")
    }

    /// Reads a whole file sequentially (tests and small tools; the engine decodes batches in parallel).
    public static func read(path: String, displayPath: String? = nil,
                            maxRecordBytes: Int = ImportOptions.defaultMaxRecordBytes) throws -> (trajectories: [Trajectory], quarantined: [QuarantineEntry]) {
        let reader = try LineReader(path: path, maxLineBytes: maxRecordBytes)
        var out: [Trajectory] = []
        var bad: [QuarantineEntry] = []
        while let batch = try reader.nextBatch() {
            bad += batch.overlong.map { overlongLine(file: displayPath ?? path, line: $0.number, bytes: $0.bytes, limit: maxRecordBytes) }
            for line in batch.lines {
                switch decode(batch.bytes[line.range], file: displayPath ?? path, line: line.number) {
                case .trajectory(let t, _): out.append(t)
                case .quarantined(let q): bad.append(q)
                }
            }
        }
        return (out, bad)
    }
}

/// Writes native JSONL: one trajectory per line, sorted keys, `\n` endings.
public final class NativeWriter {
    private let handle: FileHandle
    private let encoder = JSONCoding.encoder
    public private(set) var count = 0

    public init(url: URL) throws {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        guard let h = FileHandle(forWritingAtPath: url.path) else {
            throw ReadError.cannotOpen(path: url.path, reason: "cannot create file")
        }
        handle = h
    }

    public func write(_ trajectory: Trajectory) throws {
        var data = try encoder.encode(trajectory)
        data.append(0x0A)
        try handle.write(contentsOf: data)
        count += 1
    }

    public func close() throws {
        try handle.synchronize()
        try handle.close()
    }

    /// Encodes one trajectory as its native line (without the newline).
    public static func line(_ trajectory: Trajectory) throws -> Data {
        try JSONCoding.encoder.encode(trajectory)
    }
}

/// Says what is wrong with text that failed to parse as JSON, for quarantine reasons that help.
public enum JSONShape {
    public static func diagnose(_ bytes: ArraySlice<UInt8>) -> String {
        guard let first = bytes.first(where: { $0 != 0x20 && $0 != 0x09 }) else { return "empty line" }
        if first != UInt8(ascii: "{") {
            if first < 0x20 || first >= 0x80 {
                return String(format: "not a JSON object (starts with byte 0x%02X; binary data?)", first)
            }
            return "not a JSON object (starts with '\(Character(UnicodeScalar(first))))'"
        }
        var depth = 0
        var inString = false
        var escaped = false
        for b in bytes {
            if inString {
                if escaped { escaped = false } else if b == 0x5C { escaped = true } else if b == 0x22 { inString = false }
                continue
            }
            switch b {
            case 0x22: inString = true
            case 0x7B, 0x5B: depth += 1
            case 0x7D, 0x5D: depth -= 1
            default: break
            }
        }
        if inString { return "truncated record: unterminated string at end of line (\(bytes.count) bytes)" }
        if depth > 0 { return "truncated record: \(depth) unclosed bracket(s) at end of line (\(bytes.count) bytes)" }
        if depth < 0 { return "unbalanced brackets: \(-depth) more closing than opening" }
        return "syntax error (e.g. a missing comma, a trailing comma or an unquoted key)"
    }
}
