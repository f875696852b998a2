import BoundedYAML
import Foundation
import Yams

/// An Agent Skills bundle: `<name>/SKILL.md` (YAML frontmatter at byte 0, then a Markdown body) plus
/// any files (`scripts/`, `references/`, `assets/`).
public struct SkillBundle: Sendable, Equatable {
    public struct File: Sendable, Equatable {
        /// Path relative to the bundle directory, `/`-separated.
        public var path: String
        public var data: Data
        public var executable: Bool
        public init(path: String, data: Data, executable: Bool) {
            self.path = path
            self.data = data
            self.executable = executable
        }
        public var text: String { String(decoding: data, as: UTF8.self) }
    }

    /// The directory name.
    public var directoryName: String
    /// Frontmatter keys in file order with their raw YAML values (strings, or nested for `metadata`).
    public var frontmatter: [(key: String, value: FrontmatterValue)]
    public var body: String
    /// Files other than SKILL.md, sorted by path.
    public var files: [File]
    /// Why the frontmatter could not be read, when it could not (the bundle is still loaded).
    public var frontmatterError: String?

    public enum FrontmatterValue: Sendable, Equatable {
        case string(String)
        case mapping([(String, String)])
        case other(String)

        public static func == (a: Self, b: Self) -> Bool {
            switch (a, b) {
            case (.string(let x), .string(let y)), (.other(let x), .other(let y)): return x == y
            case (.mapping(let x), .mapping(let y)): return x.map { "\($0)=\($1)" } == y.map { "\($0)=\($1)" }
            default: return false
            }
        }
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.directoryName == b.directoryName && a.body == b.body && a.files == b.files && a.frontmatterError == b.frontmatterError
            && a.frontmatter.map(\.key) == b.frontmatter.map(\.key) && zip(a.frontmatter, b.frontmatter).allSatisfy { $0.value == $1.value }
    }

    public init(directoryName: String, frontmatter: [(key: String, value: FrontmatterValue)], body: String, files: [File] = []) {
        self.directoryName = directoryName
        self.frontmatter = frontmatter
        self.body = body
        self.files = files.sorted { $0.path < $1.path }
    }

    public func value(_ key: String) -> String? {
        guard let v = frontmatter.first(where: { $0.key == key })?.value else { return nil }
        if case .string(let s) = v { return s }
        return nil
    }

    public mutating func set(_ key: String, _ value: String) {
        if let i = frontmatter.firstIndex(where: { $0.key == key }) { frontmatter[i].value = .string(value) }
        else { frontmatter.append((key, .string(value))) }
    }

    public var name: String? { value("name") }
    public var description: String? { value("description") }

    public func file(_ path: String) -> File? { files.first { $0.path == path } }

    // MARK: Reading

    /// Bundle files left out of reading and packing.
    public static func isExcluded(_ path: String) -> Bool {
        let parts = path.split(separator: "/")
        return parts.contains { $0 == "__pycache__" || $0 == "node_modules" || $0 == ".DS_Store" } || path.hasSuffix(".pyc")
    }

    /// What one bundle may hold: 1,000 files, 64 MiB in all (a skill is instructions, scripts and
    /// references, not a dataset).
    public struct Limits: Sendable {
        public var maxFiles: Int
        public var maxTotalBytes: Int64
        public init(maxFiles: Int, maxTotalBytes: Int64) {
            self.maxFiles = maxFiles
            self.maxTotalBytes = maxTotalBytes
        }
        public static let standard = Limits(maxFiles: 1000, maxTotalBytes: 64 << 20)
    }

    public static func read(directory: URL, limits: Limits = .standard) throws -> SkillBundle {
        let fm = FileManager.default
        var total: Int64 = 0
        let skillMD = directory.appendingPathComponent("SKILL.md")
        guard let raw = fm.contents(atPath: skillMD.path) else {
            throw BundleError.missingSkillMD(directory.path)
        }
        var files: [File] = []
        if let e = fm.enumerator(atPath: directory.path) {
            while let rel = e.nextObject() as? String {
                let full = directory.appendingPathComponent(rel).path
                var isDir: ObjCBool = false
                guard fm.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue, rel != "SKILL.md", !isExcluded(rel) else { continue }
                let attrs = try? fm.attributesOfItem(atPath: full)
                if (attrs?[.type] as? FileAttributeType) == .typeSymbolicLink { continue }
                let perms = (attrs?[.posixPermissions] as? NSNumber)?.intValue ?? 0o644
                if files.count + 1 > limits.maxFiles {
                    throw BundleError.tooLarge(directory.path, "more than \(limits.maxFiles) files")
                }
                total += (attrs?[.size] as? NSNumber)?.int64Value ?? 0
                if total > limits.maxTotalBytes {
                    throw BundleError.tooLarge(directory.path, "more than \(limits.maxTotalBytes) bytes")
                }
                files.append(File(path: rel, data: fm.contents(atPath: full) ?? Data(), executable: perms & 0o111 != 0))
            }
        }
        var bundle = parse(skillMD: raw, directoryName: directory.lastPathComponent)
        bundle.files = files.sorted { $0.path < $1.path }
        return bundle
    }

