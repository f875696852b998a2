import BoundedYAML
import Foundation
import Yams

/// What reading one file in a foreign format produced: trajectories, quarantined records, and a count
/// of everything deliberately left out (images, thinking blocks, progress noise…), so that nothing
/// disappears without a trace.
public struct ImportResult: Sendable {
    public var format: String
    public var trajectories: [Trajectory] = []
    public var quarantined: [QuarantineEntry] = []
    /// Items dropped on purpose, by kind.
    public var dropped: [String: Int] = [:]
    /// Text that was changed to make it safe to keep (truncated observations, ANSI escapes…), by kind.
    public var cleaned: [String: Int] = [:]

    public init(format: String) { self.format = format }

    mutating func drop(_ kind: String, _ n: Int = 1) { if n > 0 { dropped[kind, default: 0] += n } }
    mutating func merge(_ other: ImportResult) {
        trajectories += other.trajectories
        quarantined += other.quarantined
        dropped.merge(other.dropped, uniquingKeysWith: +)
        cleaned.merge(other.cleaned, uniquingKeysWith: +)
    }
}

/// Options every importer honours.
public struct ImportOptions: Sendable, Hashable {
    /// Observations longer than this (in UTF-8 bytes) keep their head and tail around a marker.
    public var maxObservationBytes: Int
    /// Keep model thinking blocks as thoughts (dropped and counted by default).
    public var keepThinking: Bool

    /// The largest record: a JSON Lines line, or a whole JSON/YAML document. Longer lines are
    /// quarantined unread; larger documents are refused.
    public var maxRecordBytes: Int
    public static let defaultMaxRecordBytes = 256 << 20

    public init(maxObservationBytes: Int = 64 << 10, keepThinking: Bool = false, maxRecordBytes: Int = defaultMaxRecordBytes) {
        self.maxObservationBytes = maxObservationBytes
        self.keepThinking = keepThinking
        self.maxRecordBytes = maxRecordBytes
    }
}

/// A file's content, parsed once: a whole JSON (or YAML) document, or JSON Lines.
public enum ParsedFile: Sendable {
    case document(JSONValue)
    case lines([(line: Int, value: JSONValue)], bad: [QuarantineEntry])
}

public enum ImportError: Error, CustomStringConvertible, Sendable {
    case unreadable(file: String, reason: String)
    /// `seen`: what the file holds, in a few words ("JSON lines whose records have keys a, b, c").
    case unknownFormat(file: String, tried: [String], seen: String?)
    case notThisFormat(file: String, format: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let f, let r): return "\(f): cannot read: \(r)"
        case .unknownFormat(let f, let tried, let seen):
            return "\(f): not a trajectory format skillforge knows\(seen.map { " (it holds \($0))" } ?? "") — tried: \(tried.joined(separator: ", ")); name one with --from / format:, or convert the file first"
        case .notThisFormat(let f, let format, let r): return "\(f): is not \(format): \(r)"
        }
    }
}

enum FileParser {
    /// Parses `path`: YAML by extension, JSON when the whole file is one value, else JSON Lines
    /// (each bad line quarantined with its number).
    static func parse(path: String, display: String, maxRecordBytes: Int = ImportOptions.defaultMaxRecordBytes) throws -> ParsedFile {
        try parseCounting(path: path, display: display, maxRecordBytes: maxRecordBytes).file
    }

    /// Parses and reports how many places had invalid UTF-8 replaced (the whole document counts once).
    static func parseCounting(path: String, display: String,
                              maxRecordBytes: Int = ImportOptions.defaultMaxRecordBytes) throws -> (file: ParsedFile, repairs: Int) {
        var repairs = 0
        let file = try parseFile(path: path, display: display, maxRecordBytes: maxRecordBytes, repairs: &repairs)
        return (file, repairs)
    }

