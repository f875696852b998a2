import Foundation
import Trajectories

/// Deterministic train/test assignment. The key is the task family (`taskKey`, else the id), so that
/// attempts of one task never straddle the split; the seed changes the assignment.
public struct Splitter: Sendable {
    public let seed: UInt64
    public let testFraction: Double

    public init(seed: UInt64, testFraction: Double) {
        self.seed = seed
        self.testFraction = testFraction
    }

    public static func key(_ t: Trajectory) -> String { t.taskKey ?? t.id }

    public func split(_ t: Trajectory) -> String {
        split(key: Self.key(t))
    }

    public func split(key: String) -> String {
        let h = StableHash.mix(StableHash.fnv1a(key) ^ StableHash.mix(seed))
        let u = Double(h >> 11) * 0x1.0p-53
        return u < testFraction ? "test" : "train"
    }
}
