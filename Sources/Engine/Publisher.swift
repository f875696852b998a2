import Catalog
import Foundation
import Trajectories

/// Publishes packed skills to a destination that agents and trainers read from: versioned archives,
/// a consistent catalog snapshot, `SHA256SUMS` and `index.json`. Everything is staged inside the
/// destination and moved into place; a published version whose bytes differ is never overwritten.
public enum Publisher {
    public struct Report: Sendable, Codable {
        public var published: [String]
        public var unchanged: [String]
    }

    public struct Conflict: Error, CustomStringConvertible, Sendable {
        public var files: [String]
        public var description: String {
            "refusing to publish: \(files.joined(separator: ", ")) already published with different bytes; versions are immutable — bump the content (a new version) instead"
        }
    }

    public static func publish(outDirectory: URL, to destination: URL) throws -> Report {
        let fm = FileManager.default
        let catalogPath = outDirectory.appendingPathComponent("catalog.sqlite")
        guard fm.fileExists(atPath: catalogPath.path) else {
            throw EngineError.io("\(catalogPath.path) does not exist: run 'skillforge build' first")
        }
        let catalog = try Catalog(path: catalogPath.path)
        let skills = try catalog.skills().filter { $0.status == "verified" && !$0.archives.isEmpty }
        try fm.createDirectory(at: destination, withIntermediateDirectories: true)
        let staging = destination.appendingPathComponent(".staging-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try fm.createDirectory(at: staging.appendingPathComponent("archives"), withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: staging) }

        // Stage versioned archives, checking each against what is already published.
        var conflicts: [String] = []
        var planned: [(name: String, staged: URL)] = []
        var unchanged: [String] = []
        var sums: [(String, String)] = []
        for s in skills {
            for file in s.archives {
                let source = outDirectory.appendingPathComponent("archives/\(file)")
                guard fm.fileExists(atPath: source.path) else {
                    throw EngineError.io("\(source.path) is missing: run 'skillforge build' (or 'skillforge pack') again")
                }
                let ext = file.dropFirst(s.name.count + 1)
                let published = "archives/\(s.name)-\(s.version).\(ext)"
                let data = try Data(contentsOf: source)
                let existing = destination.appendingPathComponent(published)
                sums.append((ContentHash.sha256(data), published))
                if fm.fileExists(atPath: existing.path) {
                    if try Data(contentsOf: existing) == data { unchanged.append(published) } else { conflicts.append(published) }
                    continue
                }
                let staged = staging.appendingPathComponent(published)
                try data.write(to: staged)
                planned.append((published, staged))
            }
        }
        if !conflicts.isEmpty { throw Conflict(files: conflicts) }

        // Catalog snapshot, index and checksums describe everything published so far.
        try catalog.snapshot(to: staging.appendingPathComponent("catalog.sqlite"))
        struct IndexEntry: Encodable {
            var name: String, version: Int, description: String, pdi: Double?, sha256: String, archives: [String]
        }
        let index = skills.map { s in
            IndexEntry(name: s.name, version: s.version, description: s.description, pdi: s.pdi, sha256: s.sha256,
                       archives: s.archives.map { "archives/\(s.name)-\(s.version).\($0.dropFirst(s.name.count + 1))" })
        }
        var indexData = try JSONCoding.prettyEncoder.encode(index)
        indexData.append(0x0A)
        try indexData.write(to: staging.appendingPathComponent("index.json"))
        // SHA256SUMS covers every archive in the destination (earlier versions too).
        var all: [String: String] = [:]
        if let previous = try? String(contentsOf: destination.appendingPathComponent("SHA256SUMS"), encoding: .utf8) {
            for line in previous.split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 1)
                if parts.count == 2 { all[String(parts[1]).trimmingCharacters(in: .whitespaces)] = String(parts[0]) }
            }
        }
        for (sum, file) in sums { all[file] = sum }
        let sumsText = all.keys.sorted().map { "\(all[$0]!)  \($0)" }.joined(separator: "\n") + "\n"
        try Data(sumsText.utf8).write(to: staging.appendingPathComponent("SHA256SUMS"))

        // Move into place: archives first (new names only), then the files that describe them.
        try fm.createDirectory(at: destination.appendingPathComponent("archives"), withIntermediateDirectories: true)
        for p in planned { try AtomicInstall.rename(p.staged, destination.appendingPathComponent(p.name)) }
        for name in ["catalog.sqlite", "index.json", "SHA256SUMS"] {
            try AtomicInstall.rename(staging.appendingPathComponent(name), destination.appendingPathComponent(name))
        }
        return Report(published: planned.map(\.name), unchanged: unchanged)
    }
}
