import Foundation
import Trajectories

/// Removes exact and near duplicates. The first record seen wins, so with inputs read in a fixed
/// order the kept record is deterministic.
///
/// Work is split in two so that the costly part runs in parallel: `fingerprint(_:)` is pure,
/// `admit(_:id:)` is the sequential decision that consults what was kept so far.
public final class Deduplicator {
    public enum Key: Sendable { case task, content }
    public enum Method: Sendable { case exact, minhash(threshold: Double, permutations: Int, shingle: Int) }

    public enum Fingerprint: Sendable, Equatable {
        /// sha256 as four words.
        case hash([UInt64])
        case signature([UInt64])

        public var words: [UInt64] {
            switch self {
            case .hash(let w), .signature(let w): return w
            }
        }
    }

    public let key: Key
    public let method: Method
    /// What a fingerprint depends on (the threshold only decides what is near enough): a fingerprint
    /// stored with a record is used only by a step with the same configuration.
    public let configID: String
    /// Words per fingerprint.
    public let width: Int
    private var seenHashes: [[UInt64]: String] = [:]
    private let minhash: MinHasher?
    private var lsh: LSHIndex?

    public init(key: Key, method: Method) {
        self.key = key
        self.method = method
        let keyName = key == .task ? "task" : "content"
        if case .minhash(let threshold, let permutations, let shingle) = method {
            let mh = MinHasher(permutations: permutations, shingle: shingle)
            minhash = mh
            lsh = LSHIndex(threshold: threshold, permutations: permutations)
            configID = "minhash \(keyName) permutations=\(permutations) shingle=\(shingle) v1"
            width = permutations
        } else {
            minhash = nil
            configID = "exact \(keyName) v1"
            width = 4
        }
    }

    /// The text compared by MinHash for `key`: the task, or the task with every action and the answer.
    public static func text(of t: Trajectory, key: Key) -> String {
        switch key {
        case .task: return t.task
        case .content:
            var parts = [t.task]
            for s in t.steps {
                if let a = s.action { parts.append(a.tool + " " + (a.command ?? a.input.canonicalJSON())) }
            }
            if let answer = t.answer { parts.append(answer) }
            return parts.joined(separator: "\n")
        }
    }

    /// The record's fingerprint: the one stored with it for this configuration, else computed.
    public func fingerprint(_ t: Trajectory) -> Fingerprint {
        if let stored = t.digest.fingerprint, stored.config == configID, stored.words.count == width {
            return minhash == nil ? .hash(stored.words) : .signature(stored.words)
        }
        return computeFingerprint(t)
    }

    /// The fingerprint computed from the record.
    public func computeFingerprint(_ t: Trajectory) -> Fingerprint {
        if let minhash { return .signature(minhash.signature(of: Self.text(of: t, key: key))) }
        switch key {
        case .task:
            return .hash(ContentHash.sha256Words(Data(t.task.split(whereSeparator: \.isWhitespace).joined(separator: " ").utf8)))
        case .content:
            // The same record twice: everything but the identifiers and where it was read from.
            var body = t
            body.id = ""
            body.source = nil
            body.meta = [:]
            body.attempt = nil
            body.taskKey = nil
            return .hash(ContentHash.sha256Words((try? NativeWriter.line(body)) ?? Data(t.task.utf8)))
        }
    }

    /// nil when the record is kept; otherwise the id of the earlier record it duplicates.
    public func admit(_ fingerprint: Fingerprint, id: String) -> String? {
        switch fingerprint {
        case .hash(let h):
            if let first = seenHashes[h] { return first }
            seenHashes[h] = id
            return nil
        case .signature(let sig):
            if let dup = lsh!.nearest(sig) { return dup }
            lsh!.insert(sig, id: id)
            return nil
        }
    }
}

/// MinHash signatures over character shingles of normalised text.
public struct MinHasher: Sendable {
    static let prime: UInt64 = (1 << 61) - 1
    let a: [UInt64]
    let b: [UInt64]
    let shingle: Int

    public init(permutations: Int, shingle: Int, seed: UInt64 = 0x5EED_D00D) {
        var g = SeededGenerator(seed: seed)
        var a: [UInt64] = [], b: [UInt64] = []
        for _ in 0..<permutations {
            a.append(1 + g.next() % (Self.prime - 1))
            b.append(g.next() % Self.prime)
        }
        self.a = a
        self.b = b
        self.shingle = shingle
    }

