import Foundation

/// Secrets given a name: `API_TOKEN=…`, `"apiToken": "…"`, `api_token: …`, `token := "…"`,
/// `var token string = "…"`, `$token .= "…"`, `"token" => "…"`, `<token>…</token>`,
/// `System.setProperty("TOKEN", "…")`, `--token …`, `Authorization: Token …`, `.netrc`'s
/// `password …`: one byte-level reader for every syntax, so no syntax is all or nothing.
///
/// A name is secret-like when one of its words (split at `_ - .`, case changes and digits) is in the
/// vocabulary (token, secret, password, passwd, pwd, credential, api key, private key…), read from
/// the end: `max_tokens`, `token_count` and `next_token` are not secrets. Values that are references or
/// code (`var.x`, `${X}`, `$(cmd)`, `os.environ[…]`, `self.token`, `None`) or placeholders (`<token>`,
/// `xxxx`, `changeme`) are left alone. Weak names (`key`, `auth`, `signature`…) need a value of high
/// entropy that is not a digest, a UUID or image data.
enum Assignments {
    /// Words that make a name secret whatever comes before them.
    static let strong: Set<String> = [
        "token", "secret", "password", "passwd", "passwort", "pwd", "pass", "passphrase", "passcode", "pw",
        "credential", "credentials", "creds", "cred", "apikey", "privatekey", "secretkey", "accesskey", "authtoken",
        "clientsecret", "accesstoken", "refreshtoken", "sessiontoken", "bearer", "contribsys",
    ]
    /// `…key` names that are secrets: `api_key`, `access-key`, `AccountKey`, `X-API-Key`…
    static let keyQualifiers: Set<String> = [
        "api", "access", "secret", "private", "master", "auth", "client", "encryption", "signing", "license", "app", "account",
        "consumer", "service", "admin", "session", "deploy", "ingest", "write", "subscription", "storage", "shared", "webhook",
        "server", "rest", "live", "prod", "management", "integration", "partner", "merchant", "developer", "dev", "user", "personal",
    ]
    /// Names that say what the value is only together with a value that looks random.
    static let weak: Set<String> = ["key", "auth", "authorization", "signature", "sig", "salt", "hmac", "cookie", "sessionid", "license", "dsn", "pin"]
    /// Words before `token` that make it a counter or a cursor, not a secret.
    static let notSecretBeforeToken: Set<String> = [
        "max", "min", "num", "total", "input", "output", "prompt", "completion", "completions", "next", "page", "continuation",
        "cancellation", "sync", "pagination", "resume", "start", "end", "eos", "bos", "pad", "unk", "sep", "cls", "mask", "special",
        "stop", "reasoning", "cached", "context", "image", "audio", "text", "word", "first", "last", "public", "csrf", "xsrf",
    ]
    /// `…key` names that are not secrets: `primaryKey`, `foreign_key`, `bucket_key`, `public_key`.
    static let notSecretKeys: Set<String> = [
        "public", "primary", "foreign", "sort", "partition", "bucket", "cache", "object", "dict", "map", "hash", "idempotency", "row",
        "table", "composite", "unique", "lookup", "index", "sort", "group", "range", "routing", "dedup", "dedupe", "ssh", "gpg", "pub",
    ]
    /// Words after the secret word that still name the secret itself (`TOKEN_VALUE`, `secretKeyBase`).
    static let trailing: Set<String> = ["value", "val", "string", "str", "b64", "base64", "raw", "plain", "text", "literal", "env", "base", "enc", "hex"]

