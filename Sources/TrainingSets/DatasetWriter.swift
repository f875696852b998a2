import Foundation
import Trajectories

/// Everything a dataset's manifest records about how it was made.
public struct Manifest: Sendable, Hashable, Codable {
    /// One part file of a split (`<split>-00000.jsonl`, …): the split is its parts in order.
    public struct PartInfo: Sendable, Hashable, Codable {
        public var file: String
        public var records: Int
        public var bytes: Int64
        public var sha256: String
        public init(file: String, records: Int, bytes: Int64, sha256: String) {
            self.file = file
            self.records = records
            self.bytes = bytes
            self.sha256 = sha256
        }
    }

    public struct SplitInfo: Sendable, Hashable, Codable {
        public var records: Int
        public var bytes: Int64
        public var parts: [PartInfo]
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
///
/// A split is written as part files (`data/train/train-00000.jsonl`, `data/train/train-00001.jsonl`, …) whose concatenation
/// in order is the split. Where a part ends depends only on the records, not on where the part
/// started, so that a record inserted or changed in the middle of a split changes one part and the
/// following parts stay the same (content-defined, like the chunks of a deduplicating backup):
/// - once a part holds a quarter of `partBytes`, it ends after a record of length `n` when
///   `mix(n) mod partBytes < n` (each byte is a boundary with probability 1 / `partBytes`);
/// - a part ends when it holds four times `partBytes`, whatever the records;
/// - a part ends at a section boundary (Conifer: a new level) once it holds a quarter of `partBytes`.
/// Parts are usually between a quarter of and four times `partBytes`, and about 1.25 × on average.
/// A part whose records are, key for key, those of a part of the previous build (`previous`) is not
/// written again: the previous file is hard-linked into the new dataset, so a nightly rebuild writes
/// only the parts that changed.
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

    /// A record to write: its length, its bytes (made now, or read on demand from the previous build's
    /// files — not at all when its part is linked) and, when its content is named, a key for it.
    public struct Record {
        public var key: String?
        public var length: Int
        public var bytes: () throws -> Data

        public init(_ line: Data) {
            key = nil
            length = line.count
            bytes = { line }
        }

        public init(key: String?, length: Int, bytes: @escaping () throws -> Data) {
            self.key = key
            self.length = length
            self.bytes = bytes
        }
    }

    public static let splitOrder = ["train", "test"]
    /// The part size when the pipeline does not set one (`package.part_mb`): 16 MiB.
    public static let defaultPartBytes = 16 << 20

    public let directory: URL
    public let description: Description
    /// What each config is for in the trainers that read it (set by the style): the card's "Loading and
    /// training" section and LLaMA-Factory's `dataset_info.json` are made from it.
    public var trainerConfigs: [TrainerLayouts.Config] = []
    /// Configs written under `data/` but not declared in the card's `configs`, with what they are (they
    /// are not training data for the trainers that read the card: a case library, files for OpenAI's API).
    public var auxiliary: [String: String] = [:]
    /// Files the style writes beside the data (`reward.py`), by name.
    public var extraFiles: [String: Data] = [:]
    /// What the card states as known limits of the data (set by the style).
    public var knownLimits: [String] = []
    public let partBytes: Int
    /// The previous build's parts, to link instead of writing again (nil: write every part).
    let previous: OutputMemo?

    /// One part file being written: records are buffered (4 MiB) and hashed as they are written, so
    /// finishing a dataset does not read its files back to hash them. A full buffer is hashed on one
    /// thread and written on another while the next one fills.
    private final class PartFile: @unchecked Sendable {
        let handle: FileHandle
        let name: String
        var buffer: [UInt8] = []
        var hasher = ContentHash.Stream()
        var bytes: Int64 = 0
        var records = 0
        /// The previous buffer being hashed, and being written (its storage comes back for reuse).
        private var hashing: Prefetch<Void>?
        private var inFlight: Prefetch<Result<[UInt8], any Error>>?

        init(creating url: URL, name: String) throws {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
            guard let h = FileHandle(forWritingAtPath: url.path) else {
                throw ReadError.cannotOpen(path: url.path, reason: "cannot create dataset file")
            }
            handle = h
            self.name = name
            buffer.reserveCapacity(4 << 20)
        }

        /// Bytes in the part so far, written or buffered.
        var size: Int64 { bytes + Int64(buffer.count) }

        func append(_ line: Data) throws {
            buffer.append(contentsOf: line)
            buffer.append(0x0A)
            records += 1
            if buffer.count >= 4 << 20 { try flush() }
        }

