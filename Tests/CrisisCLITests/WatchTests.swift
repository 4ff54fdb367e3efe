import Foundation
import Testing

/// `crisis watch` with the real binary and the real clock: live escalations move with nobody typing, two
/// watchers never fire a timer twice, and a watcher killed mid-run loses and doubles nothing.
@Suite(.serialized)
struct WatchTests {
    static let playbook = CLI.root.appendingPathComponent("Tests/CrisisCLITests/Fixtures/watch.yaml").path

    /// A `crisis watch` running in the background, its output going to a file.
    final class Watcher {
        let process = Process()
        let output: URL
        init(_ cli: CLI, args: [String] = [], name: String = "watch") throws {
            output = cli.dir.appendingPathComponent("\(name).out")
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            process.executableURL = URL(fileURLWithPath: CLI.binary)
            process.arguments = ["watch", "--db", cli.db, "--poll", "0.2"] + args
            var env = ProcessInfo.processInfo.environment
            env["NO_COLOR"] = "1"
            process.environment = env
            let handle = try FileHandle(forWritingTo: output)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
        }
        var text: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
        /// SIGTERM, as systemd would send. The watcher stops after the transaction in hand, which may wait up to
        /// the store's 10 s busy timeout on a loaded machine; one still running 60 s later is killed and the test
        /// fails.
        func terminate() -> Int32 {
            process.terminate()
            if !CLI.wait(60, { !process.isRunning }) {
                Issue.record("the watcher did not stop within 60 s of SIGTERM:\n\(text)")
                kill(process.processIdentifier, SIGKILL)
            }
            process.waitUntilExit()
            return process.terminationStatus
        }
        func kill9() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    static func start(_ cli: CLI) throws -> String {
        let r = try cli.run(["start", playbook])
        #expect(r.status == 0, "\(r.stderr)")
        return r.lastLine
    }

    /// The incident's records, decoded.
    static func records(_ cli: CLI, _ id: String) throws -> [[String: Any]] {
        let r = try cli.run(["log", id, "--json"])
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
    }

    static func timers(_ records: [[String: Any]]) -> [[String: Any]] {
        records.filter { $0["type"] as? String == "timer.fired" }.compactMap { $0["body"] as? [String: Any] }
    }

    /// Waits until `condition` holds, up to `seconds`.

    @Test("a live incident escalates to the next level with no human command, within 2 s of due")
    func escalatesByItself() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try Self.start(cli)
        let watcher = try Watcher(cli)
        let reached = try CLI.wait(15) {
            try Self.records(cli, id).contains { r in
                r["type"] as? String == "action.intent" && (r["body"] as? [String: Any])?["channel"] as? String == "phone"
            }
        }
        let status = watcher.terminate()
        #expect(reached, "level 2 was never paged; watcher said:\n\(watcher.text)")
        #expect(status == 0, "SIGTERM stops the watcher cleanly")
        let timers = Self.timers(try Self.records(cli, id))
        let first = try #require(timers.first)
        let late = try #require(first["late_by_ms"] as? Int)
        #expect(late >= 0 && late <= 2000, "fired \(late) ms after due")
        // Handled at its due instant: the level-2 page counts its own ack timeout from then.
        #expect(first["now"] as? Int == first["due"] as? Int)
        #expect(watcher.text.contains("timer t"), "the watcher prints what it did:\n\(watcher.text)")
        // A person reading status sees the level-2 page and the wall clock.
        let shown = try cli.run(["status", id])
        #expect(shown.stdout.contains("wall clock"))
        #expect(try cli.run(["verify", id]).status == 0)
    }

