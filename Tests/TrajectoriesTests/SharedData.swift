import Foundation
import Testing

/// `../shared/data` beside the repository: real files written by other projects. Tests that read it
/// fail under `CI=true` when it is missing and skip with a printed notice on a clone without it.
enum SharedData {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/data")

    static var available: Bool { FileManager.default.fileExists(atPath: root.path) }

    /// The path of `relative`, or nil (after recording or printing why) when the data is absent.
    static func path(_ relative: String) -> String? {
        if available { return root.appendingPathComponent(relative).path }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record("CI=true but \(root.path) is missing: the shared test data must be beside the clone")
        } else {
            print("NOTICE: skipping a test on real data: \(root.path) is not present on this clone")
        }
        return nil
    }

    /// Every regular file under `dir` (relative paths, sorted).
    static func files(under dir: String) -> [String] {
        guard available, let e = FileManager.default.enumerator(atPath: root.appendingPathComponent(dir).path) else { return [] }
        var out: [String] = []
        while let rel = e.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: root.appendingPathComponent("\(dir)/\(rel)").path, isDirectory: &isDir), !isDir.boolValue {
                out.append("\(dir)/\(rel)")
            }
        }
        return out.sorted()
    }
}
