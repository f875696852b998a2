import Foundation
import Trajectories

/// The record index on disk: a compact binary form (JSON took a large share of a nightly rebuild to
/// read and write). Layout: the magic `SFRX`, a format number, then little-endian 64-bit integers and
/// length-prefixed UTF-8 strings for the files and units, and last the sha256 of everything before
/// it — an index that does not check out is not used (every unit is made again).
extension OutputMemo.Index {
    static let magic: [UInt8] = Array("SFRX".utf8)

    func encoded() -> Data {
        var w = Writer()
        w.bytes.append(contentsOf: Self.magic)
        w.int(version)
        w.int(files.count)
        for f in files {
            w.string(f.key)
            w.string(f.split)
            for v in [Int64(bitPattern: f.id.device), Int64(bitPattern: f.id.inode), f.id.size, f.id.mtimeNS, f.id.ctimeNS] { w.int64(v) }
            w.int(f.records)
            w.int64(f.bytes)
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
        let digest = ContentHash.sha256Words(Data(w.bytes))
        for d in digest { w.int64(Int64(bitPattern: d)) }
        return Data(w.bytes)
    }

    /// The index in `data`, or nil when it is not a complete, undamaged index of this format.
    init?(decoding data: Data) {
        guard data.count >= Self.magic.count + 32, Array(data.prefix(Self.magic.count)) == Self.magic else { return nil }
        let body = data.prefix(data.count - 32)
        var check = Reader(data.suffix(32))
        guard let stored = (0..<4).map({ _ in check.int64() }) as [Int64?]?, stored.allSatisfy({ $0 != nil }),
              stored.map({ UInt64(bitPattern: $0!) }) == ContentHash.sha256Words(Data(body)) else { return nil }
        var r = Reader(body.dropFirst(Self.magic.count))
        guard let version = r.int(), let fileCount = r.count() else { return nil }
        var files: [OutputMemo.IndexFile] = []
        for _ in 0..<fileCount {
            guard let key = r.string(), let split = r.string(), let device = r.int64(), let inode = r.int64(), let size = r.int64(),
                  let mtime = r.int64(), let ctime = r.int64(), let records = r.int(), let bytes = r.int64(), let sha = r.string() else { return nil }
            let id = FileStamp(device: UInt64(bitPattern: device), inode: UInt64(bitPattern: inode), size: size, mtimeNS: mtime, ctimeNS: ctime)
            files.append(.init(key: key, split: split, id: id, records: records, bytes: bytes, sha256: sha))
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

    private struct Writer {
        var bytes: [UInt8] = []
        mutating func int64(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
        mutating func int(_ v: Int) { int64(Int64(v)) }
        mutating func string(_ s: String) {
            int(s.utf8.count)
            bytes.append(contentsOf: s.utf8)
        }
    }

    private struct Reader {
        let data: Data
        var at: Int
        init(_ data: Data) {
            self.data = data
            at = data.startIndex
        }
        var atEnd: Bool { at == data.endIndex }
        mutating func int64() -> Int64? {
            guard data.endIndex - at >= 8 else { return nil }
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(data[at + k]) << (8 * UInt64(k)) }
            at += 8
            return Int64(bitPattern: v)
        }
        mutating func int() -> Int? { int64().map(Int.init) }
        /// A count: not negative and not more than the bytes left could hold.
        mutating func count() -> Int? {
            guard let n = int(), n >= 0, n <= data.endIndex - at else { return nil }
            return n
        }
        mutating func string() -> String? {
            guard let n = count() else { return nil }
            defer { at += n }
            return String(validating: data[at..<(at + n)], as: UTF8.self)
        }
    }
}
