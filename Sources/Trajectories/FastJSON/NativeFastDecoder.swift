import Foundation

/// Reads one native JSON Lines record straight from its bytes into a `Trajectory`, in one pass, each
/// string validated as UTF-8 once. It gives up (returns nil) on anything it is not sure it reads
/// exactly as the `Codable` path does — a type mismatch, a missing required field, a duplicate key,
/// a number that is not plainly an integer or a finite double, a lone surrogate, invalid UTF-8, bad
/// syntax — and the caller then decodes with `JSONDecoder`, which gives the canonical result or the
/// error with its path. So the fast path changes speed, never results; `NativeFastDecoderTests` and
/// the native fuzz target check that both paths agree.
public enum NativeFastDecoder {
    public static func decode(_ bytes: ArraySlice<UInt8>) -> Trajectory? {
        bytes.withUnsafeBufferPointer { buf in
            var p = Parser(buf)
            defer { p.scratch?.deallocate() }
            guard let t = try? p.trajectory() else { return nil }
            p.skipSpace()
            return p.i == buf.count ? t : nil
        }
    }
}

extension JSONValue {
    /// A JSON document read the way `JSONDecoder` reads it into a `JSONValue`, through the one-pass byte
    /// reader when it is sure of the result (see `NativeFastDecoder`), else through `JSONDecoder`; nil when
    /// the bytes are not JSON.
    public static func parse(_ bytes: ArraySlice<UInt8>) -> JSONValue? {
        parseFast(bytes) ?? (try? JSONCoding.decoder.decode(JSONValue.self, from: Data(bytes)))
    }

    /// The one-pass byte reader alone: nil where it is unsure (then `parse` asks `JSONDecoder`). A value it
    /// returns came from valid UTF-8 (every string is validated; everything else is ASCII syntax).
    public static func parseFast(_ bytes: ArraySlice<UInt8>) -> JSONValue? {
        bytes.withUnsafeBufferPointer { buf in
            var p = Parser(buf)
            defer { p.scratch?.deallocate() }
            guard let v = try? p.value() else { return nil }
            p.skipSpace()
            return p.i == buf.count ? v : nil
        }
    }

    public static func parse(_ text: String) -> JSONValue? { parse(ArraySlice(text.utf8)) }
}

private struct GiveUp: Error {}

