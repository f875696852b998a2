import Foundation

/// One simple command as a shell would run it: words after quote removal and expansion of the
/// variables the judge knows, its redirections and its standard input, with the wrappers that only
/// change how it runs (`sudo`, `env`, `nohup`, `timeout`, `xargs`…) taken off and noted.
public struct ShellCommand: Sendable, Hashable, Codable {
    public struct Redirect: Sendable, Hashable, Codable {
        /// `>`, `>>`, `<`, `<<`, `<<<`, `&>`, `>&` (file descriptors are dropped).
        public var op: String
        public var target: String
    }

    public var words: [String]
    public var redirects: [Redirect] = []
    /// A here-document's or here-string's text.
    public var stdin: String?
    /// The program whose output this command reads through a pipe (its first word), when piped.
    public var pipedFrom: String?
    /// Index (in the parse) of the command feeding this one through a pipe.
    public var pipedFromIndex: Int?
    /// Wrappers removed from the front, e.g. `sudo`, `xargs`.
    public var prefixes: [String] = []
    /// A word held a variable or command output the judge could not know.
    public var unresolved = false
    public var background = false
    /// How many times a loop around it repeats (nil: not in a loop; `Int.max`: unbounded).
    public var repeats: Int?
    /// Nesting: 0 for the action itself, more inside `$(…)`, `bash -c`, scripts it runs.
    public var depth = 0
    /// The host the command runs on when it came through `ssh`, a container for `docker exec`.
    public var remote: String?
    /// `sh`, or the language of a code payload (`python`, `node`, `perl`, `ruby`, `php`) whose text is `words[0]`.
    public var language = "sh"

    public var program: String {
        guard let w = words.first else { return "" }
        return w.split(separator: "/").last.map(String.init) ?? w
    }
    public var arguments: ArraySlice<String> { words.dropFirst() }
    public var text: String { words.joined(separator: " ") }
}

/// What the judge knows at a point of a trajectory: variables assigned, the working directory, files
/// written (so a script written then run is judged by its text), functions defined, PIDs of the
/// agent's own background jobs.
public struct ShellContext: Sendable {
    public var variables: [String: String] = [:]
    /// Variables whose value came from a command, with that command's text (`pid=$(pgrep nginx)`).
    public var derived: [String: String] = [:]
    public var cwd: String?
    public var files: [String: String] = [:]
    public var functions: [String: String] = [:]
    /// Paths the trajectory itself created or wrote (removing or rewriting them undoes its own work).
    public var created: Set<String> = []
    /// Files made from private sources (an archive or copy of a home, secret or system path).
    public var privateFiles: Set<String> = []
    public init() {}
}

/// The parse of one action: every command it would run, at any depth, in order.
public struct ShellParse: Sendable {
    public var commands: [ShellCommand] = []
    /// A function that calls itself in the background or through a pipe (`:(){ :|:& };:`).
    public var forkBomb = false
    /// Parts the parser could not read (an unterminated quote, an unknown script file).
    public var opaque: [String] = []
    /// Variables the action assigns (`X=1`, `export X=1`), in order.
    public var assignments: [(name: String, value: String)] = []
}

/// A shell-language parser good enough to judge what an action does: quotes, escapes, comments,
/// `;` `&&` `||` `|` `&` and newlines, subshells and groups, `$VAR`/`${VAR}` with assignments made
/// earlier, `$(…)` and backticks, process substitution, redirections, here-documents and here-strings,
/// loops and conditionals (their commands are judged; loop counts noted), functions, and the payloads
/// of `bash -c`, `eval`, `su -c`, `ssh host …`, `docker exec`, `kubectl exec`, `python -c`, `node -e`,
/// `perl -e`, scripts written then run.
public struct ShellParser {
    public static let maxDepth = 4

    public static func parse(_ text: String, context: inout ShellContext) -> ShellParse {
        var out = ShellParse()
        var p = ShellParser(text: Array(text.unicodeScalars), depth: 0)
        p.run(into: &out, context: &context)
        return out
    }

    // MARK: - Lexer

    enum Token: Equatable {
        case word(String, unresolved: Bool)
        case op(String)          // | || && ; & ( ) newline as ";"
        case redirect(String)    // > >> < << <<- <<< &> >&
    }

