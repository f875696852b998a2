import Foundation
import Trajectories

/// What a constraint is checked against: the final response text and the tool calls made.
public struct CheckedResponse: Sendable {
    public struct Call: Sendable, Hashable {
        public var tool: String
        /// The command a call ran, else its arguments as JSON text (see `text(tool:input:)`).
        public var text: String
    }

    public var text: String
    public var calls: [Call]
    /// Steps the process took: tool calls and thought-only steps.
    public var steps: Int

    public init(text: String, calls: [Call], steps: Int) {
        self.text = text
        self.calls = calls
        self.steps = steps
    }

    /// How a call is seen by the checks, computed the same way from a trajectory and from a written
    /// record so that audits reproduce the build's verdicts.
    public static func text(tool: String, input: JSONValue) -> String {
        if !Check.changeTools.contains(tool), let command = input["command"]?.stringValue { return command }
        return input.canonicalJSON()
    }

    /// The response of a trajectory: its answer (or last thought) and its actions.
    public init(trajectory t: Trajectory) {
        text = t.answer ?? t.steps.last(where: { !($0.thought ?? "").isEmpty })?.thought ?? ""
        calls = t.steps.compactMap { s in s.action.map { Call(tool: $0.tool, text: Self.text(tool: $0.tool, input: $0.input)) } }
        steps = t.steps.filter { $0.action != nil || !($0.thought ?? "").isEmpty }.count
        if t.answer == nil, steps > 0, t.steps.last?.action == nil { steps -= 1 }  // the last thought is the answer
    }

    /// The response in one segment of a written record (the messages after a user turn): the final
    /// assistant message is the text, the turns before it the process. `stripping` removes an
    /// appendix (internal feedback) from the text.
    public init(segment: [ChatMessage], stripping marker: String? = nil) {
        var process = segment
        var final = ""
        if let last = process.last, last.role == "assistant", last.toolCalls == nil {
            final = last.content
            process.removeLast()
        }
        if let marker, let r = final.range(of: marker) { final = String(final[..<r.lowerBound]) }
        text = final
        calls = process.flatMap { m in
            (m.toolCalls ?? []).map { call in
                let input = call.function.argumentsObject
                return Call(tool: call.function.name, text: Self.text(tool: call.function.name, input: input))
            }
        }
        steps = process.filter { $0.role == "assistant" }.count
    }
}

/// A verifiable constraint: data (category, the text shown to the model) plus a machine check.
public struct Constraint: Sendable, Hashable, Codable {
    /// Answer categories follow IFEval's verifiable families (keywords, length, format, case, start and end
    /// phrases, punctuation); `tool_use` and `process` are about the agent's turns, not its answer.
    public enum Category: String, Sendable, Hashable, Codable, CaseIterable {
        case keywords, length, format, `case`, phrase, punctuation, toolUse = "tool_use", process
    }

    public var category: Category
    public var check: Check
    public var text: String
    /// In a record: where the answer satisfies it (see `AnswerText.spans(of:in:)`); empty for a process
    /// constraint, which is about the agent's turns, not its answer.
    public var spans: [MessageSpan]?

    public init(_ check: Check, text: String) {
        self.category = check.category
        self.check = check
        self.text = text
    }

    enum CodingKeys: String, CodingKey { case category, check = "checker", text, spans }
}

/// Characters `start..<end` (Unicode scalar offsets, Python `str` indices) of message `message`'s content.
public struct MessageSpan: Sendable, Hashable, Codable {
    public var message: Int
    public var start: Int
    public var end: Int
    public init(message: Int, start: Int, end: Int) {
        self.message = message
        self.start = start
        self.end = end
    }
}

