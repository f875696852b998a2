import Foundation

/// A record that could not be used: where it was and why. Never silently dropped.
public struct QuarantineEntry: Sendable, Hashable, Codable {
    public var file: String
    /// 1-based line number, for line-based files.
    public var line: Int?
    /// Record or event index, for files that are not line based.
    public var index: Int?
    public var reason: String
    /// The start of the offending text (bounded), so a user can find it without opening the file.
    public var excerpt: String?

    public init(file: String, line: Int? = nil, index: Int? = nil, reason: String, excerpt: String? = nil) {
        self.file = file
        self.line = line
        self.index = index
        self.reason = reason
        self.excerpt = excerpt
    }

    public var location: String {
        if let line { return "\(file):\(line)" }
        if let index { return "\(file)#\(index)" }
        return file
    }

    /// Bounded, single-line excerpt of raw input bytes. A cut never splits a word: the word the limit
    /// falls in is left out whole, so a secret is either complete (and redaction finds it) or absent.
    public static func excerpt(of bytes: ArraySlice<UInt8>, limit: Int = 160) -> String {
        let text = String(decoding: bytes.prefix(limit * 4 + 4), as: UTF8.self)
        var out = String.UnicodeScalarView()
        var cut = false
        for ch in text.unicodeScalars {
            if out.count >= limit { cut = true; break }
            out.append(ch.properties.generalCategory == .control ? " " : ch)
        }
        if !cut && bytes.count > limit * 4 + 4 { cut = true }
        if cut {
            while let last = out.last, !last.properties.isWhitespace && !"\"'{}[](),;<>".unicodeScalars.contains(last) {
                out.removeLast()
            }
            out.append(contentsOf: "…".unicodeScalars)
        }
        return String(out)
    }
}
