import Foundation
import Testing
@testable import Engine
import Pipelines
@testable import SampleCorpus

@Suite(.serialized) struct CacheTests {
    func pipeline(_ dir: URL, emails: Bool = false, testSplit: Double = 0.1) throws -> PipelineSpec {
        try Data("""
            version: 1
            name: cache-test
            max_bad_fraction: 0.5
            inputs:
              - path: samples/*.jsonl
            prepare:
              - redact: {secrets: true, emails: \(emails)}
              - dedupe: {method: exact}
            outputs:
              sft: {style: trajectory-sft, test_split: \(testSplit)}
            """.utf8).write(to: dir.appendingPathComponent("p.yaml"))
        return try PipelineLoader.load(path: dir.appendingPathComponent("p.yaml").path)
    }

    @Test func hitsMissesAndRecomputation() throws {
        let dir = try scratch("cache")
        let samples = dir.appendingPathComponent("samples")
        let files = try SampleCorpus(seed: 3, tasks: 60).files().filter { $0.name.hasPrefix("part") }
        try FileManager.default.createDirectory(at: samples, withIntermediateDirectories: true)
        for f in files { try f.contents.write(to: samples.appendingPathComponent(f.name)) }
        let out = dir.appendingPathComponent("out")
        func build(_ spec: PipelineSpec, cache: Bool = true) throws -> BuildResult {
            try BuildRunner(options: .init(outDirectory: out, useCache: cache)).run(spec)
        }
        let first = try build(try pipeline(dir))
        #expect(first.cache.hits == 0 && first.cache.misses == 2)
        let reference = try treeHashes(out.appendingPathComponent("datasets"))

        // Nothing changed: every input is a hit and the outputs are the same bytes.
        let second = try build(try pipeline(dir))
        #expect(second.cache.hits == 2 && second.cache.misses == 0)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == reference)
        #expect(second.prepare.map(\.counts) == first.prepare.map(\.counts))

        // A change after the cached steps (an output's split) re-runs nothing before it.
        let later = try build(try pipeline(dir, testSplit: 0.2))
        #expect(later.cache.hits == 2)
        // A change to a cached step (redaction) re-runs it for every file.
        let changed = try build(try pipeline(dir, emails: true))
        #expect(changed.cache.misses == 2)

        // A new file: only it is read.
        let extra = try SampleCorpus(seed: 4, tasks: 5).files().first { $0.name == "part-01.jsonl" }!
        try extra.contents.write(to: samples.appendingPathComponent("part-03.jsonl"))
        let appended = try build(try pipeline(dir))
        #expect(appended.cache.hits == 2 && appended.cache.misses == 1)

        // Damaged entries are detected and recomputed, with the same result.
        let cacheDir = out.appendingPathComponent(".cache/ingest")
        for entry in try FileManager.default.contentsOfDirectory(atPath: cacheDir.path) where entry.hasSuffix(".jsonl") {
            let handle = try FileHandle(forWritingTo: cacheDir.appendingPathComponent(entry))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("garbage\n".utf8))
            try handle.close()
        }
        let before = try treeHashes(out.appendingPathComponent("datasets"))
        let repaired = try build(try pipeline(dir))
        #expect(repaired.cache.misses == 3 && repaired.cache.hits == 0)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == before)

        // --no-cache reads everything and gives the same bytes.
        let fresh = try build(try pipeline(dir), cache: false)
        #expect(fresh.cache.hits == 0 && fresh.cache.misses == 3)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == before)

        // gc: nothing is older than a day; clear removes all.
        #expect(try BuildRunner.collectCacheGarbage(outDirectory: out, keepDays: 1) == 0)
        #expect(try BuildRunner.collectCacheGarbage(outDirectory: out, keepDays: -1) >= 3)
        #expect(try BuildRunner.plan(try pipeline(dir), outDirectory: out).allSatisfy { !$0.cached })
    }
}