        /// Bytes copied from a previous part (the caller sets `records`).
        func append(raw: Data) throws {
            buffer.append(contentsOf: raw)
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

        /// Writes what is left, waits until every byte is hashed and written, and closes the file (it is
        /// synced to disk when the dataset is finished, so the disk writes it back meanwhile).
        func close() throws -> Manifest.PartInfo {
            try flush()
            hashing?.take()
            hashing = nil
            let last = inFlight?.move()
            inFlight = nil
            _ = try last?.get()
            try handle.close()
            return .init(file: name + ".jsonl", records: records, bytes: bytes, sha256: hasher.finalize())
        }
    }

    /// The part a split is filling: being written, or so far equal to the start of a previous part.
    private enum Current {
        case writing(PartFile)
        /// The first `count` records of `part` (`bytes` of it), not written unless the match ends early.
        case matching(OutputMemo.PreviousPart, name: String, count: Int, bytes: Int64)
    }

    private final class SplitState {
        var parts: [Manifest.PartInfo] = []
        var records = 0
        var current: Current?
        var sectionStarts = false
        /// The last record written ended the current part.
        var ends = false

        var currentSize: Int64? {
            switch current {
            case .writing(let f): return f.size
            case .matching(_, _, _, let bytes): return bytes
            case nil: return nil
            }
        }
    }

    private var splits: [String: SplitState] = [:]
    /// Part files written and closed but not yet synced to disk.
    private var unsynced: [URL] = []
    public private(set) var skipped: [String: Int] = [:]
    /// Parts linked from the previous build, and parts written now.
    public private(set) var partsLinked = 0
    public private(set) var partsWritten = 0

