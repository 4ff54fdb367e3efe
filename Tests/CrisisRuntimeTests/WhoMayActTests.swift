import CrisisAudit
import CrisisCore
@testable import CrisisRuntime
import Foundation
import Testing

/// Who may acknowledge, through the whole pipeline on a real SQLite file: `by` defaults to the operator, must be
/// a directory person (did-you-mean otherwise), must have been paged; refusals are recorded; a deputy standing in
/// holds the absent person's roles when the directory says so.
struct WhoMayActTests {
    static let t0 = ISO8601.parse("2026-01-14T10:00:00+01:00")!

    static let playbook = """
        schema: crisis-playbook/v1
        id: who-may-act
        version: "1"
        title: Who may act
        roles:
          lead: {title: Lead, lead: true}
          hr: {title: HR}
        inputs:
          conflicted_people: {type: text, prompt: "Who is the incident about?"}
        conflicted: conflicted_people
        start: page
        steps:
          page:
            type: escalate
            title: Page HR
            levels:
              - {targets: ["role:hr"], ack_timeout: "10m", channels: [phone, sms], attempts: sequential}
            message: "HR: {{incident.title}}"
            next: {acknowledged: work, exhausted: work}
          work:
            type: task
            title: HR work
            role: hr
            timeout: "1h"
            next: {done: fin, skipped: fin, timeout: fin}
          fin: {type: end, outcome: ok}
        """

    static func contacts(theaAway: Bool) -> String {
        """
        schema: crisis-contacts/v1
        timezone: Europe/Oslo
        people:
          thea.larsen:
            name: Thea Larsen
            roles: [hr]
            channels: [{type: phone, address: "+47 1"}, {type: sms, address: "+47 1"}]
            deputy: mo.rahimi
            deputy_holds_roles: true
        \(theaAway ? "    unavailable: [{from: \"2026-01-10T00:00:00+01:00\", until: \"2026-01-20T00:00:00+01:00\", reason: on leave}]" : "")
          mo.rahimi:
            name: Mo Rahimi
            roles: [comms]
            channels: [{type: phone, address: "+47 2"}]
          lena.lead:
            name: Lena Lead
            roles: [lead]
          per.olsen:
            name: Per Olsen
            roles: [comms]
        """
    }

    struct Fixture {
        let dir: URL
        let service: IncidentService
        let id: String
        init(theaAway: Bool = false, conflicted: String = "") throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("crisis-who-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let pb = dir.appendingPathComponent("p.yaml").path
            let contacts = dir.appendingPathComponent("c.yaml").path
            try WhoMayActTests.playbook.write(toFile: pb, atomically: true, encoding: .utf8)
            try WhoMayActTests.contacts(theaAway: theaAway).write(toFile: contacts, atomically: true, encoding: .utf8)
            service = IncidentService(store: try AuditStore(path: dir.appendingPathComponent("a.sqlite").path))
            id = try service.start(.init(
                playbookPath: pb, contactsPath: contacts, inputs: [("conflicted_people", conflicted)], mode: .drill,
                actor: Actor(name: "lena.lead"), wallNow: WhoMayActTests.t0, simulatedStart: WhoMayActTests.t0
            )).incident.header.id
        }
        func remove() { try? FileManager.default.removeItem(at: dir) }

        func act(_ step: String, _ action: String, _ fields: [(String, String)] = [], as actor: Actor) throws -> CommitResult {
            try service.act(.init(incident: id, step: step, action: action, fields: fields, actor: actor,
                                  wallNow: WhoMayActTests.t0))
        }

        /// The refusal's code and hint, and that exactly one `input.rejected` record was written for it.
        func refusal(_ step: String, _ action: String, _ fields: [(String, String)] = [], as actor: Actor)
            throws -> (code: String, message: String, hint: RejectionHint?)
        {
            let before = try service.store.events(incident: id)
            do {
                _ = try act(step, action, fields, as: actor)
            } catch RuntimeError.refused(let code, let message, let hint) {
                let after = try service.store.events(incident: id)
                #expect(after.count == before.count + 1)
                #expect(after.last?.type == RecordType.rejected)
                return (code, message, hint)
            }
            Issue.record("accepted")
            return ("", "", nil)
        }
    }

    func escalation(_ state: IncidentState) -> EscalationRun? {
        if case .escalation(let e) = state.history.first(where: { $0.instance == "page" })?.detail { return e }
        if case .escalation(let e) = state.run("page")?.detail { return e }
        return nil
    }

    @Test("an ack by someone not in the directory is refused with a did-you-mean, and the refusal recorded")
    func unknownBy() throws {
        let f = try Fixture()
        defer { f.remove() }
        let r = try f.refusal("page", "ack", [("by", "thea.larsn")], as: Actor(name: "lena.lead"))
        #expect(r.code == "unknown-person")
        #expect(r.hint == .didYouMean(["thea.larsen"]))
        #expect(r.message == "'thea.larsn' is not in the incident's contacts directory, so cannot be recorded as acknowledging; did you mean 'thea.larsen'?")
        #expect(try f.service.load(f.id).state.run("page") != nil)
    }

    @Test("by defaults to the operator; someone not paged is refused; the ack records person and channel")
    func defaultsAndPaged() throws {
        let f = try Fixture()
        defer { f.remove() }
        let r = try f.refusal("page", "ack", as: Actor(name: "per.olsen"))
        #expect(r.code == "not-paged")
        #expect(r.hint == .peopleAllowed(["thea.larsen"]))
        let accepted = try f.act("page", "ack", as: Actor(name: "Thea Larsen"))
        let e = try #require(escalation(accepted.incident.state))
        #expect(e.acks == [AckRecord(person: "thea.larsen", channel: "phone", standingInFor: nil, counted: true,
                                     level: 0, round: 0, recordedBy: "Thea Larsen", at: Self.t0)])
        #expect(e.acknowledgedBy == "thea.larsen")  // the shell records `by` as the directory id
        #expect(accepted.incident.state.active.map(\.instance) == ["work"])
        // Replay gives the same state.
        #expect(try f.service.load(f.id).state == accepted.incident.state)
    }

    @Test("a deputy standing in holds the absent person's roles for the incident")
    func deputyHoldsRoles() throws {
        let away = try Fixture(theaAway: true)
        defer { away.remove() }
        let loaded = try away.service.load(away.id)
        #expect(escalation(loaded.state)?.levels[0].substitutions.first?.standIn == "mo.rahimi")
        #expect(loaded.state.rolesHeld(by: "mo.rahimi") == ["hr"])
        _ = try away.act("page", "ack", as: Actor(name: "mo.rahimi"))
        let done = try away.act("work", "done", as: Actor(name: "mo.rahimi", role: "hr"))
        #expect(done.incident.state.status == .closed(outcome: "ok"))

        let present = try Fixture()
        defer { present.remove() }
        _ = try present.act("page", "ack", as: Actor(name: "thea.larsen"))
        let r = try present.refusal("work", "done", as: Actor(name: "mo.rahimi", role: "hr"))
        #expect(r.code == "role-not-held")
    }

    @Test("a conflicted person may not close or acknowledge, even holding a lead role")
    func conflicted() throws {
        let f = try Fixture(conflicted: "Lena Lead")
        defer { f.remove() }
        #expect(try f.refusal("page", "ack", as: Actor(name: "lena.lead")).code == "conflicted-person")
        let close = try f.refusal("incident", "close", [("outcome", "x"), ("reason", "y")], as: Actor(name: "lena.lead", role: "lead"))
        #expect(close.code == "conflicted-person")
    }
}
