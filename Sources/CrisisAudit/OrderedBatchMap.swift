import Foundation

/// Batches transformed on worker threads and handed back in the order they were submitted: the driving thread
/// submits a batch, and takes results with `next()` whenever it likes; at most `window` batches are in flight
/// (submitted and not yet taken), so memory stays flat however long the input. For checks whose per-item work
/// (hashes, the canonical check) is independent but whose judgement runs in order.
final class OrderedBatchMap<Input: Sendable, Output: Sendable>: @unchecked Sendable {
    let window: Int
    private let transform: @Sendable ([Input]) -> [Output]
    private let condition = NSCondition()
    private var queue: [(index: Int, batch: [Input])] = []
    private var results: [Int: [Output]] = [:]
    private var submitted = 0
    private var taken = 0
    private var finished = false

    /// Starts `workers` threads (at least one).
    init(workers: Int, window: Int = 8, transform: @escaping @Sendable ([Input]) -> [Output]) {
        self.window = max(window, 1)
        self.transform = transform
        for _ in 0..<max(workers, 1) {
            let thread = Thread { [self] in work() }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Batches submitted and not yet taken.
    var inFlight: Int {
        condition.lock()
        defer { condition.unlock() }
        return submitted - taken
    }

    /// Queues a batch for the workers.
    func submit(_ batch: [Input]) {
        condition.lock()
        queue.append((submitted, batch))
        submitted += 1
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch's results in submission order, waiting for them; nil when every submitted batch was taken.
    func next() -> [Output]? {
        condition.lock()
        defer { condition.unlock() }
        guard taken < submitted else { return nil }
        while results[taken] == nil { condition.wait() }
        let out = results.removeValue(forKey: taken)
        taken += 1
        return out
    }

    /// Ends the workers once the queue is empty. Call it when done (also after stopping early).
    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while queue.isEmpty && !finished { condition.wait() }
            if queue.isEmpty {
                condition.unlock()
                return
            }
            let (index, batch) = queue.removeFirst()
            condition.unlock()
            let out = transform(batch)
            condition.lock()
            results[index] = out
            condition.broadcast()
            condition.unlock()
        }
    }
}
