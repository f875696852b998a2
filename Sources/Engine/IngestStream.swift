import Foundation
import Pipelines
import Prepare
import Trajectories

/// Ingest: every input of a build read in order, from the ingest cache when it has the file, else read,
/// decoded, joined with its outcomes and prepared through the cached per-record steps — which the
/// cache then stores.
///
/// The work is a pipeline one batch deep: while the engine hands batch n to dedupe and the outputs
/// (serial work), batch n+1 is read and its records decoded, prepared and encoded for the cache on the
/// other cores, each record whole by one worker. The pipeline runs across file boundaries, so a corpus
/// of many small files keeps the cores as busy as one large file.
extension BuildRunner {
    struct Ingested {
        var sha256 = ""
        var bytes: Int64 = 0
        /// Cache entries used and made (one per file, or one per chunk of a large native file).
        var entriesHit = 0
        var entriesMissed = 0
        var counts = IngestCache.Counts()
    }

    /// Ingests `inputs` in order, handing each batch of prepared records to `sink` (in file order) and
    /// each finished input to `done`. `known` holds input digests computed before (by path); the others
    /// are hashed alongside the reading. With `decodeHits` false, inputs found in the cache are only
    /// counted (shards need them in the cache, not in memory). With the cache on, each record carries its
    /// name there, `<entry key>:<line>` (outputs reuse the records of unchanged trajectories by it).
    func ingest(_ inputs: [ResolvedInput], prefix: PrepareChain, prefixSpec: [PrepareStepSpec], cache: IngestCache,
                known: [String: InputDigest] = [:], decodeHits: Bool = true,
                fingerprinter: Deduplicator? = nil,
                started: (ResolvedInput) -> Void = { _ in },
                done: (ResolvedInput, Ingested) throws -> Void, sink: ([Trajectory]) throws -> Void) throws {
        guard let steps = prefix.recordSteps else {
            preconditionFailure("the cached steps end before the first dedupe")
        }
        let stream = IngestStream(inputs: inputs, steps: steps, prefixSpec: prefixSpec, cache: cache, known: known,
                                  useCache: options.useCache, decodeHits: decodeHits,
                                  batchLines: options.batchLines, chunkBytes: options.chunkBytes,
                                  fingerprinter: options.useCache ? fingerprinter : nil,
                                  cancellation: options.cancellation)
        let fingerprintConfig = stream.fingerprinter.map { (config: $0.configID, width: $0.width) }
        // The producer is only ever run by one Prefetch at a time: the next starts after the last was taken.
        let step: @Sendable () -> Result<IngestStream.Event?, any Error> = { Result { try stream.next() } }
        var ahead = Prefetch(step)
        var pending: IngestCache.Pending?
        defer { pending?.abandon() }
        var current = Ingested()
        // The segment (whole file or chunk) being read: what it gave when it is not from the cache.
        var segment = IngestCache.Counts()
        var segmentHit = false
        var statsBefore = prefix.stats
        var cacheable = true
        while let event = try ahead.take().get() {
            ahead = Prefetch(step)
            try checkCancelled()
            switch event {
            case .start(let k):
                started(inputs[k])
                current = Ingested()
            case .segment(let key, let hit):
                segmentHit = hit != nil
                segment = .init()
                if let hit {
                    prefix.absorb(hit.stats)
                    current.counts.add(hit.counts)
                    current.entriesHit += 1
                } else {
                    current.entriesMissed += 1
                }
                statsBefore = prefix.stats
                cacheable = true
                if options.useCache && hit == nil, let key {
                    pending = try? IngestCache.Pending(cache: cache, key: key)
                }
            case .batch(let b):
                for t in b.tallies { prefix.absorb(t) }
                if !segmentHit {  // a cached segment's counts came with its entry
                    segment.quarantined += b.quarantine
                    segment.records += b.read
                    segment.repaired += b.repaired
                    segment.joined += b.joined
                }
                if let p = pending, cacheable {
                    if let lines = b.cacheLines {
                        do { try p.write(lines) } catch { cacheable = false }
                        p.add(fingerprints: b.fingerprints)
                    } else {
                        cacheable = false  // a record could not be encoded: this segment is not cached
                    }
                }
                try sink(b.records)
            case .segmentEnd(let dropped):
                guard !segmentHit else { break }
                segment.dropped = dropped
                // Excerpts are raw input: redacted before they are cached or reported.
                segment.quarantined = Self.redacted(segment.quarantined)
                current.counts.add(segment)
                if let p = pending {
                    pending = nil
                    if cacheable {
                        do {
                            try p.commit(IngestCache.Meta(jsonlSHA256: "", counts: segment, stats: prefix.delta(since: statsBefore)),
                                         fingerprintConfig: fingerprintConfig)
                        } catch {
                            p.abandon()  // a cache that cannot be written costs speed, not correctness
                        }
                    } else {
                        p.abandon()
                    }
                }
            case .end(let k, let sha, let bytes):
                current.sha256 = sha
                current.bytes = bytes
                try done(inputs[k], current)
            }
        }
    }

