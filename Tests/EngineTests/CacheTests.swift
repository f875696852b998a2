import Catalog
import Foundation
import TestSupport
import Testing
@testable import Engine
import Pipelines
import Prepare
@testable import SampleCorpus
import Trajectories

/// Writes a sample corpus's part files to `<dir>/samples`; returns that folder.
func writeSampleParts(to dir: URL, seed: UInt64, tasks: Int) throws -> URL {
    let samples = dir.appendingPathComponent("samples")
    try FileManager.default.createDirectory(at: samples, withIntermediateDirectories: true)
    for f in try SampleCorpus(seed: seed, tasks: tasks).files() where f.name.hasPrefix("part") {
        try f.contents.write(to: samples.appendingPathComponent(f.name))
    }
    return samples
}

/// Writes `<dir>/p.yaml`, a pipeline named `name` over `samples/*.jsonl` (with `input` added to that
/// input's entry) followed by `body` (prepare steps, outputs), and loads it.
@discardableResult
func writeSamplesPipeline(_ dir: URL, name: String, input: String = "", _ body: String) throws -> PipelineSpec {
    let entry = input.isEmpty ? "" : "\n    " + input
    try Data("version: 1\nname: \(name)\nmax_bad_fraction: 0.5\ninputs:\n  - path: samples/*.jsonl\(entry)\n\(body)\n".utf8)
        .write(to: dir.appendingPathComponent("p.yaml"))
    return try PipelineLoader.load(path: dir.appendingPathComponent("p.yaml").path)
}

/// Builds `dir/p.yaml` into `out` without the whole-build memo (so what a test sees is the outputs' own
/// reuse of the previous build).
@discardableResult
func buildSamplesPipeline(_ dir: URL, into out: URL, cache: Bool = true) throws -> BuildResult {
    try? FileManager.default.removeItem(at: out.appendingPathComponent(".cache/builds"))
    return try BuildRunner(options: .init(outDirectory: out, useCache: cache)).run(try PipelineLoader.load(path: dir.appendingPathComponent("p.yaml").path))
}

/// File hashes under `folder` of a clean (`--no-cache`) build of `dir/p.yaml` into a new folder.
func cleanBuildHashes(_ dir: URL, folder: String = "datasets") throws -> [String: String] {
    let o = dir.appendingPathComponent("clean-\(UUID().uuidString.prefix(8))")
    try buildSamplesPipeline(dir, into: o, cache: false)
    return try treeHashes(o.appendingPathComponent(folder))
}

@Suite(.serialized) struct CacheTests {
    func pipeline(_ dir: URL, emails: Bool = false, testSplit: Double = 0.1) throws -> PipelineSpec {
        return try writeSamplesPipeline(dir, name: "cache-test", """
            prepare:
              - redact: {secrets: true, emails: \(emails)}
              - dedupe: {method: exact}
            outputs:
              sft: {style: trajectory-sft, test_split: \(testSplit)}
            """)
    }

    /// The build memo: an unchanged build is reused whole (nothing rewritten, a run still recorded);
    /// any change to an input, a setting, a side file or an installed output builds again.
    @Test func unchangedBuildIsReusedWholeAndAnyChangeRebuilds() throws {
        let dir = try scratch("memo")
        let samples = try writeSampleParts(to: dir, seed: 6, tasks: 40)
        let rules = repoRoot.appendingPathComponent("pipelines/safety/consequences.yaml")
        try FileManager.default.copyItem(at: rules, to: dir.appendingPathComponent("rules.yaml"))
        try writeSamplesPipeline(dir, name: "memo", """
            outputs:
              sft: {style: trajectory-sft}
              safety: {style: cs-chain, rules: rules.yaml}
            """)
        let out = dir.appendingPathComponent("out")
        func build(cache: Bool = true) throws -> BuildResult {
            try BuildRunner(options: .init(outDirectory: out, useCache: cache)).run(try PipelineLoader.load(path: dir.appendingPathComponent("p.yaml").path))
        }
        func stamps() -> [String: BuildMemo.Stamp] { BuildMemo.stamps(out: out, roots: ["datasets", "report"]) }

        let first = try build()
        #expect(first.upToDate == nil)
        let installed = stamps()
        let again = try build()
        #expect(again.upToDate == true && again.cache.hits == 2)
        #expect(again.datasets.map(\.records) == first.datasets.map(\.records))
        #expect(stamps() == installed, "an up-to-date build rewrote outputs")
        #expect(try Catalog(path: out.appendingPathComponent("catalog.sqlite").path).runs().count == 2, "the run is still recorded")

        // A touched output, an edited side file, a new input, --no-cache: each builds.
        let readme = out.appendingPathComponent("datasets/sft/README.md")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: readme.path)
        #expect(try build().upToDate == nil)
        #expect(try build().upToDate == true)
        try (try String(contentsOf: dir.appendingPathComponent("rules.yaml"), encoding: .utf8) + "\n# edited\n")
            .write(to: dir.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
        #expect(try build().upToDate == nil)
        try SampleCorpus(seed: 9, tasks: 3).files().first { $0.name == "part-01.jsonl" }!.contents
            .write(to: samples.appendingPathComponent("part-03.jsonl"))
        let appended = try build()
        #expect(appended.upToDate == nil && appended.cache.hits == 2 && appended.cache.misses == 1)
        #expect(try build(cache: false).upToDate == nil)
    }

