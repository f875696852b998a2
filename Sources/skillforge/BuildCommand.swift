import ArgumentParser
import Engine
import Foundation
import Pipelines
import Trajectories

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Run pipelines: read trajectories, prepare them and write every output under out/.",
        discussion: """
        With no PIPELINE arguments every pipelines/*.yaml is built. All files are validated first; nothing \
        runs if any has errors. Outputs appear atomically: a failed or interrupted build leaves the previous \
        outputs untouched.
        """
    )

    @Argument(help: "Pipeline files (default: pipelines/*.yaml).")
    var pipelines: [String] = []

    @Option(name: .long, help: "Output directory.")
    var out: String = "out"

    @Flag(name: .shortAndLong, help: "Print only errors.")
    var quiet = false

    @Flag(name: .long, help: "Print the build summary as JSON on stdout.")
    var json = false

    @Flag(name: .shortAndLong, help: "List every quarantined record and every removed duplicate.")
    var verbose = false

    @Flag(name: .long, help: "Recompute everything instead of reusing out/.cache (the cache is not updated either).")
    var noCache = false

    @Option(name: .long, help: "Ingest only shard I of N (\"I/N\"), then 'skillforge merge --shards N'. \"auto\" reads the index from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX and N from --shards or SLURM_ARRAY_TASK_COUNT.")
    var shard: String?

    @Option(name: .long, help: "Number of shards, with --shard auto.")
    var shards: Int?

    @Option(name: .long, help: "A gitleaks configuration file (TOML) whose rules every redact step applies beside the built-in ones (a step's own 'rules:' wins).")
    var redactRules: String?

    func run() throws {
        let files = try PipelineFiles.resolve(pipelines)
        let specs = try PipelineFiles.loadAll(files, redactRules: redactRules)
        do {
            try BuildRunner.checkConflicts(specs)
        } catch {
            Terminal.err("\(Terminal.red("error:")) \(error)")
            throw ExitCode(Exit.specError)
        }
        let printer = ProgressPrinter(quiet: quiet || json)
        let cancellation = Cancellation()
        Interrupts.install(cancellation)
        let runner = BuildRunner(options: .init(outDirectory: URL(fileURLWithPath: out), progress: { printer.handle($0) },
                                                useCache: !noCache, cancellation: cancellation))
        if let shard {
            let (index, count) = try ShardSpec.parse(shard, shards: shards)
            for spec in specs {
                do {
                    let m = try runner.runShard(spec, index: index, count: count)
                    if !quiet { Terminal.err("\(Terminal.green("shard")) \(index)/\(count) of \(spec.name): \(m.files.count) file(s) ingested") }
                } catch {
                    Terminal.err("\(Terminal.red("error:")) \(error)")
                    if case EngineError.interrupted = error { throw ExitCode(Exit.interrupted) }
                    throw ExitCode(Exit.buildFailure)
                }
            }
            return
        }
        var results: [BuildResult] = []
        for spec in specs {
            do {
                let r = try runner.run(spec)
                results.append(r)
                if !quiet && !json { Summary.print(r, out: out, verbose: verbose) }
            } catch {
                Terminal.err("\(Terminal.red("error:")) \(error)")
                if case EngineError.interrupted = error { throw ExitCode(Exit.interrupted) }
                throw ExitCode(Exit.buildFailure)
            }
        }
        if json {
            let data = try JSONCoding.prettyEncoder.encode(results)
            Terminal.out(String(decoding: data, as: UTF8.self))
        }
    }
}

