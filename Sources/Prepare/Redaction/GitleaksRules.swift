import Foundation
import TOMLSupport
import Trajectories

/// Rules from a gitleaks configuration file (TOML), applied beside the built-in ones so that an
/// organisation reuses the rules its security team maintains (`redact: {rules: FILE}`, `build --redact-rules`).
///
/// Read: `[[rules]]` with `id`, `regex` (RE2 syntax; `(?P<name>…)` groups are read as `(?<name>…)`),
/// `keywords` (the rule runs only on text holding one, in any case), `secretGroup` (the capture group that is
/// the secret; 0: the only group when there is exactly one, else the whole match — as gitleaks does),
/// `entropy` (the secret's Shannon entropy in bits per character must reach it), and allowlists —
/// `[[rules.allowlists]]` / `[rules.allowlist]` per rule and `[allowlist]` / `[[allowlists]]` for all — with
/// `regexes` (tested against the secret, or the match or the line with `regexTarget`), `stopwords` (a
/// secret containing one is left alone) and `condition` (`OR`, the default, or `AND`). `paths` and `commits`
/// in allowlists, and rules that only match file paths, concern files in a repository and do not apply to
/// trajectory text: such rules are skipped and counted in `skipped`. `[extend]` is ignored (the built-in
/// rules always run). The marker of a finding is `[REDACTED:<rule id>]`.
public struct GitleaksRules: Sendable {
    public struct Rule: Sendable {
        public let id: String
        let regex: SecretRedactor.Regex
        let keywords: [String]
        let secretGroup: Int
        let entropy: Double?
        let allowlists: [Allowlist]
        /// The line of the file the rule starts at (for messages).
        public let line: Int
    }

    struct Allowlist: Sendable {
        enum Target: String, Sendable { case secret, match, line }
        let regexes: [SecretRedactor.Regex]
        let stopwords: [String]
        let target: Target
        let all: Bool  // condition AND

        /// Whether a finding is allowed (left in the text).
        func allows(secret: String, match: String, line: String) -> Bool {
            var checks: [Bool] = []
            if !regexes.isEmpty {
                let text = target == .secret ? secret : target == .match ? match : line
                let range = NSRange(text.startIndex..., in: text)
                checks.append(regexes.contains { $0.re.firstMatch(in: text, range: range) != nil })
            }
            if !stopwords.isEmpty {
                let lower = secret.lowercased()
                checks.append(stopwords.contains { lower.contains($0) })
            }
            if checks.isEmpty { return false }
            return all ? checks.allSatisfy { $0 } : checks.contains(true)
        }
    }

    /// A problem in the file, with where it is.
    public struct LoadError: Error, Sendable, CustomStringConvertible {
        public let file: String
        public let line: Int
        public let column: Int
        public let message: String
        public var description: String { "\(file):\(line):\(column): error: \(message)" }
    }

    public let rules: [Rule]
    let global: [Allowlist]
    /// Rules that cannot apply to trajectory text (path-only rules), by id.
    public let skipped: [String]
    /// SHA-256 of the file's bytes: what ingest caches key on.
    public let digest: String

    /// Reads and checks `path`; every problem is a `LoadError` naming the file, line and column.
    public static func load(path: String) throws -> GitleaksRules {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(file: path, line: 1, column: 1, message: "cannot read the gitleaks rules file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw LoadError(file: path, line: 1, column: 1, message: "the gitleaks rules file is not UTF-8 text")
        }
        return try parse(text, file: path, digest: ContentHash.sha256(data))
    }