    @Test func hitsMissesAndRecomputation() throws {
        let dir = try scratch("cache")
        let samples = try writeSampleParts(to: dir, seed: 3, tasks: 60)
        let out = dir.appendingPathComponent("out")
        func build(_ spec: PipelineSpec, cache: Bool = true) throws -> BuildResult {
            try BuildRunner(options: .init(outDirectory: out, useCache: cache)).run(spec)
        }
        let first = try build(try pipeline(dir))
        #expect(first.cache.hits == 0 && first.cache.misses == 2)
        let reference = try treeHashes(out.appendingPathComponent("datasets"))

        // Nothing changed: every input is a hit and the outputs are the same bytes.
        let second = try build(try pipeline(dir))
        #expect(second.cache.hits == 2 && second.cache.misses == 0)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == reference)
        #expect(second.prepare.map(\.counts) == first.prepare.map(\.counts))

        // Entries cached under an earlier revision of the redaction rules are not used (what they
        // redacted may differ): the same entries, moved to the keys that revision gave, all miss.
        let spec = try pipeline(dir)
        var quarantine: [QuarantineEntry] = []
        let steps = BuildRunner.cachedAndRest(spec).cached
        let cache = IngestCache(outDirectory: out)
        for input in try BuildRunner.resolveInputs(spec, quarantine: &quarantine) {
            let sha = try ContentHash.sha256(fileAt: input.path).hex
            let now = cache.paths(IngestCache.key(fileSHA: sha, input: input, steps: steps))
            let old = cache.paths(IngestCache.key(fileSHA: sha, input: input, steps: steps, redaction: SecretRedactor.revision - 1))
            try FileManager.default.moveItem(at: now.jsonl, to: old.jsonl)
            try FileManager.default.moveItem(at: now.meta, to: old.meta)
        }
        try FileManager.default.removeItem(at: out.appendingPathComponent(".cache/builds"))
        let older = try build(spec)
        #expect(older.cache.hits == 0 && older.cache.misses == 2)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == reference)

        // A change after the cached steps (an output's split) re-runs nothing before it.
        let later = try build(try pipeline(dir, testSplit: 0.2))
        #expect(later.cache.hits == 2)
        // A change to a cached step (redaction) re-runs it for every file.
        let changed = try build(try pipeline(dir, emails: true))
        #expect(changed.cache.misses == 2)

        // A new file: only it is read.
        let extra = try SampleCorpus(seed: 4, tasks: 5).files().first { $0.name == "part-01.jsonl" }!
        try extra.contents.write(to: samples.appendingPathComponent("part-03.jsonl"))
        let appended = try build(try pipeline(dir))
        #expect(appended.cache.hits == 2 && appended.cache.misses == 1)

        // Entries with new stamps but the same bytes (a backup restored, a hard link made) are hashed,
        // used, and stamped again — so that the next build does not hash them again.
        let cacheDir = out.appendingPathComponent(".cache/ingest")
        func recordedStamps() throws -> [String: FileStamp?] {
            var stamps: [String: FileStamp?] = [:]
            for entry in try FileManager.default.contentsOfDirectory(atPath: cacheDir.path) where entry.hasSuffix(".meta.json") {
                let meta = try JSONCoding.decoder.decode(IngestCache.Meta.self, from: Data(contentsOf: cacheDir.appendingPathComponent(entry)))
                stamps[String(entry.dropLast(".meta.json".count))] = meta.jsonlStamp
            }
            return stamps
        }
        for entry in try FileManager.default.contentsOfDirectory(atPath: cacheDir.path) where entry.hasSuffix(".jsonl") {
            let link = cacheDir.appendingPathComponent(entry + ".link")
            try FileManager.default.linkItem(at: cacheDir.appendingPathComponent(entry), to: link)  // moves the status-change time
            try FileManager.default.removeItem(at: link)
        }
        func current() throws -> Int {
            try recordedStamps().filter { FileStamp(path: cacheDir.appendingPathComponent($0.key + ".jsonl").path) == $0.value }.count
        }
        #expect(try recordedStamps().count >= 3 && current() == 0)
        try FileManager.default.removeItem(at: out.appendingPathComponent(".cache/builds"))
        let relinked = try build(try pipeline(dir))
        #expect(relinked.cache.hits == 3 && relinked.cache.misses == 0)
        #expect(try current() == 3, "the entries the build used are stamped again")

        // Damaged entries are detected and recomputed, with the same result. A byte changed in place keeps
        // the size, but the entry's stamps (status-change time) still differ, so it is hashed again.
        for entry in try FileManager.default.contentsOfDirectory(atPath: cacheDir.path) where entry.hasSuffix(".jsonl") {
            let handle = try FileHandle(forWritingTo: cacheDir.appendingPathComponent(entry))
            try handle.seek(toOffset: 0)
            try handle.write(contentsOf: Data(" ".utf8))  // `{` → ` `: still parses, but is not what was cached
            try handle.close()
        }
        let before = try treeHashes(out.appendingPathComponent("datasets"))
        // (Without the build memo, which would reuse the untouched outputs without reading any input.)
        try FileManager.default.removeItem(at: out.appendingPathComponent(".cache/builds"))
        let repaired = try build(try pipeline(dir))
        #expect(repaired.cache.misses == 3 && repaired.cache.hits == 0)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == before)

        // --no-cache reads everything and gives the same bytes.
        let fresh = try build(try pipeline(dir), cache: false)
        #expect(fresh.cache.hits == 0 && fresh.cache.misses == 3)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == before)

        // gc: nothing is older than a day; clear removes all.
        #expect(try BuildRunner.collectCacheGarbage(outDirectory: out, keepDays: 1) == 0)
        #expect(try BuildRunner.collectCacheGarbage(outDirectory: out, keepDays: -1) >= 3)
        #expect(try BuildRunner.plan(try pipeline(dir), outDirectory: out).allSatisfy { !$0.cached })
    }
}

