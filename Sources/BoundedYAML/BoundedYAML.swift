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

    /// The tags plain scalars resolve to: Yams' YAML 1.1 rules without the base-60 ("sexagesimal")
    /// integers and floats. Yams multiplies base-60 digits without overflow checks, so a plain
    /// `1:0:0:0:0:0:0:0:0:0:0:0` crashed the process when read as a number (found by the spec fuzzer).
    /// YAML 1.2 dropped base 60 too: `1:30` is the string "1:30", as most readers expect.
    public static let resolver: Resolver = {
        // swiftlint:disable:next force_try
        try! Resolver.default
            .replacing(.int, with: #"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"#)
            .replacing(.float, with: #"^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"#)
    }()

    /// `Yams.compose` after `check`, with `resolver`. Read scalars from the composed nodes by their
    /// resolved tag (`tagName(of:)`, or `value(of:)`), never through Yams' `node.int`, which ignores
    /// the tag and parses base 60 anyway.
    public static func compose(_ text: String, limits: Limits = .standard) throws -> Node? {
        try check(text, limits: limits)
        return try Yams.compose(yaml: text, resolver)
    }

    /// The document as plain values — `String`, `Bool`, `Int`, `Double`, `NSNull`, `[Any]` and
    /// `[String: Any]` — after `check`. Built here rather than by Yams' constructor, which traps on
    /// explicitly tagged base-60 integers (`!!int 1:0:0:…`) and on mapping keys that are not scalars.
    /// Timestamps and binary scalars stay the text they were written as; an `!!int` or `!!float` that
    /// is not a number in range stays text too. Merge keys (`<<: *defaults`) are applied.
    public static func load(_ text: String, limits: Limits = .standard) throws -> Any? {
        guard let node = try compose(text, limits: limits) else { return nil }
        return try value(of: node)
    }

    public struct ShapeError: Error, CustomStringConvertible, Sendable {
        public var line: Int
        public var column: Int
        public var message: String
        public var description: String { "line \(line), column \(column): \(message)" }
    }

    /// The resolved tag of a node (explicit, or from `resolver`).
    public static func tagName(of node: Node) -> Tag.Name { Tag.Name(rawValue: node.tag.rawValue) }

    /// One node as a plain value (see `load`).
    public static func value(of node: Node) throws -> Any {
        switch node {
        case .scalar(let s):
            return scalar(s.string, tag: tagName(of: node))
        case .sequence(let seq):
            return try seq.map { try value(of: $0) }
        case .mapping(let map):
            var out: [String: Any] = [:]
            var merged: [String: Any] = [:]
            for (k, v) in map {
                guard case .scalar(let key) = k else {
                    throw ShapeError(line: k.mark?.line ?? 1, column: k.mark?.column ?? 1,
                                     message: "a mapping key must be a scalar, found a \(k.isMapping ? "mapping" : "list")")
                }
                if tagName(of: k) == .merge {
                    // `<<: *a` or `<<: [*a, *b]`: earlier sources win, keys written here win over all.
                    let sources: [Node] = v.sequence.map(Array.init) ?? [v]
                    for source in sources {
                        guard case .mapping = source, let m = try value(of: source) as? [String: Any] else {
                            throw ShapeError(line: source.mark?.line ?? 1, column: source.mark?.column ?? 1,
                                             message: "a merge key ('<<') takes a mapping or a list of mappings")
                        }
                        merged.merge(m) { first, _ in first }
                    }
                } else {
                    out[key.string] = try value(of: v)
                }
            }
            return out.merging(merged) { own, _ in own }
        case .alias:
            return NSNull()  // Yams resolves aliases while composing; nothing reaches here.
        }
    }

    static func scalar(_ text: String, tag: Tag.Name) -> Any {
        switch tag {
        case .null:
            return NSNull()
        case .bool:
            switch text.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: return text
            }
        case .int:
            var digits = text.replacingOccurrences(of: "_", with: "")
            var sign = ""
            if let c = digits.first, c == "-" || c == "+" { sign = c == "-" ? "-" : ""; digits.removeFirst() }
            for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where digits.hasPrefix(prefix) {
                return Int(sign + digits.dropFirst(2), radix: radix) ?? text
            }
            if digits.count > 1, digits.hasPrefix("0") { return Int(sign + digits.dropFirst(), radix: 8) ?? text }
            return Int(sign + digits) ?? text
        case .float:
            switch text.lowercased() {
            case ".inf", "+.inf": return Double.infinity
            case "-.inf": return -Double.infinity
            case ".nan": return Double.nan
            default: return Double(text.replacingOccurrences(of: "_", with: "")) ?? text
            }
        default:
            return text
        }
    }
}

private extension Node {
    var isMapping: Bool { if case .mapping = self { return true } else { return false } }
}
