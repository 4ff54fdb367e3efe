import CrisisCore
import Testing

@testable import CrisisPlaybook

/// Cadences: the YAML becomes the model, and what is wrong is reported where it is written.
@Suite("Loader: cadences")
struct CadenceLoaderTests {
    static func yaml(_ cadence: String) -> String {
        """
        schema: crisis-playbook/v1
        id: cadences
        version: "1"
        title: Cadences
        timezone: Europe/Oslo
        roles:
          lead: {title: Lead, lead: true}
        inputs:
          detected_at: {type: time, prompt: Detected, required: true}
        cadences:
          updates:
        \(cadence)
        start: first
        steps:
          first: {type: task, title: First, timeout: "1h", next: post}
          post: {type: task, title: Post, timeout: "1h", max_visits: 9, next: {done: check, skipped: check, timeout: check, max_visits: done}}
          check:
            type: choice
            title: Back?
            options:
              restored: {label: Restored, next: done}
              not_yet: {label: Not yet, next: post}
            default: not_yet
            timeout: "10m"
          done: {type: end, title: Done, outcome: resolved}
        """
    }

    static let good = """
            title: Update every 30 minutes
            every: "30m"
            between: ["06:00", "24:00"]
            from: {step: first, outcome: done}
            step: post
            outcome: done
            until: {step: check, outcome: restored}
        """

    @Test("every, between, from, step, outcome and until load into the model and validate")
    func model() throws {
        let result = loadYAML(Self.yaml(Self.good), path: "cadences.yaml")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let p = try #require(result.playbook)
        let c = try #require(p.cadence("updates"))
        #expect(c.title == "Update every 30 minutes")
        #expect(c.every == .minutes(30))
        #expect(c.between == CadenceWindow(startMinute: 360, endMinute: 1440))
        #expect(c.step.value == "post" && c.outcome.value == "done")
        #expect(c.until?.description == "outcome restored of check")
        guard case .run(.outcome(let step, let outcome)) = c.from else {
            Issue.record("from is \(c.from)")
            return
        }
        #expect(step.value == "first" && outcome.value == "done")
        #expect(PlaybookValidator.validate(p, baseDirectory: "/tmp").isEmpty)
    }

    /// The diagnostics of a cadence, loader and validator, as `code@line:column`.
    static func problems(_ cadence: String) -> [String] {
        let result = loadYAML(Self.yaml(cadence), path: "cadences.yaml")
        var all = result.diagnostics
        if let p = result.partial, !result.hasErrors { all += PlaybookValidator.validate(p, baseDirectory: "/tmp") }
        return all.map { "\($0.code.rawValue)@\($0.location.line):\($0.location.column)" }
    }

    @Test("Unknown step and outcome, and an until that names no outcome of its step, at their line and column")
    func unknownNames() {
        #expect(Self.problems("""
                title: T
                every: "30m"
                step: pots
                outcome: done
            """) == ["unknown-target-step@14:11"])
        #expect(Self.problems("""
                title: T
                every: "30m"
                step: post
                outcome: published
            """) == ["unknown-target-outcome@15:14"])
        #expect(Self.problems("""
                title: T
                every: "30m"
                step: post
                outcome: done
                until: {step: check, outcome: fixed}
            """) == ["unknown-anchor@16:35"])
        #expect(Self.problems("""
                title: T
                every: "30m"
                from: detected
                step: post
                outcome: done
            """).first?.hasPrefix("unknown-input") == true)
    }

    @Test("Bad between times, a missing or zero every, outcome and reaches together, unknown keys")
    func badValues() {
        #expect(Self.problems("""
                title: T
                every: "30m"
                between: ["6:00", "25:00"]
                step: post
                outcome: done
            """) == ["bad-value@14:15", "bad-value@14:23"])
        #expect(Self.problems("""
                title: T
                every: "30m"
                between: ["06:00"]
                step: post
                outcome: done
            """) == ["bad-value@14:14"])
        #expect(Self.problems("""
                title: T
                every: "30m"
                between: ["08:00", "08:00"]
                step: post
                outcome: done
            """) == ["bad-value@14:24"])
        #expect(Self.problems("""
                title: T
                every: "0m"
                step: post
                outcome: done
            """) == ["bad-duration@13:12"])
        #expect(Self.problems("""
                title: T
                step: post
                outcome: done
            """) == ["missing-key@12:5"])
        #expect(Self.problems("""
                title: T
                every: "30m"
                step: post
                outcome: done
                reaches: approved
            """) == ["conflicting-keys@16:5"])
        #expect(Self.problems("""
                title: T
                evry: "30m"
                every: "30m"
                step: post
                outcome: done
            """) == ["unknown-key@13:5"])
    }

    @Test("A window across midnight loads; 24:00 as its end is midnight")
    func acrossMidnight() throws {
        let result = loadYAML(Self.yaml("""
                title: Night watch
                every: "1h"
                between: ["22:00", "06:00"]
                step: post
                outcome: done
            """))
        let p = try #require(result.playbook, "\(result.diagnostics)")
        #expect(p.cadence("updates")?.between == CadenceWindow(startMinute: 22 * 60, endMinute: 6 * 60))
        #expect(p.cadence("updates")?.between?.description == "22:00-06:00")
    }
}
