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

    /// Appends the line of `record` (see `line(_:)`) to `out`. The record is checked as canonical JSON but not
    /// decoded: its `at`, `body` and `where` are copied as they are (a canonical value's bytes are its canonical
    /// encoding), the other members written from the columns, in canonical order.
    public static func append(_ event: StoredRecord, to out: inout [UInt8]) throws {
        let record: CanonicalMembers
        do { record = try CanonicalJSON.members(event.record) } catch {
            throw AuditError.integrity("seq \(event.seq): the stored record is not canonical JSON (\(error))")
        }
        func member(_ name: StaticString, first: Bool = false) {
            out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            out.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(UInt8(ascii: "\""))
            out.append(UInt8(ascii: ":"))
        }
        func copy(_ name: String) {
            if let r = record.range(name) { out.append(contentsOf: event.record[r]) } else { out.append(contentsOf: nullBytes) }
        }
        func hex(_ bytes: [UInt8]) {
            out.append(UInt8(ascii: "\""))
            Hex.append(bytes, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        var actor: [(String, CanonicalValue)] = [("id", .string(event.actor.id))]
        if let role = event.actor.role { actor.append(("role", .string(role))) }
        member("actor", first: true)
        try CanonicalJSON.encode(.object(actor), into: &out)
        member("body")
        copy("body")
        member("entry_hash")
        hex(event.entryHash)
        member("event_id")
        try CanonicalJSON.encode(.string(event.eventID), into: &out)
        member("idem")
        try CanonicalJSON.encode(.string(event.idempotencyKey), into: &out)
        member("incident")
        try CanonicalJSON.encode(.string(event.incidentID), into: &out)
        member("prev_hash")
        hex(event.prevHash)
        member("recorded_at")
        copy("at")
        member("recorded_utc_ms")
        try CanonicalJSON.encode(.integer(event.recordedAt.millisecondsSinceEpoch), into: &out)
        member("seq")
        try CanonicalJSON.encode(.integer(Int64(event.seq)), into: &out)
        member("type")
        try CanonicalJSON.encode(.string(event.type.rawValue), into: &out)
        member("where")
        copy("where")
        out.append(UInt8(ascii: "}"))
        out.append(0x0A)
    }

    private static let nullBytes: [UInt8] = Array("null".utf8)

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
