import Foundation
import Trajectories

/// The `conifer` style (Conifer, arXiv 2404.02823): from each successful trajectory, a pool of
/// verified constraints, recombined into difficulty levels 1…L; records per level, an easy-to-hard
/// multi-turn record chaining the levels, and process feedback — internal (how each constraint was met)
/// and external (Conifer's 4 turns: request → weaker answer from a failed attempt of the same task →
/// critique of exactly the failed checks + "Please give a revised version." → the reference).
public final class ConiferBuilder: ReusingBuilder {
    public struct Options: Sendable, Encodable {
        public var levels: Int
        public var internalFeedback: Bool
        public var externalFeedback: Bool
        public var easyToHard: Bool
        /// Write the `rl` config: prompts with their checkers, for verifiable-reward RL.
        public var rlPrompts: Bool
        public var system: String?
        public var seed: UInt64
        public var hygiene: TargetHygiene

        public init(levels: Int = 5, internalFeedback: Bool = true, externalFeedback: Bool = true, easyToHard: Bool = true,
                    rlPrompts: Bool = true, system: String? = nil, seed: UInt64 = 0, hygiene: TargetHygiene = TargetHygiene()) {
            self.levels = levels
            self.internalFeedback = internalFeedback
            self.externalFeedback = externalFeedback
            self.easyToHard = easyToHard
            self.rlPrompts = rlPrompts
            self.system = system
            self.seed = seed
            self.hygiene = hygiene
        }
    }

    /// Marks the internal-feedback appendix; audits check the response before it.
    public static let feedbackMarker = "\n\n---\nHow each constraint was met:\n"
    public static let revisePrompt = "Please give a revised version."

    let options: Options
    let writer: DatasetWriter
    let splitter: Splitter
    /// Every trajectory of the build, by task family, in input order (references and weak answers
    /// may come in any order, so the family must be complete before records are made).
    private var families: [String: [Trajectory]] = [:]
    private var familyOrder: [String] = []
    /// Where each family's members came in the input (0, 1, … over the whole build).
    private var arrival: [String: [Int]] = [:]
    private var arrived = 0
    private var stats = Stats()

    struct Stats {
        var recordsPerLevel: [Int: Int] = [:]
        var recordsPerKind: [String: Int] = [:]
        var constraintsPerCategory: [String: Int] = [:]
        var candidates = 0
        var rejected = 0
        var references = 0
        /// References with levels, the distinct answers their levels have, and those whose levels all
        /// share one answer (constraints that never change the answer teach a model to ignore them).
        var levelReferences = 0
        var distinctAnswers = 0
        var identicalAcrossLevels = 0
        var metaTextRemoved = 0
        var giveUpsDropped = 0
        var skipped: [String: Int] = [:]

        /// The counts as one flat dictionary (how the memo stores them), and back.
        var counts: [String: Int] {
            var c: [String: Int] = ["candidates": candidates, "rejected": rejected, "references": references,
                                    "level_references": levelReferences, "distinct_answers": distinctAnswers,
                                    "identical_across_levels": identicalAcrossLevels, "meta_text_removed": metaTextRemoved,
                                    "give_ups_dropped": giveUpsDropped]
            for (k, v) in recordsPerLevel { c["level:\(k)"] = v }
            for (k, v) in recordsPerKind { c["kind:" + k] = v }
            for (k, v) in constraintsPerCategory { c["category:" + k] = v }
            for (k, v) in skipped { c["skipped:" + k] = v }
            return c
        }

        init() {}

        init?(counts: [String: Int]) {
            for (k, v) in counts {
                if k == "candidates" { candidates = v } else if k == "rejected" { rejected = v } else if k == "references" { references = v }
                else if k == "level_references" { levelReferences = v } else if k == "distinct_answers" { distinctAnswers = v }
                else if k == "identical_across_levels" { identicalAcrossLevels = v } else if k == "meta_text_removed" { metaTextRemoved = v }
                else if k == "give_ups_dropped" { giveUpsDropped = v }
                else if k.hasPrefix("level:"), let level = Int(k.dropFirst(6)) { recordsPerLevel[level] = v }
                else if k.hasPrefix("kind:") { recordsPerKind[String(k.dropFirst(5))] = v }
                else if k.hasPrefix("category:") { constraintsPerCategory[String(k.dropFirst(9))] = v }
                else if k.hasPrefix("skipped:") { skipped[String(k.dropFirst(8))] = v }
                else { return nil }
            }
        }

