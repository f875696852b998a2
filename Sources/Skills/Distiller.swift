import Foundation
import Trajectories

/// Posterior distillation (SPARK's lesson: distil what ran, not what was planned). Successful runs are
/// grouped into task families; each family with enough support becomes a skill whose procedure is the
/// ordered steps most runs share, with scripts for recurring command sequences, pitfalls from errors
/// runs recovered from, and `references/evidence.md` citing trajectory ids and steps for every claim.
public struct Distiller: Sendable {
    public struct Options: Sendable {
        public var minSupport: Int
        /// Similarity of two tasks' instruction shapes (`TaskText.similarity`) at which they are one family.
        public var familyThreshold: Double
        public var license: String?
        public init(minSupport: Int = 2, familyThreshold: Double = 0.7, license: String? = nil) {
            self.minSupport = minSupport
            self.familyThreshold = familyThreshold
            self.license = license
        }
    }

    public struct Family: Sendable {
        public var successes: [Trajectory]
        public var attempts: [Trajectory]
        public var words: Set<String>
    }

    public struct Distilled: Sendable {
        public var bundle: SkillBundle
        public var evidence: GroundingEvidence
        public var family: Family
    }

    public let options: Options
    /// One action of a run, with where it was and what came of it.
    typealias RunAction = (step: Int, action: Action, thought: String?, failed: Bool, observation: String?)
    /// Alignments of a family's runs, computed once: every verify → refine round renders the family
    /// again with other steps excluded, and the leave-one-out check distils it once per run without
    /// that run — all from the same pairwise lengths and alignments with the medoid.
    private let alignments = Memo<String, FamilyAlignment>()
    /// Pitfalls of a family (by its runs): they do not depend on the steps a refine round leaves out, and
    /// every round renders the family again.
    private let pitfallsOf = Memo<String, [Pitfall]>()
    /// Runs' failed steps kept from the previous build (nil: work every run out).
    public let features: SkillFeatures?
    public init(options: Options, features: SkillFeatures? = nil) {
        self.options = options
        self.features = features
    }

    /// The alignment state of `runs` (one per family, kept for the build).
    func family(_ runs: [Trajectory]) -> FamilyAlignment {
        alignments.value(runs.map(\.id).joined(separator: "\u{1}")) { FamilyAlignment(runs) }
    }

    /// One family's runs as interned step sequences, with what aligning them needs, memoised: LCS
    /// lengths between the first 65 runs (enough to choose the medoid of the family and of the family
    /// without any one run) and every run's alignment with each medoid asked for.
    final class FamilyAlignment: @unchecked Sendable {
        let runs: [Trajectory]
        let acts: [[RunAction]]
        let seqs: [[String]]
        let ids: [[Int32]]
        let symbols: Int
        private let lengths = Memo<Int, Int>()
        private let withMedoid = Memo<Int, [[(Int, Int)]]>()

        struct Aligned {
            var templates: [String]
            var actions: [RunAction]
            var citations: [[(String, Int)]]
        }

        init(_ runs: [Trajectory]) {
            self.runs = runs
            acts = runs.map(Distiller.actions)
            seqs = acts.map { $0.map { Distiller.template($0.action) } }
            ids = Distiller.intern(seqs)
            symbols = Int(ids.joined().max() ?? 0) + 1
        }

        func length(_ i: Int, _ j: Int) -> Int {
            lengths.value(min(i, j) * 65 + max(i, j)) { Distiller.lcsLength(ids[i], ids[j], symbols: symbols) }
        }

        /// The medoid (the run most like the others) and, for each of its steps, the runs that took it,
        /// over all runs but `leftOut`. The medoid is chosen among the first 32 runs, scored against the
        /// first 64: all pairs for the family sizes seen in practice, bounded work for huge families.
        func aligned(leavingOut leftOut: Int? = nil) -> Aligned {
            let m = medoid(leavingOut: leftOut)
            let pairs = alignments(with: m)
            var cites = [[(String, Int)]](repeating: [], count: seqs[m].count)
            for r in runs.indices where r != leftOut {
                for (i, j) in pairs[r] { cites[i].append((runs[r].id, acts[r][j].step)) }
            }
            return Aligned(templates: seqs[m], actions: acts[m], citations: cites)
        }

        /// Medoids by the run left out (-1: none among the first 65, which all give the same one).
        private let medoids = Memo<Int, Int>()

