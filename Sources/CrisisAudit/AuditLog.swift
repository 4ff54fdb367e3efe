import CrisisCore

/// The audit log's operations: what the runtime needs from a place that keeps incidents' hash-chained trails.
/// `SQLiteAuditLog` (alias `AuditStore`) is the implementation for one file; a PostgreSQL backend for team mode
/// implements the same protocol (../shared/reference/team-mode.md: a head row locked per append).
///
/// Every backend must give these guarantees:
///
/// - **One chain per incident, one definition.** Records are built, hashed and linked with `HashChain`
///   (`recordBytes`, `entryHash`, `next(afterSeq:entryHash:genesis:)`); seq runs 1, 2, 3… with no gap; every
///   record's `prev` is the entry hash of the record before it (the genesis hash for seq 1). What one backend
///   writes, another's `verify` accepts.
/// - **Serialised appends.** `createIncident`, `append` and `issueCheckpoint` each run in one transaction that
///   holds the incident's write lock (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: the head row `FOR UPDATE`). Inside
///   that lock, and only there: idempotency keys are looked up, `expectedSeq` is compared with the head, and the
///   records are inserted at head + 1. A head value read outside the lock is never written back. All records of
///   one call are committed together or not at all.
/// - **Idempotent retries.** A draft whose idempotency key is already recorded for the incident is not appended
///   again: the stored record is answered, with `replayedFromKey = true`, provided its type and actor match
///   (else `AuditError.idempotencyKeyReused`). When every draft of a call is such a retry, `expectedSeq` is not
///   checked.
/// - **Stale writers lose.** An `expectedSeq` that is not the head's seq (0 for none) throws
///   `AuditError.conflict` naming the head's seq, actor and type, and writes nothing. It is a conflict for the
///   operator to resolve (reload, see who acted first), not something to retry blindly.
/// - **Durable before it returns.** A call that returns has committed durably. A call that throws
///   `AuditError.io` after it reached COMMIT has an unknown outcome: look the draft up with
///   `event(incident:idempotencyKey:)` before retrying.
/// - **Append-only evidence.** Records, incident headers, pinned files and checkpoints are never updated or
///   deleted through the protocol. `verify` trusts only the record bytes and reports every broken rule.
/// - **Consistent reads.** `forEachEvent` (and `events`) read one consistent snapshot of the trail.
/// - **Cheap change hints.** `headSeq(incident:)` answers from an index (no record decoded), so a board can poll
///   it; a backend with notifications (PostgreSQL `LISTEN`/`NOTIFY`) treats them as hints to call it, never as
///   data.
/// - **Snapshots are a cache, never evidence.** `saveSnapshot` replaces the incident's one snapshot in its own
///   short transaction after the records are committed; it may fail or give up (callers ignore its errors), and
///   it never blocks or fails an append. `snapshot(incident:)` returns a snapshot only while the record at its
///   seq still has its entry hash; the caller still checks `engineVersion` and folds the records after `seq`.
///   `verify` never reads snapshots.
///
/// Errors are `AuditError` (checkpoint notes: `CheckpointError`), with messages that name what failed.
public protocol AuditLog: Sendable {
    /// Where the log lives, for messages (a file path, a database URL without credentials).
    var location: String { get }

    // MARK: Writing

    /// Creates an incident: its header, its pinned files and its first event (seq 1), in one transaction.
    /// Throws `duplicateIncident` when the id exists ("first writer wins").
    @discardableResult
    func createIncident(_ header: NewIncident, files: [PinnedFile], firstEvent: EventDraft) throws -> StoredEvent

    /// Appends `events` in one transaction and returns them as stored, in order (see the guarantees above for
    /// idempotent retries and `expectedSeq`; nil skips the seq check).
    func append(incident: String, expectedSeq: Int?, events: [EventDraft]) throws -> [StoredEvent]

    // MARK: Reading

    /// The newest record of an incident, or nil if it has none. Throws `unknownIncident`.
    func head(incident: String) throws -> ChainHead?

    /// The seq of the newest record (0 for none): the cheap change hint a board polls. Throws `unknownIncident`.
    func headSeq(incident: String) throws -> Int

    /// The records of an incident from `seq` on, in order.
    func events(incident: String, from seq: Int) throws -> [StoredEvent]

    /// Calls `body` for each record from `seq` on, in order, over one consistent snapshot, without loading them
    /// all. An error thrown by `body` stops the walk and is rethrown.
    func forEachEvent(incident: String, from seq: Int, _ body: (StoredEvent) throws -> Void) throws

    /// Calls `body` for each record in order, over one consistent snapshot, with its columns and exact bytes but
    /// without decoding the record (cheaper than `forEachEvent` for export and `log --json`).
    func forEachRecord(incident: String, from seq: Int, _ body: (StoredRecord) throws -> Void) throws

    /// The record stored under an idempotency key, if any (to reconcile after an unknown outcome).
    func event(incident: String, idempotencyKey: String) throws -> StoredEvent?

    /// Every incident with a summary of its newest record, oldest first.
    func incidents() throws -> [IncidentHeader]

    /// One incident's header, or nil.
    func incident(id: String) throws -> IncidentHeader?