        mutating func add(_ o: Stats) {
            recordsPerLevel.merge(o.recordsPerLevel, uniquingKeysWith: +)
            recordsPerKind.merge(o.recordsPerKind, uniquingKeysWith: +)
            constraintsPerCategory.merge(o.constraintsPerCategory, uniquingKeysWith: +)
            candidates += o.candidates
            rejected += o.rejected
            references += o.references
            levelReferences += o.levelReferences
            distinctAnswers += o.distinctAnswers
            identicalAcrossLevels += o.identicalAcrossLevels
            metaTextRemoved += o.metaTextRemoved
            giveUpsDropped += o.giveUpsDropped
            skipped.merge(o.skipped, uniquingKeysWith: +)
        }
    }

    /// Task families whose records were found in the previous build's files, and those made now.
    public private(set) var unitsReused = 0
    public private(set) var unitsMade = 0
    /// Records of task families in the previous build's files (nil: make every family).
    public let memo: OutputMemo?
    /// Part of every memo key: another version of the tool may make other records.
    let toolVersion: String

    /// Bytes of records made in a build that are held in memory until they are written; the rest wait
    /// in a spill file (so a large corpus does not need its Conifer dataset's size in memory).
    let recordsHeldInMemory: Int

    public init(options: Options, writer: DatasetWriter, splitter: Splitter, memo: OutputMemo? = nil, toolVersion: String = "",
                recordsHeldInMemory: Int = 512 << 20) {
        self.options = options
        self.writer = writer
        self.splitter = splitter
        self.memo = memo
        self.toolVersion = toolVersion
        self.recordsHeldInMemory = recordsHeldInMemory
        writer.trainerConfigs = [.init(name: "default", layout: .messages, llamaFactory: false,
                                       note: "Kinds `single` (one level), `internal_feedback` (the answer, then how each requirement was met) and `easy_to_hard` (levels 1…L as one conversation); each answer is rendered to meet exactly its own level's constraints, and every constraint carries its checker and the `spans` of the answer that satisfy it. Tool-calling turns in OpenAI layout: LLaMA-Factory does not read them.")]
            + (options.externalFeedback ? [.init(name: "external_feedback", layout: .promptCompletion, llamaFactory: false,
                                                 note: "Conifer's external feedback: the weaker answer of a failed attempt and the critique of exactly the checks it fails are in `prompt`, so they are not trained on; `completion` is the revised answer.")] : [])
            + (options.rlPrompts ? [.init(name: "rl", layout: .promptOnly, llamaFactory: false,
                                          note: "Prompts whose `constraints` carry their checkers as data; `reward.py`'s `constraint_reward` scores a completion by the share of them it meets.")] : [])
        if options.rlPrompts { writer.extraFiles["reward.py"] = Data(RewardScript.text.utf8) }
        writer.knownLimits = [
            "Answers are composed by rules from the facts of each run (its own answer's sentences, the files it changed, its last test or check and what that printed); wording varies within a few phrasings per fact, so the prose is plainer than a model's.",
            "Process constraints (tools, steps, tests after the last change) hold on the reference run; the answer does not change with them, and the `rl` config carries answer constraints only.",
            "Every level's constraints are kept only when an answer meeting all of them can be rendered from the run; a run with few facts gets fewer levels.",
        ]
    }

    /// A Conifer family is a split family (`Splitter.key`): its references, and the failed attempts whose
    /// answers external feedback critiques, are always on one side of the split.
    static func family(_ t: Trajectory) -> String { Splitter.key(t) }

    public func add(_ batch: [Trajectory]) throws {
        for t in batch {
            let key = Self.family(t)
            if families[key] == nil { familyOrder.append(key) }
            families[key, default: []].append(t)
            arrival[key, default: []].append(arrived)
            arrived += 1
        }
    }

    struct Pending {
        var level: Int
        /// Where the record's reference came in the input.
        var reference: Int
        var kindOrder: Int
        var split: String
        var family: Int
        var member: Int
        /// What the record's bytes depend on (nil without a memo).
        var key: String?
        var line: Line
    }


