import Archives
import ArgumentParser
import Catalog
import Engine
import Foundation
import Skills
import Trajectories

struct CatalogOptions: ParsableArguments {
    @Option(name: .long, help: "Output directory holding catalog.sqlite.")
    var out: String = "out"

    func open() throws -> Catalog {
        let path = URL(fileURLWithPath: out).appendingPathComponent("catalog.sqlite").path
        guard FileManager.default.fileExists(atPath: path) else {
            Terminal.err("\(Terminal.red("error:")) \(path) does not exist: run 'skillforge build' first")
            throw ExitCode(Exit.buildFailure)
        }
        do {
            return try Catalog(path: path)
        } catch {
            Terminal.err("\(Terminal.red("error:")) \(error)")
            Terminal.err("if the file is damaged, run 'skillforge catalog rebuild --out \(out)' to move it aside and rebuild it from the outputs")
            throw ExitCode(Exit.buildFailure)
        }
    }
}

struct CatalogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Query the SQLite catalog of runs, datasets and skills.",
        subcommands: [List.self, Show.self, Search.self, History.self, Diff.self, Runs.self, Check.self, Rebuild.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Latest skills and datasets.")
        @OptionGroup var catalog: CatalogOptions
        @Option(name: .long, help: "skills or datasets (default: both).")
        var kind: String?
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            let c = try catalog.open()
            if let kind, !["skills", "datasets"].contains(kind) { throw ValidationError("--kind must be skills or datasets") }
            let skills = kind == "datasets" ? [] : try c.skills()
            let datasets = kind == "skills" ? [] : try c.datasets()
            if json {
                struct Out: Encodable { var skills: [Catalog.SkillRow]; var datasets: [Catalog.DatasetRow] }
                Terminal.out(String(decoding: try JSONCoding.prettyEncoder.encode(Out(skills: skills, datasets: datasets)), as: UTF8.self))
                return
            }
            for s in skills {
                Terminal.out("skill   \(s.name)@\(s.version)  \(s.status)  \(s.source)" + (s.pdi.map { String(format: "  PDI %+.2f", $0) } ?? ""))
            }
            for d in datasets { Terminal.out("dataset \(d.name)@\(d.version)  \(d.style)  \(d.records) records  \(d.path)") }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One skill: NAME or NAME@VERSION.")
        @OptionGroup var catalog: CatalogOptions
        @Argument var name: String
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            let parts = name.split(separator: "@", maxSplits: 1)
            let version = parts.count == 2 ? Int(parts[1]) : nil
            if parts.count == 2 && version == nil { throw ValidationError("version after @ must be a number") }
            guard let (row, files, evidence) = try catalog.open().skill(String(parts[0]), version: version) else {
                Terminal.err("\(Terminal.red("error:")) no skill '\(name)' in the catalog (see 'skillforge catalog list')")
                throw ExitCode(Exit.buildFailure)
            }
            if json {
                struct Out: Encodable { var skill: Catalog.SkillRow; var files: [String]; var evidence: [String] }
                Terminal.out(String(decoding: try JSONCoding.prettyEncoder.encode(Out(skill: row, files: files, evidence: evidence)), as: UTF8.self))
                return
            }
            Terminal.out("\(row.name)@\(row.version) (\(row.source), \(row.status))")
            Terminal.out("  \(row.description)")
            if let pdi = row.pdi { Terminal.out(String(format: "  PDI %+.3f  (phi_exec %.4f, phi_plan %.4f, phi_oss %.4f)", pdi, row.phiExec ?? 0, row.phiPlan ?? 0, row.phiOss ?? 0)) }
            Terminal.out("  archives: \(row.archives.joined(separator: ", "))  sha256 \(row.sha256)  \(row.size) bytes")
            Terminal.out("  files: \(files.joined(separator: ", "))")
            if !evidence.isEmpty { Terminal.out("  evidence: \(evidence.prefix(5).joined(separator: "; "))\(evidence.count > 5 ? " …" : "")") }
        }
    }

    struct Search: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Full-text search over skill names, descriptions and bodies (bm25).")
        @OptionGroup var catalog: CatalogOptions
        @Argument var query: String
        @Option(name: .long) var limit: Int = 10
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            let hits = try catalog.open().search(query, limit: limit)
            if json { Terminal.out(String(decoding: try JSONCoding.prettyEncoder.encode(hits), as: UTF8.self)); return }
            if hits.isEmpty { Terminal.out("no skill matches '\(query)'") }
            for h in hits { Terminal.out(String(format: "%6.2f  %@@%d  %@", h.score, h.name as NSString, h.version, h.snippet.replacingOccurrences(of: "\n", with: " ") as NSString)) }
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every version of a skill and the run that introduced it.")
        @OptionGroup var catalog: CatalogOptions
        @Argument var name: String

        func run() throws {
            let h = try catalog.open().history(name)
            if h.isEmpty { Terminal.err("no skill '\(name)' in the catalog"); throw ExitCode(Exit.buildFailure) }
            for v in h { Terminal.out("\(name)@\(v.version)  run \(v.run)  \(v.status)  content \(v.hash.prefix(12))") }
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Skills added, changed and removed between two runs.")
        @OptionGroup var catalog: CatalogOptions
        @Argument var runA: Int64
        @Argument var runB: Int64
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            let d = try catalog.open().diff(runA, runB)
            if json { Terminal.out(String(decoding: try JSONCoding.prettyEncoder.encode(d), as: UTF8.self)); return }
            for n in d.added { Terminal.out("+ \(n)") }
            for n in d.changed { Terminal.out("~ \(n)") }
            for n in d.removed { Terminal.out("- \(n)") }
            Terminal.out("\(d.added.count) added, \(d.changed.count) changed, \(d.removed.count) removed, \(d.unchanged.count) unchanged")
        }
    }

    struct Runs: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The recorded runs.")
        @OptionGroup var catalog: CatalogOptions
        func run() throws {
            for r in try catalog.open().runs() { Terminal.out("\(r.id)  \(r.pipeline)  \(r.startedAt)  \(r.status)") }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the catalog file with SQLite's quick_check (exit 1 when it is damaged).")
        @OptionGroup var catalog: CatalogOptions
        func run() throws {
            let path = URL(fileURLWithPath: catalog.out).appendingPathComponent("catalog.sqlite").path
            guard FileManager.default.fileExists(atPath: path) else {
                Terminal.err("\(Terminal.red("error:")) \(path) does not exist: run 'skillforge build' first")
                throw ExitCode(Exit.buildFailure)
            }
            if let problem = CatalogRebuild.problem(catalogAt: path) {
                Terminal.err("\(Terminal.red("error:")) \(path) is damaged: \(problem)")
                Terminal.err("run 'skillforge catalog rebuild --out \(catalog.out)' to move it aside and rebuild it from the outputs")
                throw ExitCode(Exit.buildFailure)
            }
            Terminal.out("\(path): ok")
        }
    }

    struct Rebuild: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild catalog.sqlite from the installed outputs (dataset manifests, skills index, archives).",
            discussion: """
            For a damaged or lost catalog. The old files are moved aside (catalog.sqlite.damaged-<time>), never \
            deleted; the new catalog is switched in with one rename. History restarts: the current skills and \
            datasets become version 1 of a run with status 'rebuilt'.
            """)
        @OptionGroup var catalog: CatalogOptions
        func run() throws {
            do {
                let r = try CatalogRebuild.rebuild(out: URL(fileURLWithPath: catalog.out))
                for m in r.movedAside { Terminal.err("moved the previous catalog file aside: \(m)") }
                Terminal.out("rebuilt \(catalog.out)/catalog.sqlite: \(r.datasets) dataset(s), \(r.skills) skill(s)")
            } catch {
                Terminal.err("\(Terminal.red("error:")) \(error)")
                throw ExitCode(Exit.buildFailure)
            }
        }
    }
}

struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Copy versioned archives, a catalog snapshot, SHA256SUMS and index.json to a destination, atomically.",
        discussion: "Publishing the same build twice changes nothing; a published version whose bytes differ is refused (exit 1)."
    )
    @Option(name: .long, help: "Destination directory.") var to: String
    @Option(name: .long, help: "Output directory of the build.") var out: String = "out"

    func run() throws {
        do {
            let r = try Publisher.publish(outDirectory: URL(fileURLWithPath: out), to: URL(fileURLWithPath: to))
            Terminal.out("published \(r.published.count) archive(s), \(r.unchanged.count) already there unchanged → \(to)")
        } catch {
            Terminal.err("\(Terminal.red("error:")) \(error)")
            throw ExitCode(Exit.buildFailure)
        }
    }
}

struct PackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Pack bundles (default: out/skills/* and skills/*) into deterministic archives in out/archives/.",
        discussion: "Archives are byte-identical for identical content: sorted entries, mtime from SOURCE_DATE_EPOCH (else 2000-01-01), uid/gid 0, modes 0644/0755."
    )
    @Argument(help: "Bundle directories.") var bundles: [String] = []
    @Option(name: .long, help: "Formats: skill, tar.zst, tar.gz (repeatable).") var format: [String] = ["skill", "tar.zst", "tar.gz"]
    @Option(name: .long, help: "Directory for the archives.") var to: String = "out/archives"

    func run() throws {
        let formats = try format.map { raw -> ArchiveFormat in
            guard let f = ArchiveFormat(rawValue: raw) else { throw ValidationError("unknown format '\(raw)' (skill, tar.zst, tar.gz)") }
            return f
        }
        var dirs = bundles
        if dirs.isEmpty {
            for root in ["out/skills", "skills"] {
                for n in ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted()
                    where FileManager.default.fileExists(atPath: "\(root)/\(n)/SKILL.md") { dirs.append("\(root)/\(n)") }
            }
        }
        for d in dirs {
            let url = URL(fileURLWithPath: d)
            do {
                let items = try ArchiveWriter.items(of: url).filter { $0.path != "verification.json" }
                for f in formats {
                    let dest = URL(fileURLWithPath: to).appendingPathComponent("\(url.lastPathComponent).\(f.fileExtension)")
                    try ArchiveWriter.pack(items: items, folder: url.lastPathComponent, to: dest, format: f, epoch: ArchiveWriter.epoch)
                    Terminal.out("packed \(dest.path)")
                }
            } catch {
                Terminal.err("\(Terminal.red("error:")) \(d): \(error)")
                throw ExitCode(Exit.buildFailure)
            }
        }
    }
}

struct SkillInstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install a skill archive into a directory, refusing absolute paths, '..', links and oversized archives."
    )
    @Argument var archive: String
    @Option(name: .long, help: "Directory to install into (e.g. ~/.claude/skills).") var to: String

    func run() throws {
        do {
            let tops = try ArchiveReader.extract(URL(fileURLWithPath: archive), to: URL(fileURLWithPath: to), limits: .skill)
            for t in tops {
                let b = try SkillBundle.read(directory: URL(fileURLWithPath: to).appendingPathComponent(t))
                let r = SurrogateVerifier().verify(b)
                Terminal.out("installed \(t) into \(to)" + (r.passed ? "" : " (verifier: \(r.errors.count) problem(s); run 'skillforge skill verify')"))
            }
        } catch {
            Terminal.err("\(Terminal.red("error:")) \(archive): \(error)")
            throw ExitCode(Exit.buildFailure)
        }
    }
}
