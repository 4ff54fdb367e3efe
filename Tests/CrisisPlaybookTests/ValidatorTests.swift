import CrisisCore
import Foundation
import Testing

@testable import CrisisPlaybook

@Suite("Validator")
struct ValidatorTests {
    @Test("The valid fixture has no errors, with and without contacts")
    func validFixture() throws {
        let path = try Fixtures.path("valid/small.yaml")
        let (contacts, contactDiagnostics) = ContactsLoader.load(path: try Fixtures.path("valid/contacts.yaml"))
        #expect(contactDiagnostics.isEmpty)
        for directory in [nil, contacts] {
            let result = PlaybookLoader.loadValidated(path: path, contacts: directory)
            #expect(!result.hasErrors, "\(result.diagnostics)")
            #expect(result.playbook != nil)
            #expect(result.diagnostics.map(\.code) == [DiagnosticCode.stepWithoutTitle])
        }
    }

    func validate(_ yaml: String, contacts: ContactsDirectory? = nil) -> [Diagnostic] {
        let result = loadYAML(yaml)
        guard let p = result.partial else { return result.diagnostics }
        return result.diagnostics
            + PlaybookValidator.validate(p, baseDirectory: ".", contacts: contacts, skipping: result.brokenSteps)
    }

    @Test("A loop through a step with max_visits is allowed; the same loop without it is not")
    func boundedLoop() {
        let steps = """
              a:
                type: task
                title: A
                timeout: "5m"
                MAXVISITS
                next: {done: done, skipped: a, timeout: a, max_visits: done}
              done: {type: end, title: Done, outcome: resolved}
            """
        let bounded = validate(playbookYAML(steps: steps.replacingOccurrences(of: "MAXVISITS", with: "max_visits: 3")))
        #expect(!bounded.hasErrors, "\(bounded)")
        let unbounded = validate(playbookYAML(steps: steps.replacingOccurrences(of: "MAXVISITS", with: "role: lead")
            .replacingOccurrences(of: ", max_visits: done", with: "")))
        #expect(unbounded.filter(\.isError).map(\.code) == [DiagnosticCode.unboundedCycle])
    }

    @Test("A choice's timeout is routed by its default")
    func choiceTimeoutViaDefault() {
        let d = validate(playbookYAML(steps: """
              a:
                type: choice
                title: Q
                timeout: "5m"
                options: {one: {label: One, next: done}, two: {label: Two, next: done}}
                default: one
              done: {type: end, title: Done, outcome: resolved}
            """))
        #expect(!d.hasErrors, "\(d)")
    }

    @Test("A guard on an enum input checks its values")
    func guardValues() {
        let d = validate(playbookYAML(
            top: "inputs:\n  severity: {type: enum, values: [sev1, sev2], prompt: S}",
            steps: """
                  a:
                    type: choice
                    title: Q
                    options: {one: {label: One, when: {input: severity, equals: sev3}, next: done}, two: {label: Two, next: done}}
                    default: two
                  done: {type: end, title: Done, outcome: resolved}
                """))
        #expect(d.filter(\.isError).map(\.code) == [DiagnosticCode.badValue])
    }

    @Test("Messages may only use inputs, incident fields and, in a foreach body, the item")
    func messageVariables() {
        let d = validate(playbookYAML(
            top: "inputs:\n  post_urls: {type: urls, prompt: Links}",
            steps: """
                  a:
                    type: notify
                    title: Tell
                    audience: staff
                    channels: [email]
                    message: "See {{inputs.post_urls}} in {{incident.id}} ({{facts.x}}, {{inputs.nope}})"
                    timeout: "5m"
                    next: each
                  each:
                    type: foreach
                    title: Each
                    items: post_urls
                    as: url
                    do: {type: notify, audience: staff, channels: [email], message: "Gone: {{url}}", timeout: "5m"}
                    next: done
                  done: {type: end, title: Done, outcome: resolved}
                """))
        let unknown = d.filter { $0.code == DiagnosticCode.unknownTemplateVariable }.map(\.message)
        #expect(unknown.count == 2)
        #expect(unknown.contains { $0.contains("{{facts.x}}") })
        #expect(unknown.contains { $0.contains("{{inputs.nope}}") })
    }

