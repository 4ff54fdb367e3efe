import Foundation
import Testing

/// `crisis deadline` with the real binary: deadlines of catalog clocks, the catalog, and bad input.
@Suite("crisis deadline")
struct DeadlineTests {
    func deadline(_ args: [String], env: [String: String] = [:]) throws -> CLI.Result {
        let cli = try CLI()
        defer { cli.remove() }
        return try cli.run(["deadline"] + args, withDB: false, env: env)
    }

    @Test("--json gives clock, from, due (UTC), due_local and the calendar; GDPR across the spring DST change")
    func gdprJSON() throws {
        let r = try deadline(["gdpr-art33", "--from", "2026-03-27T16:40+01:00", "--tz", "Europe/Oslo", "--json"])
        #expect(r.status == 0)
        let j = try r.json()
        #expect(j["clock"] as? String == "gdpr-art33")
        #expect(j["from"] as? String == "2026-03-27T15:40:00Z")
        #expect(j["due"] as? String == "2026-03-30T15:40:00Z")
        #expect(j["due_local"] as? String == "2026-03-30T17:40:00+02:00")
        #expect(j["calendar"] as? String == "none")
        #expect(j["counts"] as? String == "72h elapsed")
        #expect((j["warnings"] as? [[String: Any]])?.first?["at_local"] as? String == "2026-03-29T17:40:00+02:00")
    }

