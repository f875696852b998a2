// libFuzzer target: the archive reader (libarchive underneath) with small limits. Whatever it returns
// must be safe to extract: relative paths without "..", links that stay inside. Built by .ci/fuzz.sh.
import Archives
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArchive(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let limits = ArchiveLimits(maxEntries: 256, maxTotalBytes: 16 << 20)
    guard let entries = try? ArchiveReader.entries(data: Data(bytes: data, count: size), limits: limits) else { return 0 }
    if entries.count > limits.maxEntries { fatalError("entry limit not enforced") }
    if entries.reduce(0, { $0 + $1.data.count }) > Int(limits.maxTotalBytes) { fatalError("size limit not enforced") }
    for e in entries {
        if (try? EntryPath.check(e.path)) == nil { fatalError("unsafe path returned: \(e.path)") }
        if let target = e.linkTarget, !EntryPath.linkStaysInside(path: e.path, target: target) { fatalError("escaping link returned: \(e.path)") }
    }
    return 0
}
