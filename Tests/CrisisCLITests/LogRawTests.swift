import Foundation
import Testing

/// `crisis log --raw`, and `log` on a trail whose chain does not verify or that does not replay.
@Suite(.serialized)
struct LogRawTests {
    static let mini = "Tests/CrisisCLITests/Fixtures/mini.yaml"

    func startMini(_ cli: CLI) throws -> String {
        let r = try cli.run(["start", Self.mini, "--set", "post_url=https://x.com/someone/status/1", "--drill",
                             "--clock", "2025-10-24T10:05:00+02:00"])
        #expect(r.status == 0, "start failed: \(r.stderr)")
        return r.lastLine
    }

    func sqlite(_ db: String, _ sql: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        p.arguments = [db, sql]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    /// The lines of `--raw` output that are records (`#seq …`).
    func recordLines(_ out: String) -> [String] {
        out.split(separator: "\n").map(String.init).filter { $0.hasPrefix("#") }
    }

    @Test("log --raw prints one line per record: seq, time, type, actor, hash check and body")
    func rawIntact() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        _ = try cli.run(["note", id, "first note"])
        _ = try cli.run(["note", id, "second note"])
        let count = try #require(try JSONSerialization.jsonObject(
            with: Data(try cli.run(["log", id, "--json"]).stdout.utf8)) as? [Any]).count
        let r = try cli.run(["log", id, "--raw"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = recordLines(r.stdout)
        #expect(lines.count == count)
        // recorded_at is the real clock (a drill's simulated time is in the body).
        let first = try #require(lines.first)
        #expect(first.wholeMatch(of: /#1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z incident\.opened test-operator ok \{.*/) != nil,
                "\(first)")
        #expect(first.contains("\"now\":1761293100000"), "the body holds the drill clock")
        #expect(lines.allSatisfy { $0.contains(" ok ") })
        let note = try #require(lines.first { $0.contains("first note") })
        #expect(note.contains("test-operator"))
        #expect(!r.stdout.contains("WARNING"))
    }

    @Test("an edited record: log warns at the top and still tells the story; --raw marks the record and the next")
    func editedRecord() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        _ = try cli.run(["note", id, "hello there"])
        _ = try cli.run(["note", id, "after"])
        let seq = try #require(recordLines(try cli.run(["log", id, "--raw"]).stdout)
            .first { $0.contains("hello there") }.flatMap { Int($0.dropFirst().prefix { $0 != " " }) })
        try sqlite(cli.db, """
            DROP TRIGGER audit_event_no_update;
            UPDATE audit_event SET record = CAST(replace(CAST(record AS TEXT), 'hello there', 'HELLO THERE') AS BLOB)
            WHERE seq = \(seq);
            """)
        let log = try cli.run(["log", id])
        #expect(log.status == 3, "\(log.stdout)\(log.stderr)")
        #expect(log.stdout.hasPrefix("WARNING: the hash chain"), "\(log.stdout)")
        #expect(log.stdout.contains("seq \(seq):"))
        #expect(log.stdout.contains("HELLO THERE"), "the timeline is still printed")
        #expect(log.stdout.contains("after"))

        let raw = try cli.run(["log", id, "--raw"])
        #expect(raw.status == 3)
        let lines = recordLines(raw.stdout)
        #expect(lines.first { $0.hasPrefix("#\(seq) ") }?.contains(" HASH-BAD ") == true)
        #expect(lines.first { $0.hasPrefix("#\(seq + 1) ") }?.contains(" LINK-BAD ") == true)
        #expect(lines.first { $0.hasPrefix("#1 ") }?.contains(" ok ") == true)
    }

    @Test("a record that is not JSON: log says the trail does not replay and prints the raw form, escaped")
    func unreplayable() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        _ = try cli.run(["note", id, "to be destroyed"])
        _ = try cli.run(["note", id, "survivor"])
        try sqlite(cli.db, """
            DROP TRIGGER audit_event_no_update;
            UPDATE audit_event SET record = X'FF001B5B33316D' WHERE seq = 2;
            """)
        let log = try cli.run(["log", id])
        #expect(log.status == 3, "\(log.stdout)\(log.stderr)")
        #expect(log.stdout.contains("does not replay"), "\(log.stdout)\(log.stderr)")
        let lines = recordLines(log.stdout)
        #expect(lines.contains { $0.contains("survivor") }, "later records are still shown")
        let damaged = try #require(lines.first { $0.hasPrefix("#2 ") })
        #expect(damaged.contains("HASH-BAD"))
        #expect(!log.stdout.contains("\u{0}") && !log.stdout.contains("\u{1B}"), "control bytes are escaped")
        #expect(try cli.run(["log", id, "--raw"]).status == 3)
    }

    @Test("log folds delivery intents and sandboxed outcomes into the line that caused them; --all shows each")
    func foldsPlumbing() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        for (args, who) in [(["triage", "choose", "--set", "option=serious"], ["--role", "comms"]),
                            (["statement", "draft", "--set", "what_we_know.nb=Batch 7731.", "--set", "what_we_know.en=Batch 7731."], ["--as", "kari", "--role", "comms"]),
                            (["statement", "approve"], ["--as", "ola", "--role", "legal"]),
                            (["statement", "publish"], ["--as", "kari", "--role", "comms"])] {
            let r = try cli.run(["act", id] + args + who)
            #expect(r.status == 0, "\(args): \(r.stderr)")
        }
        let wide = ["COLUMNS": "300"]
        let all = try cli.run(["log", id, "--all"], env: wide)
        let folded = try cli.run(["log", id], env: wide)
        #expect(all.status == 0 && folded.status == 0, "\(folded.stderr)")
        let intents = all.stdout.split(separator: "\n").filter { $0.contains("intent: ") }.count
        #expect(intents > 0, "the run must deliver something: \(all.stdout)")
        #expect(!folded.stdout.contains("intent: "))
        // A sandboxed outcome with no effects of its own folds too; one that moved the incident keeps its line.
        func count(_ text: String, _ part: String) -> Int { text.components(separatedBy: part).count - 1 }
        let marks = count(folded.stdout, "(sandboxed)")
        #expect(marks >= 1)
        #expect(count(folded.stdout, "outcome sandboxed") == count(all.stdout, "outcome sandboxed") - marks)
        let publish = try #require(folded.stdout.split(separator: "\n").first { $0.contains("statement publish") })
        #expect(publish.contains("[sends: "), "\(folded.stdout)")
        #expect(publish.contains("(sandboxed)"), "\(publish)")
        // Nothing is lost: every delivery folded is named once on a line.
        #expect(folded.stdout.components(separatedBy: " via ").count - 1 == intents, "\(folded.stdout)")
        #expect(folded.stdout.split(separator: "\n").count < all.stdout.split(separator: "\n").count)
        // The folded deliveries wrap with the rest of the line: nothing is wider than the terminal.
        let narrow = try cli.run(["log", id], env: ["COLUMNS": "60"])
        for line in narrow.stdout.split(separator: "\n") {
            #expect(line.count <= 60, "\(line)")
        }
        #expect(narrow.stdout.contains("[sends:"))
    }
}
