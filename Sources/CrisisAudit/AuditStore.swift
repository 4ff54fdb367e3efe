import CrisisCore
import Foundation
import GRDB

#if canImport(GRDBSQLite)
import GRDBSQLite
#elseif canImport(SQLite3)
import SQLite3
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Who writes records: copied into every record's `where` object.
public struct WriterInfo: Sendable, Hashable {
    /// Host name.
    public var host: String
    /// Process id.
    public var pid: Int64
    /// `crisis` version.
    public var appVersion: String

    /// Fixed values (tests, imports).
    public init(host: String, pid: Int64, appVersion: String) {
        self.host = host
        self.pid = pid
        self.appVersion = appVersion
    }

    /// This process: its host name and pid.
    public static func current(appVersion: String = AuditStore.defaultAppVersion) -> WriterInfo {
        var buffer = [CChar](repeating: 0, count: 256)
        let host: String
        if gethostname(&buffer, buffer.count - 1) == 0 {
            host = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        } else {
            host = "unknown"
        }
        return WriterInfo(host: host.isEmpty ? "unknown" : host, pid: Int64(getpid()), appVersion: appVersion)
    }
}

/// The connection settings read back from SQLite (see `AuditStore.connectionSettings()`).
public struct ConnectionSettings: Sendable, Hashable {
    /// `wal`.
    public var journalMode: String
    /// 2 = FULL.
    public var synchronous: Int
    /// `PRAGMA foreign_keys` (must be on).
    public var foreignKeys: Bool
    /// `PRAGMA trusted_schema` (must be off).
    public var trustedSchema: Bool
    /// `PRAGMA busy_timeout` (10000).
    public var busyTimeoutMilliseconds: Int
    /// `PRAGMA journal_size_limit` (67108864).
    public var journalSizeLimit: Int
    /// Whether `SQLITE_DBCONFIG_DEFENSIVE` is on (nil when it cannot be reached on this platform).
    public var defensive: Bool?
    /// SQLite library version, such as `3.40.1`.
    public var sqliteVersion: String
}

/// The name the runtime and the CLI have always used for the SQLite audit log.
public typealias AuditStore = SQLiteAuditLog

/// The audit trail of every incident, in one SQLite file (WAL, `synchronous=FULL`, STRICT tables, append-only
/// triggers, every write in one `BEGIN IMMEDIATE` transaction): the `AuditLog` for one machine. The only type in
/// the project that talks to SQLite. Safe to share between threads; several instances (or processes) may open
/// the same file.
///
/// See docs/audit-format.md for the schema, the record format and the hash definitions.
public final class SQLiteAuditLog: AuditLog {
    /// How a store is opened.
    public enum OpenMode: Sendable, Hashable {
        /// For writers (`start`, `act`…): creates the file if missing and brings its schema up to date (the
        /// migrations run in one `BEGIN IMMEDIATE` transaction).
        case create
        /// For readers (`status`, `log`, `verify`…): never creates a file or changes its schema. Refuses a missing
        /// file and one that is not an audit database; accepts an audit database whose schema lacks later
        /// migrations (then `snapshot` answers nil and `saveSnapshot` throws). It is not a read-only connection:
        /// appends and snapshot saves still work on a current schema. On media it cannot write (the file or its
        /// folder not writable, a read-only mount) it opens as `.readOnly` instead.
        case existing
        /// For readers of evidence: as `.existing`, through a read-only connection that never writes and never
        /// creates a file (not even the `-wal` and `-shm`). A database whose `-wal` is absent or empty (every
        /// record is in the main file, as after a clean close) is opened `immutable=1`: no locks, no `-shm`. One
        /// whose `-wal` still holds records is opened `mode=ro`, which needs its `-shm` beside it (or a folder
        /// where SQLite may create one); without either it is refused with advice rather than read without its
        /// newest records. Appends and snapshot saves throw. See docs/audit-format.md, "Read-only media".
        case readOnly
    }

    /// The database file.
    public let path: String
    /// Copied into each record's `where`.
    public let writer: WriterInfo
    /// How the store was opened.
    public let mode: OpenMode
    /// Whether the connection is read-only (`.readOnly`, or `.existing` on media it cannot write).
    public let isReadOnly: Bool
    /// Whether the file has the snapshot table (a database a reader opened before a writer migrated it has not).
    let hasSnapshotTable: Bool
    /// A reader opened a file with no tables at all, as a `start` that crashed before its schema committed leaves
    /// it: it holds no incidents, and nothing is created in it.
    let isBlank: Bool
    let queue: DatabaseQueue

    /// The database file's path.
    public var location: String { path }

