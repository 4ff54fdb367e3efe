import CrisisCore
import Foundation
import GRDB
import Testing

@testable import CrisisAudit

/// The chain rules as pure functions: no database until the last tests, which check that the store uses them.
@Suite("Hash chain")
struct HashChainTests {
    static let genesis = Hex.decode(Golden.genesis)!
    static let entry1 = Hex.decode(Golden.entry1)!

    static func fields(seq: Int = 1, prev: [UInt8] = genesis) -> HashChain.RecordFields {
        HashChain.RecordFields(
            incidentID: "INC-1", seq: seq, prevHash: prev, eventID: "00000000-0000-4000-8000-000000000001",
            idempotencyKey: "open", type: .opened, recordedAt: Fixture.t0, actor: AuditActor(id: "alice", role: "lead"),
            writer: Fixture.writer, body: ["title": "Customer data exposed", "mode": "drill"])
    }

    /// The two golden records as links, exactly as the store writes them.
    static func goldenLinks() -> [HashChain.Link] {
        let r1 = Array(Golden.record1.utf8)
        let r2 = Array(Golden.record2.utf8)
        return [HashChain.Link(seq: 1, prevHash: genesis, entryHash: entry1, record: r1),
                HashChain.Link(seq: 2, prevHash: entry1, entryHash: Hex.decode(Golden.entry2)!, record: r2)]
    }

    @Test("Record bytes, genesis and entry hashes from plain values equal the golden values")
    func goldenFromPlainValues() throws {
        let record = try HashChain.recordBytes(Self.fields())
        #expect(String(decoding: record, as: UTF8.self) == Golden.record1)
        #expect(Hex.encode(HashChain.entryHash(record: record)) == Golden.entry1)
        let genesis = HashChain.genesis(incidentID: "INC-1", origin: "crisis.test/INC-1",
                                        createdUTCMilliseconds: Fixture.t0.millisecondsSinceEpoch,
                                        playbookSHA256: AuditHash.sha256(Fixture.playbookBytes))
        #expect(Hex.encode(genesis) == Golden.genesis)
        let records = Self.goldenLinks().map(\.record)
        #expect(Hex.encode(HashChain.merkleRoot(records: records)) == Golden.root2)
    }

    @Test("A body that cannot be canonical is refused with the record path named")
    func nonCanonicalBody() {
        var f = Self.fields()
        f.body = ["bad": .string("a\u{0}b")]
        #expect(throws: AuditError.self) { _ = try HashChain.recordBytes(f) }
    }

    @Test("The next link: seq 1 after the genesis hash, then head + 1 after the head's entry hash")
    func nextLink() {
        let first = HashChain.next(afterSeq: 0, entryHash: nil, genesis: Self.genesis)
        #expect(first.seq == 1 && first.prev == Self.genesis)
        let second = HashChain.next(afterSeq: 1, entryHash: Self.entry1, genesis: Self.genesis)
        #expect(second.seq == 2 && second.prev == Self.entry1)
    }

    @Test("A clean chain walks with no problem, to the golden head and root")
    func cleanWalk() {
        var walker = HashChain.Walker(genesis: Self.genesis)
        for link in Self.goldenLinks() {
            let step = walker.walk(link)
            #expect(step.problems.isEmpty, "\(step.problems)")
            #expect(step.value?["seq"]?.intValue == link.seq)
        }
        #expect(Hex.encode(walker.head) == Golden.entry2)
        #expect(Hex.encode(walker.tree.root) == Golden.root2)
        #expect(walker.count == 2 && walker.expectedSeq == 3)
        #expect(HashChain.firstBreak(genesis: Self.genesis, links: Self.goldenLinks()) == nil)
    }