    @Test("two watchers on one database never fire a timer twice")
    func twoWatchers() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let ids = try (0..<4).map { _ in try Self.start(cli) }
        let a = try Watcher(cli, name: "a")
        let b = try Watcher(cli, name: "b")
        let done = try CLI.wait(25) {
            try ids.allSatisfy { id in
                try cli.run(["status", id, "--json"]).json()["status"] as? String == "closed"
            }
        }
        _ = a.terminate()
        _ = b.terminate()
        #expect(done, "not every incident closed; a:\n\(a.text)\nb:\n\(b.text)")
        for id in ids {
            let fired = Self.timers(try Self.records(cli, id)).compactMap { $0["timer"] as? String }
            #expect(fired.count == 3, "\(id): \(fired)")
            #expect(Set(fired).count == fired.count, "\(id): a timer fired twice: \(fired)")
            #expect(try cli.run(["verify", id]).status == 0)
        }
    }

    @Test("a watcher killed mid-run and restarted loses nothing, doubles nothing, and marks what fired late")
    func killedMidRun() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let ids = try (0..<3).map { _ in try Self.start(cli) }
        let first = try Watcher(cli, name: "first")
        // Kill it once it has fired the first level of every incident.
        let started = try CLI.wait(15) { try ids.allSatisfy { !Self.timers(try Self.records(cli, $0)).isEmpty } }
        first.kill9()
        #expect(started, "\(first.text)")
        // Everything else comes due while nobody watches.
        Thread.sleep(forTimeInterval: 7)
        let once = try cli.run(["watch", "--once"])
        #expect(once.status == 0, "\(once.stderr)")
        for id in ids {
            let records = try Self.records(cli, id)
            let timers = Self.timers(records)
            let fired = timers.compactMap { $0["timer"] as? String }
            #expect(fired.count == 3, "\(id): \(fired)")
            #expect(Set(fired).count == fired.count, "\(id): doubled: \(fired)")
            // The catch-up kept due order and each timer's own due instant ...
            let dues = timers.compactMap { $0["due"] as? Int }
            #expect(dues == dues.sorted())
            #expect(timers.allSatisfy { $0["now"] as? Int == $0["due"] as? Int })
            // ... and says how late it was.
            #expect(timers.contains { ($0["late_by_ms"] as? Int ?? 0) > 1000 }, "\(id): nothing marked late")
            let status = try cli.run(["status", id, "--json"]).json()
            #expect(status["status"] as? String == "closed")
            #expect(try cli.run(["verify", id]).status == 0)
        }
        let log = try cli.run(["log", ids[0]])
        #expect(log.stdout.contains(" late"), "the human log shows lateness:\n\(log.stdout)")
    }

    @Test("a watcher refuses a missing or read-only database, and leaves drills alone unless named")
    func refusalsAndDrills() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let missing = try cli.run(["watch", "--once", "--db", cli.dir.appendingPathComponent("nope.sqlite").path],
                                  withDB: false)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no database"))
        #expect(!FileManager.default.fileExists(atPath: cli.dir.appendingPathComponent("nope.sqlite").path))

        let drill = try cli.run(["start", Self.playbook, "--drill"]).lastLine
        Thread.sleep(forTimeInterval: 3.5)
        let before = try Self.records(cli, drill).count
        #expect(try cli.run(["watch", "--once"]).status == 0)
        #expect(try Self.records(cli, drill).count == before, "an unnamed drill was touched")
        // Named, its simulated clock runs at --speed times the wall clock: 9 simulated seconds in under one.
        let named = try Watcher(cli, args: [drill, "--speed", "20"], name: "drill")
        let ran = try CLI.wait(10) { Self.timers(try Self.records(cli, drill)).count == 3 }
        _ = named.terminate()
        #expect(ran, "\(named.text)")
        #expect(Self.timers(try Self.records(cli, drill)).allSatisfy { $0["fired_at"] == nil },
                "drill timers carry no wall-clock firing time")

        if getuid() != 0 {
            try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: cli.db)
            defer { try? FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: cli.db) }
            let ro = try cli.run(["watch", "--once"])
            #expect(ro.status == 1)
            #expect(ro.stderr.contains("read-only"))
        }
    }
}
