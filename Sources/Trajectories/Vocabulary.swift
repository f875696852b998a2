/// Names a pipeline file and the code that acts on it share: the spec (Pipelines) decodes them, the
/// builders (TrainingSets, Archives) act on them — one type each, so nothing converts between twins.

/// The layout dataset records are written in (`format:` of an output).
public enum RecordFormat: String, Sendable, Hashable, CaseIterable, Codable {
    /// OpenAI / TRL chat: `{"messages": [...], "tools": [...]}` with `tool_calls` whose `arguments` are JSON
    /// objects (what Hugging Face chat templates render) and `tool` turns.
    case messages
    /// OpenAI's fine-tuning file layout: as `messages`, with `arguments` as JSON text (the OpenAI API's form).
    case openai
    /// LLaMA-Factory ShareGPT: `{"conversations": [...]}` with `function_call` / `observation` turns.
    case sharegpt
    /// Alpaca: `{"instruction", "input", "output"}`.
    case alpaca
}

/// Archive formats skills are packed in (`package: {skills: [...]}`).
public enum ArchiveFormat: String, Sendable, Hashable, CaseIterable, Codable {
    /// Zip whose top entry is the skill folder, as Anthropic's skill packager makes.
    case skill
    case tarZst = "tar.zst"
    case tarGz = "tar.gz"

    public var fileExtension: String { rawValue }
}
