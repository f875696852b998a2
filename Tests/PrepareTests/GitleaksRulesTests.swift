import Foundation
import Testing
@testable import Prepare
import Trajectories

/// gitleaks configuration files (issue 20, item 4): a small organisation config with a custom rule, an
/// allowlist, a stopword, an entropy threshold and a path-only rule, written to gitleaks' documented format.
@Suite struct GitleaksRulesTests {
    static let config = #"""
        title = "acme secrets"

        [extend]
        useDefault = true

        [[rules]]
        id = "acme-internal-token"
        description = "ACME internal service token"
        regex = '''\b(acmetok_(?P<body>[a-z0-9]{24}))\b'''
        secretGroup = 1
        keywords = ["acmetok_"]

        [[rules.allowlists]]
        description = "the documented example token"
        regexes = ['''acmetok_0{24}''']

        [[rules]]
        id = "acme-db-password"
        regex = '''(?i)acme_db_pass\s*=\s*"([^"]{8,})"'''
        entropy = 2.5
        keywords = ["acme_db_pass"]

        [[rules]]
        id = "pem-files"
        path = '''\.pem$'''

        [allowlist]
        stopwords = ["example"]
        """#

    func redact(_ text: String, secrets: Bool = false) throws -> (String, [String: Int]) {
        let rules = try GitleaksRules.parse(Self.config, file: "acme.toml")
        var counts: [String: Int] = [:]
        let out = SecretRedactor(secrets: secrets, custom: rules).redact(text, counts: &counts)
        return (out, counts)
    }

    @Test func rulesAreReadAsGitleaksDoes() throws {
        let rules = try GitleaksRules.parse(Self.config, file: "acme.toml")
        #expect(rules.rules.map(\.id) == ["acme-internal-token", "acme-db-password"])
        #expect(rules.skipped == ["pem-files"])  // a path rule concerns repository files, not text
        #expect(rules.rules.map(\.line) == [6, 17])
    }

    @Test func aCustomRuleRedactsItsSecretGroupOnly() throws {
        let (out, counts) = try redact("deploy with acmetok_a1b2c3d4e5f6a7b8c9d0e1f2, then ACMETOK_A1B2C3D4E5F6A7B8C9D0E1F2")
        #expect(out == "deploy with [REDACTED:acme-internal-token], then ACMETOK_A1B2C3D4E5F6A7B8C9D0E1F2")
        #expect(counts == ["acme-internal-token": 1])
        // secretGroup 0 with one group: the group is the secret; the key name and quotes stay.
        let (db, _) = try redact(#"acme_db_pass = "Zx8kq2LmwQ7r""#)
        #expect(db == #"acme_db_pass = "[REDACTED:acme-db-password]""#)
    }

    @Test func allowlistsStopwordsAndEntropyLeaveTextAlone() throws {
        for text in ["the example acmetok_000000000000000000000000 from the docs",  // rule allowlist regex
                     #"acme_db_pass = "exampleXYZ123""#,                              // global stopword
                     #"acme_db_pass = "aaaaaaaaaaaa""#,                               // entropy 0 < 2.5
                     "no keyword here: a1b2c3d4e5f6a7b8c9d0e1f2"] {                  // keyword prefilter
            #expect(try redact(text).0 == text)
        }
    }

    @Test func aSecretTheRuleFindsIsRemovedWhereverElseItOccurs() throws {
        let (out, _) = try redact("set acmetok_a1b2c3d4e5f6a7b8c9d0e1f2 here; echo a1b2c3d4e5f6a7b8c9d0e1f2 acmetok_a1b2c3d4e5f6a7b8c9d0e1f2")
        #expect(!out.contains("acmetok_a1b2"))
    }

    @Test func builtInRulesStillRunBesideThem() throws {
        let (out, counts) = try redact("acmetok_a1b2c3d4e5f6a7b8c9d0e1f2 AKIAZ7Q3M5XVB2N4P6RT", secrets: true)
        #expect(out == "[REDACTED:acme-internal-token] [REDACTED:aws-access-key]")
        #expect(counts["acme-internal-token"] == 1 && counts["aws-access-key"] == 1)
    }

    /// RE2 constructs gitleaks configurations use, read the same way by ICU: a flag switched on mid-pattern,
    /// a group with the flag switched off, `\x60` for a backtick, an escaped line end, named groups.
    @Test func re2ConstructsGitleaksConfigsUse() throws {
        let rules = try GitleaksRules.parse(#"""
            [[rules]]
            id = "zz-key"
            regex = '''\b(ZZK(?i)[a-z0-9]{20})(?:[\x60'"\s;]|\\[nr]|$)'''
            keywords = ["zzk"]

            [[rules]]
            id = "acme-generic"
            regex = '''(?i)[\w.-]{0,50}?(?:(?-i:ACME|[Aa]cme))(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|:)[\x60'"\s=]{0,5}(?P<v>[a-z0-9]{16})(?:[\x60'"\s;]|$)'''
            keywords = ["acme"]
            """#, file: "re2.toml")
        func find(_ text: String) -> [String] {
            rules.find(in: text).map { String(decoding: Array(text.utf8)[$0.range], as: UTF8.self) }
        }
        #expect(find("key `ZZKab12CD34ef56GH78ij90` here") == ["ZZKab12CD34ef56GH78ij90"])
        #expect(find("zzkab12cd34ef56gh78ij90;").isEmpty)  // ZZK itself is case-sensitive
        #expect(find(#"acme_token = "k3j4h5g6f7d8s9a0""#) == ["k3j4h5g6f7d8s9a0"])
        #expect(find(#"aCME_token = "k3j4h5g6f7d8s9a0""#).isEmpty)  // (?-i:ACME|[Aa]cme)
    }

    /// Every problem names the file, line and column.
    @Test(arguments: [
        ("[[rules]]\nid = \"ok\"\nregex = '''abc'''\n\n[[rules]]\nid = \"broken\"\nregex = '''(unclosed'''\n", 7, "rule 'broken': the regular expression does not compile"),
        ("[[rules]]\nid = \"x\nregex = \"y\"\n", 2, "TOML syntax error"),
        ("[[rules]]\nid = \"a\"\nregex = '''a(b)'''\nsecretGroup = 3\n", 4, "secretGroup 3 but the regex has 1 group"),
        ("[[rules]]\nid = \"a\"\nregex = '''a'''\n[[rules]]\nid = \"a\"\nregex = '''b'''\n", 5, "rule id 'a' is defined twice"),
        ("[[rules]]\nid = \"a\"\nregex = '''a'''\n[[rules.allowlists]]\nregexTarget = \"file\"\nregexes = ['''x''']\n", 5, "regexTarget 'file'"),
        ("title = \"nothing\"\n", 1, "defines no [[rules]]"),
    ])
    func malformedFilesGetLocatedErrors(_ text: String, line: Int, message: String) throws {
        do {
            _ = try GitleaksRules.parse(text, file: "org.toml")
            Issue.record("accepted: \(text)")
        } catch let e as GitleaksRules.LoadError {
            #expect(e.file == "org.toml" && e.line == line, "\(e)")
            #expect(e.message.contains(message), "\(e)")
            #expect("\(e)".hasPrefix("org.toml:\(line):"))
        }
    }
}
