import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A batch of consecutive lines read from one file, sharing one byte buffer.
public struct LineBatch: Sendable {
    public struct Line: Sendable {
        /// 1-based line number in the file.
        public let number: Int
        public let range: Range<Int>
    }

    public let bytes: [UInt8]
    public let lines: [Line]
    /// Lines longer than the reader's limit: skipped without being held in memory.
    public var overlong: [(number: Int, bytes: Int)] = []

    public func data(of line: Line) -> Data { Data(bytes[line.range]) }
}

public enum ReadError: Error, CustomStringConvertible, Sendable {
    case cannotOpen(path: String, reason: String)
    case readFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): return "\(path): cannot open: \(reason)"
        case .readFailed(let path, let reason): return "\(path): read failed: \(reason)"
        }
    }
}

/// Streams a file as lines: memory holds one batch plus the longest line, and a line longer than
/// `maxLineBytes` is skipped (reported in `LineBatch.overlong`) without ever being held whole.
///
/// Line terminators are `\n`; a trailing `\r` (CRLF files) is removed. Blank lines are skipped but
/// still counted, so line numbers match what an editor shows.
public final class LineReader {
    public let path: String
    private let fd: Int32
    /// Bytes read and not yet handed out: `storage[start..<count]`. The file is read straight into
    /// it, and each line is copied once, into its batch.
    private var storage: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count = 0
    private var start = 0
    private var eof = false
    private var lineNumber = 0
    private let chunkSize: Int
    private let maxLineBytes: Int
    /// Bytes of the file still to read (the end of the range read; unbounded for a whole file).
    private var remaining: Int64

    /// Reads the file at `path`, or only `range` of its bytes (a chunk that starts at a line start and
    /// ends after a newline or at the end of the file) whose first line is line `firstLine` of the file.
    public init(path: String, chunkSize: Int = 1 << 20, maxLineBytes: Int = Int.max,
                range: Range<Int64>? = nil, firstLine: Int = 1) throws {
        self.path = path
        self.chunkSize = max(1, chunkSize)
        self.maxLineBytes = maxLineBytes
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ReadError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw ReadError.cannotOpen(path: path, reason: "is a directory")
        }
        remaining = Int64.max
        if let range {
            guard lseek(fd, off_t(range.lowerBound), SEEK_SET) == off_t(range.lowerBound) else {
                close(fd)
                throw ReadError.readFailed(path: path, reason: "cannot seek to byte \(range.lowerBound)")
            }
            remaining = Int64(range.count)
        }
        lineNumber = firstLine - 1
        self.fd = fd
        capacity = 2 * self.chunkSize
        storage = .allocate(capacity: capacity)
    }

    deinit {
        close(fd)
        storage.deallocate()
    }

    /// Returns the next batch of up to `maxLines` lines (or about `maxBytes` bytes), nil at end of file.
    public func nextBatch(maxLines: Int = 4096, maxBytes: Int = 8 << 20) throws -> LineBatch? {
        var lines: [LineBatch.Line] = []
        var batchBytes: [UInt8] = []
        // Room for a full batch (and most of a last line past it) up front: growing by doubling copied
        // the batch about twice more.
        // (Pages never written are never touched, so a short batch costs no memory for the rest.)
        batchBytes.reserveCapacity(maxBytes + (1 << 20))
        var overlong: [(number: Int, bytes: Int)] = []
        while lines.count < maxLines && batchBytes.count < maxBytes {
            guard let next = try nextRawLine() else { break }
            lineNumber += 1
            guard case .line(let lo, var end) = next else {
                if case .tooLong(let n) = next { overlong.append((lineNumber, n)) }
                continue
            }
            if end > lo && storage[end - 1] == 0x0D { end -= 1 }
            if isBlank(lo, end) { continue }
            let at = batchBytes.count
            batchBytes.append(contentsOf: UnsafeBufferPointer(start: storage + lo, count: end - lo))
            lines.append(.init(number: lineNumber, range: at..<batchBytes.count))
        }
        if lines.isEmpty && overlong.isEmpty { return nil }
        var batch = LineBatch(bytes: batchBytes, lines: lines)
        batch.overlong = overlong
        return batch
    }

    private func isBlank(_ lo: Int, _ end: Int) -> Bool {
        var i = lo
        while i < end {
            let b = storage[i]
            if b != 0x20 && b != 0x09 && b != 0x0D { return false }
            i += 1
        }
        return true
    }

    private enum RawLine {
        /// `storage[lo..<end]`, valid until the next call.
        case line(lo: Int, end: Int)
        case tooLong(Int)
    }

    /// The next line without its `\n`, or nil at EOF.
    private func nextRawLine() throws -> RawLine? {
        var searchFrom = start
        while true {
            if searchFrom < count, let p = memchr(storage + searchFrom, 0x0A, count - searchFrom) {
                let nl = UnsafeMutableRawPointer(p).assumingMemoryBound(to: UInt8.self) - storage
                let lo = start
                start = nl + 1
                if nl - lo > maxLineBytes { return .tooLong(nl - lo) }
                return .line(lo: lo, end: nl)
            }
            if eof {
                guard start < count else { return nil }
                let lo = start
                start = count
                if count - lo > maxLineBytes { return .tooLong(count - lo) }
                return .line(lo: lo, end: count)
            }
            if count - start > maxLineBytes { return .tooLong(try skipRestOfLine()) }
            compact()
            searchFrom = count
            try fill()
        }
    }

    /// Moves the unread bytes to the front.
    private func compact() {
        guard start > 0 else { return }
        if count > start { storage.update(from: storage + start, count: count - start) }
        count -= start
        start = 0
    }

    /// Past the limit: drops what is buffered and reads on to the end of the line, counting bytes.
    private func skipRestOfLine() throws -> Int {
        var total = count - start
        start = 0
        count = 0
        while true {
            try fill()
            if count > 0, let p = memchr(storage, 0x0A, count) {
                let nl = UnsafeMutableRawPointer(p).assumingMemoryBound(to: UInt8.self) - storage
                total += nl
                start = nl + 1
                return total
            }
            total += count
            count = 0
            if eof { return total }
        }
    }

    /// Reads up to a chunk more, straight into the buffer (grown when full).
    private func fill() throws {
        if capacity - count < chunkSize {
            let bigger = max(capacity * 2, count + chunkSize)
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: bigger)
            grown.update(from: storage, count: count)
            storage.deallocate()
            storage = grown
            capacity = bigger
        }
        let n = read(fd, storage + count, Int(min(Int64(chunkSize), remaining)))
        if n < 0 {
            if errno == EINTR { return }
            throw ReadError.readFailed(path: path, reason: String(cString: strerror(errno)))
        }
        if n == 0 { eof = true; return }
        count += n
        remaining -= Int64(n)
    }
}

/// UTF-8 handling shared by every reader: valid text passes through untouched; invalid sequences are
/// replaced by U+FFFD and the caller counts the repair.
public enum UTF8Repair {
    /// Returns nil when `bytes` is valid UTF-8, else the repaired bytes.
    public static func repairIfNeeded(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        var ascii = true
        for b in bytes where b >= 0x80 { ascii = false; break }
        if ascii { return nil }
        if String(validating: bytes, as: UTF8.self) != nil { return nil }
        return Array(String(decoding: bytes, as: UTF8.self).utf8)
    }
}

/// The size of the file at `path`, following symbolic links (an input given as a link is measured by what
/// it points to, not by the link); nil when it cannot be read.
public func fileSize(atPath path: String) -> Int64? {
    var st = stat()
    return stat(path, &st) == 0 ? Int64(st.st_size) : nil
}