    /// Parses SKILL.md strictly: `---` at byte 0 (no BOM), a YAML mapping, a closing `---` line.
    public static func parse(skillMD raw: Data, directoryName: String) -> SkillBundle {
        var bundle = SkillBundle(directoryName: directoryName, frontmatter: [], body: "")
        let bytes = [UInt8](raw)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            bundle.frontmatterError = "SKILL.md starts with a byte-order mark; the frontmatter must start at byte 0"
        }
        let text = String(decoding: raw, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        guard text.hasPrefix("---\n") else {
            bundle.frontmatterError = bundle.frontmatterError ?? "SKILL.md does not start with '---' (YAML frontmatter at byte 0)"
            bundle.body = text
            return bundle
        }
        let rest = text.dropFirst(4)
        guard let close = rest.range(of: "\n---\n") ?? (rest.hasSuffix("\n---") ? rest.range(of: "\n---", options: .backwards) : nil)
                ?? (rest.hasPrefix("---\n") ? rest.range(of: "---\n") : nil) else {
            bundle.frontmatterError = "the frontmatter has no closing '---' line"
            bundle.body = String(rest)
            return bundle
        }
        let yaml = String(rest[..<close.lowerBound])
        bundle.body = String(rest[close.upperBound...])
        do {
            guard let node = try BoundedYAML.compose(yaml) else {
                bundle.frontmatterError = "the frontmatter is empty"
                return bundle
            }
            guard case .mapping(let m) = node else {
                bundle.frontmatterError = "the frontmatter is not a mapping"
                return bundle
            }
            for (k, v) in m {
                let key = k.string ?? "\(k)"
                switch v {
                case .scalar(let s): bundle.frontmatter.append((key, .string(s.string)))
                case .mapping(let mm) where mm.allSatisfy({ if case .scalar = $0.value { return true } else { return false } }):
                    bundle.frontmatter.append((key, .mapping(mm.map { ($0.key.string ?? "", $0.value.string ?? "") })))
                default: bundle.frontmatter.append((key, .other((try? Yams.serialize(node: v)) ?? "")))
                }
            }
        } catch {
            bundle.frontmatterError = "the frontmatter is not valid YAML: \(error)"
        }
        return bundle
    }

    // MARK: Writing

    /// SKILL.md text: frontmatter (strings quoted when needed) and body.
    public var skillMD: String {
        var lines = ["---"]
        for (k, v) in frontmatter {
            switch v {
            case .string(let s): lines.append("\(k): \(Self.yamlScalar(s))")
            case .mapping(let pairs):
                lines.append("\(k):")
                for (mk, mv) in pairs { lines.append("  \(Self.yamlScalar(mk)): \(Self.yamlScalar(mv))") }
            case .other(let raw): lines.append("\(k): \(raw.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
        }
        lines.append("---")
        return lines.joined(separator: "\n") + "\n" + (body.hasPrefix("\n") ? body : "\n" + body)
    }

    static func yamlScalar(_ s: String) -> String {
        if let node = try? Yams.compose(yaml: s), case .scalar(let sc) = node, sc.string == s, !s.isEmpty,
           s.range(of: #"^[A-Za-z0-9][A-Za-z0-9 ._/()-]*$"#, options: .regularExpression) != nil,
           !["true", "false", "yes", "no", "null", "on", "off"].contains(s.lowercased()) {
            return s
        }
        return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    /// Writes the bundle into `parent/<directoryName>/` (replacing what is there).
    public func write(into parent: URL) throws -> URL {
        let fm = FileManager.default
        let dir = parent.appendingPathComponent(directoryName)
        try? fm.removeItem(at: dir)
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(skillMD.utf8).write(to: dir.appendingPathComponent("SKILL.md"))
        for f in files {
            let url = dir.appendingPathComponent(f.path)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try f.data.write(to: url)
            try fm.setAttributes([.posixPermissions: f.executable ? 0o755 : 0o644], ofItemAtPath: url.path)
        }
        return dir
    }
}

public enum BundleError: Error, CustomStringConvertible, Sendable {
    case missingSkillMD(String)
    case tooLarge(String, String)
    public var description: String {
        switch self {
        case .missingSkillMD(let d): return "\(d): no SKILL.md (a skill bundle is a directory with SKILL.md at its top)"
        case .tooLarge(let d, let what): return "\(d): the bundle has \(what), over the limit for one skill; refused"
        }
    }
}
