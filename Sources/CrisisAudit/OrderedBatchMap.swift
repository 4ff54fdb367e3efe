import Foundation

/// Batches transformed on worker threads and handed back in the order they were submitted. One thread submits
/// batches and `close`s the input; one thread (the same or another) takes the results with `next()`. At most
/// `window` batches are in flight (submitted and not yet taken): `submit` waits for room, so memory stays flat
/// however long the input. For work whose per-item part (hashes, decoding) is independent but whose use runs in
/// order: `verify` of a bundle, the replay's and the report's reading of a trail.
public final class OrderedBatchMap<Input: Sendable, Output: Sendable>: @unchecked Sendable {
    /// Thrown by `submit` once the taker has given up (`cancel`).
    public struct Cancelled: Error {}

    /// How many batches may be in flight.
    public let window: Int
    private let transform: @Sendable ([Input]) -> [Output]
    private let condition = NSCondition()
    private var queue: [(index: Int, batch: [Input])] = []
    private var results: [Int: [Output]] = [:]
    private var submitted = 0
    private var taken = 0
    private var closed = false
    private var failure: (any Error)?
    private var cancelled = false

    /// Starts `workers` threads (at least one); they end once the input is closed or cancelled and drained.
    public init(workers: Int, window: Int = 8, transform: @escaping @Sendable ([Input]) -> [Output]) {
        self.window = max(window, 1)
        self.transform = transform
        for _ in 0..<max(workers, 1) {
            let thread = Thread { [self] in work() }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// One worker per core, at most four.
    public static var defaultWorkers: Int { min(max(ProcessInfo.processInfo.activeProcessorCount, 1), 4) }

    /// Batches submitted and not yet taken.
    public var inFlight: Int {
        condition.lock()
        defer { condition.unlock() }
        return submitted - taken
    }

    /// Queues a batch for the workers, waiting while `window` are in flight. Throws `Cancelled` once the taker
    /// has given up.
    public func submit(_ batch: [Input]) throws {
        condition.lock()
        defer { condition.unlock() }
        while submitted - taken >= window && !cancelled { condition.wait() }
        if cancelled { throw Cancelled() }
        queue.append((submitted, batch))
        submitted += 1
        condition.broadcast()
    }

    /// No more input; `error`, if any, is what ended it, thrown by `next()` after the batches submitted before.
    public func close(_ error: (any Error)? = nil) {
        condition.lock()
        closed = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch's results in submission order, waiting for them; nil after the last once the input is
    /// closed; the closing error after the batches submitted before it.
    public func next() throws -> [Output]? {
        condition.lock()
        defer { condition.unlock() }
        while results[taken] == nil && !(closed && taken == submitted) { condition.wait() }
        guard let out = results.removeValue(forKey: taken) else {
            if let failure { throw failure }
            return nil
        }
        taken += 1
        condition.broadcast()
        return out
    }

    /// The taker gives up: `submit` throws from now on, queued batches are dropped, and the workers end.
    public func cancel() {
        condition.lock()
        cancelled = true
        queue.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while queue.isEmpty && !closed && !cancelled { condition.wait() }
            if queue.isEmpty {
                condition.unlock()
                return
            }
            let (index, batch) = queue.removeFirst()
            condition.unlock()
            let out = transform(batch)
            condition.lock()
            if !cancelled { results[index] = out }
            condition.broadcast()
            condition.unlock()
        }
    }
}