    /// `app_version` written into records when the runtime does not pass one.
    public static let defaultAppVersion = "0.1.0"
    /// The event types the store accepts.
    public static let eventTypes: [String] = AuditSchema.eventTypes
    /// Largest canonical record (bytes).
    public static let maximumRecordBytes = 262_144
    /// Largest pinned file (bytes).
    public static let maximumPinnedFileBytes = 1_048_576
    /// Largest state snapshot (bytes); a larger one is not saved (the caller replays instead).
    public static let maximumSnapshotBytes = 1_048_576
    /// How long `saveSnapshot` waits for another writer's lock before giving up (it is only a cache).
    public static let snapshotBusyTimeoutMilliseconds = 100
    /// How long a write waits for another writer's lock before failing.
    public static let busyTimeoutSeconds: TimeInterval = 10

    /// Opens the database at `path`. With `.create` (the default) a missing file is created (and its parent
    /// directory) and an older schema is migrated; with `.existing` neither happens.
    ///
    /// Refuses (`AuditError.unsafeLocation`) a path that is a symbolic link, has more than one hard link, lies on
    /// a network or FUSE filesystem, or whose WAL-mode database has a `-shm` but lost its `-wal`. Applies the
    /// connection settings on every open and checks that WAL and `synchronous=FULL` really took effect.
    public init(path: String, writer: WriterInfo = .current(), mode: OpenMode = .create) throws {
        if mode != .create && DatabaseLocation.facts(path).kind == .missing {
            throw AuditError.io(operation: "open \(path)", underlying: "no database there (opened as existing: nothing is created)")
        }
        try DatabaseLocation.check(path)
        self.path = path
        self.writer = writer
        self.mode = mode
        let opened = try AuditStore.open(path, mode: mode)
        queue = opened.queue
        isReadOnly = opened.readOnly
        // The schema: a read tells whether it is current (the common case, no write lock taken); only a new or
        // older database goes through the migrating write transaction, and only for a writer.
        let applied: Set<String>?
        do {
            applied = try queue.read { db in try AuditSchema.appliedMigrations(db) }
        } catch {
            applied = nil
        }
        let current = AuditSchema.all.allSatisfy { applied?.contains($0.name) ?? false }
        var blank = false
        if mode != .create && applied == nil {
            blank = (try? queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") }) == 0
        }
        isBlank = blank
        if blank {
            hasSnapshotTable = false
        } else if mode != .create {
            guard let applied, let first = AuditSchema.all.first, applied.contains(first.name) else {
                throw AuditError.integrity("\(path) is not a crisis audit database (no recorded schema); "
                    + "nothing was changed")
            }
            hasSnapshotTable = applied.contains(AuditSchema.snapshotMigrationName)
        } else {
            hasSnapshotTable = true
        }
        if isReadOnly { return }
        if !current && mode == .create {
            try write("create the audit schema in \(path)") { db in
                do {
                    try AuditSchema.migrate(db)
                } catch let error as DatabaseError where error.resultCode == .SQLITE_ERROR {
                    throw AuditError.integrity("the schema of \(path) is not the audit schema (altered?): "
                        + (error.message ?? "\(error)"))
                }
            }
        }
        // GRDB's own setup is done (its journalMode is left at .default, so it changes neither pragma): check
        // that the durability settings hold.
        let settings = try connectionSettings()
        guard settings.journalMode == "wal", settings.synchronous == 2 else {
            throw AuditError.io(operation: "configure \(path)", underlying:
                "SQLite reports journal_mode=\(settings.journalMode), synchronous=\(settings.synchronous); "
                    + "the audit trail requires WAL and FULL (2)")
        }
    }

    /// Opens the connection: read-write for `.create`, and for `.existing` on media it can write; read-only
    /// otherwise (see `OpenMode.readOnly`).
    static func open(_ path: String, mode: OpenMode) throws -> (queue: DatabaseQueue, readOnly: Bool) {
        var config = Configuration()
        config.busyMode = .timeout(AuditStore.busyTimeoutSeconds)
        config.foreignKeysEnabled = true
        // Never `.wal`: GRDB would then lower synchronous to NORMAL after our settings.
        config.journalMode = .default
        config.label = "crisis.audit"
        let base = config  // prepareDatabase adds to a configuration: the read-only open starts from this one
        if mode == .readOnly || (mode == .existing && !DatabaseLocation.isWritable(path)) {
            return (try openReadOnly(path, config: base), true)
        }
        config.prepareDatabase { db in
            try AuditStore.applyConnectionSettings(db)
        }
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            if mode == .existing {
                // Media that refuses writes although access(2) allowed them (an immutable attribute, a
                // filesystem remounted read-only underneath): found by the first read.
                try queue.read { db in _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") }
            }
            return (queue, false)
        } catch where mode == .existing && isReadOnlyMediaError(error) {
            return (try openReadOnly(path, config: base), true)
        } catch {
            throw AuditStore.mapError(error, operation: "open \(path)")
        }
    }

    /// An open that failed because the media cannot be written: SQLite refused to write or create a file, or
    /// could not keep WAL mode (it cannot create the `-shm`). Never a busy or locked database: a reader must not
    /// then fall back to `immutable`, which takes no locks.
    static func isReadOnlyMediaError(_ error: any Error) -> Bool {
        if let e = error as? DatabaseError { return readOnlyMediaCodes.contains(e.resultCode) }
        if case .io(let operation, _)? = error as? AuditError { return operation == walOperation }
        return false
    }

    /// What SQLite answers when it may not write or create a file.
    static let readOnlyMediaCodes: [ResultCode] = [.SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM]

    /// The operation named when SQLite will not keep WAL mode.
    static let walOperation = "enable WAL"

    /// A read-only connection that creates no file: `immutable=1` when the `-wal` is absent or empty, else
    /// `mode=ro` (which reads the WAL through its `-shm`).
    static func openReadOnly(_ path: String, config base: Configuration) throws -> DatabaseQueue {
        guard sqlite3_compileoption_used("USE_URI") == 1 || sqlite3_compileoption_used("SQLITE_USE_URI") == 1 else {
            throw AuditError.io(operation: "open \(path) read-only", underlying: "this SQLite library does not "
                + "accept URI file names (built without SQLITE_USE_URI); copy the database to writable storage")
        }
        var config = base
        config.readonly = true
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF; PRAGMA query_only = ON;")
            AuditStore.applyLimits(db)
        }
        var st = stat()
        let walHoldsRecords = stat(path + "-wal", &st) == 0 && st.st_size > 0
        let uri = "file:" + DatabaseLocation.uriPath(path) + (walHoldsRecords ? "?mode=ro" : "?immutable=1")
        do {
            let queue = try DatabaseQueue(path: uri, configuration: config)
            try queue.read { db in _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") }
            return queue
        } catch let error as DatabaseError where walHoldsRecords && readOnlyMediaCodes.contains(error.resultCode) {
            throw AuditError.io(operation: "open \(path) read-only", underlying: "its -wal file holds records not "
                + "yet in the main file, and SQLite needs a -shm file beside it (or a folder it may write) to read "
                + "them (\(error.message ?? "\(error)")); copy the database with its -wal and -shm files to "
                + "writable storage and read the copy")
        } catch {
            throw AuditStore.mapError(error, operation: "open \(path) read-only")
        }
    }

    /// A second, read-only connection to the file a store has open, for a check that runs beside the store's own
    /// reads (`verify`'s structural check). For evidence (`readOnly`) the same kind of connection the store has;
    /// otherwise a plain read-only one, which takes WAL locks like any reader, so a live writer is safe.
    static func openSideReader(_ path: String, evidence: Bool) throws -> DatabaseQueue {
        var config = Configuration()
        config.busyMode = .timeout(AuditStore.busyTimeoutSeconds)
        config.journalMode = .default
        config.label = "crisis.audit.side"
        if evidence { return try openReadOnly(path, config: config) }
        config.readonly = true
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA trusted_schema = OFF; PRAGMA query_only = ON;")
            AuditStore.applyLimits(db)
        }
        return try DatabaseQueue(path: path, configuration: config)
    }