/// Conifer's records of a task family are found again in the previous build's dataset files when the
/// family's trajectories are unchanged; a changed family is made again, and an edited output is not trusted.
@Suite(.serialized) struct ConiferReuseTests {
    @Test func unchangedFamiliesAreReusedChangedOnesRemade() throws {
        let dir = try scratch("conifer-reuse")
        let samples = try writeSampleParts(to: dir, seed: 12, tasks: 50)
        try writeSamplesPipeline(dir, name: "reuse", """
            outputs:
              instruct: {style: conifer}
            """)
        let out = dir.appendingPathComponent("out")
        func build(_ to: URL, cache: Bool = true) throws -> BuildResult { try buildSamplesPipeline(dir, into: to, cache: cache) }
        func clean() throws -> [String: String] { try cleanBuildHashes(dir) }
        let dataset = out.appendingPathComponent("datasets/instruct")

        let first = try build(out).datasets[0]
        let families = first.unitsMade ?? 0
        #expect(families > 20 && first.unitsReused == 0)
        let reference = try treeHashes(out.appendingPathComponent("datasets"))
        #expect(reference == (try clean()))

        // Nothing changed: every family is taken from the previous files, byte for byte.
        let second = try build(out).datasets[0]
        #expect(second.unitsReused == families && second.unitsMade == 0)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == reference)

        // A new failed attempt of one existing task: only its family is made again.
        let lines = try Data(contentsOf: samples.appendingPathComponent("part-01.jsonl")).split(separator: 0x0A)
        var extra = try #require(lines.lazy.compactMap { try? JSONCoding.decoder.decode(Trajectory.self, from: Data($0)) }
            .first { $0.taskKey != nil && $0.outcome.status == .success && $0.answer != nil })
        extra.id += "-retry"
        extra.outcome = Outcome(status: .failure, reward: 0)
        extra.answer = "Not done yet."
        extra.source = nil
        try (NativeWriter.line(extra) + Data("\n".utf8)).write(to: samples.appendingPathComponent("part-09.jsonl"))
        let third = try build(out).datasets[0]
        #expect(third.unitsMade == 1 && third.unitsReused == families - 1)
        let appended = try treeHashes(out.appendingPathComponent("datasets"))
        #expect(appended != reference)
        #expect(appended == (try clean()), "a rebuild that reuses families must equal a clean build")

