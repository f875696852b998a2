// libFuzzer target: format detection and every importer. The first byte picks the format (auto or a
// named one) and the file extension; the rest is the file. Errors are fine, crashes and hangs are not.
// Built by .ci/fuzz.sh.
import Foundation
import Trajectories

let formats = ["auto"] + Importers.names
let extensions = ["json", "jsonl", "yaml", "traj"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImporters(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let selector = Int(data[0])
    let format = formats[selector % formats.count]
    let name = "fuzz." + extensions[(selector / formats.count) % extensions.count]
    let body = Data(bytes: data + 1, count: size - 1)
    if let r = try? Importers.importData(body, name: name, format: format,
                                         options: ImportOptions(maxObservationBytes: 4096, keepThinking: selector & 1 == 1)) {
        for t in r.trajectories {
            // Every step is indexed in order and bounded observations stay bounded.
            for (i, s) in t.steps.enumerated() where s.index != i { fatalError("step \(i) has index \(s.index) in \(t.id)") }
        }
    }
    return 0
}
