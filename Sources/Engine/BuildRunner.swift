import Foundation
import Pipelines
import Prepare
import Skills
import Styles
import TrainingSets
import Trajectories

/// What one pipeline build produced.
public struct BuildResult: Sendable, Codable {
    public struct DatasetResult: Sendable, Codable {
        public var name: String
        public var path: String
        public var records: Int
        public var splits: [String: Int]
        public var skipped: [String: Int]
        /// Units of work (Conifer: task families) whose records came from the previous build, and
        /// those made in this one; nil for styles that make everything every time.
        public var unitsReused: Int?
        public var unitsMade: Int?
        /// Part files linked unchanged from the previous build, and part files written.
        public var partsKept: Int
        public var partsWritten: Int

        enum CodingKeys: String, CodingKey {
            case name, path, records, splits, skipped, unitsReused = "units_reused", unitsMade = "units_made",
                 partsKept = "parts_kept", partsWritten = "parts_written"
        }
    }

    public var pipeline: String
    public var file: String
    public var inputFiles: Int
    public var recordsRead: Int
    public var quarantined: [QuarantineEntry]
    /// UTF-8 repairs (lines whose invalid bytes were replaced).
    public var repairedLines: Int
    public var outcomesJoined: Int
    /// What importers of foreign formats left out on purpose (images, thinking, noise events), by kind.
    public var droppedByImport: [String: Int]
    /// The skills output's counts (distilled/curated × verified/rejected), when the pipeline has one.
    public var skills: [String: JSONValue]?
    /// Catalog versions of the skills this run packed.
    public var skillVersions: [String: Int]?
    public var prepare: [StepStats]
    public var datasets: [DatasetResult]
    /// Ingest cache entries (one per input file, or one per chunk of a large native file) used (hits)
    /// or computed (misses).
    public var cache: CacheStats
    /// True when nothing had changed since the last build, which was reused whole (see BuildMemo).
    public var upToDate: Bool?

    public struct CacheStats: Sendable, Codable {
        public var hits: Int
        public var misses: Int
    }
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case pipeline, file, inputFiles = "input_files", recordsRead = "records_read", quarantined,
             repairedLines = "repaired_lines", outcomesJoined = "outcomes_joined", droppedByImport = "dropped_by_import", skills, skillVersions = "skill_versions",
             prepare, datasets, cache, upToDate = "up_to_date", seconds
    }
}

/// Runs validated pipelines: reads inputs streaming, prepares, builds every output into a staging
/// directory and moves finished outputs into `out/` atomically. A failed or killed build leaves the
/// previous outputs as they were.
public final class BuildRunner {
    public struct Options: Sendable {
        public var outDirectory: URL
        public var progress: ProgressHandler?
        /// Lines per parallel batch.
        public var batchLines: Int
        /// Reuse cached ingest results (off: `--no-cache`).
        public var useCache: Bool
        /// Set from outside (SIGINT, SIGTERM) to stop the build at the next safe point.
        public var cancellation: Cancellation?
        /// Native input files larger than this are cached in chunks of about this size, so that appending
        /// to a large file redoes only its last chunks.
        public var chunkBytes: Int

        public init(outDirectory: URL, progress: ProgressHandler? = nil, batchLines: Int = 2048, useCache: Bool = true,
                    cancellation: Cancellation? = nil, chunkBytes: Int = BuildRunner.defaultChunkBytes) {
            self.outDirectory = outDirectory
            self.progress = progress
            self.batchLines = batchLines
            self.useCache = useCache
            self.cancellation = cancellation
            self.chunkBytes = max(1, chunkBytes)
        }
    }

    public let options: Options
    /// The chunk size of large native input files in the ingest cache (64 MiB).
    public static let defaultChunkBytes = 64 << 20

    public init(options: Options) { self.options = options }

