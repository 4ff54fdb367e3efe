import CrisisCore
import Testing

@testable import CrisisPlaybook

/// YAML 1.1 surprises never change what a playbook means: scalars are read as written.
@Suite("YAML 1.1 surprises")
struct YAMLSurpriseTests {
    @Test("country: NO stays the string NO (in a default and in enum values)")
    func norway() throws {
        let yaml = playbookYAML(
            top: """
                inputs:
                  country: {type: enum, values: [NO, SE, DK], default: NO, prompt: "Country"}
                """,
            steps: "  a: {type: end, title: Done, outcome: resolved}")
        let result = loadYAML(yaml)
        let playbook = try #require(result.playbook)
        let input = try #require(playbook.input("country"))
        #expect(input.defaultValue == "NO")
        #expect(input.values == ["NO", "SE", "DK"])
        // The hint is a warning only.
        #expect(result.diagnostics.contains { $0.code == DiagnosticCode.yamlTruthy && $0.severity == .warning })
        #expect(!result.hasErrors)
    }

    @Test("on: and off: are keys, not booleans")
    func onOff() throws {
        let yaml = playbookYAML(steps: """
              a:
                type: choice
                title: Switch?
                timeout: "5m"
                options:
                  on: {label: "On", next: done}
                  off: {label: "Off", next: done}
                default: off
              done: {type: end, title: Done, outcome: resolved}
            """)
        let result = loadYAML(yaml)
        let step = try #require(result.playbook?.step("a"))
        guard case .choice(let c) = step.kind else {
            Issue.record("not a choice")
            return
        }
        #expect(c.options.map(\.id) == ["on", "off"])
        #expect(c.defaultOption?.value == "off")
        #expect(step.next["on"]?.value == "done")
        #expect(step.outcomes == ["on", "off", "timeout"])
    }

    @Test("1:30 is a string where a string is expected and a bad duration where a duration is")
    func sexagesimal() throws {
        let asTitle = loadYAML(playbookYAML(steps: "  a: {type: end, title: 1:30, outcome: resolved}"))
        #expect(asTitle.playbook?.step("a")?.title == "1:30")

        let asTimeout = loadYAML(playbookYAML(steps: """
              a: {type: task, title: T, timeout: 1:30, next: done}
              done: {type: end, title: Done, outcome: resolved}
            """))
        #expect(asTimeout.diagnostics.filter(\.isError).map(\.code) == [DiagnosticCode.badDuration])
        #expect(asTimeout.playbook == nil)

        let bare = loadYAML(playbookYAML(steps: """
              a: {type: task, title: T, timeout: 90, next: done}
              done: {type: end, title: Done, outcome: resolved}
            """))
        #expect(bare.diagnostics.filter(\.isError).map(\.code) == [DiagnosticCode.badDuration])
    }

    @Test("010 stays the string 010, and is no integer")
    func octal() throws {
        let yaml = playbookYAML(steps: "  a: {type: end, title: Done, outcome: resolved}")
            .replacingOccurrences(of: "version: \"1\"", with: "version: 010")
        #expect(loadYAML(yaml).playbook?.version == "010")

        let visits = loadYAML(playbookYAML(steps: """
              a: {type: task, title: T, timeout: "5m", max_visits: 010, next: done}
              done: {type: end, title: Done, outcome: resolved}
            """))
        #expect(visits.diagnostics.filter(\.isError).map(\.code) == [DiagnosticCode.wrongType])
        let decimal = loadYAML(playbookYAML(steps: """
              a: {type: task, title: T, timeout: "5m", max_visits: 10, next: done}
              done: {type: end, title: Done, outcome: resolved}
            """))
        #expect(decimal.partial?.step("a")?.maxVisits == 10)
    }

    @Test("Only true and false are booleans")
    func booleans() {
        let yes = loadYAML(playbookYAML(steps: "  a: {type: end, title: Done, outcome: resolved}")
            .replacingOccurrences(of: "lead: true", with: "lead: yes"))
        #expect(yes.diagnostics.filter(\.isError).map(\.code) == [DiagnosticCode.wrongType])
        let ok = loadYAML(playbookYAML(steps: "  a: {type: end, title: Done, outcome: resolved}"))
        #expect(ok.playbook?.role("lead")?.lead == true)
    }

    @Test("null, ~ and 1e3 are plain strings")
    func otherScalars() throws {
        let yaml = playbookYAML(steps: "  a: {type: end, title: ~, outcome: resolved, summary: 1e3}")
            .replacingOccurrences(of: "title: Test", with: "title: null")
        let p = try #require(loadYAML(yaml).playbook)
        #expect(p.title == "null")
        #expect(p.step("a")?.title == "~")
        guard case .end(let e)? = p.step("a")?.kind else { return }
        #expect(e.summary == "1e3")
    }
}