        // An edited output (same size, one byte changed) is not trusted: every family is made again.
        let train = try #require(DatasetFiles.parts(dataset, "train").first)
        var bytes = try Data(contentsOf: train)
        let k = try #require(bytes.firstIndex(of: UInt8(ascii: "a")))
        bytes[k] = UInt8(ascii: "b")
        try bytes.write(to: train)
        let fourth = try build(out).datasets[0]
        #expect(fourth.unitsReused == 0 && fourth.unitsMade == families)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == appended)

        // A damaged index (one byte changed) is ignored; --no-cache neither reads nor writes it.
        let index = out.appendingPathComponent(".cache/records/instruct.index")
        var damaged = try Data(contentsOf: index)
        damaged[damaged.count / 2] ^= 0x20
        try damaged.write(to: index)
        #expect(try build(out).datasets[0].unitsReused == 0)
        let saved = try Data(contentsOf: index)
        #expect(try build(out, cache: false).datasets[0].unitsReused == 0)
        #expect(try Data(contentsOf: index) == saved)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == appended)

        // The output's own preparation changes what its records say: after a step added there (e-mail
        // redaction), the family whose trajectory it changed is made again (a redacted record no longer
        // carries the digest of its cached line); the others' records are the same and are reused.
        var mailed = try #require(lines.lazy.compactMap { try? JSONCoding.decoder.decode(Trajectory.self, from: Data($0)) }
            .first { $0.taskKey != nil && $0.outcome.status == .success && $0.answer != nil })
        mailed.id += "-mailed"
        mailed.answer = (mailed.answer ?? "") + " Questions to ops.team@example.com."
        mailed.source = nil
        try (NativeWriter.line(mailed) + Data("\n".utf8)).write(to: samples.appendingPathComponent("part-10.jsonl"))
        _ = try build(out)
        #expect(String(decoding: try Data(contentsOf: train), as: UTF8.self).contains("ops.team@example.com"))
        try writeSamplesPipeline(dir, name: "reuse", """
            outputs:
              instruct: {style: conifer, prepare: [{redact: {secrets: true, emails: true}}]}
            """)
        let redacted = try build(out).datasets[0]
        #expect(redacted.unitsMade == 1 && redacted.unitsReused == families - 1)
        #expect(!String(decoding: try Data(contentsOf: train), as: UTF8.self).contains("ops.team@example.com"))
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == (try clean()))
        #expect(try build(out).datasets[0].unitsReused == families, "unchanged again: every family is reused")
    }
}

/// Input hashes are remembered with each file's stamps, and any write to a file makes it be hashed
/// again — even one that keeps its size and puts its modification time back.
@Suite struct InputHashMemoryTests {
    @Test func unchangedFilesAreNotReadAgainAndEditedOnesAre() throws {
        let dir = try Scratch.directory("hashes")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("out"), withIntermediateDirectories: true)
        let a = dir.appendingPathComponent("a.jsonl"), b = dir.appendingPathComponent("b.jsonl")
        try Data("aaaa\n".utf8).write(to: a)
        try Data("bbbb\n".utf8).write(to: b)
        let inputs = [a, b].map {
            BuildRunner.ResolvedInput(path: $0.path, display: $0.lastPathComponent, format: "native", outcomes: nil, outcomesSHA: nil,
                                      bytes: 5, importOptions: .init())
        }
        let out = dir.appendingPathComponent("out")
        var first = InputHashes(out: out)
        let sums = try first.hash(inputs)
        #expect(first.remembered == 0 && sums.map(\.sha256) == [ContentHash.sha256("aaaa\n"), ContentHash.sha256("bbbb\n")])
        first.save()

        var second = InputHashes(out: out)
        #expect(try second.hash(inputs).map(\.sha256) == sums.map(\.sha256))
        #expect(second.remembered == 2)

        // Same size, modification time set back: the status-change time still moves.
        let mtime = try FileManager.default.attributesOfItem(atPath: a.path)[.modificationDate] as! Date
        usleep(20_000)
        try Data("AAAA\n".utf8).write(to: a)
        try FileManager.default.setAttributes([.modificationDate: mtime], ofItemAtPath: a.path)
        var third = InputHashes(out: out)
        let again = try third.hash(inputs)
        #expect(third.remembered == 1)
        #expect(again[0].sha256 == ContentHash.sha256("AAAA\n") && again[1].sha256 == sums[1].sha256)

        // A damaged memory is ignored, not trusted.
        try Data("{not json".utf8).write(to: out.appendingPathComponent(".cache/hashes.json"))
        var fourth = InputHashes(out: out)
        #expect(try fourth.hash(inputs).map(\.sha256) == again.map(\.sha256) && fourth.remembered == 0)
    }
}

