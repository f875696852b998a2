import Foundation
import Trajectories

/// What a reference run established, as sentences an answer can be made of: the reference's own answer
/// (split into sentences, code in backticks), the files it changed, the test or check it ran last and
/// what that reported, what it read first, how many calls it made. Every Conifer answer is composed
/// from these facts, so answers under different constraints say true things about the same run.
public struct AnswerFacts: Sendable {
    public struct Point: Sendable, Hashable {
        public enum Kind: Int, Sendable, Hashable { case summary, change, test, check, inspection, count }
        public var text: String
        public var kind: Kind
    }

    public var task: String
    public var points: [Point]
    public var changed: [String]
    public var tools: [String]
    /// The last test or check command after the last change (what a ```bash block can show).
    public var checkCommand: String?
    /// A short title made from the task.
    public var title: String

    /// The sentences of the reference's own answer, in order (the answer with no constraint).
    public var baseline: [Point] { points.filter { $0.kind == .summary } }

    public init(reference t: Trajectory) {
        task = t.task
        let response = CheckedResponse(trajectory: t)
        var points: [Point] = Self.sentences(of: response.text).map { Point(text: $0, kind: .summary) }
        // Files changed, in order of first change.
        var changed: [String] = []
        var inspected: [String] = []
        for s in t.steps {
            guard let a = s.action else { continue }
            let call = CheckedResponse.Call(tool: a.tool, text: CheckedResponse.text(tool: a.tool, input: a.input))
            let path = Self.path(of: a)
            if Check.isChange(call) {
                if let p = path, !changed.contains(p) { changed.append(p) }
            } else if Check.isInspection(call), changed.isEmpty, let p = path, !inspected.contains(p) {
                inspected.append(p)
            }
        }
        self.changed = changed
        let verbs = ["Changed", "Edited", "Updated"]
        for p in changed.prefix(4) {
            let verb = verbs[Int(StableHash.fnv1a(p) % UInt64(verbs.count))]
            points.append(Point(text: "\(verb) `\(Self.codeSafe(p))`.", kind: .change))
        }
        // The last test or check after the last change, with the last line of what it printed.
        let calls = response.calls
        let lastChange = calls.lastIndex(where: Check.isChange) ?? -1
        let after = calls.indices.filter { $0 > lastChange && !Check.isChange(calls[$0]) }
        let actions = t.steps.filter { $0.action != nil }
        if let k = after.last(where: { Check.isTest(calls[$0].text) }) ?? after.last, k < actions.count, actions[k].action?.tool == "bash" || actions[k].action?.command != nil {
            let command = Self.oneLine(calls[k].text)
            checkCommand = command.count <= 200 ? command : nil
            let result = actions[k].observation.map { Self.resultLine($0.content) } ?? nil
            if command.count <= 120 {
                let isTest = Check.isTest(calls[k].text)
                if let result {
                    points.append(Point(text: "`\(Self.codeSafe(command))` reported `\(Self.codeSafe(result))`.", kind: isTest ? .test : .check))
                } else {
                    points.append(Point(text: (isTest ? "Ran the tests with " : "Checked the result with ") + "`\(Self.codeSafe(command))`.", kind: isTest ? .test : .check))
                }
            }
        }
        for p in inspected.prefix(1) { points.append(Point(text: "Read `\(Self.codeSafe(p))` before changing anything.", kind: .inspection)) }
        if !calls.isEmpty { points.append(Point(text: "The work took \(calls.count) tool call\(calls.count == 1 ? "" : "s").", kind: .count)) }
        // Only points that read as exactly one sentence (the rule every check uses).
        var seen = Set<String>()
        self.points = points.filter { AnswerText.sentenceCount($0.text) == 1 && !$0.text.contains("\n") && seen.insert($0.text).inserted }
        tools = Array(Set(calls.map(\.tool))).sorted()
        title = Self.title(from: t.task)
    }

