import Foundation
import TestSupport
import Testing
@testable import Skills
import Trajectories

func bundle(_ front: String, body: String = "\n# Title\n\nDo the thing.\n", dir: String = "good-skill", files: [SkillBundle.File] = []) -> SkillBundle {
    var b = SkillBundle.parse(skillMD: Data(("---\n" + front + "\n---\n" + body).utf8), directoryName: dir)
    b.files = files
    return b
}

func checks(_ b: SkillBundle) -> Set<String> { Set(SurrogateVerifier().verify(b).errors.map(\.check)) }

let sharedSkills = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/data/skills")

@Suite struct SpecRuleTests {
    let ok = "name: good-skill\ndescription: Does the thing. Use when the thing is needed."

    @Test func aValidBundlePasses() { #expect(checks(bundle(ok)).isEmpty) }

    @Test(arguments: [
        ("name: Good_Skill\ndescription: d", "Good_Skill", "spec.name.format"),
        ("name: -good\ndescription: d", "-good", "spec.name.format"),
        ("name: good--skill\ndescription: d", "good--skill", "spec.name.format"),
        ("name: \(String(repeating: "a", count: 65))\ndescription: d", String(repeating: "a", count: 65), "spec.name.length"),
        ("name: other-name\ndescription: d", "good-skill", "spec.name.directory"),
        ("name: claude-helper\ndescription: d", "claude-helper", "quality.name.reserved"),
        ("description: d", "good-skill", "spec.name.missing"),
        ("name: good-skill", "good-skill", "spec.description.missing"),
        ("name: good-skill\ndescription: \"\"", "good-skill", "spec.description.empty"),
        ("name: good-skill\ndescription: \(String(repeating: "x", count: 1025))", "good-skill", "spec.description.length"),
        ("name: good-skill\ndescription: Use <tags> here", "good-skill", "quality.description.characters"),
        ("name: good-skill\ndescription: d\nversion: 2", "good-skill", "spec.keys"),
        ("name: good-skill\ndescription: d\ncompatibility: \(String(repeating: "c", count: 501))", "good-skill", "spec.compatibility.length"),
        ("name: good-skill\ndescription: d\nmetadata:\n  nested:\n    deep: x", "good-skill", "spec.metadata.type"),
    ])
    func eachRuleFails(front: String, dir: String, check: String) {
        #expect(checks(bundle(front, dir: dir)).contains(check), "\(check) for \(front.prefix(60))")
    }

    @Test func bodyRules() {
        #expect(checks(bundle(ok, body: "\n  \n")).contains("quality.body.empty"))
        let long = "\n" + (1...520).map { "line \($0)" }.joined(separator: "\n")
        #expect(checks(bundle(ok, body: long)).contains("quality.body.length"))
        #expect(!checks(bundle(ok, body: "\n" + (1...400).map { "line \($0)" }.joined(separator: "\n"))).contains("quality.body.length"))
    }

    @Test func frontmatterMustStartAtByteZero() {
        let bom = SkillBundle.parse(skillMD: Data([0xEF, 0xBB, 0xBF]) + Data("---\n\(ok)\n---\nbody\n".utf8), directoryName: "good-skill")
        #expect(checks(bom).contains("spec.frontmatter"))
        let late = SkillBundle.parse(skillMD: Data("\n---\n\(ok)\n---\nbody\n".utf8), directoryName: "good-skill")
        #expect(checks(late).contains("spec.frontmatter"))
        let unclosed = SkillBundle.parse(skillMD: Data("---\n\(ok)\nbody\n".utf8), directoryName: "good-skill")
        #expect(checks(unclosed).contains("spec.frontmatter"))
    }

    @Test func boundaryStructureAndImplementation() {
        let script = SkillBundle.File(path: "scripts/run.sh", data: Data("#!/usr/bin/env bash\necho hi\n".utf8), executable: true)
        #expect(checks(bundle(ok, body: "\nRun `scripts/run.sh`.\n", files: [script])).isEmpty)
        #expect(checks(bundle(ok, body: "\nNothing here.\n", files: [script])).contains("structure.unreferenced_script"))
        #expect(checks(bundle(ok, body: "\nSee [x](references/missing.md).\n")).contains("structure.missing_file"))
        var noMode = script; noMode.executable = false
        #expect(checks(bundle(ok, body: "\nRun scripts/run.sh.\n", files: [noMode])).contains("implementation.mode"))
        let noShebang = SkillBundle.File(path: "scripts/run.sh", data: Data("echo hi\n".utf8), executable: true)
        #expect(checks(bundle(ok, body: "\nRun scripts/run.sh.\n", files: [noShebang])).contains("implementation.shebang"))
        let broken = SkillBundle.File(path: "scripts/run.sh", data: Data("#!/usr/bin/env bash\nif then fi (\n".utf8), executable: true)
        #expect(checks(bundle(ok, body: "\nRun scripts/run.sh.\n", files: [broken])).contains("implementation.syntax"))
        let py = SkillBundle.File(path: "scripts/t.py", data: Data("#!/usr/bin/env python3\ndef f(:\n".utf8), executable: true)
        #expect(checks(bundle(ok, body: "\nRun scripts/t.py.\n", files: [py])).contains("implementation.syntax"))
        #expect(checks(bundle(ok, body: "\nUse AKIAZ7Q3M5XVB2N4P6RT.\n")).contains("boundary.secret"))
        #expect(!checks(bundle(ok, body: "\nUse AKIAIOSFODNN7EXAMPLE (the documentation's example key).\n")).contains("boundary.secret"))
        #expect(checks(bundle(ok, body: "\nOpen /home/alice/project/x.py.\n")).contains("boundary.absolute_path"))
        #expect(checks(bundle(ok, body: "\nCommit 9fceb02d0ae598e95dc970b74767f19372d61af8.\n")).contains("boundary.literal"))
    }

    /// What counts as a reference and as a copied path (issue 19 item 6), on the shapes real bundles use.
    @Test func modulesAndExamplePathsAreNotFindings() {
        let file = { (path: String, text: String, x: Bool) in SkillBundle.File(path: path, data: Data(text.utf8), executable: x) }
        // A module the entry script imports after adding scripts/ to the path: referenced, no shebang needed even with +x.
        let main = file("scripts/main.py", "#!/usr/bin/env python3\nimport sys\nfrom helpers import load\n", true)
        let helpers = file("scripts/helpers.py", "def load(path):\n    return open(path).read()\n", true)
        #expect(checks(bundle(ok, body: "\nRun `scripts/main.py INPUT`.\n", files: [main, helpers])).isEmpty)
        // Imported from SKILL.md's sample code, JavaScript require, python -m.
        #expect(checks(bundle(ok, body: "\n```python\nsys.path.insert(0, 'scripts')\nfrom helpers import load\n```\n", files: [helpers])).isEmpty)
        let js = file("scripts/util.js", "module.exports = {}\n", false)
        let entry = file("scripts/run.js", "#!/usr/bin/env node\nconst u = require('./util')\n", true)
        #expect(checks(bundle(ok, body: "\nRun scripts/run.js.\n", files: [js, entry])).isEmpty)
        #expect(checks(bundle(ok, body: "\nRun `python -m scripts.helpers`.\n", files: [helpers])).isEmpty)
        // Only a mention of the word, no import: still unreferenced. An executable module nobody imports needs #!.
        #expect(checks(bundle(ok, body: "\nThe helpers are handy.\n", files: [helpers])).contains("structure.unreferenced_script"))
        #expect(checks(bundle(ok, body: "\nRun scripts/helpers.py.\n", files: [helpers])).contains("implementation.shebang"))

        // Paths in sample calls, docstrings, comments and parameter defaults are examples.
        let defaults = file("scripts/tool.py", """
            #!/usr/bin/env python3
            \"\"\"Reads the repo (e.g. /home/github/build/failed/Org/repo).\"\"\"
            import os
            def find(base_path: str = '/home/travis/build/failed', out="/root/out.json"):
                # writes /root/answer.json
                return os.environ.get("BASE", "/home/ci/work")
            """, true)
        let sample = "\nRun scripts/tool.py.\n\n```python\nverify('/root/test.bib', '/root/answer.json')\n```\n"
        #expect(checks(bundle(ok, body: sample, files: [defaults])).isEmpty)
        // In prose, the agent is told to use that location: a finding, with the fix named.
        let prose = bundle(ok, body: "\n1. Discover the repository under `/home/travis/build/failed/`.\n")
        let finding = SurrogateVerifier().verify(prose).errors.first { $0.check == "boundary.absolute_path" }
        #expect(finding?.fix.contains("placeholder") == true)
        // Hard-coded in code (not a default): a warning, not an error.
        let fixed = file("scripts/run_all.py", "#!/usr/bin/env python3\nwith open('/root/system_config.json') as f:\n    pass\n", true)
        let r = SurrogateVerifier().verify(bundle(ok, body: "\nRun scripts/run_all.py.\n", files: [fixed]))
        #expect(r.passed && r.diagnoses.contains { $0.check == "boundary.hardcoded_path" && $0.severity == .warning })
    }

    @Test func writeThenReadKeepsTheBundle() throws {
        let script = SkillBundle.File(path: "scripts/run.sh", data: Data("#!/usr/bin/env bash\necho hi\n".utf8), executable: true)
        let b = bundle(ok + "\nmetadata:\n  author: me", body: "\nRun `scripts/run.sh`.\n", files: [script])
        let dir = try bundleDir()
        let written = try b.write(into: dir)
        let back = try SkillBundle.read(directory: written)
        #expect(back == b)
    }
}

func bundleDir() throws -> URL {
    try Scratch.directory("skills")
}

@Suite struct RefinerTests {
    @Test func brokenBundleIsRepairedInBoundedRounds() {
        let noMode = SkillBundle.File(path: "scripts/run.sh", data: Data("echo hi\n".utf8), executable: false)
        let hidden = SkillBundle.File(path: "scripts/other.sh", data: Data("#!/usr/bin/env bash\necho other\n".utf8), executable: true)
        let b = bundle("name: Bad_Name\ndescription: Use <this> \(String(repeating: "word ", count: 300))\nversion: 3",
                       body: "\nRun scripts/run.sh; see [gone](references/gone.md) and /home/bob/work/x.\n", dir: "Bad_Name",
                       files: [noMode, hidden])
        #expect(!SurrogateVerifier().verify(b).passed)
        let (fixed, outcome) = Refiner(maxRounds: 5).run(b)
        #expect(outcome.status == "verified", "\(outcome.reasons)")
        #expect(outcome.rounds.count <= 5)
        #expect(fixed.name == "bad-name" && fixed.directoryName == "bad-name")
        #expect(fixed.file("scripts/run.sh")?.executable == true && fixed.file("scripts/run.sh")?.text.hasPrefix("#!") == true)
        #expect(fixed.body.contains("scripts/other.sh"))
        #expect(!fixed.body.contains("/home/bob"))
        #expect(fixed.frontmatter.first { $0.key == "metadata" } != nil)
        #expect(outcome.rounds.first!.repairs.count >= 5)
    }