    var s: [Unicode.Scalar]
    var i = 0
    let depth: Int
    var remote: String?

    init(text: [Unicode.Scalar], depth: Int, remote: String? = nil) {
        s = text
        self.depth = depth
        self.remote = remote
    }

    var atEnd: Bool { i >= s.count }
    func peek(_ k: Int = 0) -> Unicode.Scalar? { i + k < s.count ? s[i + k] : nil }

    static func isSpace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" || c == "\r" }
    static func isMeta(_ c: Unicode.Scalar) -> Bool { "|&;()<> \t\r\n".unicodeScalars.contains(c) }
    static func isNameChar(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_"
    }

    /// Text up to the `)` closing a `$(` or `(` just consumed, quotes and nesting respected.
    mutating func balanced(open: Unicode.Scalar, close: Unicode.Scalar) -> String {
        var level = 1
        var out = String.UnicodeScalarView()
        while let c = peek() {
            i += 1
            if c == "\\", let n = peek() { out.append(c); out.append(n); i += 1; continue }
            if c == "'" || c == "\"" {
                out.append(c)
                while let d = peek() {
                    i += 1
                    out.append(d)
                    if d == "\\" && c == "\"", let n = peek() { out.append(n); i += 1; continue }
                    if d == c { break }
                }
                continue
            }
            if c == open { level += 1 }
            if c == close { level -= 1; if level == 0 { break } }
            out.append(c)
        }
        return String(out)
    }

    /// Reads `$…` after the `$`: a variable, `${…}`, `$(…)`, `$((…))`; returns its value or marks it unresolved.
    mutating func dollar(_ ctx: inout ShellContext, _ subs: inout [(String, Bool)], unresolved: inout Bool) -> String {
        guard let c = peek() else { return "$" }
        if c == "(" {
            i += 1
            if peek() == "(" {
                i += 1
                let expr = balanced(open: "(", close: ")")
                if peek() == ")" { i += 1 }
                return Self.arithmetic(expr, ctx) ?? { unresolved = true; return "$((\(expr)))" }()
            }
            let inner = balanced(open: "(", close: ")")
            subs.append((inner, false))
            unresolved = true
            return "$(" + inner + ")"
        }
        if c == "{" {
            i += 1
            let inner = balanced(open: "{", close: "}")
            let name = String(String.UnicodeScalarView(inner.unicodeScalars.prefix(while: Self.isNameChar)))
            if let v = Self.lookup(name, ctx) { return v }
            if let r = inner.range(of: ":-") { return String(inner[r.upperBound...]) }
            unresolved = true
            return "${" + inner + "}"
        }
        if Self.isNameChar(c) || c == "!" || c == "?" || c == "$" || c == "@" || c == "*" || c == "#" {
            var name = String.UnicodeScalarView()
            if Self.isNameChar(c) && !(c >= "0" && c <= "9") {
                while let d = peek(), Self.isNameChar(d) { name.append(d); i += 1 }
            } else {
                name.append(c); i += 1
            }
            let n = String(name)
            if let v = Self.lookup(n, ctx) { return v }
            unresolved = true
            return "$" + n
        }
        return "$"
    }

    static func lookup(_ name: String, _ ctx: ShellContext) -> String? {
        if let v = ctx.variables[name] { return v }
        if name == "HOME" { return "~" }
        if name == "PWD" { return ctx.cwd }
        return nil
    }

    static func arithmetic(_ expr: String, _ ctx: ShellContext) -> String? {
        let t = expr.trimmed(newlines: false)
        if let n = Int(t) { return String(n) }
        return nil
    }

