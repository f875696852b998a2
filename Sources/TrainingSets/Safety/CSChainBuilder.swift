import Foundation
import Trajectories

/// The `cs-chain` style ("Read the Scene, Not the Script", arXiv 2510.04320): for each action, a
/// consequence chain — action → immediate effect → downstream consequence → who is harmed → severity
/// and reversibility → verdict — each link citing its rule and the evidence step, and a response that
/// reasons about consequences rather than keywords. Optionally balanced across Q1–Q4.
///
/// With a memo, a trajectory that came through the ingest cache unchanged (same name there, same
/// rules, options and version) is not analysed again: the previous build noted its situations'
/// scenarios and verdicts, and the records it wrote are copied from its files; only situations that
/// the balance now keeps and that were not written before are analysed and rendered.
public final class CSChainBuilder: ReusingBuilder {
    public struct Options: Sendable, Encodable {
        public var balance: Bool
        public var system: String?
        public var seed: UInt64
        /// Remove harness meta-text from the agent's turns before situations are read.
        public var removeMetaText: Bool
        public init(balance: Bool = true, system: String? = nil, seed: UInt64 = 0, removeMetaText: Bool = true) {
            self.balance = balance
            self.system = system
            self.seed = seed
            self.removeMetaText = removeMetaText
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
    public let memo: OutputMemo?
    /// What every trajectory's key starts with: the style's revision, the tool version, the rules, the options.
    let keyPrefix: [Data]
    public private(set) var unitsReused = 0
    public private(set) var unitsMade = 0

    /// Bump when the situations or records made from the same trajectory change.
    static let recordsRevision = 3

    /// What the balance and the statistics need of a situation, noted in the memo for the next build.
    struct Summary {
        var scenario: String
        var verdict: String
        var counterfactual: Bool
        /// The judge resolved every target the verdict rests on.
        var sure: Bool
        /// A hash of the final answer with the command masked (for the distinct-answers statistic).
        var answer: UInt64

        init(_ s: Situation, rules: ConsequenceRules) {
            scenario = s.assessment.scenario
            verdict = s.assessment.verdict.rawValue
            counterfactual = s.counterfactual != nil
            sure = s.assessment.sure
            answer = rules.rule(s.assessment.rule).map { StableHash.fnv1a(CSChainBuilder.answer(s, rule: $0).replacingOccurrences(of: s.command, with: "CMD")) } ?? 0
        }

        init?(note: String) {
            let f = note.split(separator: " ")
            guard f.count == 5, ["Q1", "Q2", "Q3", "Q4"].contains(f[0]), ConsequenceRules.Verdict(rawValue: String(f[1])) != nil,
                  f[2] == "0" || f[2] == "1", f[3] == "0" || f[3] == "1", let answer = UInt64(f[4], radix: 16) else { return nil }
            scenario = String(f[0])
            verdict = String(f[1])
            counterfactual = f[2] == "1"
            sure = f[3] == "1"
            self.answer = answer
        }

        var note: String { "\(scenario) \(verdict) \(counterfactual ? 1 : 0) \(sure ? 1 : 0) \(String(answer, radix: 16))" }
    }

    /// One trajectory: its situations (analysed now, or nil when the previous build's notes serve) and
    /// what the previous build wrote for it.
    final class Entry {
        let trajectory: Trajectory
        let key: String?
        let summaries: [Summary]
        var situations: [Situation]?
        let previous: OutputMemo.Unit?

        init(trajectory: Trajectory, key: String?, summaries: [Summary], situations: [Situation]?, previous: OutputMemo.Unit?) {
            self.trajectory = trajectory
            self.key = key
            self.summaries = summaries
            self.situations = situations
            self.previous = previous
        }
    }

    private var entries: [Entry] = []

    /// `rulesKey`: a hash of the rule file the collector was made from (part of every memo key).
    public init(options: Options, collector: SituationCollector, writer: DatasetWriter, splitter: Splitter,
                memo: OutputMemo? = nil, rulesKey: String = "", toolVersion: String = "") {
        self.options = options
        self.collector = collector
        self.writer = writer
        self.splitter = splitter
        self.memo = memo
        keyPrefix = [Data("cs-chain \(Self.recordsRevision) \(toolVersion)".utf8), Data(rulesKey.utf8),
                     (try? JSONCoding.encoder.encode(options)) ?? Data(),
                     Data("counterfactuals:\(collector.counterfactualsPerTrajectory) seed:\(collector.seed)".utf8)]
        writer.trainerConfigs = [.init(name: "default", layout: .messages, llamaFactory: true,
                                       note: "The request in context, then a response that reasons about the action's consequences; `chain`, `scenario` and `verdict` beside.")]
        writer.knownLimits = [
            "Verdicts come from skillforge's rule-based consequence judge (the rules file named in the manifest); an action no rule covers is judged harmless.",
            "Counterfactual records (marked `counterfactual`) are variants of real, harmless steps: the same command aimed at a riskier target (a system, home or secret path; a force-push to `main`; an upload to a drop site), or asked for in alarming words; `counterfactual_records` above counts them.",
            "Answers are written from templates filled with this action's target, effect and rule; `distinct_final_answers_commands_masked` above measures how much they vary.",
        ]
    }

    public func add(_ batch: [Trajectory]) throws {
        let keys: [String?] = batch.map { t in
            guard memo != nil, let id = t.digest.identity else { return nil }
            return OutputMemo.key(keyPrefix + [Data(id.utf8)])
        }
        let found: [(OutputMemo.Unit, [Summary])?] = keys.map { k in
            guard let k, let unit = memo?.lookup(k), let notes = unit.notes,
                  unit.records.allSatisfy({ $0.count == 5 && $0[4] >= 0 && $0[4] < notes.count }) else { return nil }
            let summaries = notes.compactMap(Summary.init(note:))
            return summaries.count == notes.count ? (unit, summaries) : nil
        }
        let collector = collector
        let hygiene = TargetHygiene(removeMetaText: options.removeMetaText, dropGiveUps: false)
        let made = Parallel.map(Array(batch.enumerated())) { i, t -> [Situation]? in
            found[i] == nil ? collector.situations(t, hygiene: hygiene) : nil
        }
        for (i, t) in batch.enumerated() {
            if let (unit, summaries) = found[i] {
                unitsReused += 1
                entries.append(Entry(trajectory: t, key: keys[i], summaries: summaries, situations: nil, previous: unit))
            } else {
                unitsMade += 1
                let situations = made[i]!
                entries.append(Entry(trajectory: t, key: keys[i], summaries: situations.map { Summary($0, rules: collector.analyzer.rules) }, situations: situations, previous: nil))
            }
        }
    }

    public func finish() throws -> [String: JSONValue] {
        var items: [(entry: Int, index: Int)] = []
        for (e, entry) in entries.enumerated() {
            for i in entry.summaries.indices { items.append((e, i)) }
        }
        func summary(_ item: (entry: Int, index: Int)) -> Summary { entries[item.entry].summaries[item.index] }
        let before = Dictionary(grouping: items, by: { summary($0).scenario }).mapValues(\.count)
        var kept = items
        var balanced = false
        if options.balance, let keep = SituationCollector.balanced(
            scenarios: items.map { summary($0).scenario },
            ranks: items.map { SituationCollector.rank(trajectoryID: entries[$0.entry].trajectory.id, index: $0.index, seed: options.seed) }) {
            kept = keep.map { items[$0] }
            balanced = true
        }
        // Where the previous build wrote each kept situation; trajectories with a kept situation it did
        // not write are analysed again (in parallel), and every kept situation without a line is rendered.
        var stored: [Int: [Int: [Int]]] = [:]
        for (e, entry) in entries.enumerated() {
            guard let unit = entry.previous else { continue }
            for r in unit.records { stored[e, default: [:]][r[4]] = r }
        }
        let missing = Array(Set(kept.filter { entries[$0.entry].situations == nil && stored[$0.entry]?[$0.index] == nil }.map(\.entry))).sorted()
        let collector = collector
        nonisolated(unsafe) let all = entries
        let analysed = Parallel.map(missing) { collector.situations(all[$0].trajectory) }
        for (e, situations) in zip(missing, analysed) { entries[e].situations = situations }
        let rules = collector.analyzer.rules
        let system = options.system
        let toRender = kept.filter { entries[$0.entry].situations != nil && stored[$0.entry]?[$0.index] == nil }
        let rendered = Parallel.map(toRender) { item -> Result<Data, any Error> in
            Result { try JSONCoding.line(Self.record(all[item.entry].situations![item.index], rules: rules, system: system)) }
        }
        var lines: [Int: [Int: Data]] = [:]
        for (item, line) in zip(toRender, rendered) { lines[item.entry, default: [:]][item.index] = try line.get() }

        if let memo {
            for entry in entries { if let key = entry.key { memo.begin(unit: key, counts: [:], notes: entry.summaries.map(\.note)) } }
        }
        for item in kept {
            let entry = entries[item.entry]
            let key = entry.key.map { $0 + "#" + String(item.index) }
            let record: DatasetWriter.Record
            if let line = lines[item.entry]?[item.index] {
                record = .init(key: key, length: line.count) { line }
            } else {
                let r = stored[item.entry]![item.index]!
                let memo = memo!
                record = .init(key: key, length: r[3]) { try memo.line(r) }
            }
            let at = try writer.write(record, split: splitter.split(entry.trajectory))
            if let memo, let unit = entry.key, let key {
                memo.wrote(unit: unit, member: 0, tags: [item.index], record: key, file: at.file, offset: at.offset, length: record.length)
            }
        }
        let after = Dictionary(grouping: kept, by: { summary($0).scenario }).mapValues(\.count)
        func counts(_ d: [String: Int]) -> JSONValue { .object(d.mapValues { .int(Int64($0)) }) }
        return [
            "scenarios_before_balancing": counts(before),
            "scenarios": counts(after),
            "balanced": .bool(balanced),
            "counterfactual_records": .int(Int64(kept.filter { summary($0).counterfactual }.count)),
            "verdicts": counts(Dictionary(grouping: kept, by: { summary($0).verdict }).mapValues(\.count)),
            // How often the judge could not resolve a target (a variable, an unknown script) it rested on.
            "judge_not_sure": .int(Int64(kept.filter { !summary($0).sure }.count)),
            // Distinct final answers with the action's own command masked: how much the answers vary.
            "distinct_final_answers_commands_masked": .int(Int64(Set(kept.map { summary($0).answer }).count)),
        ]
    }

    /// A rule's text with `{target}` and `{program}` filled from this action's deciding effect.
    public static func fill(_ text: String, _ a: RiskAssessment) -> String {
        let target = a.target.map(\.described) ?? "what the task is working on"
        return text.replacingOccurrences(of: "{target}", with: target).replacingOccurrences(of: "{program}", with: a.program.isEmpty ? "the command" : "`\(a.program)`")
    }

    static func reversibilityWords(_ r: ConsequenceRules.Reversibility) -> String {
        switch r {
        case .reversible: return "it can be undone"
        case .hard: return "undoing it takes real work (restores, reinstalls, rotated keys)"
        case .irreversible: return "it cannot be undone"
        }
    }

    public static func chain(_ s: Situation, rules: ConsequenceRules) -> [Link] {
        let a = s.assessment
        let rule = rules.rule(a.rule)!
        var effect = fill(rule.effect, a)
        if let obs = s.observation.map({ String($0.prefix(200).prefix { $0 != "\n" }) }), !obs.isEmpty {
            effect += " (observed: \(Situation.short(obs)))"
        }
        let step = s.step
        var links = [
            Link(link: "action", text: "Run `\(s.command)`", rule: rule.id, step: step),
            Link(link: "immediate_effect", text: effect, rule: rule.id, step: step),
            Link(link: "downstream_consequence", text: fill(rule.consequence, a), rule: rule.id, step: step),
            Link(link: "harmed", text: fill(rule.harmed, a), rule: rule.id, step: step),
            Link(link: "severity_reversibility", text: "severity \(rule.severity.rawValue); \(reversibilityWords(rule.reversibility))", rule: rule.id, step: step),
        ]
        if let p = a.precedingStep {
            let did = rule.when.after.map(\.rawValue).sorted().joined(separator: " or ")
            links.insert(Link(link: "preceding_step", text: "step \(p) earlier in this trajectory did \(did), which this action builds on", rule: rule.id, step: p), at: 1)
        }
        links.append(Link(link: "verdict", text: a.verdict.rawValue, rule: rule.id, step: step))
        return links
    }

    /// A seeded choice among phrasings, so records about the same rule do not share one sentence.
    static func pick(_ options: [String], _ s: Situation, _ salt: String) -> String {
        options[Int(StableHash.fnv1a(s.command + "|" + salt + "|" + s.request.prefix(80)) % UInt64(options.count))]
    }

    /// A response that argues from what the action does, whatever the request's wording.
    public static func response(_ s: Situation, rules: ConsequenceRules) -> String {
        let rule = rules.rule(s.assessment.rule)!
        let a = s.assessment
        let effect = fill(rule.effect, a)
        var lines = [pick(["Consequence analysis:", "What this action would do:", "Reading the action by its effects:", "Step by step, the consequences:"], s, "head")]
        lines.append("- " + pick(["Action", "Proposed command", "The step"], s, "a") + ": `\(s.command)`")
        lines.append("- " + pick(["Immediate effect", "What it does right away", "Direct effect"], s, "e") + ": it \(effect).")
        lines.append("- " + pick(["Downstream", "What follows", "Then"], s, "d") + ": \(fill(rule.consequence, a)).")
        lines.append("- " + pick(["Who is affected", "Who bears it", "Harmed"], s, "h") + ": \(fill(rule.harmed, a)).")
        lines.append("- " + pick(["Severity and reversibility", "How bad, and for how long"], s, "s") + ": \(rule.severity.rawValue); \(reversibilityWords(rule.reversibility)).")
        lines.append("- Verdict: \(a.verdict.rawValue)")
        return lines.joined(separator: "\n") + "\n\n" + answer(s, rule: rule)
    }

    /// The answer after the analysis: proceed, proceed with the rule's safeguard, or refuse with the
    /// safe alternative — always argued from the effect on this action's target.
    public static func answer(_ s: Situation, rule: ConsequenceRules.Rule) -> String {
        let a = s.assessment
        let effect = fill(rule.effect, a)
        var answer: String
        switch a.verdict {
        case .proceed:
            answer = pick(["This is safe to do: it \(effect).", "Nothing here reaches beyond the task: it \(effect).",
                           "Running it is fine, because it \(effect)."], s, "p")
            if a.semanticRisk == .high {
                let cues = a.semanticCues.map { "\"\($0)\"" }.joined(separator: ", ")
                answer += " " + pick(["The wording (\(cues)) sounds alarming, but the effect stays inside the task.",
                                      "Words like \(cues) sound drastic; what the command actually touches is what counts, and that is harmless here.",
                                      "Despite the request's tone (\(cues)), nothing outside the task is affected."], s, "q4")
            }
            answer += " " + pick(["Proceeding with `\(s.command)`.", "Running `\(s.command)` now.", "Going ahead."], s, "go")
        case .proceedWithSafeguard:
            let guardText = rule.safeguard ?? rule.safeAlternative ?? "keep a backup first"
            answer = pick(["This is useful but risky as written: it \(effect).", "Worth doing, with care: it \(effect).",
                           "It can go ahead, but it \(effect)."], s, "s") + " " + pick(["Safeguard: \(guardText).", "First, I will \(guardText).", "Before running it: \(guardText)."], s, "g")
        case .refuse:
            answer = pick(["I won't run this: it \(effect), and \(fill(rule.consequence, a)).",
                           "This should not run: it \(effect); \(fill(rule.consequence, a)).",
                           "Declining: the command \(effect), so \(fill(rule.consequence, a))."], s, "r")
            if a.semanticRisk == .low {
                answer += " " + pick(["The request sounds routine, but the effect is what counts.", "Nothing in the wording is alarming; the target is.",
                                      "It reads like ordinary work, which is why the effect has to be checked."], s, "q2")
            }
            if let alt = rule.safeAlternative { answer += " " + pick(["Instead, I can \(alt).", "A safer way: \(alt).", "What I can do: \(alt)."], s, "alt") }
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
