import CPlatform
import Foundation

/// Moves a finished directory into place so that readers see either the old complete version or the
/// new complete one, never a mixture: an atomic exchange where the filesystem supports it, otherwise
/// two renames with the old version kept aside until the new one is in place.
enum AtomicInstall {
    static func install(_ staged: URL, at destination: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !fm.fileExists(atPath: destination.path) {
            try rename(staged, destination)
            return
        }
        if skillforge_rename_exchange(staged.path, destination.path) == 0 {
            // `staged` now holds the previous version.
            try? fm.removeItem(at: staged)
            return
        }
        let aside = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).old-\(getpid())")
        try? fm.removeItem(at: aside)
        try rename(destination, aside)
        do {
            try rename(staged, destination)
        } catch {
            try? rename(aside, destination)
            throw error
        }
        try? fm.removeItem(at: aside)
    }

    static func rename(_ from: URL, _ to: URL) throws {
        if Foundation.rename(from.path, to.path) != 0 {
            throw EngineError.io("cannot move \(from.path) to \(to.path): \(String(cString: strerror(errno)))")
        }
    }
}

public enum EngineError: Error, CustomStringConvertible, Sendable {
    case io(String)
    case tooManyBadRecords(pipeline: String, bad: Int, total: Int, limit: Double)
    case undetectedFormat(file: String, tried: [String], seen: String?)
    case conflictingOutputs(String)
    case inputUnreadable(file: String, reason: String)
    /// A file the pipeline names besides its inputs (rules, codes) is wrong.
    case configuration(String)
    /// Writing under the output directory failed (no space, quota, read-only, permissions).
    case outputNotWritten(out: String, file: String?, reason: String)
    /// SIGINT or SIGTERM stopped the build before anything was installed.
    case interrupted

    /// `error` as an `outputNotWritten` when it is a file-system write failure, else unchanged.
    public static func explainingWrite(_ error: any Error, out: URL) -> any Error {
        if error is EngineError { return error }
        var e: NSError? = error as NSError
        var file: String?
        while let n = e {
            file = file ?? (n.userInfo[NSFilePathErrorKey] as? String) ?? (n.userInfo[NSURLErrorKey] as? URL)?.path
            let reason: String? = switch (n.domain, n.code) {
            case (NSPOSIXErrorDomain, Int(ENOSPC)), (NSCocoaErrorDomain, NSFileWriteOutOfSpaceError): "no space left on the device"
            case (NSPOSIXErrorDomain, Int(EDQUOT)): "the disk quota is exceeded"
            case (NSPOSIXErrorDomain, Int(EFBIG)): "a file is larger than this process may write (ulimit -f)"
            case (NSPOSIXErrorDomain, Int(EROFS)), (NSCocoaErrorDomain, NSFileWriteVolumeReadOnlyError): "the file system is read-only"
            case (NSPOSIXErrorDomain, Int(EACCES)), (NSCocoaErrorDomain, NSFileWriteNoPermissionError): "permission denied"
            default: nil
            }
            if let reason { return EngineError.outputNotWritten(out: out.path, file: file, reason: reason) }
            e = n.userInfo[NSUnderlyingErrorKey] as? NSError
        }
        return error
    }

    public var description: String {
        switch self {
        case .io(let m): return m
        case .tooManyBadRecords(let p, let bad, let total, let limit):
            let pct = total == 0 ? 0 : Double(bad) * 100 / Double(total)
            return "\(p): \(bad) of \(total) input records were quarantined (\(String(format: "%.1f", pct))%), above max_bad_fraction \(limit); previous outputs were left untouched. See the quarantine list above, fix the inputs or raise max_bad_fraction in the pipeline."
        case .undetectedFormat(let f, let tried, let seen):
            return "\(f): cannot detect the trajectory format\(seen.map { ": it holds \($0)" } ?? "") (tried: \(tried.joined(separator: ", "))); set 'format:' on the input or convert the file with 'skillforge import'"
        case .conflictingOutputs(let m): return m
        case .inputUnreadable(let f, let r): return "\(f): cannot read input: \(r)"
        case .configuration(let m): return m
        case .outputNotWritten(let out, let file, let reason):
            return "cannot write the outputs under \(out): \(reason)\(file.map { " (writing \($0))" } ?? ""). Nothing was installed: "
                + "the previous outputs and catalog are unchanged. Free space (or fix the permissions) and run the build again; "
                + "inputs already read are reused from the cache."
        case .interrupted:
            return "interrupted: nothing was installed, the previous outputs and catalog are unchanged. "
                + "Inputs read so far are in the cache (unless --no-cache); run the same build again to resume."
        }
    }
}
