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

    public func process(_ batch: [Trajectory]) -> [Trajectory] {
        var records = batch
        for (i, step) in steps.enumerated() {
            stats[i].recordsIn += records.count
            switch step {
            case .redact(let redactor):
                // One trajectory is enough work to be worth a thread (long observations).
                let results = Parallel.map(records, minChunk: 1) { t -> (Trajectory, [String: Int]) in
                    var counts: [String: Int] = [:]
                    let r = redactor.redact(t, counts: &counts)
                    return (r, counts)
                }
                records = results.map(\.0)
                for (_, counts) in results { stats[i].counts.merge(counts, uniquingKeysWith: +) }
            case .filter(let filter):
                let reasons = Parallel.map(records) { filter.rejection($0) }
                var kept: [Trajectory] = []
                for (t, reason) in zip(records, reasons) {
                    if let reason { stats[i].counts[reason, default: 0] += 1 } else { kept.append(t) }
                }
                records = kept
            case .dedupe(let dedupe):
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
            }
            stats[i].recordsOut += records.count
        }
        return records
    }
}
