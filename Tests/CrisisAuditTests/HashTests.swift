import CrisisCore
import Foundation
import Testing

@testable import CrisisAudit

/// Golden values computed independently with Python's hashlib (see docs/audit-format.md, "Worked example").
enum Golden {
    static let playbookSHA256 = "48d148245c49848b117c5c168ef5db97e078671033b6270f4a4bae68ddb17fac"
    static let genesis = "4e715b4377542b14243617f2492ea2c4ee0c8aec3ba3873ec632a45272274ccb"
    static let record1 = #"{"actor":{"id":"alice","role":"lead"},"at":"2025-10-24T08:00:00.000Z","body":{"mode":"drill","title":"Customer data exposed"},"event_id":"00000000-0000-4000-8000-000000000001","idem":"open","incident":"INC-1","prev":"4e715b4377542b14243617f2492ea2c4ee0c8aec3ba3873ec632a45272274ccb","seq":1,"type":"incident.opened","v":1,"where":{"app":"crisis","app_version":"0.1.0","host":"test-host","pid":4242}}"#
    static let entry1 = "8d8510af0159ce681bcbcf32ac3a8097fbd23b8b729136d6ab9ed26046d2886e"
    static let record2 = #"{"actor":{"id":"bob"},"at":"2025-10-24T08:05:00.000Z","body":{"text":"café — \"quoted\"\n2nd line"},"event_id":"00000000-0000-4000-8000-000000000002","idem":"note-1","incident":"INC-1","prev":"8d8510af0159ce681bcbcf32ac3a8097fbd23b8b729136d6ab9ed26046d2886e","seq":2,"type":"operator.note","v":1,"where":{"app":"crisis","app_version":"0.1.0","host":"test-host","pid":4242}}"#
    static let entry2 = "78a27223a80661b61a7f2122b2da0aaba2fe6ec62cb27f86981656209e648b6e"
    static let leaf1 = "65fc6b6472275ceff5be7bba0a7bf97750fb325e037a9ebff33fa260b9d86f3e"
    static let leaf2 = "48d5f2c76ceab6c3554c6148d3eb4d31f7b1f7253d76a794c78068f9076e4e1e"
    static let root2 = "19e788a0dfb3d2c152aee1f935dc79f388ffdaaf10780f984e24a11558b6b458"

    /// The worked example: INC-1 with two fixed events.
    static func exampleStore(in dir: TempDir) throws -> AuditStore {
        let store = try AuditStore(path: dir.file("example.sqlite"), writer: Fixture.writer)
        var first = Fixture.opened()
        first.eventID = "00000000-0000-4000-8000-000000000001"
        try store.createIncident(Fixture.header(), files: Fixture.files(), firstEvent: first)
        let second = EventDraft(
            type: .note, idempotencyKey: "note-1", actor: AuditActor(id: "bob"),
            recordedAt: Instant(millisecondsSinceEpoch: Fixture.t0.millisecondsSinceEpoch + 300_000),
            body: ["text": "caf\u{E9} \u{2014} \"quoted\"\n2nd line"], eventID: "00000000-0000-4000-8000-000000000002")
        _ = try store.append(incident: "INC-1", expectedSeq: 1, events: [second])
        return store
    }
}

@Suite("Hashes")
struct HashTests {
    @Test("Genesis, records, entry hashes, leaves and root match the independently computed golden values")
    func goldenTrail() throws {
        let dir = try TempDir()
        let store = try Golden.exampleStore(in: dir)
        #expect(sha256Hex(Fixture.playbookBytes) == Golden.playbookSHA256)
        let header = try #require(try store.incident(id: "INC-1"))
        #expect(Hex.encode(header.genesisHash) == Golden.genesis)
        let events = try store.events(incident: "INC-1")
        #expect(events.map { String(decoding: $0.record, as: UTF8.self) } == [Golden.record1, Golden.record2])
        #expect(events.map(\.entryHashHex) == [Golden.entry1, Golden.entry2])
        #expect(Hex.encode(AuditHash.merkleLeaf(events[0].record)) == Golden.leaf1)
        #expect(Hex.encode(AuditHash.merkleLeaf(events[1].record)) == Golden.leaf2)
        let report = try store.verify(incident: "INC-1")
        #expect(report.ok)
        #expect(report.merkleRoot == Golden.root2)
        #expect(report.chainHead == Golden.entry2)
    }

    @Test("The genesis hash binds id, origin, creation time and playbook")
    func genesisInputs() throws {
        let base = AuditHash.genesis(incidentID: "INC-1", origin: "crisis.test/INC-1",
                                     createdUTCMilliseconds: 1_761_292_800_000,
                                     playbookSHA256: AuditHash.sha256(Fixture.playbookBytes))
        #expect(Hex.encode(base) == Golden.genesis)
        #expect(AuditHash.genesis(incidentID: "INC-2", origin: "crisis.test/INC-1",
                                  createdUTCMilliseconds: 1_761_292_800_000,
                                  playbookSHA256: AuditHash.sha256(Fixture.playbookBytes)) != base)
        #expect(AuditHash.genesis(incidentID: "INC-1", origin: "crisis.test/INC-1",
                                  createdUTCMilliseconds: 1_761_292_800_001,
                                  playbookSHA256: AuditHash.sha256(Fixture.playbookBytes)) != base)
    }

    /// RFC 6962/9162 reference leaves and roots (certificate-transparency merkle_tree_test, transparency-dev/merkle).
    static let ctLeaves: [[UInt8]] = [
        [], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43], Array(0x50...0x57),
        Array(0x60...0x6F),
    ]
    static let ctRoots = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    @Test("Merkle roots match the RFC 6962 reference vectors for 0...8 leaves")
    func merkleVectors() {
        for n in 0...8 {
            #expect(Hex.encode(AuditHash.merkleRoot(records: Array(Self.ctLeaves.prefix(n)))) == Self.ctRoots[n],
                    "size \(n)")
        }
    }

    /// The recursive definition of RFC 9162 §2.1.1, as a second implementation.
    static func mth(_ d: ArraySlice<[UInt8]>) -> [UInt8] {
        if d.isEmpty { return AuditHash.sha256([UInt8]()) }
        if d.count == 1 { return AuditHash.merkleLeaf(d[d.startIndex]) }
        var k = 1
        while k * 2 < d.count { k *= 2 }
        return AuditHash.merkleNode(mth(d.prefix(k)), mth(d.dropFirst(k)))
    }

    @Test("The streaming tree equals the recursive definition at every size up to 200")
    func streamingTree() {
        var tree = MerkleTree()
        var records: [[UInt8]] = []
        for i in 0..<200 {
            let r = Array("record \(i)".utf8)
            records.append(r)
            tree.append(record: r)
            #expect(tree.root == Self.mth(records[...]))
            #expect(tree.size == i + 1)
        }
    }

    @Test("Hex round-trips and refuses non-hex")
    func hex() {
        #expect(Hex.encode([0x00, 0xAB, 0xFF]) == "00abff")
        #expect(Hex.decode("00abFF") == [0x00, 0xAB, 0xFF])
        #expect(Hex.decode("0") == nil)
        #expect(Hex.decode("zz") == nil)
    }
}
