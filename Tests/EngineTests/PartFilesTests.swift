import Foundation
import TestSupport
import Testing
@testable import Engine
import Pipelines
import SampleCorpus
import Skills
@testable import TrainingSets
import Trajectories

/// Dataset splits are written as part files; a rebuild links the parts whose records did not change.
@Suite struct PartFilesTests {
    /// Where parts end: after a record of length n once the part holds a quarter of `partBytes` and
    /// mix(n) mod partBytes < n, at four times `partBytes`, and at a section start once the part holds
    /// a quarter. Checked against that rule, written out here, for random records.
    @Test func partsEndByTheDocumentedRule() throws {
        var rng = SystemRandomNumberGenerator()
        for round in 0..<20 {
            let dir = try Scratch.directory("parts-\(round)")
            let partBytes = Int.random(in: 40...400, using: &rng)
            let w = try DatasetWriter(directory: dir, description: .init(
                name: "p", style: "trajectory-sft", format: .messages, license: "other", pipeline: "p",
                configHash: "h", toolVersion: "t", seed: 0, summary: "Parts."), partBytes: partBytes)
            var expected: [[String]] = []
            var size = 0, sectionStarts = false, ends = false
            var all: [String] = []
            for n in 0..<Int.random(in: 1...300, using: &rng) {
                if Int.random(in: 0..<15, using: &rng) == 0 {
                    w.startSection()
                    sectionStarts = true
                }
                let line = "{\"n\":\(n),\"pad\":\"" + String(repeating: "x", count: Int.random(in: 0...120, using: &rng)) + "\"}"
                if expected.isEmpty || ends || (sectionStarts && size >= partBytes / 4) {
                    expected.append([])
                    size = 0
                }
                sectionStarts = false
                expected[expected.count - 1].append(line)
                let length = line.utf8.count
                size += length + 1
                ends = size >= 4 * partBytes || (size >= partBytes / 4 && StableHash.mix(UInt64(length)) % UInt64(partBytes) < UInt64(length))
                all.append(line)
                let at = try w.write(Data(line.utf8), split: "train")
                #expect(at.file == String(format: "data/train/train-%05d", expected.count - 1) && at.offset == Int64(size - length - 1))
            }
            let m = try w.finish(inputs: [], prepare: [])
            let parts = try #require(m.splits["train"]?.parts)
            #expect(parts.map(\.file) == DatasetFiles.parts(dir, "train").map { "data/train/" + $0.lastPathComponent })
            #expect(parts.count == expected.count, "part size \(partBytes)")
            for (p, lines) in zip(parts, expected) {
                let data = try Data(contentsOf: dir.appendingPathComponent(p.file))
                #expect(String(decoding: data, as: UTF8.self) == lines.map { $0 + "\n" }.joined())
                #expect(p.records == lines.count && p.bytes == Int64(data.count) && p.sha256 == ContentHash.sha256(data))
            }
            #expect(try DatasetFiles.text(dir, "train") == all.map { $0 + "\n" }.joined())
            #expect(m.splits["train"]?.records == all.count)
        }
    }

    /// After new trajectories arrive, Conifer and trajectory SFT keep every part whose records are
    /// unchanged (the same file, linked: same inode), write the rest, and the result equals a clean build.
    /// An edited part is not trusted: then every part is written again.
    @Test func rebuildKeepsUnchangedPartsAndEqualsACleanBuild() throws {
        let dir = try Scratch.directory("part-reuse")
        let samples = try writeSampleParts(to: dir, seed: 21, tasks: 60)
        try writeSamplesPipeline(dir, name: "part-reuse", """
            outputs:
              sft: {style: trajectory-sft}
              instruct: {style: conifer}
            package: {skills: [], catalog: false, part_mb: 0.02}
            """)
        func build(_ to: URL) throws -> BuildResult { try buildSamplesPipeline(dir, into: to) }
        func clean() throws -> [String: String] { try cleanBuildHashes(dir) }
        /// Inode of every part file, by dataset-relative path.
        func inodes(_ out: URL) throws -> [String: UInt64] {
            var r: [String: UInt64] = [:]
            for name in ["sft", "instruct"] {
                let d = out.appendingPathComponent("datasets/\(name)")
                for split in ["train", "test", "external_feedback/train", "external_feedback/test", "rl/train", "rl/test"] {
                    for p in DatasetFiles.parts(d, split) { r["\(name)/\(split)/\(p.lastPathComponent)"] = FileStamp(path: p.path)?.inode }
                }
            }
            return r
        }
        let out = dir.appendingPathComponent("out")
        let first = try build(out)
        #expect(first.datasets.allSatisfy { $0.partsKept == 0 && $0.partsWritten > 5 })
        let before = try inodes(out)

        // New trajectories, after the others in input order.
        try SampleCorpus(seed: 22, tasks: 6).files().first { $0.name == "part-01.jsonl" }!.contents
            .write(to: samples.appendingPathComponent("part-09.jsonl"))
        let appended = try build(out)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == (try clean()))
        let after = try inodes(out)
        for d in appended.datasets {
            let total = d.partsKept + d.partsWritten
            #expect(d.partsKept > total / 2 && d.partsWritten > 0, "\(d.name): \(d.partsKept) kept, \(d.partsWritten) written")
            // A kept part is a previous file itself (perhaps under another part number).
            let previous = Set(before.filter { $0.key.hasPrefix(d.name + "/") }.values)
            let same = after.filter { $0.key.hasPrefix(d.name + "/") && previous.contains($0.value) }.count
            #expect(same == d.partsKept, "\(d.name)")
        }

