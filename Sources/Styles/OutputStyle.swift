import Foundation
import Pipelines
import TrainingSets
import Trajectories

/// An output style as a plug-in: everything the engine needs to build an output of it, so that the engine
/// holds no style-specific code. A style declares its pipeline keys (`StyleDeclaration`, which the loader
/// validates), says what its records are (card text), which files beside the inputs decide its output,
/// whether it reuses the previous build's records, and makes the builder that receives the prepared
/// trajectories (`DatasetBuilder.add`) and writes the dataset (`finish`).
///
/// Register a style before reading pipelines: `OutputStyles.register(MyStyle())`.
public protocol OutputStyle: Sendable {
    /// Name, keys, formats and files the loader checks.
    var declaration: StyleDeclaration { get }
    /// The dataset card's first paragraph: what the records are and where the method comes from.
    func summary(_ o: OutputSpec) -> String
    /// Problems in the files the output names (rule and code files), reported by `validate` and `build`
    /// before any work starts.
    func resourceProblems(_ o: OutputSpec, context: StyleFiles) -> [String]
    /// Files and folders besides the inputs whose content decides the output (hashed into the whole-build memo).
    func sideFiles(_ o: OutputSpec, context: StyleFiles) -> [String]
    /// True when the builder takes the records of unchanged units of work from the previous build (the
    /// engine then loads that build's record index for it: `StyleContext.memo`).
    var reusesRecords: Bool { get }
    /// How `skillforge plan` describes what a rebuild of this output reuses.
    var reuseNote: String { get }
    /// The builder for one output. `context.writer` is nil for styles whose product is skill bundles.
    func makeBuilder(_ o: OutputSpec, context: StyleContext) throws -> any DatasetBuilder
}

extension OutputStyle {
    public func resourceProblems(_ o: OutputSpec, context: StyleFiles) -> [String] { [] }
    public func sideFiles(_ o: OutputSpec, context: StyleFiles) -> [String] { [] }
    public var reusesRecords: Bool { false }
    public var reuseNote: String { "built every run from the ingested trajectories" }
}

/// Resolves the paths a pipeline names (relative to the pipeline file's folder).
public struct StyleFiles: Sendable {
    public let baseDirectory: String
    public init(baseDirectory: String) { self.baseDirectory = baseDirectory }
    public func path(_ p: String) -> String { p.hasPrefix("/") ? p : (baseDirectory as NSString).appendingPathComponent(p) }
}

/// What the engine gives a style to make its builder.
public struct StyleContext {
    public var files: StyleFiles
    public var seed: UInt64
    /// Where the dataset's records go (nil for skill-bundle styles).
    public var writer: DatasetWriter?
    /// The previous build's records of this output (styles with `reusesRecords`; nil with `--no-cache`).
    public var memo: OutputMemo?
    /// Where a style keeps what it derived between builds (`out/.cache/records`), and whether it may read it.
    public var cacheDirectory: URL
    public var useCache: Bool
    /// The staging folder the build installs from (skill bundles go to `skills/` under it).
    public var staging: URL
    public var toolVersion: String
    /// Work the outputs of this build share (one per build; see `SharedWork`).
    public var shared: SharedWork

    public init(files: StyleFiles, seed: UInt64, writer: DatasetWriter?, memo: OutputMemo?, cacheDirectory: URL, useCache: Bool,
                staging: URL, toolVersion: String, shared: SharedWork) {
        self.files = files
        self.seed = seed
        self.writer = writer
        self.memo = memo
        self.cacheDirectory = cacheDirectory
        self.useCache = useCache
        self.staging = staging
        self.toolVersion = toolVersion
        self.shared = shared
    }

    /// The writer, for dataset styles (the engine always passes one to them).
    public func datasetWriter(_ o: OutputSpec) throws -> DatasetWriter {
        guard let writer else { throw StyleError("output '\(o.name)': style '\(o.style)' writes a dataset but was given no writer") }
        return writer
    }
}

public struct StyleError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The registry of output styles: the built-in ones and any a program registers.
public enum OutputStyles {
    // A lock guards the table: registration happens at start-up, reads from any thread.
    private static let lock = NSLock()
    nonisolated(unsafe) private static var table: [OutputSpec.Style: any OutputStyle] = Dictionary(
        uniqueKeysWithValues: builtIn.map { ($0.declaration.name, $0) })

    public static let builtIn: [any OutputStyle] = [TrajectorySFTStyle(), ConiferStyle(), CSChainStyle(), CADAStyle(), SkillsStyle()]

    /// Adds (or replaces) a style; the pipeline loader accepts its name and keys from then on.
    public static func register(_ style: any OutputStyle) {
        lock.lock()
        defer { lock.unlock() }
        table[style.declaration.name] = style
        StyleDeclarations.register(style.declaration)
    }

    /// The style of a loaded output (the loader accepted only registered names).
    public static func style(_ name: OutputSpec.Style) throws -> any OutputStyle {
        lock.lock()
        defer { lock.unlock() }
        guard let s = table[name] else { throw StyleError("style '\(name)' is not registered") }
        return s
    }
}
