import Foundation
import Trajectories

/// Records of units of work (Conifer: task families) found again in the previous build's dataset files,
/// so that a nightly rebuild after new trajectories arrived remakes only the units whose trajectories
/// changed, and copies the others' records — without keeping a second copy of the dataset anywhere —
/// or, where a whole part file holds the same records, links that file (see `DatasetWriter`).
///
/// Each build writes an index beside the cache (`out/.cache/records/<output>.index`): per unit, the
/// sha256 of everything its records depend on (the tool version, the style's options, the unit's
/// trajectories byte for byte), its counts, and where each of its records lies in the installed part
/// files (file, offset, length); per part file, its split, hash, size and record count and its identity
/// (device, inode, size, modification and change times). If any file's identity differs (the output was
/// edited, replaced, copied or is gone), the index is not used and every unit is made again. A record
/// is only taken when its bytes are where the index says (a whole line); otherwise its unit is made again.
public final class OutputMemo: @unchecked Sendable {
    public let indexURL: URL
    /// The installed output the index points into (read before the new one replaces it).
    public let datasetDirectory: URL

    /// One unit: its counts, per record `[member, file, offset, length, tags…]`, per record the key
    /// naming its content (what its bytes depend on), by which parts are matched, and what else the
    /// style keeps about the unit (CS-Chain: every situation's scenario, whether written or not).
    public struct Unit: Sendable {
        public var counts: [String: Int]
        public var records: [[Int]]
        public var keys: [String]
        public var notes: [String]?
    }

    /// One part file of the previous build, as the index recorded it.
    struct IndexFile {
        /// `data/train/train-00003`, `data/<config>/<split>/<split>-00000`: the file is `<key>.jsonl`.
        var key: String
        var split: String
        var id: FileStamp
        var records: Int
        var sha256: String
        /// Its size (the stamp's: the file was checked to be the one indexed).
        var bytes: Int64 { id.size }
    }

    struct Index {
        var version: Int
        var files: [IndexFile]
        var units: [String: Unit]
    }

    /// A part file of the previous build whose every record belongs to a unit: the keys of its records
    /// in file order, so that a new part with the same records can link it.
    public struct PreviousPart: @unchecked Sendable {
        public let file: RecordFile
        public let keys: [String]
        public let info: Manifest.PartInfo
    }

    /// Bump when what the index records changes meaning.
    static let indexVersion = 5

    private var previous: Index?
    /// The previous part files, open for reading (records are read with pread, not mapped, so they
    /// do not stay in memory).
    private var files: [RecordFile] = []
    /// Previous parts by split and the key of their first record.
    private var parts: [String: PreviousPart] = [:]
    /// The index of the build in progress.
    private var next: [String: Unit] = [:]

    public init(indexURL: URL, datasetDirectory: URL) {
        self.indexURL = indexURL
        self.datasetDirectory = datasetDirectory
        guard let data = FileManager.default.contents(atPath: indexURL.path),
              let index = Index(decoding: data), index.version == Self.indexVersion else { return }
        var files: [RecordFile] = []
        for f in index.files {
            let url = DatasetWriter.fileURL(f.key, in: datasetDirectory)
            guard FileStamp(path: url.path) == f.id, let file = RecordFile(reading: url) else { return }
            files.append(file)
        }
        self.files = files
        previous = index
        // Which records each file holds, in order; a file is a linkable part when they are exactly its lines.
        var held: [[(offset: Int, length: Int, key: String)]] = Array(repeating: [], count: files.count)
        for u in index.units.values where u.keys.count == u.records.count {
            for (r, key) in zip(u.records, u.keys) where r.count >= 4 && held.indices.contains(r[1]) {
                held[r[1]].append((r[2], r[3], key))
            }
        }
        for (k, f) in index.files.enumerated() {
            let records = held[k].sorted { $0.offset < $1.offset }
            var at = 0
            for r in records {
                guard r.offset == at else { break }
                at += r.length + 1
            }
            guard !records.isEmpty, records.count == f.records, Int64(at) == f.bytes else { continue }
            parts[f.split + "\n" + records[0].key] = PreviousPart(file: files[k], keys: records.map(\.key),
                                                                  info: .init(file: f.key + ".jsonl", records: f.records, bytes: f.bytes, sha256: f.sha256))
        }
    }

