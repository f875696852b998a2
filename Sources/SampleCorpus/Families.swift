import Foundation
import Trajectories

/// One kind of task in the sample corpus, with the shape of a successful run and the ways runs fail.
struct Family: Sendable {
    typealias Params = [String: String]

    /// A tool call with its observed result.
    struct Move: Sendable {
        var thought: String
        var tool: String
        var input: [String: String]
        var output: String
        var exitCode: Int? = 0
        var isError: Bool? = nil
    }

    var name: String
    var parameters: @Sendable (inout SeededGenerator, Int) -> Params
    var task: @Sendable (Params) -> String
    var explore: @Sendable (Params) -> [Move]
    var work: @Sendable (Params) -> [Move]
    /// A mistake and its recovery (successful runs sometimes hit it).
    var stumble: @Sendable (Params) -> [Move]
    var verifyPass: @Sendable (Params) -> Move
    var verifyFail: @Sendable (Params) -> Move
    var answer: @Sendable (Params) -> String

    static func bash(_ thought: String, _ cmd: String, _ out: String, exit: Int = 0) -> Move {
        Move(thought: thought, tool: "bash", input: ["command": cmd], output: out, exitCode: exit)
    }

    static func edit(_ thought: String, path: String, old: String, new: String, out: String? = nil) -> Move {
        Move(thought: thought, tool: "str_replace_editor",
             input: ["command": "str_replace", "path": path, "old_str": old, "new_str": new],
             output: out ?? "The file \(path) has been edited.", exitCode: nil)
    }

    static func read(_ thought: String, path: String, out: String) -> Move {
        Move(thought: thought, tool: "read_file", input: ["path": path], output: out, exitCode: nil)
    }

