// libFuzzer target: the secret redactor on arbitrary text.
// - Its fast path (triggers, follow checks, windows for case-insensitive rules) gives exactly what running
//   every rule over the whole text gives (checked on inputs up to 16 KB: the whole-text search is slow).
// - Redaction never grows a secret back: a second pass over redacted text finds nothing more.
// Built by .ci/fuzz.sh.
import Foundation
import Prepare

let redactor = SecretRedactor(secrets: true, emails: true)
let exhaustive: SecretRedactor = {
    var r = redactor
    r.exhaustive = true
    return r
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRedact(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    var counts: [String: Int] = [:]
    let once = redactor.redact(text, counts: &counts)
    if size <= 16 << 10 {
        var reference: [String: Int] = [:]
        let want = exhaustive.redact(text, counts: &reference)
        if want != once || reference != counts {
            fatalError("the fast path differs from the whole-text search: \(counts) vs \(reference) on \(text.debugDescription)")
        }
    }
    var again: [String: Int] = [:]
    let twice = redactor.redact(once, counts: &again)
    if twice != once { fatalError("redaction is not idempotent: \(again) on \(once.debugDescription)") }
    return 0
}
