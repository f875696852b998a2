import Foundation
import Trajectories

/// Replaces secrets with typed redaction markers such as `[REDACTED:aws-access-key]`.
///
/// The result is exactly what running every rule's regular expression over every whole string, in
/// order, would give; two things make it fast without changing it:
/// - Each rule is guarded by substring triggers (found in one pass over the bytes), so its regular
///   expression only runs on text that could contain what it looks for.
/// - A case-insensitive rule — the assignment-shaped ones, whose ICU patterns take about 200 ns per byte
///   of text — runs only in windows around its triggers that are wide enough to hold any match there.
///   Its triggers are found in every spelling `(?i)` matches: any ASCII case, and with characters that
///   case-fold to ASCII letters (`paßword`, `ſecret`).
/// `RedactionTests.matchesTheExhaustiveSearch` and the redact fuzz target check that both agree.
public struct SecretRedactor: Sendable {
    public struct Rule: Sendable {
        public let kind: String
        let triggers: [String]
        let regex: Regex
        /// Capture group holding the secret (0 = the whole match).
        let group: Int
        /// What must follow a trigger for the rule to possibly match there (checked on bytes by the
        /// scanner, so the regular expression runs only where it can match).
        var follow: Follow = .anything
        /// `(?i)` patterns: triggers count in any ASCII case, and the regular expression runs in windows.
        var caseInsensitive: Bool { regex.caseInsensitive }
        var scanGroup: TriggerGroup { TriggerGroup(triggers: triggers, caseInsensitive: caseInsensitive, follow: follow) }
    }

    /// Strings one bit of a trigger scan stands for: a rule's triggers, or a gate (words a byte-level
    /// finder needs before it is worth running).
    public struct TriggerGroup: Sendable {
        let triggers: [String]
        let caseInsensitive: Bool
        var follow: Follow = .anything
    }

    /// A necessary condition on the bytes right after a trigger: never false where the rule's regular
    /// expression matches (each is a superset of its pattern's tail), usually false elsewhere — `SK`,
    /// `token` or `://` occur in ordinary text far more often than secrets do.
    public enum Follow: Sendable {
        case anything
        /// At least `count` bytes of `set`.
        case run(ByteSet, Int)
        /// Any whitespace, then at least `count` bytes of `set` (`Bearer <token>`); a non-ASCII byte
        /// there may be a Unicode space or a letter that folds into `set`.
        case spaceThenRun(ByteSet, Int)
        /// The rest of a key name, an optional quote, whitespace, then `=` or `:` (`API_TOKEN = …`).
        case assignment
        /// `user:password@` before any whitespace or slash (URLs with credentials).
        case userinfo
    }

    /// 256 flags: which bytes belong.
    public struct ByteSet: Sendable {
        var member: [Bool]
        init(_ ranges: String) {
            member = Array(repeating: false, count: 256)
            let u = Array(ranges.utf8)
            var k = 0
            while k < u.count {
                if k + 2 < u.count, u[k + 1] == UInt8(ascii: "-") {
                    for b in u[k]...u[k + 2] { member[Int(b)] = true }
                    k += 3
                } else {
                    member[Int(u[k])] = true
                    k += 1
                }
            }
        }
        static let alnum = ByteSet("A-Za-z0-9")
        static let token = ByteSet("A-Za-z0-9_") + "-"
        static let hexLower = ByteSet("0-9a-f")
        static func + (a: ByteSet, extra: String) -> ByteSet {
            var s = a
            for b in extra.utf8 { s.member[Int(b)] = true }
            return s
        }
    }

    /// `NSRegularExpression` is documented thread-safe for matching; this box says so to Swift 6.
    final class Regex: @unchecked Sendable {
        let re: NSRegularExpression
        let caseInsensitive: Bool
        init(_ pattern: String) {
            caseInsensitive = pattern.hasPrefix("(?i)")
            // The patterns are constants of this file; a bad one is a programming error caught by tests.
            re = try! NSRegularExpression(pattern: pattern)
        }
        /// A pattern from a file (gitleaks rules): a bad one is the file's error.
        init(checking pattern: String) throws {
            caseInsensitive = pattern.hasPrefix("(?i)")
            re = try NSRegularExpression(pattern: pattern)
        }
    }

    /// Bumped whenever what redaction finds changes (2: keywords in any case and case-folded
    /// spellings; 3: provider token formats, assignments in every syntax, structures, a secret found
    /// once removed everywhere; 4: names and documentation placeholders left alone, Sourcegraph shapes),
    /// so that ingest results cached by an earlier revision are not reused.
    public static let revision = 4

    public let rules: [Rule]
    /// Finds, in one pass over a string's bytes, which rules' triggers occur in it.
    var triggers: TriggerScanner
    /// For checking: every rule's regular expression over every whole string, without triggers or
    /// windows — the reference the fast path must equal (tests and the redact fuzz target compare them).
    public var exhaustive = false

