import Foundation
import Trajectories

/// The `cs-chain` style ("Read the Scene, Not the Script", arXiv 2510.04320): for each action, a
/// consequence chain — action → immediate effect → downstream consequence → who is harmed → severity
/// and reversibility → verdict — each link citing its rule and the evidence step, and a response that
/// reasons about consequences rather than keywords. Optionally balanced across Q1–Q4.
public final class CSChainBuilder: DatasetBuilder {
    public struct Options: Sendable {
        public var balance: Bool
        public var system: String?
        public var seed: UInt64
        public init(balance: Bool = true, system: String? = nil, seed: UInt64 = 0) {
            self.balance = balance
            self.system = system
            self.seed = seed
        }
    }

    public struct Link: Sendable, Codable, Hashable {
        public var link: String
        public var text: String
        public var rule: String
        public var step: Int
    }

    public struct Record: Sendable, Codable {
        public var messages: [ChatMessage]
        public var scenario: String
        public var semanticRisk: String
        public var outcomeRisk: String
        public var matched: Bool
        public var verdict: String
        public var chain: [Link]
        public var counterfactual: Situation.CounterfactualMark?
        public var provenance: Provenance

        enum CodingKeys: String, CodingKey {
            case messages, scenario, semanticRisk = "semantic_risk", outcomeRisk = "outcome_risk", matched, verdict, chain,
                 counterfactual, provenance
        }
    }

    let options: Options
    let collector: SituationCollector
    let writer: DatasetWriter
    let splitter: Splitter
    private var situations: [Situation] = []

    public init(options: Options, collector: SituationCollector, writer: DatasetWriter, splitter: Splitter) {
        self.options = options
        self.collector = collector
        self.writer = writer
        self.splitter = splitter
    }

    public func add(_ batch: [Trajectory]) throws {
        let collector = collector
        situations += Parallel.map(batch) { collector.situations($0) }.flatMap { $0 }
    }

    public func finish() throws -> [String: JSONValue] {
        let before = Dictionary(grouping: situations, by: \.assessment.scenario).mapValues(\.count)
        let (kept, balanced) = options.balance ? SituationCollector.balance(situations, seed: options.seed) : (situations, false)
        let rules = collector.analyzer.rules
        for s in kept {
            try writer.write(JSONCoding.line(Self.record(s, rules: rules, system: options.system)), split: splitter.split(s.trajectory))
        }
        let after = Dictionary(grouping: kept, by: \.assessment.scenario).mapValues(\.count)
        func counts(_ d: [String: Int]) -> JSONValue { .object(d.mapValues { .int(Int64($0)) }) }
        return [
            "scenarios_before_balancing": counts(before),
            "scenarios": counts(after),
            "balanced": .bool(balanced),
            "counterfactual_records": .int(Int64(kept.filter { $0.counterfactual != nil }.count)),
            "verdicts": counts(Dictionary(grouping: kept, by: \.assessment.verdict.rawValue).mapValues(\.count)),
        ]
    }

    public static func chain(_ s: Situation, rules: ConsequenceRules) -> [Link] {
        let a = s.assessment
        let rule = rules.rule(a.rule)!
        var effect = rule.effect
        if let obs = s.observation.map({ String($0.prefix(200).prefix { $0 != "\n" }) }), !obs.isEmpty {
            effect += " (observed: \(Situation.short(obs)))"
        }
        let step = a.precedingStep.map { _ in s.step } ?? s.step
        var links = [
            Link(link: "action", text: "Run `\(s.command)`", rule: rule.id, step: step),
            Link(link: "immediate_effect", text: effect, rule: rule.id, step: step),
            Link(link: "downstream_consequence", text: rule.consequence, rule: rule.id, step: step),
            Link(link: "harmed", text: rule.harmed, rule: rule.id, step: step),
            Link(link: "severity_reversibility", text: "severity \(rule.severity.rawValue), \(rule.reversibility.rawValue)", rule: rule.id, step: step),
        ]
        if let p = a.precedingStep {
            links.insert(Link(link: "preceding_step", text: "an earlier step read credentials", rule: rule.id, step: p), at: 1)
        }
        links.append(Link(link: "verdict", text: a.verdict.rawValue, rule: rule.id, step: step))
        return links
    }

    /// A response that argues from what the action does, whatever the request's wording.
    public static func response(_ s: Situation, rules: ConsequenceRules) -> String {
        let rule = rules.rule(s.assessment.rule)!
        var lines = ["Consequence analysis:"]
        lines.append("- Action: `\(s.command)`")
        lines.append("- Immediate effect: \(rule.effect).")
        lines.append("- Downstream: \(rule.consequence).")
        lines.append("- Who is affected: \(rule.harmed).")
        lines.append("- Severity and reversibility: \(rule.severity.rawValue), \(rule.reversibility.rawValue).")
        lines.append("- Verdict: \(s.assessment.verdict.rawValue)")
        return lines.joined(separator: "\n") + "\n\n" + answer(s, rule: rule)
    }

    /// The answer after the analysis: proceed, proceed with the rule's safeguard, or refuse with the
    /// safe alternative — always argued from the effect.
    public static func answer(_ s: Situation, rule: ConsequenceRules.Rule) -> String {
        let a = s.assessment
        var answer: String
        switch a.verdict {
        case .proceed:
            answer = "This is safe to do: it \(rule.effect)."
            if a.semanticRisk == .high {
                answer += " The request's wording (\(a.semanticCues.map { "\"\($0)\"" }.joined(separator: ", "))) sounds alarming, but what matters is the effect, and the effect stays within the task."
            }
            answer += " Proceeding with `\(s.command)`."
        case .proceedWithSafeguard:
            answer = "This is useful but risky as written: it \(rule.effect). I will proceed with a safeguard: \(rule.safeguard ?? rule.safeAlternative ?? "a backup first")."
        case .refuse:
            answer = "I won't run this: it \(rule.effect), so \(rule.consequence)."
            if a.semanticRisk == .low { answer += " The request sounds routine, but the command's effect is what counts." }
            if let alt = rule.safeAlternative { answer += " Instead, I can \(alt)." }
        }
        return answer
    }

    static func record(_ s: Situation, rules: ConsequenceRules, system: String?) -> Record {
        var messages: [ChatMessage] = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
        messages.append(ChatMessage(role: "user", content: s.prompt))
        messages.append(ChatMessage(role: "assistant", content: response(s, rules: rules)))
        var prov = Provenance(trajectory: s.trajectory)
        prov.steps = [s.step, s.step]
        return Record(messages: messages, scenario: s.assessment.scenario, semanticRisk: s.assessment.semanticRisk.rawValue,
                      outcomeRisk: s.assessment.outcomeRisk.rawValue, matched: s.assessment.matched,
                      verdict: s.assessment.verdict.rawValue, chain: chain(s, rules: rules), counterfactual: s.counterfactual,
                      provenance: prov)
    }
}
