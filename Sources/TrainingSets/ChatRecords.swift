import Foundation
import Trajectories

/// Record formats a dataset can be written in.

/// Where a record's content came from: every record carries one.
public struct Provenance: Sendable, Hashable, Codable {
    public var trajectoryID: String
    /// First and last step index the record uses (empty for a trajectory without steps).
    public var steps: [Int]
    public var source: String?
    public var outcome: String
    /// External feedback records: the failed attempt the weaker answer came from.
    public var weakTrajectoryID: String?

    public init(trajectory t: Trajectory) {
        trajectoryID = t.id
        steps = t.steps.isEmpty ? [] : [t.steps.first!.index, t.steps.last!.index]
        source = t.source?.location
        outcome = t.outcome.status.rawValue
    }

    enum CodingKeys: String, CodingKey {
        case trajectoryID = "trajectory_id", steps, source, outcome, weakTrajectoryID = "weak_trajectory_id"
    }
}

// MARK: OpenAI / TRL messages

public struct ChatMessage: Sendable, Hashable, Codable {
    public struct ToolCall: Sendable, Hashable, Codable {
        public struct Function: Sendable, Hashable, Codable {
            public var name: String
            /// A JSON object (Hugging Face chat templates render it; a JSON string there is rendered
            /// double-encoded or refused), or JSON text in the OpenAI fine-tuning format.
            public var arguments: JSONValue

            public init(name: String, arguments: JSONValue) {
                self.name = name
                self.arguments = arguments
            }

            /// The arguments as an object, whichever form they were written in.
            public var argumentsObject: JSONValue {
                if case .string(let text) = arguments {
                    return (try? JSONCoding.decoder.decode(JSONValue.self, from: Data(text.utf8))) ?? .object([:])
                }
                return arguments
            }
        }
        public var id: String
        public var type = "function"
        public var function: Function
    }

    public var role: String
    public var content: String
    public var toolCalls: [ToolCall]?
    public var toolCallID: String?
    public var name: String?

    /// A turn (styles outside this module make their records from these too).
    public init(role: String, content: String, toolCalls: [ToolCall]? = nil, toolCallID: String? = nil, name: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.name = name
    }

    enum CodingKeys: String, CodingKey {
        case role, content, toolCalls = "tool_calls", toolCallID = "tool_call_id", name
    }
}

public struct MessagesRecord: Sendable, Hashable, Codable {
    public var messages: [ChatMessage]
    /// The schemas of the tools the record calls (OpenAI function-tool layout), so that a chat template
    /// shows the model the tools it is trained to call; nil when the record calls none.
    public var tools: [JSONValue]?
    public var provenance: Provenance
}

extension MessagesRecord {
    /// The record as one JSON line: the bytes `JSONCoding.line(self)` writes (keys sorted, nil fields
    /// left out), written directly — trajectory-sft writes one per kept trajectory.
    /// `ChatRecordTests.messagesLineEqualsTheEncoder` compares the two.
    public func jsonLine() throws -> Data {
        typealias W = SortedJSONEncoder
        var out: [UInt8] = [0x7B]
        out.reserveCapacity(messages.reduce(256) { $0 + $1.content.utf8.count + 64 })
        W.appendKey("messages", first: true, into: &out)
        out.append(0x5B)
        for (k, m) in messages.enumerated() {
            if k > 0 { out.append(0x2C) }
            // Keys in byte order: content, name, role, tool_call_id, tool_calls.
            out.append(0x7B)
            W.appendKey("content", first: true, into: &out)
            W.appendString(m.content, into: &out)
            if let name = m.name { W.appendKey("name", into: &out); W.appendString(name, into: &out) }
            W.appendKey("role", into: &out)
            W.appendString(m.role, into: &out)
            if let id = m.toolCallID { W.appendKey("tool_call_id", into: &out); W.appendString(id, into: &out) }
            if let calls = m.toolCalls {
                W.appendKey("tool_calls", into: &out)
                out.append(0x5B)
                for (j, call) in calls.enumerated() {
                    if j > 0 { out.append(0x2C) }
                    out.append(0x7B)
                    W.appendKey("function", first: true, into: &out)
                    out.append(0x7B)
                    W.appendKey("arguments", first: true, into: &out)
                    try W.append(call.function.arguments, into: &out)
                    W.appendKey("name", into: &out)
                    W.appendString(call.function.name, into: &out)
                    out.append(0x7D)
                    W.appendKey("id", into: &out)
                    W.appendString(call.id, into: &out)
                    W.appendKey("type", into: &out)
                    W.appendString(call.type, into: &out)
                    out.append(0x7D)
                }
                out.append(0x5D)
            }
            out.append(0x7D)
        }
        out.append(0x5D)
        // provenance: outcome, source, steps, trajectory_id, weak_trajectory_id.
        W.appendKey("provenance", into: &out)
        out.append(0x7B)
        W.appendKey("outcome", first: true, into: &out)
        W.appendString(provenance.outcome, into: &out)
        if let source = provenance.source { W.appendKey("source", into: &out); W.appendString(source, into: &out) }
        W.appendKey("steps", into: &out)
        try W.append(.array(provenance.steps.map { .int(Int64($0)) }), into: &out)
        W.appendKey("trajectory_id", into: &out)
        W.appendString(provenance.trajectoryID, into: &out)
        if let weak = provenance.weakTrajectoryID { W.appendKey("weak_trajectory_id", into: &out); W.appendString(weak, into: &out) }
        out.append(0x7D)
        if let tools {
            W.appendKey("tools", into: &out)
            try W.append(.array(tools), into: &out)
        }
        out.append(0x7D)
        return Data(out)
    }
}

/// How tool calls and their schemas are written in chat records.
public enum ToolCallStyle: Sendable, Hashable {
    /// `arguments` as a JSON object (Hugging Face chat templates, TRL, `datasets`).
    case object
    /// `arguments` as JSON text (OpenAI fine-tuning files).
    case text

    public init(_ format: RecordFormat) { self = format == .openai ? .text : .object }

    /// A tool call's `arguments` in this style. An input that is not a JSON object (some frameworks pass
    /// a bare string) is wrapped as `{"input": …}`: chat templates iterate the arguments as a mapping.
    public func arguments(_ input: JSONValue) -> JSONValue {
        let object: JSONValue = input.objectValue != nil ? input : .object(["input": input])
        return self == .text ? .string(object.canonicalJSON()) : object
    }
}

// MARK: ShareGPT (LLaMA-Factory)

public struct ShareGPTTurn: Sendable, Hashable, Codable {
    public var from: String
    public var value: String
}

public struct ShareGPTRecord: Sendable, Hashable, Codable {
    public var conversations: [ShareGPTTurn]
    /// Always present (empty without a system prompt), so LLaMA-Factory's documented `"system": "system"`
    /// column mapping finds it.
    public var system: String
    /// JSON text of the function specs, as LLaMA-Factory expects.
    public var tools: String
    public var provenance: Provenance
}

// MARK: Alpaca

public struct AlpacaRecord: Sendable, Hashable, Codable {
    public var instruction: String
    public var input: String
    public var output: String
    public var system: String?
    public var provenance: Provenance
}
