import Foundation
import Trajectories

/// Record formats a dataset can be written in.
public enum RecordFormat: String, Sendable, CaseIterable, Codable {
    /// OpenAI / TRL chat: `{"messages": [...]}` with `tool_calls` and `tool` turns.
    case messages
    /// LLaMA-Factory ShareGPT: `{"conversations": [...]}` with `function_call` / `observation` turns.
    case sharegpt
    /// Alpaca: `{"instruction", "input", "output"}`.
    case alpaca
}

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
            /// JSON text, as the OpenAI API sends it.
            public var arguments: String
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

    enum CodingKeys: String, CodingKey {
        case role, content, toolCalls = "tool_calls", toolCallID = "tool_call_id", name
    }
}

public struct MessagesRecord: Sendable, Hashable, Codable {
    public var messages: [ChatMessage]
    public var provenance: Provenance
}

// MARK: ShareGPT (LLaMA-Factory)

public struct ShareGPTTurn: Sendable, Hashable, Codable {
    public var from: String
    public var value: String
}

public struct ShareGPTRecord: Sendable, Hashable, Codable {
    public var conversations: [ShareGPTTurn]
    public var system: String?
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
