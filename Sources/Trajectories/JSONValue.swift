import Foundation

/// A JSON value of any shape: tool inputs and `meta` carry whatever the agent framework wrote.
///
/// Encoding is deterministic when the encoder sorts keys (every skillforge writer does).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var intValue: Int? {
        switch self {
        case .int(let i): return Int(i)
        case .double(let d) where d == d.rounded(): return Int(d)
        case .string(let s): return Int(s)
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .string(let s): return Double(s)
        default: return nil
        }
    }

    public var boolValue: Bool? {
        switch self {
        case .bool(let b): return b
        case .string(let s): return Bool(s.lowercased())
        default: return nil
        }
    }

    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// Applies `transform` to every string (not to object keys), depth first.
    public func mapStrings(_ transform: (String) -> String) -> JSONValue {
        switch self {
        case .string(let s): return .string(transform(s))
        case .array(let a): return .array(a.map { $0.mapStrings(transform) })
        case .object(let o): return .object(o.mapValues { $0.mapStrings(transform) })
        default: return self
        }
    }

    /// Visits every string value, depth first, in sorted key order.
    public func forEachString(_ body: (String) -> Void) {
        switch self {
        case .string(let s): body(s)
        case .array(let a): a.forEach { $0.forEachString(body) }
        case .object(let o): for key in o.keys.sorted() { o[key]!.forEachString(body) }
        default: break
        }
    }

    /// Compact JSON text with sorted keys (the form used for OpenAI `arguments` strings and hashing).
    public func canonicalJSON() -> String {
        let data = (try? JSONCoding.encoder.encode(self)) ?? Data("null".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let i = try? c.decode(Int64.self) { self = .int(i); return }
        if let d = try? c.decode(Double.self) { self = .double(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSONValue].self) { self = .array(a); return }
        if let o = try? c.decode([String: JSONValue].self) { self = .object(o); return }
        throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a JSON value")
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

/// The one JSON configuration every skillforge writer uses: sorted keys, no escaped slashes,
/// so that identical data always gives identical bytes.
public enum JSONCoding {
    /// Compact, sorted keys, unescaped slashes: the bytes of Foundation's `JSONEncoder` with
    /// `[.sortedKeys, .withoutEscapingSlashes]`, written faster (see `SortedJSONEncoder`).
    public static var encoder: SortedJSONEncoder { SortedJSONEncoder() }

    /// Foundation's encoder with the same settings as `encoder` (tests compare the two).
    public static var foundationEncoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    public static var prettyEncoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        return e
    }

    public static var decoder: JSONDecoder { JSONDecoder() }

    /// Encodes `value` as one compact line of JSON (no trailing newline).
    public static func line<T: Encodable>(_ value: T) throws -> Data {
        try encoder.encode(value)
    }

    /// Human-readable description of a decoding failure: `steps[2].action.tool: expected String`.
    public static func describe(_ error: any Error) -> String {
        guard let e = error as? DecodingError else {
            if let nsError = error as NSError?, let detail = nsError.userInfo[NSDebugDescriptionErrorKey] as? String {
                return "invalid JSON: \(detail)"
            }
            return "invalid JSON: \(error)"
        }
        func path(_ keys: [any CodingKey]) -> String {
            var out = ""
            for k in keys {
                if let i = k.intValue { out += "[\(i)]" } else { out += out.isEmpty ? k.stringValue : ".\(k.stringValue)" }
            }
            return out.isEmpty ? "record" : out
        }
        switch e {
        case .typeMismatch(let type, let ctx):
            return "\(path(ctx.codingPath)): expected \(typeName(type))"
        case .valueNotFound(let type, let ctx):
            return "\(path(ctx.codingPath)): expected \(typeName(type)), found null"
        case .keyNotFound(let key, let ctx):
            return "\(path(ctx.codingPath + [key])): required field is missing"
        case .dataCorrupted(let ctx):
            if ctx.codingPath.isEmpty {
                let underlying = (ctx.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
                return "invalid JSON: \(underlying ?? ctx.debugDescription)"
            }
            return "\(path(ctx.codingPath)): \(ctx.debugDescription)"
        @unknown default:
            return "\(e)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type: return "an integer"
        case is Double.Type: return "a number"
        case is Bool.Type: return "a boolean"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "a \(name)"
        }
    }
}
