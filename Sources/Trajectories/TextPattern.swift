import Foundation

/// A regular expression compiled once and reused. `String.replacingOccurrences(of:with:options:
/// .regularExpression)` compiles its pattern on every call; in the distiller's and the checkers' inner
/// loops that compilation was most of a build's time.
public final class TextPattern: @unchecked Sendable {
    // NSRegularExpression is documented thread-safe for matching.
    public let regex: NSRegularExpression

    public init(_ pattern: String) {
        // Patterns are constants of the source; a bad one is a programming error caught by tests.
        regex = try! NSRegularExpression(pattern: pattern)
    }

    private static let compiled = Memo<String, TextPattern>()

    /// The compiled pattern, compiled on first use.
    public static func cached(_ pattern: String) -> TextPattern {
        compiled.value(pattern) { TextPattern(pattern) }
    }

    /// `text` with every match replaced by `template` (`$1` refers to a group).
    public func replacing(in text: String, with template: String) -> String {
        regex.stringByReplacingMatches(in: text, range: NSRange(location: 0, length: (text as NSString).length), withTemplate: template)
    }

    /// Whether the pattern matches anywhere in `text`.
    public func matches(_ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(location: 0, length: (text as NSString).length)) != nil
    }

    /// Every match's groups (0: the whole match; nil: a group that did not take part).
    public func captures(in text: String) -> [[String?]] {
        let ns = text as NSString
        return regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { m in
            (0..<m.numberOfRanges).map { k in
                let r = m.range(at: k)
                return r.location == NSNotFound ? nil : ns.substring(with: r)
            }
        }
    }
}
