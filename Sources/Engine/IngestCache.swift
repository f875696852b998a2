import Foundation
import Pipelines
import Prepare
import Trajectories

/// Content-addressed cache of each input file's ingest: the file read (any format), outcomes joined and
/// the shared per-record steps (redaction, filters before the first dedupe) applied. The key hashes the
/// file's bytes, its path as records name it, the format and import options, the outcome file's bytes,
/// those steps' configuration and the tool version — so a new or changed file is the only work a rebuild
/// redoes there, and a changed step re-runs it for every file. Entries carry a sha256 and are recomputed
/// when damaged. Large native files are kept in chunks (see `segments`).
struct IngestCache {
    /// What ingesting one input gave, besides its records.
    struct Counts: Codable {
        var records = 0
        var quarantined: [QuarantineEntry] = []
        var repaired = 0
        var joined = 0
        /// What the importer left out on purpose, by kind.
        var dropped: [String: Int] = [:]

        /// Adds another segment's counts (a large file's chunks are counted together).
        mutating func add(_ o: Counts) {
            records += o.records
            quarantined += o.quarantined
            repaired += o.repaired
            joined += o.joined
            dropped.merge(o.dropped, uniquingKeysWith: +)
        }
    }

    struct Meta: Codable {
        var jsonlSHA256: String
        var counts: Counts
        var stats: [StepStats]
        /// The records file's stamps once written (absent in entries of earlier builds).
        var jsonlStamp: FileStamp?
    }

    struct Key: Encodable {
        var file: String
        /// The path records name as their source (and foreign importers derive ids from): the same bytes
        /// under another name are other records.
        var path: String
        var format: String
        var maxObservationBytes: Int
        var maxRecordBytes: Int
        var keepThinking: Bool
        var outcomes: String?
        var steps: [PrepareStepSpec]
        var tool: String
        /// What the redaction rules find can change between releases of the same version number.
        var redaction: Int
    }

    let directory: URL

    init(outDirectory: URL) {
        directory = outDirectory.appendingPathComponent(".cache/ingest")
    }

    static func key(fileSHA: String, input: BuildRunner.ResolvedInput, steps: [PrepareStepSpec],
                    redaction: Int = SecretRedactor.revision) -> String {
        let k = Key(file: fileSHA, path: input.display, format: input.format, maxObservationBytes: input.importOptions.maxObservationBytes,
                    maxRecordBytes: input.importOptions.maxRecordBytes, keepThinking: input.importOptions.keepThinking, outcomes: input.outcomesSHA, steps: steps,
                    tool: SkillforgeVersion.current, redaction: redaction)
        return ContentHash.sha256((try? JSONCoding.encoder.encode(k)) ?? Data())
    }

    /// One cache entry's worth of an input: the whole file, or one chunk of a large native file.
    struct Segment {
        var key: String
        /// The chunk's bytes (nil: the whole file).
        var range: Range<Int64>?
        var firstLine = 1
    }

    /// The entries an input's ingest is kept in: one for the file, or one per chunk. A chunk's key
    /// hashes its bytes and its first line number (quarantine entries name lines), with the rest of the
    /// file's key, so an unchanged chunk keeps its entry wherever the file grows after it.
    static func segments(_ digest: InputDigest, input: BuildRunner.ResolvedInput, steps: [PrepareStepSpec]) -> [Segment] {
        guard let chunks = digest.chunks, chunks.count > 1 else {
            return [Segment(key: key(fileSHA: digest.sha256, input: input, steps: steps))]
        }
        return chunks.map { c in
            Segment(key: key(fileSHA: "chunk \(c.sha256) from line \(c.firstLine)", input: input, steps: steps),
                    range: c.offset..<(c.offset + c.length), firstLine: c.firstLine)
        }
    }

    func paths(_ key: String) -> (jsonl: URL, meta: URL) {
        (directory.appendingPathComponent("\(key).jsonl"), directory.appendingPathComponent("\(key).meta.json"))
    }

