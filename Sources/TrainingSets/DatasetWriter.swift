import Foundation
import Trajectories

/// Everything a dataset's manifest records about how it was made.
public struct Manifest: Sendable, Hashable, Codable {
    public struct SplitInfo: Sendable, Hashable, Codable {
        public var file: String
        public var records: Int
        public var bytes: Int64
        public var sha256: String
    }

    public struct InputInfo: Sendable, Hashable, Codable {
        public var file: String
        public var format: String
        public var sha256: String
        public var bytes: Int64
        public var records: Int
        public var quarantined: Int
        public init(file: String, format: String, sha256: String, bytes: Int64, records: Int, quarantined: Int) {
            self.file = file
            self.format = format
            self.sha256 = sha256
            self.bytes = bytes
            self.records = records
            self.quarantined = quarantined
        }
    }

    public var name: String
    public var style: String
    public var format: String
    public var pipeline: String
    public var configHash: String
    public var toolVersion: String
    public var seed: UInt64
    public var records: Int
    public var splits: [String: SplitInfo]
    /// Trajectories that reached this output but produced no record, by reason.
    public var skipped: [String: Int]
    public var inputs: [InputInfo]
    /// Per-step statistics of the preparation this output saw (shared steps, then its own).
    public var prepare: [JSONValue]
    /// Style-specific statistics (records per level, constraints per category, …).
    public var stats: [String: JSONValue]

    enum CodingKeys: String, CodingKey {
        case name, style, format, pipeline, configHash = "config_hash", toolVersion = "tool_version", seed, records,
             splits, skipped, inputs, prepare, stats
    }
}

/// Streams records of one dataset into split files in a staging directory, then writes the
/// manifest and the dataset card. Nothing here is visible under `out/` until the engine moves the
/// finished directory into place.
public final class DatasetWriter {
    public struct Description: Sendable {
        public var name: String
        public var style: String
        public var format: RecordFormat
        public var license: String
        public var pipeline: String
        public var configHash: String
        public var toolVersion: String
        public var seed: UInt64
        public var summary: String

        public init(name: String, style: String, format: RecordFormat, license: String, pipeline: String,
                    configHash: String, toolVersion: String, seed: UInt64, summary: String) {
            self.name = name
            self.style = style
            self.format = format
            self.license = license
            self.pipeline = pipeline
            self.configHash = configHash
            self.toolVersion = toolVersion
            self.seed = seed
            self.summary = summary
        }
    }

    public static let splitOrder = ["train", "test"]

    public let directory: URL
    public let description: Description
    /// One split file: records are buffered (4 MiB) and hashed as they are written, so finishing a
    /// dataset does not read its files back to hash them. A full buffer is hashed on one thread and
    /// written on another while the next one fills.
    private final class SplitFile: @unchecked Sendable {
        let handle: FileHandle
        var buffer: [UInt8] = []
        var hasher = ContentHash.Stream()
        var bytes: Int64 = 0
        /// The previous buffer being hashed, and being written (its storage comes back for reuse).
        private var hashing: Prefetch<Void>?
        private var inFlight: Prefetch<Result<[UInt8], any Error>>?

        init(_ handle: FileHandle) {
            self.handle = handle
            buffer.reserveCapacity(4 << 20)
        }

        func append(_ line: Data) throws {
            buffer.append(contentsOf: line)
            buffer.append(0x0A)
            if buffer.count >= 4 << 20 { try flush() }
        }

        /// Hands the buffer to the hashing and writing threads (after the one before it is hashed and written).
        func flush() throws {
            guard !buffer.isEmpty else { return }
            hashing?.take()
            hashing = nil
            let previous = inFlight?.move()
            inFlight = nil
            var spare = try previous?.get() ?? []
            spare.removeAll(keepingCapacity: true)
            let chunk = buffer
            buffer = spare
            bytes += Int64(chunk.count)
            hashing = Prefetch { [self] in self.hasher.update(chunk) }
            inFlight = Prefetch { [self] in
                Result {
                    try self.handle.write(contentsOf: chunk)
                    return chunk
                }
            }
        }

