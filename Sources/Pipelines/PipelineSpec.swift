import Trajectories

/// A validated pipeline: what to read, how to prepare it and what to build. Produced only by
/// `PipelineLoader`, so every value here has passed validation. `Codable` gives the canonical form
/// hashed into manifests and caches.
public struct PipelineSpec: Sendable, Hashable, Codable {
    public var version: Int
    public var name: String
    /// Every seeded choice (splits, sampling) derives from this.
    public var seed: UInt64
    public var inputs: [InputSpec]
    /// Shared preparation, applied to every trajectory before any output sees it.
    public var prepare: [PrepareStepSpec]
    public var outputs: [OutputSpec]
    /// The build fails when more than this fraction of input records is quarantined.
    public var maxBadFraction: Double
    /// What the build packs and records after the outputs are in place.
    public var package: PackageSpec = PackageSpec()

    /// Path of the pipeline file as the user named it (diagnostics and reports use it).
    public var file: String
    /// Directory relative paths in the file are resolved against (the file's own directory).
    public var baseDirectory: String

    /// The parts of the spec that decide output bytes (file location excluded).
    public struct Semantic: Codable, Hashable, Sendable {
        public var version: Int
        public var name: String
        public var seed: UInt64
        public var inputs: [InputSpec]
        public var prepare: [PrepareStepSpec]
        public var outputs: [OutputSpec]
        public var maxBadFraction: Double
        public var package: PackageSpec
    }

    public var semantic: Semantic {
        Semantic(version: version, name: name, seed: seed, inputs: inputs, prepare: prepare, outputs: outputs,
                 maxBadFraction: maxBadFraction, package: package)
    }
}

/// `package:` — archive formats for verified skills (out/archives/), whether the catalog is updated, and
/// the size at which dataset splits are cut into part files.
public struct PackageSpec: Sendable, Hashable, Codable {
    public var skills: [ArchiveFormat] = ArchiveFormat.allCases
    public var catalog: Bool = true
    /// A dataset part file ends before the record that would start past this many MiB.
    public var partMB: Double = 16
    /// `partMB` in bytes.
    public var partBytes: Int { max(1, Int(partMB * 1_048_576)) }
    public init() {}
}

public struct InputSpec: Sendable, Hashable, Codable {
    /// Glob relative to the pipeline file's directory (`**` matches any depth).
    public var path: String
    /// `auto` or a format name from `PipelineLoader.inputFormats`.
    public var format: String
    /// Optional side file (JSONL or CSV of id → status/reward, or a Harbor result.json) joined by id.
    public var outcomes: String?
    /// Foreign formats: observations longer than this keep head and tail around a marker.
    public var maxObservationBytes: Int = 64 << 10
    /// Foreign formats: keep model thinking blocks as thoughts instead of dropping them.
    public var keepThinking: Bool = false
    /// The largest record (a JSON Lines line, or a whole JSON/YAML document): longer lines are
    /// quarantined without being read into memory, larger documents are refused.
    public var maxRecordBytes: Int = 256 << 20
}

public enum PrepareStepSpec: Sendable, Hashable, Codable {
    case redact(RedactSpec)
    case filter(FilterSpec)
    case dedupe(DedupeSpec)
}

public struct RedactSpec: Sendable, Hashable, Codable {
    /// Cloud keys, API tokens, private keys, JWTs, bearer headers, password assignments, URL passwords.
    public var secrets: Bool = true
    /// Email addresses (off by default: they are often part of the task).
    public var emails: Bool = false
    /// A gitleaks configuration file (absolute path) whose rules run beside the built-in ones.
    public var rules: String?
    /// SHA-256 of that file, filled in when the build reads it (ingest caches key on it).
    public var rulesDigest: String?

    public init(secrets: Bool = true, emails: Bool = false, rules: String? = nil) {
        self.secrets = secrets
        self.emails = emails
        self.rules = rules
    }
}

extension PipelineSpec {
    /// The shared steps as they run: a default `redact` first when the pipeline names none (redaction is
    /// on for every pipeline).
    public var sharedPrepare: [PrepareStepSpec] {
        let hasRedact = prepare.contains { if case .redact = $0 { return true } else { return false } }
        return hasRedact ? prepare : [.redact(RedactSpec())] + prepare
    }

    /// The spec with `change` applied to every redact step, shared (the default one included) and per output.
    func mappingRedactSteps(_ change: (inout RedactSpec) -> Void) -> PipelineSpec {
        func map(_ steps: [PrepareStepSpec]) -> [PrepareStepSpec] {
            steps.map { step in
                guard case .redact(var r) = step else { return step }
                change(&r)
                return .redact(r)
            }
        }
        var spec = self
        spec.prepare = map(sharedPrepare)
        for k in spec.outputs.indices { spec.outputs[k].prepare = map(spec.outputs[k].prepare) }
        return spec
    }

    /// Every redact step with `path` as its gitleaks rules file unless it names one itself
    /// (`build --redact-rules`).
    public func withRedactionRules(_ path: String) -> PipelineSpec {
        mappingRedactSteps { if $0.rules == nil { $0.rules = path } }
    }

    /// The gitleaks rules files the pipeline's redact steps name, once each, in order.
    public var redactionRuleFiles: [String] {
        var out: [String] = []
        for step in prepare + outputs.flatMap(\.prepare) {
            if case .redact(let r) = step, let f = r.rules, !out.contains(f) { out.append(f) }
        }
        return out
    }

