import Foundation
import Trajectories

/// Builds one dataset from prepared trajectories. Streaming styles write as batches arrive; styles
/// that need the whole corpus (task families, curricula) write in `finish`.
public protocol DatasetBuilder: AnyObject {
    func add(_ batch: [Trajectory]) throws
    /// Writes whatever is still held and returns style-specific statistics for the manifest.
    func finish() throws -> [String: JSONValue]
}

/// The `trajectory-sft` style: one record per trajectory, written as it arrives.
public final class SFTBuilder: DatasetBuilder {
    let renderer: TrajectorySFT
    let writer: DatasetWriter
    let splitter: Splitter

    public init(renderer: TrajectorySFT, writer: DatasetWriter, splitter: Splitter) {
        self.renderer = renderer
        self.writer = writer
        self.splitter = splitter
    }

    public func add(_ batch: [Trajectory]) throws {
        let renderer = renderer
        let rendered = Parallel.map(batch) { t -> Result<Data, SkipReason> in
            do { return try renderer.render(t) } catch { return .failure(SkipReason("render_error")) }
        }
        for (t, r) in zip(batch, rendered) {
            switch r {
            case .success(let line): try writer.write(line, split: splitter.split(t))
            case .failure(let skip): writer.skip(skip.reason)
            }
        }
    }

    public func finish() throws -> [String: JSONValue] { [:] }
}
