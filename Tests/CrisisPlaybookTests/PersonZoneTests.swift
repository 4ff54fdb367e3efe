import CrisisCore
import Foundation
import Testing

@testable import CrisisPlaybook

/// A person's own time zone in the contacts directory (issue 14, item 6): their availability windows are in it,
/// and their local time can be shown beside their name.
@Suite("Contacts: a person's own time zone")
struct PersonZoneTests {
    static let yaml = """
        schema: crisis-contacts/v1
        timezone: Europe/Oslo
        people:
          kari.nordmann:
            name: Kari Nordmann
            roles: [crisis_lead]
            availability: [{days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}]
          jane.whitfield:
            name: Jane Whitfield, outside counsel
            roles: [legal]
            timezone: America/New_York
            availability: [{days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}]
        """

    @Test("windows in the person's own zone; local time across the US DST change; the directory's zone for the others")
    func ownZone() throws {
        let (directory, diagnostics) = ContactsLoader.load(bytes: Array(Self.yaml.utf8), path: "c.yaml")
        #expect(!diagnostics.hasErrors, "\(diagnostics)")
        let c = try #require(directory)
        let kari = try #require(c.person(named: "kari.nordmann"))
        let jane = try #require(c.person(named: "jane.whitfield"))
        #expect(jane.timeZone == "America/New_York")
        #expect(kari.timeZone == nil && kari.localTime(at: Instant(millisecondsSinceEpoch: 0)) == nil)
        // Monday 2 March 2026, 10:00 in Oslo is 04:00 in New York: Kari is in her window, Jane is not.
        let osloMorning = try #require(ISO8601.parse("2026-03-02T10:00:00+01:00"))
        #expect(kari.isAvailable(at: osloMorning))
        #expect(!jane.isAvailable(at: osloMorning))
        #expect(jane.localTime(at: osloMorning) == "04:00 America/New_York")
        // 16:00 in Oslo is 10:00 in New York (EST, UTC-5): both are.
        let osloAfternoon = try #require(ISO8601.parse("2026-03-02T16:00:00+01:00"))
        #expect(jane.isAvailable(at: osloAfternoon))
        // After the US change to summer time (8 March) and before Europe's (29 March), New York is only 5 hours
        // behind Oslo: 14:30 in Oslo is 09:30 in New York, inside Jane's window.
        let gap = try #require(ISO8601.parse("2026-03-16T14:30:00+01:00"))
        #expect(jane.localTime(at: gap) == "09:30 America/New_York")
        #expect(jane.isAvailable(at: gap))
        #expect(!kari.isAvailable(at: try #require(ISO8601.parse("2026-03-16T17:30:00+01:00"))))
    }

    @Test("an unknown zone for a person is an error at its line and column")
    func unknownZone() {
        let bad = Self.yaml.replacingOccurrences(of: "timezone: America/New_York", with: "timezone: America/Gotham")
        let (directory, diagnostics) = ContactsLoader.load(bytes: Array(bad.utf8), path: "c.yaml")
        #expect(directory == nil)
        #expect(diagnostics.contains {
            $0.description == "c.yaml:11:15: error: unknown time zone 'America/Gotham' for person 'jane.whitfield'; use an IANA name such as America/New_York [bad-timezone]"
        }, "\(diagnostics.map(\.description))")
    }
}