/// Every machine check a Conifer constraint can carry. Answer checks read the final answer's text
/// (every one fails on an empty answer); process checks read the tool calls. `run` returns whether the
/// response passes and the evidence (what was found), which internal feedback and critiques cite.
/// The exact rules are documented in the README ("Conifer constraints") and implemented a second time,
/// independently, in the dataset's `reward.py`.
public enum Check: Sendable, Hashable, Codable {
    // Answer: keywords
    case includes([String])
    case excludes([String])
    // Answer: length
    case minWords(Int)
    case maxWords(Int)
    case sentences(Int)
    case paragraphs(Int)
    // Answer: format
    case jsonKeys([String])
    case bullets(Int)
    case sections(Int)
    case title
    case codeBlock(language: String)
    case quoted
    // Answer: case, phrases, punctuation
    case lowercase
    case uppercase
    case startsWith(String)
    case endsWith(String)
    case noCommas
    // Process
    case onlyTools([String])
    case usesTool(String)
    case maxToolCalls(Int)
    case testsAfterLastChange
    case noDestructiveCommands
    case inspectsBeforeChanging
    case verifiesAfterLastChange
    case maxSteps(Int)

    public var id: String {
        switch self {
        case .includes: return "keywords.include"
        case .excludes: return "keywords.exclude"
        case .minWords: return "length.min_words"
        case .maxWords: return "length.max_words"
        case .sentences: return "length.sentences"
        case .paragraphs: return "length.paragraphs"
        case .jsonKeys: return "format.json_keys"
        case .bullets: return "format.bullets"
        case .sections: return "format.sections"
        case .title: return "format.title"
        case .codeBlock: return "format.code_block"
        case .quoted: return "format.quotation"
        case .lowercase: return "case.lower"
        case .uppercase: return "case.upper"
        case .startsWith: return "phrase.start"
        case .endsWith: return "phrase.end"
        case .noCommas: return "punctuation.no_commas"
        case .onlyTools: return "tool_use.only_tools"
        case .usesTool: return "tool_use.uses_tool"
        case .maxToolCalls: return "tool_use.max_tool_calls"
        case .testsAfterLastChange: return "tool_use.tests_after_last_change"
        case .noDestructiveCommands: return "process.no_destructive_commands"
        case .inspectsBeforeChanging: return "process.inspects_before_changing"
        case .verifiesAfterLastChange: return "process.verifies_after_last_change"
        case .maxSteps: return "process.max_steps"
        }
    }

    public var category: Constraint.Category {
        switch self {
        case .includes, .excludes: return .keywords
        case .minWords, .maxWords, .sentences, .paragraphs: return .length
        case .jsonKeys, .bullets, .sections, .title, .codeBlock, .quoted: return .format
        case .lowercase, .uppercase: return .case
        case .startsWith, .endsWith: return .phrase
        case .noCommas: return .punctuation
        case .onlyTools, .usesTool, .maxToolCalls, .testsAfterLastChange: return .toolUse
        case .noDestructiveCommands, .inspectsBeforeChanging, .verifiesAfterLastChange, .maxSteps: return .process
        }
    }

    /// Whether the check reads the answer text (else the tool calls).
    public var isAnswerCheck: Bool { category != .toolUse && category != .process }

    // MARK: Codable as {"id": …, params}

