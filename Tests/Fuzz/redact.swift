// libFuzzer target: the secret redactor on arbitrary text. Redaction must never grow a secret back:
// a second pass over redacted text finds nothing more. Built by .ci/fuzz.sh.
import Foundation
import Prepare

let redactor = SecretRedactor(secrets: true, emails: true)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRedact(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    var counts: [String: Int] = [:]
    let once = redactor.redact(text, counts: &counts)
    var again: [String: Int] = [:]
    let twice = redactor.redact(once, counts: &again)
    if twice != once { fatalError("redaction is not idempotent: \(again) on \(once.debugDescription)") }
    return 0
}
