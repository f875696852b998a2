import ArgumentParser
import Engine
import Foundation
import Pipelines
import Styles

struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Manage out/.cache (per-input ingest results and per-task-family Conifer records reused by later builds).",
        subcommands: [GC.self, Clear.self]
    )

    struct GC: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "gc", abstract: "Remove cache entries no build has used for a while.")
        @Option(name: .long) var out: String = "out"
        @Option(name: .long, help: "Keep entries used within this many days.") var keepDays: Double = 7
        func run() throws {
            let n = try BuildRunner.collectCacheGarbage(outDirectory: URL(fileURLWithPath: out), keepDays: keepDays)
            Terminal.out("removed \(n) cache entr\(n == 1 ? "y" : "ies") unused for \(keepDays) day(s)")
        }
    }

    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "clear", abstract: "Remove the whole cache.")
        @Option(name: .long) var out: String = "out"
        func run() throws {
            let n = try BuildRunner.collectCacheGarbage(outDirectory: URL(fileURLWithPath: out), keepDays: -1)
            Terminal.out("removed \(n) cache entr\(n == 1 ? "y" : "ies")")
        }
    }
}

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what a build would do: each input's format and whether its ingest is cached, and the outputs."
    )
    @Argument(help: "Pipeline files (default: pipelines/*.yaml).") var pipelines: [String] = []
    @Option(name: .long) var out: String = "out"

    func run() throws {
        let specs = try PipelineFiles.loadAll(try PipelineFiles.resolve(pipelines))
        for spec in specs {
            Terminal.out("\(spec.file) (\(spec.name)):")
            do {
                for line in try BuildRunner.plan(spec, outDirectory: URL(fileURLWithPath: out)) {
                    let chunks = line.entries > 1 ? " (\(line.entriesCached) of \(line.entries) chunks cached)" : ""
                    Terminal.out("  \(line.file)  \(line.format)  \(line.cached ? "cached" : line.entriesCached > 0 ? "partly cached, the rest will be read" : "will be read")\(chunks)")
                }
            } catch {
                Terminal.err("\(Terminal.red("error:")) \(error)")
                throw ExitCode(Exit.buildFailure)
            }
            for o in spec.outputs {
                let note = (try? OutputStyles.style(o.style).reuseNote) ?? "its style is not registered"
                Terminal.out("  output \(o.name) (\(o.style.rawValue)): \(note)")
            }
        }
    }
}