    /// Words of a name, lower-cased: `adafruitToken` → adafruit, token; `AWS_SECRET_KEY2` → aws, secret, key, 2.
    static func words<C: Collection<UInt8>>(_ name: C) -> [String] {
        var out: [String] = []
        var cur: [UInt8] = []
        func flush() { if !cur.isEmpty { out.append(String(decoding: cur, as: UTF8.self)); cur.removeAll() } }
        let b = Array(name)
        for (i, c) in b.enumerated() {
            let isUpper = c >= 0x41 && c <= 0x5A, isLower = c >= 0x61 && c <= 0x7A, isDigit = c >= 0x30 && c <= 0x39
            guard isUpper || isLower || isDigit else { flush(); continue }
            if !cur.isEmpty, i > 0 {
                let last = b[i - 1]
                let lastUpper = last >= 0x41 && last <= 0x5A, lastLower = last >= 0x61 && last <= 0x7A, lastDigit = last >= 0x30 && last <= 0x39
                let nextLower = i + 1 < b.count && b[i + 1] >= 0x61 && b[i + 1] <= 0x7A
                if (isUpper && lastLower) || (isDigit != lastDigit) || (isUpper && lastUpper && nextLower) { flush() }
            }
            cur.append(isUpper ? c | 0x20 : c)
        }
        flush()
        return out
    }

    enum Strength { case none, weak, strong }

    static func strength<C: Collection<UInt8>>(of name: C) -> Strength {
        // One word in one case (`passed`, `Tokenizer` is not, `KEYS`): its lower case is the only word.
        let lower = name.allSatisfy { $0 >= 0x61 && $0 <= 0x7A }, upper = name.allSatisfy { $0 >= 0x41 && $0 <= 0x5A }
        var w: [String] = lower || upper ? [String(decoding: name.map { $0 | 0x20 }, as: UTF8.self)] : words(name)
        while let last = w.last, last.allSatisfy(\.isNumber) || trailing.contains(last), w.count > 1 { w.removeLast() }
        guard var last = w.last else { return .none }
        // `PassWord`, `PassPhrase`, `SecretKey`: two words that are one.
        if w.count >= 2, strong.contains(w[w.count - 2] + last) { last = w[w.count - 2] + last; w.removeLast() }
        let before: String? = w.count > 1 ? w[w.count - 2] : nil
        if last == "token" || last == "tokens" {
            if last == "tokens" { return .none }
            if let before, notSecretBeforeToken.contains(before) { return .none }
            return .strong
        }
        if strong.contains(last) { return .strong }
        if last == "key" || last == "keys" {
            if let before, notSecretKeys.contains(before) { return .none }
            if let before, keyQualifiers.contains(before) || before.hasSuffix("secret") || before.hasSuffix("api") { return .strong }
            return last == "key" ? .weak : .none
        }
        // Lower-case run-together names: `githubtoken`, `dbpassword`, `mysecretkey`.
        for suffix in ["token", "secret", "password", "passwd", "apikey", "secretkey", "accesskey", "privatekey", "credentials"]
        where last.count > suffix.count && last.hasSuffix(suffix) {
            return .strong
        }
        if weak.contains(last) { return .weak }
        return .none
    }

    /// Findings in `b`: the value ranges of secret-like assignments.
    ///
    /// With `near` (where the stems a secret-like name must hold end, ascending), only the runs of name
    /// bytes holding one are read, with the same result: a run without a stem holds no secret-like
    /// name, and the reading resumes after a value exactly where reading everything would.
    static func find(in b: UnsafeBufferPointer<UInt8>, near: [Int]? = nil) -> [(range: Range<Int>, kind: String)] {
        guard let near else { return find(in: b, from: 0, to: b.count) }
        var out: [(range: Range<Int>, kind: String)] = []
        var cursor = 0
        for p in near where p >= cursor && p < b.count {
            // The run of name bytes holding `p`.
            var r = p
            while r > 0, isNameByte(b[r - 1]) { r -= 1 }
            var e = p
            while e < b.count, isNameByte(b[e]) { e += 1 }
            let found = find(in: b, from: max(cursor, r), to: e)
            out += found
            cursor = max(e, found.last?.range.upperBound ?? 0)
        }
        return out
    }