    public static func parse(_ text: String, file: String, digest: String? = nil) throws -> GitleaksRules {
        let table: JSONValue
        do { table = try TOMLDocument.parse(text) } catch let e as TOMLDocument.SyntaxError {
            throw LoadError(file: file, line: e.line, column: e.column, message: "TOML syntax error: \(e.message)")
        }
        let lines = text.components(separatedBy: "\n")
        /// The line of the n-th `[[rules]]` header (1-based), for messages about that rule.
        let ruleLines = lines.indices.filter { lines[$0].trimmingCharacters(in: .whitespaces).hasPrefix("[[rules]]") }.map { $0 + 1 }
        func lineOf(_ key: String, after start: Int) -> (Int, Int) {
            for k in max(0, start - 1)..<lines.count {
                let t = lines[k].trimmingCharacters(in: .whitespaces)
                if k > start - 1, t.hasPrefix("[[rules]]") { break }
                if t.hasPrefix(key), t.dropFirst(key.count).trimmingCharacters(in: .whitespaces).hasPrefix("=") {
                    return (k + 1, lines[k].distance(from: lines[k].startIndex, to: lines[k].firstIndex(where: { !$0.isWhitespace }) ?? lines[k].startIndex) + 1)
                }
            }
            return (start, 1)
        }
        func fail(_ line: Int, _ column: Int, _ message: String) -> LoadError { LoadError(file: file, line: line, column: column, message: message) }

        func regex(_ pattern: String, at: (Int, Int), what: String) throws -> SecretRedactor.Regex {
            let icu = Self.icuPattern(pattern)
            do { return try SecretRedactor.Regex(checking: icu) } catch {
                throw fail(at.0, at.1, "\(what): the regular expression does not compile (\(pattern.prefix(80)))")
            }
        }
        func allowlist(_ t: JSONValue, at line: Int, what: String) throws -> Allowlist? {
            let target: Allowlist.Target
            switch t["regexTarget"]?.stringValue ?? "secret" {
            case "secret": target = .secret
            case "match": target = .match
            case "line": target = .line
            case let other: throw fail(lineOf("regexTarget", after: line).0, lineOf("regexTarget", after: line).1,
                                       "\(what): regexTarget '\(other)' is not one of secret, match, line")
            }
            let condition = (t["condition"]?.stringValue ?? "OR").uppercased()
            guard condition == "OR" || condition == "AND" else {
                let at = lineOf("condition", after: line)
                throw fail(at.0, at.1, "\(what): condition '\(condition)' is not OR or AND")
            }
            let regexes = try (t["regexes"]?.arrayValue ?? []).map { v -> SecretRedactor.Regex in
                guard let s = v.stringValue else { throw fail(lineOf("regexes", after: line).0, 1, "\(what): regexes must be strings") }
                return try regex(s, at: lineOf("regexes", after: line), what: what)
            }
            let stopwords = (t["stopwords"]?.arrayValue ?? []).compactMap { $0.stringValue?.lowercased() }
            // Paths and commits concern repository files; an allowlist of only those changes nothing here.
            if regexes.isEmpty && stopwords.isEmpty { return nil }
            return Allowlist(regexes: regexes, stopwords: stopwords, target: target, all: condition == "AND")
        }
        func allowlists(in t: JSONValue, single: String, many: String, at line: Int, what: String) throws -> [Allowlist] {
            var out: [Allowlist] = []
            if let one = t[single], one.objectValue != nil, let a = try allowlist(one, at: line, what: what) { out.append(a) }
            for v in t[many]?.arrayValue ?? [] {
                if v.objectValue != nil, let a = try allowlist(v, at: line, what: what) { out.append(a) }
            }
            return out
        }

        var rules: [Rule] = []
        var skipped: [String] = []
        var ids = Set<String>()
        for (n, t) in (table["rules"]?.arrayValue ?? []).enumerated() {
            let start = n < ruleLines.count ? ruleLines[n] : 1
            guard t.objectValue != nil else { throw fail(start, 1, "rules must be tables ([[rules]])") }
            guard let id = t["id"]?.stringValue, !id.isEmpty else { throw fail(start, 1, "rule \(n + 1) has no id") }
            guard ids.insert(id).inserted else { throw fail(lineOf("id", after: start).0, lineOf("id", after: start).1, "rule id '\(id)' is defined twice") }
            guard let pattern = t["regex"]?.stringValue else {
                if t["path"] != nil { skipped.append(id); continue }
                throw fail(start, 1, "rule '\(id)' has neither regex nor path")
            }
            let re = try regex(pattern, at: lineOf("regex", after: start), what: "rule '\(id)'")
            let group = t["secretGroup"]?.intValue ?? 0
            if group < 0 || group > re.re.numberOfCaptureGroups {
                let at = lineOf("secretGroup", after: start)
                throw fail(at.0, at.1, "rule '\(id)': secretGroup \(group) but the regex has \(re.re.numberOfCaptureGroups) group(s)")
            }
            let entropy = t["entropy"]?.doubleValue
            let keywords = (t["keywords"]?.arrayValue ?? []).compactMap { $0.stringValue?.lowercased() }.filter { !$0.isEmpty }
            let lists = try allowlists(in: t, single: "allowlist", many: "allowlists", at: start, what: "rule '\(id)' allowlist")
            rules.append(Rule(id: id, regex: re, keywords: keywords, secretGroup: group, entropy: entropy, allowlists: lists, line: start))
        }
        let global = try allowlists(in: table, single: "allowlist", many: "allowlists", at: 1, what: "global allowlist")
        if rules.isEmpty && skipped.isEmpty { throw fail(1, 1, "the file defines no [[rules]]") }
        return GitleaksRules(rules: rules, global: global, skipped: skipped, digest: digest ?? ContentHash.sha256(Data(text.utf8)))
    }

