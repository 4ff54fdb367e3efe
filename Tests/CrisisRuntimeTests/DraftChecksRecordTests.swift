import CrisisAudit
import CrisisCore
@testable import CrisisRuntime
import Testing

/// A draft's measures and failed checks travel in the `statement` object of its `operator.action` record and come
/// back exactly on replay; a draft written before them keeps its bytes and reads as having none.
struct DraftChecksRecordTests {
    static func record(_ statement: RenderedStatement) -> TrailRecord {
        .action(TrailRecord.ActionTaken(
            now: Instant(millisecondsSinceEpoch: 1_000), step: "statement", action: "draft",
            fields: ["what_we_know": "x"], statement: statement, subject: [:], actor: Actor(name: "kari", role: "comms"),
            note: nil, effects: [], clockAnomaly: nil))
    }

    @Test("Measures and findings round-trip through the record body; replay feeds them to the engine")
    func roundTrip() throws {
        var statement = RenderedStatement(texts: ["nb": "«Hei»", "en": "Hi"], sha256: "abc")
        statement.checks = DraftChecks(
            measures: [
                DraftMeasure(channel: "sms", language: "nb", count: 5, unit: "utf16-units", encoding: "UCS-2", segments: 1),
                DraftMeasure(channel: "x", language: "nb", count: 5, unit: "weighted-characters", limit: 240),
            ],
            findings: [
                CheckFinding(check: .smsEncoding, language: "nb", channel: "sms", rule: "gsm7", found: "UCS-2 (« is not GSM-7)"),
                CheckFinding(check: .mustInclude, language: "en", rule: "What we know"),
            ])
        let body = Self.record(statement).body
        let back = try TrailRecord.decode(type: .action, body: body)
        #expect(back == Self.record(statement))
        guard case .drafted(_, _, let replayed, _)? = back.event else { Issue.record("no drafted event"); return }
        #expect(replayed.checks == statement.checks)
        let json = String(decoding: try CanonicalJSON.encode(body), as: UTF8.self)
        #expect(json.contains(#""findings":[{"channel":"sms","check":"sms_encoding","found":"UCS-2 (« is not GSM-7)","language":"nb","rule":"gsm7"}"#))
    }

    @Test("A draft without checks writes the bytes it always did")
    func oldBytes() throws {
        let body = Self.record(RenderedStatement(texts: ["nb": "Hei"], sha256: "abc")).body
        let json = String(decoding: try CanonicalJSON.encode(body), as: UTF8.self)
        #expect(json.contains(#""statement":{"sha256":"abc","texts":[{"name":"nb","value":"Hei"}]}"#))
        let back = try TrailRecord.decode(type: .action, body: body)
        guard case .action(let r) = back else { Issue.record("not an action"); return }
        #expect(r.statement?.checks == DraftChecks())
    }
}
