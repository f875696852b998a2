import Engine
import Foundation
import Prepare
import Trajectories

/// The human-readable end-of-build summary.
enum Summary {
    /// `out`: the output directory as the user gave it (`--out`), for the paths the summary names.
    static func print(_ r: BuildResult, out: String, verbose: Bool) {
        let out = out.hasSuffix("/") ? String(out.dropLast()) : out
        var lines: [String] = []
        if r.upToDate == true {
            Terminal.err("\(Terminal.green("up to date")) \(r.pipeline) (\(String(format: "%.2f", r.seconds))s): no input, setting or output changed since the last build; nothing was rebuilt (--no-cache rebuilds anyway)")
            return
        }
        lines.append("\(Terminal.green("built")) \(r.pipeline) in \(String(format: "%.2f", r.seconds))s: \(r.recordsRead) trajectories from \(r.inputFiles) file(s)"
            + (r.outcomesJoined > 0 ? ", \(r.outcomesJoined) outcomes joined" : "")
            + (r.repairedLines > 0 ? ", \(r.repairedLines) line(s) with invalid UTF-8 repaired" : "")
            + "; ingest cache: \(r.cache.hits) hit(s), \(r.cache.misses) miss(es)")
        for s in r.prepare { lines.append("  " + describe(s)) }
        for d in r.datasets {
            let splits = d.splits.keys.sorted(by: >).map { "\($0) \(d.splits[$0]!)" }.joined(separator: ", ")
            var line = "  dataset \(d.name): \(d.records) records (\(splits)) → \(d.path)"
            if !d.skipped.isEmpty { line += "; no record for " + d.skipped.map { "\($1) (\($0))" }.sorted().joined(separator: ", ") }
            if let reused = d.unitsReused, let made = d.unitsMade {
                line += "; units of work: \(reused) reused from the last build, \(made) made"
            }
            if d.partsKept > 0 {
                line += "; part files: \(d.partsKept) kept, \(d.partsWritten) written"
            }
            lines.append(line)
        }
        if let skills = r.skills {
            lines.append("  skills → \(out)/skills: " + (skills["skills"]?.objectValue ?? [:]).keys.sorted().map { "\($0.replacingOccurrences(of: "_", with: " ")) \(skills["skills"]![$0]!.intValue ?? 0)" }.joined(separator: ", ")
                         + "; \(skills["families_below_min_support"]?.intValue ?? 0) famil(ies) below min_support"
                         + "; \(skills["families_without_shared_procedure"]?.intValue ?? 0) whose runs share no procedure")
        }
        if !r.quarantined.isEmpty {
            lines.append("  \(Terminal.yellow("quarantined")) \(r.quarantined.count) record(s) (\(out)/report/\(r.pipeline)/quarantine.jsonl):")
            for q in r.quarantined.prefix(verbose ? Int.max : 10) { lines.append("    \(q.location): \(q.reason)") }
            if !verbose && r.quarantined.count > 10 { lines.append("    … \(r.quarantined.count - 10) more (use --verbose)") }
        }
        Terminal.err(lines.joined(separator: "\n"))
    }

    static func describe(_ s: StepStats) -> String {
        var text = "\(s.step): \(s.recordsIn) in → \(s.recordsOut) out"
        if !s.counts.isEmpty {
            text += " (" + s.counts.keys.sorted().map { "\($0) \(s.counts[$0]!)" }.joined(separator: ", ") + ")"
        }
        return text
    }
}
