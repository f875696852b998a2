import Foundation
import Trajectories

/// Generates the embedded sample corpus in `pipelines/samples/`, deterministically from a seed.
///
/// The corpus is small but exercises everything a build does: several task families with retries,
/// successes, failures, partial results and unknown outcomes (some resolved by a side file), tool
/// errors the agent recovered from, planted fake secrets of every redacted kind, near-duplicate
/// tasks, a line with invalid UTF-8 (repaired) and a handful of malformed lines (quarantined).
public struct SampleCorpus {
    public struct File: Sendable {
        public var name: String
        public var contents: Data
    }

    public var seed: UInt64
    /// Number of task instances; each has one to three attempts.
    public var tasks: Int

    public init(seed: UInt64 = 7, tasks: Int = 150) {
        self.seed = seed
        self.tasks = tasks
    }

    /// The files of the corpus: `part-NN.jsonl` trajectory files and `outcomes.jsonl`.
    public func files() throws -> [File] {
        var g = SeededGenerator(seed: seed)
        var trajectories: [Trajectory] = []
        var sideOutcomes: [(String, Outcome.Status)] = []
        let families = Family.all
        var secretIndex = 0
        for n in 0..<tasks {
            let family = families[n % families.count]
            let params = family.parameters(&g, n)
            let attempts = 1 + g.below(3)
            // The last attempt mostly succeeds; earlier ones fail.
            for a in 1...attempts {
                let isLast = a == attempts
                var status: Outcome.Status
                let roll = g.unit()
                if isLast {
                    status = roll < 0.72 ? .success : (roll < 0.86 ? .partial : .failure)
                } else {
                    status = roll < 0.9 ? .failure : .partial
                }
                let id = String(format: "sample-%@-%04d-a%d", family.name, n, a)
                var t = family.build(id: id, params: params, status: status, attempt: a, g: &g)
                t.taskKey = "\(family.name)/\(n)"
                t.attempt = a
                // Plant one fake secret in every seventh trajectory, cycling through the kinds.
                if trajectories.count % 7 == 3 {
                    Secrets.plant(into: &t, kind: secretIndex % Secrets.samples.count, g: &g)
                    secretIndex += 1
                }
                // Some outcomes are only known from the side file.
                if trajectories.count % 11 == 5 {
                    sideOutcomes.append((t.id, t.outcome.status))
                    t.outcome = Outcome(status: .unknown)
                }
                trajectories.append(t)
            }
        }
        // Near-duplicates: a few successful tasks asked again with trivial rewording.
        var dups: [Trajectory] = []
        for t in trajectories where t.outcome.status == .success && dups.count < 6 && t.id.hasSuffix("0-a1") {
            var d = t
            d.id = t.id + "-dup"
            d.task = t.task.replacingOccurrences(of: ".", with: "") + " Thanks."
            d.taskKey = (t.taskKey ?? "") + "-dup"
            dups.append(d)
        }
        trajectories += dups
        // Exact duplicates: the same run exported twice under another id (exact dedupe by content).
        for t in trajectories.filter({ $0.outcome.status == .success }).prefix(3) {
            var copy = t
            copy.id = t.id + "-export2"
            trajectories.append(copy)
        }

        var parts: [[Data]] = [[], []]
        for (i, t) in trajectories.enumerated() {
            parts[i % 2].append(try NativeWriter.line(t))
        }
        // A record with invalid UTF-8 inside a string: it is repaired, not dropped.
        var broken = try NativeWriter.line(Trajectory(
            id: "sample-utf8-repair", task: "Summarise the build log in logs/build.txt", taskKey: "utf8/0", attempt: 1,
            steps: [Step(index: 0, thought: "Read the log.", action: Action(tool: "bash", input: .object(["command": .string("cat logs/build.txt")]), command: "cat logs/build.txt"),
                         observation: Observation(content: "BUILD OK caf\u{E9}", exitCode: 0))],
            answer: "The build succeeded with no warnings.", outcome: Outcome(status: .success, reward: 1)))
        if let r = broken.range(of: Data("caf\u{E9}".utf8)) { broken.replaceSubrange(r, with: Data([0x63, 0x61, 0x66, 0xE9, 0x28])) }
        // Positions are clamped so that small corpora (`--tasks 5`) work too.
        func insert(_ line: Data, part: Int, at index: Int) { parts[part].insert(line, at: min(index, parts[part].count)) }
        insert(broken, part: 0, at: 10)
        // Malformed lines, each a different mistake.
        let malformed: [String] = [
            #"{"id": "sample-bad-truncated", "task": "Fix the flaky test", "steps": [{"index": 0, "thought": "Run it"#,
            #"{"id": "sample-bad-steps-type", "task": "Tidy imports", "steps": "run isort", "outcome": {"status": "success"}}"#,
            #"{"task": "Record without an id", "steps": []}"#,
            #"{"id": "sample-bad-status", "task": "Bump version", "steps": [], "outcome": {"status": "submitted"}}"#,
            "\u{1}\u{2}binary garbage \u{7F}",
        ]
        insert(Data(malformed[0].utf8), part: 1, at: 5)
        insert(Data(malformed[1].utf8), part: 1, at: 40)
        insert(Data(malformed[2].utf8), part: 0, at: 60)
        insert(Data(malformed[3].utf8), part: 1, at: 90)
        insert(Data(malformed[4].utf8), part: 0, at: 120)

        var files: [File] = []
        for (i, lines) in parts.enumerated() {
            var data = Data()
            for l in lines { data.append(l); data.append(0x0A) }
            files.append(File(name: String(format: "part-%02d.jsonl", i + 1), contents: data))
        }
        var outcomes = Data()
        for (id, status) in sideOutcomes {
            let row = JSONValue.object(["id": .string(id), "status": .string(status.rawValue)])
            outcomes.append(Data(row.canonicalJSON().utf8))
            outcomes.append(0x0A)
        }
        files.append(File(name: "outcomes.jsonl", contents: outcomes))
        return files
    }

    /// Writes the corpus into `directory` (created if needed); returns the paths written.
    @discardableResult
    public func write(to directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try files().map { f in
            let url = directory.appendingPathComponent(f.name)
            try f.contents.write(to: url, options: .atomic)
            return url
        }
    }
}
