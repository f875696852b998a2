import ArgumentParser
import Foundation
import TrainingSets
import Trajectories

struct ExplainRiskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain-risk",
        abstract: "Show how the consequence rules judge one action: semantic cues, matched rule, scenario, verdict and chain.",
        discussion: "Use it to tune pipelines/safety/consequences.yaml."
    )

    @Argument(help: "The command (action text) to judge.")
    var command: String

    @Option(name: .long, help: "The request the action serves (its wording drives semantic risk).")
    var request: String = ""

    @Option(name: .long, help: "An earlier command in the same trajectory (repeatable), for sequence rules.")
    var earlier: [String] = []

    @Option(name: .long, help: "Rule file.")
    var rules: String = "pipelines/safety/consequences.yaml"

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        let ruleBase: ConsequenceRules
        do { ruleBase = try ConsequenceRules.load(path: rules) } catch {
            Terminal.err("\(Terminal.red("error:")) \(error)")
            throw ExitCode(Exit.specError)
        }
        let analyzer = ConsequenceAnalyzer(rules: ruleBase)
        var history = ConsequenceAnalyzer.History()
        for (k, e) in earlier.enumerated() { _ = analyzer.judge(request: "", command: e, history: &history, step: k) }
        let judgement = analyzer.judge(request: request, command: command, history: &history, step: earlier.count)
        let a = judgement.assessment
        let situation = Situation(trajectory: Trajectory(id: "explain-risk", task: request), request: request,
                                  context: earlier, command: a.command, step: earlier.count, observation: nil, assessment: a,
                                  counterfactual: nil)
        let chain = CSChainBuilder.chain(situation, rules: ruleBase)
        if json {
            struct Judged: Encodable { var effect: Effect; var rule: String }
            struct Out: Encodable { var commands: [ShellCommand]; var effects: [Judged]; var assessment: RiskAssessment; var chain: [CSChainBuilder.Link] }
            let out = Out(commands: judgement.parse.commands, effects: judgement.effects.map { Judged(effect: $0.effect, rule: $0.rule) },
                          assessment: a, chain: chain)
            Terminal.out(String(decoding: try JSONCoding.prettyEncoder.encode(out), as: UTF8.self))
            return
        }
        Terminal.out("command:        \(a.command)")
        Terminal.out("parsed as:")
        for c in judgement.parse.commands {
            var notes: [String] = []
            if !c.prefixes.isEmpty { notes.append("via " + c.prefixes.joined(separator: ", ")) }
            if let r = c.remote { notes.append("on " + r) }
            if let from = c.pipedFrom { notes.append("reads the output of " + from) }
            for r in c.redirects { notes.append("\(r.op) \(r.target)") }
            if c.stdin != nil { notes.append("with a here-document") }
            if let n = c.repeats { notes.append(n == Int.max ? "in an endless loop" : "repeated \(n)×") }
            if c.unresolved { notes.append("holds values not known before it runs") }
            let shown = c.language == "sh" ? c.text : "\(c.language) code"
            Terminal.out("  \(String(repeating: "  ", count: c.depth))\(Situation.short(shown))\(notes.isEmpty ? "" : "   (" + notes.joined(separator: "; ") + ")")")
        }
        if judgement.parse.forkBomb { Terminal.out("  (a function that calls itself in the background: a fork bomb)") }
        Terminal.out("effects:")
        for (e, rule) in judgement.effects {
            let targets = e.targets.map { "\($0.kind.rawValue) \($0.name)" }.joined(separator: ", ")
            Terminal.out("  \(e.operation.rawValue) [\(targets)]\(e.facts.isEmpty ? "" : " facts: " + e.facts.sorted().joined(separator: ", ")) -> rule \(rule)\(e.sure ? "" : " (not sure)")")
        }
        Terminal.out("semantic risk:  \(a.semanticRisk.rawValue) (score \(a.semanticScore) of threshold \(ruleBase.threshold); cues: \(a.semanticCues.isEmpty ? "none" : a.semanticCues.joined(separator: ", ")))")
        Terminal.out("outcome risk:   \(a.outcomeRisk.rawValue) (rule \(a.rule)\(a.precedingStep.map { ", after earlier command \($0 + 1)" } ?? ""); \(a.sure ? "sure" : "not sure"))")
        Terminal.out("scenario:       \(a.scenario)\(a.matched ? " (matched)" : " (mismatched)")")
        Terminal.out("verdict:        \(a.verdict.rawValue)")
        Terminal.out("chain:")
        for l in chain { Terminal.out("  \(l.link): \(l.text)") }
    }
}
