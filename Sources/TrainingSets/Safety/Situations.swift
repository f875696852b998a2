import Foundation
import Trajectories

/// One action to judge: a real step of a trajectory, or a counterfactual variant of one (marked).
public struct Situation: Sendable {
    public struct CounterfactualMark: Sendable, Hashable, Codable {
        /// harmful (Q1 wording), camouflaged (harmful, innocuous wording) or benign (alarming wording).
        public var variant: String
        public var rule: String
        public var sourceStep: Int
        enum CodingKeys: String, CodingKey { case variant, rule, sourceStep = "source_step" }
    }

    public var trajectory: Trajectory
    /// Which of its trajectory's situations this is (0, 1, … in the order `situations` makes them).
    public var index: Int = 0
    public var request: String
    /// Commands run before this one (most recent last), for the request's context.
    public var context: [String]
    public var command: String
    public var step: Int
    public var observation: String?
    public var assessment: RiskAssessment
    public var counterfactual: CounterfactualMark?

    public init(trajectory: Trajectory, request: String, context: [String], command: String, step: Int, observation: String?,
                assessment: RiskAssessment, counterfactual: CounterfactualMark?) {
        self.trajectory = trajectory
        self.request = request
        self.context = context
        self.command = command
        self.step = step
        self.observation = observation
        self.assessment = assessment
        self.counterfactual = counterfactual
    }

    /// The user turn: the request, what happened so far, and the action under consideration.
    public var prompt: String {
        var p = request
        if !context.isEmpty {
            p += "\n\nSo far the agent has run: " + context.suffix(2).map { "`\(Self.short($0))`" }.joined(separator: ", ") + "."
        }
        p += "\n\nNext proposed action: `\(command)`\nShould the agent take this action?"
        return p
    }

    public static func short(_ s: String) -> String {
        let one = s.replacingOccurrences(of: "\n", with: " ")
        return one.count > 80 ? String(one.prefix(77)) + "…" : one
    }
}

/// Collects situations from trajectories: every action, plus seeded counterfactual variants of real
/// steps built from the rule file's templates (trajectories rarely contain Q1 and Q2 actions).
public struct SituationCollector: Sendable {
    public let analyzer: ConsequenceAnalyzer
    public let counterfactualsPerTrajectory: Int
    public let seed: UInt64

    /// Situations already read in this build, shared with other outputs that judge with the same rules
    /// (`key`: the rules' content hash and this collector's settings); keyed by the trajectory's name in the
    /// ingest cache, which names exactly its bytes.
    public var shared: (memo: Memo<String, [Situation]>, key: String)?

    public init(analyzer: ConsequenceAnalyzer, counterfactualsPerTrajectory: Int, seed: UInt64) {
        self.analyzer = analyzer
        self.counterfactualsPerTrajectory = counterfactualsPerTrajectory
        self.seed = seed
    }

    /// The situations of `t` after `hygiene`, taken from `shared` when another output already read them.
    /// A trajectory without a cache name (changed by an output's own steps, or built with `--no-cache`) is read here.
    public func situations(_ t: Trajectory, hygiene: TargetHygiene) -> [Situation] {
        func read() -> [Situation] {
            var counts = TargetHygiene.Counts()
            return situations(hygiene.apply(t, counts: &counts) ?? t)
        }
        guard let shared, let id = t.digest.identity else { return read() }
        return shared.memo.value("\(shared.key) meta-text:\(hygiene.removeMetaText) \(id)", read)
    }

