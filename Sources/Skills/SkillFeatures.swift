import Foundation
import Trajectories

/// What skill distillation derives from single trajectories, kept from one build to the next so that
/// a nightly rebuild works out only the new runs' part: each run's failed steps (the error line it hit,
/// what it did next, the step) for pitfalls, and each pair of consecutive attempts' oscillation for
/// PDI. Runs are named by their ingest-cache identity (a content address: same name, same bytes);
/// runs without one are worked out every time.
///
/// Stored in `BinaryWriter`'s form with the tool version and a format number: a file of another
/// version, or one that does not check out, is not used. Only what this build used is written back.
public final class SkillFeatures: @unchecked Sendable {
    public struct FailedStep: Sendable, Equatable {
        public var error: String
        public var next: String?
        public var step: Int
        public init(error: String, next: String?, step: Int) {
            self.error = error
            self.next = next
            self.step = step
        }
    }

    public let url: URL
    let stamp: String
    private var previousSteps: [String: [FailedStep]] = [:]
    private var previousPairs: [String: Double] = [:]
    private let lock = NSLock()
    private var usedSteps: [String: [FailedStep]] = [:]
    private var usedPairs: [String: Double] = [:]
    /// Looked up and found, and worked out now.
    public private(set) var found = 0
    public private(set) var made = 0

    static let magic = "SFSK"
    /// Bump when what is derived from a run changes.
    static let revision = 2  // 2: φ_oss compares what each attempt verified or failed

    public init(url: URL, toolVersion: String) {
        self.url = url
        stamp = "\(Self.revision) \(toolVersion)"
        guard let data = FileManager.default.contents(atPath: url.path), var r = BinaryReader(unsealing: data, magic: Self.magic),
              r.string() == stamp, let n = r.count() else { return }
        var steps: [String: [FailedStep]] = [:]
        for _ in 0..<n {
            guard let id = r.string(), let k = r.count() else { return }
            var list: [FailedStep] = []
            for _ in 0..<k {
                guard let error = r.string(), let hasNext = r.int(), let next = hasNext == 1 ? r.string() : "", let step = r.int() else { return }
                list.append(FailedStep(error: error, next: hasNext == 1 ? next : nil, step: step))
            }
            steps[id] = list
        }
        guard let m = r.count() else { return }
        var pairs: [String: Double] = [:]
        for _ in 0..<m {
            guard let key = r.string(), let v = r.double() else { return }
            pairs[key] = v
        }
        guard r.atEnd else { return }
        previousSteps = steps
        previousPairs = pairs
    }

    /// Whether nothing was kept from the previous build (no file, another version, or a damaged file).
    public var isEmpty: Bool { previousSteps.isEmpty && previousPairs.isEmpty }

    /// `t`'s failed steps, from the previous build when it knew this run, else `compute`d.
    public func failedSteps(_ t: Trajectory, compute: () -> [FailedStep]) -> [FailedStep] {
        guard let id = t.digest.identity else { return compute() }
        let known = previousSteps[id]
        let value = known ?? compute()
        lock.withLock {
            usedSteps[id] = value
            if known != nil { found += 1 } else { made += 1 }
        }
        return value
    }

    /// The oscillation of consecutive attempts `a` then `b`, from the previous build when it knew the pair.
    public func pair(_ a: Trajectory, _ b: Trajectory, compute: () -> Double) -> Double {
        guard let x = a.digest.identity, let y = b.digest.identity else { return compute() }
        let key = x + " " + y
        let known = previousPairs[key]
        let value = known ?? compute()
        lock.withLock {
            usedPairs[key] = value
            if known != nil { found += 1 } else { made += 1 }
        }
        return value
    }

    /// Writes what this build used (failures are ignored: the next build works everything out again).
    public func save() {
        var w = BinaryWriter(magic: Self.magic)
        w.string(stamp)
        lock.withLock {
            w.int(usedSteps.count)
            for id in usedSteps.keys.sorted() {
                w.string(id)
                w.int(usedSteps[id]!.count)
                for s in usedSteps[id]! {
                    w.string(s.error)
                    w.int(s.next == nil ? 0 : 1)
                    if let next = s.next { w.string(next) }
                    w.int(s.step)
                }
            }
            w.int(usedPairs.count)
            for key in usedPairs.keys.sorted() {
                w.string(key)
                w.double(usedPairs[key]!)
            }
        }
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? w.sealed().write(to: url, options: .atomic)
    }
}