    /// The file a call reads or writes: a `path`/`file_path`/`file` argument, else the last path-like
    /// word of its command.
    static func path(of a: Action) -> String? {
        for key in ["path", "file_path", "file", "filename"] {
            if let p = a.input[key]?.stringValue, !p.isEmpty, p.count <= 120, !p.contains("\n") { return p }
        }
        guard let command = a.command ?? a.input["command"]?.stringValue else { return nil }
        let words = command.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ">" || $0 == "<" })
        return words.reversed().first { w in
            w.count <= 120 && TextPattern.cached(#"^[\w./-]*\w\.[A-Za-z0-9]{1,6}$|^[\w.-]+/[\w./-]+$"#).matches(String(w))
                && !w.hasPrefix("-") && !w.hasPrefix("/dev/")
        }.map(String.init)
    }

    /// Text that can sit inside `…`: one line, no backtick.
    static func codeSafe(_ s: String) -> String { oneLine(s).replacingOccurrences(of: "`", with: "'") }

    static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).map { $0.trimmed(newlines: false) }.joined(separator: " ")
    }

    /// The last non-empty line of an observation, when it is short and says something (tests passed, OK).
    static func resultLine(_ content: String) -> String? {
        let clean = TextPattern.cached("\u{1B}\\[[0-9;]*[A-Za-z]").replacing(in: content, with: "")
        guard let last = clean.split(separator: "\n").map({ $0.trimmed(newlines: false) }).last(where: { !$0.isEmpty }) else { return nil }
        let line = last.trimmingCharacters(in: CharacterSet(charactersIn: "=-_ "))
        guard (3...80).contains(line.count), line.contains(where: \.isLetter) else { return nil }
        return line
    }

    /// The sentences of an answer: code-like words put in backticks, markdown list markers and headers
    /// dropped, split where `AnswerText` ends a sentence; each ends with a full stop if it had none.
    static func sentences(of answer: String) -> [String] {
        // Prose lines only: fenced code blocks and tables are not sentences.
        var inFence = false
        let lines = answer.split(separator: "\n").compactMap { line -> String? in
            var l = line.trimmed(newlines: false)
            if l.hasPrefix("```") { inFence.toggle(); return nil }
            if inFence || l.hasPrefix("|") || l.hasPrefix("    ") { return nil }
            while let first = l.first, "#*->".contains(first) { l = String(l.dropFirst()).trimmed(newlines: false) }
            return l.isEmpty ? nil : l
        }
        var out: [String] = []
        for line in lines {
            let text = backtickCode(line)
            var start = text.unicodeScalars.startIndex
            let scalars = text.unicodeScalars
            for end in AnswerText.sentenceEnds(text) {
                let stop = scalars.index(scalars.startIndex, offsetBy: end.end)
                out.append(String(scalars[start..<stop]).trimmed(newlines: false))
                start = stop
            }
            let rest = String(scalars[start...]).trimmed(newlines: false)
            if rest.contains(where: { $0.isLetter || $0.isNumber }) { out.append(rest.hasSuffix(":") ? String(rest.dropLast()) + "." : rest + ".") }
        }
        return out.filter { s in s.count >= 8 && s.count <= 300 && s.contains(where: \.isLetter) && s.filter({ $0 == "`" }).count % 2 == 0 }
    }

    /// Paths, file names, flags and calls outside backticks, put in backticks (so that case and comma
    /// rules never change code, and a full stop in `cli.py` never ends a sentence).
    static func backtickCode(_ text: String) -> String {
        let parts = text.components(separatedBy: "`")
        let pattern = TextPattern.cached(#"(?<![\w`./-])((?:[\w.-]+/)+[\w.-]*\w|[\w-]+\.(?:py|js|ts|tsx|json|sql|md|txt|ya?ml|csv|conf|toml|go|rs|java|c|h|cpp|sh|cfg|ini|html|css|lock|xml|rb|php)|--?[A-Za-z][\w-]*|\w+\(\))(?![\w`/])"#)
        return parts.enumerated().map { k, part in k % 2 == 1 ? part : pattern.replacing(in: part, with: "`$1`") }.joined(separator: "`")
    }

    static func title(from task: String) -> String {
        let first = task.split(separator: "\n").first.map(String.init) ?? task
        let clause = first.split(whereSeparator: { ".!?:;(".contains($0) }).first.map(String.init) ?? first
        let words = clause.replacingOccurrences(of: ",", with: "").replacingOccurrences(of: "<", with: "").replacingOccurrences(of: ">", with: "")
            .split(separator: " ").prefix(8)
        let t = words.joined(separator: " ").trimmed(newlines: false)
        return t.isEmpty ? "Summary" : t
    }
}