    @Test("Each broken rule is named at its seq")
    func brokenRules() throws {
        let links = Self.goldenLinks()
        // An edited record: its stored entry hash no longer matches, and the next record's links point to the
        // recomputed hash, so seq 2 breaks too.
        var edited = links
        edited[0].record = Array(Golden.record1.replacingOccurrences(of: "alice", with: "mallory").utf8)
        var walker = HashChain.Walker(genesis: Self.genesis)
        #expect(walker.walk(edited[0]).problems == [.entryHashMismatch(seq: 1)])
        #expect(walker.walk(edited[1]).problems == [.prevHashMismatch(seq: 2), .recordPrevMismatch(seq: 2)])

        // A wrong prev_hash column only.
        var column = links
        column[1].prevHash = Self.genesis
        #expect(HashChain.firstBreak(genesis: Self.genesis, links: column) == .prevHashMismatch(seq: 2))

        // A gap, and a repeat.
        var gap = links
        gap[1].seq = 4
        let gapProblem = HashChain.firstBreak(genesis: Self.genesis, links: gap)
        #expect(gapProblem == .missing(expected: 2, found: 4))
        #expect(gapProblem?.seq == 2)
        #expect(gapProblem?.description == "seq 2–3 missing (next stored seq is 4)")
        var repeated = links
        repeated[1].seq = 1
        #expect(HashChain.firstBreak(genesis: Self.genesis, links: repeated) == .outOfOrder(found: 1, previous: 1))

        // Bytes that are not canonical JSON (a space), with a consistent hash.
        var spaced = links
        spaced[1].record = Array(Golden.record2.replacingOccurrences(of: "{\"text\"", with: "{ \"text\"").utf8)
        spaced[1].entryHash = HashChain.entryHash(record: spaced[1].record)
        guard case .notCanonical(2, _)? = HashChain.firstBreak(genesis: Self.genesis, links: spaced) else {
            Issue.record("a non-canonical record passed")
            return
        }

        // A record whose own seq member lies, with every hash recomputed.
        let lying = try HashChain.recordBytes(Self.fields(seq: 7))
        let liar = HashChain.Link(seq: 1, prevHash: Self.genesis, entryHash: HashChain.entryHash(record: lying),
                                  record: lying)
        #expect(HashChain.firstBreak(genesis: Self.genesis, links: [liar]) == .recordSeqMismatch(seq: 1, found: "7"))

        // A record linked to the wrong prev inside its bytes, columns consistent.
        let wrongPrev = try HashChain.recordBytes(Self.fields(prev: Self.entry1))
        let link = HashChain.Link(seq: 1, prevHash: Self.genesis, entryHash: HashChain.entryHash(record: wrongPrev),
                                  record: wrongPrev)
        #expect(HashChain.firstBreak(genesis: Self.genesis, links: [link]) == .recordPrevMismatch(seq: 1))
    }

    @Test("The store writes exactly what HashChain builds, and its chain walks clean")
    func storeUsesTheChain() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 30)
        let header = try #require(try store.incident(id: "INC-1"))
        let events = try store.events(incident: "INC-1")
        var walker = HashChain.Walker(genesis: header.genesisHash)
        for e in events {
            let rebuilt = try HashChain.recordBytes(HashChain.RecordFields(
                incidentID: e.incidentID, seq: e.seq, prevHash: e.prevHash, eventID: e.eventID,
                idempotencyKey: e.idempotencyKey, type: e.type, recordedAt: e.recordedAt, actor: e.actor,
                writer: Fixture.writer, body: e.body))
            #expect(rebuilt == e.record, "seq \(e.seq)")
            let step = walker.walk(HashChain.Link(seq: e.seq, prevHash: e.prevHash, entryHash: e.entryHash,
                                                  record: e.record))
            #expect(step.problems.isEmpty, "seq \(e.seq): \(step.problems)")
        }
        let report = try store.verify(incident: "INC-1")
        #expect(report.chainHead == Hex.encode(walker.head))
        #expect(report.merkleRoot == Hex.encode(walker.tree.root))
    }
}

