import Archives
import Foundation
import GRDB
import Testing
import Trajectories
import Yams
@testable import Engine
import Pipelines

/// End-to-end secret leak test: plants secrets of every kind the redactor knows into every string of one
/// real file per supported input format, runs the whole pipeline (every output style, skill bundles,
/// archives, catalog, report), then scans every byte under out/ — archives unpacked, catalog rows read —
/// for any 12-character piece of any planted secret.
///
/// A control run without the redact step must show the planted secrets in the outputs, so the scan is
/// known to see what it is looking for.
@Suite(.serialized) struct SecretLeakTests {
    /// One real file per format in ../shared/data (smallest that detects as that format), with the format
    /// detection must report. Native comes from the embedded sample corpus, gemini-api from Fixtures/leak.
    static let carriers: [(path: String, format: String)] = [
        ("trajectories/anthropic-messages/f59a9391-643b-422c-96dc-1f28bc7ea4d7.json", "anthropic-messages"),
        ("trajectories/openai-chat/pydantic-ai_test_compatible_api_with_tool_calls_without_id.yaml", "openai-chat"),
        ("trajectories/atif/hello-world-context-summarization-linear-history.trajectory.json", "atif"),
        ("trajectories/claude-code/daaain_representative_messages.jsonl", "claude-code"),
        ("trajectories/gemini-cli/harbor-rfc-gemini-cli-trajectory.json", "gemini-cli"),
        ("trajectories/mini-swe-agent/local.traj.json", "mini-swe-agent"),
        ("trajectories/openhands/basic_interactions.json", "openhands"),
        ("trajectories/openhands/multi_swe_bench_output.jsonl", "openhands-output"),
        ("trajectories/sharegpt-llamafactory/glaive_toolcall_en_demo.json", "sharegpt"),
        ("spark/mhc-layer-impl/trajectory.jsonl", "spark"),
        ("trajectories/swe-agent/function_calling_simple.traj", "swe-agent"),
    ]

