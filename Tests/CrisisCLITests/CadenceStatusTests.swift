import Foundation
import Testing

/// A cadence run by the real binary on a drill: an occurrence met, two missed by their timers as the drill clock
/// moves, the next one moved into the morning window across the spring DST change; `status --json`, the text
/// status and the log say so.
@Suite(.serialized)
struct CadenceStatusTests {
    static let playbook = "Tests/CrisisCLITests/Fixtures/cadence.yaml"

    @Test("a cadence with a missed occurrence: status --json counts it and names the next one due")
    func missedOccurrence() throws {
        let cli = try CLI()
        defer { cli.remove() }
        // The evening before clocks go forward in Oslo (29 March 2026, 02:00 -> 03:00).
        let start = try cli.run(["start", Self.playbook, "--drill", "--clock", "2026-03-28T22:40:00+01:00"])
        #expect(start.status == 0, "\(start.stderr)")
        let id = start.lastLine
        #expect(try cli.run(["tick", id, "--advance", "10m"]).status == 0)
        let posted = try cli.run(["act", id, "post", "done", "--role", "lead"])
        #expect(posted.status == 0, "\(posted.stderr)")
        #expect(posted.stdout.contains("cadence updates occurrence 1 met after 10m"))
        #expect(try cli.run(["act", id, "check", "choose", "--set", "option=not_yet", "--role", "lead"]).status == 0)
        // Nobody posts for an hour: occurrences 2 (23:20) and 3 (23:50) are missed; 4 would be 00:20, outside
        // 06:00-24:00, so it is due at 06:00 summer time.
        let tick = try cli.run(["tick", id, "--advance", "1h"])
        #expect(tick.status == 0, "\(tick.stderr)")
        #expect(tick.stdout.contains("cadence updates occurrence 3 MISSED"))

        let s = try cli.run(["status", id, "--json"]).json()
        let cadences = try #require(s["cadences"] as? [[String: Any]])
        #expect(cadences.count == 1)
        let c = try #require(cadences.first)
        #expect(c["id"] as? String == "updates")
        #expect(c["every"] as? String == "30m")
        #expect(c["between"] as? String == "06:00-24:00")
        #expect(c["state"] as? String == "running")
        #expect(c["met"] as? Int == 1)
        #expect(c["missed"] as? Int == 2)
        #expect(c["next_occurrence"] as? Int == 4)
        #expect(c["next_due"] as? String == "2026-03-29T06:00:00+02:00")
        let occurrences = try #require(c["occurrences"] as? [[String: Any]])
        #expect(occurrences.map { $0["state"] as? String } == ["met", "missed", "missed", "pending"])
        #expect(occurrences.map { $0["due"] as? String } == [
            "2026-03-28T23:10:00+01:00", "2026-03-28T23:20:00+01:00", "2026-03-28T23:50:00+01:00",
            "2026-03-29T06:00:00+02:00",
        ])
        let timers = try #require(s["timers"] as? [[String: Any]])
        #expect(timers.contains { $0["purpose"] as? String == "cadence updates occurrence 4" })

        let text = try cli.run(["status", id]).stdout
        #expect(text.contains("Cadences"))
        #expect(text.contains("1 met, 2 missed"))
        // The board's top lines: the next one due and the tally.
        let board = try cli.run(["run", id], stdin: Data("q\n".utf8))
        #expect(board.stdout.contains("cadences: updates next in 5h 10m · 1 met, 2 missed"), "\(board.stdout)")
        // `show` on the step that meets it says the same.
        let show = try cli.run(["show", id, "post"]).stdout
        #expect(show.contains("Cadences") && show.contains("1 met, 2 missed"), "\(show)")
        let log = try cli.run(["log", id]).stdout
        #expect(log.contains("cadence updates occurrence 2 due"))
        #expect(!log.contains("timer t"), "\(log)")

        // An update now meets occurrence 4 early; restored: occurrence 5 (pending) is dropped, the cadence ends.
        #expect(try cli.run(["act", id, "post", "done", "--role", "lead"]).status == 0)
        let back = try cli.run(["act", id, "check", "choose", "--set", "option=restored", "--role", "lead"])
        #expect(back.status == 0, "\(back.stderr)")
        let after = try cli.run(["status", id, "--json"]).json()
        let ended = try #require((after["cadences"] as? [[String: Any]])?.first)
        #expect(ended["state"] as? String == "ended")
        #expect(ended["met"] as? Int == 2)
        #expect(ended["missed"] as? Int == 2)
        #expect((ended["occurrences"] as? [[String: Any]])?.count == 4)
        #expect(ended["next_due"] == nil)
        #expect(try cli.run(["verify", id, "--deep"]).status == 0)
    }
}
