import Foundation

/// One run of an agent on a task: the canonical model every importer produces and every builder reads.
///
/// The native JSONL format (one `Trajectory` per line) is this type's `Codable` form; see README
/// "Native trajectory format".
public struct Trajectory: Sendable, Hashable {
    /// Stable identifier, unique within a corpus (outcome joins and provenance use it).
    public var id: String
    /// What the agent was asked to do.
    public var task: String
    /// Groups attempts of the same task (task families); nil when the source has no such notion.
    public var taskKey: String?
    /// 1-based attempt number within `taskKey`.
    public var attempt: Int?
    public var steps: [Step]
    /// The agent's final response or submission, when the source records one.
    public var answer: String?
    public var outcome: Outcome
    /// Where the record came from (original format, file, line or event index).
    public var source: Source?
    /// Anything else the source carried that skillforge does not interpret.
    public var meta: [String: JSONValue]
    /// What ingest computed from this record as it left it (its name in the ingest cache and the first
    /// dedupe step's fingerprint; see `Digest`); not part of the record: ignored by `==`, hashing and
    /// coding. Steps that change a trajectory clear it.
    public var digest = Digest()

    /// A value that equality and hashing do not see: what was computed from the record as ingest left
    /// it. Anything that changes a record drops it (redaction that replaces anything returns the record
    /// with an empty one).
    public struct Digest: Sendable, Hashable {
        /// The record's name in the ingest cache, `<entry key>:<index>`: entries are content-addressed
        /// (the same key always holds the same records), so it names exactly these bytes.
        public var identity: String?
        /// The first dedupe step's fingerprint of the record, computed at ingest or kept in the cache.
        public var fingerprint: StoredFingerprint?
        public init(identity: String? = nil) { self.identity = identity }
        public static func == (a: Digest, b: Digest) -> Bool { true }
        public func hash(into hasher: inout Hasher) {}
    }

    /// A dedupe fingerprint (exact: the sha256 as four words; MinHash: the signature) and the dedupe
    /// configuration it was made for (`Deduplicator.configID`).
    public struct StoredFingerprint: Sendable {
        public var config: String
        public var words: [UInt64]
        public init(config: String, words: [UInt64]) {
            self.config = config
            self.words = words
        }
    }

    public init(id: String, task: String, taskKey: String? = nil, attempt: Int? = nil, steps: [Step] = [],
                answer: String? = nil, outcome: Outcome = Outcome(), source: Source? = nil,
                meta: [String: JSONValue] = [:]) {
        self.id = id
        self.task = task
        self.taskKey = taskKey
        self.attempt = attempt
        self.steps = steps
        self.answer = answer
        self.outcome = outcome
        self.source = source
        self.meta = meta
    }

    /// Tools called in this trajectory, in order of first use.
    public var toolsUsed: [String] {
        var seen = Set<String>()
        var out: [String] = []
        for step in steps {
            if let tool = step.action?.tool, seen.insert(tool).inserted { out.append(tool) }
        }
        return out
    }
}

public struct Step: Sendable, Hashable {
    /// 0-based position in the trajectory; provenance cites it.
    public var index: Int
    public var thought: String?
    public var action: Action?
    public var observation: Observation?
    /// ISO-8601 text as the source wrote it.
    public var timestamp: String?

    public init(index: Int, thought: String? = nil, action: Action? = nil, observation: Observation? = nil,
                timestamp: String? = nil) {
        self.index = index
        self.thought = thought
        self.action = action
        self.observation = observation
        self.timestamp = timestamp
    }
}

public struct Action: Sendable, Hashable {
    /// Tool or function name (`bash`, `str_replace_editor`, `read_file`, …).
    public var tool: String
    /// Arguments as structured JSON (an object for function calls).
    public var input: JSONValue
    /// The shell command text, when the action is a command.
    public var command: String?
    /// The call id the source used to pair the call with its result, if any.
    public var callID: String?

    public init(tool: String, input: JSONValue = .object([:]), command: String? = nil, callID: String? = nil) {
        self.tool = tool
        self.input = input
        self.command = command
        self.callID = callID
    }
}

public struct Observation: Sendable, Hashable {
    public var content: String
    public var exitCode: Int?
    public var isError: Bool?

    public init(content: String, exitCode: Int? = nil, isError: Bool? = nil) {
        self.content = content
        self.exitCode = exitCode
        self.isError = isError
    }

    /// True when the environment reported a failure (an error flag or a non-zero exit code).
    public var failed: Bool { isError == true || (exitCode.map { $0 != 0 } ?? false) }
}

public struct Outcome: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, CaseIterable, Codable {
        case success, failure, partial, unknown
    }

    public var status: Status
    public var reward: Double?
    public var tests: TestCounts?
    public var detail: String?

    public init(status: Status = .unknown, reward: Double? = nil, tests: TestCounts? = nil, detail: String? = nil) {
        self.status = status
        self.reward = reward
        self.tests = tests
        self.detail = detail
    }
}

public struct TestCounts: Sendable, Hashable, Codable {
    public var passed: Int
    public var failed: Int
    /// Tests the harness skipped: neither passed nor failed. Written only when non-zero.
    public var skipped: Int
    public init(passed: Int, failed: Int, skipped: Int = 0) {
        self.passed = passed
        self.failed = failed
        self.skipped = skipped
    }

    enum CodingKeys: String, CodingKey { case passed, failed, skipped }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        passed = try c.decode(Int.self, forKey: .passed)
        failed = try c.decode(Int.self, forKey: .failed)
        skipped = try c.decodeIfPresent(Int.self, forKey: .skipped) ?? 0
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(passed, forKey: .passed)
        try c.encode(failed, forKey: .failed)
        if skipped != 0 { try c.encode(skipped, forKey: .skipped) }
    }
}

public struct Source: Sendable, Hashable, Codable {
    /// Format the record was read from (`native`, `swe-agent`, …).
    public var format: String
    public var file: String
    public var line: Int?
    /// Event or message index, for formats that are not line based.
    public var offset: Int?

    public init(format: String, file: String, line: Int? = nil, offset: Int? = nil) {
        self.format = format
        self.file = file
        self.line = line
        self.offset = offset
    }

    public var location: String {
        if let line { return "\(file):\(line)" }
        if let offset { return "\(file)#\(offset)" }
        return file
    }
}
