import Foundation

/// A thread-safe memo: each key's value is computed once and kept. The computation runs outside the
/// lock, so slow ones proceed in parallel; two threads may both compute a missing key (values must
/// be pure), the first stored wins. With a `limit`, the memo starts afresh when it grows past it.
public final class Memo<Key: Hashable & Sendable, Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var store: [Key: Value] = [:]
    private let limit: Int

    public init(limit: Int = .max) { self.limit = limit }

    /// Values held.
    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return store.count
    }

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

/// Work that outputs of one build may share (for instance two safety styles judging the same trajectories
/// with the same rules): memos by name, made on first use and dropped with the build.
public final class SharedWork: @unchecked Sendable {
    // Safe to share: `memos` is only read and written under `lock`, and each memo is itself thread-safe.
    private let lock = NSLock()
    private var memos: [String: Any] = [:]

    public init() {}

    /// The memo named `name` (the same one for every caller that asks with the same name and types).
    public func memo<Key: Hashable & Sendable, Value>(_ name: String, _: Key.Type, _: Value.Type) -> Memo<Key, Value> {
        lock.lock()
        defer { lock.unlock() }
        let full = "\(name) \(Key.self) \(Value.self)"
        if let m = memos[full] as? Memo<Key, Value> { return m }
        let m = Memo<Key, Value>()
        memos[full] = m
        return m
    }
}
