import CrisisCore
import Foundation
import GRDB

#if canImport(GRDBSQLite)
import GRDBSQLite
#elseif canImport(SQLite3)
import SQLite3
#endif

extension SQLiteAuditLog {
    // MARK: - Verify

    /// Recomputes everything about an incident's trail from the stored bytes and reports what is wrong: the
    /// genesis hash, every entry hash, every link (record `prev` and `prev_hash` column), seq contiguity from 1,
    /// that each record is canonical, that the copied columns agree with the record, the pinned files against
    /// their SHA-256, the stored checkpoints against the records, the append-only triggers, and
    /// `PRAGMA integrity_check`. Trusts nothing in the database but the record bytes: works on a file whose
    /// triggers were dropped and rows edited.
    ///
    /// Throws `unknownIncident`, or `integrity`/`io` when SQLite cannot read the file at all.
    public func verify(incident: String) throws -> VerifyReport {
        try verify(incident: incident, integrityCheck: true)
    }

    /// `verify(incident:)`, with `PRAGMA integrity_check` only when `integrityCheck` (it reads every page of the
    /// file, indexes included: longer than all the other checks together).
    public func verify(incident: String, integrityCheck: Bool) throws -> VerifyReport {
        // Without the full check, SQLite's structural check of the trail's table (the longest single part after
        // the walk) runs on a second read-only connection at the same time as the walk. It checks structure only,
        // so that connection's snapshot need not be the walk's.
        let side = integrityCheck ? nil : SideQuickCheck.start { [path, isReadOnly] in
            try AuditStore.openSideReader(path, evidence: isReadOnly)
        }
        return try read("verify incident \(incident)") { db in
            var verifier = TrailVerifier(incident: incident)
            try verifier.run(db, integrityCheck: integrityCheck, side: side)
            return verifier.report()
        }
    }

    /// Every stored record of an incident as it is, walked along the hash chain from the genesis hash the
    /// incident's header gives: the chain check of `verify` without its schema, pinned-file, checkpoint and
    /// SQLite integrity checks (cheap enough for `log`). Reads columns leniently: a value of the wrong type is nil.
    public func rawRecords(incident: String) throws -> [RawRecord] {
        try read("read the records of incident \(incident)") { db in
            guard let header = try Row.fetchOne(db, sql: """
                SELECT origin, created_utc_ms, playbook_sha256 FROM incident WHERE incident_id = ?
                """, arguments: [incident])
            else { throw AuditError.unknownIncident(incident) }
            let text = LenientColumn.text, blob = LenientColumn.blob, int = LenientColumn.int
            let genesis = HashChain.genesis(
                incidentID: incident, origin: text(header[0]) ?? "", createdUTCMilliseconds: int(header[1]) ?? 0,
                playbookSHA256: blob(header[2]))
            var walker = HashChain.Walker(genesis: genesis)
            var out: [RawRecord] = []
            let rows = try Row.fetchCursor(db, sql: """
                SELECT seq, event_type, recorded_utc_ms, actor_id, actor_role, record, prev_hash, entry_hash
                FROM audit_event WHERE incident_id = ? ORDER BY seq
                """, arguments: [incident])
            while let row = try rows.next() {
                let seq = Int(int(row[0]) ?? 0)
                let record = blob(row[5])
                let link = HashChain.Link(seq: seq, prevHash: blob(row[6]), entryHash: blob(row[7]), record: record)
                let step = walker.walk(link)
                out.append(RawRecord(
                    seq: seq, type: text(row[1]),
                    recordedAt: int(row[2]).map { Instant(millisecondsSinceEpoch: $0) },
                    actorID: text(row[3]), actorRole: text(row[4]), record: record,
                    hashMatches: step.entryHash == link.entryHash,
                    problems: step.problems.map(\.description)))
            }
            return out
        }
    }

    // MARK: - Checkpoints

