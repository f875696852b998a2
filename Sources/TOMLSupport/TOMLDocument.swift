internal import TOMLKit
import Trajectories

/// TOML read into `JSONValue` (tables → objects, arrays → arrays, dates and times → their text). TOMLKit is
/// kept in this target alone: its operator and literal extensions would otherwise reach every file of the
/// module that imports it.
public enum TOMLDocument {
    /// A syntax error with its place in the text (1-based).
    public struct SyntaxError: Error, Sendable {
        public let line: Int
        public let column: Int
        public let message: String
    }

    public static func parse(_ text: String) throws -> JSONValue {
        do {
            return value(try TOMLTable(string: text))
        } catch let e as TOMLParseError {
            throw SyntaxError(line: e.source.begin.line, column: e.source.begin.column, message: e.description)
        }
    }

    static func value(_ v: TOMLValueConvertible) -> JSONValue {
        if let t = v.table {
            var o: [String: JSONValue] = [:]
            for k in t.keys { if let child = t[k] { o[k] = value(child) } }
            return .object(o)
        }
        if let a = v.array { return .array(a.map { value($0) }) }
        if let s = v.string { return .string(s) }
        if let b = v.bool { return .bool(b) }
        if let i = v.int { return .int(Int64(i)) }
        if let d = v.double { return .double(d) }
        return .string(v.debugDescription)
    }
}
