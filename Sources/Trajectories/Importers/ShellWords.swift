/// Reading one shell word the way bash does, for importers whose logs hold a command wrapped in
/// `bash -lc '…'` (codex, SPARK): the stored command must be the text bash ran, not the logged quoting.
enum ShellWords {
    /// The value of the single shell word that starts at `start` in `text`, and the index just past it.
    /// A word is a run of unquoted characters (a backslash escapes the next one), `'…'` (literal) and
    /// `"…"` (a backslash escapes only `$`, `` ` ``, `"`, `\` and a newline) segments, ended by unquoted
    /// whitespace or the end of the text. Nil when a quote is never closed.
    static func word(in text: Substring, from start: Substring.Index) -> (value: String, end: Substring.Index)? {
        var value = ""
        var i = start
        while i < text.endIndex {
            let ch = text[i]
            switch ch {
            case " ", "\t", "\n":
                return (value, i)
            case "'":
                guard let close = text[text.index(after: i)...].firstIndex(of: "'") else { return nil }
                value += text[text.index(after: i)..<close]
                i = text.index(after: close)
            case "\"":
                i = text.index(after: i)
                var closed = false
                while i < text.endIndex {
                    let c = text[i]
                    if c == "\"" { closed = true; i = text.index(after: i); break }
                    if c == "\\", text.index(after: i) < text.endIndex {
                        let next = text[text.index(after: i)]
                        if next == "\n" { i = text.index(i, offsetBy: 2); continue }  // line continuation
                        if "$`\"\\".contains(next) { value.append(next); i = text.index(i, offsetBy: 2); continue }
                    }
                    value.append(c)
                    i = text.index(after: i)
                }
                if !closed { return nil }
            case "\\":
                let next = text.index(after: i)
                guard next < text.endIndex else { value.append("\\"); i = next; continue }
                if text[next] != "\n" { value.append(text[next]) }
                i = text.index(after: next)
            default:
                value.append(ch)
                i = text.index(after: i)
            }
        }
        return (value, i)
    }

    /// Wrappers that hand their one argument to a shell.
    static let shellWrappers = ["/bin/bash -lc ", "/usr/bin/bash -lc ", "bash -lc ", "/bin/bash -c ", "bash -c ",
                                "/bin/sh -c ", "sh -c ", "/bin/zsh -lc ", "zsh -lc "]

    /// `bash -lc '…'` → the script bash ran. Text that is not exactly a wrapper and one word comes back as it is.
    static func unwrap(_ command: String) -> String {
        guard let prefix = shellWrappers.first(where: { command.hasPrefix($0) }) else { return command }
        let rest = command.dropFirst(prefix.count)
        guard let (value, end) = word(in: rest, from: rest.startIndex),
              rest[end...].allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\n" }) else { return command }
        return value
    }

    /// Commands logged one per line, where a wrapped command's quoted script may span lines
    /// (SPARK's `agent_commands`): each wrapped command is read to the end of its word, then unwrapped.
    static func splitLogged(_ text: String) -> [String] {
        var out: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            if let prefix = shellWrappers.first(where: { rest.hasPrefix($0) }) {
                let argStart = rest.index(rest.startIndex, offsetBy: prefix.count)
                if let (value, end) = word(in: rest, from: argStart),
                   end == rest.endIndex || rest[end] == "\n" {
                    out.append(value)
                    rest = end == rest.endIndex ? "" : rest[rest.index(after: end)...]
                    continue
                }
            }
            let lineEnd = rest.firstIndex(of: "\n") ?? rest.endIndex
            let line = rest[..<lineEnd]
            if !line.allSatisfy(\.isWhitespace) { out.append(String(line)) }
            rest = lineEnd == rest.endIndex ? "" : rest[rest.index(after: lineEnd)...]
        }
        return out
    }
}