    enum CodingKeys: String, CodingKey { case id, n, keywords, keys, language, phrase, tools, tool }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        switch self {
        case .includes(let k), .excludes(let k): try c.encode(k, forKey: .keywords)
        case .minWords(let n), .maxWords(let n), .sentences(let n), .paragraphs(let n), .bullets(let n), .sections(let n),
             .maxToolCalls(let n), .maxSteps(let n):
            try c.encode(n, forKey: .n)
        case .jsonKeys(let k): try c.encode(k, forKey: .keys)
        case .codeBlock(let l): try c.encode(l, forKey: .language)
        case .startsWith(let p), .endsWith(let p): try c.encode(p, forKey: .phrase)
        case .onlyTools(let t): try c.encode(t, forKey: .tools)
        case .usesTool(let t): try c.encode(t, forKey: .tool)
        case .title, .quoted, .lowercase, .uppercase, .noCommas, .testsAfterLastChange, .noDestructiveCommands,
             .inspectsBeforeChanging, .verifiesAfterLastChange:
            break
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let id = try c.decode(String.self, forKey: .id)
        func n() throws -> Int { try c.decode(Int.self, forKey: .n) }
        func words(_ k: CodingKeys) throws -> [String] { try c.decode([String].self, forKey: k) }
        func text(_ k: CodingKeys) throws -> String { try c.decode(String.self, forKey: k) }
        switch id {
        case "keywords.include": self = .includes(try words(.keywords))
        case "keywords.exclude": self = .excludes(try words(.keywords))
        case "length.min_words": self = .minWords(try n())
        case "length.max_words": self = .maxWords(try n())
        case "length.sentences": self = .sentences(try n())
        case "length.paragraphs": self = .paragraphs(try n())
        case "format.json_keys": self = .jsonKeys(try words(.keys))
        case "format.bullets": self = .bullets(try n())
        case "format.sections": self = .sections(try n())
        case "format.title": self = .title
        case "format.code_block": self = .codeBlock(language: try text(.language))
        case "format.quotation": self = .quoted
        case "case.lower": self = .lowercase
        case "case.upper": self = .uppercase
        case "phrase.start": self = .startsWith(try text(.phrase))
        case "phrase.end": self = .endsWith(try text(.phrase))
        case "punctuation.no_commas": self = .noCommas
        case "tool_use.only_tools": self = .onlyTools(try words(.tools))
        case "tool_use.uses_tool": self = .usesTool(try text(.tool))
        case "tool_use.max_tool_calls": self = .maxToolCalls(try n())
        case "tool_use.tests_after_last_change": self = .testsAfterLastChange
        case "process.no_destructive_commands": self = .noDestructiveCommands
        case "process.inspects_before_changing": self = .inspectsBeforeChanging
        case "process.verifies_after_last_change": self = .verifiesAfterLastChange
        case "process.max_steps", "numeric.max_steps": self = .maxSteps(try n())
        default:
            throw DecodingError.dataCorruptedError(forKey: .id, in: c, debugDescription: "unknown checker '\(id)'")
        }
    }

    // MARK: Running

    public struct Result: Sendable, Hashable {
        public var passed: Bool
        /// What was found: cited by internal feedback, and by critiques when it fails.
        public var evidence: String
    }

    public func run(_ r: CheckedResponse) -> Result {
        isAnswerCheck ? runOnAnswer(r.text) : runOnProcess(r)
    }