    private static func parseFile(path: String, display: String, maxRecordBytes: Int, repairs: inout Int) throws -> ParsedFile {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ImportError.unreadable(file: display, reason: (error as NSError).localizedDescription)
        }
        return try parseData(data, path: path, display: display, maxRecordBytes: maxRecordBytes, repairs: &repairs)
    }

    /// Parses file content already in memory; `path` decides YAML by its extension. A JSON Lines line
    /// over `maxRecordBytes` is quarantined; a JSON or YAML document over it is refused.
    static func parseData(_ data: Data, path: String, display: String,
                          maxRecordBytes: Int = ImportOptions.defaultMaxRecordBytes, repairs: inout Int) throws -> ParsedFile {
        let lower = path.lowercased()
        func tooLarge() -> ImportError {
            .unreadable(file: display, reason: "the document is \(data.count) bytes, over max_record_bytes (\(maxRecordBytes)); raise max_record_bytes on the input, or convert it to JSON Lines")
        }
        if lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") {
            if data.count > maxRecordBytes { throw tooLarge() }
            let text = String(decoding: data, as: UTF8.self)
            do {
                guard let any = try BoundedYAML.load(text) else { return .document(.null) }
                return .document(JSONValue(any: any))
            } catch {
                throw ImportError.notThisFormat(file: display, format: "YAML", reason: "\(error)")
            }
        }
        let bytes = [UInt8](data)
        let first = bytes.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 && $0 != 0xEF && $0 != 0xBB && $0 != 0xBF }
        if (first == UInt8(ascii: "[") || first == UInt8(ascii: "{")) && data.count > maxRecordBytes && !isLikelyJSONL(bytes) {
            throw tooLarge()
        }
        if (first == UInt8(ascii: "[") || first == UInt8(ascii: "{")) && data.count <= maxRecordBytes {
            let repaired = UTF8Repair.repairIfNeeded(bytes[...])
            let fixed = repaired.map { Data($0) } ?? data
            if let v = try? JSONCoding.decoder.decode(JSONValue.self, from: fixed), !(isLikelyJSONL(bytes) && v.objectValue != nil) {
                if repaired != nil { repairs += 1 }
                return .document(v)
            }
        }
        var values: [(Int, JSONValue)] = []
        var bad: [QuarantineEntry] = []
        var lineNo = 0
        var start = 0
        func take(_ end: Int) {
            lineNo += 1
            var slice = bytes[start..<end]
            if slice.last == 0x0D { slice = slice.dropLast() }
            start = end + 1
            if slice.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
            if slice.count > maxRecordBytes {
                bad.append(NativeReader.overlongLine(file: display, line: lineNo, bytes: slice.count, limit: maxRecordBytes))
                return
            }
            let repaired = UTF8Repair.repairIfNeeded(slice)
            let fixed = repaired.map { Data($0) } ?? Data(slice)
            if let v = try? JSONCoding.decoder.decode(JSONValue.self, from: fixed) {
                if repaired != nil { repairs += 1 }
                values.append((lineNo, v))
            } else {
                bad.append(QuarantineEntry(file: display, line: lineNo, reason: "invalid JSON: " + JSONShape.diagnose(slice),
                                           excerpt: QuarantineEntry.excerpt(of: slice)))
            }
        }
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x0A { take(i) }
            i += 1
        }
        if start < bytes.count { take(bytes.count) }
        return .lines(values.map { (line: $0.0, value: $0.1) }, bad: bad)
    }

    /// A file whose first line is itself a complete object is JSON Lines even if it has one line.
    static func isLikelyJSONL(_ bytes: [UInt8]) -> Bool {
        guard let nl = bytes.firstIndex(of: 0x0A) else { return false }
        let rest = bytes[(nl + 1)...]
        return rest.contains { $0 == UInt8(ascii: "{") }
            && (try? JSONCoding.decoder.decode(JSONValue.self, from: Data(bytes[..<nl]))) != nil
    }
}

extension JSONValue {
    /// Converts what Yams or JSONSerialization produce.
    init(any: Any) {
        switch any {
        case let s as String: self = .string(s)
        case let b as Bool: self = .bool(b)
        case let i as Int: self = .int(Int64(i))
        case let d as Double: self = .double(d)
        case let a as [Any]: self = .array(a.map(JSONValue.init(any:)))
        case let o as [String: Any]: self = .object(o.mapValues(JSONValue.init(any:)))
        case let o as [AnyHashable: Any]:
            var out: [String: JSONValue] = [:]
            for (k, v) in o { out["\(k.base)"] = JSONValue(any: v) }
            self = .object(out)
        case let date as Date: self = .string(ISO8601DateFormatter().string(from: date))
        case let data as Data: self = .string(data.base64EncodedString())
        default: self = .null
        }
    }

    /// Text of a value that may be a string, a list of content parts or an object with `text`.
    var text: String? {
        switch self {
        case .string(let s): return s
        case .array(let parts):
            let texts = parts.compactMap { p -> String? in
                if let s = p.stringValue { return s }
                if let t = p["text"]?.stringValue { return t }
                return nil
            }
            return texts.isEmpty ? nil : texts.joined(separator: "\n")
        case .object(let o): return o["text"]?.stringValue ?? o["content"]?.text
        default: return nil
        }
    }

    /// A JSON value that may arrive as a string holding JSON (possibly twice encoded).
    var decodedIfString: JSONValue {
        var v = self
        for _ in 0..<2 {
            guard case .string(let s) = v else { break }
            // Only text that opens like JSON (after white space) is tried.
            guard let first = s.utf8.first(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) }),
                  first == UInt8(ascii: "{") || first == UInt8(ascii: "[") || first == UInt8(ascii: "\""),
                  let parsed = JSONValue.parse(ArraySlice(s.utf8)) else { break }
            v = parsed
        }
        return v
    }
}

/// Makes foreign text safe to keep: CRLF normalised, ANSI escapes stripped, embedded base64 images
/// and oversized observations bounded. Each change is counted in the import result.
struct TextCleaner {
    let options: ImportOptions

