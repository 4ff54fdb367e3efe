import Foundation
import Testing

/// Live deliveries left to a running `crisis watch`: a command records them `queued` and returns at once; the
/// watcher claims each (`sending`) and sends it on its own thread; with no watcher, the next command sends what is
/// queued; a sender killed mid-send leaves its delivery in doubt, never sent again. Real binary, real watcher,
/// real local HTTP server.
@Suite(.serialized)
struct WatchHandoffTests {
    let tx = TransportTests()

    /// A task, then a page over `sms` to the lead: the page is made by a command (`act ... assess done`), not by
    /// `start`, so a watcher can be running on the database by then.
    func writePlaybook(_ cli: CLI, ackTimeouts: [String] = ["1h"]) throws -> (playbook: String, contacts: String) {
        let (_, contacts) = try tx.writePlaybook(cli, channel: "sms")
        let playbook = cli.dir.appendingPathComponent("assess-then-page.yaml").path
        let levels = ackTimeouts.map { "      - {targets: [\"role:lead\"], ack_timeout: \"\($0)\", channels: [sms]}" }
            .joined(separator: "\n")
        try """
            schema: crisis-playbook/v1
            id: handoff-test
            version: "1"
            title: Hand-off test
            timezone: Europe/Oslo
            languages: [en]
            roles:
              lead: {title: Lead, lead: true}
            steps:
              assess: {type: task, title: Assess, timeout: 4h, next: page}
              page:
                type: escalate
                title: Page the lead
                levels:
            \(levels)
                message: 'Call Kari now'
                next: {acknowledged: done, exhausted: done}
              done: {type: end, title: Done, outcome: resolved}
            start: assess

            """.write(toFile: playbook, atomically: true, encoding: .utf8)
        return (playbook, contacts)
    }

    /// The transports file: sms over HTTP to `path` on the local server.
    func transports(_ cli: CLI, port: Int, path: String, retry: String = "deadline: 20s") throws -> String {
        try tx.writeTransports(cli, """
            transports:
              sms:
                type: http
                method: POST
                url: "http://127.0.0.1:\(port)\(path)"
                form: {to: "{{to}}", text: "{{text}}"}
                \(retry)
            channels: {sms: sms}
            """)
    }

    /// The results recorded for deliveries, in order (`queued`, `sending`, `sent`, ...), with their details.
    func results(_ cli: CLI) throws -> [(result: String, detail: String)] {
        try tx.outcomes(cli).map { ($0["result"] as? String ?? "", $0["detail"] as? String ?? "") }
    }

    func startIncident(_ cli: CLI, transports t: String) throws -> String {
        let (playbook, contacts) = try writePlaybook(cli)
        let r = try cli.run(["start", playbook, "--contacts", contacts, "--transports", t])
        #expect(r.status == 0, "start failed: \(r.stderr)")
        return r.lastLine
    }

    /// `crisis watch` in the background, with the transports file; stopped with SIGTERM (or killed).
    func watch(_ cli: CLI, transports t: String) throws -> Background {
        let dir = cli.dir.appendingPathComponent("watch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return try Background([CLI.binary, "watch", "--db", cli.db, "--poll", "0.2", "--transports", t], dir: dir)
    }

    func terminate(_ b: Background) {
        kill(b.pid, SIGTERM)
        var status: Int32 = 0
        while waitpid(b.pid, &status, 0) == -1 && errno == EINTR {}
    }

    func log(_ b: Background) -> String {
        (try? String(contentsOf: b.dir.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
    }

    @Test("with crisis watch running, a command that pages returns at once; the watcher sends it and records the result")
    func handedToWatcher() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (server, port) = try tx.startHTTP(cli)
        defer { server.stop() }
        // The gateway takes 3 s to answer: a command that sent it itself would take as long.
        let t = try transports(cli, port: port, path: "/slow/3000")
        let id = try startIncident(cli, transports: t)
        let watcher = try watch(cli, transports: t)
        defer { watcher.stop() }
        #expect(CLI.wait(20) { FileManager.default.fileExists(atPath: cli.db + "-watch") && log(watcher).contains("watching") },
                "the watcher did not start: \(log(watcher))")

        let began = Date()
        let act = try cli.run(["act", id, "assess", "done", "--transports", t])
        let took = Date().timeIntervalSince(began)
        #expect(act.status == 0, "act failed: \(act.stderr)")
        #expect(took < 2.5, "the command waited for the channel: \(took) s")

        let recorded = try CLI.wait(30) { try results(cli).contains { $0.result == "sent" } }
        #expect(recorded, "the watcher never recorded the result; watcher said:\n\(log(watcher))")
        let r = try results(cli)
        try #require(r.map(\.result) == ["queued", "sending", "sent"], "\(r)")
        #expect(r[0].detail.hasPrefix("queued for crisis watch (pid \(watcher.pid))"), "\(r[0].detail)")
        #expect(r[1].detail == "claimed by crisis watch (pid \(watcher.pid) on \(ProcessInfo.processInfo.hostName))",
                "\(r[1].detail)")
        #expect(server.lines("requests.jsonl").count == 1, "sent once")
        // The watcher printed what it recorded; the log shows the page as queued, then its result.
        #expect(CLI.wait(5) { log(watcher).contains("sent") }, "\(log(watcher))")
        let logText = try cli.run(["log", id]).stdout
        #expect(logText.contains("(queued for crisis watch)"), "\(logText)")
        terminate(watcher)
        #expect(log(watcher).contains("crisis watch: stopped"), "\(log(watcher))")
    }

