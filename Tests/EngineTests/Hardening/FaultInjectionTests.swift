import Foundation
import Testing
@testable import SampleCorpus

/// Faults injected into real `skillforge` runs: a full disk under out/, SIGINT in the middle of a build,
/// a damaged catalog, inputs that cannot be read. Each must end with a clear message, the previous
/// outputs and catalog intact, and a way forward. (Damaged cache entries: CacheTests.)
@Suite(.serialized) struct FaultInjectionTests {
    /// The sample pipeline with absolute paths, so it can live anywhere; `seed` changes every output.
    static func samplePipeline(in dir: URL, seed: Int) throws -> String {
        var text = try String(contentsOf: repoRoot.appendingPathComponent("pipelines/sample.yaml"), encoding: .utf8)
        let base = repoRoot.appendingPathComponent("pipelines").path
        for (from, to) in [("path: samples/", "path: \(base)/samples/"), ("outcomes: samples/", "outcomes: \(base)/samples/"),
                           ("rules: safety/", "rules: \(base)/safety/"), ("codes: safety/", "codes: \(base)/safety/"),
                           ("curated: ../skills", "curated: \(repoRoot.path)/skills"), ("seed: 42", "seed: \(seed)")] {
            #expect(text.contains(from), "sample.yaml no longer has '\(from)'")
            text = text.replacingOccurrences(of: from, with: to)
        }
        let file = dir.appendingPathComponent("sample-\(seed).yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    /// Hashes of everything a user reads under out/ (not the cache or the lock file).
    static func visibleHashes(_ out: URL) throws -> [String: String] {
        try treeHashes(out).filter { !$0.key.hasPrefix(".cache/") && $0.key != ".lock" }
    }

    @Test func diskFullWhileWritingKeepsThePreviousOutputsAndCatalog() throws {
        guard let bin = skillforgeBinary?.path else { Issue.record("the skillforge executable was not built"); return }
        let dir = try scratch("diskfull")
        let mnt = dir.appendingPathComponent("mnt")
        try FileManager.default.createDirectory(at: mnt, withIntermediateDirectories: true)
        let (mounted, mountLog) = try run("/bin/mount", ["-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt.path])
        defer { if mounted == 0 { _ = try? run("/bin/umount", [mnt.path]) } }
        let out = mnt.appendingPathComponent("out")
        let first = try Self.samplePipeline(in: dir, seed: 1), second = try Self.samplePipeline(in: dir, seed: 2)
        let (ok, okLog) = try run(bin, ["build", first, "--out", out.path, "-q"])
        #expect(ok == 0, "\(okLog)")
        let before = try Self.visibleHashes(out)
        #expect(before.keys.contains("catalog.sqlite") && before.count > 40)

        var args = ["build", second, "--out", out.path]
        var exe = bin
        if mounted == 0 {
            // Leave 600 KB free: the new outputs need several MB.
            let free = (try FileManager.default.attributesOfFileSystem(forPath: mnt.path)[.systemFreeSize] as? NSNumber)?.int64Value ?? 0
            let filler = FileHandle(forWritingAtPath: { FileManager.default.createFile(atPath: mnt.appendingPathComponent("filler").path, contents: nil); return mnt.appendingPathComponent("filler").path }())!
            try filler.truncate(atOffset: UInt64(max(0, free - 600_000)))
            // tmpfs allocates on write: fill the holes.
            try filler.seek(toOffset: 0)
            var left = max(0, free - 600_000)
            let chunk = Data(count: 1 << 20)
            while left > 0 { let n = min(Int64(chunk.count), left); try filler.write(contentsOf: chunk.prefix(Int(n))); left -= n }
            try filler.close()
        } else {
            // No permission to mount here: a file-size limit makes writes fail the same way (EFBIG).
            print("NOTICE: cannot mount a tmpfs (\(mountLog.trimmingCharacters(in: .whitespacesAndNewlines))); using ulimit -f instead")
            exe = "/usr/bin/prlimit"
            args = ["--fsize=300000", bin] + args
        }
        let (status, log) = try run(exe, args)
        #expect(status == 1, "\(log)")
        #expect(log.contains("cannot write the outputs under \(out.path): "), "\(log)")
        #expect(log.contains(mounted == 0 ? "no space left on the device" : "larger than this process may write"), "\(log)")
        #expect(log.contains("Nothing was installed: the previous outputs and catalog are unchanged"))
        #expect(!log.contains("NSCocoaErrorDomain"), "raw Foundation errors are not for users: \(log)")
        #expect(try Self.visibleHashes(out) == before, "a failed build changed the outputs")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent(".staging").path), "staging left behind")
        let (check, checkLog) = try run(bin, ["catalog", "check", "--out", out.path])
        #expect(check == 0, "\(checkLog)")

        // With space again the same build succeeds and changes the outputs.
        if mounted == 0 { try FileManager.default.removeItem(at: mnt.appendingPathComponent("filler")) }
        let (again, againLog) = try run(bin, ["build", second, "--out", out.path, "-q"])
        #expect(again == 0, "\(againLog)")
        #expect(try Self.visibleHashes(out) != before)
    }

    @Test func interruptStopsCleanlyAndTheNextBuildResumes() throws {
        guard let bin = skillforgeBinary?.path else { Issue.record("the skillforge executable was not built"); return }
        let dir = try scratch("sigint")
        // Twelve input files, so the interrupt lands while inputs are still being read.
        let samples = dir.appendingPathComponent("samples")
        try SampleCorpus(seed: 5, tasks: 1200).write(to: samples)
        let parts = try FileManager.default.contentsOfDirectory(atPath: samples.path).filter { $0.hasPrefix("part-") }.sorted()
        for (k, name) in parts.enumerated() {
            // Bytes, not text: the corpus has a line of invalid UTF-8 on purpose.
            let lines = try Data(contentsOf: samples.appendingPathComponent(name)).split(separator: 0x0A)
            let chunk = (lines.count + 5) / 6
            for j in 0..<6 {
                try Data(lines.dropFirst(j * chunk).prefix(chunk).joined(separator: [0x0A]) + [0x0A])
                    .write(to: samples.appendingPathComponent("chunk-\(k)-\(j).jsonl"))
            }
            try FileManager.default.removeItem(at: samples.appendingPathComponent(name))
        }
        func pipeline(_ seed: Int) throws -> String {
            let text = """
                version: 1
                name: sigint
                seed: \(seed)
                inputs:
                  - path: samples/chunk-*.jsonl
                    outcomes: samples/outcomes.jsonl
                outputs:
                  trajectories: {style: trajectory-sft}
                  instruct: {style: conifer}
                """
            let file = dir.appendingPathComponent("p\(seed).yaml")
            try text.write(to: file, atomically: true, encoding: .utf8)
            return file.lastPathComponent
        }
        let p1 = try pipeline(1), p2 = try pipeline(2)
        let out = dir.appendingPathComponent("out")
        let (ok, okLog) = try run(bin, ["build", p1, "--out", "out", "-q"], cwd: dir)
        #expect(ok == 0, "\(okLog)")
        let before = try Self.visibleHashes(out)

        // Interrupt the seed-2 build as soon as its first new input is in the cache.
        let cacheDir = out.appendingPathComponent(".cache/ingest")
        try FileManager.default.removeItem(at: cacheDir)  // so that seed 2 has to read everything again
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = ["build", p2, "--out", "out"]
        p.currentDirectoryURL = dir
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && ((try? FileManager.default.contentsOfDirectory(atPath: cacheDir.path)) ?? []).filter({ $0.hasSuffix(".meta.json") }).isEmpty {
            usleep(5_000)
        }
        kill(p.processIdentifier, SIGINT)
        let log = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 130, "\(log)")
        #expect(log.contains("interrupted: nothing was installed, the previous outputs and catalog are unchanged"), "\(log)")
        #expect(try Self.visibleHashes(out) == before)
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent(".staging").path), "staging left behind")
        let cachedAtStop = ((try? FileManager.default.contentsOfDirectory(atPath: cacheDir.path)) ?? []).filter { $0.hasSuffix(".meta.json") }.count
        #expect(cachedAtStop >= 1 && cachedAtStop < 12, "cache entries at the interrupt: \(cachedAtStop)")

        // The lock was released; the next build reuses what was read and equals a clean build.
        let (resumed, resumedLog) = try run(bin, ["build", p2, "--out", "out", "--json"], cwd: dir)
        #expect(resumed == 0, "\(resumedLog)")
        let hits = resumedLog.range(of: #""hits" : \d+"#, options: .regularExpression).map { String(resumedLog[$0].split(separator: " ").last!) }
        #expect(hits == "\(cachedAtStop)", "the resumed build must reuse the \(cachedAtStop) input(s) read before the interrupt")
        let (clean, cleanLog) = try run(bin, ["build", p2, "--out", "clean", "-q", "--no-cache"], cwd: dir)
        #expect(clean == 0, "\(cleanLog)")
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == treeHashes(dir.appendingPathComponent("clean/datasets")))
    }

    @Test func damagedCatalogIsDetectedAndRebuiltFromTheOutputs() throws {
        guard let bin = skillforgeBinary?.path else { Issue.record("the skillforge executable was not built"); return }
        let dir = try scratch("catalog")
        let pipeline = try Self.samplePipeline(in: dir, seed: 42)
        let out = dir.appendingPathComponent("out")
        let (ok, okLog) = try run(bin, ["build", pipeline, "--out", out.path, "-q"])
        #expect(ok == 0, "\(okLog)")
        let catalog = out.appendingPathComponent("catalog.sqlite")
        let (_, listed) = try run(bin, ["catalog", "list", "--out", out.path])
        let datasetsBefore = try treeHashes(out.appendingPathComponent("datasets"))

        for damage in ["truncated", "overwritten"] {
            let size = try FileManager.default.attributesOfItem(atPath: catalog.path)[.size] as! Int
            let h = try FileHandle(forUpdating: catalog)
            if damage == "truncated" {
                try h.truncate(atOffset: UInt64(size / 2))
            } else {
                // Garbage over every page after the first: the header still opens, the b-trees do not.
                try h.seek(toOffset: 4096)
                try h.write(contentsOf: Data((0..<(size - 4096)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 13) }))
            }
            try h.close()
            let (check, checkLog) = try run(bin, ["catalog", "check", "--out", out.path])
            #expect(check == 1, "\(damage): \(checkLog)")
            #expect(checkLog.contains("skillforge catalog rebuild --out \(out.path)"), "\(damage): \(checkLog)")
            let (search, searchLog) = try run(bin, ["catalog", "search", "disk", "--out", out.path])
            #expect(search == 1 && searchLog.contains("catalog rebuild"), "\(damage): \(searchLog)")
            // A build puts its outputs in place and says what to do about the catalog.
            let (build, buildLog) = try run(bin, ["build", pipeline, "--out", out.path, "-q"])
            #expect(build == 1 && buildLog.contains("the outputs are in place") && buildLog.contains("catalog rebuild"), "\(damage): \(buildLog)")
            #expect(try treeHashes(out.appendingPathComponent("datasets")) == datasetsBefore)

            let (rebuilt, rebuiltLog) = try run(bin, ["catalog", "rebuild", "--out", out.path])
            #expect(rebuilt == 0, "\(damage): \(rebuiltLog)")
            #expect(rebuiltLog.contains("5 dataset(s), 11 skill(s)"), "\(rebuiltLog)")
            #expect(rebuiltLog.contains("moved the previous catalog file aside"))
            let (after, afterList) = try run(bin, ["catalog", "list", "--out", out.path])
            #expect(after == 0 && afterList == listed, "\(damage): the rebuilt catalog lists something else:\n\(afterList)\nvs\n\(listed)")
            let (_, hits) = try run(bin, ["catalog", "search", "disk cleanup", "--out", out.path])
            #expect(hits.contains("safe-disk-cleanup@1"))
        }
        // Nothing was deleted: both damaged files are kept beside the catalog.
        let aside = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix("catalog.sqlite.damaged-") }
        #expect(aside.count >= 2, "\(aside)")
        // And the next build records into the rebuilt catalog as usual.
        let (next, nextLog) = try run(bin, ["build", pipeline, "--out", out.path, "-q"])
        #expect(next == 0, "\(nextLog)")
    }

    @Test func unreadableInputsFailTheBuildNamingThem() throws {
        guard let bin = skillforgeBinary?.path else { Issue.record("the skillforge executable was not built"); return }
        let dir = try scratch("unreadable")
        let data = dir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: repoRoot.appendingPathComponent("pipelines/samples/part-01.jsonl"), to: data.appendingPathComponent("a.jsonl"))
        try """
            version: 1
            name: unreadable
            inputs:
              - path: data/*.jsonl
            outputs:
              trajectories: {style: trajectory-sft}
            """.write(to: dir.appendingPathComponent("p.yaml"), atomically: true, encoding: .utf8)
        let (ok, okLog) = try run(bin, ["build", "p.yaml", "--out", "out", "-q"], cwd: dir)
        #expect(ok == 0, "\(okLog)")
        let before = try Self.visibleHashes(dir.appendingPathComponent("out"))

        // A dangling symlink (a dataset mount that went away) and a named pipe (reading it would block
        // forever): both are reported where the pipeline names the input, before any work.
        try FileManager.default.createSymbolicLink(atPath: data.appendingPathComponent("b.jsonl").path, withDestinationPath: "/nonexistent/b.jsonl")
        for (label, expected) in [("dangling symlink", "p.yaml:4:11: error: input 'data/*.jsonl' matches data/b.jsonl, which cannot be read: a symbolic link to a file that does not exist"),
                                  ("fifo", "p.yaml:4:11: error: input 'data/*.jsonl' matches data/c.jsonl, which cannot be read: a named pipe (FIFO), not a regular file")] {
            if label == "fifo" {
                try FileManager.default.removeItem(at: data.appendingPathComponent("b.jsonl"))
                #expect(mkfifo(data.appendingPathComponent("c.jsonl").path, 0o644) == 0)
            }
            let (status, log) = try run(bin, ["build", "p.yaml", "--out", "out", "-q"], cwd: dir)
            #expect(status == 2, "\(label): \(log)")
            #expect(log.contains(expected), "\(label): the message must name the file: \(log)")
            #expect(try Self.visibleHashes(dir.appendingPathComponent("out")) == before, "\(label)")
        }
        // A directory matched by the pattern is not an input file and does not count.
        try FileManager.default.removeItem(at: data.appendingPathComponent("c.jsonl"))
        try FileManager.default.createDirectory(at: data.appendingPathComponent("d.jsonl"), withIntermediateDirectories: true)
        let (status, log) = try run(bin, ["build", "p.yaml", "--out", "out", "-q"], cwd: dir)
        #expect(status == 0, "\(log)")
    }
}