/// Renders the final answer of a reference run under a set of answer constraints: it chooses which facts
/// to state (keywords to include or avoid, a number of sentences, bullets or sections, a word budget),
/// lays them out (plain, bullets, `***` paragraphs, `SECTION n`, a JSON object) and decorates them (title,
/// code block, start and end phrases, case, no commas, quotation marks). The result is checked with the
/// same checks before it is used; `nil` when the constraints cannot all be met from this run's facts.
public struct AnswerRenderer: Sendable {
    public let facts: AnswerFacts

    public init(facts: AnswerFacts) { self.facts = facts }

    enum Layout { case plain, bullets(Int), sentences(Int), paragraphs(Int), sections(Int), json([String]) }

    public func render(_ checks: [Check]) -> String? {
        let answerChecks = checks.filter(\.isAnswerCheck)
        var layout = Layout.plain
        var exact: Int?
        var groups = 1
        var minWords: Int?, maxWords: Int?
        var include: [String] = [], exclude: [String] = []
        for c in answerChecks {
            switch c {
            case .bullets(let n): layout = .bullets(n); exact = n
            case .sentences(let n): layout = .sentences(n); exact = n
            case .paragraphs(let n): layout = .paragraphs(n); groups = n
            case .sections(let n): layout = .sections(n); groups = n
            case .jsonKeys(let k): layout = .json(k)
            case .minWords(let n): minWords = n
            case .maxWords(let n): maxWords = n
            case .includes(let k): include += k
            case .excludes(let k): exclude += k
            default: break
            }
        }
        let noCommas = answerChecks.contains(.noCommas)
        // Facts that can be stated at all.
        let usable = facts.points.enumerated().filter { _, p in
            !exclude.contains { !AnswerText.occurrences(of: $0, in: p.text).isEmpty } && !(noCommas && Self.codeSpans(p.text).contains { $0.contains(",") })
        }.map(\.offset)
        guard !usable.isEmpty else { return nil }
        // Required: a fact naming each keyword to include.
        var required: [Int] = []
        for k in include {
            guard let i = usable.first(where: { !AnswerText.occurrences(of: k, in: facts.points[$0].text).isEmpty }) else { return nil }
            if !required.contains(i) { required.append(i) }
        }
        let baselineCount = max(1, min(3, facts.baseline.count))
        var target = exact ?? max(groups, baselineCount + (facts.changed.isEmpty ? 0 : 1), required.count)
        if let e = exact, required.count > e { return nil }
        target = min(target, usable.count)
        if let e = exact, target < e { return nil }
        if target < groups { return nil }
        var chosen = Set(required)
        func text(_ set: Set<Int>) -> String? { decorate(arrange(set.sorted(), layout), answerChecks) }
        if let maxWords {
            // Facts in order of priority that keep the answer within budget, then the shortest ones when a
            // count must still be reached.
            for i in usable where chosen.count < target && !chosen.contains(i) {
                var trial = chosen
                trial.insert(i)
                if let t = text(trial), AnswerText.words(t) <= maxWords { chosen = trial }
            }
            let byLength = usable.filter { !chosen.contains($0) }.sorted { AnswerText.words(facts.points[$0].text) < AnswerText.words(facts.points[$1].text) }
            for i in byLength where chosen.count < max(exact ?? 1, groups) { chosen.insert(i) }
        } else {
            for i in usable where chosen.count < target { chosen.insert(i) }
        }
        func text() -> String? { text(chosen) }
        guard var current = text() else { return nil }
        // Word budget: add facts (when the count is free) until long enough, drop facts until short enough.
        if let minWords, exact == nil {
            for i in usable where AnswerText.words(current) < minWords && !chosen.contains(i) {
                chosen.insert(i)
                guard let t = text() else { return nil }
                current = t
            }
        }
        if let maxWords {
            while AnswerText.words(current) > maxWords {
                let floor = exact ?? max(1, groups)
                guard chosen.count > floor, let drop = chosen.sorted().last(where: { !required.contains($0) }) else { break }
                chosen.remove(drop)
                guard let t = text() else { return nil }
                current = t
            }
        }
        return checks.filter(\.isAnswerCheck).allSatisfy({ $0.runOnAnswer(current).passed }) ? current : nil
    }

