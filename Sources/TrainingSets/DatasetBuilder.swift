import Foundation
import Trajectories

/// Builds one dataset from prepared trajectories. Streaming styles write as batches arrive; styles
/// that need the whole corpus (task families, curricula) write in `finish`.
public protocol DatasetBuilder: AnyObject {
    func add(_ batch: [Trajectory]) throws
    /// Writes whatever is still held and returns style-specific statistics for the manifest.
    func finish() throws -> [String: JSONValue]
}

/// A builder that takes the records of unchanged units of work (Conifer: task families; trajectory
/// SFT and CS-Chain: trajectories) from the previous build's files instead of making them again.
public protocol ReusingBuilder: DatasetBuilder {
    /// The previous build's records (nil: make every unit).
    var memo: OutputMemo? { get }
    var unitsReused: Int { get }
    var unitsMade: Int { get }
}

/// The `trajectory-sft` style: one record per trajectory, written as it arrives. A trajectory that came
/// through the ingest cache unchanged (it has a name there) and was rendered with the same options by
/// the same version has its record copied from the previous build's files instead of rendered again.
public final class SFTBuilder: ReusingBuilder {
    let renderer: TrajectorySFT
    let writer: DatasetWriter
    let splitter: Splitter
    public let memo: OutputMemo?
    /// What every record's key starts with: the style's revision, the tool version and the renderer's options.
    let keyPrefix: [Data]
    public private(set) var unitsReused = 0
    public private(set) var unitsMade = 0

    /// Bump when the record rendered from the same trajectory with the same options changes.
    static let recordsRevision = 1

    /// What is removed before rendering (meta-text) and what is not rendered (give-up answers).
    let hygiene: TargetHygiene
    private var cleaned = 0
    /// How many records have each final answer (by hash), for `duplicate_targets`.
    private var targets: [Int: Int] = [:]

    public init(renderer: TrajectorySFT, writer: DatasetWriter, splitter: Splitter, memo: OutputMemo? = nil, toolVersion: String = "",
                hygiene: TargetHygiene = TargetHygiene()) {
        self.renderer = renderer
        self.writer = writer
        self.splitter = splitter
        self.memo = memo
        self.hygiene = hygiene
        let o = renderer.options
        keyPrefix = [Data("trajectory-sft \(Self.recordsRevision) \(toolVersion)".utf8), Data(o.format.rawValue.utf8),
                     Data((o.system.map { "system:" + $0 } ?? "no system").utf8), Data("thoughts:\(o.includeThoughts)".utf8),
                     Data("hygiene:\(hygiene.removeMetaText) \(hygiene.dropGiveUps)".utf8)]
        switch o.format {
        case .messages:
            writer.trainerConfigs = [.init(name: "default", layout: .messages, llamaFactory: false,
                                           note: "One trajectory a record, tool calls in OpenAI layout (LLaMA-Factory does not read them: build with `format: sharegpt` for it).")]
        case .openai:
            writer.trainerConfigs = []
            writer.auxiliary = ["default": "OpenAI fine-tuning files (`arguments` as JSON text); for Hugging Face trainers build with `format: messages`"]
        case .sharegpt:
            writer.trainerConfigs = [.init(name: "default", layout: .sharegpt, llamaFactory: true, note: "`conversations` with `function_call` / `observation` turns, `system` and `tools` (JSON text) beside.")]
        case .alpaca:
            writer.trainerConfigs = [.init(name: "default", layout: .alpaca, llamaFactory: true, note: "The whole transcript as `output`.")]
        }
    }

    public func add(_ batch: [Trajectory]) throws {
        // Records of the previous build, where the index has them (read in order, so mostly sequentially).
        let keys: [String?] = batch.map { t in
            guard memo != nil, let id = t.digest.identity else { return nil }
            return OutputMemo.key(keyPrefix + [Data(id.utf8)])
        }
        let found: [OutputMemo.Unit?] = keys.map { k in
            guard let k, let unit = memo?.lookup(k), unit.records.count <= 1, unit.records.allSatisfy({ $0.count == 4 && $0[0] == 0 }) else { return nil }
            return unit
        }
        let renderer = renderer
        let todo = found
        let hygiene = hygiene
        let rendered = Parallel.map(Array(batch.enumerated())) { i, t -> (Result<Data, SkipReason>, Int, Int)? in
            if todo[i] != nil { return nil }
            var counts = TargetHygiene.Counts()
            guard let clean = hygiene.apply(t, counts: &counts) else { return (.failure(SkipReason("give_up_answer")), 0, 0) }
            let target = Int(truncatingIfNeeded: StableHash.fnv1a(clean.answer ?? clean.steps.last?.thought ?? ""))
            do { return (try renderer.render(clean), counts.metaTextRemoved, target) } catch { return (.failure(SkipReason("render_error")), 0, 0) }
        }
        for (i, t) in batch.enumerated() {
            let split = splitter.split(t)
            let record: DatasetWriter.Record
            var removedHere = 0
            var target: Int?
            if let unit = found[i] {
                unitsReused += 1
                removedHere = unit.counts[Self.metaTextKey] ?? 0
                target = unit.counts[Self.targetKey]
                cleaned += removedHere
                guard let r = unit.records.first else {
                    let reason = unit.counts.keys.sorted().first { $0 != Self.metaTextKey && $0 != Self.targetKey } ?? "render_error"
                    memo!.begin(unit: keys[i]!, counts: [reason: 1])
                    writer.skip(reason)
                    continue
                }
                // Read only if its part is written (not when the previous part file is linked).
                let memo = memo!
                record = .init(key: keys[i]!, length: r[3]) { try memo.line(r) }
            } else {
                unitsMade += 1
                let (outcome, removed, hash) = rendered[i]!
                removedHere = removed
                target = hash
                cleaned += removed
                switch outcome {
                case .success(let line):
                    record = .init(key: keys[i], length: line.count) { line }
                case .failure(let skip):
                    if let memo, let key = keys[i] { memo.begin(unit: key, counts: [skip.reason: 1]) }
                    writer.skip(skip.reason)
                    continue
                }
            }
            let at = try writer.write(record, split: split)
            if let target { targets[target, default: 0] += 1 }
            if let memo, let key = keys[i] {
                var counts = removedHere > 0 ? [Self.metaTextKey: removedHere] : [:]
                if let target { counts[Self.targetKey] = target }
                memo.begin(unit: key, counts: counts)
                memo.wrote(unit: key, member: 0, tags: [], record: key, file: at.file, offset: at.offset, length: record.length)
            }
        }
    }

    public func finish() throws -> [String: JSONValue] {
        ["hygiene": .object(["meta_text_removed": .int(Int64(cleaned)), "give_up_answers_dropped": .int(Int64(writer.skipped["give_up_answer"] ?? 0))]),
         // Records whose final answer another record already has.
         "duplicate_targets": .int(Int64(targets.values.reduce(0) { $0 + $1 - 1 }))]
    }

    static let metaTextKey = "meta_text_removed"
    static let targetKey = "target_hash"
}