    /// The entry for `key` when it is present and intact; a damaged entry is removed (and recomputed).
    func lookup(_ key: String) -> Meta? {
        let (jsonl, metaURL) = paths(key)
        guard let data = FileManager.default.contents(atPath: metaURL.path),
              let meta = try? JSONCoding.decoder.decode(Meta.self, from: data) else {
            try? FileManager.default.removeItem(at: metaURL)
            try? FileManager.default.removeItem(at: jsonl)
            return nil
        }
        // A records file with the stamps it had when written is the file that was hashed then (the rule
        // of the input-hash memory: any write moves the status-change time); any other is hashed again.
        let stamp = FileStamp(path: jsonl.path)
        let unchanged = meta.jsonlStamp != nil && stamp == meta.jsonlStamp
        guard unchanged || (try? ContentHash.sha256(fileAt: jsonl.path))?.hex == meta.jsonlSHA256 else {
            try? FileManager.default.removeItem(at: metaURL)
            try? FileManager.default.removeItem(at: jsonl)
            return nil
        }
        // Hashed and intact, with other stamps (an entry of an earlier build, or one copied, restored or
        // hard-linked): its stamps are recorded again, so that it is hashed once and not every build.
        if !unchanged, let stamp, FileStamp(path: jsonl.path) == stamp {
            var m = meta
            m.jsonlStamp = stamp
            if let data = try? JSONCoding.encoder.encode(m), (try? data.write(to: metaURL, options: .atomic)) != nil { return m }
        }
        // Mark the entry used, for `skillforge cache gc`.
        try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: metaURL.path)
        return meta
    }

    // MARK: Fingerprints

    /// The first dedupe step's fingerprints of an entry's records (a whole-corpus step's per-chunk state:
    /// a build after new files arrived fingerprints only their records), kept beside the entry as
    /// `<key>.fp-<config>.bin` in `BinaryWriter`'s sealed form: the dedupe configuration, the entry's
    /// jsonl sha256 (the fingerprints belong to exactly those records), the width, then every record's words.
    struct StoredFingerprints {
        static let magic = "SFFP"
        var config: String
        var entry: String
        var width: Int
        var words: [UInt64]

        func encoded() -> Data {
            var w = BinaryWriter(magic: Self.magic)
            w.string(config)
            w.string(entry)
            w.int(width)
            w.int(words.count)
            for word in words { w.int64(Int64(bitPattern: word)) }
            return w.sealed()
        }

        init(config: String, entry: String, width: Int, words: [UInt64]) {
            self.config = config
            self.entry = entry
            self.width = width
            self.words = words
        }

        /// The fingerprints in `data`, or nil when it is not a complete, undamaged file of this form.
        init?(decoding data: Data) {
            guard var r = BinaryReader(unsealing: data, magic: Self.magic), let config = r.string(), let entry = r.string(),
                  let width = r.int(), let n = r.count() else { return nil }
            var words: [UInt64] = []
            words.reserveCapacity(n)
            for _ in 0..<n {
                guard let v = r.int64() else { return nil }
                words.append(UInt64(bitPattern: v))
            }
            guard r.atEnd else { return nil }
            self.init(config: config, entry: entry, width: width, words: words)
        }
    }

    func fingerprintsURL(_ key: String, config: String) -> URL {
        directory.appendingPathComponent("\(key).fp-\(ContentHash.sha256(config).prefix(16)).bin")
    }

    /// The stored fingerprints of the entry `key` (all records' words, in order), when present, intact and
    /// made from this entry's records for this configuration.
    func fingerprints(_ key: String, meta: Meta, config: String, width: Int) -> [UInt64]? {
        guard let data = FileManager.default.contents(atPath: fingerprintsURL(key, config: config).path),
              let stored = StoredFingerprints(decoding: data), stored.config == config, stored.entry == meta.jsonlSHA256,
              stored.width == width, width > 0, stored.words.count % width == 0 else { return nil }
        return stored.words
    }

    /// Stores an entry's fingerprints (atomically; a failure only costs the next build their computation).
    func saveFingerprints(_ key: String, entry: String, config: String, width: Int, words: [UInt64]) {
        guard width > 0, words.count % width == 0 else { return }
        try? StoredFingerprints(config: config, entry: entry, width: width, words: words).encoded()
            .write(to: fingerprintsURL(key, config: config), options: .atomic)
    }

    /// Writer for a new entry: records go to a temporary file; `commit` makes the entry visible.
    final class Pending {
        let key: String
        let cache: IngestCache
        let temp: URL
        let handle: FileHandle
        /// The entry's sha256, computed as its lines are written.
        var hasher = ContentHash.Stream()

        init(cache: IngestCache, key: String) throws {
            self.cache = cache
            self.key = key
            try FileManager.default.createDirectory(at: cache.directory, withIntermediateDirectories: true)
            temp = cache.directory.appendingPathComponent(".\(key).\(getpid()).tmp")
            guard FileManager.default.createFile(atPath: temp.path, contents: nil), let h = FileHandle(forWritingAtPath: temp.path) else {
                throw EngineError.io("cannot create the cache entry \(temp.path)")
            }
            handle = h
        }

        /// Appends native lines (each without its newline).
        func write(_ lines: [Data]) throws {
            var chunk = Data()
            chunk.reserveCapacity(lines.reduce(0) { $0 + $1.count + 1 })
            for line in lines {
                chunk.append(line)
                chunk.append(0x0A)
            }
            hasher.update(chunk)
            try handle.write(contentsOf: chunk)
        }

        /// The records' fingerprints as written (nil: not kept, or a record came without one).
        var fingerprints: [UInt64]? = []

        /// Adds the fingerprints of the records just written (nil: one of them had none).
        func add(fingerprints words: [UInt64]?) {
            guard let words, fingerprints != nil else { fingerprints = nil; return }
            fingerprints! += words
        }

        /// Makes the entry visible (the meta file is written last), with its records' fingerprints for
        /// `fingerprintConfig` when every record had one.
        func commit(_ meta: Meta, fingerprintConfig: (config: String, width: Int)? = nil) throws {
            try handle.synchronize()
            try handle.close()
            var m = meta
            m.jsonlSHA256 = hasher.finalize()
            let (jsonl, metaURL) = cache.paths(key)
            if rename(temp.path, jsonl.path) != 0 { throw EngineError.io("cannot write the cache entry \(jsonl.path)") }
            m.jsonlStamp = FileStamp(path: jsonl.path)  // after the rename, which moves the status-change time
            if let f = fingerprintConfig, let words = fingerprints {
                cache.saveFingerprints(key, entry: m.jsonlSHA256, config: f.config, width: f.width, words: words)
            }
            try JSONCoding.encoder.encode(m).write(to: metaURL, options: .atomic)
        }

        func abandon() {
            try? handle.close()
            try? FileManager.default.removeItem(at: temp)
        }
    }

    /// Removes entries not used for `days` days; returns how many were removed.
    static func collectGarbage(outDirectory: URL, keepDays: Double) throws -> Int {
        let dir = IngestCache(outDirectory: outDirectory).directory
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: dir.path) else { return 0 }
        let cutoff = Date().addingTimeInterval(-keepDays * 86_400)
        var removed = 0
        for n in names where n.hasSuffix(".meta.json") {
            let meta = dir.appendingPathComponent(n)
            let used = (try? fm.attributesOfItem(atPath: meta.path)[.modificationDate] as? Date) ?? .distantPast
            if used < cutoff {
                let key = String(n.dropLast(".meta.json".count))
                try? fm.removeItem(at: meta)
                try? fm.removeItem(at: dir.appendingPathComponent(key + ".jsonl"))
                for f in names where f.hasPrefix(key + ".fp-") { try? fm.removeItem(at: dir.appendingPathComponent(f)) }
                removed += 1
            }
        }
        for n in names where n.hasSuffix(".tmp") { try? fm.removeItem(at: dir.appendingPathComponent(n)) }
        // Fingerprints of entries that are gone (removed above, or as damaged by a build).
        for n in names where n.hasSuffix(".bin") {
            guard let r = n.range(of: ".fp-") else { continue }
            if !fm.fileExists(atPath: dir.appendingPathComponent(n[..<r.lowerBound] + ".meta.json").path) {
                try? fm.removeItem(at: dir.appendingPathComponent(n))
            }
        }
        return removed
    }
}
