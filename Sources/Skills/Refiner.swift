import Foundation
import Prepare

/// The generate → verify → refine loop's refiner: one deterministic repair per diagnosis kind,
/// re-verifying after every round, up to `maxRounds`.
public struct Refiner: Sendable {
    public struct Round: Sendable, Codable {
        public var round: Int
        public var diagnoses: [Diagnosis]
        public var repairs: [String]
    }

    public struct Outcome: Sendable, Codable {
        public var status: String  // verified | rejected
        public var rounds: [Round]
        public var passRate: Double?
        public var reasons: [String]
        enum CodingKeys: String, CodingKey { case status, rounds, passRate = "pass_rate", reasons }
    }

    public let verifier: SurrogateVerifier
    public let maxRounds: Int

    public init(verifier: SurrogateVerifier = SurrogateVerifier(), maxRounds: Int = 5) {
        self.verifier = verifier
        self.maxRounds = maxRounds
    }

    /// Verifies and repairs `bundle`; `evidence` is recomputed by `regrounded` after steps are dropped.
    public func run(_ bundle: SkillBundle, evidence: GroundingEvidence? = nil,
                    dropStep: ((SkillBundle, Int) -> (SkillBundle, GroundingEvidence?))? = nil) -> (SkillBundle, Outcome) {
        var b = bundle
        var ev = evidence
        var rounds: [Round] = []
        for round in 1...max(1, maxRounds + 1) {
            let result = verifier.verify(b, evidence: ev)
            if result.passed || round > maxRounds {
                rounds.append(Round(round: round, diagnoses: result.diagnoses, repairs: []))
                let status = result.passed ? "verified" : "rejected"
                return (b, Outcome(status: status, rounds: rounds, passRate: result.passRate,
                                   reasons: result.errors.map { "\($0.check): \($0.actual) (expected \($0.expected))" }))
            }
            var applied: [String] = []
            for d in result.errors {
                guard let repair = d.repair else { continue }
                if let note = apply(repair, d, to: &b, evidence: &ev, dropStep: dropStep) { applied.append(note) }
            }
            rounds.append(Round(round: round, diagnoses: result.diagnoses, repairs: applied))
            if applied.isEmpty {
                // Nothing left that a repair can change: reject with the reasons.
                return (b, Outcome(status: "rejected", rounds: rounds, passRate: result.passRate,
                                   reasons: result.errors.map { "\($0.check): \($0.actual) — \($0.fix)" }))
            }
        }
        return (b, Outcome(status: "rejected", rounds: rounds, passRate: nil, reasons: ["round limit"]))
    }