    /// Pragmas and C-level limits applied on every connection.
    static func applyConnectionSettings(_ db: Database) throws {
        let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
        guard mode?.lowercased() == "wal" else {
            throw AuditError.io(operation: walOperation, underlying: "SQLite kept journal_mode=\(mode ?? "?")")
        }
        try db.execute(sql: """
            PRAGMA synchronous = FULL;
            PRAGMA foreign_keys = ON;
            PRAGMA trusted_schema = OFF;
            PRAGMA journal_size_limit = 67108864;
            """)
        applyLimits(db)
    }

    /// C-level limits and defensive mode, on every connection (read-write and read-only): a row holds at most a
    /// 1 MiB pinned file; statements are short and parameterised.
    static func applyLimits(_ db: Database) {
        guard let connection = db.sqliteConnection else { return }
        _ = sqlite3_limit(connection, SQLITE_LIMIT_LENGTH, 2 * 1_048_576)
        _ = sqlite3_limit(connection, SQLITE_LIMIT_SQL_LENGTH, 100_000)
        _ = DefensiveMode.set(connection, on: true)
    }

    /// Reads back the settings of the store's connection.
    public func connectionSettings() throws -> ConnectionSettings {
        do {
            return try queue.writeWithoutTransaction { db in
                ConnectionSettings(
                    journalMode: try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "",
                    synchronous: try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1,
                    foreignKeys: (try Int.fetchOne(db, sql: "PRAGMA foreign_keys") ?? 0) == 1,
                    trustedSchema: (try Int.fetchOne(db, sql: "PRAGMA trusted_schema") ?? 1) == 1,
                    busyTimeoutMilliseconds: try Int.fetchOne(db, sql: "PRAGMA busy_timeout") ?? 0,
                    journalSizeLimit: try Int.fetchOne(db, sql: "PRAGMA journal_size_limit") ?? 0,
                    defensive: db.sqliteConnection.flatMap { DefensiveMode.get($0) },
                    sqliteVersion: try String.fetchOne(db, sql: "SELECT sqlite_version()") ?? "")
            }
        } catch {
            throw AuditStore.mapError(error, operation: "read connection settings")
        }
    }