    /// Problems in the files a pipeline names besides its inputs (rule and code files), so that
    /// `validate` and `build` report them before any work starts.
    public static func resourceProblems(_ spec: PipelineSpec) -> [String] {
        let files = StyleFiles(baseDirectory: spec.baseDirectory)
        return spec.outputs.flatMap { o -> [String] in
            do { return try OutputStyles.style(o.style).resourceProblems(o, context: files) } catch { return ["\(error)"] }
        }
    }

    /// Removes ingest entries and output styles' record memos not used for `keepDays` days.
    public static func collectCacheGarbage(outDirectory: URL, keepDays: Double) throws -> Int {
        try IngestCache.collectGarbage(outDirectory: outDirectory, keepDays: keepDays)
            + OutputMemo.collectGarbage(root: recordsMemoRoot(outDirectory), keepDays: keepDays)
    }

    /// Where output styles keep the records of units of work (Conifer: task families) between builds,
    /// and skills outputs what they derived from single runs.
    static func recordsMemoRoot(_ out: URL) -> URL { out.appendingPathComponent(".cache/records") }

    public struct PlanLine: Sendable {
        public var file: String
        public var format: String
        /// Cache entries the file's ingest is kept in (1, or its chunks when it is a large native file), and how many are there.
        public var entries: Int
        public var entriesCached: Int
        /// Every cache entry of the file is there: it will not be read.
        public var cached: Bool { entriesCached == entries }
    }

    /// Each input file, its format and whether its ingest is in the cache (nothing is written).
    public static func plan(_ spec: PipelineSpec, outDirectory: URL, chunkBytes: Int = BuildRunner.defaultChunkBytes) throws -> [PlanLine] {
        let cachedSteps = cachedAndRest(spec).cached
        let cache = IngestCache(outDirectory: outDirectory)
        var resolved: [ResolvedInput] = []
        var seen = Set<String>()
        for input in spec.inputs {
            var outcomesSHA: String?
            if let o = input.outcomes {
                outcomesSHA = try ContentHash.sha256(fileAt: o.hasPrefix("/") ? o : (spec.baseDirectory as NSString).appendingPathComponent(o)).hex
            }
            for path in Glob.expand(input.path, base: spec.baseDirectory) where seen.insert(path).inserted {
                let format = input.format == "auto" ? (try Importers.detect(path: path, display: displayPath(path)) ?? "unknown") : input.format
                resolved.append(ResolvedInput(path: path, display: displayPath(path), format: format, outcomes: nil, outcomesSHA: outcomesSHA,
                                              bytes: 0, importOptions: ImportOptions(maxObservationBytes: input.maxObservationBytes,
                                                                                    keepThinking: input.keepThinking, maxRecordBytes: input.maxRecordBytes)))
            }
        }
        // Hashes the builds remembered are used (files with unchanged stamps are not read); nothing is saved.
        var memory = InputHashes(out: outDirectory)
        let sums = try memory.hash(resolved, chunkBytes: chunkBytes)
        return zip(resolved, sums).map { input, sum in
            let segments = IngestCache.segments(sum, input: input, steps: cachedSteps)
            let there = segments.filter {
                let (jsonl, meta) = cache.paths($0.key)
                return FileManager.default.fileExists(atPath: jsonl.path) && FileManager.default.fileExists(atPath: meta.path)
            }.count
            return PlanLine(file: input.display, format: input.format, entries: segments.count, entriesCached: there)
        }
    }

    /// Refuses pipelines that would write the same output directory.
    public static func checkConflicts(_ specs: [PipelineSpec]) throws {
        var owner: [String: String] = [:]
        for spec in specs {
            for o in spec.outputs {
                if let other = owner[o.name] {
                    throw EngineError.conflictingOutputs(
                        "output '\(o.name)' is defined by both \(other) and \(spec.file); both would write out/datasets/\(o.name) — rename one")
                }
                owner[o.name] = spec.file
            }
        }
    }

