import Archives
import Foundation
import Testing
@testable import Engine
import Pipelines
import Skills
@testable import Trajectories

/// Every documented limit, at the bound (accepted) and one over it (refused or quarantined, with a
/// message that names the limit): record size, observation size, archive entries and bytes (zip
/// bombs on `skill install`), files per bundle. YAML bounds: BoundedYAMLTests.
@Suite struct LimitsTests {
    /// One native line of exactly `bytes` bytes (padding inside the task text).
    static func nativeLine(bytes: Int, id: String) throws -> Data {
        let empty = try NativeWriter.line(Trajectory(id: id, task: ""))
        let t = Trajectory(id: id, task: String(repeating: "a", count: bytes - empty.count))
        let line = try NativeWriter.line(t)
        #expect(line.count == bytes)
        return line
    }

    @Test func recordLimitAtAndOverInNativeFiles() throws {
        let dir = try scratch("recordlimit")
        let limit = 4096
        // Over the bound by one byte, between two lines at the bound; 1 KiB read chunks so the
        // overlong line spans several reads and is skipped without being held.
        var file = try Self.nativeLine(bytes: limit, id: "at-1") + Data("\n".utf8)
        file += try Self.nativeLine(bytes: limit + 1, id: "over") + Data("\n".utf8)
        file += try Self.nativeLine(bytes: 3 * limit, id: "far-over") + Data("\n".utf8)
        file += try Self.nativeLine(bytes: limit, id: "at-2")
        let path = dir.appendingPathComponent("n.jsonl")
        try file.write(to: path)
        let reader = try LineReader(path: path.path, chunkSize: 1024, maxLineBytes: limit)
        var numbers: [Int] = [], overlong: [Int] = []
        while let b = try reader.nextBatch() {
            numbers += b.lines.map(\.number)
            overlong += b.overlong.map(\.number)
            #expect(b.overlong.allSatisfy { $0.bytes == ($0.number == 2 ? limit + 1 : 3 * limit) })
        }
        #expect(numbers == [1, 4] && overlong == [2, 3])

        let r = try Importers.importFile(path: path.path, display: "n.jsonl", options: ImportOptions(maxRecordBytes: limit))
        #expect(r.trajectories.map(\.id) == ["at-1", "at-2"])
        #expect(r.quarantined.map(\.location) == ["n.jsonl:2", "n.jsonl:3"])
        #expect(r.quarantined[0].reason.hasPrefix("the line is 4097 bytes, over max_record_bytes (4096)"))
        // The in-memory reader (fuzzing, tools) applies the same bound.
        let m = try Importers.importData(file, name: "n.jsonl", format: "native", options: ImportOptions(maxRecordBytes: limit))
        #expect(m.trajectories.map(\.id) == ["at-1", "at-2"] && m.quarantined.map(\.line) == [2, 3])
    }

