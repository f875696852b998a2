import Foundation
import Testing
@testable import Engine
import Pipelines
import Skills
import Trajectories

@Suite(.serialized) struct SkillsBuildTests {
    func agentskillsAvailable() -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["agentskills", "--version"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try? p.run()
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    @Test func sampleCorpusSkillsAreVerifiedGroundedAndValid() throws {
        let base = try scratch("skills")
        let yaml = """
            version: 1
            name: skills-test
            inputs:
              - path: \(repoRoot.path)/pipelines/samples/part-*.jsonl
                outcomes: \(repoRoot.path)/pipelines/samples/outcomes.jsonl
            outputs:
              skills: {style: skills, min_support: 2, curated: \(repoRoot.path)/skills}
            """
        try Data(yaml.utf8).write(to: base.appendingPathComponent("p.yaml"))
        let out = base.appendingPathComponent("out")
        let r = try BuildRunner(options: .init(outDirectory: out)).run(try PipelineLoader.load(path: base.appendingPathComponent("p.yaml").path))
        #expect(r.skills != nil)
        let index = try JSONDecoder().decode([SkillSetBuilder.Entry].self, from: Data(contentsOf: out.appendingPathComponent("skills/index.json")))
        let distilled = index.filter { $0.source == "distilled" }
        #expect(distilled.count >= 5)
        #expect(index.filter { $0.source == "curated" }.map(\.status) == ["verified", "verified", "verified"])
        let corpus = try NativeReader.read(path: repoRoot.appendingPathComponent("pipelines/samples/part-01.jsonl").path).trajectories
            + NativeReader.read(path: repoRoot.appendingPathComponent("pipelines/samples/part-02.jsonl").path).trajectories
        let steps = Dictionary(corpus.map { ($0.id, Set($0.steps.map(\.index))) }, uniquingKeysWith: { a, _ in a })
        let citation = try NSRegularExpression(pattern: #"`([\w.-]+)` step (\d+)"#)
        for e in distilled {
            let dir = out.appendingPathComponent("skills/\(e.name)")
            let record = try JSONDecoder().decode(VerificationRecord.self, from: Data(contentsOf: dir.appendingPathComponent("verification.json")))
            #expect(["verified", "rejected"].contains(record.status))
            if record.status == "rejected" { #expect(!record.reasons.isEmpty) }
            #expect(record.terms != nil && record.pdi != nil)
            // Every citation in the evidence names a real trajectory step.
            let evidence = try String(contentsOf: dir.appendingPathComponent("references/evidence.md"), encoding: .utf8)
            let ns = evidence as NSString
            let matches = citation.matches(in: evidence, range: NSRange(location: 0, length: ns.length))
            #expect(!matches.isEmpty)
            for m in matches {
                let id = ns.substring(with: m.range(at: 1)), step = Int(ns.substring(with: m.range(at: 2)))!
                #expect(steps[id]?.contains(step) == true, "\(e.name): \(id) step \(step)")
            }
            // No instance-specific ids or secrets leak into the bundle.
            let bundle = try SkillBundle.read(directory: dir)
            #expect(!SurrogateVerifier().verify(bundle).diagnoses.contains { $0.category == .boundary })
        }
        // The reference validator accepts every bundle skillforge verified.
        guard agentskillsAvailable() else {
            if isCI { Issue.record("CI=true but agentskills (PyPI skills-ref) is not installed") }
            else { print("NOTICE: skipping agentskills validation of distilled bundles: pip install skills-ref") }
            return
        }
        for e in index where e.status == "verified" {
            let dir = e.source == "curated" ? repoRoot.appendingPathComponent("skills/\(e.name)") : out.appendingPathComponent("skills/\(e.name)")
            let (status, output) = try run("/usr/bin/env", ["agentskills", "validate", dir.path])
            #expect(status == 0, "\(e.name): \(output)")
        }
    }

    /// PDI for every SPARK run that ships a SKILL.md, each scored against its own run, z-scored together.
    @Test func sparkSkillsPDITable() throws {
        guard let spark = sharedData("spark", for: "the SPARK PDI table") else { return }
        var rows: [(String, PDI.Terms)] = []
        for task in try FileManager.default.contentsOfDirectory(atPath: spark.path).sorted() {
            let dir = spark.appendingPathComponent(task)
            guard let skill = try? String(contentsOf: dir.appendingPathComponent("SKILL.md"), encoding: .utf8) else { continue }
            let runs = try Importers.importFile(path: dir.appendingPathComponent("trajectory.jsonl").path, display: task).trajectories
            rows.append((task, PDI.terms(skill: skill, successes: runs.filter { $0.outcome.status == .success }, attempts: runs)))
        }
        #expect(rows.count == 9)
        let pdi = PDI.index(rows.map(\.1))
        print("SPARK PDI table (task, phi_exec, phi_plan, phi_oss, PDI):")
        for (i, (task, t)) in rows.enumerated() {
            print(String(format: "  %-32@ %.4f %.4f %.4f %+.3f", task as NSString, t.exec, t.plan, t.oss, pdi[i]))
            #expect(t.exec >= 0.3 && t.exec <= 1 && t.plan >= 0.3 && t.plan <= 1 && t.oss >= 0 && t.oss <= 1)
        }
        #expect(abs(pdi.reduce(0, +)) < 1e-9, "z-scores of a population sum to zero")
        // Tasks solved on the first attempt have nothing to oscillate over.
        for (task, t) in rows where ["citation-check", "energy-market-pricing", "fix-build-agentops", "software-dependency-audit"].contains(task) {
            #expect(t.oss == 0, "\(task)")
        }
        // φ_oss compares what consecutive attempts verified and failed (issue 19 item 7), worked out from the
        // test summaries with a separate script: mean over pairs of 0.5·Jaccard(passed) + 0.5·Jaccard(failed).
        // exceltable: 0/8 then 8/0 → 0; lean4: 3 passed 1 failed, then 4 passed → 0.5·3/4; trend: 18 passed
        // 1 failed, then 19 passed → 0.5·18/19; google-auto: the same 3 failures twice, then all pass →
        // (1 + 1 + 0)/3; r2r: 5 passed 1 failed three times, then 6 passed → (1 + 1 + 0.5·5/6)/3.
        let expectedOss: [String: Double] = ["exceltable-in-ppt": 0, "lean4-proof": 0.375, "trend-anomaly-causal-inference": 9.0 / 19,
                                             "fix-build-google-auto": 2.0 / 3, "r2r-mpc-control": (2 + 5.0 / 12) / 3]
        for (task, t) in rows { if let want = expectedOss[task] { #expect(abs(t.oss - want) < 1e-9, "\(task): \(t.oss) vs \(want)") } }
    }
}

/// Skill families on a corpus nobody here wrote or tuned to (issue 19 item 8): the Python peer's generator
/// (`../shared/bench/gen_corpus.py`), whose task texts vary a template's parameters and wrap it in greetings,
/// context sentences, quoted errors and deadlines. Its `task_key` is `<area>/<template>`: the same template
/// in ten areas is one kind of task.
@Suite struct ForeignSkillFamilyTests {
    @Test func tasksThatDifferOnlyInParametersAndWordingShareOneSkill() throws {
        let generator = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/bench/gen_corpus.py")
        guard FileManager.default.fileExists(atPath: generator.path) else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("CI=true but \(generator.path) is missing") }
            else { print("NOTICE: skipping the foreign skill-family test: \(generator.path) is not present") }
            return
        }
        let base = try scratch("foreign-families")
        let corpus = base.appendingPathComponent("corpus.jsonl")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", generator.path, "--mb", "3", "--seed", "1", "--out", corpus.path]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try #require(p.terminationStatus == 0, "gen_corpus.py failed")
        try Data("""
            version: 1
            name: foreign
            inputs:
              - path: \(corpus.path)
            outputs:
              skills: {style: skills, min_support: 2}
            """.utf8).write(to: base.appendingPathComponent("p.yaml"))
        let out = base.appendingPathComponent("out")
        _ = try BuildRunner(options: .init(outDirectory: out)).run(try PipelineLoader.load(path: base.appendingPathComponent("p.yaml").path))

        // The template of every run, read from the corpus itself.
        var template: [String: String] = [:]
        for line in try String(contentsOf: corpus, encoding: .utf8).split(separator: "\n") {
            let row = try JSONCoding.decoder.decode(JSONValue.self, from: Data(line.utf8))
            if let id = row["id"]?.stringValue, let key = row["task_key"]?.stringValue { template[id] = String(key.split(separator: "/").last!) }
        }
        let index = try JSONDecoder().decode([SkillSetBuilder.Entry].self, from: Data(contentsOf: out.appendingPathComponent("skills/index.json")))
        let distilled = index.filter { $0.source == "distilled" }
        #expect(!distilled.isEmpty)
        var skillsPerTemplate: [String: Int] = [:]
        let runs = try NSRegularExpression(pattern: "`([^`]+)`")
        for e in distilled {
            let dir = out.appendingPathComponent("skills/\(e.name)")
            let evidence = try String(contentsOf: dir.appendingPathComponent("references/evidence.md"), encoding: .utf8)
            let line = evidence.split(separator: "\n").first { $0.hasPrefix("Successful runs:") }.map(String.init) ?? ""
            let ids = runs.matches(in: line, range: NSRange(line.startIndex..., in: line)).map { (line as NSString).substring(with: $0.range(at: 1)) }
            let templates = Set(ids.compactMap { template[$0] })
            #expect(templates.count == 1 && ids.allSatisfy { template[$0] != nil }, "\(e.name): runs of \(templates.sorted()) (ids \(ids.prefix(3)))")
            for t in templates { skillsPerTemplate[t, default: 0] += 1 }
            // One or two clean sentences: what the skill does, when to use it; none of the tasks' noise.
            let bundle = try SkillBundle.read(directory: dir)
            let description = bundle.description ?? ""
            #expect(description.count <= 1024 && description.hasPrefix("Handles tasks of the form: "), "\(description)")
            #expect(description.components(separatedBy: ". ").count <= 3, "\(description)")
            for noise in ["Hi", "Please", "please", "Thanks", "Task:", "blocking", "urgent", "Heads up", "`", "Error", "reported", "\n"] {
                #expect(!description.contains(noise), "\(e.name): '\(noise)' in \(description)")
            }
        }
        // Before: one skill per area for a template (add-migration-adds-column, -2 … -10). A template may
        // still be two skills when its instruction has two wordings (e.g. "collect all job titles" and
        // "extract the list of release notes").
        #expect(skillsPerTemplate.values.allSatisfy { $0 <= 2 }, "\(skillsPerTemplate)")
        print("foreign corpus: \(distilled.count) skills over \(skillsPerTemplate.count) templates: \(skillsPerTemplate.sorted { $0.key < $1.key })")
    }
}
