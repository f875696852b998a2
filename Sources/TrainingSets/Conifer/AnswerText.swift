import Foundation
import Trajectories

/// How Conifer's answer checks read a text, in one place: the checks, the renderer and the spans all use
/// these rules (documented in the README, "Conifer constraints", and implemented again in `reward.py`).
/// Offsets are counted in Unicode scalars (Python's `str` indices).
public enum AnswerText {
    /// A half-open range of Unicode scalar offsets.
    public struct Span: Sendable, Hashable, Codable {
        public var start: Int
        public var end: Int
        public init(_ start: Int, _ end: Int) {
            self.start = start
            self.end = end
        }
    }

    /// Words: runs of non-whitespace.
    public static func words(_ text: String) -> Int { text.split(whereSeparator: { $0.isWhitespace }).count }

    /// The text with fenced code blocks and `inline code` removed: what case rules apply to.
    public static func prose(_ text: String) -> String {
        TextPattern.cached("`[^`\\n]*`").replacing(in: TextPattern.cached("```[\\s\\S]*?```").replacing(in: text, with: " "), with: " ")
    }

    /// The text with code (fenced blocks, inline spans) replaced by `x` of the same length, so that
    /// punctuation inside code (`cli.py`) never ends a sentence and offsets stay the same.
    static func masked(_ text: String) -> [Unicode.Scalar] {
        var out = Array(text.unicodeScalars)
        for pattern in ["```[\\s\\S]*?```", "`[^`\\n]*`"] {
            for r in matches(pattern, in: text) {
                for k in r.start..<r.end where out[k] != "\n" { out[k] = "x" }
            }
        }
        return out
    }

    /// Where sentences end: each run of `.`, `!` or `?` outside code that follows a non-space character and
    /// is followed by whitespace or the end of the text. An answer has as many sentences as ends, plus
    /// one when letters or digits follow the last end.
    public static func sentenceEnds(_ text: String) -> [Span] {
        let s = masked(text)
        var ends: [Span] = []
        var i = 0
        while i < s.count {
            guard ".!?".unicodeScalars.contains(s[i]), i > 0, !s[i - 1].properties.isWhitespace else { i += 1; continue }
            var j = i
            while j < s.count, ".!?".unicodeScalars.contains(s[j]) { j += 1 }
            if j == s.count || s[j].properties.isWhitespace { ends.append(Span(i, j)) }
            i = j
        }
        return ends
    }

    /// Sentences: the ends, plus an unterminated last sentence.
    public static func sentenceCount(_ text: String) -> Int {
        let s = masked(text)
        let ends = sentenceEnds(text)
        let tail = s[(ends.last?.end ?? 0)...]
        return ends.count + (tail.contains { $0.properties.isAlphabetic || $0.properties.numericType != nil } ? 1 : 0)
    }