    func runOnAnswer(_ raw: String) -> Result {
        let text = raw.trimmed()
        guard !text.isEmpty else { return Result(passed: false, evidence: "the answer is empty") }
        switch self {
        case .includes(let keywords):
            let missing = keywords.filter { AnswerText.occurrences(of: $0, in: text).isEmpty }
            return Result(passed: missing.isEmpty, evidence: missing.isEmpty ? "uses " + keywords.map { "“\($0)”" }.joined(separator: ", ")
                                                                             : "does not use " + missing.map { "“\($0)”" }.joined(separator: ", "))
        case .excludes(let keywords):
            let found = keywords.filter { !AnswerText.occurrences(of: $0, in: text).isEmpty }
            return Result(passed: found.isEmpty, evidence: found.isEmpty ? "never uses " + keywords.map { "“\($0)”" }.joined(separator: ", ")
                                                                         : "uses " + found.map { "“\($0)”" }.joined(separator: ", "))
        case .minWords(let n):
            let w = AnswerText.words(text)
            return Result(passed: w >= n, evidence: "\(w) words")
        case .maxWords(let n):
            let w = AnswerText.words(text)
            return Result(passed: w <= n, evidence: "\(w) words")
        case .sentences(let n):
            let k = AnswerText.sentenceCount(text)
            return Result(passed: k == n, evidence: "\(k) sentence\(k == 1 ? "" : "s")")
        case .paragraphs(let n):
            let parts = AnswerText.paragraphs(text)
            let ok = parts.count == n && parts.allSatisfy { !$0.isEmpty }
            return Result(passed: ok, evidence: "\(parts.filter { !$0.isEmpty }.count) paragraph(s) separated by ***")
        case .jsonKeys(let keys):
            guard let object = AnswerText.jsonObject(text) else { return Result(passed: false, evidence: "the answer is not one JSON object") }
            let found = Set(object.keys)
            return Result(passed: found == Set(keys), evidence: "a JSON object with keys " + found.sorted().joined(separator: ", "))
        case .bullets(let n):
            let k = AnswerText.bulletLines(text).count
            return Result(passed: k == n, evidence: "\(k) bullet point(s)")
        case .sections(let n):
            let headers = AnswerText.sectionHeaders(text)
            let ok = headers.count == n && headers.enumerated().allSatisfy { $0.element.number == $0.offset + 1 }
            return Result(passed: ok, evidence: "\(headers.count) SECTION header(s)")
        case .title:
            let t = AnswerText.titles(text)
            return Result(passed: !t.isEmpty, evidence: t.isEmpty ? "no <<title>>" : "titled \(t[0].text)")
        case .codeBlock(let lang):
            let found = Check.codeBlockLanguages(text)
            return Result(passed: found.contains(lang), evidence: found.isEmpty ? "no fenced code block" : "fenced code block(s): \(found.joined(separator: ", "))")
        case .quoted:
            let ok = text.count >= 2 && text.hasPrefix("\"") && text.hasSuffix("\"")
            return Result(passed: ok, evidence: ok ? "wrapped in double quotation marks" : "not wrapped in double quotation marks")
        case .lowercase:
            let prose = AnswerText.prose(text)
            let ok = prose.contains { $0.isLetter } && !prose.contains { $0.isUppercase }
            return Result(passed: ok, evidence: ok ? "no capital letter outside code" : "capital letters outside code")
        case .uppercase:
            let prose = AnswerText.prose(text)
            let ok = prose.contains { $0.isLetter } && !prose.contains { $0.isLowercase }
            return Result(passed: ok, evidence: ok ? "no lowercase letter outside code" : "lowercase letters outside code")
        case .startsWith(let phrase):
            return Result(passed: text.hasPrefix(phrase), evidence: text.hasPrefix(phrase) ? "starts with “\(phrase)”" : "starts with “\(String(text.prefix(20)))”")
        case .endsWith(let phrase):
            return Result(passed: text.hasSuffix(phrase), evidence: text.hasSuffix(phrase) ? "ends with “\(phrase)”" : "ends with “\(String(text.suffix(20)))”")
        case .noCommas:
            let k = text.filter { $0 == "," }.count
            return Result(passed: k == 0, evidence: "\(k) comma(s)")
        default:
            return Result(passed: false, evidence: "not an answer check")
        }
    }

    func runOnProcess(_ r: CheckedResponse) -> Result {
        switch self {
        case .onlyTools(let allowed):
            let used = Array(Set(r.calls.map(\.tool))).sorted()
            let extra = used.filter { !allowed.contains($0) }
            return Result(passed: extra.isEmpty, evidence: extra.isEmpty ? "tools used: \(used.joined(separator: ", "))" : "also used: \(extra.joined(separator: ", "))")
        case .usesTool(let tool):
            let n = r.calls.filter { $0.tool == tool }.count
            return Result(passed: n > 0, evidence: "\(tool) called \(n) time(s)")
        case .maxToolCalls(let n):
            return Result(passed: r.calls.count <= n, evidence: "\(r.calls.count) tool call(s)")
        case .testsAfterLastChange:
            let lastChange = r.calls.lastIndex { Self.isChange($0) }
            let lastTest = r.calls.lastIndex { Self.isTest($0.text) }
            guard let t = lastTest else { return Result(passed: false, evidence: "no test run") }
            let ok = lastChange.map { t > $0 } ?? true
            return Result(passed: ok, evidence: ok ? "ran `\(Self.short(r.calls[t].text))` (call \(t + 1)) after the last change"
                                               : "the last change (call \(lastChange! + 1)) came after the last test run")
        case .noDestructiveCommands:
            let bad = r.calls.first { Self.isDestructive($0.text) }
            return Result(passed: bad == nil, evidence: bad.map { "ran `\(Self.short($0.text))`" } ?? "no destructive command among \(r.calls.count) call(s)")
        case .inspectsBeforeChanging:
            guard let firstChange = r.calls.firstIndex(where: Self.isChange) else {
                return Result(passed: true, evidence: "made no change")
            }
            let inspected = r.calls[..<firstChange].contains { Self.isInspection($0) }
            return Result(passed: inspected, evidence: inspected ? "inspected before the first change (call \(firstChange + 1))" : "changed something before looking (call \(firstChange + 1))")
        case .verifiesAfterLastChange:
            guard let lastChange = r.calls.lastIndex(where: Self.isChange) else {
                return Result(passed: false, evidence: "made no change to verify")
            }
            let check = r.calls[(lastChange + 1)...].firstIndex { !Self.isChange($0) }
            return Result(passed: check != nil, evidence: check.map { "checked with `\(Self.short(r.calls[$0].text))` (call \($0 + 1)) after the last change" } ?? "nothing was checked after the last change")
        case .maxSteps(let n):
            return Result(passed: r.steps <= n, evidence: "\(r.steps) step(s)")
        default:
            return Result(passed: false, evidence: "not a process check")
        }
    }

