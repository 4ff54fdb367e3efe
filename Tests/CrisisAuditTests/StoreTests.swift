import CrisisCore
import Foundation
import GRDB
import Testing

@testable import CrisisAudit

/// Collects values from several threads.
final class Collector<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [T] = []
    func add(_ item: T) { lock.withLock { items.append(item) } }
    var all: [T] { lock.withLock { items } }
}

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

@Suite("Audit store")
struct StoreTests {
    @Test("Creating an incident stores seq 1 chained to the genesis hash, and verify passes")
    func createAndVerify() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 3)
        let events = try store.events(incident: "INC-1")
        #expect(events.map(\.seq) == [1, 2, 3, 4])
        let header = try #require(try store.incident(id: "INC-1"))
        #expect(events[0].prevHash == header.genesisHash)
        for (a, b) in zip(events, events.dropFirst()) { #expect(b.prevHash == a.entryHash) }
        #expect(events[2].body["text"]?.stringValue == "note 2")
        #expect(events.allSatisfy { AuditHash.entry(record: $0.record) == $0.entryHash })
        let report = try store.verify(incident: "INC-1")
        #expect(report.ok, "\(report.problems)")
        #expect(report.recordCount == 4)
        #expect(report.chainHead == events[3].entryHashHex)
        #expect(report.merkleRoot == Hex.encode(AuditHash.merkleRoot(records: events.map(\.record))))
        #expect(report.sqliteIntegrity == "ok")
    }

    @Test("Connection settings read back: WAL, synchronous FULL, foreign keys, 10 s busy timeout, defensive")
    func pragmas() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir)
        let s = try store.connectionSettings()
        #expect(s.journalMode == "wal")
        #expect(s.synchronous == 2)
        #expect(s.foreignKeys)
        #expect(!s.trustedSchema)
        #expect(s.busyTimeoutMilliseconds == 10_000)
        #expect(s.journalSizeLimit == 67_108_864)
        #if os(Linux)
        #expect(s.defensive == true)
        #endif
        // The WAL mode is persistent: a plain client opening the file sees it too, and the -wal file exists.
        let raw = try Fixture.raw(dir.file("audit.sqlite"))
        #expect(try raw.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
        #expect(FileManager.default.fileExists(atPath: dir.file("audit.sqlite-wal")))
        // A second open of an existing file gets the same settings.
        let again = try AuditStore(path: dir.file("audit.sqlite"), writer: Fixture.writer)
        #expect(try again.connectionSettings().synchronous == 2)
    }

    @Test("Defensive mode blocks writes to sqlite_schema on the store's own connection")
    func defensiveBlocksSchemaWrites() throws {
        #if os(Linux)
        let dir = try TempDir()
        let store = try Fixture.store(in: dir)
        #expect(throws: (any Error).self) {
            try store.queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA writable_schema = ON")
                try db.execute(sql: "DELETE FROM sqlite_schema WHERE name = 'audit_event_no_update'")
            }
        }
        #expect(try store.verify(incident: "INC-1").ok)
        #endif
    }

    @Test("Every write runs in BEGIN IMMEDIATE … COMMIT, and nothing is written outside one")
    func writesAreImmediate() throws {
        let dir = try TempDir()
        let store = try AuditStore(path: dir.file("audit.sqlite"), writer: Fixture.writer)
        let statements = Collector<String>()
        store.queue.inDatabase { db in
            db.trace { event in statements.add("\(event)".uppercased()) }
        }
        try store.createIncident(Fixture.header(), files: Fixture.files(), firstEvent: Fixture.opened())
        _ = try store.append(incident: "INC-1", expectedSeq: 1, events: [Fixture.note(1), Fixture.note(2)])
        _ = try store.append(incident: "INC-1", expectedSeq: 1, events: [Fixture.note(1)])  // replay: no insert
        let signer = try CheckpointSigner(name: "test", seed: Array(repeating: 7, count: 32))
        try store.issueCheckpoint(incident: "INC-1", signer: signer, at: Fixture.t0)
        _ = try store.verify(incident: "INC-1")
        _ = try store.incidents()
        var inImmediate = false
        var writes = 0
        var begins: [String] = []
        for sql in statements.all {
            if sql.hasPrefix("BEGIN") {
                begins.append(sql)
                inImmediate = sql == "BEGIN IMMEDIATE TRANSACTION"
            } else if sql.hasPrefix("COMMIT") || sql.hasPrefix("ROLLBACK") {
                inImmediate = false
            } else if sql.hasPrefix("INSERT") || sql.hasPrefix("UPDATE") || sql.hasPrefix("DELETE")
                || sql.hasPrefix("CREATE") || sql.hasPrefix("DROP")
            {
                writes += 1
                #expect(inImmediate, "write outside BEGIN IMMEDIATE: \(sql)")
            }
        }
        // createIncident: 2 files + incident + 2 incident_file + event; append: 2; checkpoint: row + event.
        #expect(writes == 10)
        #expect(begins.filter { $0 == "BEGIN IMMEDIATE TRANSACTION" }.count == 4)
        #expect(begins.count == 4 + 2)  // + the deferred read transactions of verify and incidents
    }

    @Test("A COMMIT that fails throws, and nothing of the transaction remains")
    func failedCommitThrows() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir)
        let before = try Fixture.dump(dir.file("audit.sqlite"))
        // A deferred foreign-key violation is only detected at COMMIT.
        let error = auditError {
            try store.write("test write") { db in
                try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
                try db.execute(sql: """
                    INSERT INTO incident_file (incident_id, position, sha256, file_name)
                    VALUES ('NO-SUCH-INCIDENT', 0, randomblob(32), 'x')
                    """)
            }
        }
        guard case .integrity(let why) = error else {
            Issue.record("a failed COMMIT did not throw an integrity error: \(String(describing: error))")
            return
        }
        #expect(why.contains("test write"))
        #expect(try Fixture.dump(dir.file("audit.sqlite")) == before)
    }

    @Test("A database missing its event table makes verify throw, not crash")
    func missingTable() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 1)
        let raw = try Fixture.raw(dir.file("audit.sqlite"))
        _ = try Tamper.dropTriggers(raw)
        try raw.write { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            try db.execute(sql: "DROP TABLE audit_event")
        }
        #expect(throws: AuditError.self) { _ = try store.verify(incident: "INC-1") }
    }

    @Test("Appending checks the expected seq and names the head's actor on conflict; nothing is written")
    func conflict() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir)
        _ = try store.append(incident: "INC-1", expectedSeq: 1, events: [Fixture.note(1, actor: "bob")])
        let before = try Fixture.dump(dir.file("audit.sqlite"))
        let error = auditError { _ = try store.append(incident: "INC-1", expectedSeq: 1, events: [Fixture.note(2)]) }
        #expect(error == .conflict(head: 2, by: "bob", type: "operator.note"))
        #expect(error?.description == "incident advanced to 2 by bob (operator.note)")
        #expect(try Fixture.dump(dir.file("audit.sqlite")) == before)
        // With the right head it goes through; with nil it is not checked.
        #expect(try store.append(incident: "INC-1", expectedSeq: 2, events: [Fixture.note(2)]).map(\.seq) == [3])
        #expect(try store.append(incident: "INC-1", expectedSeq: nil, events: [Fixture.note(3)]).map(\.seq) == [4])
    }

    @Test("Retrying with the same idempotency key returns the recorded event, even after the head moved")
    func idempotentRetry() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir)
        let first = try store.append(incident: "INC-1", expectedSeq: 1, events: [Fixture.note(1), Fixture.note(2)])
        let before = try Fixture.dump(dir.file("audit.sqlite"))
        // The same batch again, with the now-stale expected seq: a retry after a lost acknowledgement.
        let retry = try store.append(incident: "INC-1", expectedSeq: 1, events: [Fixture.note(1), Fixture.note(2)])
        #expect(retry.map(\.eventID) == first.map(\.eventID))
        #expect(retry.map(\.entryHash) == first.map(\.entryHash))
        #expect(retry.map(\.record) == first.map(\.record))
        #expect(retry.allSatisfy { $0.replayedFromKey })
        #expect(!first.contains { $0.replayedFromKey })
        #expect(try Fixture.dump(dir.file("audit.sqlite")) == before)
        #expect(try store.event(incident: "INC-1", idempotencyKey: "note-2")?.seq == 3)
        // A key reused for a different kind of event is refused, not silently answered.
        var other = Fixture.note(1)
        other.type = .timer
        #expect(auditError { _ = try store.append(incident: "INC-1", expectedSeq: nil, events: [other]) }
            == .idempotencyKeyReused(key: "note-1", existingSeq: 2, existingType: "operator.note"))
        // The same key twice in one batch is refused.
        if case .invalid = auditError({ _ = try store.append(incident: "INC-1", expectedSeq: 3,
                                                              events: [Fixture.note(9), Fixture.note(9)]) }) {
        } else {
            Issue.record("duplicate key in a batch was accepted")
        }
        #expect(try Fixture.dump(dir.file("audit.sqlite")) == before)
    }

    @Test("Unknown and duplicate incidents, bad ids, unknown types and NUL bodies are refused with nothing written")
    func refusals() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir)
        let before = try Fixture.dump(dir.file("audit.sqlite"))
        #expect(auditError { _ = try store.append(incident: "NOPE", expectedSeq: nil, events: [Fixture.note(1)]) }
            == .unknownIncident("NOPE"))
        #expect(auditError { try store.createIncident(Fixture.header(), files: Fixture.files(),
                                                      firstEvent: Fixture.opened()) } == .duplicateIncident("INC-1"))
        for bad in ["", "has space", "a/b", String(repeating: "x", count: 65), "caf\u{E9}"] {
            var h = Fixture.header()
            h.id = bad
            guard case .invalid = auditError({ try store.createIncident(h, files: Fixture.files(),
                                                                        firstEvent: Fixture.opened()) })
            else {
                Issue.record("incident id \(bad) accepted")
                continue
            }
        }
        var missingPlaybook = Fixture.header("INC-2")
        missingPlaybook.playbookSHA256 = sha256Hex(Array("other".utf8))
        guard case .invalid = auditError({ try store.createIncident(missingPlaybook, files: [],
                                                                    firstEvent: Fixture.opened()) })
        else {
            Issue.record("incident without its playbook accepted")
            return
        }
        guard case .invalid(let nul) = auditError({ _ = try store.append(
            incident: "INC-1", expectedSeq: nil, events: [Fixture.note(1, text: "a\u{0}b")]) })
        else {
            Issue.record("NUL accepted")
            return
        }
        #expect(nul.contains("$.body.text"))
        var tampered = PinnedFile(fileName: "x.yaml", bytes: [1, 2, 3])
        tampered.bytes = [1, 2, 4]
        guard case .invalid = auditError({ try store.createIncident(Fixture.header("INC-3"), files: Fixture.files() + [tampered],
                                                                    firstEvent: Fixture.opened()) })
        else {
            Issue.record("pinned file with a wrong hash accepted")
            return
        }
        #expect(try Fixture.dump(dir.file("audit.sqlite")) == before)
    }

    @Test("Listing incidents gives headers with their newest event; pinned files come back byte-exact")
    func listing() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 2)
        var h2 = Fixture.header("INC-2", at: Instant(millisecondsSinceEpoch: Fixture.t0.millisecondsSinceEpoch + 60_000))
        h2.mode = .live
        h2.title = "Outage"
        try store.createIncident(h2, files: [PinnedFile(fileName: "breach.yaml", bytes: Fixture.playbookBytes)],
                                 firstEvent: Fixture.opened())
        let list = try store.incidents()
        #expect(list.map(\.id) == ["INC-1", "INC-2"])
        #expect(list.map(\.lastSeq) == [3, 1])
        #expect(list[0].lastEventType == "operator.note")
        #expect(list[0].lastEventAt == Fixture.note(2).recordedAt)
        #expect(list[1].mode == .live)
        #expect(list[1].title == "Outage")
        #expect(list[0].playbookSHA256 == sha256Hex(Fixture.playbookBytes))
        #expect(try store.incident(id: "INC-9") == nil)
        #expect(try store.head(incident: "INC-1")?.seq == 3)
        #expect(try store.head(incident: "INC-1")?.actorID == "alice")
        #expect(try store.pinnedFile(sha256: sha256Hex(Fixture.templateBytes))?.bytes == Fixture.templateBytes)
        #expect(try store.pinnedFile(sha256: sha256Hex([9])) == nil)
        #expect(try store.pinnedFiles(incident: "INC-1").map(\.fileName) == ["breach.yaml", "templates/hello.md"])
        #expect(try store.pinnedFiles(incident: "INC-2").map(\.bytes) == [Fixture.playbookBytes])
        var streamed: [Int] = []
        try store.forEachEvent(incident: "INC-1", from: 2) { streamed.append($0.seq) }
        #expect(streamed == [2, 3])
        #expect(try store.events(incident: "INC-1", from: 3).map(\.seq) == [3])
    }

    @Test("Two store instances appending concurrently to one incident keep seq contiguous")
    func concurrentAppends() throws {
        let dir = try TempDir()
        let a = try Fixture.store(in: dir)
        let b = try AuditStore(path: dir.file("audit.sqlite"), writer: Fixture.writer)
        let errors = Collector<String>()
        let perWriter = 150
        DispatchQueue.concurrentPerform(iterations: 2) { w in
            let store = w == 0 ? a : b
            for i in 0..<perWriter {
                do {
                    let draft = EventDraft(type: .note, idempotencyKey: "w\(w)-\(i)",
                                           actor: AuditActor(id: "writer\(w)"), recordedAt: Fixture.t0,
                                           body: ["i": .integer(Int64(i))])
                    _ = try store.append(incident: "INC-1", expectedSeq: nil, events: [draft])
                } catch {
                    errors.add("\(error)")
                }
            }
        }
        #expect(errors.all.isEmpty, "\(errors.all.prefix(3))")
        let events = try a.events(incident: "INC-1")
        #expect(events.map(\.seq) == Array(1...(1 + 2 * perWriter)))
        #expect(Set(events.map(\.idempotencyKey)).count == events.count)
        #expect(try b.verify(incident: "INC-1").ok)
    }

    @Test("Two operators appending from the same head: exactly one wins, the loser gets a conflict")
    func racingOperators() throws {
        let dir = try TempDir()
        let a = try Fixture.store(in: dir)
        let b = try AuditStore(path: dir.file("audit.sqlite"), writer: Fixture.writer)
        for trial in 0..<30 {
            let head = try #require(try a.head(incident: "INC-1")).seq
            let wins = Collector<Int>()
            let conflicts = Collector<AuditError>()
            DispatchQueue.concurrentPerform(iterations: 2) { w in
                let draft = EventDraft(type: .action, idempotencyKey: "t\(trial)-w\(w)",
                                       actor: AuditActor(id: "op\(w)"), recordedAt: Fixture.t0, body: [:])
                do {
                    _ = try (w == 0 ? a : b).append(incident: "INC-1", expectedSeq: head, events: [draft])
                    wins.add(w)
                } catch let e as AuditError {
                    conflicts.add(e)
                } catch {}
            }
            #expect(wins.all.count == 1)
            let winner = wins.all.first ?? -1
            #expect(conflicts.all == [.conflict(head: head + 1, by: "op\(winner)", type: "operator.action")])
        }
        #expect(try a.head(incident: "INC-1")?.seq == 31)
    }

    @Test("A full disk is reported as an I/O error naming the operation, and nothing is half-written")
    func diskFull() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir)
        let pages = try store.queue.writeWithoutTransaction { db in
            try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
        }
        try store.queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA max_page_count = \(pages)") }
        let big = EventDraft(type: .note, idempotencyKey: "big", actor: AuditActor(id: "alice"),
                             recordedAt: Fixture.t0, body: ["text": .string(String(repeating: "x", count: 200_000))])
        guard case .io(let operation, let underlying) = auditError({
            _ = try store.append(incident: "INC-1", expectedSeq: 1, events: [big])
        }) else {
            Issue.record("disk full not reported as .io")
            return
        }
        #expect(operation.contains("append to incident INC-1"))
        #expect(underlying.contains("full"))
        #expect(try store.head(incident: "INC-1")?.seq == 1)
        try store.queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA max_page_count = 1073741823") }
        #expect(try store.append(incident: "INC-1", expectedSeq: 1, events: [big]).map(\.seq) == [2])
        #expect(try store.verify(incident: "INC-1").ok)
    }

    @Test("Records over the size limit are refused before SQLite sees them")
    func recordLimit() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir)
        let huge = Fixture.note(1, text: String(repeating: "y", count: AuditStore.maximumRecordBytes))
        guard case .invalid(let why) = auditError({ _ = try store.append(incident: "INC-1", expectedSeq: 1,
                                                                         events: [huge]) })
        else {
            Issue.record("oversized record accepted")
            return
        }
        #expect(why.contains("limit"))
    }
}

