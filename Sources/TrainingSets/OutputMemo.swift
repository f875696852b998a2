import Foundation
import Trajectories

/// Records of units of work (Conifer: task families) found again in the previous build's dataset files,
/// so that a nightly rebuild after new trajectories arrived remakes only the units whose trajectories
/// changed, and copies the others' records — without keeping a second copy of the dataset anywhere.
///
/// Each build writes an index beside the cache (`out/.cache/records/<output>.json`): per unit, the
/// sha256 of everything its records depend on (the tool version, the style's options, the unit's
/// trajectories byte for byte), its counts, and where each of its records lies in the installed split
/// files (file, offset, length). The index also records each split file's identity (device, inode,
/// size, modification and change times): if any differs (the output was edited, replaced, copied or is gone), the
/// index is not used and every unit is made again. A record is only taken when its bytes are where the
/// index says (a whole line); otherwise its unit is made again.
public final class OutputMemo: @unchecked Sendable {
    public let indexURL: URL
    /// The installed output the index points into (read before the new one replaces it).
    public let datasetDirectory: URL

    /// One unit: its counts, and per record `[member, file, offset, length, tags…]`.
    public struct Unit: Codable, Sendable {
        public var counts: [String: Int]
        public var records: [[Int]]
    }

    struct Index: Codable {
        var version: Int
        /// Split keys (`train`, `test`, `<config>/<split>`), the files being `<key>.jsonl`.
        var files: [String]
        var ids: [FileStamp]
        var units: [String: Unit]
    }

    private var previous: Index?
    /// The previous split files, open for reading (records are read with pread, not mapped, so they
    /// do not stay in memory).
    private var files: [RecordFile] = []
    /// The index of the build in progress.
    private var next: [String: Unit] = [:]

    public init(indexURL: URL, datasetDirectory: URL) {
        self.indexURL = indexURL
        self.datasetDirectory = datasetDirectory
        guard let data = FileManager.default.contents(atPath: indexURL.path),
              let index = try? JSONCoding.decoder.decode(Index.self, from: data),
              index.version == 1, index.files.count == index.ids.count else { return }
        var files: [RecordFile] = []
        for (key, id) in zip(index.files, index.ids) {
            let url = DatasetWriter.fileURL(key, in: datasetDirectory)
            guard FileStamp(path: url.path) == id, let file = RecordFile(reading: url) else { return }
            files.append(file)
        }
        self.files = files
        previous = index
    }

    /// The previous build's unit with this key, when each of its records is a whole line where the index says.
    public func lookup(_ key: String) -> Unit? {
        guard let unit = previous?.units[key] else { return nil }
        for r in unit.records {
            guard r.count >= 4, files.indices.contains(r[1]), r[2] >= 0, r[3] > 0 else { return nil }
            let offset = Int64(r[2]), length = r[3]
            // The byte before is a newline (or the file starts), the record starts with `{` and a newline follows it.
            let head = offset == 0 ? files[r[1]].read(offset: 0, count: 1) : files[r[1]].read(offset: offset - 1, count: 2)
            guard let head, head.last == 0x7B, offset == 0 || head.first == 0x0A,
                  files[r[1]].read(offset: offset + Int64(length), count: 1) == Data([0x0A]) else { return nil }
        }
        return unit
    }

    /// The bytes of a record `lookup` returned. Records kept by a rebuild come in the order the previous
    /// build wrote them (new ones fall between), so they are served from a window read ahead in large
    /// sequential reads.
    public func line(_ r: [Int]) throws -> Data {
        guard let d = files[r[1]].readAhead(offset: Int64(r[2]), count: r[3]) else {
            throw ReadError.readFailed(path: datasetDirectory.path, reason: "the previous output changed while the build read it")
        }
        return d
    }

    /// Starts a unit of the build in progress, with its counts (call once per unit, records or not).
    public func begin(unit key: String, counts: [String: Int]) {
        next[key] = Unit(counts: counts, records: [])
    }

    /// Notes where a unit's record went in the build in progress (call in writing order).
    public func wrote(unit key: String, member: Int, tags: [Int], file: String, offset: Int64, length: Int) {
        let f = fileIndex[file] ?? { fileIndex[file] = fileIndex.count; return fileIndex.count - 1 }()
        next[key]?.records.append([member, f, Int(offset), length] + tags)
    }

    private var fileIndex: [String: Int] = [:]

    /// Writes the index for the output now installed at `datasetDirectory` (after it was switched in).
    /// Failures are ignored: without an index the next build makes every unit.
    public func save() {
        let keys = fileIndex.sorted { $0.value < $1.value }.map(\.key)
        var ids: [FileStamp] = []
        for key in keys {
            guard let id = FileStamp(path: DatasetWriter.fileURL(key, in: datasetDirectory).path) else {
                try? FileManager.default.removeItem(at: indexURL)
                return
            }
            ids.append(id)
        }
        let index = Index(version: 1, files: keys, ids: ids, units: next)
        guard let data = try? JSONCoding.encoder.encode(index) else { return }
        try? FileManager.default.createDirectory(at: indexURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? data.write(to: indexURL, options: .atomic)
    }

    /// Forgets the index (before an output is replaced by one that was not indexed).
    public func discard() { try? FileManager.default.removeItem(at: indexURL) }

    /// Removes indexes not written for `days` days (their output left the pipelines); returns how many.
    public static func collectGarbage(root: URL, keepDays: Double) -> Int {
        let fm = FileManager.default
        let cutoff = Date().addingTimeInterval(-keepDays * 86_400)
        var removed = 0
        for n in (try? fm.contentsOfDirectory(atPath: root.path)) ?? [] where n.hasSuffix(".json") {
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
