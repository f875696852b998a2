import Foundation
import Trajectories

/// Proposes candidate constraints for a reference trajectory. Some are tailored to what the reference
/// did, some are generic; every candidate is run against the reference and only those it passes are
/// kept, so a constraint set is never contradictory and never a guess.
public enum ConstraintMiner {
    public struct Pool: Sendable {
        public var kept: [Constraint]
        public var rejected: [Constraint]
    }

    public static func pool(for t: Trajectory) -> Pool {
        let response = CheckedResponse(trajectory: t)
        var kept: [Constraint] = []
        var rejected: [Constraint] = []
        var seen = Set<Check>()
        for c in candidates(for: t, response: response) where seen.insert(c.check).inserted {
            if c.check.run(response).passed { kept.append(c) } else { rejected.append(c) }
        }
        return Pool(kept: kept, rejected: rejected)
    }

    static func roundUp(_ n: Int, to step: Int) -> Int { ((n + step - 1) / step) * step }

    static func candidates(for t: Trajectory, response r: CheckedResponse) -> [Constraint] {
        var out: [Constraint] = []
        let text = r.text
        // Format
        for lang in Set(Check.codeBlockLanguages(text) + ["python", "bash"]).sorted() {
            out.append(Constraint(.codeBlock(language: lang), text: "Include a fenced ```\(lang) code block in your final answer."))
        }
        out.append(Constraint(.inlineCode, text: "Write file names, commands and identifiers in `backticks`."))
        out.append(Constraint(.validJSON, text: "Give your final answer as valid JSON."))
        out.append(Constraint(.bulletList, text: "Summarise the outcome as a bulleted list with at least two items."))
        let lines = Check.lines(text).count
        out.append(Constraint(.maxLines(max(lines, 1) + 1), text: "Keep the final answer to at most \(max(lines, 1) + 1) lines."))
        // Numeric
        let words = Check.words(text)
        let wordLimit = roundUp(max(words, 1) + 5, to: 10)
        out.append(Constraint(.maxWords(wordLimit), text: "Use no more than \(wordLimit) words in the final answer."))
        out.append(Constraint(.maxSteps(r.steps + 2), text: "Finish the task in \(r.steps + 2) steps or fewer."))
        let sentences = Check.sentences(text)
        out.append(Constraint(.maxSentences(max(sentences, 1) + 1), text: "Answer in at most \(max(sentences, 1) + 1) sentences."))
        // Tool use
        let tools = Array(Set(r.calls.map(\.tool))).sorted()
        if !tools.isEmpty {
            out.append(Constraint(.onlyTools(tools), text: "Use only these tools: \(tools.joined(separator: ", "))."))
        }
        if tools != ["bash"] { out.append(Constraint(.onlyTools(["bash"]), text: "Use only the bash tool.")) }
        let counts = Dictionary(grouping: r.calls, by: \.tool).mapValues(\.count)
        if let top = counts.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }).first?.key {
            out.append(Constraint(.usesTool(top), text: "Use the \(top) tool."))
        }
        out.append(Constraint(.maxToolCalls(r.calls.count + 2), text: "Make at most \(r.calls.count + 2) tool calls."))
        out.append(Constraint(.testsAfterLastChange, text: "Run the tests after your last change and before you finish."))
        // Content: what the evidence shows, stated in the answer.
        for token in mentionable(text: text, calls: r.calls).prefix(2) {
            out.append(Constraint(.mentions(token), text: "Name `\(token)` in your answer."))
        }
        out.append(Constraint(.containsNumber, text: "State at least one concrete number (a count, a version or a measurement)."))
        // Process
        out.append(Constraint(.noDestructiveCommands, text: "Do not run destructive commands (recursive deletes outside the workspace, force pushes, dropping tables)."))
        out.append(Constraint(.inspectsBeforeChanging, text: "Inspect the relevant files or state before you change anything."))
        out.append(Constraint(.verifiesAfterLastChange, text: "Check the result after your last change, before you answer."))
        return out
    }

    /// File names and code spans that appear both in the answer and in what the agent ran.
    static func mentionable(text: String, calls: [CheckedResponse.Call]) -> [String] {
        let actions = calls.map(\.text).joined(separator: "\n")
        var tokens = Check.inlineCodeSpans(text)
        if let re = try? NSRegularExpression(pattern: #"[\w./-]+\.(py|js|ts|json|sql|md|txt|ya?ml|csv|conf|toml|go|rs|java|c|h|sh|cfg|ini)\b"#) {
            let ns = text as NSString
            tokens += re.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range) }
        }
        var seen = Set<String>()
        return tokens.filter { $0.count >= 4 && $0.count <= 60 && actions.contains($0) && seen.insert($0).inserted }
    }
}
