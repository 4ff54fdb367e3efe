import Foundation
import Testing

/// A whole live `employee-post-viral` incident worked through `crisis run` in tmux at 80x24 by two people, from
/// `crisis run PLAYBOOK --set ...` to close: `scripts/keystrokes --test` types what they type and checks what
/// they see (numbered choices, a bad value asked again, the statement in full before approve and publish, a
/// timer firing at the prompt with level 2 shown paged and no key pressed, another process's note on the board,
/// Ctrl-C and `crisis run` resuming, the four-hour wait passed under faketime, close, verify).
struct BoardWholeRunTests {
    static let available = ["tmux", "faketime", "python3"].allSatisfy { tool in
        ["/usr/bin/", "/usr/local/bin/", "/bin/"].contains { FileManager.default.isExecutableFile(atPath: $0 + tool) }
    }

    @Test("a whole live employee-post-viral run on the board, by keys, under 300 keystrokes", .enabled(if: available))
    func wholeRun() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let script = CLI.root.appendingPathComponent("scripts/keystrokes").path
        let r = try cli.runShell("python3 '\(script)' --test --crisis \"$CRISIS\"")
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("closed (resolved)"), "\(r.stdout)")
        #expect(!r.stdout.contains("FAIL"), "\(r.stdout)")
        for check in ["a bad input is asked again with the reason", "a bad value records nothing", "level 2 paged", "a second process adds a note",
                      "Ctrl-C at a prompt records nothing", "the board came back to the same incident",
                      "the statement is shown in full before approve",
                      "verify ok"] {
            #expect(r.stdout.contains("ok   " + check) || r.stdout.contains(check), "missing check: \(check)\n\(r.stdout)")
        }
        let keys = try #require(try /keys pressed: (\d+)/.firstMatch(in: r.stdout)).output.1
        #expect((Int(keys) ?? 999) < 300, "\(keys) keys for a whole run")
    }

    @Test("a drill worked by hand in tmux (the facilitator's step-by-step clock, three players at their boards) leaves the same trail as --auto",
          .enabled(if: available))
    func drillByHand() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let script = CLI.root.appendingPathComponent("scripts/drill-by-hand").path
        let r = try cli.runShell("python3 '\(script)' '\(CLI.root.path)/\(DrillTests.fixtures)/show-quick.yaml' --crisis \"$CRISIS\"")
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("worked by hand by 3 players (hanne.hr, jonas.comms, lars.legal)"), "\(r.stdout)")
        let same = try #require(try /same trail as --auto: (\d+) records/.firstMatch(in: r.stdout), "\(r.stdout)")
        #expect((Int(same.output.1) ?? 0) > 25, "the whole drill, not a part of it: \(r.stdout)")
        #expect(r.stdout.contains("closed: resolved (expected: resolved)"), "\(r.stdout)")
    }

    @Test("t on a drill's board moves the simulated clock to the next timer, which fires; a live board refuses it with why")
    func drillNextTimer() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let mini = "Tests/CrisisCLITests/Fixtures/mini.yaml"
        let drill = try cli.run(["start", mini, "--drill", "--set", "post_url=https://x.com/a/status/1",
                                 "--clock", "2025-10-24T10:05:00+02:00"]).lastLine
        let before = try cli.run(["status", drill, "--json"]).json()
        let r = try cli.run(["run", drill], stdin: Data("t\nq\n".utf8))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("drill clock moved"), "\(r.stdout)")
        // The top names each target with what is left, and after the jump, the one missed.
        #expect(r.stdout.contains("targets: statement_out in "), "\(r.stdout)")
        let after = try cli.run(["status", drill, "--json"]).json()
        #expect((after["now"] as? String ?? "") > (before["now"] as? String ?? ""), "the drill clock moved")
        let log = try cli.run(["log", drill, "--json"]).stdout
        #expect(log.contains("\"timer.fired\""))
        let live = try cli.run(["start", mini, "--set", "post_url=https://x.com/a/status/1"]).lastLine
        let seq = try cli.run(["status", live, "--json"]).json()["seq"] as? Int
        let refused = try cli.run(["run", live], stdin: Data("t\nq\n".utf8))
        #expect(refused.stdout.contains("a live incident runs on the wall clock"), "\(refused.stdout)")
        #expect(try cli.run(["status", live, "--json"]).json()["seq"] as? Int == seq, "nothing recorded")
    }

    @Test("run with a playbook file that is not there says so, and creates nothing")
    func missingPlaybook() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let r = try cli.run(["run", "Playbooks/no-such-playbook.yaml"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("no playbook file at Playbooks/no-such-playbook.yaml"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cli.db))
    }
}
