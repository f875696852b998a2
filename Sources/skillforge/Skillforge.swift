import ArgumentParser
import Foundation

/// Exit codes (documented in the README): 0 success, 1 build failure, 2 spec or usage error.
enum Exit {
    static let buildFailure: Int32 = 1
    static let specError: Int32 = 2
    /// Stopped by SIGINT/SIGTERM (128 + SIGINT, as shells report it).
    static let interrupted: Int32 = 130
}

@main
struct Skillforge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skillforge",
        abstract: "Build training sets and skill bundles from agent trajectories.",
        discussion: "Exit codes: 0 success, 1 build failure, 2 pipeline-spec or usage error.",
        version: "0.1.0",
        subcommands: [BuildCommand.self, MergeCommand.self, ValidateCommand.self, PlanCommand.self, CacheCommand.self, ImportCommand.self, InspectCommand.self, CheckConstraintsCommand.self, ExplainRiskCommand.self, SkillCommand.self, PackCommand.self, CatalogCommand.self, PublishCommand.self, BenchCommand.self, SamplesCommand.self]
    )

    /// ArgumentParser exits 64 on usage errors; skillforge documents 2.
    static func main() {
        // A file-size limit (ulimit -f) then fails the write with EFBIG, reported like a full disk,
        // instead of killing the process.
        signal(SIGXFSZ, SIG_IGN)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code.rawValue == 0 { Skillforge.exit(withError: error) }  // --help, --version
            if !(error is ExitCode) {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            }
            Foundation.exit(code == .validationFailure ? Exit.specError : code.rawValue)
        }
    }
}
