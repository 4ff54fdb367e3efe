import Foundation
import Testing

/// A refused first `start` leaves no database behind; a refused later one leaves the database as it was.
struct StartRefusalTests {
    @Test("a start refused for a missing input creates no database file; a later refusal keeps the existing one")
    func refusedStartLeavesNoFile() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let viral = CLI.root.appendingPathComponent("Playbooks/employee-post-viral.yaml").path
        let refused = try cli.run(["start", viral])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("missing required inputs"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cli.db), "a refused start left \(cli.db)")
        // So the next command says there is no database, not "no open incident in this database".
        let status = try cli.run(["status"])
        #expect(status.stderr.contains("no database at"), "\(status.stderr)")

        let started = try cli.run(["start", viral, "--drill", "--set", "post_url=https://x.com/a/status/1",
                                   "--set", "detected_at=now"])
        #expect(started.status == 0, "\(started.stderr)")
        let again = try cli.run(["start", viral])
        #expect(again.status == 1)
        #expect(FileManager.default.fileExists(atPath: cli.db))
        #expect(try cli.run(["status", started.lastLine]).status == 0)
    }
}