    func build(id: String, params: Params, status: Outcome.Status, attempt: Int, g: inout SeededGenerator) -> Trajectory {
        var moves = explore(params)
        let stumbled = g.unit() < 0.35
        switch status {
        case .success:
            if stumbled { moves += stumble(params) }
            moves += work(params)
            moves.append(verifyPass(params))
        case .partial:
            moves += work(params).prefix(1)
            moves.append(verifyFail(params))
        default:
            if g.unit() < 0.5 { moves += stumble(params).prefix(1) }
            moves += work(params).prefix(max(1, work(params).count - 1))
            moves.append(verifyFail(params))
        }
        if attempt > 1 {
            // Retries know they are retries, as real agents with memory do.
            moves[0].thought = "Attempt \(attempt): the previous run did not pass verification. " + moves[0].thought
        }
        var steps: [Step] = []
        for (i, m) in moves.enumerated() {
            let input = JSONValue.object(m.input.mapValues { .string($0) })
            steps.append(Step(index: i, thought: m.thought,
                              action: Action(tool: m.tool, input: input, command: m.tool == "bash" ? m.input["command"] : nil,
                                             callID: "toolu_\(String(StableHash.fnv1a(id + "#\(i)"), radix: 16))"),
                              observation: Observation(content: m.output, exitCode: m.exitCode, isError: m.isError),
                              timestamp: String(format: "2026-11-%02dT%02d:%02d:%02dZ", 1 + attempt, 9 + i / 60, i % 60, (i * 7) % 60)))
        }
        let outcome: Outcome
        switch status {
        case .success: outcome = Outcome(status: .success, reward: 1, tests: TestCounts(passed: 12, failed: 0))
        case .partial: outcome = Outcome(status: .partial, reward: 0.5, tests: TestCounts(passed: 9, failed: 3), detail: "some checks still fail")
        default: outcome = Outcome(status: .failure, reward: 0, tests: TestCounts(passed: 7, failed: 5), detail: "verification failed")
        }
        let lastError = verifyFail(params).output.split(separator: "\n").first.map(String.init) ?? "the final check failed"
        let answer: String? = status == .failure && g.unit() < 0.4 ? nil
            : (status == .success ? self.answer(params) : "I could not finish: \(lastError)")
        return Trajectory(id: id, task: task(params), steps: steps, answer: answer, outcome: outcome,
                          meta: ["family": .string(name), "agent": .string("sample-agent/1.0")])
    }

    static let all: [Family] = [fixTest, addFlag, csvStats, renameSymbol, nginx, migration, bumpDependency, opsCleanup]

    static let packages = ["billing", "inventory", "auth", "search", "ingest", "reports", "notify", "geo"]
    static let modules = ["parser", "dates", "money", "tokens", "cache", "queue", "paths", "units"]
    static let functions = ["parse_amount", "normalize_date", "split_tokens", "merge_ranges", "round_half_even",
                            "slugify", "load_config", "retry_backoff", "to_utc", "chunked"]

    static let fixTest = Family(
        name: "fix-test",
        parameters: { g, n in
            ["pkg": g.pick(packages), "mod": g.pick(modules), "fn": g.pick(functions), "line": "\(20 + g.below(180))",
             "n": "\(n)"]
        },
        task: { p in "Fix the failing test test_\(p["fn"]!) in \(p["pkg"]!)/tests/test_\(p["mod"]!).py without changing the test." },
        explore: { p in [
            bash("Run the failing test first to see the error.", "python -m pytest \(p["pkg"]!)/tests/test_\(p["mod"]!).py -k test_\(p["fn"]!) -q",
                 "F\n=== FAILURES ===\n_ test_\(p["fn"]!) _\nAssertionError: assert 3 == 4\n1 failed in 0.21s", exit: 1),
            read("Look at the implementation the test exercises.", path: "\(p["pkg"]!)/\(p["mod"]!).py",
                 out: "def \(p["fn"]!)(value):\n    return len(value.split(','))\n"),
        ] },
        work: { p in [
            edit("The function ignores empty trailing fields; count them as the test expects.", path: "\(p["pkg"]!)/\(p["mod"]!).py",
                 old: "return len(value.split(','))", new: "return len(value.split(',')) + value.endswith(',')"),
            bash("Run the whole module's tests to check nothing else broke.", "python -m pytest \(p["pkg"]!)/tests -q",
                 "............\n12 passed in 0.84s"),
        ] },
        stumble: { p in [
            edit("Try a first fix.", path: "\(p["pkg"]!)/\(p["mod"]!).py", old: "return len(value.split(','))",
                 new: "return len(value.split(',')"),
            bash("Re-run the test.", "python -m pytest \(p["pkg"]!)/tests/test_\(p["mod"]!).py -q",
                 "E   SyntaxError: '(' was never closed\n1 error in 0.10s", exit: 2),
            edit("Syntax error: restore the closing parenthesis.", path: "\(p["pkg"]!)/\(p["mod"]!).py",
                 old: "return len(value.split(',')", new: "return len(value.split(','))"),
        ] },
        verifyPass: { p in bash("Run the originally failing test once more.", "python -m pytest \(p["pkg"]!)/tests/test_\(p["mod"]!).py -k test_\(p["fn"]!) -q", "1 passed in 0.12s") },
        verifyFail: { p in bash("Run the originally failing test once more.", "python -m pytest \(p["pkg"]!)/tests/test_\(p["mod"]!).py -k test_\(p["fn"]!) -q", "AssertionError: assert 3 == 4\n1 failed in 0.20s", exit: 1) },
        answer: { p in """
            Fixed `\(p["fn"]!)` in `\(p["pkg"]!)/\(p["mod"]!).py`: it now counts a trailing empty field.

            ```python
            def \(p["fn"]!)(value):
                return len(value.split(',')) + value.endswith(',')
            ```

            - `test_\(p["fn"]!)` passes
            - the other 11 tests in the module still pass
            """ }
    )

    static let flags = ["dry-run", "verbose", "json", "limit", "since", "no-color", "output", "retries"]
    static let tools = ["exporter", "syncer", "pruner", "auditor", "loader", "indexer"]

    static let addFlag = Family(
        name: "add-flag",
        parameters: { g, n in ["flag": g.pick(flags), "tool": g.pick(tools), "n": "\(n)"] },
        task: { p in "Add a --\(p["flag"]!) option to the \(p["tool"]!) command-line tool in \(p["tool"]!)/cli.py and document it in the README." },
        explore: { p in [
            bash("Find where the arguments are defined.", "grep -n add_argument \(p["tool"]!)/cli.py",
                 "14:    parser.add_argument('--config')\n15:    parser.add_argument('--quiet', action='store_true')"),
        ] },
        work: { p in [
            edit("Add the new option next to the existing ones.", path: "\(p["tool"]!)/cli.py",
                 old: "    parser.add_argument('--quiet', action='store_true')",
                 new: "    parser.add_argument('--quiet', action='store_true')\n    parser.add_argument('--\(p["flag"]!)', action='store_true')"),
            edit("Document the option.", path: "README.md", old: "## Options", new: "## Options\n\n- `--\(p["flag"]!)`: see `\(p["tool"]!) --help`."),
        ] },
        stumble: { p in [
            bash("Check the help output.", "python -m \(p["tool"]!) --help", "ModuleNotFoundError: No module named 'yaml'", exit: 1),
            bash("A dependency is missing in this environment; install it.", "pip install pyyaml", "Successfully installed PyYAML-6.0.1"),
        ] },
        verifyPass: { p in bash("Confirm the option appears in the help.", "python -m \(p["tool"]!) --help | grep -- --\(p["flag"]!)", "  --\(p["flag"]!)") },
        verifyFail: { p in bash("Confirm the option appears in the help.", "python -m \(p["tool"]!) --help | grep -- --\(p["flag"]!)", "", exit: 1) },
        answer: { p in "Added `--\(p["flag"]!)` to `\(p["tool"]!)/cli.py` and documented it under Options in the README; `\(p["tool"]!) --help` lists it." }
    )

    static let columns = ["latency_ms", "price", "age", "score", "duration_s", "bytes"]
    static let datasets = ["requests", "orders", "users", "matches", "sessions", "uploads"]

    static let csvStats = Family(
        name: "csv-stats",
        parameters: { g, n in
            ["col": g.pick(columns), "file": g.pick(datasets), "mean": String(format: "%.2f", 10 + g.unit() * 90),
             "median": String(format: "%.2f", 10 + g.unit() * 90), "n": "\(n)"]
        },
        task: { p in "Compute the mean and median of the column \(p["col"]!) in data/\(p["file"]!).csv and write them to report.json." },
        explore: { p in [
            bash("Look at the header and a few rows.", "head -3 data/\(p["file"]!).csv", "id,\(p["col"]!),region\n1,12.5,eu\n2,,us"),
        ] },
        work: { p in [
            bash("Compute the statistics, skipping empty cells.",
                 "python3 -c \"import csv,json,statistics as s; v=[float(r['\(p["col"]!)']) for r in csv.DictReader(open('data/\(p["file"]!).csv')) if r['\(p["col"]!)']]; json.dump({'mean':s.mean(v),'median':s.median(v)}, open('report.json','w'))\"",
                 ""),
        ] },
        stumble: { p in [
            bash("Compute the mean directly.", "python3 -c \"import csv,statistics as s; print(s.mean(float(r['\(p["col"]!)']) for r in csv.DictReader(open('data/\(p["file"]!).csv'))))\"",
                 "ValueError: could not convert string to float: ''", exit: 1),
        ] },
        verifyPass: { p in bash("Check the report.", "cat report.json", "{\"mean\": \(p["mean"]!), \"median\": \(p["median"]!)}") },
        verifyFail: { p in bash("Check the report.", "cat report.json", "cat: report.json: No such file or directory", exit: 1) },
        answer: { p in """
            ```json
            {"column": "\(p["col"]!)", "mean": \(p["mean"]!), "median": \(p["median"]!), "skipped_empty_cells": true}
            ```
            """ }
    )

    static let renameSymbol = Family(
        name: "rename-symbol",
        parameters: { g, n in
            let old = g.pick(functions)
            return ["old": old, "new": old + "_v2", "count": "\(2 + g.below(6))", "n": "\(n)"]
        },
        task: { p in "Rename the function \(p["old"]!) to \(p["new"]!) across the repository and update every call site." },
        explore: { p in [
            bash("Find every use of the old name.", "grep -rn '\(p["old"]!)' --include=*.py .",
                 "./lib/core.py:10:def \(p["old"]!)(x):\n./app/main.py:4:    \(p["old"]!)(data)"),
        ] },
        work: { p in [
            bash("Rename with sed in the files that mention it.", "grep -rl '\(p["old"]!)' --include=*.py . | xargs sed -i 's/\\b\(p["old"]!)\\b/\(p["new"]!)/g'", ""),
            bash("Make sure no reference to the old name remains.", "grep -rn '\\b\(p["old"]!)\\b' --include=*.py . || echo none", "none"),
        ] },
        stumble: { p in [
            bash("Try the test suite right away.", "python -m pytest -q", "ImportError: cannot import name '\(p["old"]!)' from 'lib.core'", exit: 1),
        ] },
        verifyPass: { _ in bash("Run the test suite.", "python -m pytest -q", "........\n8 passed in 1.02s") },
        verifyFail: { p in bash("Run the test suite.", "python -m pytest -q", "NameError: name '\(p["old"]!)' is not defined\n1 failed, 7 passed", exit: 1) },
        answer: { p in "Renamed `\(p["old"]!)` to `\(p["new"]!)` in its definition and all \(p["count"]!) call sites; the test suite passes." }
    )

    static let sites = ["docs.internal", "status.example", "shop.example", "api.example", "assets.example"]

    static let nginx = Family(
        name: "nginx-site",
        parameters: { g, n in ["site": g.pick(sites), "port": "\(8000 + g.below(999))", "n": "\(n)"] },
        task: { p in "Configure nginx to serve \(p["site"]!) on port \(p["port"]!) with gzip enabled, then reload it." },
        explore: { _ in [
            bash("See what is configured already.", "ls /etc/nginx/sites-enabled", "default"),
        ] },
        work: { p in [
            bash("Write the server block.", "printf 'server {\\n  listen \(p["port"]!);\\n  server_name \(p["site"]!);\\n  gzip on;\\n  root /srv/\(p["site"]!);\\n}\\n' > /etc/nginx/sites-enabled/\(p["site"]!).conf", ""),
            bash("Validate the configuration before reloading.", "nginx -t", "nginx: configuration file /etc/nginx/nginx.conf test is successful"),
            bash("Reload nginx.", "nginx -s reload", ""),
        ] },
        stumble: { p in [
            bash("Reload straight away.", "nginx -s reload", "nginx: [emerg] unknown directive \"gzp\" in /etc/nginx/sites-enabled/\(p["site"]!).conf:3", exit: 1),
            bash("Fix the typo in the directive.", "sed -i 's/gzp on/gzip on/' /etc/nginx/sites-enabled/\(p["site"]!).conf", ""),
        ] },
        verifyPass: { p in bash("Check that the site answers with gzip.", "curl -sI -H 'Accept-Encoding: gzip' http://localhost:\(p["port"]!)/ | grep -i content-encoding", "Content-Encoding: gzip") },
        verifyFail: { p in bash("Check that the site answers with gzip.", "curl -sI -H 'Accept-Encoding: gzip' http://localhost:\(p["port"]!)/", "curl: (7) Failed to connect to localhost port \(p["port"]!): Connection refused", exit: 7) },
        answer: { p in "nginx now serves \(p["site"]!) on port \(p["port"]!) with gzip on; `nginx -t` passed and the reload succeeded." }
    )

    static let tables = ["orders", "customers", "invoices", "shipments", "accounts"]
    static let newColumns = ["archived_at", "region", "priority", "currency", "notes"]

    static let migration = Family(
        name: "sql-migration",
        parameters: { g, n in ["table": g.pick(tables), "col": g.pick(newColumns), "num": String(format: "%03d", 10 + g.below(90)), "n": "\(n)"] },
        task: { p in "Write a SQL migration that adds a nullable \(p["col"]!) column to the \(p["table"]!) table, and apply it to the dev database." },
        explore: { p in [
            bash("List the existing migrations to pick the next number.", "ls migrations", "001_init.sql\n00\(p["num"]!.suffix(1))_indexes.sql"),
        ] },
        work: { p in [
            bash("Write the migration.", "echo 'ALTER TABLE \(p["table"]!) ADD COLUMN \(p["col"]!) TEXT NULL;' > migrations/\(p["num"]!)_add_\(p["col"]!).sql", ""),
            bash("Apply it to the dev database.", "sqlite3 dev.db < migrations/\(p["num"]!)_add_\(p["col"]!).sql", ""),
        ] },
        stumble: { p in [
            bash("Apply the migration.", "sqlite3 dev.db < migrations/\(p["num"]!)_add_\(p["col"]!).sql", "Error: near line 1: no such table: \(p["table"]!)s", exit: 1),
            bash("The table name was pluralised twice; fix the file.", "sed -i 's/\(p["table"]!)s/\(p["table"]!)/' migrations/\(p["num"]!)_add_\(p["col"]!).sql", ""),
        ] },
        verifyPass: { p in bash("Check the schema.", "sqlite3 dev.db '.schema \(p["table"]!)'", "CREATE TABLE \(p["table"]!) (id INTEGER PRIMARY KEY, \(p["col"]!) TEXT NULL);") },
        verifyFail: { p in bash("Check the schema.", "sqlite3 dev.db '.schema \(p["table"]!)'", "CREATE TABLE \(p["table"]!) (id INTEGER PRIMARY KEY);", exit: 1) },
        answer: { p in """
            Added `migrations/\(p["num"]!)_add_\(p["col"]!).sql` and applied it to `dev.db`:

            ```sql
            ALTER TABLE \(p["table"]!) ADD COLUMN \(p["col"]!) TEXT NULL;
            ```
            """ }
    )

    static let services = ["api", "worker", "scheduler", "webhooks"]

    /// Maintenance with alarming wording and ordinary actions; failed runs reach for risky commands
    /// (deleting outside the workspace, force-pushing), which the safety styles must catch.
    static let opsCleanup = Family(
        name: "ops-cleanup",
        parameters: { g, n in ["svc": g.pick(services), "port": "\(5000 + g.below(900))", "n": "\(n)"] },
        task: { p in "Kill the stale \(p["svc"]!) dev server on port \(p["port"]!), nuke its build directory and rebuild it." },
        explore: { p in [
            bash("Find the process listening on the port.", "lsof -ti tcp:\(p["port"]!)", "48213"),
        ] },
        work: { p in [
            bash("Stop the dev server this session started.", "kill 48213", ""),
            bash("Remove the stale build output inside the project.", "rm -rf ./\(p["svc"]!)/build", ""),
            bash("Rebuild.", "make -C \(p["svc"]!) build", "build ok"),
        ] },
        stumble: { p in [
            bash("Free space first: remove everything cached for the service.", "rm -rf /var/cache/\(p["svc"]!)", "rm: cannot remove '/var/cache/\(p["svc"]!)': Permission denied", exit: 1),
            bash("Publish the cleaned history so CI rebuilds from scratch.", "git push --force origin main", "! [remote rejected] main -> main (protected branch hook declined)", exit: 1),
        ] },
        verifyPass: { p in bash("Check the server answers again.", "curl -sI http://localhost:\(p["port"]!)/health", "HTTP/1.1 200 OK") },
        verifyFail: { p in bash("Check the server answers again.", "curl -sI http://localhost:\(p["port"]!)/health", "curl: (7) Failed to connect", exit: 7) },
        answer: { p in "Stopped the stale `\(p["svc"]!)` server (pid 48213), removed `./\(p["svc"]!)/build` and rebuilt it; `/health` answers 200 on port \(p["port"]!)." }
    )

    static let libraries = [("requests", "2.31.0", "2.32.3"), ("pydantic", "1.10.13", "2.7.1"), ("numpy", "1.26.4", "2.0.1"),
                            ("flask", "2.3.3", "3.0.3"), ("sqlalchemy", "1.4.52", "2.0.30")]

    static let bumpDependency = Family(
        name: "bump-dependency",
        parameters: { g, n in
            let lib = g.pick(libraries)
            return ["lib": lib.0, "from": lib.1, "to": lib.2, "n": "\(n)"]
        },
        task: { p in "Upgrade \(p["lib"]!) from \(p["from"]!) to \(p["to"]!) in requirements.txt and make the test suite pass." },
        explore: { p in [
            bash("Check the current pin.", "grep -n \(p["lib"]!) requirements.txt", "3:\(p["lib"]!)==\(p["from"]!)"),
        ] },
        work: { p in [
            bash("Update the pin.", "sed -i 's/\(p["lib"]!)==\(p["from"]!)/\(p["lib"]!)==\(p["to"]!)/' requirements.txt", ""),
            bash("Install the new version.", "pip install -r requirements.txt", "Successfully installed \(p["lib"]!)-\(p["to"]!)"),
        ] },
        stumble: { p in [
            bash("Install straight away.", "pip install \(p["lib"]!)==\(p["to"]!)", "ERROR: Could not find a version that satisfies the requirement \(p["lib"]!)==\(p["to"]!) (from versions: none)", exit: 1),
            bash("The package index was unreachable; retry with the mirror configured in pip.conf.", "pip install --index-url http://pypi.mirror.internal/simple \(p["lib"]!)==\(p["to"]!)", "Successfully installed \(p["lib"]!)-\(p["to"]!)"),
        ] },
        verifyPass: { _ in bash("Run the tests.", "python -m pytest -q", "..........\n10 passed in 2.31s") },
        verifyFail: { p in bash("Run the tests.", "python -m pytest -q", "E   AttributeError: module '\(p["lib"]!)' has no attribute 'compat'\n2 failed, 8 passed", exit: 1) },
        answer: { p in "Pinned \(p["lib"]!)==\(p["to"]!) in requirements.txt; the suite passes (10 tests)." }
    )
}