@Suite("Database location")
struct LocationTests {
    @Test("A symbolic link to the database is refused")
    func symlink() throws {
        let dir = try TempDir()
        _ = try Fixture.store(in: dir)
        try FileManager.default.createSymbolicLink(atPath: dir.file("link.sqlite"), withDestinationPath: dir.file("audit.sqlite"))
        guard case .unsafeLocation(let why) = auditError({ _ = try AuditStore(path: dir.file("link.sqlite")) }) else {
            Issue.record("symlink accepted")
            return
        }
        #expect(why.contains("symbolic link"))
    }

    @Test("A database with a second hard link is refused")
    func hardLink() throws {
        let dir = try TempDir()
        _ = try Fixture.store(in: dir)
        try FileManager.default.linkItem(atPath: dir.file("audit.sqlite"), toPath: dir.file("other.sqlite"))
        guard case .unsafeLocation(let why) = auditError({ _ = try AuditStore(path: dir.file("audit.sqlite")) }) else {
            Issue.record("hard link accepted")
            return
        }
        #expect(why.contains("hard links"))
    }

    @Test("A WAL database whose -shm exists but -wal is missing is refused")
    func missingWAL() throws {
        let dir = try TempDir()
        do { _ = try Fixture.store(in: dir) }
        // The store is closed: SQLite checkpointed and removed -wal and -shm.
        #expect(!FileManager.default.fileExists(atPath: dir.file("audit.sqlite-wal")))
        #expect(try AuditStore(path: dir.file("audit.sqlite")).head(incident: "INC-1")?.seq == 1)
        _ = FileManager.default.createFile(atPath: dir.file("audit.sqlite-shm"), contents: Data(count: 32768))
        guard case .unsafeLocation(let why) = auditError({ _ = try AuditStore(path: dir.file("audit.sqlite")) }) else {
            Issue.record("missing -wal accepted")
            return
        }
        #expect(why.contains("-wal file is missing"))
    }