    /// Signs the incident's current tree head (records 1..N) and records it, in one transaction: a row in
    /// `audit_checkpoint` and a `checkpoint.issued` event (seq N+1) carrying the note.
    ///
    /// Before signing, the whole chain is recomputed and earlier checkpoints are checked against it; a broken
    /// trail is never signed (`integrity`). If nothing but this key's previous checkpoint was recorded since,
    /// that checkpoint is returned instead of a new one.
    @discardableResult
    public func issueCheckpoint(incident: String, signer: CheckpointSigner, at now: Instant) throws -> Checkpoint {
        try Validate.instant(now, "checkpoint time")
        return try write("issue a checkpoint for incident \(incident)") { db in
            guard let header = try Row.fetchOne(db, sql: """
                SELECT origin, genesis_hash FROM incident WHERE incident_id = ?
                """, arguments: [incident])
            else { throw AuditError.unknownIncident(incident) }
            let origin = try RowReader(row: header).text(0, "origin")
            let genesis = try RowReader(row: header).blob(1, "genesis_hash")
            let stored = try storedCheckpoints(db, incident: incident)
            var rootsAt: [Int: [UInt8]] = [:]
            let wanted = Set(stored.map(\.treeSize))
            var walker = HashChain.Walker(genesis: genesis)
            var lastType = ""
            let rows = try Row.fetchCursor(db, sql: """
                SELECT seq, record, prev_hash, entry_hash, event_type FROM audit_event
                WHERE incident_id = ? ORDER BY seq
                """, arguments: [incident])
            while let row = try rows.next() {
                let r = RowReader(row: row)
                let link = HashChain.Link(seq: try r.int(0, "seq"), prevHash: try r.blob(2, "prev_hash"),
                                          entryHash: try r.blob(3, "entry_hash"), record: try r.blob(1, "record"))
                if let problem = walker.walk(link).problems.first {
                    throw AuditError.integrity("refusing to sign incident \(incident): the chain is broken at seq "
                        + "\(problem.seq) (run verify)")
                }
                lastType = try r.text(4, "event_type")
                if wanted.contains(walker.count) { rootsAt[walker.count] = walker.tree.root }
            }
            let tree = walker.tree
            let prev = walker.head
            for old in stored where Hex.decode(old.merkleRoot) != rootsAt[old.treeSize] {
                throw AuditError.integrity("refusing to sign incident \(incident): the records no longer match the "
                    + "checkpoint at tree size \(old.treeSize)")
            }
            let size = tree.size
            guard size > 0 else { throw AuditError.integrity("incident \(incident) has no records to sign") }
            // Reuse only a checkpoint signed by this very key (same name is not enough: a copied database may
            // meet another installation's key of the same name).
            func mine(_ c: Checkpoint) -> Bool {
                (try? CheckpointNote.parse(c.note))?.signatures.contains {
                    $0.name == signer.name && $0.keyID == signer.keyID
                } ?? false
            }
            if let same = stored.first(where: { $0.treeSize == size && mine($0) }) { return same }
            if lastType == RecordType.checkpoint.rawValue,
                let previous = stored.first(where: { $0.treeSize == size - 1 && mine($0) })
            {
                return previous
            }
            let root = tree.root
            let body = CheckpointNote.body(origin: origin, treeSize: size, root: root, chainHead: prev)
            let note = try signer.signNote(body)
            if stored.contains(where: { $0.treeSize == size }) {
                // Another key already checkpointed this tree size: one row per size is stored; this signature is
                // returned for the caller to keep outside, and anchors the same records.
                return Checkpoint(incidentID: incident, treeSize: size, merkleRoot: Hex.encode(root),
                                  chainHead: Hex.encode(prev), keyName: signer.name, note: note, createdAt: now,
                                  eventSeq: nil)
            }
            try db.execute(sql: """
                INSERT INTO audit_checkpoint (incident_id, tree_size, merkle_root, chain_head, key_name, signed_note,
                                              created_utc_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [incident, size, Data(root), Data(prev), signer.name, Data(note.utf8),
                                 now.millisecondsSinceEpoch])
            let draft = EventDraft(
                type: .checkpoint, idempotencyKey: "checkpoint:\(size):\(signer.name)", actor: .system,
                recordedAt: now,
                body: .object([
                    ("tree_size", .integer(Int64(size))),
                    ("merkle_root", .string(Hex.encode(root))),
                    ("chain_head", .string(Hex.encode(prev))),
                    ("key_name", .string(signer.name)),
                    ("key_id", .string(Hex.encode(signer.keyID))),
                    ("verifier_key", .string(signer.verifierKey)),
                    ("note", .string(note)),
                ]))
            try Validate.draft(draft)
            let next = HashChain.next(afterSeq: size, entryHash: prev, genesis: genesis)
            let event = try insertEvent(db, incident: incident, seq: next.seq, prev: next.prev, draft: draft)
            return Checkpoint(incidentID: incident, treeSize: size, merkleRoot: Hex.encode(root),
                              chainHead: Hex.encode(prev), keyName: signer.name, note: note, createdAt: now,
                              eventSeq: event.seq)
        }
    }

    /// The checkpoints stored with an incident, smallest tree first.
    public func checkpoints(incident: String) throws -> [Checkpoint] {
        try read("read the checkpoints of incident \(incident)") { db in
            guard try incidentExists(db, incident) else { throw AuditError.unknownIncident(incident) }
            return try storedCheckpoints(db, incident: incident)
        }
    }

    func storedCheckpoints(_ db: Database, incident: String) throws -> [Checkpoint] {
        try Row.fetchAll(db, sql: """
            SELECT c.tree_size, c.merkle_root, c.chain_head, c.key_name, c.signed_note, c.created_utc_ms, e.seq
            FROM audit_checkpoint c
            LEFT JOIN audit_event e ON e.incident_id = c.incident_id AND e.event_type = 'checkpoint.issued'
              AND e.idempotency_key = 'checkpoint:' || c.tree_size || ':' || c.key_name
            WHERE c.incident_id = ? ORDER BY c.tree_size, c.key_name
            """, arguments: [incident]).map { row in
            let r = RowReader(row: row)
            return Checkpoint(
                incidentID: incident, treeSize: try r.int(0, "tree_size"),
                merkleRoot: Hex.encode(try r.blob(1, "merkle_root")), chainHead: Hex.encode(try r.blob(2, "chain_head")),
                keyName: try r.text(3, "key_name"), note: String(decoding: try r.blob(4, "signed_note"), as: UTF8.self),
                createdAt: Instant(millisecondsSinceEpoch: Int64(try r.int(5, "created_utc_ms"))),
                eventSeq: try r.optionalInt(6, "seq"))
        }
    }

    /// Checks a checkpoint note held outside the database against the trusted key and the incident's records.
    ///
    /// Throws `CheckpointError`: `.unknownKey` (not signed by `verifier`), `.badSignature` (forged or altered),
    /// `.wrongOrigin`, `.truncated` (the store has fewer records than the note covers: truncation or rollback),
    /// `.rewritten` (records 1..N no longer hash to the signed root or chain head). On success returns what the
    /// note proves and how many later records it does not cover.
    public func verifyCheckpoint(note: String, verifier: CheckpointVerifier, incident: String) throws
        -> VerifiedCheckpoint
    {
        let parsed = try CheckpointNote.parse(note)
        let mine = parsed.signatures.filter { $0.name == verifier.name && $0.keyID == verifier.keyID }
        guard !mine.isEmpty else {
            throw CheckpointError.unknownKey(
                expected: "\(verifier.name)+\(Hex.encode(verifier.keyID))",
                found: parsed.signatures.map { "\($0.name)+\(Hex.encode($0.keyID))" })
        }
        guard mine.contains(where: { verifier.isValidSignature($0.signature, for: parsed.text) }) else {
            throw CheckpointError.badSignature(keyName: verifier.name)
        }
        return try read("verify a checkpoint of incident \(incident)") { db in
            guard let origin = try String.fetchOne(db, sql: "SELECT origin FROM incident WHERE incident_id = ?",
                                                   arguments: [incident])
            else { throw AuditError.unknownIncident(incident) }
            guard origin == parsed.origin else {
                throw CheckpointError.wrongOrigin(expected: origin, found: parsed.origin)
            }
            let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_event WHERE incident_id = ?",
                                         arguments: [incident]) ?? 0
            let maxSeq = try Int.fetchOne(db, sql: "SELECT max(seq) FROM audit_event WHERE incident_id = ?",
                                          arguments: [incident]) ?? 0
            guard parsed.treeSize <= count, parsed.treeSize <= maxSeq else {
                throw CheckpointError.truncated(checkpointSize: parsed.treeSize, storeSize: count)
            }
            var tree = MerkleTree()
            var head: [UInt8]?
            let rows = try Row.fetchCursor(db, sql: """
                SELECT seq, record FROM audit_event WHERE incident_id = ? ORDER BY seq LIMIT ?
                """, arguments: [incident, parsed.treeSize])
            while let row = try rows.next() {
                let r = RowReader(row: row)
                let seq = try r.int(0, "seq")
                guard seq == tree.size + 1 else {
                    throw CheckpointError.rewritten(treeSize: parsed.treeSize, detail: "seq \(tree.size + 1) is missing")
                }
                let record = try r.blob(1, "record")
                tree.append(record: record)
                head = HashChain.entryHash(record: record)
            }
            guard tree.root == parsed.root else {
                throw CheckpointError.rewritten(treeSize: parsed.treeSize, detail: "the Merkle root differs")
            }
            if let chain = parsed.chainHead, chain != head {
                throw CheckpointError.rewritten(treeSize: parsed.treeSize, detail: "the chain head differs")
            }
            return VerifiedCheckpoint(origin: parsed.origin, treeSize: parsed.treeSize, merkleRoot: Hex.encode(tree.root),
                                      chainHead: parsed.chainHead.map { Hex.encode($0) }, keyName: verifier.name,
                                      laterRecords: count - parsed.treeSize)
        }
    }
}

/// One pass of `verify` over an incident.
struct TrailVerifier {
    let incident: String
    var problems: [VerifyProblem] = []
    var recordCount = 0
    var chainHead: [UInt8]?
    var tree = MerkleTree()
    var checkpointsChecked = 0
    var integrity = ""

    init(incident: String) { self.incident = incident }

    mutating func add(_ seq: Int?, _ message: String) {
        if problems.count < VerifyReport.maximumProblems { problems.append(VerifyProblem(seq: seq, message: message)) }
    }

    func report() -> VerifyReport {
        VerifyReport(incidentID: incident, recordCount: recordCount, chainHead: chainHead.map { Hex.encode($0) },
                     merkleRoot: Hex.encode(tree.root), checkpointsChecked: checkpointsChecked, problems: problems,
                     sqliteIntegrity: integrity)
    }

    mutating func run(_ db: Database, integrityCheck: Bool = true, side: SideQuickCheck? = nil) throws {
        guard let header = try Row.fetchOne(db, sql: """
            SELECT incident_id, origin, genesis_hash, playbook_sha256, created_utc_ms, mode FROM incident
            WHERE incident_id = ?
            """, arguments: [incident])
        else { throw AuditError.unknownIncident(incident) }
        let genesis = checkHeader(header)
        try checkPinnedFiles(db)
        let checkpoints = try loadCheckpoints(db)
        let wanted = Set(checkpoints.map(\.treeSize))

        // This thread reads the rows and hands them over in batches; the walk (hashes, canonical JSON, the
        // copied columns) runs on worker threads and commits in order, so what it reports is what one thread
        // would report. While it finishes, this one runs the checks that do not need it (triggers, schema,
        // SQLite's own check, which `side` may have run already); their problems are listed after the walk's.
        let walk = ChainWalk(verifier: TrailVerifier(incident: incident), genesis: genesis, wanted: wanted)
        let pipe = RowPipe()
        walk.start(pipe)
        var tail = TrailVerifier(incident: incident)
        do {
            defer { pipe.finish() }
            try Self.readRows(db, incident: incident, into: pipe)
        } catch {
            walk.wait()
            throw error
        }
        do {
            try tail.checkTriggers(db)
            try tail.checkSchemaText(db)
            try tail.checkSQLite(db, integrityCheck: integrityCheck, side: side)
        } catch {
            walk.wait()
            throw error
        }
        walk.wait()
        let walked = walk.verifier
        for problem in walked.problems { add(problem.seq, problem.message) }
        recordCount = walked.recordCount
        chainHead = walked.chainHead
        tree = walk.walker.tree
        checkCheckpoints(checkpoints, rootsAt: walk.rootsAt, events: walk.checkpointEvents, db: db)
        for problem in tail.problems { add(problem.seq, problem.message) }
        integrity = tail.integrity
    }

    /// Reads the incident's rows for the walk, in batches, with the columns it compares.
    static func readRows(_ db: Database, incident: String, into pipe: RowPipe) throws {
        // Read from the table itself, in insertion order (the table is append-only, so rowid order is seq order),
        // never through an index: SQLite reads indexed columns from the index, so a row whose incident_id or seq
        // was edited in the table alone would otherwise pass unseen (integrity_check finds it, at a cost). Here
        // such a row drops out of the incident or breaks the sequence, and the walk reports it.
        let statement = try db.makeStatement(sql: """
            SELECT \(AuditStore.eventColumns) FROM audit_event NOT INDEXED WHERE incident_id = ? ORDER BY rowid
            """)
        let rows = try Row.fetchCursor(statement, arguments: [incident])
        let s = statement.sqliteStatement
        var batch = RowPipe.Batch()
        while let row = try rows.next() {
            // The columns straight from the statement: the values (and for seq and record the errors) RowReader
            // gives, without copying them into DatabaseValues first.
            guard let seq = StatementColumn.int(s, 1), let record = StatementColumn.blob(s, 8) else {
                let r = RowReader(row: row)
                do {
                    _ = try r.int(1, "seq")
                    _ = try r.blob(8, "record")
                    batch.items.append(.unreadable("column seq or record is unreadable"))
                } catch {
                    batch.items.append(.unreadable("\(error)"))
                }
                break
            }
            let prevHash = StatementColumn.blob(s, 9, into: &batch.arena)
            let entryHash = StatementColumn.blob(s, 10, into: &batch.arena)
            batch.items.append(.row(WalkRow(
                seq: seq, record: record, prevHash: prevHash, entryHash: entryHash,
                incidentID: StatementColumn.text(s, 0, into: &batch.arena),
                eventID: StatementColumn.text(s, 2, into: &batch.arena),
                idempotencyKey: StatementColumn.text(s, 3, into: &batch.arena),
                eventType: StatementColumn.text(s, 4, into: &batch.arena), recordedMS: StatementColumn.int(s, 5),
                actorID: StatementColumn.text(s, 6, into: &batch.arena),
                actorRole: StatementColumn.text(s, 7, into: &batch.arena))))
            if batch.items.count == RowPipe.batchSize {
                pipe.put(batch)
                batch = RowPipe.Batch()
            }
        }
        if !batch.items.isEmpty { pipe.put(batch) }
    }

    /// `PRAGMA integrity_check`, or without it the lighter checks that stand in for it.
    mutating func checkSQLite(_ db: Database, integrityCheck: Bool, side: SideQuickCheck? = nil) throws {
        guard integrityCheck else {
            // Without the full check: the small tables in full (structure, and every index against its table),
            // and the trail's table and indexes for their structure (quick_check: no cross-check of index
            // contents, which the walk above does not need, since it reads the table itself).
            var lines: [String] = []
            // Only the tables this file has (older files lack the later ones).
            let tables = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'table' AND name IN
                ('incident', 'incident_file', 'audit_checkpoint', 'playbook_source', 'state_snapshot', 'schema_migration')
                ORDER BY name
                """)
            for table in tables {
                lines += try String.fetchAll(db, sql: "PRAGMA integrity_check(\(table))").filter { $0 != "ok" }
            }
            // From the side connection when it ran; on this one when it could not (it could not open, say).
            let quick = try side?.result() ?? String.fetchAll(db, sql: "PRAGMA quick_check(audit_event)")
            lines += quick.filter { $0 != "ok" }
            integrity = lines.isEmpty ? "ok (quick)" : lines.joined(separator: "; ")
            if !lines.isEmpty { add(nil, "SQLite check: \(integrity)") }
            return
        }
        let lines = try String.fetchAll(db, sql: "PRAGMA integrity_check")
        integrity = lines.joined(separator: "; ")
        if lines != ["ok"] { add(nil, "SQLite integrity_check: \(integrity)") }
    }

