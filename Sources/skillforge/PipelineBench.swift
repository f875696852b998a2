import ArgumentParser
import Engine
import Foundation
import Pipelines
import Trajectories

/// `skillforge bench pipeline`: a synthetic corpus of a given size in the native format, then the
/// measurements a nightly user cares about, each in a child process so peak memory is its own.
struct PipelineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Generate a synthetic native corpus (--mb) and measure reading, ingest, full builds, rebuilds and peak memory."
    )
    @Option(name: .long, help: "Corpus size in MB.") var mb: Int = 100
    @Option(name: .long, help: "Scratch directory (default: a temporary one, removed afterwards).") var dir: String?
    @Flag(name: .long, help: "Print JSON.") var json = false
    @Flag(name: .long, help: "Also measure peak memory at 4× the size.") var scale = false
    @Flag(name: .customLong("one-file"), help: "Write the corpus as one file and append the 1% to it (measures the chunked ingest cache) instead of 20 files and a new one.")
    var oneFile = false

    /// Writes about `bytes` of native JSONL: task families, failures, retries, observations from a few
    /// bytes up to 200 KB, unicode and escapes, and a planted secret in one record of 50.
    static func generate(to url: URL, bytes: Int, seed: UInt64, appending: Bool = false) throws {
        var g = SeededGenerator(seed: seed)
        if !appending || !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        let h = try FileHandle(forWritingTo: url)
        defer { try? h.close() }
        try h.seekToEnd()
        let words = ["build", "test", "parse", "deploy", "cache", "index", "query", "merge", "lint", "render", "naïve", "Straße", "東京", "données", "\"quoted\"", "tab\tsep", "back\\slash"]
        let tools = ["bash", "str_replace_editor", "read_file"]
        var written = 0, n = 0
        var buffer = Data()
        while written < bytes {
            let family = g.below(40)
            var steps: [Step] = []
            for i in 0..<(3 + g.below(10)) {
                // Log-uniform observation sizes: mostly small, some up to 200 KB.
                let size = Int(pow(2.0, g.unit() * 17.6))
                var obs = ""
                while obs.utf8.count < size { obs += words[g.below(words.count)] + (g.below(12) == 0 ? "\n" : " ") }
                if n % 50 == 7 && i == 1 { obs += " AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY " }
                let cmd = "python -m pytest tests/test_\(words[g.below(6)])_\(family).py -q"
                steps.append(Step(index: i, thought: "Step \(i): \(words[g.below(words.count)]) the module",
                                  action: Action(tool: tools[g.below(3)], input: .object(["command": .string(cmd)]), command: cmd),
                                  observation: Observation(content: obs, exitCode: g.below(5) == 0 ? 1 : 0)))
            }
            let status: Outcome.Status = [.success, .success, .failure, .partial][g.below(4)]
            let t = Trajectory(id: "bench-\(seed)-\(n)", task: "Fix the \(words[g.below(6)]) failure in family \(family) (case \(n % 97))",
                               taskKey: "family-\(family)/\(n % 97)", attempt: 1 + g.below(3), steps: steps,
                               answer: status == .success ? "Fixed family \(family): the tests pass." : nil,
                               outcome: Outcome(status: status, reward: status == .success ? 1 : 0))
            var line = try NativeWriter.line(t)
            line.append(0x0A)
            buffer.append(line)
            written += line.count
            n += 1
            if buffer.count > 8 << 20 { try h.write(contentsOf: buffer); buffer.removeAll(keepingCapacity: true) }
        }
        try h.write(contentsOf: buffer)
    }

    /// Runs this executable with `args` (see `TimedRun`): wall seconds, peak RSS in MB, cores busy, exit
    /// status. A build that fails stops the benchmark with its error (a failed build's time means nothing).
    static func child(_ args: [String], cwd: URL) throws -> (seconds: Double, peakMB: Double, cores: Double, status: Int32) {
        let r = try TimedRun.run([TimedRun.executable] + args, cwd: cwd)
        guard r.status == 0 else {
            throw BenchFailure("skillforge \(args.joined(separator: " ")) failed (exit \(r.status)) in \(cwd.path): \(r.stderr.suffix(600))")
        }
        return (r.seconds, r.peakMB, r.cores, r.status)
    }

    func run() throws {
        let root = URL(fileURLWithPath: dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("skillforge-bench-\(getpid())").path)
        try? FileManager.default.removeItem(at: root)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("corpus"), withIntermediateDirectories: true)
        defer { if dir == nil { try? FileManager.default.removeItem(at: root) } }
        let bytes = mb << 20
        // Twenty files so that appending 1% is one new file (or, with --one-file, twenty parts of one file).
        func part(_ k: Int) -> URL {
            root.appendingPathComponent(oneFile ? "corpus/all.jsonl" : "corpus/part-\(String(format: "%02d", k)).jsonl")
        }
        for k in 0..<20 {
            try Self.generate(to: part(k), bytes: bytes / 20, seed: UInt64(k), appending: oneFile)
        }
        let ingestOnly = """
            version: 1
            name: ingest
            inputs: [{path: corpus/*.jsonl}]
            prepare:
              - redact: {secrets: true}
              - filter: {outcome: [success, partial], min_steps: 2}
              - dedupe: {by: task, method: minhash, threshold: 0.85}
            outputs:
              none: {style: trajectory-sft, prepare: [{filter: {task_regex: "^$"}}]}
            package: {skills: [], catalog: false}
            """
        let full = """
            version: 1
            name: full
            inputs: [{path: corpus/*.jsonl}]
            prepare:
              - redact: {secrets: true}
              - dedupe: {method: exact}
            outputs:
              sft: {style: trajectory-sft, prepare: [{filter: {outcome: [success, partial]}}]}
              instruct: {style: conifer}
              safety: {style: cs-chain, rules: \(FileManager.default.currentDirectoryPath)/pipelines/safety/consequences.yaml}
              skills: {style: skills, curated: null}
            """
        try Data(ingestOnly.utf8).write(to: root.appendingPathComponent("ingest.yaml"))
        try Data(full.utf8).write(to: root.appendingPathComponent("full.yaml"))
        let size = Double(bytes) / 1e6
        var rows: [(String, Double, Double, Double)] = []
        // I/O floor: read every line once.
        let t0 = Date()
        var lines = 0
        for k in 0..<(oneFile ? 1 : 20) {
            let r = try LineReader(path: part(k).path)
            while let b = try r.nextBatch() { lines += b.lines.count }
        }
        let io = Date().timeIntervalSince(t0)
        rows.append(("I/O floor (read lines)", io, 0, 1))
        let ingest = try Self.child(["build", "ingest.yaml", "--out", "out-ingest", "--no-cache", "-q"], cwd: root)
        rows.append(("import + prepare (no cache)", ingest.seconds, ingest.peakMB, ingest.cores))
        let fullRun = try Self.child(["build", "full.yaml", "--out", "out-full", "-q"], cwd: root)
        rows.append(("full pipeline, all outputs", fullRun.seconds, fullRun.peakMB, fullRun.cores))
        let again = try Self.child(["build", "full.yaml", "--out", "out-full", "-q"], cwd: root)
        rows.append(("no-change rebuild", again.seconds, again.peakMB, again.cores))
        try Self.generate(to: part(20), bytes: bytes / 100, seed: 99, appending: oneFile)
        let appended = try Self.child(["build", "full.yaml", "--out", "out-full", "-q"], cwd: root)
        rows.append(("rebuild after appending 1%", appended.seconds, appended.peakMB, appended.cores))
        var scaled: (seconds: Double, peakMB: Double, cores: Double, status: Int32)?
        if scale {
            for k in 0..<60 {
                try Self.generate(to: root.appendingPathComponent("corpus/x-\(String(format: "%02d", k)).jsonl"), bytes: bytes / 20, seed: UInt64(100 + k))
            }
            scaled = try Self.child(["build", "ingest.yaml", "--out", "out-4x", "--no-cache", "-q"], cwd: root)
            rows.append(("import + prepare at 4×", scaled!.seconds, scaled!.peakMB, scaled!.cores))
        }
        if json {
            let out = rows.map { ["step": JSONValue.string($0.0), "seconds": .double($0.1), "peak_rss_mb": .double($0.2), "cores_busy": .double($0.3)] }
            Terminal.out(JSONValue.object(["corpus_mb": .double(size), "lines": .int(Int64(lines)), "rows": .array(out.map(JSONValue.object))]).canonicalJSON())
            return
        }
        if [ingest, fullRun, again, appended].contains(where: { $0.status != 0 }) {
            Terminal.err("warning: a measured build failed; rerun it by hand in \(root.path) (use --dir to keep it)")
        }
        Terminal.out(String(format: "corpus: %.0f MB in ", size) + (oneFile ? "one file" : "20 files") + ", \(lines) trajectories")
        Terminal.out("step                              seconds      MB/s   peak RSS  cores busy")
        for (name, s, rss, cores) in rows {
            let rate = name.contains("4×") ? size * 4 / s : size / s
            Terminal.out(name.padding(toLength: 32, withPad: " ", startingAt: 0) + String(format: " %8.2f %9.1f %8.0f MB %11.2f", s, rate, rss, cores))
        }
        Terminal.out(String(format: "no-change rebuild = %.1f%% of the full build; 1%% append = %.1f%%", again.seconds / fullRun.seconds * 100, appended.seconds / fullRun.seconds * 100))
        if let scaled { Terminal.out(String(format: "peak RSS at 4× / 1× = %.2f", scaled.peakMB / max(ingest.peakMB, 1))) }
    }
}
