import Foundation
import Trajectories

/// The record index on disk, in `BinaryWriter`'s form (JSON took a large share of a nightly rebuild to
/// read and write): the magic `SFRX`, a format number, the files, the units, and a sha256 trailer —
/// an index that does not check out is not used (every unit is made again).
extension OutputMemo.Index {
    static let magic = "SFRX"

    func encoded() -> Data {
        var w = BinaryWriter(magic: Self.magic)
        w.int(version)
        w.int(files.count)
        for f in files {
            w.string(f.key)
            w.string(f.split)
            for v in [Int64(bitPattern: f.id.device), Int64(bitPattern: f.id.inode), f.id.size, f.id.mtimeNS, f.id.ctimeNS] { w.int64(v) }
            w.int(f.records)
            w.string(f.sha256)
        }
        w.int(units.count)
        for key in units.keys.sorted() {
            let u = units[key]!
            w.string(key)
            w.int(u.counts.count)
            for k in u.counts.keys.sorted() {
                w.string(k)
                w.int(u.counts[k]!)
            }
            w.int(u.records.count)
            for r in u.records {
                w.int(r.count)
                for v in r { w.int(v) }
            }
            w.int(u.keys.count)
            for k in u.keys { w.string(k) }
            if let notes = u.notes {
                w.int(notes.count)
                for n in notes { w.string(n) }
            } else {
                w.int(-1)
            }
        }
        return w.sealed()
    }

    /// The index in `data`, or nil when it is not a complete, undamaged index of this format.
    init?(decoding data: Data) {
        guard var r = BinaryReader(unsealing: data, magic: Self.magic) else { return nil }
        guard let version = r.int(), let fileCount = r.count() else { return nil }
        var files: [OutputMemo.IndexFile] = []
        for _ in 0..<fileCount {
            guard let key = r.string(), let split = r.string(), let device = r.int64(), let inode = r.int64(), let size = r.int64(),
                  let mtime = r.int64(), let ctime = r.int64(), let records = r.int(), let sha = r.string() else { return nil }
            let id = FileStamp(device: UInt64(bitPattern: device), inode: UInt64(bitPattern: inode), size: size, mtimeNS: mtime, ctimeNS: ctime)
            files.append(.init(key: key, split: split, id: id, records: records, sha256: sha))
        }
        guard let unitCount = r.count() else { return nil }
        var units: [String: OutputMemo.Unit] = [:]
        units.reserveCapacity(unitCount)
        for _ in 0..<unitCount {
            guard let key = r.string(), let countCount = r.count() else { return nil }
            var counts: [String: Int] = [:]
            for _ in 0..<countCount {
                guard let k = r.string(), let v = r.int() else { return nil }
                counts[k] = v
            }
            guard let recordCount = r.count() else { return nil }
            var records: [[Int]] = []
            records.reserveCapacity(recordCount)
            for _ in 0..<recordCount {
                guard let n = r.count() else { return nil }
                var rec: [Int] = []
                for _ in 0..<n {
                    guard let v = r.int() else { return nil }
                    rec.append(v)
                }
                records.append(rec)
            }
            guard let keyCount = r.count() else { return nil }
            var keys: [String] = []
            for _ in 0..<keyCount {
                guard let k = r.string() else { return nil }
                keys.append(k)
            }
            guard let noteCount = r.int() else { return nil }
            var notes: [String]?
            if noteCount >= 0 {
                var n: [String] = []
                for _ in 0..<noteCount {
                    guard let s = r.string() else { return nil }
                    n.append(s)
                }
                notes = n
            }
            units[key] = OutputMemo.Unit(counts: counts, records: records, keys: keys, notes: notes)
        }
        guard r.atEnd else { return nil }
        self.init(version: version, files: files, units: units)
    }
}
