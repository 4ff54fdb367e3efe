import Foundation
import Testing

/// The command line a person types: short incident references and the latest open incident by default, short
/// delivery keys, relative times, refusals as JSON, `--version`, colour rules, completion from the database.
@Suite(.serialized)
struct PersonCommandLineTests {
    static let mini = "Tests/CrisisCLITests/Fixtures/mini.yaml"
    static let clocks = "Tests/CrisisCLITests/Fixtures/clocks.yaml"

    func startMini(_ cli: CLI, drill: Bool = true, extra: [String] = []) throws -> String {
        var args = ["start", Self.mini, "--set", "post_url=https://x.com/someone/status/1"]
        if drill { args += ["--drill", "--clock", "2025-10-24T10:05:00+02:00"] }
        let r = try cli.run(args + extra)
        #expect(r.status == 0, "start failed: \(r.stderr)")
        return r.lastLine
    }

    func seq(_ cli: CLI, _ id: String) throws -> Int {
        try cli.run(["status", id, "--json"]).json()["seq"] as? Int ?? -1
    }

    /// The last part of an id (`bd63` of `mini-20261130-bd63`).
    func suffix(_ id: String) -> String { String(id.split(separator: "-").last ?? "") }

    /// Two incidents whose 4-hex suffixes differ (ids are random; a clash is retried).
    func twoIncidents(_ cli: CLI) throws -> (String, String) {
        let a = try startMini(cli)
        var b = try startMini(cli)
        while suffix(b) == suffix(a) || b.hasPrefix(String(a.dropLast(1))) { b = try startMini(cli) }
        return (a, b)
    }

    // MARK: short references

    @Test("an id's unique beginning or end names the incident; an ambiguous one is refused listing the candidates")
    func shortReferences() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (a, b) = try twoIncidents(cli)
        for reference in [suffix(a), suffix(a).uppercased(), String(a.dropLast(1))] {
            let r = try cli.run(["status", reference, "--json"])
            #expect(r.status == 0, "\(reference): \(r.stderr)")
            #expect(try r.json()["incident"] as? String == a, "\(reference)")
        }
        let act = try cli.run(["act", suffix(b), "triage", "choose", "--set", "option=minor", "--role", "comms"])
        #expect(act.status == 0, "\(act.stderr)")
        #expect(try cli.run(["status", b, "--json"]).json()["status"] as? String == "closed")
        #expect(try cli.run(["status", a, "--json"]).json()["status"] as? String == "open")

        // "mini" begins both ids.
        let before = (try seq(cli, a), try seq(cli, b))
        let ambiguous = try cli.run(["act", "mini", "triage", "choose", "--set", "option=serious", "--role", "comms"])
        #expect(ambiguous.status == 1)
        #expect(ambiguous.stderr.contains("could be any of 2 incidents"))
        #expect(ambiguous.stderr.contains(a) && ambiguous.stderr.contains(b))
        #expect((try seq(cli, a), try seq(cli, b)) == before, "an ambiguous reference records nothing anywhere")
        for command in [["log", "mini"], ["verify", "mini"], ["checkpoint", "mini"], ["tick", "mini"], ["note", "mini", "x"]] {
            let r = try cli.run(command)
            #expect(r.status == 1, "\(command): \(r.stderr)")
            #expect(r.stderr.contains("could be any of 2 incidents"), "\(command): \(r.stderr)")
        }
        let unknown = try cli.run(["status", "zzzz"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no incident 'zzzz'"))
        // verify, log and checkpoint take short references too.
        #expect(try cli.run(["verify", suffix(a)]).stdout.hasPrefix("\(a): ok"))
        #expect(try cli.run(["log", suffix(a)]).stdout.contains("opened drill incident"))
        #expect(try cli.run(["checkpoint", suffix(a)]).status == 0)
    }

    @Test("without an id every command means the latest open incident; act STEP ACTION, note TEXT")
    func latestOpenByDefault() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (a, b) = try twoIncidents(cli)
        // b is the latest; acting on a makes a the latest.
        #expect(try cli.run(["note", a, "on a"]).status == 0)
        let act = try cli.run(["act", "triage", "choose", "--set", "option=serious", "--role", "comms", "--json"])
        #expect(act.status == 0, "\(act.stderr)")
        #expect(try act.json()["incident"] as? String == a)
        let note = try cli.run(["note", "a single-word default"])
        #expect(note.status == 0, "\(note.stderr)")
        #expect(try cli.run(["log", a]).stdout.contains("note: a single-word default"))
        #expect(!(try cli.run(["log", b]).stdout.contains("single-word")))
        #expect(try cli.run(["log"]).stdout.contains("note: a single-word default"))
        #expect(try cli.run(["status", "--json"]).json()["incident"] as? String == a)
        let checkpoint = try cli.run(["checkpoint"])
        #expect(checkpoint.status == 0, "\(checkpoint.stderr)")
        #expect(checkpoint.stdout.contains(a))
    }