    @Test("Template variables: facts, inputs and incident fields; inside sections the same names (and '.') only")
    func templateVariables() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crisis-tpl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("t"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("""
            {{facts.known}} {{{inputs.url}}} {{&incident.title}} {{incident.mode}}
            {{#facts.known}}{{.}} {{anything}}{{/facts.known}}{{^inputs.url}}none{{/inputs.url}}
            {{! a comment with {{facts.nope}} inside }}
            {{incident.started}} {{facts.unknown}} {{whatever}}
            """.utf8).write(to: dir.appendingPathComponent("t/s.en.mustache"))
        let yaml = playbookYAML(
            top: "inputs:\n  url: {type: url, prompt: Link}",
            steps: """
                  a:
                    type: holding_statement
                    title: S
                    template: t/s
                    channels: [website]
                    facts: {known: {prompt: Known}}
                    approval: {roles: [lead]}
                    timeout: "1h"
                    next: done
                  done: {type: end, title: Done, outcome: resolved}
                """)
        let path = dir.appendingPathComponent("p.yaml").path
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
        let result = PlaybookLoader.loadValidated(path: path)
        let unknown = result.diagnostics.filter { $0.code == DiagnosticCode.unknownTemplateVariable }
        // `{{anything}}` inside a section renders as nothing (it is neither the section's value nor a variable), so
        // it is refused like any other unknown name.
        #expect(unknown.map { "\($0.location.line):\($0.location.column)" } == ["2:23", "4:1", "4:22", "4:40"])
        #expect(unknown.allSatisfy { $0.location.file.hasSuffix("t/s.en.mustache") })
    }

    @Test("Contacts: unknown people and policies are errors, roles without holders warnings")
    func contactsRules() throws {
        let contacts = ContactsDirectory(
            people: [Person(id: "kari", name: "Kari", roles: ["lead"])],
            policies: [EscalationPolicy(id: "p1", levels: [PolicyLevel(targets: [.role("legal")], ackTimeout: .minutes(5))])])
        let d = validate(playbookYAML(steps: """
              a:
                type: escalate
                title: Page
                policy: p1
                message: "Hi"
                next: b
              b:
                type: escalate
                title: Page again
                levels: [{targets: [kari, per], ack_timeout: "5m"}]
                message: "Hi"
                next: c
              c:
                type: escalate
                title: And again
                policy: p2
                message: "Hi"
                next: done
              done: {type: end, title: Done, outcome: resolved}
            """), contacts: contacts)
        #expect(d.filter(\.isError).map(\.code.rawValue).sorted() == [DiagnosticCode.unknownContact.rawValue, DiagnosticCode.unknownPolicy.rawValue])
        #expect(d.contains { $0.code == DiagnosticCode.roleWithoutHolder && $0.message.contains("'legal'") })
    }

    @Test("Diagnostics come sorted by file, line and column, without duplicates")
    func sorting() {
        let a = Diagnostic.error(.badValue, "m", at: SourceLocation(file: "b.yaml", line: 1, column: 1))
        let b = Diagnostic.error(.badValue, "m", at: SourceLocation(file: "a.yaml", line: 9, column: 1))
        let c = Diagnostic.warning(.missingKey, "m", at: SourceLocation(file: "a.yaml", line: 2, column: 5))
        let d = Diagnostic.error(.missingKey, "m", at: SourceLocation(file: "a.yaml", line: 2, column: 3))
        #expect(Diagnostic.sorted([a, b, c, d, a]) == [d, c, b, a])
        #expect(d.description == "a.yaml:2:3: error: m [missing-key]")
    }
}
