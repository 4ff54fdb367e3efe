import CrisisCore
import CrisisPlaybook
import Foundation
import Testing

/// Decisions as records in the YAML: `rationale`, `on_timeout`, `starts_clock` and `obligations`, and what the
/// loader and validator refuse.
@Suite("Loader: decisions as records")
struct DecisionLoaderTests {
    static let top = """
        roles:
          lead: {title: Lead, lead: true}
          legal: {title: Legal}
        clocks:
          court: {title: Court filing, duration: "14d"}
        obligations:
          gdpr_art34: {title: GDPR Art. 34 notice to the people affected, reference: "GDPR Art. 34(1)"}
          nis2: {title: NIS2 early warning, clock: court}
        """

    static func yaml(timeout: String = "    on_timeout: {escalate: page_lead}", top: String = top,
                     startsClock: String = "court") -> String {
        """
        schema: crisis-playbook/v1
        id: test
        version: "1"
        title: Test
        \(top)
        start: decide
        steps:
          decide:
            type: choice
            title: Restore or sue?
            role: legal
            rationale: required
            options:
              restore: {label: Restore, next: fin}
              sue: {label: Sue, next: fin, starts_clock: \(startsClock)}
            timeout: "4h"
        \(timeout)
          page_lead:
            type: task
            title: Call the lead
            timeout: "1h"
            next: {done: fin, skipped: fin, timeout: fin}
          fin:
            type: end
            title: Done
            outcome: decided
        """
    }

    static func errors(_ yaml: String) -> [String] {
        let result = loadYAML(yaml)
        var out = result.diagnostics.filter(\.isError).map(\.description)
        if let p = result.playbook {
            out += PlaybookValidator.validate(p, baseDirectory: "/tmp").filter(\.isError).map(\.description)
        }
        return out
    }

    @Test("rationale, on_timeout, starts_clock and obligations load into the model, and the playbook is valid")
    func model() throws {
        let yaml = Self.yaml()
        #expect(Self.errors(yaml) == [])
        let p = try #require(loadYAML(yaml).playbook)
        guard case .choice(let c) = p.step("decide")?.kind else {
            Issue.record("decide is not a choice")
            return
        }
        #expect(c.rationaleRequired)
        if case .escalate(let target)? = c.onTimeout {
            #expect(target.value == "page_lead")
        } else {
            Issue.record("on_timeout is \(String(describing: c.onTimeout))")
        }
        #expect(c.defaultOption == nil)
        #expect(c.options.first { $0.id == "sue" }?.startsClock?.value == "court")
        #expect(p.obligations.map(\.id) == ["gdpr_art34", "nis2"])
        #expect(p.obligations.first?.reference == "GDPR Art. 34(1)")
        #expect(p.obligations.last?.clock?.value == "court")
        let remind = try #require(loadYAML(Self.yaml(timeout: "    on_timeout: {remind: \"decide now\"}")).playbook)
        if case .choice(let r) = remind.step("decide")?.kind { #expect(r.onTimeout == .remind("decide now")) }
    }

    @Test("A choice whose timeout goes nowhere (no default, no on_timeout) is refused")
    func timeoutGoesNowhere() {
        let errors = Self.errors(Self.yaml(timeout: ""))
        #expect(errors.contains { $0.contains("[choice-without-default]") })
    }

    @Test("A choice with both default and on_timeout is refused")
    func bothDefaultAndOnTimeout() {
        let errors = Self.errors(Self.yaml(timeout: "    default: restore\n    on_timeout: {remind: x}"))
        #expect(errors.contains { $0.contains("both 'default' and 'on_timeout'") && $0.contains("[conflicting-keys]") })
    }

    @Test("on_timeout with next.timeout, an escalation to no step, or both escalate and remind are refused")
    func brokenOnTimeout() {
        #expect(Self.errors(Self.yaml(timeout: "    on_timeout: {escalate: page_lead}\n    next: {timeout: fin}"))
            .contains { $0.contains("'on_timeout' and 'next.timeout'") })
        #expect(Self.errors(Self.yaml(timeout: "    on_timeout: {escalate: page_led}"))
            .contains { $0.contains("goes to 'page_led', which is not a step; did you mean 'page_lead'?") })
        #expect(Self.errors(Self.yaml(timeout: "    on_timeout: {escalate: page_lead, remind: x}"))
            .contains { $0.contains("takes 'escalate' or 'remind', not both") })
    }

    @Test("An unknown clock in starts_clock or an obligation, and an unknown obligation key, are refused")
    func unknownNames() {
        #expect(Self.errors(Self.yaml(startsClock: "cort"))
            .contains { $0.contains("starts clock 'cort'") && $0.contains("did you mean 'court'?") && $0.contains("[unknown-clock]") })
        let badClock = Self.top.replacingOccurrences(of: "clock: court}", with: "clock: nis2_clock}")
        #expect(Self.errors(Self.yaml(top: badClock))
            .contains { $0.contains("obligation 'nis2' names clock 'nis2_clock'") })
        let badKey = Self.top.replacingOccurrences(of: "reference: \"GDPR Art. 34(1)\"", with: "due: 72h")
        #expect(Self.errors(Self.yaml(top: badKey)).contains { $0.contains("due") && $0.contains("[unknown-key]") })
    }
}
