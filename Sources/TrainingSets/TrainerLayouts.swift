import Foundation
import Trajectories

/// What each config of a dataset is for, in the trainers that read it: the card's "Loading and training"
/// section, the LLaMA-Factory `dataset_info.json` written beside the data (for the layouts LLaMA-Factory
/// reads), and which configs are files rather than training data. Every claim here is exercised by the
/// trainer test (`Tests/Trainers/check_trainers.py`).
public enum TrainerLayouts {
    /// How a config's records are laid out.
    public enum Layout: String, Sendable {
        /// `messages` (with `tools`): TRL conversational language modeling.
        case messages
        /// `prompt` + `completion` as message lists: TRL conversational prompt–completion (loss on the completion).
        case promptCompletion
        /// `prompt` + `chosen` + `rejected`: TRL preference (DPO).
        case preference
        /// `prompt` only: TRL GRPO with a reward function.
        case promptOnly
        /// `conversations` (from/value): LLaMA-Factory's ShareGPT layout; not a TRL layout.
        case sharegpt
        /// `instruction` / `input` / `output`: Alpaca (LLaMA-Factory); TRL reads it as plain text columns only.
        case alpaca
    }

    public struct Config: Sendable {
        public var name: String
        public var layout: Layout
        /// LLaMA-Factory reads it (an entry is written to `dataset_info.json`).
        public var llamaFactory: Bool
        public var note: String

        public init(name: String, layout: Layout, llamaFactory: Bool, note: String) {
            self.name = name
            self.layout = layout
            self.llamaFactory = llamaFactory
            self.note = note
        }
    }

    /// The card's lines about loading and training each config.
    public static func usage(dataset: String, configs: [Config]) -> [String] {
        var out = ["Every config loads with `load_dataset(\"path/to/\(dataset)\", \"<config>\")` (data files under `data/`, this card and `manifest.json` beside them) and trains as loaded:", ""]
        for c in configs {
            let trainer: String
            switch c.layout {
            case .messages: trainer = "TRL `SFTTrainer` (conversational language modeling: `messages`, tool schemas in `tools` for the chat template, tool-call `arguments` as JSON objects)"
            case .promptCompletion: trainer = "TRL `SFTTrainer` (conversational prompt–completion: the loss is on `completion` only)"
            case .preference: trainer = "TRL `DPOTrainer` (conversational preference: `prompt`, `chosen`, `rejected`)"
            case .promptOnly: trainer = "TRL `GRPOTrainer` (conversational prompt-only) with the reward function in `reward.py`"
            case .sharegpt: trainer = "LLaMA-Factory (`formatting: sharegpt`); this is not a TRL layout — TRL would render these rows to nothing"
            case .alpaca: trainer = "LLaMA-Factory (`formatting: alpaca`)"
            }
            out.append("- `\(c.name)`: \(trainer). \(c.note)")
        }
        if configs.contains(where: \.llamaFactory) {
            out.append("")
            out.append("LLaMA-Factory: `dataset_info.json` beside the data has an entry per split of the configs it reads ("
                       + configs.filter(\.llamaFactory).map { "`\($0.name)`" }.joined(separator: ", ")
                       + "); set `dataset_dir` to this folder and `dataset` to an entry name (`\(dataset)`, `\(dataset)_test`, …). Each entry's `file_name` is one split's folder, so train and test never mix.")
        }
        return out
    }

    /// LLaMA-Factory's `dataset_info.json` for the configs it reads: one entry per split.
    public static func llamaFactoryInfo(dataset: String, configs: [Config], splits: [String]) -> Data? {
        var entries: [String: JSONValue] = [:]
        for c in configs where c.llamaFactory {
            for key in splits where (key.contains("/") ? String(key.split(separator: "/")[0]) : "default") == c.name {
                let split = String(key.split(separator: "/").last!)
                let name = dataset + (c.name == "default" ? "" : "_" + c.name) + (split == "train" ? "" : "_" + split)
                var entry: [String: JSONValue] = ["file_name": .string(DatasetWriter.splitFolder(key))]
                switch c.layout {
                case .sharegpt:
                    entry["formatting"] = .string("sharegpt")
                    entry["columns"] = .object(["messages": .string("conversations"), "system": .string("system"), "tools": .string("tools")])
                case .alpaca:
                    entry["columns"] = .object(["prompt": .string("instruction"), "query": .string("input"), "response": .string("output"),
                                                "system": .string("system")])
                case .messages:
                    entry["formatting"] = .string("sharegpt")
                    entry["columns"] = .object(["messages": .string("messages")])
                    entry["tags"] = .object(["role_tag": .string("role"), "content_tag": .string("content"), "user_tag": .string("user"),
                                             "assistant_tag": .string("assistant"), "system_tag": .string("system")])
                default:
                    continue
                }
                entries[name] = .object(entry)
            }
        }
        guard !entries.isEmpty, var data = try? JSONCoding.prettyEncoder.encode(JSONValue.object(entries)) else { return nil }
        data.append(0x0A)
        return data
    }
}