    func clean(_ text: String, observation: Bool, into result: inout ImportResult) -> String {
        var s = text
        // One pass over the bytes says which cleanings can apply (most texts need none).
        var hasCR = false, hasESC = false, hasDataURI = false
        s.utf8.withContiguousStorageIfAvailable { b in
            let n = b.count
            guard let base = b.baseAddress else { return }
            let raw = UnsafeRawPointer(base)
            var i = 0
            while i < n {
                // Eight bytes at a time while none is CR, ESC or `;` (the lowest flagged byte is a real one).
                if i + 8 <= n {
                    let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
                    let cr = w ^ 0x0D0D_0D0D_0D0D_0D0D, esc = w ^ 0x1B1B_1B1B_1B1B_1B1B, semi = w ^ 0x3B3B_3B3B_3B3B_3B3B
                    let flags = ((cr &- ones) & ~cr | (esc &- ones) & ~esc | (semi &- ones) & ~semi) & highs
                    if flags == 0 { i += 8; continue }
                    i += flags.trailingZeroBitCount >> 3
                }
                switch b[i] {
                case 0x0D: hasCR = true
                case 0x1B: hasESC = true
                case 0x3B where !hasDataURI: hasDataURI = b[(i + 1)...].starts(with: "base64,".utf8)
                default: break
                }
                i += 1
            }
        } ?? {
            hasCR = s.utf8.contains(0x0D); hasESC = s.utf8.contains(0x1B); hasDataURI = s.contains(";base64,")
        }()
        if hasCR {
            s = Self.normaliseLineEnds(s)
            result.cleaned["line_endings", default: 0] += 1
        }
        if hasESC {
            let before = s
            s = Self.stripANSI(s)
            if s != before { result.cleaned["ansi_escapes", default: 0] += 1 }
        }
        if hasDataURI {
            let (t, n) = Self.dropDataURIs(s)
            s = t
            result.drop("base64_image", n)
        }
        if observation, s.utf8.count > options.maxObservationBytes {
            s = Self.truncate(s, limit: options.maxObservationBytes)
            result.cleaned["truncated_observation", default: 0] += 1
        }
        return s
    }

    /// CRLF and lone CR (progress bars) become LF, byte by byte.
    static func normaliseLineEnds(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        var previousCR = false
        for c in s.utf8 {
            if c == 0x0D { out.append(0x0A); previousCR = true; continue }
            if c == 0x0A && previousCR { previousCR = false; continue }
            previousCR = false
            out.append(c)
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func stripANSI(_ s: String) -> String {
        let b = Array(s.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            let c = b[i]
            i += 1
            guard c == 0x1B else { out.append(c); continue }
            guard i < b.count else { break }
            let n = b[i]
            i += 1
            if n == UInt8(ascii: "[") {  // CSI: parameters then a final byte in @…~
                while i < b.count { let x = b[i]; i += 1; if (0x40...0x7E).contains(x) { break } }
            } else if n == UInt8(ascii: "]") {  // OSC: until BEL or ESC \
                while i < b.count { let x = b[i]; i += 1; if x == 0x07 || x == 0x1B { break } }
            } else {
                // A two-character escape: the character after ESC goes with it, whole.
                while i < b.count, b[i] & 0xC0 == 0x80 { i += 1 }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func dropDataURIs(_ s: String) -> (String, Int) {
        guard let re = try? NSRegularExpression(pattern: #"data:[a-zA-Z0-9.+/-]+;base64,[A-Za-z0-9+/=]{16,}"#) else { return (s, 0) }
        let ns = s as NSString
        let matches = re.matches(in: s, range: NSRange(location: 0, length: ns.length))
        guard !matches.isEmpty else { return (s, 0) }
        var out = ""
        var cursor = 0
        for m in matches {
            out += ns.substring(with: NSRange(location: cursor, length: m.range.location - cursor))
            out += "[image dropped: \(m.range.length) base64 characters]"
            cursor = m.range.location + m.range.length
        }
        out += ns.substring(from: cursor)
        return (out, matches.count)
    }

    /// Keeps the head and the tail (where errors and results usually are) around a marker.
    static func truncate(_ s: String, limit: Int) -> String {
        let bytes = Array(s.utf8)
        let head = limit * 2 / 3, tail = limit / 3
        let headText = String(decoding: bytes[..<head], as: UTF8.self)
        let tailText = String(decoding: bytes[(bytes.count - tail)...], as: UTF8.self)
        return headText + "\n[… \(bytes.count - head - tail) bytes truncated by skillforge …]\n" + tailText
    }
}

extension String {
    /// `trimmingCharacters(in: .whitespacesAndNewlines)`, without copying the string through Foundation
    /// when neither end is white space (nearly every text an importer reads).
    func trimmedOfWhitespace() -> String {
        let ws = CharacterSet.whitespacesAndNewlines
        guard let first = unicodeScalars.first, let last = unicodeScalars.last else { return self }
        if !ws.contains(first) && !ws.contains(last) { return self }
        return trimmingCharacters(in: ws)
    }

    /// Whether the text is empty or white space only.
    var isBlank: Bool {
        let ws = CharacterSet.whitespacesAndNewlines
        return unicodeScalars.allSatisfy { ws.contains($0) }
    }
}
