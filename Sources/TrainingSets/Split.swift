import Foundation
import Trajectories

/// Deterministic train/test assignment by task family, so that nothing of a test family — its task text,
/// its other attempts, a case made from it — appears in a train record.
///
/// A family is the task text read loosely: lower-cased, harness meta-text removed ("Attempt 2: the previous
/// run did not pass verification."), punctuation dropped, each run of digits masked and white space
/// collapsed, so attempts and re-runs of one task, and near-duplicates that differ only in numbers,
/// versions or punctuation, share a split. The task key is not
/// used: real corpora pose the same task under several keys (a re-run, another benchmark's id), and a split
/// by key would put the same task text on both sides. The seed changes the assignment.
public struct Splitter: Sendable {
    public let seed: UInt64
    public let testFraction: Double

    public init(seed: UInt64, testFraction: Double) {
        self.seed = seed
        self.testFraction = testFraction
    }

    /// The family a trajectory belongs to (see the type's documentation).
    public static func key(_ t: Trajectory) -> String { family(task: t.task) }

    public static func family(task: String) -> String {
        var removed = 0
        let clean = TargetHygiene(removeMetaText: true, dropGiveUps: false).clean(task, removed: &removed).lowercased()
        var out = ""
        out.reserveCapacity(clean.utf8.count)
        var lastWasSpace = true
        var lastWasDigit = false
        for ch in clean {
            if ch.isWhitespace {
                if !lastWasSpace { out.append(" ") }
                lastWasSpace = true
                lastWasDigit = false
            } else if ch.isNumber {
                if !lastWasDigit { out.append("#") }
                lastWasDigit = true
                lastWasSpace = false
            } else if !ch.isLetter {
                // Punctuation is dropped: `requirements.txt` and `requirementstxt`, `1.26.4` and `1264` read alike.
                continue
            } else {
                out.append(ch)
                lastWasSpace = false
                lastWasDigit = false
            }
        }
        return out.trimmed(newlines: false)
    }

    public func split(_ t: Trajectory) -> String {
        split(key: Self.key(t))
    }

    public func split(key: String) -> String {
        let h = StableHash.mix(StableHash.fnv1a(key) ^ StableHash.mix(seed))
        let u = Double(h >> 11) * 0x1.0p-53
        return u < testFraction ? "test" : "train"
    }
}
