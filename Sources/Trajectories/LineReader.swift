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
    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false
    private var lineNumber = 0
    private let chunkSize: Int
    private let maxLineBytes: Int

    public init(path: String, chunkSize: Int = 1 << 20, maxLineBytes: Int = Int.max) throws {
        self.path = path
        self.chunkSize = chunkSize
        self.maxLineBytes = maxLineBytes
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ReadError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw ReadError.cannotOpen(path: path, reason: "is a directory")
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Returns the next batch of up to `maxLines` lines (or about `maxBytes` bytes), nil at end of file.
    public func nextBatch(maxLines: Int = 4096, maxBytes: Int = 8 << 20) throws -> LineBatch? {
        var lines: [LineBatch.Line] = []
        var batchBytes: [UInt8] = []
        var overlong: [(number: Int, bytes: Int)] = []
        while lines.count < maxLines && batchBytes.count < maxBytes {
            guard let next = try nextRawLine() else { break }
            lineNumber += 1
            guard case .line(let raw) = next else {
                if case .tooLong(let n) = next { overlong.append((lineNumber, n)) }
                continue
            }
            var end = raw.count
            if end > 0 && raw[end - 1] == 0x0D { end -= 1 }
            if isBlank(raw, end) { continue }
            let lo = batchBytes.count
            batchBytes.append(contentsOf: raw[0..<end])
            lines.append(.init(number: lineNumber, range: lo..<batchBytes.count))
        }
        if lines.isEmpty && overlong.isEmpty { return nil }
        var batch = LineBatch(bytes: batchBytes, lines: lines)
        batch.overlong = overlong
        return batch
    }

    private func isBlank(_ raw: ArraySlice<UInt8>, _ end: Int) -> Bool {
        var i = raw.startIndex
        let stop = raw.startIndex + end
        while i < stop {
            let b = raw[i]
            if b != 0x20 && b != 0x09 && b != 0x0D { return false }
            i += 1
        }
        return true
    }

    private enum RawLine {
        case line(ArraySlice<UInt8>)
        case tooLong(Int)
    }

    /// The next line without its `\n`, or nil at EOF. The slice is rebased to start at 0.
    private func nextRawLine() throws -> RawLine? {
        var searchFrom = start
        while true {
            let newline: Int? = buffer.withUnsafeBufferPointer { buf -> Int? in
                guard searchFrom < buf.count else { return nil }
                let base = buf.baseAddress! + searchFrom
                guard let p = memchr(base, 0x0A, buf.count - searchFrom) else { return nil }
                return UnsafeRawPointer(p) - UnsafeRawPointer(buf.baseAddress!)
            }
            if let nl = newline {
                if nl - start > maxLineBytes { let n = nl - start; start = nl + 1; return .tooLong(n) }
                let line = Array(buffer[start..<nl])[...]
                start = nl + 1
                return .line(line)
            }
            if eof {
                guard start < buffer.count else { return nil }
                if buffer.count - start > maxLineBytes { let n = buffer.count - start; start = buffer.count; return .tooLong(n) }
                let line = Array(buffer[start...])[...]
                start = buffer.count
                return .line(line)
            }
            if buffer.count - start > maxLineBytes { return .tooLong(try skipRestOfLine()) }
            // Compact, then read more.
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            searchFrom = buffer.count
            try fill()
        }
    }

    /// Past the limit: drops what is buffered and reads on to the end of the line, counting bytes.
    private func skipRestOfLine() throws -> Int {
        var count = buffer.count - start
        buffer.removeAll(keepingCapacity: true)
        start = 0
        while true {
            try fill()
            if let nl = buffer.firstIndex(of: 0x0A) {
                count += nl
                buffer.removeFirst(nl + 1)
                return count
            }
            count += buffer.count
            buffer.removeAll(keepingCapacity: true)
            if eof { return count }
        }
    }

    private func fill() throws {
        let old = buffer.count
        buffer.reserveCapacity(old + chunkSize)
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, chunkSize) }
        if n < 0 {
            if errno == EINTR { return }
            throw ReadError.readFailed(path: path, reason: String(cString: strerror(errno)))
        }
        if n == 0 { eof = true; return }
        buffer.append(contentsOf: chunk[0..<n])
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
