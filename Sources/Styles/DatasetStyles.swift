import Foundation
import Pipelines
import TrainingSets
import Trajectories

/// `trajectory-sft`: one record per trajectory as a tool-calling chat, in any of the four record formats.
public struct TrajectorySFTStyle: OutputStyle {
    public init() {}
    public var declaration: StyleDeclaration { .trajectorySFT }
    public var reusesRecords: Bool { true }
    public var reuseNote: String { "built every run from the ingested trajectories (unchanged trajectories reuse their records)" }

    public func summary(_ o: OutputSpec) -> String {
        "Agent trajectories rendered as tool-calling conversations (`trajectory-sft`), one record per trajectory, built by skillforge."
    }

    public func makeBuilder(_ o: OutputSpec, context: StyleContext) throws -> any DatasetBuilder {
        SFTBuilder(renderer: TrajectorySFT(options: .init(format: o.format, system: o.system, includeThoughts: o.includeThoughts)),
                   writer: try context.datasetWriter(o), splitter: Splitter(seed: context.seed, testFraction: o.testFraction),
                   memo: context.memo, toolVersion: context.toolVersion,
                   hygiene: TargetHygiene(removeMetaText: o.removeMetaText, dropGiveUps: o.dropGiveUps))
    }
}

/// `conifer`: constraint-following records in difficulty levels with process feedback (arXiv 2404.02823).
public struct ConiferStyle: OutputStyle {
    public init() {}
    public var declaration: StyleDeclaration { .conifer }
    public var reusesRecords: Bool { true }
    public var reuseNote: String { "built every run from the ingested trajectories (task families whose trajectories are unchanged reuse their records)" }

    public func summary(_ o: OutputSpec) -> String {
        "Conifer-style instruction-following data (arXiv 2404.02823) built by skillforge from successful agent trajectories: verifiable constraints (IFEval's answer families — keywords, length, format, case, start and end phrases, punctuation — and the agent's tool use and process), recombined into difficulty levels 1–\(o.levels), ordered easy to hard, with internal and external process feedback. Each level's answer is rendered from the run's facts to meet exactly that level's constraints, so answers change when constraints change; every constraint carries its checker and the character spans of the answer that satisfy it, and `skillforge check-constraints` re-runs them."
    }

    public func makeBuilder(_ o: OutputSpec, context: StyleContext) throws -> any DatasetBuilder {
        ConiferBuilder(options: .init(levels: o.levels, internalFeedback: o.feedback.contains(.internal),
                                      externalFeedback: o.feedback.contains(.external), easyToHard: o.easyToHard,
                                      rlPrompts: o.rlPrompts, system: o.system, seed: context.seed,
                                      hygiene: TargetHygiene(removeMetaText: o.removeMetaText, dropGiveUps: o.dropGiveUps)),
                       writer: try context.datasetWriter(o), splitter: Splitter(seed: context.seed, testFraction: o.testFraction),
                       memo: context.memo, toolVersion: context.toolVersion)
    }
}

/// What the two safety styles share: the consequence rules and the situations read with them.
enum SafetyInputs {
    static func rules(_ o: OutputSpec, _ files: StyleFiles) throws -> ConsequenceRules {
        do { return try ConsequenceRules.load(path: files.path(o.rules)) } catch { throw StyleError("\(error)") }
    }

    /// The collector, sharing what it reads with the other outputs of the build that judge with the same
    /// rules file content, counterfactuals and seed (CS-Chain and CADA side by side read each trajectory once),
    /// and the rules file's sha256 ("" when it cannot be hashed; then nothing is shared).
    static func collector(_ o: OutputSpec, _ context: StyleContext) throws -> (SituationCollector, rulesSHA: String) {
        var c = SituationCollector(analyzer: ConsequenceAnalyzer(rules: try rules(o, context.files)),
                                   counterfactualsPerTrajectory: o.counterfactuals, seed: context.seed)
        let sha = (try? ContentHash.sha256(fileAt: context.files.path(o.rules)).hex) ?? ""
        if !sha.isEmpty {
            c.shared = (context.shared.memo("situations", String.self, [Situation].self),
                        "rules:\(sha) counterfactuals:\(o.counterfactuals) seed:\(context.seed)")
        }
        return (c, sha)
    }
}

