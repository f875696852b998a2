import Foundation
import TestSupport
import Testing
import Trajectories

/// The repository root, found from this file's location.
let repoRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func scratch(_ label: String) throws -> URL {
    try Scratch.directory(label)
}

/// sha256 of every regular file under `dir`, keyed by relative path.
func treeHashes(_ dir: URL) throws -> [String: String] {
    var out: [String: String] = [:]
    let fm = FileManager.default
    guard let e = fm.enumerator(atPath: dir.path) else { return [:] }
    while let rel = e.nextObject() as? String {
        var isDir: ObjCBool = false
        let full = dir.appendingPathComponent(rel).path
        if fm.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue {
            out[rel] = try ContentHash.sha256(fileAt: full).hex
        }
    }
    return out
}

/// The built `skillforge` executable beside the test bundle.
var skillforgeBinary: URL? {
    let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [bundleDir.appendingPathComponent("skillforge"),
                      repoRoot.appendingPathComponent(".build/debug/skillforge")]
        where FileManager.default.isExecutableFile(atPath: candidate.path) {
        return candidate
    }
    return nil
}

/// Runs a process to completion, returning its exit status and combined output.
@discardableResult
func run(_ executable: String, _ args: [String], cwd: URL? = nil, env: [String: String] = [:]) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    if let cwd { p.currentDirectoryURL = cwd }
    p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

/// `../shared/data/<path>` when it is there. When it is not: nil, after a notice naming `test` — or, under
/// CI=true (where the shared data must be present), a recorded issue.
func sharedData(_ path: String, for test: String) -> URL? {
    let url = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/\(path)")
    if FileManager.default.fileExists(atPath: url.path) { return url }
    if isCI { Issue.record("CI=true but ../shared/data/\(path) is missing") }
    else { print("NOTICE: skipping \(test): \(url.path) is not present") }
    return nil
}

/// The `inputs:` of a pipeline over the sample corpus (with its outcomes) and the SPARK runs in `spark`.
func sparkAndSampleInputs(_ spark: URL) -> String {
    """
    inputs:
      - path: \(repoRoot.path)/pipelines/samples/part-*.jsonl
        outcomes: \(repoRoot.path)/pipelines/samples/outcomes.jsonl
      - path: \(spark.path)/*/trajectory.jsonl
    """
}
