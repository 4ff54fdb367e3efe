import Foundation
import Testing

/// Issue 14, item 7: related incidents, linked both ways, their timelines merged.
@Suite("Related incidents")
struct RelatedIncidentTests {
    static let playbook = "Playbooks/employee-post-viral.yaml"

    @Test("start --related records the link both ways; status shows it; log --related merges the timelines in time order")
    func linkedBothWays() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let env = ["CRISIS_CONTACTS": CLI.root.appendingPathComponent("Examples/contacts.yaml").path]
        let first = try cli.run(["start", Self.playbook, "--set", "post_url=https://www.linkedin.com/posts/a-1",
                                 "--set", "detected_at=-10m"], env: env).lastLine
        #expect(try cli.run(["act", first, "capture_evidence", "done", "--as", "ola.hansen"], env: env).status == 0)
        let seq = try cli.run(["status", first, "--json"]).json()["seq"] as? Int ?? 0
        // A recurrence the same afternoon, linked by a short part of the first one's id.
        let second = try cli.run(["start", Self.playbook, "--related", String(first.suffix(4)), "--title", "Recurrence",
                                  "--set", "post_url=https://www.linkedin.com/posts/a-2", "--set", "detected_at=-1m"], env: env).lastLine
        #expect(second != first)
        let a = try cli.run(["status", first, "--json"]).json()
        let b = try cli.run(["status", second, "--json"]).json()
        #expect(a["related"] as? [String] == [second], "the link back, in the first one's trail")
        #expect(b["related"] as? [String] == [first])
        #expect(a["seq"] as? Int == seq + 1, "one record added to the first incident: the note naming the second")
        #expect(try cli.run(["status", first]).stdout.contains("related: \(second)"))
        let log = TimelineTests.entries(try cli.run(["log", first]).stdout).joined(separator: "\n")
        #expect(log.contains("note: #related \(second) opened as related: Recurrence"), "\(log)")
        let opened = TimelineTests.entries(try cli.run(["log", second]).stdout).first { $0.contains("opened live") } ?? ""
        #expect(opened.contains("opened live incident from employee-post-viral@1, related to \(first)"), "\(opened)")

        // The same person working both open incidents is flagged in each.
        #expect(try cli.run(["act", second, "capture_evidence", "done", "--as", "ola.hansen"], env: env).status == 0)
        let busy = try cli.run(["status", first, "--json"]).json()["assigned_elsewhere"] as? [[String: Any]]
        #expect(busy?.first?["person"] as? String == "ola.hansen")
        #expect(busy?.first?["incidents"] as? [String] == [second])
        #expect(try cli.run(["status", second]).stdout.contains("ola.hansen is also working open incident \(first)"))