    @Test func noPlantedSecretSurvivesAnyOutput() throws {
        let shared = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
        guard FileManager.default.fileExists(atPath: shared.path) else {
            if isCI { Issue.record("CI=true but \(shared.path) is missing") }
            else { print("NOTICE: skipping the secret leak test: \(shared.path) is not present") }
            return
        }
        let work = try scratch("leak")
        let inputs = work.appendingPathComponent("inputs")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        var planter = Planter()
        var sources: [(URL, String)] = Self.carriers.map { (shared.appendingPathComponent($0.path), $0.format) }
        sources.append((repoRoot.appendingPathComponent("pipelines/samples/part-01.jsonl"), "native"))
        sources.append((Bundle.module.url(forResource: "Fixtures/leak/gemini-api", withExtension: "json")!, "gemini-api"))
        for (k, (src, format)) in sources.enumerated() {
            let name = String(format: "%02d-%@", k, format) + "." + (src.pathExtension == "traj" ? "json" : src.pathExtension)
            let dest = inputs.appendingPathComponent(name)
            let original = try Data(contentsOf: src)
            let yaml = src.pathExtension == "yaml"
            try planter.plant(original, format: format, yaml: yaml).write(to: dest)
            // The planted file must still be read as the same format with the same number of records as
            // the same file shortened but not planted; otherwise planting broke the file and proves nothing.
            let plain = work.appendingPathComponent("plain-" + name)
            try planter.plant(original, format: format, yaml: yaml, secrets: false).write(to: plain)
            let before = try Importers.importFile(path: plain.path, display: src.lastPathComponent)
            let after = try Importers.importFile(path: dest.path, display: name)
            #expect(after.trajectories.count == before.trajectories.count && !after.trajectories.isEmpty, "\(format): planting changed what is imported")
            #expect(Set(after.trajectories.compactMap { $0.source?.format }) == Set(before.trajectories.compactMap { $0.source?.format }), "\(format)")
        }
        // Every kind the redactor knows is planted, in every format.
        let kinds = Set(planter.placements.map(\.kind))
        #expect(kinds.count >= 20)
        #expect(kinds == Set(SecretFactory.kinds.map(\.name)))
        let formats = Set(planter.placements.map(\.format))
        #expect(formats.count == sources.count)

        func pipeline(redact: Bool) -> String {
            """
            version: 1
            name: leak
            seed: 7
            max_bad_fraction: 1.0
            inputs:
              - path: inputs/*
                format: auto
                max_observation_bytes: 1000000
            prepare:
              - redact: {secrets: \(redact), emails: \(redact)}
            outputs:
              sft:
                style: trajectory-sft
                format: messages
                test_split: 0.2
                prepare:
                  - filter: {outcome: [success, failure, partial, unknown]}
              sharegpt:
                style: trajectory-sft
                format: sharegpt
                prepare:
                  - filter: {outcome: [success, failure, partial, unknown]}
              instruct:
                style: conifer
                levels: 3
                feedback: [internal, external]
                easy_to_hard: true
              safety:
                style: cs-chain
                rules: \(repoRoot.path)/pipelines/safety/consequences.yaml
                counterfactuals: 1
              cada:
                style: cada
                rules: \(repoRoot.path)/pipelines/safety/consequences.yaml
                codes: \(repoRoot.path)/pipelines/safety/codes.yaml
                cases: 2
                preference_pairs: true
              skills:
                style: skills
                min_support: 2
                curated: \(repoRoot.path)/skills
                prepare:
                  - filter: {outcome: [success, failure, partial]}
            """
        }
        var leakedInControl = Set<Int>()
        for redact in [false, true] {
            let file = work.appendingPathComponent(redact ? "leak.yaml" : "control.yaml")
            try pipeline(redact: redact).write(to: file, atomically: true, encoding: .utf8)
            let out = work.appendingPathComponent(redact ? "out" : "out-control")
            let spec = try PipelineLoader.load(path: file.path)
            let result = try BuildRunner(options: .init(outDirectory: out)).run(spec)
            #expect(result.datasets.allSatisfy { $0.records > 0 }, "every output has records")
            let scanned = try OutputScanner.scan(out)
            #expect(scanned.archives > 0 && scanned.catalogRows > 0 && scanned.files > 20)
            let found = planter.findLeaks(in: scanned)
            if redact {
                let leaked = found.map { planter.placements[$0] }
                #expect(leaked.isEmpty, "\(leaked.count) planted secrets leaked, e.g. \(leaked.prefix(5).map { "\($0.kind) in \($0.format).\($0.field)" })")
                print("secret leak test: \(kinds.count) kinds, \(planter.placements.count) placements in \(formats.count) formats " +
                      "(\(Set(planter.placements.map(\.field)).count) distinct fields); \(leakedInControl.count) reach the outputs " +
                      "without redaction; \(leaked.count) leaked with redaction; scanned \(scanned.files) files, " +
                      "\(scanned.archives) archives unpacked, \(scanned.catalogRows) catalog rows, \(scanned.bytes) bytes")
            } else {
                leakedInControl = found
                // The control run proves the scan sees secrets of every kind in the outputs.
                let seenKinds = Set(found.map { planter.placements[$0].kind })
                #expect(seenKinds == kinds, "control run: kinds never seen in outputs: \(kinds.subtracting(seenKinds).sorted())")
                #expect(Set(found.map { planter.placements[$0].format }) == formats)
            }
        }
    }
}

/// Makes secrets of every kind, each with a random part (its fingerprint) that is unique to the placement.
enum SecretFactory {
    struct Kind: Sendable {
        let name: String
        let make: @Sendable (inout Rng) -> (text: String, fingerprint: String)
    }

