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

    public struct Counterfactual: Sendable, Hashable {
        public var harmful: String
        public var harmfulRequest: String
        public var camouflaged: String
        public var benign: String
        public var benignRequest: String
    }

    public struct Rule: Sendable {
        public var id: String
        public var category: String
        public var patterns: [RegexBox]
        public var unless: [RegexBox]
        /// Sequence rules fire only when an earlier step matched one of these.
        public var after: [RegexBox]
        public var effect: String
        public var consequence: String
        public var harmed: String
        public var severity: Severity
        public var reversibility: Reversibility
        public var verdict: Verdict
        public var safeguard: String?
        public var safeAlternative: String?
        public var counterfactual: Counterfactual?

        public var isHighRisk: Bool { severity != .low }
    }

    /// `NSRegularExpression` is thread-safe for matching.
    public final class RegexBox: @unchecked Sendable {
        public let pattern: String
        let re: NSRegularExpression
        init(_ pattern: String) throws {
            self.pattern = pattern
            re = try NSRegularExpression(pattern: pattern)
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
            if let re = try? RegexBox("(?i)(?<![\\w-])" + escaped + "(?![\\w])") { lexicon.append((term, w, re)) }
        }
        lexicon.sort { $0.0 < $1.0 }
        let threshold = root["semantic_threshold"]?.int ?? 2
        var rules: [Rule] = []
        var ids = Set<String>()
        for r in root["rules"]?.sequence ?? [] {
            guard let m = r.mapping, let id = m["id"]?.string else { problems.append("\(at(r)): error: every rule needs an id"); continue }
            if !ids.insert(id).inserted { problems.append("\(at(m["id"])): error: duplicate rule id '\(id)'") }
            func regexes(_ key: String) -> [RegexBox] {
                (m[key]?.sequence ?? []).compactMap { n in
                    guard let p = n.string else { problems.append("\(at(n)): error: rule '\(id)': \(key) must be strings"); return nil }
                    do { return try RegexBox(p) } catch {
                        problems.append("\(at(n)): error: rule '\(id)': invalid regular expression \(p)"); return nil
                    }
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
            let patterns = regexes("patterns")
            if patterns.isEmpty { problems.append("\(at(r)): error: rule '\(id)' has no patterns") }
            var cf: Counterfactual?
            if let c = m["counterfactual"]?.mapping {
                let keys = ["harmful", "harmful_request", "camouflaged", "benign", "benign_request"]
                let values = keys.map { c[$0]?.string }
                if values.contains(where: { $0 == nil }) {
                    problems.append("\(at(m["counterfactual"])): error: rule '\(id)': counterfactual needs \(keys.joined(separator: ", "))")
                } else {
                    cf = Counterfactual(harmful: values[0]!, harmfulRequest: values[1]!, camouflaged: values[2]!, benign: values[3]!,
                                        benignRequest: values[4]!)
                }
            }
            let sequence = m["sequence"]?.bool ?? false
            let after = regexes("after")
            if sequence && after.isEmpty { problems.append("\(at(r)): error: sequence rule '\(id)' needs 'after' patterns") }
            guard let severity = choice("severity", Severity.self), let rev = choice("reversibility", Reversibility.self),
                  let verdict = choice("verdict", Verdict.self) else { continue }
            rules.append(Rule(id: id, category: text("category") ?? "ordinary", patterns: patterns, unless: regexes("unless"), after: after,
                              effect: text("effect") ?? "", consequence: text("consequence") ?? "", harmed: text("harmed") ?? "",
                              severity: severity, reversibility: rev, verdict: verdict, safeguard: text("safeguard", required: false),
                              safeAlternative: text("safe_alternative", required: false), counterfactual: cf))
        }
        if rules.isEmpty { problems.append("\(path): error: no rules") }
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
            out.append(SafetyCode(id: id, text: t, category: c, appliesTo: (m["applies_to"]?.sequence ?? []).compactMap(\.string)))
        }
        if out.isEmpty { problems.append("\(path): no codes") }
        if !problems.isEmpty { throw ConsequenceRules.LoadError(problems: problems) }
        return out
    }
}