        func medoid(leavingOut leftOut: Int?) -> Int {
            // Leaving out a run past the first 65 changes nothing the medoid is chosen from: a family of
            // thousands of runs computes it 66 times at most, not once per held-out run.
            let key = leftOut.map { $0 < 65 ? $0 : -1 } ?? -1
            return medoids.value(key) { computeMedoid(leavingOut: key < 0 ? nil : key) }
        }

        private func computeMedoid(leavingOut leftOut: Int?) -> Int {
            let members = runs.indices.prefix(65).filter { $0 != leftOut }
            let scored = members.prefix(64)
            var medoid = members[0]
            var bestScore = -1
            for i in members.prefix(32) {
                let score = scored.reduce(0) { $0 + ($1 == i ? 0 : length(i, $1)) }
                if score > bestScore { bestScore = score; medoid = i }
            }
            return medoid
        }

        /// Every run's alignment with run `medoid` (pairs of medoid step, run step).
        func alignments(with medoid: Int) -> [[(Int, Int)]] {
            withMedoid.value(medoid) { ids.map { Distiller.align(ids[medoid], $0) } }
        }

        /// For each step of run `medoid`, how many runs (all of them) took it.
        func support(of medoid: Int) -> [Int] {
            var counts = [Int](repeating: 0, count: seqs[medoid].count)
            for pairs in alignments(with: medoid) { for (i, _) in pairs { counts[i] += 1 } }
            return counts
        }
    }

    // MARK: Families

    static let stopwords: Set<String> = ["the", "a", "an", "and", "to", "in", "of", "it", "on", "for", "with", "then", "its", "is", "them",
                                         "from", "by", "at", "as", "into", "this", "that", "your", "our", "without", "every", "all",
                                         "so", "after", "before", "make", "it"]

    /// Words of a task with instance-specific tokens (numbers, paths, identifiers) folded away.
    public static func taskWords(_ task: String) -> Set<String> {
        asciiTaskWords(task) ?? characterTaskWords(task)
    }

    /// ASCII punctuation (Unicode categories P*) but `_ / . -`: what `characterTaskWords` trims.
    private static let trimmedASCII = Set("!\"#%&'()*,:;?@[\\]{}".utf8)