    @Test("Network and FUSE filesystems are recognised from mountinfo")
    func filesystems() {
        let mountinfo = """
            22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
            40 22 0:45 / /mnt/share rw,relatime shared:20 - nfs4 server:/export rw,vers=4.2
            41 22 0:46 / /mnt/fuse rw,nosuid - fuse.sshfs user@host: rw
            """
        #expect(DatabaseLocation.filesystemType(device: "8:1", mountinfo: mountinfo) == "ext4")
        #expect(DatabaseLocation.filesystemType(device: "0:45", mountinfo: mountinfo) == "nfs4")
        #expect(DatabaseLocation.filesystemType(device: "0:46", mountinfo: mountinfo) == "fuse.sshfs")
        #expect(DatabaseLocation.isUnsafeFilesystemType("nfs4"))
        #expect(DatabaseLocation.isUnsafeFilesystemType("fuse.sshfs"))
        #expect(DatabaseLocation.isUnsafeFilesystemType("cifs"))
        #expect(DatabaseLocation.isUnsafeFilesystemType("9p"))
        #expect(!DatabaseLocation.isUnsafeFilesystemType("ext4"))
        #expect(!DatabaseLocation.isUnsafeFilesystemType("tmpfs"))
        #if os(Linux)
        // The test directory itself is local.
        #expect(DatabaseLocation.unsafeFilesystem(NSTemporaryDirectory()) == nil)
        #endif
    }

    @Test("The parent directory is created when missing")
    func createsParent() throws {
        let dir = try TempDir()
        let store = try AuditStore(path: dir.file("a/b/audit.sqlite"))
        #expect(try store.incidents().isEmpty)
        #expect(FileManager.default.fileExists(atPath: dir.file("a/b/audit.sqlite")))
    }

    @Test("A file that is not SQLite is refused with an error, not a crash")
    func notADatabase() throws {
        let dir = try TempDir()
        _ = FileManager.default.createFile(atPath: dir.file("junk.sqlite"), contents: Data(repeating: 0x41, count: 8192))
        #expect(auditError { _ = try AuditStore(path: dir.file("junk.sqlite")) } != nil)
        #expect(auditError { _ = try AuditStore(path: ":memory:") } != nil)
    }
}
