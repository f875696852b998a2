import Foundation
import Pipelines
import Testing
import Trajectories

/// The executable's contract: exit codes and error text a user or a nightly job depends on.
@Suite struct CLITests {
    @Test func exitCodesForSpecErrorsBuildFailuresAndUsage() throws {
        guard let bin = skillforgeBinary?.path else { Issue.record("skillforge executable not built"); return }
        let dir = try scratch("cli")
        try Data("version: 1\ninputs:\n  - path: nothing/*.jsonl\noutputs:\n  a: {style: trajectory-sft, fromat: x}\n".utf8)
            .write(to: dir.appendingPathComponent("bad.yaml"))
        let (v, vout) = try run(bin, ["validate", "bad.yaml"], cwd: dir, env: ["NO_COLOR": "1"])
        #expect(v == 2)
        #expect(vout.contains("bad.yaml:3:11: error: input 'nothing/*.jsonl' matches no files"), "\(vout)")
        #expect(vout.contains("bad.yaml:5:30: error: unknown key 'fromat' in output 'a' (did you mean 'format'?)"), "\(vout)")
        #expect(!vout.contains("\u{1B}["), "no colour without a terminal")

        let (b, _) = try run(bin, ["build", "bad.yaml", "--out", "out"], cwd: dir)
        #expect(b == 2)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path), "nothing runs on a spec error")

        // A build failure: every record of the input is malformed.
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("in"), withIntermediateDirectories: true)
        try Data("{\"id\":\"a\",\"task\":\"t\",\"steps\":[]}\n{\"id\": 1, \"task\": \"t\", \"steps\": []}\n".utf8)
            .write(to: dir.appendingPathComponent("in/x.jsonl"))
        try Data("version: 1\ninputs:\n  - path: in/x.jsonl\noutputs:\n  a: {style: trajectory-sft}\n".utf8)
            .write(to: dir.appendingPathComponent("p.yaml"))
        let (f, fout) = try run(bin, ["build", "p.yaml", "--out", "out"], cwd: dir)
        #expect(f == 1)
        #expect(fout.contains("1 of 2 input records were quarantined"), "\(fout)")

        let (u, uout) = try run(bin, ["build", "--no-such-flag"], cwd: dir)
        #expect(u == 2)
        #expect(uout.contains("Unknown option '--no-such-flag'"))

        let (ok, okOut) = try run(bin, ["validate", "p.yaml"], cwd: dir)
        #expect(ok == 0, "\(okOut)")
    }

    @Test func jsonSummaryIsMachineReadable() throws {
        guard let bin = skillforgeBinary?.path else { Issue.record("skillforge executable not built"); return }
        let out = try scratch("json")
        let (status, text) = try run(bin, ["build", "pipelines/sample.yaml", "--out", out.path, "--json"], cwd: repoRoot)
        #expect(status == 0)
        let start = try #require(text.firstIndex(of: "["))
        let results = try #require(try JSONSerialization.jsonObject(with: Data(text[start...].utf8)) as? [[String: Any]])
        #expect(results.first?["pipeline"] as? String == "sample")
        #expect((results.first?["datasets"] as? [[String: Any]])?.count == 5)
    }

    /// `skill score` with one `--evidence` group per bundle scores each bundle against its own runs: a
    /// bundle whose commands are its evidence's scores higher φ_exec against it alone than against the
    /// pooled runs of both; a group count that is neither 1 nor the bundle count is refused.
    @Test func skillScorePairsEvidenceWithBundles() throws {
        guard let bin = skillforgeBinary?.path else { Issue.record("skillforge executable not built"); return }
        let dir = try scratch("score")
        func bundle(_ name: String, _ body: String) throws {
            let d = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
            try Data("---\nname: \(name)\ndescription: Runs the project's checks. Use when asked to check the project.\n---\n\n\(body)\n".utf8)
                .write(to: d.appendingPathComponent("SKILL.md"))
        }
        func evidence(_ file: String, _ commands: [String]) throws {
            let steps = commands.enumerated().map { k, c in
                Step(index: k, thought: "Run it.", action: Action(tool: "bash", input: .object(["command": .string(c)]), command: c),
                     observation: Observation(content: "ok", exitCode: 0))
            }
            let t = Trajectory(id: file, task: "Check the project", taskKey: file, steps: steps, answer: "Checked.",
                               outcome: Outcome(status: .success, reward: 1))
            var line = try NativeWriter.line(t)
            line.append(0x0A)
            try line.write(to: dir.appendingPathComponent(file + ".jsonl"))
        }
        try bundle("py", "Run `python -m pytest tests -q --maxfail 1` and read the failures.")
        try bundle("rs", "Run `cargo build --release --locked` then `cargo clippy --all-targets`.")
        try evidence("py-runs", ["python -m pytest tests -q --maxfail 1", "python -m pytest tests -q"])
        try evidence("rs-runs", ["cargo build --release --locked", "cargo clippy --all-targets"])
        func execOfFirst(_ args: [String]) throws -> Double {
            let (status, text) = try run(bin, ["skill", "score", "--json"] + args + ["py", "rs"], cwd: dir)
            #expect(status == 0, "\(text)")
            let start = try #require(text.firstIndex(of: "["))
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(text[start...].utf8)) as? [[String: Any]])
            return try #require((rows.first?["terms"] as? [String: Any])?["phi_exec"] as? Double)
        }
        let paired = try execOfFirst(["--evidence", "py-runs.jsonl", "--evidence", "rs-runs.jsonl"])
        let pooled = try execOfFirst(["--evidence", "py-runs.jsonl,rs-runs.jsonl"])
        #expect(paired > pooled, "own evidence \(paired), pooled \(pooled)")
        let (bad, badText) = try run(bin, ["skill", "score", "--evidence", "a", "--evidence", "b", "--evidence", "c", "py", "rs"], cwd: dir)
        #expect(bad == 2)
        #expect(badText.contains("3 --evidence groups for 2 bundles"), "\(badText)")
    }
}