/// A large native file is cached in chunks of whole lines: appending trajectories to it reads and
/// prepares only its last chunks, and the result is what reading the whole file gives.
@Suite struct ChunkedInputTests {
    /// Lines of a sample corpus's native files (with a broken line in the middle), as one file.
    func corpus(seed: UInt64, tasks: Int) throws -> Data {
        var data = Data()
        for f in try SampleCorpus(seed: seed, tasks: tasks).files() where f.name.hasPrefix("part") { data.append(f.contents) }
        return data
    }

    @Test func newlinesAreCountedExactly() {
        var g = SeededGenerator(seed: 5)
        // Bytes near 0x0A and its neighbours in every position, so a borrow or carry between bytes would show.
        let alphabet: [UInt8] = [0x0A, 0x0B, 0x09, 0x8A, 0x01, 0x00, 0xFF, 0x7F, 0x80, 0x41]
        for length in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000] {
            for _ in 0..<50 {
                let bytes = (0..<length).map { _ in alphabet[g.below(alphabet.count)] }
                let counted = bytes.withUnsafeBytes { InputDigest.countNewlines($0) }
                #expect(counted == bytes.filter { $0 == 0x0A }.count)
            }
        }
    }

    /// On random text (newlines dense or rare, CRLF, blank and long lines, no final newline), for chunk
    /// sizes from 1 byte: the chunks tile the file, each but the last ends at the first newline at or
    /// past its size, each knows its first line, and reading the chunks gives the lines (numbers and
    /// bytes) that reading the whole file gives.
    @Test func chunksOfRandomTextReadLikeTheWholeFile() throws {
        let dir = try Scratch.directory("chunk-props")
        var g = SeededGenerator(seed: 17)
        let pieces: [[UInt8]] = [Array("{\"a\":1}".utf8), [0x0A], [0x0D, 0x0A], [0x20], Array("xyz".utf8), [0x0A, 0x0A], Array(repeating: 0x41, count: 300), [0xC3, 0xA9]]
        for round in 0..<300 {
            var bytes: [UInt8] = []
            for _ in 0..<g.below(60) { bytes += pieces[g.below(pieces.count)] }
            let url = dir.appendingPathComponent("f\(round).jsonl")
            try Data(bytes).write(to: url)
            var whole: [(Int, [UInt8])] = []
            let all = try LineReader(path: url.path)
            while let b = try all.nextBatch(maxLines: 5) { whole += b.lines.map { ($0.number, Array(b.bytes[$0.range])) } }
            for size in [1, 2, 7, 64, 4096] {
                let d = try InputDigest.compute(path: url.path, chunkBytes: size)
                let chunks = try #require(d.chunks)
                var at: Int64 = 0
                var read: [(Int, [UInt8])] = []
                for (i, c) in chunks.enumerated() {
                    #expect(c.offset == at && c.length > 0)
                    let lo = Int(c.offset), hi = Int(c.offset + c.length)
                    #expect(c.firstLine == 1 + bytes[..<lo].filter { $0 == 0x0A }.count)
                    if i < chunks.count - 1 {
                        #expect(bytes[hi - 1] == 0x0A && hi - lo >= size && !bytes[(lo + size - 1)..<(hi - 1)].contains(0x0A))
                    } else {
                        #expect(hi == bytes.count)
                    }
                    let r = try LineReader(path: url.path, range: c.offset..<(c.offset + c.length), firstLine: c.firstLine)
                    while let b = try r.nextBatch(maxLines: 3) { read += b.lines.map { ($0.number, Array(b.bytes[$0.range])) } }
                    at += c.length
                }
                #expect(at == Int64(bytes.count) && d.sha256 == ContentHash.sha256(Data(bytes)))
                #expect(read.map(\.0) == whole.map(\.0) && read.map(\.1) == whole.map(\.1), "round \(round), size \(size)")
            }
        }
    }

    @Test func chunkBoundariesDependOnlyOnTheBytesBefore() throws {
        let dir = try Scratch.directory("chunks")
        let url = dir.appendingPathComponent("big.jsonl")
        var text = Data()
        for i in 0..<2000 { text.append(Data("{\"n\": \(i), \"pad\": \"\(String(repeating: "x", count: i % 97))\"}\n".utf8)) }
        try text.write(to: url)
        let d = try InputDigest.compute(path: url.path, chunkBytes: 4096)
        let chunks = try #require(d.chunks)
        #expect(chunks.count > 10 && d.sha256 == ContentHash.sha256(text) && d.bytes == Int64(text.count))
        // Chunks tile the file, end after a newline, hold at least the chunk size (but the last), and
        // know their first line and their bytes' hash.
        var at: Int64 = 0, line = 1
        for (i, c) in chunks.enumerated() {
            #expect(c.offset == at)
            let bytes = text[Int(c.offset)..<Int(c.offset + c.length)]
            #expect(c.sha256 == ContentHash.sha256(Data(bytes)) && c.firstLine == line)
            if i < chunks.count - 1 { #expect(c.length >= 4096 && bytes.last == 0x0A && !bytes.dropLast().suffix(from: bytes.startIndex + 4095).contains(0x0A)) }
            at += c.length
            line += bytes.filter { $0 == 0x0A }.count
        }
        #expect(at == d.bytes)
        // Appending keeps every chunk but the last.
        var longer = text
        longer.append(Data("{\"n\": \"appended\"}\n".utf8))
        try longer.write(to: url)
        let e = try #require(try InputDigest.compute(path: url.path, chunkBytes: 4096).chunks)
        #expect(Array(e.prefix(chunks.count - 1)) == Array(chunks.dropLast()))
        // Read back by range, the chunks give every line once, with the file's line numbers.
        var numbers: [Int] = []
        for c in e {
            let r = try LineReader(path: url.path, range: c.offset..<(c.offset + c.length), firstLine: c.firstLine)
            while let b = try r.nextBatch(maxLines: 7) { numbers += b.lines.map(\.number) }
        }
        #expect(numbers == Array(1...2001))
    }

    @Test func appendingToALargeFileRedoesOnlyItsLastChunks() throws {
        let dir = try Scratch.directory("chunked")
        let samples = dir.appendingPathComponent("samples")
        try FileManager.default.createDirectory(at: samples, withIntermediateDirectories: true)
        var data = try corpus(seed: 11, tasks: 60)
        // A broken line in a later chunk: its quarantine entry must name the file's line.
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        data = Data((lines.prefix(lines.count * 2 / 3) + [Data("{broken".utf8)[...]] + lines.dropFirst(lines.count * 2 / 3)).joined(separator: [0x0A]))
        let big = samples.appendingPathComponent("all.jsonl")
        try data.write(to: big)
        let spec = try writeSamplesPipeline(dir, name: "chunked", input: "format: native", """
            prepare:
              - redact: {secrets: true}
              - dedupe: {method: exact}
            outputs:
              sft: {style: trajectory-sft}
            """)
        let chunk = 16 << 10
        func build(_ out: String, cache: Bool = true) throws -> BuildResult {
            try BuildRunner(options: .init(outDirectory: dir.appendingPathComponent(out), useCache: cache, chunkBytes: chunk)).run(spec)
        }
        let chunks = try #require(try InputDigest.compute(path: big.path, chunkBytes: chunk).chunks).count
        #expect(chunks >= 5)

        let first = try build("out")
        #expect(first.cache.hits == 0 && first.cache.misses == chunks)
        let whole = try build("whole", cache: false)
        #expect(try treeHashes(dir.appendingPathComponent("out/datasets")) == treeHashes(dir.appendingPathComponent("whole/datasets")))
        #expect(first.quarantined.map { "\($0.file):\($0.line ?? 0)" } == whole.quarantined.map { "\($0.file):\($0.line ?? 0)" })
        #expect(first.quarantined.contains { $0.file.hasSuffix("all.jsonl") && $0.line == lines.count * 2 / 3 + 1 })
        #expect(first.prepare.map(\.counts) == whole.prepare.map(\.counts) && first.recordsRead == whole.recordsRead)
        let planned = try BuildRunner.plan(spec, outDirectory: dir.appendingPathComponent("out"), chunkBytes: chunk)
        #expect(planned.map(\.entries) == [chunks] && planned.allSatisfy(\.cached))

        // Append more trajectories: the chunks before the last come from the cache.
        let more = try corpus(seed: 12, tasks: 6)
        let handle = try FileHandle(forWritingTo: big)
        try handle.seekToEnd()
        try handle.write(contentsOf: more)
        try handle.close()
        let grown = try #require(try InputDigest.compute(path: big.path, chunkBytes: chunk).chunks).count
        let appended = try build("out")
        #expect(appended.cache.hits == chunks - 1 && appended.cache.misses == grown - (chunks - 1))
        let wholeAgain = try build("whole", cache: false)
        #expect(try treeHashes(dir.appendingPathComponent("out/datasets")) == treeHashes(dir.appendingPathComponent("whole/datasets")))
        #expect(appended.quarantined.map { "\($0.file):\($0.line ?? 0)" } == wholeAgain.quarantined.map { "\($0.file):\($0.line ?? 0)" })
        #expect(appended.recordsRead == wholeAgain.recordsRead && appended.prepare.map(\.counts) == wholeAgain.prepare.map(\.counts))
        #expect(appended.datasets.map(\.records) == wholeAgain.datasets.map(\.records))
    }
}

