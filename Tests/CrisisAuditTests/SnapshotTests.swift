import CrisisCore
import Foundation
import GRDB
import Testing

@testable import CrisisAudit

private func auditError(_ body: () throws -> Void) -> AuditError? {
    do {
        try body()
        return nil
    } catch let e as AuditError {
        return e
    } catch {
        return .io(operation: "unexpected", underlying: "\(error)")
    }
}

enum SnapshotFixture {
    static func snapshot(_ store: AuditStore, seq: Int, engine: String = "crisis/0.1", bytes: [UInt8]? = nil) throws
        -> StateSnapshot
    {
        let event = try #require(try store.events(incident: "INC-1", from: seq).first)
        return StateSnapshot(incidentID: "INC-1", seq: seq, entryHash: event.entryHashHex, engineVersion: engine,
                             bytes: bytes ?? Array("state at \(seq)".utf8),
                             savedAt: Instant(millisecondsSinceEpoch: Fixture.t0.millisecondsSinceEpoch + 1))
    }

    /// A database with only the shipped v1 schema, as version 0.1 created it: the v1 migration's SQL run by a
    /// plain client, recorded in schema_migration, WAL on.
    static func v1Database(_ path: String) throws {
        let raw = try DatabaseQueue(path: path)
        try raw.writeWithoutTransaction { db in
            _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
        }
        try raw.write { db in
            try db.execute(sql: AuditSchema.migrationTable)
            let v1 = AuditSchema.all[0]
            try db.execute(sql: v1.sql)
            try db.execute(sql: "INSERT INTO schema_migration (name) VALUES (?)", arguments: [v1.name])
        }
        try raw.close()
    }

    static func tableNames(_ path: String) throws -> Set<String> {
        let raw = try Fixture.raw(path)
        return Set(try raw.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_schema WHERE type = 'table'") })
    }
}

@Suite("State snapshots")
struct SnapshotTests {
    @Test("A snapshot saves and loads back byte for byte; a newer one replaces it, an older one does not")
    func roundTrip() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 10)
        #expect(try store.snapshot(incident: "INC-1") == nil)
        let bytes = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let five = try SnapshotFixture.snapshot(store, seq: 5, bytes: bytes)
        try store.saveSnapshot(five)
        #expect(try store.snapshot(incident: "INC-1") == five)
        // Another process sees it.
        let other = try AuditStore(path: dir.file("audit.sqlite"), writer: Fixture.writer)
        #expect(try other.snapshot(incident: "INC-1") == five)