    @Test func unrepairableBundleIsRejectedWithReasons() {
        let broken = SkillBundle.File(path: "scripts/run.sh", data: Data("#!/usr/bin/env bash\nif then fi (\n".utf8), executable: true)
        let b = bundle("name: good-skill", body: "\nRun scripts/run.sh.\n", files: [broken])
        let (_, outcome) = Refiner(maxRounds: 5).run(b)
        #expect(outcome.status == "rejected")
        #expect(outcome.reasons.contains { $0.hasPrefix("implementation.syntax") })
        #expect(outcome.reasons.contains { $0.hasPrefix("spec.description.missing") })
        #expect(outcome.rounds.count <= 2)
    }
}

@Suite struct PDITests {
    @Test func psiOfIdenticalTextsIsOne() {
        #expect(abs(PDI.psi("run the tests then fix", "run the tests then fix") - 1) < 1e-12)
    }

    @Test func psiHasTheSmoothedLowerBound() {
        // Disjoint vocabularies: JS approaches ln 2, so ψ approaches 1 − ln 2 ≈ 0.3069 (slightly above, from α).
        let v = PDI.psi("alpha beta gamma", "delta epsilon zeta")
        #expect(v > 1 - log(2.0) && v < 0.33)
        #expect(abs(v - 0.3212305) < 1e-6, "3 vs 3 disjoint tokens, computed independently: \(v)")
        #expect(PDI.psi("x", "x") == 0, "fewer than two tokens in the union gives 0")
        #expect(PDI.psi("", "") == 0)
    }