    /// Returns the recomputed genesis hash (the chain's true start) after comparing it with the stored one.
    mutating func checkHeader(_ row: Row) -> [UInt8] {
        let r = RowReader(row: row)
        do {
            let origin = try r.text(1, "origin")
            let stored = try r.blob(2, "genesis_hash")
            let playbook = try r.blob(3, "playbook_sha256")
            let created = try r.int(4, "created_utc_ms")
            let mode = try r.text(5, "mode")
            if IncidentMode(rawValue: mode) == nil { add(nil, "incident header: mode '\(mode)' is not live or drill") }
            let genesis = AuditHash.genesis(incidentID: incident, origin: origin, createdUTCMilliseconds: Int64(created),
                                            playbookSHA256: playbook)
            if genesis != stored {
                add(nil, "incident header: genesis_hash does not match the incident id, origin, creation time and "
                    + "playbook hash (header edited)")
                // Reported once here; link the records to the stored value so the chain is judged on its own.
                return stored
            }
            return genesis
        } catch {
            add(nil, "incident header: \(error)")
            return (try? r.blob(2, "genesis_hash")) ?? []
        }
    }

    mutating func checkPinnedFiles(_ db: Database) throws {
        let rows = try Row.fetchAll(db, sql: """
            SELECT i.playbook_sha256, s.bytes, 'playbook', s.sha256, i.incident_id FROM incident i
            LEFT JOIN playbook_source s NOT INDEXED ON s.sha256 = i.playbook_sha256 WHERE i.incident_id = ?
            UNION ALL
            SELECT f.sha256, s.bytes, f.file_name, s.sha256, f.incident_id FROM incident_file f NOT INDEXED
            LEFT JOIN playbook_source s NOT INDEXED ON s.sha256 = f.sha256 WHERE f.incident_id = ?
            """, arguments: [incident, incident])
        // Rows the index finds that the table no longer holds under this incident: an edited key column.
        for table in ["incident", "incident_file", "audit_checkpoint"] {
            let viaIndex = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table) WHERE incident_id = ?", arguments: [incident]) ?? 0
            let inTable = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table) NOT INDEXED WHERE incident_id = ?",
                                           arguments: [incident]) ?? 0
            if viaIndex != inTable {
                add(nil, "\(table): \(viaIndex) rows of \(incident) by its index, \(inTable) in the table (a key column edited)")
            }
        }
        for row in rows {
            let r = RowReader(row: row)
            let name = (try? r.text(2, "file_name")) ?? "?"
            guard let key = try? r.blob(0, "sha256") else {
                add(nil, "pinned file \(name): unreadable key")
                continue
            }
            // Rows found through an index must carry the key they were found by (an edited key column is
            // otherwise only seen by integrity_check).
            if (try? r.text(4, "incident_id")) != incident {
                add(nil, "pinned file \(name): its row's incident_id column is not \(incident)")
            }
            if r.value(1).isNull {
                add(nil, "pinned file \(name) (\(Hex.encode(key))) is missing from playbook_source")
            } else if (try? r.blob(3, "sha256")) != key {
                add(nil, "pinned file \(name): the playbook_source row found for \(Hex.encode(key)) has another key (edited)")
            } else if let bytes = try? r.blob(1, "bytes"), AuditHash.sha256(bytes) == key {
                continue
            } else {
                add(nil, "pinned file \(name): its bytes no longer hash to \(Hex.encode(key)) (file edited)")
            }
        }
    }

    struct StoredCheckpoint {
        var treeSize: Int
        var root: [UInt8]
        var head: [UInt8]
        var keyName: String
        var note: String
    }

    mutating func loadCheckpoints(_ db: Database) throws -> [StoredCheckpoint] {
        var out: [StoredCheckpoint] = []
        for row in try Row.fetchAll(db, sql: """
            SELECT tree_size, merkle_root, chain_head, key_name, signed_note, incident_id FROM audit_checkpoint NOT INDEXED
            WHERE incident_id = ? ORDER BY tree_size
            """, arguments: [incident])
        {
            let r = RowReader(row: row)
            if (try? r.text(5, "incident_id")) != incident {
                add(nil, "audit_checkpoint: a row's incident_id column is not \(incident) (edited)")
            }
            do {
                out.append(StoredCheckpoint(treeSize: try r.int(0, "tree_size"), root: try r.blob(1, "merkle_root"),
                                            head: try r.blob(2, "chain_head"), keyName: try r.text(3, "key_name"),
                                            note: String(decoding: try r.blob(4, "signed_note"), as: UTF8.self)))
            } catch {
                add(nil, "audit_checkpoint: unreadable row: \(error)")
            }
        }
        return out
    }

    /// Columns copied out of the record, and the record's own fields, must agree (its `seq` and `prev` are
    /// chain rules, checked by `HashChain.Walker`). The row's columns are byte ranges of `arena` (its batch's);
    /// `incident` is the incident id's UTF-8. Problems are appended to `problems`.
    static func checkFields(_ v: CanonicalMembers, row r: WalkRow, arena: [UInt8], incident: [UInt8],
                            into problems: inout [VerifyProblem]) {
        let seq = r.seq
        func add(_ message: String) { problems.append(VerifyProblem(seq: seq, message: message)) }
        // The members read below, found in one scan (CanonicalMembers scans the members again for each name);
        // each read gives what CanonicalMembers' own would.
        let f = FieldRanges(v)
        func mismatch(_ field: String) { add("record field \(field) does not match the \(field) column") }
        /// Member `name` against a column: equal when both are missing, or both the same string byte for byte.
        func same(_ member: Range<Int>?, _ column: Range<Int>?) -> Bool {
            guard let column else { return f.string(member) == nil }
            return f.string(member, is: arena[column])
        }
        func text(_ bytes: some Collection<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
        if f.integer(f.v) != HashChain.recordVersion { add("record version v is not 1") }
        // The row found through the index must say so itself: an edited incident_id column (the index not
        // updated) is caught here without the full integrity_check.
        if !(r.incidentID.map { CanonicalJSON.sameBytes(arena[$0], incident[...]) } ?? false) {
            add("the row's incident_id column is not \(text(incident))")
        }
        if !f.string(f.incident, is: incident[...]) {
            add("record belongs to incident \(f.string(f.incident) ?? "?"), not \(text(incident))")
        }
        if !same(f.eventID, r.eventID) { mismatch("event_id") }
        if !same(f.idem, r.idempotencyKey) { mismatch("idem (idempotency_key)") }
        if !same(f.type, r.eventType) { mismatch("type (event_type)") }
        if let type = f.string(f.type), RecordType(rawValue: type) == nil { add("unknown event type '\(type)'") }
        let at = f.string(f.at).flatMap(ISO8601.parse)
        if at == nil || at?.millisecondsSinceEpoch != r.recordedMS.map(Int64.init) {
            mismatch("at (recorded_utc_ms)")
        }
        if !same(f.member("id", of: f.actor), r.actorID) { mismatch("actor.id (actor_id)") }
        // A NULL column and one that is not text both read as no role.
        if !same(f.member("role", of: f.actor), r.actorRole) { mismatch("actor.role (actor_role)") }
        if f.body == nil { add("record has no body") }
        // Canonical, so `app` is the first member of `where` when it is there at all.
        if !(f.where.map { startsWithApp(v.bytes[$0]) } ?? false) {
            add("record where.app is not crisis")
        }
    }

    static let appCrisis = Array(#"{"app":"crisis""#.utf8)

    /// Whether a canonical object's bytes begin with the member `"app":"crisis"`.
    static func startsWithApp(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard bytes.count > appCrisis.count, bytes.starts(with: appCrisis) else { return false }
        let next = bytes[bytes.startIndex + appCrisis.count]
        return next == UInt8(ascii: ",") || next == UInt8(ascii: "}")
    }

    mutating func checkCheckpoints(_ checkpoints: [StoredCheckpoint], rootsAt: [Int: ([UInt8], [UInt8])],
                                   events: [Int: CanonicalValue], db: Database)
    {
        for cp in checkpoints {
            checkpointsChecked += 1
            guard let pair = rootsAt[cp.treeSize] else {
                add(nil, "checkpoint at tree size \(cp.treeSize) covers more records than the trail holds "
                    + "(\(recordCount)): records were removed")
                continue
            }
            if pair.0 != cp.root || pair.1 != cp.head {
                add(nil, "checkpoint at tree size \(cp.treeSize) no longer matches records 1..\(cp.treeSize) "
                    + "(rewritten)")
            }
            let eventSeq = cp.treeSize + 1
            if let body = events[eventSeq] {
                if body["tree_size"]?.intValue != cp.treeSize || body["merkle_root"]?.stringValue != Hex.encode(cp.root)
                    || !(body["note"]?.stringValue?.utf8.elementsEqual(cp.note.utf8) ?? false)
                {
                    add(eventSeq, "checkpoint.issued event does not match the stored checkpoint \(cp.treeSize)")
                }
                if let key = body["verifier_key"]?.stringValue, let verifier = try? CheckpointVerifier(verifierKey: key),
                    let parsed = try? CheckpointNote.parse(cp.note)
                {
                    let signed = parsed.signatures.contains {
                        $0.keyID == verifier.keyID && verifier.isValidSignature($0.signature, for: parsed.text)
                    }
                    if !signed || parsed.treeSize != cp.treeSize || parsed.root != cp.root {
                        add(nil, "checkpoint at tree size \(cp.treeSize): the note's signature or tree head is wrong")
                    }
                }
            } else if recordCount >= eventSeq {
                add(eventSeq, "seq \(eventSeq) should be the checkpoint.issued event of checkpoint \(cp.treeSize)")
            } else {
                add(nil, "checkpoint at tree size \(cp.treeSize): its checkpoint.issued event (seq \(eventSeq)) is "
                    + "missing: the last record was removed")
            }
        }
    }

    /// The schema as the migrations create it: object name to its SQL text, read from a fresh in-memory database.
    static let expectedSchema: [String: String] = {
        guard let queue = try? DatabaseQueue() else { return [:] }
        let rows = try? queue.write { db -> [Row] in
            try AuditSchema.migrate(db)
            return try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_schema WHERE sql IS NOT NULL")
        }
        var out: [String: String] = [:]
        for row in rows ?? [] {
            if let name = String.fromDatabaseValue(row[0] as DatabaseValue),
                let sql = String.fromDatabaseValue(row[1] as DatabaseValue)
            {
                out[name] = sql
            }
        }
        return out
    }()

    /// The schema's text is outside the hash chain: a changed CHECK, column or trigger body is found by comparing
    /// every object's SQL with what the migrations create.
    mutating func checkSchemaText(_ db: Database) throws {
        let expected = Self.expectedSchema
        guard !expected.isEmpty else { return }
        var altered: [String] = []
        var extra: [String] = []
        for row in try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name") {
            let name = String.fromDatabaseValue(row[0] as DatabaseValue) ?? "?"
            let sql = String.fromDatabaseValue(row[1] as DatabaseValue) ?? ""
            if let want = expected[name] {
                if want != sql { altered.append(name) }
            } else {
                extra.append(name)
            }
        }
        if !altered.isEmpty {
            add(nil, "schema: the definition of \(altered.joined(separator: ", ")) differs from the audit schema: the "
                + "schema was altered")
        }
        if !extra.isEmpty {
            add(nil, "schema: objects that are not part of the audit schema: \(extra.joined(separator: ", "))")
        }
    }

    mutating func checkTriggers(_ db: Database) throws {
        let present = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_schema WHERE type = 'trigger'"))
        let missing = AuditSchema.requiredTriggers.filter { !present.contains($0) }
        if !missing.isEmpty {
            add(nil, "schema: append-only triggers missing (\(missing.joined(separator: ", "))): the schema was altered")
        }
    }
}