    static let kinds: [Kind] = [
        Kind(name: "private-key") { r in
            let body = r.chars(64, base64)
            return ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\(body)\n\(r.chars(64, base64))\n-----END RSA PRIVATE KEY-----", body)
        },
        Kind(name: "aws-access-key") { r in let v = "AKIA" + r.chars(16, upperDigits); return (v, v) },
        Kind(name: "aws-secret-key") { r in let v = r.chars(40, alnum); return ("aws_secret_access_key = \(v)", v) },
        Kind(name: "gcp-api-key") { r in let v = r.chars(35, alnum); return ("AIza\(v)", v) },
        Kind(name: "gcp-service-account-key") { r in let v = r.chars(40, hex); return (#"{"type": "service_account", "private_key_id": "\#(v)"}"#, v) },
        Kind(name: "anthropic-key") { r in let v = r.chars(48, alnum); return ("sk-ant-api03-\(v)", v) },
        Kind(name: "openai-key") { r in let v = r.chars(48, alnum); return ("OPENAI key sk-proj-\(v)", v) },
        Kind(name: "github-token") { r in let v = r.chars(36, alnum); return ("ghp_\(v)", v) },
        Kind(name: "stripe-key") { r in let v = r.chars(24, alnum); return ("sk_live_\(v)", v) },
        // Hugging Face user access tokens: `hf_` and 34 letters of both cases.
        Kind(name: "huggingface-token") { r in let v = r.chars(32, letters) + "aZ"; return ("hf_\(v)", v) },
        Kind(name: "gitlab-token") { r in let v = r.chars(20, alnum); return ("glpat-\(v)", v) },
        Kind(name: "npm-token") { r in let v = r.chars(36, alnum); return ("//registry.npmjs.org/:_authToken=npm_\(v)", v) },
        Kind(name: "pypi-token") { r in let v = r.chars(60, alnum); return ("pypi-AgEIcHlwaS5vcmc\(v)", v) },
        Kind(name: "sendgrid-key") { r in let a = r.chars(22, alnum), b = r.chars(43, alnum); return ("SG.\(a).\(b)", b) },
        Kind(name: "azure-storage-key") { r in
            let v = r.chars(86, alnum)
            return ("DefaultEndpointsProtocol=https;AccountName=nightly;AccountKey=\(v)==;EndpointSuffix=core.windows.net", v)
        },
        Kind(name: "google-oauth-secret") { r in let v = r.chars(28, alnum); return ("client_secret GOCSPX-\(v)", v) },
        Kind(name: "databricks-token") { r in let v = r.chars(32, hex); return ("dapi\(v)", v) },
        Kind(name: "digitalocean-token") { r in let v = r.chars(64, hex); return ("dop_v1_\(v)", v) },
        Kind(name: "docker-hub-token") { r in let v = r.chars(27, alnum); return ("docker login -u ci -p dckr_pat_\(v)", v) },
        Kind(name: "shopify-token") { r in let v = r.chars(32, hex); return ("shpat_\(v)", v) },
        Kind(name: "twilio-key") { r in let v = r.chars(32, hex); return ("SK\(v)", v) },
        Kind(name: "slack-token") { r in let v = r.chars(24, alnum); return ("xoxb-123456789012-\(v)", v) },
        Kind(name: "slack-webhook") { r in let v = r.chars(24, alnum); return ("https://hooks.slack.com/services/T0ABCDEF/B0ABCDEF/\(v)", v) },
        Kind(name: "jwt") { r in let v = r.chars(43, alnum); return ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.\(v)", v) },
        Kind(name: "bearer-token") { r in let v = r.chars(40, alnum); return ("curl -H 'Authorization: Bearer \(v)' https://api.internal", v) },
        Kind(name: "basic-auth") { r in let v = r.chars(32, alnum); return ("Authorization: Basic \(v)==", v) },
        Kind(name: "url-password") { r in let v = r.chars(20, alnum); return ("postgres://admin:\(v)@db.internal:5432/app", v) },
        Kind(name: "password") { r in
            let v = r.chars(18, alnum)
            switch r.next() % 4 {
            case 0: return ("export DB_PASSWORD=\(v)", v)
            case 1: return (#"{"api_key": "\#(v)"}"#, v)
            case 2: return ("mysql --password \(v) -h db", v)
            default: return ("smtp_password: \(v)9", v)
            }
        },
        Kind(name: "email") { r in let v = r.chars(14, lowerDigits); return ("contact \(v)@corp-mail.example.org", v) },
    ]

    static let upperDigits = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    static let lowerDigits = Array("abcdefghijklmnopqrstuvwxyz0123456789")
    static let alnum = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    static let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    static let base64 = alnum
    static let hex = Array("0123456789abcdef")
}

/// splitmix64, seeded per placement.
struct Rng {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func chars(_ n: Int, _ alphabet: [Character]) -> String {
        String((0..<n).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] })
    }
}

/// Plants a secret into every free-text string of a file (strings with whitespace or at least 20
/// characters, recursing into JSON held in strings), as a path component in path-like strings.
/// Equal strings get equal secrets, so ids that link records stay linked.
struct Planter {
    struct Placement { let kind: String; let format: String; let field: String; let fingerprint: String }
    private(set) var placements: [Placement] = []
    private var memo: [String: String] = [:]
    private var format = ""
    private var enabled = true

    /// The file with secrets planted (`secrets: false`: only shortened, nothing planted or recorded).
    mutating func plant(_ data: Data, format: String, yaml: Bool, secrets: Bool = true) throws -> Data {
        self.format = format
        memo = [:]
        enabled = secrets
        if yaml {
            let text = String(decoding: data, as: UTF8.self)
            guard let node = try Yams.compose(yaml: text) else { return data }
            return Data(try Yams.serialize(node: plantNode(node, field: "")).utf8)
        }
        let text = String(decoding: data, as: UTF8.self)
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let doc = try? JSONDecoder().decode(JSONValue.self, from: Data(trimmed.utf8)) {
            return try JSONCoding.encoder.encode(plantValue(shrink(doc), field: ""))
        }
        // JSON Lines: at most 12 lines (keeps the big carriers small), 80 of the native sample (task families).
        var out = Data()
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).prefix(format == "native" ? 80 : 12) {
            let v = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
            out += try JSONCoding.encoder.encode(plantValue(v, field: "")) + Data("\n".utf8)
        }
        return out
    }

    /// Big document arrays keep their first 12 elements.
    private func shrink(_ v: JSONValue) -> JSONValue {
        if case .array(let a) = v, a.count > 12 { return .array(Array(a.prefix(12))) }
        return v
    }

    private mutating func plantValue(_ v: JSONValue, field: String) -> JSONValue {
        switch v {
        case .string(let s): return .string(plantString(s, field: field))
        case .array(let a): return .array(a.map { plantValue($0, field: field) })
        case .object(let o):
            var m: [String: JSONValue] = [:]
            for key in o.keys.sorted() { m[key] = plantValue(o[key]!, field: key) }
            return .object(m)
        default: return v
        }
    }

    private mutating func plantNode(_ n: Node, field: String) -> Node {
        switch n {
        case .scalar(let s):
            guard Int(s.string) == nil, Double(s.string) == nil else { return n }
            return .scalar(Node.Scalar(plantString(s.string, field: field), Tag(.str)))
        case .sequence(let q): return .sequence(Node.Sequence(q.map { plantNode($0, field: field) }))
        case .mapping(let m):
            return .mapping(Node.Mapping(m.map { ($0.key, plantNode($0.value, field: $0.key.string ?? field)) }))
        case .alias: return n
        }
    }

    private mutating func plantString(_ s: String, field: String) -> String {
        if !enabled { return s }
        if let done = memo[s] { return done }
        let trimmed = s.trimmingCharacters(in: .whitespaces)
        // JSON held in a string (tool arguments, recorded bodies): plant inside, keep it JSON.
        if trimmed.hasPrefix("{") || trimmed.hasPrefix("["), let v = try? JSONDecoder().decode(JSONValue.self, from: Data(s.utf8)),
           v.objectValue != nil || v.arrayValue != nil {
            let planted = String(decoding: (try? JSONCoding.encoder.encode(plantValue(v, field: field))) ?? Data(s.utf8), as: UTF8.self)
            memo[s] = planted
            return planted
        }
        // Format markers are not text: the native schema tag.
        if field == "schema" { return s }
        let isPath = s.hasPrefix("/") && !s.contains(" ") && s.count > 1
        guard isPath || s.count >= 20 || s.contains(where: \.isWhitespace) else { return s }
        var h: UInt64 = 1469598103934665603
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        var rng = Rng(state: h ^ UInt64(placements.count))
        let kind = SecretFactory.kinds[placements.count % SecretFactory.kinds.count]
        let (text, fp) = kind.make(&rng)
        placements.append(Placement(kind: kind.name, format: format, field: field.isEmpty ? "(top)" : field, fingerprint: fp))
        let planted: String
        if isPath, !text.contains(" ") && !text.contains("\n") && !text.contains("/") {
            // A secret as a directory name: /repo/<secret>/file.py
            var parts = s.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            parts.insert(text, at: max(1, parts.count - 1))
            planted = parts.joined(separator: "/")
        } else if let newline = s.firstIndex(of: "\n") {
            // End of the first line: formats that parse structure out of text (mini-swe-agent's
            // "Please solve this issue: …") keep what they extract, secret included.
            planted = s[..<newline] + " " + text + s[newline...]
        } else {
            planted = s + " " + text
        }
        memo[s] = planted
        return planted
    }

    /// Indices of placements any 12-character piece of whose fingerprint (at offsets 0, 4, 8, …) occurs
    /// in the scanned bytes.
    func findLeaks(in scanned: OutputScanner.Result) -> Set<Int> {
        var grams: [Data: [Int]] = [:]
        for (i, p) in placements.enumerated() {
            let b = Array(p.fingerprint.utf8)
            var o = 0
            while o + 12 <= b.count { grams[Data(b[o..<o + 12]), default: []].append(i); o += 4 }
        }
        // Index grams by their first 8 bytes for a fast sliding check.
        var heads = Set<UInt64>()
        for g in grams.keys { heads.insert(g.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }) }
        var found = Set<Int>()
        for blob in scanned.blobs {
            blob.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                guard raw.count >= 12 else { return }
                for j in 0...(raw.count - 12) where heads.contains(raw.loadUnaligned(fromByteOffset: j, as: UInt64.self)) {
                    if let hit = grams[Data(raw[j..<j + 12])] { found.formUnion(hit) }
                }
            }
        }
        return found
    }
}

