import Foundation

/// Order-preserving parallel map over the machine's cores. Results come back in input order, so
/// callers get deterministic output however the work was scheduled.
public enum Parallel {
    public static var workers: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    public static func map<T: Sendable, R: Sendable>(_ items: [T], minChunk: Int = 16,
                                                     _ transform: @Sendable (T) -> R) -> [R] {
        let n = items.count
        if n == 0 { return [] }
        // Sixteen chunks per core, taken by whichever core is free: items of uneven cost (a record with
        // 200 KB observations next to small ones) still end the map with the cores busy to the last.
        let chunks = min(workers * 16, max(1, n / minChunk))
        if chunks <= 1 { return items.map(transform) }
        let results = UnsafeMutableBufferPointer<R>.allocate(capacity: n)
        defer { results.deallocate() }
        nonisolated(unsafe) let out = results
        items.withUnsafeBufferPointer { input in
            nonisolated(unsafe) let input = input
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = n * c / chunks, hi = n * (c + 1) / chunks
                for i in lo..<hi { (out.baseAddress! + i).initialize(to: transform(input[i])) }
            }
        }
        let array = Array(results)
        _ = results.deinitialize()
        return array
    }
}

/// A value computed on another thread while the caller does something else; `take` waits for it.
/// (A caller that stops early simply drops it: the thread keeps what it uses alive until done.)
/// Each runs on a thread of its own, not on Dispatch's pool: a prefetch may wait for another one
/// (ingest waits for a file's hash), and on Linux the pool does not grow when its workers wait.
public final class Prefetch<T: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var value: T?

    public init(_ make: @escaping @Sendable () -> T) {
        let thread = Thread {
            self.value = make()
            self.done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// A value already at hand.
    public init(value: T) {
        self.value = value
        done.signal()
    }

    /// Waits for the value (any number of times).
    public func take() -> T {
        done.wait()
        done.signal()
        return value!
    }

    /// Waits for the value and moves it out (so a buffer in it is uniquely owned again); call once,
    /// instead of `take`.
    public func move() -> T {
        done.wait()
        defer { value = nil }
        return value!
    }
}