        let nine = try SnapshotFixture.snapshot(store, seq: 9)
        try store.saveSnapshot(nine)
        #expect(try store.snapshot(incident: "INC-1") == nine)
        // A slower process saving an older fold of the same engine keeps the newer one.
        try store.saveSnapshot(five)
        #expect(try store.snapshot(incident: "INC-1") == nine)
        // Another engine's snapshot replaces it whatever its seq.
        let newEngine = try SnapshotFixture.snapshot(store, seq: 3, engine: "crisis/0.2")
        try store.saveSnapshot(newEngine)
        #expect(try store.snapshot(incident: "INC-1") == newEngine)
        // One row per incident.
        let rows = try Fixture.raw(dir.file("audit.sqlite")).read {
            try Int.fetchOne($0, sql: "SELECT count(*) FROM state_snapshot")
        }
        #expect(rows == 1)
    }

    @Test("A snapshot of a record the trail does not have is refused; bad input is refused by name")
    func refusals() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 3)
        var wrongHash = try SnapshotFixture.snapshot(store, seq: 2)
        wrongHash.entryHash = try SnapshotFixture.snapshot(store, seq: 3).entryHash
        guard case .invalid(let why)? = auditError({ try store.saveSnapshot(wrongHash) }) else {
            Issue.record("a snapshot with another record's hash was saved")
            return
        }
        #expect(why.contains("entry hash"))
        var beyond = try SnapshotFixture.snapshot(store, seq: 4)
        beyond.seq = 5
        guard case .invalid(let missing)? = auditError({ try store.saveSnapshot(beyond) }) else {
            Issue.record("a snapshot past the head was saved")
            return
        }
        #expect(missing.contains("no record 5"))
        let huge = try SnapshotFixture.snapshot(store, seq: 4,
                                                bytes: Array(repeating: 1, count: AuditStore.maximumSnapshotBytes + 1))
        guard case .invalid? = auditError({ try store.saveSnapshot(huge) }) else {
            Issue.record("an oversized snapshot was saved")
            return
        }
        var noEngine = try SnapshotFixture.snapshot(store, seq: 4)
        noEngine.engineVersion = ""
        guard case .invalid? = auditError({ try store.saveSnapshot(noEngine) }) else {
            Issue.record("a snapshot without an engine version was saved")
            return
        }
        #expect(auditError { _ = try store.snapshot(incident: "INC-9") } == .unknownIncident("INC-9"))
        #expect(try store.snapshot(incident: "INC-1") == nil)
    }

    @Test("A snapshot never changes what verify reports, and an edited snapshot row is not evidence")
    func verifyIgnoresSnapshots() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 6)
        let signer = try CheckpointSigner(name: "ops.example", seed: Array(repeating: 0x42, count: 32))
        try store.issueCheckpoint(incident: "INC-1", signer: signer, at: Fixture.t0)
        let before = try store.verify(incident: "INC-1")
        #expect(before.ok, "\(before.problems)")
        try store.saveSnapshot(try SnapshotFixture.snapshot(store, seq: 8))
        #expect(try store.verify(incident: "INC-1") == before)
        // The table is replaceable by design: rewriting its row by hand changes nothing verify says.
        let raw = try Fixture.raw(dir.file("audit.sqlite"))
        try raw.write { try $0.execute(sql: "UPDATE state_snapshot SET bytes = x'00', engine_version = 'forged'") }
        #expect(try store.verify(incident: "INC-1") == before)
        // A broken trail stays broken with or without a snapshot.
        _ = try Tamper.dropTriggers(raw)
        try Tamper.setRecord(raw, seq: 3, Tamper.replacing(try Tamper.record(raw, seq: 3), "note 2", "note 7"))
        let broken = try store.verify(incident: "INC-1")
        #expect(broken.firstBadSeq == 3)
        try raw.write { try $0.execute(sql: "DELETE FROM state_snapshot") }
        #expect(try store.verify(incident: "INC-1") == broken)
    }

    @Test("A snapshot is not returned once the record at its seq no longer has its entry hash")
    func staleSnapshotIsHidden() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 4)
        try store.saveSnapshot(try SnapshotFixture.snapshot(store, seq: 4))
        #expect(try store.snapshot(incident: "INC-1")?.seq == 4)
        let raw = try Fixture.raw(dir.file("audit.sqlite"))
        _ = try Tamper.dropTriggers(raw)
        try Tamper.setRecord(raw, seq: 4, Tamper.replacing(try Tamper.record(raw, seq: 4), "note 3", "note 9"),
                             rehash: true)
        #expect(try store.snapshot(incident: "INC-1") == nil)
    }

    @Test("Saving a snapshot gives up quickly while another writer holds the lock, and appends are unaffected")
    func saveNeverWaitsLong() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 2)
        let snapshot = try SnapshotFixture.snapshot(store, seq: 3)
        let raw = try Fixture.raw(dir.file("audit.sqlite"))
        try raw.inTransaction(.immediate) { _ in
            let start = Date()
            guard case .io? = auditError({ try store.saveSnapshot(snapshot) }) else {
                Issue.record("the save did not fail while the database was locked")
                return .rollback
            }
            #expect(Date().timeIntervalSince(start) < 2, "the save waited for the lock")
            return .rollback
        }
        // The store's connection is back to the normal busy timeout, and appends work.
        #expect(try store.connectionSettings().busyTimeoutMilliseconds == 10_000)
        _ = try store.append(incident: "INC-1", expectedSeq: 3, events: [Fixture.note(3)])
        try store.saveSnapshot(try SnapshotFixture.snapshot(store, seq: 4))
        #expect(try store.snapshot(incident: "INC-1")?.seq == 4)
    }
}

