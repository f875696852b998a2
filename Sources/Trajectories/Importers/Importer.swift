import Foundation

/// One foreign trajectory format.
public protocol FormatImporter: Sendable {
    /// The name used in `format:` and `--from`.
    var name: String { get }
    /// True when the parsed content has this format's shape (detection is by content, not extension).
    func recognizes(_ file: ParsedFile, path: String) -> Bool
    func importFile(_ file: ParsedFile, path: String, display: String, options: ImportOptions) -> ImportResult
}

/// The registry of importers and the entry point for reading any supported file.
public enum Importers {
    /// In detection order: the most specific shapes first.
    public static let all: [any FormatImporter] = [
        NativeImporter(), SparkImporter(), OpenHandsOutputImporter(), ClaudeCodeImporter(), ATIFImporter(),
        SWEAgentImporter(), MiniSWEAgentImporter(), GeminiCLIImporter(), OpenHandsEventsImporter(),
        LlamaFactoryImporter(), MessagesRowsImporter(), ShareGPTImporter(), APIExchangeImporter(dialect: nil),
    ]

    /// Importers that can only be chosen by name (they narrow a detected format to one dialect).
    static let explicitOnly: [any FormatImporter] = APIExchangeImporter.Dialect.allCases.map { APIExchangeImporter(dialect: $0) }

    public static var names: [String] { (all + explicitOnly).map(\.name) }

    public static func named(_ name: String) -> (any FormatImporter)? { (all + explicitOnly).first { $0.name == name } }

    /// Which format a file is in, or nil when none recognises it. JSON Lines files are judged by their
    /// first lines only (at most `FormatDetector.maxHeadBytes`), so refusing one costs the same whatever
    /// its size; JSON and YAML documents are parsed whole (within `max_record_bytes`).
    public static func detect(path: String, display: String) throws -> String? {
        var read = 0
        return try detect(path: path, display: display, bytesRead: &read)
    }

    /// `detect`, counting the bytes it read (a test shows that refusing a large file reads only its head).
    public static func detect(path: String, display: String, bytesRead: inout Int) throws -> String? {
        let head = try FormatDetector.head(path: path)
        bytesRead += head.count
        if let line = FormatDetector.detect(head: head) { return line }
        if let prefix = FormatDetector.jsonLinesPrefix(head) {
            return all.first { $0.recognizes(prefix, path: path) }?.name
        }
        bytesRead += Int(fileSize(atPath: path) ?? 0)
        let parsed = try FileParser.parse(path: path, display: display)
        return all.first { $0.recognizes(parsed, path: path) }?.name
    }

    /// Imports `path` as `format` (`auto` detects). Throws when the file cannot be read or, with
    /// `auto`, no format matches; record-level problems are quarantined in the result instead.
    public static func importFile(path: String, display: String, format: String = "auto",
                                  options: ImportOptions = ImportOptions()) throws -> ImportResult {
        // Line formats are streamed by their own readers; the cheap head check avoids parsing them twice.
        let line = format == "auto" ? (try? FormatDetector.detect(path: path)) ?? nil : format
        if line == "native" {
            return NativeImporter().importNative(path: path, display: display, maxRecordBytes: options.maxRecordBytes)
        }
        if line == MessagesRows.format {
            return MessagesRowsImporter().importFile(.lines([], bad: []), path: path, display: display, options: options)
        }
        if format == "auto", let head = try? FormatDetector.head(path: path), let prefix = FormatDetector.jsonLinesPrefix(head),
           !all.contains(where: { $0.recognizes(prefix, path: path) }) {
            throw ImportError.unknownFormat(file: display, tried: all.map(\.name), seen: FormatDetector.describe(head: head))
        }
        let (parsed, repairs) = try FileParser.parseCounting(path: path, display: display, maxRecordBytes: options.maxRecordBytes)
        return try importParsed(parsed, repairs: repairs, path: path, display: display, format: format, options: options)
    }