/// The value ranges of the members `checkFields` reads, found in one scan of a record's members (the first
/// member of each name, as `CanonicalMembers.range` finds it), with CanonicalMembers' readings of them.
struct FieldRanges {
    let bytes: [UInt8]
    var v: Range<Int>?
    var incident: Range<Int>?
    var eventID: Range<Int>?
    var idem: Range<Int>?
    var type: Range<Int>?
    var at: Range<Int>?
    var actor: Range<Int>?
    var body: Range<Int>?
    var `where`: Range<Int>?

    init(_ m: CanonicalMembers) {
        bytes = m.bytes
        for (name, value) in m.members {
            let n = m.bytes[name]
            // A switch on the name, not a lookup in a shared table: the walk runs on several threads, and a
            // shared array's reference count would be written by all of them for every member.
            func named(_ s: StaticString) -> Bool { CanonicalJSON.sameBytes(n, s) }
            switch n.count {
            case 1: if named("v"), v == nil { v = value }
            case 2: if named("at"), at == nil { at = value }
            case 4:
                if named("idem") { if idem == nil { idem = value } }
                else if named("type") { if type == nil { type = value } }
                else if named("body"), body == nil { body = value }
            case 5:
                if named("actor") { if actor == nil { actor = value } }
                else if named("where"), self.where == nil { self.where = value }
            case 8:
                if named("incident") { if incident == nil { incident = value } }
                else if named("event_id"), eventID == nil { eventID = value }
            default: continue
            }
        }
    }

