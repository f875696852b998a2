import CYaml
import Foundation
import Yams

/// YAML with bounds: every YAML document skillforge reads (pipeline files, rule bases, SKILL.md
/// front matter, recorded API cassettes) is first walked event by event by libyaml, without building
/// anything, to refuse documents nested too deeply or whose aliases expand to too many nodes (the
/// "billion laughs" document: a few hundred bytes that expand to billions of nodes). Only then is it
/// composed by Yams. The walk keeps one counter per open collection and one size per anchor, so its
/// memory is bounded by the nesting limit and the number of anchors, whatever the document says.
public enum BoundedYAML {
    public struct Limits: Sendable, Hashable {
        /// Collections nested inside one another.
        public var maxDepth: Int
        /// Nodes in the document once every alias is expanded.
        public var maxNodes: Int
        public init(maxDepth: Int, maxNodes: Int) {
            self.maxDepth = maxDepth
            self.maxNodes = maxNodes
        }
        /// 128 levels and 1,000,000 expanded nodes: far beyond any pipeline or cassette seen, far below
        /// what would exhaust memory.
        public static let standard = Limits(maxDepth: 128, maxNodes: 1_000_000)
    }

    public struct LimitError: Error, CustomStringConvertible, Sendable {
        /// 1-based position of the node that went over the limit.
        public var line: Int
        public var column: Int
        public var message: String
        public var description: String { "line \(line), column \(column): \(message)" }
    }

    /// Throws `LimitError` when `text` goes over `limits` (syntax errors are left to Yams).
    public static func check(_ text: String, limits: Limits = .standard) throws {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw LimitError(line: 1, column: 1, message: "cannot start the YAML parser") }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        try bytes.withUnsafeMutableBufferPointer { buf in
            yaml_parser_set_input_string(&parser, buf.baseAddress, buf.count)
            var open: [(anchor: String?, nodes: Int)] = []
            var anchors: [String: Int] = [:]
            var total = 0
            func add(_ n: Int, at mark: yaml_mark_t) throws {
                if open.isEmpty { total = min(total + n, limits.maxNodes + 1) } else { open[open.count - 1].nodes = min(open[open.count - 1].nodes + n, limits.maxNodes + 1) }
                if total > limits.maxNodes || (open.last?.nodes ?? 0) > limits.maxNodes {
                    throw LimitError(line: mark.line + 1, column: mark.column + 1,
                                     message: "the document expands to more than \(limits.maxNodes) nodes (aliases repeating aliases?); refused")
                }
            }
            func name(_ p: UnsafeMutablePointer<UInt8>?) -> String? { p.map { String(cString: $0) } }
            while true {
                var event = yaml_event_t()
                // Not YAML: Yams reports it, with its own position and words, when it composes.
                guard yaml_parser_parse(&parser, &event) == 1 else { return }
                defer { yaml_event_delete(&event) }
                let mark = event.start_mark
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return
                case YAML_SCALAR_EVENT:
                    try add(1, at: mark)
                    if let a = name(event.data.scalar.anchor) { anchors[a] = 1 }
                case YAML_ALIAS_EVENT:
                    let a = name(event.data.alias.anchor) ?? ""
                    try add(anchors[a] ?? 1, at: mark)
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    let anchor = event.type == YAML_SEQUENCE_START_EVENT ? name(event.data.sequence_start.anchor) : name(event.data.mapping_start.anchor)
                    open.append((anchor, 1))
                    if open.count > limits.maxDepth {
                        throw LimitError(line: mark.line + 1, column: mark.column + 1,
                                         message: "collections nested more than \(limits.maxDepth) deep; refused")
                    }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    let done = open.removeLast()
                    if let a = done.anchor { anchors[a] = done.nodes }
                    try add(done.nodes, at: mark)
                default:
                    break
                }
            }
        }
    }

    /// `Yams.compose` after `check`.
    public static func compose(_ text: String, limits: Limits = .standard) throws -> Node? {
        try check(text, limits: limits)
        return try Yams.compose(yaml: text)
    }

    /// `Yams.load` after `check`.
    public static func load(_ text: String, limits: Limits = .standard) throws -> Any? {
        try check(text, limits: limits)
        return try Yams.load(yaml: text)
    }
}
