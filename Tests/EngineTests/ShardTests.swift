import Foundation
import Testing
@testable import Engine
import Pipelines
@testable import SampleCorpus

@Suite(.serialized) struct ShardTests {
    @Test func shardedBuildsMergeToTheUnshardedBytes() throws {
        let dir = try scratch("shards")
        let samples = dir.appendingPathComponent("samples")
        try FileManager.default.createDirectory(at: samples, withIntermediateDirectories: true)
        for seed in 1...3 {
            for f in try SampleCorpus(seed: UInt64(seed), tasks: 25).files() where f.name.hasPrefix("part") {
                try f.contents.write(to: samples.appendingPathComponent("s\(seed)-\(f.name)"))
            }
        }
        try Data("""
            version: 1
            name: shard-test
            max_bad_fraction: 0.2
            inputs:
              - path: samples/*.jsonl
            prepare:
              - dedupe: {method: exact}
            outputs:
              sft: {style: trajectory-sft}
              instruct: {style: conifer}
            """.utf8).write(to: dir.appendingPathComponent("p.yaml"))
        let spec = try PipelineLoader.load(path: dir.appendingPathComponent("p.yaml").path)
        let plain = dir.appendingPathComponent("plain")
        _ = try BuildRunner(options: .init(outDirectory: plain)).run(spec)
        let reference = try treeHashes(plain.appendingPathComponent("datasets"))
        #expect(reference.count == 13)
        for n in [1, 3, 4] {
            let out = dir.appendingPathComponent("sharded-\(n)")
            let runner = BuildRunner(options: .init(outDirectory: out))
            var covered: [String] = []
            for i in 0..<n { covered += try runner.runShard(spec, index: i, count: n).files }
            #expect(covered.count == 6 && Set(covered).count == 6)
            let merged = try runner.merge(spec, count: n)
            #expect(merged.cache.misses == 0)
            #expect(try treeHashes(out.appendingPathComponent("datasets")) == reference, "N = \(n)")
        }
        // Merge refuses while a shard is missing, and lists it.
        let partial = dir.appendingPathComponent("partial")
        let runner = BuildRunner(options: .init(outDirectory: partial))
        _ = try runner.runShard(spec, index: 0, count: 3)
        _ = try runner.runShard(spec, index: 2, count: 3)
        do {
            _ = try runner.merge(spec, count: 3)
            Issue.record("merge must refuse")
        } catch {
            #expect("\(error)".contains("1 of 3 shard(s) have not finished: 1/3"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: partial.appendingPathComponent("datasets").path))
        // A different count is a different run: its markers are separate.
        do {
            _ = try runner.merge(spec, count: 2)
            Issue.record("merge must refuse")
        } catch {
            #expect("\(error)".contains("0/2, 1/2"))
        }
    }
}
