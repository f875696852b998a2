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
                if let record = try? JSONCoding.decoder.decode(ConiferRecord.self, from: data) {
                    report.records += 1
                    check(record, line: line.number, into: &report)
                } else if let record = try? JSONCoding.decoder.decode(ConiferFeedbackRecord.self, from: data) {
                    report.records += 1
                    check(record, line: line.number, into: &report)
                } else if let record = try? JSONCoding.decoder.decode(ConiferRLRecord.self, from: data) {
                    // No answer to check: the checkers must decode and be answer checks.
                    report.records += 1
                    for c in record.constraints where !c.check.isAnswerCheck {
                        report.failures.append(Failure(line: line.number, checker: c.check.id, problem: "an RL prompt carries a process check"))
                    }
                } else {
                    report.unreadable.append(QuarantineEntry(file: name, line: line.number, reason: "not a Conifer record",
                                                             excerpt: QuarantineEntry.excerpt(of: batch.bytes[line.range])))
                }
            }
        }
        return report
    }

    /// Spans must lie in the named message and be exactly what `AnswerText.spans` finds there.
    static func checkSpans(_ constraints: [Constraint], messages: [ChatMessage], answer: String, line: Int, into report: inout Report) {
        for c in constraints {
            let expected = AnswerText.spans(of: c.check, in: answer)
            let found = (c.spans ?? []).map { AnswerText.Span($0.start, $0.end) }
            let inRange = (c.spans ?? []).allSatisfy { messages.indices.contains($0.message) && $0.end <= messages[$0.message].content.unicodeScalars.count }
            if !inRange || found != expected {
                report.failures.append(Failure(line: line, checker: c.check.id, problem: "spans \(found.map { "\($0.start)..<\($0.end)" }) differ from the answer's \(expected.map { "\($0.start)..<\($0.end)" })"))
            }
        }
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
            // The process happened in the first turn; later turns give the answer again under more constraints.
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
        checkSpans(record.constraints, messages: record.messages, answer: response.text, line: line, into: &report)
    }

    static func check(_ record: ConiferFeedbackRecord, line: Int, into report: inout Report) {
        let answer = record.completion.last?.content ?? ""
        for c in record.constraints {
            report.constraintsChecked += 1
            let r = c.check.runOnAnswer(answer)
            if !r.passed { report.failures.append(Failure(line: line, checker: c.check.id, problem: "revised answer fails: \(r.evidence)")) }
        }
        checkSpans(record.constraints, messages: record.completion, answer: answer, line: line, into: &report)
        report.critiquesChecked += 1
        let users = record.prompt.filter { $0.role == "user" }
        let weak = record.prompt.last { $0.role == "assistant" }?.content ?? ""
        let failing = record.constraints.filter { !$0.check.runOnAnswer(weak).passed }.map(\.text)
        let critiqued = record.critique.compactMap { line in record.constraints.first { line.hasPrefix("- \($0.text)") }?.text }
        if failing.isEmpty || Set(failing) != Set(critiqued) || critiqued.count != record.critique.count {
            report.failures.append(Failure(line: line, checker: "critique",
                                           problem: "critique lists \(critiqued.count) check(s) but the weaker answer fails \(failing.count)"))
        }
        if users.count != 2 || !(users.last?.content.hasSuffix(ConiferBuilder.revisePrompt) ?? false) || record.completion.count != 1 {
            report.failures.append(Failure(line: line, checker: "critique", problem: "not Conifer's 4-turn shape"))
        }
    }
}
