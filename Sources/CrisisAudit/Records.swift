import CrisisCore

/// Checks on caller input, with messages naming the field.
enum Validate {
    /// Latest instant whose RFC 3339 form has a four-digit year (9999-12-31T23:59:59.999Z).
    static let latestInstant: Int64 = 253_402_300_799_999

    static func instant(_ instant: Instant, _ field: String) throws {
        guard instant.millisecondsSinceEpoch > 0, instant.millisecondsSinceEpoch <= latestInstant else {
            throw AuditError.invalid("\(field) \(instant.millisecondsSinceEpoch) ms is outside 1970–9999")
        }
    }

    static func text(_ value: String, _ field: String, min: Int = 1, max: Int, singleLine: Bool = true) throws {
        let count = value.unicodeScalars.count
        guard count >= min, count <= max else {
            throw AuditError.invalid("\(field) must be \(min)–\(max) characters (got \(count))")
        }
        if value.utf8.contains(0) { throw AuditError.invalid("\(field) contains a NUL character") }
        if singleLine, value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw AuditError.invalid("\(field) contains a control character")
        }
    }

    static func incidentID(_ id: String) throws {
        let ok = !id.isEmpty && id.utf8.count <= 64
            && id.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                    || c == 0x2E || c == 0x5F || c == 0x2D
            }
        guard ok else {
            throw AuditError.invalid("incident id '\(id)' must be 1–64 characters of A–Z a–z 0–9 . _ -")
        }
    }

    static func sha256Hex(_ text: String, _ field: String) throws {
        guard text.utf8.count == 64, let bytes = Hex.decode(text), bytes.count == 32, text == text.lowercased() else {
            throw AuditError.invalid("\(field) must be 64 lower-case hex digits")
        }
    }

    static func incident(_ h: NewIncident) throws {
        try incidentID(h.id)
        try text(h.origin, "origin", max: 255)
        if h.origin.contains(" ") || h.origin.hasPrefix("\u{2014}") {
            throw AuditError.invalid("origin must not contain spaces or start with an em dash (checkpoint format)")
        }
        try text(h.title, "title", min: 0, max: 1024)
        try text(h.playbookID, "playbook id", max: 128)
        try text(h.playbookVersion, "playbook version", min: 0, max: 64)
        try sha256Hex(h.playbookSHA256, "playbook SHA-256")
        try instant(h.createdAt, "createdAt")
    }

    static func pinnedFile(_ f: PinnedFile) throws {
        try text(f.fileName, "pinned file name", max: 255)
        guard f.bytes.count <= AuditStore.maximumPinnedFileBytes else {
            throw AuditError.invalid("\(f.fileName) is \(f.bytes.count) bytes; pinned files are limited to "
                + "\(AuditStore.maximumPinnedFileBytes)")
        }
        guard f.sha256 == CrisisAudit.sha256Hex(f.bytes) else {
            throw AuditError.invalid("\(f.fileName): sha256 \(f.sha256) does not match its bytes")
        }
    }

    static func draft(_ d: EventDraft) throws {
        try text(d.idempotencyKey, "idempotency key", max: 128)
        try text(d.actor.id, "actor id", max: 128)
        if let role = d.actor.role { try text(role, "actor role", max: 128) }
        try instant(d.recordedAt, "recordedAt")
        if let id = d.eventID {
            let hexDigits = id.utf8.filter { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }.count
            let dashes = Array(id.utf8).enumerated().filter { $0.element == 0x2D }.map(\.offset)
            guard id.utf8.count == 36, hexDigits == 32, dashes == [8, 13, 18, 23] else {
                throw AuditError.invalid("event id '\(id)' is not a lower-case UUID")
            }
        }
    }
}
