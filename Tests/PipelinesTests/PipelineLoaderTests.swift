import Foundation
import TestSupport
import Testing
@testable import Pipelines

/// A directory with one input file so that path checks can pass or fail on purpose.
func workspace() throws -> String {
    let dir = try Scratch.directory("spec")
    try FileManager.default.createDirectory(at: dir.appendingPathComponent("data/sub"), withIntermediateDirectories: true)
    try Data("{}\n".utf8).write(to: dir.appendingPathComponent("data/a.jsonl"))
    try Data("{}\n".utf8).write(to: dir.appendingPathComponent("data/sub/b.jsonl"))
    try Data("{}\n".utf8).write(to: dir.appendingPathComponent("data/outcomes.jsonl"))
    return dir.path
}

func diagnostics(_ yaml: String) throws -> [String] {
    let base = try workspace()
    do {
        _ = try PipelineLoader.parse(yaml: yaml, file: "pipelines/p.yaml", baseDirectory: base)
        return []
    } catch let e as SpecError {
        return e.diagnostics.map(\.description)
    }
}

let valid = """
version: 1
name: nightly
seed: 7
inputs:
  - path: data/**/*.jsonl
    format: native
    outcomes: data/outcomes.jsonl
prepare:
  - redact: {secrets: true, emails: true}
  - filter: {outcome: [success, partial], min_steps: 2, tools: bash, task_regex: "^Fix"}
  - dedupe: {by: task, method: minhash, threshold: 0.9}
outputs:
  sft:
    style: trajectory-sft
    format: sharegpt
    test_split: 0.2
"""

@Suite struct PipelineLoaderTests {
    @Test func validPipelineParsesWithDefaults() throws {
        let spec = try PipelineLoader.parse(yaml: valid, file: "p.yaml", baseDirectory: try workspace())
        #expect(spec.name == "nightly")
        #expect(spec.seed == 7)
        #expect(spec.maxBadFraction == 0.05)
        #expect(spec.inputs == [InputSpec(path: "data/**/*.jsonl", format: "native", outcomes: "data/outcomes.jsonl")])
        #expect(spec.prepare.count == 3)
        guard case .filter(let f) = spec.prepare[1], case .dedupe(let d) = spec.prepare[2] else {
            Issue.record("steps out of order"); return
        }
        #expect(f.outcome == ["success", "partial"])
        #expect(f.tools == ["bash"])
        #expect(f.minSteps == 2)
        #expect(d.threshold == 0.9 && d.by == .task && d.method == .minhash && d.permutations == 128)
        let o = try #require(spec.outputs.first)
        #expect(o.name == "sft" && o.style == .trajectorySFT && o.format == .sharegpt && o.testFraction == 0.2)
        #expect(o.license == "other" && o.includeThoughts)
        #expect(spec.package.partMB == 16 && spec.package.partBytes == 16 << 20)
    }

    @Test func globMatchesAnyDepth() throws {
        let base = try workspace()
        let files = Glob.expand("data/**/*.jsonl", base: base).map { String($0.dropFirst(base.count + 1)) }
        #expect(files == ["data/a.jsonl", "data/outcomes.jsonl", "data/sub/b.jsonl"])
        #expect(Glob.matches("part-01.jsonl", "part-[0-9]?.jsonl"))
        #expect(!Glob.matches("part-x1.jsonl", "part-[0-9]?.jsonl"))
    }

