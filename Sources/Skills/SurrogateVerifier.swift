import Foundation
import Prepare
import Trajectories

/// One failed check: what was found, what was expected, why, and how to fix it. `repair` names the
/// refiner's deterministic repair for it (nil when none applies).
public struct Diagnosis: Sendable, Hashable, Codable {
    public enum Category: String, Sendable, Codable, CaseIterable { case spec, boundary, structure, implementation, grounding }
    public enum Severity: String, Sendable, Codable { case error, warning }

    public var check: String
    public var category: Category
    public var severity: Severity
    public var actual: String
    public var expected: String
    public var rootCause: String
    public var fix: String
    public var repair: String?
    /// The file (or SKILL.md) the diagnosis is about.
    public var target: String?

    enum CodingKeys: String, CodingKey {
        case check, category, severity, actual, expected, rootCause = "root_cause", fix, repair, target
    }
}

/// Evidence for grounding: the successful runs a distilled procedure came from.
public struct GroundingEvidence: Sendable {
    /// The procedure's step templates, in order.
    public var procedure: [String]
    /// For each held-out successful run: the procedure distilled without it, and the run's templates.
    public var heldOut: [(procedure: [String], run: [String])]
    /// Procedure steps (1-based) that `references/evidence.md` cites trajectory steps for.
    public var citedSteps: Set<Int>
    public init(procedure: [String], heldOut: [(procedure: [String], run: [String])], citedSteps: Set<Int>) {
        self.procedure = procedure
        self.heldOut = heldOut
        self.citedSteps = citedSteps
    }
}

/// An EvoSkills-style surrogate verifier: needs no ground-truth tests. Gates: the Agent Skills
/// specification, the information boundary, structure, implementation (scripts parse; never run),
/// and — for distilled bundles — grounding and a leave-one-out replay of held-out successful runs.
public struct SurrogateVerifier: Sendable {
    public static let allowedKeys: Set<String> = ["name", "description", "license", "compatibility", "metadata", "allowed-tools"]
    public static let reservedWords = ["anthropic", "claude"]
    public static let maxBodyLines = 500
    /// Leave-one-out pass rate below this fails grounding.
    public static let minPassRate = 0.5

    public init() {}

    public struct Result: Sendable, Codable {
        public var diagnoses: [Diagnosis]
        public var passRate: Double?
        public var errors: [Diagnosis] { diagnoses.filter { $0.severity == .error } }
        public var passed: Bool { errors.isEmpty }
        enum CodingKeys: String, CodingKey { case diagnoses, passRate = "pass_rate" }
    }

    public func verify(_ b: SkillBundle, evidence: GroundingEvidence? = nil) -> Result {
        var d = specDiagnoses(b)
        d += boundary(b)
        let refs = Self.scriptReferences(b)  // both checks below ask how each script is referred to
        d += structure(b, references: refs)
        d += implementation(b, references: refs)
        var passRate: Double?
        if let evidence {
            let (g, rate) = grounding(b, evidence)
            d += g
            passRate = rate
        }
        return Result(diagnoses: d, passRate: passRate)
    }

    /// Only the checks the specification itself states (what `agentskills validate` checks).
    public func specErrors(_ b: SkillBundle) -> [Diagnosis] {
        specDiagnoses(b).filter { !$0.check.hasPrefix("quality.") }
    }

    static let nameRegex = #"^[a-z0-9]+(-[a-z0-9]+)*$"#

