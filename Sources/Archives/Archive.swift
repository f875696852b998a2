import CArchive
import Foundation
import Trajectories

// libarchive's AE_IF* macros are casts Swift cannot import.
let fileTypeDirectory: Int32 = 0o040000
let fileTypeRegular: Int32 = 0o100000

func libarchiveError(_ a: OpaquePointer?, _ fallback: String) -> String {
    archive_error_string(a).map { String(cString: $0) } ?? fallback
}


public enum ArchiveError: Error, CustomStringConvertible, Sendable {
    case libarchive(String)
    case unsafePath(String, reason: String)
    case limit(String)
    case io(String)

    public var description: String {
        switch self {
        case .libarchive(let m): return "libarchive: \(m)"
        case .unsafePath(let p, let r): return "refused entry '\(p)': \(r)"
        case .limit(let m): return "archive exceeds a limit: \(m)"
        case .io(let m): return m
        }
    }
}

/// Limits enforced when packing and extracting (zip bombs, runaway bundles).
public struct ArchiveLimits: Sendable {
    public var maxEntries: Int
    public var maxTotalBytes: Int64
    public static let standard = ArchiveLimits(maxEntries: 10_000, maxTotalBytes: 512 << 20)
    /// For installing one skill: what a bundle may hold (1,000 files, 64 MiB; see `SkillBundle.Limits`)
    /// plus its directories.
    public static let skill = ArchiveLimits(maxEntries: 2_000, maxTotalBytes: 64 << 20)
    public init(maxEntries: Int, maxTotalBytes: Int64) {
        self.maxEntries = maxEntries
        self.maxTotalBytes = maxTotalBytes
    }
}

/// Entry paths must stay inside the archive's folder: relative, no `..`, no empty components.
public enum EntryPath {
    public static func check(_ path: String) throws {
        if path.hasPrefix("/") { throw ArchiveError.unsafePath(path, reason: "absolute path") }
        if path.contains("\0") { throw ArchiveError.unsafePath(path, reason: "NUL byte") }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        if parts.contains("..") { throw ArchiveError.unsafePath(path, reason: "'..' component") }
        if parts.isEmpty { throw ArchiveError.unsafePath(path, reason: "empty path") }
    }

    /// Whether a link at `path` pointing to `target` stays inside the root.
    public static func linkStaysInside(path: String, target: String) -> Bool {
        if target.hasPrefix("/") { return false }
        var depth = path.split(separator: "/").count - 1
        for c in target.split(separator: "/") {
            if c == ".." { depth -= 1 } else if c != "." { depth += 1 }
            if depth < 0 { return false }
        }
        return true
    }
}

/// Writes archives that are byte-identical for identical content: entries sorted, fixed mtime
/// (`SOURCE_DATE_EPOCH`, else 2000-01-01), uid/gid 0 with fixed names, modes 0644/0755, gzip without a
/// timestamp, zip dates computed in UTC whatever `TZ` says.
public enum ArchiveWriter {
    public static let defaultEpoch: Int64 = 946_684_800  // 2000-01-01T00:00:00Z

    public static var epoch: Int64 {
        if let s = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"], let v = Int64(s), v >= 0 { return v }
        return defaultEpoch
    }

    /// libarchive's zip writer converts times with the process's local time zone; packing holds this
    /// lock while TZ is forced to UTC.
    static let tzLock = NSLock()

    public struct Item {
        public var path: String
        public var data: Data
        public var executable: Bool
    }