    /// The next token; nil at the end. Substitutions found are appended to `subs` (text, is process substitution).
    mutating func next(_ ctx: inout ShellContext, _ subs: inout [(String, Bool)]) -> Token? {
        while let c = peek(), Self.isSpace(c) { i += 1 }
        guard let c = peek() else { return nil }
        if c == "\\" && peek(1) == "\n" { i += 2; return next(&ctx, &subs) }
        if c == "#" {
            while let d = peek(), d != "\n" { i += 1 }
            return next(&ctx, &subs)
        }
        if c == "\n" {
            i += 1
            return .op("\n")
        }
        // Operators and redirections.
        let two = peek(1).map { String(c) + String($0) } ?? String(c)
        let three = peek(2).map { two + String($0) } ?? two
        if three == "<<<" { i += 3; return .redirect("<<<") }
        if three == "<<-" { i += 3; return .redirect("<<-") }
        if ["&&", "||", ";;"].contains(two) { i += 2; return .op(two == ";;" ? ";" : two) }
        if two == ">>" || two == "&>" || two == ">&" || two == ">|" || two == "<<" || two == "<>" {
            i += 2
            if two == "&>" && peek() == ">" { i += 1 }
            return .redirect(two == ">|" ? ">" : two == "<>" ? "<" : two)
        }
        if (c == "<" || c == ">") && peek(1) == "(" {
            i += 2
            let inner = balanced(open: "(", close: ")")
            subs.append((inner, true))
            return .word("/dev/fd/63", unresolved: true)
        }
        if c == "|" && peek(1) == "&" { i += 2; return .op("|") }
        if "|&;()".unicodeScalars.contains(c) { i += 1; return .op(String(c)) }
        if c == "<" || c == ">" { i += 1; return .redirect(String(c)) }
        // A word: digits right before a redirection are a file descriptor.
        var word = String.UnicodeScalarView()
        var unresolved = false
        var quoted = false
        while let d = peek(), !Self.isMeta(d) {
            if d == "'" {
                quoted = true
                i += 1
                while let e = peek(), e != "'" { word.append(e); i += 1 }
                i += 1
            } else if d == "\"" {
                quoted = true
                i += 1
                while let e = peek(), e != "\"" {
                    if e == "\\", let n = peek(1), "\"\\$`\n".unicodeScalars.contains(n) { if n != "\n" { word.append(n) }; i += 2; continue }
                    if e == "$" { i += 1; word.append(contentsOf: dollar(&ctx, &subs, unresolved: &unresolved).unicodeScalars); continue }
                    if e == "`" {
                        i += 1
                        let inner = backtick()
                        subs.append((inner, false)); unresolved = true
                        word.append(contentsOf: ("`" + inner + "`").unicodeScalars)
                        continue
                    }
                    word.append(e); i += 1
                }
                i += 1
            } else if d == "\\" {
                i += 1
                if let e = peek() { if e != "\n" { word.append(e) }; i += 1 }
            } else if d == "$" {
                i += 1
                if peek() == "'" {
                    // ANSI-C quoting: common escapes.
                    i += 1
                    while let e = peek(), e != "'" {
                        if e == "\\", let n = peek(1) {
                            i += 2
                            switch n { case "n": word.append("\n"); case "t": word.append("\t"); default: word.append(n) }
                            continue
                        }
                        word.append(e); i += 1
                    }
                    i += 1
                } else {
                    word.append(contentsOf: dollar(&ctx, &subs, unresolved: &unresolved).unicodeScalars)
                }
            } else if d == "`" {
                i += 1
                let inner = backtick()
                subs.append((inner, false)); unresolved = true
                word.append(contentsOf: ("`" + inner + "`").unicodeScalars)
            } else if d == "{" && word.isEmpty && (peek(1).map { Self.isSpace($0) || $0 == "\n" } ?? true) {
                i += 1
                return .op("{")
            } else {
                word.append(d); i += 1
            }
        }
        let w = String(word)
        if !quoted, w.allSatisfy(\.isNumber), let n = peek(), n == ">" || n == "<" { return next(&ctx, &subs) }
        if !quoted && w == "}" { return .op("}") }
        return .word(w, unresolved: unresolved)
    }

    mutating func backtick() -> String {
        var out = String.UnicodeScalarView()
        while let c = peek(), c != "`" {
            if c == "\\", let n = peek(1) { out.append(n); i += 2; continue }
            out.append(c); i += 1
        }
        i += 1
        return String(out)
    }

    /// The body of a here-document whose operator was just read: the lines after the current one up to
    /// the delimiter, taken out of the text so the lexer goes on after them.
    mutating func takeHeredoc(_ delimiter: String, strip: Bool) -> String {
        var k = i
        while k < s.count, s[k] != "\n" { k += 1 }
        guard k < s.count else { return "" }
        let bodyStart = k + 1
        var j = bodyStart
        var lines: [String] = []
        var end = s.count
        while j < s.count {
            var e = j
            while e < s.count, s[e] != "\n" { e += 1 }
            var l = String(String.UnicodeScalarView(s[j..<e]))
            if strip { l = String(l.drop(while: { $0 == "\t" })) }
            let next = min(e + 1, s.count)
            if l.trimmed(newlines: false) == delimiter { end = next; break }
            lines.append(l)
            j = next
            end = next
        }
        s.removeSubrange(bodyStart..<end)
        return lines.joined(separator: "\n")
    }

