import Foundation
import Trajectories

/// Replaces secrets with typed redaction markers such as `[REDACTED:aws-access-key]`.
///
/// Each rule is guarded by cheap substring triggers, so the regular expressions only run on text that
/// could contain what they look for.
public struct SecretRedactor: Sendable {
    public struct Rule: Sendable {
        public let kind: String
        let triggers: [String]
        let regex: Regex
        /// Capture group holding the secret (0 = the whole match).
        let group: Int
        /// For assignment-shaped rules: false when the value is code, not a secret.
        var checksValue = false
    }

    /// `api_key=api_key`, `password: Optional[str] = None`, `PASSWORD=$DB_PASS`, `token=self.token`:
    /// assignments whose value is a name, a type or a reference are code, not secrets.
    static func looksLikeCode(value: String, key: String) -> Bool {
        let v = value.lowercased()
        if ["none", "null", "nil", "true", "false", "undefined", "str", "string", "optional", "bool", "int", "bytes",
            "required", "secret", "password", "token", "await", "new", "function", "lambda", "async", "getpass", "input",
            "return", "yield"].contains(v) { return true }
        for prefix in ["$", "%", "<", "{", "[", "(", "os.", "self.", "this.", "process.", "env.", "config.", "settings.",
                       "args.", "options.", "kwargs", "params.", "request."] where v.hasPrefix(prefix) { return true }
        if v.contains("(") || v.contains("[") { return true }
        // Example values in documentation: your_api_key_here, xxx, changeme…
        for marker in ["your", "xxx", "example", "placeholder", "changeme", "here", "dummy", "redacted", "<", "..."] where v.contains(marker) {
            return true
        }
        // The value repeats (part of) the key: `api_key=api_key`, `DB_PASSWORD=password`.
        let key = key.lowercased()
        let bare = v.trimmingCharacters(in: CharacterSet(charactersIn: "_-.,;"))
        return !bare.isEmpty && bare.count >= 3 && key.contains(bare)
    }

    /// `NSRegularExpression` is documented thread-safe for matching; this box says so to Swift 6.
    final class Regex: @unchecked Sendable {
        let re: NSRegularExpression
        init(_ pattern: String) {
            // The patterns are constants of this file; a bad one is a programming error caught by tests.
            re = try! NSRegularExpression(pattern: pattern)
        }
    }

    public let rules: [Rule]
    /// Finds, in one pass over a string's bytes, which rules' triggers occur in it.
    let triggers: TriggerScanner

