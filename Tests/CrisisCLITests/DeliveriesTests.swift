import Foundation
import Testing

/// Hand delivery made safe: `deliveries` lists what waits for a person with the recipient's name, address and the
/// exact text; `sent` and `failed` settle several in one command, all keys checked before anything is recorded.
struct DeliveriesTests {
    /// A live incident of Fixtures/show.yaml: its first escalation level pages two people by SMS, by hand.
    static func live() throws -> (CLI, String) {
        var cli = try CLI()
        cli.env["COLUMNS"] = "80"
        let start = try cli.run([
            "start", ShowGoldenTests.playbook, "--contacts", ShowGoldenTests.contacts,
            "--set", "post_url=https://x.com/someone/status/1790",
        ])
        #expect(start.status == 0, "\(start.stderr)")
        return (cli, start.lastLine)
    }

    static func seq(_ cli: CLI, _ id: String) throws -> Int {
        let r = try cli.run(["status", id, "--json"])
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        return try #require(o["seq"] as? Int)
    }

    @Test("deliveries names each recipient with their address and the exact text, and prints the commands that settle them")
    func lists() throws {
        let (cli, id) = try Self.live()
        defer { cli.remove() }
        let r = try cli.run(["deliveries", id])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("2 deliveries wait for a person"))
        #expect(r.stdout.contains("to Jonas Comms  +47 900 00 002"))
        #expect(r.stdout.contains("to Ingrid Comms  +47 900 00 003"))
        #expect(r.stdout.contains("│ Incident \(id): a post naming staff is spreading."))
        #expect(r.stdout.contains("crisis sent \(id) 0 1"))
        for line in r.stdout.split(separator: "\n") { #expect(line.count <= 80, "wider than 80: \(line)") }

        let json = try cli.run(["deliveries", id, "--json"])
        let list = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(list.count == 2)
        #expect(list.compactMap { $0["short_key"] as? String }.sorted() == ["0", "1"])
        #expect(list.allSatisfy { ($0["text"] as? String)?.hasPrefix("Incident \(id)") == true })
    }

    @Test("sent and failed settle several deliveries in one command; an unknown key refuses all of them and records nothing")
    func settles() throws {
        let (cli, id) = try Self.live()
        defer { cli.remove() }
        let before = try Self.seq(cli, id)
        let bad = try cli.run(["sent", id, "0", "7", "--as", "jonas.comms"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("'7' names no delivery waiting for a person (waiting: 0, 1); nothing was recorded"))
        #expect(try Self.seq(cli, id) == before)

        let noReason = try cli.run(["failed", id, "1", "--as", "jonas.comms"])
        #expect(noReason.status == 2)
        #expect(try Self.seq(cli, id) == before)

        let sent = try cli.run(["sent", id, "0", "--detail", "texted from my phone", "--as", "jonas.comms"])
        #expect(sent.status == 0, "\(sent.stderr)")
        let failed = try cli.run(["failed", id, "1", "--reason", "number not in service", "--as", "jonas.comms"])
        #expect(failed.status == 0, "\(failed.stderr)")
        #expect(try Self.seq(cli, id) == before + 2)
        #expect(try cli.run(["deliveries", id]).stdout.contains("nothing is waiting for a person"))

        let log = TimelineTests.entries(try cli.run(["log", id, "--all"]).stdout).joined(separator: "\n")
        #expect(log.contains("outcome sent [page_comms/page/0]: texted from my phone"), "\(log)")
        #expect(log.contains("outcome failed [page_comms/page/1]: number not in service"))
        #expect(try cli.run(["verify", id]).status == 0)
    }
}
