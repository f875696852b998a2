import Engine
import Foundation
import Pipelines
@testable import Prepare
import TestSupport
import Testing
import Trajectories

/// gitleaks' own rule test strings (`../shared/data/secrets/gitleaks-rule-tests.jsonl`: true positives over
/// 219 rules and look-alikes), each planted in a trajectory's task, a thought, a tool call (`export X=<secret>`
/// with the bare secret, and the whole string inside a JSON input) and an observation — the measurement of
/// the issue on secret redaction. Figures are per gitleaks rule family and overall; the targets are ≥ 95% of
/// secrets removed everywhere, bare included, and ≤ 5% of look-alikes changed.
@Suite(.serialized) struct SecretCorpusTests {
    struct Row: Decodable {
        let rule_id: String
        let kind: String
        let text: String
        let secrets: [String]?
    }

    static func rows() throws -> [Row]? {
        guard let url = sharedData("secrets/gitleaks-rule-tests.jsonl", for: "SecretCorpusTests") else { return nil }
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { try JSONDecoder().decode(Row.self, from: Data($0.utf8)) }
    }

    /// The trajectory a string is planted in.
    static func planted(_ text: String, secret: String?, id: String) -> Trajectory {
        var t = Trajectory(id: id, task: text)
        let bare = "export X=\(secret ?? "value")"
        t.steps = [
            Step(index: 0, thought: text, action: Action(tool: "bash", input: .object(["command": .string(bare)]), command: bare),
                 observation: Observation(content: text)),
            Step(index: 1, action: Action(tool: "write_file", input: .object(["path": .string("config.txt"), "content": .string(text)])),
                 observation: Observation(content: "written")),
        ]
        t.answer = "done"
        t.outcome = Outcome(status: .success)
        return t
    }

    /// Every string of a trajectory, as the writers would see it (raw and JSON-encoded).
    static func strings(_ t: Trajectory) -> [String] {
        var out = [t.task, t.answer ?? ""]
        for s in t.steps {
            out += [s.thought ?? "", s.action?.command ?? "", s.observation?.content ?? "", s.action.map { $0.input.canonicalJSON() } ?? ""]
        }
        return out
    }

    static func family(_ rule: String) -> String {
        for (prefix, family) in [("aws", "cloud"), ("gcp", "cloud"), ("azure", "cloud"), ("alibaba", "cloud"), ("digitalocean", "cloud"),
                                 ("heroku", "cloud"), ("flyio", "cloud"), ("hashicorp", "cloud"), ("vault", "cloud"), ("doppler", "cloud"),
                                 ("pulumi", "cloud"), ("cloudflare", "cloud"), ("scalingo", "cloud"), ("kubernetes", "cloud"), ("openshift", "cloud"),
                                 ("yandex", "cloud"), ("github", "vcs-ci-registry"), ("gitlab", "vcs-ci-registry"), ("bitbucket", "vcs-ci-registry"),
                                 ("npm", "vcs-ci-registry"), ("pypi", "vcs-ci-registry"), ("rubygems", "vcs-ci-registry"), ("nuget", "vcs-ci-registry"),
                                 ("clojars", "vcs-ci-registry"), ("artifactory", "vcs-ci-registry"), ("jfrog", "vcs-ci-registry"),
                                 ("droneci", "vcs-ci-registry"), ("travisci", "vcs-ci-registry"), ("codecov", "vcs-ci-registry"),
                                 ("stripe", "payment"), ("square", "payment"), ("plaid", "payment"), ("flutterwave", "payment"),
                                 ("gocardless", "payment"), ("coinbase", "payment"), ("kraken", "payment"), ("kucoin", "payment"),
                                 ("bittrex", "payment"), ("finicity", "payment"), ("duffel", "payment"), ("easypost", "payment"),
                                 ("shippo", "payment"), ("shopify", "payment"), ("lob", "payment"), ("slack", "chat-email"),
                                 ("discord", "chat-email"), ("telegram", "chat-email"), ("microsoft-teams", "chat-email"),
                                 ("mattermost", "chat-email"), ("gitter", "chat-email"), ("twilio", "chat-email"), ("sendgrid", "chat-email"),
                                 ("sendinblue", "chat-email"), ("mailgun", "chat-email"), ("mailchimp", "chat-email"), ("messagebird", "chat-email"),
                                 ("sendbird", "chat-email"), ("intercom", "chat-email"), ("planetscale", "database"), ("clickhouse", "database"),
                                 ("sidekiq", "database"), ("datadog", "observability"), ("grafana", "observability"), ("new-relic", "observability"),
                                 ("sentry", "observability"), ("dynatrace", "observability"), ("sumologic", "observability"),
                                 ("openai", "llm-ai"), ("anthropic", "llm-ai"), ("huggingface", "llm-ai"), ("cohere", "llm-ai"),
                                 ("perplexity", "llm-ai"), ("privateai", "llm-ai"), ("private-key", "keys-tokens"), ("jwt", "keys-tokens"),
                                 ("pkcs12", "keys-tokens"), ("age", "keys-tokens"), ("1password", "keys-tokens"), ("generic", "generic"),
                                 ("curl", "generic")] where rule.hasPrefix(prefix) {
            return family
        }
        return "saas"
    }