    public init(directory: URL, description: Description, partBytes: Int = DatasetWriter.defaultPartBytes, previous: OutputMemo? = nil) throws {
        self.directory = directory
        self.description = description
        self.partBytes = max(1, partBytes)
        self.previous = previous
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// A split's key: `<split>` in the default config, else `<config>/<split>`.
    static func fileKey(split: String, config: String) -> String { config == "default" ? split : "\(config)/\(split)" }

    /// Part `n` of the split with key `key`: `data/<key>/<split>-0000n` (`data/train/train-00000`,
    /// `data/preference/train/train-00000`). Each split has a folder of its own under `data/`, so that a
    /// trainer pointed at one folder (LLaMA-Factory's `file_name`) reads that split's part files and nothing
    /// else; the card and manifest sit beside `data/`.
    static func partKey(_ key: String, _ n: Int) -> String {
        "data/" + key + "/" + (key.split(separator: "/").last.map(String.init) ?? key) + "-" + String(format: "%05d", n)
    }

    /// The folder of the split with key `key`, relative to the dataset directory.
    public static func splitFolder(_ key: String) -> String { "data/" + key }

    /// The file of the part with key `key` in a dataset directory: `<key>.jsonl`.
    static func fileURL(_ key: String, in directory: URL) -> URL { directory.appendingPathComponent("\(key).jsonl") }

    /// Appends a record to `split` of `config` (`default`: `data/<split>/*.jsonl`; others: `data/<config>/<split>/*.jsonl`).
    @discardableResult
    public func write(_ line: Data, split: String, config: String = "default") throws -> (file: String, offset: Int64) {
        try write(Record(line), split: split, config: config)
    }

    /// Appends a record; returns the key of the part it went to and where it starts in that part.
    @discardableResult
    public func write(_ record: Record, split: String, config: String = "default") throws -> (file: String, offset: Int64) {
        let key = Self.fileKey(split: split, config: config)
        let s = splits[key] ?? { let s = SplitState(); splits[key] = s; return s }()
        if let size = s.currentSize, s.ends || (s.sectionStarts && size >= partBytes / 4) {
            try closePart(s)
        }
        s.sectionStarts = false
        s.records += 1
        let length = Int64(record.length + 1)
        let size = (s.currentSize ?? 0) + length
        s.ends = size >= Int64(partBytes) * 4 || (size >= partBytes / 4 && Self.isBoundary(length: record.length, partBytes: partBytes))
        switch s.current {
        case nil:
            let name = Self.partKey(key, s.parts.count)
            if let k = record.key, let part = previous?.part(split: key, startingWith: k) {
                s.current = .matching(part, name: name, count: 1, bytes: length)
                return (name, 0)
            }
            let file = try PartFile(creating: Self.fileURL(name, in: directory), name: name)
            s.current = .writing(file)
            try file.append(record.bytes())
            return (name, 0)
        case .matching(let part, let name, let count, let bytes):
            if let k = record.key, count < part.keys.count, part.keys[count] == k {
                s.current = .matching(part, name: name, count: count + 1, bytes: bytes + length)
                return (name, bytes)
            }
            let file = try materialize(part, name: name, count: count, bytes: bytes)
            s.current = .writing(file)
            try file.append(record.bytes())
            return (name, bytes)
        case .writing(let file):
            let at = file.size
            try file.append(record.bytes())
            return (file.name, at)
        }
    }

    /// Whether a record of `length` bytes ends a part that holds at least a quarter of `partBytes`.
    static func isBoundary(length: Int, partBytes: Int) -> Bool {
        StableHash.mix(UInt64(length)) % UInt64(partBytes) < UInt64(length)
    }

    /// Records after this one start a new section: each split's part ends there if it holds at least
    /// a quarter of `partBytes` (so a section that grows changes only its last part).
    public func startSection() {
        for s in splits.values { s.sectionStarts = true }
    }

    /// A new part file holding the first `count` records (`bytes`) of a previous part.
    private func materialize(_ part: OutputMemo.PreviousPart, name: String, count: Int, bytes: Int64) throws -> PartFile {
        let file = try PartFile(creating: Self.fileURL(name, in: directory), name: name)
        var done: Int64 = 0
        while done < bytes {
            let n = Int(min(4 << 20, bytes - done))
            guard let d = part.file.read(offset: done, count: n) else {
                throw ReadError.readFailed(path: part.file.url.path, reason: "the previous output changed while the build read it")
            }
            try file.append(raw: d)
            done += Int64(n)
        }
        file.records = count
        return file
    }

    private func closePart(_ s: SplitState) throws {
        switch s.current {
        case .writing(let file):
            s.parts.append(try file.close())
            unsynced.append(Self.fileURL(file.name, in: directory))
            partsWritten += 1
        case .matching(let part, let name, let count, let bytes):
            let url = Self.fileURL(name, in: directory)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            if count == part.keys.count, Foundation.link(part.file.url.path, url.path) == 0 {
                s.parts.append(.init(file: name + ".jsonl", records: part.info.records, bytes: part.info.bytes, sha256: part.info.sha256))
                partsLinked += 1
            } else {
                // Fewer records than the previous part held (or the file system cannot link): written.
                s.parts.append(try materialize(part, name: name, count: count, bytes: bytes).close())
                unsynced.append(url)
                partsWritten += 1
            }
        case nil:
            break
        }
        s.current = nil
        s.ends = false
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

    /// Closes the part files and writes `manifest.json` and the dataset card `README.md`.
    @discardableResult
    public func finish(inputs: [Manifest.InputInfo], prepare: [JSONValue], stats: [String: JSONValue] = [:]) throws -> Manifest {
        var infos: [String: Manifest.SplitInfo] = [:]
        for (key, s) in splits {
            try closePart(s)
            infos[key] = .init(records: s.records, bytes: s.parts.reduce(0) { $0 + $1.bytes }, parts: s.parts)
        }
        // Every part written now reaches the disk before the dataset is reported finished (and switched in).
        for url in unsynced {
            let fd = open(url.path, O_RDONLY)
            guard fd >= 0, fsync(fd) == 0 else {
                let code = errno
                if fd >= 0 { Foundation.close(fd) }
                // A POSIX error naming the file, so that the engine explains a full disk or a quota.
                throw NSError(domain: NSPOSIXErrorDomain, code: Int(code), userInfo: [
                    NSFilePathErrorKey: url.path,
                    NSLocalizedDescriptionKey: "cannot sync \(url.path) to disk: \(String(cString: strerror(code)))",
                ])
            }
            Foundation.close(fd)
        }
        unsynced = []
        splits = [:]
        let d = description
        let manifest = Manifest(name: d.name, style: d.style, format: d.format.rawValue, pipeline: d.pipeline,
                                configHash: d.configHash, toolVersion: d.toolVersion, seed: d.seed,
                                records: infos.filter { !$0.key.contains("/") }.values.reduce(0) { $0 + $1.records }, splits: infos,
                                skipped: skipped, inputs: inputs, prepare: prepare, stats: stats)
        var json = try JSONCoding.prettyEncoder.encode(manifest)
        json.append(0x0A)
        try json.write(to: directory.appendingPathComponent("manifest.json"), options: .atomic)
        var files = extraFiles
        let declared = trainerConfigs.filter { c in infos.keys.contains { ($0.contains("/") ? String($0.split(separator: "/")[0]) : "default") == c.name } }
        if let info = TrainerLayouts.llamaFactoryInfo(dataset: d.name, configs: declared, splits: Self.orderedKeys(infos)) {
            files["dataset_info.json"] = info
        }
        for (name, data) in files.sorted(by: { $0.key < $1.key }) {
            try data.write(to: directory.appendingPathComponent(name), options: .atomic)
        }
        let card = DatasetCard.render(manifest: manifest, license: d.license, summary: d.summary, auxiliary: auxiliary,
                                      usage: declared.isEmpty ? [] : TrainerLayouts.usage(dataset: d.name, configs: declared),
                                      knownLimits: knownLimits)
        try Data(card.utf8).write(to: directory.appendingPathComponent("README.md"), options: .atomic)
        return manifest
    }
}
