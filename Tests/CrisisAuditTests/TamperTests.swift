import CrisisCore
import Foundation
import GRDB
import Testing

@testable import CrisisAudit

private let signer: CheckpointSigner = {
    do { return try CheckpointSigner(name: "ops.example", seed: Array(repeating: 0x42, count: 32)) } catch {
        preconditionFailure("test key: \(error)")
    }
}()

private func checkpointError(_ body: () throws -> Void) -> CheckpointError? {
    do {
        try body()
        return nil
    } catch let e as CheckpointError {
        return e
    } catch {
        return .malformed("unexpected error \(error)")
    }
}

enum Tamper {
    /// Drops every trigger, as anyone holding the file can; returns their SQL to put them back.
    static func dropTriggers(_ db: DatabaseQueue) throws -> [String] {
        try db.write { db in
            let triggers = try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_schema WHERE type = 'trigger'")
            for t in triggers { try db.execute(sql: "DROP TRIGGER \(t["name"] as String)") }
            return triggers.map { $0["sql"] as String }
        }
    }

    static func record(_ db: DatabaseQueue, seq: Int) throws -> [UInt8] {
        try db.read { db in
            [UInt8](try Data.fetchOne(db, sql: "SELECT record FROM audit_event WHERE seq = ?", arguments: [seq]) ?? Data())
        }
    }

    static func setRecord(_ db: DatabaseQueue, seq: Int, _ bytes: [UInt8], rehash: Bool = false) throws {
        try db.write { db in
            try db.execute(sql: "UPDATE audit_event SET record = ? WHERE seq = ?", arguments: [Data(bytes), seq])
            if rehash {
                try db.execute(sql: "UPDATE audit_event SET entry_hash = ? WHERE seq = ?",
                               arguments: [Data(AuditHash.entry(record: bytes)), seq])
            }
        }
    }

    static func replacing(_ bytes: [UInt8], _ old: String, _ new: String) -> [UInt8] {
        let text = String(decoding: bytes, as: UTF8.self)
        return Array(text.replacingOccurrences(of: old, with: new).utf8)
    }
}

@Suite("Append-only schema")
struct SchemaGuardTests {
    static func insert(_ verb: String = "INSERT", seq: Int, key: String, prev: String, eventID: String? = nil,
                       suffix: String = "") -> String
    {
        let id = eventID ?? String(format: "00000000-0000-4000-8000-%012d", seq * 1000 + key.count)
        return """
            \(verb) INTO audit_event (incident_id, seq, event_id, idempotency_key, event_type, recorded_utc_ms,
                                     actor_id, actor_role, record, prev_hash, entry_hash)
            VALUES ('INC-1', \(seq), '\(id)', '\(key)', 'operator.note', 1761292800000, 'mallory', NULL, x'7b7d',
                    \(prev), randomblob(32)) \(suffix)
            """
    }

    static let entryOf5 = "(SELECT entry_hash FROM audit_event WHERE incident_id = 'INC-1' AND seq = 5)"
    static let entryOf4 = "(SELECT entry_hash FROM audit_event WHERE incident_id = 'INC-1' AND seq = 4)"
    static let allColumns = """
        incident_id, seq, event_id, idempotency_key, event_type, recorded_utc_ms, actor_id, actor_role, record,
        prev_hash, entry_hash
        """

