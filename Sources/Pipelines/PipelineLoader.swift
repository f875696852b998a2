import BoundedYAML
import Foundation
import Trajectories
import Yams

/// Reads a pipeline file and validates all of it before anything runs. Every problem found is
/// reported, each with the file, line and column of the YAML node it concerns.
public enum PipelineLoader {
    /// Input formats a pipeline may name (`auto` detects by content).
    /// (Kept in step with `Importers.names` by a test; this module does not depend on the importers.)
    public static let inputFormats = ["auto", "native", "spark", "openhands-output", "claude-code", "atif", "swe-agent",
                                      "mini-swe-agent", "gemini-cli", "openhands", "llamafactory", "openai-messages", "sharegpt", "api-exchange",
                                      "openai-chat", "anthropic-messages", "gemini-api"]
    /// Pipeline files larger than this are refused before parsing.
    public static let maxFileBytes = 1 << 20

    /// Loads and validates `path`. Throws `SpecError` with every diagnostic when anything is wrong.
    /// - Parameter checkPaths: verify that input globs match files and side files exist.
    public static func load(path: String, checkPaths: Bool = true) throws -> PipelineSpec {
        let url = URL(fileURLWithPath: path)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw SpecError([Diagnostic(file: path, line: 1, column: 1,
                                        message: "cannot read pipeline file: \((error as NSError).localizedDescription)")])
        }
        if data.count > maxFileBytes {
            throw SpecError([Diagnostic(file: path, line: 1, column: 1,
                                        message: "pipeline file is \(data.count) bytes; the limit is \(maxFileBytes)")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SpecError([Diagnostic(file: path, line: 1, column: 1, message: "pipeline file is not valid UTF-8")])
        }
        let base = url.deletingLastPathComponent().path
        return try parse(yaml: text, file: path, baseDirectory: base, checkPaths: checkPaths)
    }

    /// Validates YAML text as a pipeline (`file` is used in diagnostics only).
    public static func parse(yaml: String, file: String, baseDirectory: String,
                             checkPaths: Bool = true) throws -> PipelineSpec {
        let root: Node?
        do {
            root = try BoundedYAML.compose(yaml)
        } catch let error as BoundedYAML.LimitError {
            throw SpecError([Diagnostic(file: file, line: error.line, column: error.column, message: error.message)])
        } catch let error as YamlError {
            throw SpecError([yamlDiagnostic(error, file: file, yaml: yaml)])
        } catch {
            throw SpecError([Diagnostic(file: file, line: 1, column: 1, message: "\(error)")])
        }
        let reader = SpecReader(file: file, baseDirectory: baseDirectory, checkPaths: checkPaths)
        guard let root else {
            throw SpecError([Diagnostic(file: file, line: 1, column: 1, message: "pipeline file is empty")])
        }
        let spec = reader.pipeline(root)
        if !reader.diagnostics.isEmpty || spec == nil {
            throw SpecError(reader.diagnostics.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
        }
        return spec!
    }

    /// Yams reports duplicate keys at the mapping; find the second occurrence of the key itself in a
    /// block mapping that starts at `mark` (falls back to the mapping's position).
    static func locateDuplicate(key: String, in mark: Mark, yaml: String) -> (line: Int, column: Int, first: Int?) {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        let column = mark.column
        var seen: [Int] = []
        var index = mark.line - 1
        while index < lines.count {
            let text = Array(lines[index])
            let indent = text.prefix { $0 == " " }.count
            let trimmed = String(text.dropFirst(indent))
            if index > mark.line - 1, !trimmed.isEmpty, !trimmed.hasPrefix("#"), indent < column - 1 { break }
            var body = text.count >= column ? String(text.dropFirst(column - 1)) : ""
            if index == mark.line - 1 && body.hasPrefix("- ") { body = String(body.dropFirst(2)) }
            if body.hasPrefix("\(key):") || body.hasPrefix("\"\(key)\":") || body.hasPrefix("'\(key)':") {
                seen.append(index + 1)
                if seen.count == 2 {
                    let col = index == mark.line - 1 && text.dropFirst(column - 1).starts(with: ["-", " "]) ? column + 2 : column
                    return (index + 1, col, seen[0])
                }
            }
            index += 1
        }
        return (mark.line, mark.column, nil)
    }

    static func yamlDiagnostic(_ error: YamlError, file: String, yaml: String) -> Diagnostic {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            var msg = "YAML syntax error: \(problem)"
            if let context { msg += " (\(context.text) at line \(context.mark.line))" }
            return Diagnostic(file: file, line: mark.line, column: mark.column, message: msg)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.sorted().first ?? "?"
            let (line, column, first) = locateDuplicate(key: key, in: context.mark, yaml: yaml)
            var msg = "duplicate key '\(key)'"
            if let first { msg += " (first defined at line \(first))" }
            return Diagnostic(file: file, line: line, column: column, message: msg)
        case .reader(let problem, _, _, _):
            return Diagnostic(file: file, line: 1, column: 1, message: "YAML reader error: \(problem)")
        default:
            return Diagnostic(file: file, line: 1, column: 1, message: "YAML error: \(error)")
        }
    }
}

/// Walks the YAML node tree, collecting diagnostics instead of stopping at the first.
final class SpecReader {
    let file: String
    let baseDirectory: String
    let checkPaths: Bool
    private(set) var diagnostics: [Diagnostic] = []
    /// Bounds the walk so that alias-heavy documents cannot make validation explode.
    private var budget = 100_000

