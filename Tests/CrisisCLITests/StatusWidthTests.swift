import Foundation
import Testing

/// `status` is read in small terminals: every line fits 80 columns, and a suggested command that had to break
/// still runs when pasted as printed.
struct StatusWidthTests {
    @Test("status of a fresh breach drill fits 80 columns, and its wrapped act command runs as printed")
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
        // The first suggested command, with its continuation lines, as a person would paste it.
        let first = try #require(lines.firstIndex { $0.contains("→ crisis act") && $0.hasSuffix(" \\") })
        var command = String(lines[first].split(separator: "→", maxSplits: 1)[1])
        var i = first
        while lines[i].hasSuffix(" \\") {
            i += 1
            command += "\n" + lines[i]
        }
        #expect(command.contains("ack"))
        command = command.replacingOccurrences(of: "…", with: "henrik.moe")
            .replacingOccurrences(of: " crisis act", with: "\"$CRISIS\" act") + " --db \"$DB\" --as henrik.moe"
        let pasted = try cli.runShell(command)
        #expect(pasted.status == 0, "\(command)\n\(pasted.stderr)")
        let log = try cli.run(["log", id])
        #expect(log.stdout.contains("acknowledged by henrik.moe"))
    }
}
