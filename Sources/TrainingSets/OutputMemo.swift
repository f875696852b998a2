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

    struct FileID: Codable, Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var mtimeNanos: Int64
        var ctimeNanos: Int64
    }

    /// One unit: its counts, and per record `[member, file, offset, length, tags…]`.
    public struct Unit: Codable, Sendable {
        public var counts: [String: Int]
        public var records: [[Int]]
    }

    struct Index: Codable {
        var version: Int
        /// Split keys (`train`, `test`, `<config>/<split>`), the files being `<key>.jsonl`.
        var files: [String]
        var ids: [FileID]
        var units: [String: Unit]
    }

    private var previous: Index?
    private var maps: [Data] = []
    /// The index of the build in progress.
    private var next: [String: Unit] = [:]

    public init(indexURL: URL, datasetDirectory: URL) {
        self.indexURL = indexURL
        self.datasetDirectory = datasetDirectory
        guard let data = FileManager.default.contents(atPath: indexURL.path),
              let index = try? JSONCoding.decoder.decode(Index.self, from: data),
              index.version == 1, index.files.count == index.ids.count else { return }
        var maps: [Data] = []
        for (key, id) in zip(index.files, index.ids) {
            let url = datasetDirectory.appendingPathComponent(key + ".jsonl")
            guard Self.identity(url) == id, let map = try? Data(contentsOf: url, options: .alwaysMapped), Int64(map.count) == id.size else { return }
            maps.append(map)
        }
        self.maps = maps
        previous = index
    }

    /// The previous build's unit with this key, when each of its records is a whole line where the index says.
    public func lookup(_ key: String) -> Unit? {
        guard let unit = previous?.units[key] else { return nil }
        for r in unit.records {
            guard r.count >= 4, maps.indices.contains(r[1]) else { return nil }
            let map = maps[r[1]], offset = r[2], length = r[3]
            guard offset >= 0, length > 0, offset + length < map.count, map[map.startIndex + offset] == 0x7B,
                  map[map.startIndex + offset + length] == 0x0A, offset == 0 || map[map.startIndex + offset - 1] == 0x0A else { return nil }
        }
        return unit
    }

    /// The bytes of a record `lookup` returned.
    public func line(_ r: [Int]) -> Data {
        let map = maps[r[1]]
        return map.subdata(in: (map.startIndex + r[2])..<(map.startIndex + r[2] + r[3]))
    }

    /// Notes where a unit's record went in the build in progress (call in writing order).
    public func wrote(unit key: String, counts: [String: Int], member: Int, tags: [Int], file: String, offset: Int64, length: Int) {
        let f = fileIndex[file] ?? { fileIndex[file] = fileIndex.count; return fileIndex.count - 1 }()
        next[key, default: Unit(counts: counts, records: [])].records.append([member, f, Int(offset), length] + tags)
    }

    /// A unit that has no records (still worth remembering: making it again costs the same).
    public func wroteNothing(unit key: String, counts: [String: Int]) {
        if next[key] == nil { next[key] = Unit(counts: counts, records: []) }
    }

    private var fileIndex: [String: Int] = [:]

    /// Writes the index for the output now installed at `datasetDirectory` (after it was switched in).
    /// Failures are ignored: without an index the next build makes every unit.
    public func save() {
        let keys = fileIndex.sorted { $0.value < $1.value }.map(\.key)
        var ids: [FileID] = []
        for key in keys {
            guard let id = Self.identity(datasetDirectory.appendingPathComponent(key + ".jsonl")) else {
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

    static func identity(_ url: URL) -> FileID? {
        var st = stat()
        guard stat(url.path, &st) == 0 else { return nil }
        return FileID(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                      mtimeNanos: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
                      ctimeNanos: Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec))
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
