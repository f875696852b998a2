import ArgumentParser
import Foundation
import SampleCorpus

struct SamplesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "samples",
        abstract: "Regenerate the embedded sample corpus (pipelines/samples/) deterministically.",
        discussion: "The committed corpus is exactly what this command writes with its defaults; a test checks it."
    )

    @Option(name: .long, help: "Directory to write into.")
    var to: String = "pipelines/samples"

    @Option(name: .long, help: "Number of task instances (each has 1–3 attempts).")
    var tasks: Int = 150

    @Option(name: .long, help: "Generator seed.")
    var seed: UInt64 = 7

    func run() throws {
        let urls = try SampleCorpus(seed: seed, tasks: tasks).write(to: URL(fileURLWithPath: to))
        for u in urls { Terminal.out("wrote \(u.path)") }
    }
}
