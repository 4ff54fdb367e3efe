import Foundation
import Testing

/// A takedown through the real binary: `status` shows the assembled notice, ready to paste, with the platform
/// catalog's route beside it; `submit` records the notice's text and SHA-256 (the same hash `show --json`
/// gives); an authorisation that comes from a skipped step refuses `submit`.
@Suite(.serialized)
struct TakedownCatalogCLITests {
    static let playbook = "Tests/CrisisCLITests/Fixtures/takedown-catalog.yaml"

    @Test("status shows the paste-ready notice with its route; submit stores it with its hash")
    func noticeWithRoute() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let start = try cli.run(["start", Self.playbook, "--drill", "--clock", "2026-03-02T09:00:00+01:00"])
        #expect(start.status == 0, "\(start.stderr)")
        let id = start.lastLine
        #expect(try cli.run(["act", id, "consent", "done", "--role", "legal"]).status == 0)
        let status = try cli.run(["status", id]).stdout
        #expect(status.contains("send it to: https://help.x.com/forms/impersonation"), "\(status)")
        #expect(status.contains("notice, ready to paste:"))
        #expect(status.contains("        Subject: Impersonation report"))
        #expect(status.contains("        Authorisation: recorded in step 'consent' (done)"))
        let show = try #require(try cli.run(["show", id, "report", "--json"]).json()["takedown"] as? [String: Any])
        #expect(show["reporting_route"] as? String == "https://help.x.com/forms/impersonation")
        #expect(show["route_source"] as? String == "catalog")
        // A draft records the prefilled elements it did not type (subject prefill.NAME).
        let draft = try cli.run(["act", id, "report", "draft", "--role", "legal", "--set",
                                 "explanation=This account uses our CEO's name and photo to ask for money."])
        #expect(draft.status == 0, "\(draft.stderr)")
        let drafted = try cli.run(["log", id, "--json"]).stdout
        #expect(drafted.contains("prefill.notifier_name"), "\(drafted)")
        #expect(!drafted.contains("prefill.explanation"), "typed, not prefilled")
        let shown = try #require(try cli.run(["show", id, "report", "--json"]).json()["takedown"] as? [String: Any])
        let sha = try #require(shown["notice_sha256"] as? String)
        let notice = try #require(shown["notice"] as? String)

        let submit = try cli.run(["act", id, "report", "submit", "--role", "legal", "--set", "ticket=X-1"])
        #expect(submit.status == 0, "\(submit.stderr)")
        let log = try cli.run(["log", id, "--json"]).stdout
        #expect(log.contains("\"notice_sha256\", \"value\": \"\(sha)\"") || log.contains("\"notice_sha256\",\"value\":\"\(sha)\""),
                "the submit record carries the hash show gave")
        let text = try cli.run(["log", id]).stdout
        #expect(text.contains("via"), "\(text)")
        #expect(text.contains(String(sha.prefix(12))), "\(text)")
        #expect(notice.hasPrefix("To: x\nSubject: Impersonation report\n"))
    }

    @Test("an authorisation from a step that was skipped refuses submit (authorisation-missing)")
    func authorisationRefused() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try cli.run(["start", Self.playbook, "--drill", "--clock", "2026-03-02T09:00:00+01:00"]).lastLine
        #expect(try cli.run(["act", id, "consent", "skip", "--role", "legal", "--set", "reason=She could not be reached"]).status == 0)
        let refused = try cli.run(["act", id, "report", "submit", "--role", "legal"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("authorisation-missing"), "\(refused.stderr)")
        #expect(refused.stderr.contains("step 'consent'"), "\(refused.stderr)")
    }
}
