import Foundation
import Testing

/// `crisis run` in a real terminal (tmux at 80x24) and in line mode (a pipe).
@Suite(.serialized)
struct BoardTests {
    static let playbook = CLI.root.appendingPathComponent("Tests/CrisisCLITests/Fixtures/watch.yaml").path
    static let tmux: String? = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Runs tmux with `args`, returning its standard output.
    @discardableResult
    static func tmux(_ args: [String]) throws -> String {
        let p = Process()
        // Through bash (dash cannot close descriptors above 9), which first closes every descriptor above 2: a
        // process spawned at the same moment by another test (Foundation does not mark its pipes close-on-exec
        // in time) must not leave its pipe's write end in the long-lived tmux server, or that test would wait
        // for ever for end of file.
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", """
            for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; exec "$0" "$@"
            """, tmux ?? "/usr/bin/tmux"] + args
        // The tmux server outlives `new-session` and would hold a pipe open: only capture what ends.
        let capture = args.first == "capture-pane"
        let out = Pipe()
        p.standardOutput = capture ? out : FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = capture ? out.fileHandleForReading.readDataToEndOfFile() : Data()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test("line mode: the board is printed, a numbered choice asks for its fields and records the action")
    func lineMode() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try cli.run(["start", Self.playbook]).lastLine
        let r = try cli.run(["run", id], stdin: Data("1\nsomeone\n\nq\n".utf8))
        #expect(r.status == 0, "\(r.stderr)")
        let first = r.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.hasPrefix("LIVE"), "\(r.stdout)")
        #expect(r.stdout.contains("1 page: Record who acknowledged"))
        #expect(r.stdout.contains("page ack: recorded"), "\(r.stdout)")
        for line in r.stdout.split(separator: "\n") { #expect(line.count <= 80, "wider than 80: \(line)") }
        let status = try cli.run(["status", id, "--json"]).json()
        #expect(status["status"] as? String == "closed", "the ack ended the escalation and the playbook")
    }

    @Test("in tmux at 80x24: the board fits, a timer fires at the prompt with no key pressed, a choice is recorded, Ctrl-C restores the terminal",
          .enabled(if: tmux != nil))
    func terminal() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try cli.run(["start", Self.playbook]).lastLine
        let session = "crisis-board-\(UUID().uuidString.prefix(8))"
        let marker = cli.dir.appendingPathComponent("exited").path
        try Self.tmux(["new-session", "-d", "-s", session, "-x", "80", "-y", "24",
                       "env NO_COLOR=1 CRISIS_OPERATOR=test '\(CLI.binary)' run \(id) --db '\(cli.db)'; echo $? > '\(marker)'; sleep 30"])
        defer { _ = try? Self.tmux(["kill-session", "-t", session]) }
        let pane = { try Self.tmux(["capture-pane", "-p", "-t", session]) }
        let shown = { (try? pane()) ?? "" }
        #expect(try CLI.wait(10) { try pane().hasPrefix("LIVE") }, "\(shown())")
        let board = try pane().split(separator: "\n", omittingEmptySubsequences: false)
        #expect(board.count >= 23 && board.count <= 25, "\(board.count) lines")
        for line in board { #expect(line.count <= 80) }
        // The 3-second ack timeout passes with no key pressed: the board shows level 2 being paged.
        #expect(try CLI.wait(10) { try pane().contains("level 3") }, "the timer did not fire on the board:\n\(shown())")
        // Choose 1 (ack) and answer its prompts.
        try Self.tmux(["send-keys", "-t", session, "1"])
        #expect(try CLI.wait(5) { try pane().contains("by: ") })
        try Self.tmux(["send-keys", "-t", session, "someone", "Enter"])
        #expect(try CLI.wait(5) { try pane().contains("via: ") })
        try Self.tmux(["send-keys", "-t", session, "Enter"])
        #expect(try CLI.wait(5) { try pane().contains("CLOSED") }, "\(shown())")
        // Ctrl-C leaves cleanly: exit 0, and the shell's screen is back.
        try Self.tmux(["send-keys", "-t", session, "C-c"])
        #expect(CLI.wait(5) { FileManager.default.fileExists(atPath: marker) })
        let code = try String(contentsOfFile: marker, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(code == "0")
        #expect(!shown().contains("LIVE"), "the alternate screen was left")
        // The trail has the timer and the ack.
        let log = try cli.run(["log", id])
        #expect(log.stdout.contains("timer t"))
        #expect(log.stdout.contains("acknowledged by someone"))
        #expect(try cli.run(["verify", id]).status == 0)
    }
}
