import Foundation
import Trajectories

/// Posterior Distillation Index (SPARK, arXiv 2605.09192): how much a skill is grounded in what ran
/// rather than in what was planned, and how much the attempts behind it oscillated.
///
/// ψ(P, Q) = 1 − JS(P ‖ Q): Jensen–Shannon divergence (natural log) of the token distributions, tokens
/// being `\w+` of the lower-cased text, counts smoothed with α = 0.002 over the union vocabulary;
/// fewer than two tokens in the union gives 0.
public enum PDI {
    public static let alpha = 0.002

    public struct Terms: Sendable, Hashable, Codable {
        public var exec: Double
        public var plan: Double
        public var oss: Double
        enum CodingKeys: String, CodingKey { case exec = "phi_exec", plan = "phi_plan", oss = "phi_oss" }
    }

    public static func tokens(_ text: String) -> [String] {
        // ASCII text (almost all of it) byte by byte: its characters are its bytes (a CRLF pair is one
        // character, a separator either way), letters and digits are [a-z0-9] once lower-cased.
        if let ascii = asciiTokens(text) { return ascii }
        // Otherwise line by line: a line feed is always a character of its own (a CR before it is one
        // with it, a separator either way; nothing combines across it), so the lines' tokens are the
        // text's, and most lines of a text with a few non-ASCII words are ASCII.
        var text = text
        return text.withUTF8 { bytes in
            var out: [String] = []
            for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: true) {
                let line = UnsafeBufferPointer(rebasing: line)
                out += asciiTokens(line) ?? characterTokens(String(decoding: line, as: UTF8.self))
            }
            return out
        }
    }

    /// Tokens of an all-ASCII text (nil for any other).
    static func asciiTokens(_ text: String) -> [String]? {
        var text = text
        return text.withUTF8 { asciiTokens($0) }
    }

    static func asciiTokens(_ bytes: UnsafeBufferPointer<UInt8>) -> [String]? {
        var out: [String] = []
        var word: [UInt8] = []
        word.reserveCapacity(64)
        for i in 0...bytes.count {
            let b: UInt8 = i < bytes.count ? bytes[i] : 0x20  // a space after the end closes the last word
            if b >= 0x80 { return nil }
            let c = b >= 0x41 && b <= 0x5A ? b | 0x20 : b
            if (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F {
                word.append(c)
            } else if !word.isEmpty {
                out.append(String(decoding: word, as: UTF8.self))
                word.removeAll(keepingCapacity: true)
            }
        }
        return out
    }

    /// Tokens by characters: runs of letters, numbers and `_` in the lower-cased text.
    static func characterTokens(_ text: String) -> [String] {
        var out: [String] = []
        var cur = ""
        for ch in text.lowercased() {
            if ch.isLetter || ch.isNumber || ch == "_" { cur.append(ch) } else if !cur.isEmpty { out.append(cur); cur = "" }
        }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    public static func psi(_ p: String, _ q: String) -> Double { psi(tokens: tokens(p), tokens(q)) }

    public static func psi(tokens a: [String], _ b: [String]) -> Double {
        var ca: [String: Double] = [:], cb: [String: Double] = [:]
        for t in a { ca[t, default: 0] += 1 }
        for t in b { cb[t, default: 0] += 1 }
        let vocab = Set(ca.keys).union(cb.keys).sorted()
        guard vocab.count >= 2 else { return 0 }
        let v = Double(vocab.count)
        let na = Double(a.count) + alpha * v, nb = Double(b.count) + alpha * v
        var js = 0.0
        for t in vocab {
            let p = ((ca[t] ?? 0) + alpha) / na
            let q = ((cb[t] ?? 0) + alpha) / nb
            let m = (p + q) / 2
            js += 0.5 * p * log(p / m) + 0.5 * q * log(q / m)
        }
        return 1 - js
    }

    public static func jaccard<T: Hashable>(_ a: Set<T>, _ b: Set<T>) -> Double {
        let u = a.union(b)
        return u.isEmpty ? 0 : Double(a.intersection(b).count) / Double(u.count)
    }

    /// Text of what a trajectory executed (commands, else tool calls).
    public static func executed(_ t: Trajectory) -> String {
        t.steps.compactMap { $0.action.map { $0.command ?? ($0.tool + " " + $0.input.canonicalJSON()) } }.joined(separator: "\n")
    }

    /// Text of what the agent planned: thoughts and "Next Strategy" notes of its memo.
    public static func planned(_ t: Trajectory) -> String {
        var parts = t.steps.compactMap(\.thought)
        if let memo = t.meta["memo"]?.stringValue, let next = section(memo, titled: "Next Strategy") { parts.append(next) }
        return parts.joined(separator: "\n")
    }

    /// The body of a Markdown section whose heading contains `title`.
    static func section(_ text: String, titled title: String) -> String? {
        let lines = text.components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.hasPrefix("#") && $0.localizedCaseInsensitiveContains(title) }) else { return nil }
        let rest = lines[(start + 1)...].prefix { !$0.hasPrefix("#") }
        return rest.joined(separator: "\n")
    }

    /// The tests an attempt's summary lists as passed (`✓`) or failed (`✗` / FAILED), by test name (path
    /// prefixes and failure messages stripped, so the same test matches across attempts run from different
    /// directories); nil when the attempt has no such summary.
    static func testLines(_ t: Trajectory) -> (passed: Set<String>, failed: Set<String>)? {
        guard let summary = t.meta["test_summary"]?.stringValue else { return nil }
        var passed = Set<String>(), failed = Set<String>()
        for raw in summary.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            let isPass = line.hasPrefix("✓"), isFail = line.hasPrefix("✗")
            guard isPass || isFail else { continue }
            var name = String(line.dropFirst()).trimmingCharacters(in: .whitespaces)
            name = TextPattern.cached(#"\s+-\s.*$"#).replacing(in: name, with: "")
            if let slash = name.range(of: "/", options: .backwards) { name = String(name[slash.upperBound...]) }
            if isPass { passed.insert(name) } else { failed.insert(name) }
        }
        return passed.isEmpty && failed.isEmpty ? nil : (passed, failed)
    }

    /// What an attempt verified: the tests it passed; without a test summary, its own memo's Verified Facts,
    /// else the first line of each observation.
    static func facts(_ t: Trajectory) -> String {
        if let tests = testLines(t) { return tests.passed.sorted().joined(separator: "\n") }
        if let memo = t.meta["memo"]?.stringValue, let f = section(memo, titled: "Verified Facts") { return f }
        return t.steps.compactMap { $0.observation.map { String($0.content.prefix(400).prefix { $0 != "\n" }) } }.joined(separator: "\n")
    }

    /// What an attempt failed: the tests its summary lists as failed, else the first lines of its failed
    /// observations (numbers masked).
    static func errors(_ t: Trajectory) -> Set<String> {
        if let tests = testLines(t) { return tests.failed }
        return Set(t.steps.compactMap { s in
            guard let o = s.observation, o.failed else { return nil }
            return TextPattern.cached(#"\d+"#).replacing(in: String(o.content.prefix(400).prefix { $0 != "\n" }), with: "N")
        })
    }

    /// φ_oss over the attempts of each task (by task key, in attempt order), averaged: for each
    /// consecutive pair, 0.5·ψ(what each verified) + 0.5·Jaccard(what each failed) — each attempt judged
    /// by its own results, so an attempt that fixes what the last one failed scores low; 0 when no task has
    /// two attempts.
    /// `features`: pairs worked out by the previous build.
    public static func oscillation(_ attempts: [Trajectory], features: SkillFeatures? = nil) -> Double {
        let byTask = Dictionary(grouping: attempts, by: { $0.taskKey ?? $0.task })
        // Tasks on all cores; their values summed in key order (the same sum whatever the threads).
        let values = Parallel.map(byTask.keys.sorted()) { key -> Double? in
            let runs = byTask[key]!.sorted { ($0.attempt ?? 0, $0.id) < ($1.attempt ?? 0, $1.id) }
            guard runs.count >= 2 else { return nil }
            var pairs: [Double] = []
            // Each run's facts and errors once, when needed (every run but the ends is in two pairs).
            var known: [[String]?] = Array(repeating: nil, count: runs.count)
            var failed: [Set<String>?] = Array(repeating: nil, count: runs.count)
            let tests = runs.map(testLines)
            func facts(_ i: Int) -> [String] { known[i] ?? { known[i] = tokens(PDI.facts(runs[i])); return known[i]! }() }
            func errs(_ i: Int) -> Set<String> { failed[i] ?? { failed[i] = tests[i]?.failed ?? errors(runs[i]); return failed[i]! }() }
            /// How alike two attempts' verified facts are: the overlap of the tests they passed when both ran
            /// tests (both passing none is no progress: 1), else ψ of the fact texts (one side empty: 0).
            func sameFacts(_ a: Int, _ b: Int) -> Double {
                if let x = tests[a]?.passed, let y = tests[b]?.passed { return x.isEmpty && y.isEmpty ? 1 : jaccard(x, y) }
                let (x, y) = (facts(a), facts(b))
                if x.isEmpty || y.isEmpty { return x.isEmpty && y.isEmpty ? 1 : 0 }
                return psi(tokens: x, y)
            }
            for i in 1..<runs.count {
                let compute = { 0.5 * sameFacts(i - 1, i) + 0.5 * jaccard(errs(i - 1), errs(i)) }
                pairs.append(features?.pair(runs[i - 1], runs[i], compute: compute) ?? compute())
            }
            return pairs.reduce(0, +) / Double(pairs.count)
        }.compactMap { $0 }
        return values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }

    /// The three terms for a skill text against its evidence: successful runs and all attempts.
    public static func terms(skill: String, successes: [Trajectory], attempts: [Trajectory], features: SkillFeatures? = nil) -> Terms {
        Terms(exec: psi(successes.map(executed).joined(separator: "\n"), skill),
              plan: psi(attempts.map(planned).joined(separator: "\n"), skill),
              oss: oscillation(attempts, features: features))
    }

    /// PDI = z(φ_exec) − z(φ_plan) − z(φ_oss) over the population scored together (population standard
    /// deviation; a term with zero deviation contributes 0).
    public static func index(_ population: [Terms]) -> [Double] {
        func z(_ xs: [Double]) -> [Double] {
            guard !xs.isEmpty else { return [] }
            let mean = xs.reduce(0, +) / Double(xs.count)
            let sd = (xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)).squareRoot()
            // Identical values can leave rounding noise in the deviation; treat that as zero too.
            let zero = sd <= 1e-12 * max(1, abs(mean))
            return xs.map { zero ? 0 : ($0 - mean) / sd }
        }
        let e = z(population.map(\.exec)), p = z(population.map(\.plan)), o = z(population.map(\.oss))
        return population.indices.map { e[$0] - p[$0] - o[$0] }
    }
}
