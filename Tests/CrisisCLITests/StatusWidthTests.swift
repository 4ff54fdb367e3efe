import Foundation
import Testing

/// `status` is read in small terminals: every line fits 80 columns, and a suggested command (broken with ` \`
/// where it must) still runs when pasted as printed.
struct StatusWidthTests {
    @Test("status of a fresh breach drill fits 80 columns, and its ack command runs as printed")
    func fitsAndPastes() throws {
        var cli = try CLI()
        defer { cli.remove() }
        cli.env["COLUMNS"] = "80"
        let start = try cli.run([
            "start", "Playbooks/customer-data-breach.yaml", "--drill", "--contacts", "Examples/contacts.yaml",
            "--clock", "2026-03-02T09:00:00+01:00", "--set", "aware_at=2026-03-02T09:00:00+01:00",
            "--set", "breach_summary=Backup bucket exposed", "--set", "people_affected=1200",
            "--set", "nis2_scope=important",
        ])
        #expect(start.status == 0, "\(start.stderr)")
        let id = start.lastLine
        let text = try cli.run(["status", id])
        #expect(text.status == 0)
        let lines = text.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for line in lines { #expect(line.count <= 80, "wider than 80 columns: \(line)") }
        // The ack command (with its continuation lines, if it had to break), as a person would paste it. With
        // the contacts directory `by` defaults to the operator, so there is nothing to fill in.
        let command = try #require(SuggestedCommandTests.commands(in: text.stdout).first { $0.contains(" ack") })
        #expect(!command.contains("…") && !command.contains("..."), "\(command)")
        let line = "\"$CRISIS\"" + command.dropFirst("crisis".count) + " --db \"$DB\" --as henrik.moe"
        let pasted = try cli.runShell(line)
        #expect(pasted.status == 0, "\(line)\n\(pasted.stderr)")
        let log = try cli.run(["log", id])
        #expect(TimelineTests.entries(log.stdout).contains { $0.contains("acknowledged by henrik.moe") })
    }
}