    /// Display form of a path: relative to the current directory when inside it, so that manifests
    /// are the same on every clone.
    static func displayPath(_ path: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        let std = (path as NSString).standardizingPath
        if std.hasPrefix(cwd + "/") { return String(std.dropFirst(cwd.count + 1)) }
        return std
    }

    static func hash<T: Encodable>(_ value: T) -> String {
        ContentHash.sha256((try? JSONCoding.encoder.encode(value)) ?? Data())
    }

    // MARK: Steps from the spec

    static func makeSteps(_ specs: [PrepareStepSpec]) throws -> [PrepareStep] {
        try specs.map { spec in
            switch spec {
            case .redact(let r):
                return .redact(SecretRedactor(secrets: r.secrets, emails: r.emails, custom: try customRules(r)))
            case .filter(let f):
                return .filter(TrajectoryFilter(
                    statuses: f.outcome.map { Set($0.compactMap(Outcome.Status.init(rawValue:))) },
                    minReward: f.minReward, maxReward: f.maxReward, minSteps: f.minSteps, maxSteps: f.maxSteps,
                    tools: f.tools.map(Set.init), taskRegex: f.taskRegex))
            case .dedupe(let d):
                let key: Deduplicator.Key = d.by == .task ? .task : .content
                let method: Deduplicator.Method = d.method == .exact
                    ? .exact : .minhash(threshold: d.threshold, permutations: d.permutations, shingle: d.shingle)
                return .dedupe(Deduplicator(key: key, method: method))
            }
        }
    }

    /// Shared steps with redaction first unless the pipeline configures redaction itself.
    static func sharedSteps(_ spec: PipelineSpec) -> [PrepareStepSpec] { spec.sharedPrepare }

    /// The shared steps split where the ingest cache stops: the per-record steps before the first
    /// dedupe are cached per input file; the rest runs every build.
    static func cachedAndRest(_ spec: PipelineSpec) -> (cached: [PrepareStepSpec], rest: [PrepareStepSpec]) {
        let shared = sharedSteps(spec)
        let n = shared.firstIndex { if case .dedupe = $0 { return true } else { return false } } ?? shared.count
        return (Array(shared.prefix(n)), Array(shared.dropFirst(n)))
    }

    /// A fingerprinting copy of the first step after the cached ones when it is a dedupe: ingest computes
    /// its fingerprints and keeps them with the cache entries, so a rebuild fingerprints only new records.
    static func fingerprinter(_ rest: [PrepareStepSpec]) -> Deduplicator? {
        guard let first = rest.first, case .dedupe(let d)? = try? makeSteps([first]).first else { return nil }
        return d
    }

    // MARK: Build

    struct ResolvedInput {
        var path: String
        var display: String
        var format: String
        var outcomes: OutcomeTable?
        /// sha256 of the outcome side file (part of the ingest cache key).
        var outcomesSHA: String?
        var bytes: Int64
        var importOptions: ImportOptions
    }

    struct OutputState {
        var spec: OutputSpec
        var chain: PrepareChain
        var builder: any DatasetBuilder
        /// nil for the skills style, which writes bundles instead of a dataset.
        var writer: DatasetWriter?
        var configHash: String
        /// Time spent building this output (fed while streaming, then finished), for the report.
        var seconds: Double = 0
    }

