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

    func run() throws {
        let files = try PipelineFiles.resolve(pipelines)
        let specs = try PipelineFiles.loadAll(files)
        do {
            try BuildRunner.checkConflicts(specs)
        } catch {
            Terminal.err("\(Terminal.red("error:")) \(error)")
            throw ExitCode(Exit.specError)
        }
        let printer = ProgressPrinter(quiet: quiet || json)
        let runner = BuildRunner(options: .init(outDirectory: URL(fileURLWithPath: out), progress: { printer.handle($0) },
                                                useCache: !noCache))
        var results: [BuildResult] = []
        for spec in specs {
            do {
                let r = try runner.run(spec)
                results.append(r)
                if !quiet && !json { Summary.print(r, verbose: verbose) }
            } catch {
                Terminal.err("\(Terminal.red("error:")) \(error)")
                throw ExitCode(Exit.buildFailure)
            }
        }
        if json {
            let data = try JSONCoding.prettyEncoder.encode(results)
            Terminal.out(String(decoding: data, as: UTF8.self))
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

    /// Loads every file, printing all diagnostics of all files before failing.
    static func loadAll(_ files: [String]) throws -> [PipelineSpec] {
        var specs: [PipelineSpec] = []
        var failed = false
        for f in files {
            do {
                let spec = try PipelineLoader.load(path: f)
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