    enum Line {
        case made(Data)
        /// Made in this build and written to the spill file (offset, length).
        case spilled(Int64, Int)
        /// Where the previous build wrote it (`[member, file, offset, length, level, kind order]`).
        case stored([Int])
    }

    /// One family's records, made now or found in the previous build's files.
    struct Family {
        enum Records {
            /// (member, level, kind order, line, key) in the order they were made.
            case made([(Int, Int, Int, Data, String?)])
            case reused(OutputMemo.Unit)
        }
        var records: Records
        var stats: Stats
        /// What the family's records depend on (nil without a memo).
        var memoKey: String?
    }

    public func finish() throws -> [String: JSONValue] {
        // A family's records depend on its members only (references and their failed attempts), so
        // families are made on all cores — or found in the previous build's files when the same
        // members were made into records then — and taken in order. Records made now wait in memory
        // up to `recordsHeldInMemory` bytes, the rest in a spill file beside the dataset, until the
        // whole curriculum is sorted; families are made a slice at a time, so memory holds at most
        // that budget plus one slice's records.
        let spill = try RecordFile(creating: writer.directory.deletingLastPathComponent()
            .appendingPathComponent(".\(writer.directory.lastPathComponent).records-\(getpid())"))
        defer { try? FileManager.default.removeItem(at: spill.url) }
        nonisolated(unsafe) let builder = self
        var pending: [Pending] = []
        var units: [String?] = []  // each family's memo key
        let slice = Parallel.workers * 64
        var held = 0
        for start in stride(from: 0, to: familyOrder.count, by: slice) {
            let keys = Array(familyOrder[start..<min(start + slice, familyOrder.count)])
            let made = Parallel.map(keys, minChunk: 1) { key in builder.familyRecords(builder.families[key]!) }
            for (key, result) in zip(keys, made) {
                let family = try result.get()
                let f = units.count
                if case .reused = family.records { unitsReused += 1 } else { unitsMade += 1 }
                stats.add(family.stats)
                units.append(family.memoKey)
                if let memo, let key = family.memoKey { memo.begin(unit: key, counts: family.stats.counts) }
                let arrivals = arrival[key]!
                // A Conifer family is a split family: all its records go to one split.
                let split = splitter.split(key: key)
                switch family.records {
                case .made(let records):
                    for (member, level, kindOrder, line, recordKey) in records {
                        var place = Line.made(line)
                        if held + line.count > recordsHeldInMemory {
                            place = .spilled(try spill.append(line), line.count)
                        } else {
                            held += line.count
                        }
                        pending.append(Pending(level: level, reference: arrivals[member], kindOrder: kindOrder, split: split,
                                               family: f, member: member, key: recordKey, line: place))
                    }
                case .reused(let unit):
                    for (r, recordKey) in zip(unit.records, unit.keys) {
                        pending.append(Pending(level: r[4], reference: arrivals[r[0]], kindOrder: r[5], split: split,
                                               family: f, member: r[0], key: recordKey, line: .stored(r)))
                    }
                }
            }
        }
        try spill.flush()
        // Curriculum order: easy to hard across the whole dataset; within a level, references in input
        // order (so that new trajectories, which come last, add records at the end of each level and a
        // rebuild writes only the last part of each level again); each level starts a section.
        // (A reference makes at most one record per level and kind, so the key is unique.)
        pending.sort { ($0.level, $0.reference, $0.kindOrder) < ($1.level, $1.reference, $1.kindOrder) }
        var level: Int?
        for p in pending {
            if level != nil && level != p.level { writer.startSection() }
            level = p.level
            let record: DatasetWriter.Record
            let key = p.key
            switch p.line {
            case .made(let d):
                record = .init(key: key, length: d.count) { d }
            case .spilled(let offset, let length):
                record = .init(key: key, length: length) {
                    guard let d = spill.read(offset: offset, count: length) else {
                        throw ReadError.readFailed(path: spill.url.path, reason: "a spilled record could not be read back")
                    }
                    return d
                }
            case .stored(let r):
                let memo = memo!
                record = .init(key: key, length: r[3]) { try memo.line(r) }
            }
            let at = try writer.write(record, split: p.split, config: Self.config(kindOrder: p.kindOrder))
            if let memo, let unit = units[p.family], let key {
                memo.wrote(unit: unit, member: p.member, tags: [p.level, p.kindOrder], record: key, file: at.file, offset: at.offset, length: record.length)
            }
        }
        for (reason, n) in stats.skipped { for _ in 0..<n { writer.skip(reason) } }
        func keyed(_ d: [Int: Int]) -> JSONValue { .object(Dictionary(uniqueKeysWithValues: d.map { ("\($0.key)", JSONValue.int(Int64($0.value))) })) }
        func named(_ d: [String: Int]) -> JSONValue { .object(d.mapValues { JSONValue.int(Int64($0)) }) }
        return [
            "references": .int(Int64(stats.references)),
            // Constraint following: distinct answers a reference's levels have (mean), and references whose
            // levels all share one answer.
            "distinct_answers_per_reference": .double(stats.levelReferences == 0 ? 0
                : (Double(stats.distinctAnswers) / Double(stats.levelReferences) * 100).rounded() / 100),
            "references_with_one_answer_for_all_levels": .int(Int64(stats.identicalAcrossLevels)),
            "hygiene": .object(["meta_text_removed": .int(Int64(stats.metaTextRemoved)), "give_up_answers_dropped": .int(Int64(stats.giveUpsDropped))]),
            "records_per_level": keyed(stats.recordsPerLevel),
            "records_per_kind": named(stats.recordsPerKind),
            "constraints_per_category": named(stats.constraintsPerCategory),
            "candidate_constraints": .int(Int64(stats.candidates)),
            "rejected_candidates": .int(Int64(stats.rejected)),
            "rejected_share": .double(stats.candidates == 0 ? 0 : (Double(stats.rejected) / Double(stats.candidates) * 10000).rounded() / 10000),
        ]
    }