    @Test func psiMatchesAHandComputedValue() {
        // P = {a: 2, b: 0}, Q = {a: 1, b: 1}, α = 0.002, V = 2:
        // p = (2.002/2.004, 0.002/2.004), q = (1.002/2.004, 1.002/2.004).
        let p = [2.002 / 2.004, 0.002 / 2.004], q = [1.002 / 2.004, 1.002 / 2.004]
        var js = 0.0
        for i in 0..<2 { let m = (p[i] + q[i]) / 2; js += 0.5 * p[i] * log(p[i] / m) + 0.5 * q[i] * log(q[i] / m) }
        #expect(abs(PDI.psi("a a", "a b") - (1 - js)) < 1e-12)
        #expect(abs((1 - js) - 0.7876376) < 1e-6)
    }

    @Test func zScoresWithZeroDeviationContributeNothing() {
        let pop = [PDI.Terms(exec: 0.9, plan: 0.5, oss: 0.2), PDI.Terms(exec: 0.7, plan: 0.5, oss: 0.2), PDI.Terms(exec: 0.5, plan: 0.5, oss: 0.2)]
        let idx = PDI.index(pop)
        // Only φ_exec varies: z = (x − 0.7)/σ with σ = sqrt(0.08/3).
        let sd = (0.08 / 3).squareRoot()
        #expect(abs(idx[0] - 0.2 / sd) < 1e-9 && abs(idx[1]) < 1e-9 && abs(idx[2] + 0.2 / sd) < 1e-9)
        #expect(PDI.index([PDI.Terms(exec: 1, plan: 1, oss: 1)]) == [0])
    }

