import Foundation

/// A thread-safe memo: each key's value is computed once and kept. The computation runs outside the
/// lock, so slow ones proceed in parallel; two threads may both compute a missing key (values must
/// be pure), the first stored wins. With a `limit`, the memo starts afresh when it grows past it.
public final class Memo<Key: Hashable & Sendable, Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var store: [Key: Value] = [:]
    private let limit: Int

    public init(limit: Int = .max) { self.limit = limit }

    public func value(_ key: Key, _ make: () -> Value) -> Value {
        lock.lock()
        if let hit = store[key] { lock.unlock(); return hit }
        lock.unlock()
        let made = make()
        lock.lock()
        defer { lock.unlock() }
        if let first = store[key] { return first }
        if store.count >= limit { store.removeAll(keepingCapacity: true) }
        store[key] = made
        return made
    }
}
