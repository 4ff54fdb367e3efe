import CrisisCore
import Foundation
import Testing

@testable import CrisisPlaybook

@Suite("Contacts loader")
struct ContactsTests {
    @Test("The fixture directory loads into the model: days 1-7, minutes, the zone's name")
    func fixture() throws {
        let (directory, diagnostics) = ContactsLoader.load(path: try Fixtures.path("valid/contacts.yaml"))
        #expect(diagnostics.isEmpty)
        let d = try #require(directory)
        #expect(d.people.map(\.id) == ["kari.nordmann", "ola.hansen", "lise.berg"])
        let kari = try #require(d.person("kari.nordmann"))
        #expect(kari.name == "Kari Nordmann")
        #expect(kari.roles == ["crisis_lead"])
        #expect(kari.deputy == "ola.hansen")
        #expect(kari.channels == [ContactChannel(type: "phone", address: "+47 900 00 001"),
                                  ContactChannel(type: "email", address: "kari@example.no")])
        let window = try #require(kari.availability.first)
        #expect(window.days == [1, 2, 3, 4, 5])
        #expect(window.fromMinute == 7 * 60)
        #expect(window.toMinute == 23 * 60)
        #expect(window.timeZone == "Europe/Oslo")
        #expect(d.timeZone == "Europe/Oslo")
        #expect(d.holders(of: "crisis_lead").map(\.id) == ["kari.nordmann", "ola.hansen"])
        let policy = try #require(d.policy("comms_crisis"))
        #expect(policy.repeats == 1)
        #expect(policy.levels.map(\.targets) == [[.role("comms_on_duty")], [.role("crisis_lead"), .person("kari.nordmann")]])
        #expect(policy.levels.map(\.ackTimeout) == [.minutes(10), .minutes(10)])
        #expect(policy.levels[0].channels == ["sms", "phone"])
    }

    @Test("Bad days, times and zones are reported where they are written")
    func badValues() {
        let yaml = """
            schema: crisis-contacts/v1
            timezone: Mars/Olympus
            people:
              a: {name: A, roles: [r], availability: [{days: [mon, funday], from: "7:00", to: "24:00"}]}
            """
        let (directory, diagnostics) = ContactsLoader.load(bytes: Array(yaml.utf8), path: "c.yaml")
        #expect(directory == nil)
        let positions = diagnostics.map { "\($0.location.line):\($0.location.column) \($0.code.rawValue)" }
        #expect(positions == ["2:11 bad-timezone", "4:56 bad-value", "4:71 bad-value"])
    }
}