    /// Paragraphs: the parts between lines that hold only `***` (IFEval's markdown divider), trimmed.
    public static func paragraphs(_ text: String) -> [String] {
        var parts: [[Substring]] = [[]]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmed(newlines: false) == "***" { parts.append([]) } else { parts[parts.count - 1].append(line) }
        }
        return parts.map { $0.joined(separator: "\n").trimmed() }
    }

    /// Lines that are bullet points: starting (after indentation) with `* ` or `- `.
    public static func bulletLines(_ text: String) -> [Span] {
        lineSpans(text).compactMap { line, start in
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            guard trimmed.hasPrefix("* ") || trimmed.hasPrefix("- ") else { return nil }
            let indent = line.unicodeScalars.count - trimmed.unicodeScalars.count
            return Span(start + indent, start + indent + 2)
        }
    }

    /// Section headers: lines starting with `SECTION <n>`, with their number.
    public static func sectionHeaders(_ text: String) -> [(number: Int, span: Span)] {
        lineSpans(text).compactMap { line, start in
            guard line.hasPrefix("SECTION ") else { return nil }
            let digits = line.dropFirst(8).prefix { $0.isASCII && $0.isNumber }
            guard let n = Int(digits) else { return nil }
            return (n, Span(start, start + 8 + digits.count))
        }
    }

    /// Titles: `<<…>>` on one line.
    public static func titles(_ text: String) -> [(text: String, span: Span)] {
        matches("<<[^\\n<>]+>>", in: text).map { r in (String(String.UnicodeScalarView(Array(text.unicodeScalars)[r.start..<r.end])), r) }
    }

    /// The answer as one JSON object, when it is one (surrounding whitespace allowed, nothing else).
    public static func jsonObject(_ text: String) -> [String: Any]? {
        let t = text.trimmed()
        guard t.hasPrefix("{"), let o = try? JSONSerialization.jsonObject(with: Data(t.utf8)) as? [String: Any] else { return nil }
        return o
    }

    /// Every case-insensitive occurrence of `keyword` not inside a longer word (no letter, digit or `_`
    /// right before or after it).
    public static func occurrences(of keyword: String, in text: String) -> [Span] {
        matches("(?i)(?<!\\w)" + NSRegularExpression.escapedPattern(for: keyword) + "(?!\\w)", in: text)
    }

    /// Matches of `pattern` as scalar offsets.
    static func matches(_ pattern: String, in text: String) -> [Span] {
        let ns = text as NSString
        let found = TextPattern.cached(pattern).regex.matches(in: text, range: NSRange(location: 0, length: ns.length))
        guard !found.isEmpty else { return [] }
        // UTF-16 offset → scalar offset.
        var map: [Int: Int] = [:]
        var u16 = 0
        for (k, scalar) in text.unicodeScalars.enumerated() {
            map[u16] = k
            u16 += scalar.utf16.count
        }
        map[u16] = text.unicodeScalars.count
        return found.compactMap { m in
            guard let a = map[m.range.location], let b = map[m.range.location + m.range.length] else { return nil }
            return Span(a, b)
        }
    }

    /// Each line with the scalar offset where it starts.
    static func lineSpans(_ text: String) -> [(Substring, Int)] {
        var out: [(Substring, Int)] = []
        var offset = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            out.append((line, offset))
            offset += line.unicodeScalars.count + 1
        }
        return out
    }

    /// The characters of `answer` that satisfy `check`: removing them makes the check fail. Rules about
    /// the whole answer (length, case, commas, excluded words) span all of it (an empty answer fails
    /// every answer check); the others span what they require: each keyword occurrence, the title, the
    /// bullet markers, the section headers, the `***` dividers, the sentence ends, the JSON keys, the code
    /// fences, the quotation marks, the start or end phrase.
    public static func spans(of check: Check, in answer: String) -> [Span] {
        let length = answer.unicodeScalars.count
        switch check {
        case .includes(let keywords): return keywords.flatMap { occurrences(of: $0, in: answer) }.sorted { $0.start < $1.start }
        case .excludes, .minWords, .maxWords, .lowercase, .uppercase, .noCommas: return [Span(0, length)]
        case .sentences: return sentenceEnds(answer)
        case .paragraphs: return lineSpans(answer).filter { $0.0.trimmed(newlines: false) == "***" }
            .map { Span($0.1, $0.1 + $0.0.unicodeScalars.count) }
        case .bullets: return bulletLines(answer)
        case .sections: return sectionHeaders(answer).map(\.span)
        case .title: return titles(answer).map(\.span)
        case .jsonKeys(let keys):
            return keys.compactMap { key in
                let token = String(decoding: (try? JSONSerialization.data(withJSONObject: [key], options: [.withoutEscapingSlashes])) ?? Data(), as: UTF8.self)
                    .dropFirst().dropLast()
                return matches(NSRegularExpression.escapedPattern(for: String(token)) + "\\s*:", in: answer).first.map { Span($0.start, $0.start + token.unicodeScalars.count) }
            }
        case .codeBlock:
            return lineSpans(answer).filter { $0.0.trimmed(newlines: false).hasPrefix("```") }
                .map { Span($0.1, $0.1 + $0.0.unicodeScalars.count) }
        case .quoted: return length >= 2 ? [Span(0, 1), Span(length - 1, length)] : []
        case .startsWith(let p): return answer.hasPrefix(p) ? [Span(0, p.unicodeScalars.count)] : []
        case .endsWith(let p): return answer.hasSuffix(p) ? [Span(length - p.unicodeScalars.count, length)] : []
        case .onlyTools, .usesTool, .maxToolCalls, .testsAfterLastChange, .noDestructiveCommands, .inspectsBeforeChanging,
             .verifiesAfterLastChange, .maxSteps:
            return []
        }
    }
}