    /// Provider formats, named assignments and structures run when secrets are redacted.
    public let secrets: Bool
    /// Rules from a gitleaks configuration file, applied after the built-in ones.
    public let custom: GitleaksRules?
    public init(secrets: Bool = true, emails: Bool = false, custom: GitleaksRules? = nil) {
        self.secrets = secrets
        self.custom = custom
        var r: [Rule] = []
        if secrets { r += Self.secretRules }
        if emails { r.append(Self.emailRule) }
        rules = r
        // The automata are built once per rule set, when first needed (a few hundred kilobytes each).
        switch (secrets, emails) {
        case (true, false): triggers = Self.secretScanner
        case (true, true): triggers = Self.secretAndEmailScanner
        case (false, true): triggers = Self.emailScanner
        case (false, false): triggers = TriggerScanner([])
        }
    }

    // In the order `init` assembles the rules, then the gates when secrets are redacted.
    static let secretScanner = TriggerScanner(secretRules.map(\.scanGroup) + Gate.groups)
    static let secretAndEmailScanner = TriggerScanner((secretRules + [emailRule]).map(\.scanGroup) + Gate.groups)
    static let emailScanner = TriggerScanner([emailRule.scanGroup])

    /// What one scan also tells the byte-level finders, as bits after the rules': which words a
    /// structure needs occur (`Structures.Words`), and whether any word a secret-like name must hold
    /// occurs (`Assignments`). A string without them is not read again by those finders.
    /// (Structure word k is bit k of `Structures.Words`, so the scan's bits after the rules' are the set.)
    enum Gate {
        static let groups: [TriggerGroup] = Structures.Words.spelled.map { TriggerGroup(triggers: [$0], caseInsensitive: true) }
            + [TriggerGroup(triggers: Assignments.stems, caseInsensitive: true)]
    }

    /// The trigger groups of this redactor's scan, rules first, in bit order.
    public var scanGroups: [TriggerGroup] { rules.map(\.scanGroup) + (secrets ? Gate.groups : []) }

    /// The scan bit of the assignment stems (0 when secrets are not redacted).
    var stemBit: UInt64 { secrets ? 1 << UInt64(rules.count + Structures.Words.spelled.count) : 0 }

    /// The gate bits of a scan: structure words, and whether an assignment stem occurs.
    func gates(_ hit: UInt64) -> (words: Structures.Words, stems: Bool) {
        guard secrets else { return ([], false) }
        let wordBits = UInt16(truncatingIfNeeded: hit >> UInt64(rules.count)) & UInt16((1 << Structures.Words.spelled.count) - 1)
        return (Structures.Words(rawValue: wordBits), hit & stemBit != 0)
    }

