import Foundation
import Testing

/// Replay depends on the trail alone: not on the process's clock, time zone or season. Availability windows are
/// evaluated in the contacts directory's own zone, with the offset of each instant.
struct ReplayPurityTests {
    static let faketime: String? = ["/usr/bin/faketime", "/usr/local/bin/faketime"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// A sev1 outage drill of the shipped playbook at `clock`, with the example directory.
    func startOutage(_ cli: CLI, clock: String) throws -> String {
        let r = try cli.run([
            "start", "Playbooks/service-outage.yaml", "--drill", "--contacts", "Examples/contacts.yaml", "--clock", clock,
            "--set", "detected_at=\(clock)", "--set", "affected_service=Fiber", "--set", "area=Tromsø",
            "--set", "service_type=broadband", "--set", "severity=sev1",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        return r.lastLine
    }

    /// Who the first level of `page_major` paged, from the intents in the trail.
    func firstPages(_ cli: CLI, _ id: String) throws -> Set<String> {
        let records = try #require(try JSONSerialization.jsonObject(
            with: Data(try cli.run(["log", id, "--json"]).stdout.utf8)) as? [[String: Any]])
        var out: Set<String> = []
        for r in records where r["type"] as? String == "action.intent" {
            let body = try #require(r["body"] as? [String: Any])
            out.formUnion(body["recipients"] as? [String] ?? [])
        }
        return out
    }

    @Test("at 08:30 Oslo time the night rota has ended and the day rota has begun, in summer and in winter alike",
          arguments: ["2026-07-15T08:30:00+02:00", "2026-01-14T08:30:00+01:00"])
    func availabilityBySeason(_ clock: String) throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startOutage(cli, clock: clock)
        let paged = try firstPages(cli, id)
        // Ingrid's window is 16:00-08:00, Jonas's 07:30-17:00 (Examples/contacts.yaml, Europe/Oslo).
        #expect(paged.contains("jonas.lie"))
        #expect(!paged.contains("ingrid.berg"))
    }

    @Test("the same trail gives byte-identical status and log under any TZ")
    func sameUnderAnyZone() throws {
        var cli = try CLI()
        defer { cli.remove() }
        let id = try startOutage(cli, clock: "2026-07-15T08:30:00+02:00")
        _ = try cli.run(["tick", id, "--advance", "6m"])
        var outputs: Set<String> = []
        for zone in ["UTC", "Europe/Oslo", "Pacific/Auckland", "America/St_Johns"] {
            cli.env["TZ"] = zone
            outputs.insert(try cli.run(["status", id, "--json"]).stdout + (try cli.run(["log", id]).stdout))
        }
        #expect(outputs.count == 1)
    }

    @Test("the same trail gives byte-identical status in January and in July (faketime)",
          .enabled(if: faketime != nil, "needs faketime (apt-get install faketime)"))
    func sameInEverySeason() throws {
        let faketime = try #require(Self.faketime)
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startOutage(cli, clock: "2026-07-15T08:30:00+02:00")
        _ = try cli.run(["tick", id, "--advance", "6m"])
        var outputs: Set<String> = []
        for when in ["2027-01-15 12:00:00", "2027-07-15 12:00:00"] {
            let r = try cli.runShell("TZ=Europe/Oslo \(faketime) '\(when)' \(CLI.binary) status \(id) --json --db \(cli.db)")
            #expect(r.status == 0, "\(r.stderr)")
            outputs.insert(r.stdout)
        }
        #expect(outputs.count == 1)
        // Started under a winter wall clock, the summer drill still pages by summer time.
        let winter = try cli.runShell(
            "cd '\(CLI.root.path)' && \(faketime) '2027-01-15 12:00:00' \(CLI.binary) start Playbooks/service-outage.yaml --drill "
                + "--contacts Examples/contacts.yaml --clock 2026-07-15T08:30:00+02:00 "
                + "--set detected_at=2026-07-15T08:30:00+02:00 --set affected_service=Fiber --set area=Tromsø "
                + "--set service_type=broadband --set severity=sev1 --db \(cli.db)")
        #expect(winter.status == 0, "\(winter.stderr)")
        let paged = try firstPages(cli, winter.lastLine)
        #expect(paged.contains("jonas.lie") && !paged.contains("ingrid.berg"))
    }
}
