import Foundation
import Testing
import Trajectories

/// `trimmed` removes exactly what Foundation's `trimmingCharacters(in:)` removes.
struct TrimmingTests {
    @Test func trimmedMatchesFoundation() {
        let pieces = [" ", "\t", "\n", "\r\n", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{2028}", "\u{2029}", "\u{3000}", "\u{200B}", "\u{FEFF}",
                      "\u{2003}", "a", "東京", "e\u{301}", " \u{301}", "🙂", "***", "x y"]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<3_000 {
            let text = (0..<Int.random(in: 0...7, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
            #expect(text.trimmed() == text.trimmingCharacters(in: .whitespacesAndNewlines), "\(text.debugDescription)")
            #expect(text.trimmed(newlines: false) == text.trimmingCharacters(in: .whitespaces), "\(text.debugDescription)")
            let sub = text.dropFirst()
            #expect(sub.trimmed() == sub.trimmingCharacters(in: .whitespacesAndNewlines), "\(sub.debugDescription)")
        }
    }
}
