import Archives
import Catalog
import Foundation
import Pipelines
import Skills
import TrainingSets
import Trajectories

/// The end of a build: verified skills packed into archives, and the run recorded in the catalog.
enum Packaging {
    struct Packed {
        var name: String
        var source: String
        var directory: URL
        var bundle: SkillBundle
        var entry: SkillSetBuilder.Entry
        var archives: [String]
        var sha256: String
        var size: Int64
    }

    /// Packs every verified bundle (distilled ones from `skillsDirectory`, curated ones from their own
    /// directory) into `archivesDirectory` in each requested format.
    static func pack(entries: [SkillSetBuilder.Entry], skillsDirectory: URL, curatedDirectory: String?,
                     formats: [ArchiveFormat], archivesDirectory: URL) throws -> [Packed] {
        try FileManager.default.createDirectory(at: archivesDirectory, withIntermediateDirectories: true)
        var out: [Packed] = []
        for e in entries where e.status == "verified" {
            let dir = e.source == "curated"
                ? URL(fileURLWithPath: curatedDirectory ?? "").appendingPathComponent(e.name)
                : skillsDirectory.appendingPathComponent(e.name)
            let bundle = try SkillBundle.read(directory: dir)
            var names: [String] = []
            var sha = "", size: Int64 = 0
            for format in formats {
                let file = "\(e.name).\(format.fileExtension)"
                let url = archivesDirectory.appendingPathComponent(file)
                // verification.json is skillforge's record, not part of the skill.
                let items = try ArchiveWriter.items(of: dir).filter { $0.path != "verification.json" }
                try ArchiveWriter.pack(items: items, folder: e.name, to: url, format: format, epoch: ArchiveWriter.epoch)
                names.append(file)
                if sha.isEmpty { (sha, size) = try ContentHash.sha256(fileAt: url.path) }
            }
            out.append(Packed(name: e.name, source: e.source, directory: dir, bundle: bundle, entry: e, archives: names, sha256: sha, size: size))
        }
        return out
    }

    static let citation = try! NSRegularExpression(pattern: #"`([\w.-]+)` step (\d+)"#)

    static func evidence(_ b: SkillBundle) -> [(trajectory: String, steps: [Int])] {
        guard let text = b.file("references/evidence.md")?.text else { return [] }
        var steps: [String: Set<Int>] = [:]
        let ns = text as NSString
        for m in citation.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            steps[ns.substring(with: m.range(at: 1)), default: []].insert(Int(ns.substring(with: m.range(at: 2)))!)
        }
        return steps.keys.sorted().map { ($0, steps[$0]!.sorted()) }
    }

    /// Records an up-to-date build (see BuildMemo): the run, with the datasets and skills that are
    /// installed, read back from out/ — unchanged skills keep their versions, as in any build.
    static func recordInstalled(catalogPath: URL, out: URL, spec: PipelineSpec, result: BuildResult, started: Date) throws -> [String: Int] {
        let names = Set(spec.outputs.filter { $0.product == .dataset }.map(\.name))
        let (datasets, inputs) = try CatalogRebuild.installedDatasets(out: out, names: names)
        let skills = spec.outputs.contains { $0.product == .skillBundles } ? try CatalogRebuild.installedSkills(out: out) : []
        return try recordRun(catalogPath: catalogPath, spec: spec, result: result, started: started, inputs: inputs,
                             datasets: datasets, skills: skills)
    }

    /// Records the run, its inputs, datasets and packed skills in one transaction.
    static func record(catalogPath: URL, spec: PipelineSpec, result: BuildResult, started: Date, inputs: [Manifest.InputInfo],
                       datasets: [(BuildResult.DatasetResult, Manifest)], packed: [Packed]) throws -> [String: Int] {
        let skills = packed.map { p in
            Catalog.SkillInput(
                name: p.name, description: p.bundle.description ?? "", body: p.bundle.body, source: p.source, status: p.entry.status,
                rounds: p.entry.rounds, passRate: p.entry.passRate, terms: p.entry.terms.map { ($0.exec, $0.plan, $0.oss) }, pdi: p.entry.pdi,
                archives: p.archives, archiveSHA256: p.sha256, archiveSize: p.size,
                files: p.bundle.files.filter { $0.path != "verification.json" }.map { ($0.path, ContentHash.sha256($0.data), $0.data.count, $0.executable) },
                evidence: evidence(p.bundle))
        }
        return try recordRun(catalogPath: catalogPath, spec: spec, result: result, started: started, inputs: inputs,
                             datasets: datasets.map { datasetInput($1, path: $0.path) }, skills: skills)
    }

    /// A dataset's catalog row from its manifest (the content hash covers every part file's sha256).
    static func datasetInput(_ m: Manifest, path: String) -> Catalog.DatasetInput {
        Catalog.DatasetInput(name: m.name, style: m.style,
                             contentHash: ContentHash.sha256(DatasetWriter.orderedKeys(m.splits).flatMap { m.splits[$0]!.parts.map(\.sha256) }.joined(separator: ",")),
                             splits: m.splits.mapValues(\.records), records: m.records,
                             bytes: m.splits.values.reduce(0) { $0 + $1.bytes }, path: path)
    }

    /// Opens the catalog (refusing a damaged one) and records one run in one transaction.
    private static func recordRun(catalogPath: URL, spec: PipelineSpec, result: BuildResult, started: Date, inputs: [Manifest.InputInfo],
                                  datasets: [Catalog.DatasetInput], skills: [Catalog.SkillInput]) throws -> [String: Int] {
        let catalog = try Catalog(path: catalogPath.path)
        if let problem = try catalog.quickCheck() {
            throw Catalog.CatalogError(description: "\(catalogPath.path) is damaged (\(problem))")
        }
        let run = Catalog.RunInput(
            pipeline: spec.name, configHash: ContentHash.sha256((try? JSONCoding.encoder.encode(spec.semantic)) ?? Data()),
            toolVersion: SkillforgeVersion.current, startedAt: started, finishedAt: Date(), status: "ok",
            stats: String(decoding: (try? JSONCoding.encoder.encode(result.prepare)) ?? Data(), as: UTF8.self),
            inputs: inputs.map { ($0.file, $0.format, $0.sha256, $0.bytes, $0.records, $0.quarantined) })
        return try catalog.record(run: run, datasets: datasets, skills: skills).versions
    }
}
