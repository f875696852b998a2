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

    public init(renderer: TrajectorySFT, writer: DatasetWriter, splitter: Splitter, memo: OutputMemo? = nil, toolVersion: String = "") {
        self.renderer = renderer
        self.writer = writer
        self.splitter = splitter
        self.memo = memo
        let o = renderer.options
        keyPrefix = [Data("trajectory-sft \(Self.recordsRevision) \(toolVersion)".utf8), Data(o.format.rawValue.utf8),
                     Data((o.system.map { "system:" + $0 } ?? "no system").utf8), Data("thoughts:\(o.includeThoughts)".utf8)]
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
        let rendered = Parallel.map(Array(batch.enumerated())) { i, t -> Result<Data, SkipReason>? in
            if todo[i] != nil { return nil }
            do { return try renderer.render(t) } catch { return .failure(SkipReason("render_error")) }
        }
        for (i, t) in batch.enumerated() {
            let split = splitter.split(t)
            let record: DatasetWriter.Record
            if let unit = found[i] {
                unitsReused += 1
                guard let r = unit.records.first else {
                    let reason = unit.counts.keys.sorted().first ?? "render_error"
                    memo!.begin(unit: keys[i]!, counts: [reason: 1])
                    writer.skip(reason)
                    continue
                }
                // Read only if its part is written (not when the previous part file is linked).
                let memo = memo!
                record = .init(key: keys[i]!, length: r[3]) { try memo.line(r) }
            } else {
                unitsMade += 1
                switch rendered[i]! {
                case .success(let line):
                    record = .init(key: keys[i], length: line.count) { line }
                case .failure(let skip):
                    if let memo, let key = keys[i] { memo.begin(unit: key, counts: [skip.reason: 1]) }
                    writer.skip(skip.reason)
                    continue
                }
            }
            let at = try writer.write(record, split: split)
            if let memo, let key = keys[i] {
                memo.begin(unit: key, counts: [:])
                memo.wrote(unit: key, member: 0, tags: [], record: key, file: at.file, offset: at.offset, length: record.length)
            }
        }
    }

    public func finish() throws -> [String: JSONValue] { [:] }
}