@Suite("Schema migration and open modes")
struct MigrationTests {
    @Test("A v1-only database opens as existing unchanged and verifies; a writer's open adds the snapshot table")
    func v1DatabaseMigrates() throws {
        let dir = try TempDir()
        let path = dir.file("old.sqlite")
        try SnapshotFixture.v1Database(path)
        #expect(try !SnapshotFixture.tableNames(path).contains("state_snapshot"))
        // A reader: opens, reads, verifies, never migrates; the snapshot cache is simply absent.
        let reader = try AuditStore(path: path, writer: Fixture.writer, mode: .existing)
        try reader.createIncident(Fixture.header(), files: Fixture.files(), firstEvent: Fixture.opened())
        _ = try reader.append(incident: "INC-1", expectedSeq: 1, events: (1...3).map { Fixture.note($0) })
        let oldReport = try reader.verify(incident: "INC-1")
        #expect(oldReport.ok, "\(oldReport.problems)")
        #expect(try reader.snapshot(incident: "INC-1") == nil)
        let snapshot = try SnapshotFixture.snapshot(reader, seq: 4)
        guard case .io? = auditError({ try reader.saveSnapshot(snapshot) }) else {
            Issue.record("a snapshot was saved into a v1 database")
            return
        }
        let tablesBefore = try SnapshotFixture.tableNames(path)
        #expect(!tablesBefore.contains("state_snapshot"))
        let migrationsBefore = try Fixture.raw(path).read { try String.fetchAll($0, sql: "SELECT name FROM schema_migration") }
        #expect(migrationsBefore == [AuditSchema.all[0].name])

        // A writer: migrates on open, the trail is untouched and still verifies, the cache works.
        let dump = try Fixture.dump(path)
        let writer = try AuditStore(path: path, writer: Fixture.writer)
        #expect(try SnapshotFixture.tableNames(path) == tablesBefore.union(["state_snapshot"]))
        let migrated = try Fixture.raw(path).read { try String.fetchAll($0, sql: "SELECT name FROM schema_migration") }
        #expect(Set(migrated) == Set(AuditSchema.all.map(\.name)))
        #expect(try Fixture.dump(path).filter { !$0.hasPrefix("schema_migration") } == dump.filter {
            !$0.hasPrefix("schema_migration")
        })
        let report = try writer.verify(incident: "INC-1")
        #expect(report.ok, "\(report.problems)")
        #expect(report.chainHead == oldReport.chainHead && report.merkleRoot == oldReport.merkleRoot)
        try writer.saveSnapshot(snapshot)
        #expect(try writer.snapshot(incident: "INC-1") == snapshot)
        // A reader opened after the migration sees the cache.
        let newReader = try AuditStore(path: path, writer: Fixture.writer, mode: .existing)
        #expect(try newReader.snapshot(incident: "INC-1") == snapshot)
    }

    @Test("Opening as existing never creates a file, nor a schema in a foreign or blank file")
    func existingNeverCreates() throws {
        let dir = try TempDir()
        let missing = dir.file("typo.sqlite")
        guard case .io? = auditError({ _ = try AuditStore(path: missing, mode: .existing) }) else {
            Issue.record("a missing database was opened")
            return
        }
        #expect(!FileManager.default.fileExists(atPath: missing))
        let empty = dir.file("empty.sqlite")
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        // A file without a single table (a first `start` killed before its schema committed) holds no incidents:
        // a reader lists none, finds none, and creates nothing in it (no false integrity alarm).
        let blank = try AuditStore(path: empty, mode: .existing)
        #expect(try blank.incidents().isEmpty)
        #expect(try blank.incident(id: "INC-1") == nil)
        #expect(try SnapshotFixture.tableNames(empty).isEmpty)
        let foreign = dir.file("foreign.sqlite")
        try Fixture.raw(foreign).write { try $0.execute(sql: "CREATE TABLE t (x INTEGER)") }
        let before = try Fixture.dump(foreign)
        guard case .integrity? = auditError({ _ = try AuditStore(path: foreign, mode: .existing) }) else {
            Issue.record("a foreign database was opened")
            return
        }
        #expect(try Fixture.dump(foreign) == before)
        // A current database opens as existing with nothing to do.
        let store = try Fixture.store(in: dir, notes: 1)
        let again = try AuditStore(path: store.path, writer: Fixture.writer, mode: .existing)
        #expect(try again.headSeq(incident: "INC-1") == 2)
    }

    @Test("verify's schema check accepts the snapshot migration and still flags a changed snapshot table")
    func schemaTextCheck() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 1)
        #expect(try store.verify(incident: "INC-1").ok)
        let raw = try Fixture.raw(dir.file("audit.sqlite"))
        try raw.write { db in
            try db.execute(sql: "DROP TABLE state_snapshot")
            try db.execute(sql: "CREATE TABLE state_snapshot (incident_id TEXT PRIMARY KEY, bytes BLOB)")
        }
        #expect(try store.verify(incident: "INC-1").problems.contains {
            $0.message.contains("state_snapshot") && $0.message.contains("altered")
        })
    }
}

