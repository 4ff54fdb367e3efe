import GRDB

/// The database schema, as migrations with frozen names. A shipped migration is never edited: changes come as
/// new migrations appended to `all`.
enum AuditSchema {
    struct Migration {
        let name: String
        let sql: String
    }

    /// Event types the schema accepts: the `event_type` CHECK list, which a test compares with every migration.
    static let eventTypes = RecordType.allCases.map(\.rawValue)

    /// The migration that adds the snapshot cache (a database without it is still a valid trail).
    static let snapshotMigrationName = "2026-11 v2 state snapshot cache"

    /// Tables outside the evidence: caches that are replaced, not appended to, and that `verify` never reads.
    static let cacheTables = ["state_snapshot"]

    /// Triggers `verify` expects to find; a missing one means someone altered the schema.
    static let requiredTriggers = [
        "playbook_source_no_update", "playbook_source_no_delete", "playbook_source_no_replace",
        "incident_no_update", "incident_no_delete", "incident_no_replace",
        "incident_file_no_update", "incident_file_no_delete", "incident_file_no_replace",
        "audit_event_no_update", "audit_event_no_delete", "audit_event_link", "audit_event_unique",
        "audit_checkpoint_no_update", "audit_checkpoint_no_delete", "audit_checkpoint_link",
    ]

    static let all: [Migration] = [
        Migration(name: "2025-01 v1 audit schema", sql: v1),
        Migration(name: snapshotMigrationName, sql: v2StateSnapshot),
    ]

    private static func appendOnly(_ table: String, key: String) -> String {
        """
        CREATE TRIGGER \(table)_no_update BEFORE UPDATE ON \(table)
        BEGIN SELECT RAISE(ABORT, '\(table) is append-only: UPDATE refused'); END;
        CREATE TRIGGER \(table)_no_delete BEFORE DELETE ON \(table)
        BEGIN SELECT RAISE(ABORT, '\(table) is append-only: DELETE refused'); END;
        CREATE TRIGGER \(table)_no_replace BEFORE INSERT ON \(table)
        WHEN EXISTS (SELECT 1 FROM \(table) WHERE \(key))
        BEGIN SELECT RAISE(ABORT, '\(table) is append-only: row exists (REPLACE refused)'); END;
        """
    }

    private static let v1 = """
        CREATE TABLE playbook_source (
          sha256 BLOB NOT NULL PRIMARY KEY CHECK (length(sha256) = 32),
          file_name TEXT NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
          bytes BLOB NOT NULL CHECK (length(bytes) <= 1048576),
          loaded_utc_ms INTEGER NOT NULL CHECK (loaded_utc_ms > 0)) STRICT;

        CREATE TABLE incident (
          incident_id TEXT NOT NULL PRIMARY KEY CHECK (length(incident_id) BETWEEN 1 AND 64
                                                       AND incident_id NOT GLOB '*[^A-Za-z0-9._-]*'),
          origin TEXT NOT NULL CHECK (length(origin) BETWEEN 1 AND 255),
          title TEXT NOT NULL CHECK (length(title) <= 1024),
          playbook_id TEXT NOT NULL CHECK (length(playbook_id) BETWEEN 1 AND 128),
          playbook_version TEXT NOT NULL CHECK (length(playbook_version) <= 64),
          mode TEXT NOT NULL CHECK (mode IN ('live', 'drill')),
          genesis_hash BLOB NOT NULL CHECK (length(genesis_hash) = 32),
          playbook_sha256 BLOB NOT NULL REFERENCES playbook_source(sha256),
          created_utc_ms INTEGER NOT NULL CHECK (created_utc_ms > 0)) STRICT;

        CREATE TABLE incident_file (
          incident_id TEXT NOT NULL REFERENCES incident(incident_id),
          position INTEGER NOT NULL CHECK (position >= 0),
          sha256 BLOB NOT NULL REFERENCES playbook_source(sha256),
          file_name TEXT NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
          PRIMARY KEY (incident_id, position)) STRICT;

        CREATE TABLE audit_event (
          incident_id TEXT NOT NULL REFERENCES incident(incident_id),
          seq INTEGER NOT NULL CHECK (seq >= 1),
          event_id TEXT NOT NULL UNIQUE CHECK (length(event_id) = 36),
          idempotency_key TEXT NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 128),
          event_type TEXT NOT NULL CHECK (event_type IN ('incident.opened', 'operator.action', 'timer.fired',
            'clock.advanced', 'action.intent', 'action.outcome', 'operator.note', 'input.rejected',
            'checkpoint.issued')),
          recorded_utc_ms INTEGER NOT NULL CHECK (recorded_utc_ms > 0),
          actor_id TEXT NOT NULL CHECK (length(actor_id) BETWEEN 1 AND 128),
          actor_role TEXT CHECK (actor_role IS NULL OR length(actor_role) BETWEEN 1 AND 128),
          record BLOB NOT NULL CHECK (length(record) BETWEEN 2 AND 262144),
          prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),
          entry_hash BLOB NOT NULL UNIQUE CHECK (length(entry_hash) = 32),
          PRIMARY KEY (incident_id, seq),
          UNIQUE (incident_id, idempotency_key)) STRICT;

        CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
        BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused'); END;
        CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
        BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: DELETE refused'); END;
        -- Chain link; also closes the INSERT OR REPLACE hole on the primary key.
        CREATE TRIGGER audit_event_link BEFORE INSERT ON audit_event
        WHEN NEW.seq <> COALESCE((SELECT max(seq) FROM audit_event WHERE incident_id = NEW.incident_id), 0) + 1
          OR NEW.prev_hash IS NOT COALESCE(
            (SELECT entry_hash FROM audit_event WHERE incident_id = NEW.incident_id AND seq = NEW.seq - 1),
            (SELECT genesis_hash FROM incident WHERE incident_id = NEW.incident_id AND NEW.seq = 1))
        BEGIN SELECT RAISE(ABORT, 'audit_event: not the next link (seq or prev_hash mismatch)'); END;
        -- INSERT OR REPLACE on a UNIQUE column would silently delete the older row: refuse any clash first.
        CREATE TRIGGER audit_event_unique BEFORE INSERT ON audit_event
        WHEN EXISTS (SELECT 1 FROM audit_event WHERE event_id = NEW.event_id OR entry_hash = NEW.entry_hash
                     OR (incident_id = NEW.incident_id AND idempotency_key = NEW.idempotency_key))
        BEGIN SELECT RAISE(ABORT, 'audit_event: duplicate event id, entry hash or idempotency key'); END;

        CREATE TABLE audit_checkpoint (
          incident_id TEXT NOT NULL REFERENCES incident(incident_id),
          tree_size INTEGER NOT NULL CHECK (tree_size >= 1),
          merkle_root BLOB NOT NULL CHECK (length(merkle_root) = 32),
          chain_head BLOB NOT NULL CHECK (length(chain_head) = 32),
          key_name TEXT NOT NULL CHECK (length(key_name) BETWEEN 1 AND 255),
          signed_note BLOB NOT NULL CHECK (length(signed_note) BETWEEN 1 AND 65536),
          tsa_response BLOB,
          created_utc_ms INTEGER NOT NULL CHECK (created_utc_ms > 0),
          PRIMARY KEY (incident_id, tree_size, key_name)) STRICT;

        CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint
        BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only: UPDATE refused'); END;
        CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
        BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only: DELETE refused'); END;
        CREATE TRIGGER audit_checkpoint_link BEFORE INSERT ON audit_checkpoint
        WHEN EXISTS (SELECT 1 FROM audit_checkpoint WHERE incident_id = NEW.incident_id
                     AND tree_size = NEW.tree_size AND key_name = NEW.key_name)
          OR NEW.chain_head IS NOT (SELECT entry_hash FROM audit_event
                                    WHERE incident_id = NEW.incident_id AND seq = NEW.tree_size)
        BEGIN SELECT RAISE(ABORT, 'audit_checkpoint: exists already, or chain_head is not the entry at tree_size'); END;

        \(appendOnly("playbook_source", key: "sha256 = NEW.sha256"))
        \(appendOnly("incident", key: "incident_id = NEW.incident_id"))
        \(appendOnly("incident_file", key: "incident_id = NEW.incident_id AND position = NEW.position"))
        """