        let merged = try cli.run(["log", second, "--related"])
        #expect(merged.status == 0, "\(merged.stderr)")
        let lines = merged.stdout.split(separator: "\n").map(String.init)
        let m1 = "[\(first.suffix(4))] ", m2 = "[\(second.suffix(4))] "
        #expect(lines.contains { $0.hasPrefix(m1) && $0.contains("capture_evidence done") }, "\(merged.stdout)")
        #expect(lines.contains { $0.hasPrefix(m2) && $0.contains("opened live incident") })
        // In time order: the first's capture (before the second was opened) comes before the second's opening.
        let capture = try #require(lines.firstIndex { $0.hasPrefix(m1) && $0.contains("capture_evidence done") })
        let open2 = try #require(lines.firstIndex { $0.hasPrefix(m2) && $0.contains("opened live incident") })
        #expect(capture < open2)
        #expect(try cli.run(["log", second, "--related", "--json"]).status == 2)
    }

    @Test("a related incident's draft reuses the first one's approved text, recorded with its hash; an unrelated one cannot")
    func reuseApprovedText() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let env = ["CRISIS_CONTACTS": CLI.root.appendingPathComponent("Examples/contacts.yaml").path]
        func act(_ id: String, _ words: [String], as who: String) throws -> CLI.Result {
            try cli.run(["act", id] + words + ["--as", who], env: env)
        }
        func start(_ extra: [String]) throws -> String {
            try cli.run(["start", Self.playbook, "--set", "post_url=https://www.linkedin.com/posts/a-1",
                         "--set", "detected_at=-10m"] + extra, env: env).lastLine
        }
        let facts = ["what_we_know.nb=En kollega har skrevet om arbeidsforholdene på lageret vårt.",
                     "what_we_know.en=A colleague has posted about working conditions in our warehouse.",
                     "what_we_dont_know.nb=Om de konkrete påstandene i innlegget stemmer.",
                     "what_we_dont_know.en=Whether the specific claims in the post are accurate.",
                     "actions.nb=Vi ser på forholdene innlegget tar opp.",
                     "actions.en=We are looking into the matters the post raises.",
                     "next_update_at.nb=i morgen innen kl. 12:00", "next_update_at.en=tomorrow by 12:00",
                     "where_to_get_info.nb=presse@example.no", "where_to_get_info.en=presse@example.no"].flatMap { ["--set", $0] }
        let first = try start([])
        #expect(try act(first, ["capture_evidence", "done"], as: "ola.hansen").status == 0)
        #expect(try act(first, ["page_lead", "ack"], as: "ola.hansen").status == 0)
        let drafted = try act(first, ["reactive_statement", "draft"] + facts, as: "ola.hansen")
        #expect(drafted.status == 0, "\(drafted.stderr)")
        let approved = try act(first, ["reactive_statement", "approve"], as: "marte.haugen")
        #expect(approved.status == 0, "\(approved.stderr)")
        let records = try JSONSerialization.jsonObject(with: Data(try cli.run(["log", first, "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
        let approval = try #require(records.last { (($0["body"] as? [String: Any])?["action"] as? String) == "approve" })
        // A string map is recorded as [{name, value}] pairs (docs/audit-format.md).
        let pairs = (approval["body"] as? [String: Any])?["subject"] as? [[String: String]] ?? []
        let sha = try #require(pairs.first { $0["name"] == "sha256" }?["value"], "\(approval)")

        let second = try start(["--related", first])
        #expect(try act(second, ["capture_evidence", "done"], as: "ola.hansen").status == 0)
        #expect(try act(second, ["page_lead", "ack"], as: "ola.hansen").status == 0)
        let reused = try act(second, ["reactive_statement", "draft", "--reuse", String(first.suffix(4)),
                                      "--set", "next_update_at.nb=i dag innen kl. 18:00", "--set", "next_update_at.en=today by 18:00"], as: "ola.hansen")
        #expect(reused.status == 0, "\(reused.stderr)")
        let log = TimelineTests.entries(try cli.run(["log", second]).stdout).joined(separator: "\n")
        #expect(log.contains("reusing \(first) reactive_statement revision 1 (sha256 \(sha.prefix(12))"), "\(log)")
        #expect(log.contains("what_we_know.en=A colleague has posted about working conditions in our warehouse."), "\(log)")
        #expect(log.contains("next_update_at.en=today by 18:00"), "a --set fact changes the reused one")
        let raw = try cli.run(["log", second, "--json"]).stdout
        #expect(raw.contains("{\"name\":\"reused_sha256\",\"value\":\"\(sha)\"}"), "the original's hash, in the trail")

        // An incident that is not related cannot lend its texts; nothing is recorded.
        let third = try start([])
        #expect(try act(third, ["capture_evidence", "done"], as: "ola.hansen").status == 0)
        #expect(try act(third, ["page_lead", "ack"], as: "ola.hansen").status == 0)
        let seq = try cli.run(["status", third, "--json"]).json()["seq"] as? Int
        let refused = try act(third, ["reactive_statement", "draft", "--reuse", first], as: "ola.hansen")
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("\(first) is not related to \(third)"), "\(refused.stderr)")
        #expect(try cli.run(["status", third, "--json"]).json()["seq"] as? Int == seq)
    }

    @Test("a drill cannot be related to a live incident, nor to one that does not exist; nothing is created")
    func refused() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let env = ["CRISIS_CONTACTS": CLI.root.appendingPathComponent("Examples/contacts.yaml").path]
        let live = try cli.run(["start", Self.playbook, "--set", "post_url=https://www.linkedin.com/posts/a-1",
                                "--set", "detected_at=-10m"], env: env).lastLine
        let seq = try cli.run(["status", live, "--json"]).json()["seq"] as? Int
        let drill = try cli.run(["start", Self.playbook, "--drill", "--related", live,
                                 "--set", "post_url=https://www.linkedin.com/posts/a-1", "--set", "detected_at=-10m"], env: env)
        #expect(drill.status != 0)
        #expect(drill.stderr.contains("\(live) is a live incident; a drill cannot be related to it"), "\(drill.stderr)")
        let unknown = try cli.run(["start", Self.playbook, "--related", "nosuch",
                                   "--set", "post_url=https://www.linkedin.com/posts/a-1", "--set", "detected_at=-10m"], env: env)
        #expect(unknown.status != 0)
        let list = try JSONSerialization.jsonObject(with: Data(try cli.run(["list", "--json"]).stdout.utf8)) as? [Any]
        #expect(list?.count == 1, "only the first incident exists")
        #expect(try cli.run(["status", live, "--json"]).json()["seq"] as? Int == seq)
    }
}