    /// The value of member `name` of the object at `object` (already checked canonical, so a plain scan finds
    /// it), or nil when `object` is missing, not an object, or has no such member.
    func member(_ name: StaticString, of object: Range<Int>?) -> Range<Int>? {
        guard let object, object.count >= 2, bytes[object.lowerBound] == 0x7B else { return nil }
        var i = object.lowerBound + 1
        let end = object.upperBound - 1
        while i < end {
            // A member name: no escapes in canonical names.
            let nameStart = i + 1
            var j = nameStart
            while bytes[j] != 0x22 { j += 1 }
            let isWanted = CanonicalJSON.sameBytes(bytes[nameStart..<j], name)
            let valueStart = j + 2  // past the quote and the colon
            let valueEnd = Self.valueEnd(bytes, from: valueStart)
            if isWanted { return valueStart..<valueEnd }
            i = valueEnd + 1  // past the comma (or onto the closing brace)
        }
        return nil
    }

    /// Where the canonical value starting at `i` ends.
    static func valueEnd(_ bytes: [UInt8], from start: Int) -> Int {
        var i = start
        var depth = 0
        repeat {
            switch bytes[i] {
            case 0x22:  // a string: to its closing quote, over escapes
                i += 1
                while bytes[i] != 0x22 { i += bytes[i] == 0x5C ? 2 : 1 }
                i += 1
            case 0x7B, 0x5B:
                depth += 1
                i += 1
            case 0x7D, 0x5D:
                depth -= 1
                i += 1
            default:  // a number or literal, or a separator inside a container
                i += 1
                if depth == 0 {
                    while i < bytes.count, bytes[i] != 0x2C, bytes[i] != 0x7D, bytes[i] != 0x5D { i += 1 }
                }
            }
        } while depth > 0
        return i
    }