    /// The spec with each redact step's `rulesDigest` set from `digests` (file → SHA-256).
    public func withRuleDigests(_ digests: [String: String]) -> PipelineSpec {
        if digests.isEmpty { return self }
        return mappingRedactSteps { r in if let f = r.rules { r.rulesDigest = digests[f] } }
    }
}

public struct FilterSpec: Sendable, Hashable, Codable {
    /// Keep only these outcome statuses.
    public var outcome: [String]?
    public var minReward: Double?
    public var maxReward: Double?
    public var minSteps: Int?
    public var maxSteps: Int?
    /// Keep trajectories that used at least one of these tools.
    public var tools: [String]?
    /// Keep trajectories whose task matches this regular expression (ICU syntax).
    public var taskRegex: String?

    public init() {}
}

public struct DedupeSpec: Sendable, Hashable, Codable {
    public enum Key: String, Sendable, Hashable, Codable, CaseIterable { case task, content }
    public enum Method: String, Sendable, Hashable, Codable, CaseIterable { case exact, minhash }

    /// What is compared: the task text, or the whole trajectory (task and actions).
    public var by: Key
    public var method: Method
    /// Estimated Jaccard similarity at or above which two records are near-duplicates (minhash).
    public var threshold: Double
    /// MinHash permutations (signature length).
    public var permutations: Int
    /// Character shingle length for MinHash.
    public var shingle: Int

    public init(by: Key = .task, method: Method = .minhash, threshold: Double = 0.85, permutations: Int = 128,
                shingle: Int = 5) {
        self.by = by
        self.method = method
        self.threshold = threshold
        self.permutations = permutations
        self.shingle = shingle
    }
}

public struct OutputSpec: Sendable, Hashable, Codable {
    /// An output style's name (`style:`). Styles are plug-ins (see `StyleDeclaration`); these are the built-in ones.
    public struct Style: RawRepresentable, Sendable, Hashable, Codable, ExpressibleByStringLiteral, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { rawValue = value }
        public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(rawValue)
        }
        public var description: String { rawValue }

        public static let trajectorySFT: Style = "trajectory-sft"
        public static let conifer: Style = "conifer"
        public static let csChain: Style = "cs-chain"
        public static let cada: Style = "cada"
        public static let skills: Style = "skills"
    }

    public enum Feedback: String, Sendable, Hashable, Codable, CaseIterable { case `internal`, external }

    /// The record layouts (shared with the builders: see `Trajectories.RecordFormat`).
    public typealias RecordFormat = Trajectories.RecordFormat

    /// The key under `outputs:`; also the dataset's directory name.
    public var name: String
    public var style: Style
    public var format: RecordFormat
    /// Fraction of task families assigned to the test split (by a seeded hash of the family key: the task
    /// text read loosely, see `TrainingSets.Splitter`), so that no family is on both sides.
    public var testFraction: Double
    /// Optional system prompt placed first in each conversation.
    public var system: String?
    /// Keep the agent's thoughts as assistant text.
    public var includeThoughts: Bool
    /// Licence written into the dataset card.
    public var license: String
    /// Preparation applied only to this output, after the shared steps.
    public var prepare: [PrepareStepSpec]
    /// conifer: difficulty levels 1…levels.
    public var levels: Int = 5
    /// conifer: which process-feedback records to make.
    public var feedback: [Feedback] = [.internal, .external]
    /// conifer: chain each seed's levels into one multi-turn record.
    public var easyToHard: Bool = true
    /// Remove harness meta-text ("Attempt 3: the previous run did not pass verification.") from the
    /// agent's turns before rendering (`hygiene.meta_text`).
    public var removeMetaText: Bool = true
    /// Drop trajectories whose final answer gives up ("I could not finish …") as targets (`hygiene.give_up`).
    public var dropGiveUps: Bool = true
    /// cs-chain, cada: the consequence rule file (relative to the pipeline file).
    public var rules: String = OutputSpec.defaultRules
    /// cada: the safety codes file (relative to the pipeline file).
    public var codes: String = OutputSpec.defaultCodes
    /// The rule and code files used when an output names none (relative to the pipeline file).
    public static let defaultRules = "safety/consequences.yaml", defaultCodes = "safety/codes.yaml"
    /// cs-chain, cada: equalise the four scenarios.
    public var balance: Bool = true
    /// cs-chain, cada: counterfactual variant sets per trajectory.
    public var counterfactuals: Int = 1
    /// cada: cases retrieved per prompt.
    public var cases: Int = 2
    /// cada: write preference pairs.
    public var preferencePairs: Bool = true
    /// cada: write RL prompts with reference verdicts; conifer: write the `rl` config (prompts with checkers).
    public var rlPrompts: Bool = true
    /// skills: successful runs a task family needs before it becomes a skill.
    public var minSupport: Int = 2
    /// skills: Jaccard similarity of normalised task words that puts two runs in one family.
    public var familyThreshold: Double = 0.7
    /// skills: verify → refine rounds before a bundle is rejected.
    public var maxRounds: Int = 5
    /// skills: directory of curated bundles verified with the build (relative to the pipeline file).
    public var curated: String? = "../skills"
    /// A plug-in style's own settings that no built-in style reads, as written (scalars); nil when there are none.
    public var settings: [String: String]?
}
