// libFuzzer target: the pipeline spec loader (YAML through BoundedYAML, then validation). Every input
// must load or fail with diagnostics that carry a position. Built by .ci/fuzz.sh.
import Foundation
import Pipelines

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSpec(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        _ = try PipelineLoader.parse(yaml: text, file: "fuzz.yaml", baseDirectory: "/nonexistent", checkPaths: false)
    } catch let e as SpecError {
        if e.diagnostics.isEmpty { fatalError("a SpecError without diagnostics") }
        for d in e.diagnostics where d.line < 1 || d.column < 1 { fatalError("diagnostic without a position: \(d)") }
    } catch {
        fatalError("the loader threw something other than SpecError: \(error)")
    }
    return 0
}