    /// A cache of the folded state of an incident (a snapshot), one row per incident, REPLACED on every save:
    /// not evidence, outside the hash chain, never read by `verify`. Each row names the seq and entry hash it
    /// was folded to; a reader uses it only while that record is still in the trail with that hash.
    private static let v2StateSnapshot = """
        CREATE TABLE state_snapshot (
          incident_id TEXT NOT NULL PRIMARY KEY REFERENCES incident(incident_id),
          seq INTEGER NOT NULL CHECK (seq >= 1),
          entry_hash BLOB NOT NULL CHECK (length(entry_hash) = 32),
          engine_version TEXT NOT NULL CHECK (length(engine_version) BETWEEN 1 AND 128),
          bytes BLOB NOT NULL CHECK (length(bytes) <= 1048576),
          saved_utc_ms INTEGER NOT NULL CHECK (saved_utc_ms > 0)) STRICT;
        """

    /// The table that records applied migrations (its text is compared by `verify`: never change it).
    static let migrationTable = """
        CREATE TABLE IF NOT EXISTS schema_migration (
          name TEXT NOT NULL PRIMARY KEY) STRICT
        """

    /// The names of the migrations recorded as applied, or nil when the file has no `schema_migration` table
    /// (read-only).
    static func appliedMigrations(_ db: Database) throws -> Set<String>? {
        guard try Int.fetchOne(db, sql: """
            SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migration'
            """) == 1
        else { return nil }
        return Set(try String.fetchAll(db, sql: "SELECT name FROM schema_migration"))
    }

    /// Whether every migration is recorded as applied (read-only).
    static func isCurrent(_ db: Database) throws -> Bool {
        guard let applied = try appliedMigrations(db) else { return false }
        return all.allSatisfy { applied.contains($0.name) }
    }

    /// Applies the migrations not yet recorded in `schema_migration`. Runs inside the store's write
    /// transaction (BEGIN IMMEDIATE), so two processes opening a new file at once cannot both migrate.
    static func migrate(_ db: Database) throws {
        // Only a new, empty file gets the schema created. A file that already has tables but no record of its
        // migrations is not an audit database, or its schema was damaged: creating tables there would hide the
        // damage behind an empty, healthy-looking trail.
        let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0
        let hasMigrationTable = try Int.fetchOne(db, sql: """
            SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migration'
            """) ?? 0
        if tables > 0 && hasMigrationTable == 0 {
            throw AuditError.integrity("the database has tables but no schema_migration table: it is not a crisis "
                + "audit database, or its schema is damaged; nothing was changed")
        }
        try db.execute(sql: migrationTable)
        let applied = Set(try String.fetchAll(db, sql: "SELECT name FROM schema_migration"))
        if tables > 0, let first = all.first, !applied.contains(first.name) {
            throw AuditError.integrity("the database's schema_migration table lacks '\(first.name)': the schema is "
                + "damaged or foreign; nothing was changed")
        }
        for migration in all where !applied.contains(migration.name) {
            try db.execute(sql: migration.sql)
            try db.execute(sql: "INSERT INTO schema_migration (name) VALUES (?)", arguments: [migration.name])
        }
    }
}