    @Test func oscillationIsZeroWithOneAttemptAndCountsRepeatedErrors() {
        let fail = { (id: String, a: Int) in
            Trajectory(id: id, task: "t", taskKey: "k", attempt: a,
                       steps: [Step(index: 0, action: Action(tool: "bash", command: "make"), observation: Observation(content: "error: missing tools.jar", exitCode: 1))],
                       outcome: Outcome(status: .failure))
        }
        #expect(PDI.oscillation([fail("a", 1)]) == 0)
        let o = PDI.oscillation([fail("a", 1), fail("b", 2)])
        #expect(abs(o - 1) < 1e-9, "identical facts (ψ = 1) and identical errors (Jaccard 1): \(o)")
    }
}

@Suite struct RealBundleTests {
    /// The verifier's errors for each real bundle, set by reading the bundles.
    /// The verifier's errors for each real bundle, set by reading the bundles (issue 19 item 6: scripts
    /// imported as modules are referenced and need no shebang; absolute paths in sample code, docstrings and
    /// parameter defaults are examples, not copied answers).
    static let expected: [String: Set<String>] = [
        // /root/test.bib only as an argument in SKILL.md's sample code.
        "coevoskills/skills/citation-check/evo-citation-checker": [],
        // Seven executable .py files without #!: all imported modules (`from main import …`, `from hex_utils import …`).
        "coevoskills/skills/civ6-adjacency-optimizer/evo-civ6-adjacency": [],
        // utils.py imported by SKILL.md's sample; /home/github/build/failed in sample calls and a docstring.
        "coevoskills/skills/fix-build-agentops/evo-python-build-fixer": [],
        // True: step 1 of the prose tells the agent to "Discover the repository under `/home/travis/build/failed/`".
        "coevoskills/skills/fix-build-google-auto/evo-java-build-fixer": ["boundary.absolute_path"],
        "coevoskills/skills/quantum-numerical-simulation/evo-dicke-wigner": [],  // utils.py imported by SKILL.md
        // True: run_all.py starts with #! but lost its run bit (its fixed /root paths are a warning).
        "coevoskills/skills/r2r-mpc-control/evo-r2r-mpc": ["implementation.mode"],
        "coevoskills/skills/speaker-diarization-subtitles/evo-diarization": [],
        "coevoskills/skills/spring-boot-jakarta-migration/evo-spring-boot-migration": [],
        "coevoskills/skills/syzkaller-ppdev-syzlang/syzkaller-ppdev-syzlang": [],  // folded description block
        // True: nothing names, imports or runs scripts/utils.js (SKILL.md only says to "inspect scripts/").
        "coevoskills/skills/threejs-structure-parser/evo-threejs-parser": ["structure.unreferenced_script"],
        "coevoskills/skills/trend-anomaly-causal-inference/evo-ecommerce-anomaly": [],
        "anthropics-skills/skills/mcp-builder": ["boundary.secret"],  // "Bearer token123" examples (redaction look-alike)
        "anthropics-skills/skills/skill-creator": [],  // its scripts import each other (`from scripts.utils import …`)
        "anthropics-skills/skills/webapp-testing": [],
        "anthropics-skills/template": ["spec.name.directory"],  // name template-skill in folder template
    ]

    static var available: Bool {
        if FileManager.default.fileExists(atPath: sharedSkills.path) { return true }
        if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("CI=true but \(sharedSkills.path) is missing") }
        else { print("NOTICE: skipping real-bundle tests: \(sharedSkills.path) is not present") }
        return false
    }

