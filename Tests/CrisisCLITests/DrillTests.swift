import Foundation
import Testing

/// `crisis drill SCENARIO --auto` and `crisis drill score`: scenarios played unattended through the real binary,
/// scored from the trail alone.
struct DrillTests {
    static let fixtures = "Tests/CrisisCLITests/Fixtures/drills"
    static let example = "Examples/drills/employee-post-viral.yaml"

    static func score(_ r: CLI.Result) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    static func objectives(_ score: [String: Any]) -> [String: [String: Any]] {
        var out: [String: [String: Any]] = [:]
        for o in score["objectives"] as? [[String: Any]] ?? [] { out[o["id"] as? String ?? ""] = o }
        return out
    }

    static func injects(_ score: [String: Any]) -> [String: Bool] {
        var out: [String: Bool] = [:]
        for i in score["injects"] as? [[String: Any]] ?? [] { out[i["id"] as? String ?? ""] = i["delivered"] as? Bool }
        return out
    }

    @Test("the shipped scenario plays to its expected end: outage failures, a rejected draft, contingency inject, ratings with evidence")
    func exampleScenario() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let r = try cli.run(["drill", Self.example, "--auto", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let score = try Self.score(r)
        #expect(score["outcome"] as? String == "resolved")
        let id = try #require(score["incident"] as? String)
        let o = Self.objectives(score)
        #expect(o["evidence_first"]?["rating"] as? String == "performed without challenges")
        #expect(o["lead_on_line"]?["rating"] as? String == "performed with major challenges")
        #expect(o["golden_hour"]?["rating"] as? String == "performed with major challenges")
        #expect(o["golden_hour"]?["after"] as? String == "1h 53m")
        #expect(o["staff_briefed"]?["rating"] as? String == "unable to be performed")
        #expect((o["golden_hour"]?["evidence"] as? [Int])?.count == 1)
        // The statement was not out by T+60, so the contingency inject was played.
        #expect(Self.injects(score) == ["journalist_call": true, "journalist_follow_up": true, "ceo_asks": true,
                                        "staff_questions": true, "second_wave": true])
        // Injects timed from another event: 20m after the journalist's call (T+35m), 30m after publication.
        let timed = Dictionary(uniqueKeysWithValues: (score["injects"] as? [[String: Any]] ?? []).map {
            ($0["id"] as? String ?? "", $0["at"] as? String ?? "")
        })
        #expect(timed["journalist_follow_up"] == "20m after journalist_call")
        #expect(timed["staff_questions"] == "30m after reactive_statement published")
        // Injects answered or not: the call by the statement published 1h 18m later (within 60m: some
        // challenges); the staff's questions not, because the e-mail outage failed the briefing.
        let injects = Dictionary(uniqueKeysWithValues: (score["injects"] as? [[String: Any]] ?? []).map { ($0["id"] as? String ?? "", $0) })
        #expect(injects["journalist_call"]?["answered"] as? Bool == true)
        #expect(injects["journalist_call"]?["answered_after"] as? String == "1h 18m")
        #expect(injects["journalist_call"]?["rating"] as? String == "performed with some challenges")
        #expect(injects["staff_questions"]?["answered"] as? Bool == false)
        #expect(injects["staff_questions"]?["rating"] as? String == "unable to be performed")
        #expect(injects["second_wave"]?["answered"] == nil, "no answer defined: not scored")
        // Targets met or missed, and by how much: the golden hour missed by 53 minutes (published at 1h 53m).
        let targets = Dictionary(uniqueKeysWithValues: (score["targets"] as? [[String: Any]] ?? []).map { ($0["id"] as? String ?? "", $0) })
        #expect(targets["golden_hour"]?["result"] as? String == "missed")
        #expect(targets["golden_hour"]?["margin"] as? String == "53m")
        #expect(targets["golden_hour"]?["reached_after"] as? String == "1h 53m")
        #expect(targets["evidence_first"]?["result"] as? String == "met")
        #expect(targets["evidence_first"]?["margin_ms"] as? Int == 18 * 60_000)

