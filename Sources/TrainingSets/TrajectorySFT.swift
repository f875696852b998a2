import Foundation
import Trajectories

/// The `trajectory-sft` style: each trajectory becomes one tool-calling transcript.
public struct TrajectorySFT: Sendable {
    public struct Options: Sendable, Hashable {
        public var format: RecordFormat
        public var system: String?
        public var includeThoughts: Bool

        public init(format: RecordFormat = .messages, system: String? = nil, includeThoughts: Bool = true) {
            self.format = format
            self.system = system
            self.includeThoughts = includeThoughts
        }
    }

    /// Why a trajectory produced no record.
    public enum Skip: String, Sendable {
        case noSteps = "no_steps"
        case noFinalResponse = "no_final_response"
    }

    public let options: Options

    public init(options: Options) { self.options = options }

    /// One JSON line for `t`, or the reason it cannot be rendered in this format.
    public func render(_ t: Trajectory) throws -> Result<Data, SkipReason> {
        if t.steps.isEmpty && t.answer == nil { return .failure(SkipReason(Skip.noSteps.rawValue)) }
        switch options.format {
        case .messages, .openai: return .success(try messages(t).jsonLine())
        case .sharegpt:
            guard let r = sharegpt(t) else { return .failure(SkipReason(Skip.noFinalResponse.rawValue)) }
            return .success(try JSONCoding.line(r))
        case .alpaca: return .success(try JSONCoding.line(alpaca(t)))
        }
    }

    /// Call ids unique within the record: the source's id when it has one, else `call_<step>`.
    static func callIDs(_ t: Trajectory) -> [Int: String] {
        var used = Set<String>()
        var out: [Int: String] = [:]
        for (i, s) in t.steps.enumerated() where s.action != nil {
            var id = s.action!.callID.flatMap { $0.isEmpty ? nil : $0 } ?? "call_\(s.index)"
            if used.contains(id) { id = "\(id)_\(i)" }
            used.insert(id)
            out[i] = id
        }
        return out
    }

    public func messages(_ t: Trajectory) -> MessagesRecord {
        let style = ToolCallStyle(options.format)
        var msgs: [ChatMessage] = []
        if let system = options.system { msgs.append(ChatMessage(role: "system", content: system)) }
        msgs.append(ChatMessage(role: "user", content: t.task))
        let ids = Self.callIDs(t)
        for (i, s) in t.steps.enumerated() {
            let thought = options.includeThoughts ? (s.thought ?? "") : ""
            if let a = s.action {
                let id = ids[i]!
                let call = ChatMessage.ToolCall(id: id, function: .init(name: a.tool, arguments: style.arguments(a.input)))
                msgs.append(ChatMessage(role: "assistant", content: thought, toolCalls: [call]))
                msgs.append(ChatMessage(role: "tool", content: s.observation?.content ?? "", toolCallID: id, name: a.tool))
            } else if !thought.isEmpty {
                msgs.append(ChatMessage(role: "assistant", content: thought))
            }
        }
        if let answer = t.answer { msgs.append(ChatMessage(role: "assistant", content: answer)) }
        let specs = Self.toolSpecs(t)
        return MessagesRecord(messages: msgs, tools: specs.isEmpty ? nil : specs.map { .object(["type": .string("function"), "function": $0]) },
                              provenance: Provenance(trajectory: t))
    }

    /// LLaMA-Factory requires alternating user-side (`human`, `observation`) and assistant-side
    /// (`gpt`, `function_call`) turns ending on the assistant side, so thoughts between calls are not
    /// kept and the record ends with the answer (or the last thought when there is no answer).
    public func sharegpt(_ t: Trajectory) -> ShareGPTRecord? {
        var turns = [ShareGPTTurn(from: "human", value: t.task)]
        var lastThought: String?
        for s in t.steps {
            if let th = s.thought, !th.isEmpty { lastThought = th }
            guard let a = s.action else { continue }
            let call = JSONValue.object(["name": .string(a.tool), "arguments": a.input]).canonicalJSON()
            turns.append(ShareGPTTurn(from: "function_call", value: call))
            turns.append(ShareGPTTurn(from: "observation", value: s.observation?.content ?? ""))
            lastThought = nil
        }
        guard let final = t.answer ?? lastThought else { return nil }
        turns.append(ShareGPTTurn(from: "gpt", value: final))
        return ShareGPTRecord(conversations: turns, system: options.system ?? "", tools: JSONValue.array(Self.toolSpecs(t)).canonicalJSON(),
                              provenance: Provenance(trajectory: t))
    }

    public func alpaca(_ t: Trajectory) -> AlpacaRecord {
        var lines: [String] = []
        for s in t.steps {
            if options.includeThoughts, let th = s.thought, !th.isEmpty { lines.append("Thought: \(th)") }
            if let a = s.action {
                lines.append("Action: \(a.tool)(\(a.command ?? a.input.canonicalJSON()))")
                lines.append("Observation: \(s.observation?.content ?? "")")
            }
        }
        if let answer = t.answer { lines.append("Final answer: \(answer)") }
        return AlpacaRecord(instruction: t.task, input: "", output: lines.joined(separator: "\n"), system: options.system,
                            provenance: Provenance(trajectory: t))
    }

    /// Function specs (`{name, description, parameters}`) for the tools a trajectory used, in order of first
    /// use, with parameter types inferred from the calls; a parameter every call passes is `required`.
    public static func toolSpecs(_ t: Trajectory) -> [JSONValue] {
        toolSpecs(calls: t.steps.compactMap { s in s.action.map { ($0.tool, $0.input) } })
    }

    /// Function specs for `(tool, input)` calls (see `toolSpecs(_:)`).
    public static func toolSpecs(calls: [(tool: String, input: JSONValue)]) -> [JSONValue] {
        var params: [String: [String: String]] = [:]
        var seenIn: [String: [String: Int]] = [:]
        var callsOf: [String: Int] = [:]
        var order: [String] = []
        for (tool, input) in calls {
            if params[tool] == nil { params[tool] = [:]; order.append(tool) }
            callsOf[tool, default: 0] += 1
            let object = input.objectValue ?? ["input": input]
            for (k, v) in object {
                if params[tool]![k] == nil { params[tool]![k] = jsonType(v) }
                seenIn[tool, default: [:]][k, default: 0] += 1
            }
        }
        return order.map { name in
            let props = params[name]!.mapValues { JSONValue.object(["type": .string($0)]) }
            let required = (seenIn[name] ?? [:]).filter { $0.value == callsOf[name] }.keys.sorted().map(JSONValue.string)
            return .object(["name": .string(name), "description": .string("Tool '\(name)' as used in the trajectory."),
                            "parameters": .object(["type": .string("object"), "properties": .object(props), "required": .array(required)])])
        }
    }

    static func jsonType(_ v: JSONValue) -> String {
        switch v {
        case .string: return "string"
        case .int: return "integer"
        case .double: return "number"
        case .bool: return "boolean"
        case .array: return "array"
        case .object: return "object"
        case .null: return "string"
        }
    }
}

public struct SkipReason: Error, Sendable, Hashable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}