    func apply(_ repair: String, _ d: Diagnosis, to b: inout SkillBundle, evidence: inout GroundingEvidence?,
               dropStep: ((SkillBundle, Int) -> (SkillBundle, GroundingEvidence?))?) -> String? {
        switch repair {
        case "slug_name":
            let slug = SurrogateVerifier.slug(b.name ?? b.directoryName)
            b.set("name", slug)
            b.directoryName = slug
            return "renamed the skill and its directory to '\(slug)'"
        case "match_directory":
            let dirSlug = SurrogateVerifier.slug(b.directoryName)
            if dirSlug == b.directoryName { b.set("name", dirSlug); return "set name to the directory name '\(dirSlug)'" }
            let slug = SurrogateVerifier.slug(b.name ?? b.directoryName)
            b.set("name", slug)
            b.directoryName = slug
            return "renamed the directory to '\(slug)'"
        case "trim_description":
            guard let desc = b.description else { return nil }
            b.set("description", Self.trim(desc, to: 1024))
            return "trimmed the description to 1024 characters"
        case "trim_compatibility":
            guard let c = b.value("compatibility") else { return nil }
            b.set("compatibility", Self.trim(c, to: 500))
            return "trimmed compatibility"
        case "strip_angle_brackets":
            guard let desc = b.description else { return nil }
            b.set("description", desc.replacingOccurrences(of: "<", with: "").replacingOccurrences(of: ">", with: ""))
            return "removed angle brackets from the description"
        case "move_key_to_metadata":
            guard let key = d.actual.split(separator: "'").dropFirst().first.map(String.init),
                  let i = b.frontmatter.firstIndex(where: { $0.key == key }) else { return nil }
            let value = b.frontmatter[i].value
            b.frontmatter.remove(at: i)
            var pairs: [(String, String)] = []
            if let m = b.frontmatter.firstIndex(where: { $0.key == "metadata" }), case .mapping(let existing) = b.frontmatter[m].value {
                pairs = existing
                b.frontmatter.remove(at: m)
            }
            switch value {
            case .string(let s), .other(let s): pairs.append((key, s))
            case .mapping(let kv): pairs.append((key, kv.map { "\($0)=\($1)" }.joined(separator: ", ")))
            }
            b.frontmatter.append(("metadata", .mapping(pairs)))
            return "moved '\(key)' under metadata"
        case "redact_secrets":
            let r = SecretRedactor()
            var counts: [String: Int] = [:]
            b.body = r.redact(b.body, counts: &counts)
            for i in b.files.indices { if let t = String(data: b.files[i].data, encoding: .utf8) { b.files[i].data = Data(r.redact(t, counts: &counts).utf8) } }
            return "redacted \(counts.values.reduce(0, +)) secret(s)"
        case "parameterise_literals":
            func clean(_ s: String) -> String {
                var t = s
                for (re, repl) in [(SurrogateVerifier.userPath, "$HOME_DIR"), (SurrogateVerifier.literalID, "<ID>")] {
                    t = re.stringByReplacingMatches(in: t, range: NSRange(t.startIndex..., in: t), withTemplate: repl)
                }
                return t
            }
            b.body = clean(b.body)
            for i in b.files.indices { if let t = String(data: b.files[i].data, encoding: .utf8) { b.files[i].data = Data(clean(t).utf8) } }
            for i in b.frontmatter.indices { if case .string(let s) = b.frontmatter[i].value { b.frontmatter[i].value = .string(clean(s)) } }
            return "replaced run-specific paths and ids with parameters"
        case "drop_dangling_reference":
            guard let target = d.target else { return nil }
            let escaped = NSRegularExpression.escapedPattern(for: target)
            var body = b.body.replacingOccurrences(of: #"\[([^\]]*)\]\((\./)?"# + escaped + #"\)"#, with: "$1", options: .regularExpression)
            body = body.replacingOccurrences(of: "`\(target)`", with: "(no longer included)")
            body = body.replacingOccurrences(of: target, with: "(no longer included)")
            guard body != b.body else { return nil }
            b.body = body
            return "removed the reference to missing '\(target)'"
        case "add_reference":
            guard let target = d.target else { return nil }
            let line = "- [`\(target)`](\(target)): run it as described in the procedure."
            if b.body.contains("\n## Scripts\n") {
                b.body = b.body.replacingOccurrences(of: "\n## Scripts\n", with: "\n## Scripts\n\n\(line)\n")
            } else {
                b.body += (b.body.hasSuffix("\n") ? "" : "\n") + "\n## Scripts\n\n\(line)\n"
            }
            return "referenced '\(target)' from SKILL.md"
        case "add_shebang":
            guard let target = d.target, let i = b.files.firstIndex(where: { $0.path == target }) else { return nil }
            let ext = (target as NSString).pathExtension
            let interp = ext == "py" ? "python3" : (["js", "mjs", "cjs"].contains(ext) ? "node" : "bash")
            b.files[i].data = Data("#!/usr/bin/env \(interp)\n".utf8) + b.files[i].data
            return "added a shebang to '\(target)'"
        case "set_executable":
            guard let target = d.target, let i = b.files.firstIndex(where: { $0.path == target }) else { return nil }
            b.files[i].executable = true
            return "made '\(target)' executable"
        case "strip_bom":
            return nil  // parse already dropped nothing; a BOM needs the raw file rewritten by the author
        case "split_body":
            let lines = b.body.components(separatedBy: "\n")
            // Keep the first sections (up to ~300 lines, at a heading) and move the rest to a reference file.
            var cut = min(300, lines.count)
            while cut > 50 && !lines[cut].hasPrefix("## ") { cut -= 1 }
            if cut <= 50 { cut = 300 }
            let moved = lines[cut...].joined(separator: "\n")
            var path = "references/details.md"
            var n = 2
            while b.file(path) != nil { path = "references/details-\(n).md"; n += 1 }
            b.files.append(SkillBundle.File(path: path, data: Data(moved.utf8), executable: false))
            b.files.sort { $0.path < $1.path }
            b.body = lines[..<cut].joined(separator: "\n") + "\n\n## More detail\n\nSee [\(path)](\(path)).\n"
            return "moved \(lines.count - cut) lines of the body into \(path)"
        default:
            if repair.hasPrefix("drop_step:"), let n = Int(repair.dropFirst(10)), let dropStep {
                let (nb, ne) = dropStep(b, n)
                b = nb
                evidence = ne
                return "dropped ungrounded procedure step \(n)"
            }
            if repair == "drop_least_supported_step", let dropStep {
                let (nb, ne) = dropStep(b, 0)
                b = nb
                evidence = ne
                return "dropped the least supported procedure step"
            }
            return nil
        }
    }

    static func trim(_ s: String, to limit: Int) -> String {
        guard s.count > limit else { return s }
        let head = String(s.prefix(limit))
        if let r = head.range(of: ". ", options: .backwards), head.distance(from: head.startIndex, to: r.lowerBound) > limit / 2 {
            return String(head[..<r.lowerBound]) + "."
        }
        return String(head.prefix(limit - 1)) + "…"
    }
}
