import Foundation
import Testing

/// Distribution lists and actionable failures (issue 12, items 3 and 4), with the real binary: a live incident on
/// the shipped news-tip playbook, whose `brief_managers` step sends to the directory's list `managers` (three
/// people, one e-mail each, sent by hand). One is failed with `crisis failed`, retried with `crisis act ... retry`,
/// and the retry settled with `crisis sent`; `status`, `show`, `deliveries` and the trail say who got it.
struct DistributionListTests {
    static let playbook = "Playbooks/news-tip-removal.yaml"
    static let contacts = "Examples/contacts.yaml"

    static func rfc3339(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }

    /// The live incident with `brief_managers` active, and the short key of each manager's delivery.
    static func atBriefing() throws -> (CLI, String, [String: String]) {
        var cli = try CLI()
        cli.env["COLUMNS"] = "100"
        let now = Date()
        let start = try cli.run([
            "start", playbook, "--contacts", contacts,
            "--set", "article_url=https://nordlys-avis.example/sak/1",
            "--set", "outlet=Nordlys Avis",
            "--set", "published_at=\(rfc3339(now.addingTimeInterval(-7200)))",
            "--set", "detected_at=\(rfc3339(now.addingTimeInterval(-3600)))",
            "--set", "request_summary=Asked by e-mail to take down the story",
        ])
        #expect(start.status == 0, "\(start.stderr)")
        let id = start.lastLine
        for args in [
            ["act", id, "log_request", "done", "--as", "ingrid.berg", "--role", "comms_on_duty"],
            ["act", id, "page_lead", "ack", "--as", "kari.nordmann", "--role", "crisis_lead"],
            ["act", id, "protect_source", "done", "--as", "marte.haugen", "--role", "legal"],
        ] {
            let r = try cli.run(args)
            #expect(r.status == 0, "\(args): \(r.stderr)")
        }
        let status = try cli.run(["status", id, "--json"]).json()
        let deliveries = status["deliveries"] as? [[String: Any]] ?? []
        var keys: [String: String] = [:]
        for d in deliveries where d["step"] as? String == "brief_managers" {
            let who = try #require((d["recipients"] as? [String])?.first)
            keys[who] = try #require(d["short_key"] as? String)
        }
        #expect(keys.keys.sorted() == ["ali.hassan", "camilla.bakke", "per.olsen"])
        return (cli, id, keys)
    }

    static func brief(_ cli: CLI, _ id: String) throws -> [String: String] {
        let status = try cli.run(["status", id, "--json"]).json()
        let active = status["active"] as? [[String: Any]] ?? []
        return active.first { $0["step"] as? String == "brief_managers" }?["detail"] as? [String: String] ?? [:]
    }

    @Test("one e-mail per manager; a failed one is retried, the retry sent by hand; status says 2 of 3 confirmed")
    func failRetrySend() throws {
        let (cli, id, keys) = try Self.atBriefing()
        defer { cli.remove() }
        let camilla = keys["camilla.bakke"]!, per = keys["per.olsen"]!, ali = keys["ali.hassan"]!

        // Each delivery names its recipient and their address from the directory, and Ali's language.
        let waiting = try cli.run(["deliveries", id])
        #expect(waiting.stdout.contains("to Per Olsen  per.olsen@example.no"), "\(waiting.stdout)")
        #expect(waiting.stdout.contains("to Camilla Bakke  camilla.bakke@example.no"))
        let detail0 = try Self.brief(cli, id)
        #expect(detail0["delivered"] == "0 of 3 managers confirmed, 3 waiting")
        #expect(detail0["list"] == "managers (Line managers)")

        #expect(try cli.run(["sent", id, camilla, "--as", "ingrid.berg"]).status == 0)
        let failed = try cli.run(["failed", id, per, "--reason", "mailbox full", "--as", "ingrid.berg"])
        #expect(failed.status == 0, "\(failed.stderr)")
        let detail1 = try Self.brief(cli, id)
        #expect(detail1["delivered"] == "1 of 3 managers confirmed, 1 failed, 1 waiting")
        #expect(detail1["failed_deliveries"] == "per.olsen on email (mailbox full): retry \(per)")
        let text = try cli.run(["status", id])
        #expect(text.stdout.contains("delivered: 1 of 3 managers confirmed, 1 failed, 1 waiting"), "\(text.stdout)")
        #expect(text.stdout.contains("crisis act \(id) brief_managers retry --set delivery=\(per)"), "\(text.stdout)")

        // Only the step's role (or a lead) retries; a key that names no failed delivery is refused.
        let wrongRole = try cli.run(["act", id, "brief_managers", "retry", "--set", "delivery=\(per)",
                                     "--as", "marte.haugen", "--role", "legal"])
        #expect(wrongRole.status != 0)
        let notFailed = try cli.run(["act", id, "brief_managers", "retry", "--set", "delivery=\(camilla)",
                                     "--as", "ingrid.berg", "--role", "comms_on_duty"])
        #expect(notFailed.status != 0)

        let retry = try cli.run(["act", id, "brief_managers", "retry", "--set", "delivery=\(per)",
                                 "--as", "ingrid.berg", "--role", "comms_on_duty"])
        #expect(retry.status == 0, "\(retry.stderr)")
        let status = try cli.run(["status", id, "--json"]).json()
        let open = (status["deliveries"] as? [[String: Any]] ?? []).filter { $0["step"] as? String == "brief_managers" }
        let again = try #require(open.first { ($0["recipients"] as? [String]) == ["per.olsen"] })
        let againKey = try #require(again["short_key"] as? String)
        #expect(againKey != per)
        #expect((again["to"] as? [[String: Any]])?.first?["address"] as? String == "per.olsen@example.no")
        #expect(try Self.brief(cli, id)["delivered"] == "1 of 3 managers confirmed, 2 waiting")

        let sent = try cli.run(["sent", id, againKey, "--detail", "resent from the shared mailbox", "--as", "ingrid.berg"])
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(try Self.brief(cli, id)["delivered"] == "2 of 3 managers confirmed, 1 waiting")
        #expect(try cli.run(["status", id]).stdout.contains("delivered: 2 of 3 managers confirmed, 1 waiting"))

        // show: each manager with address, language and result; the retry as a second attempt.
        let show = try cli.run(["show", id, "brief_managers"])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("Recipients  2 of 3 managers confirmed, 1 waiting"), "\(show.stdout)")
        #expect(show.stdout.contains("Per Olsen (per.olsen)  confirmed"))
        #expect(show.stdout.contains("[\(againKey)] email per.olsen@example.no (nb)  sent: resent from the shared mailbox  (attempt 2)"))
        #expect(show.stdout.contains("[\(ali)] email ali.hassan@example.no (en)  manual"))
        let showJSON = try cli.run(["show", id, "brief_managers", "--json"]).json()
        let notify = try #require(showJSON["notify"] as? [String: Any])
        #expect(notify["confirmed"] as? Int == 2)
        #expect(notify["total"] as? Int == 3)

