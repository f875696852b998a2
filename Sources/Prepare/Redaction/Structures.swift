import Foundation

/// Secrets that a structure, not a name, gives away: the `data` of a Kubernetes `Secret` manifest,
/// `curl -u user:password`, `docker login -p …`, `mysql -p…`, a NuGet/.NET `<add key="…Password"
/// value="…"/>`, Bundler's `BUNDLE_<HOST>=user:password`, `<app id>|<secret>`, `<bot id>:A…`.
enum Structures {
    /// Findings in `b`, given which of `Words` occur in it (from the redactor's trigger scan).
    static func find(in b: UnsafeBufferPointer<UInt8>, words: Words) -> [(range: Range<Int>, kind: String)] {
        if words.isEmpty { return [] }
        var out: [(range: Range<Int>, kind: String)] = []
        if words.contains(.secret), words.contains(.kind) { out += kubernetesSecretData(b) }
        if words.contains(.curl) || words.contains(.wget) { out += commandCredentials(b, flags: ["-u", "--user"], needsColon: true, kind: "basic-auth") }
        if words.contains(.login) { out += commandCredentials(b, flags: ["-p"], needsColon: false, kind: "password") }
        if words.contains(.mysql) || words.contains(.mariadb) { out += attachedPassword(b) }
        if words.contains(.addKey) { out += keyValueElements(b) }
        if words.contains(.bundle) { out += bundlerCredentials(b) }
        if words.contains(.pipe) { out += numberedTokens(b, separator: 0x7C, digits: 15...16, lengths: [27, 32], firstLetterA: false, kind: "facebook-token") }
        if words.contains(.colonA) { out += numberedTokens(b, separator: 0x3A, digits: 8...10, lengths: [35], firstLetterA: true, kind: "telegram-bot-token") }
        return out.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }

    /// Which of the words a structure needs occur in the text (any ASCII case).
    struct Words: OptionSet, Sendable {
        let rawValue: UInt16
        static let secret = Words(rawValue: 1), kind = Words(rawValue: 2), curl = Words(rawValue: 4), wget = Words(rawValue: 8)
        static let login = Words(rawValue: 16), mysql = Words(rawValue: 32), mariadb = Words(rawValue: 64)
        static let addKey = Words(rawValue: 128), bundle = Words(rawValue: 256), pipe = Words(rawValue: 512), colonA = Words(rawValue: 1024)
        /// The words, word k being bit k (the order of the redactor's gate bits).
        static let spelled = ["secret", "kind", "curl", "wget", "login", "mysql", "mariadb", "<add key", "bundle_", "|", ":a"]

        /// The words a plain search finds (the reference the trigger scan's gate bits must equal).
        static func search(_ b: UnsafeBufferPointer<UInt8>) -> Words {
            var found: Words = []
            for (k, word) in spelled.enumerated() {
                let w = Array(word.utf8)
                guard w.count <= b.count else { continue }
                for i in 0...(b.count - w.count) where (0..<w.count).allSatisfy({ b[i + $0] | 0x20 == w[$0] }) {
                    found.insert(Words(rawValue: 1 << UInt16(k)))
                    break
                }
            }
            return found
        }
    }