    /// A pinned file by its lower-case hex SHA-256, or nil. Throws `integrity` if its bytes no longer match.
    func pinnedFile(sha256: String) throws -> PinnedFile?

    /// The files pinned when the incident was created, in the order given then.
    func pinnedFiles(incident: String) throws -> [PinnedFile]

    /// Every stored record of an incident as it is, each checked against the hash chain, without decoding
    /// types or bodies (for reading a damaged trail). Throws `unknownIncident`.
    func rawRecords(incident: String) throws -> [RawRecord]

    // MARK: Verification and checkpoints

    /// Recomputes the incident's trail from the stored record bytes and reports every problem.
    func verify(incident: String) throws -> VerifyReport

    /// `verify(incident:)`, with SQLite's own check of the whole file only when `integrityCheck`.
    func verify(incident: String, integrityCheck: Bool) throws -> VerifyReport

    /// Signs the current tree head and records it (a `checkpoint.issued` record at N + 1), refusing a broken
    /// trail; returns this key's existing checkpoint when nothing else was recorded since.
    @discardableResult
    func issueCheckpoint(incident: String, signer: CheckpointSigner, at now: Instant) throws -> Checkpoint

    /// The checkpoints stored with an incident, smallest tree first.
    func checkpoints(incident: String) throws -> [Checkpoint]

    /// Checks a checkpoint note held outside the log against the trusted key and the incident's records.
    func verifyCheckpoint(note: String, verifier: CheckpointVerifier, incident: String) throws -> VerifiedCheckpoint

    // MARK: Snapshot cache

    /// The incident's saved snapshot, or nil when there is none or the record at its seq no longer has its
    /// entry hash.
    func snapshot(incident: String) throws -> StateSnapshot?

    /// Replaces the incident's snapshot, in a short transaction of its own. The record at `snapshot.seq` must
    /// have `snapshot.entryHash`. Callers ignore a failure: the snapshot is only a cache.
    func saveSnapshot(_ snapshot: StateSnapshot) throws
}

extension AuditLog {
    /// Every record of an incident, in order.
    public func events(incident: String) throws -> [StoredEvent] {
        try events(incident: incident, from: 1)
    }

    /// Calls `body` for every record of an incident, in order.
    public func forEachEvent(incident: String, _ body: (StoredEvent) throws -> Void) throws {
        try forEachEvent(incident: incident, from: 1, body)
    }

    /// `forEachRecord(incident:from:)` from the first record.
    public func forEachRecord(incident: String, _ body: (StoredRecord) throws -> Void) throws {
        try forEachRecord(incident: incident, from: 1, body)
    }
}

/// One stored record with its columns and exact bytes, not decoded (`AuditLog.forEachRecord`).
public struct StoredRecord: Sendable, Hashable {
    /// The incident.
    public var incidentID: String
    /// Position in the incident's trail, from 1.
    public var seq: Int
    /// Lower-case UUID.
    public var eventID: String
    /// The idempotency key.
    public var idempotencyKey: String
    /// The record type.
    public var type: RecordType
    /// Who caused it (the columns).
    public var actor: AuditActor
    /// When it was recorded (the column).
    public var recordedAt: Instant
    /// The canonical record bytes exactly as stored and hashed.
    public var record: [UInt8]
    /// Entry hash of the previous record, as stored.
    public var prevHash: [UInt8]
    /// Entry hash of this record, as stored.
    public var entryHash: [UInt8]

    /// A record as read from storage.
    public init(incidentID: String, seq: Int, eventID: String, idempotencyKey: String, type: RecordType,
                actor: AuditActor, recordedAt: Instant, record: [UInt8], prevHash: [UInt8], entryHash: [UInt8])
    {
        self.incidentID = incidentID
        self.seq = seq
        self.eventID = eventID
        self.idempotencyKey = idempotencyKey
        self.type = type
        self.actor = actor
        self.recordedAt = recordedAt
        self.record = record
        self.prevHash = prevHash
        self.entryHash = entryHash
    }
}

/// The folded state of an incident at one record, as the runtime serialised it: a cache that spares replaying
/// the records up to `seq`. Never evidence: it is stored outside the chain and checked against it on load.
public struct StateSnapshot: Sendable, Hashable {
    /// The incident.
    public var incidentID: String
    /// The last record folded into `bytes`.
    public var seq: Int
    /// The entry hash of record `seq` (lower-case hex).
    public var entryHash: String
    /// The engine that folded it: a snapshot from another version is rebuilt, not used (1–128 characters).
    public var engineVersion: String
    /// The serialised state (the runtime's format; at most `SQLiteAuditLog.maximumSnapshotBytes`).
    public var bytes: [UInt8]
    /// When it was saved.
    public var savedAt: Instant

    /// A snapshot of `incidentID` folded up to record `seq`, whose entry hash is `entryHash` (hex).
    public init(incidentID: String, seq: Int, entryHash: String, engineVersion: String, bytes: [UInt8],
                savedAt: Instant)
    {
        self.incidentID = incidentID
        self.seq = seq
        self.entryHash = entryHash
        self.engineVersion = engineVersion
        self.bytes = bytes
        self.savedAt = savedAt
    }
}
