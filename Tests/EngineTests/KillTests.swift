import Foundation
import Testing
@testable import SampleCorpus

/// `kill -9` a real `skillforge build` at many points; `out/` must only ever hold complete outputs,
/// and the next build must finish with the same bytes as an uninterrupted one.
@Suite(.serialized) struct KillTests {
    @Test func killedBuildsLeaveNoPartialOutput() throws {
        guard let bin = skillforgeBinary?.path else {
            Issue.record("the skillforge executable was not built beside the tests")
            return
        }
        let dir = try scratch("kill")
        try SampleCorpus(seed: 11, tasks: 1500).write(to: dir.appendingPathComponent("samples"))
        // Streaming and whole-corpus outputs both; a few seconds of work in a debug build.
        try Data("""
            version: 1
            name: kill
            inputs:
              - path: samples/part-*.jsonl
                outcomes: samples/outcomes.jsonl
            outputs:
              trajectories: {style: trajectory-sft}
              sharegpt: {style: trajectory-sft, format: sharegpt}
              instruct: {style: conifer}
            """.utf8).write(to: dir.appendingPathComponent("p.yaml"))
        let datasets = dir.appendingPathComponent("out/datasets")

        // A build killed before it ever finished leaves no dataset at all.
        try killBuild(bin, in: dir, after: 0.3)
        let early = (try? FileManager.default.contentsOfDirectory(atPath: datasets.path)) ?? []
        #expect(early.isEmpty, "a killed first build left \(early)")

        let (status, log) = try run(bin, ["build", "p.yaml", "--out", "out", "-q"], cwd: dir)
        #expect(status == 0, "\(log)")
        let reference = try treeHashes(datasets)
        // Three datasets: manifest, card and at least one part file for each of train and test.
        #expect(reference.keys.filter { $0.hasSuffix("/manifest.json") }.count == 3 && reference.count >= 12)

        // Ten kill points across reading, preparing, writing and installing.
        for delay in [0.05, 0.15, 0.4, 0.8, 1.2, 1.8, 2.5, 3.3, 4.2, 5.5] {
            try killBuild(bin, in: dir, after: delay)
            let now = try treeHashes(datasets)
            #expect(now == reference, "after kill at \(delay)s: \(Set(now.keys).symmetricDifference(reference.keys))")
            let names = try FileManager.default.contentsOfDirectory(atPath: datasets.path).sorted()
            #expect(names == ["instruct", "sharegpt", "trajectories"], "stray entries after kill at \(delay)s: \(names)")
        }

        // The next build resumes cleanly and gives the same bytes.
        let (again, againLog) = try run(bin, ["build", "p.yaml", "--out", "out", "-q"], cwd: dir)
        #expect(again == 0, "\(againLog)")
        #expect(try treeHashes(datasets) == reference)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/.staging").path))
    }

    func killBuild(_ bin: String, in dir: URL, after seconds: Double) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = ["build", "p.yaml", "--out", "out", "-q"]
        p.currentDirectoryURL = dir
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        usleep(useconds_t(seconds * 1_000_000))
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }
}