    /// What reading every name from `from` finds, up to the first name starting at or after `to`
    /// (a value found may reach past `to`).
    static func find(in b: UnsafeBufferPointer<UInt8>, from: Int, to limit: Int) -> [(range: Range<Int>, kind: String)] {
        var out: [(range: Range<Int>, kind: String)] = []
        let n = b.count
        var i = from
        while i < limit {
            // The start of a name: a letter after a byte that is not part of a name.
            let c = b[i]
            // (A dash before it may be a flag's: `--token`.)
            guard isNameStart(c), i == 0 || !isNameByte(b[i - 1]) || b[i - 1] == 0x2D else { i += 1; continue }
            var j = i
            while j < n, isNameByte(b[j]) { j += 1 }
            let nameEnd = j
            // Only names holding a vocabulary word (cheap test first).
            guard mayBeSecretName(b, i, nameEnd) else { i = nameEnd; continue }
            let strength = strength(of: b[i..<nameEnd])
            if strength != .none, let found = value(after: i, nameEnd: nameEnd, in: b, strength: strength) {
                out.append((found, "password"))
                i = found.upperBound
                continue
            }
            i = nameEnd
        }
        return out
    }

    @inline(__always) static func isNameStart(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A || c == 0x5F }
    @inline(__always) static func isNameByte(_ c: UInt8) -> Bool {
        (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D || c == 0x2E
    }

    /// Words one of which every secret-like name holds (in any case): the strong and weak words and the
    /// `…key` names all contain one. A string holding none has no secret-like name.
    static let stems = ["token", "secret", "pass", "pwd", "pw", "cred", "key", "bearer", "contribsys", "auth", "sig", "salt",
                        "hmac", "cookie", "sessionid", "license", "dsn", "pin"]

    /// Whether the name contains (in any case) a vocabulary stem; most names do not.
    static func mayBeSecretName(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        let count = end - start
        guard count >= 2 else { return false }
        for k in start..<(end - 1) {
            switch b[k] | 0x20 {
            case 0x74: if k + 5 <= end, matches(b, k, "token") { return true }       // t
            case 0x73: if k + 3 <= end, matches(b, k, "secret") || matches(b, k, "sig") || matches(b, k, "salt") || matches(b, k, "sessionid") { return true }   // s
            case 0x70: if matches(b, k, "pass") || matches(b, k, "pw") || matches(b, k, "pin") { return true }  // p
            case 0x6B: if matches(b, k, "key") { return true }                          // k
            case 0x63: if matches(b, k, "cred") || matches(b, k, "cookie") || matches(b, k, "contribsys") { return true }  // c
            case 0x61: if matches(b, k, "auth") || matches(b, k, "apikey") { return true }  // a
            case 0x62: if matches(b, k, "bearer") { return true }                       // b
            case 0x68: if matches(b, k, "hmac") { return true }                         // h
            case 0x64: if matches(b, k, "dsn") { return true }                          // d
            case 0x6C: if matches(b, k, "license") { return true }                      // l
            default: continue
            }
        }
        return false
    }

    @inline(__always) static func matches(_ b: UnsafeBufferPointer<UInt8>, _ at: Int, _ word: StaticString) -> Bool {
        let w = word.utf8Start
        let n = word.utf8CodeUnitCount
        guard at + n <= b.count else { return false }
        for k in 0..<n where b[at + k] | 0x20 != w[k] { return false }
        return true
    }

    static let typeWords: Set<String> = ["string", "str", "String", "std::string", "char*", "const", "&str", "Secret", "SecretStr", "bytes"]

    /// The range of the value assigned to the name at `start..<nameEnd`, when there is one and it is a secret.
    static func value(after start: Int, nameEnd: Int, in b: UnsafeBufferPointer<UInt8>, strength: Strength) -> Range<Int>? {
        var strength = strength
        let n = b.count
        var j = nameEnd
        var opener: UInt8? = start > 0 && (b[start - 1] == 0x22 || b[start - 1] == 0x27 || b[start - 1] == 0x60) ? b[start - 1] : nil
        // A quote before the name that does not close after it opens a string the name is in (`"KEY=v"`).
        if let q = opener, !(j < n && (b[j] == q || (b[j] == 0x5C && j + 1 < n && b[j + 1] == q))) { opener = nil }
        let prev: UInt8? = start > (opener == nil ? 0 : 1) ? b[start - (opener == nil ? 1 : 2)] : nil
        _ = prev
        func skipBlanks() { while j < n, b[j] == 0x20 || b[j] == 0x09 { j += 1 } }
        // XML: <name>value</name>
        if opener == nil, start > 0, b[start - 1] == 0x3C, j < n, b[j] == 0x3E {
            var v = j + 1
            while v < n, isSpace(b[v]) { v += 1 }
            var e = v
            while e < n, b[e] != 0x3C, b[e] != 0x0A, b[e] != 0x0D { e += 1 }
            while e > v, isSpace(b[e - 1]) { e -= 1 }
            return accept(v..<e, quoted: true, in: b, strength: strength, name: start..<nameEnd)
        }
        if let opener {
            // `"name"` or, inside JSON text, `\"name\"`.
            if j + 1 < n, b[j] == 0x5C, b[j + 1] == opener { j += 1 }
            guard j < n, b[j] == opener else { return nil }
            j += 1
        }
        skipBlanks()
        guard j < n else { return nil }
        // The operator.
        var op: [UInt8] = []
        for candidate in [":::=", "::=", ":=", "?=", ".=", "+=", "=>", "=", ":"] {
            let bytes = Array(candidate.utf8)
            if j + bytes.count <= n, (0..<bytes.count).allSatisfy({ b[j + $0] == bytes[$0] }) { op = bytes; break }
        }
        var flag = false
        if op.isEmpty {
            // `var token string = "…"`: a type word between the name and `=`.
            var t = j
            while t < n, isNameByte(b[t]) || b[t] == 0x3A || b[t] == 0x2A || b[t] == 0x26 { t += 1 }
            if t > j, typeWords.contains(String(decoding: b[j..<t], as: UTF8.self)) {
                j = t
                skipBlanks()
                guard j < n, b[j] == 0x3D, j + 1 >= n || b[j + 1] != 0x3D else { return nil }
                op = [0x3D]
            } else if b[j] == 0x2C, opener != nil {
                // `setProperty("TOKEN", "…")`, `setenv("TOKEN", "…")`: a quoted name as a call's first argument.
                var k = start - 2
                while k >= 0, b[k] == 0x20 { k -= 1 }
                guard k >= 0, b[k] == 0x28 else { return nil }
                op = [0x2C]
            } else if isFlag(start, in: b) || isNetrc(start, nameEnd: nameEnd, in: b) {
                flag = true
            } else {
                return nil
            }
        }
        j += op.count
        if op == [0x3D], j < n, b[j] == 0x3D { return nil }  // `==`
        if op == [0x3A] {
            // `name: value` needs a blank or a quote after the colon (not `a::b`, not `http://`).
            guard j < n, b[j] == 0x20 || b[j] == 0x09 || b[j] == 0x22 || b[j] == 0x27 else { return nil }
            // `password: str = "…"` (a type annotation, then the value).
            var t = j
            while t < n, b[t] == 0x20 { t += 1 }
            var e = t
            while e < n, isNameByte(b[e]) || b[e] == 0x5B || b[e] == 0x5D { e += 1 }
            if e > t, typeWords.contains(String(decoding: b[t..<e], as: UTF8.self)) || b[t..<e].starts(with: Array("Optional".utf8)) {
                var k = e
                while k < n, b[k] == 0x20 { k += 1 }
                if k < n, b[k] == 0x3D { j = k + 1 } else { return nil }
            }
        }
        skipBlanks()
        guard j < n else { return nil }
        // Headers with a scheme: `Authorization: Token abc`, `Bearer abc`.
        let headerName = String(decoding: b[start..<nameEnd], as: UTF8.self).lowercased()
        if headerName.hasSuffix("authorization") || headerName == "auth" {
            var e = j
            if b[e] == 0x22 || b[e] == 0x27 { e += 1 }
            let wordStart = e
            while e < n, isNameByte(b[e]) { e += 1 }
            if e < n, b[e] == 0x20 || b[e] == 0x09, e > wordStart {
                let scheme = String(decoding: b[wordStart..<e], as: UTF8.self).lowercased()
                if ["bearer", "basic", "token", "api-token", "bot", "digest", "apikey", "api-key", "key", "sso-key", "ssws", "oauth", "negotiate", "otp"].contains(scheme) {
                    j = e
                    skipBlanks()
                    // A credential scheme says what follows is a credential, whatever its shape (a 40-hex
                    // token is not a git SHA there).
                    strength = .strong
                }
            }
        }
        // The value: quoted or bare (`\"…\"` inside JSON text).
        if b[j] == 0x5C, j + 1 < n, b[j + 1] == 0x22 || b[j + 1] == 0x27 {
            let q = b[j + 1]
            var e = j + 2
            while e + 1 < n, !(b[e] == 0x5C && b[e + 1] == q), b[e] != 0x0A { e += 1 }
            guard e + 1 < n, b[e] == 0x5C else { return nil }
            return accept((j + 2)..<e, quoted: true, in: b, strength: strength, name: start..<nameEnd)
        }
        let q = b[j]
        if q == 0x22 || q == 0x27 || q == 0x60 {
            var e = j + 1
            while e < n, b[e] != q, b[e] != 0x0A, b[e] != 0x0D {
                if b[e] == 0x5C, e + 1 < n, b[e + 1] != 0x0A { e += 2 } else { e += 1 }
            }
            guard e < n, b[e] == q else { return nil }
            // Shell command substitution, not a Go raw string: `KEY=\`cmd args\``.
            if q == 0x60, b[(j + 1)..<e].contains(0x20) { return nil }
            return accept((j + 1)..<min(e, n), quoted: true, in: b, strength: strength, name: start..<nameEnd)
        }
        if q == 0x7C || q == 0x3E { return nil }   // a YAML block scalar (Kubernetes secrets are read apart)
        if flag, q == 0x2D { return nil }          // `--token --verbose`: no value
        let query = prev == 0x3F || prev == 0x26   // `?token=…&`
        var e = j
        while e < n {
            let c = b[e]
            if isSpace(c) || c == 0x22 || c == 0x27 || c == 0x60 || c == 0x2C || c == 0x3B || c == 0x29 || c == 0x7D || c == 0x5D
                || c == 0x3C || c == 0x3E || c == 0x7C { break }
            if c == 0x26, query || (e + 1 < n && b[e + 1] == 0x26) { break }
            if c == 0x23, query { break }
            // An escaped line end or quote inside JSON text: `TOKEN=abc\nNEXT=1`.
            if c == 0x5C, e + 1 < n, [0x6E, 0x72, 0x74, 0x22, 0x27].contains(b[e + 1]) { break }
            e += 1
        }
        return accept(j..<e, quoted: false, in: b, strength: strength, name: start..<nameEnd)
    }

    /// `--token value`, `-token value`: a name after one or two dashes at a word start.
    static func isFlag(_ start: Int, in b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard start >= 1, b[start - 1] == 0x2D else { return false }
        let d = start >= 2 && b[start - 2] == 0x2D ? start - 2 : start - 1
        return d == 0 || isSpace(b[d - 1])
    }

    /// `.netrc`: `machine host login user password secret`.
    static func isNetrc(_ start: Int, nameEnd: Int, in b: UnsafeBufferPointer<UInt8>) -> Bool {
        let name = String(decoding: b[start..<nameEnd], as: UTF8.self)
        guard name == "password" || name == "passwd" else { return false }
        var k = start
        while k > 0, b[k - 1] != 0x0A { k -= 1 }
        let line = String(decoding: b[k..<start], as: UTF8.self)
        return line.contains("login ") || line.contains("machine ")
    }

    @inline(__always) static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }

