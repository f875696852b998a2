import Foundation
import TestSupport
import Testing
@testable import Archives
import Trajectories

func scratchDir(_ label: String) throws -> URL {
    try Scratch.directory("arch-\(label)")
}

/// A small bundle with a script, a nested reference and files that must be left out.
func makeBundle(in dir: URL, mtime: Date) throws -> URL {
    let b = dir.appendingPathComponent("demo-skill")
    let fm = FileManager.default
    for sub in ["scripts", "references", "scripts/__pycache__"] { try fm.createDirectory(at: b.appendingPathComponent(sub), withIntermediateDirectories: true) }
    let files: [(String, String, Int)] = [
        ("SKILL.md", "---\nname: demo-skill\ndescription: Demo. Use for tests.\n---\n\nRun scripts/run.sh.\n", 0o644),
        ("scripts/run.sh", "#!/usr/bin/env bash\necho hi\n", 0o700),
        ("references/notes.md", "notes\n", 0o600),
        ("scripts/__pycache__/x.cpython-311.pyc", "junk", 0o644),
        ("scripts/old.pyc", "junk", 0o644),
        (".DS_Store", "junk", 0o644),
    ]
    for (p, t, mode) in files {
        let url = b.appendingPathComponent(p)
        try Data(t.utf8).write(to: url)
        try fm.setAttributes([.posixPermissions: mode, .modificationDate: mtime], ofItemAtPath: url.path)
    }
    return b
}

func run(_ args: [String], cwd: URL? = nil) -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    if let cwd { p.currentDirectoryURL = cwd }
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    do { try p.run() } catch { return (127, "\(error)") }
    let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return (p.terminationStatus, out)
}