    // MARK: - Parser

    struct Pending {
        var words: [(String, Bool)] = []
        var redirects: [ShellCommand.Redirect] = []
        var stdin: String?
    }

    static let keywords: Set<String> = ["if", "then", "else", "elif", "while", "until", "do", "!", "time", "{", "}", "fi", "done", "esac"]

    mutating func run(into out: inout ShellParse, context ctx: inout ShellContext) {
        var pending = Pending()
        var subs: [(String, Bool)] = []
        var pipeFrom: Int?
        var pipeProgram: String?
        // The repeat counts of the loops we are inside (`Int.max`: unbounded, 1: unknown but bounded).
        var loopStack: [Int] = []
        var pendingLoop: Int?
        var functionName: String?
        var functionStack: [(name: String, start: Int)] = []
        var expectRedirectTarget: String?

        func loopRepeats() -> Int? {
            guard !loopStack.isEmpty else { return nil }
            var total = 1
            for c in loopStack {
                let (m, overflow) = total.multipliedReportingOverflow(by: c)
                total = overflow ? Int.max : m
            }
            return total
        }

        let myDepth = depth
        let myRemote = remote
        func flush(_ separator: String, parser: inout ShellParser) {
            defer { pending = Pending() }
            // Inside a function definition nothing runs yet; the body is judged where it is called. A
            // body that calls its own function through a pipe or in the background is a fork bomb.
            if let fn = functionStack.last?.name {
                if pending.words.first?.0 == fn, separator == "|" || separator == "&" || pipeProgram == fn { out.forkBomb = true }
                pipeProgram = separator == "|" ? pending.words.first?.0 : nil
                subs.removeAll()
                return
            }
            // Substitutions run first.
            for (inner, _) in subs { parser.nested(inner, into: &out, context: &ctx, repeats: loopRepeats()) }
            subs.removeAll()
            var words = pending.words
            var loopHeader = false
            while let w = words.first?.0, Self.keywords.contains(w) {
                switch w {
                case "do": loopStack.append(pendingLoop ?? 1); pendingLoop = nil
                case "done": if !loopStack.isEmpty { loopStack.removeLast() }
                case "while", "until": loopHeader = true
                default: break
                }
                words.removeFirst()
            }
            if let w = words.first?.0 {
                if w == "for" || w == "select" {
                    pendingLoop = Self.loopCount(words.map(\.0))
                    // The loop variable takes the listed words: remember where they come from.
                    if words.count >= 2 {
                        let name = words[1].0
                        ctx.variables[name] = nil
                        ctx.derived[name] = words.dropFirst(3).map(\.0).joined(separator: " ")
                    }
                    words.removeAll()
                }
                else if w == "case" { words.removeAll() }
            }
            if loopHeader {
                if words.count == 1, ["true", ":"].contains(words[0].0) { pendingLoop = Int.max; words.removeAll() } else { pendingLoop = 1 }
            }
            // Assignments before the command or on their own; `export`/`local`/`declare` lines.
            var assigned: [(String, String, Bool)] = []
            if let first = words.first?.0, ["export", "local", "declare", "readonly", "typeset"].contains(first) {
                words.removeFirst()
                words.removeAll { $0.0.hasPrefix("-") }
                for (w, u) in words { if let (k, v) = Self.assignment(w) { assigned.append((k, v, u)) } }
                words.removeAll()
            }
            while let (w, u) = words.first, let (k, v) = Self.assignment(w) {
                assigned.append((k, v, u))
                words.removeFirst()
            }
            out.assignments += assigned.map { (name: $0.0, value: $0.1) }
            if words.isEmpty {
                for (k, v, unresolved) in assigned {
                    if unresolved { ctx.variables[k] = nil; ctx.derived[k] = v } else { ctx.variables[k] = v; ctx.derived[k] = nil }
                }
                if !pending.redirects.isEmpty || pending.stdin != nil {
                    out.commands.append(ShellCommand(words: [":"], redirects: pending.redirects, stdin: pending.stdin, depth: myDepth, remote: myRemote))
                    Self.noteEffectsOnContext(out.commands[out.commands.count - 1], &ctx)
                }
                pipeFrom = nil; pipeProgram = nil
                return
            }
            var command = ShellCommand(words: words.map(\.0), redirects: pending.redirects, stdin: pending.stdin,
                                       unresolved: words.contains(where: \.1), background: separator == "&", repeats: loopRepeats(),
                                       depth: myDepth, remote: myRemote)
            if let from = pipeFrom { command.pipedFromIndex = from; command.pipedFrom = pipeProgram }
            parser.unwrap(&command, into: &out, context: &ctx)
            if let body = ctx.functions[command.program] {
                // A call of a function defined earlier: its body runs with the call's arguments.
                let saved = (1...9).map { ctx.variables[String($0)] }
                for k in 1...9 { ctx.variables[String(k)] = k < command.words.count ? command.words[k] : nil }
                parser.nested(body, into: &out, context: &ctx, repeats: command.repeats)
                for k in 1...9 { ctx.variables[String(k)] = saved[k - 1] }
                if separator == "|" { pipeFrom = out.commands.count - 1; pipeProgram = command.program } else { pipeFrom = nil; pipeProgram = nil }
                return
            }
            out.commands.append(command)
            if separator == "|" { pipeFrom = out.commands.count - 1; pipeProgram = command.program } else { pipeFrom = nil; pipeProgram = nil }
            Self.noteEffectsOnContext(command, &ctx)
        }

        while true {
            guard let tok = next(&ctx, &subs) else { break }
            if let op = expectRedirectTarget {
                expectRedirectTarget = nil
                if case .word(let w, _) = tok {
                    if op == "<<" || op == "<<-" {
                        pending.stdin = takeHeredoc(w, strip: op == "<<-")
                    } else if op == "<<<" {
                        pending.stdin = w
                    } else if !(op == ">&" && w.allSatisfy(\.isNumber)) && w != "-" {
                        pending.redirects.append(.init(op: op, target: w))
                    }
                    continue
                }
            }
            switch tok {
            case .word(let w, let unresolved):
                pending.words.append((w, unresolved))
            case .redirect(let r):
                expectRedirectTarget = r
            case .op(let o):
                if o == "(" {
                    // `name ( )` starts a function definition.
                    if pending.words.count == 1, peekNonSpace() == ")" {
                        _ = next(&ctx, &subs)
                        functionName = pending.words[0].0
                        pending = Pending()
                        continue
                    }
                    flush(";", parser: &self)
                    continue
                }
                if o == "{" {
                    if pending.words.count == 2, pending.words[0].0 == "function" { functionName = pending.words[1].0; pending = Pending() }
                    if let name = functionName {
                        functionStack.append((name, i))
                        functionName = nil
                        continue
                    }
                    flush(";", parser: &self)
                    continue
                }
                if o == "}" {
                    flush(";", parser: &self)
                    if let (name, start) = functionStack.popLast() {
                        ctx.functions[name] = String(String.UnicodeScalarView(s[start..<max(start, i - 1)]))
                    }
                    continue
                }
                flush(o, parser: &self)
            }
        }
        flush(";", parser: &self)
    }