    @Test("act with two words whose first names an incident is a usage error: nothing is recorded")
    func missingActionIsUsage() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        let before = try seq(cli, id)
        for reference in [id, suffix(id)] {
            let r = try cli.run(["act", reference, "triage"])
            #expect(r.status == 2, "\(reference): \(r.stderr)")
            #expect(r.stderr.contains("the action is missing"))
        }
        let one = try cli.run(["note", id])
        #expect(one.status == 2)
        #expect(one.stderr.contains("give the text"))
        #expect(try cli.run(["act", "triage"]).status == 2)
        #expect(try cli.run(["act", id, "triage", "choose", "extra"]).status == 2)
        #expect(try seq(cli, id) == before)
    }

    @Test("confirm_delivery takes the last part of a delivery key; the full key is recorded")
    func shortDeliveryKeys() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli, drill: false)
        for args in [["triage", "choose", "--set", "option=serious", "--role", "comms"],
                     ["statement", "draft", "--set", "what_we_know.nb=Facts.", "--set", "what_we_know.en=Facts.", "--as", "kari", "--role", "comms"],
                     ["statement", "approve", "--as", "ola", "--role", "legal"],
                     ["statement", "publish", "--set", "language=nb", "--as", "kari", "--role", "comms"]] {
            let r = try cli.run(["act", id] + args)
            #expect(r.status == 0, "\(args): \(r.stderr)")
        }
        let deliveries = try #require(try cli.run(["status", id, "--json"]).json()["deliveries"] as? [[String: Any]])
        #expect(deliveries.count == 2)
        let keys = deliveries.compactMap { $0["key"] as? String }
        let first = try #require(keys.first)
        let short = String(first.split(separator: "/").last ?? "")
        let r = try cli.run(["act", suffix(id), "statement", "confirm_delivery", "--set", "key=\(short)",
                             "--set", "result=sent", "--as", "kari", "--role", "comms"])
        #expect(r.status == 0, "\(r.stderr)")
        let records = try #require(try JSONSerialization.jsonObject(
            with: Data(try cli.run(["log", id, "--json"]).stdout.utf8)) as? [[String: Any]])
        let settled = records.filter {
            $0["type"] as? String == "action.outcome" && ($0["body"] as? [String: Any])?["result"] as? String == "sent"
        }
        #expect(settled.compactMap { ($0["body"] as? [String: Any])?["key"] as? String } == [first],
                "the outcome names the full key")
        let left = try #require(try cli.run(["status", id, "--json"]).json()["deliveries"] as? [[String: Any]])
        #expect(left.compactMap { $0["key"] as? String } == Array(keys.dropFirst()))
        // A part that is no key's last part is refused as before.
        let wrong = try cli.run(["act", id, "statement", "confirm_delivery", "--set", "key=999", "--set", "result=sent",
                                 "--as", "kari", "--role", "comms"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("no delivery with key '999'"))
    }

    // MARK: relative times

    @Test("time inputs and fields take now and relative times, recorded as absolute times in the playbook's zone")
    func relativeTimes() throws {
        let cli = try CLI()
        defer { cli.remove() }
        // start: against the start instant (a drill's --clock).
        let started = try cli.run(["start", Self.mini, "--drill", "--clock", "2025-10-24T10:05:00+02:00",
                                   "--set", "post_url=https://x.com/a/status/1", "--set", "detected_at=now-1h30m"])
        #expect(started.status == 0, "\(started.stderr)")
        let opened = try cli.run(["log", started.lastLine, "--json"]).stdout
        #expect(opened.contains("\"name\":\"detected_at\",\"value\":\"2025-10-24T08:35:00+02:00\""), "\(opened.prefix(800))")

        // act: against the drill's simulated clock, after it moved.
        let id = try cli.run(["start", Self.clocks, "--drill", "--clock", "2025-10-24T10:00:00+02:00"]).lastLine
        #expect(try cli.run(["tick", id, "--advance", "1h"]).status == 0)
        let act = try cli.run(["act", id, "confirm", "done", "--set", "aware_at=-15m", "--role", "lead"])
        #expect(act.status == 0, "\(act.stderr)")
        let log = try cli.run(["log", id, "--json"]).stdout
        #expect(log.contains("\"name\":\"aware_at\",\"value\":\"2025-10-24T10:45:00+02:00\""))
        #expect(!log.contains("-15m"), "the relative time itself is never recorded as the value")

        // A value that is neither is refused, saying what is accepted.
        let bad = try cli.run(["start", Self.mini, "--drill", "--set", "post_url=https://x.com/a/status/1",
                               "--set", "detected_at=15m"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("now, -15m"))

        // A live start: `now` is the wall clock at the start.
        let live = try cli.run(["start", Self.mini, "--set", "post_url=https://x.com/a/status/1",
                                "--set", "detected_at=now", "--json"])
        #expect(live.status == 0, "\(live.stderr)")
        let liveLog = try cli.run(["log", live.lastLine, "--json"]).stdout
        let range = try #require(liveLog.range(of: "\"name\":\"detected_at\",\"value\":\""))
        let value = String(liveLog[range.upperBound...].prefix { $0 != "\"" })
        let formatter = ISO8601DateFormatter()
        let when = try #require(formatter.date(from: value), "\(value)")
        #expect(abs(when.timeIntervalSinceNow) < 120)
        #expect(value.hasSuffix("+01:00") || value.hasSuffix("+02:00"), "Europe/Oslo's offset: \(value)")
    }

    // MARK: refusals as JSON, version

    @Test("--json: a refusal is also a JSON object on stdout with its code; exit codes unchanged")
    func refusalsAsJSON() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        let refused = try cli.run(["act", id, "triage", "choose", "--set", "option=maybe", "--role", "comms", "--json"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("option"), "the human message stays on stderr")
        let error = try #require(try refused.json()["error"] as? [String: Any])
        #expect(error["code"] as? String == "invalid-field")
        #expect(error["exit"] as? Int == 1)
        #expect((error["message"] as? String)?.contains("option") == true)
        #expect((error["hint"] as? String)?.contains("serious") == true)

        let role = try cli.run(["act", id, "triage", "choose", "--set", "option=serious", "--json"])
        let hint = try (role.json()["error"] as? [String: Any])?["hint"] as? String
        #expect(hint?.hasPrefix("act in a role that may do this: --role comms") == true, "\(hint ?? "")")

        let missing = try cli.run(["start", Self.mini, "--json"])
        #expect(missing.status == 1)
        let inputs = try #require(try missing.json()["error"] as? [String: Any])
        #expect(inputs["code"] as? String == "invalid-inputs")
        #expect((inputs["missing"] as? [[String: Any]])?.first?["name"] as? String == "post_url")

        let usage = try cli.run(["act", id, "--json"])
        #expect(usage.status == 2)
        #expect(try (usage.json()["error"] as? [String: Any])?["code"] as? String == "usage")

        let unknown = try cli.run(["status", "zzzz", "--json"])
        #expect(unknown.status == 1)
        #expect(try (unknown.json()["error"] as? [String: Any])?["code"] as? String == "unknown-incident")

        let stale = try cli.run(["act", id, "triage", "choose", "--set", "option=serious", "--role", "comms",
                                 "--expect-seq", "1", "--json"])
        #expect(stale.status == 4)
        let conflict = try #require(try stale.json()["error"] as? [String: Any])
        #expect(conflict["code"] as? String == "conflict")
        #expect(conflict["expected_seq"] as? Int == 1)

        // Without --json nothing goes to stdout.
        #expect(try cli.run(["status", "zzzz"]).stdout.isEmpty)
    }

    @Test("crisis --version prints the release and the engine version")
    func version() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let r = try cli.run(["--version"], withDB: false)
        #expect(r.status == 0)
        #expect(r.stdout.range(of: #"^\d+\.\d+\.\d+ \(engine crisis/\d+\.\d+\)\n$"#, options: .regularExpression) != nil,
                "\(r.stdout)")
    }

    // MARK: colour

    /// Runs `crisis ARGS` under a pseudo-terminal (`script`), so standard output is a terminal.
    func onTerminal(_ cli: CLI, _ args: String, env: String = "") throws -> String {
        try cli.runShell("unset NO_COLOR; \(env) script -qec \"$CRISIS \(args) --db $DB\" /dev/null").stdout
    }

    @Test("colour on a terminal only, never with NO_COLOR, --no-color (anywhere) or TERM=dumb")
    func colourRules() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        let escape = "\u{1B}["
        #expect(try onTerminal(cli, "status \(id)", env: "TERM=xterm").contains(escape))
        #expect(!(try onTerminal(cli, "status \(id)", env: "TERM=xterm NO_COLOR=1").contains(escape)))
        #expect(!(try onTerminal(cli, "status \(id)", env: "TERM=dumb").contains(escape)))
        #expect(!(try onTerminal(cli, "status \(id) --no-color", env: "TERM=xterm").contains(escape)))
        #expect(!(try onTerminal(cli, "--no-color status \(id)", env: "TERM=xterm").contains(escape)))
        // Not a terminal: never.
        #expect(!(try cli.run(["status", id], env: ["NO_COLOR": ""]).stdout.contains(escape)))
        // --no-color is accepted by every command, and a note's text after -- is kept as typed.
        #expect(try cli.run(["list", "--no-color"]).status == 0)
        #expect(try cli.run(["note", id, "--db", cli.db, "--", "--no-color"], withDB: false).status == 0)
        #expect(try cli.run(["log", id]).stdout.contains("note: --no-color"))
    }

    // MARK: completion

    /// Asks the binary for completions as the generated scripts do.
    /// The word completed is the first empty one.
    func complete(_ cli: CLI, _ subcommand: String, _ words: [String], env: [String: String] = [:]) throws -> [String] {
        let index = words.firstIndex(of: "") ?? words.count - 1
        let r = try cli.run(["---completion", subcommand, "--", "positional@0", String(index), "0"] + words,
                            withDB: false,
                            env: ["SAP_SHELL": "bash"].merging(env) { $1 })
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.split(separator: "\n").map(String.init)
    }

    @Test("completion offers incident ids, steps and actions from the database named on the line or by CRISIS_DB")
    func completion() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        let db = ["--db", cli.db]
        #expect(try complete(cli, "status", ["crisis", "status"] + db + [""]).contains(id))
        #expect(try complete(cli, "status", ["crisis", "status", ""], env: ["CRISIS_DB": cli.db]).contains(id))
        let first = try complete(cli, "act", ["crisis", "act"] + db + [""])
        #expect(first.contains(id) && first.contains("triage"), "\(first)")
        #expect(try complete(cli, "act", ["crisis", "act"] + db + [id, ""]).contains("triage"))
        #expect(try complete(cli, "act", ["crisis", "act"] + db + [suffix(id), "triage", ""]) == ["choose", "object"])
        #expect(try complete(cli, "act", ["crisis", "act", "triage", ""] + db) == ["choose", "object"])
        // No database: nothing, quietly.
        #expect(try complete(cli, "act", ["crisis", "act", "--db", cli.dir.path + "/none.sqlite", ""]).isEmpty)
    }

    @Test("the generated bash script completes incidents, steps and actions in a real bash")
    func bashCompletion() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        let generated = try cli.run(["--generate-completion-script", "bash"], withDB: false)
        #expect(generated.status == 0)
        let script = cli.dir.appendingPathComponent("crisis.bash").path
        try generated.stdout.write(toFile: script, atomically: true, encoding: .utf8)
        let driver = cli.dir.appendingPathComponent("drive.bash").path
        try """
            PATH="$(dirname "$CRISIS"):$PATH"
            export CRISIS_DB="$DB"
            source '\(script)'
            line() {
                COMP_LINE="$1"; read -ra COMP_WORDS <<< "$1"; COMP_WORDS+=("")
                COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_POINT=${#1}; COMPREPLY=()
                _crisis; echo "${COMPREPLY[*]}"
            }
            line "crisis act "
            line "crisis act \(suffix(id)) "
            line "crisis act \(suffix(id)) triage "
            line "crisis log "
            """.write(toFile: driver, atomically: true, encoding: .utf8)
        let r = try cli.runShell("bash '\(driver)'")
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count >= 4, "\(r.stdout)")
        guard lines.count >= 4 else { return }
        #expect(lines[0].split(separator: " ").contains { $0 == id } && lines[0].contains("triage"), "\(lines[0])")
        #expect(lines[1].split(separator: " ").contains("triage"), "\(lines[1])")
        #expect(lines[2] == "choose object", "\(lines[2])")
        #expect(lines[3] == id, "\(lines[3])")
    }
}