    /// The input's digest: its sha256 and size, and its chunks when it is a native file larger than `chunkBytes`.
    static func hashInput(_ input: ResolvedInput, chunkBytes: Int?) throws -> InputDigest {
        do {
            guard let size = fileSize(atPath: input.path) else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
            let chunked = chunkBytes.map { InputDigest.chunked(input, bytes: size, chunkBytes: $0) } ?? false
            return try InputDigest.compute(path: input.path, chunkBytes: chunked ? chunkBytes : nil)
        } catch {
            throw EngineError.inputUnreadable(file: input.display, reason: "\(error)")
        }
    }
}

/// The producing side of ingest: called again and again (never concurrently), it returns the next event
/// of the input list — an input starts, a batch of it is ready, it ends.
final class IngestStream: @unchecked Sendable {
    enum Event {
        /// An input begins.
        case start(input: Int)
        /// A segment of it begins (the whole file, or a chunk of a large native file): `key` is its cache
        /// entry (nil without the cache), `hit` the entry's record when its records come from the cache.
        case segment(key: String?, hit: IngestCache.Meta?)
        case batch(Batch)
        /// The segment is finished; what its importer left out on purpose.
        case segmentEnd(dropped: [String: Int])
        /// The input is finished: its sha256 and size.
        case end(input: Int, sha256: String, bytes: Int64)
    }

    struct Batch {
        /// Prepared records, in file order.
        var records: [Trajectory]
        /// The records' cache lines, when the input is being cached (nil if one could not be encoded).
        var cacheLines: [Data]?
        /// The records' fingerprints for the first dedupe step, all words in order (nil: not kept).
        var fingerprints: [UInt64]?
        /// What the per-record steps did to each record read (cache misses only).
        var tallies: [RecordTally]
        var read: Int
        var repaired: Int
        var joined: Int
        var quarantine: [QuarantineEntry]
    }

    private enum Source {
        case none
        case cached(LineReader, display: String, prints: CachedPrints?)
        /// A line format (native, openai-messages): read in batches, each line decoded on its own on every core.
        case lines(LineReader, LineFormat)
        case imported([Trajectory], next: Int, dropped: [String: Int], quarantine: [QuarantineEntry])
        case counted
    }

    private let inputs: [BuildRunner.ResolvedInput]
    private let steps: RecordSteps
    private let prefixSpec: [PrepareStepSpec]
    private let cache: IngestCache
    private let known: [String: InputDigest]
    private let useCache: Bool
    private let decodeHits: Bool
    /// The first dedupe step after the cached ones, whose fingerprints are computed at ingest and kept
    /// with the cache entries (only its configuration is used: `computeFingerprint` reads nothing else).
    nonisolated(unsafe) let fingerprinter: Deduplicator?
    private let batchLines: Int
    private let cancellation: Cancellation?