    public func situations(_ t: Trajectory) -> [Situation] {
        var out: [Situation] = []
        var history = ConsequenceAnalyzer.History()
        var context: [String] = []
        // Real steps the judge found harmless, with the history before them: candidates for variants.
        var harmless: [(step: Step, command: String, history: ConsequenceAnalyzer.History, context: [String], judgement: RiskAssessment)] = []
        for s in t.steps {
            guard let a = s.action else { continue }
            let text = ConsequenceAnalyzer.actionText(a)
            let before = history
            let assessment = analyzer.judge(request: t.task, command: text, history: &history, step: s.index,
                                            judgedAs: ConsequenceAnalyzer.shellEquivalent(a)).assessment
            // A camouflage record (Q2) teaches refusal of a harmless-sounding request; only where the judge is sure.
            if !(assessment.scenario == "Q2" && !assessment.sure) {
                out.append(Situation(trajectory: t, request: t.task, context: context, command: assessment.command,
                                     step: s.index, observation: s.observation?.content, assessment: assessment, counterfactual: nil))
            }
            if assessment.outcomeRisk == .low { harmless.append((s, text, before, context, assessment)) }
            context.append(text)
        }
        guard counterfactualsPerTrajectory > 0, !harmless.isEmpty else { return numbered(out) }
        var rng = SeededGenerator(seed: seed ^ StableHash.fnv1a("counterfactual:" + t.id))
        var made = 0
        var tried = Set<Int>()
        while made < counterfactualsPerTrajectory && tried.count < harmless.count {
            let k = rng.below(harmless.count)
            guard tried.insert(k).inserted else { continue }
            let h = harmless[k]
            guard let variant = Counterfactuals.riskier(h.command, judgement: h.judgement, pick: rng.below(1 << 20)) else { continue }
            var hist = h.history
            let harmful = analyzer.judge(request: t.task, command: variant.command, history: &hist, step: h.step.index).assessment
            guard harmful.outcomeRisk == .high, harmful.sure else { continue }
            made += 1
            let alarming = Counterfactuals.alarmingRequest(task: t.task, target: variant.target, operation: variant.operation, pick: rng.below(1 << 20))
            var hq1 = h.history
            let q1 = analyzer.judge(request: alarming, command: variant.command, history: &hq1, step: h.step.index).assessment
            let benignRequest = Counterfactuals.alarmingRequest(task: t.task, target: h.judgement.target?.name ?? "", operation: h.judgement.operation,
                                                                pick: rng.below(1 << 20))
            var hq4 = h.history
            let q4 = analyzer.judge(request: benignRequest, command: h.command, history: &hq4, step: h.step.index).assessment
            for (name, request, a) in [("harmful", alarming, q1), ("camouflaged", t.task, harmful), ("benign", benignRequest, q4)] {
                out.append(Situation(trajectory: t, request: request, context: h.context, command: a.command, step: h.step.index,
                                     observation: nil, assessment: a,
                                     counterfactual: .init(variant: name, rule: a.rule, sourceStep: h.step.index)))
            }
        }
        return numbered(out)
    }

    private func numbered(_ s: [Situation]) -> [Situation] {
        var s = s
        for i in s.indices { s[i].index = i }
        return s
    }

    /// Equal numbers per scenario (the smallest group's size), input order kept; returns the input
    /// unchanged when a scenario is missing altogether.
    public static func balance(_ items: [Situation], seed: UInt64) -> (kept: [Situation], balanced: Bool) {
        guard let keep = balanced(scenarios: items.map(\.assessment.scenario),
                                  ranks: items.map { rank(trajectoryID: $0.trajectory.id, index: $0.index, seed: seed) }) else {
            return (items, false)
        }
        return (keep.map { items[$0] }, true)
    }

    /// The positions to keep so that each of Q1–Q4 has as many items as the smallest: in each scenario
    /// the items of smallest rank (ties: the earlier one), in input order; nil when a scenario is missing.
    /// A rank depends only on its item, so new items change the selection only where they displace one
    /// (a nightly rebuild keeps nearly all of the previous selection).
    public static func balanced(scenarios: [String], ranks: [UInt64]) -> [Int]? {
        let groups = Dictionary(grouping: scenarios.indices, by: { scenarios[$0] })
        guard ["Q1", "Q2", "Q3", "Q4"].allSatisfy({ groups[$0] != nil }) else { return nil }
        let n = groups.values.map(\.count).min()!
        var keep = [Bool](repeating: false, count: scenarios.count)
        for q in ["Q1", "Q2", "Q3", "Q4"] {
            for i in groups[q]!.sorted(by: { (ranks[$0], $0) < (ranks[$1], $1) }).prefix(n) { keep[i] = true }
        }
        return scenarios.indices.filter { keep[$0] }
    }

    /// A situation's seeded rank for balancing: a hash of its trajectory's id and its index there.
    public static func rank(trajectoryID: String, index: Int, seed: UInt64) -> UInt64 {
        StableHash.mix(StableHash.fnv1a(trajectoryID + "#" + String(index)) ^ StableHash.mix(seed ^ 0xBA1A_0CE5))
    }
}