    /// `characterTaskWords` for an all-ASCII task, byte by byte (nil for any other): whitespace is
    /// tab, line feed, vertical tab, form feed, carriage return and space; digits are 0–9.
    static func asciiTaskWords(_ task: String) -> Set<String>? {
        var task = task
        return task.withUTF8 { bytes -> Set<String>? in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
            var out = Set<String>()
            for raw in bytes.split(whereSeparator: { ($0 >= 0x09 && $0 <= 0x0D) || $0 == 0x20 }) {
                var w = raw[...]
                while let f = w.first, trimmedASCII.contains(f) { w = w.dropFirst() }
                while let l = w.last, trimmedASCII.contains(l) { w = w.dropLast() }
                if w.isEmpty { continue }
                if w.contains(0x2F) || w.contains(0x2E) || w.contains(0x5F) || w.first == 0x2D || w.contains(where: { $0 >= 0x30 && $0 <= 0x39 }) {
                    continue
                }
                let word = String(decoding: w.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
                if !stopwords.contains(word) { out.insert(word) }
            }
            return out
        }
    }

    /// Task words by characters (any text).
    static func characterTaskWords(_ task: String) -> Set<String> {
        var out = Set<String>()
        for raw in task.lowercased().split(whereSeparator: { $0.isWhitespace }) {
            let w = raw.trimmingCharacters(in: CharacterSet.punctuationCharacters.subtracting(CharacterSet(charactersIn: "_/.-")))
            if w.isEmpty || stopwords.contains(w) { continue }
            if w.contains("/") || w.contains(".") || w.contains("_") || w.hasPrefix("-") || w.rangeOfCharacter(from: .decimalDigits) != nil { continue }
            out.insert(w)
        }
        return out
    }

    /// Runs grouped into families: runs with the same task key are one family; a run whose key is new (or
    /// that has none) joins the family whose first instruction has the most similar shape (`TaskText.similarity`
    /// of the instructions with greetings, context sentences and parameters set aside, at least
    /// `familyThreshold`), so tasks that differ only in parameters and wording share one skill. A failed run
    /// never starts a family.
    public func families(_ trajectories: [Trajectory]) -> [Family] {
        var fams: [Family] = []
        var shapes: [[String]] = []
        var keyToFamily: [String: Int] = [:]
        var decided: [String: Int] = [:]  // instruction → family, for runs of the same instruction
        func place(_ t: Trajectory, success: Bool) {
            var target: Int?
            if let k = t.taskKey, let f = keyToFamily[k] { target = f }
            var words = Set<String>()
            var shape: [String] = []
            let instruction = target == nil ? TaskText.instruction(t.task) : ""
            if target == nil {
                if let known = decided[instruction] { target = known }
                if target == nil {
                    shape = TaskText.shape(instruction)
                    words = TaskText.familyWords(instruction)
                    var best: (Int, Double)?
                    for (i, f) in fams.enumerated() {
                        // Cheap screen first: shapes this far apart in words cannot reach the threshold.
                        guard jaccard(words, f.words) >= options.familyThreshold / 2 else { continue }
                        let sim = TaskText.similarity(shape, shapes[i])
                        if sim >= options.familyThreshold, best == nil || sim > best!.1 { best = (i, sim) }
                    }
                    target = best?.0
                    if target != nil { decided[instruction] = target }
                }
            }
            if target == nil {
                guard success else { return }
                fams.append(Family(successes: [], attempts: [], words: words))
                shapes.append(shape)
                target = fams.count - 1
                decided[instruction] = target
            }
            if success { fams[target!].successes.append(t) }
            fams[target!].attempts.append(t)
            if let k = t.taskKey { keyToFamily[k] = target! }
        }
        for t in trajectories where t.outcome.status == .success { place(t, success: true) }
        for t in trajectories where t.outcome.status != .success { place(t, success: false) }
        return fams
    }

    func jaccard(_ a: Set<String>, _ b: Set<String>) -> Double {
        let u = a.union(b)
        return u.isEmpty ? 0 : Double(a.intersection(b).count) / Double(u.count)
    }

    // MARK: Templates

    /// Normalises a command: quoted text, URLs, paths, file names, hashes and numbers become `{…}`.
    /// Commands repeat across a family's runs and every refine round renders them again.
    private static let normalised = Memo<String, String>(limit: 200_000)  // bounded memory

    public static func normalise(_ command: String) -> String {
        normalised.value(command) { computeNormalised(command) }
    }

    static func computeNormalised(_ command: String) -> String {
        var s = command
        let rules: [(String, String)] = [
            (#"'[^']*'"#, "{text}"), (#""[^"]*""#, "{text}"), (#"https?://\S+"#, "{url}"),
            (#"\b[0-9a-f]{7,40}\b"#, "{hash}"), (#"(?<![\w{])[\w.-]*/[\w./-]+"#, "{path}"),
            (#"\b[\w-]+\.(py|js|ts|json|sql|md|txt|ya?ml|csv|conf|toml|go|rs|java|sh|db|cfg|ini|html)\b"#, "{file}"),
            (#"\b\d+(\.\d+)*\b"#, "{n}"), (#"\b[a-z]+(_[a-z0-9]+)+\b"#, "{name}"),
        ]
        for (p, r) in rules { s = TextPattern.cached(p).replacing(in: s, with: r) }
        return s.split(separator: " ").joined(separator: " ")
    }

    /// The key a step is aligned by: the tool and the first three words of its normalised command.
    public static func template(_ a: Action) -> String {
        if let c = a.command ?? a.input["command"]?.stringValue, a.tool == "bash" || a.command != nil {
            return a.tool + ": " + normalise(c).split(separator: " ").prefix(3).joined(separator: " ")
        }
        if let sub = a.input["command"]?.stringValue { return a.tool + ": " + sub }
        return a.tool
    }

    /// The actions of a trajectory, in order. (The error line of a failed step is only computed where
    /// pitfalls need it: observations can be hundreds of kilobytes.)
    static func actions(_ t: Trajectory) -> [RunAction] {
        t.steps.compactMap { s in
            s.action.map { (s.index, $0, s.thought, s.observation?.failed ?? false, s.observation?.content) }
        }
    }

    /// The line of an observation that says what went wrong, looking at its first and last 16 KB.
    static let errorMarkers: [[UInt8]] = ["Error", "error", "FAILED", "failed", "fatal", "denied", "not found", "No such", "rejected", "Traceback"]
        .map { Array($0.utf8) }

    static func find(_ needle: [UInt8], in hay: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = needle.first, needle.count <= hay.count, let base = hay.baseAddress else { return false }
        var i = 0
        let lastStart = hay.count - needle.count
        while i <= lastStart {
            guard let p = memchr(base + i, Int32(first), lastStart - i + 1) else { return false }
            let j = UnsafeRawPointer(p) - UnsafeRawPointer(base)
            if memcmp(base + j, needle, needle.count) == 0 { return true }
            i = j + 1
        }
        return false
    }

    /// The first line (of the first and last 16 KiB) that mentions an error, else the last line; on
    /// bytes, because observations can be hundreds of kilobytes.
    static func errorLine(_ content: String) -> String? {
        // (Index arithmetic on the UTF-8 view is constant time; `suffix` on it walked the whole string,
        // and a string of 16–32 KiB was read only to 16 KiB.)
        let utf8 = content.utf8
        var bytes: [UInt8]
        if utf8.count > 32 << 10 {
            bytes = Array(utf8.prefix(16 << 10))
            bytes.append(0x0A)
            bytes += utf8[utf8.index(utf8.endIndex, offsetBy: -(16 << 10))...]
        } else {
            bytes = Array(utf8)
        }
        var last: ArraySlice<UInt8>?
        for raw in bytes.split(separator: 0x0A) {
            var line = raw
            while let f = line.first, f == 0x20 || f == 0x09 { line = line.dropFirst() }
            while let l = line.last, l == 0x20 || l == 0x09 || l == 0x0D { line = line.dropLast() }
            if line.isEmpty { continue }
            let hit = line.withUnsafeBufferPointer { buf in errorMarkers.contains { Self.find($0, in: buf) } }
            if hit { return String(decoding: line, as: UTF8.self) }
            last = line
        }
        return last.map { String(decoding: $0, as: UTF8.self) }
    }

    // MARK: Alignment

    /// Each distinct string as a small integer, so alignments compare integers, not strings.
    static func intern(_ seqs: [[String]]) -> [[Int32]] {
        var table: [String: Int32] = [:]
        return seqs.map { seq in
            seq.map { s in
                if let id = table[s] { return id }
                let id = Int32(table.count)
                table[s] = id
                return id
            }
        }
    }

    /// Length of the longest common subsequence, bit-parallel (Hyyrö's formulation of Allison and
    /// Dix): one machine word holds 64 columns, so a pair costs about |a| × ⌈|b| / 64⌉ word operations
    /// instead of |a| × |b| cells, and no table is allocated. Equal to `align(a, b).count`.
    static func lcsLength(_ a: [Int32], _ b: [Int32], symbols: Int) -> Int {
        let m = b.count
        guard !a.isEmpty, m > 0 else { return 0 }
        let words = (m + 63) / 64
        // match[c * words + w]: bit j of word w set where b[64w + j] == c.
        var match = [UInt64](repeating: 0, count: symbols * words)
        for (j, c) in b.enumerated() { match[Int(c) * words + j / 64] |= 1 << UInt64(j % 64) }
        var v = [UInt64](repeating: ~0, count: words)
        match.withUnsafeBufferPointer { mt in
            v.withUnsafeMutableBufferPointer { v in
                for c in a {
                    let row = Int(c) * words
                    var carry: UInt64 = 0
                    for w in 0..<words {
                        let vw = v[w]
                        let u = vw & mt[row + w]
                        // (V + U) with the carry of the word below, | (V - U) (no borrow: U ⊆ V).
                        let (s1, o1) = vw.addingReportingOverflow(u)
                        let (s2, o2) = s1.addingReportingOverflow(carry)
                        carry = (o1 || o2) ? 1 : 0
                        v[w] = s2 | (vw & ~u)
                    }
                }
            }
        }
        var zeros = 0
        for w in 0..<words {
            let bits = w == words - 1 && m % 64 != 0 ? m % 64 : 64
            let live: UInt64 = bits == 64 ? ~0 : (1 << UInt64(bits)) - 1
            zeros += (~v[w] & live).nonzeroBitCount
        }
        return zeros
    }

    /// LCS alignment over interned sequences (one flat table, filled backwards).
    static func align(_ a: [Int32], _ b: [Int32]) -> [(Int, Int)] {
        let n = a.count, m = b.count
        guard n > 0, m > 0 else { return [] }
        let w = m + 1
        var dp = [Int32](repeating: 0, count: (n + 1) * w)
        dp.withUnsafeMutableBufferPointer { d in
            for i in stride(from: n - 1, through: 0, by: -1) {
                for j in stride(from: m - 1, through: 0, by: -1) {
                    d[i * w + j] = a[i] == b[j] ? d[(i + 1) * w + j + 1] + 1 : max(d[(i + 1) * w + j], d[i * w + j + 1])
                }
            }
        }
        var out: [(Int, Int)] = []
        var i = 0, j = 0
        while i < n && j < m {
            if a[i] == b[j] { out.append((i, j)); i += 1; j += 1 } else if dp[(i + 1) * w + j] >= dp[i * w + j + 1] { i += 1 } else { j += 1 }
        }
        return out
    }

    public struct ProcedureStep: Sendable {
        public var template: String
        public var display: String
        public var thought: String?
        /// (trajectory id, step index) of every run that took this step.
        public var citations: [(String, Int)]
    }

    /// The ordered steps shared by at least `threshold` runs, taken from the medoid run (the run most
    /// like the others) and aligned with every run.
    func procedure(_ runs: [Trajectory], excluding: Set<String> = []) -> [ProcedureStep] {
        procedure(runs, leavingOut: nil, excluding: excluding)
    }

    /// The procedure of `runs` without the run at `leftOut` (as if it had never been seen).
    func procedure(_ runs: [Trajectory], leavingOut leftOut: Int?, excluding: Set<String> = []) -> [ProcedureStep] {
        let count = runs.count - (leftOut == nil ? 0 : 1)
        guard count > 0 else { return [] }
        let aligned = family(runs).aligned(leavingOut: leftOut)
        let threshold = max(min(options.minSupport, count), (count + 1) / 2)
        var out: [ProcedureStep] = []
        for (i, a) in aligned.actions.enumerated() where aligned.citations[i].count >= threshold && !excluding.contains(aligned.templates[i]) {
            // An immediate repeat (a retry of the same step) is listed once.
            if out.last?.template == aligned.templates[i] { continue }
            out.append(ProcedureStep(template: aligned.templates[i], display: Self.display(a.action),
                                     thought: a.thought.map(Self.cleanThought), citations: aligned.citations[i]))
        }
        return out
    }

    /// The templates of `procedure(runs, leavingOut: k, excluding:)`, from the family's support counts
    /// less run k's own steps: O(steps) per held-out run instead of re-citing every run.
    func heldOutProcedure(_ family: FamilyAlignment, leavingOut k: Int, excluding: Set<String>, support: inout [Int: [Int]]) -> [String] {
        let count = family.runs.count - 1
        guard count > 0 else { return [] }
        let m = family.medoid(leavingOut: k)
        if support[m] == nil { support[m] = family.support(of: m) }
        var counts = support[m]!
        for (i, _) in family.alignments(with: m)[k] { counts[i] -= 1 }
        let threshold = max(min(options.minSupport, count), (count + 1) / 2)
        var out: [String] = []
        for (i, t) in family.seqs[m].enumerated() where counts[i] >= threshold && !excluding.contains(t) {
            if out.last == t { continue }  // an immediate repeat is listed once, as in `procedure`
            out.append(t)
        }
        return out
    }

    /// How a step is shown: the normalised command, or the tool with its normalised arguments.
    static func display(_ a: Action) -> String {
        if let c = a.command { return normalise(c) }
        guard let args = a.input.objectValue, !args.isEmpty else { return a.tool }
        let parts = args.keys.sorted().map { k -> String in
            let v = args[k]!.stringValue ?? args[k]!.canonicalJSON()
            let shown = v.count > 30 || v.contains("\n") ? "…" : normalise(v)
            return "\(k)=\(shown)"
        }
        return "\(a.tool)(\(parts.joined(separator: ", ")))"
    }

    static func cleanThought(_ t: String) -> String {
        var s = TextPattern.cached(#"^Attempt \d+:[^.]*\.\s*"#).replacing(in: t, with: "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        while s.hasSuffix(".") { s.removeLast() }
        return s
    }

    // MARK: Rendering

    /// Skills for the families with `minSupport` successes; the others, and the families whose runs share
    /// no step often enough to make a procedure, are returned apart.
    public func distill(_ trajectories: [Trajectory]) -> (skills: [Distilled], belowSupport: [Family], withoutProcedure: [Family]) {
        // Which supported families have a procedure (in parallel; the alignments are kept for rendering),
        // then names in family order among those (a later family with the same name gets a suffix), then
        // the bundles, rendered in parallel, each on its own.
        let all = families(trajectories)
        let supported = all.filter { $0.successes.count >= options.minSupport }
        let hasProcedure = Parallel.map(supported, minChunk: 1) { !self.procedure($0.successes).isEmpty }
        var names = Set<String>()
        var named: [(Family, String)] = []
        for (f, ok) in zip(supported, hasProcedure) where ok {
            var name = Self.name(for: f)
            var n = 2
            while names.contains(name) { name = "\(Self.name(for: f))-\(n)"; n += 1 }
            names.insert(name)
            named.append((f, name))
        }
        let out = Parallel.map(named, minChunk: 1) { self.render($0.0, name: $0.1, excluding: []) }.compactMap { $0 }
        return (out, all.filter { $0.successes.count < options.minSupport }, zip(supported, hasProcedure).filter { !$0.1 }.map(\.0))
    }

    static func name(for f: Family) -> String {
        // The family's words in the order the first task uses them.
        let first = TaskText.withoutParameters(TaskText.instruction(f.successes[0].task)).lowercased().split(whereSeparator: { !$0.isLetter })
        var words: [String] = []
        let everyTask = f.successes.map { TaskText.familyWords(TaskText.instruction($0.task)) }  // once each, not per candidate word
        for w in first.map(String.init) where f.words.contains(w) && !words.contains(w) && everyTask.allSatisfy({ $0.contains(w) }) {
            words.append(w)
            if words.count == 4 { break }
        }
        return SurrogateVerifier.slug(words.isEmpty ? "distilled-skill" : words.joined(separator: "-"))
    }

    /// The bundle for a family, without the steps whose templates are in `excluding`.
    public func render(_ f: Family, name: String, excluding: Set<String>) -> Distilled? {
        let steps = procedure(f.successes, excluding: excluding)
        guard !steps.isEmpty else { return nil }
        let n = f.successes.count
        // What the family's tasks ask for, without greetings, context sentences or parameters.
        let instructions = f.successes.map { TaskText.instruction($0.task) }
        let skeleton = Self.sentence(TaskText.skeleton(instructions))
        var body: [String] = ["# \(name.replacingOccurrences(of: "-", with: " ").capitalized)", ""]
        body.append("Distilled by skillforge from \(n) successful runs (and \(f.attempts.count - n) other attempts) of tasks like:")
        body.append("")
        var examples: [String] = []
        for i in instructions where !examples.contains(i) { examples.append(i) }
        for e in examples.prefix(3) { body.append("> \(e)") }
        body.append("")
        body.append("## When to use")
        body.append("")
        body.append("Use this skill when a task asks for the same kind of change: \(skeleton)")
        body.append("")
        body.append("## Procedure")
        body.append("")
        for (i, s) in steps.enumerated() {
            let why = s.thought.map { " — \($0)" } ?? ""
            body.append("\(i + 1). `\(s.display)`\(why) (seen in \(s.citations.count) of \(n) runs)")
        }
        let script = Self.script(name: name, steps: steps, runs: f.successes)
        if let script {
            body.append("")
            body.append("## Scripts")
            body.append("")
            body.append("- [`\(script.path)`](\(script.path)): runs the shell steps of the procedure in order; `\(script.path) --help` lists its parameters.")
        }
        body.append("")
        body.append("## Verification")
        body.append("")
        body.append("Finish the way the successful runs did: `\(steps.last!.display)`\(steps.last!.thought.map { " — \($0)" } ?? "").")
        let pitfalls = pitfallsOf.value(f.successes.map(\.id).joined(separator: "\u{1}") + "\u{2}" + f.attempts.map(\.id).joined(separator: "\u{1}")) {
            Self.pitfalls(f, features: features)
        }
        if !pitfalls.isEmpty {
            body.append("")
            body.append("## Pitfalls")
            body.append("")
            for p in pitfalls { body.append("- \(p.text)") }
        }
        body.append("")
        body.append("## Evidence")
        body.append("")
        body.append("Every step, script and pitfall above cites the runs it came from in [references/evidence.md](references/evidence.md).")

        var evidence = ["# Evidence for \(name)", "", "Successful runs: " + f.successes.map { "`\($0.id)`" }.joined(separator: ", "), "", "## Procedure", ""]
        for (i, s) in steps.enumerated() {
            evidence.append("- Step \(i + 1) `\(s.display)`: " + s.citations.map { "`\($0.0)` step \($0.1)" }.joined(separator: ", "))
        }
        if let script {
            evidence.append("")
            evidence.append("## Scripts")
            evidence.append("")
            evidence.append("- `\(script.path)`: steps " + script.steps.map { "\($0 + 1)" }.joined(separator: ", ") + " of the procedure.")
        }
        if !pitfalls.isEmpty {
            evidence.append("")
            evidence.append("## Pitfalls")
            evidence.append("")
            for p in pitfalls { evidence.append("- \(p.text): " + p.citations.map { "`\($0.0)` step \($0.1)" }.joined(separator: ", ")) }
        }
        var files = [SkillBundle.File(path: "references/evidence.md", data: Data((evidence.joined(separator: "\n") + "\n").utf8), executable: false)]
        if let script { files.append(SkillBundle.File(path: script.path, data: Data(script.text.utf8), executable: true)) }
        let description = Self.description(skeleton: skeleton, runs: n)
        var front: [(key: String, value: SkillBundle.FrontmatterValue)] = [("name", .string(name)), ("description", .string(description))]
        if let l = options.license { front.append(("license", .string(l))) }
        front.append(("metadata", .mapping([("generator", "skillforge"), ("support", "\(n)")])))
        let bundle = SkillBundle(directoryName: name, frontmatter: front, body: body.joined(separator: "\n") + "\n", files: files)
        // Leave-one-out: each run against the procedure distilled from the others.
        var heldOut: [(procedure: [String], run: [String])] = []
        if n >= 3 {
            let family = family(f.successes)
            var support: [Int: [Int]] = [:]
            for k in f.successes.indices {
                heldOut.append((heldOutProcedure(family, leavingOut: k, excluding: excluding, support: &support), family.seqs[k]))
            }
        }
        let ev = GroundingEvidence(procedure: steps.map(\.template), heldOut: heldOut,
                                   citedSteps: Set(steps.indices.filter { !steps[$0].citations.isEmpty }.map { $0 + 1 }))
        return Distilled(bundle: bundle, evidence: ev, family: f)
    }

    /// A skeleton as a sentence: capitalised, ending in a full stop.
    static func sentence(_ s: String) -> String {
        var t = s.trimmingCharacters(in: .whitespaces)
        while let last = t.last, ",;:".contains(last) { t.removeLast() }
        if let last = t.last, !".!?…".contains(last) { t += "." }
        return t.prefix(1).uppercased() + t.dropFirst()
    }

    /// Two sentences within the spec's 1,024 characters, no `<` or `>`: what the skill does (the family's
    /// instruction skeleton) and when to use it.
    static func description(skeleton: String, runs: Int) -> String {
        var what = skeleton.replacingOccurrences(of: "<", with: "").replacingOccurrences(of: ">", with: "")
        if what.count > 700 { what = String(what.prefix(699)).trimmingCharacters(in: .whitespaces) + "…" }
        if let last = what.last, !".!?…".contains(last) { what += "." }
        return "Handles tasks of the form: \(what) Use it when a task asks for this kind of change; its steps are those that worked in \(runs) successful runs."
    }

    struct Script {
        var path: String
        var text: String
        var steps: [Int]
    }

    /// A parameterised shell script for the procedure's shell steps (when there are at least two that
    /// can be written without quoting problems). Values that differ between runs become parameters.
    static func script(name: String, steps: [ProcedureStep], runs: [Trajectory]) -> Script? {
        let byID = Dictionary(runs.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var lines: [String] = []
        var params: [String: String] = [:]  // concrete value → variable
        var order: [String] = []
        var used: [Int] = []
        for (i, s) in steps.enumerated() where s.template.hasPrefix("bash:") {
            // The concrete commands of this step in every run that took it.
            let commands = s.citations.compactMap { id, step in byID[id]?.steps.first { $0.index == step }?.action?.command }
            guard let first = commands.first, !first.contains("'"), !first.contains("\""), !first.contains("$") else { continue }
            let tokens = first.split(separator: " ").map(String.init)
            let others = commands.dropFirst().map { $0.split(separator: " ").map(String.init) }
            var out: [String] = []
            for (k, tok) in tokens.enumerated() {
                let varies = others.contains { $0.count != tokens.count || $0[k] != tok }
                if varies {
                    if params[tok] == nil {
                        let v = "ARG\(order.count + 1)"
                        params[tok] = v
                        order.append(tok)
                    }
                    out.append("\"${\(params[tok]!)}\"")
                } else {
                    out.append(tok)
                }
            }
            lines.append("# Step \(i + 1)" + (s.thought.map { ": \($0)" } ?? ""))
            lines.append(out.joined(separator: " "))
            used.append(i)
        }
        guard used.count >= 2 else { return nil }
        let path = "scripts/\(name).sh"
        var text = ["#!/usr/bin/env bash", "# \(name): the shell steps of the distilled procedure (generated by skillforge).", "set -euo pipefail", ""]
        let usage = order.indices.map { "ARG\($0 + 1)" }.joined(separator: " ")
        text.append("usage() {")
        text.append("  echo \"usage: $(basename \"$0\") \(usage)\" >&2")
        for (k, example) in order.enumerated() { text.append("  echo \"  ARG\(k + 1): for example \(Self.safeExample(example))\" >&2") }
        text.append("}")
        text.append("if [ \"${1:-}\" = \"--help\" ] || [ \"$#\" -ne \(order.count) ]; then usage; exit 2; fi")
        for k in order.indices { text.append("ARG\(k + 1)=\"$\(k + 1)\"") }
        text.append("")
        text += lines
        return Script(path: path, text: text.joined(separator: "\n") + "\n", steps: used)
    }

    static func safeExample(_ s: String) -> String {
        String(s.filter { $0.isLetter || $0.isNumber || "._-/:@=+".contains($0) }.prefix(60))
    }

    struct Pitfall {
        var text: String
        var citations: [(String, Int)]
    }

    /// Errors that successful runs recovered from (what they did next), and errors that recur in failed runs.
    /// A run's failed steps: the error line each hit, what the run did next, and the step.
    static func failedSteps(_ t: Trajectory) -> [SkillFeatures.FailedStep] {
        let acts = actions(t)
        return acts.indices.compactMap { k in
            let a = acts[k]
            guard a.failed, let err = a.observation.flatMap(errorLine).map(errorKey), !err.isEmpty else { return nil }
            let next = k + 1 < acts.count ? (acts[k + 1].thought.map(cleanThought) ?? normalise(acts[k + 1].action.command ?? acts[k + 1].action.tool)) : nil
            return .init(error: err, next: next, step: a.step)
        }
    }

    static func pitfalls(_ f: Family, features: SkillFeatures? = nil) -> [Pitfall] {
        var byError: [String: (next: String?, cites: [(String, Int)])] = [:]
        var order: [String] = []
        // Each run's failed steps on all cores (or from the previous build), then merged in order.
        let steps: @Sendable (Trajectory) -> [SkillFeatures.FailedStep] = { t in features?.failedSteps(t) { failedSteps(t) } ?? failedSteps(t) }
        let seen = Parallel.map(f.successes, steps)
        for (t, hits) in zip(f.successes, seen) {
            for s in hits {
                if byError[s.error] == nil { order.append(s.error); byError[s.error] = (s.next, []) }
                byError[s.error]!.cites.append((t.id, s.step))
            }
        }
        var out = order.map { err -> Pitfall in
            let e = byError[err]!
            return Pitfall(text: "If you see `\(err)`, recover: \(e.next ?? "fix the cause and retry").", citations: e.cites)
        }
        var failedErrors: [String: [(String, Int)]] = [:]
        var forder: [String] = []
        let failedRuns = f.attempts.filter { $0.outcome.status != .success }
        let failedSeen = Parallel.map(failedRuns, steps)
        for (t, hits) in zip(failedRuns, failedSeen) {
            for s in hits where byError[s.error] == nil {
                if failedErrors[s.error] == nil { forder.append(s.error) }
                failedErrors[s.error, default: []].append((t.id, s.step))
            }
        }
        for err in forder where Set(failedErrors[err]!.map(\.0)).count >= 2 {
            out.append(Pitfall(text: "Runs that hit `\(err)` did not succeed; change approach instead of retrying.", citations: failedErrors[err]!))
        }
        return Array(out.prefix(6))
    }

    static func errorKey(_ line: String) -> String {
        let n = normalise(line).replacingOccurrences(of: "`", with: "'")
        return n.count > 120 ? String(n.prefix(117)) + "…" : n
    }
}
