import Foundation
import Trajectories

/// Proposes candidate constraints for a reference trajectory. Answer constraints are chosen so that they
/// change the answer (a keyword the plain answer lacks, a word budget below or above it, a layout it does
/// not have); process constraints are the reference's own process, kept only when it passes them.
/// Whether an answer constraint can be met is decided when levels are made, by rendering the answer.
public enum ConstraintMiner {
    public struct Pool: Sendable {
        public var answer: [Constraint]
        public var process: [Constraint]
        /// Process candidates the reference fails (never used).
        public var rejected: [Constraint]
        public var kept: [Constraint] { answer + process }
    }

    static func roundUp(_ n: Int, to step: Int) -> Int { ((n + step - 1) / step) * step }

    static let stopWords: Set<String> = ["the", "and", "that", "this", "with", "from", "into", "have", "were", "was", "are", "for",
                                         "but", "not", "now", "all", "its", "their", "there", "then", "than", "they", "them", "which",
                                         "when", "what", "where", "will", "would", "should", "could", "been", "being", "also", "only"]

    static let startPhrases = ["Done:", "Summary:", "Result:", "Here is what I did:", "Status update:"]
    static let endPhrases = ["Is there anything else I can help with?", "Let me know if you want any changes.",
                             "That is everything for this task.", "Happy to adjust anything else."]

    public static func pool(for t: Trajectory, facts: AnswerFacts, rng: inout SeededGenerator) -> Pool {
        let response = CheckedResponse(trajectory: t)
        var answer: [Constraint] = []
        func pick(_ options: [String]) -> String { rng.pick(options) }
        let baselineText = facts.baseline.map(\.text).joined(separator: " ")
        let baselineWords = AnswerText.words(baselineText)
        let allWords = facts.points.reduce(0) { $0 + AnswerText.words($1.text) }
        let n = facts.points.count

        // Keywords: a code word the plain answer does not use (a file, a command's result, a tool).
        let codeWords = facts.points.filter { $0.kind != .summary }.flatMap { AnswerRenderer.codeSpans($0.text) }
            .filter { !$0.contains(" ") && (3...40).contains($0.count) && AnswerText.occurrences(of: $0, in: baselineText).isEmpty }
        var seen = Set<String>()
        let fresh = codeWords.filter { seen.insert($0.lowercased()).inserted }
        if let k = fresh.first {
            answer.append(Constraint(.includes([k]), text: pick(["Mention `\(k)` in your final answer.", "Your final answer must include the keyword `\(k)`.",
                                                                  "Make sure the final answer names `\(k)`."])))
        }
        // A word the plain answer uses, to avoid (the answer must then be told with other facts).
        let prose = AnswerText.prose(baselineText).lowercased().split { !$0.isLetter }.map(String.init)
        if let word = prose.first(where: { w in w.count >= 5 && !stopWords.contains(w)
            && facts.points.contains { AnswerText.occurrences(of: w, in: $0.text).isEmpty } }) {
            answer.append(Constraint(.excludes([word]), text: pick(["Do not use the word “\(word)” in your final answer.",
                                                                    "Avoid the word “\(word)” anywhere in the final answer."])))
        }
        // Length.
        if baselineWords >= 20 {
            let limit = max(10, roundUp(baselineWords * 3 / 5, to: 5))
            answer.append(Constraint(.maxWords(limit), text: pick(["Keep the final answer under \(limit + 1) words.", "Use at most \(limit) words in the final answer."])))
        }
        let more = roundUp(baselineWords * 3 / 2 + 5, to: 5)
        if allWords >= more + 5 {
            answer.append(Constraint(.minWords(more), text: pick(["Write at least \(more) words in the final answer.", "The final answer should be \(more) words or longer."])))
        }
        if n >= 2 {
            let k = 2 + rng.below(min(4, n) - 1)
            answer.append(Constraint(.sentences(k), text: pick(["Answer in exactly \(k) sentences.", "Your final answer must have exactly \(k) sentences."])))
            answer.append(Constraint(.bullets(k), text: pick(["Give the final answer as exactly \(k) markdown bullet points (`* `).",
                                                               "Your answer must contain exactly \(k) bullet points, each starting with `* `."])))
            let p = 2 + rng.below(min(3, n) - 1)
            answer.append(Constraint(.paragraphs(p), text: "Write \(p) paragraphs, separated by the markdown divider `***`."))
            answer.append(Constraint(.sections(p), text: "Organise the final answer in \(p) sections, each starting with a line `SECTION X` (X = 1, 2, …)."))
        }
        var keys = ["summary"]
        if !facts.changed.isEmpty { keys.append("files_changed") }
        if facts.points.contains(where: { $0.kind == .test || $0.kind == .check }) { keys.append("verification") }
        if keys.count < 3, !facts.tools.isEmpty { keys.append("tools") }
        answer.append(Constraint(.jsonKeys(keys), text: "Give the final answer as one JSON object with exactly the keys " + keys.map { "\"\($0)\"" }.joined(separator: ", ") + ", and nothing else."))
        answer.append(Constraint(.title, text: pick(["Give the final answer a title wrapped in double angular brackets, such as <<title>>.",
                                                     "Start with a title in double angular brackets, like <<my title>>."])))
        if facts.checkCommand != nil {
            answer.append(Constraint(.codeBlock(language: "bash"), text: "Show the command you used to check the result in a fenced ```bash code block."))
        }
        answer.append(Constraint(.quoted, text: "Wrap your entire final answer in double quotation marks."))
        answer.append(Constraint(.lowercase, text: "Write the final answer in lowercase letters only (code in backticks stays as it is)."))
        answer.append(Constraint(.uppercase, text: "Write the final answer in capital letters only (code in backticks stays as it is)."))
        let start = pick(startPhrases), end = pick(endPhrases)
        answer.append(Constraint(.startsWith(start), text: "Begin the final answer with “\(start)”."))
        answer.append(Constraint(.endsWith(end), text: "End the final answer with the exact phrase “\(end)” and nothing after it."))
        answer.append(Constraint(.noCommas, text: "Do not use any commas in the final answer."))

        var process: [Constraint] = []
        var rejected: [Constraint] = []
        for c in processCandidates(response) {
            if c.check.run(response).passed { process.append(c) } else { rejected.append(c) }
        }
        return Pool(answer: answer, process: process, rejected: rejected)
    }

