import ArgumentParser
import Catalog
import Foundation
import Trajectories

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks (not tests): measure and print, nothing is asserted.",
        subcommands: [CatalogBench.self, PipelineBench.self, PeerBench.self]
    )

    struct CatalogBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "catalog",
            abstract: "Insert N synthetic skills into a fresh catalog and measure build time and search latency (p50, p99)."
        )
        @Option(name: .long, help: "Number of synthetic skills.") var skills: Int = 100_000
        @Option(name: .long, help: "Number of search queries.") var queries: Int = 500
        @Option(name: .long, help: "Scratch directory (default: a temporary one).") var dir: String?
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            let root = URL(fileURLWithPath: dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("skillforge-bench-\(getpid())").path)
            try? FileManager.default.removeItem(at: root)
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            defer { if dir == nil { try? FileManager.default.removeItem(at: root) } }
            var g = SeededGenerator(seed: 99)
            let vocabulary = (0..<5000).map { i in "w" + String(i, radix: 36) + ["lint", "deploy", "parse", "test", "build", "scan", "merge", "cache"][i % 8] }
            func words(_ n: Int) -> String { (0..<n).map { _ in vocabulary[g.below(vocabulary.count)] }.joined(separator: " ") }
            var inputs: [Catalog.SkillInput] = []
            inputs.reserveCapacity(skills)
            for i in 0..<skills {
                let name = "skill-\(i)"
                inputs.append(Catalog.SkillInput(
                    name: name, description: "Does \(words(8)). Use when \(words(6)).", body: words(120), source: "distilled",
                    status: "verified", rounds: 1, passRate: 1, terms: (0.8, 0.5, 0.1), pdi: 0, archives: ["\(name).skill"],
                    archiveSHA256: ContentHash.sha256(name), archiveSize: 4096,
                    files: [("scripts/\(name).sh", ContentHash.sha256(name + ".sh"), 512, true)], evidence: [("traj-\(i)", [0, 1, 2])]))
            }
            let catalog = try Catalog(path: root.appendingPathComponent("catalog.sqlite").path)
            let t0 = Date()
            try catalog.insertSynthetic(inputs)
            let buildSeconds = Date().timeIntervalSince(t0)
            var latencies: [Double] = []
            var hits = 0
            for _ in 0..<queries {
                let q = words(2)
                let s = Date()
                hits += try catalog.search(q, limit: 10).count
                latencies.append(Date().timeIntervalSince(s) * 1000)
            }
            latencies.sort()
            func pct(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
            let size = (try? FileManager.default.attributesOfItem(atPath: root.appendingPathComponent("catalog.sqlite").path)[.size] as? Int64) ?? 0
            struct Out: Encodable {
                var skills: Int, buildSeconds: Double, skillsPerSecond: Double, queries: Int, p50ms: Double, p99ms: Double, meanHits: Double, bytes: Int64
            }
            let out = Out(skills: skills, buildSeconds: buildSeconds, skillsPerSecond: Double(skills) / buildSeconds, queries: queries,
                          p50ms: pct(0.5), p99ms: pct(0.99), meanHits: Double(hits) / Double(max(queries, 1)), bytes: size)
            if json { Terminal.out(String(decoding: try JSONCoding.prettyEncoder.encode(out), as: UTF8.self)); return }
            Terminal.out(String(format: "catalog build: %d skills in %.2f s (%.0f skills/s), %.1f MB", skills, buildSeconds, out.skillsPerSecond, Double(out.bytes) / 1e6))
            Terminal.out(String(format: "search (FTS5 bm25, top 10): %d queries, p50 %.2f ms, p99 %.2f ms, %.1f hits per query", queries, out.p50ms, out.p99ms, out.meanHits))
        }
    }
}
