import Foundation
import Trajectories

/// The sha256 of every input file, remembered with the file's identity and change stamps
/// (`out/.cache/hashes.json`): device, inode, size, modification time and status-change time, to the
/// nanosecond. A file whose stamps are all unchanged is not read again; every cache key is still the
/// content hash, this only avoids recomputing it (the rule git's index and DVC use). Writing to a file
/// always moves its status-change time, which no tool can set back, so edited content is always hashed
/// again; `--no-cache` ignores this memory. Files not remembered are hashed on all cores.
struct InputHashes {
    struct Entry: Codable, Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var mtimeNS: Int64
        var ctimeNS: Int64
        var sha256: String
    }

    let url: URL
    private(set) var entries: [String: Entry] = [:]
    /// Files whose hash came from memory in the last `hash` call (for tests and the summary).
    private(set) var remembered = 0

    init(out: URL) {
        url = out.appendingPathComponent(".cache/hashes.json")
        if let data = try? Data(contentsOf: url), let e = try? JSONDecoder().decode([String: Entry].self, from: data) {
            entries = e
        }
    }

    static func stamp(_ path: String) -> Entry? {
        FileStamp(path: path).map { Entry(device: $0.device, inode: $0.inode, size: $0.size, mtimeNS: $0.mtimeNS, ctimeNS: $0.ctimeNS, sha256: "") }
    }

    static func sameStamps(_ a: Entry, _ b: Entry) -> Bool {
        a.device == b.device && a.inode == b.inode && a.size == b.size && a.mtimeNS == b.mtimeNS && a.ctimeNS == b.ctimeNS
    }

    /// (sha256, bytes) of each input, in order.
    mutating func hash(_ inputs: [BuildRunner.ResolvedInput]) throws -> [(String, Int64)] {
        var known: [Int: (String, Int64)] = [:]
        var todo: [Int] = []
        var stamps: [Int: Entry] = [:]
        for (k, input) in inputs.enumerated() {
            let path = (input.path as NSString).standardizingPath
            if let now = Self.stamp(path) {
                stamps[k] = now
                if let old = entries[path], old.sha256.count == 64, Self.sameStamps(old, now) {
                    known[k] = (old.sha256, old.size)
                    continue
                }
            }
            todo.append(k)
        }
        remembered = known.count
        let fresh = Parallel.map(todo, minChunk: 1) { k in Result { try BuildRunner.hashInput(inputs[k]) } }
        for (k, r) in zip(todo, fresh) {
            let h = try r.get()
            known[k] = h
            // Remember it only if the file did not change while it was read.
            let path = (inputs[k].path as NSString).standardizingPath
            if var before = stamps[k], let after = Self.stamp(path), Self.sameStamps(after, before), h.1 == before.size {
                before.sha256 = h.0
                entries[path] = before
            }
        }
        return inputs.indices.map { known[$0]! }
    }

    /// Writes the memory (atomically; a failure only costs the next build some hashing).
    func save() {
        // Files that no longer exist are forgotten, so the memory does not grow without bound.
        let kept = entries.filter { FileManager.default.fileExists(atPath: $0.key) }
        guard let data = try? JSONCoding.prettyEncoder.encode(kept) else { return }
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? data.write(to: url, options: .atomic)
    }
}
