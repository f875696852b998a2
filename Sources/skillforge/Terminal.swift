import Engine
import Foundation

/// Terminal facts: colour only on a TTY, never with NO_COLOR or TERM=dumb.
enum Terminal {
    static let isTTY = isatty(STDERR_FILENO) == 1
    static let color: Bool = {
        let env = ProcessInfo.processInfo.environment
        return isTTY && env["NO_COLOR"] == nil && env["TERM"] != "dumb"
    }()

    static func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    static func red(_ t: String) -> String { paint(t, "31") }
    static func green(_ t: String) -> String { paint(t, "32") }
    static func yellow(_ t: String) -> String { paint(t, "33") }
    static func bold(_ t: String) -> String { paint(t, "1") }

    static func err(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }
    static func out(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }
}

/// SIGINT and SIGTERM ask a running build to stop at its next safe point (nothing half-installed);
/// a second signal, or 10 seconds without reaching one, stops at once — just as safe for the outputs
/// (they are switched in atomically), only the current input's cache entry is lost.
enum Interrupts {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []
    static func install(_ cancellation: Cancellation) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                if cancellation.isCancelled { _exit(130) }
                cancellation.cancel()
                Terminal.err("\ninterrupt: stopping at the next safe point; press Ctrl-C again to stop at once")
                // A whole-corpus stage can run for minutes between safe points: after 10 s stop anyway
                // (as safe for out/ as any kill; the next build clears the staging and reuses the cache).
                DispatchQueue.global().asyncAfter(deadline: .now() + 10) {
                    Terminal.err("interrupt: stopping now; nothing was installed")
                    _exit(130)
                }
            }
            source.resume()
            sources.append(source)
        }
    }
}