    /// Imports file content held in memory; `name` stands for the file (its extension selects YAML,
    /// its stem names trajectories without ids). The same rules as `importFile`, except that files beside
    /// the input (a SPARK run's attempts.json) are not read.
    public static func importData(_ data: Data, name: String, format: String = "auto",
                                  options: ImportOptions = ImportOptions()) throws -> ImportResult {
        var repairs = 0
        let parsed = try FileParser.parseData(data, path: name, display: name, maxRecordBytes: options.maxRecordBytes, repairs: &repairs)
        let nativeHead: Bool = {
            guard format == "auto", case .lines(let ls, _) = parsed, let first = ls.first?.value else { return false }
            return first["schema"]?.stringValue == nativeSchemaTag
        }()
        if format == "native" || nativeHead {
            var r = ImportResult(format: "native")
            var line = 0
            for raw in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
                line += 1
                if raw.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                if raw.count > options.maxRecordBytes {
                    r.quarantined.append(NativeReader.overlongLine(file: name, line: line, bytes: raw.count, limit: options.maxRecordBytes))
                    continue
                }
                switch NativeReader.decode(ArraySlice(raw), file: name, line: line) {
                case .trajectory(let t, _): r.trajectories.append(t)
                case .quarantined(let q): r.quarantined.append(q)
                }
            }
            return r
        }
        return try importParsed(parsed, repairs: repairs, path: name, display: name, format: format, options: options)
    }

    static func importParsed(_ parsed: ParsedFile, repairs: Int, path: String, display: String, format: String,
                             options: ImportOptions) throws -> ImportResult {
        let importer: any FormatImporter
        if format == "auto" {
            guard let found = all.first(where: { $0.recognizes(parsed, path: path) }) else {
                throw ImportError.unknownFormat(file: display, tried: all.map(\.name), seen: FormatDetector.describe(parsed))
            }
            importer = found
        } else {
            guard let named = named(format) else { throw ImportError.unknownFormat(file: display, tried: names, seen: nil) }
            guard named.recognizes(parsed, path: path) else {
                throw ImportError.notThisFormat(file: display, format: format, reason: "its content does not have the expected shape")
            }
            importer = named
        }
        var result = importer.importFile(parsed, path: path, display: display, options: options)
        // Importers that read the file themselves, line by line, quarantine its bad lines themselves.
        if case .lines(_, let bad) = parsed, !(importer is NativeImporter), !(importer is MessagesRowsImporter) {
            // In line order, as a reader of the file expects them.
            result.quarantined = zip(bad + result.quarantined, 0...).sorted {
                ($0.0.line ?? Int.max, $0.1) < ($1.0.line ?? Int.max, $1.1)
            }.map(\.0)
        }
        if repairs > 0 { result.cleaned["invalid_utf8_repaired", default: 0] += repairs }
        return result
    }

    static func stem(_ path: String) -> String {
        var name = (path as NSString).lastPathComponent
        for ext in [".jsonl", ".json", ".traj", ".yaml", ".yml"] where name.lowercased().hasSuffix(ext) {
            name = String(name.dropLast(ext.count))
        }
        return name
    }

    /// The JSON objects of a file: the document's elements or object, or the JSON Lines values.
    static func objects(_ file: ParsedFile) -> [JSONValue] {
        switch file {
        case .document(let v): return v.arrayValue ?? [v]
        case .lines(let ls, _): return ls.map(\.value)
        }
    }

    /// The records of a file with where each was: JSON Lines values with their line numbers, or the
    /// document's elements (or the document itself) without one.
    static func rows(_ file: ParsedFile) -> [(Int?, JSONValue)] {
        switch file {
        case .lines(let ls, _): return ls.map { ($0.line, $0.value) }
        case .document(let v): return (v.arrayValue ?? [v]).map { (nil, $0) }
        }
    }
}

/// skillforge's own JSON Lines (see README "Native trajectory format").
struct NativeImporter: FormatImporter {
    let name = "native"

    func recognizes(_ file: ParsedFile, path: String) -> Bool {
        let first: JSONValue
        switch file {
        case .lines(let ls, _): guard let f = ls.first?.value else { return false }; first = f
        case .document(let v): guard v.objectValue != nil else { return false }; first = v
        }
        return first["schema"]?.stringValue == nativeSchemaTag
            || (first["id"] != nil && first["task"] != nil && first["steps"] != nil)
    }

    func importFile(_ file: ParsedFile, path: String, display: String, options: ImportOptions) -> ImportResult {
        importNative(path: path, display: display, maxRecordBytes: options.maxRecordBytes)
    }

    func importNative(path: String, display: String, maxRecordBytes: Int) -> ImportResult {
        var r = ImportResult(format: name)
        do {
            let (ts, bad) = try NativeReader.read(path: path, displayPath: display, maxRecordBytes: maxRecordBytes)
            r.trajectories = ts
            r.quarantined = bad
        } catch {
            r.quarantined.append(QuarantineEntry(file: display, reason: "\(error)"))
        }
        return r
    }
}
