import Foundation
import Trajectories

/// What should not be learned, removed before any style renders a target: harness meta-text that agent
/// frameworks write into the agent's own turns ("Attempt 3: the previous run did not pass verification."),
/// and give-up answers ("I could not finish: …"), which would teach a model to give up. Both are on by
/// default (`hygiene: {meta_text: true, give_up: true}` on an output) and counted in the manifest.
public struct TargetHygiene: Sendable, Hashable, Codable {
    public var removeMetaText: Bool
    public var dropGiveUps: Bool

    public init(removeMetaText: Bool = true, dropGiveUps: Bool = true) {
        self.removeMetaText = removeMetaText
        self.dropGiveUps = dropGiveUps
    }

    /// What a pass over some trajectories removed.
    public struct Counts: Sendable, Hashable {
        public var metaTextRemoved = 0
        public var giveUpsDropped = 0
        public init() {}
        public mutating func add(_ o: Counts) {
            metaTextRemoved += o.metaTextRemoved
            giveUpsDropped += o.giveUpsDropped
        }
        public var json: JSONValue {
            .object(["meta_text_removed": .int(Int64(metaTextRemoved)), "give_up_answers_dropped": .int(Int64(giveUpsDropped))])
        }
    }

    /// Sentences a harness writes about retries and verification, not about the task (case-insensitive).
    static let metaSentences = [
        #"(?i)\b(attempt|try|retry|run)\s*#?\d+(\s*/\s*\d+)?\s*[:.)\]-]\s*(the\s+)?(previous|last|prior)\s+(run|attempt|try|submission)\s+(did\s+not|didn't|failed\s+to|does\s+not)\s+pass(\s+(the\s+)?(verification|verifier|tests?|checks?))?\s*[.!]?\s*"#,
        #"(?i)\b(the\s+)?(previous|last|prior)\s+(run|attempt|try|submission)\s+(did\s+not|didn't|failed\s+to)\s+pass(\s+(the\s+)?(verification|verifier|tests?|checks?))?\s*[.!]?\s*"#,
        #"(?i)\[(attempt|retry|try)\s*\d+(\s*/\s*\d+)?\]\s*"#,
        #"(?i)^\s*(attempt|retry)\s+\d+(\s*/\s*\d+)?\s*:\s*"#,
    ]

    /// Answers that give up instead of answering (at the start of the answer, case-insensitive).
    static let giveUp = #"(?i)^\s*(sorry,?\s+)?(i\s+(could\s+not|couldn't|cannot|can't|can\s+not|was\s+unable\s+to|am\s+unable\s+to|wasn't\s+able\s+to|was\s+not\s+able\s+to|did\s+not\s+manage\s+to|didn't\s+manage\s+to|gave\s+up|give\s+up)|i'm\s+unable\s+to|unable\s+to\s+(finish|complete|solve)|giving\s+up)\b"#

    /// `text` without harness meta-text; `removed` counts the sentences taken out.
    public func clean(_ text: String, removed: inout Int) -> String {
        guard removeMetaText else { return text }
        var out = text
        for p in Self.metaSentences {
            let pattern = TextPattern.cached(p)
            let n = pattern.regex.numberOfMatches(in: out, range: NSRange(location: 0, length: (out as NSString).length))
            if n > 0 {
                removed += n
                out = pattern.replacing(in: out, with: "")
            }
        }
        return out
    }

    public func isGiveUp(_ answer: String?) -> Bool {
        guard dropGiveUps, let answer else { return false }
        return TextPattern.cached(Self.giveUp).matches(answer)
    }

    /// The trajectory with meta-text removed from its task, thoughts and answer (observations are what the
    /// environment said and stay as they are), or nil when its answer gives up.
    public func apply(_ t: Trajectory, counts: inout Counts) -> Trajectory? {
        if isGiveUp(t.answer) {
            counts.giveUpsDropped += 1
            return nil
        }
        guard removeMetaText else { return t }
        var removed = 0
        var c = t
        c.task = clean(t.task, removed: &removed)
        for i in c.steps.indices {
            if let th = c.steps[i].thought { c.steps[i].thought = clean(th, removed: &removed) }
        }
        if let a = c.answer { c.answer = clean(a, removed: &removed) }
        counts.metaTextRemoved += removed
        return removed == 0 ? t : c
    }
}
