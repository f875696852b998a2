// libFuzzer target: the native JSONL reader. Every line must be read or quarantined; the byte-level
// fast reader must agree with JSONDecoder whenever it reads a line; whatever is read must write back
// (with the fast writer, byte for byte what JSONEncoder writes) to a line that reads as the same
// trajectory. Built by .ci/fuzz.sh.
import Foundation
import Trajectories

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNative(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var line = 0
    for raw in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
        line += 1
        if let fast = NativeFastDecoder.decode(raw) {
            let reference = try? JSONCoding.decoder.decode(Trajectory.self, from: Data(raw))
            if fast != reference { fatalError("the fast reader and JSONDecoder disagree on: \(String(decoding: raw, as: UTF8.self))") }
        }
        guard case .trajectory(let t, _) = NativeReader.decode(raw, file: "fuzz.jsonl", line: line) else { continue }
        let written = try! NativeWriter.line(t)
        if written != (try! JSONCoding.foundationEncoder.encode(t)) {
            fatalError("the fast writer and JSONEncoder disagree on: \(String(decoding: written, as: UTF8.self))")
        }
        guard case .trajectory(let again, _) = NativeReader.decode(ArraySlice(written), file: "fuzz.jsonl", line: 1) else {
            fatalError("a trajectory written by NativeWriter does not read back: \(String(decoding: written, as: UTF8.self))")
        }
        if again != t { fatalError("round trip changed the trajectory: \(String(decoding: written, as: UTF8.self))") }
    }
    return 0
}
