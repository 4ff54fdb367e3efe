import CrisisCore
import Foundation
import GRDB
import Testing

@testable import CrisisAudit

/// `verify` reads rows on one thread and walks the chain on another: what it reports must be what one thread
/// walking in seq order reports, however many hand-off batches the trail spans.
@Suite("Verify across the row hand-off")
struct VerifyPipelineTests {
    /// More records than the hand-off holds at once (so the reader waits for the walk), with a checkpoint in
    /// the middle.
    static let notes = RowPipe.batchSize * RowPipe.capacity + 700

    @Test("An intact long trail verifies, with its checkpoint checked and every record counted")
    func intact() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: Self.notes)
        let signer = try CheckpointSigner(name: "ops.example", seed: Array(repeating: 0x42, count: 32))
        try store.issueCheckpoint(incident: "INC-1", signer: signer, at: Fixture.t0)
        let report = try store.verify(incident: "INC-1", integrityCheck: false)
        #expect(report.problems.isEmpty)
        #expect(report.recordCount == Self.notes + 2)
        #expect(report.checkpointsChecked == 1)
        #expect(report.sqliteIntegrity == "ok (quick)")
    }

    @Test("Edits late in a long trail are reported at their seqs, in seq order, the first bad record first")
    func editsInOrder() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: Self.notes)
        let raw = try Fixture.raw(dir.file("audit.sqlite"))
        _ = try Tamper.dropTriggers(raw)
        let late = Self.notes - 300
        let original = try Tamper.record(raw, seq: late)
        try Tamper.setRecord(raw, seq: late, Tamper.replacing(original, "note \(late - 1)", "note 99999"))
        try raw.write { db in
            try db.execute(sql: "UPDATE audit_event SET actor_id = 'mallory' WHERE seq = ?", arguments: [late + 100])
        }
        let report = try store.verify(incident: "INC-1", integrityCheck: false)
        let seqs = report.problems.compactMap(\.seq)
        #expect(report.firstBadSeq == late)
        #expect(seqs == seqs.sorted())
        #expect(report.problems.contains { $0.seq == late + 100 && $0.message.contains("actor.id") })
        #expect(report.recordCount == Self.notes + 1)
    }
}
