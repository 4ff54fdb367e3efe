import CrisisCore
import CrisisPlaybook
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Escalation availability is a function of the trail: the directory's zone by name, its offset per instant, no
/// clock and no process time zone anywhere (issue 7, item 1).
@Suite("Engine: who is paged depends on the instant, not on the season or TZ of the process", .serialized)
struct AvailabilityZoneTests {
    static let contacts = """
        schema: crisis-contacts/v1
        timezone: Europe/Oslo
        people:
          kari:
            name: Kari
            roles: [comms]
            deputy: ola
            availability: [{days: [mon, tue, wed, thu, fri, sat, sun], from: "09:00", to: "10:00"}]
          ola: {name: Ola, roles: [backup]}
        """

    static func pages(at text: String) throws -> (targets: [String], state: IncidentState, actions: [EngineAction]) {
        let directory = try #require(ContactsLoader.load(bytes: Array(contacts.utf8), path: "c.yaml").directory)
        let pb = playbook([
            step(
                "page",
                .escalate(EscalateSpec(levels: [EscalationLevel(targets: [loc(PageTarget.role("comms"))], ackTimeout: dur("10m"))], message: "m")),
                next: ["acknowledged": "fin", "exhausted": "fin"]),
            end("fin", "resolved"),
        ])
        let (state, actions) = Engine.start(definition(pb, contacts: directory), at: at(text))
        let targets = actions.compactMap { action -> [String]? in
            if case .deliver(let d) = action { d.recipients } else { nil }
        }.flatMap { $0 }
        return (targets, state, actions)
    }

    @Test("Kari (09:00-10:00 Europe/Oslo) is paged at 09:30 local in July and January; her deputy at 10:30")
    func seasons() throws {
        #expect(try Self.pages(at: "2025-07-15T09:30:00+02:00").targets == ["kari"])
        #expect(try Self.pages(at: "2025-07-15T10:30:00+02:00").targets == ["ola"])
        #expect(try Self.pages(at: "2025-01-15T09:30:00+01:00").targets == ["kari"])
        #expect(try Self.pages(at: "2025-01-15T10:30:00+01:00").targets == ["ola"])
    }

    @Test("Loading and starting under different process time zones gives identical states and actions")
    func processTimeZone() throws {
        let instants = ["2025-07-15T09:30:00+02:00", "2025-07-15T10:30:00+02:00", "2025-01-15T09:30:00+01:00"]
        let saved = getenv("TZ").map { String(cString: $0) }
        defer {
            if let saved { setenv("TZ", saved, 1) } else { unsetenv("TZ") }
            tzset()
        }
        var reference: [(IncidentState, [EngineAction])] = []
        for zone in ["UTC", "America/New_York", "Asia/Tokyo", "Europe/Oslo"] {
            setenv("TZ", zone, 1)
            tzset()
            let seen = try instants.map { text in
                let r = try Self.pages(at: text)
                return (r.state, r.actions)
            }
            if reference.isEmpty {
                reference = seen
            } else {
                for (a, b) in zip(reference, seen) {
                    #expect(a.0 == b.0, "TZ=\(zone)")
                    #expect(a.1 == b.1, "TZ=\(zone)")
                }
            }
        }
    }
}