    /// Every input file of the pipeline in order (inputs as listed, each glob sorted), with its format
    /// detected and its outcome side file loaded.
    static func resolveInputs(_ spec: PipelineSpec, quarantine: inout [QuarantineEntry]) throws -> [ResolvedInput] {
        var inputs: [ResolvedInput] = []
        var seen = Set<String>()
        for input in spec.inputs {
            var table: OutcomeTable?
            var tableSHA: String?
            if let o = input.outcomes {
                let full = o.hasPrefix("/") ? o : (spec.baseDirectory as NSString).appendingPathComponent(o)
                let t = try OutcomeTable(path: full, displayPath: Self.displayPath(full))
                quarantine += t.quarantined
                table = t
                tableSHA = try ContentHash.sha256(fileAt: full).hex
            }
            let found = Glob.expandChecked(input.path, base: spec.baseDirectory)
            if let bad = found.unusable.first {
                throw EngineError.inputUnreadable(file: Self.displayPath(bad.path), reason: bad.reason)
            }
            for path in found.files where seen.insert(path).inserted {
                if let t = table, (path as NSString).standardizingPath == (t.file as NSString).standardizingPath { continue }
                var format = input.format
                if format == "auto" {
                    let detected: String?
                    do { detected = try Importers.detect(path: path, display: Self.displayPath(path)) } catch {
                        throw EngineError.inputUnreadable(file: Self.displayPath(path), reason: "\(error)")
                    }
                    guard let detected else {
                        let seen = (try? FormatDetector.head(path: path)).map(FormatDetector.describe(head:))
                        throw EngineError.undetectedFormat(file: Self.displayPath(path), tried: Importers.all.map(\.name), seen: seen)
                    }
                    format = detected
                }
                let size = fileSize(atPath: path) ?? 0
                inputs.append(ResolvedInput(path: path, display: Self.displayPath(path), format: format,
                                            outcomes: table, outcomesSHA: tableSHA, bytes: size,
                                            importOptions: ImportOptions(maxObservationBytes: input.maxObservationBytes,
                                                                         keepThinking: input.keepThinking, maxRecordBytes: input.maxRecordBytes)))
            }
        }
        return inputs
    }

    /// Builds `spec` into the output directory. On any failure nothing is installed and the previous
    /// outputs and catalog stay as they were; write failures (disk full, read-only) are explained.
    public func run(_ spec: PipelineSpec) throws -> BuildResult {
        let spec = try Self.loadRedactionRules(spec)
        do {
            return try build(spec)
        } catch {
            throw EngineError.explainingWrite(error, out: options.outDirectory)
        }
    }

    /// Throws `EngineError.interrupted` once cancellation was requested.
    func checkCancelled() throws {
        if options.cancellation?.isCancelled == true { throw EngineError.interrupted }
    }

