import Foundation
import Testing

/// How `status` shows clocks and targets: a stopped clock's ending (met, or missed by how much) frozen at the
/// stop, a closed incident's clocks final, targets that count from a recorded time, deadlines set during the run.
@Suite(.serialized)
struct ClockStatusTests {
    static let playbook = "Tests/CrisisCLITests/Fixtures/clocks.yaml"

    static func unwrapped(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
    }

    func start(_ cli: CLI) throws -> String {
        let r = try cli.run(["start", Self.playbook, "--drill", "--clock", "2025-10-24T10:00:00+02:00"])
        #expect(r.status == 0, "start failed: \(r.stderr)")
        return r.lastLine
    }

    func act(_ cli: CLI, _ args: [String]) throws {
        let r = try cli.run(["act"] + args + ["--role", "lead"])
        #expect(r.status == 0, "act \(args) failed: \(r.stdout)\(r.stderr)")
    }

    @Test("a clock stopped late shows 'missed by 2h 10m' and stops counting; after close nothing is running")
    func missedAndClosed() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try start(cli)
        var s = try cli.run(["status", id, "--json"]).json()
        var targets = try #require(s["targets"] as? [[String: Any]])
        #expect(targets.first?["state"] as? String == "not_started")
        #expect(targets.first?["due"] == nil)
        #expect(targets.first?["counts_from"] as? String == "field aware_at of confirm")
        #expect(Self.unwrapped(try cli.run(["status", id]).stdout).contains("not started (counts from field aware_at of confirm)"))

        let tick = try cli.run(["tick", id, "--advance", "4h10m"])
        #expect(tick.status == 0, "\(tick.stderr)")
        // The warning speaks the playbook's zone, never UTC.
        // (What tick did now wraps at 80 columns: compare with the wrapping undone.)
        #expect(Self.unwrapped(tick.stdout).contains("deadline 2025-10-24 12:00 +02:00"))
        #expect(!tick.stdout.contains("Z;") && !tick.stdout.contains(".000Z"))
        try act(cli, [id, "confirm", "done", "--set", "aware_at=2025-10-24T13:30+02:00"])
        try act(cli, [id, "notify", "done"])
        // Days later the stopped clock still says the same.
        s = try cli.run(["status", id, "--json"]).json()
        #expect(s["status"] as? String == "closed")
        let clocks = try #require(s["clocks"] as? [[String: Any]])
        let notify = try #require(clocks.first { $0["id"] as? String == "notify" })
        #expect(notify["state"] as? String == "stopped")
        #expect(notify["result"] as? String == "missed")
        #expect(notify["missed_by"] as? String == "2h 10m")
        #expect(notify["remaining"] as? String == "overdue by 2h 10m")
        #expect(notify["stopped"] as? String == "2025-10-24T14:10:00+02:00")
        let report = try #require(clocks.first { $0["id"] as? String == "report" })
        #expect(report["state"] as? String == "not_stopped")
        #expect(report["remaining"] as? String == "2d 19h")
        #expect(!clocks.contains { $0["state"] as? String == "running" || $0["state"] as? String == "expired" })
        targets = try #require(s["targets"] as? [[String: Any]])
        #expect(targets.first?["state"] as? String == "met")
        #expect(targets.first?["met_after"] as? String == "40m")
        // Long lines wrap at the terminal's width: compare with the wrapping undone.
        let text = Self.unwrapped(try cli.run(["status", id]).stdout)
        #expect(text.contains("MISSED by 2h 10m"))
        #expect(text.contains("not stopped when the incident closed"))
        #expect(!text.contains("overdue by 12d"))
    }

    @Test("a clock stopped in time shows 'met' with the time to spare; set_deadline is recorded and shown")
    func metAndSetDeadline() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try start(cli)
        let set = try cli.run(["act", id, "incident", "set_deadline", "--set", "clock=report",
                               "--set", "at=2025-12-03T12:00+01:00", "--set", "reason=Datatilsynet letter 2025/17",
                               "--role", "lead", "--as", "lena"])
        #expect(set.status == 0, "\(set.stdout)\(set.stderr)")
        #expect(set.stdout.contains("to 2025-12-03 12:00 +01:00 by lena: Datatilsynet letter 2025/17"))
        #expect(try cli.run(["tick", id, "--advance", "30m"]).status == 0)
        try act(cli, [id, "confirm", "done", "--set", "aware_at=2025-10-24T10:15+02:00"])
        let s = try cli.run(["status", id, "--json"]).json()
        let clocks = try #require(s["clocks"] as? [[String: Any]])
        let report = try #require(clocks.first { $0["id"] as? String == "report" })
        #expect(report["deadline"] as? String == "2025-12-03T12:00:00+01:00")
        let deadlineSet = try #require(report["deadline_set"] as? [String: Any])
        #expect(deadlineSet["by"] as? String == "lena")
        #expect(deadlineSet["previous"] as? String == "2025-10-27T09:00:00+01:00")
        let targets = try #require(s["targets"] as? [[String: Any]])
        #expect(targets.first?["due"] as? String == "2025-10-24T11:15:00+02:00")
        #expect(targets.first?["state"] as? String == "pending")
        try act(cli, [id, "notify", "done"])
        let closed = try cli.run(["status", id, "--json"]).json()
        let notify = try #require((closed["clocks"] as? [[String: Any]])?.first { $0["id"] as? String == "notify" })
        #expect(notify["result"] as? String == "met")
        #expect(notify["missed_by"] == nil)
        #expect(notify["remaining"] as? String == "1h 30m")
        let text = Self.unwrapped(try cli.run(["status", id]).stdout)
        #expect(text.contains("met, 1h 30m to spare"))
        #expect(text.contains("deadline set"))
    }
}