    /// Lower-case, with every run of non-alphanumerics folded into one space.
    public static func normalize(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var space = true
        /// Appends a kept character, or one space for a run of others.
        func add(_ kept: Bool, _ bytes: () -> Void) {
            if kept {
                bytes()
                space = false
            } else if !space {
                out.append(0x20)
                space = true
            }
        }
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            // ASCII: letters and digits are what the Unicode properties below call alphabetic and numeric.
            for c in text.utf8 {
                let l = c &- 0x41 < 26 ? c | 0x20 : c
                add(l &- 0x61 < 26 || c &- 0x30 < 10) { out.append(l) }
            }
        } else {
            for scalar in text.lowercased().unicodeScalars {
                add(scalar.properties.isAlphabetic || scalar.properties.numericType != nil) { out.append(contentsOf: String(scalar).utf8) }
            }
        }
        if out.last == 0x20 { out.removeLast() }
        return out
    }

    public func shingles(of text: String) -> Set<UInt64> {
        let bytes = Self.normalize(text)
        var out = Set<UInt64>()
        if bytes.count <= shingle {
            out.insert(StableHash.fnv1a(bytes))
            return out
        }
        for i in 0...(bytes.count - shingle) {
            out.insert(StableHash.fnv1a(bytes[i..<(i + shingle)]))
        }
        return out
    }

    public func signature(of text: String) -> [UInt64] {
        var sig = [UInt64](repeating: UInt64.max, count: a.count)
        let bytes = Self.normalize(text)
        // Every shingle position (a shingle seen twice leaves the minima as they were, so the set of
        // `shingles(of:)` need not be built).
        let hashes: [UInt64] = bytes.count <= shingle
            ? [StableHash.fnv1a(bytes)]
            : bytes.withUnsafeBufferPointer { p in
                (0...(p.count - shingle)).map { StableHash.fnv1a(UnsafeBufferPointer(rebasing: p[$0..<($0 + shingle)])) }
            }
        a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
        sig.withUnsafeMutableBufferPointer { sig in
            let p = Self.prime
            for h in hashes {
                let x = h % p
                for i in 0..<a.count {
                    // a, x < 2^61, so the product is below 2^122: hi < 2^58, and with 2^64 ≡ 2^3 (mod p)
                    // (hi·2^64 + lo) ≡ hi·8 + (lo & p) + lo >> 61 < 2^62 + 8 —
                    // branch-free so the loop pipelines.
                    let (hi, lo) = a[i].multipliedFullWidth(by: x)
                    var v = (hi << 3) &+ (lo & p) &+ (lo >> 61)
                    v = v >= p ? v &- p : v
                    v = v >= p ? v &- p : v
                    v = v &+ b[i]
                    v = v >= p ? v &- p : v
                    sig[i] = min(sig[i], v)
                }
            }
        }
        }
        }
        return sig
    }

    /// Fraction of equal positions: an unbiased estimate of Jaccard similarity.
    public static func similarity(_ x: [UInt64], _ y: [UInt64]) -> Double {
        guard x.count == y.count, !x.isEmpty else { return 0 }
        var same = 0
        for i in x.indices where x[i] == y[i] { same += 1 }
        return Double(same) / Double(x.count)
    }
}

/// Locality-sensitive hashing over MinHash signatures: bands find candidates, the full signature
/// confirms them against the threshold.
struct LSHIndex {
    let threshold: Double
    let bands: Int
    let rows: Int
    private var buckets: [[UInt64: [Int]]]
    private var signatures: [[UInt64]] = []
    private var ids: [String] = []

    init(threshold: Double, permutations: Int) {
        self.threshold = threshold
        (bands, rows) = Self.optimalBands(threshold: threshold, permutations: permutations)
        buckets = Array(repeating: [:], count: bands)
    }

    /// Chooses bands × rows to minimise false positives plus false negatives around the threshold
    /// (the standard integral criterion), weighting misses higher since candidates are confirmed.
    static func optimalBands(threshold t: Double, permutations n: Int) -> (Int, Int) {
        func integrate(_ f: (Double) -> Double, _ a: Double, _ b: Double) -> Double {
            let steps = 200
            let h = (b - a) / Double(steps)
            var area = 0.0
            for i in 0..<steps { area += f(a + (Double(i) + 0.5) * h) * h }
            return area
        }
        var best = (1, n)
        var bestErr = Double.infinity
        for b in 1...n {
            let maxR = n / b
            guard maxR >= 1 else { continue }
            for r in 1...maxR {
                let p = { (s: Double) in 1 - pow(1 - pow(s, Double(r)), Double(b)) }
                let fp = integrate(p, 0, t)
                let fn = integrate({ 1 - p($0) }, t, 1)
                let err = 0.3 * fp + 0.7 * fn
                if err < bestErr { bestErr = err; best = (b, r) }
            }
        }
        return best
    }

    private func bandHash(_ sig: [UInt64], _ band: Int) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for v in sig[(band * rows)..<((band + 1) * rows)] { h = StableHash.mix(h ^ v) }
        return h
    }

    func nearest(_ sig: [UInt64]) -> String? {
        var checked = Set<Int>()
        var best: (Int, Double)?
        for band in 0..<bands {
            guard let cands = buckets[band][bandHash(sig, band)] else { continue }
            for c in cands where checked.insert(c).inserted {
                let s = MinHasher.similarity(sig, signatures[c])
                if s >= threshold, best == nil || s > best!.1 || (s == best!.1 && c < best!.0) { best = (c, s) }
            }
        }
        return best.map { ids[$0.0] }
    }

    mutating func insert(_ sig: [UInt64], id: String) {
        let index = signatures.count
        signatures.append(sig)
        ids.append(id)
        for band in 0..<bands { buckets[band][bandHash(sig, band), default: []].append(index) }
    }
}