@Suite("Record types")
struct RecordTypeTests {
    /// Every `event_type IN (...)` list in the migrations' SQL, in migration order.
    static func checkLists() -> [[String]] {
        var lists: [[String]] = []
        for migration in AuditSchema.all {
            var rest = Substring(migration.sql)
            while let start = rest.range(of: "event_type IN (") {
                let after = rest[start.upperBound...]
                guard let close = after.firstIndex(of: ")") else { break }
                let names = after[..<close].split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: "'"))
                }
                lists.append(names)
                rest = after[close...]
            }
        }
        return lists
    }

    @Test("The record-type CHECK of every migration matches RecordType, and the newest equals it in order")
    func schemaMatchesEnum() throws {
        let lists = Self.checkLists()
        #expect(!lists.isEmpty)
        let all = RecordType.allCases.map(\.rawValue)
        for list in lists {
            #expect(Set(list).isSubset(of: Set(all)), "unknown types in a migration: \(Set(list).subtracting(all))")
        }
        #expect(lists.last == all)
        #expect(AuditSchema.eventTypes == all)
        #expect(AuditStore.eventTypes == all)
        // And the database really holds that CHECK: the table's SQL as SQLite keeps it.
        let dir = try TempDir()
        _ = try Fixture.store(in: dir)
        let sql = try Fixture.raw(dir.file("audit.sqlite")).read {
            try String.fetchOne($0, sql: "SELECT sql FROM sqlite_schema WHERE name = 'audit_event'")
        }
        for type in RecordType.allCases { #expect(sql?.contains("'\(type.rawValue)'") == true, "\(type)") }
    }

    @Test("Every record type is accepted by the schema and read back as itself")
    func everyTypeRoundTrips() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir)
        let drafts = RecordType.allCases.filter { $0 != .opened }.enumerated().map { i, type in
            EventDraft(type: type, idempotencyKey: "t-\(type.rawValue)", actor: .system,
                       recordedAt: Instant(millisecondsSinceEpoch: Fixture.t0.millisecondsSinceEpoch + Int64(i)),
                       body: ["i": .integer(Int64(i))])
        }
        _ = try store.append(incident: "INC-1", expectedSeq: 1, events: drafts)
        #expect(try store.events(incident: "INC-1").map(\.type) == RecordType.allCases)
        #expect(try store.head(incident: "INC-1")?.type == RecordType.allCases.last)
        #expect(try store.verify(incident: "INC-1").ok)
    }

    @Test("An unknown type read from the database is an integrity error, not a crash")
    func unknownStoredType() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 1)
        let head = try #require(try store.head(incident: "INC-1"))
        // A correctly chained row of a type this version does not know (a newer writer, or an edit), past the
        // CHECK with ignore_check_constraints.
        var fields = HashChainTests.fields(seq: 3, prev: head.entryHash)
        fields.type = .note
        fields.eventID = "00000000-0000-4000-8000-000000000003"
        fields.idempotencyKey = "future"
        let record = Array(String(decoding: try HashChain.recordBytes(fields), as: UTF8.self)
            .replacingOccurrences(of: "operator.note", with: "state.future").utf8)
        let raw = try Fixture.raw(dir.file("audit.sqlite"))
        try raw.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            try db.execute(sql: """
                INSERT INTO audit_event (incident_id, seq, event_id, idempotency_key, event_type, recorded_utc_ms,
                                         actor_id, actor_role, record, prev_hash, entry_hash)
                VALUES ('INC-1', 3, ?, 'future', 'state.future', ?, 'alice', 'lead', ?, ?, ?)
                """, arguments: [fields.eventID, Fixture.t0.millisecondsSinceEpoch, Data(record), Data(head.entryHash),
                                 Data(HashChain.entryHash(record: record))])
        }
        for read in [{ _ = try store.events(incident: "INC-1") }, { _ = try store.head(incident: "INC-1") }] {
            do {
                try read()
                Issue.record("an unknown type was read")
            } catch let error as AuditError {
                guard case .integrity(let why) = error else {
                    Issue.record("\(error)")
                    continue
                }
                #expect(why.contains("state.future"))
            }
        }
        let report = try store.verify(incident: "INC-1")
        #expect(report.problems.contains { $0.seq == 3 && $0.message.contains("unknown event type 'state.future'") })
    }
}

@Suite("Event ids")
struct EventIDTests {
    @Test("Generated event ids are distinct lower-case version 4 UUIDs that Validate accepts")
    func randomEventIDs() throws {
        var seen = Set<String>()
        for _ in 0..<1000 {
            let id = AuditStore.randomEventID()
            #expect(id.count == 36 && id == id.lowercased())
            #expect(Array(id)[14] == "4" && "89ab".contains(Array(id)[19]), "\(id)")
            #expect(UUID(uuidString: id) != nil)
            seen.insert(id)
            var draft = Fixture.note(1)
            draft.eventID = id
            try Validate.draft(draft)
        }
        #expect(seen.count == 1000)
    }
}
