import Foundation
import GRDB
import Trajectories

/// The SQLite catalog (`out/catalog.sqlite`, WAL): runs, inputs, datasets, skills with immutable
/// versions, their files and evidence, and a full-text index (FTS5, ranked with bm25) over skill name,
/// description and body. Schema changes go through migrations.
public final class Catalog {
    public let path: String
    let db: DatabaseQueue

    public struct CatalogError: Error, CustomStringConvertible, Sendable {
        public var description: String
        public init(description: String) { self.description = description }
    }

    public init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        var config = Configuration()
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
        do {
            db = try DatabaseQueue(path: path, configuration: config)
            try Self.migrator.migrate(db)
        } catch {
            throw CatalogError(description: "\(path): cannot open the catalog (\(error))")
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE runs (
                  id INTEGER PRIMARY KEY, pipeline TEXT NOT NULL, config_hash TEXT NOT NULL, tool_version TEXT NOT NULL,
                  started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL, stats TEXT);
                CREATE TABLE inputs (
                  run_id INTEGER NOT NULL REFERENCES runs(id), file TEXT NOT NULL, format TEXT NOT NULL, sha256 TEXT NOT NULL,
                  bytes INTEGER NOT NULL, records INTEGER NOT NULL, quarantined INTEGER NOT NULL);
                CREATE TABLE datasets (
                  run_id INTEGER NOT NULL REFERENCES runs(id), name TEXT NOT NULL, style TEXT NOT NULL, version INTEGER NOT NULL,
                  content_hash TEXT NOT NULL, splits TEXT NOT NULL, records INTEGER NOT NULL, bytes INTEGER NOT NULL, path TEXT NOT NULL,
                  PRIMARY KEY (run_id, name));
                CREATE TABLE skills (
                  id INTEGER PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL, content_hash TEXT NOT NULL,
                  description TEXT NOT NULL, body TEXT NOT NULL, source TEXT NOT NULL, status TEXT NOT NULL, rounds INTEGER,
                  pass_rate REAL, phi_exec REAL, phi_plan REAL, phi_oss REAL, pdi REAL, archives TEXT NOT NULL, sha256 TEXT NOT NULL,
                  size INTEGER NOT NULL, first_run INTEGER NOT NULL REFERENCES runs(id), UNIQUE(name, version));
                CREATE TABLE skill_runs (run_id INTEGER NOT NULL REFERENCES runs(id), skill_id INTEGER NOT NULL REFERENCES skills(id),
                  PRIMARY KEY (run_id, skill_id));
                CREATE TABLE skill_files (skill_id INTEGER NOT NULL REFERENCES skills(id), path TEXT NOT NULL, sha256 TEXT NOT NULL,
                  size INTEGER NOT NULL, executable INTEGER NOT NULL, PRIMARY KEY (skill_id, path));
                CREATE TABLE skill_evidence (skill_id INTEGER NOT NULL REFERENCES skills(id), trajectory_id TEXT NOT NULL, steps TEXT NOT NULL);
                CREATE VIRTUAL TABLE skills_fts USING fts5(name, description, body, content='skills', content_rowid='id',
                  tokenize = 'porter unicode61');
                CREATE TRIGGER skills_ai AFTER INSERT ON skills BEGIN
                  INSERT INTO skills_fts(rowid, name, description, body) VALUES (new.id, new.name, new.description, new.body);
                END;
                """)
        }
        return m
    }

    // MARK: Writing a run

    public struct SkillInput: Sendable {
        public var name: String
        public var description: String
        public var body: String
        public var source: String
        public var status: String
        public var rounds: Int?
        public var passRate: Double?
        public var terms: (exec: Double, plan: Double, oss: Double)?
        public var pdi: Double?
        public var archives: [String]
        public var archiveSHA256: String
        public var archiveSize: Int64
        public var files: [(path: String, sha256: String, size: Int, executable: Bool)]
        public var evidence: [(trajectory: String, steps: [Int])]

        public init(name: String, description: String, body: String, source: String, status: String, rounds: Int?, passRate: Double?,
                    terms: (exec: Double, plan: Double, oss: Double)?, pdi: Double?, archives: [String], archiveSHA256: String,
                    archiveSize: Int64, files: [(path: String, sha256: String, size: Int, executable: Bool)],
                    evidence: [(trajectory: String, steps: [Int])]) {
            self.name = name
            self.description = description
            self.body = body
            self.source = source
            self.status = status
            self.rounds = rounds
            self.passRate = passRate
            self.terms = terms
            self.pdi = pdi
            self.archives = archives
            self.archiveSHA256 = archiveSHA256
            self.archiveSize = archiveSize
            self.files = files
            self.evidence = evidence
        }

        /// Identity of the content: SKILL.md text and every file's hash (not the run, not the time).
        public var contentHash: String {
            ContentHash.sha256(([description, body] + files.sorted { $0.path < $1.path }.map { "\($0.path)\t\($0.sha256)\t\($0.executable)" })
                .joined(separator: "\n"))
        }
    }

    public struct DatasetInput: Sendable {
        public var name: String
        public var style: String
        public var contentHash: String
        public var splits: [String: Int]
        public var records: Int
        public var bytes: Int64
        public var path: String
        public init(name: String, style: String, contentHash: String, splits: [String: Int], records: Int, bytes: Int64, path: String) {
            self.name = name
            self.style = style
            self.contentHash = contentHash
            self.splits = splits
            self.records = records
            self.bytes = bytes
            self.path = path
        }
    }

    public struct RunInput: Sendable {
        public var pipeline: String
        public var configHash: String
        public var toolVersion: String
        public var startedAt: Date
        public var finishedAt: Date
        public var status: String
        public var stats: String
        public var inputs: [(file: String, format: String, sha256: String, bytes: Int64, records: Int, quarantined: Int)]
        public init(pipeline: String, configHash: String, toolVersion: String, startedAt: Date, finishedAt: Date, status: String,
                    stats: String, inputs: [(file: String, format: String, sha256: String, bytes: Int64, records: Int, quarantined: Int)]) {
            self.pipeline = pipeline
            self.configHash = configHash
            self.toolVersion = toolVersion
            self.startedAt = startedAt
            self.finishedAt = finishedAt
            self.status = status
            self.stats = stats
            self.inputs = inputs
        }
    }

    /// Records a run in one transaction. A skill whose content hash equals its latest version keeps
    /// that version; a changed one gets the next version. Returns the run id and each skill's version.
    @discardableResult
    public func record(run: RunInput, datasets: [DatasetInput], skills: [SkillInput]) throws -> (run: Int64, versions: [String: Int]) {
        try db.write { db in
            let iso = ISO8601DateFormatter()
            try db.execute(sql: "INSERT INTO runs (pipeline, config_hash, tool_version, started_at, finished_at, status, stats) VALUES (?,?,?,?,?,?,?)",
                           arguments: [run.pipeline, run.configHash, run.toolVersion, iso.string(from: run.startedAt),
                                       iso.string(from: run.finishedAt), run.status, run.stats])
            let runID = db.lastInsertedRowID
            for i in run.inputs {
                try db.execute(sql: "INSERT INTO inputs VALUES (?,?,?,?,?,?,?)",
                               arguments: [runID, i.file, i.format, i.sha256, i.bytes, i.records, i.quarantined])
            }
            for d in datasets {
                let last = try Row.fetchOne(db, sql: "SELECT version, content_hash FROM datasets WHERE name = ? ORDER BY run_id DESC LIMIT 1", arguments: [d.name])
                let version: Int = last.map { ($0["content_hash"] as String) == d.contentHash ? $0["version"] : ($0["version"] as Int) + 1 } ?? 1
                let splits = String(decoding: try JSONCoding.encoder.encode(d.splits), as: UTF8.self)
                try db.execute(sql: "INSERT INTO datasets VALUES (?,?,?,?,?,?,?,?,?)",
                               arguments: [runID, d.name, d.style, version, d.contentHash, splits, d.records, d.bytes, d.path])
            }
            var versions: [String: Int] = [:]
            for s in skills {
                let hash = s.contentHash
                let latest = try Row.fetchOne(db, sql: "SELECT id, version, content_hash FROM skills WHERE name = ? ORDER BY version DESC LIMIT 1",
                                              arguments: [s.name])
                var skillID: Int64
                if let latest, (latest["content_hash"] as String) == hash {
                    skillID = latest["id"]
                    versions[s.name] = latest["version"]
                } else {
                    let version = (latest?["version"] as Int? ?? 0) + 1
                    let archives = String(decoding: try JSONCoding.encoder.encode(s.archives), as: UTF8.self)
                    try db.execute(sql: """
                        INSERT INTO skills (name, version, content_hash, description, body, source, status, rounds, pass_rate,
                          phi_exec, phi_plan, phi_oss, pdi, archives, sha256, size, first_run)
                        VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                        """, arguments: [s.name, version, hash, s.description, s.body, s.source, s.status, s.rounds, s.passRate,
                                         s.terms?.exec, s.terms?.plan, s.terms?.oss, s.pdi, archives, s.archiveSHA256, s.archiveSize, runID])
                    skillID = db.lastInsertedRowID
                    for f in s.files {
                        try db.execute(sql: "INSERT INTO skill_files VALUES (?,?,?,?,?)", arguments: [skillID, f.path, f.sha256, f.size, f.executable])
                    }
                    for e in s.evidence {
                        try db.execute(sql: "INSERT INTO skill_evidence VALUES (?,?,?)",
                                       arguments: [skillID, e.trajectory, e.steps.map(String.init).joined(separator: ",")])
                    }
                    versions[s.name] = version
                }
                try db.execute(sql: "INSERT OR IGNORE INTO skill_runs VALUES (?,?)", arguments: [runID, skillID])
            }
            return (runID, versions)
        }
    }

    // MARK: Queries

    public struct SkillRow: Sendable, Codable {
        public var name: String
        public var version: Int
        public var description: String
        public var source: String
        public var status: String
        public var pdi: Double?
        public var phiExec: Double?
        public var phiPlan: Double?
        public var phiOss: Double?
        public var passRate: Double?
        public var sha256: String
        public var size: Int64
        public var archives: [String]
        public var firstRun: Int64
        enum CodingKeys: String, CodingKey {
            case name, version, description, source, status, pdi, phiExec = "phi_exec", phiPlan = "phi_plan", phiOss = "phi_oss",
                 passRate = "pass_rate", sha256, size, archives, firstRun = "first_run"
        }
    }

    static func skillRow(_ r: Row) -> SkillRow {
        let archives = (try? JSONCoding.decoder.decode([String].self, from: Data((r["archives"] as String).utf8))) ?? []
        return SkillRow(name: r["name"], version: r["version"], description: r["description"], source: r["source"], status: r["status"],
                        pdi: r["pdi"], phiExec: r["phi_exec"], phiPlan: r["phi_plan"], phiOss: r["phi_oss"], passRate: r["pass_rate"],
                        sha256: r["sha256"], size: r["size"], archives: archives, firstRun: r["first_run"])
    }

    /// The latest version of every skill.
    public func skills() throws -> [SkillRow] {
        try db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM skills s WHERE version = (SELECT MAX(version) FROM skills WHERE name = s.name) ORDER BY name
                """).map(Self.skillRow)
        }
    }

    public struct DatasetRow: Sendable, Codable {
        public var name: String
        public var style: String
        public var version: Int
        public var records: Int
        public var bytes: Int64
        public var path: String
        public var run: Int64
    }

    public func datasets() throws -> [DatasetRow] {
        try db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM datasets d WHERE run_id = (SELECT MAX(run_id) FROM datasets WHERE name = d.name) ORDER BY name
                """).map { DatasetRow(name: $0["name"], style: $0["style"], version: $0["version"], records: $0["records"],
                                       bytes: $0["bytes"], path: $0["path"], run: $0["run_id"]) }
        }
    }

    /// One skill, latest or a given version.
    public func skill(_ name: String, version: Int? = nil) throws -> (SkillRow, files: [String], evidence: [String])? {
        try db.read { db in
            let row = version == nil
                ? try Row.fetchOne(db, sql: "SELECT * FROM skills WHERE name = ? ORDER BY version DESC LIMIT 1", arguments: [name])
                : try Row.fetchOne(db, sql: "SELECT * FROM skills WHERE name = ? AND version = ?", arguments: [name, version])
            guard let row else { return nil }
            let id: Int64 = row["id"]
            let files = try String.fetchAll(db, sql: "SELECT path FROM skill_files WHERE skill_id = ? ORDER BY path", arguments: [id])
            let evidence = try Row.fetchAll(db, sql: "SELECT trajectory_id, steps FROM skill_evidence WHERE skill_id = ? ORDER BY trajectory_id",
                                            arguments: [id]).map { "\($0["trajectory_id"] as String) steps \($0["steps"] as String)" }
            return (Self.skillRow(row), files, evidence)
        }
    }

    public struct SearchHit: Sendable, Codable {
        public var name: String
        public var version: Int
        public var score: Double
        public var snippet: String
    }

    /// Full-text search over name, description and body, best first (bm25; lower is better in SQLite,
    /// reported here as a positive score), latest versions only.
    public func search(_ query: String, limit: Int = 10) throws -> [SearchHit] {
        let match = FTS5Pattern(matchingAnyTokenIn: query)
        guard let match else { return [] }
        return try db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT s.name, s.version, -bm25(skills_fts, 5.0, 2.0, 1.0) AS score,
                       snippet(skills_fts, -1, '[', ']', '…', 12) AS snippet
                FROM skills_fts JOIN skills s ON s.id = skills_fts.rowid
                WHERE skills_fts MATCH ? AND s.version = (SELECT MAX(version) FROM skills WHERE name = s.name)
                ORDER BY bm25(skills_fts, 5.0, 2.0, 1.0), s.name LIMIT ?
                """, arguments: [match, limit]).map { SearchHit(name: $0["name"], version: $0["version"], score: $0["score"], snippet: $0["snippet"]) }
        }
    }

    /// Every version of a skill with the run that introduced it.
    public func history(_ name: String) throws -> [(version: Int, run: Int64, hash: String, status: String)] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT version, first_run, content_hash, status FROM skills WHERE name = ? ORDER BY version", arguments: [name])
                .map { ($0["version"], $0["first_run"], $0["content_hash"], $0["status"]) }
        }
    }

    public struct Diff: Sendable, Codable {
        public var added: [String]
        public var changed: [String]
        public var removed: [String]
        public var unchanged: [String]
    }

    /// Skills added, changed (new version), removed and unchanged between two runs.
    public func diff(_ a: Int64, _ b: Int64) throws -> Diff {
        try db.read { db in
            func versions(_ run: Int64) throws -> [String: Int] {
                Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: """
                    SELECT s.name, s.version FROM skill_runs r JOIN skills s ON s.id = r.skill_id WHERE r.run_id = ?
                    """, arguments: [run]).map { ($0["name"] as String, $0["version"] as Int) })
            }
            let va = try versions(a), vb = try versions(b)
            return Diff(added: vb.keys.filter { va[$0] == nil }.sorted(),
                        changed: vb.keys.filter { va[$0] != nil && va[$0] != vb[$0] }.sorted(),
                        removed: va.keys.filter { vb[$0] == nil }.sorted(),
                        unchanged: vb.keys.filter { va[$0] == vb[$0] }.sorted())
        }
    }

    public func runs() throws -> [(id: Int64, pipeline: String, startedAt: String, status: String)] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT id, pipeline, started_at, status FROM runs ORDER BY id").map { ($0["id"], $0["pipeline"], $0["started_at"], $0["status"]) }
        }
    }

    /// nil when SQLite's quick_check finds the file sound, else what it found (first lines).
    public func quickCheck() throws -> String? {
        let lines = try db.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check(5)") }
        return lines == ["ok"] ? nil : lines.joined(separator: "; ")
    }

    /// Moves everything from the write-ahead log into the database file.
    public func checkpoint() throws {
        try db.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    /// A consistent copy of the catalog (VACUUM INTO), for publishing.
    public func snapshot(to url: URL) throws {
        try? FileManager.default.removeItem(at: url)
        try db.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [url.path]) }
    }

    /// Bulk insert for benchmarks: `count` synthetic skills in one run.
    public func insertSynthetic(_ skills: [SkillInput]) throws {
        let run = RunInput(pipeline: "bench", configHash: "", toolVersion: "", startedAt: Date(), finishedAt: Date(), status: "ok", stats: "{}", inputs: [])
        try record(run: run, datasets: [], skills: skills)
    }
}
