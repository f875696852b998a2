import Foundation
import Trajectories

/// One preparation step, configured.
public enum PrepareStep {
    case redact(SecretRedactor)
    case filter(TrajectoryFilter)
    case dedupe(Deduplicator)

    public var name: String {
        switch self {
        case .redact: return "redact"
        case .filter: return "filter"
        case .dedupe: return "dedupe"
        }
    }
}

/// What a step did over the whole build: records in and out, and per-step detail counts
/// (secrets by kind, rejections by criterion, duplicates removed).
public struct StepStats: Sendable, Hashable, Codable {
    public var step: String
    public var recordsIn = 0
    public var recordsOut = 0
    public var counts: [String: Int] = [:]
    /// A few removed duplicates as `removed id → kept id`, so a user can check the decision.
    public var examples: [String] = []

    public init(step: String) { self.step = step }

    enum CodingKeys: String, CodingKey {
        case step, recordsIn = "records_in", recordsOut = "records_out", counts, examples
    }
}

/// Runs a sequence of steps over batches of trajectories. Per-record work (redaction, filtering,
/// fingerprinting) runs in parallel; duplicate decisions are made in input order.
public final class PrepareChain {
    public let steps: [PrepareStep]
    public private(set) var stats: [StepStats]

    public init(steps: [PrepareStep]) {
        self.steps = steps
        stats = steps.map { StepStats(step: $0.name) }
    }

    /// Adds statistics computed elsewhere (a cached run of the same steps over the same input).
    public func absorb(_ other: [StepStats]) {
        for (i, s) in other.enumerated() where i < stats.count && stats[i].step == s.step {
            stats[i].recordsIn += s.recordsIn
            stats[i].recordsOut += s.recordsOut
            stats[i].counts.merge(s.counts, uniquingKeysWith: +)
            stats[i].examples = Array((stats[i].examples + s.examples).prefix(20))
        }
    }

    /// What the steps did since `earlier` (a copy of `stats` taken before).
    public func delta(since earlier: [StepStats]) -> [StepStats] {
        zip(stats, earlier).map { now, then in
            var d = StepStats(step: now.step)
            d.recordsIn = now.recordsIn - then.recordsIn
            d.recordsOut = now.recordsOut - then.recordsOut
            d.counts = now.counts.merging(then.counts.mapValues { -$0 }, uniquingKeysWith: +).filter { $0.value != 0 }
            d.examples = Array(now.examples.dropFirst(then.examples.count))
            return d
        }
    }

    /// The chain as a value that worker threads can share, when every step looks at one record at a
    /// time (no dedupe): the records are then prepared by the workers that decode them, and the tallies
    /// are counted afterwards, in input order, with `absorb(_:)`.
    public var recordSteps: RecordSteps? {
        steps.contains { if case .dedupe = $0 { return true } else { return false } } ? nil : Self.recordSteps(steps[...])
    }

    /// Per-record steps (none of them a dedupe) as one shareable value.
    private static func recordSteps(_ run: ArraySlice<PrepareStep>) -> RecordSteps {
        RecordSteps(steps: run.map { step in
            switch step {
            case .redact(let r): return .redact(r)
            case .filter(let f): return .filter(f)
            case .dedupe: preconditionFailure("a dedupe is not a per-record step")
            }
        })
    }

    /// Counts one record's tally (from `RecordSteps.apply`), for the steps from `first` on.
    public func absorb(_ tally: RecordTally, from first: Int = 0) {
        for (k, counts) in tally.counts.enumerated() {
            let i = first + k
            stats[i].recordsIn += 1
            if tally.kept || k < tally.counts.count - 1 { stats[i].recordsOut += 1 }
            if !counts.isEmpty { stats[i].counts.merge(counts, uniquingKeysWith: +) }
        }
    }

    /// Runs the steps over a batch: each run of per-record steps takes every record through all of
    /// them on one worker (one trajectory is enough work to be worth a thread: long observations), a
    /// dedupe decides in input order.
    public func process(_ batch: [Trajectory]) -> [Trajectory] {
        var records = batch
        var i = 0
        while i < steps.count {
            if case .dedupe(let dedupe) = steps[i] {
                stats[i].recordsIn += records.count
                nonisolated(unsafe) let d = dedupe  // fingerprint() only reads immutable configuration
                let prints = Parallel.map(records, minChunk: 1) { d.fingerprint($0) }
                var kept: [Trajectory] = []
                for (t, fp) in zip(records, prints) {
                    if let first = dedupe.admit(fp, id: t.id) {
                        stats[i].counts["duplicates", default: 0] += 1
                        if stats[i].examples.count < 20 { stats[i].examples.append("\(t.id) → \(first)") }
                    } else {
                        kept.append(t)
                    }
                }
                records = kept
                stats[i].recordsOut += records.count
                i += 1
                continue
            }
            let end = steps[i...].firstIndex { if case .dedupe = $0 { return true } else { return false } } ?? steps.count
            let run = Self.recordSteps(steps[i..<end])
            let results = Parallel.map(records, minChunk: 1) { run.apply($0) }
            for (_, tally) in results { absorb(tally, from: i) }
            records = results.compactMap(\.0)
            i = end
        }
        return records
    }
}

/// Per-record preparation steps (redact, filter), shareable across threads.
public struct RecordSteps: Sendable {
    enum Step: Sendable {
        case redact(SecretRedactor)
        case filter(TrajectoryFilter)
    }
    let steps: [Step]

    /// Applies the steps to one trajectory: the prepared record (nil when a filter dropped it) and what
    /// each step it reached counted.
    public func apply(_ t: Trajectory) -> (Trajectory?, RecordTally) {
        var record = t
        var tally = RecordTally()
        for step in steps {
            var counts: [String: Int] = [:]
            switch step {
            case .redact(let redactor):
                record = redactor.redact(record, counts: &counts)
            case .filter(let filter):
                if let reason = filter.rejection(record) {
                    tally.counts.append([reason: 1])
                    tally.kept = false
                    return (nil, tally)
                }
            }
            tally.counts.append(counts)
        }
        return (record, tally)
    }
}

/// What per-record steps did to one record.
public struct RecordTally: Sendable {
    /// Per step the record reached, the detail counts it added there (secrets, the filter's reason).
    public var counts: [[String: Int]] = []
    /// False when a step dropped it (the last step it reached).
    public var kept = true

    public init() {}
}