    // MARK: - The one write path

    /// Runs `body` in `BEGIN IMMEDIATE … COMMIT`. Every write of the store goes through here. A failed COMMIT
    /// throws (the outcome is then unknown: re-read by idempotency key before retrying).
    func write<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        guard !isReadOnly else { throw AuditStore.readOnlyError(operation, path: path) }
        var result: T?
        do {
            try queue.inTransaction(.immediate) { db in
                result = try body(db)
                return .commit
            }
        } catch {
            throw AuditStore.mapError(error, operation: operation)
        }
        guard let result else {
            throw AuditError.io(operation: operation, underlying: "the transaction returned no result")
        }
        return result
    }

    /// Runs `body` in a read transaction (a consistent snapshot).
    func read<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.read(body)
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw AuditStore.mapError(error, operation: operation)
        }
    }

    /// The refusal of a write through a read-only connection.
    static func readOnlyError(_ operation: String, path: String) -> AuditError {
        .io(operation: operation, underlying: "\(path) was opened read-only (read-only media, or "
            + "CRISIS_READ_ONLY); nothing was recorded")
    }

    /// Translates SQLite errors into `AuditError`s that name the operation.
    static func mapError(_ error: any Error, operation: String) -> AuditError {
        if let e = error as? AuditError { return e }
        if let e = error as? CanonicalJSONError { return .integrity("\(operation): \(e)") }
        guard let e = error as? DatabaseError else {
            return .io(operation: operation, underlying: "\(error)")
        }
        let message = e.message ?? "\(e)"
        switch e.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return .io(operation: operation, underlying: "the database stayed locked by another writer for more "
                + "than \(Int(busyTimeoutSeconds)) s (\(message)); nothing was recorded")
        case .SQLITE_FULL:
            return .io(operation: operation, underlying: "disk or database full (\(message)); nothing was recorded")
        case .SQLITE_IOERR:
            return .io(operation: operation, underlying: "disk I/O error (\(message)); if it happened at COMMIT the "
                + "outcome is unknown: reopen the store and look the event up by its idempotency key")
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return .integrity("\(operation): the database file is corrupt or not a crisis database (\(message))")
        case .SQLITE_CONSTRAINT:
            return .integrity("\(operation): refused by the schema (\(message))")
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH:
            return .io(operation: operation, underlying: "cannot write or open the database (\(message))")
        default:
            return .io(operation: operation, underlying: "SQLite error \(e.resultCode.rawValue): \(message)")
        }
    }

    // MARK: - Writing

    /// Creates an incident: its header, its pinned files and its first event (seq 1), in one transaction.
    /// The playbook named by `header.playbookSHA256` must be among `files` (or already pinned).
    @discardableResult
    public func createIncident(_ header: NewIncident, files: [PinnedFile], firstEvent: EventDraft) throws
        -> StoredEvent
    {
        try Validate.incident(header)
        for file in files { try Validate.pinnedFile(file) }
        try Validate.draft(firstEvent)
        guard let playbookHash = Hex.decode(header.playbookSHA256) else {
            throw AuditError.invalid("playbook SHA-256 is not hex")
        }
        let createdMs = header.createdAt.millisecondsSinceEpoch
        let genesis = HashChain.genesis(incidentID: header.id, origin: header.origin,
                                        createdUTCMilliseconds: createdMs, playbookSHA256: playbookHash)
        return try write("create incident \(header.id)") { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM incident WHERE incident_id = ?", arguments: [header.id])
                ?? false
            {
                throw AuditError.duplicateIncident(header.id)
            }
            for file in files {
                let hash = Data(Hex.decode(file.sha256) ?? [])
                let known = try Bool.fetchOne(db, sql: "SELECT 1 FROM playbook_source WHERE sha256 = ?",
                                              arguments: [hash]) ?? false
                if !known {
                    try db.execute(sql: """
                        INSERT INTO playbook_source (sha256, file_name, bytes, loaded_utc_ms) VALUES (?, ?, ?, ?)
                        """, arguments: [hash, file.fileName, Data(file.bytes), createdMs])
                }
            }
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM playbook_source WHERE sha256 = ?",
                                    arguments: [Data(playbookHash)]) ?? false
            else {
                throw AuditError.invalid("the playbook \(header.playbookSHA256) is not among the pinned files")
            }
            try db.execute(sql: """
                INSERT INTO incident (incident_id, origin, title, playbook_id, playbook_version, mode, genesis_hash,
                                      playbook_sha256, created_utc_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [header.id, header.origin, header.title, header.playbookID, header.playbookVersion,
                                 header.mode.rawValue, Data(genesis), Data(playbookHash), createdMs])
            for (position, file) in files.enumerated() {
                try db.execute(sql: """
                    INSERT INTO incident_file (incident_id, position, sha256, file_name) VALUES (?, ?, ?, ?)
                    """, arguments: [header.id, position, Data(Hex.decode(file.sha256) ?? []), file.fileName])
            }
            let first = HashChain.next(afterSeq: 0, entryHash: nil, genesis: genesis)
            return try insertEvent(db, incident: header.id, seq: first.seq, prev: first.prev, draft: firstEvent)
        }
    }

    /// Appends events to an incident in one transaction and returns them as stored.
    ///
    /// - A draft whose idempotency key is already recorded for the incident is not appended again: the recorded
    ///   event is returned with `replayedFromKey = true` (a retry after a lost acknowledgement). If every draft
    ///   is such a retry, `expectedSeq` is not checked.
    /// - Otherwise, when `expectedSeq` is given and differs from the head's seq (0 for none), throws
    ///   `AuditError.conflict` naming the head's seq, actor and type; nothing is written.
    public func append(incident: String, expectedSeq: Int?, events: [EventDraft]) throws -> [StoredEvent] {
        for draft in events { try Validate.draft(draft) }
        var seen = Set<String>()
        for draft in events where !seen.insert(draft.idempotencyKey).inserted {
            throw AuditError.invalid("idempotency key '\(draft.idempotencyKey)' appears twice in one append")
        }
        guard !events.isEmpty else { return [] }
        return try write("append to incident \(incident)") { db in
            guard let genesis = try Data.fetchOne(
                db, sql: "SELECT genesis_hash FROM incident WHERE incident_id = ?", arguments: [incident])
            else { throw AuditError.unknownIncident(incident) }
            var results: [StoredEvent?] = []
            for draft in events {
                if let existing = try fetchEvent(db, incident: incident, idempotencyKey: draft.idempotencyKey) {
                    guard existing.type == draft.type, existing.actor == draft.actor else {
                        throw AuditError.idempotencyKeyReused(key: draft.idempotencyKey, existingSeq: existing.seq,
                                                              existingType: existing.type.rawValue)
                    }
                    var replay = existing
                    replay.replayedFromKey = true
                    results.append(replay)
                } else {
                    results.append(nil)
                }
            }
            if results.allSatisfy({ $0 != nil }) { return results.compactMap { $0 } }
            let head = try fetchHead(db, incident: incident)
            let headSeq = head?.seq ?? 0
            if let expectedSeq, expectedSeq != headSeq {
                throw AuditError.conflict(head: headSeq, by: head?.actorID ?? "nobody",
                                          type: head?.type.rawValue ?? "none")
            }
            var next = HashChain.next(afterSeq: headSeq, entryHash: head?.entryHash, genesis: Array(genesis))
            var stored: [StoredEvent] = []
            stored.reserveCapacity(events.count)
            for (i, draft) in events.enumerated() {
                if let replay = results[i] {
                    stored.append(replay)
                    continue
                }
                let event = try insertEvent(db, incident: incident, seq: next.seq, prev: next.prev, draft: draft)
                next = HashChain.next(afterSeq: event.seq, entryHash: event.entryHash, genesis: Array(genesis))
                stored.append(event)
            }
            return stored
        }
    }

    /// A random (version 4) lower-case UUID from the system's generator. Foundation's `UUID()` opens
    /// /dev/urandom on every call on Linux, a system call more per record in a batch.
    static func randomEventID() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<2).flatMap { _ -> [UInt8] in
            let word = generator.next() as UInt64
            return (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * UInt64($0))) }
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        var text = ""
        text.reserveCapacity(36)
        for (i, group) in [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].enumerated() {
            if i > 0 { text += "-" }
            text += Hex.encode(bytes[group])
        }
        return text
    }

    /// Builds the canonical record for `draft` at `seq` after `prev`, and inserts it.
    func insertEvent(_ db: Database, incident: String, seq: Int, prev: [UInt8], draft: EventDraft) throws
        -> StoredEvent
    {
        let eventID = draft.eventID ?? Self.randomEventID()
        let record = try HashChain.recordBytes(HashChain.RecordFields(
            incidentID: incident, seq: seq, prevHash: prev, eventID: eventID, idempotencyKey: draft.idempotencyKey,
            type: draft.type, recordedAt: draft.recordedAt, actor: draft.actor, writer: writer, body: draft.body))
        guard record.count <= AuditStore.maximumRecordBytes else {
            throw AuditError.invalid("the \(draft.type) record is \(record.count) bytes; the limit is "
                + "\(AuditStore.maximumRecordBytes)")
        }
        let entry = HashChain.entryHash(record: record)
        // A cached statement: a batch of appends compiles the INSERT (and its triggers) once.
        let insert = try db.cachedStatement(sql: """
            INSERT INTO audit_event (incident_id, seq, event_id, idempotency_key, event_type, recorded_utc_ms,
                                     actor_id, actor_role, record, prev_hash, entry_hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try insert.execute(arguments: [incident, seq, eventID, draft.idempotencyKey, draft.type.rawValue,
                                       draft.recordedAt.millisecondsSinceEpoch, draft.actor.id, draft.actor.role,
                                       Data(record), Data(prev), Data(entry)])
        return StoredEvent(incidentID: incident, seq: seq, eventID: eventID, idempotencyKey: draft.idempotencyKey,
                           type: draft.type, actor: draft.actor, recordedAt: draft.recordedAt, body: draft.body,
                           record: record, prevHash: prev, entryHash: entry, replayedFromKey: false)
    }

    // MARK: - Reading

    static let eventColumns = """
        incident_id, seq, event_id, idempotency_key, event_type, recorded_utc_ms, actor_id, actor_role, record,
        prev_hash, entry_hash
        """

    /// Decodes a row selected with `eventColumns`; the body comes from the canonical record.
    static func decodeEvent(_ row: Row) throws -> StoredEvent {
        try decodeEvent(decodeRecord(row))
    }

    /// A record read by `forEachRecord`, decoded as `forEachEvent` gives it (the same error for one that is not
    /// canonical JSON).
    public static func decodeEvent(_ stored: StoredRecord) throws -> StoredEvent {
        let value: CanonicalValue
        do {
            value = try CanonicalJSON.decode(stored.record)
        } catch {
            throw AuditError.integrity("seq \(stored.seq): the stored record is not canonical JSON (\(error))")
        }
        return StoredEvent(
            incidentID: stored.incidentID, seq: stored.seq, eventID: stored.eventID,
            idempotencyKey: stored.idempotencyKey, type: stored.type, actor: stored.actor,
            recordedAt: stored.recordedAt, body: value["body"] ?? .null, record: stored.record,
            prevHash: stored.prevHash, entryHash: stored.entryHash, replayedFromKey: false)
    }

    /// Reads a row selected with `eventColumns` without decoding the record.
    static func decodeRecord(_ row: Row) throws -> StoredRecord {
        let r = RowReader(row: row)
        let seq = try r.int(1, "seq")
        return StoredRecord(
            incidentID: try r.text(0, "incident_id"), seq: seq, eventID: try r.text(2, "event_id"),
            idempotencyKey: try r.text(3, "idempotency_key"), type: try RecordType.decode(r.text(4, "event_type"), seq: seq),
            actor: AuditActor(id: try r.text(6, "actor_id"), role: try r.optionalText(7, "actor_role")),
            recordedAt: Instant(millisecondsSinceEpoch: Int64(try r.int(5, "recorded_utc_ms"))),
            record: try r.blob(8, "record"), prevHash: try r.blob(9, "prev_hash"), entryHash: try r.blob(10, "entry_hash"))
    }

    func fetchEvent(_ db: Database, incident: String, idempotencyKey: String) throws -> StoredEvent? {
        let statement = try db.cachedStatement(sql: """
            SELECT \(AuditStore.eventColumns) FROM audit_event WHERE incident_id = ? AND idempotency_key = ?
            """)
        let row = try Row.fetchOne(statement, arguments: [incident, idempotencyKey])
        return try row.map(AuditStore.decodeEvent)
    }

    func fetchHead(_ db: Database, incident: String) throws -> ChainHead? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT seq, entry_hash, event_type, actor_id, recorded_utc_ms FROM audit_event
            WHERE incident_id = ? ORDER BY seq DESC LIMIT 1
            """, arguments: [incident])
        else { return nil }
        let r = RowReader(row: row)
        let seq = try r.int(0, "seq")
        return ChainHead(seq: seq, entryHash: try r.blob(1, "entry_hash"),
                         type: try RecordType.decode(r.text(2, "event_type"), seq: seq), actorID: try r.text(3, "actor_id"),
                         recordedAt: Instant(millisecondsSinceEpoch: Int64(try r.int(4, "recorded_utc_ms"))))
    }

    func incidentExists(_ db: Database, _ incident: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM incident WHERE incident_id = ?", arguments: [incident]) ?? false
    }

    /// The events of an incident from `seq` on, in order.
    public func events(incident: String, from seq: Int) throws -> [StoredEvent] {
        var out: [StoredEvent] = []
        try forEachEvent(incident: incident, from: seq) { out.append($0) }
        return out
    }

    /// Calls `body` for each event of an incident from `seq` on, in order, without loading them all (one read
    /// transaction: a consistent snapshot). Errors thrown by `body` stop the walk and are rethrown.
    public func forEachEvent(incident: String, from seq: Int, _ body: (StoredEvent) throws -> Void) throws {
        try read("read incident \(incident)") { db in
            guard try incidentExists(db, incident) else { throw AuditError.unknownIncident(incident) }
            let rows = try Row.fetchCursor(db, sql: """
                SELECT \(AuditStore.eventColumns) FROM audit_event WHERE incident_id = ? AND seq >= ? ORDER BY seq
                """, arguments: [incident, seq])
            while let row = try rows.next() {
                try body(try AuditStore.decodeEvent(row))
            }
        }
    }

    /// Calls `body` for each record of an incident in order, with its columns and exact bytes but without decoding
    /// them (one read transaction, rows streamed from a cursor): what export and `log --json` need.
    public func forEachRecord(incident: String, from seq: Int, _ body: (StoredRecord) throws -> Void) throws {
        try read("read incident \(incident)") { db in
            guard try incidentExists(db, incident) else { throw AuditError.unknownIncident(incident) }
            let rows = try Row.fetchCursor(db, sql: """
                SELECT \(AuditStore.eventColumns) FROM audit_event WHERE incident_id = ? AND seq >= ? ORDER BY seq
                """, arguments: [incident, seq])
            while let row = try rows.next() {
                try body(try AuditStore.decodeRecord(row))
            }
        }
    }

    /// The newest event of an incident, or nil if it has none. Throws `unknownIncident`.
    public func head(incident: String) throws -> ChainHead? {
        try read("read the head of incident \(incident)") { db in
            guard try incidentExists(db, incident) else { throw AuditError.unknownIncident(incident) }
            return try fetchHead(db, incident: incident)
        }
    }

    /// The seq of the newest event (0 for none), from the primary key alone: the change hint a board polls.
    /// Throws `unknownIncident`.
    public func headSeq(incident: String) throws -> Int {
        try read("read the head seq of incident \(incident)") { db in
            guard try incidentExists(db, incident) else { throw AuditError.unknownIncident(incident) }
            return try Int.fetchOne(db, sql: "SELECT max(seq) FROM audit_event WHERE incident_id = ?",
                                    arguments: [incident]) ?? 0
        }
    }

    /// The event recorded under an idempotency key, if any (to reconcile after a failed COMMIT).
    public func event(incident: String, idempotencyKey: String) throws -> StoredEvent? {
        try read("look up \(idempotencyKey) in incident \(incident)") { db in
            guard try incidentExists(db, incident) else { throw AuditError.unknownIncident(incident) }
            return try fetchEvent(db, incident: incident, idempotencyKey: idempotencyKey)
        }
    }

    static let incidentQuery = """
        SELECT i.incident_id, i.origin, i.title, i.playbook_id, i.playbook_version, i.playbook_sha256, i.mode,
               i.created_utc_ms, i.genesis_hash, e.seq, e.recorded_utc_ms, e.event_type
        FROM incident i
        LEFT JOIN audit_event e ON e.incident_id = i.incident_id
          AND e.seq = (SELECT max(seq) FROM audit_event WHERE incident_id = i.incident_id)
        """

    static func decodeIncident(_ row: Row) throws -> IncidentHeader {
        let r = RowReader(row: row)
        let modeText = try r.text(6, "mode")
        guard let mode = IncidentMode(rawValue: modeText) else {
            throw AuditError.integrity("incident mode '\(modeText)' is neither live nor drill")
        }
        let lastMs = try r.optionalInt(10, "recorded_utc_ms")
        return IncidentHeader(
            id: try r.text(0, "incident_id"), origin: try r.text(1, "origin"), title: try r.text(2, "title"),
            playbookID: try r.text(3, "playbook_id"), playbookVersion: try r.text(4, "playbook_version"),
            playbookSHA256: Hex.encode(try r.blob(5, "playbook_sha256")), mode: mode,
            createdAt: Instant(millisecondsSinceEpoch: Int64(try r.int(7, "created_utc_ms"))),
            genesisHash: try r.blob(8, "genesis_hash"), lastSeq: try r.optionalInt(9, "seq") ?? 0,
            lastEventAt: lastMs.map { Instant(millisecondsSinceEpoch: Int64($0)) },
            lastEventType: try r.optionalText(11, "event_type"))
    }

    /// Every incident with its newest event, oldest incident first (one query).
    public func incidents() throws -> [IncidentHeader] {
        if isBlank { return [] }
        return try read("list incidents") { db in
            try Row.fetchAll(db, sql: AuditStore.incidentQuery + " ORDER BY i.created_utc_ms, i.incident_id")
                .map(AuditStore.decodeIncident)
        }
    }

    /// One incident's header, or nil.
    public func incident(id: String) throws -> IncidentHeader? {
        if isBlank { return nil }
        return try read("read incident \(id)") { db in
            try Row.fetchOne(db, sql: AuditStore.incidentQuery + " WHERE i.incident_id = ?", arguments: [id])
                .map(AuditStore.decodeIncident)
        }
    }

    /// A pinned file by its hex SHA-256, or nil. Throws `integrity` if the stored bytes no longer match.
    public func pinnedFile(sha256: String) throws -> PinnedFile? {
        guard let key = Hex.decode(sha256), key.count == 32 else { return nil }
        return try read("read pinned file \(sha256)") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT file_name, bytes FROM playbook_source WHERE sha256 = ?",
                                             arguments: [Data(key)])
            else { return nil }
            let r = RowReader(row: row)
            let file = PinnedFile(fileName: try r.text(0, "file_name"), bytes: try r.blob(1, "bytes"))
            guard file.sha256 == sha256.lowercased() else {
                throw AuditError.integrity("pinned file \(sha256) no longer matches its SHA-256 (now \(file.sha256))")
            }
            return file
        }
    }

    /// The files pinned when the incident was created, in the order given, with the names given then.
    public func pinnedFiles(incident: String) throws -> [PinnedFile] {
        try read("read the pinned files of incident \(incident)") { db in
            guard try incidentExists(db, incident) else { throw AuditError.unknownIncident(incident) }
            let rows = try Row.fetchAll(db, sql: """
                SELECT f.sha256, f.file_name, s.bytes FROM incident_file f
                JOIN playbook_source s ON s.sha256 = f.sha256
                WHERE f.incident_id = ? ORDER BY f.position
                """, arguments: [incident])
            return try rows.map { row in
                let r = RowReader(row: row)
                let key = Hex.encode(try r.blob(0, "sha256"))
                let file = PinnedFile(fileName: try r.text(1, "file_name"), bytes: try r.blob(2, "bytes"))
                guard file.sha256 == key else {
                    throw AuditError.integrity("pinned file \(key) no longer matches its SHA-256")
                }
                return file
            }
        }
    }
}

/// Reads columns by index without GRDB's fatal conversions: a wrong type becomes an `integrity` error.
struct RowReader {
    let row: Row

    func value(_ i: Int) -> DatabaseValue { row[i] }

    func int(_ i: Int, _ name: String) throws -> Int {
        guard case .int64(let v) = value(i).storage, let n = Int(exactly: v) else {
            throw AuditError.integrity("column \(name) is not an integer")
        }
        return n
    }

    func optionalInt(_ i: Int, _ name: String) throws -> Int? {
        if value(i).isNull { return nil }
        return try int(i, name)
    }

    func text(_ i: Int, _ name: String) throws -> String {
        guard case .string(let s) = value(i).storage else {
            throw AuditError.integrity("column \(name) is not text")
        }
        return s
    }

    func optionalText(_ i: Int, _ name: String) throws -> String? {
        if value(i).isNull { return nil }
        return try text(i, name)
    }

    func blob(_ i: Int, _ name: String) throws -> [UInt8] {
        guard case .blob(let d) = value(i).storage else {
            throw AuditError.integrity("column \(name) is not a blob")
        }
        return [UInt8](d)
    }
}

/// `SQLITE_DBCONFIG_DEFENSIVE` through `sqlite3_db_config`, a C variadic function Swift does not import. On
/// Linux (x86_64, arm64) variadic integer arguments are passed like fixed ones, so the function is called
/// through a fixed-signature pointer found with `dlsym`. Elsewhere the setting is skipped (reported as nil).
enum DefensiveMode {
    static let SQLITE_DBCONFIG_DEFENSIVE: Int32 = 1010

    #if os(Linux) && (arch(x86_64) || arch(arm64))
    typealias DBConfigIntFunction = @convention(c) (OpaquePointer?, Int32, Int32, UnsafeMutablePointer<Int32>?)
        -> Int32

    static func function() -> DBConfigIntFunction? {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "sqlite3_db_config") else { return nil }
        return unsafeBitCast(symbol, to: DBConfigIntFunction.self)
    }
    #endif

    /// Turns defensive mode on or off; returns whether the call succeeded.
    static func set(_ connection: OpaquePointer, on: Bool) -> Bool {
        #if os(Linux) && (arch(x86_64) || arch(arm64))
        guard let f = function() else { return false }
        var out: Int32 = -1
        return f(connection, SQLITE_DBCONFIG_DEFENSIVE, on ? 1 : 0, &out) == SQLITE_OK && out == (on ? 1 : 0)
        #else
        return false
        #endif
    }

    /// The current setting, or nil if it cannot be read on this platform.
    static func get(_ connection: OpaquePointer) -> Bool? {
        #if os(Linux) && (arch(x86_64) || arch(arm64))
        guard let f = function() else { return nil }
        var out: Int32 = -1
        guard f(connection, SQLITE_DBCONFIG_DEFENSIVE, -1, &out) == SQLITE_OK else { return nil }
        return out == 1
        #else
        return nil
        #endif
    }
}
