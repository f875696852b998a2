import Foundation
import Trajectories

/// What the pipeline loader knows about an output style: its name, its own keys, and the checks that need
/// no code of the style. Each style declares itself (see `Styles.OutputStyle`); the loader holds no list of
/// styles, so a style added by a program that links skillforge is validated like the built-in ones.
public struct StyleDeclaration: Sendable {
    /// What an output of this style produces.
    public enum Product: String, Sendable {
        /// A dataset under `out/datasets/<name>/` (splits, configs, card, manifest).
        case dataset
        /// Agent Skills bundles under `out/skills/` (and their archives); `test_split` and `format` do not apply.
        case skillBundles
    }

    public var name: OutputSpec.Style
    public var product: Product
    /// Keys of this style beyond the common ones (`style`, `format`, `test_split`, `system`, `license`, `prepare`).
    public var keys: [String]
    /// Record formats it writes; the first is the default. Empty for styles that do not write records.
    public var formats: [RecordFormat]
    /// Keys naming files that must exist (relative to the pipeline file), with the path used when the key is absent.
    public var requiredFiles: [(key: String, default: String)]
    /// At most one output of the pipeline may use this style (it writes a fixed folder).
    public var singleton: Bool
    /// Checks a value of one of the style's own keys that the built-in ones do not read (a plug-in's
    /// setting, kept as text in `OutputSpec.settings`): nil when it is fine, else what is wrong and what to do.
    public var checkSetting: @Sendable (_ key: String, _ value: String) -> String?

    public init(name: OutputSpec.Style, product: Product = .dataset, keys: [String], formats: [RecordFormat] = [.messages],
                requiredFiles: [(key: String, default: String)] = [], singleton: Bool = false,
                checkSetting: @escaping @Sendable (_ key: String, _ value: String) -> String? = { _, _ in nil }) {
        self.name = name
        self.product = product
        self.keys = keys
        self.formats = formats
        self.requiredFiles = requiredFiles
        self.singleton = singleton
        self.checkSetting = checkSetting
    }
}

extension StyleDeclaration {
    // The built-in styles' declarations: data the loader reads (their code is in the Styles module).
    public static let trajectorySFT = StyleDeclaration(name: .trajectorySFT, keys: ["include_thoughts", "hygiene"],
                                                       formats: [.messages, .openai, .sharegpt, .alpaca])
    public static let conifer = StyleDeclaration(name: .conifer, keys: ["levels", "feedback", "easy_to_hard", "rl_prompts", "hygiene"])
    public static let csChain = StyleDeclaration(name: .csChain, keys: ["rules", "balance", "counterfactuals", "hygiene"],
                                                 requiredFiles: [("rules", OutputSpec.defaultRules)])
    public static let cada = StyleDeclaration(name: .cada, keys: ["rules", "codes", "balance", "counterfactuals", "cases", "preference_pairs", "rl_prompts", "hygiene"],
                                              requiredFiles: [("rules", OutputSpec.defaultRules), ("codes", OutputSpec.defaultCodes)])
    public static let skills = StyleDeclaration(name: .skills, product: .skillBundles, keys: ["min_support", "family_threshold", "verify", "curated"],
                                                formats: [], singleton: true)
}

/// The styles the loader accepts: the built-in ones, and those a program registers (`Styles.OutputStyles.register`)
/// before it reads pipelines.
public enum StyleDeclarations {
    // A lock guards the table: registration happens at start-up, reads from any thread.
    private static let lock = NSLock()
    nonisolated(unsafe) private static var table: [OutputSpec.Style: StyleDeclaration] = Dictionary(
        uniqueKeysWithValues: [StyleDeclaration.trajectorySFT, .conifer, .csChain, .cada, .skills].map { ($0.name, $0) })

    public static func register(_ d: StyleDeclaration) {
        lock.lock()
        defer { lock.unlock() }
        table[d.name] = d
    }

    public static func declaration(_ style: OutputSpec.Style) -> StyleDeclaration? {
        lock.lock()
        defer { lock.unlock() }
        return table[style]
    }

    public static var all: [StyleDeclaration] {
        lock.lock()
        defer { lock.unlock() }
        return table.values.sorted { $0.name.rawValue < $1.name.rawValue }
    }
}

extension OutputSpec {
    /// What this output produces (its style's declaration says; the loader accepted only declared styles).
    public var product: StyleDeclaration.Product { StyleDeclarations.declaration(style)?.product ?? .dataset }
}
