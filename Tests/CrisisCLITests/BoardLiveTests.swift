import Foundation
import Testing

/// The interactive parts of `crisis run`: the full text before approving, fields checked as they are typed,
/// starting from a playbook, another process's records redrawn with no key pressed, a narrow terminal, and the
/// end of input. Line mode through a pipe; the terminal in tmux.
@Suite(.serialized)
struct BoardLiveTests {
    static let show = "Tests/CrisisCLITests/Fixtures/show.yaml"
    static let contacts = "Tests/CrisisCLITests/Fixtures/show-contacts.yaml"
    static let mini = "Tests/CrisisCLITests/Fixtures/mini.yaml"

    /// A drill of Fixtures/show.yaml on a simulated clock.
    static func drill(_ cli: CLI) throws -> String {
        let start = try cli.run([
            "start", show, "--drill", "--contacts", contacts, "--clock", "2026-03-02T09:00:00+01:00",
            "--set", "post_url=https://x.com/someone/status/1790",
        ])
        #expect(start.status == 0, "\(start.stderr)")
        return start.lastLine
    }

    static func act(_ cli: CLI, _ id: String, _ step: String, _ action: String, as person: String,
                    _ sets: [String] = []) throws {
        let r = try cli.run(["act", id, step, action, "--as", person] + sets.flatMap { ["--set", $0] })
        #expect(r.status == 0, "\(step) \(action): \(r.stdout)\(r.stderr)")
    }

    /// The number the board gives the choice titled `title` (as `run` prints it in line mode).
    static func number(of title: String, in board: String) -> String? {
        for line in board.split(separator: "\n") {
            let cells = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            for (i, cell) in cells.enumerated() where Int(cell) != nil && i + 1 < cells.count {
                let rest = cells[(i + 1)...].joined(separator: " ")
                if rest.hasPrefix(title) { return cell }
            }
        }
        return nil
    }