@Suite("AuditLog protocol")
struct AuditLogTests {
    /// Exercises the guarantees of the protocol's doc comment through `any AuditLog` only.
    static func exercise(_ log: any AuditLog) throws {
        let first = try log.createIncident(Fixture.header(), files: Fixture.files(), firstEvent: Fixture.opened())
        #expect(first.seq == 1)
        #expect(auditError { _ = try log.createIncident(Fixture.header(), files: Fixture.files(),
                                                   firstEvent: Fixture.opened()) } == .duplicateIncident("INC-1"))
        #expect(try log.headSeq(incident: "INC-1") == 1)
        let stored = try log.append(incident: "INC-1", expectedSeq: 1, events: [Fixture.note(1), Fixture.note(2)])
        #expect(stored.map(\.seq) == [2, 3])
        #expect(try log.headSeq(incident: "INC-1") == 3)
        #expect(try log.head(incident: "INC-1")?.entryHash == stored[1].entryHash)
        // A retry answers the stored record, without checking the stale expected seq.
        let retry = try log.append(incident: "INC-1", expectedSeq: 1, events: [Fixture.note(2)])
        #expect(retry.count == 1 && retry[0].replayedFromKey && retry[0].seq == 3)
        #expect(retry[0].record == stored[1].record)
        // A stale expected seq is a conflict naming the head, and writes nothing.
        #expect(auditError { _ = try log.append(incident: "INC-1", expectedSeq: 2, events: [Fixture.note(3, actor: "bob")]) }
            == .conflict(head: 3, by: "alice", type: "operator.note"))
        #expect(try log.headSeq(incident: "INC-1") == 3)
        #expect(try log.event(incident: "INC-1", idempotencyKey: "note-1")?.seq == 2)
        var seen: [Int] = []
        try log.forEachEvent(incident: "INC-1", from: 2) { seen.append($0.seq) }
        #expect(seen == [2, 3])
        #expect(try log.events(incident: "INC-1").count == 3)
        #expect(try log.incidents().map(\.id) == ["INC-1"])
        #expect(try log.incident(id: "INC-1")?.lastSeq == 3)
        #expect(try log.pinnedFiles(incident: "INC-1") == Fixture.files())
        #expect(try log.pinnedFile(sha256: Fixture.files()[0].sha256) == Fixture.files()[0])
        #expect(auditError { _ = try log.headSeq(incident: "INC-9") } == .unknownIncident("INC-9"))
        let signer = try CheckpointSigner(name: "ops.example", seed: Array(repeating: 0x42, count: 32))
        let checkpoint = try log.issueCheckpoint(incident: "INC-1", signer: signer, at: Fixture.t0)
        #expect(try log.checkpoints(incident: "INC-1").map(\.treeSize) == [3])
        let verified = try log.verifyCheckpoint(note: checkpoint.note, verifier: CheckpointVerifier(
            verifierKey: signer.verifierKey), incident: "INC-1")
        #expect(verified.treeSize == 3 && verified.laterRecords == 1)
        #expect(try log.verify(incident: "INC-1").ok)
        let head = try #require(try log.head(incident: "INC-1"))
        let snapshot = StateSnapshot(incidentID: "INC-1", seq: head.seq, entryHash: head.entryHashHex,
                                     engineVersion: "test", bytes: [1, 2, 3], savedAt: Fixture.t0)
        try log.saveSnapshot(snapshot)
        #expect(try log.snapshot(incident: "INC-1") == snapshot)
    }

    @Test("The SQLite log gives every guarantee of the protocol")
    func sqliteLog() throws {
        let dir = try TempDir()
        let log: any AuditLog = try SQLiteAuditLog(path: dir.file("audit.sqlite"), writer: Fixture.writer)
        #expect(log.location == dir.file("audit.sqlite"))
        try Self.exercise(log)
    }
}
