import Foundation
import Pipelines
import Skills
import TrainingSets
import Trajectories

/// `skills`: Agent Skills bundles distilled from what worked, verified and scored with PDI. Its product is
/// bundles under `skills/` in staging (the engine packs and installs them), not a dataset.
public struct SkillsStyle: OutputStyle {
    public init() {}
    public var declaration: StyleDeclaration { .skills }
    public var reuseNote: String { "built every run from the ingested trajectories (what single runs give is kept between builds)" }

    public func summary(_ o: OutputSpec) -> String { "Agent Skills bundles distilled from successful runs." }

    public func sideFiles(_ o: OutputSpec, context: StyleFiles) -> [String] { o.curated.map { [context.path($0)] } ?? [] }

    public func makeBuilder(_ o: OutputSpec, context: StyleContext) throws -> any DatasetBuilder {
        let features = context.useCache
            ? SkillFeatures(url: context.cacheDirectory.appendingPathComponent("\(o.name).features"), toolVersion: context.toolVersion) : nil
        let builder = SkillSetBuilder(options: .init(distiller: .init(minSupport: o.minSupport, familyThreshold: o.familyThreshold,
                                                                      license: o.license == "other" ? nil : o.license),
                                                     maxRounds: o.maxRounds, curatedDirectory: o.curated.map(context.files.path),
                                                     features: features))
        return SkillBundlesOutput(builder: builder, directory: context.staging.appendingPathComponent("skills"))
    }
}

/// The builder of a skill-bundle style: bundles go to `directory`; the engine packs `builder.entries`.
public final class SkillBundlesOutput: DatasetBuilder {
    public let builder: SkillSetBuilder
    public let directory: URL

    public init(builder: SkillSetBuilder, directory: URL) {
        self.builder = builder
        self.directory = directory
    }

    public func add(_ batch: [Trajectory]) throws { builder.add(batch) }

    public func finish() throws -> [String: JSONValue] {
        let (entries, below, unshared) = try builder.finish(into: directory)
        let status = Dictionary(grouping: entries, by: { "\($0.source)_\($0.status)" }).mapValues { JSONValue.int(Int64($0.count)) }
        return ["skills": .object(status), "families_below_min_support": .int(Int64(below)),
                "families_without_shared_procedure": .int(Int64(unshared))]
    }
}