        // An index whose offsets are wrong (as if a file changed without its stamps changing): the build
        // that reads such a record fails naming it and removes the index; the next one equals a clean build.
        let indexURL = out.appendingPathComponent(".cache/records/instruct.index")
        var index = try #require(OutputMemo.Index(decoding: Data(contentsOf: indexURL)))
        for key in index.units.keys {
            index.units[key]!.records = index.units[key]!.records.map { r in var r = r; r[2] += 1; return r }
        }
        try index.encoded().write(to: indexURL)
        try SampleCorpus(seed: 23, tasks: 3).files().first { $0.name == "part-01.jsonl" }!.contents
            .write(to: samples.appendingPathComponent("part-10.jsonl"))
        #expect(throws: (any Error).self) { try build(out) }
        #expect(!FileManager.default.fileExists(atPath: indexURL.path))
        #expect(try build(out).datasets.first { $0.name == "instruct" }?.partsKept == 0)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == (try clean()))

        // An edited part (same size, one byte changed) is not trusted: nothing is kept.
        let part = try #require(DatasetFiles.parts(out.appendingPathComponent("datasets/instruct"), "train").first)
        var bytes = try Data(contentsOf: part)
        let k = try #require(bytes.firstIndex(of: UInt8(ascii: "a")))
        bytes[k] = UInt8(ascii: "b")
        try bytes.write(to: part)
        let edited = try build(out)
        #expect(edited.datasets.first { $0.name == "instruct" }?.partsKept == 0)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == (try clean()))
    }
}

/// CS-Chain reuses unchanged trajectories' analyses and records: after new trajectories arrive, after the
/// rules change and after an edited output, the dataset equals a clean build's.
@Suite struct CSChainReuseTests {
    @Test func unchangedTrajectoriesAreNotAnalysedAgain() throws {
        let dir = try Scratch.directory("cs-reuse")
        let samples = try writeSampleParts(to: dir, seed: 31, tasks: 60)
        let rules = dir.appendingPathComponent("rules.yaml")
        try FileManager.default.copyItem(at: repoRoot.appendingPathComponent("pipelines/safety/consequences.yaml"), to: rules)
        try writeSamplesPipeline(dir, name: "cs-reuse", """
            outputs:
              safety: {style: cs-chain, rules: rules.yaml}
            package: {skills: [], catalog: false, part_mb: 0.05}
            """)
        func build(_ to: URL) throws -> BuildResult.DatasetResult { try buildSamplesPipeline(dir, into: to).datasets[0] }
        func clean() throws -> [String: String] { try cleanBuildHashes(dir) }
        let out = dir.appendingPathComponent("out")
        let first = try build(out)
        let trajectories = first.unitsMade ?? 0
        #expect(trajectories > 50 && first.unitsReused == 0)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == (try clean()))

        // New trajectories: only they are analysed; the balanced selection and records equal a clean build's.
        try SampleCorpus(seed: 32, tasks: 8).files().first { $0.name == "part-01.jsonl" }!.contents
            .write(to: samples.appendingPathComponent("part-09.jsonl"))
        let appended = try build(out)
        #expect(appended.unitsReused == trajectories && (appended.unitsMade ?? 0) > 0)
        #expect(appended.partsKept > 0)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == (try clean()))

        // Other rules: everything is analysed again.
        var text = try String(contentsOf: rules, encoding: .utf8)
        text += "\n"
        try text.write(to: rules, atomically: true, encoding: .utf8)
        #expect(try build(out).unitsReused == 0)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == (try clean()))

        // An edited output is not trusted.
        let part = try #require(DatasetFiles.parts(out.appendingPathComponent("datasets/safety"), "train").first)
        var bytes = try Data(contentsOf: part)
        let k = try #require(bytes.firstIndex(of: UInt8(ascii: "a")))
        bytes[k] = UInt8(ascii: "b")
        try bytes.write(to: part)
        #expect(try build(out).unitsReused == 0)
        #expect(try treeHashes(out.appendingPathComponent("datasets")) == (try clean()))
    }
}