    /// The chosen facts laid out.
    func arrange(_ chosen: [Int], _ layout: Layout) -> String {
        let texts = chosen.map { facts.points[$0].text }
        switch layout {
        case .plain, .sentences: return texts.joined(separator: " ")
        case .bullets: return texts.map { "* " + $0 }.joined(separator: "\n")
        case .paragraphs(let n): return Self.groups(texts, n).map { $0.joined(separator: " ") }.joined(separator: "\n\n***\n\n")
        case .sections(let n):
            return Self.groups(texts, n).enumerated().map { "SECTION \($0.offset + 1)\n" + $0.element.joined(separator: " ") }.joined(separator: "\n\n")
        case .json(let keys):
            let summary = chosen.filter { facts.points[$0].kind == .summary }.map { facts.points[$0].text }
            let verification = chosen.filter { [.test, .check].contains(facts.points[$0].kind) }.map { facts.points[$0].text }
            let members = keys.map { key -> String in
                let value: JSONValue
                switch key {
                case "files_changed": value = .array(facts.changed.map(JSONValue.string))
                case "tools": value = .array(facts.tools.map(JSONValue.string))
                case "verification":
                    let all = facts.points.filter { [.test, .check].contains($0.kind) }.map(\.text)
                    value = .string((verification.isEmpty ? all : verification).joined(separator: " "))
                default: value = .string((summary.isEmpty ? texts : summary).joined(separator: " "))
                }
                return "  " + JSONValue.string(key).canonicalJSON() + ": " + value.canonicalJSON()
            }
            return "{\n" + members.joined(separator: ",\n") + "\n}"
        }
    }

    /// `items` in `n` consecutive groups of near-equal size.
    static func groups(_ items: [String], _ n: Int) -> [[String]] {
        guard n > 0, items.count >= n else { return [items] }
        var out: [[String]] = []
        var start = 0
        for k in 0..<n {
            let size = items.count / n + (k < items.count % n ? 1 : 0)
            out.append(Array(items[start..<start + size]))
            start += size
        }
        return out
    }

    func decorate(_ body: String, _ checks: [Check]) -> String? {
        var text = body
        let structured = text.contains("\n")
        for c in checks {
            if case .codeBlock(let lang) = c {
                guard let command = facts.checkCommand, !command.contains("```") else { return nil }
                text += "\n\n```\(lang)\n\(command)\n```"
            }
        }
        if checks.contains(.title) { text = "<<\(facts.title)>>\n\n" + text }
        for c in checks {
            if case .startsWith(let p) = c { text = p + (structured ? "\n\n" : " ") + text }
        }
        for c in checks {
            if case .endsWith(let p) = c { text += (structured || text.contains("```") ? "\n\n" : " ") + p }
        }
        if checks.contains(.lowercase) { text = Self.outsideCode(text) { $0.lowercased() } }
        if checks.contains(.uppercase) { text = Self.outsideCode(text) { $0.uppercased() } }
        if checks.contains(.noCommas) {
            text = Self.outsideCode(text) { prose in
                let thousands = TextPattern.cached(#"(\d),(\d{3})"#).replacing(in: prose, with: "$1$2")
                return thousands.replacingOccurrences(of: ", ", with: " - ").replacingOccurrences(of: ",", with: " ")
            }
            if text.contains(",") { return nil }
        }
        if checks.contains(.quoted) { text = "\"" + text + "\"" }
        return text
    }

    /// `text` with `transform` applied outside inline code and fenced blocks.
    static func outsideCode(_ text: String, _ transform: (String) -> String) -> String {
        var out = ""
        var inFence = false
        for (k, line) in text.components(separatedBy: "\n").enumerated() {
            if k > 0 { out += "\n" }
            if line.trimmed(newlines: false).hasPrefix("```") { inFence.toggle(); out += line; continue }
            if inFence { out += line; continue }
            out += line.components(separatedBy: "`").enumerated().map { $0.offset % 2 == 1 ? $0.element : transform($0.element) }.joined(separator: "`")
        }
        return out
    }

    static func codeSpans(_ text: String) -> [String] {
        text.components(separatedBy: "`").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
    }
}
