import Foundation
import Pipelines
import Prepare
import Trajectories

/// Sharded builds: `build --shard i/N` ingests a deterministic slice of the input files (file k of the
/// sorted input list goes to shard k mod N) into the shared ingest cache and writes a completion marker
/// last; `merge` refuses to run until all N markers exist for the same pipeline, pins N and the config
/// hash in a run record, and then builds — every file then comes from the cache, so the outputs are the
/// ones an unsharded build writes.
extension BuildRunner {
    public struct ShardMarker: Codable, Sendable {
        public var pipeline: String
        public var configHash: String
        public var index: Int
        public var count: Int
        public var files: [String]
        enum CodingKeys: String, CodingKey { case pipeline, configHash = "config_hash", index, count, files }
    }

    static func shardDirectory(_ out: URL, _ spec: PipelineSpec, count: Int) -> URL {
        out.appendingPathComponent("shards/\(spec.name)/\(count)")
    }

    static func configHash(_ spec: PipelineSpec) -> String {
        ContentHash.sha256((try? JSONCoding.encoder.encode(spec.semantic)) ?? Data())
    }

    /// Ingests shard `index` of `count`; returns the marker it wrote.
    public func runShard(_ spec: PipelineSpec, index: Int, count: Int) throws -> ShardMarker {
        let spec = try Self.loadRedactionRules(spec)
        guard count >= 1, index >= 0, index < count else {
            throw EngineError.configuration("shard \(index)/\(count): the index must be between 0 and \(count - 1)")
        }
        guard options.useCache else { throw EngineError.configuration("--shard needs the cache (do not combine it with --no-cache)") }
        let out = options.outDirectory
        let lock = try BuildLock(directory: out.appendingPathComponent("shards/\(spec.name)/\(count)/lock-\(index)"))
        defer { withExtendedLifetime(lock) {} }
        var quarantine: [QuarantineEntry] = []
        let inputs = try Self.resolveInputs(spec, quarantine: &quarantine)
        let mine = inputs.enumerated().filter { $0.offset % count == index }.map(\.element)
        let (prefixSpec, rest) = Self.cachedAndRest(spec)
        let prefix = PrepareChain(steps: try Self.makeSteps(prefixSpec))
        let cache = IngestCache(outDirectory: out)
        options.progress?(.pipelineStarted(name: "\(spec.name) shard \(index)/\(count)", files: mine.count, bytes: mine.reduce(0) { $0 + $1.bytes }))
        try ingest(mine, prefix: prefix, prefixSpec: prefixSpec, cache: cache, decodeHits: false, fingerprinter: Self.fingerprinter(rest),
                   started: { options.progress?(.fileStarted(path: $0.display, bytes: $0.bytes)) }, done: { _, _ in }) { _ in }
        let marker = ShardMarker(pipeline: spec.name, configHash: Self.configHash(spec), index: index, count: count, files: mine.map(\.display))
        let dir = Self.shardDirectory(out, spec, count: count)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // Written last: its presence means every file of the shard is in the cache.
        try JSONCoding.prettyEncoder.encode(marker).write(to: dir.appendingPathComponent("\(index).done"), options: .atomic)
        options.progress?(.pipelineFinished(name: spec.name))
        return marker
    }

    /// Checks that all `count` shards finished for this pipeline, records the run, then builds.
    public func merge(_ spec: PipelineSpec, count: Int) throws -> BuildResult {
        let spec = try Self.loadRedactionRules(spec)
        let dir = Self.shardDirectory(options.outDirectory, spec, count: count)
        let hash = Self.configHash(spec)
        var missing: [Int] = []
        var markers: [ShardMarker] = []
        for i in 0..<count {
            guard let data = FileManager.default.contents(atPath: dir.appendingPathComponent("\(i).done").path),
                  let m = try? JSONCoding.decoder.decode(ShardMarker.self, from: data) else { missing.append(i); continue }
            if m.configHash != hash || m.count != count {
                throw EngineError.configuration("shard \(i)/\(count) of \(spec.name) was built from a different pipeline configuration; rebuild it")
            }
            markers.append(m)
        }
        if !missing.isEmpty {
            throw EngineError.configuration("cannot merge \(spec.name): \(missing.count) of \(count) shard(s) have not finished: "
                                            + missing.map { "\($0)/\(count)" }.joined(separator: ", "))
        }
        let uncached = try Self.plan(spec, outDirectory: options.outDirectory, chunkBytes: options.chunkBytes).filter { !$0.cached }
        if !uncached.isEmpty {
            throw EngineError.configuration("cannot merge \(spec.name): \(uncached.count) input file(s) are not in the ingest cache (e.g. \(uncached[0].file)); were the shards built into this --out?")
        }
        struct RunRecord: Encodable { var pipeline: String; var configHash: String; var shards: Int; var files: Int }
        try JSONCoding.prettyEncoder.encode(RunRecord(pipeline: spec.name, configHash: hash, shards: count,
                                                      files: markers.reduce(0) { $0 + $1.files.count }))
            .write(to: dir.appendingPathComponent("run.json"), options: .atomic)
        return try run(spec)
    }
}