    static func processCandidates(_ r: CheckedResponse) -> [Constraint] {
        var out: [Constraint] = []
        let tools = Array(Set(r.calls.map(\.tool))).sorted()
        if !tools.isEmpty { out.append(Constraint(.onlyTools(tools), text: "Use only these tools: \(tools.joined(separator: ", ")).")) }
        let counts = Dictionary(grouping: r.calls, by: \.tool).mapValues(\.count)
        if let top = counts.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }).first?.key {
            out.append(Constraint(.usesTool(top), text: "Use the \(top) tool."))
        }
        out.append(Constraint(.maxToolCalls(r.calls.count + 2), text: "Make at most \(r.calls.count + 2) tool calls."))
        out.append(Constraint(.testsAfterLastChange, text: "Run the tests after your last change and before you finish."))
        out.append(Constraint(.noDestructiveCommands, text: "Do not run destructive commands (recursive deletes outside the workspace, force pushes, dropping tables)."))
        out.append(Constraint(.inspectsBeforeChanging, text: "Inspect the relevant files or state before you change anything."))
        out.append(Constraint(.verifiesAfterLastChange, text: "Check the result after your last change, before you answer."))
        out.append(Constraint(.maxSteps(r.steps + 2), text: "Finish the task in \(r.steps + 2) steps or fewer."))
        return out
    }

    /// Whether two answer checks can hold together (one layout; case, phrases, quotation and JSON apart).
    static func compatible(_ a: Check, _ b: Check) -> Bool {
        func layout(_ c: Check) -> Bool {
            switch c { case .bullets, .sentences, .paragraphs, .sections, .jsonKeys: return true; default: return false }
        }
        if a.id == b.id { return false }
        if layout(a) && layout(b) { return false }
        let conflicts: [String: Set<String>] = [
            "format.json_keys": ["format.title", "format.code_block", "case.lower", "case.upper", "phrase.start", "phrase.end", "punctuation.no_commas", "format.quotation"],
            "case.lower": ["case.upper", "phrase.start", "phrase.end", "format.title", "format.json_keys"],
            "case.upper": ["case.lower", "phrase.start", "phrase.end", "format.title", "format.json_keys"],
            "format.quotation": ["phrase.start", "phrase.end", "format.json_keys"],
            "length.sentences": ["format.title", "phrase.start", "phrase.end"],
        ]
        if conflicts[a.id]?.contains(b.id) == true || conflicts[b.id]?.contains(a.id) == true { return false }
        if case .includes(let k) = a, case .excludes(let x) = b, !Set(k.map { $0.lowercased() }).isDisjoint(with: x) { return false }
        if case .includes(let k) = b, case .excludes(let x) = a, !Set(k.map { $0.lowercased() }).isDisjoint(with: x) { return false }
        return true
    }
}