    static let codeWords: Set<String> = [
        "none", "null", "nil", "true", "false", "undefined", "str", "string", "optional", "bool", "int", "bytes", "required",
        "secret", "password", "token", "await", "new", "function", "lambda", "async", "getpass", "input", "return", "yield",
        "default", "env", "string?", "any", "object", "unknown", "empty", "notset", "not_set", "unset", "omitted", "hidden", "masked",
    ]
    static let referencePrefixes = [
        "$", "%", "<", "{", "[", "(", "#{", "@", "*", "&", "os.", "self.", "this.", "process.", "env.", "config.", "settings.", "args.",
        "options.", "kwargs", "params.", "request.", "var.", "local.", "module.", "data.", "secrets.", "vars.", "inputs.", "ctx.",
        "context.", "props.", "environment.", "system.", "import.", "cfg.", "conf.", "app.", "opts.", "credentials.", "getenv",
        "/", "./", "../", "~/", "http://", "https://", "file:", "arn:", "sha256:", "sha512:", "ref:", "vault:", "!", "-",
    ]

    static let referencePrefixBytes = referencePrefixes.map { Array($0.utf8) }
    static let longestCodeWord = codeWords.map(\.utf8.count).max() ?? 0

    /// Whether a found value is a secret; its range when it is. (On bytes, cheapest tests first: it runs
    /// for every secret-like name in the text.)
    static func accept(_ r: Range<Int>, quoted: Bool, in b: UnsafeBufferPointer<UInt8>, strength: Strength, name: Range<Int>) -> Range<Int>? {
        guard r.count >= 3, r.count <= 2048 else { return nil }
        let v = Array(b[r])
        // A short lower-case word (`"token": "object"`, `key: locale`) names something; it is not a credential.
        if v.count <= 10, v.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) { return nil }
        if strength == .weak {
            guard Entropy.looksRandom(v) else { return nil }
        }
        if v.starts(with: markerPrefix) { return nil }
        let lower = v.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        if lower.count <= longestCodeWord, codeWords.contains(String(decoding: lower, as: UTF8.self)) { return nil }
        if referencePrefixBytes.contains(where: { lower.starts(with: $0) }) { return nil }
        for (k, c) in lower.enumerated() {
            if c == 0x28 || c == 0x5B { return nil }                                              // ( [
            if k + 1 < lower.count, (c == 0x24 || c == 0x7B) && (lower[k + 1] == 0x7B || lower[k + 1] == 0x28) && !(c == 0x7B && lower[k + 1] == 0x28) {
                return nil                                                                        // ${ {{ $(
            }
        }
        // A typed-by-hand value (`12345678-ABCD-…`) is a fixture behind a weak name; behind a strong one
        // (token, secret, password) a long one is kept out of the data all the same: a fixture lost costs
        // little, a real key that looks like one costs a leak.
        if Placeholders.isPlaceholder(v[...]) || (Placeholders.madeUp(v[...]) && (strength == .weak || v.count < 16)) { return nil }
        if nameLike(v) { return nil }
        // The start of another assignment (`"telegram_api_token = "`, `token:`), not a value.
        if let last = v.last(where: { $0 != 0x20 }), last == 0x3D || last == 0x3A,
           v.dropLast(v.count - (v.lastIndex(where: { $0 != 0x20 }) ?? 0)).allSatisfy({ ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x5F || $0 == 0x2D || $0 == 0x20 || ($0 >= 0x30 && $0 <= 0x39) }) {
            return nil
        }
        if v.count <= 6, v.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { return nil }    // ports, counts, small numbers
        // The value repeats the name: `api_key=api_key`, `DB_PASSWORD=password`.
        var lo = 0, hi = lower.count
        func trimmed(_ c: UInt8) -> Bool { c == 0x5F || c == 0x2D || c == 0x2E || c == 0x2C || c == 0x3B }
        while lo < hi, trimmed(lower[lo]) { lo += 1 }
        while hi > lo, trimmed(lower[hi - 1]) { hi -= 1 }
        if hi - lo >= 3 {
            let nameLower = b[name].map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
            if nameLower.firstRange(of: lower[lo..<hi]) != nil { return nil }
        }
        if !quoted {
            // A bare identifier in code (`token = get_token`, `key: value_name`) is a reference; an
            // upper-case shell name (`DB_PASSWORD=hunter`) takes any value.
            let identifier = v.allSatisfy { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A || $0 == 0x5F || $0 == 0x2E }
            let shellName = b[name].allSatisfy { !($0 >= 0x61 && $0 <= 0x7A) }
            if identifier && (!shellName || v.contains(0x2E)) && (v.contains(0x5F) || v.contains(0x2E) || v.count <= 12) { return nil }
            if identifier && !shellName && v.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) { return nil }
        }
        return r
    }

    static let markerPrefix = Array("[REDACTED".utf8)

    /// A name, not a credential: lower-case words joined by `-`, `_` or `.` (`api-key`,
    /// `my-secrets-manager-secret`, `jetbrains.mps.v8_elimination`) — what a manifest's `secretKey:` or an
    /// XML `key="…"` attribute holds. Two to five parts, each a short word (a vowel in it) or a short
    /// letters-and-digits part (`v8`).
    static func nameLike(_ v: [UInt8]) -> Bool {
        guard v.count <= 48, v.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }) else { return false }
        let parts = v.split(omittingEmptySubsequences: false, whereSeparator: { $0 == 0x2D || $0 == 0x5F || $0 == 0x2E })
        guard parts.count >= 2, parts.count <= 5 else { return false }
        let vowels: Set<UInt8> = Set("aeiouy".utf8)
        return parts.allSatisfy { p in
            guard !p.isEmpty, p.count <= 14, p.contains(where: { $0 >= 0x61 && $0 <= 0x7A }) else { return false }
            return p.count <= 3 || p.contains(where: vowels.contains)
        } && v.filter({ $0 >= 0x30 && $0 <= 0x39 }).count <= 2
    }
}

