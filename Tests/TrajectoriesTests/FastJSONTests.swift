import Foundation
import Testing
@testable import Trajectories

/// The byte-level JSON reader and writer must agree with Foundation's exactly: the fast paths change
/// speed, never bytes. Real records (the sample corpus and every file in ../shared/data, imported and
/// written natively) and hand-made hard cases.
struct FastJSONTests {
    static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("pipelines/samples")

    /// Every trajectory the sample corpus and the shared data import to.
    static func realTrajectories() throws -> [Trajectory] {
        var out: [Trajectory] = []
        for name in ["part-01.jsonl", "part-02.jsonl"] {
            out += try Importers.importFile(path: Self.samples.appendingPathComponent(name).path, display: name).trajectories
        }
        for dir in ["trajectories", "spark"] {
            for rel in SharedData.files(under: dir) {
                if let r = try? Importers.importFile(path: SharedData.root.appendingPathComponent(rel).path, display: rel) {
                    out += r.trajectories
                }
            }
        }
        return out
    }

    @Test func encoderWritesFoundationsBytesForRealRecords() throws {
        let all = try Self.realTrajectories()
        if SharedData.available { #expect(all.count > 250) } else { _ = SharedData.path("trajectories") }
        var differing: [String] = []
        for t in all {
            let fast = try JSONCoding.encoder.encode(t)
            let reference = try JSONCoding.foundationEncoder.encode(t)
            if fast != reference { differing.append(t.id) }
        }
        #expect(differing.isEmpty, "\(differing.prefix(5))")
    }

    struct Odd: Encodable {
        var text: String
        var numbers: [Double]
        var float: Float
        var u64: UInt64 = .max
        var i32: Int32 = .min
        var u8: UInt8 = 255
        var i8s: [Int8] = [-128, 0, 127]
        var u: UInt = 7
        var ints: [Int: String]
        var data: Data
        var url: URL
        var date: Date
        var missing: String?
        var null: String??
        var nested: [String: [String: JSONValue]]
        var empty: Empty
        struct Empty: Encodable { func encode(to encoder: any Encoder) throws {} }
    }

    @Test func encoderWritesFoundationsBytesForHardValues() throws {
        var control = ""
        for u in 0..<0x80 { control.unicodeScalars.append(Unicode.Scalar(u)!) }
        control += "\u{2028}\u{2029}\u{FEFF}é😀 a/b \\ \" e\u{301}"
        var rng = SystemRandomNumberGenerator()
        var numbers: [Double] = [0, -0.0, 1, 0.1, 1e-7, 1e21, 1e16, 123456789.125, 5e-324, .greatestFiniteMagnitude, 100, 1e-6]
        for _ in 0..<2000 { numbers.append(Double(bitPattern: rng.next()).isFinite ? Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF) : 1) }
        for _ in 0..<200 { numbers.append(Double(Int.random(in: -1_000_000...1_000_000)) / 1000) }
        let odd = Odd(text: control, numbers: numbers, float: 0.1, ints: [3: "c", -1: "a", 10: "b"],
                      data: Data([0, 1, 2, 250, 255]), url: URL(string: "https://example.com/a b?c=d")!,
                      date: Date(timeIntervalSinceReferenceDate: 12345.678), missing: nil, null: .some(nil),
                      nested: ["e\u{301}z": ["f": .int(1)], "f": [:], "\u{e9}a": ["b": .array([.null, .bool(true), .double(2.5), .string("\t")])]],
                      empty: .init())
        let fast = try JSONCoding.encoder.encode(odd)
        let reference = try JSONCoding.foundationEncoder.encode(odd)
        #expect(String(decoding: fast, as: UTF8.self) == String(decoding: reference, as: UTF8.self))
        // Top-level fragments and non-finite numbers, as Foundation does them.
        #expect(try JSONCoding.encoder.encode("a\nb") == JSONCoding.foundationEncoder.encode("a\nb"))
        #expect(throws: EncodingError.self) { _ = try JSONCoding.encoder.encode([Double.nan]) }
        #expect(throws: EncodingError.self) { _ = try JSONCoding.encoder.encode(["x": Double.infinity]) }
    }

    @Test func fastReaderAgreesWithJSONDecoderOnRealRecords() throws {
        var fastHits = 0
        var lines = 0
        var disagreements: [String] = []
        func check(_ line: [UInt8], _ label: String) {
            lines += 1
            let fast = NativeFastDecoder.decode(line[...])
            let reference = try? JSONCoding.decoder.decode(Trajectory.self, from: Data(line))
            if let fast {
                fastHits += 1
                if fast != reference { disagreements.append(label) }
            }
        }
        // The sample corpus as written (including its malformed lines).
        for name in ["part-01.jsonl", "part-02.jsonl"] {
            let data = try Data(contentsOf: Self.samples.appendingPathComponent(name))
            for (k, line) in data.split(separator: 0x0A).enumerated() { check(Array(line), "\(name):\(k + 1)") }
        }
        // Every imported record of ../shared/data, written natively.
        for t in try Self.realTrajectories() { check(Array(try NativeWriter.line(t)), t.id) }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
        // The fast path is the one taken: every well-formed line goes through it.
        #expect(lines > 200 && fastHits >= lines - 10, "\(fastHits) of \(lines) lines read by the fast path")
    }