    func specDiagnoses(_ b: SkillBundle) -> [Diagnosis] {
        var out: [Diagnosis] = []
        func add(_ check: String, _ actual: String, _ expected: String, _ cause: String, _ fix: String, repair: String?,
                 severity: Diagnosis.Severity = .error) {
            out.append(Diagnosis(check: check, category: .spec, severity: severity, actual: actual, expected: expected,
                                 rootCause: cause, fix: fix, repair: repair, target: "SKILL.md"))
        }
        if let e = b.frontmatterError {
            add("spec.frontmatter", e, "YAML frontmatter between '---' lines at byte 0 of SKILL.md", "SKILL.md is not in the Agent Skills format",
                "start SKILL.md with '---', the name and description, and a closing '---'", repair: e.contains("byte-order mark") ? "strip_bom" : nil)
            return out
        }
        for (k, _) in b.frontmatter where !Self.allowedKeys.contains(k) {
            add("spec.keys", "unknown frontmatter key '\(k)'", "only \(Self.allowedKeys.sorted().joined(separator: ", "))",
                "the key is not part of the specification", "move '\(k)' under metadata or remove it", repair: "move_key_to_metadata")
        }
        if let name = b.name {
            if name.isEmpty || name.count > 64 {
                add("spec.name.length", "\(name.count) characters", "1 to 64 characters", "the name is empty or too long", "shorten the name", repair: "slug_name")
            }
            if !TextPattern.cached(Self.nameRegex).matches(name) {
                add("spec.name.format", "'\(name)'", "lowercase letters, digits and single hyphens (\(Self.nameRegex))",
                    "the name has characters or hyphens the specification forbids", "use '\(Self.slug(name))'", repair: "slug_name")
            }
            if name != b.directoryName {
                add("spec.name.directory", "name '\(name)' in directory '\(b.directoryName)'", "the name equals the directory name",
                    "the bundle was renamed on one side only", "rename one to match the other", repair: "match_directory")
            }
            for w in Self.reservedWords where name.lowercased().contains(w) {
                add("quality.name.reserved", "'\(name)' contains '\(w)'", "no reserved words (\(Self.reservedWords.joined(separator: ", ")))",
                    "skill packagers reject reserved words in names", "drop '\(w)' from the name", repair: "slug_name")
            }
        } else {
            add("spec.name.missing", "no name", "a name", "the frontmatter lacks the required name", "add 'name: \(Self.slug(b.directoryName))'", repair: "match_directory")
        }
        if let desc = b.description {
            if desc.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                add("spec.description.empty", "empty description", "1 to 1024 characters saying what and when",
                    "the description is blank", "describe what the skill does and when to use it", repair: nil)
            } else if desc.count > 1024 {
                add("spec.description.length", "\(desc.count) characters", "at most 1024 characters", "the description is too long",
                    "keep the first sentences that say what and when", repair: "trim_description")
            }
            if desc.contains("<") || desc.contains(">") {
                add("quality.description.characters", "contains '<' or '>'", "no angle brackets", "skill packagers reject angle brackets (they read as markup)",
                    "rephrase without < and >", repair: "strip_angle_brackets")
            }
        } else {
            add("spec.description.missing", "no description", "a description", "the frontmatter lacks the required description",
                "add a description of what the skill does and when to use it", repair: nil)
        }
        if let c = b.value("compatibility"), c.count > 500 {
            add("spec.compatibility.length", "\(c.count) characters", "at most 500", "compatibility is too long", "shorten it", repair: "trim_compatibility")
        }
        if let m = b.frontmatter.first(where: { $0.key == "metadata" })?.value, case .other = m {
            add("spec.metadata.type", "metadata is not a string mapping", "a map of string keys to string values",
                "metadata holds nested values", "flatten metadata to strings", repair: nil)
        }
        let bodyLines = b.body.split(separator: "\n", omittingEmptySubsequences: false)
        if b.body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            add("quality.body.empty", "empty body", "instructions after the frontmatter", "the skill says nothing", "write the procedure", repair: nil)
        } else if bodyLines.count > Self.maxBodyLines {
            add("quality.body.length", "\(bodyLines.count) lines", "under \(Self.maxBodyLines) lines", "a long body costs context every time the skill loads",
                "move detail into references/", repair: "split_body")
        }
        return out
    }

    static func slug(_ s: String) -> String {
        var out = ""
        for ch in s.lowercased() {
            if ch.isASCII && (ch.isLetter || ch.isNumber) { out.append(ch) } else if !out.hasSuffix("-") { out.append("-") }
        }
        var slug = out.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        for w in reservedWords { slug = slug.replacingOccurrences(of: w, with: "") }
        slug = TextPattern.cached(#"-+"#).replacing(in: slug, with: "-").trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        if slug.count > 64 { slug = String(slug.prefix(64)).trimmingCharacters(in: CharacterSet(charactersIn: "-")) }
        return slug.isEmpty ? "skill" : slug
    }

    // MARK: Information boundary

    static let userPath = try! NSRegularExpression(pattern: #"(?<![\w.])/(home|Users|root|private/var|var/folders)/[\w.@-]+(/[\w.@/-]*)?"#)
    static let literalID = try! NSRegularExpression(pattern: #"\b([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{40})\b"#)

    enum PathUse { case instruction, example, code }

    /// What an absolute path at `range` is. In documentation: an example inside a fenced code block (an
    /// argument in a sample call or command), else an instruction. In a script: an example in a comment or
    /// docstring, a parameter's default (`def f(path="/root/x")`, `base: str = '…'`, `default=`,
    /// `getenv("X", "…")`), else a location the code hard-codes.
    static func pathUse(in text: NSString, at range: NSRange, document: Bool) -> PathUse {
        let before = text.substring(to: range.location)
        if document {
            // Inside a fenced block when an odd number of fence lines come before it.
            let fences = before.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("```") || $0.trimmingCharacters(in: .whitespaces).hasPrefix("~~~") }.count
            return fences % 2 == 1 ? .example : .instruction
        }
        let lineStart = before.range(of: "\n", options: .backwards).map { $0.upperBound } ?? before.startIndex
        let linePrefix = before[lineStart...]
        let trimmed = linePrefix.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("#") || trimmed.hasPrefix("//") || trimmed.hasPrefix("*") || trimmed.hasPrefix("/*") || linePrefix.contains(" # ") || linePrefix.contains("// ") {
            return .example
        }
        if before.components(separatedBy: "\"\"\"").count % 2 == 0 || before.components(separatedBy: "'''").count % 2 == 0 { return .example }
        if linePrefix.range(of: #"(?:[(,]|^|\bdef\b[^(]*\()\s*\w+\s*(?::[^=,()]+)?=\s*[rbf]?['"]$"#, options: .regularExpression) != nil
            || linePrefix.range(of: #"\bdefault\s*[=:]\s*['"]$"#, options: .regularExpression) != nil
            || linePrefix.range(of: #"(?:getenv|environ\.get|env\.get|process\.env\.\w+\s*\|\|)\s*\(?[^)]*,?\s*['"]$"#, options: .regularExpression) != nil
            || linePrefix.range(of: #"\$\{\w+:-$"#, options: .regularExpression) != nil {
            return .example
        }
        return .code
    }

    func textFiles(_ b: SkillBundle) -> [(String, String)] {
        [("SKILL.md", b.skillMD)] + b.files.compactMap { f in
            String(data: f.data, encoding: .utf8).map { (f.path, $0) }
        }
    }

    func boundary(_ b: SkillBundle) -> [Diagnosis] {
        var out: [Diagnosis] = []
        let redactor = SecretRedactor()
        for (path, text) in textFiles(b) {
            var counts: [String: Int] = [:]
            _ = redactor.redact(text, counts: &counts)
            if !counts.isEmpty {
                out.append(Diagnosis(check: "boundary.secret", category: .boundary, severity: .error,
                                     actual: counts.keys.sorted().map { "\(counts[$0]!) \($0)" }.joined(separator: ", "), expected: "no secrets",
                                     rootCause: "a secret from a run was copied into the bundle", fix: "replace it with a named parameter and rotate it",
                                     repair: "redact_secrets", target: path))
            }
            let ns = text as NSString
            let isDoc = path == "SKILL.md" || path.lowercased().hasSuffix(".md")
            var instruction: String?, hardCoded: String?
            for m in Self.userPath.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
                switch Self.pathUse(in: ns, at: m.range, document: isDoc) {
                case .instruction: instruction = instruction ?? ns.substring(with: m.range)
                case .code: hardCoded = hardCoded ?? ns.substring(with: m.range)
                case .example: continue
                }
            }
            if let instruction {
                out.append(Diagnosis(check: "boundary.absolute_path", category: .boundary, severity: .error, actual: "the instruction names \(instruction)",
                                     expected: "locations the agent is told to use given as parameters or found, not copied from one machine",
                                     rootCause: "a path from one run's machine was copied into an instruction",
                                     fix: "write it as a placeholder the agent fills in (e.g. `<repo_dir>`) or say how to find it",
                                     repair: "parameterise_literals", target: path))
            }
            if let hardCoded {
                out.append(Diagnosis(check: "boundary.hardcoded_path", category: .boundary, severity: .warning, actual: "the code opens \(hardCoded)",
                                     expected: "locations taken as arguments, with a default",
                                     rootCause: "a script reads or writes a fixed location",
                                     fix: "take it as an argument or environment variable and keep this as the default",
                                     repair: nil, target: path))
            }
            // The evidence file exists to cite the runs a skill came from, by their ids.
            if path != "references/evidence.md", let m = Self.literalID.firstMatch(in: text, range: NSRange(location: 0, length: ns.length)) {
                out.append(Diagnosis(check: "boundary.literal", category: .boundary, severity: .error, actual: ns.substring(with: m.range),
                                     expected: "no ids or hashes from a single run", rootCause: "an instance-specific value was copied",
                                     fix: "replace it with a named parameter", repair: "parameterise_literals", target: path))
            }
        }
        return out
    }

    // MARK: Structure

    /// Local files SKILL.md points to: Markdown links and `scripts/…`, `references/…`, `assets/…` mentions.
    static func referencedPaths(_ body: String) -> Set<String> {
        var out = Set<String>()
        let patterns = [#"\]\(([^)#\s]+)\)"#, #"(?<![\w/.-])((?:scripts|references|reference|assets)/[\w./-]+[\w])"#]
        for p in patterns {
            let re = try! NSRegularExpression(pattern: p)
            let ns = body as NSString
            for m in re.matches(in: body, range: NSRange(location: 0, length: ns.length)) {
                let path = ns.substring(with: m.range(at: 1))
                if path.contains("://") || path.hasPrefix("#") || path.hasPrefix("mailto:") || path.hasPrefix("/") { continue }
                out.insert(path.hasPrefix("./") ? String(path.dropFirst(2)) : path)
            }
        }
        return out
    }

    func structure(_ b: SkillBundle, references: [String: (named: Bool, imported: Bool)]) -> [Diagnosis] {
        var out: [Diagnosis] = []
        let refs = Self.referencedPaths(b.body)
        let present = Set(b.files.map(\.path))
        let dirs = Set(b.files.flatMap { f -> [String] in
            let parts = f.path.split(separator: "/").dropLast()
            return parts.indices.map { parts[...$0].joined(separator: "/") }
        })
        for r in refs.sorted() where !present.contains(r) && !dirs.contains(r.trimmingCharacters(in: CharacterSet(charactersIn: "/"))) {
            out.append(Diagnosis(check: "structure.missing_file", category: .structure, severity: .error, actual: "SKILL.md refers to '\(r)'",
                                 expected: "every referenced file exists in the bundle", rootCause: "the file was not written or was renamed",
                                 fix: "add the file or remove the reference", repair: "drop_dangling_reference", target: r))
        }
        for r in refs.sorted() where r.split(separator: "/").count > 2 {
            out.append(Diagnosis(check: "structure.depth", category: .structure, severity: .warning, actual: "'\(r)' is nested",
                                 expected: "references one level deep", rootCause: "deep references are hard for agents to find",
                                 fix: "move it up one level", repair: nil, target: r))
        }
        // A script is referenced when it is named, imported, sourced or executed anywhere in the bundle:
        // SKILL.md, a reference file, or another script (`from utils import …` after adding scripts/ to
        // the import path, `require('./utils')`, `source lib.sh`, `python -m scripts.tool`).
        for f in b.files where f.path.hasPrefix("scripts/") && !Self.isBoilerplate(f) && Self.isCode(f) {
            let mentioned = refs.contains(f.path) || references[f.path].map { $0.named || $0.imported } == true
            if !mentioned {
                out.append(Diagnosis(check: "structure.unreferenced_script", category: .structure, severity: .error,
                                     actual: "'\(f.path)' is never named, imported, sourced or run anywhere in the bundle",
                                     expected: "every script is referenced (SKILL.md, a reference file or another script)",
                                     rootCause: "an agent cannot know when to run it", fix: "say in SKILL.md when to use it, or remove it",
                                     repair: "add_reference", target: f.path))
            }
        }
        return out
    }

    /// For every script of the bundle (code under `scripts/`), how the rest refers to it; each file's
    /// text is decoded once.
    static func scriptReferences(_ b: SkillBundle) -> [String: (named: Bool, imported: Bool)] {
        let texts = [("SKILL.md", b.body)] + b.files.filter { !$0.data.isEmpty && $0.data.count < 4 << 20 }.map { ($0.path, $0.text) }
        var out: [String: (named: Bool, imported: Bool)] = [:]
        for f in b.files where f.path.hasPrefix("scripts/") && !isBoilerplate(f) && isCode(f) {
            out[f.path] = references(to: f, in: texts.filter { $0.0 != f.path }.map(\.1))
        }
        return out
    }

    /// How `texts` (SKILL.md and every other file of the bundle; a file's mentions of itself do not count)
    /// refer to script `f`: by name (`utils.py`, `scripts/run.sh`, `python -m scripts.tool`) or as a module
    /// it imports (Python `import utils` / `from utils import …` / `from scripts.utils import …`, JavaScript
    /// `require('./utils')` / `import … from './utils.js'`).
    static func references(to f: SkillBundle.File, in texts: [String]) -> (named: Bool, imported: Bool) {
        let file = (f.path as NSString).lastPathComponent
        let stem = NSRegularExpression.escapedPattern(for: (file as NSString).deletingPathExtension)
        let ext = (file as NSString).pathExtension.lowercased()
        let importPatterns: [String]
        switch ext {
        case "py":
            importPatterns = [#"(?m)^[ \t>]*(?:from|import)[ \t]+(?:[\w.]+\.)?"# + stem + #"\b"#,
                              #"(?m)^[ \t>]*from[ \t]+[\w.]+[ \t]+import[ \t(][^\n]*\b"# + stem + #"\b"#,
                              #"-m[ \t]+(?:[\w.]+\.)?"# + stem + #"\b"#]
        case "js", "mjs", "cjs", "ts":
            importPatterns = [#"(?:require|import)[ \t]*\([ \t]*['"][^'"\n]*\b"# + stem + #"(?:\.[mc]?[jt]s)?['"]"#,
                              #"from[ \t]+['"][^'"\n]*\b"# + stem + #"(?:\.[mc]?[jt]s)?['"]"#]
        default: importPatterns = []
        }
        let regexes = importPatterns.compactMap { try? NSRegularExpression(pattern: $0) }
        var named = false, imported = false
        for text in texts {
            if !named, text.contains(file) { named = true }
            if !imported, regexes.contains(where: { $0.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil }) { imported = true }
            if named && imported { break }
        }
        return (named, imported)
    }

    static let codeExtensions: Set<String> = ["sh", "bash", "py", "js", "mjs", "cjs", "ts", "rb", "pl"]

    /// Code a user runs (data files and requirements lists under scripts/ are not scripts).
    static func isCode(_ f: SkillBundle.File) -> Bool {
        codeExtensions.contains((f.path as NSString).pathExtension.lowercased()) || f.text.hasPrefix("#!")
    }

    /// Empty `__init__.py` and similar files are packaging, not scripts.
    static func isBoilerplate(_ f: SkillBundle.File) -> Bool {
        (f.path as NSString).lastPathComponent == "__init__.py" || f.data.isEmpty
    }

    // MARK: Implementation (parse only; scripts are never executed)

    func implementation(_ b: SkillBundle, references: [String: (named: Bool, imported: Bool)]) -> [Diagnosis] {
        var out: [Diagnosis] = []
        for f in b.files where f.path.hasPrefix("scripts/") && !Self.isBoilerplate(f) && Self.isCode(f) {
            let ext = (f.path as NSString).pathExtension.lowercased()
            let kind: String?
            switch ext {
            case "sh", "bash": kind = "bash"
            case "py": kind = "python"
            case "js", "mjs", "cjs": kind = "node"
            default: kind = f.text.hasPrefix("#!") ? (f.text.contains("python") ? "python" : (f.text.contains("node") ? "node" : "bash")) : nil
            }
            guard let kind else { continue }
            if let problem = Self.syntaxProblem(kind: kind, text: f.text) {
                out.append(Diagnosis(check: "implementation.syntax", category: .implementation, severity: .error, actual: problem,
                                     expected: "the \(kind) script parses", rootCause: "the script has a syntax error",
                                     fix: "fix the syntax", repair: nil, target: f.path))
            }
            // Modules imported by other scripts or by SKILL.md's code (Python, JavaScript) need neither a
            // shebang nor the run bit, whatever mode the files were committed with.
            let module = kind != "bash" && !f.text.hasPrefix("#!") && references[f.path]?.imported == true
            let entryPoint = kind == "bash" || f.text.hasPrefix("#!") || (f.executable && !module)
            if entryPoint && !f.text.hasPrefix("#!") {
                out.append(Diagnosis(check: "implementation.shebang", category: .implementation, severity: .error, actual: "no shebang line",
                                     expected: "a shebang (#!/usr/bin/env \(kind == "node" ? "node" : kind == "python" ? "python3" : "bash"))",
                                     rootCause: "the interpreter is left to chance", fix: "add a shebang", repair: "add_shebang", target: f.path))
            }
            if entryPoint && !f.executable {
                out.append(Diagnosis(check: "implementation.mode", category: .implementation, severity: .error, actual: "not executable",
                                     expected: "mode 0755", rootCause: "the run bit was lost", fix: "chmod +x", repair: "set_executable", target: f.path))
            }
        }
        return out
    }

    /// Parses a script with its own toolchain (bash and Python read it from standard input; node needs
    /// a file, so a temporary copy is checked); nil when it parses or the toolchain is not installed.
    static func syntaxProblem(kind: String, text: String) -> String? {
        let args: [String]
        var temp: URL?
        switch kind {
        case "bash": args = ["bash", "-n", "/dev/stdin"]
        case "python": args = ["python3", "-c", "import ast,sys; ast.parse(sys.stdin.read())"]
        default:
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("skillforge-check-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).js")
            guard (try? Data(text.utf8).write(to: url)) != nil else { return nil }
            temp = url
            args = ["node", "--check", url.path]
        }
        defer { if let temp { try? FileManager.default.removeItem(at: temp) } }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let input = Pipe(), err = Pipe()
        p.standardInput = input
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        input.fileHandleForWriting.write(Data(text.utf8))
        try? input.fileHandleForWriting.close()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if p.terminationStatus == 127 { return nil }  // interpreter missing
        return p.terminationStatus == 0 ? nil : (message.split(separator: "\n").last.map(String.init) ?? "exit \(p.terminationStatus)")
    }

    // MARK: Grounding

    func grounding(_ b: SkillBundle, _ e: GroundingEvidence) -> ([Diagnosis], Double?) {
        var out: [Diagnosis] = []
        for i in e.procedure.indices where !e.citedSteps.contains(i + 1) {
            out.append(Diagnosis(check: "grounding.step", category: .grounding, severity: .error, actual: "procedure step \(i + 1) cites no evidence",
                                 expected: "every step traces to trajectory steps", rootCause: "the step was not observed in the runs",
                                 fix: "drop the step", repair: "drop_step:\(i + 1)", target: "SKILL.md"))
        }
        let rate = Self.leaveOneOut(e.heldOut)
        if let rate, rate < Self.minPassRate {
            out.append(Diagnosis(check: "grounding.replay", category: .grounding, severity: .error,
                                 actual: String(format: "%.0f%% of held-out runs follow the procedure", rate * 100),
                                 expected: String(format: "at least %.0f%%", Self.minPassRate * 100),
                                 rootCause: "the procedure includes steps most successful runs did not take",
                                 fix: "drop the least supported step", repair: "drop_least_supported_step", target: "SKILL.md"))
        }
        return (out, rate)
    }

    /// Share of held-out runs whose action templates contain the procedure distilled without them as
    /// an ordered subsequence (the surrogate pass rate). nil when nothing could be held out.
    public static func leaveOneOut(_ heldOut: [(procedure: [String], run: [String])]) -> Double? {
        let usable = heldOut.filter { !$0.procedure.isEmpty }
        guard !usable.isEmpty else { return nil }
        return Double(usable.filter { isSubsequence($0.procedure, of: $0.run) }.count) / Double(usable.count)
    }

    public static func isSubsequence(_ a: [String], of b: [String]) -> Bool {
        var i = 0
        for x in b where i < a.count && x == a[i] { i += 1 }
        return i == a.count
    }
}
