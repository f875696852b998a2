import BoundedYAML
import Foundation
import Testing
@testable import Pipelines

/// Hostile YAML is refused by the event walk before anything is built: alias bombs and deep nesting,
/// each at and over its bound.
struct BoundedYAMLTests {
    /// `levels` levels of nine aliases each: 9^levels scalars once expanded, from a few hundred bytes.
    static func laughs(levels: Int) -> String {
        var y = "a0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n"
        for i in 1...levels {
            let refs = Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", ")
            y += "a\(i): &a\(i) [\(refs)]\n"
        }
        return y
    }

    @Test func billionLaughsIsRefusedWithItsLine() throws {
        let bomb = Self.laughs(levels: 9)  // 9^10 ≈ 3.5 billion nodes
        #expect(bomb.utf8.count < 1000)
        #expect {
            try BoundedYAML.check(bomb)
        } throws: { e in
            let e = e as! BoundedYAML.LimitError
            return e.message.contains("more than 1000000 nodes") && e.line <= 10
        }
        // As a pipeline file: a located diagnostic, not a hang.
        #expect {
            _ = try PipelineLoader.parse(yaml: "version: 1\nname: x\n" + bomb, file: "p.yaml", baseDirectory: "/tmp", checkPaths: false)
        } throws: { e in
            let d = (e as! SpecError).diagnostics
            return d.count == 1 && d[0].message.contains("expands to more than") && d[0].file == "p.yaml"
        }
    }

    @Test func nodeLimitAtAndOver() throws {
        let limits = BoundedYAML.Limits(maxDepth: 128, maxNodes: 1000)
        // A list of n scalars is n + 1 nodes (the list itself).
        let at = "[" + Array(repeating: "x", count: 999).joined(separator: ",") + "]"
        let over = "[" + Array(repeating: "x", count: 1000).joined(separator: ",") + "]"
        try BoundedYAML.check(at, limits: limits)
        #expect(throws: BoundedYAML.LimitError.self) { try BoundedYAML.check(over, limits: limits) }
        // Aliases count as what they expand to: 2 x (1 + 500) + 1 > 1000.
        let aliased = "a: &a [" + Array(repeating: "x", count: 500).joined(separator: ",") + "]\nb: *a\n"
        #expect(throws: BoundedYAML.LimitError.self) { try BoundedYAML.check(aliased, limits: limits) }
    }

    @Test func nestingAtAndOverTheBound() throws {
        let atBound = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        try BoundedYAML.check(atBound)
        #expect(try BoundedYAML.compose(atBound) != nil)
        let over = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        #expect(throws: BoundedYAML.LimitError.self) { try BoundedYAML.check(over) }
        // A million open brackets (unterminated): libyaml's scanner stops at its own nesting limit
        // (1000) before the parser is asked for the 129th level; either way it is an error, not a crash.
        let deep = String(repeating: "[", count: 1_000_000)
        #expect(throws: (any Error).self) { _ = try BoundedYAML.compose(deep) }
        // Block style nests too: "- - - - x".
        let dashes = String(repeating: "- ", count: 200) + "x\n"
        #expect(throws: BoundedYAML.LimitError.self) { try BoundedYAML.check(dashes) }
    }

    @Test func ordinaryDocumentsAndSyntaxErrorsAreLeftAlone() throws {
        // Anchors used normally stay well inside the bounds.
        try BoundedYAML.check("defaults: &d {a: 1, b: 2}\none: *d\ntwo: *d\n")
        // Syntax errors are reported by Yams with its own words and position.
        #expect(throws: (any Error).self) { _ = try BoundedYAML.compose("a: [1, 2\nb: 3") }
        try BoundedYAML.check("a: [1, 2\nb: 3")
    }

    /// Found by the spec fuzzer in CI: Yams reads base-60 plain scalars (`1:30`) as numbers and
    /// multiplies their digits without overflow checks, so twelve groups crashed the process. Base 60
    /// is no longer a number (as in YAML 1.2); decimal, hex, octal and binary numbers still are.
    @Test func baseSixtyScalarsAreStringsNotACrash() throws {
        let huge = "1:0:0:0:0:0:0:0:0:0:0:0"
        let any = try BoundedYAML.load("a: \(huge)\nb: 1:30\nc: 12\nd: 0x1f\ne: 1.5\nf: 1:30.5\ng: .inf\n") as? [String: Any]
        #expect(any?["a"] as? String == huge)
        #expect(any?["b"] as? String == "1:30")
        #expect(any?["c"] as? Int == 12)
        #expect(any?["d"] as? Int == 31)
        #expect(any?["e"] as? Double == 1.5)
        #expect(any?["f"] as? String == "1:30.5")
        #expect(any?["g"] as? Double == .infinity)
        // Explicit tags go through the same checked conversion; a key that is not a scalar is an error.
        let tagged = try BoundedYAML.load("a: !!int \(huge)\nb: !!int 077\nc: !!float x\nd: 2001-12-14t21:59:43.10-05:00\n") as? [String: Any]
        #expect(tagged?["a"] as? String == huge)
        #expect(tagged?["b"] as? Int == 63)
        #expect(tagged?["c"] as? String == "x")
        #expect(tagged?["d"] as? String == "2001-12-14t21:59:43.10-05:00")
        #expect {
            _ = try BoundedYAML.load("a: 1\n? [x, y]\n: z\n")
        } throws: { e in
            let e = e as! BoundedYAML.ShapeError
            return e.line == 2 && e.message.contains("must be a scalar")
        }
        // Merge keys: keys written in the mapping win over merged ones.
        let merged = try BoundedYAML.load("d: &d {a: 1, b: 2}\ne: {<<: *d, b: 3}\n") as? [String: Any]
        let e = merged?["e"] as? [String: Any]
        #expect(e?["a"] as? Int == 1 && e?["b"] as? Int == 3 && e?.count == 2)
        #expect(throws: BoundedYAML.ShapeError.self) { _ = try BoundedYAML.load("e: {<<: 1}\n") }
        // In a pipeline: a located error that calls it a string, not a crash.
        #expect {
            _ = try PipelineLoader.parse(yaml: "version: \(huge)\ninputs: []\noutputs: {}\n", file: "p.yaml", baseDirectory: "/tmp", checkPaths: false)
        } throws: { e in
            let d = (e as! SpecError).diagnostics
            return d.contains { $0.line == 1 && $0.column == 10 && $0.message == "'version' must be an integer, found the string '\(huge)'" }
        }
        // What the fuzzer found: a whole document that is one such scalar.
        #expect {
            _ = try PipelineLoader.parse(yaml: huge + "\n", file: "p.yaml", baseDirectory: "/tmp", checkPaths: false)
        } throws: { e in
            (e as! SpecError).diagnostics.map(\.message) == ["the pipeline must be a mapping, found the string '\(huge)'"]
        }
    }
}