/// Skills keep what they derive from single runs (failed steps, attempt pairs' oscillation) between
/// builds; the bundles and PDI terms equal a clean build's, and a damaged file is not used.
@Suite struct SkillFeaturesTests {
    @Test func rebuildUsesKeptFeaturesAndEqualsACleanBuild() throws {
        let dir = try Scratch.directory("skill-features")
        let samples = try writeSampleParts(to: dir, seed: 41, tasks: 80)
        try writeSamplesPipeline(dir, name: "skill-features", """
            outputs:
              skills: {style: skills}
            package: {skills: [], catalog: false}
            """)
        func build(_ to: URL) throws { try buildSamplesPipeline(dir, into: to) }
        func clean() throws -> [String: String] {
            let o = dir.appendingPathComponent("clean-\(UInt32.random(in: 0...UInt32.max))")
            try buildSamplesPipeline(dir, into: o, cache: false)
            #expect(!FileManager.default.fileExists(atPath: o.appendingPathComponent(".cache/records/skills.features").path))
            return try treeHashes(o.appendingPathComponent("skills"))
        }
        let out = dir.appendingPathComponent("out")
        let file = out.appendingPathComponent(".cache/records/skills.features")
        try build(out)
        let first = try Data(contentsOf: file)
        #expect(!SkillFeatures(url: file, toolVersion: SkillforgeVersion.current).isEmpty)
        #expect(try treeHashes(out.appendingPathComponent("skills")) == (try clean()))

        // New runs: the kept features serve the old ones; the result equals a clean build.
        try SampleCorpus(seed: 42, tasks: 10).files().first { $0.name == "part-01.jsonl" }!.contents
            .write(to: samples.appendingPathComponent("part-09.jsonl"))
        try build(out)
        #expect(try treeHashes(out.appendingPathComponent("skills")) == (try clean()))
        #expect(try Data(contentsOf: file) != first)

        // A damaged file is not used (and the result is still a clean build's).
        var damaged = try Data(contentsOf: file)
        damaged[damaged.count / 3] ^= 0x01
        try damaged.write(to: file)
        #expect(SkillFeatures(url: file, toolVersion: SkillforgeVersion.current).isEmpty)
        try build(out)
        #expect(try treeHashes(out.appendingPathComponent("skills")) == (try clean()))
        #expect(!SkillFeatures(url: file, toolVersion: SkillforgeVersion.current).isEmpty)
        #expect(SkillFeatures(url: file, toolVersion: "another version").isEmpty)
    }

    /// What a build finds in the file is what the previous build worked out: a forged value is used.
    @Test func keptValuesAreUsed() throws {
        let url = Scratch.file("forged.features")
        var a = Trajectory(id: "a", task: "t", taskKey: "k", attempt: 1)
        var b = Trajectory(id: "b", task: "t", taskKey: "k", attempt: 2)
        a.digest.identity = "entry:1"
        b.digest.identity = "entry:2"
        let writer = SkillFeatures(url: url, toolVersion: "v")
        #expect(writer.pair(a, b) { 0.25 } == 0.25)
        #expect(writer.failedSteps(a) { [.init(error: "boom", next: "retry", step: 3)] }.count == 1)
        writer.save()
        let reader = SkillFeatures(url: url, toolVersion: "v")
        #expect(reader.pair(a, b) { 0.9 } == 0.25)
        #expect(reader.failedSteps(a) { [] } == [.init(error: "boom", next: "retry", step: 3)])
        #expect(reader.found == 2 && reader.made == 0)
        #expect(PDI.oscillation([a, b], features: reader) == 0.25)
    }
}