    /// The previous part of this split whose first record has this key.
    public func part(split: String, startingWith key: String) -> PreviousPart? { parts[split + "\n" + key] }

    /// The previous build's unit with this key, when each of its records lies within its file. (Whether a
    /// record is a whole line there is checked when it is read: the index is sealed and its files' stamps
    /// are checked, so this only guards against a file changed without its stamps changing.)
    public func lookup(_ key: String) -> Unit? {
        guard let previous, let unit = previous.units[key], unit.keys.count == unit.records.count else { return nil }
        for r in unit.records {
            guard r.count >= 4, files.indices.contains(r[1]), r[2] >= 0, r[3] > 0,
                  Int64(r[2]) + Int64(r[3]) < previous.files[r[1]].bytes else { return nil }
        }
        return unit
    }

    /// The bytes of a record `lookup` returned, checked to be a whole line (a newline or the file's start
    /// before it, `{` first, a newline after). Records kept by a rebuild come in the order the previous
    /// build wrote them (new ones fall between), so they are served from a window read ahead in large
    /// sequential reads. A record that is not where the index says fails the build and the index is
    /// removed, so the next build makes every unit again.
    public func line(_ r: [Int]) throws -> Data {
        let offset = Int64(r[2]), length = r[3]
        let from = max(0, offset - 1)
        guard let d = files[r[1]].readAhead(offset: from, count: length + 1 + Int(offset - from)) else {
            discard()
            throw ReadError.readFailed(path: files[r[1]].url.path, reason: "the previous output changed while the build read it; build again")
        }
        let start = d.startIndex + Int(offset - from)
        guard offset == 0 || d[d.startIndex] == 0x0A, d[start] == 0x7B, d[d.endIndex - 1] == 0x0A else {
            discard()
            throw ReadError.readFailed(path: files[r[1]].url.path,
                                       reason: "a record of the previous build is not where its index says (the file changed without its stamps changing); build again")
        }
        return d.subdata(in: start..<(d.endIndex - 1))
    }

    /// Starts a unit of the build in progress, with its counts (call once per unit, records or not).
    public func begin(unit key: String, counts: [String: Int], notes: [String]? = nil) {
        next[key] = Unit(counts: counts, records: [], keys: [], notes: notes)
    }

    /// Notes where a unit's record (named `record`) went in the build in progress (call in writing order).
    public func wrote(unit key: String, member: Int, tags: [Int], record: String, file: String, offset: Int64, length: Int) {
        let f = fileIndex[file] ?? { fileIndex[file] = fileIndex.count; return fileIndex.count - 1 }()
        next[key]?.records.append([member, f, Int(offset), length] + tags)
        next[key]?.keys.append(record)
    }

    private var fileIndex: [String: Int] = [:]