    /// RE2 syntax as ICU reads it: named groups `(?P<name>` become `(?<name>`; `\z` is the same in both.
    static func icuPattern(_ re2: String) -> String {
        re2.replacingOccurrences(of: "(?P<", with: "(?<")
    }

    /// Shannon entropy of `s` in bits per character.
    static func entropy(_ s: String) -> Double {
        let chars = Array(s.unicodeScalars)
        guard !chars.isEmpty else { return 0 }
        var counts: [Unicode.Scalar: Int] = [:]
        for c in chars { counts[c, default: 0] += 1 }
        let n = Double(chars.count)
        return counts.values.reduce(0) { $0 - (Double($1) / n) * log2(Double($1) / n) }
    }

    /// The secrets the rules find in `text`, as UTF-8 byte ranges with their rule id, in order, not
    /// overlapping (an earlier rule wins).
    public func find(in text: String) -> [(range: Range<Int>, kind: String)] {
        var lowered: String?
        let ns = text as NSString
        var found: [(range: Range<Int>, kind: String)] = []
        var taken = IndexSet()
        for rule in rules {
            if !rule.keywords.isEmpty {
                let lower = lowered ?? text.lowercased()
                lowered = lower
                guard rule.keywords.contains(where: { lower.contains($0) }) else { continue }
            }
            for m in rule.regex.re.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
                let group = rule.secretGroup > 0 ? rule.secretGroup : (m.numberOfRanges == 2 ? 1 : 0)
                let r = m.range(at: group)
                guard r.location != NSNotFound, r.length > 0 else { continue }
                let secret = ns.substring(with: r)
                if let e = rule.entropy, Self.entropy(secret) < e { continue }
                let lists = rule.allowlists + global
                if !lists.isEmpty {
                    let match = ns.substring(with: m.range)
                    let line = ns.substring(with: ns.lineRange(for: m.range)).trimmingCharacters(in: .newlines)
                    if lists.contains(where: { $0.allows(secret: secret, match: match, line: line) }) { continue }
                }
                guard let sr = Range(r, in: text) else { continue }
                let lo = text.utf8.distance(from: text.utf8.startIndex, to: sr.lowerBound)
                let hi = lo + text.utf8.distance(from: sr.lowerBound, to: sr.upperBound)
                guard !taken.intersects(integersIn: lo..<hi) else { continue }
                taken.insert(integersIn: lo..<hi)
                found.append((lo..<hi, rule.id))
            }
        }
        return found.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }
}