    private let chunkBytes: Int
    private var k = -1
    private var source = Source.none
    private var hash: Prefetch<Result<InputDigest, any Error>>?
    /// The current input's segments not yet started (nil: no input is open).
    private var segments: [IngestCache.Segment?]?
    /// The segment being read: its cache key, and how many of its records (cache lines) came so far.
    private var segmentKey: String?
    private var segmentRecords = 0
    /// What a line format's import left out in the segment being read, by kind.
    private var lineDropped: [String: Int] = [:]

    init(inputs: [BuildRunner.ResolvedInput], steps: RecordSteps, prefixSpec: [PrepareStepSpec], cache: IngestCache,
         known: [String: InputDigest], useCache: Bool, decodeHits: Bool, batchLines: Int, chunkBytes: Int,
         fingerprinter: Deduplicator? = nil, cancellation: Cancellation?) {
        self.fingerprinter = fingerprinter
        self.chunkBytes = chunkBytes
        self.inputs = inputs
        self.steps = steps
        self.prefixSpec = prefixSpec
        self.cache = cache
        self.known = known
        self.useCache = useCache
        self.decodeHits = decodeHits
        self.batchLines = batchLines
        self.cancellation = cancellation
    }

    func next() throws -> Event? {
        if cancellation?.isCancelled == true { throw EngineError.interrupted }
        switch source {
        case .none:
            if var rest = segments {
                guard !rest.isEmpty else { return try end() }
                let segment = rest.removeFirst()
                segments = rest
                return try open(segment, of: inputs[k])
            }
            k += 1
            guard k < inputs.count else { return nil }
            return try open(inputs[k])
        case .cached(let reader, let display, let prints):
            guard let batch = try reader.nextBatch(maxLines: batchLines) else {
                prints?.finish(cache: cache)
                return endSegment(dropped: [:])
            }
            // Each record keeps its name in the cache (output styles key their reuse on it) and its dedupe
            // fingerprint (stored with the entry, or computed now and stored after).
            let identity = segmentKey
            let first = segmentRecords
            segmentRecords += batch.lines.count
            let decoded = Parallel.map(Array(batch.lines.enumerated()), minChunk: 1) { j, line -> Trajectory? in
                guard case .trajectory(var t, _) = NativeReader.decode(batch.bytes[line.range], file: display, line: line.number) else { return nil }
                if let identity { t.digest.identity = "\(identity):\(first + j)" }
                if let prints { t.digest.fingerprint = prints.fingerprint(of: t, at: first + j) }
                return t
            }
            prints?.advance(records: decoded)
            let records = decoded.compactMap { $0 }
            return .batch(Batch(records: records, cacheLines: nil, tallies: [], read: records.count, repaired: 0, joined: 0, quarantine: []))
        case .lines(let reader, let format):
            let input = inputs[k]
            guard let batch = try reader.nextBatch(maxLines: batchLines) else {
                let dropped = lineDropped
                lineDropped = [:]
                return endSegment(dropped: dropped)
            }
            let display = input.display
            var quarantine = batch.overlong.map {
                NativeReader.overlongLine(file: display, line: $0.number, bytes: $0.bytes, limit: input.importOptions.maxRecordBytes)
            }
            let options = input.importOptions
            let prepared = Parallel.map(batch.lines, minChunk: 1) { line -> (Prepared, [String: Int]) in
                let decoded = format.decode(batch.bytes[line.range], file: display, line: line.number, options: options)
                switch decoded.result {
                case .trajectory(let t, let fixed): return (self.prepare(t, repaired: fixed, table: input.outcomes), decoded.dropped)
                case .quarantined(let q): return (Prepared(quarantined: q), [:])
                }
            }
            for (_, dropped) in prepared where !dropped.isEmpty { lineDropped.merge(dropped, uniquingKeysWith: +) }
            return .batch(collect(prepared.map(\.0), quarantine: &quarantine))
        case .imported(let all, let start, let dropped, var quarantine):
            guard start < all.count else {
                if quarantine.isEmpty { return endSegment(dropped: dropped) }
                source = .imported(all, next: start, dropped: dropped, quarantine: [])
                var last = Batch(records: [], cacheLines: useCache ? [] : nil, tallies: [], read: 0, repaired: 0, joined: 0, quarantine: quarantine)
                last.fingerprints = fingerprinter == nil ? nil : []
                return .batch(last)
            }
            let end = min(start + batchLines, all.count)
            let table = inputs[k].outcomes
            let prepared = Parallel.map(Array(all[start..<end]), minChunk: 1) { self.prepare($0, repaired: false, table: table) }
            source = .imported(all, next: end, dropped: dropped, quarantine: [])
            return .batch(collect(prepared, quarantine: &quarantine))
        case .counted:
            return endSegment(dropped: [:])
        }
    }

