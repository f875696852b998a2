import Foundation
import Trajectories

/// The `cada` style (case-augmented deliberative alignment, arXiv 2601.08000): simple safety codes plus
/// a case library built from analysed actions; each prompt's reasoning cites the relevant codes and the
/// k most similar cases (BM25, never from the prompt's own trajectory). Writes SFT records (default
/// config), preference pairs in TRL (`preference`) and OpenAI DPO (`preference_openai`) shape, RL prompts
/// with reference verdicts (`rl`) and the case library itself (`cases`).
public final class CADABuilder: DatasetBuilder {
    public struct Options: Sendable {
        public var cases: Int
        public var preferencePairs: Bool
        public var rlPrompts: Bool
        public var balance: Bool
        public var seed: UInt64
        /// Remove harness meta-text from the agent's turns before situations are read.
        public var removeMetaText = true
        public init(cases: Int = 2, preferencePairs: Bool = true, rlPrompts: Bool = true, balance: Bool = true, seed: UInt64 = 0) {
            self.cases = cases
            self.preferencePairs = preferencePairs
            self.rlPrompts = rlPrompts
            self.balance = balance
            self.seed = seed
        }
    }

    public struct Case: Sendable, Codable, Hashable {
        public var id: String
        public var trajectoryID: String
        public var situation: String
        public var action: String
        public var consequence: String
        public var verdict: String
        public var rule: String
        public var scenario: String
        enum CodingKeys: String, CodingKey {
            case id, trajectoryID = "trajectory_id", situation, action, consequence, verdict, rule, scenario
        }
    }

    public struct SFTRecord: Sendable, Codable {
        public var messages: [ChatMessage]
        public var codes: [String]
        public var cases: [String]
        public var scenario: String
        public var verdict: String
        public var counterfactual: Situation.CounterfactualMark?
        public var provenance: Provenance
    }

    public struct PreferencePair: Sendable, Codable {
        public var prompt: [ChatMessage]
        public var chosen: [ChatMessage]
        public var rejected: [ChatMessage]
        public var scenario: String
        public var chosenVerdict: String
        public var rejectedVerdict: String
        public var provenance: Provenance
        enum CodingKeys: String, CodingKey {
            case prompt, chosen, rejected, scenario, chosenVerdict = "chosen_verdict", rejectedVerdict = "rejected_verdict", provenance
        }
    }

    public struct OpenAIPreference: Sendable, Codable {
        public struct Input: Sendable, Codable { public var messages: [ChatMessage] }
        public var input: Input
        public var preferredOutput: [ChatMessage]
        public var nonPreferredOutput: [ChatMessage]
        enum CodingKeys: String, CodingKey { case input, preferredOutput = "preferred_output", nonPreferredOutput = "non_preferred_output" }
    }

    public struct RLPrompt: Sendable, Codable {
        public var prompt: [ChatMessage]
        public var referenceVerdict: String
        public var scenario: String
        public var semanticRisk: String
        public var outcomeRisk: String
        public var rule: String
        public var provenance: Provenance
        enum CodingKeys: String, CodingKey {
            case prompt, referenceVerdict = "reference_verdict", scenario, semanticRisk = "semantic_risk", outcomeRisk = "outcome_risk",
                 rule, provenance
        }
    }

    let options: Options
    let collector: SituationCollector
    let codes: [SafetyCode]
    let writer: DatasetWriter
    let splitter: Splitter
    private var situations: [Situation] = []