private struct Parser {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0
    /// Where strings with escapes are unescaped (as long as the line; allocated at the first escape).
    var scratch: UnsafeMutablePointer<UInt8>?
    init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }

    @inline(__always) mutating func skipSpace() {
        while i < b.count {
            let c = b[i]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { return }
        }
    }

    @inline(__always) mutating func peek() throws -> UInt8 {
        skipSpace()
        guard i < b.count else { throw GiveUp() }
        return b[i]
    }

    @inline(__always) mutating func expect(_ c: UInt8) throws {
        guard try peek() == c else { throw GiveUp() }
        i += 1
    }

    mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { throw GiveUp() }
        for k in 0..<n where b[i + k] != word.utf8Start[k] { throw GiveUp() }
        i += n
    }

    /// `null` (consumed) or not.
    mutating func null() throws -> Bool {
        if try peek() == 0x6E { try literal("null"); return true }
        return false
    }

    /// The members of an object; `body` reads each value. Duplicate keys give up (JSONDecoder keeps
    /// the first for some types and not others).
    mutating func object(_ body: (inout Parser, String) throws -> Void) throws {
        try expect(0x7B)
        if try peek() == 0x7D { i += 1; return }
        var seen: [String] = []
        var seenSet: Set<String> = []
        while true {
            guard try peek() == 0x22 else { throw GiveUp() }
            let key = try string()
            if seen.count < 16 {
                guard !seen.contains(key) else { throw GiveUp() }
                seen.append(key)
                if seen.count == 16 { seenSet = Set(seen) }
            } else {
                guard seenSet.insert(key).inserted else { throw GiveUp() }
            }
            try expect(0x3A)
            try body(&self, key)
            let c = try peek()
            i += 1
            if c == 0x7D { return }
            guard c == 0x2C else { throw GiveUp() }
        }
    }

    mutating func array(_ body: (inout Parser) throws -> Void) throws {
        try expect(0x5B)
        if try peek() == 0x5D { i += 1; return }
        while true {
            try body(&self)
            let c = try peek()
            i += 1
            if c == 0x5D { return }
            guard c == 0x2C else { throw GiveUp() }
        }
    }

    /// Moves `i` to the next quote, backslash or control byte (or to the end), eight bytes at a time
    /// while none of the eight can be one of those.
    @inline(__always) mutating func skipPlain() {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        if let base = b.baseAddress {
            while i + 8 <= b.count {
                let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                let q = w ^ (ones &* 0x22), s = w ^ (ones &* 0x5C)
                // A high bit per byte that is zero in q (a quote), zero in s (a backslash) or below
                // 0x20 in w; never missing one.
                let hit = (((q &- ones) & ~q) | ((s &- ones) & ~s) | ((w &- ones &* 0x20) & ~w)) & highs
                if hit != 0 {
                    // The lowest flagged byte is always a real one (only bytes above a hit can be wrong).
                    i += hit.trailingZeroBitCount >> 3
                    return
                }
                i += 8
            }
        }
        while i < b.count {
            let c = b[i]
            if c == 0x22 || c == 0x5C || c < 0x20 { return }
            i += 1
        }
    }

    mutating func string() throws -> String {
        try expect(0x22)
        let start = i
        // The common case: no escapes.
        skipPlain()
        guard i < b.count, b[i] >= 0x20 else { throw GiveUp() }
        if b[i] == 0x22 {
            guard let s = String(validating: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self) else { throw GiveUp() }
            i += 1
            return s
        }
        // Escapes: the plain runs between them are copied whole into the scratch buffer (an unescaped
        // string is never longer than its escaped form, so the rest of the line always fits).
        if scratch == nil { scratch = .allocate(capacity: b.count) }
        let out = scratch!
        var n = 0
        var run = start
        while true {
            skipPlain()
            guard i < b.count else { throw GiveUp() }
            let c = b[i]
            if c < 0x20 { throw GiveUp() }
            if run < i {
                (out + n).update(from: b.baseAddress! + run, count: i - run)
                n += i - run
            }
            if c == 0x22 {
                i += 1
                guard let s = String(validating: UnsafeBufferPointer(start: out, count: n), as: UTF8.self) else { throw GiveUp() }
                return s
            }
            guard i + 1 < b.count else { throw GiveUp() }
            let e = b[i + 1]
            i += 2
            var plain: UInt8 = 0
            switch e {
            case 0x22, 0x5C, 0x2F: plain = e
            case 0x62: plain = 0x08
            case 0x66: plain = 0x0C
            case 0x6E: plain = 0x0A
            case 0x72: plain = 0x0D
            case 0x74: plain = 0x09
            case 0x75:
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard i + 1 < b.count, b[i] == 0x5C, b[i + 1] == 0x75 else { throw GiveUp() }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw GiveUp() }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw GiveUp()
                }
                guard let u = Unicode.Scalar(scalar) else { throw GiveUp() }
                for byte in UTF8.encode(u)! {
                    out[n] = byte
                    n += 1
                }
                run = i
                continue
            default:
                throw GiveUp()
            }
            out[n] = plain
            n += 1
            run = i
        }
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= b.count else { throw GiveUp() }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x61...0x66: d = c - 0x57
            case 0x41...0x46: d = c - 0x37
            default: throw GiveUp()
            }
            v = v << 4 | UInt32(d)
            i += 1
        }
        return v
    }

    /// A JSON number's text, checked against the grammar; `plain` when it has no fraction.
    mutating func numberText() throws -> (text: String, plain: Bool, digits: Int) {
        skipSpace()
        let start = i
        var digits = 0
        var plain = true
        if i < b.count, b[i] == 0x2D { i += 1 }
        guard i < b.count, (0x30...0x39).contains(b[i]) else { throw GiveUp() }
        if b[i] == 0x30 {
            i += 1
        } else {
            while i < b.count, (0x30...0x39).contains(b[i]) { i += 1; digits += 1 }
        }
        if i < b.count, b[i] == 0x2E {
            plain = false
            i += 1
            guard i < b.count, (0x30...0x39).contains(b[i]) else { throw GiveUp() }
            while i < b.count, (0x30...0x39).contains(b[i]) { i += 1; digits += 1 }
        }
        // Exponents are left to JSONDecoder: it has its own views on them (it refuses `0e5` but
        // reads `0e0`, refuses a double that underflows but reads it as the integer 0).
        if i < b.count, b[i] == 0x65 || b[i] == 0x45 { throw GiveUp() }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        return (text, plain, digits)
    }

    /// An integer field (Int): plain integers only; anything else is left to JSONDecoder.
    mutating func int() throws -> Int {
        let n = try numberText()
        guard n.plain, let v = Int(n.text) else { throw GiveUp() }
        return v
    }

    mutating func double() throws -> Double {
        let n = try numberText()
        guard let v = Double(n.text), v.isFinite else { throw GiveUp() }
        // A number too small for a double is left to JSONDecoder (which refuses it).
        if v == 0, n.text.contains(where: { ("1"..."9").contains($0) }) { throw GiveUp() }
        return v
    }

    mutating func bool() throws -> Bool {
        switch try peek() {
        case 0x74: try literal("true"); return true
        case 0x66: try literal("false"); return false
        default: throw GiveUp()
        }
    }

    mutating func optionalString() throws -> String? { try null() ? nil : string() }
    mutating func optionalInt() throws -> Int? { try null() ? nil : int() }

    /// Any JSON value, as `JSONValue.init(from:)` reads it: a number that is an integer (even written
    /// `1.0`) becomes `.int`, as `JSONDecoder` gives it to the `Int64` attempt first.
    mutating func value(depth: Int = 0) throws -> JSONValue {
        // Deeper documents are left to JSONDecoder, which bounds its own depth.
        guard depth < 100 else { throw GiveUp() }
        switch try peek() {
        case 0x22: return .string(try string())
        case 0x7B:
            var o: [String: JSONValue] = [:]
            try object { p, key in o[key] = try p.value(depth: depth + 1) }
            return .object(o)
        case 0x5B:
            var a: [JSONValue] = []
            try array { p in a.append(try p.value(depth: depth + 1)) }
            return .array(a)
        case 0x74, 0x66: return .bool(try bool())
        case 0x6E: try literal("null"); return .null
        default:
            let n = try numberText()
            if n.plain, let v = Int64(n.text) { return .int(v) }
            // Beyond 15 significant digits the exact-integer test below could differ from JSONDecoder's.
            guard n.plain || n.digits <= 15, let d = Double(n.text), d.isFinite else { throw GiveUp() }
            if !n.plain, let v = Int64(exactly: d) { return .int(v) }
            return .double(d)
        }
    }

    mutating func trajectory() throws -> Trajectory {
        var id: String?
        var task: String?
        var taskKey: String?
        var attempt: Int?
        var steps: [Step] = []
        var answer: String?
        var outcome = Outcome()
        var source: Source?
        var meta: [String: JSONValue] = [:]
        try object { p, key in
            switch key {
            case "schema":
                if let s = try p.optionalString(), s != nativeSchemaTag { throw GiveUp() }
            case "id": id = try p.string()
            case "task": task = try p.string()
            case "task_key": taskKey = try p.optionalString()
            case "attempt": attempt = try p.optionalInt()
            case "steps":
                if try !p.null() { try p.array { p in steps.append(try p.step()) } }
            case "answer": answer = try p.optionalString()
            case "outcome":
                if try !p.null() { outcome = try p.outcome() }
            case "source":
                if try !p.null() { source = try p.source() }
            case "meta":
                if try !p.null() { try p.object { p, k in meta[k] = try p.value() } }
            default:
                _ = try p.value()
            }
        }
        guard let id, !id.isEmpty, let task else { throw GiveUp() }
        for k in steps.indices where steps[k].index < 0 { steps[k].index = k }
        return Trajectory(id: id, task: task, taskKey: taskKey, attempt: attempt, steps: steps, answer: answer,
                          outcome: outcome, source: source, meta: meta)
    }

    mutating func step() throws -> Step {
        var step = Step(index: -1)
        try object { p, key in
            switch key {
            case "index": step.index = try p.optionalInt() ?? -1
            case "thought": step.thought = try p.optionalString()
            case "action": step.action = try p.null() ? nil : p.action()
            case "observation": step.observation = try p.null() ? nil : p.observation()
            case "timestamp": step.timestamp = try p.optionalString()
            default: _ = try p.value()
            }
        }
        return step
    }

    mutating func action() throws -> Action {
        var tool: String?
        var input = JSONValue.object([:])
        var command: String?
        var callID: String?
        try object { p, key in
            switch key {
            case "tool": tool = try p.string()
            case "input": if try !p.null() { input = try p.value() }
            case "command": command = try p.optionalString()
            case "call_id": callID = try p.optionalString()
            default: _ = try p.value()
            }
        }
        guard let tool else { throw GiveUp() }
        return Action(tool: tool, input: input, command: command, callID: callID)
    }

    mutating func observation() throws -> Observation {
        var content = ""
        var exitCode: Int?
        var isError: Bool?
        try object { p, key in
            switch key {
            case "content": content = try p.optionalString() ?? ""
            case "exit_code": exitCode = try p.optionalInt()
            case "is_error": isError = try p.null() ? nil : p.bool()
            default: _ = try p.value()
            }
        }
        return Observation(content: content, exitCode: exitCode, isError: isError)
    }

    mutating func outcome() throws -> Outcome {
        var o = Outcome()
        try object { p, key in
            switch key {
            case "status":
                guard let status = Outcome.Status(rawValue: try p.optionalString() ?? "unknown") else { throw GiveUp() }
                o.status = status
            case "reward": o.reward = try p.null() ? nil : p.double()
            case "tests":
                if try !p.null() {
                    var passed: Int?
                    var failed: Int?
                    var skipped = 0
                    try p.object { p, key in
                        switch key {
                        case "passed": passed = try p.int()
                        case "failed": failed = try p.int()
                        case "skipped": skipped = try p.int()
                        default: _ = try p.value()
                        }
                    }
                    guard let passed, let failed else { throw GiveUp() }
                    o.tests = TestCounts(passed: passed, failed: failed, skipped: skipped)
                }
            case "detail": o.detail = try p.optionalString()
            default: _ = try p.value()
            }
        }
        return o
    }

    mutating func source() throws -> Source {
        var format: String?
        var file: String?
        var line: Int?
        var offset: Int?
        try object { p, key in
            switch key {
            case "format": format = try p.string()
            case "file": file = try p.string()
            case "line": line = try p.optionalInt()
            case "offset": offset = try p.optionalInt()
            default: _ = try p.value()
            }
        }
        guard let format, let file else { throw GiveUp() }
        return Source(format: format, file: file, line: line, offset: offset)
    }
}
