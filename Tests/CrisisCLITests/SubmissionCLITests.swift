import Foundation
import Testing

/// A regulatory submission through the real binary: refused while a required element is missing (only the
/// refusal recorded), submitted with its snapshot hash, the authority's receipt and deadline shown.
@Suite(.serialized)
struct SubmissionCLITests {
    static let playbook = "Tests/CrisisCLITests/Fixtures/submission.yaml"

    /// The text with its line wrapping undone.
    static func unwrapped(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
    }

    @Test("a submission refused with a missing element, then submitted, receipted with a deadline, shown and logged")
    func refusedThenSubmitted() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let start = try cli.run(["start", Self.playbook, "--drill", "--clock", "2026-03-02T09:00:00+01:00"])
        #expect(start.status == 0, "\(start.stderr)")
        let id = start.lastLine
        let step = "notify_datatilsynet"
        let draft = try cli.run([
            "act", id, step, "draft", "--role", "dpo", "--set", "nature=About 38 000 members' e-mail addresses",
            "--set", "contact_point=dpo@example.no", "--set", "consequences=Phishing",
        ])
        #expect(draft.status == 0, "\(draft.stderr)")
        let refused = try cli.run(["act", id, step, "submit", "--role", "dpo"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("cannot be submitted without: measures"), "\(refused.stderr)")
        #expect(refused.stderr.contains("missing-elements"), "\(refused.stderr)")
        var status = try cli.run(["status", id, "--json"]).json()
        var active = try #require((status["active"] as? [[String: Any]])?.first { $0["step"] as? String == step })
        var detail = try #require(active["detail"] as? [String: String])
        #expect(detail["missing"] == "measures")
        #expect(detail["next_phase"] == "initial")
        #expect(detail["submitted"] == nil)

        #expect(try cli.run(["act", id, step, "draft", "--role", "dpo", "--set", "measures=File removed"]).status == 0)
        let submit = try cli.run(["act", id, step, "submit", "--role", "dpo"])
        #expect(submit.status == 0, "\(submit.stderr)")
        let receipt = try cli.run([
            "act", id, step, "receipt", "--role", "dpo", "--set", "reference=DT-2026-123",
            "--set", "deadline=2026-03-20T12:00:00+01:00",
        ])
        #expect(receipt.status == 0, "\(receipt.stderr)")
        #expect(Self.unwrapped(submit.stdout).contains("submitted initial notice to Datatilsynet, sha256"), "\(submit.stdout)")
        #expect(Self.unwrapped(receipt.stdout).contains("receipt DT-2026-123 recorded by test-operator"), "\(receipt.stdout)")

        status = try cli.run(["status", id, "--json"]).json()
        active = try #require((status["active"] as? [[String: Any]])?.first { $0["step"] as? String == step })
        detail = try #require(active["detail"] as? [String: String])
        #expect(detail["next_phase"] == "update")
        #expect(detail["reference"] == "DT-2026-123")
        let submitted = try #require(detail["submitted"])
        #expect(submitted.hasPrefix("initial, sha256 "))
        let hash = String(submitted.dropFirst("initial, sha256 ".count))
        #expect(hash.count == 64)

        let show = try cli.run(["show", id, step])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("Submission to Datatilsynet: preparing the update notice"), "\(show.stdout)")
        #expect(Self.unwrapped(show.stdout).contains("sha256 \(hash)"), "\(show.stdout)")
        #expect(show.stdout.contains("reference DT-2026-123"), "\(show.stdout)")
        #expect(show.stdout.contains("the authority's deadline:"), "\(show.stdout)")

        let log = Self.unwrapped(try cli.run(["log", id]).stdout)
        #expect(log.contains("submit initial notice to Datatilsynet under gdpr-art33, sha256 \(hash.prefix(12))"), "\(log)")
        #expect(log.contains("content: consequences=Phishing contact_point=dpo@example.no measures=File removed"), "\(log)")
        #expect(log.contains("(receipt DT-2026-123)"), "\(log)")
        #expect(log.contains("REFUSED"), "\(log)")
        // The snapshot and its hash are in the record itself.
        let raw = try cli.run(["log", id, "--json"]).stdout
        #expect(raw.contains(hash), "the submit record holds the hash")
        #expect(raw.contains("content.measures"), "the submit record holds the content snapshot")

        #expect(try cli.run(["act", id, step, "submit", "--role", "dpo", "--set", "phase=final"]).status == 0)
        let closed = try cli.run(["status", id, "--json"]).json()
        #expect(closed["status"] as? String != "open", "\(closed)")
    }

    @Test("the breach drill notifies Datatilsynet with a submission: hash and reference shown")
    func drill() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let r = try cli.run(["drill", "Examples/drills/customer-data-breach.yaml", "--auto"])
        #expect(r.status == 0, "\(r.stderr.suffix(1500))")
        let list = try JSONSerialization.jsonObject(with: Data(try cli.run(["list", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
        let id = try #require(list.first { ($0["id"] as? String ?? "").hasPrefix("customer-data-breach") }?["id"] as? String)
        let show = try cli.run(["show", id, "notify_datatilsynet"])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("every phase submitted"), "\(show.stdout)")
        #expect(show.stdout.contains("reference DT-2026-0212"), "\(show.stdout)")
        #expect(show.stdout.contains("initial notice"), "\(show.stdout)")
        let log = Self.unwrapped(try cli.run(["log", id]).stdout)
        #expect(log.contains("notify_datatilsynet submit reference=DT-2026-0212 initial notice to Datatilsynet under gdpr-art33, sha256 "), "\(log)")
    }
}
