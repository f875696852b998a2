import Foundation

/// Every scratch file and folder a test run makes lives under one folder per test process,
/// `$TMPDIR/skillforge-tests-<pid>`, removed when the process exits; folders left by runs whose
/// process is gone (a crash, a kill) are removed when the next run starts. Tests used to leave
/// hundreds of MB in the temporary folder on every `swift test`.
public enum Scratch {
    static let prefix = "skillforge-tests-"

    /// The process's scratch root (created, and stale roots swept, on first use).
    public static let root: URL = {
        let tmp = FileManager.default.temporaryDirectory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? [] where name.hasPrefix(prefix) {
            // Another live test process keeps its root.
            if let pid = Int32(name.dropFirst(prefix.count)), pid == getpid() || kill(pid, 0) == 0 { continue }
            try? FileManager.default.removeItem(at: tmp.appendingPathComponent(name))
        }
        let url = tmp.appendingPathComponent("\(prefix)\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: Scratch.root) }
        return url
    }()

    /// A new, empty folder under the root, its name starting with `label`.
    public static func directory(_ label: String) throws -> URL {
        let url = root.appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A path under the root for a file that does not exist yet (`name` gets a unique prefix).
    public static func file(_ name: String) -> URL {
        root.appendingPathComponent("\(UUID().uuidString.prefix(8))-\(name)")
    }
}