    @Test(arguments: expected.keys.sorted())
    func findingsPerRealBundle(_ rel: String) throws {
        guard Self.available else { return }
        let b = try SkillBundle.read(directory: sharedSkills.appendingPathComponent(rel))
        #expect(checks(b) == Self.expected[rel]!, "\(rel)")
    }

    @Test func specGatesAgreeWithTheReferenceValidator() throws {
        guard Self.available else { return }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["agentskills", "--version"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        try? probe.run()
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("CI=true but agentskills (PyPI skills-ref) is not installed") }
            else { print("NOTICE: skipping the agentskills conformance test: pip install skills-ref") }
            return
        }
        for rel in Self.expected.keys.sorted() {
            let dir = sharedSkills.appendingPathComponent(rel)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["agentskills", "validate", dir.path]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            let ours = SurrogateVerifier().specErrors(try SkillBundle.read(directory: dir)).isEmpty
            #expect(ours == (p.terminationStatus == 0), "\(rel): skillforge spec gates \(ours ? "pass" : "fail"), agentskills exit \(p.terminationStatus)")
        }
    }
}

@Suite struct AlignmentTests {
    /// The bit-parallel LCS length used to choose a family's medoid equals the length of the
    /// table-filled alignment, across word boundaries (63, 64, 65, 128, 200 steps) and alphabets.
    @Test func bitParallelLCSEqualsTheTable() {
        var rng = SystemRandomNumberGenerator()
        var compared = 0
        var nonzero = 0
        for n in [0, 1, 2, 5, 31, 63, 64, 65, 100, 128, 129, 200] {
            for m in [0, 1, 3, 63, 64, 65, 127, 128, 129, 200] {
                for symbols in [1, 2, 4, 30] {
                    let a = (0..<n).map { _ in Int32.random(in: 0..<Int32(symbols), using: &rng) }
                    let b = (0..<m).map { _ in Int32.random(in: 0..<Int32(symbols), using: &rng) }
                    let fast = Distiller.lcsLength(a, b, symbols: symbols)
                    #expect(fast == Distiller.align(a, b).count, "n=\(n) m=\(m) symbols=\(symbols)")
                    #expect(fast == Distiller.lcsLength(b, a, symbols: symbols))
                    compared += 1
                    if fast > 0 { nonzero += 1 }
                }
            }
        }
        #expect(compared == 480 && nonzero > 300)
    }
}

@Suite struct LeaveOneOutTests {
    /// The held-out procedures verification replays (one per run, from the family's support counts)
    /// are exactly the procedures distilled from the family without that run.
    @Test func heldOutProceduresEqualDistillingWithoutTheRun() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var runs: [Trajectory] = []
        for name in ["part-01.jsonl", "part-02.jsonl"] {
            runs += try NativeReader.read(path: root.appendingPathComponent("pipelines/samples/\(name)").path).trajectories
        }
        let distiller = Distiller(options: .init())
        var compared = 0
        for f in distiller.families(runs) where f.successes.count >= 3 {
            let family = Distiller.FamilyAlignment(f.successes)
            var support: [Int: [Int]] = [:]
            for excluded in [Set<String>(), Set(family.seqs[0].prefix(1))] {
                for k in f.successes.indices {
                    let fast = distiller.heldOutProcedure(family, leavingOut: k, excluding: excluded, support: &support)
                    let slow = distiller.procedure(f.successes, leavingOut: k, excluding: excluded).map(\.template)
                    #expect(fast == slow, "\(f.successes[k].id)")
                    if !fast.isEmpty { compared += 1 }
                }
            }
        }
        #expect(compared > 30, "\(compared)")
    }

    /// In a family of more than 65 runs, the medoid without run k is the documented choice — among the
    /// first 32 of the first 65 runs but k, the one with the longest common subsequences with the first 64
    /// of them — whether k is among those runs or not (a run past them changes nothing, and is not recomputed).
    @Test func medoidsOfALargeFamilyFollowTheRule() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let base = try NativeReader.read(path: root.appendingPathComponent("pipelines/samples/part-01.jsonl").path).trajectories
            .filter { $0.outcome.status == .success && $0.steps.count >= 4 }
        try #require(!base.isEmpty)
        var g = SeededGenerator(seed: 3)
        var runs: [Trajectory] = []
        for i in 0..<90 {
            var t = base[i % base.count]
            t.id = "run-\(i)"
            // Drop a step or two, so that the runs differ in how much they share.
            for _ in 0..<g.below(3) where t.steps.count > 2 { t.steps.remove(at: g.below(t.steps.count)) }
            runs.append(t)
        }
        let family = Distiller.FamilyAlignment(runs)
        func rule(_ k: Int?) -> Int {
            let members = Array(runs.indices.prefix(65).filter { $0 != k })
            var best = members[0], bestScore = -1
            for i in members.prefix(32) {
                let score = members.prefix(64).reduce(0) { $0 + ($1 == i ? 0 : family.length(i, $1)) }
                if score > bestScore { bestScore = score; best = i }
            }
            return best
        }
        var distinct = Set<Int>()
        for k in [nil] + runs.indices.map(Optional.some) {
            let m = family.medoid(leavingOut: k)
            #expect(m == rule(k), "leaving out \(k.map(String.init) ?? "none")")
            distinct.insert(m)
        }
        #expect(distinct.count >= 2, "leaving out the medoid itself must pick another")
    }
}