    /// The member decoded (`CanonicalMembers` subscript).
    func value(_ r: Range<Int>?) -> CanonicalValue? {
        guard let r else { return nil }
        return try? CanonicalJSON.decode(Array(bytes[r]))
    }

    /// A string without escapes: its bytes between the quotes (`CanonicalMembers.plainString`).
    func plain(_ r: Range<Int>?) -> ArraySlice<UInt8>? {
        guard let r, r.count >= 2, bytes[r.lowerBound] == 0x22 else { return nil }
        let inner = bytes[(r.lowerBound + 1)..<(r.upperBound - 1)]
        return inner.contains(0x5C) ? nil : inner
    }

    /// `CanonicalMembers.string(_:)`.
    func string(_ r: Range<Int>?) -> String? {
        if let p = plain(r) { return String(decoding: p, as: UTF8.self) }
        return value(r)?.stringValue
    }

    /// `CanonicalMembers.string(_:is:)`, against UTF-8 bytes.
    func string(_ r: Range<Int>?, is expected: ArraySlice<UInt8>) -> Bool {
        if let p = plain(r) { return CanonicalJSON.sameBytes(p, expected) }
        guard let value = value(r)?.stringValue else { return false }
        return CanonicalJSON.sameBytes(expected, value)
    }

    /// `CanonicalMembers.integer(_:)`.
    func integer(_ r: Range<Int>?) -> Int64? {
        r.flatMap { CanonicalMembers.integer(bytes, $0) }
    }
}