    private func build(_ spec: PipelineSpec) throws -> BuildResult {
        let started = Date()
        let fm = FileManager.default
        let out = options.outDirectory
        let lock = try BuildLock(directory: out)
        defer { withExtendedLifetime(lock) {} }
        let stagingRoot = out.appendingPathComponent(".staging/\(spec.name)")
        try fm.createDirectory(at: stagingRoot, withIntermediateDirectories: true)
        Self.removeStaleStaging(in: stagingRoot)
        let staging = stagingRoot.appendingPathComponent("\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try fm.createDirectory(at: staging, withIntermediateDirectories: true)
        defer {
            try? fm.removeItem(at: staging)
            // Leave no empty staging folders behind (rmdir fails harmlessly while another build uses them).
            rmdir(stagingRoot.path)
            rmdir(stagingRoot.deletingLastPathComponent().path)
        }

        var quarantine: [QuarantineEntry] = []
        let inputs = try Self.resolveInputs(spec, quarantine: &quarantine)
        let totalBytes = inputs.reduce(Int64(0)) { $0 + $1.bytes }
        options.progress?(.pipelineStarted(name: spec.name, files: inputs.count, bytes: totalBytes))

        // Preparation and outputs.
        let sharedSpec = Self.sharedSteps(spec)
        let (prefixSpec, suffixSpec) = Self.cachedAndRest(spec)

        // Nothing changed since the last build and its outputs are untouched: reuse it whole.
        var hashes: [String: InputDigest] = [:]
        var memoKey: String?
        if options.useCache {
            var keys: [(display: String, key: String)] = []
            try checkCancelled()
            var memory = InputHashes(out: out)
            let sums = try memory.hash(inputs, chunkBytes: options.chunkBytes)
            memory.save()
            try checkCancelled()
            for (input, h) in zip(inputs, sums) {
                hashes[input.path] = h
                keys.append((input.display, IngestCache.key(fileSHA: h.sha256, input: input, steps: prefixSpec)))
            }
            memoKey = BuildMemo.key(spec, inputKeys: keys)
            if let memo = BuildMemo.upToDate(out: out, spec: spec, key: memoKey!) {
                var r = memo.result
                r.upToDate = true
                r.cache = .init(hits: inputs.count, misses: 0)
                if spec.package.catalog {
                    options.progress?(.stageStarted("catalog"))
                    do {
                        r.skillVersions = try Packaging.recordInstalled(catalogPath: out.appendingPathComponent("catalog.sqlite"), out: out,
                                                                        spec: spec, result: r, started: started)
                    } catch {
                        throw EngineError.io(Self.catalogFailure(out, error))
                    }
                }
                r.seconds = Date().timeIntervalSince(started)
                options.progress?(.pipelineFinished(name: spec.name))
                return r
            }
        }
        let prefix = PrepareChain(steps: try Self.makeSteps(prefixSpec))
        let suffix = PrepareChain(steps: try Self.makeSteps(suffixSpec))
        let cache = IngestCache(outDirectory: out)
        var cacheHits = 0, cacheMisses = 0
        var outputs: [OutputState] = []
        // The record indexes the previous build left for the dataset styles that reuse its records, read side
        // by side (a style's other kept work, such as skills' per-run features, it loads itself).
        let styles = try spec.outputs.map { try OutputStyles.style($0.style) }
        let reusing = options.useCache ? zip(spec.outputs, styles).filter { $0.1.reusesRecords && $0.1.declaration.product == .dataset }.map(\.0) : []
        let loaded = Parallel.map(reusing, minChunk: 1) { o -> OutputMemo? in
            OutputMemo(indexURL: Self.recordsMemoRoot(out).appendingPathComponent("\(o.name).index"),
                       datasetDirectory: out.appendingPathComponent("datasets/\(o.name)"))
        }
        let memos = Dictionary(uniqueKeysWithValues: zip(reusing.map(\.name), loaded))
        let files = StyleFiles(baseDirectory: spec.baseDirectory)
        let shared = SharedWork()
        for (o, style) in zip(spec.outputs, styles) {
            var writer: DatasetWriter?
            var configHash = ""
            let memo = memos[o.name] ?? nil
            if style.declaration.product == .dataset {
                struct OutputConfig: Encodable {
                    var seed: UInt64
                    var inputs: [InputSpec]
                    var prepare: [PrepareStepSpec]
                    var output: OutputSpec
                }
                configHash = Self.hash(OutputConfig(seed: spec.seed, inputs: spec.inputs, prepare: sharedSpec, output: o))
                let desc = DatasetWriter.Description(
                    name: o.name, style: o.style.rawValue, format: o.format, license: o.license, pipeline: spec.name,
                    configHash: configHash, toolVersion: SkillforgeVersion.current, seed: spec.seed, summary: style.summary(o))
                // Styles that reuse find the records of unchanged units of work (Conifer: task families; trajectory
                // SFT and CS-Chain: trajectories) in the output it is about to replace; parts holding the same
                // records as a part of that output are linked, not written.
                writer = try DatasetWriter(directory: staging.appendingPathComponent("datasets/\(o.name)"), description: desc,
                                           partBytes: spec.package.partBytes, previous: memo)
            }
            let context = StyleContext(files: files, seed: spec.seed, writer: writer, memo: memo, cacheDirectory: Self.recordsMemoRoot(out),
                                       useCache: options.useCache, staging: staging, toolVersion: SkillforgeVersion.current,
                                       shared: shared)
            let builder: any DatasetBuilder
            do { builder = try style.makeBuilder(o, context: context) } catch let e as StyleError { throw EngineError.configuration(e.description) }
            outputs.append(OutputState(spec: o, chain: PrepareChain(steps: try Self.makeSteps(o.prepare)),
                                       builder: builder, writer: writer, configHash: configHash))
        }

        // Stream every input.
        var recordsRead = 0
        var repaired = 0
        var joined = 0
        var bytesDone: Int64 = 0
        var droppedByImport: [String: Int] = [:]
        var inputInfos: [Manifest.InputInfo] = []
        try ingest(inputs, prefix: prefix, prefixSpec: prefixSpec, cache: cache, known: hashes,
                   fingerprinter: Self.fingerprinter(suffixSpec),
                   started: { options.progress?(.fileStarted(path: $0.display, bytes: $0.bytes)) },
                   done: { input, r in
                       cacheHits += r.entriesHit
                       cacheMisses += r.entriesMissed
                       quarantine += r.counts.quarantined
                       recordsRead += r.counts.records
                       repaired += r.counts.repaired
                       joined += r.counts.joined
                       for (kind, n) in r.counts.dropped { droppedByImport[kind, default: 0] += n }
                       bytesDone += input.bytes
                       options.progress?(.advanced(bytesRead: bytesDone, bytesTotal: totalBytes, records: recordsRead))
                       inputInfos.append(.init(file: input.display, format: input.format, sha256: r.sha256, bytes: r.bytes,
                                               records: r.counts.records, quarantined: r.counts.quarantined.count))
                   }) { batch in
            let prepared = suffix.process(batch)
            for i in outputs.indices { try feed(prepared, into: &outputs[i]) }
        }

        let streamed = Date()
        let fed = outputs.reduce(0) { $0 + $1.seconds }
        // Too much bad input fails the build before anything is installed.
        let bad = inputInfos.reduce(0) { $0 + $1.quarantined }
        let total = recordsRead + bad
        if total > 0, Double(bad) / Double(total) > spec.maxBadFraction {
            throw EngineError.tooManyBadRecords(pipeline: spec.name, bad: bad, total: total, limit: spec.maxBadFraction)
        }

        // Finish every dataset in staging, then install them.
        try checkCancelled()
        options.progress?(.stageStarted("write"))
        // Ingest redacted its own entries; this covers the input-resolution ones and cache entries written
        // by a build that did not yet redact at ingest (cheap: quarantine lists are short).
        quarantine = Self.redacted(quarantine)
        var results: [BuildResult.DatasetResult] = []
        var manifests: [(BuildResult.DatasetResult, Manifest)] = []
        var skillStats: [String: JSONValue]?
        var skillsOutput: SkillBundlesOutput?
        // The outputs are independent (own builder, own staging directory): each is finished on its own
        // thread (one that waits for the disk leaves the cores to the others), and their results are then
        // taken in pipeline order.
        try checkCancelled()
        let finishedOutputs = FinishSlots(count: outputs.count)
        let progress = options.progress
        let sharedStats = prefix.stats + suffix.stats
        let inputList = inputInfos
        do {
            nonisolated(unsafe) let running = outputs
            let threads = running.indices.map { k in Prefetch { () -> Void in
                let o = running[k]
                let t = Date()
                let outcome = Result { () -> ([String: JSONValue], Manifest?) in
                    let stats = (sharedStats + o.chain.stats).map { s -> JSONValue in
                        (try? JSONCoding.decoder.decode(JSONValue.self, from: JSONCoding.encoder.encode(s))) ?? .null
                    }
                    let styleStats = try o.builder.finish()
                    return (styleStats, try o.writer?.finish(inputs: inputList, prepare: stats, stats: styleStats))
                }
                let done = finishedOutputs.put(k, outcome, seconds: Date().timeIntervalSince(t))
                progress?(.stageAdvanced(stage: "write", item: o.spec.name, done: done, total: running.count))
            } }
            for t in threads { t.take() }
        }
        for (k, o) in outputs.enumerated() {
            let (outcome, seconds) = finishedOutputs.get(k)
            outputs[k].seconds += seconds
            let (styleStats, manifest) = try outcome.get()
            guard let manifest else {
                skillStats = styleStats
                skillsOutput = o.builder as? SkillBundlesOutput
                continue
            }
            let reusing = o.builder as? any ReusingBuilder
            let entry = BuildResult.DatasetResult(name: o.spec.name, path: Self.displayPath(out.appendingPathComponent("datasets/\(o.spec.name)").path),
                                                  records: manifest.records, splits: manifest.splits.mapValues(\.records),
                                                  skipped: manifest.skipped, unitsReused: reusing?.unitsReused, unitsMade: reusing?.unitsMade,
                                                  partsKept: o.writer?.partsLinked ?? 0, partsWritten: o.writer?.partsWritten ?? 0)
            results.append(entry)
            manifests.append((entry, manifest))
        }
        let result = BuildResult(pipeline: spec.name, file: spec.file, inputFiles: inputs.count, recordsRead: recordsRead,
                                 quarantined: quarantine, repairedLines: repaired, outcomesJoined: joined,
                                 droppedByImport: droppedByImport, skills: skillStats,
                                 prepare: prefix.stats + suffix.stats, datasets: results,
                                 cache: .init(hits: cacheHits, misses: cacheMisses),
                                 seconds: Date().timeIntervalSince(started))
        let report = staging.appendingPathComponent("report")
        try fm.createDirectory(at: report, withIntermediateDirectories: true)
        var summary = try JSONCoding.prettyEncoder.encode(result)
        summary.append(0x0A)
        try summary.write(to: report.appendingPathComponent("summary.json"))
        var qdata = Data()
        for q in quarantine {
            qdata.append(try JSONCoding.line(q))
            qdata.append(0x0A)
        }
        try qdata.write(to: report.appendingPathComponent("quarantine.jsonl"))
        let finished = Date()

        // Verified skills are packed while still in staging, so archives and bundles switch in together.
        var packed: [Packaging.Packed] = []
        try checkCancelled()
        if let skillsOutput, !spec.package.skills.isEmpty {
            options.progress?(.stageStarted("pack"))
            packed = try Packaging.pack(entries: skillsOutput.builder.entries, skillsDirectory: skillsOutput.directory,
                                        curatedDirectory: skillsOutput.builder.curatedDirectory, formats: spec.package.skills,
                                        archivesDirectory: staging.appendingPathComponent("archives"))
        }
        // Reading is shown without the time spent feeding the outputs; each output's own time (fed while
        // streaming, then finished) follows; the outputs finish side by side, so the wall time of that
        // stage is shown too, and is less than their sum.
        let html = Report.html(result: result, manifests: manifests, skills: skillsOutput?.builder.entries ?? [],
                               timings: [("read and prepare", max(0, streamed.timeIntervalSince(started) - fed))]
                                   + outputs.map { ("output \($0.spec.name) (\($0.spec.style.rawValue))", $0.seconds) }
                                   + [("finishing the outputs (wall)", finished.timeIntervalSince(streamed)),
                                      ("pack skills", Date().timeIntervalSince(finished))])
        try Data(html.utf8).write(to: report.appendingPathComponent("index.html"))
        // The last point at which an interrupt stops the build; from here the outputs are switched in.
        try checkCancelled()
        for o in outputs {
            if let writer = o.writer {
                let memo = (o.builder as? any ReusingBuilder)?.memo
                memo?.discard()  // it points into the output being replaced
                try AtomicInstall.install(writer.directory, at: out.appendingPathComponent("datasets/\(o.spec.name)"))
                if let memo, let manifest = manifests.first(where: { $0.0.name == o.spec.name })?.1 { memo.save(manifest: manifest) }
            } else {
                try AtomicInstall.install(staging.appendingPathComponent("skills"), at: out.appendingPathComponent("skills"))
                if fm.fileExists(atPath: staging.appendingPathComponent("archives").path) {
                    try AtomicInstall.install(staging.appendingPathComponent("archives"), at: out.appendingPathComponent("archives"))
                }
            }
        }
        try AtomicInstall.install(report, at: out.appendingPathComponent("report/\(spec.name)"))
        var final = result
        if spec.package.catalog {
            options.progress?(.stageStarted("catalog"))
            do {
                final.skillVersions = try Packaging.record(catalogPath: out.appendingPathComponent("catalog.sqlite"), spec: spec, result: result,
                                                           started: started, inputs: inputInfos, datasets: manifests, packed: packed)
            } catch {
                throw EngineError.io(Self.catalogFailure(out, error))
            }
        }
        if let memoKey { BuildMemo.save(out: out, spec: spec, key: memoKey, result: final) }
        skillsOutput = nil
        Self.releaseInBackground(&outputs)
        options.progress?(.pipelineFinished(name: spec.name))
        return final
    }

    /// Empties `value` and lets another thread free what it held. The outputs hold the whole corpus's
    /// trajectories (millions of small objects): freeing them took a noticeable share of a nightly
    /// rebuild, and a process that exits right after the build need not wait for it.
    static func releaseInBackground<T>(_ value: inout [T]) {
        var taken: [T] = []
        swap(&taken, &value)
        nonisolated(unsafe) let moved = taken
        DispatchQueue.global(qos: .utility).async { withExtendedLifetime(moved) {} }
    }

    /// Results of outputs finished on several threads.
    final class FinishSlots: @unchecked Sendable {
        private let lock = NSLock()
        private var slots: [(Result<([String: JSONValue], Manifest?), any Error>, Double)?]
        private var done = 0
        init(count: Int) { slots = Array(repeating: nil, count: count) }
        /// Stores one output's outcome; returns how many are done.
        func put(_ k: Int, _ r: Result<([String: JSONValue], Manifest?), any Error>, seconds: Double) -> Int {
            lock.lock()
            defer { lock.unlock() }
            slots[k] = (r, seconds)
            done += 1
            return done
        }
        func get(_ k: Int) -> (Result<([String: JSONValue], Manifest?), any Error>, Double) {
            lock.lock()
            defer { lock.unlock() }
            return slots[k]!
        }
    }

    static func catalogFailure(_ out: URL, _ error: any Error) -> String {
        "the outputs are in place, but recording the run in \(out.appendingPathComponent("catalog.sqlite").path) failed: \(error). "
            + "If the catalog is damaged, 'skillforge catalog rebuild' moves it aside and rebuilds it from the outputs."
    }

    private func feed(_ records: [Trajectory], into o: inout OutputState) throws {
        let t = Date()
        try o.builder.add(o.chain.process(records))
        o.seconds += Date().timeIntervalSince(t)
    }

    /// Quarantine entries with secrets (and e-mail addresses) redacted from their reasons and excerpts,
    /// whatever the pipeline's redact step says: they are diagnostics, and they are written to out/.
    static func redacted(_ entries: [QuarantineEntry]) -> [QuarantineEntry] {
        let redactor = SecretRedactor(secrets: true, emails: true)
        return entries.map { q in
            var q = q
            var c: [String: Int] = [:]
            q.file = redactor.redact(q.file, counts: &c)
            q.reason = redactor.redact(q.reason, counts: &c)
            q.excerpt = q.excerpt.map { redactor.redact($0, counts: &c) }
            return q
        }
    }

    /// Removes staging directories (`<pid>-<random>`) left by builds whose process is gone.
    static func removeStaleStaging(in root: URL) {
        let fm = FileManager.default
        guard let entries = try? fm.contentsOfDirectory(atPath: root.path) else { return }
        for e in entries {
            if let pidText = e.split(separator: "-").first, let pid = Int32(pidText), pid != getpid(), kill(pid, 0) == 0 { continue }
            try? fm.removeItem(at: root.appendingPathComponent(e))
        }
    }
}
