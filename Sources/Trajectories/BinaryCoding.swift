import Foundation

/// A compact binary form for the caches skillforge writes itself: little-endian 64-bit integers and
/// length-prefixed UTF-8 strings, and a sha256 trailer over everything before it, so that a damaged or
/// cut file is refused as a whole (see `sealed` and `BinaryReader.init(unsealing:magic:)`).
public struct BinaryWriter {
    public private(set) var bytes: [UInt8] = []

    public init(magic: String) { bytes.append(contentsOf: magic.utf8) }

    public mutating func int64(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func int(_ v: Int) { int64(Int64(v)) }
    public mutating func double(_ v: Double) { int64(Int64(bitPattern: v.bitPattern)) }
    public mutating func string(_ s: String) {
        int(s.utf8.count)
        bytes.append(contentsOf: s.utf8)
    }

    /// The bytes with their sha256 appended.
    public func sealed() -> Data {
        var out = bytes
        for word in ContentHash.sha256Words(Data(bytes)) { withUnsafeBytes(of: Int64(bitPattern: word).littleEndian) { out.append(contentsOf: $0) } }
        return Data(out)
    }
}

public struct BinaryReader {
    let bytes: [UInt8]
    var at: Int

    /// A reader over the body of `data` after `magic`, when its sha256 trailer matches; else nil.
    public init?(unsealing data: Data, magic: String) {
        let m = Array(magic.utf8)
        guard data.count >= m.count + 32, Array(data.prefix(m.count)) == m else { return nil }
        let body = data.prefix(data.count - 32)
        let trailer = Array(data.suffix(32))
        let words = (0..<4).map { w in (0..<8).reduce(UInt64(0)) { $0 | UInt64(trailer[w * 8 + $1]) << (8 * UInt64($1)) } }
        guard words == ContentHash.sha256Words(Data(body)) else { return nil }
        bytes = Array(body)
        at = m.count
    }

    public var atEnd: Bool { at == bytes.count }

    public mutating func int64() -> Int64? {
        guard bytes.count - at >= 8 else { return nil }
        let v = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        at += 8
        return Int64(bitPattern: v)
    }

    public mutating func int() -> Int? { int64().map(Int.init) }
    public mutating func double() -> Double? { int64().map { Double(bitPattern: UInt64(bitPattern: $0)) } }

    /// A count: not negative and not more than the bytes left could hold.
    public mutating func count() -> Int? {
        guard let n = int(), n >= 0, n <= bytes.count - at else { return nil }
        return n
    }

    public mutating func string() -> String? {
        guard let n = count() else { return nil }
        defer { at += n }
        return bytes.withUnsafeBufferPointer { String(validating: UnsafeBufferPointer(rebasing: $0[at..<(at + n)]), as: UTF8.self) }
    }
}
