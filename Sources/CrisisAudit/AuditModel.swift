import CrisisCore

/// Who recorded an event: an operator name (`--as`) or `crisis` for the engine, and the role acted in.
public struct AuditActor: Sendable, Hashable {
    /// Operator name, or `crisis` (1–128 characters, one line).
    public var id: String
    /// The playbook role acted in, if any (1–128 characters).
    public var role: String?
    /// An actor with an optional role.
    public init(id: String, role: String? = nil) {
        self.id = id
        self.role = role
    }
    /// The engine itself (timers, checkpoints).
    public static let system = AuditActor(id: "crisis")
}

/// The immutable header of a new incident. The runtime chooses the id and origin; the store generates nothing.
public struct NewIncident: Sendable, Hashable {
    /// 1–64 characters of `[A-Za-z0-9._-]`.
    public var id: String
    /// The log identity written as the first line of checkpoints (a schema-less URL such as `crisis.example/ops`).
    public var origin: String
    /// Human title shown by `crisis list` (at most 1024 characters).
    public var title: String
    /// The playbook's `id`.
    public var playbookID: String
    /// The playbook's `version`.
    public var playbookVersion: String
    /// Lower-case hex SHA-256 of the playbook file; that file must be among the pinned files.
    public var playbookSHA256: String
    /// Live or drill; never changes.
    public var mode: IncidentMode
    /// Creation time (bound into the genesis hash).
    public var createdAt: Instant

    /// A header; validated by `AuditStore.createIncident`.
    public init(id: String, origin: String, title: String, playbookID: String, playbookVersion: String,
                playbookSHA256: String, mode: IncidentMode, createdAt: Instant)
    {
        self.id = id
        self.origin = origin
        self.title = title
        self.playbookID = playbookID
        self.playbookVersion = playbookVersion
        self.playbookSHA256 = playbookSHA256
        self.mode = mode
        self.createdAt = createdAt
    }
}

/// A file whose exact bytes are kept with an incident: the playbook, its templates, the contacts file.
public struct PinnedFile: Sendable, Hashable {
    /// Lower-case hex SHA-256 of `bytes`.
    public var sha256: String
    /// The file's name as loaded (for display and export; not part of its identity).
    public var fileName: String
    /// The exact bytes (at most 1 MiB).
    public var bytes: [UInt8]

    /// Pins `bytes`, computing their SHA-256.
    public init(fileName: String, bytes: [UInt8]) {
        self.sha256 = sha256Hex(bytes)
        self.fileName = fileName
        self.bytes = bytes
    }
}

/// An event to append. The store adds seq, prev, event id and the writer's `where`, builds the canonical record
/// and chains it.
public struct EventDraft: Sendable, Hashable {
    /// The record type.
    public var type: RecordType
    /// Stable per intended effect (1–128 characters): appending a draft whose key is already recorded for the
    /// incident returns the recorded event instead of a new one.
    public var idempotencyKey: String
    /// Who caused the event.
    public var actor: AuditActor
    /// When it happened (written to the record as RFC 3339 UTC with milliseconds).
    public var recordedAt: Instant
    /// The event's own content: any canonical value (usually an object).
    public var body: CanonicalValue
    /// A fixed event id (lower-case UUID); nil lets the store generate a random one. For tests and imports.
    public var eventID: String?

    /// A draft; validated by `append` and `createIncident`.
    public init(type: RecordType, idempotencyKey: String, actor: AuditActor, recordedAt: Instant, body: CanonicalValue,
                eventID: String? = nil)
    {
        self.type = type
        self.idempotencyKey = idempotencyKey
        self.actor = actor
        self.recordedAt = recordedAt
        self.body = body
        self.eventID = eventID
    }
}

/// An event as stored: the exact record bytes (what is hashed), their hashes and the decoded fields.
public struct StoredEvent: Sendable, Hashable {
    public var incidentID: String
    /// Position in the incident's trail, from 1.
    public var seq: Int
    /// Lower-case UUID.
    public var eventID: String
    public var idempotencyKey: String
    /// The record type (an unknown stored type is an integrity error when read).
    public var type: RecordType
    public var actor: AuditActor
    public var recordedAt: Instant
    /// The record's `body`, decoded from the stored bytes.
    public var body: CanonicalValue
    /// The canonical record bytes exactly as stored and hashed.
    public var record: [UInt8]
    /// Entry hash of the previous record (the genesis hash for seq 1).
    public var prevHash: [UInt8]
    /// `SHA256("crisis-audit:v1:entry" ‖ 0x00 ‖ record)`.
    public var entryHash: [UInt8]
    /// True when `append` found this event already recorded under the draft's idempotency key (a retry) and
    /// returned it instead of appending.
    public var replayedFromKey: Bool

    /// `prevHash` in lower-case hex.
    public var prevHashHex: String { Hex.encode(prevHash) }
    /// `entryHash` in lower-case hex.
    public var entryHashHex: String { Hex.encode(entryHash) }
}

/// The newest event of an incident.
public struct ChainHead: Sendable, Hashable {
    /// Seq of the newest event (= number of events).
    public var seq: Int
    /// Its entry hash (as stored).
    public var entryHash: [UInt8]
    /// Its type.
    public var type: RecordType
    /// Who recorded it (named in conflicts).
    public var actorID: String
    public var recordedAt: Instant
    /// `entryHash` in lower-case hex.
    public var entryHashHex: String { Hex.encode(entryHash) }
}

