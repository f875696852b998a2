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
        abstract: "Generate a corpus (--mb; skillforge's own or, with --generator, the Python peer's) and measure reading, ingest, full builds with every style at 1×, 2× (and 4×), rebuilds and peak memory."
    )
    @Option(name: .long, help: "Corpus size in MB.") var mb: Int = 100
    @Option(name: .long, help: "Scratch directory (default: a temporary one, removed afterwards).") var dir: String?
    @Flag(name: .long, help: "Print JSON.") var json = false
    @Flag(name: .long, help: "Also build at 4× the size (import + prepare and the full build).") var scale = false
    @Option(name: .long, help: "Write the corpus with this generator instead of skillforge's own: the Python peer's gen_corpus.py (OpenAI messages JSONL, seed 1; e.g. ../shared/bench/gen_corpus.py).")
    var generator: String?
    @Option(name: .long, help: "Python for --generator.") var python: String = "python3"
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
        // With --generator: the peer's corpus, one file per size (a smaller corpus of one seed is a byte prefix
        // of a larger one), and the 1% is the generator's own append stream, in a file of its own.
        func part(_ k: Int) -> URL {
            root.appendingPathComponent(oneFile ? "corpus/all.jsonl" : "corpus/part-\(String(format: "%02d", k)).jsonl")
        }
        /// Writes a corpus of `factor` × the size into `folder` (relative to the scratch directory).
        func write(factor: Int, folder: String) throws -> [URL] {
            let dir = root.appendingPathComponent(folder)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            if let generator {
                let file = dir.appendingPathComponent("corpus.jsonl")
                try Self.runGenerator(python: python, script: generator, args: ["--mb", "\(mb * factor)", "--seed", "1", "--out", file.path])
                return [file]
            }
            var files: [URL] = []
            for k in 0..<(20 * factor) {
                let file = oneFile && factor == 1 ? part(k) : dir.appendingPathComponent("part-\(String(format: "%02d", k)).jsonl")
                try Self.generate(to: file, bytes: bytes / 20, seed: UInt64(k < 20 ? k : 100 + k), appending: oneFile && factor == 1)
                if !files.contains(file) { files.append(file) }
            }
            return files
        }
        let corpusFiles = try write(factor: 1, folder: "corpus")
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
              cada: {style: cada, rules: \(FileManager.default.currentDirectoryPath)/pipelines/safety/consequences.yaml, codes: \(FileManager.default.currentDirectoryPath)/pipelines/safety/codes.yaml}
              skills: {style: skills, curated: null}
            """
        guard FileManager.default.fileExists(atPath: "pipelines/safety/codes.yaml") else {
            throw ValidationError("run bench pipeline from the repository's top folder (it reads pipelines/safety/*.yaml)")
        }
        try Data(ingestOnly.utf8).write(to: root.appendingPathComponent("ingest.yaml"))
        try Data(full.utf8).write(to: root.appendingPathComponent("full.yaml"))
        // The same pipelines over the larger corpora.
        for factor in [2, 4] {
            try Data(ingestOnly.replacingOccurrences(of: "corpus/*.jsonl", with: "corpus-\(factor)x/*.jsonl").utf8)
                .write(to: root.appendingPathComponent("ingest-\(factor)x.yaml"))
            try Data(full.replacingOccurrences(of: "corpus/*.jsonl", with: "corpus-\(factor)x/*.jsonl").utf8)
                .write(to: root.appendingPathComponent("full-\(factor)x.yaml"))
        }
        let size = Double(bytes) / 1e6
        var rows: [(String, Double, Double, Double)] = []
        // I/O floor: read every line once.
        let t0 = Date()
        var lines = 0
        for file in corpusFiles {
            let r = try LineReader(path: file.path)
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
        if let generator {
            try Self.runGenerator(python: python, script: generator,
                                  args: ["--mb", "\(mb)", "--seed", "1", "--append-percent", "1", "--out", root.appendingPathComponent("corpus/append.jsonl").path])
        } else {
            try Self.generate(to: part(20), bytes: bytes / 100, seed: 99, appending: oneFile)
        }
        let appended = try Self.child(["build", "full.yaml", "--out", "out-full", "-q"], cwd: root)
        rows.append(("rebuild after appending 1%", appended.seconds, appended.peakMB, appended.cores))
        // Scaling: the full build (every style, no cache) at 2× and, with --scale, 4× the corpus; the 1×
        // figure is a no-cache build of the first corpus, so that all three do the same work per byte.
        var scaled: [(factor: Int, ingest: Double, ingestMB: Double, full: Double, fullMB: Double, cores: Double)] = []
        for factor in scale ? [1, 2, 4] : [1, 2] {
            if factor > 1 { _ = try write(factor: factor, folder: "corpus-\(factor)x") }
            let suffix = factor == 1 ? "" : "-\(factor)x"
            let i = factor == 1 ? ingest : try Self.child(["build", "ingest\(suffix).yaml", "--out", "out-ingest\(suffix)", "--no-cache", "-q"], cwd: root)
            let f = try Self.child(["build", "full\(suffix).yaml", "--out", "out-scale\(suffix)", "--no-cache", "-q"], cwd: root)
            scaled.append((factor, i.seconds, i.peakMB, f.seconds, f.peakMB, f.cores))
            if factor > 1 {
                rows.append(("import + prepare at \(factor)×", i.seconds, i.peakMB, i.cores))
                rows.append(("full build at \(factor)× (no cache)", f.seconds, f.peakMB, f.cores))
            } else {
                rows.append(("full build (no cache)", f.seconds, f.peakMB, f.cores))
            }
            try? FileManager.default.removeItem(at: root.appendingPathComponent("out-scale\(suffix)"))
        }
        let ratios = zip(scaled, scaled.dropFirst()).map { a, b in
            (factor: b.factor, time: b.full / a.full, memory: b.fullMB / max(a.fullMB, 1))
        }
        if json {
            let out = rows.map { ["step": JSONValue.string($0.0), "seconds": .double($0.1), "peak_rss_mb": .double($0.2), "cores_busy": .double($0.3)] }
            let scaling = ratios.map { JSONValue.object(["from": .int(Int64($0.factor / 2)), "to": .int(Int64($0.factor)),
                                                         "time_ratio": .double($0.time), "peak_rss_ratio": .double($0.memory)]) }
            Terminal.out(JSONValue.object(["corpus_mb": .double(size), "lines": .int(Int64(lines)), "generator": generator.map(JSONValue.string) ?? .null,
                                           "rows": .array(out.map(JSONValue.object)), "scaling": .array(scaling)]).canonicalJSON())
            return
        }
        Terminal.out(String(format: "corpus: %.0f MB in ", size) + (generator != nil ? "one file (\(generator!), seed 1)" : oneFile ? "one file" : "20 files") + ", \(lines) trajectories")
        Terminal.out("step                              seconds      MB/s   peak RSS  cores busy")
        for (name, s, rss, cores) in rows {
            let factor = name.contains("4×") ? 4.0 : name.contains("2×") ? 2.0 : 1.0
            Terminal.out(name.padding(toLength: 32, withPad: " ", startingAt: 0) + String(format: " %8.2f %9.1f %8.0f MB %11.2f", s, size * factor / s, rss, cores))
        }
        Terminal.out(String(format: "no-change rebuild = %.1f%% of the full build; 1%% append = %.1f%%", again.seconds / fullRun.seconds * 100, appended.seconds / fullRun.seconds * 100))
        for r in ratios {
            Terminal.out(String(format: "full build %d× / %d×: time %.2f, peak RSS %.2f", r.factor, r.factor / 2, r.time, r.memory))
        }
    }

    /// Runs the peer's corpus generator; its failure stops the benchmark with what it printed.
    static func runGenerator(python: String, script: String, args: [String]) throws {
        guard FileManager.default.fileExists(atPath: script) else {
            throw ValidationError("the generator \(script) does not exist (the peer's is ../shared/bench/gen_corpus.py)")
        }
        let r = try TimedRun.run([python, script] + args, cwd: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        guard r.status == 0 else { throw BenchFailure("\(python) \(script) \(args.joined(separator: " ")) failed (exit \(r.status)): \(r.stderr.suffix(600))") }
    }
}
