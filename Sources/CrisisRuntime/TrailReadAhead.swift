import CrisisAudit
import Foundation

/// Reading a trail ahead: one thread reads the records, worker threads decode them, the caller takes them in
/// order. The replay, the report and the CSV export read long trails this way.
extension AuditLog {
    /// Every record of incident `id` from `seq`, typed as `forEachEntry` types it, in order: read on a second
    /// thread and decoded on worker threads while `body` runs on this one (a few batches ahead, so memory stays
    /// flat). An error of either side ends both; a reading or decoding error is thrown after the records before it.
    public func forEachEntryAhead(incident id: String, from seq: Int = 1,
                                  _ body: (TimelineEntry) throws -> Void) throws
    {
        try forEachRecordAhead(incident: id, from: seq, transform: {
            { stored in TimelineEntry(stored: stored, record: try? TrailRecord.decode(stored)) }
        }, body)
    }

    /// `forEachEntryAhead` with each record turned into what `body` needs by `transform` on the worker threads.
    /// `transform` is called once per batch, on the worker that takes it, for the function applied to each of
    /// the batch's records (which may keep a cache of its own for the batch).
    public func forEachRecordAhead<Output: Sendable>(
        incident id: String, from seq: Int = 1,
        transform: @escaping @Sendable () -> (StoredEvent) -> Output, _ body: (Output) throws -> Void
    ) throws {
        typealias Item = Swift.Result<Output, AuditError>
        let map = OrderedBatchMap<StoredRecord, Item>(workers: OrderedBatchMap<StoredRecord, Item>.defaultWorkers) {
            batch in
            let each = transform()
            return batch.map { record -> Item in
                do {
                    return .success(each(try AuditStore.decodeEvent(record)))
                } catch let error as AuditError {
                    return .failure(error)
                } catch {
                    return .failure(.integrity("seq \(record.seq): \(error)"))
                }
            }
        }
        let readerDone = DispatchSemaphore(value: 0)
        // The reader holds the store only through this box, emptied before it signals: a Thread keeps its closure
        // until the thread has exited, which can be after this returns, and a store still referenced then is
        // never closed (a process that exits at once would leave the database's -wal and -shm behind).
        let held = StoreBox(self)
        let reader = Thread {
            var batch: [StoredRecord] = []
            batch.reserveCapacity(readAheadBatchSize)
            do {
                try held.store?.forEachRecord(incident: id, from: seq) { record in
                    batch.append(record)
                    if batch.count == readAheadBatchSize {
                        try map.submit(batch)
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if !batch.isEmpty { try map.submit(batch) }
                map.close()
            } catch {
                map.close(error)
            }
            held.store = nil
            readerDone.signal()
        }
        reader.stackSize = 8 << 20
        reader.start()
        // However this ends, the reader is stopped and waited for: the store is not read after this returns.
        defer {
            map.cancel()
            readerDone.wait()
        }
        while let batch = try map.next() {
            for item in batch { try body(try item.get()) }
        }
    }
}

/// A store lent to the read-ahead thread for as long as it reads (see `forEachRecordAhead`).
private final class StoreBox: @unchecked Sendable {
    var store: (any AuditLog)?
    init(_ store: any AuditLog) { self.store = store }
}

/// Records per batch handed to the decoding workers.
let readAheadBatchSize = 128