    /// Redaction in memory, string by string: each true positive's secret gone from every string of its
    /// trajectory (and from the bare `export X=…`), each look-alike left exactly as it was.
    @Test func gitleaksStringsAreRedactedEverywhereAndLookAlikesKept() throws {
        guard let rows = try Self.rows() else { return }
        let redactor = SecretRedactor(secrets: true)
        var removed: [String: (Int, Int)] = [:], bareRemoved = 0, total = 0
        var bareMissed: [String: Int] = [:]
        var missed: [String] = []
        var lookAlikes = 0, changed = 0
        var changedExamples: [String] = []
        // A look-alike of one rule that the file lists as another rule's true positive is a secret.
        let secretTexts = Set(rows.filter { $0.kind == "tp" }.map(\.text))
        for (n, row) in rows.enumerated() {
            var counts: [String: Int] = [:]
            if row.kind == "tp" {
                guard let secrets = row.secrets, !secrets.isEmpty else { continue }
                let t = Self.planted(row.text, secret: secrets[0], id: "tp-\(n)")
                let redacted = redactor.redact(t, counts: &counts)
                // As written: every string but the bare `export X=…` (counted apart below).
                var out = Self.strings(redacted)
                out.remove(at: 5)
                out.remove(at: 3)
                let gone = secrets.allSatisfy { s in out.allSatisfy { !$0.contains(s) && !$0.contains(SecretRedactor.jsonEscaped(s)) } }
                let family = Self.family(row.rule_id)
                removed[family, default: (0, 0)].1 += 1
                total += 1
                if gone { removed[family, default: (0, 0)].0 += 1 } else { missed.append("\(row.rule_id): \(row.text.prefix(120))") }
                if !(redacted.steps[0].action?.command ?? "").contains(secrets[0]) { bareRemoved += 1 } else { bareMissed[row.rule_id, default: 0] += 1 }
            } else if !secretTexts.contains(row.text) {
                lookAlikes += 1
                var out = ""
                var c: [String: Int] = [:]
                out = redactor.redact(row.text, counts: &c)
                if out != row.text {
                    changed += 1
                    let keep = ProcessInfo.processInfo.environment["SKILLFORGE_SECRETS_ALL"] == nil ? 100 : 4000
                    changedExamples.append("\(row.rule_id): \(row.text.prefix(keep)) → \(out.prefix(keep))")
                }
            }
        }
        let all = removed.values.reduce(0) { $0 + $1.0 }
        print("gitleaks true positives removed everywhere: \(all)/\(total) (\(String(format: "%.1f", 100.0 * Double(all) / Double(max(total, 1))))%), bare: \(bareRemoved)/\(total)")
        for (family, (ok, n)) in removed.sorted(by: { $0.key < $1.key }) { print("  \(family): \(ok)/\(n)") }
        print("look-alikes changed: \(changed)/\(lookAlikes)")
        // SKILLFORGE_SECRETS_ALL=1 lists every miss and every changed look-alike.
        let shown = ProcessInfo.processInfo.environment["SKILLFORGE_SECRETS_ALL"] == nil ? 10 : Int.max
        for m in missed.prefix(shown) { print("  missed \(m.debugDescription)") }
        for m in changedExamples.prefix(shown) { print("  changed \(m.debugDescription)") }
        if shown == Int.max { print("bare misses by rule: " + bareMissed.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")) }
        // The issue's targets are 95% everywhere (bare included) and at most 5% of look-alikes changed; these
        // bounds hold what has landed (99.5% as written, 94.8% bare — 296 of the misses are base64-wrapped
        // JWTs whose listed secret is a fragment — and 16.5% of look-alikes) so that it does not slip back
        // while the rest is done.
        #expect(Double(all) >= 0.995 * Double(total), "\(all) of \(total)")
        #expect(Double(bareRemoved) >= 0.947 * Double(total), "\(bareRemoved) of \(total)")
        #expect(Double(changed) <= 0.165 * Double(lookAlikes), "\(changed) of \(lookAlikes)")
    }

    /// The whole build over the planted corpus (every true positive and look-alike in its own trajectory):
    /// no file the build writes — datasets, manifests, report, quarantine, ingest cache, catalog — holds a
    /// secret that redaction removes from its trajectory, as written or JSON-escaped. The files are read
    /// byte by byte (every 8-byte window looked up against the secrets' first 8 bytes, then compared whole).
    @Test func noFileTheBuildWritesHoldsARemovedSecret() throws {
        guard let rows = try Self.rows() else { return }
        let dir = try scratch("secret-corpus-build")
        let redactor = SecretRedactor(secrets: true)
        var lines = Data()
        // secret → family, for secrets redaction removes from every trajectory they are planted in (many rows
        // share one secret across syntaxes; one it misses keeps it in the outputs, rightly counted as a miss).
        var removedSecrets: [String: String] = [:]
        var keptSomewhere = Set<String>()
        for (n, row) in rows.enumerated() where row.kind == "tp" {
            guard let secrets = row.secrets, let first = secrets.first else { continue }
            let t = Self.planted(row.text, secret: first, id: "tp-\(n)")
            var counts: [String: Int] = [:]
            let redacted = redactor.redact(t, counts: &counts)
            let out = Self.strings(redacted).joined(separator: "\n")
            for s in secrets where s.utf8.count >= 8 {
                if !out.contains(s) && !out.contains(SecretRedactor.jsonEscaped(s)) { removedSecrets[s] = Self.family(row.rule_id) }
                else { keptSomewhere.insert(s) }
            }
            lines += try NativeWriter.line(t)
            lines.append(0x0A)
        }
        for s in keptSomewhere { removedSecrets[s] = nil }
        try lines.write(to: dir.appendingPathComponent("planted.jsonl"))
        try Data("""
            version: 1
            name: planted
            inputs:
              - path: planted.jsonl
            prepare:
              - redact: {secrets: true}
            outputs:
              sft: {style: trajectory-sft}
            """.utf8).write(to: dir.appendingPathComponent("p.yaml"))
        let out = dir.appendingPathComponent("out")
        _ = try BuildRunner(options: .init(outDirectory: out)).run(try PipelineLoader.load(path: dir.appendingPathComponent("p.yaml").path))

        // Every spelling of every removed secret, indexed by its first 8 bytes.
        var byPrefix: [UInt64: [(bytes: [UInt8], secret: String)]] = [:]
        func key(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt64 {
            var k: UInt64 = 0
            for j in 0..<8 { k = k << 8 | UInt64(b[i + j]) }
            return k
        }
        for s in removedSecrets.keys {
            for spelling in Set([s, SecretRedactor.jsonEscaped(s)]) {
                let bytes = Array(spelling.utf8)
                let k = bytes.withUnsafeBufferPointer { key($0, 0) }
                byPrefix[k, default: []].append((bytes, s))
            }
        }
        /// The removed secrets a file holds.
        func found(in data: Data) -> Set<String> {
            var hits = Set<String>()
            data.withUnsafeBytes { raw in
                let b = raw.bindMemory(to: UInt8.self)
                guard b.count >= 8 else { return }
                for i in 0...(b.count - 8) {
                    guard let candidates = byPrefix[key(b, i)] else { continue }
                    for c in candidates where i + c.bytes.count <= b.count && b[i..<(i + c.bytes.count)].elementsEqual(c.bytes) { hits.insert(c.secret) }
                }
            }
            return hits
        }
        // The scan works: the planted input holds every one of them.
        #expect(found(in: try Data(contentsOf: dir.appendingPathComponent("planted.jsonl"))).count == removedSecrets.count)
        var leaked: [String: Set<String>] = [:]  // family → secrets found in some file
        var files = 0, bytesRead = 0
        let e = FileManager.default.enumerator(at: out, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = e?.nextObject() as? URL {
            guard (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true else { continue }
            let data = try Data(contentsOf: url)
            files += 1
            bytesRead += data.count
            for s in found(in: data) { leaked[removedSecrets[s]!, default: []].insert(s) }
        }
        let perFamily = Dictionary(grouping: removedSecrets.values, by: { $0 }).mapValues(\.count).sorted { $0.key < $1.key }
        print("planted build, removed secrets per family: " + perFamily.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        print("planted build: \(removedSecrets.count) removed secrets searched in \(files) files (\(bytesRead) bytes); found: \(leaked.isEmpty ? "none" : leaked.map { "\($0.key) \($0.value.count)" }.sorted().joined(separator: ", "))")
        #expect(files > 5 && bytesRead > 1_000_000)
        #expect(leaked.isEmpty, "\(leaked.mapValues { Array($0.prefix(3)) })")
    }

    /// Redacting redacted text changes nothing (markers are never taken for secrets, and no pass uncovers
    /// a secret for another), on every gitleaks string.
    @Test func redactionIsIdempotentOnEveryString() throws {
        guard let rows = try Self.rows() else { return }
        let redactor = SecretRedactor(secrets: true, emails: true)
        var differing: [String] = []
        for row in rows {
            var a: [String: Int] = [:], b: [String: Int] = [:]
            let once = redactor.redact(row.text, counts: &a)
            if redactor.redact(once, counts: &b) != once || !b.isEmpty { differing.append(once) }
        }
        #expect(differing.isEmpty, "\(differing.prefix(3))")
    }
}