        // What the scripted world did is in the trail: the outage failed the e-mails, legal rejected draft 1.
        let log = TimelineTests.entries(try cli.run(["log", id, "--all"]).stdout).joined(separator: "\n")
        #expect(log.contains("outcome failed [brief_staff/notify/"), "\(log)")
        #expect(log.contains("drill: scripted outage: e-mail provider outage"))
        #expect(log.contains("reactive_statement reject reason=Too defensive"))
        #expect(log.contains("scenario [inject]  note: INJECT journalist_call (phone, from Aftenposten, Ida Berg)"))
        #expect(log.hasPrefix("DRILL"))
        // At T+55m and at T+2:23 (the statement was published on every channel at T+1:53).
        #expect(log.contains(" 21:35  scenario [inject]  note: INJECT journalist_follow_up"), "\(log)")
        #expect(log.contains(" 23:03  scenario [inject]  note: INJECT staff_questions"), "\(log)")
        #expect(try cli.run(["verify", id]).status == 0)
        // The after-action report says the same: the golden hour missed by 53 minutes (reached late at 22:33),
        // and which injects were answered.
        let report = try cli.run(["export", id, "--format", "md"]).stdout
        #expect(report.contains("| 2026-03-05 22:33 +01:00 (late) | **MISSED by 53m** |"), "\(report)")
        #expect(report.contains("| journalist_call | T+35m | yes | **after 1h 18m: performed with some challenges** | record 24, answer record 53 |"))
        #expect(report.contains("**not answered: unable to be performed**"))

        // The score is read back from the trail alone, the same as at the end of the run.
        let again = try cli.run(["drill", "score", id, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout == r.stdout)
    }