/// The first dedupe step's fingerprints are computed at ingest and kept with the cache entries: a
/// rebuild fingerprints only new records, and reaches the decisions a clean build reaches.
@Suite struct DedupeFingerprintTests {
    func pipeline(_ dir: URL, dedupe: String) throws -> PipelineSpec {
        return try writeSamplesPipeline(dir, name: "prints", """
            prepare:
              - redact: {secrets: true}
              - dedupe: \(dedupe)
            outputs:
              sft: {style: trajectory-sft}
            """)
    }

    @Test func storedFingerprintsAreUsedCheckedAndRecomputedWhenMissing() throws {
        let dir = try Scratch.directory("prints")
        let samples = try writeSampleParts(to: dir, seed: 21, tasks: 40)
        // Duplicates to find: a copy of one file under new ids.
        var copy = Data()
        for line in try Data(contentsOf: samples.appendingPathComponent("part-01.jsonl")).split(separator: 0x0A) {
            guard var t = try? JSONCoding.decoder.decode(Trajectory.self, from: Data(line)) else { continue }
            t.id = "copy-" + t.id
            copy.append(try NativeWriter.line(t) + Data([0x0A]))
        }
        try copy.write(to: samples.appendingPathComponent("part-03.jsonl"))
        let out = dir.appendingPathComponent("out")
        let cacheDir = out.appendingPathComponent(".cache/ingest")
        func build(_ spec: PipelineSpec, to: URL? = nil, cache: Bool = true) throws -> BuildResult {
            let o = to ?? out
            try? FileManager.default.removeItem(at: o.appendingPathComponent(".cache/builds"))
            return try BuildRunner(options: .init(outDirectory: o, useCache: cache)).run(spec)
        }
        func prints() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: cacheDir.path).filter { $0.hasSuffix(".bin") }.sorted()
        }
        func duplicates(_ r: BuildResult) -> Int { r.prepare.first { $0.step == "dedupe" }?.counts["duplicates"] ?? 0 }

        for config in ["{method: exact}", "{method: minhash, by: content, permutations: 64}"] {
            let spec = try pipeline(dir, dedupe: config)
            let clean = try build(spec, to: dir.appendingPathComponent("clean-\(config.count)"), cache: false)
            let reference = try treeHashes(dir.appendingPathComponent("clean-\(config.count)/datasets"))
            #expect(duplicates(clean) > 10)

            // Stored when the entries are made (or, for entries made under another dedupe, when next read).
            let first = try build(spec)
            #expect(try treeHashes(out.appendingPathComponent("datasets")) == reference)
            let stored = try prints()
            #expect(stored.count >= 3)
            let second = try build(spec)
            #expect(second.cache.hits == 3 && duplicates(second) == duplicates(first))
            #expect(try treeHashes(out.appendingPathComponent("datasets")) == reference)

            // They are what the rebuild uses: stored fingerprints made all equal (in a valid, sealed file)
            // turn every cached record after the first into a duplicate.
            for name in stored {
                let url = cacheDir.appendingPathComponent(name)
                var prints = try #require(IngestCache.StoredFingerprints(decoding: Data(contentsOf: url)))
                prints.words = Array(repeating: 0x0707_0707_0707_0707, count: prints.words.count)
                try prints.encoded().write(to: url)
            }
            let forged = try build(spec)
            #expect(forged.datasets[0].records <= 1, "stored fingerprints were not used")

            // A damaged file (its bytes no longer match its sha256 trailer) is not trusted.
            for name in stored {
                let url = cacheDir.appendingPathComponent(name)
                var data = try Data(contentsOf: url)
                data[data.count - 1] ^= 0xFF
                try data.write(to: url)
            }
            #expect(duplicates(try build(spec)) == duplicates(clean))
            #expect(try treeHashes(out.appendingPathComponent("datasets")) == reference)

            // Missing ones are computed while the entries are read, and stored again.
            for name in stored { try FileManager.default.removeItem(at: cacheDir.appendingPathComponent(name)) }
            #expect(duplicates(try build(spec)) == duplicates(clean))
            #expect(try treeHashes(out.appendingPathComponent("datasets")) == reference)
            #expect(try prints().count >= 3)
        }
        // gc removes them with their entries.
        #expect(try BuildRunner.collectCacheGarbage(outDirectory: out, keepDays: -1) >= 3)
        #expect(try prints().isEmpty)
    }
}

