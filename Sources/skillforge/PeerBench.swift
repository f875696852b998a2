import ArgumentParser
import Foundation
import Trajectories

/// `skillforge bench peer`: the Python peer (`../shared/bench/peer.py`, the pipeline a data engineer
/// would write instead) and skillforge's equivalent pipeline on the same OpenAI `messages` JSONL file,
/// run one after the other, alternating, each in its own process; the best wall time of each and their
/// ratio. Nothing is asserted.
struct PeerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer",
        abstract: "Run the Python peer (peer.py) and skillforge's equivalent pipeline on the same corpus, alternating; print the best times and the ratio.",
        discussion: """
            The corpus is a file written by the peer's generator (`python3 gen_corpus.py --mb 256 --seed 1 --out FILE`), read \
            by both as it is. skillforge's pipeline does the peer's job: keep successes with at least 2 tool calls, remove \
            near-duplicate tasks (MinHash, 0.85), redact secrets and e-mails, write a 95/5 `messages` split and record the run \
            in the catalog. The import + prepare time is measured apart (the same steps, nothing written). The peer also \
            packs its output as .tar.zst; skillforge packs only skill bundles, so its time includes no archive.
            """
    )
    @Option(name: .long, help: "The corpus: OpenAI messages JSONL from gen_corpus.py.") var corpus: String
    @Option(name: .long, help: "The peer script (default: ../shared/bench/peer.py when it exists).") var peer: String?
    @Option(name: .long, help: "Python with orjson, datasketch and zstandard (bash ../shared/bench/setup.sh VENV makes one).") var python: String = "python3"
    @Option(name: .long, help: "Peer worker processes.") var workers: Int = 2
    @Option(name: .long, help: "Runs of each, alternating; the best of each counts.") var rounds: Int = 2
    @Option(name: .long, help: "Scratch directory (default: a temporary one, removed afterwards).") var dir: String?
    @Flag(name: .long, help: "Print JSON.") var json = false

    func validate() throws {
        guard FileManager.default.fileExists(atPath: corpus) else { throw ValidationError("--corpus \(corpus): no such file") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
    }

    struct Run: Encodable {
        var seconds: Double
        var peakMB: Double
        var cores: Double
        var records: Int
    }

    struct Report: Encodable {
        var corpus: String
        var corpusMB: Double
        var rounds: Int
        var peer: [Run]
        var skillforge: [Run]
        var importPrepare: [Run]
        var peerBest: Double
        var skillforgeBest: Double
        /// Peer time / skillforge time: how many times faster skillforge is.
        var speedup: Double
        /// Records kept by skillforge relative to the peer, in percent (their near-duplicate methods differ).
        var recordsDifferencePercent: Double
        var importPrepareMBPerSecond: Double
    }

    func run() throws {
        let corpusURL = URL(fileURLWithPath: corpus).standardizedFileURL
        let script = peer ?? "../shared/bench/peer.py"
        guard FileManager.default.fileExists(atPath: script) else {
            throw ValidationError("the peer script \(script) does not exist; pass --peer PATH (it is ../shared/bench/peer.py in the shared folder)")
        }
        let root = URL(fileURLWithPath: dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("skillforge-peer-bench-\(getpid())").path)
        try? FileManager.default.removeItem(at: root)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { if dir == nil { try? FileManager.default.removeItem(at: root) } }
        let quoted = "\"" + corpusURL.path.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        // The peer's job; the second pipeline runs the same import and prepare steps and writes nothing.
        func pipeline(_ name: String, outputs: String) -> String {
            """
            version: 1
            name: \(name)
            inputs:
              - path: \(quoted)
            prepare:
              - filter: {outcome: [success], min_steps: 2}
              - dedupe: {by: task, method: minhash, threshold: 0.85}
              - redact: {secrets: true, emails: true}
            \(outputs)
            """
        }
        let job = pipeline("peer-job", outputs: "outputs:\n  sft: {style: trajectory-sft, test_split: 0.05}")
        let ingest = pipeline("peer-ingest", outputs: "outputs:\n  none: {style: trajectory-sft, prepare: [{filter: {task_regex: \"^$\"}}]}\npackage: {skills: [], catalog: false}")
        try job.write(to: root.appendingPathComponent("peer-job.yaml"), atomically: true, encoding: .utf8)
        try ingest.write(to: root.appendingPathComponent("peer-ingest.yaml"), atomically: true, encoding: .utf8)
        let scriptPath = URL(fileURLWithPath: script).standardizedFileURL.path
        let mb = Double(fileSize(atPath: corpusURL.path) ?? 0) / 1_048_576

        var peerRuns: [Run] = [], ours: [Run] = [], prepareRuns: [Run] = []
        for round in 1...rounds {
            // The peer.
            let peerOut = root.appendingPathComponent("peer-out")
            try? FileManager.default.removeItem(at: peerOut)
            try? FileManager.default.removeItem(at: root.appendingPathComponent("peer-out.tar.zst"))
            let p = try TimedRun.run([python, scriptPath, "--in", corpusURL.path, "--out", peerOut.path, "--workers", String(workers)], cwd: root)
            guard p.status == 0 else { throw BenchFailure("the peer failed (exit \(p.status)): \(p.stderr.suffix(400))") }
            let summary = p.stdout.split(separator: "\n").last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            peerRuns.append(Run(seconds: p.seconds, peakMB: p.peakMB, cores: p.cores, records: summary?["records_out"] as? Int ?? -1))
            // skillforge, the whole job.
            let out = root.appendingPathComponent("skillforge-out")
            try? FileManager.default.removeItem(at: out)
            let s = try TimedRun.run([TimedRun.executable, "build", "peer-job.yaml", "--out", out.path, "--no-cache"], cwd: root)
            guard s.status == 0 else { throw BenchFailure("skillforge build failed (exit \(s.status)): \(s.stderr.suffix(400))") }
            let manifest = try? JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("datasets/sft/manifest.json"))) as? [String: Any]
            ours.append(Run(seconds: s.seconds, peakMB: s.peakMB, cores: s.cores, records: manifest?["records"] as? Int ?? -1))
            // skillforge, import + prepare alone.
            let ingestOut = root.appendingPathComponent("skillforge-ingest")
            try? FileManager.default.removeItem(at: ingestOut)
            let i = try TimedRun.run([TimedRun.executable, "build", "peer-ingest.yaml", "--out", ingestOut.path, "--no-cache"], cwd: root)
            guard i.status == 0 else { throw BenchFailure("skillforge build (import + prepare) failed (exit \(i.status)): \(i.stderr.suffix(400))") }
            prepareRuns.append(Run(seconds: i.seconds, peakMB: i.peakMB, cores: i.cores, records: 0))
            if !json {
                print(String(format: "round %d: peer %.2f s, skillforge %.2f s (import + prepare %.2f s)", round, p.seconds, s.seconds, i.seconds))
            }
        }
        let peerBest = peerRuns.map(\.seconds).min()!, oursBest = ours.map(\.seconds).min()!, prepBest = prepareRuns.map(\.seconds).min()!
        let peerRecords = peerRuns.last!.records, ourRecords = ours.last!.records
        let report = Report(
            corpus: corpusURL.path, corpusMB: mb, rounds: rounds, peer: peerRuns, skillforge: ours, importPrepare: prepareRuns,
            peerBest: peerBest, skillforgeBest: oursBest, speedup: peerBest / oursBest,
            recordsDifferencePercent: peerRecords > 0 ? Double(ourRecords - peerRecords) * 100 / Double(peerRecords) : 0,
            importPrepareMBPerSecond: mb * 1_048_576 / 1_000_000 / prepBest)
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try e.encode(report), as: UTF8.self))
            return
        }
        print(String(format: "corpus %@ (%.0f MiB), best of %d each, alternating", corpusURL.lastPathComponent, mb, rounds))
        print(String(format: "  peer.py --workers %d   %6.2f s   peak %4.0f MB   cores busy %.2f   records kept %d",
                     workers, peerBest, peerRuns.map(\.peakMB).max()!, peerRuns.map(\.cores).max()!, peerRecords))
        print(String(format: "  skillforge build      %6.2f s   peak %4.0f MB   cores busy %.2f   records kept %d (%+.1f%%)",
                     oursBest, ours.map(\.peakMB).max()!, ours.map(\.cores).max()!, ourRecords, report.recordsDifferencePercent))
        print(String(format: "  skillforge is %.2f× the peer's speed; import + prepare alone %.2f s = %.0f MB/s",
                     report.speedup, prepBest, report.importPrepareMBPerSecond))
    }
}

