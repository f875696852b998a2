import Foundation

/// A rule from a gitleaks configuration file: its regular expression (Go RE2 syntax, read by ICU,
/// which accepts the syntax gitleaks rules use), the group holding the secret, keywords that must occur
/// (any case) for it to run, a minimum Shannon entropy, and allowlists (regular expressions and stop
/// words matched against the secret).
public struct CustomRule: @unchecked Sendable {
    public let id: String
    let regex: NSRegularExpression
    let secretGroup: Int
    let keywords: [String]
    let entropy: Double?
    let allowRegexes: [NSRegularExpression]
    let stopwords: [String]

    public init(id: String, regex: NSRegularExpression, secretGroup: Int = 0, keywords: [String] = [], entropy: Double? = nil,
                allowRegexes: [NSRegularExpression] = [], stopwords: [String] = []) {
        self.id = id
        self.regex = regex
        self.secretGroup = secretGroup
        self.keywords = keywords.map { $0.lowercased() }
        self.entropy = entropy
        self.allowRegexes = allowRegexes
        self.stopwords = stopwords.map { $0.lowercased() }
    }

    /// Secret ranges (byte offsets) in `b`.
    func find(in b: UnsafeBufferPointer<UInt8>) -> [(range: Range<Int>, kind: String)] {
        let text = String(decoding: b, as: UTF8.self)
        if !keywords.isEmpty {
            let lower = text.lowercased()
            guard keywords.contains(where: { lower.contains($0) }) else { return [] }
        }
        var out: [(range: Range<Int>, kind: String)] = []
        for m in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            // gitleaks: the secret group if given, else the first non-empty group, else the whole match.
            var r = secretGroup > 0 && secretGroup < m.numberOfRanges ? m.range(at: secretGroup) : NSRange(location: NSNotFound, length: 0)
            if r.location == NSNotFound {
                r = m.range
                if secretGroup == 0, m.numberOfRanges > 1 {
                    for g in 1..<m.numberOfRanges where m.range(at: g).location != NSNotFound && m.range(at: g).length > 0 { r = m.range(at: g); break }
                }
            }
            guard r.location != NSNotFound, r.length > 0, let range = Range(r, in: text) else { continue }
            let secret = String(text[range])
            if let entropy, Entropy.bitsPerByte(Array(secret.utf8)) < entropy { continue }
            let lower = secret.lowercased()
            if stopwords.contains(where: { lower.contains($0) }) { continue }
            if allowRegexes.contains(where: { $0.firstMatch(in: secret, range: NSRange(secret.startIndex..., in: secret)) != nil }) { continue }
            let lo = text.utf8.distance(from: text.startIndex, to: range.lowerBound)
            let hi = text.utf8.distance(from: text.startIndex, to: range.upperBound)
            out.append((lo..<hi, id))
        }
        return out
    }
}