    /// Bump when the records made from the same trajectories change, so records of earlier builds
    /// are not reused (part of every family's key, with the tool version).
    static let recordsRevision = 2

    /// The records of one task family (references in input order, each with its records in the order
    /// `records(for:weak:stats:)` makes them) and the family's counts.
    func familyRecords(_ members: [Trajectory]) -> Result<Family, any Error> {
        Result {
            var memoKey: String?
            var identities: [String] = []
            let prefix = [Data("conifer \(Self.recordsRevision) \(toolVersion)".utf8), try JSONCoding.encoder.encode(options)]
            if let memo {
                identities = try members.map { try $0.digest.identity ?? ContentHash.sha256(NativeWriter.line($0)) }
                memoKey = OutputMemo.key(prefix + identities.map { Data($0.utf8) })
                if let unit = memo.lookup(memoKey!), let counts = Stats(counts: unit.counts),
                   unit.records.allSatisfy({ $0.count == 6 && members.indices.contains($0[0]) }) {
                    return Family(records: .reused(unit), stats: counts, memoKey: memoKey)
                }
            }
            var local = Stats()
            var made: [(Int, Int, Int, Data, String?)] = []
            // Harness meta-text goes from every member (weak answers are shown too); a reference whose
            // answer gives up is not one.
            var cleaning = TargetHygiene.Counts()
            let clean = TargetHygiene(removeMetaText: options.hygiene.removeMetaText, dropGiveUps: false)
            let members = members.map { clean.apply($0, counts: &cleaning) ?? $0 }
            local.metaTextRemoved += cleaning.metaTextRemoved
            let weakMembers = members.indices.filter { members[$0].outcome.status == .failure || members[$0].outcome.status == .partial }
            for (m, ref) in members.enumerated() where ref.outcome.status == .success {
                if options.hygiene.isGiveUp(ref.answer) {
                    local.giveUpsDropped += 1
                    continue
                }
                for (level, kindOrder, line, w) in try records(for: ref, weak: weakMembers.map { members[$0] }, stats: &local) {
                    // A record depends on its reference, its level and kind, and (external feedback) the
                    // failed attempt it critiques — not on the rest of the family, so a family that grew
                    // keeps its records' keys.
                    let key = memoKey == nil ? nil
                        : OutputMemo.key(prefix + [Data(identities[m].utf8), Data((w.map { identities[weakMembers[$0]] } ?? "-").utf8),
                                                   Data("\(level) \(kindOrder)".utf8)])
                    made.append((m, level, kindOrder, line, key))
                }
            }
            return Family(records: .made(made), stats: local, memoKey: memoKey)
        }
    }

    // MARK: Levels

