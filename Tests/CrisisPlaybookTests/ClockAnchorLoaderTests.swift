import CrisisCore
import Testing

@testable import CrisisPlaybook

/// Clocks and targets counting from moments of the run, targets met by states, clock routes, task fields: the
/// YAML they are written in becomes the model, and what is wrong with them is reported where it is written.
@Suite("Loader: clock and target anchors")
struct ClockAnchorLoaderTests {
    static let yaml = """
        schema: crisis-playbook/v1
        id: anchors
        version: "1"
        title: Anchors
        roles:
          lead: {title: Lead, lead: true}
        targets:
          told:
            title: Told
            step: notify
            outcome: done
            within: "72h"
            from: {step: confirm, field: aware_at}
          filed:
            title: Filed
            step: notify
            reaches: submitted
            within: "1h"
            from: {step: confirm, outcome: done}
        clocks:
          gdpr:
            title: GDPR
            duration: "72h"
            on_warning:
              - {before: "6h", next: nag}
            on_expiry: nag
        start: confirm
        steps:
          confirm:
            type: task
            title: Confirm
            timeout: "1h"
            fields:
              aware_at: {type: time, prompt: Aware at, required: true}
            next: start_clock
          start_clock: {type: clock, title: Start, clock: gdpr, op: start, from: {step: confirm, field: aware_at}, next: notify}
          notify: {type: task, title: Notify, timeout: "72h", next: done}
          nag: {type: task, title: Nag, timeout: "1h", next: done}
          done: {type: end, title: Done, outcome: resolved}
        """

    @Test("Anchors, reaches, on_warning, on_expiry and task fields load into the model")
    func model() throws {
        let result = PlaybookLoader.load(bytes: Array(Self.yaml.utf8), path: "anchors.yaml")
        let p = try #require(result.playbook)
        let told = try #require(p.targets.first { $0.id == "told" })
        guard case .run(.field(let step, let field)) = told.from else {
            Issue.record("told.from is \(told.from)")
            return
        }
        #expect(step.value == "confirm" && field.value == "aware_at")
        #expect(field.location.line == 13 && field.location.column == 34)
        let filed = try #require(p.targets.first { $0.id == "filed" })
        #expect(filed.reaches?.value == "submitted")
        #expect(filed.outcome.value == "")
        let gdpr = try #require(p.clock("gdpr"))
        #expect(gdpr.onWarning.map(\.before) == [dur("6h")])
        #expect(gdpr.onWarning.map(\.next.value) == ["nag"])
        #expect(gdpr.onExpiry?.value == "nag")
        #expect(gdpr.warnings == [dur("6h")])
        guard case .task(let confirm)? = p.step("confirm")?.kind, case .clock(let start)? = p.step("start_clock")?.kind
        else { Issue.record("step kinds"); return }
        #expect(confirm.fields.map(\.name) == ["aware_at"])
        #expect(confirm.fields.first?.type == .time)
        #expect(start.anchor?.description == "field aware_at of confirm")
        // The whole file validates except the target that names a state a task never reaches.
        let diagnostics = PlaybookValidator.validate(p, baseDirectory: "/tmp").filter(\.isError)
        #expect(diagnostics.map(\.code) == [.unknownTargetOutcome])
        #expect(diagnostics.first?.location.line == 17)
    }

    @Test("Broken anchors and routes are reported at their line and column")
    func broken() throws {
        let yaml = Self.yaml
            .replacingOccurrences(of: "from: {step: confirm, outcome: done}", with: "from: {step: confirm}")
            .replacingOccurrences(of: "on_expiry: nag", with: "on_expiry: nagg")
        let result = PlaybookLoader.load(bytes: Array(yaml.utf8), path: "anchors.yaml")
        #expect(result.diagnostics.map(\.description).contains(
            "anchors.yaml:19:11: error: 'from' of target 'filed' needs 'field' (a time recorded on the step) or 'outcome' (when the step took it) [missing-key]"))
        let p = try #require(PlaybookLoader.load(bytes: Array(Self.yaml.replacingOccurrences(of: "on_expiry: nag", with: "on_expiry: nagg").utf8), path: "anchors.yaml").playbook)
        let errors = PlaybookValidator.validate(p, baseDirectory: "/tmp").filter(\.isError).map(\.description)
        #expect(errors.contains { $0.hasPrefix("anchors.yaml:26:16: error: the expiry of clock 'gdpr' goes to 'nagg', which is not a step; did you mean 'nag'?") })
    }
}

private func dur(_ text: String) -> PlaybookDuration { PlaybookDuration(parsing: text) ?? .zero }
