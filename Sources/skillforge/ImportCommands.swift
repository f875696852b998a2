import ArgumentParser
import Foundation
import Trajectories

struct ImportOptionsGroup: ParsableArguments {
    @Option(name: .long, help: "Observations longer than this many bytes keep head and tail around a marker.")
    var maxObservationBytes: Int = 64 << 10

    @Flag(name: .long, help: "Keep model thinking blocks as thoughts (default: drop and count them).")
    var keepThinking = false

    @Option(name: .long, help: "Largest record: longer JSON Lines lines are quarantined unread, larger JSON/YAML documents refused.")
    var maxRecordBytes: Int = ImportOptions.defaultMaxRecordBytes

    var options: ImportOptions {
        ImportOptions(maxObservationBytes: maxObservationBytes, keepThinking: keepThinking, maxRecordBytes: maxRecordBytes)
    }
}

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Convert trajectory files from any supported format into native JSONL.",
        discussion: "Formats: \(Importers.names.joined(separator: ", ")). Records that cannot be read are listed with file, line and reason and left out; everything dropped on purpose is counted."
    )

    @Option(name: .long, help: "Input format, or auto to detect each file by content.")
    var from: String = "auto"

    @Option(name: .long, help: "Native JSONL file to write (written atomically).")
    var to: String

    @OptionGroup var importOptions: ImportOptionsGroup

    @Argument(help: "Input files.")
    var files: [String]

    func validate() throws {
        if from != "auto" && Importers.named(from) == nil {
            throw ValidationError("unknown format '\(from)'; expected auto or one of: \(Importers.names.joined(separator: ", "))")
        }
        if files.isEmpty { throw ValidationError("name at least one input file") }
    }

    func run() throws {
        var results: [ImportResult] = []
        var failed = false
        for f in files {
            do {
                results.append(try Importers.importFile(path: f, display: f, format: from, options: importOptions.options))
            } catch {
                Terminal.err("\(Terminal.red("error:")) \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(Exit.buildFailure) }
        let url = URL(fileURLWithPath: to)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        let writer = try NativeWriter(url: tmp)
        do {
            for r in results { for t in r.trajectories { try writer.write(t) } }
            try writer.close()
            if rename(tmp.path, url.path) != 0 { throw ReadError.readFailed(path: to, reason: String(cString: strerror(errno))) }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
        for r in results {
            for q in r.quarantined { Terminal.err("  \(Terminal.yellow("quarantined")) \(q.location): \(q.reason)") }
        }
        let total = results.reduce(0) { $0 + $1.trajectories.count }
        Terminal.err("wrote \(total) trajectories to \(to) from \(files.count) file(s)")
    }
}

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Corpus statistics per file and per format: trajectories, steps, tools, outcomes, quarantined, dropped."
    )

    @Option(name: .long, help: "Input format, or auto.")
    var from: String = "auto"

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    @OptionGroup var importOptions: ImportOptionsGroup

    @Argument(help: "Input files.")
    var files: [String]

    func run() throws {
        var stats: [CorpusStats] = []
        var failed = false
        for f in files {
            let bytes = fileSize(atPath: f) ?? 0
            do {
                let r = try Importers.importFile(path: f, display: f, format: from, options: importOptions.options)
                stats.append(CorpusStats(file: f, bytes: bytes, result: r))
            } catch {
                Terminal.err("\(Terminal.red("error:")) \(error)")
                failed = true
            }
        }
        let byFormat = Dictionary(grouping: stats, by: \.format).mapValues { CorpusStats.combine($0) }
        if json {
            struct Report: Encodable { var files: [CorpusStats]; var formats: [String: CorpusStats] }
            Terminal.out(String(decoding: try JSONCoding.prettyEncoder.encode(Report(files: stats, formats: byFormat)), as: UTF8.self))
        } else {
            for s in stats { Terminal.out(s.line(label: s.file)) }
            if stats.count > 1 { for (f, s) in byFormat.sorted(by: { $0.key < $1.key }) { Terminal.out(s.line(label: "[\(f)]")) } }
        }
        if failed { throw ExitCode(Exit.buildFailure) }
    }
}

/// Statistics `inspect` prints.
struct CorpusStats: Encodable {
    var file: String
    var format: String
    var bytes: Int64
    var trajectories: Int
    var steps: Int
    var toolCalls: Int
    var pairedResults: Int
    var tools: [String: Int]
    var outcomes: [String: Int]
    var quarantined: Int
    var dropped: [String: Int]
    var cleaned: [String: Int]

    init(file: String, bytes: Int64, result r: ImportResult) {
        self.file = file
        format = r.format
        self.bytes = bytes
        trajectories = r.trajectories.count
        steps = r.trajectories.reduce(0) { $0 + $1.steps.count }
        let actions = r.trajectories.flatMap(\.steps).filter { $0.action != nil }
        toolCalls = actions.count
        pairedResults = actions.filter { $0.observation != nil }.count
        tools = Dictionary(grouping: actions, by: { $0.action!.tool }).mapValues(\.count)
        outcomes = Dictionary(grouping: r.trajectories, by: { $0.outcome.status.rawValue }).mapValues(\.count)
        quarantined = r.quarantined.count
        dropped = r.dropped
        cleaned = r.cleaned
    }

    static func combine(_ list: [CorpusStats]) -> CorpusStats {
        var out = list[0]
        out.file = "\(list.count) file(s)"
        for s in list.dropFirst() {
            out.bytes += s.bytes; out.trajectories += s.trajectories; out.steps += s.steps; out.toolCalls += s.toolCalls
            out.pairedResults += s.pairedResults; out.quarantined += s.quarantined
            out.tools.merge(s.tools, uniquingKeysWith: +); out.outcomes.merge(s.outcomes, uniquingKeysWith: +)
            out.dropped.merge(s.dropped, uniquingKeysWith: +); out.cleaned.merge(s.cleaned, uniquingKeysWith: +)
        }
        return out
    }

    func line(label: String) -> String {
        func kv(_ d: [String: Int]) -> String { d.keys.sorted().map { "\($0) \(d[$0]!)" }.joined(separator: ", ") }
        var s = "\(label): \(format), \(trajectories) trajectories, \(steps) steps, \(toolCalls) tool calls (\(pairedResults) with results)"
        if !outcomes.isEmpty { s += "; outcomes: \(kv(outcomes))" }
        if quarantined > 0 { s += "; quarantined \(quarantined)" }
        if !dropped.isEmpty { s += "; dropped: \(kv(dropped))" }
        if !cleaned.isEmpty { s += "; cleaned: \(kv(cleaned))" }
        return s
    }

    enum CodingKeys: String, CodingKey {
        case file, format, bytes, trajectories, steps, toolCalls = "tool_calls", pairedResults = "paired_results", tools,
             outcomes, quarantined, dropped, cleaned
    }
}