    @Test("queued for a watcher that is gone: status says so, a person cannot settle it, the next command sends it")
    func queuedThenNextCommandSends() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (server, port) = try tx.startHTTP(cli)
        defer { server.stop() }
        let t = try transports(cli, port: port, path: "/ok")
        let id = try startIncident(cli, transports: t)

        // A watcher that holds its mark but never sends (stopped with SIGSTOP): the command queues the page.
        let watcher = try watch(cli, transports: t)
        defer { watcher.stop() }
        #expect(CLI.wait(20) { log(watcher).contains("watching") }, "\(log(watcher))")
        kill(watcher.pid, SIGSTOP)
        let act = try cli.run(["act", id, "assess", "done", "--transports", t])
        #expect(act.status == 0, "\(act.stderr)")
        #expect(try results(cli).map(\.result) == ["queued"])
        #expect(server.lines("requests.jsonl").isEmpty)

        let status = try cli.run(["status", id])
        #expect(status.stdout.contains("Deliveries being sent"), "\(status.stdout)")
        #expect(status.stdout.contains("queued for crisis watch"), "\(status.stdout)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try cli.run(["status", id, "--json"]).stdout.utf8))
                                    as? [String: Any])
        let outbox = try #require(json["outbox"] as? [[String: Any]])
        #expect(outbox.first?["status"] as? String == "queued")
        #expect((json["deliveries"] as? [Any])?.isEmpty ?? true, "a queued delivery does not wait for a person")
        let key = try #require(outbox.first?["short_key"] as? String)

        // A person cannot say it was sent: the watcher would send it as well.
        let settle = try cli.run(["sent", id, key])
        #expect(settle.status != 0)
        #expect(settle.stderr.contains("queued for crisis watch"), "\(settle.stderr)")
        #expect(try results(cli).map(\.result) == ["queued"])

        // The watcher dies: its mark goes with it; the next command on the incident sends the page.
        watcher.stop()
        let note = try cli.run(["note", id, "watcher gone", "--transports", t])
        #expect(note.status == 0, "\(note.stderr)")
        let r = try results(cli)
        try #require(r.map(\.result) == ["queued", "sending", "sent"], "\(r)")
        #expect(r[1].detail.contains("claimed by crisis note (pid"), "\(r[1].detail)")
        #expect(server.lines("requests.jsonl").count == 1)
    }

    @Test("a watcher killed mid-send leaves the delivery in doubt: shown, never sent again, settled by a person")
    func killedMidSend() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (server, port) = try tx.startHTTP(cli)
        defer { server.stop() }
        let t = try transports(cli, port: port, path: "/hang", retry: "attempt_timeout: 30s\n    deadline: 60s")
        let id = try startIncident(cli, transports: t)
        let watcher = try watch(cli, transports: t)
        defer { watcher.stop() }
        #expect(CLI.wait(20) { log(watcher).contains("watching") }, "\(log(watcher))")
        #expect(try cli.run(["act", id, "assess", "done", "--transports", t]).status == 0)
        // The watcher claimed it and the request reached the server (which never answers).
        #expect(CLI.wait(20) { server.lines("requests.jsonl").count == 1 }, "\(log(watcher))")
        #expect(try results(cli).map(\.result) == ["queued", "sending"])
        let during = try cli.run(["status", id]).stdout
        #expect(during.contains("being sent by crisis watch"), "\(during)")
        watcher.stop()  // SIGKILL mid-send

        let after = try cli.run(["status", id])
        #expect(after.stdout.contains("IN DOUBT"), "\(after.stdout)")
        // Another command does not send it again.
        #expect(try cli.run(["note", id, "after the crash", "--transports", t]).status == 0)
        #expect(server.lines("requests.jsonl").count == 1, "sent twice")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try cli.run(["status", id, "--json"]).stdout.utf8))
                                    as? [String: Any])
        let waiting = try #require(json["deliveries"] as? [[String: Any]])
        #expect(waiting.first?["in_doubt"] as? Bool == true)
        let key = try #require(waiting.first?["short_key"] as? String)
        let settle = try cli.run(["failed", id, key, "--reason", "gateway never answered; called Kari instead"])
        #expect(settle.status == 0, "\(settle.stderr)")
        #expect(try results(cli).map(\.result) == ["queued", "sending", "failed"])
    }

    @Test("a watcher that finds overdue timers and a queued page fires the timers at their due instants first")
    func overdueTimersBeforeClaims() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (server, port) = try tx.startHTTP(cli)
        defer { server.stop() }
        let t = try transports(cli, port: port, path: "/ok")
        // Three levels of one second each: all three overdue by the time the next watcher looks.
        let (playbook, contacts) = try writePlaybook(cli, ackTimeouts: ["1s", "1s", "1s"])
        let id = try cli.run(["start", playbook, "--contacts", contacts, "--transports", t]).lastLine

        // The page is queued for a watcher that then dies before claiming it.
        let watcher = try watch(cli, transports: t)
        #expect(CLI.wait(20) { log(watcher).contains("watching") }, "\(log(watcher))")
        kill(watcher.pid, SIGSTOP)
        #expect(try cli.run(["act", id, "assess", "done", "--transports", t]).status == 0)
        watcher.stop()
        #expect(try results(cli).map(\.result) == ["queued"])
        Thread.sleep(forTimeInterval: 3.5)

        // One pass: the three ack timeouts fire one after another at their due instants (the claim of the queued
        // page, recorded at the wall clock, must not move the clock past them), so the chain is exhausted.
        let once = try cli.run(["watch", "--once", "--transports", t])
        #expect(once.status == 0, "\(once.stderr)")
        let status = try JSONSerialization.jsonObject(with: Data(try cli.run(["status", id, "--json"]).stdout.utf8))
            as? [String: Any]
        let logText = try cli.run(["log", id]).stdout
        #expect(status?["status"] as? String == "closed", "\(logText)")
        let rows = Spawn.run("/usr/bin/sqlite3", [cli.db, "SELECT CAST(record AS TEXT) FROM audit_event WHERE "
                                                     + "event_type = 'timer.fired' ORDER BY seq"], capture: true)
        let timers = rows.stdout.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["body"] as? [String: Any]
        }
        #expect(timers.count == 3, "\(rows.stdout)")
        for timer in timers { #expect((timer["now"] as? Int) == (timer["due"] as? Int), "\(timer)") }
    }
}