enum ShardSpec {
    /// "I/N", or "auto" with the index from SLURM_ARRAY_TASK_ID / JOB_COMPLETION_INDEX.
    static func parse(_ text: String, shards: Int?) throws -> (Int, Int) {
        let env = ProcessInfo.processInfo.environment
        if text == "auto" {
            guard let i = (env["SLURM_ARRAY_TASK_ID"] ?? env["JOB_COMPLETION_INDEX"]).flatMap(Int.init) else {
                throw ValidationError("--shard auto needs SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX in the environment")
            }
            guard let n = shards ?? env["SLURM_ARRAY_TASK_COUNT"].flatMap(Int.init) else {
                throw ValidationError("--shard auto needs --shards N (or SLURM_ARRAY_TASK_COUNT)")
            }
            return (i, n)
        }
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 0, i < n else {
            throw ValidationError("--shard must be I/N with 0 <= I < N (e.g. 2/4), or auto")
        }
        return (i, n)
    }
}

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "After all 'build --shard I/N' jobs: check every shard finished, then build the outputs from their ingest.",
        discussion: "Refuses to run (exit 1) while any shard's completion marker is missing, listing them. The outputs are byte-identical to an unsharded build."
    )
    @Argument(help: "Pipeline files (default: pipelines/*.yaml).") var pipelines: [String] = []
    @Option(name: .long, help: "Number of shards.") var shards: Int
    @Option(name: .long, help: "Output directory.") var out: String = "out"
    @Flag(name: .shortAndLong, help: "Print only errors.") var quiet = false
    @Option(name: .long, help: "The gitleaks rules file the shards were built with (--redact-rules).") var redactRules: String?

    func run() throws {
        let specs = try PipelineFiles.loadAll(try PipelineFiles.resolve(pipelines), redactRules: redactRules)
        let printer = ProgressPrinter(quiet: quiet)
        let cancellation = Cancellation()
        Interrupts.install(cancellation)
        let runner = BuildRunner(options: .init(outDirectory: URL(fileURLWithPath: out), progress: { printer.handle($0) },
                                                cancellation: cancellation))
        for spec in specs {
            do {
                let r = try runner.merge(spec, count: shards)
                if !quiet { Summary.print(r, out: out, verbose: false) }
            } catch {
                Terminal.err("\(Terminal.red("error:")) \(error)")
                if case EngineError.interrupted = error { throw ExitCode(Exit.interrupted) }
                throw ExitCode(Exit.buildFailure)
            }
        }
    }
}

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check pipeline files and report every error with file:line:column; runs nothing.",
        discussion: "Exit code 0 when all files are valid, 2 when any has errors."
    )

    @Argument(help: "Pipeline files (default: pipelines/*.yaml).")
    var pipelines: [String] = []

    @Flag(name: .shortAndLong, help: "Print nothing for valid files.")
    var quiet = false

    func run() throws {
        let files = try PipelineFiles.resolve(pipelines)
        let specs = try PipelineFiles.loadAll(files)
        if !quiet {
            for s in specs {
                Terminal.out("\(s.file): ok (\(s.inputs.count) input(s), \(s.prepare.count) prepare step(s), outputs: \(s.outputs.map(\.name).joined(separator: ", ")))")
            }
        }
    }
}

enum PipelineFiles {
    static func resolve(_ given: [String]) throws -> [String] {
        if !given.isEmpty { return given }
        let found = Glob.expand("pipelines/*.yaml", base: FileManager.default.currentDirectoryPath)
            .map { "pipelines/" + ($0 as NSString).lastPathComponent }
        if found.isEmpty {
            Terminal.err("\(Terminal.red("error:")) no pipeline files given and none found in pipelines/*.yaml (run from the repository root or name the files)")
            throw ExitCode(Exit.specError)
        }
        return found
    }

    /// Loads every file, printing all diagnostics of all files before failing. `redactRules`: a gitleaks
    /// rules file added to every redact step; every rules file is read and checked here.
    static func loadAll(_ files: [String], redactRules: String? = nil) throws -> [PipelineSpec] {
        var specs: [PipelineSpec] = []
        var failed = false
        if let r = redactRules, !FileManager.default.fileExists(atPath: r) {
            Terminal.err("\(Terminal.red("error:")) --redact-rules: gitleaks rules file '\(r)' does not exist")
            throw ExitCode(Exit.specError)
        }
        let rulesPath = redactRules.map { $0.hasPrefix("/") ? $0 : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent($0) }
        for f in files {
            do {
                var spec = try PipelineLoader.load(path: f)
                if let rulesPath { spec = spec.withRedactionRules(rulesPath) }
                spec = try BuildRunner.loadRedactionRules(spec)
                let problems = BuildRunner.resourceProblems(spec)
                for p in problems { Terminal.err(p.replacingOccurrences(of: ": error: ", with: ": \(Terminal.red("error:")) ")) }
                if !problems.isEmpty { failed = true }
                specs.append(spec)
            } catch let e as SpecError {
                failed = true
                for d in e.diagnostics {
                    let text = d.description.replacingOccurrences(of: ": error: ", with: ": \(Terminal.red("error:")) ")
                    Terminal.err(text)
                }
            }
        }
        if failed { throw ExitCode(Exit.specError) }
        return specs
    }
}
