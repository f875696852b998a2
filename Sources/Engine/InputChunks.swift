import Foundation
import Trajectories

/// One chunk of a large native input file: whole lines, `length` bytes from `offset`, the first of
/// them line `firstLine` of the file.
struct InputChunk: Codable, Equatable, Sendable {
    var offset: Int64
    var length: Int64
    var firstLine: Int
    var sha256: String
}

/// An input file's sha256 and size and, for a native file larger than the chunk size, its chunks: the
/// ingest cache keeps one entry per chunk, so that a nightly build after trajectories were appended to a
/// large file reads and prepares only its last chunks, not the whole file again.
struct InputDigest: Codable, Equatable, Sendable {
    var sha256: String
    var bytes: Int64
    var chunks: [InputChunk]?

    /// Whether `input` is read in chunks of `chunkBytes` (line formats only — native, openai-messages: one
    /// record per line, so a chunk of whole lines is ingested the same on its own as within the file).
    static func chunked(_ input: BuildRunner.ResolvedInput, bytes: Int64, chunkBytes: Int) -> Bool {
        LineFormat(rawValue: input.format) != nil && bytes > Int64(chunkBytes)
    }

    /// Hashes the file at `path` in one read: the whole file's sha256 and, with `chunkBytes`, the chunks.
    /// A chunk ends after the first newline at or past `chunkBytes` bytes from its start (or at the end of
    /// the file), so where a chunk ends depends only on the bytes from its start: appending to a file
    /// leaves its earlier chunks, and their cache entries, as they were.
    static func compute(path: String, chunkBytes: Int?) throws -> InputDigest {
        guard let chunkBytes else {
            let (sha, bytes) = try ContentHash.sha256(fileAt: path)
            return InputDigest(sha256: sha, bytes: bytes, chunks: nil)
        }
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw ReadError.cannotOpen(path: path, reason: "cannot open for hashing")
        }
        defer { try? h.close() }
        // The whole file's hash is computed on another thread, a few blocks behind the chunks'.
        let file = BackgroundHasher()
        var chunk = ContentHash.Stream()
        var chunks: [InputChunk] = []
        var chunkStart: Int64 = 0, firstLine = 1, newlines = 0
        var offset: Int64 = 0
        while true {
            let block = try h.read(upToCount: 1 << 20) ?? Data()
            if block.isEmpty { break }
            file.add(block)
            block.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                let b = raw.bindMemory(to: UInt8.self)
                var i = 0
                while i < b.count {
                    // The chunk may end at the first newline at file position chunkStart + chunkBytes - 1 or later.
                    let from = max(i, Int(chunkStart + Int64(chunkBytes) - 1 - offset))
                    var cut = b.count, found = false
                    if from < b.count, let p = memchr(b.baseAddress! + from, 0x0A, b.count - from) {
                        cut = UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self) - b.baseAddress! + 1
                        found = true
                    }
                    let piece = UnsafeBufferPointer(rebasing: b[i..<cut])
                    chunk.update(UnsafeRawBufferPointer(piece))
                    newlines += countNewlines(UnsafeRawBufferPointer(piece))
                    i = cut
                    if found {
                        let end = offset + Int64(cut)
                        chunks.append(InputChunk(offset: chunkStart, length: end - chunkStart, firstLine: firstLine, sha256: chunk.finalize()))
                        chunk = ContentHash.Stream()
                        firstLine += newlines
                        newlines = 0
                        chunkStart = end
                    }
                }
            }
            offset += Int64(block.count)
        }
        if offset > chunkStart {
            chunks.append(InputChunk(offset: chunkStart, length: offset - chunkStart, firstLine: firstLine, sha256: chunk.finalize()))
        }
        return InputDigest(sha256: file.finalize(), bytes: offset, chunks: chunks)
    }

    /// The number of `\n` bytes, eight at a time: a byte of `x = word ^ 0x0A…` is zero exactly where the
    /// word has a newline, and `~(((x & 0x7F…) + 0x7F…) | x | 0x7F…)` sets the high bit of exactly those bytes.
    static func countNewlines(_ bytes: UnsafeRawBufferPointer) -> Int {
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F, newlines: UInt64 = 0x0A0A_0A0A_0A0A_0A0A
        var n = 0, i = 0
        while i + 8 <= bytes.count {
            let x = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ newlines
            n += (~(((x & low7) &+ low7) | x | low7)).nonzeroBitCount
            i += 8
        }
        while i < bytes.count {
            if bytes[i] == 0x0A { n += 1 }
            i += 1
        }
        return n
    }
}

/// A sha256 fed block by block, on a serial queue at most four blocks behind the caller.
private final class BackgroundHasher: @unchecked Sendable {
    private var stream = ContentHash.Stream()
    private let queue = DispatchQueue(label: "skillforge.input-hash")
    private let slots = DispatchSemaphore(value: 4)

    func add(_ block: Data) {
        slots.wait()
        queue.async { [self] in
            stream.update(block)
            slots.signal()
        }
    }

    func finalize() -> String {
        queue.sync {}
        return stream.finalize()
    }
}
