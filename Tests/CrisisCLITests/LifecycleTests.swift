import Foundation
import Testing

/// End-to-end tests of the incident lifecycle through the real binary on temporary databases.
@Suite(.serialized)
struct LifecycleTests {
    static let mini = "Tests/CrisisCLITests/Fixtures/mini.yaml"

    func startMini(_ cli: CLI, drill: Bool = true, extra: [String] = []) throws -> String {
        var args = ["start", Self.mini, "--set", "post_url=https://x.com/someone/status/1"]
        if drill { args += ["--drill", "--clock", "2025-10-24T10:05:00+02:00"] }
        let r = try cli.run(args + extra)
        #expect(r.status == 0, "start failed: \(r.stderr)")
        return r.lastLine
    }

    func status(_ cli: CLI, _ id: String) throws -> [String: Any] {
        let r = try cli.run(["status", id, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        return try r.json()
    }

    @Test("start lists every missing required input and creates nothing")
    func startListsMissingInputs() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let r = try cli.run(["start", Self.mini, "--drill"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("post_url"))
        #expect(r.stderr.contains("missing required inputs"))
        let list = try cli.run(["list", "--json"])
        #expect(list.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]" || list.stdout.contains("[]"))
    }

    @Test("start prints the id last; status --json carries the scripting contract")
    func statusContract() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        #expect(id.hasPrefix("mini-"))
        let s = try status(cli, id)
        #expect(s["incident"] as? String == id)
        #expect(s["mode"] as? String == "drill")
        #expect(s["status"] as? String == "open")
        let playbook = try #require(s["playbook"] as? [String: Any])
        #expect(playbook["id"] as? String == "mini")
        #expect((playbook["sha256"] as? String)?.count == 64)
        #expect(s["seq"] as? Int == 1)
        #expect((s["now"] as? String)?.hasPrefix("2025-10-24T10:05:00+02:00") == true)
        let active = try #require(s["active"] as? [[String: Any]])
        #expect(active.count == 1)
        #expect(active[0]["step"] as? String == "triage")
        #expect(active[0]["type"] as? String == "choice")
        #expect(active[0]["deadline"] as? String == "2025-10-24T10:20:00+02:00")
        let actions = try #require(active[0]["actions"] as? [[String: Any]])
        let choose = try #require(actions.first { $0["name"] as? String == "choose" })
        #expect(choose["role"] as? String == "comms")
        let fields = try #require(choose["fields"] as? [[String: Any]])
        #expect(fields.first?["name"] as? String == "option")
        #expect(fields.first?["values"] as? [String] == ["serious", "minor"])
        #expect(s["timers"] is [[String: Any]])
        #expect(s["clocks"] is [[String: Any]])
        // YAML 1.1 would read NO as false; the default stays the string "NO".
        #expect((s["inputs"] as? [String: String])?["country"] == "NO")
    }

    @Test("a whole incident: choose, draft, approve, publish (sandboxed), notify, end; verify ok")
    func wholeIncident() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        var r = try cli.run(["act", id, "triage", "choose", "--set", "option=serious", "--role", "comms"])
        #expect(r.status == 0, "\(r.stderr)")
        var s = try status(cli, id)
        let clocks = try #require(s["clocks"] as? [[String: Any]])
        // 72h from 10:00 CEST on Fri 24 Oct 2025 crosses the DST change: Mon 27 Oct 09:00 CET.
        #expect(clocks.first?["deadline"] as? String == "2025-10-27T09:00:00+01:00")
        r = try cli.run(["act", id, "statement", "draft", "--set", "what_we_know.nb=Æ ø å, «sitat».", "--set", "what_we_know.en=Æ ø å, «sitat».", "--as", "kari",
                         "--role", "comms"])
        #expect(r.status == 0, "\(r.stderr)")
        // The drafter may not approve their own draft.
        r = try cli.run(["act", id, "statement", "approve", "--as", "kari", "--role", "legal"])
        #expect(r.status == 1)
        r = try cli.run(["act", id, "statement", "approve", "--as", "ola", "--role", "legal"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try cli.run(["act", id, "statement", "publish", "--as", "kari", "--role", "comms"])
        #expect(r.status == 0, "\(r.stderr)")
        s = try status(cli, id)
        #expect(s["status"] as? String == "closed")
        #expect(s["outcome"] as? String == "resolved")
        let targets = try #require(s["targets"] as? [[String: Any]])
        #expect(targets.first?["state"] as? String == "met")
        let log = try cli.run(["log", id])
        #expect(log.stdout.contains("DRILL"))
        #expect(log.stdout.contains("sandboxed"))
        #expect(log.stdout.contains("REFUSED"))
        let v = try cli.run(["verify", id])
        #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
        #expect(v.stdout.contains("ok"))
        // The drafted text is stored byte-exact in the trail.
        let json = try cli.run(["log", id, "--json"])
        #expect(json.stdout.contains("Æ ø å, «sitat»."))
    }

    @Test("live incidents refuse --advance; drills move their clock and fire timers in order")
    func timeRules() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let live = try startMini(cli, drill: false)
        let r = try cli.run(["tick", live, "--advance", "15m"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("live"))
        let drill = try startMini(cli)
        let t = try cli.run(["tick", drill, "--advance", "16m"])
        #expect(t.status == 0, "\(t.stderr)")
        // The triage choice timed out at 15m and took its default: the clock started, the statement is active.
        let s = try status(cli, drill)
        let active = try #require(s["active"] as? [[String: Any]])
        #expect(active.map { $0["step"] as? String } == ["statement"])
        #expect((s["now"] as? String)?.hasPrefix("2025-10-24T10:21:00") == true)
        let bad = try cli.run(["tick", drill, "--advance", "1:30"])
        #expect(bad.status == 2)
    }

    @Test("refusals: each is explained, exits 1, and only a refusal record is added")
    func refusals() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        let cases: [([String], String)] = [
            (["act", id, "nosuchstep", "choose", "--set", "option=serious", "--role", "comms"], "nosuchstep"),
            (["act", id, "triage", "approve", "--role", "comms"], "approve"),
            (["act", id, "triage", "choose", "--role", "comms"], "option"),
            (["act", id, "triage", "choose", "--set", "option=maybe", "--role", "comms"], "option"),
            (["act", id, "triage", "choose", "--set", "option=serious"], "comms"),
            (["act", id, "triage", "choose", "--set", "option=serious", "--set", "_sha256=x", "--role", "comms"], "reserved"),
        ]
        var seq = try status(cli, id)["seq"] as? Int ?? 0
        for (args, mention) in cases {
            let r = try cli.run(args)
            #expect(r.status == 1, "\(args) should be refused")
            #expect(r.stderr.contains(mention), "\(args): \(r.stderr)")
            let s = try status(cli, id)
            #expect(s["seq"] as? Int == seq + 1, "a refusal adds exactly one record")
            #expect((s["active"] as? [[String: Any]])?.first?["step"] as? String == "triage")
            seq += 1
        }
        let unknown = try cli.run(["act", "no-such-incident", "triage", "choose", "--set", "option=serious"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no incident"))
        let usage = try cli.run(["act", id])
        #expect(usage.status == 2)
        let log = try cli.run(["log", id, "--json"])
        #expect(log.stdout.components(separatedBy: "\"input.rejected\"").count - 1 == cases.count)
    }

    @Test("--expect-seq: a stale operator gets exit 4 naming who acted first; nothing is recorded")
    func staleOperator() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        let first = try cli.run(["note", id, "first", "--as", "ingrid", "--expect-seq", "1"])
        #expect(first.status == 0, "\(first.stderr)")
        let stale = try cli.run(["act", id, "triage", "choose", "--set", "option=minor", "--role", "comms",
                                 "--as", "per", "--expect-seq", "1"])
        #expect(stale.status == 4)
        #expect(stale.stderr.contains("incident advanced to 2 by ingrid"))
        #expect(try status(cli, id)["seq"] as? Int == 2)
    }

    @Test("hostile strings are stored byte-exact and shown escaped")
    func hostileStrings() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        let hostile = [
            "bidi \u{202E}gnp.exe", "ansi \u{1B}[31mred\u{1B}[0m", "nfc caf\u{E9}", "nfd cafe\u{301}",
            "zero\u{200B}width", "emoji 👩‍👩‍👧", "tab\there", "multi\nline",
        ]
        for text in hostile {
            let r = try cli.run(["note", id, text, "--as", "Åse \u{202E}Ødegård"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let json = try cli.run(["log", id, "--json"])
        let records = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let notes = records.filter { $0["type"] as? String == "operator.note" }
        let texts = notes.compactMap { ($0["body"] as? [String: Any])?["text"] as? String }
        // Compare bytes, not Swift String equality (which treats NFC and NFD as equal).
        #expect(texts.map { Array($0.utf8) } == hostile.map { Array($0.utf8) })
        let names = notes.compactMap { ($0["actor"] as? [String: Any])?["id"] as? String }
        #expect(names.allSatisfy { Array($0.utf8) == Array("Åse \u{202E}Ødegård".utf8) })
        let text = try cli.run(["log", id])
        #expect(!text.stdout.contains("\u{1B}"))
        #expect(!text.stdout.contains("\u{202E}"))
        #expect(text.stdout.contains("\\u{202E}"))
        #expect(text.stdout.contains("\\u{1B}[31mred"))
        #expect(!text.stdout.contains("\u{FFFD}"))
        let before = try status(cli, id)["seq"] as? Int ?? 0
        // An operator name with a control character is refused, and only the refusal is recorded.
        let badName = try cli.run(["note", id, "hello", "--as", "op \u{1B}[2J"])
        #expect(badName.status == 1)
        #expect(badName.stderr.contains("operator name"))
        // A 1 MB note (from standard input: argv cannot carry it) is refused with the limit named.
        let big = try cli.run(["note", id, "-"], stdin: Data(String(repeating: "x", count: 1_000_000).utf8))
        #expect(big.status == 1)
        #expect(big.stderr.contains("at most"))
        #expect(try status(cli, id)["seq"] as? Int == before + 2)
        // Invalid UTF-8 in an argument is refused, never stored with U+FFFD.
        let sh = try cli.runShell("\"$CRISIS\" note \(id) \"$(printf 'n\\377A')\" --db \"$DB\"")
        #expect(sh.status == 1)
        #expect(sh.stderr.contains("not valid UTF-8"))
        #expect(try status(cli, id)["seq"] as? Int == before + 2)
        #expect(try cli.run(["verify", id]).status == 0)

        // A --set value that starts with a combining mark ("=" + U+0301 is one Swift Character) keeps its bytes.
        let combining = "\u{301}NO \u{202E}x"
        let other = try cli.run(["start", Self.mini, "--drill", "--set", "post_url=https://x.com/a/1",
                                 "--set", "country=\(combining)"])
        #expect(other.status == 0, "\(other.stderr)")
        let inputs = try status(cli, other.lastLine)["inputs"] as? [String: String]
        #expect(inputs.map { Array(($0["country"] ?? "").utf8) } == Array(combining.utf8))
    }

    @Test("two processes writing to one incident at once: contiguous, nothing lost, nothing twice")
    func concurrentWriters() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        let perWriter = 25
        let group = DispatchGroup()
        let failures = Failures()
        for w in 0..<2 {
            group.enter()
            DispatchQueue.global().async {
                defer { group.leave() }
                for i in 0..<perWriter {
                    do {
                        let r = try cli.run(["note", id, "writer \(w) note \(i)", "--as", "w\(w)"])
                        if r.status != 0 { failures.add("w\(w) #\(i): \(r.status) \(r.stderr)") }
                    } catch { failures.add("\(error)") }
                }
            }
        }
        group.wait()
        #expect(failures.all.isEmpty, "\(failures.all)")
        let json = try cli.run(["log", id, "--json"])
        let records = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(records.map { $0["seq"] as? Int } == Array(1...records.count).map { Optional($0) })
        let notes = records.compactMap { ($0["body"] as? [String: Any])?["text"] as? String }
        #expect(notes.count == 2 * perWriter)
        #expect(Set(notes).count == 2 * perWriter)
        #expect(try cli.run(["verify", id]).status == 0)
    }

    @Test("killed between a delivery's intent and outcome: verify ok, the delivery is in doubt, an operator settles it")
    func crashLeavesDeliveryInDoubt() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        _ = try cli.run(["act", id, "triage", "choose", "--set", "option=serious", "--role", "comms"])
        _ = try cli.run(["act", id, "statement", "draft", "--set", "what_we_know.nb=Facts.", "--set", "what_we_know.en=Facts.", "--as", "kari", "--role", "comms"])
        _ = try cli.run(["act", id, "statement", "approve", "--as", "ola", "--role", "legal"])
        let crashed = try cli.run(["act", id, "statement", "publish", "--as", "kari", "--role", "comms"],
                                  env: ["CRISIS_FAULT": "after-intent"])
        #expect(crashed.status != 0)
        #expect(try cli.run(["verify", id]).status == 0)
        let s = try status(cli, id)
        let deliveries = try #require(s["deliveries"] as? [[String: Any]])
        // Two channels in two languages (issue 13: one publication per channel and language).
        #expect(deliveries.count == 4)
        #expect(deliveries.allSatisfy { $0["in_doubt"] as? Bool == true })
        let text = try cli.run(["status", id])
        #expect(text.stdout.contains("IN DOUBT"))
        for d in deliveries {
            let key = try #require(d["key"] as? String)
            let r = try cli.run(["act", id, "statement", "confirm_delivery", "--set", "key=\(key)", "--set", "result=sent",
                                 "--as", "kari", "--role", "comms"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let after = try status(cli, id)
        #expect((after["active"] as? [[String: Any]])?.first?["step"] as? String == "tell_staff" || after["status"] as? String == "closed")
        // Nothing was published twice: exactly one intent per channel.
        let log = try cli.run(["log", id, "--json"])
        #expect(log.stdout.components(separatedBy: "\"action.intent\"").count - 1 >= 4)
    }

    @Test("kill -9 at random points of a series of notes: every acknowledged note is kept, chain valid, incident continues")
    func killNineDuringSeries() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        var acknowledged: [String] = []
        for round in 0..<12 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CLI.binary)
            let text = "round \(round)"
            p.arguments = ["note", id, text, "--db", cli.db, "--idempotency-key", "k\(round)"]
            p.standardOutput = Pipe()
            p.standardError = Pipe()
            try p.run()
            usleep(UInt32.random(in: 0...20_000))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            if p.terminationReason == .exit && p.terminationStatus == 0 { acknowledged.append(text) }
            // Retry with the same key: lands once whether or not the killed process committed.
            let retry = try cli.run(["note", id, text, "--idempotency-key", "k\(round)"])
            #expect(retry.status == 0, "\(retry.stderr)")
        }
        #expect(try cli.run(["verify", id]).status == 0)
        let log = try cli.run(["log", id, "--json"])
        let records = try #require(try JSONSerialization.jsonObject(with: Data(log.stdout.utf8)) as? [[String: Any]])
        let notes = records.compactMap { ($0["body"] as? [String: Any])?["text"] as? String }
        #expect(notes == (0..<12).map { "round \($0)" })
        for a in acknowledged { #expect(notes.contains(a)) }
        let r = try cli.run(["act", id, "triage", "choose", "--set", "option=minor", "--role", "comms"])
        #expect(r.status == 0, "\(r.stderr)")
    }

    @Test("a hand-edited database is caught by verify with exit 3 naming the record")
    func tamperedDatabase() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        for i in 0..<5 { _ = try cli.run(["note", id, "note number \(i)"]) }
        #expect(try cli.run(["verify", id]).status == 0)
        let sql = """
            DROP TRIGGER IF EXISTS audit_event_no_update;
            UPDATE audit_event SET record = CAST(replace(CAST(record AS TEXT), 'note number 2', 'note number 9') AS BLOB) WHERE seq = 4;
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        p.arguments = [cli.db, sql]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let v = try cli.run(["verify", id])
        #expect(v.status == 3)
        #expect(v.stdout.contains("record 4"))
    }

    @Test("the incident header (outside the chain) is checked against the first record: a live incident relabelled as a drill is caught")
    func tamperedHeader() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli, drill: false)
        #expect(try cli.run(["verify", id]).status == 0)
        // The attacker drops the guard trigger, edits the header, and puts the trigger back as it was.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        p.arguments = [cli.db, "SELECT sql FROM sqlite_master WHERE name = 'incident_no_update';"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let triggerSQL = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(triggerSQL.contains("CREATE TRIGGER"))
        try sqlite(cli.db, "DROP TRIGGER incident_no_update; UPDATE incident SET mode = 'drill'; \(triggerSQL);")
        let v = try cli.run(["verify", id])
        #expect(v.status == 3, "\(v.stdout)")
        #expect(v.stdout.contains("mode"))
    }
}

extension LifecycleTests {
    @Test("an external checkpoint catches truncation and rollback, and a note signed with another key is rejected")
    func externalCheckpoint() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        _ = try cli.run(["note", id, "before the checkpoint"])
        let cp = try cli.run(["checkpoint", id])
        #expect(cp.status == 0, "\(cp.stderr)")
        #expect(cp.stdout.hasPrefix("crisis/\(id)\n"))
        #expect(cp.stderr.contains("verifier key: crisis+"))
        let note = cli.dir.appendingPathComponent("cp.note")
        try Data(cp.stdout.utf8).write(to: note)
        let copy = cli.dir.appendingPathComponent("backup.sqlite").path
        try FileManager.default.copyItem(atPath: cli.db, toPath: copy)
        for i in 0..<3 { _ = try cli.run(["note", id, "after \(i)"]) }
        let ok = try cli.run(["verify", id, "--checkpoint", note.path])
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(ok.stdout.contains("later records are not externally anchored"))

        // Another installation's key: the same note does not verify against its verifier key.
        let otherKey = cli.dir.appendingPathComponent("other.key").path
        let other = try cli.run(["checkpoint", id, "--key", otherKey])
        let otherVerifier = try #require(other.stderr.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        let wrongKey = try cli.run(["verify", id, "--checkpoint", note.path, "--verifier-key", otherVerifier])
        #expect(wrongKey.status == 3)

        // A later checkpoint, kept outside; then the database is rolled back to the older copy.
        let later = try cli.run(["checkpoint", id])
        let laterNote = cli.dir.appendingPathComponent("later.note")
        try Data(later.stdout.utf8).write(to: laterNote)
        let rolled = try cli.run(["verify", id, "--checkpoint", laterNote.path, "--db", copy], withDB: false)
        #expect(rolled.status == 3, "\(rolled.stdout)\(rolled.stderr)")
        #expect(try cli.run(["verify", id, "--checkpoint", note.path, "--db", copy], withDB: false).status == 0)

        // Truncation: the tail removed with the triggers dropped.
        try sqlite(cli.db, "DROP TRIGGER audit_event_no_delete; DELETE FROM audit_event WHERE seq >= 5;")
        let cut = try cli.run(["verify", id, "--checkpoint", laterNote.path])
        #expect(cut.status == 3, "\(cut.stdout)")
    }

    func sqlite(_ db: String, _ sql: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        p.arguments = [db, sql]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }
}

extension LifecycleTests {
    @Test("only start creates a database: status, log, verify on a wrong path say so and create nothing")
    func noDatabaseCreatedByReaders() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let typo = cli.dir.appendingPathComponent("typo.sqlite").path
        for args in [["status", "x"], ["log", "x"], ["verify"], ["note", "x", "hi"]] {
            let r = try cli.run(args + ["--db", typo], withDB: false)
            #expect(r.status == 1, "\(args)")
            #expect(r.stderr.contains("no database at"))
        }
        let list = try cli.run(["list", "--json", "--db", typo], withDB: false)
        #expect(list.status == 0)
        #expect(!FileManager.default.fileExists(atPath: typo))
    }

    @Test("with a contacts directory, nobody outside it may claim a role, and nobody may claim a role they do not hold")
    func rolesAgainstDirectory() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let start = try cli.run(["start", "Playbooks/employee-post-viral.yaml", "--drill", "--contacts", "Examples/contacts.yaml",
                                 "--set", "post_url=https://x.com/a/1", "--set", "detected_at=2025-10-24T10:00:00+02:00",
                                ])
        guard start.status == 0 else {
            // The playbook's required inputs are listed on refusal; fill them from the message.
            Issue.record("start failed: \(start.stderr)")
            return
        }
        let id = start.lastLine
        let status = try cli.run(["status", id, "--json"]).json()
        let step = try #require((status["active"] as? [[String: Any]])?.first)
        let name = try #require(step["step"] as? String)
        let action = try #require((step["actions"] as? [[String: Any]])?.first)
        let role = try #require(action["role"] as? String)
        let stranger = try cli.run(["act", id, name, action["name"] as! String, "--as", "nobody.here", "--role", role])
        #expect(stranger.status == 1)
        #expect(stranger.stderr.contains("not in the incident's contacts directory"))
        let wrongRole = try cli.run(["act", id, name, action["name"] as! String, "--as", "grete.holm", "--role", "legal"])
        #expect(wrongRole.status == 1)
        #expect(wrongRole.stderr.contains("does not hold role"))
    }

    @Test("a schema whose text was altered (a CHECK or column renamed, no record touched) fails verify")
    func alteredSchemaText() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        #expect(try cli.run(["verify", id]).status == 0)
        try sqlite(cli.db, """
            PRAGMA writable_schema = ON;
            UPDATE sqlite_master SET sql = replace(sql, 'tsa_response', 'tsa_responqe') WHERE name = 'audit_checkpoint';
            """)
        let v = try cli.run(["verify", id])
        #expect(v.status == 3, "\(v.stdout)")
        #expect(v.stdout.contains("audit_checkpoint"))
    }

    @Test("a closed incident's clock does not move")
    func closedIncidentTick() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        _ = try cli.run(["act", id, "triage", "choose", "--set", "option=minor", "--role", "comms"])
        #expect(try status(cli, id)["status"] as? String == "closed")
        let r = try cli.run(["tick", id, "--advance", "1m"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("closed"))
    }
}

final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