/// `PRAGMA quick_check(audit_event)` on its own connection and thread, started before the walk so the two run
/// at once. `result()` waits for it: the check's lines, or nil when the side connection could not be opened or
/// read (the caller then runs the check itself, so a failure here never hides one).
final class SideQuickCheck: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var lines: [String]?
    private var waited = false

    static func start(open: @escaping @Sendable () throws -> DatabaseQueue) -> SideQuickCheck {
        let check = SideQuickCheck()
        let thread = Thread {
            check.lines = try? open().read { db in try String.fetchAll(db, sql: "PRAGMA quick_check(audit_event)") }
            check.done.signal()
        }
        thread.stackSize = 4 << 20
        thread.start()
        return check
    }

    /// Waits for the check (once; later calls return the same).
    func result() -> [String]? {
        if !waited {
            done.wait()
            waited = true
        }
        return lines
    }
}

/// One row of the trail as the walk needs it: the chain's columns and record, and the copied columns as
/// `RowReader` reads them leniently (nil when a column is NULL or of another type). Everything but the record is
/// a range of its batch's `arena` (one allocation per batch, not one per column): hashes that are not BLOBs are
/// empty, texts are their bytes as stored.
struct WalkRow: Sendable {
    var seq: Int
    var record: [UInt8]
    var prevHash: Range<Int>
    var entryHash: Range<Int>
    var incidentID: Range<Int>?
    var eventID: Range<Int>?
    var idempotencyKey: Range<Int>?
    var eventType: Range<Int>?
    var recordedMS: Int?
    var actorID: Range<Int>?
    var actorRole: Range<Int>?
}

/// Column reads straight from a statement's current row, with `RowReader`'s types: an integer only from an
/// INTEGER, text only from TEXT (its bytes as stored), bytes only from a BLOB; anything else is nil (or nothing
/// appended).
enum StatementColumn {
    static func int(_ s: OpaquePointer, _ i: Int32) -> Int? {
        guard sqlite3_column_type(s, i) == SQLITE_INTEGER else { return nil }
        return Int(exactly: sqlite3_column_int64(s, i))
    }

    /// A TEXT column's bytes as stored, appended to `arena`; nil for any other type.
    static func text(_ s: OpaquePointer, _ i: Int32, into arena: inout [UInt8]) -> Range<Int>? {
        guard sqlite3_column_type(s, i) == SQLITE_TEXT, let p = sqlite3_column_text(s, i) else { return nil }
        let start = arena.count
        arena.append(contentsOf: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(s, i))))
        return start..<arena.count
    }

    /// A BLOB column's bytes appended to `arena` (nothing for any other type).
    static func blob(_ s: OpaquePointer, _ i: Int32, into arena: inout [UInt8]) -> Range<Int> {
        let start = arena.count
        if sqlite3_column_type(s, i) == SQLITE_BLOB, let p = sqlite3_column_blob(s, i) {
            arena.append(contentsOf: UnsafeRawBufferPointer(start: p, count: Int(sqlite3_column_bytes(s, i))))
        }
        return start..<arena.count
    }

    static func blob(_ s: OpaquePointer, _ i: Int32) -> [UInt8]? {
        guard sqlite3_column_type(s, i) == SQLITE_BLOB else { return nil }
        guard let p = sqlite3_column_blob(s, i) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: Int(sqlite3_column_bytes(s, i))))
    }
}

/// The hand-off of rows from the reading thread to the walking one: batches, at most `capacity` waiting (memory
/// stays flat however long the trail).
final class RowPipe: @unchecked Sendable {
    enum Item: Sendable {
        case row(WalkRow)
        /// A row whose seq or record cannot be read: the walk stops there.
        case unreadable(String)
    }

    /// Rows with the bytes their ranges point into.
    struct Batch: Sendable {
        var items: [Item] = []
        var arena: [UInt8] = []

        init() {
            items.reserveCapacity(RowPipe.batchSize)
            arena.reserveCapacity(RowPipe.batchSize * 256)
        }
    }

    static let batchSize = 256
    static let capacity = 8
    private let condition = NSCondition()
    private var batches: [Batch] = []
    private var finished = false
    private var taken = 0

    func put(_ batch: Batch) {
        condition.lock()
        while batches.count >= Self.capacity { condition.wait() }
        batches.append(batch)
        condition.broadcast()
        condition.unlock()
    }

