import Foundation
import Testing
import Trajectories

/// The README documents the native format with a full example; it must stay a valid record.
@Suite struct ReadmeTests {
    @Test func nativeExampleInTheReadmeDecodes() throws {
        let readme = try String(contentsOf: repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "```json\n{\n  \"schema\""))
        let end = try #require(readme.range(of: "\n```", range: start.upperBound..<readme.endIndex))
        let json = String(readme[readme.index(start.lowerBound, offsetBy: 8)..<end.lowerBound])
        let t = try JSONDecoder().decode(Trajectory.self, from: Data(json.utf8))
        #expect(t.id == "swe-run-0042-a2")
        #expect(t.steps.count == 3 && t.steps.allSatisfy { $0.action != nil && $0.observation != nil })
        #expect(t.outcome.status == .success && t.outcome.tests == TestCounts(passed: 12, failed: 0))
        #expect(t.source?.offset == 3)
    }

    @Test func readmeNamesBothSetupCommands() throws {
        let readme = try String(contentsOf: repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("apt-get install -y libarchive-dev libyaml-dev libsqlite3-dev zstd"))
        #expect(readme.contains("swift run skillforge build"))
        let ci = try String(contentsOf: repoRoot.appendingPathComponent(".ci/run"), encoding: .utf8)
        #expect(ci.contains("swift test"))
    }
}
