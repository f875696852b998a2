import Foundation

/// What the engine reports while it works; the executable turns these into bars or lines.
public enum ProgressEvent: Sendable {
    case pipelineStarted(name: String, files: Int, bytes: Int64)
    case fileStarted(path: String, bytes: Int64)
    /// Cumulative bytes and records read for the current pipeline.
    case advanced(bytesRead: Int64, bytesTotal: Int64, records: Int)
    case stageStarted(String)
    /// Within a stage: `item` has finished, the `done`-th of `total` to finish (outputs finish side by
    /// side, so in no fixed order).
    case stageAdvanced(stage: String, item: String, done: Int, total: Int)
    case pipelineFinished(name: String)
}

public typealias ProgressHandler = @Sendable (ProgressEvent) -> Void