/// The spec loader lists input formats without depending on the importers; keep them in step.
@Suite struct FormatListTests {
    @Test func pipelineFormatsAreExactlyTheImporters() {
        #expect(PipelineLoader.inputFormats == ["auto"] + Importers.names)
    }
}

/// A gitleaks configuration reused in a build (issue 20, item 4): `redact: {rules: FILE}` and
/// `build --redact-rules FILE`; no output holds what its rule finds; a broken file stops the build with an
/// error located in the file.
@Suite struct GitleaksConfigBuildTests {
    static let rules = #"""
        [[rules]]
        id = "acme-internal-token"
        regex = '''\b(acmetok_[a-z0-9]{24})\b'''
        keywords = ["acmetok_"]

        [[rules.allowlists]]
        regexes = ['''acmetok_0{24}''']
        """#
    static let secret = "acmetok_a1b2c3d4e5f6a7b8c9d0e1f2"

    func corpus(_ dir: URL) throws {
        let t = Trajectory(id: "t1", task: "Deploy with \(Self.secret) and show the example acmetok_000000000000000000000000",
                           steps: [Step(index: 0, thought: "Use the token.",
                                        action: Action(tool: "bash", input: .object(["command": .string("deploy --token \(Self.secret)")]), command: "deploy --token \(Self.secret)"),
                                        observation: Observation(content: "deployed with \(Self.secret)", exitCode: 0))],
                           answer: "Deployed using \(Self.secret).", outcome: Outcome(status: .success, reward: 1))
        var line = try NativeWriter.line(t)
        line.append(0x0A)
        try line.write(to: dir.appendingPathComponent("runs.jsonl"))
        try Data(Self.rules.utf8).write(to: dir.appendingPathComponent("acme.toml"))
        try Data("[[rules]]\nid = \"acme\"\nregex = '''(acmetok'''\n".utf8).write(to: dir.appendingPathComponent("broken.toml"))
    }

    func pipeline(_ dir: URL, redact: String?) throws {
        var yaml = "version: 1\nname: acme\ninputs:\n  - path: runs.jsonl\n"
        if let redact { yaml += "prepare:\n  - redact: \(redact)\n" }
        yaml += "outputs:\n  sft: {style: trajectory-sft}\n"
        try Data(yaml.utf8).write(to: dir.appendingPathComponent("p.yaml"))
    }

    /// Every byte the build wrote, as text.
    func written(_ out: URL) throws -> String {
        var all = ""
        let e = FileManager.default.enumerator(at: out, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = e?.nextObject() as? URL {
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                all += String(decoding: try Data(contentsOf: url), as: UTF8.self)
            }
        }
        return all
    }

    @Test func theRulesFileInThePipelineAndOnTheCommandLine() throws {
        guard let bin = skillforgeBinary?.path else { Issue.record("skillforge executable not built"); return }
        let dir = try scratch("gitleaks-config")
        try corpus(dir)
        try pipeline(dir, redact: "{secrets: true, rules: acme.toml}")
        var (status, text) = try run(bin, ["build", "p.yaml", "--out", "out1", "--no-cache"], cwd: dir)
        #expect(status == 0, "\(text)")
        var all = try written(dir.appendingPathComponent("out1"))
        #expect(!all.contains("a1b2c3d4e5f6a7b8c9d0e1f2") && all.contains("[REDACTED:acme-internal-token]"))
        #expect(all.contains("acmetok_000000000000000000000000"), "the allowlisted example stays")

        // No redact step in the pipeline: the option reaches the implicit default one.
        try pipeline(dir, redact: nil)
        (status, text) = try run(bin, ["build", "p.yaml", "--out", "out2", "--redact-rules", "acme.toml"], cwd: dir)
        #expect(status == 0, "\(text)")
        all = try written(dir.appendingPathComponent("out2"))
        #expect(!all.contains("a1b2c3d4e5f6a7b8c9d0e1f2") && all.contains("[REDACTED:acme-internal-token]"))
        // Without the option, no marker of that rule (the built-in rules may still catch the token by its
        // `--token` flag, under their own name).
        (status, text) = try run(bin, ["build", "p.yaml", "--out", "out3"], cwd: dir)
        let plain = try written(dir.appendingPathComponent("out3"))
        #expect(status == 0 && !plain.contains("[REDACTED:acme-internal-token]"))

        // A broken rules file: exit 2, the error names the file, line and column, nothing is built.
        try pipeline(dir, redact: "{rules: broken.toml}")
        (status, text) = try run(bin, ["build", "p.yaml", "--out", "out4"], cwd: dir)
        #expect(status == 2 && text.contains("broken.toml:3:1: error: rule 'acme': the regular expression does not compile"), "\(text)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out4/datasets").path))
        (status, text) = try run(bin, ["validate", "p.yaml"], cwd: dir)
        #expect(status == 2 && text.contains("broken.toml:3:1"), "\(text)")
        // A missing one: located in the pipeline.
        try pipeline(dir, redact: "{rules: missing.toml}")
        (status, text) = try run(bin, ["validate", "p.yaml"], cwd: dir)
        #expect(status == 2 && text.contains("p.yaml:6:21: error: gitleaks rules file 'missing.toml' does not exist"), "\(text)")
    }
}