    static let forbidden: [(String, String)] = [
        ("UPDATE", "UPDATE audit_event SET actor_id = 'mallory' WHERE seq = 2"),
        ("UPDATE record", "UPDATE audit_event SET record = x'7b7d' WHERE seq = 3"),
        ("DELETE", "DELETE FROM audit_event WHERE seq = 5"),
        ("DELETE all", "DELETE FROM audit_event"),
        ("INSERT OR REPLACE", """
            INSERT OR REPLACE INTO audit_event (\(allColumns))
            SELECT incident_id, seq, event_id, idempotency_key, event_type, recorded_utc_ms, 'mallory', actor_role,
                   record, prev_hash, entry_hash FROM audit_event WHERE seq = 4
            """),
        ("REPLACE", "REPLACE INTO audit_event (\(allColumns)) SELECT * FROM audit_event WHERE seq = 5"),
        ("UPSERT", """
            INSERT INTO audit_event (\(allColumns)) SELECT * FROM audit_event WHERE seq = 4
            ON CONFLICT (incident_id, seq) DO UPDATE SET actor_id = 'mallory'
            """),
        ("seq gap", insert(seq: 7, key: "gap", prev: entryOf5)),
        ("seq reuse", insert(seq: 5, key: "reuse", prev: entryOf4)),
        ("seq reuse, OR REPLACE", insert("INSERT OR REPLACE", seq: 5, key: "reuse", prev: entryOf4)),
        ("wrong prev_hash", insert(seq: 6, key: "wrongprev", prev: "randomblob(32)")),
        ("genesis as prev", insert(seq: 6, key: "genesis", prev: "(SELECT genesis_hash FROM incident)")),
        ("duplicate idempotency key", insert(seq: 6, key: "note-1", prev: entryOf5)),
        ("duplicate key, OR REPLACE", insert("INSERT OR REPLACE", seq: 6, key: "note-1", prev: entryOf5)),
        ("duplicate event id, OR REPLACE", insert("INSERT OR REPLACE", seq: 6, key: "fresh", prev: entryOf5,
                                                  eventID: "dup")),
        ("incident UPDATE", "UPDATE incident SET title = 'nothing happened'"),
        ("incident DELETE", "DELETE FROM incident"),
        ("incident REPLACE", """
            INSERT OR REPLACE INTO incident SELECT incident_id, origin, 'nothing happened', playbook_id,
              playbook_version, mode, genesis_hash, playbook_sha256, created_utc_ms FROM incident
            """),
        ("playbook UPDATE", "UPDATE playbook_source SET bytes = x'00'"),
        ("playbook DELETE", "DELETE FROM playbook_source"),
        ("playbook REPLACE", "INSERT OR REPLACE INTO playbook_source SELECT sha256, 'x', x'00', 1 FROM playbook_source"),
        ("incident_file DELETE", "DELETE FROM incident_file"),
        ("checkpoint UPDATE", "UPDATE audit_checkpoint SET tree_size = 3"),
        ("checkpoint DELETE", "DELETE FROM audit_checkpoint"),
        ("checkpoint REPLACE", "INSERT OR REPLACE INTO audit_checkpoint SELECT * FROM audit_checkpoint"),
        ("checkpoint with a false head", """
            INSERT INTO audit_checkpoint SELECT incident_id, 3, merkle_root, chain_head, key_name, signed_note,
              tsa_response, created_utc_ms FROM audit_checkpoint
            """),
    ]

    @Test("Every forbidden statement is refused and the database is unchanged; the next true link is accepted")
    func forbiddenStatements() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 3)
        try store.issueCheckpoint(incident: "INC-1", signer: signer, at: Fixture.t0)  // seq 5
        let path = dir.file("audit.sqlite")
        let before = try Fixture.dump(path)
        let raw = try Fixture.raw(path)
        for (name, sql) in Self.forbidden {
            #expect(throws: DatabaseError.self, "\(name) was accepted") {
                try raw.write { db in try db.execute(sql: sql) }
            }
            #expect(try Fixture.dump(path) == before, "\(name) changed the database")
        }
        // Control: the same kind of insert as the refused ones, but the true next link, goes through.
        try raw.write { db in try db.execute(sql: Self.insert(seq: 6, key: "fresh", prev: Self.entryOf5)) }
        #expect(try Fixture.dump(path) != before)
        #expect(try store.head(incident: "INC-1")?.seq == 6)
    }
}

