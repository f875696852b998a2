import Foundation
import Testing
@testable import TrainingSets

/// CADA's case retrieval must cost the same per query whatever the library's size (issue 17: retrieval was
/// all-pairs in practice, because every query walked the postings of words most cases contain).
struct RetrievalIndexTests {
    /// A library where every case shares the common words and a few hold a rare one.
    static func library(_ n: Int) -> [String] {
        (0..<n).map { i in
            "run the command in the repository file \(i % 7 == 0 ? "migrate" : "build") " + (i % 997 == 0 ? "dropdatabase" : "step")
        }
    }

    @Test func aQueryTouchesAtMostTheKeptPostingsPerTerm() {
        let docs = Self.library(20_000)
        let index = BM25(documents: docs, maxPostings: 300)
        var scratch = BM25.Scratch(count: index.count)
        _ = index.top(4, for: "run the command in the repository", scratch: &scratch) { _ in true }
        // Six common query words, each kept for at most 300 documents: never the 20,000 the words occur in.
        #expect(scratch.touched.count <= 6 * 300)
        #expect(scratch.touched.count >= 300)
    }

    @Test func rareTermsKeepEveryDocument() {
        let docs = Self.library(20_000)
        let index = BM25(documents: docs, maxPostings: 300)
        // "dropdatabase" is in documents 0, 997, 1994, … (21 of them): all of them rank first, in document order.
        let expected = stride(from: 0, to: 20_000, by: 997).map { $0 }
        #expect(index.top(expected.count, for: "run dropdatabase") { _ in true } == expected)
        // The filter is honoured: the best allowed ones.
        #expect(index.top(2, for: "dropdatabase now") { $0 % 2 == 1 } == [997, 2991])
    }

    @Test func scoresMatchBM25WhenNothingIsPruned() {
        // Three short documents scored by hand with Okapi BM25 (k1 1.2, b 0.75, idf = ln(1 + (N - n + 0.5)/(n + 0.5))).
        let docs = ["rm rf build", "rm rf build cache now", "ls build"]
        let index = BM25(documents: docs)
        // Query "rf cache": doc 1 has both terms, doc 0 only "rf"; doc 2 neither.
        #expect(index.top(3, for: "rf cache") { _ in true } == [1, 0])
        // Query "ls": only doc 2.
        #expect(index.top(3, for: "ls") { _ in true } == [2])
    }

    @Test func reusingTheScratchGivesTheSameAnswers() {
        let docs = Self.library(3_000)
        let index = BM25(documents: docs, maxPostings: 200)
        var scratch = BM25.Scratch(count: index.count)
        let queries = ["migrate the repository", "build step", "dropdatabase migrate", "command file"]
        let fresh = queries.map { index.top(5, for: $0) { _ in true } }
        let reused = queries.map { index.top(5, for: $0, scratch: &scratch) { _ in true } }
        #expect(fresh == reused)
    }
}

/// The scalar-by-scalar tokenizer reads non-ASCII text as the grapheme-based definition does.
struct UnicodeTokenTests {
    /// The definition: the lower-cased text split at characters that are neither letters, numbers nor `_`.
    static func reference(_ s: String) -> [String] {
        s.lowercased().split { !($0.isLetter || $0.isNumber || $0 == "_") }.map(String.init)
    }

    @Test func scalarTokensMatchTheDefinition() {
        let pieces = ["abc", "ÄÖÜ", "straße", "İstanbul", "東京", "données", "e\u{301}", " \u{301}x", "x\u{301}\u{302}", "٣", "½", "Ⅻ",
                      "🙂", "👩‍💻", "🇩🇪", "_", "-", " ", "\t", "\n", "., ", "ǅ", "ʰ", "க்ஷ", "한국어", "ﬁ", "x\u{FE0F}", "9", "Ω"]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let text = (0..<Int.random(in: 0...8, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
            #expect(BM25.unicodeTokens(text) == Self.reference(text), "\(text.debugDescription)")
        }
    }
}
