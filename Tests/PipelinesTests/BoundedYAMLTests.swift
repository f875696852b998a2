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
}
