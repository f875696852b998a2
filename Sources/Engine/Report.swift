import Foundation
import Skills
import TrainingSets
import Trajectories

/// The build report: one self-contained HTML page (inline CSS and SVG, no external assets) per
/// pipeline at `out/report/<pipeline>/index.html`.
enum Report {
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Horizontal bar chart as inline SVG.
    static func bars(_ title: String, _ items: [(String, Double)], format: (Double) -> String = { String(Int($0)) }) -> String {
        guard !items.isEmpty else { return "" }
        let maxValue = max(items.map { abs($0.1) }.max() ?? 1, 1e-9)
        let row = 22, labelWidth = 230, width = 680, barMax = width - labelWidth - 80
        let hasNegative = items.contains { $0.1 < 0 }
        let zero = hasNegative ? labelWidth + barMax / 2 : labelWidth
        let scale = Double(hasNegative ? barMax / 2 : barMax) / maxValue
        var svg = "<figure><figcaption>\(escape(title))</figcaption><svg role=\"img\" width=\"\(width)\" height=\"\(items.count * row + 8)\" xmlns=\"http://www.w3.org/2000/svg\">"
        for (i, (label, value)) in items.enumerated() {
            let y = i * row + 4
            let w = max(1, Int(abs(value) * scale))
            let x = value < 0 ? zero - w : zero
            svg += "<text x=\"\(labelWidth - 6)\" y=\"\(y + 14)\" text-anchor=\"end\" class=\"l\">\(escape(label))</text>"
            svg += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(w)\" height=\"16\" class=\"\(value < 0 ? "neg" : "bar")\"><title>\(escape(label)): \(escape(format(value)))</title></rect>"
            svg += "<text x=\"\(value < 0 ? zero + 4 : x + w + 4)\" y=\"\(y + 14)\" class=\"v\">\(escape(format(value)))</text>"
        }
        if hasNegative { svg += "<line x1=\"\(zero)\" x2=\"\(zero)\" y1=\"0\" y2=\"\(items.count * row + 8)\" class=\"axis\"/>" }
        return svg + "</svg></figure>"
    }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        guard !rows.isEmpty else { return "<p class=\"muted\">none</p>" }
        return "<table><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"
            + rows.map { "<tr>" + $0.map { "<td>\(escape($0))</td>" }.joined() + "</tr>" }.joined() + "</table>"
    }

    static func html(result r: BuildResult, manifests: [(BuildResult.DatasetResult, Manifest)], skills: [SkillSetBuilder.Entry],
                     timings: [(String, Double)]) -> String {
        var body: [String] = []
        body.append("<h1>skillforge build report — \(escape(r.pipeline))</h1>")
        body.append("<p class=\"muted\">\(escape(r.file)) · \(r.recordsRead) trajectories from \(r.inputFiles) file(s) · \(r.quarantined.count) quarantined · \(String(format: "%.2f", r.seconds)) s · skillforge \(SkillforgeVersion.current)</p>")
        body.append("<h2>Records per stage</h2>")
        var stages: [(String, Double)] = [("read", Double(r.recordsRead + r.quarantined.count)), ("parsed", Double(r.recordsRead))]
        for s in r.prepare { stages.append(("\(s.step) (out)", Double(s.recordsOut))) }
        for d in r.datasets { stages.append(("dataset \(d.name)", Double(d.records))) }
        body.append(bars("records", stages))
        body.append("<h2>Quarantined records</h2>")
        body.append(table(["where", "reason"], r.quarantined.prefix(200).map { [$0.location, $0.reason] }))
        if !r.droppedByImport.isEmpty {
            body.append("<h3>Dropped on purpose by importers</h3>")
            body.append(table(["kind", "count"], r.droppedByImport.keys.sorted().map { [$0, "\(r.droppedByImport[$0]!)"] }))
        }
        body.append("<h2>Preparation</h2>")
        body.append(table(["step", "in", "out", "details"], r.prepare.map { s in
            [s.step, "\(s.recordsIn)", "\(s.recordsOut)", s.counts.keys.sorted().map { "\($0) \(s.counts[$0]!)" }.joined(separator: ", ")]
        }))
        body.append("<h2>Datasets</h2>")
        body.append(table(["dataset", "style", "records", "splits", "bytes"], manifests.map { d, m in
            [d.name, m.style, "\(m.records)", DatasetWriter.orderedKeys(m.splits).map { "\($0) \(m.splits[$0]!.records)" }.joined(separator: ", "),
             "\(m.splits.values.reduce(0) { $0 + $1.bytes })"]
        }))
        for (d, m) in manifests {
            if let levels = m.stats["records_per_level"]?.objectValue {
                body.append(bars("\(d.name): records per constraint level", levels.keys.sorted { Int($0)! < Int($1)! }.map { ("level \($0)", levels[$0]!.doubleValue ?? 0) }))
            }
            if let cats = m.stats["constraints_per_category"]?.objectValue {
                body.append(bars("\(d.name): constraints per category", cats.keys.sorted().map { ($0, cats[$0]!.doubleValue ?? 0) }))
            }
            if let scen = m.stats["scenarios"]?.objectValue {
                let before = m.stats["scenarios_before_balancing"]?.objectValue ?? [:]
                body.append(bars("\(d.name): scenario balance (before balancing → written)", ["Q1", "Q2", "Q3", "Q4"].flatMap { q in
                    (before.isEmpty ? [] : [("\(q) before", before[q]?.doubleValue ?? 0)]) + [("\(q)", scen[q]?.doubleValue ?? 0)]
                }))
            }
        }
        if !skills.isEmpty {
            body.append("<h2>Skills</h2>")
            let scored = skills.filter { $0.pdi != nil }
            body.append(bars("PDI per distilled skill (z(φ_exec) − z(φ_plan) − z(φ_oss))", scored.map { ($0.name, $0.pdi!) }) { String(format: "%+.2f", $0) })
            body.append(table(["skill", "source", "status", "rounds", "pass rate", "φ_exec", "φ_plan", "φ_oss", "reasons"], skills.map { e in
                [e.name, e.source, e.status, "\(e.rounds)", e.passRate.map { String(format: "%.2f", $0) } ?? "–",
                 e.terms.map { String(format: "%.4f", $0.exec) } ?? "–", e.terms.map { String(format: "%.4f", $0.plan) } ?? "–",
                 e.terms.map { String(format: "%.4f", $0.oss) } ?? "–", e.reasons.joined(separator: "; ")]
            }))
            let outcomes = Dictionary(grouping: skills, by: { "\($0.source) \($0.status)" }).mapValues { Double($0.count) }
            body.append(bars("verification outcomes", outcomes.keys.sorted().map { ($0, outcomes[$0]!) }))
        }
        body.append("<h2>Timings</h2>")
        body.append(bars("seconds per stage", timings) { String(format: "%.2f s", $0) })
        body.append("<h3>Reused from earlier builds</h3>")
        body.append(table(["what", "reused", "made now"], [["ingest cache entries (input files or chunks)", "\(r.cache.hits)", "\(r.cache.misses)"]]
            + r.datasets.flatMap { d -> [[String]] in
                var rows: [[String]] = []
                if let reused = d.unitsReused, let made = d.unitsMade {
                    rows.append(["\(d.name): records of units of work (Conifer: task families; trajectory SFT and CS-Chain: trajectories)", "\(reused)", "\(made)"])
                }
                if d.partsKept > 0 { rows.append(["\(d.name): part files (kept unchanged, written)", "\(d.partsKept)", "\(d.partsWritten)"]) }
                return rows
            }))
        let css = """
            body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222}
            h1{font-size:1.5em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
            table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
            th{background:#f4f4f4}.muted{color:#666}figure{margin:.8em 0}figcaption{font-weight:600;margin-bottom:.3em}
            .bar{fill:#3b7dd8}.neg{fill:#d8643b}.l,.v{font-size:12px;fill:#333}.axis{stroke:#888}
            """
        return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>skillforge — \(escape(r.pipeline))</title><style>\(css)</style></head><body>\n"
            + body.joined(separator: "\n") + "\n</body></html>\n"
    }
}