    /// The files of a bundle directory, sorted, with excluded files (caches, VCS litter) left out and
    /// links refused when they point outside the bundle.
    public static func items(of directory: URL, limits: ArchiveLimits = .standard) throws -> [Item] {
        let fm = FileManager.default
        guard let e = fm.enumerator(atPath: directory.path) else { throw ArchiveError.io("\(directory.path): cannot read") }
        var out: [Item] = []
        var total: Int64 = 0
        while let rel = e.nextObject() as? String {
            let parts = rel.split(separator: "/")
            if parts.contains(where: { $0 == "__pycache__" || $0 == "node_modules" || $0 == ".DS_Store" || $0 == ".git" }) || rel.hasSuffix(".pyc") {
                continue
            }
            let full = directory.appendingPathComponent(rel)
            let attrs = try fm.attributesOfItem(atPath: full.path)
            let type = attrs[.type] as? FileAttributeType
            if type == .typeSymbolicLink {
                let target = try fm.destinationOfSymbolicLink(atPath: full.path)
                if !EntryPath.linkStaysInside(path: rel, target: target) {
                    throw ArchiveError.unsafePath(rel, reason: "link to '\(target)' leaves the bundle")
                }
                // Links inside the bundle are stored as the file they point to.
            }
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: full.path, isDirectory: &isDir), !isDir.boolValue else { continue }
            try EntryPath.check(rel)
            let data = try Data(contentsOf: full)
            total += Int64(data.count)
            if out.count + 1 > limits.maxEntries { throw ArchiveError.limit("more than \(limits.maxEntries) files") }
            if total > limits.maxTotalBytes { throw ArchiveError.limit("more than \(limits.maxTotalBytes) bytes") }
            let perms = (attrs[.posixPermissions] as? NSNumber)?.intValue ?? 0o644
            out.append(Item(path: rel, data: data, executable: perms & 0o111 != 0))
        }
        return out.sorted { $0.path < $1.path }
    }

    /// Packs `directory` as `format` into `destination` (written to a temporary name, then renamed).
    /// Entries are `<folder>/<relative path>` with `folder` defaulting to the directory's name.
    public static func pack(directory: URL, to destination: URL, format: ArchiveFormat, folder: String? = nil,
                            epoch: Int64 = ArchiveWriter.epoch) throws {
        let items = try items(of: directory)
        try pack(items: items, folder: folder ?? directory.lastPathComponent, to: destination, format: format, epoch: epoch)
    }

    public static func pack(items: [Item], folder: String, to destination: URL, format: ArchiveFormat, epoch: Int64) throws {
        try EntryPath.check(folder)
        let tmp = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).tmp-\(getpid())")
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        tzLock.lock()
        let oldTZ = getenv("TZ").map { String(cString: $0) }
        setenv("TZ", "UTC", 1)
        tzset()
        defer {
            if let oldTZ { setenv("TZ", oldTZ, 1) } else { unsetenv("TZ") }
            tzset()
            tzLock.unlock()
        }
        guard let a = archive_write_new() else { throw ArchiveError.libarchive("cannot allocate a writer") }
        defer { archive_write_free(a) }
        func check(_ r: Int32, _ what: String) throws {
            if r < ARCHIVE_WARN { throw ArchiveError.libarchive("\(what): \(libarchiveError(a, "unknown error"))") }
        }
        switch format {
        case .skill:
            try check(archive_write_set_format_zip(a), "zip format")
            try check(archive_write_set_options(a, "zip:compression=deflate"), "zip options")
        case .tarZst:
            try check(archive_write_set_format_pax_restricted(a), "tar format")
            try check(archive_write_add_filter_zstd(a), "zstd filter")
        case .tarGz:
            try check(archive_write_set_format_pax_restricted(a), "tar format")
            try check(archive_write_add_filter_gzip(a), "gzip filter")
            try check(archive_write_set_options(a, "gzip:!timestamp"), "gzip options")
        }
        try check(archive_write_open_filename(a, tmp.path), "open \(tmp.path)")
        // Directory entries first-class and sorted with the files, so every path's parent precedes it.
        var dirs = Set<String>([folder])
        for item in items {
            var parts = item.path.split(separator: "/").dropLast()
            while !parts.isEmpty { dirs.insert(folder + "/" + parts.joined(separator: "/")); parts = parts.dropLast() }
        }
        var entries: [(String, Item?)] = dirs.map { ($0, nil) } + items.map { (folder + "/" + $0.path, $0) }
        entries.sort { $0.0 < $1.0 }
        for (path, item) in entries {
            guard let entry = archive_entry_new() else { throw ArchiveError.libarchive("cannot allocate an entry") }
            defer { archive_entry_free(entry) }
            archive_entry_set_pathname(entry, item == nil ? path + "/" : path)
            archive_entry_set_filetype(entry, UInt32(item == nil ? fileTypeDirectory : fileTypeRegular))
            archive_entry_set_perm(entry, item == nil || item!.executable ? 0o755 : 0o644)
            archive_entry_set_uid(entry, 0)
            archive_entry_set_gid(entry, 0)
            archive_entry_set_uname(entry, "root")
            archive_entry_set_gname(entry, "root")
            archive_entry_set_mtime(entry, Int(epoch), 0)
            archive_entry_set_size(entry, Int64(item?.data.count ?? 0))
            try check(archive_write_header(a, entry), "header for \(path)")
            if let data = item?.data, !data.isEmpty {
                let written = data.withUnsafeBytes { archive_write_data(a, $0.baseAddress, data.count) }
                if written < 0 { try check(Int32(written), "data for \(path)") }
            }
        }
        try check(archive_write_close(a), "close")
        if rename(tmp.path, destination.path) != 0 {
            throw ArchiveError.io("cannot move \(tmp.path) to \(destination.path): \(String(cString: strerror(errno)))")
        }
    }
}

/// Reads archives back: listing for verification, and extraction with path safety for `skill install`.
public enum ArchiveReader {
    public struct Entry: Sendable, Hashable {
        public var path: String
        public var isDirectory: Bool
        public var isLink: Bool
        public var linkTarget: String?
        public var mode: Int
        public var data: Data
    }

