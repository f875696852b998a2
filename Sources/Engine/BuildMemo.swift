import Foundation
import Pipelines
import Styles
import Trajectories

/// The whole-build memo (`out/.cache/builds/<pipeline>.json`): when the pipeline's configuration, every
/// input's content (its ingest key) and every side file (rules, codes, curated skills) are what the
/// last successful build of this pipeline saw, and the outputs it installed are still in place and
/// unchanged (same files, sizes and modification times), the build is up to date: nothing is read,
/// prepared or written again. Anything else — one new input file, one changed setting, one touched
/// output — builds as usual.
struct BuildMemo: Codable {
    struct Stamp: Codable, Equatable {
        var size: Int64
        var mtime: Double
    }

    var key: String
    var result: BuildResult
    /// Every installed file of this pipeline's outputs, relative to out/.
    var stamps: [String: Stamp]

    static func url(out: URL, pipeline: String) -> URL {
        out.appendingPathComponent(".cache/builds/\(pipeline).json")
    }

    /// The directories under out/ that this pipeline installs.
    static func roots(_ spec: PipelineSpec) -> [String] {
        var r = spec.outputs.filter { $0.product == .dataset }.map { "datasets/\($0.name)" }
        if spec.outputs.contains(where: { $0.product == .skillBundles }) { r += ["skills", "archives"] }
        return r + ["report/\(spec.name)"]
    }

    static func key(_ spec: PipelineSpec, inputKeys: [(display: String, key: String)]) -> String {
        struct Key: Encodable {
            var config: PipelineSpec.Semantic
            var inputs: [String]
            var sideFiles: [String]
            var tool: String
        }
        let files = StyleFiles(baseDirectory: spec.baseDirectory)
        var side: [String] = []
        for o in spec.outputs {
            // A style that is not registered cannot be built; its output is never up to date.
            guard let style = try? OutputStyles.style(o.style) else { side.append("unregistered \(o.style)"); continue }
            let names = style.sideFiles(o, context: files)
            side += names.isEmpty && o.product == .skillBundles ? ["-"] : names.map(treeHash)
        }
        let k = Key(config: spec.semantic, inputs: inputKeys.map { "\($0.display)=\($0.key)" }, sideFiles: side,
                    tool: SkillforgeVersion.current)
        return ContentHash.sha256((try? JSONCoding.encoder.encode(k)) ?? Data())
    }

    /// sha256 over a file, or over every file (path and content) under a directory; "missing" if absent.
    static func treeHash(_ path: String) -> String {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else { return "missing" }
        if !isDir.boolValue { return (try? ContentHash.sha256(fileAt: path).hex) ?? "unreadable" }
        var parts: [String] = []
        let e = fm.enumerator(atPath: path)
        while let rel = e?.nextObject() as? String {
            let full = (path as NSString).appendingPathComponent(rel)
            if fm.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue {
                parts.append(rel + "=" + ((try? ContentHash.sha256(fileAt: full).hex) ?? "unreadable"))
            }
        }
        return ContentHash.sha256(parts.sorted().joined(separator: "\n"))
    }

    static func stamps(out: URL, roots: [String]) -> [String: Stamp] {
        let fm = FileManager.default
        var s: [String: Stamp] = [:]
        for root in roots {
            let dir = out.appendingPathComponent(root)
            guard let e = fm.enumerator(atPath: dir.path) else { continue }
            while let rel = e.nextObject() as? String {
                var st = stat()
                let full = dir.appendingPathComponent(rel).path
                guard stat(full, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
                s["\(root)/\(rel)"] = Stamp(size: Int64(st.st_size),
                                             mtime: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
            }
        }
        return s
    }

    /// The memo when it matches `key` and the outputs are untouched.
    static func upToDate(out: URL, spec: PipelineSpec, key: String) -> BuildMemo? {
        guard let data = FileManager.default.contents(atPath: url(out: out, pipeline: spec.name).path),
              let memo = try? JSONCoding.decoder.decode(BuildMemo.self, from: data), memo.key == key,
              !memo.stamps.isEmpty, memo.stamps == stamps(out: out, roots: roots(spec)) else { return nil }
        if spec.package.catalog && !FileManager.default.fileExists(atPath: out.appendingPathComponent("catalog.sqlite").path) {
            return nil
        }
        return memo
    }

    /// Written after a successful build (a memo that cannot be written only costs the next build time).
    static func save(out: URL, spec: PipelineSpec, key: String, result: BuildResult) {
        let memo = BuildMemo(key: key, result: result, stamps: stamps(out: out, roots: roots(spec)))
        let file = url(out: out, pipeline: spec.name)
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? JSONCoding.encoder.encode(memo).write(to: file, options: .atomic)
    }
}
