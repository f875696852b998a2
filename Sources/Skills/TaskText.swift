import Foundation
import Trajectories

/// What a task asks for, apart from how it was worded: families group runs by it and skill descriptions
/// are written from it. Real task text carries greetings ("Hi!", "Task:"), context sentences (quoted
/// errors, deadlines, pleasantries) and parameters (`name`, "value", (TYPE), numbers, paths) that differ
/// from one run of the same kind of task to the next.
public enum TaskText {
    /// Greetings and labels a task may open with, lower-cased, longest first.
    static let openers = ["hey there", "hi there", "hello there", "good morning", "could you please", "can you please",
                          "would you please", "could you", "can you", "would you", "hi", "hello", "hey", "task", "todo",
                          "request", "please", "pls", "kindly"]

    /// The instruction: the first sentence, after any greeting or label. A sentence ends at `.`, `!` or `?`
    /// followed by white space, or at a line break; text in backticks or quotes does not end it.
    public static func instruction(_ task: String) -> String {
        var s = Substring(task.trimmingCharacters(in: .whitespacesAndNewlines))
        var stripped = true
        while stripped {
            stripped = false
            let lower = s.lowercased()
            for o in openers where lower.hasPrefix(o) {
                let rest = s.dropFirst(o.count)
                guard let next = rest.first, next == " " || next == "!" || next == "," || next == ":" || next == "." || next == "\n" else { continue }
                s = rest.drop { $0 == "!" || $0 == "," || $0 == ":" || $0 == "." || $0.isWhitespace }
                stripped = true
                break
            }
        }
        var out = ""
        var quote: Character?
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "`" || c == "\"" || c == "“" {
                quote = c == "“" ? "”" : c
            } else if c == "\n" {
                if !out.trimmingCharacters(in: .whitespaces).isEmpty { break }
            } else if c == "." || c == "!" || c == "?" {
                let next = s.index(after: i)
                if next == s.endIndex || s[next].isWhitespace { break }
            }
            out.append(c)
            i = s.index(after: i)
        }
        let sentence = out.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let first = sentence.first else { return task.trimmingCharacters(in: .whitespacesAndNewlines) }
        return first.uppercased() + sentence.dropFirst()
    }

    /// The instruction with its parameters taken out: spans in backticks, quotes or parentheses.
    public static func withoutParameters(_ instruction: String) -> String {
        var s = instruction
        for p in [#"`[^`]*`"#, #""[^"]*""#, #"“[^”]*”"#, #"'[^'\s][^']*'"#, #"\([^)]*\)"#] {
            s = TextPattern.cached(p).replacing(in: s, with: " ")
        }
        return s
    }

    /// The words families compare, of an `instruction`: those left without its parameters (stop words,
    /// numbers, paths and identifiers left out as in `Distiller.taskWords`).
    public static func familyWords(_ instruction: String) -> Set<String> {
        Distiller.taskWords(withoutParameters(instruction))
    }

    /// An `instruction` as a word sequence for comparing: lower-cased words, each parameter span (backticks,
    /// quotes, parentheses) and each word with a digit, path or identifier as one stand-in word.
    public static func shape(_ instruction: String) -> [String] {
        let folded = TextPattern.cached(#"`[^`]*`|"[^"]*"|“[^”]*”|\([^)]*\)"#).replacing(in: instruction, with: " \u{1} ")
        return folded.lowercased().split(whereSeparator: \.isWhitespace).map { raw -> String in
            let w = raw.trimmingCharacters(in: CharacterSet.punctuationCharacters.subtracting(CharacterSet(charactersIn: "_/.-")))
            if w.isEmpty { return "\u{1}" }
            if w.contains("/") || w.contains(".") || w.contains("_") || w.rangeOfCharacter(from: .decimalDigits) != nil { return "\u{1}" }
            return w
        }
    }

    /// How alike two instruction shapes are: 2·LCS / (|a| + |b|) over their word sequences — 1 for the same
    /// sentence with other parameters, low for other sentences that share a few words.
    public static func similarity(_ a: [String], _ b: [String]) -> Double {
        guard !a.isEmpty || !b.isEmpty else { return 1 }
        guard !a.isEmpty, !b.isEmpty else { return 0 }
        var prev = [Int](repeating: 0, count: b.count + 1), cur = prev
        for i in 1...a.count {
            for j in 1...b.count {
                cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : max(prev[j], cur[j - 1])
            }
            swap(&prev, &cur)
        }
        return 2 * Double(prev[b.count]) / Double(a.count + b.count)
    }

    /// What the instructions of a family share, word by word: the words of the first that at least 80% of
    /// the others (up to 50) also have in the same order, with the parts that differ as "…". Parameters in backticks,
    /// quotes or parentheses always differ in kind, so they are "…" too.
    public static func skeleton(_ instructions: [String]) -> String {
        func words(_ s: String) -> [String] {
            TextPattern.cached(#"`[^`]*`|"[^"]*"|\([^)]*\)"#).replacing(in: s, with: " \u{1} ").split(whereSeparator: \.isWhitespace).map(String.init)
        }
        guard let first = instructions.first else { return "" }
        let base = words(first)
        let fixed = base.map { $0 != "\u{1}" && !$0.contains(where: \.isNumber) }
        var matches = [Int](repeating: 0, count: base.count)
        let others = instructions.dropFirst().prefix(50)
        for other in others {
            let o = words(other).map { $0.lowercased() }
            // Longest common subsequence (case-insensitive) of base and o: base words outside it vary.
            let a = base.map { $0.lowercased() }
            var table = [[Int]](repeating: [Int](repeating: 0, count: o.count + 1), count: a.count + 1)
            for i in stride(from: a.count - 1, through: 0, by: -1) {
                for j in stride(from: o.count - 1, through: 0, by: -1) {
                    table[i][j] = a[i] == o[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
                }
            }
            var (i, j) = (0, 0)
            var matched = [Bool](repeating: false, count: a.count)
            while i < a.count && j < o.count {
                if a[i] == o[j] { matched[i] = true; i += 1; j += 1 }
                else if table[i + 1][j] >= table[i][j + 1] { i += 1 } else { j += 1 }
            }
            for k in matched.indices where matched[k] { matches[k] += 1 }
        }
        // A word most of the family's instructions have (in order) is part of what they ask; the rest varies.
        let keep = base.indices.map { fixed[$0] && (others.isEmpty || Double(matches[$0]) >= 0.8 * Double(others.count)) }
        var out: [String] = []
        for (w, k) in zip(base, keep) {
            if k { out.append(w) } else if out.last != "…" { out.append("…") }
        }
        return out.joined(separator: " ")
    }
}