    init(file: String, baseDirectory: String, checkPaths: Bool) {
        self.file = file
        self.baseDirectory = baseDirectory
        self.checkPaths = checkPaths
    }

    // MARK: Diagnostics

    func error(_ node: Node?, _ message: String) {
        let mark = node?.mark
        diagnostics.append(Diagnostic(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message))
    }

    // MARK: Generic readers

    typealias Entry = (key: String, keyNode: Node, value: Node)

    /// The entries of a mapping, after checking for unknown, duplicate and missing keys.
    func mapping(_ node: Node, _ what: String, allowed: [String], required: [String] = []) -> [String: Entry]? {
        budget -= 1
        guard budget > 0 else {
            if budget == 0 { error(node, "document is too large or uses too many aliases") }
            return nil
        }
        guard case .mapping(let m) = node else {
            error(node, "\(what) must be a mapping, found \(describe(node))")
            return nil
        }
        var out: [String: Entry] = [:]
        for (k, v) in m {
            guard case .scalar(let ks) = k else {
                error(k, "\(what): keys must be plain strings")
                continue
            }
            // Duplicate keys never get here: Yams refuses them while composing (see `locateDuplicate`).
            let key = ks.string
            if !allowed.contains(key) {
                error(k, "unknown key '\(key)' in \(what)\(Suggest.didYouMean(key, allowed))")
                continue
            }
            out[key] = (key, k, v)
        }
        for r in required where out[r] == nil {
            error(node, "\(what) is missing required key '\(r)'")
        }
        return out
    }