    /// Constraint sets for levels 1…L: each level adds one or two constraints to the one before, the first
    /// an answer constraint whenever one fits (so each level's answer differs from the last), each answer
    /// constraint kept only if the answer can be rendered to meet it with everything before it. Stops early
    /// when nothing more fits.
    static func levels(from pool: ConstraintMiner.Pool, count: Int, renderer: AnswerRenderer, rng: inout SeededGenerator) -> [[Constraint]] {
        var answer = pool.answer
        var process = pool.process
        rng.shuffle(&answer)
        rng.shuffle(&process)
        var current: [Constraint] = []
        var out: [[Constraint]] = []
        func add(from list: inout [Constraint], answerSide: Bool) -> Bool {
            for (i, c) in list.enumerated() {
                if answerSide {
                    guard current.allSatisfy({ !$0.check.isAnswerCheck || ConstraintMiner.compatible($0.check, c.check) }),
                          renderer.render((current + [c]).map(\.check)) != nil else { continue }
                }
                current.append(c)
                list.remove(at: i)
                return true
            }
            return false
        }
        for _ in 1...max(1, count) {
            let adds = 1 + rng.below(2)
            var added = add(from: &answer, answerSide: true) ? 1 : 0
            while added < adds {
                let answerFirst = rng.below(3) > 0
                let ok = answerFirst ? (add(from: &answer, answerSide: true) || add(from: &process, answerSide: false))
                                     : (add(from: &process, answerSide: false) || add(from: &answer, answerSide: true))
                guard ok else { break }
                added += 1
            }
            if added == 0 { break }
            out.append(current)
        }
        return out
    }

    static let phrasings: [@Sendable (String, [String]) -> String] = [
        { task, cs in task + "\n\nConstraints:\n" + cs.map { "- " + $0 }.joined(separator: "\n") },
        { task, cs in task + "\n\nWhile doing this, follow these rules:\n" + cs.enumerated().map { "\($0 + 1). \($1)" }.joined(separator: "\n") },
        { task, cs in "Task: " + task + "\nRequirements: " + cs.joined(separator: " ") },
        { task, cs in task + "\n\nYour work will be checked against the following:\n" + cs.map { "* " + $0 }.joined(separator: "\n") },
    ]

    /// Added to the prompt of an internal-feedback record: the notes after the answer are asked for, and
    /// the constraints are said to apply to the answer above them.
    public static let internalFeedbackRequest = "After your final answer, add a line `---` and say how each requirement was met; the requirements apply to the answer above that line."

    // MARK: Records

    /// Kind orders: where each kind goes (the default config, or `external_feedback` / `rl`).
    static let kinds = ["single", "internal_feedback", "easy_to_hard", "external_feedback", "rl"]
    static func config(kindOrder: Int) -> String { kindOrder == 3 ? "external_feedback" : kindOrder == 4 ? "rl" : "default" }

    /// What one reference's records say about constraint following (for the manifest).
    struct AnswerStats {
        var levels = 0
        var distinctAnswers = 0
    }

