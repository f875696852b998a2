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
        var stamp: FileStamp
        var sha256: String
        /// A large native file's chunks, and the chunk size they were cut for.
        var chunks: [InputChunk]?
        var chunkBytes: Int?
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

    /// The digest of each input, in order (with chunks for native files larger than `chunkBytes`).
    mutating func hash(_ inputs: [BuildRunner.ResolvedInput], chunkBytes: Int = BuildRunner.defaultChunkBytes) throws -> [InputDigest] {
        var known: [Int: InputDigest] = [:]
        var todo: [Int] = []
        var stamps: [Int: FileStamp] = [:]
        for (k, input) in inputs.enumerated() {
            let path = (input.path as NSString).standardizingPath
            if let now = FileStamp(path: path) {
                stamps[k] = now
                let chunked = InputDigest.chunked(input, bytes: now.size, chunkBytes: chunkBytes)
                if let old = entries[path], old.sha256.count == 64, old.stamp == now,
                   !chunked || (old.chunks != nil && old.chunkBytes == chunkBytes) {
                    known[k] = InputDigest(sha256: old.sha256, bytes: now.size, chunks: chunked ? old.chunks : nil)
                    continue
                }
            }
            todo.append(k)
        }
        remembered = known.count
        let fresh = Parallel.map(todo, minChunk: 1) { k in Result { try BuildRunner.hashInput(inputs[k], chunkBytes: chunkBytes) } }
        for (k, r) in zip(todo, fresh) {
            let h = try r.get()
            known[k] = h
            // Remember it only if the file did not change while it was read.
            let path = (inputs[k].path as NSString).standardizingPath
            if let before = stamps[k], FileStamp(path: path) == before, h.bytes == before.size {
                entries[path] = Entry(stamp: before, sha256: h.sha256, chunks: h.chunks, chunkBytes: h.chunks == nil ? nil : chunkBytes)
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
