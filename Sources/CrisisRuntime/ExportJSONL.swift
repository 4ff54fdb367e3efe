import CrisisAudit
import CrisisCore
import Foundation

/// `export --format jsonl`: one JSON object per record and line, every field decoded. Records are streamed.
public enum JSONLExporter {
    /// The decoded form of one stored record: `seq`, `type`, `recorded_at`, `recorded_utc_ms`, `actor`,
    /// `event_id`, `idem`, `incident`, `prev_hash`, `entry_hash`, `where` and `body`, as canonical JSON.
    public static func line(_ event: StoredEvent) throws -> [UInt8] {
        let record = try CanonicalJSON.decode(event.record)
        var actor: [(String, CanonicalValue)] = [("id", .string(event.actor.id))]
        if let role = event.actor.role { actor.append(("role", .string(role))) }
        let value: CanonicalValue = .object([
            ("seq", .integer(Int64(event.seq))), ("type", .string(event.type.rawValue)),
            ("recorded_at", record["at"] ?? .null),
            ("recorded_utc_ms", .integer(event.recordedAt.millisecondsSinceEpoch)),
            ("actor", .object(actor)), ("event_id", .string(event.eventID)),
            ("idem", .string(event.idempotencyKey)), ("incident", .string(event.incidentID)),
            ("prev_hash", .string(event.prevHashHex)), ("entry_hash", .string(event.entryHashHex)),
            ("where", record["where"] ?? .null), ("body", event.body),
        ])
        return try CanonicalJSON.encode(value) + [0x0A]
    }

    /// Writes every record of `incident` to `write`, one line each, in order; returns the number of records.
    @discardableResult
    public static func export(store: any AuditLog, incident: String, write: ([UInt8]) throws -> Void) throws -> Int {
        var count = 0
        try store.forEachEvent(incident: incident) { event in
            try write(try line(event))
            count += 1
        }
        return count
    }
}
