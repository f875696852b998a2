import Foundation
import Testing
@testable import TrainingSets
import Trajectories

func call(_ tool: String, _ text: String) -> CheckedResponse.Call { .init(tool: tool, text: text) }

/// Every check with a response that passes it and one that fails it.
let checkCases: [(Check, CheckedResponse, CheckedResponse)] = {
    let plain = CheckedResponse(text: "Done.", calls: [], steps: 1)
    let edit = call("str_replace_editor", #"{"command":"str_replace","path":"a.py"}"#)
    return [
        (.codeBlock(language: "python"), .init(text: "x\n```python\nprint(1)\n```", calls: [], steps: 1), .init(text: "```bash\nls\n```", calls: [], steps: 1)),
        (.inlineCode, .init(text: "Edited `a.py`.", calls: [], steps: 1), plain),
        (.validJSON, .init(text: #"{"a": 1}"#, calls: [], steps: 1), .init(text: "{a: 1}", calls: [], steps: 1)),
        (.validJSON, .init(text: "```json\n[1, 2]\n```", calls: [], steps: 1), plain),
        (.bulletList, .init(text: "- one\n- two", calls: [], steps: 1), .init(text: "- only one", calls: [], steps: 1)),
        (.maxLines(2), .init(text: "a\n\nb", calls: [], steps: 1), .init(text: "a\nb\nc", calls: [], steps: 1)),
        (.maxWords(3), .init(text: "one two three", calls: [], steps: 1), .init(text: "one two three four", calls: [], steps: 1)),
        (.onlyTools(["bash"]), .init(text: "", calls: [call("bash", "ls")], steps: 1), .init(text: "", calls: [call("bash", "ls"), edit], steps: 2)),
        (.usesTool("bash"), .init(text: "", calls: [call("bash", "ls")], steps: 1), .init(text: "", calls: [edit], steps: 1)),
        (.maxToolCalls(1), .init(text: "", calls: [call("bash", "ls")], steps: 1), .init(text: "", calls: [call("bash", "ls"), call("bash", "pwd")], steps: 2)),
        (.testsAfterLastChange, .init(text: "", calls: [edit, call("bash", "python -m pytest -q")], steps: 2),
         .init(text: "", calls: [call("bash", "pytest -q"), edit], steps: 2)),
        (.mentions("report.json"), .init(text: "wrote report.json", calls: [], steps: 1), plain),
        (.noDestructiveCommands, .init(text: "", calls: [call("bash", "rm -rf ./build")], steps: 1),
         .init(text: "", calls: [call("bash", "git push --force origin main")], steps: 1)),
        (.noDestructiveCommands, .init(text: "", calls: [call("bash", "sqlite3 dev.db '.schema'")], steps: 1),
         .init(text: "", calls: [call("bash", "psql -c 'DROP TABLE users'")], steps: 1)),
        (.inspectsBeforeChanging, .init(text: "", calls: [call("bash", "cat a.py"), edit], steps: 2), .init(text: "", calls: [edit, call("bash", "cat a.py")], steps: 2)),
        (.verifiesAfterLastChange, .init(text: "", calls: [edit, call("bash", "cat a.py")], steps: 2), .init(text: "", calls: [call("bash", "cat a.py"), edit], steps: 2)),
        (.maxSteps(2), .init(text: "", calls: [], steps: 2), .init(text: "", calls: [], steps: 3)),
        (.maxSentences(2), .init(text: "One. Two.", calls: [], steps: 1), .init(text: "One. Two. Three.", calls: [], steps: 1)),
        (.containsNumber, .init(text: "12 tests pass", calls: [], steps: 1), plain),
    ]
}()

@Suite struct ConstraintCheckTests {
    @Test(arguments: 0..<checkCases.count)
    func eachCheckPassesAndFails(_ i: Int) {
        let (check, pass, fail) = checkCases[i]
        #expect(check.run(pass).passed, "\(check.id) should pass")
        #expect(!check.run(fail).passed, "\(check.id) should fail")
    }

    @Test func everyCheckKindIsCovered() {
        let ids = Set(checkCases.map(\.0.id))
        let all: [Check] = [.codeBlock(language: "x"), .inlineCode, .validJSON, .bulletList, .maxLines(1), .maxWords(1), .onlyTools([]),
                            .usesTool(""), .maxToolCalls(1), .testsAfterLastChange, .mentions(""), .noDestructiveCommands,
                            .inspectsBeforeChanging, .verifiesAfterLastChange, .maxSteps(1), .maxSentences(1), .containsNumber]
        #expect(ids == Set(all.map(\.id)))
        #expect(Set(all.map(\.category)) == Set(Constraint.Category.allCases))
    }

    @Test func checksRoundTripThroughJSON() throws {
        for (check, _, _) in checkCases {
            let c = Constraint(check, text: "t")
            let back = try JSONDecoder().decode(Constraint.self, from: JSONCoding.line(c))
            #expect(back == c)
        }
    }

    @Test func levelsGrowStrictlyAndAreSeeded() {
        let pool = [Constraint(.inlineCode, text: "a"), Constraint(.maxWords(9), text: "b"), Constraint(.usesTool("bash"), text: "c"),
                    Constraint(.mentions("x"), text: "d"), Constraint(.noDestructiveCommands, text: "e"), Constraint(.maxLines(3), text: "f"),
                    Constraint(.containsNumber, text: "g"), Constraint(.maxSteps(9), text: "h")]
        var g1 = SeededGenerator(seed: 1), g2 = SeededGenerator(seed: 1), g3 = SeededGenerator(seed: 99)
        let a = ConiferBuilder.levels(from: pool, count: 5, rng: &g1)
        #expect(a == ConiferBuilder.levels(from: pool, count: 5, rng: &g2))
        #expect(a.count == 5)
        #expect(Set(a[0].map(\.category)).count == a[0].count && (1...2).contains(a[0].count))
        for k in 1..<a.count {
            #expect(a[k].count > a[k - 1].count && a[k].count <= a[k - 1].count + 2)
            #expect(Array(a[k].prefix(a[k - 1].count)) == a[k - 1], "each level keeps the previous one")
        }
        let c = ConiferBuilder.levels(from: pool, count: 5, rng: &g3)
        #expect(c.map { $0.map(\.text) } != a.map { $0.map(\.text) })
        // A small pool stops early rather than repeating constraints.
        var g4 = SeededGenerator(seed: 1)
        #expect(ConiferBuilder.levels(from: Array(pool.prefix(2)), count: 5, rng: &g4).count <= 2)
    }
}