    func peekNonSpace() -> Unicode.Scalar? {
        var k = i
        while k < s.count, Self.isSpace(s[k]) { k += 1 }
        return k < s.count ? s[k] : nil
    }

    static func assignment(_ w: String) -> (String, String)? {
        guard let eq = w.firstIndex(of: "="), eq != w.startIndex else { return nil }
        var name = w[..<eq]
        if name.hasSuffix("+") { name = name.dropLast() }
        guard let f = name.unicodeScalars.first, !(f >= "0" && f <= "9"), name.unicodeScalars.allSatisfy(isNameChar) else { return nil }
        return (String(name), String(w[w.index(after: eq)...]))
    }

    /// `for i in {1..N}`, `for i in $(seq N)`, `for i in a b c`, `for ((i=0;i<N;i++))`.
    static func loopCount(_ words: [String]) -> Int? {
        let rest = words.drop(while: { $0 != "in" }).dropFirst()
        if rest.count == 1, let w = rest.first {
            let t = w.trimmingCharacters(in: CharacterSet(charactersIn: "{}"))
            let parts = t.components(separatedBy: "..")
            if parts.count >= 2, let a = Int(parts[0]), let b = Int(parts[1]) { return abs(b - a) + 1 }
            if w.hasPrefix("$(seq"), let n = w.dropFirst(5).split(whereSeparator: { !$0.isNumber }).compactMap({ Int($0) }).last { return n }
            if w.hasPrefix("$(") || w.hasPrefix("`") { return nil }
        }
        if !rest.isEmpty { return rest.count }
        let joined = words.joined(separator: " ")
        if joined.contains("(("), let n = joined.split(whereSeparator: { !$0.isNumber }).compactMap({ Int($0) }).max() { return n }
        return nil
    }

