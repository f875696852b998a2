import BoundedYAML
import Foundation
import Yams

/// The configurable knowledge the safety styles reason with: a semantic-risk lexicon and a rule base
/// of what actions do (see pipelines/safety/consequences.yaml for the format).
public struct ConsequenceRules: Sendable {
    public enum Severity: String, Sendable, Codable, CaseIterable { case low, medium, high }
    public enum Reversibility: String, Sendable, Codable, CaseIterable { case reversible, hard, irreversible }
    public enum Verdict: String, Sendable, Codable, CaseIterable {
        case proceed, proceedWithSafeguard = "proceed_with_safeguard", refuse
    }

    /// When a rule applies to an effect. Every key given must hold; lists are "any of" except `facts`
    /// (all of). `after` needs an earlier action of the trajectory with one of those operations.
    public struct Condition: Sendable {
        public var operations: Set<Effect.Operation> = []
        public var targets: Set<Target.Kind> = []
        public var facts: Set<String> = []
        public var anyFacts: Set<String> = []
        public var notFacts: Set<String> = []
        public var programs: Set<String> = []
        public var after: Set<Effect.Operation> = []
        /// Regular expressions on the whole normalised command (for what the effect vocabulary cannot say).
        public var match: [RegexBox] = []

        public func holds(_ e: Effect, command: String, earlier: Set<Effect.Operation>) -> Bool {
            if !operations.isEmpty && !operations.contains(e.operation) { return false }
            if !targets.isEmpty && !e.targets.contains(where: { targets.contains($0.kind) }) { return false }
            if !facts.isSubset(of: e.facts) { return false }
            if !anyFacts.isEmpty && anyFacts.isDisjoint(with: e.facts) { return false }
            if !notFacts.isDisjoint(with: e.facts) { return false }
            if !programs.isEmpty && !programs.contains(e.program) { return false }
            if !after.isEmpty && after.isDisjoint(with: earlier) { return false }
            if !match.isEmpty && !match.contains(where: { $0.matches(command) }) { return false }
            return true
        }
    }

    public struct Rule: Sendable {
        public var id: String
        public var category: String
        public var when: Condition
        /// Texts about the action; `{target}` is the effect's widest target described, `{program}` its program.
        public var effect: String
        public var consequence: String
        public var harmed: String
        public var severity: Severity
        public var reversibility: Reversibility
        public var verdict: Verdict
        public var safeguard: String?
        public var safeAlternative: String?

        public var isHighRisk: Bool { severity != .low }
    }

    /// `NSRegularExpression` is thread-safe for matching.
    public final class RegexBox: @unchecked Sendable {
        public let pattern: String
        let re: NSRegularExpression
        init(_ pattern: String) throws {
            self.pattern = pattern
            re = try NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
        }
        func matches(_ s: String) -> Bool { re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil }
    }

    public var lexicon: [(term: String, weight: Int, re: RegexBox)]
    public var threshold: Int
    public var rules: [Rule]
    public let file: String

    public struct LoadError: Error, CustomStringConvertible, Sendable {
        public var problems: [String]
        public var description: String { problems.joined(separator: "\n") }
    }

    public func rule(_ id: String) -> Rule? { rules.first { $0.id == id } }

