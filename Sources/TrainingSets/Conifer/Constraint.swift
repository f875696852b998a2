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
                let input = (try? JSONCoding.decoder.decode(JSONValue.self, from: Data(call.function.arguments.utf8))) ?? .object([:])
                return Call(tool: call.function.name, text: Self.text(tool: call.function.name, input: input))
            }
        }
        steps = process.filter { $0.role == "assistant" }.count
    }
}

/// A verifiable constraint: data (category, the text shown to the model) plus a machine check.
public struct Constraint: Sendable, Hashable, Codable {
    public enum Category: String, Sendable, Hashable, Codable, CaseIterable {
        case format, toolUse = "tool_use", content, process, numeric
    }

    public var category: Category
    public var check: Check
    public var text: String

    public init(_ check: Check, text: String) {
        self.category = check.category
        self.check = check
        self.text = text
    }

    enum CodingKeys: String, CodingKey { case category, check = "checker", text }
}

/// Every machine check a Conifer constraint can carry. `run` returns whether the response passes
/// and the evidence (what was found where), which internal feedback cites.
public enum Check: Sendable, Hashable, Codable {
    case codeBlock(language: String)
    case inlineCode
    case validJSON
    case bulletList
    case maxLines(Int)
    case maxWords(Int)
    case onlyTools([String])
    case usesTool(String)
    case maxToolCalls(Int)
    case testsAfterLastChange
    case mentions(String)
    case noDestructiveCommands
    case inspectsBeforeChanging
    case verifiesAfterLastChange
    case maxSteps(Int)
    case maxSentences(Int)
    case containsNumber

    public var id: String {
        switch self {
        case .codeBlock: return "format.code_block"
        case .inlineCode: return "format.inline_code"
        case .validJSON: return "format.valid_json"
        case .bulletList: return "format.bullet_list"
        case .maxLines: return "format.max_lines"
        case .maxWords: return "numeric.max_words"
        case .onlyTools: return "tool_use.only_tools"
        case .usesTool: return "tool_use.uses_tool"
        case .maxToolCalls: return "tool_use.max_tool_calls"
        case .testsAfterLastChange: return "tool_use.tests_after_last_change"
        case .mentions: return "content.mentions"
        case .noDestructiveCommands: return "process.no_destructive_commands"
        case .inspectsBeforeChanging: return "process.inspects_before_changing"
        case .verifiesAfterLastChange: return "process.verifies_after_last_change"
        case .maxSteps: return "numeric.max_steps"
        case .maxSentences: return "numeric.max_sentences"
        case .containsNumber: return "content.contains_number"
        }
    }

    public var category: Constraint.Category {
        switch self {
        case .codeBlock, .inlineCode, .validJSON, .bulletList, .maxLines: return .format
        case .onlyTools, .usesTool, .maxToolCalls, .testsAfterLastChange: return .toolUse
        case .mentions, .containsNumber: return .content
        case .noDestructiveCommands, .inspectsBeforeChanging, .verifiesAfterLastChange: return .process
        case .maxSteps, .maxSentences, .maxWords: return .numeric
        }
    }

    // MARK: Codable as {"id": …, params}

