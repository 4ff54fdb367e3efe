import Foundation
import Testing

/// A drill's score and its after-action report count each cadence's occurrences, met and missed.
struct CadenceReportTests {
    @Test("the outage drill's score and after-action report list the update cadence: 6 of 7 met, the first missed")
    func outageDrillCadence() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let drill = try cli.run(["drill", "Examples/drills/service-outage.yaml", "--auto"])
        #expect(drill.status == 0, "\(drill.stderr)")
        #expect(drill.stdout.contains("public_updates  every 30m: 6 of 7 met, 1 MISSED"), "\(drill.stdout)")
        let id = String(try #require(try /service-outage-\d{8}-[0-9a-f]+/.firstMatch(in: drill.stdout)).output)
        let score = try #require(try JSONSerialization.jsonObject(
            with: Data(try cli.run(["drill", "score", id, "--json"]).stdout.utf8)) as? [String: Any])
        let cadence = try #require((score["cadences"] as? [[String: Any]])?.first)
        #expect(cadence["id"] as? String == "public_updates")
        #expect(cadence["met"] as? Int == 6)
        #expect(cadence["missed"] as? Int == 1)
        let md = try cli.run(["export", id, "--format", "md"]).stdout
        #expect(md.contains("| Cadence | Every | Occurrences | Met | Missed | Missed occurrences |"), "\(md)")
        #expect(md.contains("(public_updates) | 30m | 7 | 6 | **1** | #1 due "), "\(md)")
    }
}
