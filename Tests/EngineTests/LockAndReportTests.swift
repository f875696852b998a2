import Foundation
import Testing
@testable import Engine
import Pipelines

@Suite(.serialized) struct LockAndReportTests {
    @Test func aSecondBuildIntoTheSameOutFailsClearly() throws {
        let out = try scratch("lock")
        let spec = try PipelineLoader.load(path: repoRoot.appendingPathComponent("pipelines/sample.yaml").path)
        let held = try BuildLock(directory: out)
        do {
            _ = try BuildRunner(options: .init(outDirectory: out)).run(spec)
            Issue.record("the second build must not run")
        } catch {
            #expect("\(error)".contains("another skillforge build (pid \(getpid()))"), "\(error)")
        }
        withExtendedLifetime(held) {}
    }

    @Test func reportIsASelfContainedPageWithCharts() throws {
        let out = try scratch("report")
        let spec = try PipelineLoader.load(path: repoRoot.appendingPathComponent("pipelines/sample.yaml").path)
        _ = try BuildRunner(options: .init(outDirectory: out)).run(spec)
        let html = try String(contentsOf: out.appendingPathComponent("report/sample/index.html"), encoding: .utf8)
        #expect(html.hasPrefix("<!doctype html>"))
        for section in ["Records per stage", "Quarantined records", "Datasets", "records per constraint level", "scenario balance",
                        "PDI per distilled skill", "verification outcomes", "Timings"] {
            #expect(html.contains(section), "missing \(section)")
        }
        #expect(html.components(separatedBy: "<svg").count - 1 >= 6)
        #expect(!html.contains("src=") && !html.contains("href=\"http") && !html.contains("<link"), "no external assets")
        #expect(html.contains("pipelines/samples/part-01.jsonl:61"))
    }
}