    /// Parses `text` as commands run from here (a substitution, a payload), one level deeper.
    mutating func nested(_ text: String, into out: inout ShellParse, context ctx: inout ShellContext, repeats: Int?, remote: String? = nil) {
        guard depth < Self.maxDepth else { out.opaque.append(text); return }
        var p = ShellParser(text: Array(text.unicodeScalars), depth: depth + 1, remote: remote ?? self.remote)
        var inner = ShellParse()
        p.run(into: &inner, context: &ctx)
        let base = out.commands.count
        for var c in inner.commands {
            if let r = repeats { c.repeats = max(c.repeats ?? 1, r) }
            if let k = c.pipedFromIndex { c.pipedFromIndex = k + base }
            out.commands.append(c)
        }
        out.forkBomb = out.forkBomb || inner.forkBomb
        out.opaque += inner.opaque
        out.assignments += inner.assignments
    }

    static let wrappersWithArgument: [String: Set<String>] = [
        "sudo": ["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T"],
        "doas": ["-u", "-C"],
        "env": ["-u", "-C", "-S"],
        "nice": ["-n"],
        "ionice": ["-c", "-n", "-p"],
        "timeout": ["-s", "-k", "--signal", "--kill-after"],
        "stdbuf": ["-i", "-o", "-e"],
        "xargs": ["-I", "-n", "-P", "-d", "-L", "-s", "-E", "-a"],
        "watch": ["-n", "-d"],
        "runuser": ["-u", "-g"],
        "chroot": [],
        "nohup": [], "exec": [], "command": [], "builtin": [], "setsid": [], "unbuffer": [], "caffeinate": [], "time": [],
        "strace": ["-o", "-e", "-p"], "ltrace": ["-o", "-e"], "flock": ["-w", "-E", "-c"],
    ]