    /// No more batches.
    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch with its place in the order batches were put (0, 1, …), or nil when finished and empty.
    func take() -> (index: Int, batch: Batch)? {
        condition.lock()
        defer { condition.unlock() }
        while batches.isEmpty && !finished { condition.wait() }
        if batches.isEmpty { return nil }
        let batch = batches.removeFirst()
        let index = taken
        taken += 1
        condition.broadcast()
        return (index, batch)
    }
}

/// The walk along the chain, beside the thread that reads the rows: every link checked in order, its problems
/// collected as one thread would collect them. What each row needs alone (both hashes, the canonical check,
/// the columns against the record) is prepared by `workers` threads, a batch each at a time; each batch is then
/// committed in the rows' order (the links to the row before, the Merkle tree, the problems), which is quick.
/// Read the results only after `wait()`.
final class ChainWalk: @unchecked Sendable {
    var verifier: TrailVerifier
    var walker: HashChain.Walker
    let wanted: Set<Int>
    var rootsAt: [Int: ([UInt8], [UInt8])] = [:]
    var checkpointEvents: [Int: CanonicalValue] = [:]
    private let incident: String
    private let commitLock = NSCondition()
    private var committed = 0
    private var stopped = false
    private let done = DispatchGroup()
    private var waited = false

    init(verifier: TrailVerifier, genesis: [UInt8], wanted: Set<Int>) {
        self.verifier = verifier
        incident = verifier.incident
        walker = HashChain.Walker(genesis: genesis)
        self.wanted = wanted
        assert(RecordType.checkpoint.rawValue == "\(Self.checkpointType)")
    }

    /// How many threads prepare rows: one per core, at most four (the reader and SQLite's check share them).
    static var workerCount: Int { OrderedBatchMap<Int, Int>.defaultWorkers }

    /// Starts the workers on `pipe`.
    func start(_ pipe: RowPipe, workers: Int = ChainWalk.workerCount) {
        for _ in 0..<workers {
            done.enter()
            let thread = Thread { [self] in
                work(pipe)
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// One row as a worker prepares it.
    private enum Prepared {
        case row(seq: Int, isCheckpoint: Bool, HashChain.Walker.Prepared, fieldProblems: [VerifyProblem])
        case unreadable(String)
    }

    private func work(_ pipe: RowPipe) {
        // This thread's own copy of the id's bytes (a shared one would have its reference count written by
        // every worker for every row).
        let incident = Array(self.incident.utf8)
        while let (index, batch) = pipe.take() {
            let prepared = batch.items.map { prepare($0, arena: batch.arena, incident: incident) }
            // Left for whichever worker commits the batch before it, unless too many wait already (memory
            // stays flat); the worker with the next batch in order commits every one ready after it.
            commitLock.lock()
            while index != committed && ready.count >= Self.maximumReady { commitLock.wait() }
            ready[index] = prepared
            while let next = ready.removeValue(forKey: committed) {
                for item in next where !stopped { commit(item) }
                committed += 1
            }
            commitLock.broadcast()
            commitLock.unlock()
        }
    }

    /// Prepared batches waiting for the one before them.
    private var ready: [Int: [Prepared]] = [:]
    private static let maximumReady = 8

    private func prepare(_ item: RowPipe.Item, arena: [UInt8], incident: [UInt8]) -> Prepared {
        switch item {
        case .unreadable(let message):
            return .unreadable(message)
        case .row(let row):
            // The record is checked as canonical JSON without building its values; only the members compared
            // with the columns, and a checkpoint's body, are read.
            let p = HashChain.Walker.prepare(seq: row.seq, record: row.record, prevHash: arena[row.prevHash],
                                             entryHash: arena[row.entryHash])
            var problems: [VerifyProblem] = []
            if let members = p.members {
                TrailVerifier.checkFields(members, row: row, arena: arena, incident: incident, into: &problems)
            }
            let isCheckpoint = row.eventType.map { CanonicalJSON.sameBytes(arena[$0], Self.checkpointType) } ?? false
            return .row(seq: row.seq, isCheckpoint: isCheckpoint, p, fieldProblems: problems)
        }
    }

    private static let checkpointType: StaticString = "checkpoint.issued"

    /// In the rows' order, under `commitLock`.
    private func commit(_ item: Prepared) {
        switch item {
        case .unreadable(let message):
            verifier.add(walker.expectedSeq, "unreadable row: \(message)")
            stopped = true
        case .row(let seq, let isCheckpoint, let p, let fieldProblems):
            let step = walker.commit(p)
            for problem in step.problems { verifier.add(problem.seq, problem.description) }
            for problem in fieldProblems { verifier.add(problem.seq, problem.message) }
            if isCheckpoint, let body = p.members?["body"] { checkpointEvents[seq] = body }
            verifier.recordCount += 1
            verifier.chainHead = step.entryHash
            if wanted.contains(walker.count) { rootsAt[walker.count] = (walker.tree.root, step.entryHash) }
        }
    }

    /// Waits for the walk to end (once; later calls return at once).
    func wait() {
        if waited { return }
        done.wait()
        waited = true
    }
}

/// Lenient column reads for `rawRecords`: a value of the wrong type is nil (or empty bytes). Not inlined: the
/// Swift 6.3 optimizer crashed (CopyPropagation, "found ownership error") on them inlined into that closure.
enum LenientColumn {
    @inline(never)
    static func text(_ v: DatabaseValue) -> String? {
        if case .string(let s) = v.storage { return s }
        return nil
    }

    @inline(never)
    static func blob(_ v: DatabaseValue) -> [UInt8] {
        switch v.storage {
        case .blob(let d): return [UInt8](d)
        case .string(let s): return Array(s.utf8)
        default: return []
        }
    }

    @inline(never)
    static func int(_ v: DatabaseValue) -> Int64? {
        if case .int64(let n) = v.storage { return n }
        return nil
    }
}