    static let emailRule = Rule(kind: "email", triggers: ["@"], regex: Regex(#"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"#),
                                group: 0, follow: .run(ByteSet("A-Za-z0-9.-"), 4))

    public static func marker(_ kind: String) -> String { "[REDACTED:\(kind)]" }

    /// Secret kinds this redactor recognises, in the order they are applied.
    public static var secretKinds: [String] { secretRules.map(\.kind) }

    static let secretRules: [Rule] = {
        func rule(_ kind: String, _ triggers: [String], _ pattern: String, group: Int = 0, _ follow: Follow = .anything) -> Rule {
            Rule(kind: kind, triggers: triggers, regex: Regex(pattern), group: group, follow: follow)
        }
        let token = ByteSet.token
        // Case-insensitive rules' triggers count in any ASCII case.
        return [
            // The private key first (its base64 may hold anything); provider token formats
            // (`TokenFormats`) run after it, then the rules below, then named assignments.
            rule("private-key", ["PRIVATE KEY"],
                 #"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\]*)"#),
            rule("aws-secret-key", ["aws_secret", "awssecret", "secret_access_key", "secretaccesskey"],
                 #"(?i)(?:aws_?secret_?access_?key|aws_?secret_?key|secretaccesskey)["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"#, group: 1),
            rule("gcp-service-account-key", ["private_key_id"],
                 #""private_key_id"\s*:\s*"([0-9a-f]{40})""#, group: 1),
            rule("azure-storage-key", ["AccountKey=", "SharedAccessKey="],
                 #"(?:AccountKey|SharedAccessKey)=([A-Za-z0-9+/]{30,}={0,2})"#, group: 1, .run(ByteSet("A-Za-z0-9+/"), 30)),
            rule("bearer-token", ["bearer"], #"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]{16,}=*)"#, group: 1, .spaceThenRun(ByteSet("A-Za-z0-9-._~+/"), 16)),
            rule("basic-auth", ["basic"], #"(?i)\bbasic\s+([A-Za-z0-9+/]{12,}={0,2})(?![A-Za-z0-9+/=])"#, group: 1, .spaceThenRun(ByteSet("A-Za-z0-9+/"), 12)),
            // `scheme://user:password@host`, the user possibly empty (`redis://:password@host`).
            rule("url-password", ["://"], #"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@"'<>\[\]]*:([^\s@/"'<>]+)@"#, group: 1, .userinfo),
        ]
    }()

    /// Redacts `text`, adding one count per replaced secret to `counts[kind]`.
    public func redact(_ text: String, counts: inout [String: Int]) -> String {
        var found: [String: String] = [:]
        return redact(text, counts: &counts, found: &found)
    }

    /// Redacts `text` and adds each secret removed to `found` (value → kind), so that the caller can remove
    /// it wherever else it occurs. A secret repeated within the text is removed at every occurrence.
    public func redact(_ text: String, counts: inout [String: Int], found: inout [String: String]) -> String {
        if text.isEmpty || (rules.isEmpty && custom == nil) { return text }
        var current = text
        var seen: [String: String] = [:]
        // Where the words a secret-like name holds end (`Assignments` reads only the names around them).
        var stems: [Int] = []
        var hit = exhaustive ? ~0 : current.withUTF8 { triggers.scan($0, positionsOf: stemBit, into: &stems) }
        // The private key block first: its base64 may hold anything a token format looks for.
        let first = secrets ? 1 : 0
        var changed = applyRules(0..<first, to: &current, hit: &hit, counts: &counts, seen: &seen)
        if secrets {
            let replaced = apply({ TokenScanner.shared.find(in: $0) }, to: &current, counts: &counts, seen: &seen)
            // Markers may hold trigger strings (`[REDACTED:…-secret]`): scan what changed again.
            if replaced && !exhaustive { hit |= current.withUTF8 { triggers.scan($0) } }
            changed = changed || replaced
        }
        if applyRules(first..<rules.count, to: &current, hit: &hit, counts: &counts, seen: &seen) { changed = true }
        if secrets {
            // The gates of the text as it is now (offsets moved and markers came where something was replaced).
            var gate = exhaustive ? (words: Structures.Words(), stems: true) : gates(hit)
            if changed && !exhaustive { stems = []; gate = gates(current.withUTF8 { triggers.scan($0, positionsOf: stemBit, into: &stems) }) }
            if gate.stems {
                let near: [Int]? = exhaustive ? nil : stems
                if apply({ Assignments.find(in: $0, near: near) }, to: &current, counts: &counts, seen: &seen) && !exhaustive {
                    gate.words = gates(current.withUTF8 { triggers.scan($0) }).words
                }
            }
            if exhaustive { gate.words = current.withUTF8 { Structures.Words.search($0) } }
            if !gate.words.isEmpty {
                let words = gate.words
                apply({ Structures.find(in: $0, words: words) }, to: &current, counts: &counts, seen: &seen)
            }
        }
        if let custom, !custom.rules.isEmpty {
            let text = current  // the finder's bytes are this string's; no need to decode them again
            apply({ _ in custom.find(in: text) }, to: &current, counts: &counts, seen: &seen)
        }
        if !seen.isEmpty {
            current = Self.scrub(current, seen, counts: &counts)
            found.merge(seen) { a, _ in a }
        }
        return current
    }

    /// The regular-expression rules `range` in order, each where its triggers occur.
    /// Whether it replaced anything.
    @discardableResult
    private func applyRules(_ range: Range<Int>, to current: inout String, hit: inout UInt64, counts: inout [String: Int], seen: inout [String: String]) -> Bool {
        var changed = false
        for k in range {
            let rule = rules[k]
            guard hit & (1 << UInt64(k)) != 0 else { continue }
            let ns = current as NSString
            var matches: [NSTextCheckingResult] = []
            if rule.caseInsensitive && !exhaustive {
                // Transparent bounds: `\b` and look-ahead see the text around a window, as in a whole-string search.
                for r in current.withUTF8({ triggers.windows(rule: k, in: $0) }) {
                    matches += rule.regex.re.matches(in: current, options: [.withTransparentBounds, .withoutAnchoringBounds], range: r)
                }
            } else {
                matches = rule.regex.re.matches(in: current, range: NSRange(location: 0, length: ns.length))
            }
            if matches.isEmpty { continue }
            let marker = Self.marker(rule.kind)
            var pieces: [String] = []
            var cursor = 0
            var replaced = 0
            for m in matches {
                let r = m.range(at: rule.group)
                guard r.location != NSNotFound, r.length > 0, r.location >= cursor else { continue }
                let value = ns.substring(with: r)
                if value.hasPrefix("[REDACTED") { continue }
                // A key block holds key material, not a word or two (`…PRIVATE KEY-----\nanything\n-----END…`).
                if rule.kind == "private-key",
                   value.components(separatedBy: "-----").enumerated().filter({ $0.offset % 2 == 0 }).map(\.element).joined()
                    .filter({ $0.isLetter || $0.isNumber }).count < 16 { continue }
                pieces.append(ns.substring(with: NSRange(location: cursor, length: r.location - cursor)))
                pieces.append(marker)
                cursor = r.location + r.length
                replaced += 1
                seen[value] = seen[value] ?? rule.kind
            }
            if replaced == 0 { continue }
            pieces.append(ns.substring(from: cursor))
            current = pieces.joined()
            changed = true
            counts[rule.kind, default: 0] += replaced
            // Later rules see the text as it is now (markers included), as if scanned afresh.
            if !exhaustive { hit |= current.withUTF8 { triggers.scan($0) } }
        }
        return changed
    }

    /// Replaces what a byte-level finder finds (ranges in order; overlapping ones and markers skipped).
    /// Whether it replaced anything.
    @discardableResult
    private func apply(_ finder: (UnsafeBufferPointer<UInt8>) -> [(range: Range<Int>, kind: String)], to current: inout String,
                       counts: inout [String: Int], seen: inout [String: String]) -> Bool {
        let findings = current.withUTF8 { finder($0) }
        if findings.isEmpty { return false }
        let bytes = Array(current.utf8)
        let markerStart = Array("[REDACTED:".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var cursor = 0
        for f in findings where f.range.lowerBound >= cursor && f.range.upperBound <= bytes.count && !f.range.isEmpty {
            let value = bytes[f.range]
            if value.starts(with: markerStart) || Self.insideMarker(bytes, f.range.lowerBound) { continue }
            out += bytes[cursor..<f.range.lowerBound]
            out += Array(Self.marker(f.kind).utf8)
            cursor = f.range.upperBound
            counts[f.kind, default: 0] += 1
            let text = String(decoding: value, as: UTF8.self)
            seen[text] = seen[text] ?? f.kind
        }
        if cursor == 0 && out.isEmpty { return false }
        out += bytes[cursor...]
        current = String(decoding: out, as: UTF8.self)
        return true
    }

    /// Whether offset `at` falls inside a `[REDACTED:kind]` marker.
    static func insideMarker(_ b: [UInt8], _ at: Int) -> Bool {
        var k = at - 1
        while k >= 0, at - k <= 48 {
            if b[k] == 0x5D || b[k] == 0x0A { return false }
            if b[k] == 0x5B { return b[k...].starts(with: Array("[REDACTED:".utf8)) }
            k -= 1
        }
        return false
    }

    /// Secrets shorter than this, or made of lower-case letters only, are not searched for elsewhere (a
    /// short password such as `abc` or a word would damage ordinary text).
    public static let minimumPropagatedLength = 8

    /// Every occurrence of a known secret (and of its JSON-escaped spelling) replaced by its marker.
    static func scrub(_ text: String, _ secrets: [String: String], counts: inout [String: Int]) -> String {
        scrub(text, spellings(secrets), counts: &counts)
    }

    /// The secrets worth searching for elsewhere, longest first, each with its spellings (as written and
    /// JSON-escaped) and its marker, as bytes.
    static func spellings(_ secrets: [String: String]) -> [(kind: String, spellings: [[UInt8]], marker: [UInt8])] {
        secrets.sorted(by: { $0.key.utf8.count != $1.key.utf8.count ? $0.key.utf8.count > $1.key.utf8.count : $0.key < $1.key })
            .filter { $0.key.utf8.count >= minimumPropagatedLength && !$0.key.utf8.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) }
            .map { (value, kind) in (kind, Array(Set([value, jsonEscaped(value)])).sorted().map { Array($0.utf8) }, Array(marker(kind).utf8)) }
    }

    static func scrub(_ text: String, _ secrets: [(kind: String, spellings: [[UInt8]], marker: [UInt8])], counts: inout [String: Int]) -> String {
        if secrets.isEmpty || text.utf8.count < minimumPropagatedLength { return text }
        var bytes = Array(text.utf8)
        var changed = false
        for secret in secrets {
            for spelling in secret.spellings {
                let found = occurrences(of: spelling, in: bytes)
                if found.isEmpty { continue }
                var out: [UInt8] = []
                out.reserveCapacity(bytes.count)
                var cursor = 0
                for at in found {
                    out += bytes[cursor..<at]
                    out += secret.marker
                    cursor = at + spelling.count
                }
                out += bytes[cursor...]
                bytes = out
                counts[secret.kind, default: 0] += found.count
                changed = true
            }
        }
        return changed ? String(decoding: bytes, as: UTF8.self) : text
    }

    /// Start offsets of the non-overlapping occurrences of `needle`, left to right.
    static func occurrences(of needle: [UInt8], in haystack: [UInt8]) -> [Int] {
        guard let first = needle.first, needle.count <= haystack.count else { return [] }
        var out: [Int] = []
        var k = 0
        let last = haystack.count - needle.count
        while k <= last {
            if haystack[k] == first && haystack[k..<(k + needle.count)].elementsEqual(needle) {
                out.append(k)
                k += needle.count
            } else {
                k += 1
            }
        }
        return out
    }

    /// A string as it appears inside a JSON string literal.
    static func jsonEscaped(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// Redacts every string a trajectory carries: task, thoughts, tool names, inputs (values and keys),
    /// commands, call ids, observations, answer, outcome detail, timestamps, ids, source file and meta.
    /// Ids are rewritten the same way everywhere, so they stay unique and joinable. A secret found
    /// anywhere is then removed wherever else it occurs in the trajectory, even bare (a key read once and
    /// pasted into a later command, an observation, the answer or `meta`).
    public func redact(_ t: Trajectory, counts: inout [String: Int]) -> Trajectory {
        if rules.isEmpty { return t }
        var found: [String: String] = [:]
        var out = map(t, counts: &counts) { s, counts in redact(s, counts: &counts, found: &found) }
        if !found.isEmpty {
            let known = Self.spellings(found)
            out = map(out, counts: &counts) { s, counts in Self.scrub(s, known, counts: &counts) }
        }
        return out
    }

    /// The trajectory with `f` applied to every string it carries.
    private func map(_ t: Trajectory, counts: inout [String: Int], _ f: (String, inout [String: Int]) -> String) -> Trajectory {
        var out = t
        out.digest = .init()  // the content may change below
        let before = counts.values.reduce(0, +)
        func r(_ s: String) -> String { f(s, &counts) }
        func json(_ v: JSONValue) -> JSONValue {
            switch v {
            case .string(let s): return .string(r(s))
            case .array(let a): return .array(a.map(json))
            case .object(let o):
                var m: [String: JSONValue] = [:]
                for k in o.keys.sorted() { m[r(k)] = json(o[k]!) }
                return .object(m)
            default: return v
            }
        }
        out.id = r(t.id)
        out.task = r(t.task)
        out.taskKey = t.taskKey.map(r)
        out.answer = t.answer.map(r)
        out.outcome.detail = t.outcome.detail.map(r)
        out.source = t.source.map { var s = $0; s.file = r(s.file); return s }
        for i in out.steps.indices {
            out.steps[i].thought = out.steps[i].thought.map(r)
            out.steps[i].timestamp = out.steps[i].timestamp.map(r)
            if var a = out.steps[i].action {
                a.tool = r(a.tool)
                a.input = json(a.input)
                a.command = a.command.map(r)
                a.callID = a.callID.map(r)
                out.steps[i].action = a
            }
            if var o = out.steps[i].observation {
                o.content = r(o.content)
                out.steps[i].observation = o
            }
        }
        if case .object(let m) = json(.object(t.meta)) { out.meta = m }
        // Nothing redacted: the same record, which keeps what was computed from it.
        if counts.values.reduce(0, +) == before { out.digest = t.digest }
        return out
    }
}

/// An automaton over the rules' trigger strings: one table lookup per byte of text gives the set of rules
/// whose triggers occur, so the regular expressions run only where they can match. (A trigger group per
/// bit — each rule's, then the gates of the byte-level finders: at most 64 groups.)
///
/// A case-insensitive rule's triggers are found in any ASCII case and also spelt with the characters
/// that ICU's case folding turns into their letters (`paßword`, `ſecret`, `api_Key`), see `foldsTo`; a
/// case-sensitive rule's only as they are.
struct TriggerScanner: Sendable {
    /// Characters whose case mappings lead to ASCII letters, with those letters: `(?i)` matches them
    /// to the letters (`ß` to `ss`, `ſ` to `s`, `K` to `k`, `ﬁ` to `fi`; `ı`, whose upper case is `I`, is
    /// listed though ICU folds it to `i` only in Turkic folding). `RedactionTests` derives the list from
    /// the Unicode case mappings.
    static let foldsTo: [(Unicode.Scalar, String)] = [
        ("\u{DF}", "ss"), ("\u{1E9E}", "ss"), ("\u{17F}", "s"), ("\u{212A}", "k"), ("\u{131}", "i"),
        ("\u{FB00}", "ff"), ("\u{FB01}", "fi"), ("\u{FB02}", "fl"), ("\u{FB03}", "ffi"), ("\u{FB04}", "ffl"),
        ("\u{FB05}", "st"), ("\u{FB06}", "st"),
    ]

    /// Every spelling of a lower-case ASCII trigger with `foldsTo` characters in place of its letters.
    static func spellings(_ trigger: String) -> [String] {
        let t = Array(trigger.unicodeScalars)
        func from(_ i: Int) -> [String] {
            if i == t.count { return [""] }
            var out = from(i + 1).map { String(t[i]) + $0 }
            for (c, letters) in foldsTo {
                let l = Array(letters.unicodeScalars)
                if i + l.count <= t.count && Array(t[i..<(i + l.count)]) == l {
                    out += from(i + l.count).map { String(c) + $0 }
                }
            }
            return out
        }
        return from(0)
    }

    /// Bytes that act alike in every trigger share a class (class 0: bytes in no trigger; 63 classes
    /// and about 1,000 states for the secret rules). The transition table is indexed by class, not by
    /// byte, so the few rows ordinary text visits stay in the L1 cache: the scan is one dependent load
    /// per byte, and 256-column rows made every load an L2 miss.
    private let byteClass: [UInt8]
    private let classes: Int
    /// next[state * classes + class] -> next state * classes, with bit 31 set when it has outputs.
    private let next: [UInt32]
    private let longestTrigger: Int
    /// Rules with a trigger ending where the automaton enters this state.
    private let output: [UInt64]
    /// Length of the longest trigger ending there (where a window around it starts at the latest).
    private let depth: [Int]
    /// What must follow a trigger of each rule; rules in `unconditional` need nothing.
    private let follows: [SecretRedactor.Follow]
    private let unconditional: UInt64
    /// Off: every trigger counts, as before the follow checks (tests compare the two).
    var checksFollow = true

    /// ASCII upper case to lower case; every other byte as it is.
    @inline(__always) static func fold(_ b: UInt8) -> UInt8 { b &- 0x41 < 26 ? b | 0x20 : b }

    /// A deterministic automaton over all triggers at once, each trigger a sequence of byte sets (a
    /// case-insensitive rule's letters take either case; a case-sensitive rule's bytes only
    /// themselves). A state is the set of trigger prefixes the text read so far ends with — the subset
    /// construction over Aho–Corasick's trie — so a case-sensitive `AC` and a case-insensitive
    /// `access_key` are told apart in the same single pass.
    init(_ rules: [SecretRedactor.TriggerGroup]) {
        precondition(rules.count <= 64, "TriggerScanner holds at most 64 groups")
        var patterns: [(bytes: [[UInt8]], rule: Int)] = []
        for (k, r) in rules.enumerated() {
            let spellings = r.caseInsensitive ? r.triggers.flatMap { Self.spellings($0.lowercased()) } : r.triggers
            for t in Set(spellings).sorted() {
                patterns.append((Array(t.utf8).map { b in
                    let lower = Self.fold(b)
                    return r.caseInsensitive && lower &- 0x61 < 26 ? [lower, lower - 0x20] : [b]
                }, k))
            }
        }
        follows = rules.map(\.follow)
        unconditional = follows.enumerated().reduce(0) { m, r in
            if case .anything = r.element { return m | (1 << UInt64(r.offset)) } else { return m }
        }
        // Position base[p] + i - 1: "the text ends with the first i bytes of pattern p".
        var base: [Int] = []
        var pattern: [Int] = []
        for (n, p) in patterns.enumerated() {
            base.append(pattern.count)
            pattern += Array(repeating: n, count: p.bytes.count)
        }
        // accepts[b]: the (pattern, index) pairs whose byte set holds b.
        var accepts = Array(repeating: [(Int, Int)](), count: 256)
        for (n, p) in patterns.enumerated() {
            for (j, set) in p.bytes.enumerated() { for b in set { accepts[Int(b)].append((n, j)) } }
        }
        var cls = Array(repeating: UInt8(0), count: 256)
        var classKey: [[Int]: Int] = [[]: 0]
        var representative = [-1]
        for b in 0..<256 {
            let key = accepts[b].map { base[$0.0] + $0.1 }
            if let c = classKey[key] { cls[b] = UInt8(c); continue }
            precondition(representative.count < 256, "too many distinct trigger bytes")
            classKey[key] = representative.count
            cls[b] = UInt8(representative.count)
            representative.append(b)
        }
        let count = representative.count
        // What a byte of each class does to each position: position `need` (or none, -1) becomes `id`.
        let steps: [[(need: Int, id: Int)]] = representative.map { b in
            b < 0 ? [] : accepts[b].map { (p, j) in (j == 0 ? -1 : base[p] + j - 1, base[p] + j) }
        }
        var index: [[Int]: Int] = [[]: 0]
        var states: [[Int]] = [[]]
        var targets: [Int] = []
        var holds = Array(repeating: false, count: pattern.count)
        var q = 0
        while q < states.count {
            for id in states[q] { holds[id] = true }
            for c in 0..<count {
                var there: [Int] = []
                for (need, id) in steps[c] where need < 0 || holds[need] { there.append(id) }
                there.sort()
                if let s = index[there] {
                    targets.append(s)
                } else {
                    index[there] = states.count
                    targets.append(states.count)
                    states.append(there)
                }
            }
            for id in states[q] { holds[id] = false }
            q += 1
        }
        precondition(states.count * count < 0x7FFF_FFFF, "too many trigger states")
        var out = Array(repeating: UInt64(0), count: states.count)
        var depths = Array(repeating: 0, count: states.count)
        for (s, positions) in states.enumerated() {
            for id in positions where id - base[pattern[id]] + 1 == patterns[pattern[id]].bytes.count {
                out[s] |= 1 << UInt64(patterns[pattern[id]].rule)
                depths[s] = max(depths[s], patterns[pattern[id]].bytes.count)
            }
        }
        byteClass = cls
        classes = count
        longestTrigger = max(1, patterns.map(\.bytes.count).max() ?? 1)
        next = targets.map { UInt32($0 * count) | (out[$0] != 0 ? 0x8000_0000 : 0) }
        output = out
        depth = depths
    }

    /// Of the rules in `candidates`, with a trigger ending at `i`: those followed by what they need.
    @inline(__always) private func confirm(_ candidates: UInt64, _ bytes: UnsafeBufferPointer<UInt8>, endingAt i: Int) -> UInt64 {
        guard checksFollow else { return candidates }
        var ok = candidates & unconditional
        var pending = candidates & ~unconditional
        while pending != 0 {
            let k = pending.trailingZeroBitCount
            pending &= pending - 1
            if Self.follows(follows[k], bytes, after: i + 1) { ok |= 1 << UInt64(k) }
        }
        return ok
    }

    /// Bit k set when a trigger of rule k occurs in `bytes` followed by what rule k needs.
    ///
    /// The scan is one table load per byte, each waiting for the one before; long strings are scanned
    /// as four quarters interleaved in one loop, so four chains of loads overlap. Each quarter after the
    /// first starts `longestTrigger - 1` bytes early, so a trigger across a seam is still seen.
    func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var unused: [Int] = []
        return scan(bytes, positionsOf: 0, into: &unused)
    }

    /// `scan`, also giving where (the offset of the last byte) every trigger of the groups in `positional`
    /// ends, ascending and without repeats.
    func scan(_ bytes: UnsafeBufferPointer<UInt8>, positionsOf positional: UInt64, into positions: inout [Int]) -> UInt64 {
        let stride = classes
        var ends: [Int] = []
        let mask: UInt64 = next.withUnsafeBufferPointer { table in
        byteClass.withUnsafeBufferPointer { cls in
            var mask: UInt64 = 0
            // Entries hold the next state premultiplied by the row length, flag in bit 31.
            @inline(__always) func found(_ e: UInt32, at i: Int, _ mask: UInt64) -> UInt64 {
                let all = output[Int(e & 0x7FFF_FFFF) / stride]
                if all & positional != 0 { ends.append(i) }
                let o = all & ~mask
                return o == 0 ? 0 : confirm(o, bytes, endingAt: i)
            }
            let n = bytes.count
            var a = 0                 // state (premultiplied) of the stream that finishes the string
            var i = 0
            if n >= 1024 {
                // Four streams over the quarters; each after the first starts `longestTrigger - 1` bytes
                // before its quarter and all run the same number of steps (the first one overlaps the
                // start of the second, which only finds the same triggers twice).
                let q = n / 4
                let steps = q + longestTrigger - 1
                let p1 = q - (longestTrigger - 1), p2 = 2 * q - (longestTrigger - 1), p3 = 3 * q - (longestTrigger - 1)
                var s0 = 0, s1 = 0, s2 = 0, s3 = 0
                for k in 0..<steps {
                    let e0 = table[s0 &+ Int(cls[Int(bytes[k])])]
                    let e1 = table[s1 &+ Int(cls[Int(bytes[p1 &+ k])])]
                    let e2 = table[s2 &+ Int(cls[Int(bytes[p2 &+ k])])]
                    let e3 = table[s3 &+ Int(cls[Int(bytes[p3 &+ k])])]
                    s0 = Int(e0 & 0x7FFF_FFFF)
                    s1 = Int(e1 & 0x7FFF_FFFF)
                    s2 = Int(e2 & 0x7FFF_FFFF)
                    s3 = Int(e3 & 0x7FFF_FFFF)
                    if (e0 | e1 | e2 | e3) & 0x8000_0000 != 0 {
                        if e0 & 0x8000_0000 != 0 { mask |= found(e0, at: k, mask) }
                        if e1 & 0x8000_0000 != 0 { mask |= found(e1, at: p1 + k, mask) }
                        if e2 & 0x8000_0000 != 0 { mask |= found(e2, at: p2 + k, mask) }
                        if e3 & 0x8000_0000 != 0 { mask |= found(e3, at: p3 + k, mask) }
                    }
                }
                i = p3 + steps        // = 4q: the last stream goes on to the end
                a = s3
            }
            while i < n {
                let e = table[a &+ Int(cls[Int(bytes[i])])]
                a = Int(e & 0x7FFF_FFFF)
                if e & 0x8000_0000 != 0 { mask |= found(e, at: i, mask) }
                i += 1
            }
            return mask
        }
        }
        if !ends.isEmpty {
            // The four streams report out of order, and the overlaps at the seams twice.
            ends.sort()
            var last = -1
            positions = ends.filter { p in defer { last = p }; return p != last }
        }
        return mask
    }

    /// Where a case-insensitive rule can match in `bytes`, as UTF-16 ranges (for `NSRegularExpression`),
    /// in order and disjoint: around every trigger of `rule` that passes its follow check, from the
    /// start of the word it is in to the end of a value assigned to it. Every match of the rule's
    /// pattern contains one of its triggers (they are its keywords, in every spelling case folding
    /// allows) and fits in that trigger's window, so searching the windows finds what searching the
    /// whole string finds. Windows close together are searched as one range, and at most 8 ranges are
    /// returned.
    func windows(rule: Int, in bytes: UnsafeBufferPointer<UInt8>) -> [NSRange] {
        var found: [Range<Int>] = []
        let bit: UInt64 = 1 << UInt64(rule)
        var state = 0
        for i in 0..<bytes.count {
            let e = next[state + Int(byteClass[Int(bytes[i])])]
            state = Int(e & 0x7FFF_FFFF)
            guard e & 0x8000_0000 != 0 else { continue }
            let s = state / classes
            guard output[s] & bit != 0, confirm(bit, bytes, endingAt: i) != 0 else { continue }
            let w = Self.wordStart(bytes, before: i + 1 - depth[s])..<Self.valueEnd(bytes, after: i + 1)
            if let last = found.last, w.lowerBound <= last.upperBound {
                found[found.count - 1] = last.lowerBound..<max(last.upperBound, w.upperBound)
            } else {
                found.append(w)
            }
        }
        // Each search converts the whole string to UTF-16 (about 3 ns a character) before it looks at its
        // window, so searching thousands of windows one by one cost more than the whole string did. Windows
        // closer together than the cost of a search are joined, and past 8 one range spans them all (any
        // range made of whole windows and the gaps between them, which hold no match, finds the same).
        var joined: [Range<Int>] = []
        for w in found {
            if let last = joined.last, w.lowerBound - last.upperBound <= bytes.count / 64 {
                joined[joined.count - 1] = last.lowerBound..<w.upperBound
            } else {
                joined.append(w)
            }
        }
        if joined.count > 8 { joined = [joined[0].lowerBound..<joined[joined.count - 1].upperBound] }
        // Byte offsets to UTF-16 offsets, in one pass (the bounds are ascending and at character starts).
        var out: [NSRange] = []
        var j = 0, u = 0
        func advance(to p: Int) -> Int {
            while j < p {
                let b = bytes[j]
                if b & 0xC0 != 0x80 { u += b >= 0xF0 ? 2 : 1 }
                j += 1
            }
            return u
        }
        for w in joined {
            let lo = advance(to: w.lowerBound)
            out.append(NSRange(location: lo, length: advance(to: w.upperBound) - lo))
        }
        return out
    }

    /// The start of the key a trigger at `start` is part of: back over name bytes (and any non-ASCII
    /// byte, which a case-insensitive class or `\b` might take).
    static func wordStart(_ bytes: UnsafeBufferPointer<UInt8>, before start: Int) -> Int {
        var j = start
        while j > 0, SecretRedactor.ByteSet.token.member[Int(bytes[j - 1])] || bytes[j - 1] >= 0x80 { j -= 1 }
        return j
    }

    /// The furthest a case-insensitive rule's match can reach after a trigger ending at `end`: the rest
    /// of the key, a quote, spaces, `=` or `:`, spaces, a quote, then the value up to ASCII whitespace.
    /// Non-ASCII bytes count as both name and space (ICU's `\s` takes Unicode spaces), so the window is
    /// never shorter than a match.
    static func valueEnd(_ bytes: UnsafeBufferPointer<UInt8>, after end: Int) -> Int {
        var j = end
        func skip(_ keep: (UInt8) -> Bool) { while j < bytes.count, keep(bytes[j]) { j += 1 } }
        skip { SecretRedactor.ByteSet.token.member[Int($0)] || $0 >= 0x80 }
        skip { $0 == 0x22 || $0 == 0x27 }
        skip(mayBeSpace)
        skip { $0 == 0x3D || $0 == 0x3A }
        skip(mayBeSpace)
        skip { $0 == 0x22 || $0 == 0x27 }
        skip { !isSpace($0) }
        return j
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }
    /// ASCII whitespace or any byte of a non-ASCII character (ICU's `\s` also takes Unicode spaces).
    static func mayBeSpace(_ b: UInt8) -> Bool { isSpace(b) || b >= 0x80 }

    /// Whether `bytes[start...]` can begin what `follow` asks for.
    static func follows(_ follow: SecretRedactor.Follow, _ bytes: UnsafeBufferPointer<UInt8>, after start: Int) -> Bool {
        func run(_ set: SecretRedactor.ByteSet, _ count: Int, from: Int) -> Bool {
            guard from + count <= bytes.count else { return false }
            for j in from..<(from + count) where !set.member[Int(bytes[j])] { return false }
            return true
        }
        switch follow {
        case .anything:
            return true
        case .run(let set, let count):
            return run(set, count, from: start)
        case .spaceThenRun(let set, let count):
            // Used by case-insensitive rules, whose classes also take `ſ` and `K`, and whose `\s` takes
            // Unicode spaces: a non-ASCII byte where the spaces or the run are might be either.
            var j = start
            while j < bytes.count, isSpace(bytes[j]) { j += 1 }
            guard j + count <= bytes.count else { return false }  // fewer bytes, so fewer characters, than needed
            for k in j..<(j + count) {
                if bytes[k] >= 0x80 { return true }
                if !set.member[Int(bytes[k])] { return false }
            }
            return true
        case .assignment:
            var j = start
            while j < bytes.count, SecretRedactor.ByteSet.token.member[Int(bytes[j])] { j += 1 }
            if j < bytes.count, bytes[j] == 0x22 || bytes[j] == 0x27 { j += 1 }
            while j < bytes.count, mayBeSpace(bytes[j]) { j += 1 }
            return j < bytes.count && (bytes[j] == 0x3D || bytes[j] == 0x3A)
        case .userinfo:
            // [^\s:/@"'<>\[\]]+ : [^\s@/"'<>]+ @
            var j = start
            var user = 0
            while j < bytes.count {
                let b = bytes[j]
                if b == 0x3A { break }
                if isSpace(b) || b == 0x2F || b == 0x40 || b == 0x22 || b == 0x27 || b == 0x3C || b == 0x3E || b == 0x5B || b == 0x5D { return false }
                user += 1
                j += 1
            }
            guard j < bytes.count else { return false }
            j += 1
            var pass = 0
            while j < bytes.count {
                let b = bytes[j]
                if b == 0x40 { return pass > 0 }
                if isSpace(b) || b == 0x2F || b == 0x22 || b == 0x27 || b == 0x3C || b == 0x3E { return false }
                pass += 1
                j += 1
            }
            return false
        }
    }
}
