import CrisisAudit
import CrisisCore
@testable import CrisisRuntime
import Foundation
import Testing

/// `verify` by default checks what a chain verifier must (hashes, links, canonical records and their columns,
/// checkpoints, the header against record 1); `deep` adds SQLite's integrity_check and a full replay through the
/// engine (every record read as its type and replayed). Each check still catches its own tampering.
struct VerifyDepthTests {
    typealias F = IncidentServiceTests.Fixture
    let comms = Actor(name: "kari", role: "comms")

    /// An incident with a choice made and two notes, and the body of its `triage choose` action.
    func incident(_ f: F) throws -> (id: String, action: CanonicalValue) {
        let id = try f.service.start(.init(
            playbookPath: IncidentServiceTests.mini, inputs: [("post_url", "https://x.com/a/status/1")], mode: .drill,
            actor: comms, wallNow: IncidentServiceTests.t0)).incident.id
        let chose = try f.service.act(.init(incident: id, step: "triage", action: "choose",
                                            fields: [("option", "serious")], actor: comms,
                                            wallNow: IncidentServiceTests.t0))
        for i in 0..<2 {
            _ = try f.service.note(incident: id, text: "note \(i)", actor: comms, expectSeq: nil, idempotencyKey: nil,
                                   wallNow: IncidentServiceTests.t0)
        }
        let action = try #require(chose.records.first { $0.type == .action })
        return (id, action.body)
    }

    /// Appends a record through the store alone (no engine), as a writer bypassing the runtime could.
    func append(_ f: F, _ id: String, _ type: RecordType, _ body: CanonicalValue) throws -> Int {
        let stored = try f.service.store.append(incident: id, expectedSeq: nil, events: [EventDraft(
            type: type, idempotencyKey: "raw/\(UUID().uuidString)", actor: AuditActor(id: "kari", role: "comms"),
            recordedAt: IncidentServiceTests.t0, body: body)])
        return try #require(stored.first).seq
    }

    func replacing(_ body: CanonicalValue, _ name: String, with value: CanonicalValue) -> CanonicalValue {
        .object((body.objectMembers ?? []).map { $0.0 == name ? ($0.0, value) : $0 })
    }

    @Test("default verify: an intact trail is ok without integrity_check or replay; deep runs both")
    func intact() throws {
        let f = try F()
        defer { f.remove() }
        let (id, _) = try incident(f)
        let quick = try f.service.verify(id, deep: false)
        let deep = try f.service.verify(id, deep: true)
        #expect(quick.ok && deep.ok)
        #expect(quick.records == deep.records && quick.head == deep.head && quick.merkle_root == deep.merkle_root)
        let store = try #require(f.service.store as? SQLiteAuditLog)
        #expect(try store.verify(incident: id, integrityCheck: false).sqliteIntegrity == "ok (quick)")
        #expect(try store.verify(incident: id).sqliteIntegrity == "ok")
    }

    @Test("a record whose body does not read as its type passes the chain checks and is caught by the deep replay")
    func unreadableBody() throws {
        let f = try F()
        defer { f.remove() }
        let (id, _) = try incident(f)
        let seq = try append(f, id, .note, .object([("text", .integer(7))]))
        // Canonical, rightly chained, its columns agree: the chain verifier has nothing to say.
        #expect(try f.service.verify(id, deep: false).ok)
        let deep = try f.service.verify(id, deep: true)
        #expect(!deep.ok)
        #expect(deep.problem?.contains("does not replay") == true, "\(deep.problem ?? "")")
        #expect(deep.problem?.contains("record \(seq)") == true, "\(deep.problem ?? "")")
    }

    @Test("a well-formed record the engine refuses passes the chain checks and is caught by the deep replay")
    func refusedOnReplay() throws {
        let f = try F()
        defer { f.remove() }
        let (id, action) = try incident(f)
        // The same choice again, on a step that does not exist: it reads as an action, the engine refuses it.
        let seq = try append(f, id, .action, replacing(action, "step", with: .string("no_such_step")))
        #expect(try f.service.verify(id, deep: false).ok)
        let deep = try f.service.verify(id, deep: true)
        #expect(!deep.ok)
        #expect(deep.problem?.contains("record \(seq)") == true, "\(deep.problem ?? "")")
        #expect(deep.problem?.contains("does not replay") == true, "\(deep.problem ?? "")")
    }

    @Test("an incident header that disagrees with record 1 is caught by default verify without a replay")
    func headerAgainstRecordOne() throws {
        let f = try F()
        defer { f.remove() }
        let (id, _) = try incident(f)
        let store = try #require(f.service.store as? SQLiteAuditLog)
        let path = store.path
        // The header's title is outside the chain: edit it with the update trigger dropped and put back as it was
        // (so the schema check finds nothing).
        func sqlite(_ sql: String) throws -> String {
            let p = Process()
            let out = Pipe()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["sqlite3", path, sql]
            p.standardOutput = out
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            try #require(p.terminationStatus == 0)
            return text
        }
        let trigger = try sqlite("SELECT sql FROM sqlite_schema WHERE name = 'incident_no_update'")
        try #require(trigger.contains("CREATE TRIGGER"))
        _ = try sqlite("DROP TRIGGER incident_no_update; UPDATE incident SET title = 'Edited' WHERE incident_id = '\(id)'; "
            + trigger.trimmingCharacters(in: .whitespacesAndNewlines) + ";")
        let quick = try f.service.verify(id, deep: false)
        #expect(!quick.ok)
        #expect(quick.problem?.contains("disagrees with record 1") == true, "\(quick.problem ?? "")")
        #expect(!(try f.service.verify(id, deep: true)).ok)
    }
}