/// Issue 14, item 6: a person paged who lives in another zone is shown with their own local time.
@Suite("Status: a paged person's own local time")
struct PagedLocalTimeTests {
    @Test("the board's paging line gives a New York colleague's local time beside their id")
    func pagedLocalTime() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let source = try String(contentsOf: CLI.root.appendingPathComponent("Tests/CrisisCLITests/Fixtures/show-contacts.yaml"), encoding: .utf8)
        let contacts = cli.dir.appendingPathComponent("contacts.yaml")
        try source.replacingOccurrences(of: "    name: Jonas Comms\n", with: "    name: Jonas Comms\n    timezone: America/New_York\n")
            .write(to: contacts, atomically: true, encoding: .utf8)
        let id = try cli.run(["start", "Tests/CrisisCLITests/Fixtures/show.yaml", "--drill", "--contacts", contacts.path,
                              "--set", "post_url=https://x.com/someone/status/1790", "--clock", "2026-03-02T09:00:00+01:00"]).lastLine
        let status = try cli.run(["status", id])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("jonas.comms (03:00 America/New_York)"), "\(status.stdout)")
        let json = try cli.run(["status", id, "--json"]).json()
        let active = json["active"] as? [[String: Any]] ?? []
        let paging = active.compactMap { ($0["detail"] as? [String: String])?["paging"] }.first
        #expect(paging?.contains("jonas.comms (03:00 America/New_York)") == true, "\(String(describing: paging))")
    }
}