/// Records name the file they came from, so a file's cache entry is its bytes under its path: the same
/// bytes moved or copied to another name are read again, and name the new one.
@Suite struct RenamedInputTests {
    @Test func aRenamedOrCopiedFileNamesItsNewPath() throws {
        let dir = try Scratch.directory("renamed")
        let samples = try writeSampleParts(to: dir, seed: 8, tasks: 30)
        let spec = try writeSamplesPipeline(dir, name: "renamed", """
            outputs:
              sft: {style: trajectory-sft}
            """)
        func build(_ out: String, cache: Bool = true) throws -> BuildResult {
            try BuildRunner(options: .init(outDirectory: dir.appendingPathComponent(out), useCache: cache)).run(spec)
        }
        _ = try build("out")
        try FileManager.default.moveItem(at: samples.appendingPathComponent("part-01.jsonl"), to: samples.appendingPathComponent("part-07.jsonl"))
        let moved = try build("out")
        #expect(moved.cache.misses == 1)
        _ = try build("clean", cache: false)
        let train = try DatasetFiles.text(dir.appendingPathComponent("out/datasets/sft"), "train")
        #expect(train.contains("part-07.jsonl") && !train.contains("part-01.jsonl"))
        #expect(try treeHashes(dir.appendingPathComponent("out/datasets")) == treeHashes(dir.appendingPathComponent("clean/datasets")))
    }
}

