import Foundation
import Testing

/// `crisis log` reads the trail through the typed records: what an action recorded is what a reader sees.
struct TimelineTests {
    static let mini = "Tests/CrisisCLITests/Fixtures/mini.yaml"

    @Test("log shows every field an action recorded, the statement's hash, a note, and who acted in which role")
    func logShowsFields() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let start = try cli.run(["start", Self.mini, "--set", "post_url=https://x.com/someone/status/1", "--drill",
                                 "--clock", "2025-10-24T10:05:00+02:00"])
        #expect(start.status == 0, "\(start.stderr)")
        let id = start.lastLine
        var r = try cli.run(["act", id, "triage", "choose", "--set", "option=serious", "--role", "comms",
                             "--note", "the post has 40k shares"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try cli.run(["act", id, "statement", "draft", "--set", "what_we_know.nb=Parti 7731 er berørt.", "--set", "what_we_know.en=Batch 7731 is affected.",
                         "--as", "kari", "--role", "comms"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try cli.run(["act", id, "statement", "approve", "--set", "bogus=1", "--as", "ola", "--role", "legal"])
        let log = try cli.run(["log", id])
        #expect(log.status == 0)
        let lines = Self.entries(log.stdout)
        let choose = try #require(lines.first { $0.contains("triage choose") })
        #expect(choose.contains("option=serious"))
        #expect(choose.contains("the post has 40k shares"))
        #expect(choose.contains("[comms]"))
        let draft = try #require(lines.first { $0.contains("statement draft") })
        #expect(draft.contains("what_we_know.en=Batch 7731 is affected. what_we_know.nb=Parti 7731 er berørt."), "\(draft)")
        #expect(draft.contains("statement sha256 "))
        #expect(draft.contains("kari [comms]"))
        // Reserved fields of the older layout never show; the texts are in the statement, not the fields.
        #expect(!log.stdout.contains("_text."))
        if r.status != 0 {
            let refused = try #require(lines.first { $0.contains("REFUSED") })
            #expect(refused.contains("bogus=1"))
        }
    }

    /// The log's entries, each with its wrapped lines joined back (an entry starts with its sequence number).
    static func entries(_ log: String) -> [String] {
        var out: [String] = []
        for line in log.split(separator: "\n").map(String.init) {
            let trimmed = line.drop { $0 == " " }
            if (try? /^ *\d+ (\d\d:\d\d|  -  )\s\s/.firstMatch(in: line)) != nil {
                out.append(line)
            } else if !out.isEmpty, line.hasPrefix("     ") {
                out[out.count - 1] += " " + trimmed
            } else {
                out.append(line)
            }
        }
        return out
    }

    @Test("log fits the width it is given: a day heading with the offset, local times, entries wrapped under their text, never cut")
    func logFitsWidth() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try cli.run(["start", Self.mini, "--set", "post_url=https://x.com/someone/status/1", "--drill",
                              "--clock", "2025-10-24T23:50:00+02:00"]).lastLine
        let long = String(repeating: "evidence ", count: 30) + "END-OF-NOTE"
        #expect(try cli.run(["note", id, long]).status == 0)
        #expect(try cli.run(["tick", id, "--advance", "20m"]).status == 0)
        #expect(try cli.run(["note", id, "next day"]).status == 0)
        for width in [80, 60, 120] {
            let log = try cli.run(["log", id], env: ["COLUMNS": "\(width)"]).stdout
            let lines = log.split(separator: "\n")
            for line in lines { #expect(line.count <= width, "wider than \(width): \(line)") }
            // Nothing is cut: the whole note is there once the wrapped lines are joined.
            let joined = Self.entries(log).joined(separator: "\n")
            #expect(joined.contains(long), "the note was cut at \(width) columns")
            // One heading per local day, with the zone and its offset; entries carry only the local time.
            #expect(lines.filter { $0.hasPrefix("Fri 24 Oct 2025, ") }.count == 1, "\(log)")
            #expect(lines.filter { $0.hasPrefix("Sat 25 Oct 2025, ") }.count == 1, "\(log)")
            #expect(log.contains("+02:00"))
            #expect(!log.contains("2025-10-24T"), "no RFC 3339 stamps for people")
        }
        let narrow = try cli.run(["log", id], env: ["COLUMNS": "60"]).stdout
        #expect(narrow.split(separator: "\n").count > (try cli.run(["log", id], env: ["COLUMNS": "120"]).stdout).split(separator: "\n").count)
    }

    @Test("list fits 80 columns and gives each incident's opening in its own zone with the offset; JSON keeps UTC and names the zone")
    func listFits() throws {
        let cli = try CLI()
        defer { cli.remove() }
        for _ in 0..<3 {
            #expect(try cli.run(["start", Self.mini, "--set", "post_url=https://x.com/someone/status/1", "--drill"]).status == 0)
        }
        // A shipped playbook's long id and title too.
        #expect(try cli.run(["start", "Playbooks/employee-post-viral.yaml", "--drill", "--contacts", "Examples/contacts.yaml",
                             "--set", "post_url=https://www.linkedin.com/posts/x-1", "--set", "detected_at=now"]).status == 0)
        let list = try cli.run(["list"], env: ["COLUMNS": "80"])
        #expect(list.status == 0)
        for line in list.stdout.split(separator: "\n") { #expect(line.count <= 80, "wider than 80: \(line)") }
        #expect(!list.stdout.contains("UTC"), "the mini playbook's zone is Europe/Oslo")
        #expect(list.stdout.contains("+01:00") || list.stdout.contains("+02:00"))
        #expect(list.stdout.contains("Mini incident"))
        #expect(list.stdout.contains("An employee's post about us has gone viral"))
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(try cli.run(["list", "--json"]).stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 4)
        #expect(rows.allSatisfy { ($0["opened"] as? String)?.hasSuffix("Z") == true && $0["timezone"] as? String == "Europe/Oslo" })
    }
}