    @Test func recordLimitAtAndOverInForeignFiles() throws {
        let dir = try scratch("foreignlimit")
        let limit = 2048
        // A JSON Lines session: a line over the bound is quarantined, the rest is read.
        let user = #"{"type":"user","uuid":"u1","sessionId":"s","message":{"role":"user","content":"Fix the build"}}"#
        let padded = #"{"type":"user","uuid":"u2","parentUuid":"u1","sessionId":"s","message":{"role":"user","content":"PAD"}}"#
        let over = padded.replacingOccurrences(of: "PAD", with: String(repeating: "p", count: limit + 1 - padded.count + 3))
        #expect(over.utf8.count == limit + 1)
        let session = dir.appendingPathComponent("s.jsonl")
        try (user + "\n" + over + "\n").write(to: session, atomically: true, encoding: .utf8)
        let r = try Importers.importFile(path: session.path, display: "s.jsonl", options: ImportOptions(maxRecordBytes: limit))
        #expect(r.quarantined.map(\.location) == ["s.jsonl:2"])
        #expect(r.trajectories.first?.task == "Fix the build")

        // A whole JSON document: at the bound it is read, over it the file is refused, named.
        let doc = #"{"schema_version":"ATIF-v1.2","session_id":"x","agent":{"name":"a"},"steps":[{"step_id":1,"source":"user","message":"PAD"}]}"#
        for (size, accepted) in [(limit, true), (limit + 1, false)] {
            let text = doc.replacingOccurrences(of: "PAD", with: String(repeating: "q", count: size - doc.count + 3))
            #expect(text.utf8.count == size)
            let url = dir.appendingPathComponent("d-\(size).json")
            try text.write(to: url, atomically: true, encoding: .utf8)
            if accepted {
                #expect(try Importers.importFile(path: url.path, display: url.lastPathComponent, options: ImportOptions(maxRecordBytes: limit)).format == "atif")
            } else {
                #expect {
                    _ = try Importers.importFile(path: url.path, display: url.lastPathComponent, options: ImportOptions(maxRecordBytes: limit))
                } throws: { e in "\(e)".contains("d-2049.json") && "\(e)".contains("over max_record_bytes (2048)") }
            }
        }
    }

    @Test func recordLimitIsAPipelineSettingWithARange() throws {
        let dir = try scratch("recordkey")
        try Data().write(to: dir.appendingPathComponent("a.jsonl"))
        func load(_ value: String) throws -> PipelineSpec {
            let yaml = "version: 1\nname: x\ninputs:\n  - path: a.jsonl\n    max_record_bytes: \(value)\noutputs:\n  a: {style: trajectory-sft}\n"
            return try PipelineLoader.parse(yaml: yaml, file: "p.yaml", baseDirectory: dir.path)
        }
        #expect(try load("1048576").inputs[0].maxRecordBytes == 1 << 20)
        #expect(try load("1024").inputs[0].maxRecordBytes == 1024)
        #expect(throws: SpecError.self) { _ = try load("1023") }
        #expect(try PipelineLoader.parse(yaml: "version: 1\nname: x\ninputs:\n  - path: a.jsonl\noutputs:\n  a: {style: trajectory-sft}\n",
                                         file: "p.yaml", baseDirectory: dir.path).inputs[0].maxRecordBytes == 256 << 20)
    }

    @Test func observationLimitAtAndOver() throws {
        let dir = try scratch("obslimit")
        let limit = 1024
        for (size, whole) in [(limit, true), (limit + 1, false)] {
            let content = "HEAD" + String(repeating: "o", count: size - 8) + "TAIL"
            let lines = [
                #"{"type":"user","message":{"role":"user","content":"task"}}"#,
                #"{"type":"assistant","message":{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"Bash","input":{}}]}}"#,
                #"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":"\#(content)"}]}}"#,
            ]
            let url = dir.appendingPathComponent("o-\(size).jsonl")
            try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
            let r = try Importers.importFile(path: url.path, display: "o.jsonl", options: ImportOptions(maxObservationBytes: limit))
            let got = try #require(r.trajectories.first?.steps.first?.observation?.content)
            if whole {
                #expect(got == content && r.cleaned["truncated_observation"] == nil)
            } else {
                #expect(got.hasPrefix("HEAD") && got.hasSuffix("TAIL") && got.contains("bytes truncated by skillforge"))
                #expect(got.utf8.count <= limit + 100 && r.cleaned["truncated_observation"] == 1)
            }
        }
    }

    @Test func skillInstallRefusesZipBombsBeforeWritingAnything() throws {
        guard let bin = skillforgeBinary?.path else { Issue.record("the skillforge executable was not built"); return }
        let dir = try scratch("installbomb")
        // 1 GiB of zeros declared in one entry (about 1 MB compressed), and 2,500 empty files.
        let script = """
            import io, sys, tarfile
            class Zeros(io.RawIOBase):
                def __init__(self, n): self.n = n
                def readable(self): return True
                def readinto(self, b):
                    k = min(len(b), self.n); b[:k] = bytes(k); self.n -= k; return k
            with tarfile.open(sys.argv[1], 'w:gz', compresslevel=1) as t:
                i = tarfile.TarInfo('bomb/SKILL.md'); d = b'---\\nname: bomb\\ndescription: d\\n---\\n'; i.size = len(d); t.addfile(i, io.BytesIO(d))
                i = tarfile.TarInfo('bomb/references/zeros.bin'); i.size = 1 << 30; t.addfile(i, io.BufferedReader(Zeros(1 << 30)))
            with tarfile.open(sys.argv[2], 'w:gz') as t:
                for k in range(2500):
                    i = tarfile.TarInfo(f'many/f{k}.txt'); i.size = 0; t.addfile(i, io.BytesIO(b''))
            """
        let bomb = dir.appendingPathComponent("bomb.tar.gz"), many = dir.appendingPathComponent("many.tar.gz")
        let (made, madeLog) = try run("/usr/bin/python3", ["-c", script, bomb.path, many.path])
        #expect(made == 0, "\(madeLog)")
        let target = dir.appendingPathComponent("skills")
        for (archive, expected) in [(bomb, "declares 1073741824 bytes: more than 67108864 bytes uncompressed"), (many, "more than 2000 entries")] {
            let (status, log) = try run(bin, ["skill", "install", archive.path, "--to", target.path])
            #expect(status == 1 && log.contains(expected), "\(log)")
            #expect(!FileManager.default.fileExists(atPath: target.path), "nothing may be written")
        }
        // The same bounds, at and over, on the reader directly.
        #expect(try ArchiveReader.entries(of: many, limits: .init(maxEntries: 2500, maxTotalBytes: 0)).count == 2500)
        #expect(throws: ArchiveError.self) { _ = try ArchiveReader.entries(of: many, limits: .init(maxEntries: 2499, maxTotalBytes: 0)) }
    }

    @Test func bundleFileCountAndSizeAtAndOver() throws {
        let dir = try scratch("bundlelimit").appendingPathComponent("big-skill")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("references"), withIntermediateDirectories: true)
        try "---\nname: big-skill\ndescription: d\n---\nbody\n".write(to: dir.appendingPathComponent("SKILL.md"), atomically: true, encoding: .utf8)
        for k in 0..<10 { try Data(repeating: 0x61, count: 100).write(to: dir.appendingPathComponent("references/r\(k).md")) }
        #expect(try SkillBundle.read(directory: dir, limits: .init(maxFiles: 10, maxTotalBytes: 1000)).files.count == 10)
        #expect {
            _ = try SkillBundle.read(directory: dir, limits: .init(maxFiles: 9, maxTotalBytes: 1 << 20))
        } throws: { e in "\(e)".contains("more than 9 files") }
        #expect {
            _ = try SkillBundle.read(directory: dir, limits: .init(maxFiles: 100, maxTotalBytes: 999))
        } throws: { e in "\(e)".contains("more than 999 bytes") }
        #expect(SkillBundle.Limits.standard.maxFiles == 1000 && SkillBundle.Limits.standard.maxTotalBytes == 64 << 20)
    }
}