@Suite("Tamper detection")
struct TamperTests {
    @Test("(a) Dropped triggers and one edited byte: verify names the edited seq first")
    func editedByte() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 5)
        let raw = try Fixture.raw(dir.file("audit.sqlite"))
        _ = try Tamper.dropTriggers(raw)
        let original = try Tamper.record(raw, seq: 3)
        try Tamper.setRecord(raw, seq: 3, Tamper.replacing(original, "note 2", "note 7"))
        let report = try store.verify(incident: "INC-1")
        #expect(!report.ok)
        #expect(report.firstBadSeq == 3)
        #expect(report.firstProblem?.message.contains("entry_hash") == true, "\(report.problems)")
        #expect(report.problems.contains { $0.seq == 4 && $0.message.contains("prev") })
        #expect(report.problems.contains { $0.message.contains("triggers missing") })
        // The attacker also recomputes that row's entry_hash: the break then shows at the next link.
        try Tamper.setRecord(raw, seq: 3, Tamper.replacing(original, "note 2", "note 7"), rehash: true)
        let rehashed = try store.verify(incident: "INC-1")
        #expect(rehashed.firstBadSeq == 4)
        // Non-canonical and invalid UTF-8 edits are reported, not crashed on.
        try Tamper.setRecord(raw, seq: 3, Tamper.replacing(original, "\"note 2\"", "\"note 2\" "))
        #expect(try store.verify(incident: "INC-1").problems.contains { $0.seq == 3 && $0.message.contains("canonical") })
        try Tamper.setRecord(raw, seq: 3, Tamper.replacing(original, "note 2", "note \u{1}") .map { $0 == 1 ? 0xFF : $0 })
        let invalid = try store.verify(incident: "INC-1")
        #expect(invalid.firstBadSeq == 3)
        #expect(invalid.problems.contains { $0.seq == 3 && $0.message.contains("UTF-8") })
        // And restoring the original bytes makes the trail verify again (but for the missing triggers).
        try Tamper.setRecord(raw, seq: 3, original, rehash: true)
        #expect(try store.verify(incident: "INC-1").problems.map(\.seq) == [nil])
    }

    @Test("(b) An edited copied column is named with its seq")
    func editedColumn() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 3)
        let raw = try Fixture.raw(dir.file("audit.sqlite"))
        let triggers = try Tamper.dropTriggers(raw)
        try raw.write { db in
            try db.execute(sql: "UPDATE audit_event SET actor_id = 'mallory' WHERE seq = 2")
            try db.execute(sql: "UPDATE audit_event SET recorded_utc_ms = recorded_utc_ms + 1 WHERE seq = 3")
            for t in triggers { try db.execute(sql: t) }
        }
        let report = try store.verify(incident: "INC-1")
        #expect(report.firstBadSeq == 2)
        #expect(report.firstProblem?.message.contains("actor_id") == true, "\(report.problems)")
        #expect(report.problems.contains { $0.seq == 3 && $0.message.contains("recorded_utc_ms") })
        #expect(report.problems.count == 2)
    }

    @Test("Edited header, pinned playbook, and a seq gap are each reported")
    func otherEdits() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 4)
        let raw = try Fixture.raw(dir.file("audit.sqlite"))
        _ = try Tamper.dropTriggers(raw)
        try raw.write { db in
            try db.execute(sql: "UPDATE incident SET origin = 'elsewhere'")
            try db.execute(sql: "UPDATE playbook_source SET bytes = x'00' WHERE file_name = 'breach.yaml'")
            try db.execute(sql: "DELETE FROM audit_event WHERE seq = 3")
        }
        let report = try store.verify(incident: "INC-1")
        #expect(report.problems.contains { $0.message.contains("genesis_hash") })
        #expect(report.problems.contains { $0.message.contains("breach.yaml") })
        #expect(report.firstBadSeq == 3)
        #expect(report.firstProblem?.message.contains("seq 3 missing") == true, "\(report.problems)")
    }

    @Test("(c) Deleting the last row: the checkpoint catches it")
    func deletedLastRow() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 3)
        let cp = try store.issueCheckpoint(incident: "INC-1", signer: signer, at: Fixture.t0)  // covers 1..4; event 5
        let verifier = try CheckpointVerifier(verifierKey: signer.verifierKey)
        #expect(try store.verifyCheckpoint(note: cp.note, verifier: verifier, incident: "INC-1").laterRecords == 1)
        let raw = try Fixture.raw(dir.file("audit.sqlite"))
        let triggers = try Tamper.dropTriggers(raw)
        try raw.write { db in
            try db.execute(sql: "DELETE FROM audit_event WHERE seq = 5")
            for t in triggers { try db.execute(sql: t) }
        }
        let report = try store.verify(incident: "INC-1")
        #expect(!report.ok)
        #expect(report.problems.contains { $0.message.contains("checkpoint.issued event (seq 5) is missing") })
        // Removing the last covered record, and the stored checkpoint with it, leaves a clean-looking trail...
        _ = try Tamper.dropTriggers(raw)
        try raw.write { db in
            try db.execute(sql: "DELETE FROM audit_event WHERE seq = 4")
            try db.execute(sql: "DELETE FROM audit_checkpoint")
            for t in triggers { try db.execute(sql: t) }
        }
        #expect(try store.verify(incident: "INC-1").ok)
        // ...that the external note still exposes.
        #expect(checkpointError { _ = try store.verifyCheckpoint(note: cp.note, verifier: verifier, incident: "INC-1") }
            == .truncated(checkpointSize: 4, storeSize: 3))
    }

    @Test("A restored older copy of the database (rollback) is caught by a newer checkpoint")
    func rollback() throws {
        let dir = try TempDir()
        do {
            _ = try Fixture.store(in: dir, notes: 2)
        }
        try FileManager.default.copyItem(atPath: dir.file("audit.sqlite"), toPath: dir.file("backup.sqlite"))
        let note: String
        do {
            let store = try AuditStore(path: dir.file("audit.sqlite"), writer: Fixture.writer)
            _ = try store.append(incident: "INC-1", expectedSeq: 3, events: [Fixture.note(3)])
            note = try store.issueCheckpoint(incident: "INC-1", signer: signer, at: Fixture.t0).note
        }
        try FileManager.default.removeItem(atPath: dir.file("audit.sqlite"))
        try FileManager.default.moveItem(atPath: dir.file("backup.sqlite"), toPath: dir.file("audit.sqlite"))
        let restored = try AuditStore(path: dir.file("audit.sqlite"), writer: Fixture.writer)
        #expect(try restored.verify(incident: "INC-1").ok)
        #expect(checkpointError {
            _ = try restored.verifyCheckpoint(note: note, verifier: CheckpointVerifier(verifierKey: signer.verifierKey),
                                              incident: "INC-1")
        } == .truncated(checkpointSize: 4, storeSize: 3))
    }

    @Test("(d) A rewritten and fully re-hashed chain passes verify but not the checkpoint")
    func rewrittenChain() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 3)
        let cp = try store.issueCheckpoint(incident: "INC-1", signer: signer, at: Fixture.t0)
        let raw = try Fixture.raw(dir.file("audit.sqlite"))
        let triggers = try Tamper.dropTriggers(raw)
        try raw.write { db in
            try db.execute(sql: "DELETE FROM audit_checkpoint")
            try db.execute(sql: "DELETE FROM audit_event WHERE event_type = 'checkpoint.issued'")
            var prev = [UInt8](try Data.fetchOne(db, sql: "SELECT genesis_hash FROM incident") ?? Data())
            for seq in 1...4 {
                let bytes = [UInt8](try Data.fetchOne(db, sql: "SELECT record FROM audit_event WHERE seq = ?",
                                                      arguments: [seq]) ?? Data())
                guard case .object(var members) = try CanonicalJSON.decode(bytes) else { return }
                for i in members.indices {
                    if members[i].0 == "prev" { members[i].1 = .string(Hex.encode(prev)) }
                    if members[i].0 == "body", seq == 2 { members[i].1 = ["text": "nothing happened"] }
                }
                let record = try CanonicalJSON.encode(.object(members))
                let entry = AuditHash.entry(record: record)
                try db.execute(sql: "UPDATE audit_event SET record = ?, prev_hash = ?, entry_hash = ? WHERE seq = ?",
                               arguments: [Data(record), Data(prev), Data(entry), seq])
                prev = entry
            }
            for t in triggers { try db.execute(sql: t) }
        }
        #expect(try store.events(incident: "INC-1")[1].body["text"]?.stringValue == "nothing happened")
        #expect(try store.verify(incident: "INC-1").ok)  // the limit of any local scheme
        let error = checkpointError {
            _ = try store.verifyCheckpoint(note: cp.note, verifier: CheckpointVerifier(verifierKey: signer.verifierKey),
                                           incident: "INC-1")
        }
        guard case .rewritten(let size, _) = error else {
            Issue.record("rewrite not detected: \(String(describing: error))")
            return
        }
        #expect(size == 4)
    }

    @Test("Bit flips in record bytes of a copied database file are always detected, and never crash verify")
    func bitFlips() throws {
        let dir = try TempDir()
        do {
            let store = try Fixture.store(in: dir, notes: 30)
            try store.queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        }
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.file("audit.sqlite"))))
        let marker = Array(#"{"text":"note 17"}"#.utf8)
        var hits: [Int] = []
        for i in 0...(original.count - marker.count) where original[i] == marker[0] {
            if Array(original[i..<(i + marker.count)]) == marker { hits.append(i) }
        }
        #expect(hits.count == 1)
        var g = SplitMix64(state: 99)
        var targeted: [Int] = (0..<40).map { _ in (hits.first ?? 0) + Int.random(in: 0..<marker.count, using: &g) }
        let random: [Int] = (0..<60).map { _ in Int.random(in: 0..<original.count, using: &g) }
        targeted += random
        var undetectedTargeted = 0
        for (n, offset) in targeted.enumerated() {
            var bytes = original
            bytes[offset] ^= UInt8(1) << UInt8(Int.random(in: 0..<8, using: &g))
            let path = dir.file("flip-\(n).sqlite")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            var detected = true
            do {
                let store = try AuditStore(path: path, writer: Fixture.writer)
                detected = !(try store.verify(incident: "INC-1").ok)
            } catch {
                detected = true  // refused to open or read: reported, not crashed
            }
            if n < 40 && !detected { undetectedTargeted += 1 }
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: path + "-wal")
            try? FileManager.default.removeItem(atPath: path + "-shm")
        }
        #expect(undetectedTargeted == 0)
    }
}