    public init(secrets: Bool = true, emails: Bool = false) {
        var r: [Rule] = []
        if secrets { r += Self.secretRules }
        if emails { r.append(Rule(kind: "email", triggers: ["@"], regex: Regex(#"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"#), group: 0)) }
        rules = r
        // The automata are built once per rule set (a few hundred kilobytes each).
        triggers = Self.scanners[(secrets ? 1 : 0) + (emails ? 2 : 0)]
    }

    /// Indexed by secrets (bit 0) and emails (bit 1), in the order `init` assembles the rules.
    static let scanners: [TriggerScanner] = [
        TriggerScanner([]), TriggerScanner(secretRules.map(\.triggers)),
        TriggerScanner([["@"]]), TriggerScanner(secretRules.map(\.triggers) + [["@"]]),
    ]

    public static func marker(_ kind: String) -> String { "[REDACTED:\(kind)]" }

    /// Secret kinds this redactor recognises, in the order they are applied.
    public static var secretKinds: [String] { secretRules.map(\.kind) }

    static let secretRules: [Rule] = {
        func rule(_ kind: String, _ triggers: [String], _ pattern: String, group: Int = 0) -> Rule {
            Rule(kind: kind, triggers: triggers, regex: Regex(pattern), group: group, checksValue: kind == "password")
        }
        let ciPassword = ["password", "PASSWORD", "Password", "passwd", "PASSWD", "secret", "SECRET", "Secret",
                          "token", "TOKEN", "Token", "api_key", "API_KEY", "apikey", "APIKEY", "ApiKey", "api-key",
                          "access_key", "ACCESS_KEY", "_PWD", "_pwd"]
        return [
            // Order matters: specific token shapes first, generic assignments last.
            rule("private-key", ["PRIVATE KEY"],
                 #"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\]*)"#),
            rule("aws-access-key", ["AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA"],
                 #"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b"#),
            rule("aws-secret-key", ["aws_secret", "AWS_SECRET", "secret_access_key", "SECRET_ACCESS_KEY", "SecretAccessKey"],
                 #"(?i)(?:aws_?secret_?access_?key|aws_?secret_?key|secretaccesskey)["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"#, group: 1),
            rule("gcp-api-key", ["AIza"], #"\bAIza[0-9A-Za-z_\-]{35}"#),
            rule("gcp-service-account-key", ["private_key_id"],
                 #""private_key_id"\s*:\s*"([0-9a-f]{40})""#, group: 1),
            rule("anthropic-key", ["sk-ant-"], #"\bsk-ant-[A-Za-z0-9_\-]{20,}"#),
            rule("openai-key", ["sk-"], #"\bsk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"#),
            rule("github-token", ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
                 #"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"#),
            rule("stripe-key", ["sk_live_", "sk_test_", "rk_live_", "rk_test_"], #"\b[rs]k_(?:live|test)_[0-9A-Za-z]{16,}"#),
            rule("huggingface-token", ["hf_"], #"\bhf_[A-Za-z0-9]{30,}"#),
            rule("gitlab-token", ["glpat-"], #"\bglpat-[A-Za-z0-9_\-]{20,}"#),
            rule("npm-token", ["npm_"], #"\bnpm_[A-Za-z0-9]{36}\b"#),
            rule("pypi-token", ["pypi-AgE"], #"\bpypi-AgE[A-Za-z0-9_\-]{50,}"#),
            rule("sendgrid-key", ["SG."], #"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b"#),
            rule("azure-storage-key", ["AccountKey=", "SharedAccessKey="],
                 #"(?:AccountKey|SharedAccessKey)=([A-Za-z0-9+/]{30,}={0,2})"#, group: 1),
            rule("google-oauth-secret", ["GOCSPX-"], #"\bGOCSPX-[A-Za-z0-9_\-]{28}"#),
            rule("databricks-token", ["dapi"], #"\bdapi[0-9a-f]{32}(?:-[0-9])?\b"#),
            rule("digitalocean-token", ["_v1_"], #"\bdo[opr]_v1_[0-9a-f]{64}\b"#),
            rule("docker-hub-token", ["dckr_pat_"], #"\bdckr_pat_[A-Za-z0-9_\-]{20,}"#),
            rule("shopify-token", ["shpat_", "shpca_", "shppa_", "shpss_"], #"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b"#),
            rule("twilio-key", ["SK", "AC"], #"\b(?:SK|AC)[0-9a-f]{32}\b"#),
            rule("slack-token", ["xox"], #"\bxox[abposre]-[A-Za-z0-9-]{10,}"#),
            rule("slack-webhook", ["hooks.slack.com"], #"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+"#),
            rule("jwt", ["eyJ"], #"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"#),
            rule("bearer-token", ["bearer", "Bearer", "BEARER"], #"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]{16,}=*)"#, group: 1),
            rule("basic-auth", ["Basic ", "basic ", "BASIC "], #"(?i)\bbasic\s+([A-Za-z0-9+/]{12,}={0,2})(?![A-Za-z0-9+/=])"#, group: 1),
            rule("url-password", ["://"], #"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@"'<>\[\]]+:([^\s@/"'<>]+)@"#, group: 1),
            // KEY=value (shell, .env): always a secret when the name says so.
            rule("password", ciPassword,
                 #"(?i)\b[A-Z0-9_]*(?:PASSWORD|PASSWD|_PWD|SECRET|TOKEN|API_?KEY|ACCESS_KEY)\s*=\s*["']?([^\s"'&;,]{3,})"#, group: 1),
            // "key": "value" (JSON, quoted YAML): quoted values are secrets whatever they look like.
            rule("password", ciPassword,
                 #"(?i)\b[A-Za-z0-9_]*(?:password|passwd|secret|token|api_?key|apikey|access_key)["']?\s*:\s*(["'])([^"'\s]{3,})\1"#, group: 2),
            // key: value (unquoted YAML, logs): only values that do not look like an ordinary word.
            rule("password", ciPassword,
                 #"(?i)\b[A-Za-z0-9_]*(?:password|passwd|secret|api_?key|apikey|access_key)\s*:\s*((?=(?-i:[^\s"',}]*[0-9A-Z!@#$%^*+/._-]))[^\s"',}]{4,})"#, group: 1),
            // --password VALUE / --token=VALUE command-line flags.
            rule("password", ["--pass", "--token", "--api-key", "--secret"],
                 #"--(?:password|passwd|token|api-key|secret)(?:=|\s+)["']?([^\s"']{3,})"#, group: 1),
        ]
    }()

    /// Redacts `text`, adding one count per replaced secret to `counts[kind]`.
    public func redact(_ text: String, counts: inout [String: Int]) -> String {
        if text.isEmpty || rules.isEmpty { return text }
        var current = text
        var hit = current.withUTF8 { triggers.scan($0) }
        if hit == 0 { return text }
        for (k, rule) in rules.enumerated() {
            guard hit & (1 << UInt64(k)) != 0 else { continue }
            let ns = current as NSString
            let matches = rule.regex.re.matches(in: current, range: NSRange(location: 0, length: ns.length))
            if matches.isEmpty { continue }
            let marker = Self.marker(rule.kind)
            var pieces: [String] = []
            var cursor = 0
            var replaced = 0
            for m in matches {
                let r = m.range(at: rule.group)
                guard r.location != NSNotFound, r.length > 0 else { continue }
                let value = ns.substring(with: r)
                if value.hasPrefix("[REDACTED") { continue }
                if rule.checksValue, Self.looksLikeCode(value: value, key: ns.substring(with: NSRange(location: m.range.location, length: r.location - m.range.location))) { continue }
                pieces.append(ns.substring(with: NSRange(location: cursor, length: r.location - cursor)))
                pieces.append(marker)
                cursor = r.location + r.length
                replaced += 1
            }
            if replaced == 0 { continue }
            pieces.append(ns.substring(from: cursor))
            current = pieces.joined()
            counts[rule.kind, default: 0] += replaced
            // Later rules see the text as it is now (markers included), as if scanned afresh.
            hit |= current.withUTF8 { triggers.scan($0) }
        }
        return current
    }

    /// Redacts every string a trajectory carries: task, thoughts, tool names, inputs (values and keys),
    /// commands, call ids, observations, answer, outcome detail, timestamps, ids, source file and meta.
    /// Ids are rewritten the same way everywhere, so they stay unique and joinable.
    public func redact(_ t: Trajectory, counts: inout [String: Int]) -> Trajectory {
        if rules.isEmpty { return t }
        var out = t
        func r(_ s: String) -> String { redact(s, counts: &counts) }
        func json(_ v: JSONValue) -> JSONValue {
            switch v {
            case .string(let s): return .string(r(s))
            case .array(let a): return .array(a.map(json))
            case .object(let o):
                var m: [String: JSONValue] = [:]
                for (k, x) in o { m[r(k)] = json(x) }
                return .object(m)
            default: return v
            }
        }
        out.id = r(t.id)
        out.task = r(t.task)
        out.taskKey = t.taskKey.map(r)
        out.answer = t.answer.map(r)
        out.outcome.detail = t.outcome.detail.map(r)
        out.source = t.source.map { var s = $0; s.file = r(s.file); return s }
        for i in out.steps.indices {
            out.steps[i].thought = out.steps[i].thought.map(r)
            out.steps[i].timestamp = out.steps[i].timestamp.map(r)
            if var a = out.steps[i].action {
                a.tool = r(a.tool)
                a.input = json(a.input)
                a.command = a.command.map(r)
                a.callID = a.callID.map(r)
                out.steps[i].action = a
            }
            if var o = out.steps[i].observation {
                o.content = r(o.content)
                out.steps[i].observation = o
            }
        }
        if case .object(let m) = json(.object(t.meta)) { out.meta = m }
        return out
    }
}

/// Aho–Corasick over the rules' trigger strings (bytes, case-sensitive): one table lookup per byte of
/// text gives the set of rules whose triggers occur, so the regular expressions run only where they can
/// match. (A rule per bit: at most 64 rules.)
struct TriggerScanner: Sendable {
    /// next[state * 256 + byte] -> state, with failure links folded in.
    private let next: [Int32]
    /// Rules whose trigger ends at this state (or at a state reachable by failure links).
    private let output: [UInt64]

    init(_ triggersPerRule: [[String]]) {
        precondition(triggersPerRule.count <= 64, "TriggerScanner holds at most 64 rules")
        var goto: [[Int32]] = [Array(repeating: -1, count: 256)]
        var out: [UInt64] = [0]
        for (rule, triggers) in triggersPerRule.enumerated() {
            for t in triggers {
                var state = 0
                for b in t.utf8 {
                    if goto[state][Int(b)] < 0 {
                        goto.append(Array(repeating: -1, count: 256))
                        out.append(0)
                        goto[state][Int(b)] = Int32(goto.count - 1)
                    }
                    state = Int(goto[state][Int(b)])
                }
                out[state] |= 1 << UInt64(rule)
            }
        }
        // Breadth-first: failure links, outputs merged along them, missing edges filled in.
        var fail = Array(repeating: 0, count: goto.count)
        var queue: [Int] = []
        for b in 0..<256 {
            if goto[0][b] < 0 { goto[0][b] = 0 } else { let s = Int(goto[0][b]); fail[s] = 0; queue.append(s) }
        }
        var head = 0
        while head < queue.count {
            let s = queue[head]
            head += 1
            out[s] |= out[fail[s]]
            for b in 0..<256 {
                let t = goto[s][b]
                if t < 0 {
                    goto[s][b] = goto[fail[s]][b]
                } else {
                    fail[Int(t)] = Int(goto[fail[s]][b])
                    queue.append(Int(t))
                }
            }
        }
        next = goto.flatMap { $0 }
        output = out
    }

    /// Bit k set when a trigger of rule k occurs in `bytes`.
    func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var mask: UInt64 = 0
        var state = 0
        next.withUnsafeBufferPointer { table in
            output.withUnsafeBufferPointer { out in
                for b in bytes {
                    state = Int(table[state &* 256 &+ Int(b)])
                    mask |= out[state]
                }
            }
        }
        return mask
    }
}
