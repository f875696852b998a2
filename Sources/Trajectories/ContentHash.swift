import Crypto
import Foundation

/// SHA-256 helpers: manifests, config hashes and exact-duplicate keys all use these.
public enum ContentHash {
    public static func sha256(_ data: Data) -> String {
        hex(SHA256.hash(data: data))
    }

    public static func sha256(bytes: ArraySlice<UInt8>) -> String {
        bytes.withUnsafeBytes { hex(SHA256.hash(data: $0)) }
    }

    /// SHA-256 as four big-endian words (a compact key; its hex is `sha256(_:)`).
    public static func sha256Words(_ data: Data) -> [UInt64] {
        let digest = Array(SHA256.hash(data: data))
        return (0..<4).map { w in digest[(w * 8)..<(w * 8 + 8)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
    }

    public static func sha256(_ text: String) -> String {
        sha256(Data(text.utf8))
    }

    /// SHA-256 over bytes given piece by piece (files hashed while they are written).
    public struct Stream {
        private var hasher = SHA256()
        public init() {}
        public mutating func update(_ bytes: [UInt8]) { hasher.update(data: bytes) }
        public mutating func update(_ data: Data) { hasher.update(data: data) }
        public mutating func update(_ buffer: UnsafeRawBufferPointer) { hasher.update(bufferPointer: buffer) }
        public func finalize() -> String { ContentHash.hex(hasher.finalize()) }
    }

    /// Streams a file through SHA-256 (bounded memory).
    public static func sha256(fileAt path: String) throws -> (hex: String, bytes: Int64) {
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw ReadError.cannotOpen(path: path, reason: "cannot open for hashing")
        }
        defer { try? h.close() }
        var hasher = SHA256()
        var total: Int64 = 0
        while true {
            let chunk = try h.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            total += Int64(chunk.count)
            hasher.update(data: chunk)
        }
        return (hex(hasher.finalize()), total)
    }

    private static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in digest {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Deterministic 64-bit hashing (Swift's `Hasher` is seeded per process and must not decide outputs).
public enum StableHash {
    /// FNV-1a over UTF-8 bytes. Inlinable, so callers in other modules get it specialised for their
    /// collection (MinHash hashes every shingle of every task with it).
    @inlinable
    public static func fnv1a(_ bytes: some Sequence<UInt8>, seed: UInt64 = 0xcbf29ce484222325) -> UInt64 {
        var h = seed
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x100000001b3
        }
        return h
    }

    public static func fnv1a(_ text: String, seed: UInt64 = 0xcbf29ce484222325) -> UInt64 {
        fnv1a(text.utf8, seed: seed)
    }

    /// SplitMix64 finaliser: spreads the bits of `x` (used to mix a seed into hashes).
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9e3779b97f4a7c15
        z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
        z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
        return z ^ (z >> 31)
    }

}

/// A small deterministic PRNG (SplitMix64) for every seeded choice skillforge makes.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9e3779b97f4a7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
        z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
        return z ^ (z >> 31)
    }

    /// Uniform integer in 0..<n, by our own arithmetic so results never depend on the standard
    /// library's sampling algorithm.
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0)
        return Int(next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// Uniform Double in [0, 1).
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// Fisher–Yates shuffle.
    public mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) {
            items.swapAt(i, below(i + 1))
        }
    }
}

/// A file's identity and change stamps: device, inode, size, and modification and status-change times
/// to the nanosecond. Writing to a file always moves its status-change time (no tool can set it back),
/// so equal stamps mean unchanged content — the rule git's index uses.
public struct FileStamp: Sendable, Codable, Equatable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var mtimeNS: Int64
    public var ctimeNS: Int64

    public init(device: UInt64, inode: UInt64, size: Int64, mtimeNS: Int64, ctimeNS: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.mtimeNS = mtimeNS
        self.ctimeNS = ctimeNS
    }

    /// The stamps of the file at `path` (following links), nil when it cannot be stat'ed.
    public init?(path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        mtimeNS = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        ctimeNS = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
    }
}