/// A command run in its own process under GNU time, for the benchmarks: wall seconds, peak RSS in MB
/// (for a process tree, its largest process as GNU time reports it), cores busy (CPU seconds / wall
/// seconds), exit status and output. Without /usr/bin/time (apt install time) RSS and cores are 0.
enum TimedRun {
    static var executable: String { URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path }

    static func run(_ command: [String], cwd: URL) throws
        -> (seconds: Double, peakMB: Double, cores: Double, status: Int32, stdout: String, stderr: String) {
        let tag = UInt32.random(in: 0...UInt32.max)
        let stats = cwd.appendingPathComponent(".time-\(tag)")
        let outFile = cwd.appendingPathComponent(".stdout-\(tag)"), errFile = cwd.appendingPathComponent(".stderr-\(tag)")
        defer { for f in [stats, outFile, errFile] { try? FileManager.default.removeItem(at: f) } }
        let timed = FileManager.default.isExecutableFile(atPath: "/usr/bin/time")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: timed ? "/usr/bin/time" : "/usr/bin/env")
        p.arguments = timed ? ["-f", "%e %M %U %S", "-o", stats.path] + command : command
        p.currentDirectoryURL = cwd
        FileManager.default.createFile(atPath: outFile.path, contents: nil)
        FileManager.default.createFile(atPath: errFile.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: outFile)
        p.standardError = try FileHandle(forWritingTo: errFile)
        let start = Date()
        try p.run()
        p.waitUntilExit()
        let wall = Date().timeIntervalSince(start)
        // The last four fields (GNU time writes "Command exited with non-zero status N" before them).
        let fields = ((try? String(contentsOf: stats, encoding: .utf8)) ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" })
        let rssKB = fields.count >= 4 ? Double(fields[fields.count - 3]) ?? 0 : 0
        let cpu = fields.count >= 4 ? (Double(fields[fields.count - 2]) ?? 0) + (Double(fields[fields.count - 1]) ?? 0) : 0
        return (wall, rssKB / 1024, wall > 0 ? cpu / wall : 0, p.terminationStatus,
                (try? String(contentsOf: outFile, encoding: .utf8)) ?? "", (try? String(contentsOf: errFile, encoding: .utf8)) ?? "")
    }
}

/// A benchmark run that failed: its command's error, without the usage text a `ValidationError` adds.
struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
