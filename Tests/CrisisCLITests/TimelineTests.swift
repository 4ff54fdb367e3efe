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
        r = try cli.run(["act", id, "statement", "draft", "--set", "what_we_know=Batch 7731 is affected.",
                         "--as", "kari", "--role", "comms"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try cli.run(["act", id, "statement", "approve", "--set", "bogus=1", "--as", "ola", "--role", "legal"])
        let log = try cli.run(["log", id])
        #expect(log.status == 0)
        let lines = log.stdout.split(separator: "\n").map(String.init)
        let choose = try #require(lines.first { $0.contains("triage choose") })
        #expect(choose.contains("option=serious"))
        #expect(choose.contains("the post has 40k shares"))
        #expect(choose.contains("[comms]"))
        let draft = try #require(lines.first { $0.contains("statement draft") })
        #expect(draft.contains("what_we_know=Batch 7731 is affected."))
        #expect(draft.contains("statement sha256 "))
        #expect(draft.contains("kari [comms]"))
        // Reserved fields of the older layout never show; the texts are in the statement, not the fields.
        #expect(!log.stdout.contains("_text."))
        if r.status != 0 {
            let refused = try #require(lines.first { $0.contains("REFUSED") })
            #expect(refused.contains("bogus=1"))
        }
    }
}