    /// Writes the index for the output now installed at `datasetDirectory` (after it was switched in),
    /// from its manifest. Failures are ignored: without an index the next build makes every unit.
    public func save(manifest: Manifest) {
        let keys = fileIndex.sorted { $0.value < $1.value }.map(\.key)
        var byKey: [String: (split: String, info: Manifest.PartInfo)] = [:]
        for (split, info) in manifest.splits {
            for p in info.parts { byKey[String(p.file.dropLast(".jsonl".count))] = (split, p) }
        }
        var entries: [IndexFile] = []
        for key in keys {
            guard let (split, p) = byKey[key], let id = FileStamp(path: DatasetWriter.fileURL(key, in: datasetDirectory).path) else {
                try? FileManager.default.removeItem(at: indexURL)
                return
            }
            entries.append(IndexFile(key: key, split: split, id: id, records: p.records, sha256: p.sha256))
        }
        let index = Index(version: Self.indexVersion, files: entries, units: next)
        try? FileManager.default.createDirectory(at: indexURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? index.encoded().write(to: indexURL, options: .atomic)
    }

    /// Forgets the index (before an output is replaced by one that was not indexed).
    public func discard() { try? FileManager.default.removeItem(at: indexURL) }

    /// Removes record indexes and skills feature files not written for `days` days (their output left
    /// the pipelines), and indexes of earlier versions (`.json`); returns how many.
    public static func collectGarbage(root: URL, keepDays: Double) -> Int {
        let fm = FileManager.default
        let cutoff = Date().addingTimeInterval(-keepDays * 86_400)
        var removed = 0
        for n in (try? fm.contentsOfDirectory(atPath: root.path)) ?? [] where n.hasSuffix(".index") || n.hasSuffix(".features") || n.hasSuffix(".json") {
            let url = root.appendingPathComponent(n)
            let written = (try? fm.attributesOfItem(atPath: url.path)[.modificationDate] as? Date) ?? .distantPast
            if written < cutoff, (try? fm.removeItem(at: url)) != nil { removed += 1 }
        }
        return removed
    }

    /// sha256 over the parts, each length-prefixed (so no two different part lists collide by concatenation).
    public static func key(_ parts: [Data]) -> String {
        var h = ContentHash.Stream()
        for p in parts {
            h.update(Data(String(p.count).utf8 + [0x3A]))
            h.update(p)
        }
        return h.finalize()
    }
}

/// A file of records read back by offset and length (pread), or written by appending.
public final class RecordFile: @unchecked Sendable {
    let fd: Int32
    public let url: URL
    private var buffer: [UInt8] = []
    private var written: Int64 = 0

    /// Opens an existing file for reading.
    public init?(reading url: URL) {
        fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { return nil }
        self.url = url
    }

    /// Creates (truncates) a file to append records to and read them back.
    public init(creating url: URL) throws {
        fd = open(url.path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw ReadError.cannotOpen(path: url.path, reason: String(cString: strerror(errno))) }
        self.url = url
    }

    deinit { close(fd) }

    /// Appends bytes; returns where they start.
    public func append(_ data: Data) throws -> Int64 {
        let at = written + Int64(buffer.count)
        buffer.append(contentsOf: data)
        if buffer.count >= 1 << 20 { try flush() }
        return at
    }

    public func flush() throws {
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, buffer.count - done, off_t(written + Int64(done))) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError.readFailed(path: url.path, reason: "write failed: " + String(cString: strerror(errno)))
            }
            done += n
        }
        written += Int64(buffer.count)
        buffer.removeAll(keepingCapacity: true)
    }

    private var window = Data()
    private var windowStart: Int64 = 0

    /// Like `read`, through a window of at least 8 MiB moved forward by large reads: cheap when the
    /// offsets mostly increase.
    public func readAhead(offset: Int64, count: Int) -> Data? {
        if offset >= windowStart, offset + Int64(count) <= windowStart + Int64(window.count) {
            let lo = window.startIndex + Int(offset - windowStart)
            return window.subdata(in: lo..<(lo + count))
        }
        if offset < windowStart { return read(offset: offset, count: count) }
        guard let w = read(offset: offset, count: max(count, 8 << 20), partial: true), w.count >= count else { return nil }
        window = w
        windowStart = offset
        return w.prefix(count)
    }

    /// `count` bytes at `offset`, or nil when the file is shorter (with `partial`: what there is) or
    /// cannot be read.
    public func read(offset: Int64, count: Int, partial: Bool = false) -> Data? {
        var out = Data(count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + Int64(done))) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 || (n == 0 && !partial) { return nil }
            if n == 0 { return out.prefix(done) }
            done += n
        }
        return out
    }
}