/// Trajectory SFT copies the record of a trajectory that came through the ingest cache unchanged from
/// the previous build's files; the result is what a clean build writes.
@Suite struct SFTReuseTests {
    @Test func unchangedTrajectoriesAreCopiedNewOnesRendered() throws {
        let dir = try Scratch.directory("sft-reuse")
        let samples = try writeSampleParts(to: dir, seed: 14, tasks: 40)
        func pipeline(format: String) throws {
            try writeSamplesPipeline(dir, name: "sft-reuse", """
                outputs:
                  sft: {style: trajectory-sft, format: \(format)}
                """)
        }
        func build(_ to: URL, cache: Bool = true) throws -> BuildResult.DatasetResult { try buildSamplesPipeline(dir, into: to, cache: cache).datasets[0] }
        func clean() throws -> [String: String] { try cleanBuildHashes(dir) }
        let out = dir.appendingPathComponent("out")
        try pipeline(format: "messages")
        let first = try build(out)
        let records = first.unitsMade ?? 0
        #expect(records > 50 && first.unitsReused == 0)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == (try clean()))

        // A new file: its trajectories are rendered, every other record is copied.
        try SampleCorpus(seed: 15, tasks: 4).files().first { $0.name == "part-01.jsonl" }!.contents
            .write(to: samples.appendingPathComponent("part-05.jsonl"))
        let appended = try build(out)
        #expect(appended.unitsReused == records && (appended.unitsMade ?? 0) > 0)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == (try clean()))

        // Another format renders every record again.
        try pipeline(format: "sharegpt")
        let other = try build(out)
        #expect(other.unitsReused == 0)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == (try clean()))

        // An edited output is not trusted.
        let train = try #require(DatasetFiles.parts(out.appendingPathComponent("datasets/sft"), "train").first)
        var bytes = try Data(contentsOf: train)
        let k = try #require(bytes.firstIndex(of: UInt8(ascii: "a")))
        bytes[k] = UInt8(ascii: "b")
        try bytes.write(to: train)
        #expect(try build(out).unitsReused == 0)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == (try clean()))
    }
}

/// CS-Chain and CADA judging with the same rules share what the judge read (issue 17); the outputs are
/// those of builds that do not share (`--no-cache`: trajectories have no cache name, nothing is shared).
@Suite(.serialized) struct SharedSituationTests {
    @Test func safetyStylesShareTheJudgeAndWriteTheSameBytes() throws {
        let dir = try scratch("shared-judge")
        try writeSampleParts(to: dir, seed: 11, tasks: 40)
        let rules = repoRoot.appendingPathComponent("pipelines/safety/consequences.yaml").path
        let codes = repoRoot.appendingPathComponent("pipelines/safety/codes.yaml").path
        try writeSamplesPipeline(dir, name: "shared", """
            outputs:
              safety: {style: cs-chain, rules: \(rules)}
              cada: {style: cada, rules: \(rules), codes: \(codes)}
              cada-more: {style: cada, rules: \(rules), codes: \(codes), counterfactuals: 2}
            """)
        let out = dir.appendingPathComponent("out")
        try buildSamplesPipeline(dir, into: out)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == (try cleanBuildHashes(dir)))
    }
}
