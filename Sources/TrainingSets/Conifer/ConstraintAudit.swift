import Foundation
import Trajectories

/// Re-runs every constraint of a Conifer dataset file against the records themselves, so a user can
/// audit a dataset without the trajectories it came from. External-feedback records are also checked
/// to critique exactly the checks their weaker answer fails.
public enum ConstraintAudit {
    public struct Failure: Sendable, Hashable, Codable {
        public var line: Int
        public var checker: String
        public var problem: String
    }

    public struct Report: Sendable, Codable {
        public var records = 0
        public var constraintsChecked = 0
        public var critiquesChecked = 0
        public var failures: [Failure] = []
        public var unreadable: [QuarantineEntry] = []

        enum CodingKeys: String, CodingKey {
            case records, constraintsChecked = "constraints_checked", critiquesChecked = "critiques_checked", failures, unreadable
        }
    }

    /// Splits messages into segments, each the turns that follow one user message.
    static func segments(_ messages: [ChatMessage]) -> [[ChatMessage]] {
        var out: [[ChatMessage]] = []
        for m in messages where m.role != "system" {
            if m.role == "user" { out.append([]) } else if !out.isEmpty { out[out.count - 1].append(m) }
        }
        return out
    }

    public static func audit(path: String, display: String? = nil) throws -> Report {
        var report = Report()
        let reader = try LineReader(path: path)
        let name = display ?? path
        while let batch = try reader.nextBatch() {
            for line in batch.lines {
                let data = batch.data(of: line)
                guard let record = try? JSONCoding.decoder.decode(ConiferRecord.self, from: data) else {
                    report.unreadable.append(QuarantineEntry(file: name, line: line.number, reason: "not a Conifer record",
                                                             excerpt: QuarantineEntry.excerpt(of: batch.bytes[line.range])))
                    continue
                }
                report.records += 1
                check(record, line: line.number, into: &report)
            }
        }
        return report
    }

    static func check(_ record: ConiferRecord, line: Int, into report: inout Report) {
        let segs = segments(record.messages)
        guard let lastSegment = segs.last, let firstSegment = segs.first else {
            report.failures.append(Failure(line: line, checker: "record", problem: "no user turn"))
            return
        }
        var response: CheckedResponse
        switch record.kind {
        case "easy_to_hard":
            // The process happened in the first turn; later turns restate the final answer.
            let first = CheckedResponse(segment: firstSegment)
            let last = CheckedResponse(segment: lastSegment)
            response = CheckedResponse(text: last.text, calls: first.calls, steps: first.steps)
        default:
            response = CheckedResponse(segment: lastSegment, stripping: ConiferBuilder.feedbackMarker)
        }
        for c in record.constraints {
            report.constraintsChecked += 1
            let r = c.check.run(response)
            if !r.passed { report.failures.append(Failure(line: line, checker: c.check.id, problem: "reference fails: \(r.evidence)")) }
        }
        if record.kind == "external_feedback" {
            report.critiquesChecked += 1
            let weak = CheckedResponse(segment: firstSegment)
            let failing = record.constraints.filter { !$0.check.run(weak).passed }.map(\.text)
            let critiqued = (record.critique ?? []).compactMap { line in record.constraints.first { line.hasPrefix("- \($0.text)") }?.text }
            if failing.isEmpty || Set(failing) != Set(critiqued) || critiqued.count != (record.critique ?? []).count {
                report.failures.append(Failure(line: line, checker: "critique",
                                               problem: "critique lists \(critiqued.count) check(s) but the weaker answer fails \(failing.count)"))
            }
            let turns = record.messages.filter { $0.role == "user" }
            if turns.count != 2 || !(turns.last?.content.hasSuffix(ConiferBuilder.revisePrompt) ?? false) {
                report.failures.append(Failure(line: line, checker: "critique", problem: "not Conifer's 4-turn shape"))
            }
        }
    }
}
