import Foundation
import Testing

/// The trail holds the whole story by itself: an approval or rejection records the revision and hash of the text
/// it binds to, and a takedown's submission records the notice as sent, prefilled elements included; `log` says so
/// in words.
struct SubjectRecordTests {
    /// The body of every `operator.action` record of the incident, in order.
    static func actions(_ cli: CLI, _ id: String) throws -> [[String: Any]] {
        let r = try cli.run(["log", id, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let records = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        return records.filter { $0["type"] as? String == "operator.action" }.compactMap { $0["body"] as? [String: Any] }
    }

    static func subject(_ body: [String: Any]) -> [String: String] {
        var out: [String: String] = [:]
        for item in body["subject"] as? [[String: String]] ?? [] { out[item["name"] ?? ""] = item["value"] }
        return out
    }

    @Test("approvals bind to the revision and hash they approve; a submitted notice is recorded element by element")
    func subjects() throws {
        let drill = try ShowGoldenTests.Drill()
        defer { drill.cli.remove() }
        try drill.act("page_comms", "ack", as: "jonas.comms", ["by=jonas.comms"])
        try drill.act("triage", "choose", as: "jonas.comms", ["option=serious"])
        try drill.act("check_facts", "done", as: "jonas.comms")
        try drill.act("statement", "draft", as: "jonas.comms", ["what_we_know.nb=A post names a colleague.", "what_we_know.en=A post names a colleague.", "next_update_at.nb=at 11:00", "next_update_at.en=at 11:00"])
        try drill.act("statement", "reject", as: "lars.legal", ["reason=Too vague"])
        try drill.act("statement", "draft", as: "jonas.comms", ["what_we_know.nb=A post names one colleague.", "what_we_know.en=A post names one colleague.", "next_update_at.nb=at 11:00", "next_update_at.en=at 11:00"])
        try drill.act("statement", "approve", as: "lars.legal")
        try drill.act("statement", "approve", as: "hanne.hr")
        try drill.act("statement", "publish", as: "jonas.comms")
        try drill.act("removal", "draft", as: "lars.legal", [
            "explanation=The post names an employee.", "affected_person=Kari Nordmann",
            "authorisation=I am authorised to act on behalf of Nordlys AS.",
        ])
        try drill.act("removal", "submit", as: "lars.legal", ["ticket=X-4471"])

        let bodies = try Self.actions(drill.cli, drill.id)
        let drafts = bodies.filter { $0["step"] as? String == "statement" && $0["action"] as? String == "draft" }
        #expect(drafts.count == 2)
        let hashes = drafts.compactMap { ($0["statement"] as? [String: Any])?["sha256"] as? String }
        #expect(hashes.count == 2 && hashes[0] != hashes[1])
        // Each text's length on each channel is stored with the draft, as measured then.
        let lengths = Self.subject(drafts[0])
        let texts = (drafts[0]["statement"] as? [String: Any])?["texts"] as? [[String: String]] ?? []
        let languages = texts.compactMap { $0["name"] }
        #expect(!languages.isEmpty)
        for language in languages {
            #expect(lengths["length.x.\(language)"]?.hasSuffix("weighted-characters of 280") == true, "\(lengths)")
            #expect(lengths["length.sms.\(language)"]?.contains("part(s)") == true, "\(lengths)")
            #expect(lengths["length.website.\(language)"]?.hasSuffix(" characters") == true, "\(lengths)")
        }
        let nbText = texts.first { $0["name"] == languages[0] }?["value"] ?? ""
        #expect(lengths["length.website.\(languages[0])"] == "\(nbText.precomposedStringWithCanonicalMapping.utf16.count) characters")

        let reject = try #require(bodies.first { $0["action"] as? String == "reject" })
        #expect(Self.subject(reject) == ["revision": "1", "sha256": hashes[0]])
        let approvals = bodies.filter { $0["action"] as? String == "approve" }
        #expect(approvals.count == 2)
        for approval in approvals { #expect(Self.subject(approval) == ["revision": "2", "sha256": hashes[1]]) }

        let submit = try #require(bodies.first { $0["step"] as? String == "removal" && $0["action"] as? String == "submit" })
        let notice = Self.subject(submit)
        #expect(notice["platform"] == "X")
        #expect(notice["basis"] == "privacy")
        #expect(notice["urls"] == "https://x.com/someone/status/1790")
        // Prefilled by the playbook, never typed: still recorded as sent.
        #expect(notice["notice.notifier_name"] == "Nordlys AS, legal department")
        #expect(notice["notice.notifier_email"] == "legal@example.no")
        #expect(notice["notice.explanation"] == "The post names an employee.")
        // Other actions carry no subject.
        let publish = try #require(bodies.first { $0["action"] as? String == "publish" })
        #expect(publish["subject"] == nil)

        let log = TimelineTests.entries(try drill.run(["log", drill.id]))
        let rejectLine = try #require(log.first { $0.contains("statement reject") })
        #expect(rejectLine.contains("(revision 1, sha256 \(hashes[0].prefix(12))"))
        #expect(log.filter { $0.contains("statement approve (revision 2, sha256 \(hashes[1].prefix(12))") }.count == 2)
        let submitLine = try #require(log.first { $0.contains("removal submit") })
        #expect(submitLine.contains("to X under privacy"))
        #expect(submitLine.contains("notifier_name=Nordlys AS, legal department"))
        #expect(submitLine.contains("ticket=X-4471"))

        // Verified like every other record.
        #expect(try drill.cli.run(["verify", drill.id]).status == 0)
    }
}