    @Test func fastReaderGivesUpOrAgreesOnHardCases() throws {
        let base = #"{"id":"a","task":"t","steps":[{"action":{"tool":"bash","input":X}}]}"#
        let inputs = [
            #"{"n":1.0}"#, #"{"n":1e2}"#, #"{"n":-0}"#, #"{"n":-0.0}"#, #"{"n":1.5}"#, #"{"n":10000000000000000000}"#,
            #"{"n":-9223372036854775808}"#, #"{"n":1e400}"#, #"{"n":123456789012345678.5}"#, #"{"n":01}"#, #"{"n":-}"#,
            #"{"s":"\u00e9\ud83d\ude00\n\t\"\\\/"}"#, #"{"s":"\ud800"}"#, #"{"s":"\udc00x"}"#, #"{"s":"a\u0000b"}"#,
            #"{"a":1,"a":2}"#, #"null"#, #"[1,2,]"#, #"{"a":[[[[[[[[[[1]]]]]]]]]]}"#, #"{"a" : [ true , false , null ] }"#,
            "{\"s\":\"raw\ttab\"}", "{\"s\":\"caf\u{e9}\"}", #"{"s":"nul\u0000x","d":-0.5,"e":123456789.25}"#,
        ]
        var cases = inputs.map { base.replacingOccurrences(of: "X", with: $0) }
        cases += [
            #"{"id":"","task":"t"}"#, #"{"id":"a"}"#, #"{"id":"a","task":"t","schema":"other/1"}"#,
            #"{"id":"a","task":"t","schema":null,"task_key":null,"attempt":null,"steps":null,"answer":null,"outcome":null,"source":null,"meta":null}"#,
            #"{"id":"a","task":"t","attempt":2.0}"#, #"{"id":"a","task":"t","attempt":"2"}"#,
            #"{"id":"a","task":"t","outcome":{"status":"bogus"}}"#, #"{"id":"a","task":"t","outcome":{"status":null,"reward":-0}}"#,
            #"{"id":"a","task":"t","outcome":{"reward":1e999}}"#, #"{"id":"a","task":"t","outcome":{"tests":{"passed":1}}}"#,
            #"{"id":"a","task":"t","outcome":{"reward":1e-400}}"#, #"{"id":"a","task":"t","outcome":{"reward":2.5e-324}}"#,
            #"{"id":"a","task":"t","outcome":{"reward":0e5}}"#, #"{"id":"a","task":"t","outcome":{"reward":0.25}}"#, #"{"id":"a","task":"t","meta":{"n":1e-400,"m":2e-324,"k":0.1e1}}"#,
            #"{"id":"a","task":"t","steps":[{"index":5},{"index":-1},{}]}"#, #"{"id":"a","task":"t","steps":[{"action":{"input":{}}}]}"#,
            #"{"id":"a","task":"t","steps":[{"observation":{"content":null,"exit_code":1,"is_error":1}}]}"#,
            #"{"id":"a","task":"t","source":{"format":"x","file":"f","line":3,"extra":[1]}}"#,
            #"{"id":"a","task":"t","unknown":{"deep":[1,{"x":"y"}]},"unknown2":1e5}"#,
            #"{"id":"a","task":"t"} x"#, #"  {"id":"a","task":"t"}  "#, #"{"id":"a","task":"t",}"#,
        ]
        var fastTaken = 0
        for c in cases {
            let bytes = Array(c.utf8)
            let reference = try? JSONCoding.decoder.decode(Trajectory.self, from: Data(bytes))
            if let fast = NativeFastDecoder.decode(bytes[...]) {
                fastTaken += 1
                #expect(fast == reference, "\(c)")
            }
        }
        // Invalid UTF-8 is left to the reader that repairs it.
        var bad = Array(#"{"id":"a","task":"x"#.utf8) + [0xFF] + Array(#""}"#.utf8)
        #expect(NativeFastDecoder.decode(bad[...]) == nil)
        bad.removeAll()
        // 19 of them are read by the fast path; it leaves errors, duplicate keys, trailing commas (which
        // JSONDecoder accepts), exponents, `2.0` for an integer field and 18-digit fractions to JSONDecoder.
        #expect(fastTaken == 19)
        // And the reader as a whole gives the same results and errors either way.
        for c in cases {
            let bytes = Array(c.utf8)[...]
            switch (NativeReader.decode(bytes, file: "f", line: 1), NativeReader.decodeWithFoundation(bytes, file: "f", line: 1)) {
            case (.trajectory(let a, let ra), .trajectory(let b, let rb)): #expect(a == b && ra == rb, "\(c)")
            case (.quarantined(let a), .quarantined(let b)): #expect(a == b, "\(c)")
            default: Issue.record("one reader read and the other quarantined: \(c)")
            }
        }
    }

    /// `JSONValue.parse` (the reader of every JSON-lines importer) gives what JSONDecoder gives, or nil
    /// where JSONDecoder fails too.
    @Test func valueParserAgreesWithJSONDecoder() throws {
        let docs = [
            #"{"n":1.0}"#, #"{"n":1e2}"#, #"{"n":-0}"#, #"{"n":-0.0}"#, #"{"n":1.5}"#, #"{"n":10000000000000000000}"#,
            #"{"n":-9223372036854775808}"#, #"{"n":1e400}"#, #"{"n":123456789012345678.5}"#, #"{"n":01}"#, #"{"n":-}"#,
            #"{"s":"\u00e9\ud83d\ude00\n\t\"\\\/"}"#, #"{"s":"\ud800"}"#, #"{"s":"a\u0000b"}"#,
            #"{"a":1,"a":2}"#, #"null"#, #"[1,2,]"#, #"{"a":[[[[[[[[[[1]]]]]]]]]]}"#, #"{"a" : [ true , false , null ] }"#,
            "{\"s\":\"raw\ttab\"}", "{\"s\":\"caf\u{e9}\"}", #"  [{"x":{}}, "y", 2.25]  "#, #"{"a":1} x"#, #""just text""#, "",
        ]
        for d in docs {
            let reference = try? JSONCoding.decoder.decode(JSONValue.self, from: Data(d.utf8))
            #expect(JSONValue.parse(d) == reference, "\(d)")
        }
    }
}
