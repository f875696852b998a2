import Archives
import Catalog
import Foundation
import Skills
import TrainingSets
import Trajectories

/// Rebuilds `out/catalog.sqlite` from what is installed under `out/` (dataset manifests, the skills
/// index, the archives) when the catalog is damaged or lost. The old file is moved aside, never
/// deleted; the new catalog is written beside it and switched in with one rename. Version history
/// restarts: every current skill and dataset is version 1 of one run with status "rebuilt".
public enum CatalogRebuild {
    public struct Result: Sendable {
        public var datasets: Int
        public var skills: Int
        /// Where the previous catalog files were moved, if there were any.
        public var movedAside: [String]
    }

    /// Whether the catalog at `path` opens and passes SQLite's quick_check; the problem otherwise.
    public static func problem(catalogAt path: String) -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            let c = try Catalog(path: path)
            return try c.quickCheck()
        } catch {
            return "\(error)"
        }
    }

    public static func rebuild(out: URL) throws -> Result {
        let fm = FileManager.default
        let lock = try BuildLock(directory: out)
        defer { withExtendedLifetime(lock) {} }
        let path = out.appendingPathComponent("catalog.sqlite")
        let fresh = out.appendingPathComponent(".catalog-rebuild-\(getpid()).sqlite")
        for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: fresh.path + suffix) }
        let (datasets, inputs) = try installedDatasets(out: out, names: nil)
        let skills = try installedSkills(out: out)
        let now = Date()
        let run = Catalog.RunInput(
            pipeline: "catalog-rebuild", configHash: "", toolVersion: SkillforgeVersion.current, startedAt: now, finishedAt: now,
            status: "rebuilt", stats: "{}",
            inputs: inputs.map { i in (i.file, i.format, i.sha256, i.bytes, i.records, i.quarantined) })
        do {
            let catalog = try Catalog(path: fresh.path)
            _ = try catalog.record(run: run, datasets: datasets, skills: skills)
            try catalog.checkpoint()
        } catch {
            for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: fresh.path + suffix) }
            throw EngineError.explainingWrite(error, out: out)
        }
        // Move the old catalog aside (all three SQLite files), then switch the new one in.
        var moved: [String] = []
        let base = ISO8601DateFormatter().string(from: now).replacingOccurrences(of: ":", with: "")
        var stamp = base
        var n = 1
        while ["", "-wal", "-shm"].contains(where: { fm.fileExists(atPath: path.path + $0 + ".damaged-\(stamp)") }) {
            n += 1
            stamp = "\(base)-\(n)"
        }
        for suffix in ["", "-wal", "-shm"] where fm.fileExists(atPath: path.path + suffix) {
            let aside = path.path + suffix + ".damaged-\(stamp)"
            try fm.moveItem(atPath: path.path + suffix, toPath: aside)
            moved.append(aside)
        }
        for suffix in ["-wal", "-shm"] { try? fm.removeItem(atPath: fresh.path + suffix) }
        guard rename(fresh.path, path.path) == 0 else {
            throw EngineError.io("cannot move the rebuilt catalog into place: \(String(cString: strerror(errno)))")
        }
        return Result(datasets: datasets.count, skills: skills.count, movedAside: moved)
    }

    /// The installed datasets (all, or those named) as catalog rows, and the inputs their manifests list.
    static func installedDatasets(out: URL, names: Set<String>?) throws -> ([Catalog.DatasetInput], [Manifest.InputInfo]) {
        let fm = FileManager.default
        var datasets: [Catalog.DatasetInput] = []
        var inputs: [String: Manifest.InputInfo] = [:]
        let dsRoot = out.appendingPathComponent("datasets")
        for name in ((try? fm.contentsOfDirectory(atPath: dsRoot.path)) ?? []).sorted() where names?.contains(name) ?? true {
            let file = dsRoot.appendingPathComponent("\(name)/manifest.json")
            guard let data = fm.contents(atPath: file.path) else { continue }
            let m: Manifest
            do { m = try JSONCoding.decoder.decode(Manifest.self, from: data) } catch {
                throw EngineError.io("\(file.path): not a readable dataset manifest (\(JSONCoding.describe(error))); cannot rebuild the catalog from it")
            }
            for i in m.inputs { inputs[i.file] = i }
            datasets.append(Packaging.datasetInput(m, path: BuildRunner.displayPath(dsRoot.appendingPathComponent(name).path)))
        }
        return (datasets, inputs.keys.sorted().map { inputs[$0]! })
    }

    /// The verified entries of the installed skills index, read back from their archives.
    static func installedSkills(out: URL) throws -> [Catalog.SkillInput] {
        let fm = FileManager.default
        var skills: [Catalog.SkillInput] = []
        let index = out.appendingPathComponent("skills/index.json")
        if let data = fm.contents(atPath: index.path) {
            let entries: [SkillSetBuilder.Entry]
            do { entries = try JSONCoding.decoder.decode([SkillSetBuilder.Entry].self, from: data) } catch {
                throw EngineError.io("\(index.path): not a readable skills index (\(JSONCoding.describe(error)))")
            }
            let archives = out.appendingPathComponent("archives")
            let scratch = fm.temporaryDirectory.appendingPathComponent("skillforge-rebuild-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            defer { try? fm.removeItem(at: scratch) }
            for e in entries where e.status == "verified" {
                let files = ArchiveFormat.allCases.map { "\(e.name).\($0.fileExtension)" }
                    .filter { fm.fileExists(atPath: archives.appendingPathComponent($0).path) }
                guard let first = files.first else { continue }  // verified but not packed (package.skills: [])
                let dir = scratch.appendingPathComponent(e.name)
                try ArchiveReader.extract(archives.appendingPathComponent(first), to: dir)
                let bundle = try SkillBundle.read(directory: dir.appendingPathComponent(e.name))
                let (sha, size) = try ContentHash.sha256(fileAt: archives.appendingPathComponent(first).path)
                skills.append(Catalog.SkillInput(
                    name: e.name, description: bundle.description ?? "", body: bundle.body, source: e.source, status: e.status,
                    rounds: e.rounds, passRate: e.passRate, terms: e.terms.map { ($0.exec, $0.plan, $0.oss) }, pdi: e.pdi,
                    archives: files, archiveSHA256: sha, archiveSize: size,
                    files: bundle.files.map { ($0.path, ContentHash.sha256($0.data), $0.data.count, $0.executable) },
                    evidence: Packaging.evidence(bundle)))
            }
        }
        return skills
    }
}