/// Shannon entropy and the shapes of random-looking values agent runs are full of but that are not
/// secrets.
enum Entropy {
    static func bitsPerByte(_ v: [UInt8]) -> Double {
        var counts = [Int](repeating: 0, count: 256)
        for c in v { counts[Int(c)] += 1 }
        let n = Double(v.count)
        return counts.reduce(0.0) { h, c in c == 0 ? h : h - Double(c) / n * log2(Double(c) / n) }
    }

    /// A value that reads as random (high entropy, long enough) and is not a git SHA, a sha256 digest,
    /// a UUID, base64 image data, a version or build id, or a fixture made of one repeated pattern.
    static func looksRandom(_ v: [UInt8]) -> Bool {
        guard v.count >= 12 else { return false }
        if isAllowance(v) { return false }
        let hasDigit = v.contains { $0 >= 0x30 && $0 <= 0x39 }
        let hasLetter = v.contains { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A }
        // Generated values switch between upper case, lower case and digits often; names and words do not.
        func cls(_ c: UInt8) -> Int { c >= 0x30 && c <= 0x39 ? 0 : c >= 0x41 && c <= 0x5A ? 1 : c >= 0x61 && c <= 0x7A ? 2 : 3 }
        var switches = 0
        for k in 1..<v.count where cls(v[k]) != cls(v[k - 1]) { switches += 1 }
        return hasDigit && hasLetter && bitsPerByte(v) >= 3.3 && switches * 5 >= v.count
    }

    static func isAllowance(_ v: [UInt8]) -> Bool {
        let isHex = v.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) }
        if isHex && (v.count == 40 || v.count == 64 || v.count == 7 || v.count == 12) { return true }   // git SHAs, sha256, short SHAs
        if v.count == 36, [8, 13, 18, 23].allSatisfy({ v[$0] == 0x2D }) { return true }                   // UUIDs
        let s = String(decoding: v, as: UTF8.self)
        if s.hasPrefix("data:") || s.hasPrefix("iVBORw0KGgo") || s.hasPrefix("/9j/") || s.hasPrefix("R0lGOD") { return true }  // images
        if s.hasPrefix("sha256-") || s.hasPrefix("sha512-") || s.hasPrefix("sha1-") { return true }     // integrity hashes
        // Versions and build ids: digits, dots, dashes and a few letters (`1.2.3-rc.1+build.45`, `rc0.13.0_20230412_0712-SNAPSHOT`).
        if v.filter({ $0 == 0x2E || $0 == 0x2D || $0 == 0x5F }).count >= 3 && v.filter({ $0 >= 0x30 && $0 <= 0x39 }).count * 2 >= v.count - 10 { return true }
        return false
    }
}

