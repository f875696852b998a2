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
        let a = analyzer.assess(request: request, command: command,
                                earlier: earlier.enumerated().map { (step: $0.offset, command: $0.element) }, step: earlier.count)
        let situation = Situation(trajectory: Trajectory(id: "explain-risk", task: request), request: request,
                                  context: earlier, command: a.command, step: earlier.count, observation: nil, assessment: a,
                                  counterfactual: nil)
        let chain = CSChainBuilder.chain(situation, rules: ruleBase)
        if json {
            struct Out: Encodable { var assessment: RiskAssessment; var chain: [CSChainBuilder.Link] }
            Terminal.out(String(decoding: try JSONCoding.prettyEncoder.encode(Out(assessment: a, chain: chain)), as: UTF8.self))
            return
        }
        Terminal.out("command:        \(a.command)")
        Terminal.out("semantic risk:  \(a.semanticRisk.rawValue) (score \(a.semanticScore) of threshold \(ruleBase.threshold); cues: \(a.semanticCues.isEmpty ? "none" : a.semanticCues.joined(separator: ", ")))")
        Terminal.out("outcome risk:   \(a.outcomeRisk.rawValue) (rule \(a.rule)\(a.precedingStep.map { ", after earlier command \($0 + 1)" } ?? ""))")
        Terminal.out("scenario:       \(a.scenario)\(a.matched ? " (matched)" : " (mismatched)")")
        Terminal.out("verdict:        \(a.verdict.rawValue)")
        Terminal.out("chain:")
        for l in chain { Terminal.out("  \(l.link): \(l.text)") }
    }
}
