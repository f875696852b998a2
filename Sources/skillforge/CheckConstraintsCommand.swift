import ArgumentParser
import Foundation
import TrainingSets
import Trajectories

struct CheckConstraintsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-constraints",
        abstract: "Re-run the checkers of a Conifer dataset file against its own records.",
        discussion: "Exit code 0 when every constraint passes on its own answer, every span is exact and every critique lists exactly the checks its weaker answer fails; 1 otherwise."
    )

    @Argument(help: "Conifer part files of any config (out/datasets/<output>/data/**/*.jsonl).")
    var files: [String]

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    func run() throws {
        var failed = false
        var reports: [String: ConstraintAudit.Report] = [:]
        for f in files {
            let report: ConstraintAudit.Report
            do { report = try ConstraintAudit.audit(path: f, display: f) } catch {
                Terminal.err("\(Terminal.red("error:")) \(error)")
                throw ExitCode(Exit.buildFailure)
            }
            reports[f] = report
            if !report.failures.isEmpty || !report.unreadable.isEmpty { failed = true }
            if !json {
                Terminal.out("\(f): \(report.records) records, \(report.constraintsChecked) constraints and \(report.critiquesChecked) critiques checked, \(report.failures.count) failure(s), \(report.unreadable.count) unreadable line(s)")
                for x in report.failures.prefix(50) { Terminal.out("  \(f):\(x.line): \(x.checker): \(x.problem)") }
                for q in report.unreadable.prefix(20) { Terminal.out("  \(q.location): \(q.reason)") }
            }
        }
        if json { Terminal.out(String(decoding: try JSONCoding.prettyEncoder.encode(reports), as: UTF8.self)) }
        if failed { throw ExitCode(Exit.buildFailure) }
    }
}