    @Test("The DMCA restore window across Thanksgiving: not_before and not_after, the holiday it skipped")
    func dmcaWindow() throws {
        let r = try deadline(["dmca-counter-notice-restore", "--from", "2026-11-16T10:00-05:00", "--json"])
        #expect(r.status == 0)
        let j = try r.json()
        #expect(j["calendar"] as? String == "us-federal")
        #expect(j["not_before"] as? String == "2026-12-02T05:00:00Z")
        #expect(j["not_after"] as? String == "2026-12-08T04:59:59Z")
        #expect(j["due"] as? String == "2026-12-08T04:59:59Z")
        #expect(j["not_after_local"] as? String == "2026-12-07T23:59:59-05:00")
        let skipped = (j["holidays_skipped"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(skipped == ["Thanksgiving Day"])
        // The human form says the same.
        let text = try deadline(["dmca-counter-notice-restore", "--from", "2026-11-16T10:00-05:00"])
        #expect(text.stdout.contains("not before 2026-12-02 00:00 -05:00"))
        #expect(text.stdout.contains("not after  2026-12-07 23:59 -05:00"))
        #expect(text.stdout.contains("skipped    2026-11-26 Thanksgiving Day"))
    }

    @Test("SEC 8-K: four business days over a Monday holiday, shown in the zone asked for")
    func sec8k() throws {
        let r = try deadline(["sec-8k", "--from", "2026-01-16T11:00-05:00", "--tz", "Europe/Oslo", "--json"])
        let j = try r.json()
        #expect(j["due"] as? String == "2026-01-23T22:30:00Z")
        #expect(j["due_local"] as? String == "2026-01-23T23:30:00+01:00")
        #expect(j["counting_zone"] as? String == "America/New_York")
        #expect(j["zone"] as? String == "Europe/Oslo")
    }

    @Test("A local time is read in --tz; without an offset or --tz it is refused")
    func localTime() throws {
        let r = try deadline(["nis2-early-warning", "--from", "2026-10-24T10:00", "--tz", "Europe/Oslo", "--json"])
        #expect(try r.json()["due"] as? String == "2026-10-25T08:00:00Z")
        let bare = try deadline(["nis2-early-warning", "--from", "2026-10-24T10:00"])
        #expect(bare.status == 1)
        #expect(bare.stderr.contains("has no offset"))
        #expect(bare.stderr.contains("--tz"))
    }

    @Test("Bad input: an unknown clock (nearest name and the list), a bad time, an unknown zone, usage")
    func badInput() throws {
        let unknown = try deadline(["gdpr-art-33", "--from", "2026-01-01T00:00Z"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("unknown clock 'gdpr-art-33'; did you mean 'gdpr-art33'?"))
        #expect(unknown.stderr.contains("sec-8k"))
        let json = try deadline(["nope", "--from", "2026-01-01T00:00Z", "--json"])
        #expect(json.status == 1)
        #expect((try json.json()["error"] as? [String: Any])?["hint"] as? String == "crisis deadline --list")
        let time = try deadline(["sec-8k", "--from", "yesterday"])
        #expect(time.status == 1)
        #expect(time.stderr.contains("'yesterday' is not a time"))
        let zone = try deadline(["sec-8k", "--from", "2026-01-01T00:00Z", "--tz", "Mars/Olympus"])
        #expect(zone.status == 1)
        #expect(zone.stderr.contains("unknown time zone 'Mars/Olympus'"))
        #expect(try deadline(["sec-8k"]).status == 2)
        #expect(try deadline([]).status == 2)
        #expect(try deadline(["--list", "sec-8k"]).status == 2)
    }

    @Test("--list shows every clock within 80 columns; --list --json has them all with their sources")
    func list() throws {
        let r = try deadline(["--list"])
        #expect(r.status == 0)
        for name in ["gdpr-art33", "gdpr-art34", "nis2-final-report", "no-nsm-report", "sec-8k", "dmca-counter-notice-restore"] {
            #expect(r.stdout.contains(name))
        }
        for line in r.stdout.split(separator: "\n") { #expect(line.count <= 80, "\(line)") }
        let j = try deadline(["--list", "--json"])
        let items = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [[String: Any]])
        #expect(items.count >= 10)
        #expect(items.allSatisfy { ($0["source"] as? String)?.isEmpty == false })
        #expect(items.first { $0["name"] as? String == "sec-8k" }?["calendar"] as? String == "us-federal")
    }

    @Test("The same answer whatever the process's TZ (the engine never uses the current zone)")
    func anyZone() throws {
        let args = ["dmca-counter-notice-restore", "--from", "2026-11-16T23:30-05:00", "--json"]
        let utc = try deadline(args, env: ["TZ": "UTC"]).stdout
        for zone in ["Pacific/Chatham", "Asia/Kathmandu", "America/St_Johns"] {
            #expect(try deadline(args, env: ["TZ": zone]).stdout == utc)
        }
        let local = ["internal-post-incident-review", "--from", "2026-12-18T15:00", "--tz", "Europe/Oslo"]
        #expect(try deadline(local, env: ["TZ": "Pacific/Kiritimati"]).stdout == deadline(local, env: ["TZ": "UTC"]).stdout)
    }

    @Test("crisis validate names an unknown catalog clock at file:line:column and suggests the nearest")
    func validateUnknown() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let file = cli.dir.appendingPathComponent("pb.yaml")
        try """
            schema: crisis-playbook/v1
            id: pb
            version: "1"
            title: PB
            roles:
              lead: {title: Lead, lead: true}
            clocks:
              filing:
                clock: sec8k
            start: a
            steps:
              a: {type: clock, title: Start, clock: filing, op: start, next: z}
              z: {type: end, title: Done, outcome: resolved}
            """.write(to: file, atomically: true, encoding: .utf8)
        let r = try cli.run(["validate", file.path], withDB: false)
        #expect(r.status == 1)
        #expect(r.stdout.contains("pb.yaml:9:12: error: clock 'filing': unknown clock 'sec8k' in the catalog of regulatory clocks"))
        #expect(r.stdout.contains("did you mean 'sec-8k'?"))
    }

    @Test("An incident with catalog clocks replays to the same state under any TZ; the 8-K deadline skips MLK Day")
    func replayAnyZone() throws {
        var cli = try CLI()
        defer { cli.remove() }
        let file = cli.dir.appendingPathComponent("filing.yaml")
        try """
            schema: crisis-playbook/v1
            id: filing
            version: "1"
            title: Filing
            timezone: America/New_York
            roles:
              lead: {title: Lead, lead: true}
            clocks:
              form_8k: {clock: sec-8k}
              final: {clock: nis2-final-report}
            start: a
            steps:
              a: {type: clock, title: Start 8-K, clock: form_8k, op: start, next: b}
              b: {type: clock, title: Start final, clock: final, op: start, next: t}
              t: {type: task, title: File, role: lead, timeout: "30d", next: {done: z, skipped: z, timeout: z}}
              z: {type: end, title: Done, outcome: resolved}
            """.write(to: file, atomically: true, encoding: .utf8)
        let start = try cli.run(["start", file.path, "--drill", "--clock", "2026-01-16T12:00:00-05:00"])
        #expect(start.status == 0, "\(start.stderr)")
        let id = start.lastLine
        var outputs: Set<String> = []
        for zone in ["UTC", "Pacific/Chatham", "Asia/Kathmandu", "America/St_Johns"] {
            cli.env["TZ"] = zone
            outputs.insert(try cli.run(["status", id, "--json"]).stdout)
        }
        #expect(outputs.count == 1)
        let status = try #require(outputs.first)
        let clocks = try #require(
            (try JSONSerialization.jsonObject(with: Data(status.utf8)) as? [String: Any])?["clocks"] as? [[String: Any]])
        let deadlines = clocks.compactMap { $0["deadline"] as? String }
        #expect(deadlines.count == 2)
        #expect(deadlines.first?.contains("2026-01-23") == true && deadlines.first?.contains("17:30") == true, "\(deadlines)")
        #expect(deadlines.last?.contains("2026-02-16") == true && deadlines.last?.contains("23:59") == true, "\(deadlines)")
    }
}