    /// (level, kind order, JSON line, which of `weak` an external-feedback record critiques) for every
    /// record made from one reference; counts go to `stats` (its own, so references can be turned into
    /// records on several threads).
    func records(for ref: Trajectory, weak: [Trajectory], stats: inout Stats) throws -> [(Int, Int, Data, Int?)] {
        var rng = SeededGenerator(seed: options.seed ^ StableHash.fnv1a(ref.id))
        let facts = AnswerFacts(reference: ref)
        guard !facts.points.isEmpty else { stats.skipped["no_final_response", default: 0] += 1; return [] }
        let renderer = AnswerRenderer(facts: facts)
        let pool = ConstraintMiner.pool(for: ref, facts: facts, rng: &rng)
        stats.candidates += pool.kept.count + pool.rejected.count
        stats.rejected += pool.rejected.count
        let levels = Self.levels(from: pool, count: options.levels, renderer: renderer, rng: &rng)
        guard !levels.isEmpty else { stats.skipped["no_constraints", default: 0] += 1; return [] }
        // Each level's answer, rendered to meet exactly that level's constraints.
        var answers: [String] = []
        for set in levels {
            guard let a = renderer.render(set.map(\.check)) else { stats.skipped["answer_cannot_meet_constraints", default: 0] += 1; return [] }
            answers.append(a)
        }
        stats.references += 1
        stats.levelReferences += 1
        stats.distinctAnswers += Set(answers).count
        if Set(answers).count == 1 && answers.count > 1 { stats.identicalAcrossLevels += 1 }
        let sft = TrajectorySFT(options: .init(format: .messages, includeThoughts: true))
        let transcript = sft.messages(ref)
        let reference = CheckedResponse(trajectory: ref)
        let process = Self.process(transcript.messages, finalText: reference.text)
        var out: [(Int, Int, Data, Int?)] = []
        let phrase = Self.phrasings[rng.below(Self.phrasings.count)]
        let prompts = levels.map { phrase(ref.task, $0.map(\.text)) }
        let system = options.system.map { [ChatMessage(role: "system", content: $0)] } ?? []

        func withSpans(_ constraints: [Constraint], answer: String, message: Int) -> [Constraint] {
            constraints.map { c in
                var c = c
                c.spans = AnswerText.spans(of: c.check, in: answer).map { MessageSpan(message: message, start: $0.start, end: $0.end) }
                return c
            }
        }
        func count(_ kind: String, _ level: Int, _ constraints: [Constraint]) {
            stats.recordsPerLevel[level, default: 0] += 1
            stats.recordsPerKind[kind, default: 0] += 1
            for c in constraints { stats.constraintsPerCategory[c.category.rawValue, default: 0] += 1 }
        }
        func record(kind: String, level: Int, constraints: [Constraint], messages: [ChatMessage], answer: String) throws -> Data {
            let msgs = system + messages
            count(kind, level, constraints)
            return try JSONCoding.line(ConiferRecord(messages: msgs, tools: transcript.tools, level: level, kind: kind,
                                                     constraints: withSpans(constraints, answer: answer, message: msgs.count - 1),
                                                     provenance: Provenance(trajectory: ref)))
        }

        for (i, constraints) in levels.enumerated() {
            let msgs = [ChatMessage(role: "user", content: prompts[i])] + process + [ChatMessage(role: "assistant", content: answers[i])]
            out.append((i + 1, 0, try record(kind: "single", level: i + 1, constraints: constraints, messages: msgs, answer: answers[i]), nil))
        }
        let top = levels.count
        if options.internalFeedback {
            let constraints = levels[top - 1]
            let response = CheckedResponse(text: answers[top - 1], calls: reference.calls, steps: reference.steps)
            let notes = constraints.map { "- \($0.text) — \($0.check.run(response).evidence)." }.joined(separator: "\n")
            let msgs = [ChatMessage(role: "user", content: prompts[top - 1] + "\n\n" + Self.internalFeedbackRequest)] + process
                + [ChatMessage(role: "assistant", content: answers[top - 1] + Self.feedbackMarker + notes)]
            out.append((top, 1, try record(kind: "internal_feedback", level: top, constraints: constraints, messages: msgs, answer: answers[top - 1]), nil))
        }
        if options.easyToHard && top > 1 {
            var msgs = [ChatMessage(role: "user", content: prompts[0])] + process + [ChatMessage(role: "assistant", content: answers[0])]
            for k in 1..<top {
                let added = levels[k].dropFirst(levels[k - 1].count).map(\.text)
                msgs.append(ChatMessage(role: "user", content: "Now also make sure that:\n" + added.map { "- " + $0 }.joined(separator: "\n")))
                msgs.append(ChatMessage(role: "assistant", content: answers[k]))
            }
            out.append((top, 2, try record(kind: "easy_to_hard", level: top, constraints: levels[top - 1], messages: msgs, answer: answers[top - 1]), nil))
        }
        // The answer-only constraint sets, for records without the agent's process.
        let answerLevels = levels.map { $0.filter(\.check.isAnswerCheck) }
        if options.externalFeedback {
            if let (level, wi, failed) = weakAnswer(levels: answerLevels, weak: weak) {
                let w = weak[wi]
                let constraints = answerLevels[level - 1]
                let weakText = CheckedResponse(trajectory: w).text
                let critique = failed.map { "- \($0.text) (\($0.check.runOnAnswer(weakText).evidence))" }
                let prompt = system + [ChatMessage(role: "user", content: phrase(ref.task, constraints.map(\.text))),
                                       ChatMessage(role: "assistant", content: weakText),
                                       ChatMessage(role: "user", content: "Your answer does not meet these requirements:\n" + critique.joined(separator: "\n") + "\n" + Self.revisePrompt)]
                var provenance = Provenance(trajectory: ref)
                provenance.weakTrajectoryID = w.id
                count("external_feedback", level, constraints)
                let line = try JSONCoding.line(ConiferFeedbackRecord(
                    prompt: prompt, completion: [ChatMessage(role: "assistant", content: answers[level - 1])], level: level,
                    constraints: withSpans(constraints, answer: answers[level - 1], message: 0), critique: critique, provenance: provenance))
                out.append((level, 3, line, wi))
            } else {
                let reason = weak.isEmpty ? "no_failed_attempt_for_external_feedback"
                    : (weak.allSatisfy { ($0.answer ?? "").isEmpty } ? "failed_attempts_have_no_answer" : "weak_answer_passes_every_constraint")
                stats.skipped[reason, default: 0] += 1
            }
        }
        if options.rlPrompts {
            let done = facts.points.filter { $0.kind != .summary }.map { "- " + $0.text }
            for (i, constraints) in answerLevels.enumerated() where !constraints.isEmpty {
                let request = ref.task + "\n\nThe work is done. What was done:\n" + (done.isEmpty ? "- (see the task)" : done.joined(separator: "\n"))
                    + "\n\nWrite the final answer to the user about this work."
                count("rl", i + 1, constraints)
                let line = try JSONCoding.line(ConiferRLRecord(prompt: system + [ChatMessage(role: "user", content: phrase(request, constraints.map(\.text)))],
                                                               level: i + 1, constraints: constraints, provenance: Provenance(trajectory: ref)))
                out.append((i + 1, 4, line, nil))
            }
        }
        return out
    }