    /// One record as a worker left it.
    private struct Prepared {
        var record: Trajectory?
        var line: Data?
        var tally = RecordTally()
        var repaired = false
        var joined = false
        var quarantined: QuarantineEntry?
        init(quarantined: QuarantineEntry) { self.quarantined = quarantined }
        init(record: Trajectory?, line: Data?, tally: RecordTally, repaired: Bool, joined: Bool) {
            self.record = record
            self.line = line
            self.tally = tally
            self.repaired = repaired
            self.joined = joined
        }
    }

    /// A worker's whole job for one record: outcome join, the per-record steps, the cache line.
    private func prepare(_ t: Trajectory, repaired: Bool, table: OutcomeTable?) -> Prepared {
        var t = t
        let joined = table?.join(&t) ?? false
        var (record, tally) = steps.apply(t)
        let line = useCache ? record.flatMap { try? NativeWriter.line($0) } : nil
        if let fingerprinter, let r = record {
            record?.digest.fingerprint = .init(config: fingerprinter.configID, words: fingerprinter.computeFingerprint(r).words)
        }
        return Prepared(record: record, line: line, tally: tally, repaired: repaired, joined: joined)
    }

    private func collect(_ prepared: [Prepared], quarantine: inout [QuarantineEntry]) -> Batch {
        var b = Batch(records: [], cacheLines: useCache ? [] : nil, tallies: [], read: 0, repaired: 0, joined: 0, quarantine: [])
        b.fingerprints = fingerprinter == nil ? nil : []
        b.records.reserveCapacity(prepared.count)
        b.tallies.reserveCapacity(prepared.count)
        for p in prepared {
            if let q = p.quarantined { quarantine.append(q); continue }
            b.read += 1
            if p.repaired { b.repaired += 1 }
            if p.joined { b.joined += 1 }
            b.tallies.append(p.tally)
            if var r = p.record {
                // Its name in the cache entry being written: the entry's key and its line there.
                if p.line != nil, let key = segmentKey {
                    r.digest.identity = "\(key):\(segmentRecords)"
                    segmentRecords += 1
                }
                b.records.append(r)
                if let line = p.line { b.cacheLines?.append(line) } else { b.cacheLines = nil }
                if let words = r.digest.fingerprint?.words { b.fingerprints?.append(contentsOf: words) } else { b.fingerprints = nil }
            }
        }
        b.quarantine = quarantine
        return b
    }

    /// Starts an input: its digest (remembered, or hashed — on another thread while it is read when
    /// the cache is off), and the segments its ingest is cached in.
    private func open(_ input: BuildRunner.ResolvedInput) throws -> Event {
        if let h = known[input.path] {
            hash = Prefetch(value: .success(h))
        } else {
            let chunkBytes = useCache ? chunkBytes : nil
            hash = Prefetch { Result { try BuildRunner.hashInput(input, chunkBytes: chunkBytes) } }
        }
        if useCache {
            let digest = try hash!.take().get()
            hash = Prefetch(value: .success(digest))
            segments = IngestCache.segments(digest, input: input, steps: prefixSpec)
        } else {
            segments = [nil]  // the whole file, not cached
        }
        return .start(input: k)
    }

