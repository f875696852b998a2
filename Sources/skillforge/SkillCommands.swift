import ArgumentParser
import Foundation
import Skills
import Trajectories

struct SkillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skill",
        abstract: "Verify and score Agent Skills bundles.",
        subcommands: [SkillVerifyCommand.self, SkillScoreCommand.self, SkillInstallCommand.self]
    )
}

struct SkillVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Run the surrogate verifier on bundles (spec, information boundary, structure, implementation). Scripts are parsed, never run.",
        discussion: "Exit code 0 when every bundle passes, 1 otherwise. With --to DIR the refiner's repairs (up to --max-rounds rounds) are applied to copies written into DIR; the bundles given are not changed."
    )

    @Argument(help: "Bundle directories (each with SKILL.md).")
    var bundles: [String]

    @Flag(name: .long, help: "Print diagnoses as JSON.")
    var json = false

    @Option(name: .long, help: "Apply the refiner's repairs (up to N rounds) and write the repaired bundles into this directory.")
    var to: String?

    @Option(name: .long, help: "Rounds for --to.")
    var maxRounds: Int = 5

    func run() throws {
        struct Report: Encodable {
            var bundle: String
            var passed: Bool
            var diagnoses: [Diagnosis]
            var refined: Refiner.Outcome?
        }
        var reports: [Report] = []
        let verifier = SurrogateVerifier()
        for path in bundles {
            let b: SkillBundle
            do { b = try SkillBundle.read(directory: URL(fileURLWithPath: path)) } catch {
                Terminal.err("\(Terminal.red("error:")) \(error)")
                throw ExitCode(Exit.buildFailure)
            }
            let result = verifier.verify(b)
            var refined: Refiner.Outcome?
            if let to {
                let (fixed, outcome) = Refiner(maxRounds: maxRounds).run(b)
                _ = try fixed.write(into: URL(fileURLWithPath: to))
                refined = outcome
            }
            reports.append(Report(bundle: path, passed: result.passed, diagnoses: result.diagnoses, refined: refined))
        }
        if json {
            Terminal.out(String(decoding: try JSONCoding.prettyEncoder.encode(reports), as: UTF8.self))
        } else {
            for r in reports {
                Terminal.out("\(r.bundle): \(r.passed ? Terminal.green("verified") : Terminal.red("failed"))")
                for d in r.diagnoses {
                    Terminal.out("  \(d.severity.rawValue) \(d.check)\(d.target.map { " [\($0)]" } ?? ""): \(d.actual); expected \(d.expected)")
                    Terminal.out("    cause: \(d.rootCause); fix: \(d.fix)")
                }
                if let o = r.refined { Terminal.out("  refined: \(o.status) after \(o.rounds.count) round(s)") }
            }
        }
        if reports.contains(where: { !$0.passed && $0.refined?.status != "verified" }) { throw ExitCode(Exit.buildFailure) }
    }
}

struct SkillScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score bundles with the Posterior Distillation Index against trajectory evidence (any supported format).",
        discussion: "φ_exec: ψ(successful runs' commands, skill); φ_plan: ψ(thoughts and Next Strategy notes, skill); φ_oss: oscillation across attempts. PDI = z(φ_exec) − z(φ_plan) − z(φ_oss) over the bundles scored together."
    )

    @Argument(help: "Bundle directories, or SKILL.md files.")
    var bundles: [String]

    @Option(name: .long, help: ArgumentHelp(
        "Trajectory files, comma-separated (--evidence a.jsonl,b.jsonl).",
        discussion: "Given once, every bundle is scored against these files. Given once per bundle, the i-th --evidence is the i-th bundle's own evidence (pairs are formed by position), so no bundle's φ_oss or φ_exec comes from another bundle's runs."))
    var evidence: [String] = []

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func validate() throws {
        guard evidence.count <= 1 || evidence.count == bundles.count else {
            throw ValidationError("\(evidence.count) --evidence groups for \(bundles.count) bundles: give --evidence once (shared by every bundle) or once per bundle, in the bundles' order")
        }
    }

    func run() throws {
        // Each bundle's evidence: its own group, or the one shared group.
        var groups: [[Trajectory]] = []
        for group in evidence {
            var attempts: [Trajectory] = []
            for f in group.split(separator: ",").map(String.init) where !f.isEmpty {
                do { attempts += try Importers.importFile(path: f, display: f).trajectories } catch {
                    Terminal.err("\(Terminal.red("error:")) \(error)")
                    throw ExitCode(Exit.buildFailure)
                }
            }
            groups.append(attempts)
        }
        func attempts(of k: Int) -> [Trajectory] { groups.isEmpty ? [] : groups.count == 1 ? groups[0] : groups[k] }
        var terms: [PDI.Terms] = []
        for (k, path) in bundles.enumerated() {
            let url = URL(fileURLWithPath: path)
            let text: String
            if path.hasSuffix(".md") {
                text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
            } else {
                let b = try SkillBundle.read(directory: url)
                text = b.skillMD + b.files.map(\.text).joined(separator: "\n")
            }
            let own = attempts(of: k)
            terms.append(PDI.terms(skill: text, successes: own.filter { $0.outcome.status == .success }, attempts: own))
        }
        let index = PDI.index(terms)
        if json {
            struct Row: Encodable { var bundle: String; var terms: PDI.Terms; var pdi: Double }
            let rows = bundles.indices.map { Row(bundle: bundles[$0], terms: terms[$0], pdi: index[$0]) }
            Terminal.out(String(decoding: try JSONCoding.prettyEncoder.encode(rows), as: UTF8.self))
            return
        }
        if groups.count <= 1 {
            let all = attempts(of: 0)
            Terminal.out("evidence: \(all.count) attempt(s), \(all.filter { $0.outcome.status == .success }.count) successful, shared by every bundle")
        } else {
            for (k, b) in bundles.enumerated() {
                Terminal.out("evidence of \(b): \(groups[k].count) attempt(s), \(groups[k].filter { $0.outcome.status == .success }.count) successful")
            }
        }
        Terminal.out(String(format: "%-50@ %8@ %8@ %8@ %8@", "bundle" as NSString, "phi_exec" as NSString, "phi_plan" as NSString, "phi_oss" as NSString, "PDI" as NSString))
        for (i, b) in bundles.enumerated() {
            Terminal.out(String(format: "%-50@ %8.4f %8.4f %8.4f %8.3f", b as NSString, terms[i].exec, terms[i].plan, terms[i].oss, index[i]))
        }
    }
}