/// `cs-chain`: consequence-reasoning safety chains over the four semantic × outcome risk scenarios (arXiv 2510.04320).
public struct CSChainStyle: OutputStyle {
    public init() {}
    public var declaration: StyleDeclaration { .csChain }
    public var reusesRecords: Bool { true }
    public var reuseNote: String { "built every run from the ingested trajectories (unchanged trajectories reuse their records)" }

    public func summary(_ o: OutputSpec) -> String {
        "CS-Chain-style safety data (\"Read the Scene, Not the Script\", arXiv 2510.04320) built by skillforge: every agent action (and seeded counterfactual variants of real steps, marked) with its semantic and outcome risk, CB-Bench scenario Q1–Q4, a consequence chain whose links cite the rule and the evidence step, and a response that reasons about consequences." + (o.balance ? " Balanced across the four scenarios." : "")
    }

    public func resourceProblems(_ o: OutputSpec, context: StyleFiles) -> [String] {
        do { _ = try ConsequenceRules.load(path: context.path(o.rules)); return [] } catch { return ["\(error)"] }
    }

    public func sideFiles(_ o: OutputSpec, context: StyleFiles) -> [String] { [context.path(o.rules)] }

    public func makeBuilder(_ o: OutputSpec, context: StyleContext) throws -> any DatasetBuilder {
        let (collector, rulesKey) = try SafetyInputs.collector(o, context)
        return CSChainBuilder(options: .init(balance: o.balance, system: o.system, seed: context.seed, removeMetaText: o.removeMetaText),
                              collector: collector, writer: try context.datasetWriter(o),
                              splitter: Splitter(seed: context.seed, testFraction: o.testFraction), memo: context.memo,
                              rulesKey: rulesKey, toolVersion: context.toolVersion)
    }
}

/// `cada`: simple safety codes plus retrieved cases; SFT, preference pairs, RL prompts (arXiv 2601.08000).
public struct CADAStyle: OutputStyle {
    public init() {}
    public var declaration: StyleDeclaration { .cada }

    public func summary(_ o: OutputSpec) -> String {
        "CADA-style safety data (case-augmented deliberative alignment, arXiv 2601.08000) built by skillforge: simple safety codes plus cases retrieved from analysed agent actions. Configs: `default` (SFT, `### Analysis` … `### Final Response`), `preference` (TRL prompt/chosen/rejected), `preference_openai` (OpenAI DPO), `rl` (prompts with reference verdicts) and `cases` (the case library)."
    }

    public func resourceProblems(_ o: OutputSpec, context: StyleFiles) -> [String] {
        var problems: [String] = []
        do { _ = try ConsequenceRules.load(path: context.path(o.rules)) } catch { problems.append("\(error)") }
        do { _ = try SafetyCode.load(path: context.path(o.codes)) } catch { problems.append("\(error)") }
        return problems
    }

    public func sideFiles(_ o: OutputSpec, context: StyleFiles) -> [String] { [context.path(o.rules), context.path(o.codes)] }

    public func makeBuilder(_ o: OutputSpec, context: StyleContext) throws -> any DatasetBuilder {
        let codes: [SafetyCode]
        do { codes = try SafetyCode.load(path: context.files.path(o.codes)) } catch { throw StyleError("\(error)") }
        var options = CADABuilder.Options(cases: o.cases, preferencePairs: o.preferencePairs, rlPrompts: o.rlPrompts, balance: o.balance, seed: context.seed)
        options.removeMetaText = o.removeMetaText
        return CADABuilder(options: options, collector: try SafetyInputs.collector(o, context).0, codes: codes,
                           writer: try context.datasetWriter(o), splitter: Splitter(seed: context.seed, testFraction: o.testFraction))
    }
}
