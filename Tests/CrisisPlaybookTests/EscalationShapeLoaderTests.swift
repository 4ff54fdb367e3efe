import CrisisCore
import Foundation
import Testing

@testable import CrisisPlaybook

/// The escalation shapes, unavailability ranges, `deputy_holds_roles` and `conflicted` as the loaders read them,
/// and every bad form reported at its line and column.
@Suite("Escalation shapes: loader")
struct EscalationShapeLoaderTests {
    static func positions(_ diagnostics: [Diagnostic]) -> [String] {
        diagnostics.map { "\($0.location.line):\($0.location.column) \($0.code.rawValue)" }
    }

    @Test("Level shapes, stop_at_ack, reescalate_after and conflicted load into the model")
    func model() throws {
        let yaml = playbookYAML(
            top: """
                inputs:
                  conflicted_people: {type: text, prompt: "Who"}
                conflicted: conflicted_people
                """,
            steps: """
                  a:
                    type: escalate
                    title: Page
                    levels:
                      - {targets: [role:lead], inform: true, wait: "5m", channels: [email]}
                      - {targets: [kari, ola], ack: all, ack_timeout: "15m", channels: [phone, sms], attempts: sequential, every: "2m"}
                      - {targets: [per], ack_timeout: "10m", attempts: parallel}
                    stop_at_ack: true
                    reescalate_after: "30m"
                    message: M
                    next: {acknowledged: b, exhausted: b}
                  b: {type: end, outcome: ok}
                """)
        let result = loadYAML(yaml)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let pb = try #require(result.playbook)
        #expect(pb.conflicted?.value == "conflicted_people")
        guard case .escalate(let spec)? = pb.step("a")?.kind else {
            Issue.record("not an escalate step")
            return
        }
        #expect(spec.stopAtAck)
        #expect(spec.reescalateAfter == .minutes(30))
        #expect(spec.levels.map(\.inform) == [true, false, false])
        #expect(spec.levels.map(\.ackTimeout) == [.minutes(5), .minutes(15), .minutes(10)])
        #expect(spec.levels.map(\.ack) == [.any, .all, .any])
        #expect(spec.levels.map(\.attempts) == [.first, .sequential, .parallel])
        #expect(spec.levels.map(\.every) == [nil, .minutes(2), nil])
    }

    @Test("Bad level shapes are reported where they are written")
    func badShapes() {
        let yaml = playbookYAML(
            top: "conflicted: nobody_listed",
            steps: """
                  a:
                    type: escalate
                    title: Page
                    levels:
                      - {targets: [kari], inform: true, ack_timeout: "5m"}
                      - {targets: [kari], ack: most, ack_timeout: "5m", every: "1m"}
                      - {targets: [kari], wait: "5m", ack_timeout: "5m", attempts: sometimes}
                    stop_at_ack: false
                    reescalate_after: "30m"
                    message: M
                    next: {acknowledged: b, exhausted: b}
                  b: {type: end, outcome: ok}
                """)
        let result = loadYAML(yaml)
        #expect(Self.positions(result.diagnostics) == [
            "14:41 conflicting-keys", "15:32 bad-value", "15:64 conflicting-keys", "16:27 conflicting-keys",
            "16:68 bad-value", "18:23 conflicting-keys",
        ])
        let validated = PlaybookValidator.validate(
            loadYAML(playbookYAML(top: "conflicted: nobody_listed", steps: "  a: {type: end, outcome: ok}")).partial!,
            baseDirectory: "/tmp")
        #expect(validated.contains { $0.code == .unknownInput && $0.location.line == 7 && $0.location.column == 13 })
    }

    @Test("Unavailability ranges and deputy_holds_roles load; ranges are instants with offsets")
    func unavailable() throws {
        let yaml = """
            schema: crisis-contacts/v1
            timezone: Europe/Oslo
            people:
              kari:
                name: Kari
                roles: [legal]
                deputy_holds_roles: true
                unavailable:
                  - {from: "2026-01-10T08:00:00+01:00", until: "2026-01-12T08:00:00+01:00", reason: on a flight}
                  - {from: "2026-03-01T00:00:00Z", until: "2026-03-02T00:00:00Z"}
            """
        let (directory, diagnostics) = ContactsLoader.load(bytes: Array(yaml.utf8), path: "c.yaml")
        #expect(diagnostics.isEmpty)
        let kari = try #require(directory?.person("kari"))
        #expect(kari.deputyHoldsRoles)
        #expect(kari.unavailable == [
            Unavailability(from: ISO8601.parse("2026-01-10T07:00:00Z")!, until: ISO8601.parse("2026-01-12T07:00:00Z")!,
                           reason: "on a flight"),
            Unavailability(from: ISO8601.parse("2026-03-01T00:00:00Z")!, until: ISO8601.parse("2026-03-02T00:00:00Z")!),
        ])
        #expect(kari.unavailability(at: ISO8601.parse("2026-01-11T12:00:00Z")!) == "on a flight until 2026-01-12T07:00:00.000Z")
        #expect(kari.isAvailable(at: ISO8601.parse("2026-01-12T07:00:00Z")!))
    }

    @Test("A range ending before it starts, overlapping ranges, overlapping windows, no offset: file:line:col")
    func badRanges() {
        let yaml = """
            schema: crisis-contacts/v1
            timezone: Europe/Oslo
            people:
              kari:
                name: Kari
                roles: [legal]
                availability:
                  - {days: [mon, tue], from: "08:00", to: "16:00"}
                  - {days: [tue], from: "15:00", to: "18:00"}
                  - {days: [sun], from: "22:00", to: "09:00"}
                unavailable:
                  - {from: "2026-01-12T08:00:00+01:00", until: "2026-01-10T08:00:00+01:00"}
                  - {from: "2026-02-01T00:00:00Z", until: "2026-02-05T00:00:00Z"}
                  - {from: "2026-02-04T00:00:00Z", until: "2026-02-06T00:00:00Z"}
                  - {from: "2026-03-01 08:00", until: "2026-03-02T00:00:00Z"}
            """
        let (directory, diagnostics) = ContactsLoader.load(bytes: Array(yaml.utf8), path: "c.yaml")
        #expect(directory == nil)
        #expect(diagnostics.map(\.location.file) == Array(repeating: "c.yaml", count: 5))
        #expect(Self.positions(diagnostics) == [
            "9:9 bad-value", "10:9 bad-value", "12:52 bad-value", "14:9 bad-value", "15:16 bad-value",
        ])
        #expect(diagnostics[0].message.contains("overlaps the one at line 8"))
        #expect(diagnostics[1].message.contains("overlaps the one at line 8"))
        #expect(diagnostics[2].message.contains("before it starts"))
        #expect(diagnostics[3].message.contains("overlaps the one at line 13"))
    }

    @Test("Policies take the same level keys")
    func policyShapes() throws {
        let yaml = """
            schema: crisis-contacts/v1
            people:
              kari: {name: Kari, roles: [legal]}
            policies:
              p:
                levels:
                  - {targets: [kari], inform: true}
                  - {targets: ["role:legal"], ack: all, ack_timeout: "10m", attempts: sequential, every: "3m", channels: [phone, sms]}
            """
        let (directory, diagnostics) = ContactsLoader.load(bytes: Array(yaml.utf8), path: "c.yaml")
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let levels = try #require(directory?.policy("p")?.levels)
        #expect(levels.map(\.inform) == [true, false])
        #expect(levels.map(\.ackTimeout) == [.zero, .minutes(10)])
        #expect(levels[1].ack == .all)
        #expect(levels[1].attempts == .sequential)
        #expect(levels[1].every == .minutes(3))
    }
}