    /// Starts a segment: from its cache entry when there is one, else read from the file.
    private func open(_ segment: IngestCache.Segment?, of input: BuildRunner.ResolvedInput) throws -> Event {
        segmentKey = segment?.key
        segmentRecords = 0
        if let segment, let hit = cache.lookup(segment.key) {
            if decodeHits {
                let prints = fingerprinter.map { CachedPrints(key: segment.key, entry: hit, dedupe: $0, cache: cache) }
                source = .cached(try LineReader(path: cache.paths(segment.key).jsonl.path), display: input.display, prints: prints)
            } else {
                source = .counted
            }
            return .segment(key: segment.key, hit: hit)
        }
        if let format = LineFormat(rawValue: input.format) {
            do {
                lineDropped = [:]
                source = .lines(try LineReader(path: input.path, maxLineBytes: input.importOptions.maxRecordBytes,
                                               range: segment?.range, firstLine: segment?.firstLine ?? 1), format)
            } catch {
                throw EngineError.inputUnreadable(file: input.display, reason: "\(error)")
            }
        } else {
            // Foreign formats are documents (or sessions) read whole by their importer, then prepared in batches.
            let imported: ImportResult
            do {
                imported = try Importers.importFile(path: input.path, display: input.display, format: input.format, options: input.importOptions)
            } catch {
                throw EngineError.inputUnreadable(file: input.display, reason: "\(error)")
            }
            source = .imported(imported.trajectories, next: 0, dropped: imported.dropped, quarantine: imported.quarantined)
        }
        return .segment(key: segment?.key, hit: nil)
    }

    private func endSegment(dropped: [String: Int]) -> Event {
        source = .none
        return .segmentEnd(dropped: dropped)
    }

    private func end() throws -> Event {
        segments = nil
        let result = hash!.take()
        hash = nil
        let digest = try result.get()
        return .end(input: k, sha256: digest.sha256, bytes: digest.bytes)
    }
}

/// The first dedupe step's fingerprints of a cached entry's records, read from beside the entry — or,
/// for entries cached without them, computed while the entry is read and stored when it is done.
final class CachedPrints: @unchecked Sendable {
    let key: String
    let entry: IngestCache.Meta
    nonisolated(unsafe) let dedupe: Deduplicator
    let stored: [UInt64]?
    /// Computed words, in order, when none were stored (nil once a record could not be decoded).
    private var computed: [UInt64]? = []

    init(key: String, entry: IngestCache.Meta, dedupe: Deduplicator, cache: IngestCache) {
        self.key = key
        self.entry = entry
        self.dedupe = dedupe
        stored = cache.fingerprints(key, meta: entry, config: dedupe.configID, width: dedupe.width)
    }

    /// The fingerprint of record `index` (read on any thread).
    func fingerprint(of t: Trajectory, at index: Int) -> Trajectory.StoredFingerprint {
        let w = dedupe.width
        if let stored, (index + 1) * w <= stored.count {
            return .init(config: dedupe.configID, words: Array(stored[(index * w)..<((index + 1) * w)]))
        }
        return .init(config: dedupe.configID, words: dedupe.computeFingerprint(t).words)
    }

    /// After a batch (every line's record, nil where one could not be decoded): keeps computed words to store.
    func advance(records: [Trajectory?]) {
        guard stored == nil else { return }
        for r in records {
            guard let words = r?.digest.fingerprint?.words else { computed = nil; return }
            computed?.append(contentsOf: words)
        }
    }

    /// At the end of the entry: stores what was computed (when no fingerprints were stored).
    func finish(cache: IngestCache) {
        guard stored == nil, let computed else { return }
        cache.saveFingerprints(key, entry: entry.jsonlSHA256, config: dedupe.configID, width: dedupe.width, words: computed)
    }
}
