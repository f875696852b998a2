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
}

/// The spec loader lists input formats without depending on the importers; keep them in step.
@Suite struct FormatListTests {
    @Test func pipelineFormatsAreExactlyTheImporters() {
        #expect(PipelineLoader.inputFormats == ["auto"] + Importers.names)
    }
}