    /// Lines of the text: (start, end) byte offsets without the line end.
    static func lines(_ b: UnsafeBufferPointer<UInt8>) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        var s = 0
        for i in 0..<b.count where b[i] == 0x0A {
            out.append((s, i > s && b[i - 1] == 0x0D ? i - 1 : i))
            s = i + 1
        }
        out.append((s, b.count))
        return out
    }

    static func indent(_ b: UnsafeBufferPointer<UInt8>, _ line: (Int, Int)) -> Int {
        var k = line.0
        while k < line.1, b[k] == 0x20 || b[k] == 0x09 { k += 1 }
        return k - line.0
    }

    /// A manifest with `kind: Secret`: every value under `data:` / `stringData:`, block scalars line by line.
    static func kubernetesSecretData(_ b: UnsafeBufferPointer<UInt8>) -> [(range: Range<Int>, kind: String)] {
        let ls = lines(b)
        func content(_ l: (Int, Int)) -> String {
            String(decoding: b[(l.0 + indent(b, l))..<l.1], as: UTF8.self)
        }
        let isSecret = ls.contains { l in
            let c = content(l).lowercased().replacingOccurrences(of: "\"", with: "").replacingOccurrences(of: "'", with: "")
            return c.hasPrefix("kind:") && c.dropFirst(5).trimmingCharacters(in: .whitespaces) == "secret"
        }
        guard isSecret else { return [] }
        // Only the YAML documents (`---`) that are Secrets.
        var documents: [[(Int, Int)]] = [[]]
        for l in ls { if content(l) == "---" { documents.append([]) } else { documents[documents.count - 1].append(l) } }
        if documents.count > 1 {
            return documents.flatMap { doc -> [(range: Range<Int>, kind: String)] in
                guard let first = doc.first, let last = doc.last else { return [] }
                return kubernetesSecretData(UnsafeBufferPointer(rebasing: b[first.0..<last.1]))
                    .map { ((first.0 + $0.range.lowerBound)..<(first.0 + $0.range.upperBound), $0.kind) }
            }
        }
        var out: [(range: Range<Int>, kind: String)] = []
        var k = 0
        while k < ls.count {
            let c = content(ls[k])
            guard c == "data:" || c == "stringData:" else { k += 1; continue }
            let base = indent(b, ls[k])
            k += 1
            while k < ls.count {
                let l = ls[k]
                let c = content(l)
                if c.isEmpty || c.hasPrefix("#") { k += 1; continue }
                let ind = indent(b, l)
                if ind <= base { break }
                // `name: value`: the value after the first `: `.
                let start = l.0 + ind
                var colon = start
                while colon < l.1, b[colon] != 0x3A { colon += 1 }
                guard colon < l.1 else { k += 1; continue }
                var v = colon + 1
                while v < l.1, b[v] == 0x20 || b[v] == 0x09 { v += 1 }
                var e = l.1
                while e > v, b[e - 1] == 0x20 { e -= 1 }
                if v < e, b[v] == 0x22 || b[v] == 0x27, e - v >= 2, b[e - 1] == b[v] { v += 1; e -= 1 }
                if v < e, b[v] == 0x7C || b[v] == 0x3E {
                    // A block scalar: the more-indented lines that follow.
                    k += 1
                    while k < ls.count, indent(b, ls[k]) > ind || ls[k].0 == ls[k].1 {
                        let m = ls[k]
                        let s = m.0 + indent(b, m)
                        if s < m.1 { out.append((s..<m.1, "kubernetes-secret")) }
                        k += 1
                    }
                    continue
                }
                let value = String(decoding: b[v..<e], as: UTF8.self)
                if e - v >= 12, !value.hasPrefix("{{"), !value.hasPrefix("${") { out.append((v..<e, "kubernetes-secret")) }
                k += 1
            }
        }
        return out
    }

    /// `curl -u user:pass`, `--user 'a:b'`, `docker login -p secret`: the word after the flag.
    static func commandCredentials(_ b: UnsafeBufferPointer<UInt8>, flags: [String], needsColon: Bool, kind: String) -> [(range: Range<Int>, kind: String)] {
        var out: [(range: Range<Int>, kind: String)] = []
        let n = b.count
        var i = 0
        while i < n {
            guard b[i] == 0x2D, i == 0 || Assignments.isSpace(b[i - 1]) else { i += 1; continue }
            var matched: Int? = nil
            for f in flags {
                let fb = Array(f.utf8)
                if i + fb.count < n, (0..<fb.count).allSatisfy({ b[i + $0] == fb[$0] }), b[i + fb.count] == 0x20 || b[i + fb.count] == 0x3D {
                    matched = i + fb.count + 1
                }
            }
            guard var j = matched else { i += 1; continue }
            while j < n, b[j] == 0x20 { j += 1 }
            // A shell word: quoted pieces and bare characters up to a blank.
            let start = j
            var colon = false
            while j < n, !Assignments.isSpace(b[j]) {
                let c = b[j]
                if c == 0x22 || c == 0x27 {
                    j += 1
                    while j < n, b[j] != c, b[j] != 0x0A { if b[j] == 0x3A { colon = true }; j += 1 }
                    if j < n, b[j] == c { j += 1 }
                    continue
                }
                if c == 0x3A { colon = true }
                j += 1
            }
            var s = start, e = j
            if e - s >= 2, b[s] == 0x22 || b[s] == 0x27, b[e - 1] == b[s] { s += 1; e -= 1 }
            let value = Array(b[s..<e])
            var reference = value.first == 0x24 || value.isEmpty || value.first == 0x2D || value.first == 0x7B || value.first == 0x5B
            if needsColon, let c = value.firstIndex(of: 0x3A) {
                // `user:password`: a made-up or referenced password (`user:pass`, `test:test`, `u:${P}`) is not a secret.
                let user = Array(value[..<c]), pass = Array(value[(c + 1)...]).filter { $0 != 0x22 && $0 != 0x27 }
                let text = String(decoding: pass, as: UTF8.self).lowercased()
                let plain = pass.allSatisfy { $0 >= 0x61 && $0 <= 0x7A } && pass.count <= 10
                if pass.isEmpty { reference = reference || user.count < 6 }
                else if plain || pass == user || text.contains("$") || text.contains("{") || text.contains("[")
                            || Placeholders.isPlaceholder(pass[...]) { reference = true }
            }
            if !reference, !needsColon || colon, e - s >= 3, !Placeholders.isPlaceholder(value[...]) { out.append((s..<e, kind)) }
            i = max(j, i + 1)
        }
        return out
    }

    /// The quoted value of attribute `name` (lower case) inside the tag `b[tag]`, as a range (without the quotes).
    static func attribute(_ name: StaticString, in b: UnsafeBufferPointer<UInt8>, _ tag: Range<Int>) -> Range<Int>? {
        let length = name.utf8CodeUnitCount
        var i = tag.lowerBound
        while i + length + 2 < tag.upperBound {
            if i == tag.lowerBound || Assignments.isSpace(b[i - 1]), Assignments.matches(b, i, name) {
                var j = i + length
                while j < tag.upperBound, b[j] == 0x20 { j += 1 }
                if j < tag.upperBound, b[j] == 0x3D {
                    j += 1
                    while j < tag.upperBound, b[j] == 0x20 { j += 1 }
                    if j < tag.upperBound, b[j] == 0x22 || b[j] == 0x27 {
                        let q = b[j]
                        var e = j + 1
                        while e < tag.upperBound, b[e] != q, b[e] != 0x0A { e += 1 }
                        if e < tag.upperBound, b[e] == q { return (j + 1)..<e }
                    }
                }
            }
            i += 1
        }
        return nil
    }

    /// `<add key="ClearTextPassword" value="…" />` (NuGet.config, app.config, web.config): the value of an
    /// element whose key is a secret-like name (`Password`, `ApiKey`, `ClientSecret`).
    static func keyValueElements(_ b: UnsafeBufferPointer<UInt8>) -> [(range: Range<Int>, kind: String)] {
        var out: [(range: Range<Int>, kind: String)] = []
        let n = b.count
        var i = 0
        while i + 4 < n {
            guard Assignments.matches(b, i, "<add"), Assignments.isSpace(b[i + 4]) else { i += 1; continue }
            var end = i + 4
            while end < n, b[end] != 0x3E, b[end] != 0x0A { end += 1 }
            let tag = (i + 4)..<end
            // The value is judged as any named value is (references, short words, made-up stand-in values are left).
            if let key = attribute("key", in: b, tag), case let strength = Assignments.strength(of: b[key]), strength != .none,
               let value = attribute("value", in: b, tag),
               let found = Assignments.accept(value, quoted: true, in: b, strength: strength, name: key) {
                out.append((found, "password"))
            }
            i = end
        }
        return out
    }

    /// Bundler's gem-source credentials, `BUNDLE_<HOST with . as __>=user:password` (`BUNDLE_GEMS__CONTRIBSYS__COM`),
    /// in the environment, a shell line or YAML (`.bundle/config`).
    static func bundlerCredentials(_ b: UnsafeBufferPointer<UInt8>) -> [(range: Range<Int>, kind: String)] {
        var out: [(range: Range<Int>, kind: String)] = []
        let n = b.count
        let prefix = Array("BUNDLE_".utf8)  // exactly: `Assignments.matches` folds case, which `_` does not survive
        var i = 0
        while i + prefix.count < n {
            guard b[i] == 0x42, b[i..<(i + prefix.count)].elementsEqual(prefix), i == 0 || !Assignments.isNameByte(b[i - 1]) else { i += 1; continue }
            var j = i + prefix.count
            var doubled = false
            while j < n, (b[j] >= 0x41 && b[j] <= 0x5A) || (b[j] >= 0x30 && b[j] <= 0x39) || b[j] == 0x5F {
                if b[j] == 0x5F, j + 1 < n, b[j + 1] == 0x5F { doubled = true }
                j += 1
            }
            guard doubled else { i = j; continue }  // a host name has a dot: `__` in the variable
            let name = i..<j
            while j < n, b[j] == 0x20 { j += 1 }
            guard j < n, b[j] == 0x3D || b[j] == 0x3A else { i = j; continue }
            j += 1
            while j < n, b[j] == 0x20 { j += 1 }
            var s = j, e = j
            if s < n, b[s] == 0x22 || b[s] == 0x27 {
                let q = b[s]
                s += 1; e = s
                while e < n, b[e] != q, b[e] != 0x0A { e += 1 }
            } else {
                while e < n, !Assignments.isSpace(b[e]), b[e] != 0x3B, b[e] != 0x26 { e += 1 }
            }
            // `user:password`, judged as any named value is (the variable is the name).
            if let colon = b[s..<e].firstIndex(of: 0x3A), colon > s, colon + 1 < e,
               let found = Assignments.accept(s..<e, quoted: true, in: b, strength: .strong, name: name) {
                out.append((found, "password"))
            }
            i = max(e, i + 1)
        }
        return out
    }

    /// Tokens made of a number, a separator and a secret: Facebook app access tokens (`<app id>|<27
    /// base64url characters or 32 hex digits>`, what the Graph API returns) and Telegram bot tokens
    /// (`<bot id>:A<34 characters>`). The number must stand alone (not inside a longer number or word).
    static func numberedTokens(_ b: UnsafeBufferPointer<UInt8>, separator: UInt8, digits: ClosedRange<Int>, lengths: [Int],
                               firstLetterA: Bool, kind: String) -> [(range: Range<Int>, kind: String)] {
        var out: [(range: Range<Int>, kind: String)] = []
        let n = b.count
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        func isBody(_ c: UInt8) -> Bool { (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || isDigit(c) || c == 0x5F || c == 0x2D }
        var i = 0
        while i < n {
            guard b[i] == separator else { i += 1; continue }
            var d = i
            while d > 0, isDigit(b[d - 1]) { d -= 1 }
            let count = i - d
            guard digits.contains(count), d == 0 || !isBody(b[d - 1]) else { i += 1; continue }
            var e = i + 1
            while e < n, isBody(b[e]) { e += 1 }
            let body = b[(i + 1)..<e]
            if lengths.contains(body.count), !firstLetterA || body.first == 0x41,
               body.contains(where: { $0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A }), body.contains(where: isDigit),
               !Placeholders.isPlaceholder(Array(body)[...]) {
                out.append((d..<e, kind))
            }
            i = e
        }
        return out
    }

    /// `mysql -psecret`, `mysqldump -u root -p'secret'`.
    static func attachedPassword(_ b: UnsafeBufferPointer<UInt8>) -> [(range: Range<Int>, kind: String)] {
        var out: [(range: Range<Int>, kind: String)] = []
        let n = b.count
        var i = 0
        while i + 2 < n {
            guard b[i] == 0x2D, b[i + 1] == 0x70, i == 0 || Assignments.isSpace(b[i - 1]), !Assignments.isSpace(b[i + 2]) else { i += 1; continue }
            var s = i + 2, e = s
            while e < n, !Assignments.isSpace(b[e]) { e += 1 }
            if e - s >= 2, b[s] == 0x22 || b[s] == 0x27, b[e - 1] == b[s] { s += 1; e -= 1 }
            if e - s >= 3, b[s] != 0x24 { out.append((s..<e, "password")) }
            i = e
        }
        return out
    }
}
