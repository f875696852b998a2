import Engine
import Foundation

/// Renders engine progress on stderr: on a terminal, a redrawn bar per stage (reading: bytes with rate
/// and ETA; writing: outputs finished, with the time per output and an ETA from it); otherwise one
/// plain line per file, stage and output, each stage line with the time the previous stage took.
final class ProgressPrinter: @unchecked Sendable {
    private let lock = NSLock()
    private var started = Date()
    private var lastDraw = Date.distantPast
    private var drewBar = false
    private var stageName: String?
    private var stageStarted = Date()
    private let quiet: Bool

    init(quiet: Bool) { self.quiet = quiet }

    func handle(_ event: ProgressEvent) {
        guard !quiet else { return }
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .pipelineStarted(let name, let files, let bytes):
            started = Date()
            Terminal.err("\(Terminal.bold("build")) \(name): \(files) input file(s), \(Self.size(bytes))")
        case .fileStarted(let path, let bytes):
            if !Terminal.isTTY { Terminal.err("  read \(path) (\(Self.size(bytes)))") }
        case .advanced(let done, let total, let records):
            guard Terminal.isTTY, Date().timeIntervalSince(lastDraw) > 0.1 || done == total else { return }
            lastDraw = Date()
            let elapsed = max(Date().timeIntervalSince(started), 0.001)
            let rate = Double(done) / elapsed
            let frac = total > 0 ? Double(done) / Double(total) : 1
            let eta = rate > 0 ? Double(total - done) / rate : 0
            let width = 30
            let filled = Int(frac * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardError.write(Data(String(format: "\r  %@ %3.0f%%  %@/s  %d records  ETA %.0fs ",
                                                       bar, frac * 100, Self.size(Int64(rate)), records, eta).utf8))
            drewBar = true
        case .stageStarted(let name):
            endStage()
            stageName = name
            stageStarted = Date()
            if !Terminal.isTTY { Terminal.err("  \(name)") }
        case .stageAdvanced(let stage, let item, let done, let total):
            let elapsed = Date().timeIntervalSince(stageStarted)
            if !Terminal.isTTY {
                Terminal.err("    \(item) done (\(done)/\(total))")
                return
            }
            let width = 30
            let filled = total > 0 ? done * width / total : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let eta = done > 0 ? String(format: "ETA %.0fs", elapsed / Double(done) * Double(total - done)) : "ETA –"
            FileHandle.standardError.write(Data(String(format: "\r\u{1B}[K  %@ %@ %d/%d  %@  %@ ", stage, bar, done, total, item, eta).utf8))
            drewBar = true
        case .pipelineFinished:
            endStage()
        }
    }

    /// Closes the bar of the running stage and says how long it took.
    private func endStage() {
        if drewBar { FileHandle.standardError.write(Data("\n".utf8)); drewBar = false }
        if let name = stageName {
            let t = Date().timeIntervalSince(stageStarted)
            if t >= 0.5 { Terminal.err(String(format: "  %@ took %.1fs", name, t)) }
        }
        stageName = nil
    }

    static func size(_ bytes: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var v = Double(bytes)
        var i = 0
        while v >= 1000 && i < units.count - 1 { v /= 1000; i += 1 }
        return i == 0 ? "\(bytes) B" : String(format: "%.1f %@", v, units[i])
    }
}