    @Test("the score has the regulatory clocks: started, due, stopped, met with the time to spare or not met at close")
    func clocksScored() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let r = try cli.run(["drill", "Examples/drills/customer-data-breach.yaml", "--auto", "--json"])
        #expect(r.status == 0, "\(r.stderr.suffix(1000))")
        let clocks = Dictionary(uniqueKeysWithValues: (try Self.score(r)["clocks"] as? [[String: Any]] ?? []).map {
            ($0["id"] as? String ?? "", $0)
        })
        // GDPR Art. 33: started at awareness (T+0), due 72 hours later, stopped when Datatilsynet was notified.
        let art33 = try #require(clocks["gdpr_art33"], "\(clocks.keys)")
        #expect(art33["started"] as? String == "T+0")
        #expect(art33["due"] as? String == "T+3d 0h")
        #expect(art33["result"] as? String == "met")
        let stopped = try #require(art33["stopped"] as? String)
        #expect(stopped.hasPrefix("T+"))
        #expect((art33["margin_ms"] as? Int ?? 0) > 0 && (art33["margin_ms"] as? Int ?? 0) < 72 * 3_600_000)
        #expect(art33["reference"] as? String != nil)
        // The NIS2 final report's month had not run when the drill closed.
        #expect(clocks["nis2_final_report"]?["result"] as? String == "not_met")
        let id = try #require(try Self.score(r)["incident"] as? String)
        let text = try cli.run(["drill", "score", id]).stdout
        #expect(text.contains("Clocks\n  gdpr_art33  met, "), "\(text)")
        #expect(text.contains("      started T+0, due T+3d 0h, stopped \(stopped)"), "\(text)")
    }

    @Test("a second incident mid-run: an inject opens another scenario as its own drill incident on the same clock, played alongside")
    func secondIncident() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let r = try cli.run(["drill", "Examples/drills/customer-data-breach.yaml", "--auto"])
        #expect(r.status == 0, "\(r.stderr.suffix(1500))")
        let list = try JSONSerialization.jsonObject(with: Data(try cli.run(["list", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
        let first = try #require(list.first { ($0["id"] as? String ?? "").hasPrefix("customer-data-breach") }?["id"] as? String)
        let second = try #require(list.first { ($0["id"] as? String ?? "").hasPrefix("executive-impersonation") }?["id"] as? String)
        // The first incident's timeline names the second; the progress marks the second's events with its short id.
        let log = TimelineTests.entries(try cli.run(["log", first]).stdout).joined(separator: "\n")
        #expect(log.contains("INJECT fake_ceo_on_x"), "\(log)")
        #expect(log.contains("[opens drill incident \(second)]"), "\(log)")
        #expect(r.stdout.contains("T+26:00  SECOND INCIDENT \(second)"), "\(r.stdout)")
        #expect(r.stdout.contains("[\(second.suffix(4))] T+34:16  world takedown_each[1] removed"), "\(r.stdout)")
        #expect(r.stdout.contains("second incident \(second): closed: resolved"), "\(r.stdout)")
        // The second's drill clock starts at the inject (T+26h) and its events interleave with the first's: the
        // first's NIS2 decision at T+31:48 is printed between the second's warning (T+27:54) and removal (T+34:16).
        let warning = try #require(r.stdout.range(of: "T+27:54  customer_warning publish"))
        let nis2 = try #require(r.stdout.range(of: "T+31:48  nis2_notification skip"))
        let removal = try #require(r.stdout.range(of: "T+34:16  world takedown_each[1] removed"))
        #expect(warning.lowerBound < nis2.lowerBound && nis2.lowerBound < removal.lowerBound)
        #expect(try cli.run(["status", first, "--json"]).json()["opened_at"] as? String == "2026-02-10T09:40:00+01:00")
        #expect(try cli.run(["status", second, "--json"]).json()["opened_at"] as? String == "2026-02-11T11:40:00+01:00",
                "26 hours after the first")
        // Each has its own score, from its own trail; the second's scenario counts from the inject's moment, so
        // its objectives read the same as when it runs on its own.
        let score = try Self.score(try cli.run(["drill", "score", second, "--json"]))
        #expect(score["outcome"] as? String == "resolved")
        #expect(Self.objectives(score)["profile_removed"]?["after"] as? String == "8h 16m")
        let alone = try CLI()
        defer { alone.remove() }
        let own = try Self.score(try alone.run(["drill", "Examples/drills/breach-fake-ceo.yaml", "--auto", "--json"]))
        #expect(Self.objectives(own)["profile_removed"]?["after"] as? String == "8h 16m")
        #expect(try cli.run(["verify", second]).status == 0)
    }

    @Test("every scenario in Examples/drills plays with --auto to its expected end, verifies and scores")
    func everyExample() throws {
        let folder = CLI.root.appendingPathComponent("Examples/drills")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(!files.isEmpty)
        for file in files {
            let cli = try CLI()
            defer { cli.remove() }
            let r = try cli.run(["drill", "Examples/drills/\(file)", "--auto", "--json"])
            #expect(r.status == 0, "\(file): \(r.stderr.suffix(2000))")
            guard r.status == 0, let score = try? Self.score(r), let id = score["incident"] as? String else { continue }
            #expect(score["outcome"] as? String == score["expected_outcome"] as? String, "\(file)")
            #expect(!(score["objectives"] as? [Any] ?? []).isEmpty, "\(file) has no objectives")
            #expect(try cli.run(["verify", id]).status == 0, "\(file)")
            let report = try cli.run(["export", id, "--format", "md"])
            #expect(report.status == 0 && report.stdout.contains("Exercise evaluation"), "\(file): \(report.stderr)")
        }
    }

    @Test("docs/scenario.schema.json accepts every shipped scenario and refuses a negative offset")
    func jsonSchema() throws {
        let script = """
            import glob, json, os, sys
            os.chdir(sys.argv[1])
            try:
                import jsonschema, yaml
            except ImportError as e:
                print("SKIP", e); sys.exit(0)
            v = jsonschema.Draft202012Validator(json.load(open("docs/scenario.schema.json")))
            v.check_schema(v.schema)
            for f in sorted(glob.glob("Examples/drills/*.yaml")) + ["Tests/CrisisCLITests/Fixtures/drills/show-quick.yaml"]:
                errors = [e.message for e in v.iter_errors(yaml.safe_load(open(f)))]
                print(f, "ok" if not errors else errors)
            bad = [e.message for e in v.iter_errors(yaml.safe_load(open("Tests/CrisisCLITests/Fixtures/drills/bad.yaml")))]
            print("bad", "refused" if any("-5m" in m for m in bad) else bad)
            """
        let r = Spawn.run("/usr/bin/env", ["python3", "-c", script, CLI.root.path], capture: true)
        #expect(r.status == 0, "\(r.stdout)")
        if r.stdout.hasPrefix("SKIP") { print("skipped: \(r.stdout)"); return }
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count >= 8, "\(r.stdout)")
        for line in lines.dropLast() { #expect(line.hasSuffix(" ok"), "\(line)") }
        #expect(lines.last == "bad refused", "\(r.stdout)")
    }

    @Test("golden score: the text of 'drill score' for the fixture scenario, at 80 columns")
    func goldenScore() throws {
        var cli = try CLI()
        cli.env["COLUMNS"] = "80"
        defer { cli.remove() }
        let r = try cli.run(["drill", "\(Self.fixtures)/show-quick.yaml", "--auto", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let id = try #require(try Self.score(r)["incident"] as? String)
        let text = try cli.run(["drill", "score", id]).stdout
            .replacingOccurrences(of: id, with: "show-20260302-XXXX")
        for line in text.split(separator: "\n") { #expect(line.count <= 80, "wider than 80: \(line)") }
        let golden = CLI.root.appendingPathComponent("\(Self.fixtures)/show-quick.score.txt")
        if ProcessInfo.processInfo.environment["RECORD_GOLDEN"] != nil {
            try Data(text.utf8).write(to: golden)
            Issue.record("recorded \(golden.lastPathComponent); run again without RECORD_GOLDEN")
            return
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(text == expected, "differs from the golden file; RECORD_GOLDEN=1 re-records it:\n\(text)")
    }

    @Test("a contingency inject whose condition holds is not played; objectives met in time are rated so")
    func contingencyNotPlayed() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let r = try cli.run(["drill", "\(Self.fixtures)/show-quick.yaml", "--auto", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let score = try Self.score(r)
        #expect(Self.injects(score) == ["early_call": true, "nudge": false])
        let o = Self.objectives(score)
        #expect(o["statement_fast"]?["rating"] as? String == "performed without challenges")
        #expect(o["takedown_sent"]?["rating"] as? String == "performed with some challenges")
        let decisions = try #require(score["decisions"] as? [[String: Any]])
        #expect(decisions.count == 1 && decisions[0]["matches"] as? Bool == true)
        // The platform's scripted answer came two hours after the request.
        let id = try #require(score["incident"] as? String)
        let log = TimelineTests.entries(try cli.run(["log", id]).stdout).joined(separator: "\n")
        #expect(log.contains("removal removed note=The platform removed the post."), "\(log)")

        // The debrief: tagged notes become strengths and areas for improvement with owners and dates.
        #expect(try cli.run(["note", id, "#strength Legal approved within five minutes."]).status == 0)
        #expect(try cli.run(["note", id, "#improve owner=jonas.comms due=2026-04-01 Draft the statement while paging."]).status == 0)
        #expect(try cli.run(["note", id, "an ordinary note"]).status == 0)
        let after = try Self.score(try cli.run(["drill", "score", id, "--json"]))
        let items = try #require(after["hot_wash"] as? [[String: Any]])
        #expect(items.count == 2)
        #expect(items.first?["kind"] as? String == "strength")
        #expect(items.last?["owner"] as? String == "jonas.comms")
        #expect(items.last?["due"] as? String == "2026-04-01")
        #expect(items.last?["text"] as? String == "Draft the statement while paging.")

        // The after-action report is the md export of the drill: the score with its evidence and the plan.
        let md = try cli.run(["export", id, "--format", "md"])
        #expect(md.status == 0, "\(md.stderr)")
        #expect(md.stdout.contains("# After-action report: A quick drill of the show fixture"))
        #expect(md.stdout.contains("## 2. Exercise evaluation — DRILL"))
        #expect(md.stdout.contains("| Statement out within 45 minutes (statement_fast) | 45m | 29m | performed without challenges | record "))
        #expect(md.stdout.contains("| triage | serious | serious | record "))
        #expect(md.stdout.contains("| nudge | T+1h 30m | no (its condition did not hold) | — |"))
        #expect(md.stdout.contains("Legal approved within five minutes."))
        #expect(md.stdout.contains("| Draft the statement while paging. | jonas.comms | 2026-04-01 | record "))
        let html = try cli.run(["export", id, "--format", "html"])
        #expect(html.stdout.contains("Exercise evaluation"))
    }

    @Test("the score needs only the trail: the scenario file may be gone")
    func scoreFromTrail() throws {
        let cli = try CLI()
        defer { cli.remove() }
        // A copy of the scenario beside copies of what it names, removed after the run.
        let folder = cli.dir.appendingPathComponent("scenario/drills")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let fixtures = CLI.root.appendingPathComponent("Tests/CrisisCLITests/Fixtures")
        for name in ["show.yaml", "show-contacts.yaml"] {
            try FileManager.default.copyItem(at: fixtures.appendingPathComponent(name),
                                             to: folder.deletingLastPathComponent().appendingPathComponent(name))
        }
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent("templates"),
                                         to: folder.deletingLastPathComponent().appendingPathComponent("templates"))
        let scenario = folder.appendingPathComponent("show-quick.yaml")
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent("drills/show-quick.yaml"), to: scenario)
        let r = try cli.run(["drill", scenario.path, "--auto", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        try FileManager.default.removeItem(at: folder.deletingLastPathComponent())
        let id = try #require(try Self.score(r)["incident"] as? String)
        let again = try cli.run(["drill", "score", id, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout == r.stdout)
        let text = try cli.run(["drill", "score", id])
        #expect(text.stdout.contains("PERFORMED WITHOUT CHALLENGES: after 29m (within 45m); evidence: record"))
        // A live incident has no scenario to score against.
        let live = try cli.run(["start", "Tests/CrisisCLITests/Fixtures/mini.yaml", "--set", "post_url=https://example.com/p"])
        let refused = try cli.run(["drill", "score", live.lastLine])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("was not started from a scenario"))
    }

    @Test("a facilitated drill plays injects and timers step by step, pauses on q, and resumes where its trail stands")
    func facilitatedPauseResume() throws {
        let cli = try CLI()
        defer { cli.remove() }
        // The clock moves to the first team action the script expects and stands there while the players have not
        // done it (Enter looks again); s skips it; the inject comes next; pause at the next move.
        let r = try cli.run(["drill", "\(Self.fixtures)/show-quick.yaml"], stdin: Data("\n\ns\n\nq\n".utf8))
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("next: T+0:02  players: jonas.comms page_comms ack  [Enter: go there, q: pause]"),
                "\(r.stderr)")
        #expect(r.stderr.components(separatedBy: "T+0:02  waiting for jonas.comms page_comms ack  [Enter: done, s: skip, q: pause]")
            .count == 3, "asked again while the ack is not done, until skipped:\n\(r.stderr)")
        #expect(r.stderr.contains("next: T+0:05  inject early_call from A reporter  [Enter: go there, q: pause]"))
        #expect(r.stdout.contains("T+0:05  INJECT early_call from A reporter: Are the names in the post true?"))
        // Nobody acknowledged: the next move is the page's timeout.
        #expect(r.stderr.contains("next: T+0:10  a timer"), "\(r.stderr)")
        #expect(r.stdout.contains("paused at T+0:05; go on with:"), "\(r.stdout)")
        let resume = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("→ crisis drill resume ") })
        let id = try #require(resume.split(separator: " ").last.map(String.init))
        var log = try cli.run(["log", id, "--all"]).stdout
        #expect(!log.contains("page_comms acknowledged"))
        #expect(!log.contains("  jonas.comms [comms]"), "a team action was played in a facilitated drill:\n\(log)")

        // A player acknowledges; the drill goes on unattended from there, and does not play the ack again.
        #expect(try cli.run(["act", id, "page_comms", "ack", "--as", "jonas.comms"]).status == 0)
        let resumed = try cli.run(["drill", "resume", id, "--auto", "--json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        log = try cli.run(["log", id]).stdout
        #expect(log.components(separatedBy: "INJECT early_call").count == 2, "the inject was played twice:\n\(log)")
        #expect(log.components(separatedBy: "page_comms acknowledged").count == 2, "the player's ack was played again")
        let score = try Self.score(resumed)
        #expect(score["outcome"] as? String == "resolved")
        #expect(Self.injects(score) == ["early_call": true, "nudge": false])

        let speed = try cli.run(["drill", "\(Self.fixtures)/show-quick.yaml", "--speed", "0"])
        #expect(speed.status == 2)
        #expect(speed.stderr.contains("--speed must be a number above 0"))
    }

    @Test("the roster makes a person unreachable for this drill only: the escalation says why, on every replay")
    func roster() throws {
        var cli = try CLI()
        cli.env["COLUMNS"] = "200"
        defer { cli.remove() }
        let started = try cli.run(["drill", Self.example], stdin: Data("q\n".utf8))
        let id = try #require(started.stdout.split(separator: "\n").first { $0.hasPrefix("→ crisis drill resume ") }?
            .split(separator: " ").last.map(String.init), "\(started.stdout)\(started.stderr)")
        #expect(try cli.run(["act", id, "capture_evidence", "done", "--as", "sara.ali"]).status == 0)
        let show = try cli.run(["show", id, "page_lead"]).stdout
        #expect(show.contains("ingrid.berg paged outside availability (nobody in the deputy chain is available: "
                              + "ingrid.berg: on a flight from Tromsø, landing 23:40 until 2026-03-05T22:40:00.000Z"), "\(show)")
        #expect(try cli.run(["verify", id]).status == 0)
        // The directory itself is unchanged: a plain drill of the same playbook and contacts has no such note.
        let plain = try cli.run(["start", "Playbooks/employee-post-viral.yaml", "--drill", "--contacts", "Examples/contacts.yaml",
                                 "--clock", "2026-03-05T20:40:00+01:00", "--set", "post_url=https://x.com/a/status/1",
                                 "--set", "detected_at=2026-03-05T20:40:00+01:00"])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(try cli.run(["act", plain.lastLine, "capture_evidence", "done", "--as", "sara.ali"]).status == 0)
        #expect(!(try cli.run(["show", plain.lastLine, "page_lead"]).stdout.contains("on a flight")))

        // The scenario's e-mail outage (T+20m to T+90m) holds for the players' own commands too: the staff
        // briefing that kari's acknowledgement starts at T+25m fails in the sandbox.
        #expect(try cli.run(["tick", id, "--advance", "25m"]).status == 0)
        let ack = try cli.run(["act", id, "page_lead", "ack", "--as", "kari.nordmann"])
        #expect(ack.status == 0, "\(ack.stderr)")
        let log = TimelineTests.entries(try cli.run(["log", id, "--all"]).stdout).joined(separator: "\n")
        #expect(log.contains("outcome failed [brief_staff/notify/"), "\(log)")
        #expect(log.contains("drill: scripted outage: e-mail provider outage"))
    }

    @Test("a scenario's mistakes are all reported as file:line:column before anything starts")
    func badScenario() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let r = try cli.run(["drill", "\(Self.fixtures)/bad.yaml", "--auto"])
        #expect(r.status == 1)
        let file = "\(Self.fixtures)/bad.yaml"
        for expected in [
            "\(file):7:48: error: the playbook has no input 'no_such_input'",
            "\(file):9:25: error: 'at' of inject 'too_early' '-5m' is before the drill starts",
            "\(file):10:66: error: inject 'nowhere' opens \(Self.fixtures)/no-such-scenario.yaml, which cannot be read",
            "\(Self.fixtures)/opens-again.yaml:10:63: error: a scenario opened by another's inject cannot open a third incident",
            "\(file):13:3: error: the playbook has no step 'triag'; did you mean 'triage'?",
            "\(file):14:18: error: step 'check_facts' (task) has no action 'finish'",
            "\(file):14:41: error: the contacts directory has no person 'jonas.comm'; did you mean 'jonas.comms'?",
            "\(file):16:31: error: the playbook has no role 'lawyer'",
            "\(file):18:7: error: step 'removal' is scripted to end twice ('removed' and 'refused')",
            "\(file):20:6: error: no step of the playbook uses channel 'smss' (it uses: email, phone, sms, website, x); did you mean 'sms'?",
        ] {
            #expect(r.stderr.contains(expected), "\(expected)\n\(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: cli.db), "a refused scenario created the database")
        let check = try cli.run(["drill", "check", file, "\(Self.fixtures)/show-quick.yaml"], withDB: false)
        #expect(check.status == 1)
        #expect(check.stdout.contains("show-quick.yaml: ok"))
    }
}