    // MARK: Command analysis

    static func codeBlockLanguages(_ text: String) -> [String] {
        var out: [String] = []
        var open = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let t = line.trimmed(newlines: false)
            guard t.hasPrefix("```") else { continue }
            if !open { out.append(String(t.dropFirst(3)).trimmed(newlines: false).lowercased()) }
            open.toggle()
        }
        return out.filter { !$0.isEmpty }
    }

    static let changeTools: Set<String> = ["str_replace_editor", "edit", "write", "Write", "Edit", "MultiEdit", "apply_patch", "create", "insert"]

    static func isChange(_ c: CheckedResponse.Call) -> Bool {
        if changeTools.contains(c.tool) {
            // str_replace_editor view is a read.
            return !(c.text.contains("\"command\":\"view\""))
        }
        let t = c.text
        let patterns = [#"(^|[;&|]\s*)(sed -i|tee |cp |mv |mkdir |touch |rm |pip install|npm install|apt-get install|git (commit|apply|am|checkout|merge|rebase)|sqlite3 .*<|psql .*-f|nginx -s reload|systemctl (restart|reload)|patch )"#,
                        #"(^|[^>2&])>{1,2}\s*[^&\s]"#]
        return patterns.contains { TextPattern.cached($0).matches(t) }
    }

    static func isInspection(_ c: CheckedResponse.Call) -> Bool {
        if ["read_file", "Read", "view", "open", "find_file", "search_dir", "search_file", "Grep", "Glob", "LS"].contains(c.tool) { return true }
        if c.tool == "str_replace_editor" { return c.text.contains("\"command\":\"view\"") }
        return TextPattern.cached(#"^\s*(cat|head|tail|less|grep|rg|ls|find|git (status|diff|log|show)|sed -n|wc|file|stat|tree|python3? -m pytest|pytest|nginx -t|sqlite3 .*\.schema)"#)
            .matches(c.text)
    }

    static func isTest(_ text: String) -> Bool {
        TextPattern.cached(#"(pytest|python3? -m (pytest|unittest)|npm (run )?test|yarn test|go test|cargo test|make (test|check)|mvn test|gradle test|ctest|tox)"#)
            .matches(text)
    }

    static func isDestructive(_ text: String) -> Bool {
        let patterns = [#"rm\s+-[a-zA-Z]*r[a-zA-Z]*f?\s+(/|~|\$HOME|/\*)(\s|$)"#, #"rm\s+-[a-zA-Z]*f[a-zA-Z]*r\s+(/|~)(\s|$)"#,
                        #"git push\s+(.*\s)?(--force|-f)(\s|$)"#, #"(?i)drop\s+(table|database)"#, #"(?i)truncate\s+table"#,
                        #"mkfs\."#, #"dd\s+if=.*of=/dev/"#, #"chmod\s+-R\s+777\s+/"#, #"git reset --hard"#, #"git clean -[a-z]*f"#]
        return patterns.contains { TextPattern.cached($0).matches(text) }
    }

    static func short(_ text: String) -> String {
        let one = text.replacingOccurrences(of: "\n", with: " ")
        return one.count > 60 ? String(one.prefix(57)) + "…" : one
    }
}