/// The live board sends what its actions deliver on threads of its own: a slow channel never holds it.
extension BoardTests {
    @Test("in tmux: a live board's page over a slow gateway returns at once; the board shows it being sent, then sent",
          .enabled(if: BoardTests.tmux != nil))
    func boardDoesNotWaitForChannel() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let handoff = WatchHandoffTests()
        let (server, port) = try handoff.tx.startHTTP(cli)
        defer { server.stop() }
        let t = try handoff.transports(cli, port: port, path: "/slow/4000")
        let id = try handoff.startIncident(cli, transports: t)
        let (session, marker) = try Self.session(cli, "\(id) --as kari.lead --transports '\(t)'")
        defer { _ = try? BoardTests.tmux(["kill-session", "-t", session]) }
        let pane = { (try? BoardTests.tmux(["capture-pane", "-p", "-t", session])) ?? "" }
        #expect(CLI.wait(15) { pane().contains("assess: Mark the task done") }, "\(pane())")
        try BoardTests.tmux(["send-keys", "-t", session, "1"])
        #expect(CLI.wait(5) { pane().contains("(optional, Enter to skip)") }, "\(pane())")
        let began = Date()
        try BoardTests.tmux(["send-keys", "-t", session, "Enter"])
        // The board is back before the gateway answers (4 s), showing the page as being sent.
        #expect(CLI.wait(3) { pane().contains("deliveries: 1 being sent") }, "\(pane())")
        #expect(Date().timeIntervalSince(began) < 3.5)
        #expect(server.lines("requests.jsonl").count <= 1)
        // Then its result, with no key pressed.
        #expect(CLI.wait(20) { pane().contains("sent by sms (http)") }, "\(pane())")
        let results = try handoff.results(cli).map(\.result)
        #expect(results == ["queued", "sending", "sent"], "\(results)")
        try BoardTests.tmux(["send-keys", "-t", session, "q"])
        #expect(CLI.wait(10) { FileManager.default.fileExists(atPath: marker) })
        #expect(server.lines("requests.jsonl").count == 1)
    }
}
