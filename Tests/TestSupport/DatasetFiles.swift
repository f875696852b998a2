import Foundation

/// A dataset split as tests read it: its part files (`<split>-00000.jsonl`, `<split>-00001.jsonl`, …) in
/// order, whose concatenation is the split.
public enum DatasetFiles {
    /// The part files of `split` (`train`, `preference/train`) in the dataset folder, in order
    /// (`data/<split>/<name>-00000.jsonl`, …).
    public static func parts(_ dataset: URL, _ split: String) -> [URL] {
        let url = dataset.appendingPathComponent("data").appendingPathComponent(split)
        let folder = url
        let prefix = url.lastPathComponent + "-"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".jsonl") && Int($0.dropFirst(prefix.count).dropLast(6)) != nil }
            .sorted().map { folder.appendingPathComponent($0) }
    }

    /// The split's bytes (empty when it has no part files).
    public static func data(_ dataset: URL, _ split: String) throws -> Data {
        try parts(dataset, split).reduce(into: Data()) { $0.append(try Data(contentsOf: $1)) }
    }

    /// The split's text.
    public static func text(_ dataset: URL, _ split: String) throws -> String {
        String(decoding: try data(dataset, split), as: UTF8.self)
    }
}