        // The trail: the retry's intent names the failed delivery, the member's address and language.
        let log = try cli.run(["log", id, "--json"])
        let records = try #require(try JSONSerialization.jsonObject(with: Data(log.stdout.utf8)) as? [[String: Any]])
        let intents = records.compactMap { $0["record"] as? [String: Any] ?? $0["body"] as? [String: Any] }
            .filter { ($0["retry_of"] as? String)?.hasSuffix("/\(per)") == true }
        #expect(intents.count == 1, "\(log.stdout.prefix(2000))")
        #expect(intents.first?["address"] as? String == "per.olsen@example.no")
        let jsonl = try cli.run(["export", id, "--format", "jsonl"])
        #expect(jsonl.status == 0, "\(jsonl.stderr)")
        #expect(jsonl.stdout.contains("\"retry_of\""))
        #expect(jsonl.stdout.contains("\"language\":\"en\""))

        // The last manager: the step is sent, and the flow goes on.
        #expect(try cli.run(["sent", id, ali, "--as", "ingrid.berg"]).status == 0)
        let after = try cli.run(["status", id, "--json"]).json()
        let steps = (after["active"] as? [[String: Any]] ?? []).compactMap { $0["step"] as? String }
        #expect(!steps.contains("brief_managers"))
        #expect(steps.contains("reactive_statement"))
        #expect(try cli.run(["verify", id]).status == 0)
    }

    /// A notify to a named audience on two channels, without a list: one channel goes out, the other fails.
    static let twoChannels = """
        schema: crisis-playbook/v1
        id: two-channels
        version: "1"
        title: Two channels
        roles:
          lead: {title: Lead, lead: true}
        start: tell
        steps:
          tell:
            type: notify
            title: Tell the staff
            audience: staff
            channels: [email, sms]
            message: "Do not comment on the post."
            timeout: "1h"
            next: {sent: done, failed: by_phone, timeout: by_phone}
          by_phone:
            type: task
            title: Tell them by phone
            timeout: "1h"
            next: done
          done: {type: end, title: Done, outcome: resolved}
        """

    @Test("a notify with one failed channel out of two says so after it finished, and keeps what was sent")
    func oneChannelOfTwo() throws {
        var cli = try CLI()
        defer { cli.remove() }
        cli.env["COLUMNS"] = "100"
        let path = cli.dir.appendingPathComponent("two-channels.yaml").path
        try Self.twoChannels.write(toFile: path, atomically: true, encoding: .utf8)
        let start = try cli.run(["start", path])
        #expect(start.status == 0, "\(start.stderr)")
        let id = start.lastLine
        let status0 = try cli.run(["status", id, "--json"]).json()
        let keys = (status0["deliveries"] as? [[String: Any]] ?? []).compactMap { $0["short_key"] as? String }
        #expect(keys.count == 2)
        #expect(try cli.run(["sent", id, keys[0], "--as", "ops"]).status == 0)
        #expect(try cli.run(["failed", id, keys[1], "--reason", "gateway down", "--as", "ops"]).status == 0)

        let status = try cli.run(["status", id, "--json"]).json()
        let failed = try #require((status["failed_notifications"] as? [[String: Any]])?.first)
        #expect(failed["step"] as? String == "tell")
        #expect(failed["state"] as? String == "failed")
        #expect(failed["summary"] as? String == "1 of 2 channels confirmed, 1 failed")
        #expect(failed["failed"] as? [String] == ["staff on sms (gateway down)"])
        let text = try cli.run(["status", id])
        #expect(text.stdout.contains("tell  finished failed: 1 of 2 channels confirmed, 1 failed"), "\(text.stdout)")
        #expect(text.stdout.contains("failed: staff on sms (gateway down)"))
        let show = try cli.run(["show", id, "tell"])
        #expect(show.stdout.contains("Recipients  1 of 2 channels confirmed, 1 failed"), "\(show.stdout)")
        #expect(show.stdout.contains("[\(keys[0])] email  sent"))
        #expect(show.stdout.contains("[\(keys[1])] sms  failed: gateway down"))
    }
}
