// swift-tools-version:6.0
import PackageDescription

// Data flows one way: Trajectories (import) → Prepare → TrainingSets (build) → Engine (runs a
// validated pipeline) → the `skillforge` executable. `Pipelines` owns the spec and its diagnostics.
let package = Package(
    name: "skillforge",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "skillforge", targets: ["skillforge"]),
        .library(name: "SkillforgeKit", targets: ["Trajectories", "Pipelines", "Prepare", "TrainingSets", "Skills", "Styles", "Engine"]),
        // What the fuzz targets in Tests/Fuzz link against (.ci/fuzz.sh builds it with -sanitize=fuzzer).
        .library(name: "SkillforgeFuzzKit", type: .static, targets: ["Trajectories", "Pipelines", "Prepare", "Archives"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        // gitleaks configuration files (TOML) for `redact: {rules: FILE}`.
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // Every YAML document is walked with bounds (depth, alias expansion) before it is composed.
        .target(name: "BoundedYAML", dependencies: ["Yams"]),
        .target(name: "Trajectories", dependencies: [.product(name: "Crypto", package: "swift-crypto"), "Yams", "BoundedYAML"]),
        .target(name: "Pipelines", dependencies: ["Yams", "BoundedYAML", "Trajectories"]),
        // gitleaks rule files: TOML read into JSONValue (TOMLKit stays inside this target).
        .target(name: "TOMLSupport", dependencies: ["Trajectories", "TOMLKit"]),
        .target(name: "Prepare", dependencies: ["Trajectories", "TOMLSupport"]),
        .target(name: "TrainingSets", dependencies: ["Trajectories", "Yams", "BoundedYAML"]),
        .target(name: "Skills", dependencies: ["Trajectories", "Prepare", "Yams", "BoundedYAML"]),
        .target(name: "SampleCorpus", dependencies: ["Trajectories"]),
        .target(name: "CPlatform"),
        // The system libarchive (apt: libarchive-dev); only the Archives target imports it.
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .target(name: "Archives", dependencies: ["CArchive", "Trajectories"]),
        .target(name: "Catalog", dependencies: [.product(name: "GRDB", package: "GRDB.swift"), "Trajectories"]),
        .target(name: "Styles", dependencies: ["Trajectories", "Pipelines", "TrainingSets", "Skills"]),
        .target(name: "Engine", dependencies: ["Trajectories", "Pipelines", "Prepare", "TrainingSets", "Skills", "Styles", "Archives", "Catalog", "CPlatform"]),
        .executableTarget(name: "skillforge", dependencies: [
            "Engine", "Pipelines", "Trajectories", "SampleCorpus", "TrainingSets", "Skills", "Styles", "Archives", "Catalog",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Scratch folders for the tests, removed when the test process exits.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "TrajectoriesTests", dependencies: ["TestSupport", "Trajectories"]),
        .testTarget(name: "PipelinesTests", dependencies: ["TestSupport", "Pipelines", "BoundedYAML"]),
        .testTarget(name: "PrepareTests", dependencies: ["TestSupport", "Prepare", "Trajectories"]),
        .testTarget(name: "TrainingSetsTests", dependencies: ["TestSupport", "TrainingSets", "Trajectories", "Yams"]),
        .testTarget(name: "SkillsTests", dependencies: ["TestSupport", "Skills", "Trajectories"]),
        .testTarget(name: "ArchivesTests", dependencies: ["TestSupport", "Archives", "Trajectories"]),
        .testTarget(name: "CatalogTests", dependencies: ["TestSupport", "Catalog", "Trajectories"]),
        .testTarget(name: "EngineTests", dependencies: ["TestSupport", "Engine", "SampleCorpus", "Trajectories", "Pipelines", "Prepare", "Archives", "Skills", "Styles", "Catalog", "Yams",
                                                     .product(name: "GRDB", package: "GRDB.swift")],
                    resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