        /// Writes what is left and waits until every byte is hashed and written.
        func drain() throws {
            try flush()
            hashing?.take()
            hashing = nil
            let last = inFlight?.move()
            inFlight = nil
            _ = try last?.get()
        }
    }

    private var handles: [String: SplitFile] = [:]
    private var counts: [String: Int] = [:]
    public private(set) var skipped: [String: Int] = [:]

    public init(directory: URL, description: Description) throws {
        self.directory = directory
        self.description = description
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// A split file's key: `<split>` in the default config, else `<config>/<split>`.
    static func fileKey(split: String, config: String) -> String { config == "default" ? split : "\(config)/\(split)" }

    /// The file of the split with key `key` in a dataset directory: `<key>.jsonl`.
    static func fileURL(_ key: String, in directory: URL) -> URL { directory.appendingPathComponent("\(key).jsonl") }

    /// Appends a record to `split` of `config` (`default`: `<split>.jsonl`; others: `<config>/<split>.jsonl`).
    public func write(_ line: Data, split: String, config: String = "default") throws {
        let key = Self.fileKey(split: split, config: config)
        let file: SplitFile
        if let h = handles[key] {
            file = h
        } else {
            let url = Self.fileURL(key, in: directory)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
            guard let h = FileHandle(forWritingAtPath: url.path) else {
                throw ReadError.cannotOpen(path: url.path, reason: "cannot create dataset file")
            }
            file = SplitFile(h)
            handles[key] = file
        }
        try file.append(line)
        counts[key, default: 0] += 1
    }

    /// Split keys in a stable order: the default config's train, test, then other configs by name.
    public static func orderedKeys<T>(_ d: [String: T]) -> [String] {
        func rank(_ k: String) -> (Int, String, Int) {
            let parts = k.split(separator: "/").map(String.init)
            let config = parts.count == 2 ? parts[0] : ""
            let split = parts.last!
            return (config.isEmpty ? 0 : 1, config, splitOrder.firstIndex(of: split) ?? splitOrder.count)
        }
        return d.keys.sorted { rank($0) < rank($1) || (rank($0) == rank($1) && $0 < $1) }
    }

    public func skip(_ reason: String) { skipped[reason, default: 0] += 1 }

    /// The split file's key (`train`, `<config>/<split>`) and where the next record written to it
    /// will start.
    public func position(split: String, config: String = "default") -> (file: String, offset: Int64) {
        let key = Self.fileKey(split: split, config: config)
        guard let f = handles[key] else { return (key, 0) }
        return (key, f.bytes + Int64(f.buffer.count))
    }

    /// Closes the split files and writes `manifest.json` and the dataset card `README.md`.
    @discardableResult
    public func finish(inputs: [Manifest.InputInfo], prepare: [JSONValue], stats: [String: JSONValue] = [:]) throws -> Manifest {
        var written: [String: (sha: String, bytes: Int64)] = [:]
        for (key, f) in handles {
            try f.drain()
            try f.handle.synchronize()
            try f.handle.close()
            written[key] = (f.hasher.finalize(), f.bytes)
        }
        handles = [:]
        var splits: [String: Manifest.SplitInfo] = [:]
        for split in Self.orderedKeys(counts) {
            let file = "\(split).jsonl"
            let (sha, bytes) = written[split]!
            splits[split] = .init(file: file, records: counts[split]!, bytes: bytes, sha256: sha)
        }
        let d = description
        let manifest = Manifest(name: d.name, style: d.style, format: d.format.rawValue, pipeline: d.pipeline,
                                configHash: d.configHash, toolVersion: d.toolVersion, seed: d.seed,
                                records: counts.filter { !$0.key.contains("/") }.values.reduce(0, +), splits: splits, skipped: skipped,
                                inputs: inputs, prepare: prepare, stats: stats)
        var json = try JSONCoding.prettyEncoder.encode(manifest)
        json.append(0x0A)
        try json.write(to: directory.appendingPathComponent("manifest.json"), options: .atomic)
        let card = DatasetCard.render(manifest: manifest, license: d.license, summary: d.summary)
        try Data(card.utf8).write(to: directory.appendingPathComponent("README.md"), options: .atomic)
        return manifest
    }
}
