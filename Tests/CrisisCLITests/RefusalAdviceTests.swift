import Foundation
import Testing

/// The engine's refusals carry hints as data; the command line turns them into advice a person can type.
struct RefusalAdviceTests {
    static let mini = "Tests/CrisisCLITests/Fixtures/mini.yaml"

    @Test("a missing field and a missing role are refused with the --set and --role to give")
    func advice() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let start = try cli.run(["start", Self.mini, "--set", "post_url=https://x.com/someone/status/1", "--drill"])
        #expect(start.status == 0, "\(start.stderr)")
        let id = start.lastLine
        var r = try cli.run(["act", id, "triage", "choose", "--role", "comms"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("[missing-field]"))
        // One command per value, the person's own command with the field added (never `serious|minor`).
        #expect(r.stderr.contains("--set option=serious\n") && r.stderr.contains("--set option=minor\n"), "\(r.stderr)")
        #expect(!r.stderr.contains("|"), "\(r.stderr)")
        r = try cli.run(["act", id, "triage", "choose", "--set", "option=serious"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("[role-required]"))
        #expect(r.stderr.contains("--role comms"), "\(r.stderr)")
        // The refusal is recorded with its code, nothing else changed.
        let log = try cli.run(["log", id])
        #expect(log.stdout.contains("REFUSED triage choose"))
        #expect(log.stdout.contains("[role-required]"))
        let status = try cli.run(["status", id, "--json"]).json()
        #expect((status["active"] as? [[String: Any]])?.first?["step"] as? String == "triage")
    }
}