    @Test("line mode: approving a statement first prints it in full, per language with its lengths, as show does")
    func statementBeforeApprove() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try Self.drill(cli)
        try Self.act(cli, id, "page_comms", "ack", as: "jonas.comms", ["by=jonas.comms"])
        try Self.act(cli, id, "triage", "choose", as: "jonas.comms", ["option=serious"])
        try Self.act(cli, id, "check_facts", "done", as: "jonas.comms")
        try Self.act(cli, id, "statement", "draft", as: "jonas.comms",
                     ["what_we_know.nb=A post names a colleague.", "what_we_know.en=A post names a colleague.", "next_update_at.nb=at 11:00", "next_update_at.en=at 11:00"])
        let board = try cli.run(["run", id, "--as", "lars.legal"], stdin: Data("q\n".utf8))
        let n = try #require(Self.number(of: "statement: Approve", in: board.stdout), "\(board.stdout)")
        // Choose approve, skip its optional comment, then confirm.
        let r = try cli.run(["run", id, "--as", "lars.legal"], stdin: Data("\(n)\n\ny\nq\n".utf8))
        #expect(r.status == 0, "\(r.stderr)")
        let show = try cli.run(["show", id, "statement"], env: ["COLUMNS": "80"]).stdout
        // The texts as they will be published, each with its lengths, appear before the confirmation.
        let texts = show.split(separator: "\n").filter { $0.hasPrefix("── ") || $0.hasPrefix("  Vi kjenner") }
        #expect(texts.count >= 3, "\(show)")
        let confirm = try #require(r.stdout.range(of: "record it?"), "\(r.stdout)")
        for line in texts {
            let at = try #require(r.stdout.range(of: String(line)), "missing before approve: \(line)\n\(r.stdout)")
            #expect(at.lowerBound < confirm.lowerBound, "shown after the prompt: \(line)")
        }
        #expect(r.stdout.contains("statement approve: recorded"), "\(r.stdout)")
    }

    @Test("line mode: a bad enum value is asked again with the reason, then a prefix is recorded as the value")
    func enumReasked() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try Self.drill(cli)
        try Self.act(cli, id, "page_comms", "ack", as: "jonas.comms", ["by=jonas.comms"])
        let board = try cli.run(["run", id, "--as", "jonas.comms"], stdin: Data("q\n".utf8))
        let n = try #require(Self.number(of: "triage:", in: board.stdout), "\(board.stdout)")
        let r = try cli.run(["run", id, "--as", "jonas.comms"], stdin: Data("\(n)\nbogus\n9\nser\ny\nq\n".utf8))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("» option: 'bogus' is not one of 1 serious, 2 minor"), "\(r.stdout)")
        #expect(r.stdout.contains("» option: no value 9; choose 1 to 2"), "\(r.stdout)")
        #expect(r.stdout.contains("triage choose: recorded"), "\(r.stdout)")
        let log = try cli.run(["log", id]).stdout
        #expect(log.contains("triage choose option=serious"), "\(log)")
        #expect(!log.contains("REFUSED"), "nothing bad reached the trail: \(log)")
    }

    @Test("line mode: the end of input in a choice cancels it and exits 0; out-of-range numbers and unknown commands are said so")
    func requiredAndEndOfInput() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try Self.drill(cli)
        try Self.act(cli, id, "page_comms", "ack", as: "jonas.comms", ["by=jonas.comms"])
        let board = try cli.run(["run", id, "--as", "jonas.comms"], stdin: Data("q\n".utf8))
        let n = try #require(Self.number(of: "triage:", in: board.stdout), "\(board.stdout)")
        // Input ends in the middle of the choice: cancelled, nothing recorded, exit 0.
        let r = try cli.run(["run", id, "--as", "jonas.comms"], stdin: Data("\(n)\n".utf8))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("cancelled"), "\(r.stdout)")
        // Standard input closed from the start: the board, then exit 0.
        let closed = try cli.run(["run", id], stdin: Data())
        #expect(closed.status == 0, "\(closed.stderr)")
        #expect(closed.stdout.hasPrefix("DRILL"), "\(closed.stdout)")
        // Out of range and unknown commands are said so.
        let odd = try cli.run(["run", id], stdin: Data("99\nzap\n".utf8))
        #expect(odd.stdout.contains("no choice 99"), "\(odd.stdout)")
        #expect(odd.stdout.contains("'zap' is not a command"), "\(odd.stdout)")
        let log = try cli.run(["log", id]).stdout
        #expect(!log.contains("triage choose"), "\(log)")
    }

    @Test("run PLAYBOOK --set starts the incident as start does and shows its board; --set on an incident is refused")
    func runPlaybook() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let r = try cli.run(["run", Self.show, "--drill", "--contacts", Self.contacts,
                             "--set", "post_url=https://x.com/someone/status/1790"], stdin: Data("q\n".utf8))
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("started show-") == true, "\(r.stdout)")
        #expect(lines.dropFirst().first?.hasPrefix("DRILL") == true, "\(r.stdout)")
        #expect(r.stdout.contains("page_comms"), "\(r.stdout)")
        let id = String(lines[0].dropFirst("started ".count))
        let status = try cli.run(["status", id, "--json"]).json()
        #expect(status["mode"] as? String == "drill")
        // A missing required input is refused as start refuses it, and nothing is created.
        let missing = try cli.run(["run", Self.show, "--drill"], stdin: Data("q\n".utf8))
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("post_url"), "\(missing.stderr)")
        let onIncident = try cli.run(["run", id, "--set", "x=y"], stdin: Data("q\n".utf8))
        #expect(onIncident.status != 0)
        #expect(onIncident.stderr.contains("playbook file"), "\(onIncident.stderr)")
    }
}

/// The terminal tests live in `BoardTests` (a serialized suite), so that no two tmux tests run at once.
extension BoardTests {

    static func session(_ cli: CLI, _ args: String, width: Int = 80) throws -> (name: String, marker: String) {
        let session = "crisis-board2-\(UUID().uuidString.prefix(8))"
        let marker = cli.dir.appendingPathComponent("exited").path
        try BoardTests.tmux(["new-session", "-d", "-s", session, "-x", "\(width)", "-y", "24",
                             "cd '\(CLI.root.path)' && env NO_COLOR=1 CRISIS_OPERATOR=test '\(CLI.binary)' run \(args) --db '\(cli.db)'; echo $? > '\(marker)'; sleep 30"])
        return (session, marker)
    }

