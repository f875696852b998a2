import Foundation

// The native JSONL format: `Codable` conformances of the canonical model, snake_case keys.
// Reading is strict about types (a wrong type quarantines the line with its path) and lenient about
// absent optional fields; writing always uses sorted keys so that output bytes are reproducible.

/// Value of the `schema` field every native record carries (readers accept records without it).
public let nativeSchemaTag = "skillforge.trajectory/1"

extension Trajectory: Codable {
    enum CodingKeys: String, CodingKey {
        case schema, id, task, taskKey = "task_key", attempt, steps, answer, outcome, source, meta
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let schema = try c.decodeIfPresent(String.self, forKey: .schema), schema != nativeSchemaTag {
            throw DecodingError.dataCorruptedError(forKey: .schema, in: c,
                debugDescription: "unsupported schema '\(schema)' (this version reads '\(nativeSchemaTag)')")
        }
        id = try c.decode(String.self, forKey: .id)
        if id.isEmpty {
            throw DecodingError.dataCorruptedError(forKey: .id, in: c, debugDescription: "must not be empty")
        }
        task = try c.decode(String.self, forKey: .task)
        taskKey = try c.decodeIfPresent(String.self, forKey: .taskKey)
        attempt = try c.decodeIfPresent(Int.self, forKey: .attempt)
        var decodedSteps = try c.decodeIfPresent([Step].self, forKey: .steps) ?? []
        // A record without explicit indices gets positional ones.
        for i in decodedSteps.indices where decodedSteps[i].index < 0 { decodedSteps[i].index = i }
        steps = decodedSteps
        answer = try c.decodeIfPresent(String.self, forKey: .answer)
        outcome = try c.decodeIfPresent(Outcome.self, forKey: .outcome) ?? Outcome()
        source = try c.decodeIfPresent(Source.self, forKey: .source)
        meta = try c.decodeIfPresent([String: JSONValue].self, forKey: .meta) ?? [:]
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(nativeSchemaTag, forKey: .schema)
        try c.encode(id, forKey: .id)
        try c.encode(task, forKey: .task)
        try c.encodeIfPresent(taskKey, forKey: .taskKey)
        try c.encodeIfPresent(attempt, forKey: .attempt)
        try c.encode(steps, forKey: .steps)
        try c.encodeIfPresent(answer, forKey: .answer)
        try c.encode(outcome, forKey: .outcome)
        try c.encodeIfPresent(source, forKey: .source)
        if !meta.isEmpty { try c.encode(meta, forKey: .meta) }
    }
}

extension Step: Codable {
    enum CodingKeys: String, CodingKey { case index, thought, action, observation, timestamp }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        index = try c.decodeIfPresent(Int.self, forKey: .index) ?? -1
        thought = try c.decodeIfPresent(String.self, forKey: .thought)
        action = try c.decodeIfPresent(Action.self, forKey: .action)
        observation = try c.decodeIfPresent(Observation.self, forKey: .observation)
        timestamp = try c.decodeIfPresent(String.self, forKey: .timestamp)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encodeIfPresent(thought, forKey: .thought)
        try c.encodeIfPresent(action, forKey: .action)
        try c.encodeIfPresent(observation, forKey: .observation)
        try c.encodeIfPresent(timestamp, forKey: .timestamp)
    }
}

extension Action: Codable {
    enum CodingKeys: String, CodingKey { case tool, input, command, callID = "call_id" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tool = try c.decode(String.self, forKey: .tool)
        input = try c.decodeIfPresent(JSONValue.self, forKey: .input) ?? .object([:])
        command = try c.decodeIfPresent(String.self, forKey: .command)
        callID = try c.decodeIfPresent(String.self, forKey: .callID)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tool, forKey: .tool)
        try c.encode(input, forKey: .input)
        try c.encodeIfPresent(command, forKey: .command)
        try c.encodeIfPresent(callID, forKey: .callID)
    }
}

extension Observation: Codable {
    enum CodingKeys: String, CodingKey { case content, exitCode = "exit_code", isError = "is_error" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        content = try c.decodeIfPresent(String.self, forKey: .content) ?? ""
        exitCode = try c.decodeIfPresent(Int.self, forKey: .exitCode)
        isError = try c.decodeIfPresent(Bool.self, forKey: .isError)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(content, forKey: .content)
        try c.encodeIfPresent(exitCode, forKey: .exitCode)
        try c.encodeIfPresent(isError, forKey: .isError)
    }
}

extension Outcome: Codable {
    enum CodingKeys: String, CodingKey { case status, reward, tests, detail }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let raw = try c.decodeIfPresent(String.self, forKey: .status) ?? "unknown"
        guard let parsed = Status(rawValue: raw) else {
            throw DecodingError.dataCorruptedError(forKey: .status, in: c,
                debugDescription: "unknown status '\(raw)' (expected success, failure, partial or unknown)")
        }
        status = parsed
        reward = try c.decodeIfPresent(Double.self, forKey: .reward)
        if let r = reward, !r.isFinite {
            throw DecodingError.dataCorruptedError(forKey: .reward, in: c, debugDescription: "must be a finite number")
        }
        tests = try c.decodeIfPresent(TestCounts.self, forKey: .tests)
        detail = try c.decodeIfPresent(String.self, forKey: .detail)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(status, forKey: .status)
        try c.encodeIfPresent(reward, forKey: .reward)
        try c.encodeIfPresent(tests, forKey: .tests)
        try c.encodeIfPresent(detail, forKey: .detail)
    }
}