    /// Loads and validates a rule file; every problem is reported at once with its location.
    public static func load(path: String) throws -> ConsequenceRules {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw LoadError(problems: ["\(path): cannot read the consequence rules"])
        }
        let node: Node?
        do { node = try BoundedYAML.compose(text) } catch {
            throw LoadError(problems: ["\(path): YAML error: \(error)"])
        }
        var problems: [String] = []
        func at(_ n: Node?) -> String { "\(path):\(n?.mark?.line ?? 1):\(n?.mark?.column ?? 1)" }
        guard let root = node?.mapping else { throw LoadError(problems: ["\(at(node)): error: expected a mapping"]) }
        var lexicon: [(String, Int, RegexBox)] = []
        for (k, v) in root["semantic_lexicon"]?.mapping ?? [:] {
            guard let term = k.string, let w = v.int else { problems.append("\(at(v)): error: lexicon weights must be integers"); continue }
            let escaped = NSRegularExpression.escapedPattern(for: term)
            if let re = try? RegexBox("(?<![\\w-])" + escaped + "(?![\\w])") { lexicon.append((term, w, re)) }
        }
        lexicon.sort { $0.0 < $1.0 }
        let threshold = root["semantic_threshold"]?.int ?? 2
        var rules: [Rule] = []
        var ids = Set<String>()
        let knownWhen: Set<String> = ["operation", "target", "facts", "any_fact", "not_fact", "program", "after", "match"]
        for r in root["rules"]?.sequence ?? [] {
            guard let m = r.mapping, let id = m["id"]?.string else { problems.append("\(at(r)): error: every rule needs an id"); continue }
            if !ids.insert(id).inserted { problems.append("\(at(m["id"])): error: duplicate rule id '\(id)'") }
            if m["patterns"] != nil {
                problems.append("\(at(m["patterns"])): error: rule '\(id)': 'patterns' was replaced by 'when' (operation, target, facts…; 'match' for a regular expression)")
            }
            func list(_ n: Node?, _ key: String) -> [String] {
                guard let n else { return [] }
                if let s = n.string { return [s] }
                guard let seq = n.sequence else { problems.append("\(at(n)): error: rule '\(id)': '\(key)' must be a string or a list"); return [] }
                return seq.compactMap { x in
                    guard let s = x.string else { problems.append("\(at(x)): error: rule '\(id)': '\(key)' must hold strings"); return nil }
                    return s
                }
            }
            func enums<T: RawRepresentable & CaseIterable>(_ n: Node?, _ key: String, _: T.Type) -> Set<T> where T.RawValue == String {
                Set(list(n, key).compactMap { s in
                    guard let v = T(rawValue: s) else {
                        problems.append("\(at(n)): error: rule '\(id)': unknown \(key) '\(s)'; one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
                        return nil
                    }
                    return v
                })
            }
            var cond = Condition()
            if let w = m["when"] {
                guard let wm = w.mapping else { problems.append("\(at(w)): error: rule '\(id)': 'when' must be a mapping"); continue }
                for (k, _) in wm where !knownWhen.contains(k.string ?? "") {
                    problems.append("\(at(k)): error: rule '\(id)': unknown condition '\(k.string ?? "")'; one of \(knownWhen.sorted().joined(separator: ", "))")
                }
                cond.operations = enums(wm["operation"], "operation", Effect.Operation.self)
                cond.targets = enums(wm["target"], "target", Target.Kind.self)
                cond.after = enums(wm["after"], "operation", Effect.Operation.self)
                cond.facts = Set(list(wm["facts"], "facts"))
                cond.anyFacts = Set(list(wm["any_fact"], "any_fact"))
                cond.notFacts = Set(list(wm["not_fact"], "not_fact"))
                cond.programs = Set(list(wm["program"], "program"))
                cond.match = list(wm["match"], "match").compactMap { p in
                    do { return try RegexBox(p) } catch { problems.append("\(at(wm["match"])): error: rule '\(id)': invalid regular expression \(p)"); return nil }
                }
            }
            func text(_ key: String, required: Bool = true) -> String? {
                let s = m[key]?.string
                if s == nil && required { problems.append("\(at(r)): error: rule '\(id)' is missing '\(key)'") }
                return s
            }
            func choice<T: RawRepresentable & CaseIterable>(_ key: String, _: T.Type) -> T? where T.RawValue == String {
                guard let raw = m[key]?.string, let v = T(rawValue: raw) else {
                    problems.append("\(at(m[key] ?? r)): error: rule '\(id)': '\(key)' must be one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
                    return nil
                }
                return v
            }
            guard let severity = choice("severity", Severity.self), let rev = choice("reversibility", Reversibility.self),
                  let verdict = choice("verdict", Verdict.self) else { continue }
            rules.append(Rule(id: id, category: text("category") ?? "ordinary", when: cond,
                              effect: text("effect") ?? "", consequence: text("consequence") ?? "", harmed: text("harmed") ?? "",
                              severity: severity, reversibility: rev, verdict: verdict, safeguard: text("safeguard", required: false),
                              safeAlternative: text("safe_alternative", required: false)))
        }
        if rules.isEmpty { problems.append("\(path): error: no rules") }
        if let last = rules.last, last.when.operations.count + last.when.targets.count + last.when.facts.count + last.when.match.count > 0 || last.isHighRisk {
            problems.append("\(path): error: the last rule ('\(last.id)') must be a low-severity rule with no conditions: it judges every action no other rule covers")
        }
        if !problems.isEmpty { throw LoadError(problems: problems) }
        return ConsequenceRules(lexicon: lexicon.map { (term: $0.0, weight: $0.1, re: $0.2) }, threshold: threshold, rules: rules, file: path)
    }
}

/// A simple safety code (CADA): short text, a category, and the rule categories it speaks to.
public struct SafetyCode: Sendable, Hashable, Codable {
    public var id: String
    public var text: String
    public var category: String
    public var appliesTo: [String]
    /// For general codes: `mismatch`, `safeguard`, `refuse` — the situations the code speaks to.
    public var appliesWhen: [String] = []

    public static func load(path: String) throws -> [SafetyCode] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConsequenceRules.LoadError(problems: ["\(path): cannot read the safety codes"])
        }
        let node: Node?
        do { node = try BoundedYAML.compose(text) } catch {
            throw ConsequenceRules.LoadError(problems: ["\(path): YAML error: \(error)"])
        }
        guard let root = node?.mapping, let list = root["codes"]?.sequence else {
            throw ConsequenceRules.LoadError(problems: ["\(path): expected a mapping with a 'codes' list"])
        }
        var out: [SafetyCode] = []
        var problems: [String] = []
        for n in list {
            guard let m = n.mapping, let id = m["id"]?.string, let t = m["text"]?.string, let c = m["category"]?.string else {
                problems.append("\(path):\(n.mark?.line ?? 0): a code needs id, text and category")
                continue
            }
            out.append(SafetyCode(id: id, text: t, category: c, appliesTo: (m["applies_to"]?.sequence ?? []).compactMap(\.string),
                                  appliesWhen: (m["applies_when"]?.sequence ?? []).compactMap(\.string)))
        }
        if out.isEmpty { problems.append("\(path): no codes") }
        if !problems.isEmpty { throw ConsequenceRules.LoadError(problems: problems) }
        return out
    }
}