    public init(options: Options, collector: SituationCollector, codes: [SafetyCode], writer: DatasetWriter, splitter: Splitter) {
        self.options = options
        self.collector = collector
        self.codes = codes
        self.writer = writer
        self.splitter = splitter
        writer.trainerConfigs = [
            .init(name: "default", layout: .messages, llamaFactory: true, note: "`### Analysis` citing codes and retrieved cases, then `### Final Response`."),
        ] + (options.preferencePairs ? [.init(name: "preference", layout: .preference, llamaFactory: false,
                                              note: "Chosen: case-grounded reasoning with the right verdict; rejected: a wrong verdict.")] : [])
          + (options.rlPrompts ? [.init(name: "rl", layout: .promptOnly, llamaFactory: false,
                                        note: "The prompt asks for a last line `Verdict: <proceed|proceed_with_safeguard|refuse>`; `reward.py`'s `verdict_reward` compares it with `reference_verdict`.")] : [])
        writer.auxiliary = ["cases": "the case library retrieval draws on (train-split trajectories only), one case a line",
                            "preference_openai": "the preference pairs in OpenAI's DPO fine-tuning layout (`input`, `preferred_output`, `non_preferred_output`), for OpenAI's API"]
        if options.rlPrompts { writer.extraFiles["reward.py"] = Data(Self.rewardScript.utf8) }
        writer.knownLimits = [
            "Verdicts come from skillforge's rule-based consequence judge (the rules file named in the manifest); an action no rule covers is judged harmless, so harmful actions outside the rules become `proceed` examples.",
            "The judge parses shell commands and code passed to interpreters; actions of tools it does not know (other than file edits) are judged by their command text only. `judge_not_sure` counts verdicts resting on values it could not resolve.",
            "Rejected sides of preference pairs are written from templates: this action's effect misread (routine for a harmful action, destructive for a harmless one), or the right verdict argued from wording (see `preference_pair_balance` above: distinct texts and length balance).",
            "Q1 and Q2 prompts are mostly counterfactual variants of real steps (marked `counterfactual`): real trajectories rarely hold harmful actions.",
        ]
    }

    /// What an RL prompt adds, so that a completion's verdict can be read exactly.
    public static let verdictRequest = "End your answer with a last line `Verdict: proceed`, `Verdict: proceed_with_safeguard` or `Verdict: refuse`."

