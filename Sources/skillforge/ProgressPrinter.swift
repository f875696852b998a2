import Engine
import Foundation

/// Renders engine progress on stderr: a redrawn bar with rate and ETA on a terminal, one plain line
/// per file otherwise.
final class ProgressPrinter: @unchecked Sendable {
    private let lock = NSLock()
    private var started = Date()
    private var lastDraw = Date.distantPast
    private var drewBar = false
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
            if drewBar { FileHandle.standardError.write(Data("\n".utf8)); drewBar = false }
            if !Terminal.isTTY { Terminal.err("  \(name)") }
        case .pipelineFinished:
            if drewBar { FileHandle.standardError.write(Data("\n".utf8)); drewBar = false }
        }
    }

    static func size(_ bytes: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var v = Double(bytes)
        var i = 0
        while v >= 1000 && i < units.count - 1 { v /= 1000; i += 1 }
        return i == 0 ? "\(bytes) B" : String(format: "%.1f %@", v, units[i])
    }
}
