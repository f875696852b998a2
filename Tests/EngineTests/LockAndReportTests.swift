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
        try renderedInABrowser(out.appendingPathComponent("report/sample/index.html"), html: html)
    }

    /// Headless Chromium screenshots the page, and the same page with its charts (the inline SVGs)
    /// removed: the charts must add coloured pixels. CI installs chromium; elsewhere it may be absent.
    func renderedInABrowser(_ page: URL, html: String) throws {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let chromium else {
            if isCI { Issue.record("CI=true but chromium is not installed (.ci/run installs it)") }
            else { print("NOTICE: skipping the browser check of the report: chromium is not installed") }
            return
        }
        let dir = try scratch("screenshot")
        let bare = dir.appendingPathComponent("bare.html")
        try html.replacingOccurrences(of: #"<svg[\s\S]*?</svg>"#, with: "", options: .regularExpression).write(to: bare, atomically: true, encoding: .utf8)
        func stats(_ url: URL, _ name: String) throws -> [String: Double] {
            let png = dir.appendingPathComponent(name)
            let (status, log) = try run(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                                   "--window-size=1200,2400", "--screenshot=\(png.path)", url.absoluteString])
            #expect(status == 0 && FileManager.default.fileExists(atPath: png.path), "\(log)")
            let (_, json) = try run("/usr/bin/python3", [repoRoot.appendingPathComponent("Tests/clients/png_stats.py").path, png.path])
            return try JSONDecoder().decode([String: Double].self, from: Data(json.utf8))
        }
        let full = try stats(page, "report.png"), plain = try stats(bare, "bare.png")
        #expect(full["width"] == 1200 && full["height"] == 2400)
        // The bars are saturated colours; without the SVGs almost nothing on the page is.
        #expect(full["saturated_fraction"]! > 0.02, "\(full)")
        #expect(full["saturated_fraction"]! > plain["saturated_fraction"]! * 5, "charts add no colour: \(full) vs \(plain)")
    }
}