    /// Takes wrappers off the front and follows payloads (`bash -c`, `ssh host cmd`, `python -c`…).
    mutating func unwrap(_ c: inout ShellCommand, into out: inout ShellParse, context ctx: inout ShellContext) {
        var guardCount = 0
        while guardCount < 8, let program = c.words.first.map({ String($0.split(separator: "/").last ?? "") }) {
            guardCount += 1
            if let withArg = Self.wrappersWithArgument[program] {
                var rest = Array(c.words.dropFirst())
                if program == "flock" {
                    // flock [opts] FILE COMMAND…: the lock is held while COMMAND runs.
                    while let f = rest.first, f.hasPrefix("-") { rest.removeFirst(); if withArg.contains(f) { if !rest.isEmpty { rest.removeFirst() } } }
                    guard rest.count >= 2 else { break }
                    c.prefixes.append("flock " + rest[0])
                    rest.removeFirst()
                } else {
                    while let f = rest.first {
                        if f == "--" { rest.removeFirst(); break }
                        if program == "env", Self.assignment(f) != nil { rest.removeFirst(); continue }
                        if program == "timeout" || program == "chroot", !f.hasPrefix("-") {
                            rest.removeFirst()
                            break
                        }
                        guard f.hasPrefix("-") else { break }
                        rest.removeFirst()
                        if withArg.contains(f), !rest.isEmpty { rest.removeFirst() }
                    }
                    if program == "nice", let f = rest.first, f.hasPrefix("-"), Int(f.dropFirst()) != nil { rest.removeFirst() }
                    c.prefixes.append(program)
                }
                if rest.isEmpty { break }
                c.words = rest
                continue
            }
            let args = Array(c.words.dropFirst())
            switch program {
            case "bash", "sh", "zsh", "dash", "ksh", "fish", "busybox":
                if program == "busybox", !args.isEmpty { c.words = args; continue }
                if let k = args.firstIndex(where: { $0 == "-c" || ($0.hasPrefix("-") && !$0.hasPrefix("--") && $0.contains("c")) }), k + 1 < args.count {
                    nested(args[k + 1], into: &out, context: &ctx, repeats: c.repeats)
                } else if let script = args.first(where: { !$0.hasPrefix("-") }) {
                    runScript(script, into: &out, context: &ctx, repeats: c.repeats)
                } else if let body = c.stdin {
                    nested(body, into: &out, context: &ctx, repeats: c.repeats)
                }
            case "eval":
                nested(args.joined(separator: " "), into: &out, context: &ctx, repeats: c.repeats)
            case "su":
                if let k = args.firstIndex(where: { $0 == "-c" || $0 == "--command" }), k + 1 < args.count {
                    c.prefixes.append("su")
                    nested(args[k + 1], into: &out, context: &ctx, repeats: c.repeats)
                }
            case "source", ".":
                if let script = args.first { runScript(script, into: &out, context: &ctx, repeats: c.repeats) }
            case "ssh":
                // ssh [options] host [command…]
                var rest = args[...]
                let withArg: Set<String> = ["-p", "-i", "-l", "-o", "-F", "-J", "-L", "-R", "-D", "-b", "-c", "-E", "-e", "-m", "-O", "-S", "-W", "-w", "-Q", "-B", "-I"]
                while let f = rest.first, f.hasPrefix("-") { rest = rest.dropFirst(); if withArg.contains(f) { rest = rest.dropFirst() } }
                if let host = rest.first {
                    let cmd = rest.dropFirst().joined(separator: " ")
                    if !cmd.isEmpty { nested(cmd, into: &out, context: &ctx, repeats: c.repeats, remote: host) }
                    else if let body = c.stdin { nested(body, into: &out, context: &ctx, repeats: c.repeats, remote: host) }
                }
            case "docker", "podman", "kubectl", "oc":
                if let e = args.firstIndex(of: "exec") {
                    var rest = args[(e + 1)...]
                    if let dd = rest.firstIndex(of: "--") { rest = rest[(dd + 1)...] } else {
                        while let f = rest.first, f.hasPrefix("-") { rest = rest.dropFirst(); if ["-u", "-w", "-e", "-n", "-c", "--user", "--namespace", "--container"].contains(f) { rest = rest.dropFirst() } }
                        rest = rest.dropFirst() // the container
                    }
                    if !rest.isEmpty { nested(rest.map(Self.quoted).joined(separator: " "), into: &out, context: &ctx, repeats: c.repeats, remote: "container") }
                }
            case "python", "python2", "python3", "node", "nodejs", "deno", "bun", "perl", "ruby", "php":
                let language = program.hasPrefix("python") ? "python" : ["node", "nodejs", "deno", "bun"].contains(program) ? "node" : program
                let flag = language == "python" ? "-c" : language == "php" ? "-r" : "-e"
                var code: String?
                if let k = args.firstIndex(where: { $0 == flag || $0 == "--eval" || $0 == "-E" }), k + 1 < args.count { code = args[k + 1] }
                else if let script = args.first(where: { !$0.hasPrefix("-") }), script != "-" {
                    code = ctx.files[Self.resolve(script, ctx)]
                } else if args.contains("-") || args.isEmpty || c.stdin != nil {
                    code = c.stdin
                }
                if let code, depth < Self.maxDepth {
                    var payload = ShellCommand(words: [code], depth: depth + 1, remote: remote)
                    payload.language = language
                    payload.repeats = c.repeats
                    payload.pipedFrom = c.pipedFrom
                    out.commands.append(payload)
                    // Shell commands the code runs.
                    for cmd in CodeScan.shellCommands(in: code) { nested(cmd, into: &out, context: &ctx, repeats: c.repeats) }
                }
            default:
                // `./script.sh` or a script by path written earlier.
                if c.words[0].contains("/"), let body = ctx.files[Self.resolve(c.words[0], ctx)] {
                    if body.hasPrefix("#!") && body.contains("python") {
                        var payload = ShellCommand(words: [body], depth: depth + 1, remote: remote)
                        payload.language = "python"
                        out.commands.append(payload)
                    } else {
                        nested(body, into: &out, context: &ctx, repeats: c.repeats)
                    }
                }
            }
            break
        }
    }

