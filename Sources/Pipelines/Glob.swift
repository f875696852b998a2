import Foundation

/// Expands `*`, `?` and `**` patterns relative to a base directory. Results are sorted so that every
/// run sees inputs in the same order.
public enum Glob {
    public static func hasMagic(_ pattern: String) -> Bool {
        pattern.contains("*") || pattern.contains("?") || pattern.contains("[")
    }

    /// Absolute paths of regular files matching `pattern` (relative to `base` unless absolute).
    public static func expand(_ pattern: String, base: String) -> [String] {
        expandChecked(pattern, base: base).files
    }

    /// Like `expand`, and also the matches that are not readable regular files (dangling symbolic
    /// links, FIFOs, sockets, devices, files without read permission) with the reason — an input that
    /// cannot be read must be reported, never skipped. Directories are not files and are not matches.
    public static func expandChecked(_ pattern: String, base: String) -> (files: [String], unusable: [(path: String, reason: String)]) {
        var files: [String] = []
        var unusable: [(String, String)] = []
        for path in candidates(pattern, base: base) {
            var st = stat()
            if stat(path, &st) != 0 {
                var lst = stat()
                let dangling = lstat(path, &lst) == 0 && (lst.st_mode & S_IFMT) == S_IFLNK
                unusable.append((path, dangling ? "a symbolic link to a file that does not exist" : String(cString: strerror(errno))))
                continue
            }
            switch st.st_mode & S_IFMT {
            case S_IFDIR: continue
            case S_IFREG:
                if access(path, R_OK) != 0 { unusable.append((path, "permission denied")) } else { files.append(path) }
            case S_IFIFO: unusable.append((path, "a named pipe (FIFO), not a regular file"))
            case S_IFSOCK: unusable.append((path, "a socket, not a regular file"))
            default: unusable.append((path, "a device, not a regular file"))
            }
        }
        return (files, unusable)
    }

    /// Every directory entry matching `pattern` (files, links, anything but directories walked into).
    private static func candidates(_ pattern: String, base: String) -> [String] {
        let absolute = pattern.hasPrefix("/") ? pattern : (base as NSString).appendingPathComponent(pattern)
        let parts = absolute.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        // The fixed prefix (no magic) is where the walk starts.
        var root = "/"
        var rest: [String] = []
        for (i, p) in parts.enumerated() {
            if hasMagic(p) { rest = Array(parts[i...]); break }
            root = (root as NSString).appendingPathComponent(p)
        }
        if rest.isEmpty {
            var st = stat()
            return lstat(root, &st) == 0 ? [root] : []
        }
        var results: [String] = []
        walk(dir: root, pattern: rest[...], into: &results)
        return Array(Set(results)).sorted()
    }

    private static func walk(dir: String, pattern: ArraySlice<String>, into results: inout [String]) {
        guard let head = pattern.first else { return }
        let fm = FileManager.default
        guard let entries = try? fm.contentsOfDirectory(atPath: dir) else { return }
        let tail = pattern.dropFirst()
        if head == "**" {
            // Zero directories…
            walk(dir: dir, pattern: tail, into: &results)
            // …or one more, keeping `**`.
            for e in entries.sorted() where !e.hasPrefix(".") {
                let path = (dir as NSString).appendingPathComponent(e)
                if isDirectory(path) { walk(dir: path, pattern: pattern, into: &results) }
            }
            return
        }
        for e in entries.sorted() where matches(e, head) && (!e.hasPrefix(".") || head.hasPrefix(".")) {
            let path = (dir as NSString).appendingPathComponent(e)
            if tail.isEmpty {
                results.append(path)
            } else if isDirectory(path) {
                walk(dir: path, pattern: tail, into: &results)
            }
        }
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    /// Matches one path component against a pattern with `*`, `?` and `[abc]` classes.
    public static func matches(_ name: String, _ pattern: String) -> Bool {
        let n = Array(name.unicodeScalars), p = Array(pattern.unicodeScalars)
        func match(_ i: Int, _ j: Int) -> Bool {
            var i = i, j = j
            while j < p.count {
                switch p[j] {
                case "*":
                    if j + 1 == p.count { return true }
                    for k in i...n.count where match(k, j + 1) { return true }
                    return false
                case "?":
                    guard i < n.count else { return false }
                    i += 1; j += 1
                case "[":
                    guard i < n.count, let close = p[(j + 1)...].firstIndex(of: "]") else { return false }
                    let set = p[(j + 1)..<close]
                    let negate = set.first == "!" || set.first == "^"
                    let members = negate ? set.dropFirst() : set[...]
                    var hit = false
                    var k = members.startIndex
                    while k < members.endIndex {
                        if k + 2 < members.endIndex, members[k + 1] == "-" {
                            if n[i].value >= members[k].value && n[i].value <= members[k + 2].value { hit = true }
                            k += 3
                        } else {
                            if n[i] == members[k] { hit = true }
                            k += 1
                        }
                    }
                    if hit == negate { return false }
                    i += 1; j = close + 1
                default:
                    guard i < n.count, n[i] == p[j] else { return false }
                    i += 1; j += 1
                }
            }
            return i == n.count
        }
        return match(0, 0)
    }
}