    // Each kind of mistake, with the exact place it is reported.
    @Test(arguments: [
        // 1. YAML syntax
        ("version: 1\ninputs: [\n  - path: x\n", "pipelines/p.yaml:3:3: error: YAML syntax error: did not find expected node content"),
        // 2. unknown top-level key, with a suggestion
        ("version: 1\ninptus: []\ninputs:\n  - path: data/a.jsonl\noutputs:\n  a: {style: trajectory-sft}\n",
         "pipelines/p.yaml:2:1: error: unknown key 'inptus' in the pipeline (did you mean 'inputs'?)"),
        // 3. unknown key inside an output
        ("version: 1\ninputs:\n  - path: data/a.jsonl\noutputs:\n  a:\n    style: trajectory-sft\n    fromat: messages\n",
         "pipelines/p.yaml:7:5: error: unknown key 'fromat' in output 'a' (did you mean 'format'?)"),
        // 4. wrong type
        ("version: 1\nseed: lots\ninputs:\n  - path: data/a.jsonl\noutputs:\n  a: {style: trajectory-sft}\n",
         "pipelines/p.yaml:2:7: error: 'seed' must be a non-negative integer, found the string 'lots'"),
        // 5. missing required key
        ("version: 1\noutputs:\n  a: {style: trajectory-sft}\n",
         "pipelines/p.yaml:1:1: error: the pipeline is missing required key 'inputs'"),
        // 6. a path that matches nothing
        ("version: 1\ninputs:\n  - path: data/none-*.jsonl\noutputs:\n  a: {style: trajectory-sft}\n",
         "pipelines/p.yaml:3:11: error: input 'data/none-*.jsonl' matches no files"),
        // 7. duplicate output names
        ("version: 1\ninputs:\n  - path: data/a.jsonl\noutputs:\n  a: {style: trajectory-sft}\n  a: {style: trajectory-sft}\n",
         "pipelines/p.yaml:6:3: error: duplicate key 'a' (first defined at line 5)"),
        // 8. unknown style, with a suggestion
        ("version: 1\ninputs:\n  - path: data/a.jsonl\noutputs:\n  a: {style: trajectory-stf}\n",
         "pipelines/p.yaml:5:14: error: unknown style 'trajectory-stf' (did you mean 'trajectory-sft'?)"),
        // 9. unknown prepare step
        ("version: 1\ninputs:\n  - path: data/a.jsonl\nprepare:\n  - dedup: {}\noutputs:\n  a: {style: trajectory-sft}\n",
         "pipelines/p.yaml:5:5: error: unknown prepare step 'dedup' (did you mean 'dedupe'?)"),
        // 10. value out of range
        ("version: 1\ninputs:\n  - path: data/a.jsonl\nprepare:\n  - dedupe: {threshold: 1.5}\noutputs:\n  a: {style: trajectory-sft}\n",
         "pipelines/p.yaml:5:25: error: 'threshold' must be between 0.05 and 1, found 1.5"),
        // 11. invalid regular expression
        ("version: 1\ninputs:\n  - path: data/a.jsonl\nprepare:\n  - filter: {task_regex: \"(unclosed\"}\noutputs:\n  a: {style: trajectory-sft}\n",
         "pipelines/p.yaml:5:26: error: 'task_regex' is not a valid regular expression"),
        // 12. unsupported version
        ("version: 3\ninputs:\n  - path: data/a.jsonl\noutputs:\n  a: {style: trajectory-sft}\n",
         "pipelines/p.yaml:1:10: error: unsupported pipeline version 3"),
        // 13. missing side file
        ("version: 1\ninputs:\n  - path: data/a.jsonl\n    outcomes: labels.csv\noutputs:\n  a: {style: trajectory-sft}\n",
         "pipelines/p.yaml:4:15: error: outcomes file 'labels.csv' does not exist"),
        // 14. unknown outcome status in a filter
        ("version: 1\ninputs:\n  - path: data/a.jsonl\nprepare:\n  - filter: {outcome: [sucess]}\noutputs:\n  a: {style: trajectory-sft}\n",
         "pipelines/p.yaml:5:24: error: unknown outcome status 'sucess' (did you mean 'success'?)"),
        // 15. a list where a mapping belongs
        ("version: 1\ninputs:\n  - path: data/a.jsonl\noutputs:\n  - a\n",
         "pipelines/p.yaml:5:3: error: 'outputs' must be a mapping of output name to settings, found a list"),
        // 16. duplicate key inside a mapping
        ("version: 1\ninputs:\n  - path: data/a.jsonl\n    path: data/b.jsonl\noutputs:\n  a: {style: trajectory-sft}\n",
         "pipelines/p.yaml:4:5: error: duplicate key 'path' (first defined at line 3)"),
        // 17. unknown input format
        ("version: 1\ninputs:\n  - path: data/a.jsonl\n    format: natve\noutputs:\n  a: {style: trajectory-sft}\n",
         "pipelines/p.yaml:4:13: error: unknown format 'natve' (did you mean 'native'?)"),
        // 18. a part size out of range
        ("version: 1\ninputs:\n  - path: data/a.jsonl\noutputs:\n  a: {style: trajectory-sft}\npackage: {part_mb: 0}\n",
         "pipelines/p.yaml:6:20: error: 'part_mb' must be between 0.001 and 65536 (MiB), found 0"),
    ])
    func mistakesAreReportedAtTheirLocation(yaml: String, expected: String) throws {
        let found = try diagnostics(yaml)
        #expect(found.contains { $0.hasPrefix(expected) }, "got: \(found)")
    }

    @Test func allErrorsAreReportedAtOnceInFileOrder() throws {
        let yaml = """
        version: 2
        nmae: x
        inputs:
          - path: nowhere/*.jsonl
            format: natve
        prepare:
          - filter: {min_steps: many}
        outputs:
          a: {style: confier, test_split: 2}
        """
        let found = try diagnostics(yaml)
        #expect(found.count == 7, "got: \(found)")
        let lines = found.map { Int($0.split(separator: ":")[1])! }
        #expect(lines == lines.sorted())
    }

    @Test func emptyFileAndUnreadableFile() throws {
        #expect(try diagnostics("") == ["pipelines/p.yaml:1:1: error: pipeline file is empty"])
        do {
            _ = try PipelineLoader.load(path: "/nonexistent/p.yaml")
            Issue.record("expected an error")
        } catch let e as SpecError {
            #expect(e.description.hasPrefix("/nonexistent/p.yaml:1:1: error: cannot read pipeline file"))
        }
    }

    @Test func aliasBombIsRefusedQuickly() throws {
        var yaml = "version: 1\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1..<9 { yaml += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        yaml += "inputs:\n  - path: data/a.jsonl\noutputs:\n  a: {style: trajectory-sft}\n"
        let found = try diagnostics(yaml)
        #expect(found == ["pipelines/p.yaml:7:55: error: the document expands to more than 1000000 nodes (aliases repeating aliases?); refused"])
    }
}