    mutating func runScript(_ path: String, into out: inout ShellParse, context ctx: inout ShellContext, repeats: Int?) {
        if let body = ctx.files[Self.resolve(path, ctx)] { nested(body, into: &out, context: &ctx, repeats: repeats) }
    }

    static func quoted(_ w: String) -> String {
        w.contains(where: { " \t\n'\"$|&;<>()`\\*?".contains($0) }) ? "'" + w.replacingOccurrences(of: "'", with: "'\\''") + "'" : w
    }

    /// A path made absolute against the working directory when that is known.
    static func resolve(_ path: String, _ ctx: ShellContext) -> String {
        if path.hasPrefix("/") || path.hasPrefix("~") { return path }
        var p = path
        while p.hasPrefix("./") { p.removeFirst(2) }
        if let cwd = ctx.cwd { return cwd.hasSuffix("/") ? cwd + p : cwd + "/" + p }
        return p
    }

    /// Files written, directories entered: remembered so later steps are judged with them.
    static func noteEffectsOnContext(_ c: ShellCommand, _ ctx: inout ShellContext) {
        if c.program == "cd", c.depth == 0 {
            if let d = c.arguments.first, !c.unresolved { ctx.cwd = d == "-" ? ctx.cwd : resolve(d, ctx) }
            else if c.arguments.isEmpty { ctx.cwd = "~" }
        }
        for r in c.redirects where r.op == ">" || r.op == ">>" || r.op == "&>" {
            let content: String?
            switch c.program {
            case "echo": content = c.arguments.filter { !["-e", "-n", "-en", "-ne"].contains($0) }.joined(separator: " ")
            case "printf": content = c.arguments.first
            case "cat", ":": content = c.stdin
            default: content = nil
            }
            if let content { ctx.files[resolve(r.target, ctx), default: r.op == ">>" ? "" : ""] = (r.op == ">>" ? (ctx.files[resolve(r.target, ctx)] ?? "") + "\n" : "") + content }
        }
        // An archive or copy made from private paths carries them: remember it.
        if ["zip", "tar", "7z", "cp", "gzip", "base64", "gpg", "openssl", "rsync"].contains(c.program) {
            let ops = c.arguments.filter { !$0.hasPrefix("-") }
            if ops.contains(where: { [.home, .homeRoot, .secret, .system, .accounts, .root].contains(Target.path($0).kind) }) {
                var outputs: [String] = c.redirects.filter { $0.op == ">" }.map(\.target)
                if c.program == "zip" || c.program == "7z", let first = ops.first(where: { $0 != "a" }) { outputs.append(first) }
                if c.program == "tar", let k = c.arguments.firstIndex(where: { $0.hasPrefix("-") ? $0.contains("f") : $0.contains("f") && $0.count <= 5 }), k + 1 < c.words.count - 1 { outputs.append(c.arguments[c.arguments.index(after: k)]) }
                if c.program == "cp" || c.program == "rsync", let last = ops.last { outputs.append(last) }
                for o in outputs { ctx.privateFiles.insert(resolve(o, ctx)); ctx.privateFiles.insert(o) }
            }
        }
        for r in c.redirects where r.op == ">" || r.op == "&>" { ctx.created.insert(resolve(r.target, ctx)) }
        if ["mkdir", "tee"].contains(c.program) {
            for a in c.arguments where !a.hasPrefix("-") && !a.contains("*") { ctx.created.insert(resolve(a, ctx)) }
        }
        if ["cp", "mv", "install"].contains(c.program), let last = c.arguments.last(where: { !$0.hasPrefix("-") }), c.arguments.count >= 2 {
            ctx.created.insert(resolve(last, ctx))
        }
        if c.program == "tee", let body = c.stdin {
            for f in c.arguments where !f.hasPrefix("-") { ctx.files[resolve(f, ctx)] = body }
        }
    }
}
