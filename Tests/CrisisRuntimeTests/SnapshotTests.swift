import CrisisAudit
import CrisisCore
@testable import CrisisRuntime
import Foundation
import Testing

/// The state snapshot is a cache: commands fold only the records after it, it is checked against the trail,
/// and whatever it holds, the state is the one a full replay gives.
struct SnapshotTests {
    typealias F = IncidentServiceTests.Fixture
    let comms = Actor(name: "kari", role: "comms")

    func busyIncident(_ f: F, notes: Int) throws -> String {
        let id = try f.service.start(.init(
            playbookPath: IncidentServiceTests.mini, inputs: [("post_url", "https://x.com/a/status/1")], mode: .drill,
            actor: comms, wallNow: IncidentServiceTests.t0)).incident.id
        _ = try f.service.act(.init(incident: id, step: "triage", action: "choose", fields: [("option", "serious")],
                                    actor: comms, wallNow: IncidentServiceTests.t0))
        for i in 0..<notes {
            _ = try f.service.note(incident: id, text: "note \(i)", actor: comms, expectSeq: nil, idempotencyKey: nil,
                                   wallNow: IncidentServiceTests.t0)
        }
        _ = try f.service.act(.init(incident: id, step: "statement", action: "draft",
                                    fields: [("what_we_know.nb", "Facts."), ("what_we_know.en", "Facts.")], actor: comms, wallNow: IncidentServiceTests.t0))
        return id
    }

    @Test("a command saves a snapshot once enough records were folded; loading from it equals a full replay")
    func savedAndUsed() throws {
        let f = try F()
        defer { f.remove() }
        let id = try busyIncident(f, notes: SnapshotCache.interval + 5)
        let saved = try #require(try f.service.store.snapshot(incident: id))
        #expect(saved.engineVersion == SnapshotCache.version)
        let fromSnapshot = try f.service.loader.load(id)
        let full = try f.service.loader.load(id, useSnapshot: false)
        #expect(fromSnapshot.snapshotSeq == saved.seq)
        #expect(full.snapshotSeq == 1)
        #expect(fromSnapshot.state == full.state)
        #expect(fromSnapshot.seq == full.seq)
        #expect(fromSnapshot.now == full.now)
        #expect(fromSnapshot.headHash == full.headHash)
        // The next action builds on the snapshot and the trail replays to the same state.
        let approved = try f.service.act(.init(incident: id, step: "statement", action: "approve",
                                               actor: Actor(name: "ola", role: "legal"), wallNow: IncidentServiceTests.t0))
        #expect(approved.incident.state == (try f.service.loader.load(id, useSnapshot: false)).state)
    }

    @Test("a snapshot from another engine version, or whose bytes do not decode, is ignored")
    func foreignIgnored() throws {
        let f = try F()
        defer { f.remove() }
        let id = try busyIncident(f, notes: SnapshotCache.interval + 5)
        let head = try #require(try f.service.store.head(incident: id))
        let full = try f.service.loader.load(id, useSnapshot: false)
        for (version, bytes) in [("crisis/0.0 state/0", Array("{}".utf8)), (SnapshotCache.version, Array("garbage".utf8))] {
            try f.service.store.saveSnapshot(StateSnapshot(
                incidentID: id, seq: head.seq, entryHash: head.entryHashHex, engineVersion: version, bytes: bytes,
                savedAt: IncidentServiceTests.t0))
            let loaded = try f.service.loader.load(id)
            #expect(loaded.snapshotSeq == 1)
            #expect(loaded.state == full.state)
        }
    }

    @Test("verify replays in full and rebuilds a snapshot whose state disagrees with the trail")
    func verifyRebuildsWrongSnapshot() throws {
        let f = try F()
        defer { f.remove() }
        let id = try busyIncident(f, notes: SnapshotCache.interval + 5)
        let head = try #require(try f.service.store.head(incident: id))
        // A snapshot that claims the incident is still at its start: the right hash, the wrong state.
        var early = try f.service.loader.load(id, useSnapshot: false, upTo: 1)
        early.seq = head.seq
        early.headHash = head.entryHashHex
        SnapshotCache(log: f.service.store).save(early, wallNow: IncidentServiceTests.t0)
        #expect(try f.service.loader.load(id).state != (try f.service.loader.load(id, useSnapshot: false)).state)
        let outcome = try f.service.verify(id)
        #expect(outcome.ok)
        #expect(outcome.snapshot_rebuilt == true)
        #expect(try f.service.loader.load(id).state == (try f.service.loader.load(id, useSnapshot: false)).state)
        #expect(try f.service.verify(id).snapshot_rebuilt == nil)
    }
}
