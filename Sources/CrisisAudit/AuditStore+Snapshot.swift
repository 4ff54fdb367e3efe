import CrisisCore
import Foundation
import GRDB

extension SQLiteAuditLog {
    // MARK: - Snapshot cache

    /// The incident's saved snapshot, or nil when there is none, when the record at its seq no longer has its
    /// entry hash (another history), or when the file predates the snapshot table (opened as existing).
    /// Throws `unknownIncident`.
    public func snapshot(incident: String) throws -> StateSnapshot? {
        try read("read the snapshot of incident \(incident)") { db in
            guard try incidentExists(db, incident) else { throw AuditError.unknownIncident(incident) }
            guard !isReadOnly else { throw AuditStore.readOnlyError("save a snapshot", path: path) }
        guard hasSnapshotTable else { return nil }
            guard let row = try Row.fetchOne(db, sql: """
                SELECT s.seq, s.entry_hash, s.engine_version, s.bytes, s.saved_utc_ms, e.entry_hash
                FROM state_snapshot s
                LEFT JOIN audit_event e ON e.incident_id = s.incident_id AND e.seq = s.seq
                WHERE s.incident_id = ?
                """, arguments: [incident])
            else { return nil }
            let r = RowReader(row: row)
            let hash = try r.blob(1, "entry_hash")
            guard !r.value(5).isNull, try r.blob(5, "audit_event.entry_hash") == hash else { return nil }
            return StateSnapshot(
                incidentID: incident, seq: try r.int(0, "seq"), entryHash: Hex.encode(hash),
                engineVersion: try r.text(2, "engine_version"), bytes: try r.blob(3, "bytes"),
                savedAt: Instant(millisecondsSinceEpoch: Int64(try r.int(4, "saved_utc_ms"))))
        }
    }

    /// Replaces the incident's snapshot in a short transaction of its own, waiting at most
    /// `snapshotBusyTimeoutMilliseconds` for another writer (then it throws and nothing is saved). Refuses
    /// (`invalid`) a snapshot whose seq and entry hash are not a record of the incident, one larger than
    /// `maximumSnapshotBytes`, and (`io`) a file without the snapshot table. A snapshot at a lower seq than the
    /// stored one of the same engine version does not replace it. Callers ignore every error: it is a cache.
    public func saveSnapshot(_ snapshot: StateSnapshot) throws {
        guard hasSnapshotTable else {
            throw AuditError.io(operation: "save a snapshot", underlying: "\(path) predates the snapshot table "
                + "(opened as existing; opening it to write migrates it)")
        }
        try Validate.incidentID(snapshot.incidentID)
        try Validate.text(snapshot.engineVersion, "engine version", max: 128)
        try Validate.instant(snapshot.savedAt, "savedAt")
        guard snapshot.seq >= 1 else { throw AuditError.invalid("snapshot seq \(snapshot.seq) is below 1") }
        guard let hash = Hex.decode(snapshot.entryHash), hash.count == 32 else {
            throw AuditError.invalid("snapshot entry hash must be 64 hex digits")
        }
        guard snapshot.bytes.count <= Self.maximumSnapshotBytes else {
            throw AuditError.invalid("the snapshot is \(snapshot.bytes.count) bytes; the limit is "
                + "\(Self.maximumSnapshotBytes)")
        }
        let operation = "save the snapshot of incident \(snapshot.incidentID)"
        do {
            try queue.writeWithoutTransaction { db in
                // Only a cache: never wait long for an append's lock.
                try db.execute(sql: "PRAGMA busy_timeout = \(Self.snapshotBusyTimeoutMilliseconds)")
                defer { try? db.execute(sql: "PRAGMA busy_timeout = \(Int(Self.busyTimeoutSeconds * 1000))") }
                try db.inTransaction(.immediate) {
                    guard let stored = try Data.fetchOne(db, sql: """
                        SELECT entry_hash FROM audit_event WHERE incident_id = ? AND seq = ?
                        """, arguments: [snapshot.incidentID, snapshot.seq])
                    else {
                        throw AuditError.invalid("incident \(snapshot.incidentID) has no record \(snapshot.seq) "
                            + "to snapshot")
                    }
                    guard Array(stored) == hash else {
                        throw AuditError.invalid("the snapshot's entry hash is not that of record \(snapshot.seq)")
                    }
                    try db.execute(sql: """
                        INSERT INTO state_snapshot (incident_id, seq, entry_hash, engine_version, bytes, saved_utc_ms)
                        VALUES (?, ?, ?, ?, ?, ?)
                        ON CONFLICT (incident_id) DO UPDATE SET
                          seq = excluded.seq, entry_hash = excluded.entry_hash,
                          engine_version = excluded.engine_version, bytes = excluded.bytes,
                          saved_utc_ms = excluded.saved_utc_ms
                        WHERE excluded.seq >= state_snapshot.seq
                          OR excluded.engine_version <> state_snapshot.engine_version
                        """, arguments: [snapshot.incidentID, snapshot.seq, Data(hash), snapshot.engineVersion,
                                         Data(snapshot.bytes), snapshot.savedAt.millisecondsSinceEpoch])
                    return .commit
                }
            }
        } catch {
            throw AuditStore.mapError(error, operation: operation)
        }
    }
}
