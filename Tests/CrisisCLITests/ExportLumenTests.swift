import Foundation
import Testing

/// `crisis export --format lumen`: submitted takedown requests as notices in the Lumen database's notice fields;
/// drafts never submitted are left out and counted.
@Suite(.serialized)
struct ExportLumenTests {
    static func lumen(_ cli: CLI, _ id: String) throws -> (notices: [[String: Any]], stderr: String) {
        let r = try cli.run(["export", id, "--format", "lumen"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try r.json()
        #expect(json.keys.sorted() == ["notices"])
        return (try #require(json["notices"] as? [[String: Any]]), r.stderr)
    }

    static func role(_ notice: [String: Any], _ name: String) -> [String: Any]? {
        let roles = notice["entity_notice_roles_attributes"] as? [[String: Any]] ?? []
        return roles.first { $0["name"] as? String == name }?["entity_attributes"] as? [String: Any]
    }

    @Test("lumen: a privacy request drafted is left out; once submitted, acknowledged and partly removed it is one notice")
    func showTakedown() throws {
        let drill = try ShowGoldenTests.Drill()
        let cli = drill.cli
        defer { cli.remove() }
        let id = drill.id
        let none = try Self.lumen(cli, id)
        #expect(none.notices.isEmpty && none.stderr.contains("0 notices"))
        try drill.act("page_comms", "ack", as: "jonas.comms", ["by=jonas.comms"])
        try drill.act("triage", "choose", as: "jonas.comms", ["option=serious"])
        try drill.act("check_facts", "done", as: "jonas.comms")
        try drill.act("statement", "draft", as: "jonas.comms", ["what_we_know.nb=A post names a colleague.", "what_we_know.en=A post names a colleague.", "next_update_at.nb=at 11:00", "next_update_at.en=at 11:00"])
        try drill.act("statement", "approve", as: "lars.legal")
        try drill.act("statement", "approve", as: "hanne.hr")
        try drill.act("statement", "publish", as: "jonas.comms")
        try drill.act("removal", "draft", as: "lars.legal", [
            "explanation=The post names an employee and gives her home address </script>.",
            "affected_person=Kari Nordmann", "authorisation=Written consent of 2 March 2026",
        ])
        let drafted = try Self.lumen(cli, id)
        #expect(drafted.notices.isEmpty)
        #expect(drafted.stderr.contains("0 notices, 1 draft not submitted left out"), "\(drafted.stderr)")

        try drill.run(["tick", id, "--advance", "10m"])
        try drill.act("removal", "submit", as: "lars.legal", ["ticket=X-4711"])
        try drill.run(["tick", id, "--advance", "2h"])
        try drill.act("removal", "acknowledge", as: "lars.legal")
        try drill.act("removal", "partially_removed", as: "lars.legal", ["note=the address was removed, the name stays"])
        let (notices, stderr) = try Self.lumen(cli, id)
        #expect(stderr.contains("1 notice") && !stderr.contains("draft"), "\(stderr)")
        let n = try #require(notices.first)
        #expect(notices.count == 1)
        #expect(n["type"] as? String == "PrivateInformation")
        #expect(n["title"] as? String == "Ask the platform to remove the names: X")
        #expect(n["action_taken"] as? String == "Partial")
        #expect(n["language"] as? String == "nb")
        #expect(n["jurisdiction_list"] is NSNull)
        // The drill's clock: started 09:00 +01:00, waited 10 minutes (the escalation and the rest took no time).
        let sent = try #require(n["date_sent"] as? String)
        let received = try #require(n["date_received"] as? String)
        #expect(sent.hasPrefix("2026-03-02T08:1") && sent.hasSuffix("Z"), "\(sent)")
        #expect(received > sent)
        #expect(Self.role(n, "sender")?["name"] as? String == "Nordlys AS, legal department")
        #expect(Self.role(n, "principal")?["name"] as? String == "Kari Nordmann")
        #expect(Self.role(n, "recipient")?["name"] as? String == "X")
        let works = try #require(n["works_attributes"] as? [[String: Any]])
        #expect(works.count == 1)
        let urls = (works[0]["infringing_urls_attributes"] as? [[String: Any]])?.compactMap { $0["url"] as? String }
        #expect(urls == ["https://x.com/someone/status/1790"])
        #expect((works[0]["copyrighted_urls_attributes"] as? [Any])?.isEmpty == true)
        let body = try #require(n["body"] as? String)
        #expect(body.hasPrefix("The post names an employee and gives her home address </script>."))
        #expect(body.contains("Authorisation: Written consent of 2 March 2026"))
        // Contact details stay out of what Lumen would publish.
        let raw = try cli.run(["export", id, "--format", "lumen"]).stdout
        #expect(!raw.contains("legal@example.no"))
        // Where it comes from in the trail.
        let crisis = try #require(n["crisis"] as? [String: Any])
        #expect(crisis["incident"] as? String == id)
        #expect(crisis["step"] as? String == "removal")
        #expect(crisis["basis"] as? String == "privacy")
        #expect(crisis["ticket"] as? String == "X-4711")
        #expect(crisis["status"] as? String == "partially_removed")
        #expect(crisis["submitted_by"] as? String == "lars.legal")
        let lifecycle = (crisis["lifecycle"] as? [[String: Any]])?.compactMap { $0["status"] as? String }
        #expect(lifecycle == ["drafted", "submitted", "acknowledged", "partially_removed"])

        // -o writes the same JSON, refusing an existing file unless --force.
        let path = cli.dir.appendingPathComponent("lumen.json").path
        let written = try cli.run(["export", id, "--format", "lumen", "-o", path])
        #expect(written.status == 0 && written.stderr.contains("1 notice; written to \(path)"), "\(written.stderr)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == raw)
        #expect(try cli.run(["export", id, "--format", "lumen", "-o", path]).status == 1)
    }

    @Test("lumen: an autodrill of executive-impersonation gives one impersonation notice per fake account, all removed, with the URLs as submitted")
    func autodrill() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let fakes = ["https://www.linkedin.com/in/fake-ceo-1", "https://x.com/fake_ceo_2"]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "scripts/autodrill", "Playbooks/executive-impersonation.yaml", "--db", cli.db,
                       "--crisis", CLI.binary, "--set", "impostor_urls=" + fakes.joined(separator: " ")]
        p.currentDirectoryURL = CLI.root
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let run = CLI.collect(p, out, err, limit: 600)
        #expect(run.status == 0, "\(run.stdout.suffix(2000))\(run.stderr)")
        let id = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("incident ") }.map { String($0.dropFirst(9)) })
        let (notices, stderr) = try Self.lumen(cli, id)
        #expect(stderr.contains("2 notices"), "\(stderr)")
        #expect(notices.count == 2)
        var seen: [String] = []
        for n in notices {
            #expect(n["type"] as? String == "Other")
            #expect(n["action_taken"] as? String == "Yes")
            #expect(n["date_sent"] is String)
            #expect(Self.role(n, "sender")?["name"] as? String != nil)
            #expect(Self.role(n, "recipient")?["name"] as? String != nil)
            #expect((n["crisis"] as? [String: Any])?["basis"] as? String == "impersonation")
            let works = n["works_attributes"] as? [[String: Any]] ?? []
            seen += works.flatMap { ($0["infringing_urls_attributes"] as? [[String: Any]] ?? []).compactMap { $0["url"] as? String } }
        }
        // The URLs are those of the notices as submitted: the autodrill's drafts fill in every element, urls
        // included, so they are read from the draft actions in the trail (the CSV's fields column).
        let csvPath = cli.dir.appendingPathComponent("t.csv").path
        #expect(try cli.run(["export", id, "--format", "csv", "-o", csvPath]).status == 0)
        let drafted = try ExportCSVTests.pythonRows(csvPath).filter { $0[8] == "draft" }.flatMap { row -> [String] in
            let fields = (try? JSONSerialization.jsonObject(with: Data(row[11].utf8))) as? [String: String]
            return (fields?["urls"] ?? "").split(whereSeparator: \.isWhitespace).map(String.init)
        }
        #expect(drafted.count == 2)
        #expect(seen.sorted() == drafted.sorted())
        #expect(Set(seen).isDisjoint(with: fakes), "the drafts replaced the start URLs")
    }
}
