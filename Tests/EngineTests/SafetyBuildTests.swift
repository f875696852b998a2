import Foundation
import TestSupport
import Testing
@testable import Engine
import Pipelines
import TrainingSets
import Trajectories

@Suite(.serialized) struct SafetyBuildTests {
    static func yaml(seed: Int) -> String {
        """
        version: 1
        name: safety-test
        seed: \(seed)
        inputs:
          - path: \(repoRoot.path)/pipelines/samples/part-*.jsonl
            outcomes: \(repoRoot.path)/pipelines/samples/outcomes.jsonl
        outputs:
          chains: {style: cs-chain, rules: \(repoRoot.path)/pipelines/safety/consequences.yaml}
          cada: {style: cada, rules: \(repoRoot.path)/pipelines/safety/consequences.yaml, codes: \(repoRoot.path)/pipelines/safety/codes.yaml}
        """
    }

    func build(seed: Int, out: URL) throws {
        let file = out.deletingLastPathComponent().appendingPathComponent("p-\(seed)-\(UInt32.random(in: 0...UInt32.max)).yaml")
        try Data(Self.yaml(seed: seed).utf8).write(to: file)
        _ = try BuildRunner(options: .init(outDirectory: out)).run(try PipelineLoader.load(path: file.path))
    }

    /// The records of a split (`train`, `cases/train`) of the dataset in `dir`.
    func lines(_ dir: URL, _ split: String) throws -> [JSONValue] {
        try DatasetFiles.text(dir, split).split(separator: "\n").map {
            try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8))
        }
    }

    @Test func safetyOutputsKeepTheirPromises() throws {
        let base = try scratch("safety")
        let a = base.appendingPathComponent("a"), b = base.appendingPathComponent("b"), c = base.appendingPathComponent("c")
        try build(seed: 42, out: a)
        try build(seed: 42, out: b)
        try build(seed: 5, out: c)
        #expect(try treeHashes(a.appendingPathComponent("datasets")) == treeHashes(b.appendingPathComponent("datasets")))
        #expect(try DatasetFiles.data(a.appendingPathComponent("datasets/chains"), "train") != DatasetFiles.data(c.appendingPathComponent("datasets/chains"), "train"))

        let rules = try ConsequenceRules.load(path: repoRoot.appendingPathComponent("pipelines/safety/consequences.yaml").path)
        let corpus = try NativeReader.read(path: repoRoot.appendingPathComponent("pipelines/samples/part-01.jsonl").path).trajectories
            + NativeReader.read(path: repoRoot.appendingPathComponent("pipelines/samples/part-02.jsonl").path).trajectories
        let steps = Dictionary(corpus.map { ($0.id, Set($0.steps.map(\.index))) }, uniquingKeysWith: { x, _ in x })

        // CS-Chain: all four scenarios after balancing, in equal numbers; every link cites a real rule and step.
        let chains = try lines(a.appendingPathComponent("datasets/chains"), "train") + lines(a.appendingPathComponent("datasets/chains"), "test")
        let scenarios = Dictionary(grouping: chains, by: { $0["scenario"]!.stringValue! }).mapValues(\.count)
        #expect(Set(scenarios.keys) == ["Q1", "Q2", "Q3", "Q4"])
        #expect(Set(scenarios.values).count == 1, "balanced: \(scenarios)")
        var counterfactuals = 0
        for r in chains {
            let id = r["provenance"]!["trajectory_id"]!.stringValue!
            let links = r["chain"]!.arrayValue!
            #expect(links.map { $0["link"]!.stringValue! }.first == "action" && links.last?["link"]?.stringValue == "verdict")
            for l in links {
                #expect(rules.rule(l["rule"]!.stringValue!) != nil)
                #expect(steps[id]?.contains(Int(l["step"]!.doubleValue!)) == true, "\(id) step \(l["step"]!)")
            }
            #expect(links.last?["text"]?.stringValue == r["verdict"]?.stringValue)
            if let cf = r["counterfactual"], cf != .null {
                counterfactuals += 1
                #expect(steps[id]?.contains(Int(cf["source_step"]!.doubleValue!)) == true)
            }
            // Refusals of camouflaged actions and help with alarming-but-harmless ones are the point.
            switch r["scenario"]!.stringValue! {
            case "Q4", "Q3": #expect(r["verdict"]?.stringValue == "proceed")
            default: #expect(r["verdict"]?.stringValue != "proceed")
            }
        }
        #expect(counterfactuals > 0)
        // Real (not counterfactual) risky actions from the corpus are caught too.
        #expect(chains.contains { ($0["counterfactual"] ?? .null) == .null && $0["outcome_risk"]?.stringValue == "high" })

        // CS-Chain text is about this action: no unfilled placeholders or broken sentences, and the final
        // answers differ (with the command itself masked) in at least half the records.
        var finals = Set<String>()
        for r in chains {
            let messages = r["messages"]!.arrayValue!
            let reply = messages.last!["content"]!.stringValue!
            let prompt = messages[messages.count - 2]["content"]!.stringValue!
            #expect(!reply.contains("{target}") && !reply.contains("{program}") && !reply.contains("it an ordinary"))
            let command = prompt.components(separatedBy: "Next proposed action: `").last!.components(separatedBy: "`\nShould").first!
            finals.insert(reply.components(separatedBy: "\n\n").last!.replacingOccurrences(of: command, with: "CMD"))
        }
        #expect(Double(finals.count) >= 0.5 * Double(chains.count), "\(finals.count) distinct final answers of \(chains.count)")

        // CADA: cases never from the prompt's trajectory, request or command; k distinct ones; every case and
        // code the reasoning cites is in the prompt (cases in the user turn, codes in the system turn).
        let cada = a.appendingPathComponent("datasets/cada")
        let cases = try lines(cada, "cases/train")
        let caseByID = Dictionary(uniqueKeysWithValues: cases.map { ($0["id"]!.stringValue!, $0) })
        let sft = try lines(cada, "train") + lines(cada, "test")
        #expect(!sft.isEmpty)
        var citedCodes: [String: Int] = [:]
        for r in sft {
            let own = r["provenance"]!["trajectory_id"]!.stringValue!
            let cited = r["cases"]!.arrayValue!.map { $0.stringValue! }
            let messages = r["messages"]!.arrayValue!
            let system = messages[0]["content"]!.stringValue!, user = messages[1]["content"]!.stringValue!
            let request = Situation.short(user.components(separatedBy: "\n\n").first!)
            let command = user.components(separatedBy: "Next proposed action: `").last!.components(separatedBy: "`\nShould").first!
            #expect(!cited.isEmpty)
            #expect(Set(cited.compactMap { caseByID[$0]?["action"]?.stringValue }).count == cited.count, "k distinct cases")
            for c in cited {
                let k = caseByID[c]
                #expect(k != nil && k?["trajectory_id"]?.stringValue != own)
                #expect(k?["action"]?.stringValue != command && k?["situation"]?.stringValue != request)
                #expect(user.contains("[\(c)]"), "case \(c) is shown in the prompt")
            }
            let reply = messages.last!["content"]!.stringValue!
            #expect(reply.hasPrefix("### Analysis") && reply.contains("### Final Response"))
            for c in cited { #expect(reply.contains(c)) }
            for code in r["codes"]!.arrayValue!.map({ $0.stringValue! }) {
                #expect(system.contains("[\(code)]"))
                citedCodes[code, default: 0] += 1
                if code == "C9" { #expect(r["verdict"]?.stringValue == "proceed_with_safeguard") }
            }
        }
        // No code is cited by every record: the code cited is the one that fits.
        #expect(citedCodes.values.allSatisfy { $0 < sft.count }, "\(citedCodes)")

        // Preference pairs: the rejected side is a plausible answer of the same shape, wrong for a reason —
        // another verdict, or the same verdict argued from the wording; not systematically shorter; varied.
        let pairs = try lines(cada, "preference/train") + lines(cada, "preference/test")
        #expect(!pairs.isEmpty)
        var shorter = 0
        var rejectedTexts = Set<String>()
        for p in pairs {
            let rejected = p["rejected_verdict"]!.stringValue!
            let chosenText = p["chosen"]!.arrayValue![0]["content"]!.stringValue!
            let rejectedText = p["rejected"]!.arrayValue![0]["content"]!.stringValue!
            #expect(rejectedText.hasPrefix("### Analysis") && rejectedText.contains("### Final Response"))
            #expect(rejected != p["chosen_verdict"]!.stringValue! || rejectedText.contains("dangerous whatever the command does"))
            if rejectedText.count < chosenText.count { shorter += 1 }
            rejectedTexts.insert(rejectedText)
        }
        #expect(Double(shorter) <= 0.6 * Double(pairs.count), "rejected shorter in \(shorter) of \(pairs.count)")
        #expect(Double(rejectedTexts.count) >= 0.5 * Double(pairs.count), "\(rejectedTexts.count) distinct rejected of \(pairs.count)")
        let dpo = try lines(cada, "preference_openai/train")
        #expect(dpo.count == (try lines(cada, "preference/train")).count)
        #expect(dpo.first?["input"]?["messages"]?.arrayValue != nil && dpo.first?["preferred_output"]?.arrayValue != nil)
        let rl = try lines(cada, "rl/train")
        #expect(rl.allSatisfy { $0["reference_verdict"]?.stringValue != nil })
    }
}
