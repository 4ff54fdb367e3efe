import CrisisAudit
import CrisisCore
import Foundation

/// `export --format jsonl`: one JSON object per record and line, every field decoded. Records are streamed.
public enum JSONLExporter {
    /// The decoded form of one stored record: `seq`, `type`, `recorded_at`, `recorded_utc_ms`, `actor`,
    /// `event_id`, `idem`, `incident`, `prev_hash`, `entry_hash`, `where` and `body`, as canonical JSON.
    public static func line(_ event: StoredEvent) throws -> [UInt8] {
        var out: [UInt8] = []
        try append(StoredRecord(
            incidentID: event.incidentID, seq: event.seq, eventID: event.eventID, idempotencyKey: event.idempotencyKey,
            type: event.type, actor: event.actor, recordedAt: event.recordedAt, record: event.record,
            prevHash: event.prevHash, entryHash: event.entryHash), to: &out)
        return out
    }

    /// Appends the line of `record` (see `line(_:)`) to `out`, decoding the record once.
    public static func append(_ event: StoredRecord, to out: inout [UInt8]) throws {
        let record: CanonicalValue
        do { record = try CanonicalJSON.decode(event.record) } catch {
            throw AuditError.integrity("seq \(event.seq): the stored record is not canonical JSON (\(error))")
        }
        var actor: [(String, CanonicalValue)] = [("id", .string(event.actor.id))]
        if let role = event.actor.role { actor.append(("role", .string(role))) }
        // Members in canonical order, so the encoder need not sort them.
        let value: CanonicalValue = .object([
            ("actor", .object(actor)), ("body", record["body"] ?? .null),
            ("entry_hash", .string(Hex.encode(event.entryHash))), ("event_id", .string(event.eventID)),
            ("idem", .string(event.idempotencyKey)), ("incident", .string(event.incidentID)),
            ("prev_hash", .string(Hex.encode(event.prevHash))), ("recorded_at", record["at"] ?? .null),
            ("recorded_utc_ms", .integer(event.recordedAt.millisecondsSinceEpoch)),
            ("seq", .integer(Int64(event.seq))), ("type", .string(event.type.rawValue)),
            ("where", record["where"] ?? .null),
        ])
        try CanonicalJSON.encode(value, into: &out)
        out.append(0x0A)
    }

    /// Writes every record of `incident` to `write`, one line each, in order; returns the number of records.
    /// Lines are handed over in blocks of about 64 KiB (each block holds whole lines).
    @discardableResult
    public static func export(store: any AuditLog, incident: String, write: ([UInt8]) throws -> Void) throws -> Int {
        var count = 0
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 17)
        try store.forEachRecord(incident: incident) { event in
            try append(event, to: &buffer)
            count += 1
            if buffer.count >= 1 << 16 {
                try write(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        if !buffer.isEmpty { try write(buffer) }
        return count
    }
}