    enum CodingKeys: String, CodingKey { case id, language, n, tools, tool, text }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        switch self {
        case .codeBlock(let l): try c.encode(l, forKey: .language)
        case .maxLines(let n), .maxWords(let n), .maxToolCalls(let n), .maxSteps(let n), .maxSentences(let n): try c.encode(n, forKey: .n)
        case .onlyTools(let t): try c.encode(t, forKey: .tools)
        case .usesTool(let t): try c.encode(t, forKey: .tool)
        case .mentions(let t): try c.encode(t, forKey: .text)
        default: break
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let id = try c.decode(String.self, forKey: .id)
        func n() throws -> Int { try c.decode(Int.self, forKey: .n) }
        switch id {
        case "format.code_block": self = .codeBlock(language: try c.decode(String.self, forKey: .language))
        case "format.inline_code": self = .inlineCode
        case "format.valid_json": self = .validJSON
        case "format.bullet_list": self = .bulletList
        case "format.max_lines": self = .maxLines(try n())
        case "numeric.max_words": self = .maxWords(try n())
        case "tool_use.only_tools": self = .onlyTools(try c.decode([String].self, forKey: .tools))
        case "tool_use.uses_tool": self = .usesTool(try c.decode(String.self, forKey: .tool))
        case "tool_use.max_tool_calls": self = .maxToolCalls(try n())
        case "tool_use.tests_after_last_change": self = .testsAfterLastChange
        case "content.mentions": self = .mentions(try c.decode(String.self, forKey: .text))
        case "process.no_destructive_commands": self = .noDestructiveCommands
        case "process.inspects_before_changing": self = .inspectsBeforeChanging
        case "process.verifies_after_last_change": self = .verifiesAfterLastChange
        case "numeric.max_steps": self = .maxSteps(try n())
        case "numeric.max_sentences": self = .maxSentences(try n())
        case "content.contains_number": self = .containsNumber
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
        switch self {
        case .codeBlock(let lang):
            let found = Self.codeBlockLanguages(r.text)
            return Result(passed: found.contains(lang), evidence: found.isEmpty ? "no fenced code block" : "fenced code block(s): \(found.joined(separator: ", "))")
        case .inlineCode:
            let spans = Self.inlineCodeSpans(r.text)
            return Result(passed: !spans.isEmpty, evidence: spans.isEmpty ? "no `code` span" : "code spans such as `\(spans[0])`")
        case .validJSON:
            let body = Self.jsonCandidate(r.text)
            let ok = body.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } != nil
            return Result(passed: ok, evidence: ok ? "the JSON parses" : "no parseable JSON")
        case .bulletList:
            let bullets = Self.lines(r.text).filter { $0.hasPrefix("- ") || $0.hasPrefix("* ") }.count
            return Result(passed: bullets >= 2, evidence: "\(bullets) bulleted line(s)")
        case .maxLines(let n):
            let count = Self.lines(r.text).count
            return Result(passed: count <= n, evidence: "\(count) non-empty line(s)")
        case .maxWords(let n):
            let count = Self.words(r.text)
            return Result(passed: count <= n, evidence: "\(count) word(s)")
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
        case .mentions(let token):
            let ok = r.text.contains(token)
            return Result(passed: ok, evidence: ok ? "mentions \(token)" : "does not mention \(token)")
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
        case .maxSentences(let n):
            let count = Self.sentences(r.text)
            return Result(passed: count <= n, evidence: "\(count) sentence(s)")
        case .containsNumber:
            let ok = TextPattern.cached(#"\d"#).matches(r.text)
            return Result(passed: ok, evidence: ok ? "states a number" : "states no number")
        }
    }

    // MARK: Text and command analysis

    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func words(_ text: String) -> Int { text.split(whereSeparator: { $0.isWhitespace }).count }

    static func sentences(_ text: String) -> Int {
        let prose = TextPattern.cached(#"```[\s\S]*?```"#).replacing(in: text, with: "")
        var n = 0
        var inWord = false
        var prev: Character = " "
        for ch in prose {
            if ".!?".contains(ch) && inWord && prev != "." { n += 1; inWord = false } else if !ch.isWhitespace { inWord = true }
            prev = ch
        }
        return n + (inWord ? 1 : 0)
    }

    static func codeBlockLanguages(_ text: String) -> [String] {
        var out: [String] = []
        var open = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("```") else { continue }
            if !open { out.append(String(t.dropFirst(3)).trimmingCharacters(in: .whitespaces).lowercased()) }
            open.toggle()
        }
        return out.filter { !$0.isEmpty }
    }

    static func inlineCodeSpans(_ text: String) -> [String] {
        let prose = TextPattern.cached(#"```[\s\S]*?```"#).replacing(in: text, with: "")
        guard let re = try? NSRegularExpression(pattern: "`([^`\\n]+)`") else { return [] }
        let ns = prose as NSString
        return re.matches(in: prose, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range(at: 1)) }
    }

    /// The JSON a response carries: the whole text, or the body of a ```json block.
    static func jsonCandidate(_ text: String) -> String? {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.hasPrefix("{") || t.hasPrefix("[") { return t }
        guard let r = t.range(of: "```json") else { return nil }
        let rest = t[r.upperBound...]
        guard let end = rest.range(of: "```") else { return nil }
        return String(rest[..<end.lowerBound])
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
