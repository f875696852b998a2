import Foundation
import Testing
@testable import Prepare
import Trajectories

@Suite struct RedactionTests {
    let redactor = SecretRedactor()

    func redact(_ s: String, emails: Bool = false) -> (String, [String: Int]) {
        var counts: [String: Int] = [:]
        let r = (emails ? SecretRedactor(secrets: true, emails: true) : redactor).redact(s, counts: &counts)
        return (r, counts)
    }

    // Every secret kind, in a realistic context; the value must disappear and the marker name the kind.
    @Test(arguments: [
        ("aws-access-key", "export AWS_ACCESS_KEY_ID=AKIAZ7Q3M5XVB2N4P6RT", "AKIAZ7Q3M5XVB2N4P6RT"),
        ("aws-secret-key", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ("gcp-api-key", "key=AIzaSyA1234567890abcdefghijklmnopqrstuv&q=x", "AIzaSyA1234567890abcdefghijklmnopqrstuv"),
        ("gcp-service-account-key", #"{"type": "service_account", "private_key_id": "0123456789abcdef0123456789abcdef01234567"}"#, "0123456789abcdef0123456789abcdef01234567"),
        ("openai-key", "OPENAI=sk-proj-abcdefghijklmnopqrstuvwxyz012345", "sk-proj-abcdefghijklmnopqrstuvwxyz012345"),
        ("openai-key", "client = OpenAI(api_key='sk-abcdefghijklmnopqrstuvwxyzABCDEF')", "sk-abcdefghijklmnopqrstuvwxyzABCDEF"),
        ("anthropic-key", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz-0123456789", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz-0123456789"),
        ("github-token", "git clone https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/o/r", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
        ("github-token", "GH=github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"),
        ("slack-token", "token: xoxb-123456789012-abcdefABCDEF", "xoxb-123456789012-abcdefABCDEF"),
        ("slack-webhook", "curl -X POST https://hooks.slack.com/services/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", "hooks.slack.com/services/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"),
        ("private-key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabc+/=\n-----END RSA PRIVATE KEY-----\nafter", "MIIEowIBAAKCAQEA7"),
        ("private-key", "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkq\\nhkiG9w0", "MIIEvQIBADANBgkq"),
        ("jwt", "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "eyJhbGciOiJIUzI1NiJ9"),
        ("bearer-token", "Authorization: Bearer 0123456789abcdefABCDEF.xyz", "0123456789abcdefABCDEF.xyz"),
        ("url-password", "DATABASE_URL=postgres://admin:Sup3rS3cret@db:5432/app", "Sup3rS3cret"),
        ("password", "DB_PASSWORD=hunter2", "hunter2"),
        ("password", #"{"password": "correcthorsebattery"}"#, "correcthorsebattery"),
        ("password", "password: Tr0ub4dor&3", "Tr0ub4dor&3"),
        ("password", "mysql --password=s3cr3tpw -u root", "s3cr3tpw"),
        ("password", "API_KEY=abc123def456", "abc123def456"),
        ("password", "DEEPSEEK_API_KEY=ds-9f8e7d6c5b4a39281706\nLC_CTYPE=C", "ds-9f8e7d6c5b4a39281706"),
        ("password", "agentops.init(api_key=\"7c4b2e9a-1d3f-4a5b-8c6d-0e1f2a3b4c5d\")", "7c4b2e9a-1d3f-4a5b-8c6d-0e1f2a3b4c5d"),
    ])
    func secretKindIsRedacted(kind: String, text: String, secret: String) {
        let (out, counts) = redact(text)
        #expect(!out.contains(secret), "\(kind) survived: \(out)")
        #expect(out.contains("[REDACTED:\(kind)]"), "expected a \(kind) marker in: \(out)")
        #expect(counts[kind, default: 0] >= 1)
    }

    @Test(arguments: [
        "Please implement the password reset flow for the login page.",
        "PWD=/home/agent/project",
        "max_tokens=1024 and temperature=0.2",
        "The token budget is exhausted.",
        "pip install scikit-learn; import sklearn as sk-learn-alias",
        "She was the bearer of bad news.",
        "Contact support@example.com if the build fails.",
        "password: required",
        "git log --oneline | head -5",
        "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
        "https://github.com/acme/app/pull/42",
        "the secret: keep functions small",
        "sha256: 3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b",
        "c = Client(api_key=api_key, endpoint=endpoint)",
        "def init(api_key: Optional[str] = None, tags=None):",
        "self.config = Configuration(api_key=self.api_key)",
        "export DB_PASSWORD=$DB_PASS_FROM_VAULT",
        "token = os.environ['GITHUB_TOKEN']",
        "CI_DEPLOY_PASSWORD=[secure]",
        "password=None",
        // Names, not credentials: what a manifest's secretKey or an XML key attribute holds.
        "    - secretKey: api-key\n      remoteRef:\n        key: my-secrets-manager-secret",
        "<entry key=\"jetbrains.mps.v8_elimination\" value=\"executed\" />",
        // Documentation's placeholder tokens: AWS's EXAMPLE keys, "…Here".
        "aws_access_key: AKIAIOSFODNN7EXAMPLE",
        "SLACK=xoxe.xoxp-1-SlackAppConfigurationAccessTokenHere",
        #"secret_key => "sk_abcdefghijklmnopqrstuvwxyz123""#,
        // Not Sourcegraph's shapes (hex, 40 or 16_40): a G in it, an 18-character first part.
        "sgp_local_d45b6G86aBb0F2Cee943902dbaDBCFCFDD1dA089",
        "sgp_78Ad84a5B6e8A2fE5B_4085FB0ccaDDd29DB66Fd7FE9bA2C1cdCE8400CD",
    ])
    func ordinaryTextIsLeftAlone(text: String) {
        let (out, counts) = redact(text)
        #expect(out == text)
        #expect(counts.isEmpty)
    }

    /// Structures that give a secret away without a secret-like name beside the value.
    @Test func configElementsAndBundlerCredentials() {
        #expect(redact(#"<add key="ClearTextPassword" value="Tr0ub4dor-3xyz" />"#).0 == #"<add key="ClearTextPassword" value="[REDACTED:password]" />"#)
        #expect(redact(#"<add key="ApiKey" value="k8Hq2LmPz0Xv" />"#).0.contains("[REDACTED:password]"))
        #expect(redact(#"<add key="Timeout" value="30" />"#).0 == #"<add key="Timeout" value="30" />"#)
        #expect(redact(#"<add key="ClearTextPassword" value="$NUGET_PASSWORD" />"#).0.contains("$NUGET_PASSWORD"))
        #expect(redact(#"<add key="ClearTextPassword" value="%NUGET_PASSWORD%" />"#).0.contains("%NUGET_PASSWORD%"))
        #expect(redact("export BUNDLE_GEMS__CONTRIBSYS__COM=c0ffee12:9f3ab7d1 && bundle install").0
                == "export BUNDLE_GEMS__CONTRIBSYS__COM=[REDACTED:password] && bundle install")
        #expect(redact(#"BUNDLE_ENTERPRISE__CONTRIBSYS__COM: "c0ffee12:9f3ab7d1""#).0 == #"BUNDLE_ENTERPRISE__CONTRIBSYS__COM: "[REDACTED:password]""#)
        #expect(redact("BUNDLE_JOBS=4 BUNDLE_PATH=vendor/bundle").0 == "BUNDLE_JOBS=4 BUNDLE_PATH=vendor/bundle")
        // A credential scheme makes the value a credential, whatever its shape (40 hex digits here).
        let header = #"curl -H "Authorization: Token 22cb987851bc5659229114c62e60c79abd0d2c08" --request PUT https://x.example/api"#
        #expect(!redact(header).0.contains("22cb987851bc5659229114c62e60c79abd0d2c08"), "\(redact(header).0)")
        // A number, a separator and a secret: Facebook app access tokens, Telegram bot tokens.
        #expect(redact("facebook 1308742762612587|rhoK1cbv0DOU_RTX_87O4MkX7AI in use").0 == "facebook [REDACTED:facebook-token] in use")
        #expect(redact("bot 22549356:Axzpd4p_ptyu_rc51haepnvkdmsf7uzrm_0 started").0 == "bot [REDACTED:telegram-bot-token] started")
        for text in ["| 123456789012345 | AY-lRJZq9BoDLobvAiP25L7RcMg |",  // a table cell, not one token
                     "at 12:34:56 Aug", "release 2024010112:Abstract_reasoning_module_v2_final"] {
            #expect(redact(text).0 == text)
        }
        let intra = "s-s4t2ud-" + String(repeating: "3f9a0c", count: 10) + "d1e2"
        #expect(redact("FT_SECRET=" + intra).0 == "FT_SECRET=[REDACTED:intra42-secret]" || !redact("x " + intra).0.contains(intra))
        #expect(!redact("client secret " + intra).0.contains(intra))
    }

    /// A quoted value that is itself the start of another assignment is not the secret; the value after
    /// it is.
    @Test func anAssignmentInsideQuotesIsNotItsOwnValue() {
        let (out, _) = redact(#"telegram_api_token = "telegram_api_token = "80924184:Ahellokq3uq9ef71fk2k_auw4b1tl1i8ru323596"""#)
        #expect(out == #"telegram_api_token = "telegram_api_token = "[REDACTED:password]"""#, "\(out)")
        #expect(redact("TOKEN=sgp_0123456789abcdef_0123456789abcdef0123456789abcdef01234567").0.contains("[REDACTED:sourcegraph-token]"))
    }

    /// The byte checks after each trigger only skip regular expressions that cannot match: redacting
    /// with them gives exactly what redacting without them gives, on every string of the sample corpus
    /// and the shared data, on the cases above and on secrets behind Unicode spaces. Both equal running
    /// every rule's regular expression over every whole string.
    @Test func followChecksOnlySkipWhatCannotMatch() throws {
        var texts: [String] = [
            "Authorization: Bearer\u{A0}0123456789abcdefABCDEF.xyz", "API_TOKEN\u{2003}=\u{2003}abc123def456",
            "Basic\u{3000}dXNlcjpwYXNzd29yZA==", "postgres://us\u{e9}r:p\u{e4}ss@db/x", "mail j\u{f6}rg@exa\u{f1}ple.com now",
            "SK0123456789abcdef0123456789abcdef", "ACTION: TASK SKIP", "see https://example.com/a:b@c", "eyJ.eyJ", "x@y.z",
        ]
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var files = ["pipelines/samples/part-01.jsonl", "pipelines/samples/part-02.jsonl"].map { root.appendingPathComponent($0).path }
        let shared = root.deletingLastPathComponent().appendingPathComponent("shared/data")
        if let e = FileManager.default.enumerator(atPath: shared.path) {
            while let rel = e.nextObject() as? String {
                guard rel.hasPrefix("trajectories/") || rel.hasPrefix("spark/"), rel.hasSuffix(".json") || rel.hasSuffix(".jsonl") else { continue }
                files.append(shared.appendingPathComponent(rel).path)
            }
        } else if ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record("CI=true but \(shared.path) is missing")
        }
        for f in files {
            // The strings the redactor meets.
            if let r = try? Importers.importFile(path: f, display: f) {
                for t in r.trajectories {
                    texts.append(t.task)
                    for s in t.steps {
                        texts += [s.thought, s.action?.command, s.observation?.content, s.action.map { $0.input.canonicalJSON() }].compactMap { $0 }
                    }
                }
            }
        }
        #expect(texts.count > 1000, "\(texts.count)")
        for emails in [false, true] {
            let checked = SecretRedactor(secrets: true, emails: emails)
            var unchecked = checked
            unchecked.triggers.checksFollow = false
            var exhaustive = checked
            exhaustive.exhaustive = true
            var differing: [String] = []
            var found = 0
            var skipped = 0
            for t in texts {
                var a: [String: Int] = [:]
                var b: [String: Int] = [:]
                var c: [String: Int] = [:]
                let out = checked.redact(t, counts: &a)
                if out != unchecked.redact(t, counts: &b) || a != b { differing.append(String(t.prefix(80))) }
                if out != exhaustive.redact(t, counts: &c) || a != c { differing.append("exhaustive: " + String(t.prefix(80))) }
                found += a.values.reduce(0, +)
                var u = t
                if u.withUTF8({ checked.triggers.scan($0) }) != u.withUTF8({ unchecked.triggers.scan($0) }) { skipped += 1 }
            }
            #expect(differing.isEmpty, "\(differing.prefix(3))")
            // Not vacuous: secrets were found, and the checks did spare regular expressions.
            #expect(found >= 40 && skipped >= 100, "\(found) secrets, \(skipped) strings spared")
        }
    }

    /// The trigger scan (byte classes, four interleaved quarters for long strings) finds exactly what a
    /// naive search for every trigger finds, wherever the triggers fall — across the seams included.
    @Test func triggerScanEqualsNaiveSearch() {
        let redactor = SecretRedactor(secrets: true, emails: true)
        // The rules' triggers and the gates after them (words the byte-level finders need).
        let rules = redactor.scanGroups
        // Case-insensitive rules: any ASCII case of any spelling; the others: the bytes as they are.
        let spellings = rules.map { rule in
            (rule.caseInsensitive ? rule.triggers.flatMap { TriggerScanner.spellings($0.lowercased()) } : rule.triggers).map { Array($0.utf8) }
        }
        func naive(_ bytes: [UInt8]) -> UInt64 {
            var mask: UInt64 = 0
            bytes.withUnsafeBufferPointer { buf in
                let folded = bytes.map { TriggerScanner.fold($0) }
                for (k, rule) in rules.enumerated() {
                    for tb in spellings[k] {
                        guard tb.count <= bytes.count else { continue }
                        let text = rule.caseInsensitive ? folded : bytes
                        for p in 0...(bytes.count - tb.count) where text[p] == tb[0] && text[p..<(p + tb.count)].elementsEqual(tb) {
                            if TriggerScanner.follows(rule.follow, buf, after: p + tb.count) { mask |= 1 << UInt64(k) }
                        }
                    }
                }
            }
            return mask
        }
        var rng = SystemRandomNumberGenerator()
        let pieces = redactor.rules.flatMap(\.triggers) + ["curl", "Login", "kind", "SIG", "pw", "0123456789abcdef0123456789abcdef", "ABCDEFGHIJKLMNOP", " ", "=", ":", "x", "é", "\n",
                                                    "user:pw@", "abcdefghijklmnopqrstuvwxyz012345678901234567890123456789",
                                                    "PassWord", "SECRET", "Token", "paßword", "ſecret", "api_\u{212A}ey", "BEARER", "bAsIc"]
        var checked = 0  // rule hits seen
        for round in 0..<480 {
            var text = ""
            let target = [40, 255, 300, 1000, 1023, 1024, 1025, 1100, 1500, 2047, 2048, 4099][round % 12]
            while text.utf8.count < target { text += pieces.randomElement(using: &rng)! }
            var bytes = Array(text.utf8)
            let got = bytes.withUnsafeBufferPointer { redactor.triggers.scan($0) }
            #expect(got == naive(bytes), "\(text)")
            bytes.removeAll()
            checked += got.nonzeroBitCount
        }
        #expect(checked > 2000)
    }

    /// Case-insensitive rules search only windows around their triggers; on text built to probe the
    /// windows' edges — keywords in any case and in case-folded spellings, several per key, spaces of
    /// every kind, quotes, separators, values, characters that fold to ASCII, long strings — the result
    /// equals running every rule over every whole string.
    @Test func matchesTheExhaustiveSearch() {
        let fast = SecretRedactor(secrets: true, emails: true)
        var exhaustive = fast
        exhaustive.exhaustive = true
        var rng = SeededGenerator(seed: 9)
        let keys = ["password", "PASSWORD", "PassWord", "pa\u{DF}word", "PA\u{17F}SWORD", "passwd", "db_secret", "SECRET_TOKEN",
                    "Token", "api_key", "ApiKey", "API-KEY", "access_key", "X_PWD", "aws_secret_access_key", "AWSSecretKey",
                    "SecretAccessKey", "Bearer", "bearer", "BASIC", "basic", "api_\u{212A}ey", "my\u{130}password", "xpassword"]
        let glue = [" ", "  ", "\t", "\n", "\u{A0}", "\u{2028}", "\u{3000}", "=", ":", " = ", ": ", "\"", "'", "\": \"", "='", ",", ";", "&",
                    "}", "{", "(", "-", "_", "/", "."]
        let values = ["hunter2", "s3cr3t!", "Tr0ub4dor&3", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "dXNlcjpwYXNzd29yZA==",
                      "0123456789abcdefABCDEF.xyz", "None", "os.environ", "$SECRET", "abc", "\u{17F}\u{17F}\u{17F}\u{17F}abcdefghijklmnop",
                      "na\u{EF}ve", "\u{FB01}le", "\u{6771}\u{4EAC}", "[REDACTED:password]", "required"]
        var found = 0
        for round in 0..<1200 {
            var text = ""
            let target = [30, 80, 200, 1100, 3000, 12000][round % 6]
            // Dense keywords, or (in long strings) keywords far apart: windows one by one, joined, spanned.
            let sparse = round % 12 >= 6
            while text.utf8.count < target {
                switch rng.below(sparse ? 4 : 3) {
                case 0: text += keys[rng.below(keys.count)]
                case 1: text += glue[rng.below(glue.count)]
                case 2: text += values[rng.below(values.count)]
                default: text += String(repeating: "plain words in between ", count: 1 + rng.below(40))
                }
            }
            var a: [String: Int] = [:]
            var b: [String: Int] = [:]
            let got = fast.redact(text, counts: &a)
            let want = exhaustive.redact(text, counts: &b)
            #expect(got == want && a == b, "\(text.debugDescription)")
            found += a.values.reduce(0, +)
        }
        #expect(found > 1000, "\(found) secrets")
        // Spellings the case-sensitive triggers of earlier versions missed.
        #expect(redact("PassWord=hunter22").0 == "PassWord=[REDACTED:password]")
    }

    /// `TriggerScanner.foldsTo` lists every character whose case mappings lead to a string of ASCII
    /// letters, with those letters (through any chain of mappings: `ẞ` → `ß` → `SS`).
    @Test func foldedSpellingsComeFromTheUnicodeCaseMappings() {
        func mappings(_ u: Unicode.Scalar) -> [String] {
            [u.properties.lowercaseMapping, u.properties.uppercaseMapping, u.properties.titlecaseMapping]
        }
        var toASCII: [UInt32: Set<String>] = [:]
        var frontier: [Unicode.Scalar] = []
        for v in UInt32(0x80)...0x10FFFF {
            guard let u = Unicode.Scalar(v) else { continue }
            for m in mappings(u) where m.unicodeScalars.allSatisfy({ $0.isASCII }) && m.unicodeScalars.contains(where: { $0.properties.isAlphabetic }) {
                toASCII[v, default: []].insert(m.lowercased())
            }
            if mappings(u).contains(where: { $0.unicodeScalars.count == 1 && !$0.unicodeScalars.first!.isASCII && $0.unicodeScalars.first! != u }) {
                frontier.append(u)
            }
        }
        // One step of indirection: a character that maps to one of the above.
        for u in frontier {
            for m in mappings(u) where m.unicodeScalars.count == 1 {
                if let more = toASCII[m.unicodeScalars.first!.value] { toASCII[u.value, default: []].formUnion(more) }
            }
        }
        var listed: [UInt32: Set<String>] = [:]
        for (c, letters) in TriggerScanner.foldsTo { listed[c.value, default: []].insert(letters) }
        #expect(listed == toASCII, "\(toASCII.map { (String($0.key, radix: 16), $0.value) })")
        #expect(TriggerScanner.spellings("pass").sorted() == ["pa\u{17F}\u{17F}", "pa\u{17F}s", "pa\u{DF}", "pa\u{1E9E}", "pas\u{17F}", "pass"].sorted())
    }

    @Test func emailsOnlyWhenAsked() {
        #expect(redact("mail alice@example.org").0 == "mail alice@example.org")
        let (out, counts) = redact("mail alice@example.org now", emails: true)
        #expect(out == "mail [REDACTED:email] now")
        #expect(counts == ["email": 1])
    }

    @Test func redactionIsIdempotent() {
        let once = redact("AKIAZ7Q3M5XVB2N4P6RT and DB_PASSWORD=hunter2").0
        let (twice, counts) = redact(once)
        #expect(twice == once)
        #expect(counts.isEmpty)
    }

    @Test func everyTrajectoryFieldIsRedacted() {
        let key = "AKIAZ7Q3M5XVB2N4P6RT"
        let t = Trajectory(
            id: "t", task: "use \(key)",
            steps: [Step(index: 0, thought: "the key is \(key)",
                         action: Action(tool: "bash", input: .object(["command": .string("echo \(key)"), "nested": .array([.string(key)])]),
                                        command: "echo \(key)"),
                         observation: Observation(content: key))],
            answer: key, outcome: Outcome(status: .success, detail: key), meta: ["note": .string(key)])
        var counts: [String: Int] = [:]
        let r = redactor.redact(t, counts: &counts)
        let line = String(decoding: try! NativeWriter.line(r), as: UTF8.self)
        #expect(!line.contains(key))
        #expect(counts["aws-access-key"] == 9)
    }
}

@Suite struct FilterTests {
    func traj(_ status: Outcome.Status, steps: Int, reward: Double? = nil, tool: String = "bash", task: String = "Fix it") -> Trajectory {
        Trajectory(id: UUID().uuidString, task: task,
                   steps: (0..<steps).map { Step(index: $0, action: Action(tool: tool)) },
                   outcome: Outcome(status: status, reward: reward))
    }

    @Test func eachCriterion() {
        let f = TrajectoryFilter(statuses: [.success, .partial], minReward: 0.5, minSteps: 2, maxSteps: 5,
                                 tools: ["bash"], taskRegex: "^Fix")
        #expect(f.rejection(traj(.success, steps: 3, reward: 1)) == nil)
        #expect(f.rejection(traj(.failure, steps: 3, reward: 1)) == "outcome")
        #expect(f.rejection(traj(.success, steps: 3, reward: 0.2)) == "reward")
        #expect(f.rejection(traj(.success, steps: 3, reward: nil)) == "reward")
        #expect(f.rejection(traj(.success, steps: 1, reward: 1)) == "steps")
        #expect(f.rejection(traj(.success, steps: 9, reward: 1)) == "steps")
        #expect(f.rejection(traj(.success, steps: 3, reward: 1, tool: "python")) == "tools")
        #expect(f.rejection(traj(.success, steps: 3, reward: 1, task: "Add a flag")) == "task_regex")
        #expect(TrajectoryFilter().rejection(traj(.unknown, steps: 0)) == nil)
    }
}

@Suite struct DedupeTests {
    func t(_ id: String, _ task: String) -> Trajectory { Trajectory(id: id, task: task, outcome: Outcome(status: .success)) }

    @Test func nearDuplicatesAreRemovedAndDistinctTasksKept() {
        let records = [
            t("a", "Fix the failing test test_parse_date in dateutil/tests/test_parser.py without changing the test."),
            t("b", "Add a --dry-run option to the exporter command-line tool in exporter/cli.py."),
            t("c", "Fix the failing test test_parse_date in dateutil/tests/test_parser.py without changing the test"),
            t("d", "fix the failing test  test_parse_date in dateutil/tests/test_parser.py, without changing the test!"),
            t("e", "Compute the mean and median of the column price in data/orders.csv and write them to report.json."),
            t("f", "Add a --dry-run option to the exporter command-line tool in exporter/cli.py. Thanks."),
            t("g", "Fix the failing test test_slugify in billing/tests/test_money.py without changing the test."),
            t("h", "Compute the mean and median of the column latency_ms in data/requests.csv and write them to report.json."),
        ]
        let chain = PrepareChain(steps: [.dedupe(Deduplicator(key: .task, method: .minhash(threshold: 0.85, permutations: 128, shingle: 5)))])
        let kept = chain.process(records)
        #expect(kept.map(\.id) == ["a", "b", "e", "g", "h"])
        #expect(chain.stats[0].counts["duplicates"] == 3)
        #expect(chain.stats[0].examples == ["c → a", "d → a", "f → b"])
    }

    @Test func keptRecordIsTheFirstAcrossBatches() {
        let d = Deduplicator(key: .task, method: .exact)
        let chain = PrepareChain(steps: [.dedupe(d)])
        #expect(chain.process([t("1", "same task"), t("2", "other")]).map(\.id) == ["1", "2"])
        #expect(chain.process([t("3", "same  task"), t("4", "new")]).map(\.id) == ["4"])
    }

    @Test func exactContentIgnoresIdsButNotSteps() {
        let d = Deduplicator(key: .content, method: .exact)
        var a = t("a", "task")
        a.steps = [Step(index: 0, action: Action(tool: "bash", command: "ls"))]
        var b = a
        b.id = "b"
        b.source = Source(format: "native", file: "other.jsonl", line: 9)
        var c = a
        c.id = "c"
        c.steps[0].action?.command = "ls -la"
        #expect(d.admit(d.fingerprint(a), id: a.id) == nil)
        #expect(d.admit(d.fingerprint(b), id: b.id) == "a")
        #expect(d.admit(d.fingerprint(c), id: c.id) == nil)
    }

    @Test func minhashEstimatesJaccard() {
        let mh = MinHasher(permutations: 256, shingle: 5)
        let x = "the quick brown fox jumps over the lazy dog and keeps running through the forest"
        #expect(MinHasher.similarity(mh.signature(of: x), mh.signature(of: x)) == 1)
        let sx = mh.shingles(of: x), sy = mh.shingles(of: x + " at night")
        let jaccard = Double(sx.intersection(sy).count) / Double(sx.union(sy).count)
        let est = MinHasher.similarity(mh.signature(of: x), mh.signature(of: x + " at night"))
        #expect(abs(est - jaccard) < 0.1, "estimate \(est) vs true \(jaccard)")
        #expect(MinHasher.similarity(mh.signature(of: x), mh.signature(of: "completely unrelated sentence about databases")) < 0.2)
    }
}