@Suite("Checkpoints")
struct CheckpointTests {
    @Test("A checkpoint is a C2SP signed note over the Merkle root, recorded as checkpoint.issued")
    func issue() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 3)
        let before = try store.verify(incident: "INC-1")
        let cp = try store.issueCheckpoint(incident: "INC-1", signer: signer, at: Fixture.t0)
        let lines = cp.note.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == 7)
        #expect(lines[0] == "crisis.test/INC-1")
        #expect(lines[1] == "4")
        #expect(lines[2] == Data(try #require(Hex.decode(before.merkleRoot))).base64EncodedString())
        #expect(lines[3] == "chain " + (before.chainHead ?? ""))
        #expect(lines[4] == "")
        #expect(lines[5].hasPrefix("\u{2014} ops.example "))
        #expect(lines[6] == "")
        // Key ID = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4], then a 64-byte Ed25519 signature.
        let sig = try #require(Data(base64Encoded: String(lines[5].dropFirst(3 + "ops.example".count))))
        #expect(sig.count == 68)
        let keyID = Array(AuditHash.sha256(Array("ops.example".utf8) + [0x0A, 0x01] + signer.publicKey).prefix(4))
        #expect(Array(sig.prefix(4)) == keyID)
        #expect(cp.treeSize == 4)
        #expect(cp.eventSeq == 5)
        let event = try #require(try store.events(incident: "INC-1").last)
        #expect(event.type == .checkpoint)
        #expect(event.body["note"]?.stringValue == cp.note)
        #expect(event.body["merkle_root"]?.stringValue == before.merkleRoot)
        #expect(try store.checkpoints(incident: "INC-1") == [cp])
        #expect(try store.verify(incident: "INC-1").ok)
        #expect(try store.verify(incident: "INC-1").checkpointsChecked == 1)
        // Nothing new since: the same checkpoint comes back, and no event is added.
        #expect(try store.issueCheckpoint(incident: "INC-1", signer: signer, at: Fixture.t0) == cp)
        #expect(try store.head(incident: "INC-1")?.seq == 5)
        // After a new event, a new checkpoint covers it (and the previous checkpoint event).
        _ = try store.append(incident: "INC-1", expectedSeq: 5, events: [Fixture.note(4)])
        let next = try store.issueCheckpoint(incident: "INC-1", signer: signer, at: Fixture.t0)
        #expect(next.treeSize == 6)
        let verifier = try CheckpointVerifier(verifierKey: signer.verifierKey)
        let result = try store.verifyCheckpoint(note: next.note, verifier: verifier, incident: "INC-1")
        #expect(result.treeSize == 6)
        #expect(result.laterRecords == 1)
        #expect(try store.verifyCheckpoint(note: cp.note, verifier: verifier, incident: "INC-1").laterRecords == 3)
    }

    @Test("(e) Another key, an altered note, another log and garbage are all rejected")
    func rejectedNotes() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 2)
        let cp = try store.issueCheckpoint(incident: "INC-1", signer: signer, at: Fixture.t0)
        let trusted = try CheckpointVerifier(verifierKey: signer.verifierKey)
        let mallory = try CheckpointSigner(name: "ops.example", seed: Array(repeating: 0x66, count: 32))
        // Signed by another key under the same name: not the trusted key.
        let forged = try mallory.signNote(CheckpointNote.body(
            origin: "crisis.test/INC-1", treeSize: 3, root: Array(repeating: 0, count: 32),
            chainHead: Array(repeating: 0, count: 32)))
        guard case .unknownKey = checkpointError({ _ = try store.verifyCheckpoint(note: forged, verifier: trusted,
                                                                                  incident: "INC-1") })
        else {
            Issue.record("note by another key accepted")
            return
        }
        // The trusted signature line on altered text: forged.
        let altered = cp.note.replacingOccurrences(of: "\n3\n", with: "\n2\n")
        #expect(altered != cp.note)
        #expect(checkpointError { _ = try store.verifyCheckpoint(note: altered, verifier: trusted, incident: "INC-1") }
            == .badSignature(keyName: "ops.example"))
        // A bit flipped in the signature itself.
        var sigFlipped = Array(cp.note.utf8)
        let sigAt = sigFlipped.count - 10
        sigFlipped[sigAt] = sigFlipped[sigAt] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(checkpointError {
            _ = try store.verifyCheckpoint(note: String(decoding: sigFlipped, as: UTF8.self), verifier: trusted,
                                           incident: "INC-1")
        } == .badSignature(keyName: "ops.example"))
        // A valid note of another incident.
        try store.createIncident(Fixture.header("INC-2"), files: Fixture.files(), firstEvent: Fixture.opened())
        let other = try store.issueCheckpoint(incident: "INC-2", signer: signer, at: Fixture.t0)
        #expect(checkpointError { _ = try store.verifyCheckpoint(note: other.note, verifier: trusted, incident: "INC-1") }
            == .wrongOrigin(expected: "crisis.test/INC-1", found: "crisis.test/INC-2"))
        for garbage in ["", "hello", "a\n1\nxx\n\n\u{2014} ops.example AAAA\n", cp.note.replacingOccurrences(of: "\n\n", with: "\n")] {
            guard case .malformed = checkpointError({ _ = try store.verifyCheckpoint(note: garbage, verifier: trusted,
                                                                                     incident: "INC-1") })
            else {
                Issue.record("garbage note accepted or misreported: \(garbage)")
                continue
            }
        }
        // The genuine note still verifies.
        #expect(try store.verifyCheckpoint(note: cp.note, verifier: trusted, incident: "INC-1").treeSize == 3)
    }

    @Test("A broken chain is never signed")
    func refusesBrokenChain() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 2)
        let raw = try Fixture.raw(dir.file("audit.sqlite"))
        _ = try Tamper.dropTriggers(raw)
        try Tamper.setRecord(raw, seq: 2, Tamper.replacing(try Tamper.record(raw, seq: 2), "note 1", "note 9"))
        #expect(throws: AuditError.self) {
            try store.issueCheckpoint(incident: "INC-1", signer: signer, at: Fixture.t0)
        }
        #expect(try store.checkpoints(incident: "INC-1").isEmpty)
    }

    @Test("The key file is created 0600, reloads to the same key, and is refused when readable by others")
    func keyFile() throws {
        let dir = try TempDir()
        let path = dir.file("keys/signing.key")
        let created = try CheckpointSigner.loadOrCreate(keyFile: path, name: "host-a")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("PRIVATE+KEY+host-a+\(Hex.encode(created.keyID))+"))
        let loaded = try CheckpointSigner.loadOrCreate(keyFile: path, name: "ignored")
        #expect(loaded.verifierKey == created.verifierKey)
        #expect(loaded.name == "host-a")
        let verifier = try CheckpointVerifier(verifierKey: created.verifierKey)
        #expect(verifier.publicKey == created.publicKey)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: AuditError.self) { _ = try CheckpointSigner.loadOrCreate(keyFile: path, name: "host-a") }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        try FileManager.default.createSymbolicLink(atPath: dir.file("link.key"), withDestinationPath: path)
        #expect(throws: AuditError.self) { _ = try CheckpointSigner.loadOrCreate(keyFile: dir.file("link.key"), name: "x") }
        #expect(throws: CheckpointError.self) { _ = try CheckpointVerifier(verifierKey: "host-a+00000000+AAAA") }
        #expect(throws: CheckpointError.self) { _ = try CheckpointSigner(name: "has space", seed: Array(repeating: 1, count: 32)) }
    }
}
