import Foundation
import Testing
@testable import TrainingSets
import Trajectories

func call(_ tool: String, _ text: String) -> CheckedResponse.Call { .init(tool: tool, text: text) }
func answer(_ text: String) -> CheckedResponse { .init(text: text, calls: [], steps: 1) }

/// Every check with a response that passes it and one that fails it (expected verdicts read off the texts).
let checkCases: [(Check, CheckedResponse, CheckedResponse)] = {
    let edit = call("str_replace_editor", #"{"command":"str_replace","path":"a.py"}"#)
    return [
        (.includes(["cli.py"]), answer("Changed `indexer/cli.py` today."), answer("Changed the client.")),
        (.includes(["retries"]), answer("Added RETRIES."), answer("Added retriesx and xretries.")),
        (.excludes(["build"]), answer("The rebuild passed."), answer("The build passed.")),
        (.minWords(4), answer("one two three four"), answer("one two three")),
        (.maxWords(3), answer("one two three"), answer("one two three four")),
        (.sentences(2), answer("Edited `cli.py`. Tests pass with 3.5 s to spare"), answer("Edited `cli.py` and it works.")),
        (.sentences(3), answer("One. Two! Three?"), answer("One... Two.")),
        (.paragraphs(2), answer("First part.\n\n***\n\nSecond part."), answer("First part.\n\nSecond part.")),
        (.paragraphs(2), answer("First.\n***\nSecond."), answer("First.\n***\n***\nSecond.")),
        (.jsonKeys(["summary", "tools"]), answer("{\"tools\": [], \"summary\": \"x\"}"), answer("{\"summary\": \"x\"}")),
        (.jsonKeys(["summary"]), answer("  {\"summary\": \"x\"}\n"), answer("Here: {\"summary\": \"x\"}")),
        (.bullets(2), answer("Intro\n* one\n- two"), answer("* one\n* two\n* three")),
        (.sections(2), answer("SECTION 1\nA\n\nSECTION 2\nB"), answer("SECTION 1\nA\n\nSECTION 3\nB")),
        (.title, answer("<<Fix the parser>>\n\nDone."), answer("<Fix the parser>\n\nDone.")),
        (.codeBlock(language: "bash"), answer("Ran:\n```bash\npytest -q\n```"), answer("Ran:\n```python\nprint(1)\n```")),
        (.quoted, answer("\"All done.\""), answer("\"All done.")),
        (.lowercase, answer("edited `README.md` and `Makefile`."), answer("Edited `readme.md`.")),
        (.uppercase, answer("EDITED `cli.py`."), answer("EDITED `cli.py` today.")),
        (.startsWith("Done:"), answer("Done: edited it."), answer("I am done: edited it.")),
        (.endsWith("That is all."), answer("Edited it. That is all."), answer("That is all. Edited it.")),
        (.noCommas, answer("Edited a and b."), answer("Edited a, b.")),
        (.onlyTools(["bash"]), .init(text: "", calls: [call("bash", "ls")], steps: 1), .init(text: "", calls: [call("bash", "ls"), edit], steps: 2)),
        (.usesTool("bash"), .init(text: "", calls: [call("bash", "ls")], steps: 1), .init(text: "", calls: [edit], steps: 1)),
        (.maxToolCalls(1), .init(text: "", calls: [call("bash", "ls")], steps: 1), .init(text: "", calls: [call("bash", "ls"), call("bash", "pwd")], steps: 2)),
        (.testsAfterLastChange, .init(text: "", calls: [edit, call("bash", "python -m pytest -q")], steps: 2),
         .init(text: "", calls: [call("bash", "pytest -q"), edit], steps: 2)),
        (.noDestructiveCommands, .init(text: "", calls: [call("bash", "rm -rf ./build")], steps: 1),
         .init(text: "", calls: [call("bash", "git push --force origin main")], steps: 1)),
        (.noDestructiveCommands, .init(text: "", calls: [call("bash", "sqlite3 dev.db '.schema'")], steps: 1),
         .init(text: "", calls: [call("bash", "psql -c 'DROP TABLE users'")], steps: 1)),
        (.inspectsBeforeChanging, .init(text: "", calls: [call("bash", "cat a.py"), edit], steps: 2), .init(text: "", calls: [edit, call("bash", "cat a.py")], steps: 2)),
        (.verifiesAfterLastChange, .init(text: "", calls: [edit, call("bash", "cat a.py")], steps: 2), .init(text: "", calls: [call("bash", "cat a.py"), edit], steps: 2)),
        (.maxSteps(2), .init(text: "", calls: [], steps: 2), .init(text: "", calls: [], steps: 3)),
    ]
}()

/// Every check family, once.
let allChecks: [Check] = [.includes(["x"]), .excludes(["x"]), .minWords(1), .maxWords(1), .sentences(2), .paragraphs(2), .jsonKeys(["a"]),
                          .bullets(2), .sections(2), .title, .codeBlock(language: "bash"), .quoted, .lowercase, .uppercase, .startsWith("A"),
                          .endsWith("B"), .noCommas, .onlyTools([]), .usesTool(""), .maxToolCalls(1), .testsAfterLastChange,
                          .noDestructiveCommands, .inspectsBeforeChanging, .verifiesAfterLastChange, .maxSteps(1)]

@Suite struct ConstraintCheckTests {
    @Test(arguments: 0..<checkCases.count)
    func eachCheckPassesAndFails(_ i: Int) {
        let (check, pass, fail) = checkCases[i]
        #expect(check.run(pass).passed, "\(check.id) should pass: \(pass.text)")
        #expect(!check.run(fail).passed, "\(check.id) should fail: \(fail.text)")
    }

    @Test func everyCheckKindIsCoveredAndAnswerChecksFailOnEmptyAnswers() {
        #expect(Set(checkCases.map(\.0.id)) == Set(allChecks.map(\.id)))
        #expect(Set(allChecks.map(\.category)) == Set(Constraint.Category.allCases))
        for c in allChecks where c.isAnswerCheck { #expect(!c.run(answer("  \n")).passed, "\(c.id) passes an empty answer") }
    }

    @Test func checksRoundTripThroughJSON() throws {
        for (check, _, _) in checkCases {
            let c = Constraint(check, text: "t")
            let back = try JSONDecoder().decode(Constraint.self, from: JSONCoding.line(c))
            #expect(back == c)
        }
    }

    @Test func sentencesIgnoreCodeAndDecimals() {
        #expect(AnswerText.sentenceCount("Edited `cli.py` and `a.b.c`. Version 1.2 is out") == 2)
        #expect(AnswerText.sentenceCount("```\nx. y. z.\n```\nOne.") == 1)
        #expect(AnswerText.sentenceCount("Wait... what?! Yes.") == 3)
    }
}

/// A reference run written by hand: its answer, three files changed, a test run after the change.
func referenceRun(answer: String = "Added the `--retries` option to the indexer, documented it in the README and the tests pass.") -> Trajectory {
    Trajectory(id: "ref-1", task: "Add a --retries option to the indexer in indexer/cli.py and document it.", steps: [
        Step(index: 0, thought: "Look first.", action: Action(tool: "bash", input: .object(["command": .string("cat indexer/cli.py")]), command: "cat indexer/cli.py"),
             observation: Observation(content: "import argparse")),
        Step(index: 1, thought: "Add it.", action: Action(tool: "str_replace_editor", input: .object(["command": .string("str_replace"), "path": .string("indexer/cli.py"),
                                                                                                      "old_str": .string("a"), "new_str": .string("b")])),
             observation: Observation(content: "edited")),
        Step(index: 2, action: Action(tool: "str_replace_editor", input: .object(["command": .string("str_replace"), "path": .string("README.md"),
                                                                                  "old_str": .string("a"), "new_str": .string("b")])),
             observation: Observation(content: "edited")),
        Step(index: 3, action: Action(tool: "bash", input: .object(["command": .string("python -m pytest -q")]), command: "python -m pytest -q"),
             observation: Observation(content: "....\n4 passed in 0.21s\n")),
    ], answer: answer, outcome: Outcome(status: .success))
}

@Suite struct AnswerRendererTests {
    let facts = AnswerFacts(reference: referenceRun())
    var renderer: AnswerRenderer { AnswerRenderer(facts: facts) }

    @Test func factsComeFromTheRun() {
        #expect(facts.changed == ["indexer/cli.py", "README.md"])
        #expect(facts.checkCommand == "python -m pytest -q")
        #expect(facts.points.contains { $0.text == "`python -m pytest -q` reported `4 passed in 0.21s`." })
        #expect(facts.points.contains { $0.text.contains("`README.md`") && $0.kind == .change })
        // Code-like words of the answer are put in backticks.
        #expect(facts.baseline.first?.text.contains("`--retries`") == true)
    }

    /// Every answer family: the rendering meets the check, differs from the plain answer, and its spans are
    /// exact — removing their characters makes the check fail.
    @Test(arguments: [Check.includes(["4 passed in 0.21s"]), .excludes(["documented"]), .minWords(40), .maxWords(12), .sentences(3),
                      .paragraphs(2), .jsonKeys(["summary", "files_changed", "verification"]), .bullets(3), .sections(2), .title,
                      .codeBlock(language: "bash"), .quoted, .lowercase, .uppercase, .startsWith("Done:"), .endsWith("That is all."), .noCommas])
    func renderingMeetsTheCheckAndSpansAreExact(_ check: Check) throws {
        let plain = try #require(renderer.render([]))
        let text = try #require(renderer.render([check]), "cannot render \(check.id)")
        #expect(check.runOnAnswer(text).passed, "\(check.id): \(text)")
        #expect(text != plain, "\(check.id) did not change the answer")
        let spans = AnswerText.spans(of: check, in: text)
        #expect(!spans.isEmpty)
        let scalars = Array(text.unicodeScalars)
        var kept = String.UnicodeScalarView()
        for (k, s) in scalars.enumerated() where !spans.contains(where: { $0.start <= k && k < $0.end }) { kept.append(s) }
        #expect(!check.runOnAnswer(String(kept)).passed, "\(check.id): removing \(spans) leaves it passing")
    }

    @Test func combinedConstraintsAllHoldOrTheRenderingIsRefused() throws {
        let set: [Check] = [.bullets(3), .includes(["README.md"]), .endsWith("That is all."), .noCommas]
        let text = try #require(renderer.render(set))
        for c in set { #expect(c.runOnAnswer(text).passed, "\(c.id): \(text)") }
        // Impossible sets are refused, not rendered wrong.
        #expect(renderer.render([.includes(["nowhere-in-this-run"])]) == nil)
        #expect(renderer.render([.bullets(40)]) == nil)
        #expect(renderer.render([.minWords(30), .maxWords(10)]) == nil)
    }

    @Test func levelsGrowEachAddsAnAnswerConstraintAndAreSeeded() {
        let ref = referenceRun()
        var r1 = SeededGenerator(seed: 1), r2 = SeededGenerator(seed: 1), r3 = SeededGenerator(seed: 99)
        let pool = ConstraintMiner.pool(for: ref, facts: facts, rng: &r1)
        _ = ConstraintMiner.pool(for: ref, facts: facts, rng: &r2)
        var g1 = r1, g2 = r2
        let a = ConiferBuilder.levels(from: pool, count: 5, renderer: renderer, rng: &g1)
        #expect(a.map { $0.map(\.text) } == ConiferBuilder.levels(from: pool, count: 5, renderer: renderer, rng: &g2).map { $0.map(\.text) })
        #expect(a.count == 5)
        var answers: [String] = []
        for k in a.indices {
            if k > 0 {
                #expect(a[k].count > a[k - 1].count && a[k].count <= a[k - 1].count + 2)
                #expect(Array(a[k].prefix(a[k - 1].count)).map(\.text) == a[k - 1].map(\.text), "each level keeps the previous one")
            }
            #expect(a[k].contains { $0.check.isAnswerCheck })
            let text = renderer.render(a[k].map(\.check))
            #expect(text != nil)
            for c in a[k] where c.check.isAnswerCheck { #expect(c.check.runOnAnswer(text ?? "").passed) }
            answers.append(text ?? "")
        }
        #expect(Set(answers).count > 1, "the levels' answers never change")
        let pool3 = ConstraintMiner.pool(for: ref, facts: facts, rng: &r3)
        var g3 = r3
        #expect(ConiferBuilder.levels(from: pool3, count: 5, renderer: renderer, rng: &g3).map { $0.map(\.text) } != a.map { $0.map(\.text) })
    }
}

@Suite struct TargetHygieneTests {
    @Test func metaTextIsRemovedAndCounted() {
        let h = TargetHygiene()
        var n = 0
        #expect(h.clean("Attempt 3: the previous run did not pass verification. Find the flag.", removed: &n) == "Find the flag.")
        #expect(h.clean("[retry 2/5] Look again.", removed: &n) == "Look again.")
        #expect(h.clean("The previous attempt failed to pass the tests. Try the other branch.", removed: &n) == "Try the other branch.")
        #expect(n == 3)
        // Text about the task itself stays.
        #expect(h.clean("The first attempt at parsing uses regex; run 2 tests.", removed: &n) == "The first attempt at parsing uses regex; run 2 tests.")
        #expect(n == 3)
    }

    @Test func giveUpAnswersAreRecognised() {
        let h = TargetHygiene()
        for a in ["I could not finish: AssertionError", "Sorry, I was unable to fix the test.", "I couldn't complete this.", "Unable to complete the task.",
                  "I gave up after three tries."] {
            #expect(h.isGiveUp(a), "\(a)")
        }
        for a in ["I fixed the test; it could not fail now.", "Done: the parser no longer gives up on empty input.", "Updated `a.py`."] {
            #expect(!h.isGiveUp(a), "\(a)")
        }
        #expect(!TargetHygiene(removeMetaText: true, dropGiveUps: false).isGiveUp("I could not finish"))
    }
}