    /// Every entry with its content. Refuses absolute paths, `..`, links leaving the root, and archives
    /// over the limits — before anything is written anywhere.
    public static func entries(of archive: URL, limits: ArchiveLimits = .standard) throws -> [Entry] {
        guard let a = archive_read_new() else { throw ArchiveError.libarchive("cannot allocate a reader") }
        defer { archive_read_free(a) }
        archive_read_support_filter_all(a)
        archive_read_support_format_all(a)
        if archive_read_open_filename(a, archive.path, 1 << 16) != ARCHIVE_OK {
            throw ArchiveError.libarchive("\(archive.path): \(libarchiveError(a, "cannot open"))")
        }
        return try readEntries(a, limits: limits)
    }

    /// The same for an archive held in memory (downloads, fuzzing).
    public static func entries(data: Data, limits: ArchiveLimits = .standard) throws -> [Entry] {
        guard let a = archive_read_new() else { throw ArchiveError.libarchive("cannot allocate a reader") }
        defer { archive_read_free(a) }
        archive_read_support_filter_all(a)
        archive_read_support_format_all(a)
        return try data.withUnsafeBytes { raw in
            if archive_read_open_memory(a, raw.baseAddress, raw.count) != ARCHIVE_OK {
                throw ArchiveError.libarchive(libarchiveError(a, "cannot open"))
            }
            return try readEntries(a, limits: limits)
        }
    }

    private static func readEntries(_ a: OpaquePointer, limits: ArchiveLimits) throws -> [Entry] {
        var out: [Entry] = []
        var total: Int64 = 0
        var entry: OpaquePointer?
        while true {
            let r = archive_read_next_header(a, &entry)
            if r == ARCHIVE_EOF { break }
            if r < ARCHIVE_WARN { throw ArchiveError.libarchive(libarchiveError(a, "corrupt archive")) }
            guard let entry else { break }
            let path = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
            let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
            try EntryPath.check(trimmed)
            let type = Int32(archive_entry_filetype(entry))
            let isDir = type == Int32(fileTypeDirectory)
            let symlink = archive_entry_symlink(entry).map { String(cString: $0) }
            let hardlink = archive_entry_hardlink(entry).map { String(cString: $0) }
            if let target = symlink ?? hardlink, !EntryPath.linkStaysInside(path: trimmed, target: target) {
                throw ArchiveError.unsafePath(trimmed, reason: "link to '\(target)' leaves the archive")
            }
            if out.count + 1 > limits.maxEntries { throw ArchiveError.limit("more than \(limits.maxEntries) entries") }
            // A declared size over the bound is refused before anything is decompressed.
            if archive_entry_size_is_set(entry) != 0, total + archive_entry_size(entry) > limits.maxTotalBytes {
                throw ArchiveError.limit("entry '\(trimmed)' declares \(archive_entry_size(entry)) bytes: more than \(limits.maxTotalBytes) bytes uncompressed")
            }
            var data = Data()
            if !isDir && symlink == nil && hardlink == nil {
                var buffer = [UInt8](repeating: 0, count: 1 << 16)
                while true {
                    let n = buffer.withUnsafeMutableBytes { archive_read_data(a, $0.baseAddress, 1 << 16) }
                    if n < 0 { throw ArchiveError.libarchive(libarchiveError(a, "read error")) }
                    if n == 0 { break }
                    total += Int64(n)
                    if total > limits.maxTotalBytes { throw ArchiveError.limit("more than \(limits.maxTotalBytes) bytes uncompressed") }
                    data.append(contentsOf: buffer[0..<n])
                }
            }
            out.append(Entry(path: trimmed, isDirectory: isDir, isLink: symlink != nil || hardlink != nil, linkTarget: symlink ?? hardlink,
                             mode: Int(archive_entry_perm(entry)), data: data))
        }
        return out
    }

    /// Extracts into `directory` (created if needed); links are refused rather than recreated.
    /// Returns the top-level folder names written.
    @discardableResult
    public static func extract(_ archive: URL, to directory: URL, limits: ArchiveLimits = .standard) throws -> [String] {
        let list = try entries(of: archive, limits: limits)
        if let link = list.first(where: \.isLink) {
            throw ArchiveError.unsafePath(link.path, reason: "links are not installed")
        }
        let fm = FileManager.default
        var tops = Set<String>()
        for e in list {
            let url = directory.appendingPathComponent(e.path)
            tops.insert(String(e.path.split(separator: "/").first ?? ""))
            if e.isDirectory {
                try fm.createDirectory(at: url, withIntermediateDirectories: true)
                continue
            }
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try e.data.write(to: url)
            try fm.setAttributes([.posixPermissions: e.mode & 0o111 != 0 ? 0o755 : 0o644], ofItemAtPath: url.path)
        }
        return tops.sorted()
    }
}
