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
