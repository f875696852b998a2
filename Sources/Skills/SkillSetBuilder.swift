import Foundation
import Trajectories

/// Builds the `skills` output: distils bundles from the build's trajectories, runs the verify → refine
/// loop on each, scores them with PDI over the build's population, verifies the curated bundles, and
/// writes everything under one directory (`<name>/` bundles, `<name>/verification.json`, `index.json`).
public final class SkillSetBuilder {
    public struct Options: Sendable {
        public var distiller: Distiller.Options
        public var maxRounds: Int
        /// Directory of curated bundles to verify alongside (nil: none).
        public var curatedDirectory: String?
        /// What the previous build derived from single runs (nil: work every run out); saved by `finish`.
        public var features: SkillFeatures?
        public init(distiller: Distiller.Options, maxRounds: Int = 5, curatedDirectory: String? = nil, features: SkillFeatures? = nil) {
            self.distiller = distiller
            self.maxRounds = maxRounds
            self.curatedDirectory = curatedDirectory
            self.features = features
        }
    }

    public struct Entry: Sendable, Codable {
        public var name: String
        public var source: String
        public var status: String
        public var rounds: Int
        public var passRate: Double?
        public var pdi: Double?
        public var terms: PDI.Terms?
        public var support: Int?
        public var reasons: [String]
        enum CodingKeys: String, CodingKey {
            case name, source, status, rounds, passRate = "pass_rate", pdi, terms, support, reasons
        }
    }

    let options: Options
    private var trajectories: [Trajectory] = []
    /// Filled by `finish`: every bundle's result.
    public private(set) var entries: [Entry] = []
    public var curatedDirectory: String? { options.curatedDirectory }

    public init(options: Options) { self.options = options }

    public func add(_ batch: [Trajectory]) { trajectories += batch }

    public func finish(into directory: URL) throws -> (entries: [Entry], belowSupport: Int, withoutProcedure: Int) {
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        let distiller = Distiller(options: options.distiller, features: options.features)
        let (skills, below, unshared) = distiller.distill(trajectories)
        let refiner = Refiner(maxRounds: options.maxRounds)
        // Each skill's verify → refine loop is its own: they run in parallel, results in order.
        let results: [(SkillBundle, Refiner.Outcome, Distiller.Distilled)] = Parallel.map(skills, minChunk: 1) { d in
            var excluded = Set<String>()
            let family = d.family
            let name = d.bundle.directoryName
            let (bundle, outcome) = refiner.run(d.bundle, evidence: d.evidence) { current, step in
                // Re-distil without the dropped step (0: the least supported one).
                let procedure = distiller.procedure(family.successes, excluding: excluded)
                guard !procedure.isEmpty else { return (current, nil) }
                let victim = step > 0 && step <= procedure.count ? procedure[step - 1]
                    : procedure.min { ($0.citations.count, $0.template) < ($1.citations.count, $1.template) }!
                excluded.insert(victim.template)
                guard let again = distiller.render(family, name: name, excluding: excluded) else { return (current, nil) }
                return (again.bundle, again.evidence)
            }
            return (bundle, outcome, d)
        }
        // PDI over this build's distilled skills.
        let terms = results.map { b, _, d in
            PDI.terms(skill: b.skillMD + b.files.map(\.text).joined(separator: "\n"), successes: d.family.successes, attempts: d.family.attempts,
                      features: options.features)
        }
        options.features?.save()
        let index = PDI.index(terms)
        var entries: [Entry] = []
        for (i, (bundle, outcome, d)) in results.enumerated() {
            let dir = try bundle.write(into: directory)
            var record = VerificationRecord(status: outcome.status, rounds: outcome.rounds, passRate: outcome.passRate,
                                            reasons: outcome.reasons, pdi: index[i], terms: terms[i],
                                            support: d.family.successes.count)
            record.source = "distilled"
            try record.write(to: dir.appendingPathComponent("verification.json"))
            entries.append(Entry(name: bundle.directoryName, source: "distilled", status: outcome.status, rounds: outcome.rounds.count,
                                 passRate: outcome.passRate, pdi: index[i], terms: terms[i], support: d.family.successes.count,
                                 reasons: outcome.reasons))
        }
        if let curated = options.curatedDirectory, let names = try? fm.contentsOfDirectory(atPath: curated) {
            let verifier = SurrogateVerifier()
            for n in names.sorted() {
                let dir = URL(fileURLWithPath: curated).appendingPathComponent(n)
                guard fm.fileExists(atPath: dir.appendingPathComponent("SKILL.md").path) else { continue }
                let b = try SkillBundle.read(directory: dir)
                let r = verifier.verify(b)
                entries.append(Entry(name: b.directoryName, source: "curated", status: r.passed ? "verified" : "rejected", rounds: 1,
                                     passRate: nil, pdi: nil, terms: nil, support: nil,
                                     reasons: r.errors.map { "\($0.check): \($0.actual)" }))
            }
        }
        var data = try JSONCoding.prettyEncoder.encode(entries)
        data.append(0x0A)
        try data.write(to: directory.appendingPathComponent("index.json"))
        self.entries = entries
        return (entries, below.count, unshared.count)
    }
}

/// `verification.json` beside a bundle: final status, every round's diagnoses and repairs, the
/// leave-one-out pass rate and the PDI terms.
public struct VerificationRecord: Sendable, Codable {
    public var source: String = "distilled"
    public var status: String
    public var rounds: [Refiner.Round]
    public var passRate: Double?
    public var reasons: [String]
    public var pdi: Double?
    public var terms: PDI.Terms?
    public var support: Int?

    enum CodingKeys: String, CodingKey {
        case source, status, rounds, passRate = "pass_rate", reasons, pdi, terms, support
    }

    func write(to url: URL) throws {
        var data = try JSONCoding.prettyEncoder.encode(self)
        data.append(0x0A)
        try data.write(to: url)
    }
}