    func isNull(_ node: Node) -> Bool {
        if case .scalar(let s) = node { return s.style == .plain && node.null != nil }
        return false
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let s):
            if s.style == .plain {
                // By the resolved tag: Yams' `node.int` parses base-60 without overflow checks.
                switch BoundedYAML.tagName(of: node) {
                case .null: return "nothing"
                case .bool: return "a boolean '\(s.string)'"
                case .int: return "an integer '\(s.string)'"
                case .float: return "a number '\(s.string)'"
                default: break
                }
            }
            return "the string '\(s.string)'"
        }
    }

    func string(_ e: Entry?, nonEmpty: Bool = true) -> String? {
        guard let e else { return nil }
        guard case .scalar(let s) = e.value, !isNull(e.value) else {
            error(e.value, "'\(e.key)' must be a string, found \(describe(e.value))")
            return nil
        }
        if nonEmpty && s.string.isEmpty {
            error(e.value, "'\(e.key)' must not be empty")
            return nil
        }
        return s.string
    }

    func int(_ e: Entry?, range: ClosedRange<Int>? = nil) -> Int? {
        guard let e else { return nil }
        guard case .scalar(let s) = e.value, s.style == .plain, let v = Int(s.string) else {
            error(e.value, "'\(e.key)' must be an integer, found \(describe(e.value))")
            return nil
        }
        if let range, !range.contains(v) {
            error(e.value, "'\(e.key)' must be between \(range.lowerBound) and \(range.upperBound), found \(v)")
            return nil
        }
        return v
    }

    func double(_ e: Entry?, range: ClosedRange<Double>? = nil, what: String? = nil) -> Double? {
        guard let e else { return nil }
        guard case .scalar(let s) = e.value, s.style == .plain, let v = Double(s.string), v.isFinite else {
            error(e.value, "'\(e.key)' must be a number, found \(describe(e.value))")
            return nil
        }
        if let range, !range.contains(v) {
            error(e.value, "'\(e.key)' must be \(what ?? "between \(range.lowerBound) and \(range.upperBound)"), found \(s.string)")
            return nil
        }
        return v
    }

    func bool(_ e: Entry?) -> Bool? {
        guard let e else { return nil }
        guard case .scalar(let s) = e.value, s.style == .plain, let b = Bool(s.string.lowercased()) else {
            error(e.value, "'\(e.key)' must be true or false, found \(describe(e.value))")
            return nil
        }
        return b
    }

    /// A list of strings; a single string is accepted as a one-element list.
    func stringList(_ e: Entry?) -> [String]? {
        guard let e else { return nil }
        if case .scalar = e.value, !isNull(e.value) { return string(e).map { [$0] } }
        guard case .sequence(let seq) = e.value else {
            error(e.value, "'\(e.key)' must be a list of strings, found \(describe(e.value))")
            return nil
        }
        var out: [String] = []
        for item in seq {
            guard case .scalar(let s) = item, !isNull(item), !s.string.isEmpty else {
                error(item, "'\(e.key)' items must be non-empty strings, found \(describe(item))")
                continue
            }
            out.append(s.string)
        }
        return out
    }

    func choice<T: RawRepresentable & CaseIterable>(_ e: Entry?, _ type: T.Type) -> T? where T.RawValue == String {
        guard let raw = string(e), let e else { return nil }
        if let v = T(rawValue: raw) { return v }
        let all = T.allCases.map(\.rawValue)
        error(e.value, "unknown \(e.key) '\(raw)'\(Suggest.didYouMean(raw, all))")
        return nil
    }

    // MARK: Pipeline

    static let topKeys = ["version", "name", "seed", "inputs", "prepare", "outputs", "max_bad_fraction", "package"]

    func pipeline(_ root: Node) -> PipelineSpec? {
        guard let top = mapping(root, "the pipeline", allowed: Self.topKeys, required: ["version", "inputs", "outputs"]) else {
            return nil
        }
        var version = 1
        if let v = int(top["version"]) {
            if v != 1 { error(top["version"]!.value, "unsupported pipeline version \(v) (this skillforge reads version 1)") }
            version = v
        }
        let defaultName = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        var name = defaultName
        if let n = string(top["name"]) {
            if n.range(of: #"^[A-Za-z0-9][A-Za-z0-9._-]*$"#, options: .regularExpression) == nil {
                error(top["name"]!.value, "name '\(n)' may use only letters, digits, '.', '_' and '-'")
            } else {
                name = n
            }
        }
        var seed: UInt64 = 0
        if let e = top["seed"] {
            if case .scalar(let s) = e.value, s.style == .plain, let v = UInt64(s.string) {
                seed = v
            } else {
                error(e.value, "'seed' must be a non-negative integer, found \(describe(e.value))")
            }
        }
        let maxBad = double(top["max_bad_fraction"], range: 0...1, what: "between 0 and 1") ?? 0.05
        let inputs = top["inputs"].map(inputList) ?? []
        let prepare = top["prepare"].map { prepareList($0.value, "prepare") } ?? []
        let outputs = top["outputs"].map(outputMap) ?? []
        var package = PackageSpec()
        if let p = top["package"], let m = mapping(p.value, "'package'", allowed: ["skills", "catalog", "part_mb"]) {
            if let e = m["skills"] {
                package.skills = (stringList(e) ?? []).compactMap { raw in
                    if let k = ArchiveFormat(rawValue: raw) { return k }
                    error(e.value, "unknown archive format '\(raw)'\(Suggest.didYouMean(raw, ArchiveFormat.allCases.map(\.rawValue)))")
                    return nil
                }
            }
            if let c = bool(m["catalog"]) { package.catalog = c }
            if let mb = double(m["part_mb"], range: 0.001...65_536, what: "between 0.001 and 65536 (MiB)") { package.partMB = mb }
        }
        var spec = PipelineSpec(version: version, name: name, seed: seed, inputs: inputs, prepare: prepare,
                                outputs: outputs, maxBadFraction: maxBad, file: file, baseDirectory: baseDirectory)
        spec.package = package
        return spec
    }

    // MARK: Inputs

    func inputList(_ e: Entry) -> [InputSpec] {
        guard case .sequence(let seq) = e.value else {
            error(e.value, "'inputs' must be a list of inputs (each with a 'path'), found \(describe(e.value))")
            return []
        }
        if seq.isEmpty { error(e.value, "'inputs' must name at least one input") }
        return seq.compactMap(input)
    }

    func input(_ node: Node) -> InputSpec? {
        guard let m = mapping(node, "an input", allowed: ["path", "format", "outcomes", "max_observation_bytes", "keep_thinking", "max_record_bytes"],
                              required: ["path"]) else {
            return nil
        }
        let format = string(m["format"]) ?? "auto"
        if let e = m["format"], !PipelineLoader.inputFormats.contains(format) {
            error(e.value, "unknown format '\(format)'\(Suggest.didYouMean(format, PipelineLoader.inputFormats))")
        }
        let outcomes = string(m["outcomes"])
        guard let path = string(m["path"]) else { return nil }
        if checkPaths {
            let found = Glob.expandChecked(path, base: baseDirectory)
            if found.files.isEmpty && found.unusable.isEmpty {
                error(m["path"]!.value, "input '\(path)' matches no files (paths are relative to \(displayBase))")
            }
            for bad in found.unusable {
                error(m["path"]!.value, "input '\(path)' matches \(Self.display(bad.path, base: baseDirectory)), which cannot be read: \(bad.reason)")
            }
            if let o = outcomes, let oe = m["outcomes"] {
                let full = o.hasPrefix("/") ? o : (baseDirectory as NSString).appendingPathComponent(o)
                var isDir: ObjCBool = false
                if !FileManager.default.fileExists(atPath: full, isDirectory: &isDir) || isDir.boolValue {
                    error(oe.value, "outcomes file '\(o)' does not exist (paths are relative to \(displayBase))")
                }
            }
        }
        var spec = InputSpec(path: path, format: format, outcomes: outcomes)
        if let n = int(m["max_observation_bytes"], range: 1024...(1 << 30)) { spec.maxObservationBytes = n }
        if let k = bool(m["keep_thinking"]) { spec.keepThinking = k }
        if let n = int(m["max_record_bytes"], range: 1024...(1 << 32)) { spec.maxRecordBytes = n }
        return spec
    }

    /// `path` relative to the pipeline's directory when it is inside it.
    static func display(_ path: String, base: String) -> String {
        let prefix = base.hasSuffix("/") ? base : base + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    var displayBase: String {
        let dir = (file as NSString).deletingLastPathComponent
        return dir.isEmpty ? "the pipeline file's directory" : "'\(dir)/'"
    }

    // MARK: Prepare steps

    static let stepKinds = ["redact", "filter", "dedupe"]

    func prepareList(_ node: Node, _ what: String) -> [PrepareStepSpec] {
        if isNull(node) { return [] }
        guard case .sequence(let seq) = node else {
            error(node, "'\(what)' must be a list of steps (e.g. '- redact: {secrets: true}'), found \(describe(node))")
            return []
        }
        return seq.compactMap(step)
    }

    func step(_ node: Node) -> PrepareStepSpec? {
        // `- redact` alone is allowed and means the defaults.
        if case .scalar(let s) = node, Self.stepKinds.contains(s.string) {
            return defaultStep(s.string)
        }
        guard case .mapping(let m) = node else {
            error(node, "a prepare step must be one of \(Self.stepKinds.joined(separator: ", ")), found \(describe(node))")
            return nil
        }
        guard m.count == 1, let (k, v) = m.first(where: { _ in true }), case .scalar(let ks) = k else {
            error(node, "each prepare step is a mapping with exactly one key (\(Self.stepKinds.joined(separator: ", ")))")
            return nil
        }
        let kind = ks.string
        switch kind {
        case "redact": return redact(v)
        case "filter": return filter(v)
        case "dedupe": return dedupe(v)
        default:
            error(k, "unknown prepare step '\(kind)'\(Suggest.didYouMean(kind, Self.stepKinds))")
            return nil
        }
    }

    func defaultStep(_ kind: String) -> PrepareStepSpec {
        switch kind {
        case "redact": return .redact(RedactSpec())
        case "filter": return .filter(FilterSpec())
        default: return .dedupe(DedupeSpec())
        }
    }

    func redact(_ node: Node) -> PrepareStepSpec? {
        if isNull(node) { return .redact(RedactSpec()) }
        if case .scalar(let s) = node, s.style == .plain, let b = Bool(s.string.lowercased()) {
            return .redact(RedactSpec(secrets: b, emails: false))
        }
        guard let m = mapping(node, "'redact'", allowed: ["secrets", "emails", "rules"]) else { return nil }
        var rules: String?
        if let path = string(m["rules"]) {
            let full = path.hasPrefix("/") ? path : (baseDirectory as NSString).appendingPathComponent(path)
            if checkPaths && !FileManager.default.fileExists(atPath: full) {
                error(m["rules"]?.value, "gitleaks rules file '\(path)' does not exist (paths are relative to \(displayBase))")
            }
            rules = full
        }
        return .redact(RedactSpec(secrets: bool(m["secrets"]) ?? true, emails: bool(m["emails"]) ?? false, rules: rules))
    }

    static let statuses = ["success", "failure", "partial", "unknown"]

    func filter(_ node: Node) -> PrepareStepSpec? {
        guard let m = mapping(node, "'filter'", allowed: ["outcome", "min_reward", "max_reward", "min_steps",
                                                         "max_steps", "tools", "task_regex"]) else { return nil }
        var f = FilterSpec()
        if let list = stringList(m["outcome"]) {
            let nodes: [Node]
            if case .sequence(let seq) = m["outcome"]!.value { nodes = Array(seq) } else { nodes = [m["outcome"]!.value] }
            for (s, node) in zip(list, nodes) where !Self.statuses.contains(s) {
                error(node, "unknown outcome status '\(s)'\(Suggest.didYouMean(s, Self.statuses))")
            }
            f.outcome = list
        }
        f.minReward = double(m["min_reward"])
        f.maxReward = double(m["max_reward"])
        f.minSteps = int(m["min_steps"], range: 0...1_000_000)
        f.maxSteps = int(m["max_steps"], range: 0...1_000_000)
        if let lo = f.minReward, let hi = f.maxReward, lo > hi {
            error(m["max_reward"]!.value, "'max_reward' (\(hi)) is below 'min_reward' (\(lo)): nothing would pass")
        }
        if let lo = f.minSteps, let hi = f.maxSteps, lo > hi {
            error(m["max_steps"]!.value, "'max_steps' (\(hi)) is below 'min_steps' (\(lo)): nothing would pass")
        }
        f.tools = stringList(m["tools"])
        if let re = string(m["task_regex"]) {
            do {
                _ = try NSRegularExpression(pattern: re)
                f.taskRegex = re
            } catch {
                self.error(m["task_regex"]!.value, "'task_regex' is not a valid regular expression: \(re)")
            }
        }
        return .filter(f)
    }

    func dedupe(_ node: Node) -> PrepareStepSpec? {
        if isNull(node) { return .dedupe(DedupeSpec()) }
        guard let m = mapping(node, "'dedupe'", allowed: ["by", "method", "threshold", "permutations", "shingle"]) else {
            return nil
        }
        let method = choice(m["method"], DedupeSpec.Method.self) ?? .minhash
        let by = choice(m["by"], DedupeSpec.Key.self) ?? (method == .exact ? .content : .task)
        var d = DedupeSpec(by: by, method: method)
        if let t = double(m["threshold"], range: 0.05...1, what: "between 0.05 and 1") { d.threshold = t }
        if let p = int(m["permutations"], range: 16...1024) { d.permutations = p }
        if let s = int(m["shingle"], range: 1...32) { d.shingle = s }
        if method == .exact, let e = m["threshold"] {
            error(e.keyNode, "'threshold' applies only to 'method: minhash' (exact dedupe compares hashes)")
        }
        return .dedupe(d)
    }

    // MARK: Outputs

    static let commonOutputKeys = ["style", "format", "test_split", "system", "license", "prepare"]
    /// The keys this loader reads into `OutputSpec`'s typed fields; a style's other keys are kept as text in `settings`.
    static let typedKeys: Set<String> = ["include_thoughts", "hygiene", "levels", "feedback", "easy_to_hard", "rl_prompts", "rules", "codes",
                                         "balance", "counterfactuals", "cases", "preference_pairs", "min_support", "family_threshold",
                                         "verify", "curated"]
    static var outputKeys: [String] { commonOutputKeys + StyleDeclarations.all.flatMap(\.keys) }

    func outputMap(_ e: Entry) -> [OutputSpec] {
        guard case .mapping(let m) = e.value else {
            error(e.value, "'outputs' must be a mapping of output name to settings, found \(describe(e.value))")
            return []
        }
        if m.count == 0 { error(e.value, "'outputs' must define at least one output") }
        var out: [OutputSpec] = []
        for (k, v) in m {
            guard case .scalar(let ks) = k else { error(k, "output names must be strings"); continue }
            let name = ks.string
            if name.range(of: #"^[A-Za-z0-9][A-Za-z0-9._-]*$"#, options: .regularExpression) == nil {
                error(k, "output name '\(name)' may use only letters, digits, '.', '_' and '-' (it names a directory)")
                continue
            }
            if let o = output(name: name, node: v) {
                if StyleDeclarations.declaration(o.style)?.singleton == true, let first = out.first(where: { $0.style == o.style }) {
                    error(k, "only one output may use style '\(o.style.rawValue)' (it writes out/\(o.style.rawValue)/); '\(first.name)' already does")
                    continue
                }
                out.append(o)
            }
        }
        return out
    }

    func output(name: String, node: Node) -> OutputSpec? {
        guard let m = mapping(node, "output '\(name)'", allowed: Self.outputKeys, required: ["style"]) else { return nil }
        var declaration: StyleDeclaration?
        if let raw = string(m["style"]) {
            declaration = StyleDeclarations.declaration(.init(rawValue: raw))
            if declaration == nil {
                error(m["style"]!.value, "unknown style '\(raw)'\(Suggest.didYouMean(raw, StyleDeclarations.all.map(\.name.rawValue)))")
            }
        }
        if let declaration {
            // Keys of other styles are mistakes here, not silently ignored options.
            let own = Set(Self.commonOutputKeys + declaration.keys)
            for (key, entry) in m where !own.contains(key) {
                error(entry.keyNode, "'\(key)' does not apply to style '\(declaration.name)' (its keys: \(declaration.keys.joined(separator: ", ")))")
            }
        }
        let format = choice(m["format"], OutputSpec.RecordFormat.self) ?? declaration?.formats.first ?? .messages
        if let declaration, !declaration.formats.contains(format), let e = m["format"] {
            error(e.value, declaration.formats.isEmpty
                  ? "style '\(declaration.name)' writes no records; remove 'format'"
                  : "style '\(declaration.name)' writes \(declaration.formats.map(\.rawValue).joined(separator: " or ")) records; remove 'format' or set it to \(declaration.formats[0].rawValue)")
        }
        var hygiene = (metaText: true, giveUp: true)
        if let h = m["hygiene"], let hm = mapping(h.value, "'hygiene'", allowed: ["meta_text", "give_up"]) {
            if let b = bool(hm["meta_text"]) { hygiene.metaText = b }
            if let b = bool(hm["give_up"]) { hygiene.giveUp = b }
        }
        let test = double(m["test_split"], range: 0...0.9, what: "between 0 and 0.9") ?? 0.1
        let system = string(m["system"])
        let thoughts = bool(m["include_thoughts"]) ?? true
        let license = string(m["license"]) ?? "other"
        let prepare = m["prepare"].map { prepareList($0.value, "outputs.\(name).prepare") } ?? []
        guard let declaration else { return nil }
        let style = declaration.name
        var o = OutputSpec(name: name, style: style, format: format, testFraction: test, system: system,
                           includeThoughts: thoughts, license: license, prepare: prepare)
        if let l = int(m["levels"], range: 1...10) { o.levels = l }
        if let f = m["feedback"] {
            var kinds: [OutputSpec.Feedback] = []
            for raw in stringList(f) ?? [] {
                if let k = OutputSpec.Feedback(rawValue: raw) { kinds.append(k) }
                else { error(f.value, "unknown feedback '\(raw)'\(Suggest.didYouMean(raw, OutputSpec.Feedback.allCases.map(\.rawValue)))") }
            }
            o.feedback = kinds
        }
        if let e = bool(m["easy_to_hard"]) { o.easyToHard = e }
        o.removeMetaText = hygiene.metaText
        o.dropGiveUps = hygiene.giveUp
        if let r = string(m["rules"]) { o.rules = r }
        if let c = string(m["codes"]) { o.codes = c }
        for (key, defaultPath) in declaration.requiredFiles where checkPaths {
            let path = m[key].flatMap { $0.value.string } ?? defaultPath
            let full = path.hasPrefix("/") ? path : (baseDirectory as NSString).appendingPathComponent(path)
            if !FileManager.default.fileExists(atPath: full) {
                error(m[key]?.value ?? m["style"]!.value,
                      "\(key) file '\(path)' does not exist (paths are relative to \(displayBase)); set '\(key):' on output '\(name)'")
            }
        }
        // A plug-in's own settings, kept as written and checked by the style.
        var settings: [String: String] = [:]
        for key in declaration.keys where !Self.typedKeys.contains(key) {
            guard let e = m[key] else { continue }
            guard case .scalar(let s) = e.value, !isNull(e.value) else {
                error(e.value, "'\(key)' must be a single value, found \(describe(e.value))")
                continue
            }
            if let problem = declaration.checkSetting(key, s.string) { error(e.value, problem) } else { settings[key] = s.string }
        }
        if !settings.isEmpty { o.settings = settings }
        if let b = m["balance"] {
            switch b.value.string {
            case "quadrants": o.balance = true
            case "none": o.balance = false
            default: error(b.value, "'balance' must be quadrants or none, found \(describe(b.value))")
            }
        }
        if let n = int(m["counterfactuals"], range: 0...20) { o.counterfactuals = n }
        if let n = int(m["cases"], range: 1...20) { o.cases = n }
        if let p = bool(m["preference_pairs"]) { o.preferencePairs = p }
        if let r = bool(m["rl_prompts"]) { o.rlPrompts = r }
        if let n = int(m["min_support"], range: 1...1000) { o.minSupport = n }
        if let t = double(m["family_threshold"], range: 0.05...1, what: "between 0.05 and 1") { o.familyThreshold = t }
        if let v = m["verify"], let vm = mapping(v.value, "'verify'", allowed: ["max_rounds"]) {
            if let r = int(vm["max_rounds"], range: 0...20) { o.maxRounds = r }
        }
        if let c = m["curated"] {
            if isNull(c.value) { o.curated = nil } else if let path = string(c) {
                o.curated = path
                let full = path.hasPrefix("/") ? path : (baseDirectory as NSString).appendingPathComponent(path)
                var isDir: ObjCBool = false
                if checkPaths && !(FileManager.default.fileExists(atPath: full, isDirectory: &isDir) && isDir.boolValue) {
                    error(c.value, "curated skills directory '\(path)' does not exist (paths are relative to \(displayBase))")
                }
            }
        }
        if declaration.product == .skillBundles && test != 0.1 && m["test_split"] != nil {
            error(m["test_split"]!.keyNode, "'test_split' does not apply to style '\(style)' (it writes bundles, not a dataset)")
        }
        return o
    }

}
