import CrisisCore
import Foundation
import GRDB
import Testing

@testable import CrisisAudit

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
        let report = try store.verify(incident: "INC-1")
        #expect(report.ok, "\(report.problems)")
        #expect(report.recordCount == 4)
        #expect(report.chainHead == events[3].entryHashHex)
        #expect(report.merkleRoot == Hex.encode(AuditHash.merkleRoot(records: events.map(\.record))))
        #expect(report.sqliteIntegrity == "ok")
    }
}
