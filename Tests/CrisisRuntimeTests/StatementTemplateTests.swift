import CrisisAudit
import CrisisCore
import CrisisRuntime
import Foundation
import Testing

/// Statements are rendered with the engine's context builder (`TemplateValues(state:)`) plus the draft's facts:
/// a value recorded on an earlier step reaches a statement, and what `validate` accepts there renders.
struct StatementTemplateTests {
    static let t0 = ISO8601.parse("2025-10-24T10:05:00+02:00")!

    static let playbook = """
        schema: crisis-playbook/v1
        id: stmt
        version: "1"
        title: Statement test
        languages: [en]
        roles:
          lead: {title: Lead, lead: true}
          comms: {title: Comms}
        inputs:
          product: {type: string, prompt: "Product", required: true}
          extra: {type: string, prompt: "Extra"}
        start: find_batch
        steps:
          find_batch:
            type: task
            title: Find the batch
            role: comms
            timeout: "1h"
            next: statement
          statement:
            type: holding_statement
            title: Statement
            role: comms
            template: t/s
            channels: [website]
            facts:
              known: {prompt: "Known"}
              later: {prompt: "Later", required: false}
            approval: {roles: [lead]}
            timeout: "2h"
            next: {published: tell, rejected: fin, timeout: fin}
          tell:
            type: notify
            title: Tell staff
            audience: staff
            channels: [email]
            message: "Published: {{steps.statement.known}} (batch {{steps.find_batch.note}}, approved: {{steps.statement.comment}})"
            timeout: "1h"
            next: {sent: fin, failed: fin, timeout: fin}
          fin: {type: end, title: Done, outcome: resolved}
        """

    static let template = """
        [{{incident.mode}}] {{inputs.product}} batch {{steps.find_batch.note}}: {{facts.known}}
        {{#facts.later}}Later: {{.}}{{/facts.later}}{{^facts.later}}No later facts.{{/facts.later}}{{^inputs.extra}} No extra.{{/inputs.extra}}
        Title: {{incident.title}} & <more>

        """

    struct Fixture {
        let dir: URL
        let service: IncidentService
        init(template: String = StatementTemplateTests.template) throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("crisis-st-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("t"), withIntermediateDirectories: true)
            try Data(StatementTemplateTests.playbook.utf8).write(to: dir.appendingPathComponent("p.yaml"))
            try Data(template.utf8).write(to: dir.appendingPathComponent("t/s.en.mustache"))
            service = IncidentService(store: try AuditStore(path: dir.appendingPathComponent("a.sqlite").path))
        }
        var playbookPath: String { dir.appendingPathComponent("p.yaml").path }
        func remove() { try? FileManager.default.removeItem(at: dir) }
    }

    let comms = Actor(name: "kari", role: "comms")
    let lead = Actor(name: "lena", role: "lead")

    @Test("A statement sees inputs, incident, the fields recorded on earlier steps and its facts; notices see the statement's")
    func recordedFieldsReachStatements() throws {
        let f = try Fixture()
        defer { f.remove() }
        let id = try f.service.start(.init(
            playbookPath: f.playbookPath, inputs: [("product", "Crispy Oats")], mode: .drill, title: "Recall",
            actor: comms, wallNow: Self.t0, simulatedStart: Self.t0)).incident.header.id
        _ = try f.service.act(.init(incident: id, step: "find_batch", action: "done", fields: [("note", "L4711")],
                                    actor: comms, wallNow: Self.t0))
        let drafted = try f.service.act(.init(incident: id, step: "statement", action: "draft",
                                              fields: [("known", "Do not eat it.")], actor: comms, wallNow: Self.t0))
        guard case .statement(let s)? = drafted.incident.state.run("statement")?.detail, let draft = s.current else {
            Issue.record("no draft")
            return
        }
        #expect(draft.texts["en"] == """
            [drill] Crispy Oats batch L4711: Do not eat it.
            No later facts. No extra.
            Title: Recall & <more>
            """)
        #expect(drafted.incident.state.recordedFields["find_batch"] == ["note": "L4711"])
        // The runtime's reserved fields (texts, hash) are not recorded as step fields.
        #expect(drafted.incident.state.recordedFields["statement"] == ["known": "Do not eat it."])

        _ = try f.service.act(.init(incident: id, step: "statement", action: "approve", fields: [("comment", "fine")],
                                    actor: lead, wallNow: Self.t0))
        let published = try f.service.act(.init(incident: id, step: "statement", action: "publish", actor: comms,
                                                 wallNow: Self.t0))
        let texts = published.incident.state.deliveries.filter { $0.delivery.step == "tell" }.map(\.delivery.text)
        #expect(texts == ["Published: Do not eat it. (batch L4711, approved: fine)"])
        // Replay gives the same recorded fields.
        #expect(try f.service.load(id).state == published.incident.state)
    }

    @Test("A variable the validator refuses in a statement template stops the start")
    func refusedAtStart() throws {
        for bad in ["{{item}}", "{{steps.find_batch.nope}}", "{{facts.unknown}}", "{{#facts.known}}{{whatever}}{{/facts.known}}"] {
            let f = try Fixture(template: "x \(bad)\n")
            defer { f.remove() }
            #expect(throws: (any Error).self, "\(bad)") {
                try f.service.start(.init(
                    playbookPath: f.playbookPath, inputs: [("product", "P")], mode: .drill, actor: comms,
                    wallNow: Self.t0, simulatedStart: Self.t0))
            }
        }
    }
}
