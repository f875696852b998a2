import Foundation
import Pipelines
import Prepare

/// gitleaks rules files named by a pipeline's redact steps (`redact: {rules: FILE}`, `build --redact-rules`):
/// read and checked once before anything runs — a bad file stops the build with errors located in it,
/// like every other pipeline error — and their digests put into the spec, so that ingest caches made with
/// other rules are not reused.
extension BuildRunner {
    final class LoadedRules: @unchecked Sendable {
        private let lock = NSLock()
        private var byKey: [String: GitleaksRules] = [:]
        func get(_ key: String) -> GitleaksRules? { lock.lock(); defer { lock.unlock() }; return byKey[key] }
        func put(_ key: String, _ rules: GitleaksRules) { lock.lock(); byKey[key] = rules; lock.unlock() }
    }
    static let loadedRules = LoadedRules()

    /// `spec` with every rules file read and its digest set; throws `SpecError` naming the file, line and
    /// column of each problem.
    public static func loadRedactionRules(_ spec: PipelineSpec) throws -> PipelineSpec {
        var digests: [String: String] = [:]
        var problems: [Diagnostic] = []
        for file in spec.redactionRuleFiles {
            do {
                let rules = try GitleaksRules.load(path: file)
                loadedRules.put(file + "\u{0}" + rules.digest, rules)
                digests[file] = rules.digest
            } catch let e as GitleaksRules.LoadError {
                problems.append(Diagnostic(file: e.file, line: e.line, column: e.column, message: e.message))
            }
        }
        if !problems.isEmpty { throw SpecError(problems) }
        return spec.withRuleDigests(digests)
    }

    /// The rules a redact step names (read again if this process has not read that version yet).
    static func customRules(_ r: RedactSpec) throws -> GitleaksRules? {
        guard let file = r.rules else { return nil }
        if let digest = r.rulesDigest, let known = loadedRules.get(file + "\u{0}" + digest) { return known }
        do {
            let rules = try GitleaksRules.load(path: file)
            loadedRules.put(file + "\u{0}" + rules.digest, rules)
            return rules
        } catch let e as GitleaksRules.LoadError {
            throw SpecError([Diagnostic(file: e.file, line: e.line, column: e.column, message: e.message)])
        }
    }
}