@Suite(.serialized) struct ArchiveTests {
    @Test(arguments: ArchiveFormat.allCases)
    func identicalContentGivesIdenticalBytes(_ format: ArchiveFormat) throws {
        let a = try scratchDir("a"), b = try scratchDir("b")
        let bundleA = try makeBundle(in: a, mtime: Date(timeIntervalSince1970: 1_000_000))
        let bundleB = try makeBundle(in: b, mtime: Date(timeIntervalSince1970: 1_700_000_000))
        let oldTZ = ProcessInfo.processInfo.environment["TZ"]
        setenv("TZ", "Pacific/Kiritimati", 1); tzset()
        try ArchiveWriter.pack(directory: bundleA, to: a.appendingPathComponent("x.\(format.rawValue)"), format: format)
        setenv("TZ", "America/Los_Angeles", 1); tzset()
        try ArchiveWriter.pack(directory: bundleB, to: b.appendingPathComponent("x.\(format.rawValue)"), format: format)
        if let oldTZ { setenv("TZ", oldTZ, 1) } else { unsetenv("TZ") }
        tzset()
        let x = try Data(contentsOf: a.appendingPathComponent("x.\(format.rawValue)"))
        let y = try Data(contentsOf: b.appendingPathComponent("x.\(format.rawValue)"))
        #expect(!x.isEmpty && x == y)
        // Excluded files are not packed; modes are normalised; the top entry is the folder.
        let entries = try ArchiveReader.entries(of: a.appendingPathComponent("x.\(format.rawValue)"))
        #expect(entries.map(\.path) == ["demo-skill", "demo-skill/SKILL.md", "demo-skill/references", "demo-skill/references/notes.md",
                                        "demo-skill/scripts", "demo-skill/scripts/run.sh"])
        #expect(entries.first { $0.path.hasSuffix("run.sh") }?.mode == 0o755)
        #expect(entries.first { $0.path.hasSuffix("notes.md") }?.mode == 0o644)
    }

    @Test func systemToolsExtractWhatWasPacked() throws {
        let dir = try scratchDir("sys")
        let bundle = try makeBundle(in: dir, mtime: Date())
        let ci = ProcessInfo.processInfo.environment["CI"] == "true"
        for format in ArchiveFormat.allCases {
            let archive = dir.appendingPathComponent("x.\(format.rawValue)")
            try ArchiveWriter.pack(directory: bundle, to: archive, format: format)
            let target = try scratchDir("sys-\(format.rawValue)")
            let (status, output) = format == .skill ? run(["unzip", "-q", archive.path, "-d", target.path])
                                                    : run(["bsdtar", "-xf", archive.path, "-C", target.path])
            if status == 127 {
                if ci { Issue.record("CI=true but bsdtar/unzip is missing: .ci/run must install libarchive-tools and unzip") }
                else { print("NOTICE: skipping the system-tool extraction check: install libarchive-tools and unzip") }
                return
            }
            #expect(status == 0, "\(output)")
            for f in ["SKILL.md", "scripts/run.sh", "references/notes.md"] {
                #expect(try Data(contentsOf: target.appendingPathComponent("demo-skill/\(f)")) == Data(contentsOf: bundle.appendingPathComponent(f)))
            }
            #expect(!FileManager.default.fileExists(atPath: target.appendingPathComponent("demo-skill/.DS_Store").path))
            let attrs = try FileManager.default.attributesOfItem(atPath: target.appendingPathComponent("demo-skill/scripts/run.sh").path)
            #expect(((attrs[.posixPermissions] as? NSNumber)?.intValue ?? 0) & 0o111 != 0)
        }
    }

    /// Hostile archives, made with Python's tarfile/zipfile, are refused before anything is written.
    @Test(arguments: [
        ("abs.tar", "import tarfile,io\nt=tarfile.open(OUT,'w')\ni=tarfile.TarInfo('/tmp/evil.txt');d=b'x';i.size=1;t.addfile(i,io.BytesIO(d));t.close()", "absolute path"),
        ("dotdot.tar", "import tarfile,io\nt=tarfile.open(OUT,'w')\ni=tarfile.TarInfo('skill/../../evil.txt');i.size=1;t.addfile(i,io.BytesIO(b'x'));t.close()", "'..' component"),
        ("link.tar", "import tarfile\nt=tarfile.open(OUT,'w')\ni=tarfile.TarInfo('skill/escape');i.type=tarfile.SYMTYPE;i.linkname='../../../etc/passwd';t.addfile(i);t.close()", "leaves the archive"),
        ("zipslip.zip", "import zipfile\nz=zipfile.ZipFile(OUT,'w');z.writestr('../../evil.txt','x');z.close()", "'..' component"),
        ("inside-link.tar", "import tarfile,io\nt=tarfile.open(OUT,'w')\ni=tarfile.TarInfo('skill/a.txt');i.size=1;t.addfile(i,io.BytesIO(b'x'))\nl=tarfile.TarInfo('skill/b');l.type=tarfile.SYMTYPE;l.linkname='a.txt';t.addfile(l);t.close()", "links are not installed"),
    ])
    func hostileArchivesAreRefused(name: String, script: String, reason: String) throws {
        let dir = try scratchDir("hostile")
        let archive = dir.appendingPathComponent(name)
        let (status, output) = run(["python3", "-c", "OUT=\(String(reflecting: archive.path))\n" + script])
        #expect(status == 0, "\(output)")
        let target = dir.appendingPathComponent("install")
        do {
            try ArchiveReader.extract(archive, to: target)
            Issue.record("\(name) must be refused")
        } catch {
            #expect("\(error)".contains(reason), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: target.path), "nothing may be written")
        #expect(!FileManager.default.fileExists(atPath: dir.deletingLastPathComponent().appendingPathComponent("evil.txt").path))
    }

    @Test func limitsStopZipBombsAtAndOverTheBound() throws {
        let dir = try scratchDir("bomb")
        let archive = dir.appendingPathComponent("bomb.zip")
        let (status, _) = run(["python3", "-c", "import zipfile\nz=zipfile.ZipFile(\(String(reflecting: archive.path)),'w',zipfile.ZIP_DEFLATED)\nz.writestr('s/big.bin', b'\\0'*(8<<20))\nfor i in range(5): z.writestr(f's/f{i}.txt','x')\nz.close()"])
        #expect(status == 0)
        #expect(try ArchiveReader.entries(of: archive, limits: .init(maxEntries: 6, maxTotalBytes: (8 << 20) + 5)).count == 6)
        #expect(throws: ArchiveError.self) { _ = try ArchiveReader.entries(of: archive, limits: .init(maxEntries: 5, maxTotalBytes: 1 << 30)) }
        #expect(throws: ArchiveError.self) { _ = try ArchiveReader.entries(of: archive, limits: .init(maxEntries: 100, maxTotalBytes: (8 << 20) + 4)) }
    }

    @Test func packingRefusesLinksLeavingTheBundle() throws {
        let dir = try scratchDir("linkpack")
        let bundle = try makeBundle(in: dir, mtime: Date())
        try FileManager.default.createSymbolicLink(atPath: bundle.appendingPathComponent("references/passwd").path, withDestinationPath: "/etc/passwd")
        #expect(throws: ArchiveError.self) {
            try ArchiveWriter.pack(directory: bundle, to: dir.appendingPathComponent("x.skill"), format: .skill)
        }
    }
}
