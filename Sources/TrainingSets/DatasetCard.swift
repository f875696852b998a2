import Foundation

/// The Hugging Face dataset card (`README.md` with YAML front matter) written beside every dataset.
/// `configs`/`data_files` tell `datasets.load_dataset(dir)` which file is which split.
public enum DatasetCard {
    public static func sizeCategory(_ n: Int) -> String {
        switch n {
        case ..<1_000: return "n<1K"
        case ..<10_000: return "1K<n<10K"
        case ..<100_000: return "10K<n<100K"
        case ..<1_000_000: return "100K<n<1M"
        case ..<10_000_000: return "1M<n<10M"
        case ..<100_000_000: return "10M<n<100M"
        default: return "100M<n<1B"
        }
    }

    /// Quotes a YAML scalar when it could be misread.
    static func yamlScalar(_ s: String) -> String {
        let plain = s.range(of: #"^[A-Za-z0-9][A-Za-z0-9._/ -]*$"#, options: .regularExpression) != nil
        if plain && !["true", "false", "null", "yes", "no", "on", "off"].contains(s.lowercased()) { return s }
        return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    public static func render(manifest m: Manifest, license: String, summary: String, auxiliary: [String: String] = [:], usage: [String] = [],
                              knownLimits: [String] = []) -> String {
        let all = DatasetWriter.orderedKeys(m.splits)
        func config(_ key: String) -> String { key.contains("/") ? String(key.split(separator: "/")[0]) : "default" }
        let splits = all.filter { auxiliary[config($0)] == nil }
        var y: [String] = ["---"]
        y.append("license: \(yamlScalar(license))")
        y.append("task_categories:")
        y.append("- text-generation")
        y.append("language:")
        y.append("- en")
        y.append("tags:")
        for tag in ["agent-trajectories", "tool-use", "skillforge", m.style] { y.append("- \(yamlScalar(tag))") }
        y.append("size_categories:")
        y.append("- \(yamlScalar(sizeCategory(m.records)))")
        y.append("pretty_name: \(yamlScalar(m.name))")
        y.append("configs:")
        var configs: [String] = []
        for key in splits {
            let config = key.contains("/") ? String(key.split(separator: "/")[0]) : "default"
            if !configs.contains(config) { configs.append(config) }
        }
        for config in configs {
            y.append("- config_name: \(config)")
            if config == "default" { y.append("  default: true") }
            y.append("  data_files:")
            for key in splits where (key.contains("/") ? String(key.split(separator: "/")[0]) : "default") == config {
                y.append("  - split: \(key.split(separator: "/").last!)")
                y.append("    path: \(yamlScalar(DatasetWriter.splitFolder(key) + "/*.jsonl"))")
            }
        }
        y.append("---")
        var body: [String] = []
        body.append("# \(m.name)")
        body.append("")
        body.append(summary)
        body.append("")
        body.append("| split | records | bytes | part files |")
        body.append("|---|---:|---:|---|")
        for s in splits {
            let i = m.splits[s]!
            let files = i.parts.count == 1 ? "`\(i.parts[0].file)`" : "`\(i.parts[0].file)` … `\(i.parts.last!.file)` (\(i.parts.count))"
            body.append("| \(s) | \(i.records) | \(i.bytes) | \(files) |")
        }
        body.append("")
        body.append("A split is its part files in order (`data/<split>/` for the default config, `data/<config>/<split>/` for the others; records are in curriculum or input order across them).")
        if !auxiliary.isEmpty {
            body.append("")
            body.append("Also written, not declared as configs (they are not training data for TRL):")
            body.append("")
            for key in all where auxiliary[config(key)] != nil {
                let i = m.splits[key]!
                body.append("- `\(DatasetWriter.splitFolder(key))/` (\(i.records) records): \(auxiliary[config(key)]!)")
            }
        }

        body.append("")
        body.append("- Style: `\(m.style)`, record format: `\(m.format)`")
        body.append("- Built by skillforge \(m.toolVersion) from pipeline `\(m.pipeline)` (config hash `\(m.configHash.prefix(16))`, seed \(m.seed))")
        body.append("- Inputs: \(m.inputs.count) file(s), \(m.inputs.reduce(0) { $0 + $1.records }) trajectories read, \(m.inputs.reduce(0) { $0 + $1.quarantined }) quarantined")
        if !m.skipped.isEmpty {
            body.append("- Trajectories without a record: " + m.skipped.keys.sorted().map { "\($0) \(m.skipped[$0]!)" }.joined(separator: ", "))
        }
        body.append("- Every record has a `provenance` field: trajectory id, first and last step, source file and line, outcome.")
        body.append("")
        body.append("See `manifest.json` for file hashes, inputs and preparation statistics.")
        body.append("")
        body.append("```python")
        body.append("from datasets import load_dataset")
        body.append("ds = load_dataset(\"path/to/\(m.name)\")")
        body.append("```")
        if !usage.isEmpty {
            body.append("")
            body.append("## Loading and training")
            body.append("")
            body += usage
        }
        if !m.stats.isEmpty {
            body.append("")
            body.append("## Statistics")
            body.append("")
            for key in m.stats.keys.sorted() { body.append("- `\(key)`: \(m.stats[key]!.canonicalJSON())") }
        }
        if !knownLimits.isEmpty {
            body.append("")
            body.append("## Known limits")
            body.append("")
            body += knownLimits.map { "- " + $0 }
        }
        return (y + [""] + body).joined(separator: "\n") + "\n"
    }
}