/// An incident's immutable header plus a summary of its newest event.
public struct IncidentHeader: Sendable, Hashable {
    public var id: String
    /// Log identity in checkpoints.
    public var origin: String
    public var title: String
    public var playbookID: String
    public var playbookVersion: String
    /// Lower-case hex SHA-256 of the pinned playbook.
    public var playbookSHA256: String
    public var mode: IncidentMode
    public var createdAt: Instant
    /// The chain's starting point (as stored; `verify` recomputes it).
    public var genesisHash: [UInt8]
    /// Seq of the newest event (= number of events).
    public var lastSeq: Int
    /// When the newest event happened.
    public var lastEventAt: Instant?
    /// The newest event's type (`checkpoint.issued`, `operator.action`...).
    public var lastEventType: String?
}

/// A problem `verify` found. `seq` is nil for problems not tied to one record (schema, pinned files, SQLite).
public struct VerifyProblem: Sendable, Hashable, CustomStringConvertible {
    /// The record concerned, if any.
    public var seq: Int?
    /// What is wrong.
    public var message: String
    public var description: String {
        if let seq { return "seq \(seq): \(message)" }
        return message
    }
}

/// The result of `AuditStore.verify(incident:)`.
public struct VerifyReport: Sendable, Hashable {
    /// The incident verified.
    public var incidentID: String
    /// Number of records read.
    public var recordCount: Int
    /// Recomputed entry hash of the last record (hex), nil if there are no records.
    public var chainHead: String?
    /// RFC 9162 Merkle root of records 1..N (hex), computed from the stored bytes.
    public var merkleRoot: String
    /// Checkpoints stored with the incident that were checked against the records.
    public var checkpointsChecked: Int
    /// Everything found, in the order found (the first chain problem first). Capped at `maximumProblems`.
    public var problems: [VerifyProblem]
    /// Output of `PRAGMA integrity_check` (`ok` when the file is sound).
    public var sqliteIntegrity: String

    /// Problems beyond this many are not listed.
    public static let maximumProblems = 100

    /// True when nothing is wrong.
    public var ok: Bool { problems.isEmpty }
    /// The lowest seq with a problem, if any record is bad.
    public var firstBadSeq: Int? { problems.compactMap(\.seq).min() }
    /// The first problem for the lowest bad seq, or the first problem at all.
    public var firstProblem: VerifyProblem? {
        if let s = firstBadSeq { return problems.first { $0.seq == s } }
        return problems.first
    }
}

/// Errors of the audit store. Every message names what failed.
public enum AuditError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The incident advanced past the caller's expected seq: `head` is the newest seq, recorded by `by` as `type`.
    case conflict(head: Int, by: String, type: String)
    /// No incident with this id.
    case unknownIncident(String)
    /// `createIncident` with an id that exists.
    case duplicateIncident(String)
    /// An idempotency key was reused for a different event.
    case idempotencyKeyReused(key: String, existingSeq: Int, existingType: String)
    /// The caller passed something the store refuses (bad id, unknown event type, non-canonical body...).
    case invalid(String)
    /// The database path is unsafe for evidence (symlink, hard link, network or FUSE filesystem, missing WAL).
    case unsafeLocation(String)
    /// The stored data or the file is inconsistent or corrupt.
    case integrity(String)
    /// SQLite or the filesystem failed; for a failed COMMIT the outcome is unknown until the trail is re-read.
    case io(operation: String, underlying: String)

    public var description: String {
        switch self {
        case .conflict(let head, let by, let type):
            return "incident advanced to \(head) by \(by) (\(type))"
        case .unknownIncident(let id): return "unknown incident '\(id)'"
        case .duplicateIncident(let id): return "incident '\(id)' already exists"
        case .idempotencyKeyReused(let key, let seq, let type):
            return "idempotency key '\(key)' already used by seq \(seq) (\(type)) for a different event"
        case .invalid(let why): return "refused: \(why)"
        case .unsafeLocation(let why): return "unsafe database location: \(why)"
        case .integrity(let why): return "audit integrity: \(why)"
        case .io(let operation, let underlying): return "\(operation) failed: \(underlying)"
        }
    }
}

/// One stored record read as it is, without decoding its type or replaying it (`crisis log --raw`): a damaged
/// trail can still be read. Columns that no longer have their type read as nil.
public struct RawRecord: Sendable, Hashable {
    /// The stored seq.
    public var seq: Int
    /// The `event_type` column as stored (nil when it is not text).
    public var type: String?
    /// The `recorded_utc_ms` column (nil when it is not an integer).
    public var recordedAt: Instant?
    /// The `actor_id` column.
    public var actorID: String?
    /// The `actor_role` column.
    public var actorRole: String?
    /// The record bytes exactly as stored.
    public var record: [UInt8]
    /// Whether the stored entry hash is the SHA-256 of the record bytes.
    public var hashMatches: Bool
    /// Every chain rule this record breaks (hash, link to the one before, seq, canonical form), in words; empty
    /// when it checks out.
    public var problems: [String]

    /// The record's `body` member re-encoded canonically, or the whole record as stored when it does not decode.
    public var bodyText: String {
        if let value = try? CanonicalJSON.decode(record), let body = value["body"],
            let bytes = try? CanonicalJSON.encode(body)
        {
            return String(decoding: bytes, as: UTF8.self)
        }
        return String(decoding: record, as: UTF8.self)
    }
}