/// The line a pitfall quotes from a failed step's observation: the first that mentions an error within
/// the first and the last 16 KiB, else the last line.
@Suite struct ErrorLineTests {
    let filler = String(repeating: "collecting tests ... ok\n", count: 800)  // 19.2 KB

    @Test func anErrorNearTheEndOfAMidSizedObservationIsFound() {
        // 16–32 KiB: read whole (it used to stop at 16 KiB and quote the filler's last line).
        #expect(Distiller.errorLine(filler + "E   AssertionError: expected 3, got 4\ntail\n") == "E   AssertionError: expected 3, got 4")
    }

    @Test func longObservationsAreReadAtBothEndsOnly() {
        let long = filler + filler  // 38.4 KB
        #expect(Distiller.errorLine("fatal: not a git repository\n" + long + "done") == "fatal: not a git repository")
        #expect(Distiller.errorLine(long + "Traceback (most recent call last):\n  x") == "Traceback (most recent call last):")
        // In the middle, past both ends: not read; the last line stands in.
        let middle = filler + "permission denied\n" + filler
        #expect(Distiller.errorLine(middle + "last line") == "last line")
        #expect(Distiller.errorLine("  one\n\n  two  \r\n") == "two")
        #expect(Distiller.errorLine("") == nil)
    }
}

@Suite struct PDITokenTests {
    /// PDI's ASCII tokenizer gives exactly what splitting the lower-cased characters gives.
    @Test func asciiTokensEqualCharacterTokens() {
        var g = SeededGenerator(seed: 9)
        // Line feeds next to carriage returns, combining marks (U+0345 is alphabetic) and non-ASCII
        // letters: non-ASCII texts are tokenized line by line.
        let pieces = ["Error", "_x", "42", " ", "\r\n", "\n", "\r", "\t", "-", "A_B9", "ZZ", "(", ")", "__", "é", "ß", "東京", "\u{301}",
                      "\u{345}", "İ", "x", "\n\n"]
        var ascii = 0
        for _ in 0..<3000 {
            let text = (0..<g.below(30)).map { _ in pieces[g.below(pieces.count)] }.joined()
            #expect(PDI.tokens(text) == PDI.characterTokens(text), "\(text.debugDescription)")
            if PDI.asciiTokens(text) != nil { ascii += 1 }
        }
        #expect(ascii > 100)
    }

    /// Task words of ASCII tasks, byte by byte, are what the character path gives.
    @Test func asciiTaskWordsEqualCharacterTaskWords() {
        var g = SeededGenerator(seed: 10)
        let printable = (0x20...0x7E).map { String(UnicodeScalar(UInt8($0))) }
        let pieces = printable + ["the", "Fix", "failure", "tests/x.py", "v1.2", "--flag", "snake_case", "\t", "\n", "\r\n", "\u{0B}", "\u{0C}",
                                  "\u{1C}", "(case", "42)", "\"quoted\"", "[x]", "{y}"]
        for _ in 0..<3000 {
            let task = (0..<g.below(25)).map { _ in pieces[g.below(pieces.count)] + (g.below(3) == 0 ? " " : "") }.joined()
            #expect(Distiller.asciiTaskWords(task) == Distiller.characterTaskWords(task), "\(task.debugDescription)")
        }
        #expect(Distiller.asciiTaskWords("naïve fix") == nil)
        #expect(Distiller.taskWords("Fix the naïve parser") == Distiller.characterTaskWords("Fix the naïve parser"))
    }
}