    @Test("in tmux: approve shows the statement full-screen first; q there cancels, Enter goes on to the prompts",
          .enabled(if: BoardTests.tmux != nil))
    func pager() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try BoardLiveTests.drill(cli)
        try BoardLiveTests.act(cli, id, "page_comms", "ack", as: "jonas.comms", ["by=jonas.comms"])
        try BoardLiveTests.act(cli, id, "triage", "choose", as: "jonas.comms", ["option=serious"])
        try BoardLiveTests.act(cli, id, "check_facts", "done", as: "jonas.comms")
        try BoardLiveTests.act(cli, id, "statement", "draft", as: "jonas.comms",
                     ["what_we_know.nb=A post names a colleague.", "what_we_know.en=A post names a colleague.", "next_update_at.nb=at 11:00", "next_update_at.en=at 11:00"])
        let board = try cli.run(["run", id, "--as", "lars.legal"], stdin: Data("q\n".utf8))
        let n = try #require(BoardLiveTests.number(of: "statement: Approve", in: board.stdout), "\(board.stdout)")
        let (session, _) = try Self.session(cli, "\(id) --as lars.legal")
        defer { _ = try? BoardTests.tmux(["kill-session", "-t", session]) }
        let pane = { (try? BoardTests.tmux(["capture-pane", "-p", "-t", session])) ?? "" }
        #expect(CLI.wait(10) { pane().hasPrefix("DRILL") }, "\(pane())")
        try BoardTests.tmux(["send-keys", "-t", session, n])
        #expect(CLI.wait(5) { pane().contains("── nb ──") && pane().contains("q cancels") }, "\(pane())")
        #expect(pane().contains("Vi kjenner"), "\(pane())")
        try BoardTests.tmux(["send-keys", "-t", session, "q"])
        #expect(CLI.wait(5) { pane().contains("cancelled") }, "\(pane())")
        try BoardTests.tmux(["send-keys", "-t", session, n])
        #expect(CLI.wait(5) { pane().contains("q cancels") }, "\(pane())")
        try BoardTests.tmux(["send-keys", "-t", session, "Enter"])
        #expect(CLI.wait(5) { pane().contains("comment: ") }, "\(pane())")
        try BoardTests.tmux(["send-keys", "-t", session, "Enter"])
        #expect(CLI.wait(5) { pane().contains("record it?") }, "\(pane())")
        try BoardTests.tmux(["send-keys", "-t", session, "y", "Enter"])
        #expect(CLI.wait(5) { pane().contains("statement approve: recorded") }, "\(pane())")
    }

    @Test("in tmux: a facilitated drill's inject shows under the deadlines of the players' board as it is played",
          .enabled(if: BoardTests.tmux != nil))
    func injectOnBoard() throws {
        let cli = try CLI()
        defer { cli.remove() }
        // Started and paused at once: nothing is injected yet.
        let started = try cli.run(["drill", "\(DrillTests.fixtures)/show-quick.yaml"], stdin: Data("q\n".utf8))
        let id = try #require(started.stdout.split(separator: "\n").first { $0.hasPrefix("→ crisis drill resume ") }?
            .split(separator: " ").last.map(String.init), "\(started.stdout)\(started.stderr)")
        let (session, _) = try Self.session(cli, "\(id) --as jonas.comms")
        defer { _ = try? BoardTests.tmux(["kill-session", "-t", session]) }
        let pane = { (try? BoardTests.tmux(["capture-pane", "-p", "-t", session])) ?? "" }
        #expect(CLI.wait(10) { pane().hasPrefix("DRILL") }, "\(pane())")
        #expect(!pane().contains("INJECT"))
        // The facilitator moves the clock to the first action the script expects of the team (the ack at T+0:02),
        // skips it, moves on to the first inject, then pauses.
        let resumed = try cli.run(["drill", "resume", id], stdin: Data("\ns\n\nq\n".utf8))
        #expect(resumed.stdout.contains("INJECT early_call"), "\(resumed.stdout)\(resumed.stderr)")
        #expect(CLI.wait(5) { pane().contains("INJECT 09:05 early_call (phone, from A reporter): Are the names") },
                "\(pane())")
        let lines = pane().split(separator: "\n").map(String.init)
        #expect(lines.firstIndex { $0.hasPrefix("INJECT") } == 2, "under the title and the deadlines:\n\(pane())")
        for line in lines { #expect(line.count <= 80, "wider than 80: \(line)") }
    }

    @Test("in tmux: a tabletop shows each module's injects and questions; answers, a decision and a parked item are recorded",
          .enabled(if: BoardTests.tmux != nil))
    func tabletop() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let session = "crisis-tabletop-\(UUID().uuidString.prefix(8))"
        try BoardTests.tmux(["new-session", "-d", "-s", session, "-x", "80", "-y", "24",
                             "cd '\(CLI.root.path)' && env NO_COLOR=1 '\(CLI.binary)' drill \(DrillTests.fixtures)/show-quick.yaml "
                                + "--tabletop --as anne --db '\(cli.db)'; sleep 30"])
        defer { _ = try? BoardTests.tmux(["kill-session", "-t", session]) }
        let pane = { (try? BoardTests.tmux(["capture-pane", "-p", "-t", session])) ?? "" }
        func answer(_ text: String, then expected: String) {
            _ = try? BoardTests.tmux(["send-keys", "-t", session, "-l", "--", text])
            _ = try? BoardTests.tmux(["send-keys", "-t", session, "Enter"])
            #expect(CLI.wait(5) { pane().contains(expected) }, "\(pane())")
        }
        #expect(CLI.wait(10) { pane().contains("\n1>") }, "\(pane())")
        #expect(pane().contains("MODULE 1 of 2: The first hour: a post names a colleague"))
        #expect(pane().contains("INJECT  T+5m  phone, from A reporter"))
        #expect(pane().contains("Are the names in the post true?"))
        #expect(pane().contains("1. Who is paged first, and what happens if they do not answer?"))
        answer("Comms on duty; the crisis lead after ten minutes", then: "2. How serious is it?")
        #expect(pane().contains("decision point triage: serious | minor"))
        answer("p check the evening rota with HR", then: "parked")
        answer("huge", then: "answer with one of: serious, minor")
        answer("min", then: "MODULE 2 of 2: Asking the platform")
        answer("Privacy; legal signs", then: "TABLETOP  A quick drill of the show fixture")
        #expect(pane().contains("triage: chose minor (expected serious)  DIFFERS"), "\(pane())")

        let list = try JSONSerialization.jsonObject(with: Data(try cli.run(["list", "--json"]).stdout.utf8)) as? [[String: Any]]
        let id = try #require(list?.first?["id"] as? String)
        let log = TimelineTests.entries(try cli.run(["log", id]).stdout).joined(separator: "\n")
        #expect(log.contains("anne  note: #answer first_hour/q1: Who is paged first, and what happens if they do not answer? — Comms on duty; the crisis lead after ten minutes"), "\(log)")
        #expect(log.contains("note: #decision triage=minor (first_hour/q2) How serious is it?"))
        #expect(log.contains("note: #parking check the evening rota with HR"))
        #expect(log.contains("note: #answer removal/q1: Which legal basis do we use, and who signs the notice? — Privacy; legal signs"))
        #expect(log.contains("scenario [inject]  note: INJECT early_call"))
    }

    @Test("in tmux: another process's note shows on the board within 2 s with no key pressed; at 40 columns no line is wider",
          .enabled(if: BoardTests.tmux != nil))
    func liveAndNarrow() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try cli.run(["start", BoardLiveTests.mini, "--set", "post_url=https://x.com/a/status/1"]).lastLine
        let (session, marker) = try Self.session(cli, id)
        defer { _ = try? BoardTests.tmux(["kill-session", "-t", session]) }
        let pane = { (try? BoardTests.tmux(["capture-pane", "-p", "-t", session])) ?? "" }
        #expect(CLI.wait(10) { pane().hasPrefix("LIVE") }, "\(pane())")
        let noted = try cli.run(["note", id, "the CEO is on the phone"])
        #expect(noted.status == 0, "\(noted.stderr)")
        let start = Date()
        #expect(CLI.wait(5) { pane().contains("the CEO is on") }, "\(pane())")
        #expect(Date().timeIntervalSince(start) < 2.0, "took \(Date().timeIntervalSince(start)) s")
        // A narrow terminal: every line fits, and the board is still there.
        try BoardTests.tmux(["resize-window", "-t", session, "-x", "40", "-y", "20"])
        #expect(CLI.wait(5) { pane().split(separator: "\n").first?.hasPrefix("LIVE") == true
            && pane().split(separator: "\n").count <= 20 }, "\(pane())")
        Thread.sleep(forTimeInterval: 0.6)
        let narrow = pane()
        for line in narrow.split(separator: "\n") { #expect(line.count <= 40, "wider than 40: '\(line)'\n\(narrow)") }
        #expect(narrow.contains("─"), "\(narrow)")
        // An unknown key and an out-of-range number are said so.
        try BoardTests.tmux(["send-keys", "-t", session, "z"])
        #expect(CLI.wait(3) { pane().contains("unknown key") }, "\(pane())")
        try BoardTests.tmux(["send-keys", "-t", session, "9"])
        #expect(CLI.wait(3) { pane().contains("no choice 9") }, "\(pane())")
        try BoardTests.tmux(["send-keys", "-t", session, "q"])
        #expect(CLI.wait(5) { FileManager.default.fileExists(atPath: marker) })
        let code = try String(contentsOfFile: marker, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(code == "0")
    }
}

extension BoardLiveTests {
    @Test("line mode: an acknowledgement by someone not in the contacts directory is asked again, naming whom")
    func ackByUnknownPerson() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try Self.drill(cli)
        let board = try cli.run(["run", id, "--as", "jonas.comms"], stdin: Data("q\n".utf8))
        let n = try #require(Self.number(of: "page_comms:", in: board.stdout), "\(board.stdout)")
        let r = try cli.run(["run", id, "--as", "jonas.comms"], stdin: Data("\(n)\njonas\njonas.comms\n\nq\n".utf8))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("» by: 'jonas' is not in the contacts directory"), "\(r.stdout)")
        let log = try cli.run(["log", id]).stdout
        #expect(log.contains("acknowledged by jonas.comms"), "\(log)")
        #expect(!log.contains("REFUSED"), "\(log)")
    }
}