    /// The turns between the task and the final answer (the final answer itself is written separately).
    static func process(_ transcript: [ChatMessage], finalText: String) -> [ChatMessage] {
        var p = Array(transcript.drop { $0.role == "system" }.dropFirst())
        if let last = p.last, last.role == "assistant", last.toolCalls == nil, last.content == finalText { p.removeLast() }
        return p
    }

    /// The hardest level at which some failed attempt (with a written answer) misses at least one answer
    /// check. Returns the level, which of `weak` it is, and the checks it misses.
    func weakAnswer(levels: [[Constraint]], weak: [Trajectory]) -> (Int, Int, [Constraint])? {
        for level in stride(from: levels.count, through: 1, by: -1) where !levels[level - 1].isEmpty {
            for (i, w) in weak.enumerated() {
                // Only a written answer is an answer to critique (a run that stopped mid-way has none).
                guard let answer = w.answer, !answer.isEmpty else { continue }
                let failed = levels[level - 1].filter { !$0.check.runOnAnswer(answer).passed }
                if !failed.isEmpty { return (level, i, failed) }
            }
        }
        return nil
    }
}

/// A record of the default config: Conifer's released `{prompt, messages}` shape without the string
/// `prompt` column (TRL reads a string `prompt` as prompt–completion data; the prompt is the first user
/// message), plus the tool schemas, level, kind, constraints (with checkers and spans) and provenance.
public struct ConiferRecord: Sendable, Codable {
    public var messages: [ChatMessage]
    public var tools: [JSONValue]?
    public var level: Int
    /// single, internal_feedback or easy_to_hard.
    public var kind: String
    public var constraints: [Constraint]
    public var provenance: Provenance
}

/// A record of the `external_feedback` config, in TRL's conversational prompt–completion layout: the weak
/// answer and the critique are in the prompt (context, not trained on); the completion is the revised answer.
public struct ConiferFeedbackRecord: Sendable, Codable {
    public var prompt: [ChatMessage]
    public var completion: [ChatMessage]
    public var level: Int
    /// Spans point into the completion's message 0.
    public var constraints: [Constraint]
    /// The critique lines shown to the model (one per failed check).
    public var critique: [String]
    public var provenance: Provenance
}

/// A record of the `rl` config: a conversational prompt and the checkers that score a completion
/// (`reward.py` beside the data reads them).
public struct ConiferRLRecord: Sendable, Codable {
    public var prompt: [ChatMessage]
    public var level: Int
    public var constraints: [Constraint]
    public var provenance: Provenance
}