/// Every byte under an output directory: files as they are, archives unpacked, SQLite rows read back.
enum OutputScanner {
    struct Result {
        var blobs: [Data] = []
        var files = 0, archives = 0, catalogRows = 0, bytes = 0
    }

    static func scan(_ out: URL) throws -> Result {
        var r = Result()
        let e = FileManager.default.enumerator(at: out, includingPropertiesForKeys: [.isRegularFileKey])!
        for case let url as URL in e where (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true {
            let data = try Data(contentsOf: url)
            r.blobs.append(data)
            r.files += 1
            r.bytes += data.count
            let name = url.lastPathComponent
            if [".skill", ".tar.zst", ".tar.gz"].contains(where: { name.hasSuffix($0) }) {
                for entry in try ArchiveReader.entries(of: url) { r.blobs.append(entry.data); r.bytes += entry.data.count }
                r.archives += 1
            }
            if name.hasSuffix(".sqlite") {
                let db = try DatabaseQueue(path: url.path, configuration: { var c = Configuration(); c.readonly = true; return c }())
                try db.read { db in
                    let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
                    for t in tables {
                        for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(t)\"") {
                            r.catalogRows += 1
                            for value in row.databaseValues {
                                switch value.storage {
                                case .string(let s): r.blobs.append(Data(s.utf8))
                                case .blob(let b): r.blobs.append(b)
                                default: break
                                }
                            }
                        }
                    }
                }
            }
        }
        return r
    }
}