    /// `reward.py` for the `rl` config.
    static let rewardScript = #"""
"""Verdict reward for skillforge CADA RL prompts (the `rl` config).

`verdict_reward(completions, reference_verdict, **kwargs)`: 1.0 when the completion's last line is
`Verdict: <v>` with v equal to the record's `reference_verdict`, else 0.0. Pass it to TRL's GRPOTrainer
as `reward_funcs=[reward.verdict_reward]`.
"""
import re

_VERDICT = re.compile(r"^\s*Verdict:\s*(proceed_with_safeguard|proceed|refuse)\s*$", re.IGNORECASE)


def _text(completion):
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion:
        return completion[-1].get("content") or ""
    return ""


def verdict(text):
    lines = [line for line in text.strip().split("\n") if line.strip()]
    m = _VERDICT.match(lines[-1]) if lines else None
    return m.group(1).lower() if m else None


def verdict_reward(completions, reference_verdict, **kwargs):
    return [1.0 if verdict(_text(c)) == ref else 0.0 for c, ref in zip(completions, reference_verdict)]
"""#

    public func add(_ batch: [Trajectory]) throws {
        let collector = collector
        let hygiene = TargetHygiene(removeMetaText: options.removeMetaText, dropGiveUps: false)
        situations += Parallel.map(batch) { collector.situations($0, hygiene: hygiene) }.flatMap { $0 }
    }

    var systemPrompt: String {
        "You are a careful software agent. Follow these safety codes:\n" + codes.map { "[\($0.id)] \($0.text)" }.joined(separator: "\n")
    }

    /// One prompt's records, made on any core; written in prompt order.
    struct Made: Sendable {
        var split: String
        var sft: Data
        var preference: (trl: Data, openai: Data, rejected: String, ratio: Double, shorter: Bool)?
        var rl: Data?
        var chosen: String
        var maskedAnswer: String
        var unsure: Bool
        var leaked: Bool
    }

    public func finish() throws -> [String: JSONValue] {
        let rules = collector.analyzer.rules
        // Each trajectory's split once (its family key reads the whole task text).
        var splits: [String: String] = [:]
        for s in situations where splits[s.trajectory.id] == nil { splits[s.trajectory.id] = splitter.split(s.trajectory) }
        // The library holds every analysed action; prompts are the (optionally balanced) selection.
        // Cases come from train-split trajectories only: a case is shown to the model in train records (and
        // published as the `cases` file), so one from a test family would leak it into training.
        let library = situations.filter { splits[$0.trajectory.id] == "train" }.enumerated().map { i, s in
            Case(id: "case-\(i + 1)", trajectoryID: s.trajectory.id, situation: Situation.short(s.request), action: s.command,
                 consequence: rules.rule(s.assessment.rule)!.consequence, verdict: s.assessment.verdict.rawValue,
                 rule: s.assessment.rule, scenario: s.assessment.scenario)
        }
        let index = BM25(documents: library.map { $0.situation + " " + $0.action })
        // Shapes of every case, once: the retrieval filter compares them with each query.
        let actionShapes = library.map { Self.shape($0.action) }, situationShapes = library.map { Self.shape($0.situation) }
        let (prompts, balanced) = options.balance ? SituationCollector.balance(situations, seed: options.seed) : (situations, false)
        let options = options, codes = codes, system = systemPrompt, frozenSplits = splits
        // Retrieval and rendering of each prompt are independent: both cores make them, in chunks, and the
        // records are written in prompt order, so the files are the same for any number of cores.
        var pairs = 0, rl = 0
        // Texts are counted by a 64-bit hash, not kept: these sets would otherwise hold every answer written.
        var targets = Set<UInt64>(), duplicateTargets = 0
        var rejectedTexts = Set<UInt64>(), rejectedShorter = 0, lengthRatio = 0.0
        var unsure = 0, leakedCases = 0
        var answers = Set<UInt64>()
        // Prompts go in windows (at most 16, at least 2,048 prompts each), so that only one window's records
        // are held before they are written; in each window, chunks of prompts share one score buffer (a fixed
        // number of buffers in all, so they cost the library's size a fixed number of times).
        let windowSize = max(2_048, (prompts.count + 15) / 16)
        for windowStart in stride(from: 0, to: prompts.count, by: windowSize) {
            let window = windowStart..<min(prompts.count, windowStart + windowSize)
            let chunks = min(window.count, Parallel.workers * 4)
            let ranges = (0..<chunks).map { c in (window.lowerBound + window.count * c / chunks)..<(window.lowerBound + window.count * (c + 1) / chunks) }
            let made = try Parallel.map(ranges, minChunk: 1) { range -> [Result<Made, any Error>] in
                var scratch = BM25.Scratch(count: index.count)
                return range.map { i in
                    let s = prompts[i]
                    return Result { try Self.make(s, split: frozenSplits[s.trajectory.id] ?? "train", rules: rules, codes: codes, system: system,
                                                  library: library, index: index, scratch: &scratch, actionShapes: actionShapes,
                                                  situationShapes: situationShapes, options: options) }
                }
            }.joined().map { try $0.get() }
            for m in made {
                if m.unsure { unsure += 1 }
                if m.leaked { leakedCases += 1 }
                answers.insert(StableHash.fnv1a(m.maskedAnswer))
                if !targets.insert(StableHash.fnv1a(m.chosen)).inserted { duplicateTargets += 1 }
                try writer.write(m.sft, split: m.split)
                if let p = m.preference {
                    try writer.write(p.trl, split: m.split, config: "preference")
                    try writer.write(p.openai, split: m.split, config: "preference_openai")
                    pairs += 1
                    rejectedTexts.insert(StableHash.fnv1a(p.rejected))
                    if p.shorter { rejectedShorter += 1 }
                    lengthRatio += p.ratio
                }
                if let line = m.rl {
                    try writer.write(line, split: m.split, config: "rl")
                    rl += 1
                }
            }
        }
        for c in library { try writer.write(JSONCoding.line(c), split: "train", config: "cases") }
        func counts(_ d: [String: Int]) -> JSONValue { .object(d.mapValues { .int(Int64($0)) }) }
        return [
            "cases": .int(Int64(library.count)),
            "prompts": .int(Int64(prompts.count)),
            "preference_pairs": .int(Int64(pairs)),
            "rl_prompts": .int(Int64(rl)),
            "balanced": .bool(balanced),
            "scenarios": counts(Dictionary(grouping: prompts, by: \.assessment.scenario).mapValues(\.count)),
            // What the data teaches, measured: targets written more than once, and whether preference pairs
            // differ by more than length (a rejected side that is always shorter teaches length, not judgement).
            "duplicate_targets": .int(Int64(duplicateTargets)),
            "distinct_final_answers_commands_masked": .int(Int64(answers.count)),
            "judge_not_sure": .int(Int64(unsure)),
            "retrieved_cases_sharing_trajectory_request_or_command": .int(Int64(leakedCases)),
            "preference_pair_balance": .object([
                "pairs": .int(Int64(pairs)),
                "distinct_rejected_texts": .int(Int64(rejectedTexts.count)),
                "rejected_shorter_than_chosen": .int(Int64(rejectedShorter)),
                "mean_rejected_to_chosen_length": .double(pairs == 0 ? 0 : (lengthRatio / Double(pairs) * 100).rounded() / 100),
            ]),
        ]
    }

    /// One prompt's records: the k most similar allowed cases, the codes, the reasoning and its rejected twin.
    static func make(_ s: Situation, split: String, rules: ConsequenceRules, codes: [SafetyCode], system: String,
                     library: [Case], index: BM25, scratch: inout BM25.Scratch, actionShapes: [Set<String>], situationShapes: [Set<String>],
                     options: Options) throws -> Made {
        // Never the query's own trajectory, request or command: a case must add something the prompt does not hold.
        let request = Situation.short(s.request)
        // k distinct cases: a case whose action is already shown adds nothing.
        var shown = Set<String>()
        // A case that restates the query (the same command or request up to numbers and a word or two) adds nothing.
        let queryCommand = shape(s.command), queryRequest = shape(request)
        let picked = index.top(options.cases * 8, for: s.request + " " + s.command, scratch: &scratch) {
            library[$0].trajectoryID != s.trajectory.id && library[$0].situation != request && library[$0].action != s.command
                && overlap(actionShapes[$0], queryCommand) < 0.7 && overlap(situationShapes[$0], queryRequest) < 0.8
        }.filter { shown.insert(actionShapes[$0].sorted().joined(separator: " ") + "|" + library[$0].verdict).inserted }
            .prefix(options.cases)
        let retrieved = picked.map { library[$0] }
        let rule = rules.rule(s.assessment.rule)!
        let relevant = Self.codes(codes, for: s, rule: rule)
        // The cases the reasoning cites are in the prompt, after the request.
        let userTurn = s.prompt + (retrieved.isEmpty ? "" : "\n\nSimilar past cases:\n" + retrieved.map { c in
            "[\(c.id)] `\(Situation.short(c.action))` for \"\(Situation.short(c.situation))\" — \(c.consequence); verdict: \(c.verdict)"
        }.joined(separator: "\n"))
        let prompt = [ChatMessage(role: "system", content: system), ChatMessage(role: "user", content: userTurn)]
        let chosen = reasoning(s, rule: rule, codes: relevant, cases: retrieved)
        let leaked = picked.contains(where: { library[$0].trajectoryID == s.trajectory.id || library[$0].action == s.command
            || library[$0].situation == request || overlap(actionShapes[$0], queryCommand) >= 0.7 })
        var prov = Provenance(trajectory: s.trajectory)
        prov.steps = [s.step, s.step]
        let sft = try JSONCoding.line(SFTRecord(messages: prompt + [ChatMessage(role: "assistant", content: chosen)],
                                                codes: relevant.map(\.id), cases: retrieved.map(\.id),
                                                scenario: s.assessment.scenario, verdict: s.assessment.verdict.rawValue,
                                                counterfactual: s.counterfactual, provenance: prov))
        var preference: (trl: Data, openai: Data, rejected: String, ratio: Double, shorter: Bool)?
        if options.preferencePairs, let (rejected, rejectedVerdict) = Self.rejected(s, rule: rule, rules: rules, codes: relevant, cases: retrieved) {
            let chosenMsg = [ChatMessage(role: "assistant", content: chosen)]
            let rejectedMsg = [ChatMessage(role: "assistant", content: rejected)]
            preference = (try JSONCoding.line(PreferencePair(prompt: prompt, chosen: chosenMsg, rejected: rejectedMsg,
                                                             scenario: s.assessment.scenario,
                                                             chosenVerdict: s.assessment.verdict.rawValue,
                                                             rejectedVerdict: rejectedVerdict, provenance: prov)),
                          try JSONCoding.line(OpenAIPreference(input: .init(messages: prompt), preferredOutput: chosenMsg,
                                                               nonPreferredOutput: rejectedMsg)),
                          rejected, Double(rejected.count) / Double(max(1, chosen.count)), rejected.count < chosen.count)
        }
        var rlLine: Data?
        if options.rlPrompts {
            let rlPrompt = [prompt[0], ChatMessage(role: "user", content: userTurn + "\n\n" + Self.verdictRequest)]
            rlLine = try JSONCoding.line(RLPrompt(prompt: rlPrompt, referenceVerdict: s.assessment.verdict.rawValue,
                                                  scenario: s.assessment.scenario, semanticRisk: s.assessment.semanticRisk.rawValue,
                                                  outcomeRisk: s.assessment.outcomeRisk.rawValue, rule: rule.id, provenance: prov))
        }
        return Made(split: split, sft: sft, preference: preference, rl: rlLine, chosen: chosen,
                    maskedAnswer: masked(CSChainBuilder.answer(s, rule: rule), command: s.command),
                    unsure: !s.assessment.sure, leaked: leaked)
    }

    /// The codes that speak to this situation: those whose categories include the rule's, plus the
    /// general codes whose `applies_when` holds (`mismatch`: wording and effect disagree; `safeguard`:
    /// the verdict is to proceed with a safeguard).
    static func codes(_ all: [SafetyCode], for s: Situation, rule: ConsequenceRules.Rule) -> [SafetyCode] {
        all.filter { c in
            if !c.appliesTo.isEmpty { return c.appliesTo.contains(rule.category) }
            if c.appliesWhen.isEmpty { return true }
            return c.appliesWhen.contains { w in
                (w == "mismatch" && !s.assessment.matched) || (w == "safeguard" && s.assessment.verdict == .proceedWithSafeguard)
                    || (w == "refuse" && s.assessment.verdict == .refuse)
            }
        }
    }

    /// The words of a text with digits masked, for comparing a case with the query.
    static func shape(_ s: String) -> Set<String> {
        Set(BM25.tokens(s).map { String($0.map { $0.isNumber ? "0" : $0 }) })
    }

    static func overlap(_ a: Set<String>, _ b: Set<String>) -> Double {
        a.isEmpty && b.isEmpty ? 1 : Double(a.intersection(b).count) / Double(a.union(b).count)
    }

    /// An answer with its command replaced by a marker (to count distinct answers, not distinct commands).
    static func masked(_ text: String, command: String) -> String {
        text.replacingOccurrences(of: command, with: "CMD")
    }

    /// Case-grounded reasoning with the right verdict: `### Analysis` citing codes and cases, then
    /// `### Final Response`.
    static func reasoning(_ s: Situation, rule: ConsequenceRules.Rule, codes: [SafetyCode], cases: [Case], reasonFromWording: Bool = false) -> String {
        let a = s.assessment
        var out = ["### Analysis"]
        if reasonFromWording {
            let cues = a.semanticCues.isEmpty ? "its wording" : a.semanticCues.map { "\"\($0)\"" }.joined(separator: ", ")
            out.append("The request for `\(s.command)` uses \(cues), and requests worded like that are dangerous whatever the command does (severity \(rule.severity.rawValue); \(CSChainBuilder.reversibilityWords(rule.reversibility))).")
        } else {
            out.append("The action `\(s.command)` \(CSChainBuilder.fill(rule.effect, a)); \(CSChainBuilder.fill(rule.consequence, a)) (severity \(rule.severity.rawValue); \(CSChainBuilder.reversibilityWords(rule.reversibility))).")
        }
        if !codes.isEmpty { out.append("Relevant codes: " + codes.map { "[\($0.id)] \($0.text)" }.joined(separator: " ")) }
        for c in cases {
            let same = c.verdict == a.verdict.rawValue
            out.append("Case \(c.id) (`\(Situation.short(c.action))`, verdict \(c.verdict)) " + (same ? "was judged the same way for the same kind of effect." : "differs: its effect was not this one."))
        }
        if a.semanticRisk == .high && a.outcomeRisk == .low {
            out.append("The wording sounds dangerous, but the effect decides, and this effect stays within the task.")
        } else if a.semanticRisk == .low && a.outcomeRisk == .high {
            out.append("The request sounds routine, but the effect is what the codes are about.")
        }
        out.append("")
        out.append("### Final Response")
        out.append(CSChainBuilder.answer(s, rule: rule))
        return out.joined(separator: "\n")
    }

    /// The rejected side, of the same shape and about the same length as the chosen one and wrong for a
    /// reason: the wrong verdict argued from a plausible misreading of this action's effect (a harmful action
    /// read as routine work, a harmless one as destructive), or — for some harmful actions — the right
    /// verdict argued from the request's wording instead of the effect.
    static func rejected(_ s: Situation, rule: ConsequenceRules.Rule, rules: ConsequenceRules, codes: [SafetyCode], cases: [Case]) -> (String, String)? {
        let high = s.assessment.outcomeRisk == .high
        if high && s.assessment.semanticRisk == .high && StableHash.fnv1a(s.command + s.request) % 2 == 0 {
            return (reasoning(s, rule: rule, codes: codes, cases: cases, reasonFromWording: true), s.assessment.verdict.rawValue)
        }
        let op = s.assessment.operation
        var wrong = rule
        if high {
            let misreadings: [String: String] = [
                "delete": "removes {target}, which only holds files that can be regenerated",
                "move": "moves {target} out of the way, which the task needs",
                "overwrite": "updates {target} as part of the task's configuration",
                "write": "adds the task's settings to {target}",
                "egress": "sends a request to {target}, an ordinary call the task needs",
                "read-secret": "reads {target} to pick up the configuration the task needs",
                "permission": "adjusts permissions on {target} so the task's tools can run",
                "account": "sets up the account access the task needs",
                "privilege": "gives the task's tools the access they need",
                "remote-code": "installs the tool the task needs from its official script",
                "persistence": "keeps the task's service running across restarts",
                "exhaustion": "runs the load the task needs to measure",
                "disable-security": "turns off a check that gets in the task's way, for now",
                "destroy-remote": "cleans up {target}, which is no longer used",
                "stop-service": "restarts {target} so the change takes effect",
                "kill-process": "stops {target}, which is in the task's way",
                "history-rewrite": "updates {target} with the task's commits",
            ]
            wrong.effect = misreadings[op] ?? "does routine work on {target}"
            wrong.consequence = "the task moves forward, and nothing outside its own files and services is affected"
            wrong.harmed = "nobody"
            wrong.severity = .low
            wrong.reversibility = .reversible
            wrong.verdict = .proceed
        } else {
            let misreadings: [String: String] = [
                "read": "exposes {target}, which may hold credentials",
                "inspect": "exposes {target}, which may hold credentials",
                "delete": "deletes {target}, which may hold data nobody can restore",
                "write": "overwrites {target}, which other programs may depend on",
                "overwrite": "overwrites {target}, which other programs may depend on",
                "network": "connects to {target}, which could leak data",
                "install": "installs code nobody has reviewed",
                "kill-process": "kills {target}, which someone else may be using",
                "permission": "changes who can use {target}",
            ]
            wrong.effect = misreadings[op] ?? "touches {target} in a way that could cause damage outside the task"
            wrong.consequence = "data or services outside the task could be harmed, and that risk is not worth taking"
            wrong.harmed = "the machine's owner"
            wrong.severity = .high
            wrong.reversibility = .irreversible
            wrong.verdict = .refuse
            wrong.safeAlternative = "explain what the command would do instead of running it"
        }
        var w = s
        w.assessment.verdict = wrong.verdict
        w.assessment.outcomeRisk = high ? .low : .high
        return (reasoning(w, rule: wrong, codes: codes, cases: cases), wrong.verdict.rawValue)
    }
}

/// Okapi BM25 over `\w+` tokens (lower-cased) with an inverted index; deterministic ties by document order.
///
/// The index is pruned so that a query costs the same whatever the library's size: each term keeps only
/// the `maxPostings` documents where it weighs most (impact order: term frequency against document length),
/// so a common word ("the", "file") no longer makes every query touch most of the library. A document
/// missing from a common term's kept list loses only that term's small share of its score; the rare terms
/// that decide a match keep all their documents. Without the pruning, retrieval was all-pairs in practice
/// and a doubled corpus took more than twice as long.
struct BM25: Sendable {
    /// Per term, (document, precomputed weight without idf) in document order; idf per term.
    let postings: [String: (idf: Double, docs: [(doc: Int32, weight: Float)])]
    let count: Int
    static let k1 = 1.2, b = 0.75
    /// Documents kept per term (see the type's documentation).
    static let maxPostings = 512

    static func tokens(_ s: String) -> [String] {
        var text = s
        if let fast = text.withUTF8({ asciiTokens($0) }) { return fast }
        return unicodeTokens(s)
    }

    /// The words of any text, lower-cased: runs of letters, numbers and `_`, as `Character.isLetter` /
    /// `isNumber` read the lower-cased text (a character is what its first scalar is; the marks that
    /// follow a scalar belong to its character), worked out scalar by scalar instead of by grapheme.
    static func unicodeTokens(_ s: String) -> [String] {
        var out: [String] = []
        var word = String.UnicodeScalarView()
        var lastWasWord = false
        func flush() {
            if !word.isEmpty { out.append(String(word)); word = String.UnicodeScalarView() }
        }
        for scalar in s.unicodeScalars {
            let lower = scalar.properties.changesWhenLowercased ? Array(scalar.properties.lowercaseMapping.unicodeScalars) : [scalar]
            for u in lower {
                let p = u.properties
                switch p.generalCategory {
                case .nonspacingMark, .spacingMark, .enclosingMark:
                    // Part of the character before it: of the word when that character was.
                    if lastWasWord { word.append(u) }
                    continue
                default: break
                }
                if p.numericType != nil || u == "_" || [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter].contains(p.generalCategory) {
                    word.append(u)
                    lastWasWord = true
                } else {
                    flush()
                    lastWasWord = false
                }
            }
        }
        flush()
        return out
    }

    /// Tokens of an ASCII text, byte by byte (the common case); nil when the text is not ASCII.
    private static func asciiTokens(_ bytes: UnsafeBufferPointer<UInt8>) -> [String]? {
        var out: [String] = []
        var word: [UInt8] = []
        for b in bytes {
            if b >= 0x80 { return nil }
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"): word.append(b)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): word.append(b + 32)
            default:
                if !word.isEmpty { out.append(String(decoding: word, as: UTF8.self)); word.removeAll(keepingCapacity: true) }
            }
        }
        if !word.isEmpty { out.append(String(decoding: word, as: UTF8.self)) }
        return out
    }

    init(documents: [String], maxPostings: Int = BM25.maxPostings) {
        let toks = Parallel.map(documents, minChunk: 64) { Self.tokens($0) }
        var raw: [String: [(doc: Int32, tf: Int32)]] = [:]
        var lengths: [Int] = []
        lengths.reserveCapacity(documents.count)
        for (i, t) in toks.enumerated() {
            var tf: [String: Int32] = [:]
            for w in t { tf[w, default: 0] += 1 }
            for (w, f) in tf { raw[w, default: []].append((Int32(i), f)) }
            lengths.append(t.count)
        }
        let n = Double(documents.count)
        let avg = lengths.isEmpty ? 1 : max(1, Double(lengths.reduce(0, +)) / Double(lengths.count))
        var postings: [String: (idf: Double, docs: [(doc: Int32, weight: Float)])] = [:]
        postings.reserveCapacity(raw.count)
        for (w, list) in raw {
            // idf from the full document frequency, so pruning does not change how rare a term counts as.
            let idf = log(1 + (n - Double(list.count) + 0.5) / (Double(list.count) + 0.5))
            var docs = list.map { p -> (doc: Int32, weight: Float) in
                let f = Double(p.tf)
                return (p.doc, Float(f * (Self.k1 + 1) / (f + Self.k1 * (1 - Self.b + Self.b * Double(lengths[Int(p.doc)]) / avg))))
            }
            if docs.count > maxPostings {
                docs.sort { $0.weight > $1.weight || ($0.weight == $1.weight && $0.doc < $1.doc) }
                docs.removeLast(docs.count - maxPostings)
                docs.sort { $0.doc < $1.doc }
            }
            postings[w] = (idf, docs)
        }
        self.postings = postings
        count = documents.count
    }

    /// Scores of one query, reused across queries: cleared through the list of documents it touched, so a
    /// query costs what its terms' kept lists hold, not the library's size.
    struct Scratch {
        var scores: [Double]
        var touched: [Int32] = []
        init(count: Int) { scores = [Double](repeating: 0, count: count) }
    }

    func top(_ k: Int, for query: String, where allowed: (Int) -> Bool) -> [Int] {
        var scratch = Scratch(count: count)
        return top(k, for: query, scratch: &scratch, where: allowed)
    }

    func top(_ k: Int, for query: String, scratch: inout Scratch, where allowed: (Int) -> Bool) -> [Int] {
        for d in scratch.touched { scratch.scores[Int(d)] = 0 }
        scratch.touched.removeAll(keepingCapacity: true)
        for t in Set(Self.tokens(query)).sorted() {
            guard let entry = postings[t] else { continue }
            for (doc, weight) in entry.docs {
                if scratch.scores[Int(doc)] == 0 { scratch.touched.append(doc) }
                scratch.scores[Int(doc)] += entry.idf * Double(weight)
            }
        }
        // Keep the k best in a small sorted buffer (k is tiny; a full sort of every touched document is not needed).
        var best: [(doc: Int, score: Double)] = []
        // The k best allowed documents in (score, document) order: the same whatever order they are visited in.
        for d in scratch.touched {
            let doc = Int(d), s = scratch.scores[doc]
            guard s > 0 else { continue }
            if best.count == k, let last = best.last, !(s > last.score || (s == last.score && doc < last.doc)) { continue }
            // The filter runs only for a document that would enter the k best (it may be costly).
            guard allowed(doc) else { continue }
            let at = best.firstIndex { s > $0.score || (s == $0.score && doc < $0.doc) } ?? best.count
            best.insert((doc, s), at: at)
            if best.count > k { best.removeLast() }
        }
        return best.map(\.doc)
    }
}
