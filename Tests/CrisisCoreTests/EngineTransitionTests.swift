import CrisisCore
import Foundation
import Testing

/// One playbook per step kind: the step `s` (owned by comms, every outcome routed to an end), so a table can
/// put it in each of its phases and try each action.
enum KindFixture: String, Sendable, CaseIterable, CustomStringConvertible {
    case choice, task, statement, takedown, escalate, notify, clock, waitEvent, waitDelay, parallel, foreach, end

    var description: String { rawValue }

    var stepType: StepType {
        switch self {
        case .choice: .choice
        case .task: .task
        case .statement: .holdingStatement
        case .takedown: .takedown
        case .escalate: .escalate
        case .notify: .notify
        case .clock: .clock
        case .waitEvent, .waitDelay: .wait
        case .parallel: .parallel
        case .foreach: .foreach
        case .end: .end
        }
    }

    var kind: StepKind {
        switch self {
        case .choice:
            .choice(ChoiceSpec(options: [ChoiceOption(id: "a", label: "A"), ChoiceOption(id: "b", label: "B")], defaultOption: loc("a")))
        case .task: .task(TaskSpec())
        case .statement:
            .holdingStatement(
                StatementSpec(
                    template: loc("t"), channels: [ChannelSpec(id: "x")], facts: [FactSpec(name: "what", prompt: "What")],
                    approval: ApprovalSpec(roles: [loc("legal")])))
        case .takedown:
            .takedown(
                TakedownSpec(
                    platform: .literal("x"), urls: .literal("https://x.com/1"), basis: .termsOfService,
                    submitterRoles: [loc("legal")]))
        case .escalate:
            .escalate(EscalateSpec(levels: [EscalationLevel(targets: [loc(.role("legal"))], ackTimeout: dur("5m"))], message: "m"))
        case .notify: .notify(NotifySpec(audience: "staff", channels: ["email"], message: "m"))
        case .clock: .clock(ClockStepSpec(clock: loc("c"), operation: .start))
        case .waitEvent: .wait(WaitSpec(event: "call"))
        case .waitDelay: .wait(WaitSpec(duration: dur("10m")))
        case .parallel:
            .parallel(ParallelSpec(branches: [Branch(id: "b", start: loc("inner"), steps: [CrisisCoreTests.task("inner", timeout: "1h", next: ["done": "bend", "skipped": "bend", "timeout": "bend"]), CrisisCoreTests.end("bend", "done")])]))
        case .foreach:
            .foreach(ForeachSpec(items: loc("urls"), body: CrisisCoreTests.task("s.do", timeout: "1h"), failedOutcomes: ["skipped"]))
        case .end: .end(EndSpec(outcome: "ok"))
        }
    }

    var driver: Driver {
        let kind = self.kind
        let probe = Step(id: "s", kind: kind)
        var routes: [String: String] = [:]
        for outcome in probe.kind.ownOutcomes + (kind.canTimeOut ? [Outcome.timeout] : []) { routes[outcome] = "fin" }
        let s = step("s", kind, role: "comms", timeout: kind.canTimeOut ? "1h" : nil, next: routes)
        let pb = playbook([s, CrisisCoreTests.end("fin", "resolved")], inputs: [InputSpec(name: "urls", type: .urls, prompt: "p")],
                          clocks: [ClockSpec(id: "c", title: "C", duration: dur("72h"))])
        return Driver(definition(pb, inputs: ["urls": "https://x.com/1 https://x.com/2"]))
    }
}

/// Fields that satisfy every action's required fields (an action ignores none: unknown fields are refused, so
/// each action gets only its own).
func fields(for action: StepAction, in state: IncidentState, instance: String) -> [String: String] {
    guard let spec = Engine.availableActions(for: instance, in: state).first(where: { $0.name == action.rawValue }) else {
        return [:]
    }
    var out: [String: String] = [:]
    for field in spec.fields where field.required {
        out[field.name] = field.values.first ?? (field.type == .boolean ? "true" : "x")
    }
    return out
}

@Suite("Engine: transitions by kind, action and phase")
struct EngineTransitionTests {
    /// The actor each action is tried as: approvals and submission by legal, the rest by the owner.
    static func actor(_ action: StepAction) -> Actor {
        switch action {
        case .approve, .reject, .submit: lars
        case .close: lena
        default: kari
        }
    }

    @Test("Every kind × every action: the table's actions are never unknown, the others always are", arguments: KindFixture.allCases)
    func matrix(_ fixture: KindFixture) {
        let d = fixture.driver
        let active = d.state.run("s") != nil
        for action in StepAction.allCases where action != .close {
            let f = fields(for: action, in: d.state, instance: "s")
            let result = Engine.handle(.acted(step: "s", action: action.rawValue, fields: f, actor: Self.actor(action)), in: d.state, at: d.now)
            let inTable = fixture.stepType.actions.contains(action) && fixture.kind.operatorActions.contains(action)
            switch result {
            case .success:
                #expect(inTable, "\(fixture) accepted \(action.rawValue), which its kind does not list")
            case .failure(let r):
                if !active {
                    // clock and end finish at once (here the incident closes with them).
                    let expected: RejectionCode = d.state.status.isOpen ? .notActive : .closed
                    #expect(r.code == expected, "\(fixture) is never active at rest; \(action.rawValue) gave \(r.code)")
                } else if inTable {
                    #expect(r.code != .unknownAction, "\(fixture) lists \(action.rawValue) but called it unknown")
                } else {
                    #expect(r.code == .unknownAction, "\(fixture): \(action.rawValue) gave \(r.code)")
                }
            }
        }
        // What is offered is always in the table.
        let offered = Engine.availableActions(for: "s", in: d.state).compactMap { StepAction(rawValue: $0.name) }
        #expect(offered.allSatisfy { fixture.stepType.actions.contains($0) })
    }

    enum Expect: Equatable {
        case accepted
        case refused(RejectionCode)
    }

    typealias Setup = @Sendable (inout Driver) -> Void
    typealias MakeEvent = @Sendable (Driver) -> EngineEvent

    struct Row: Sendable, CustomStringConvertible {
        var fixture: KindFixture
        var phase: String
        var setup: Setup
        var event: MakeEvent
        var expect: Expect
        var description: String { "\(fixture) in \(phase)" }
    }

    static let rendered = RenderedStatement(texts: ["en": "Hi"], sha256: "aaa")

    static func act(_ action: StepAction, _ f: [String: String] = [:], as actor: Actor = kari) -> MakeEvent {
        { _ in .acted(step: "s", action: action.rawValue, fields: f, actor: actor) }
    }

    static let draft: MakeEvent = { _ in .drafted(step: "s", facts: ["what": "w"], statement: rendered, actor: kari) }
    static func confirm(_ d: Driver) -> EngineEvent {
        .acted(step: "s", action: StepAction.confirmDelivery.rawValue,
               fields: ["key": d.state.openDeliveries.first?.delivery.key ?? "", "result": "sent"], actor: kari)
    }

    static let none: Setup = { _ in }
    static let awaiting: Setup = { $0.send(draft($0)) }
    static let approved: Setup = { d in
        d.send(draft(d))
        d.act("s", "approve", as: lars)
    }
    static let publishing: Setup = { d in
        approved(&d)
        d.act("s", "publish")
    }
    static let notice = ["explanation": "e", "policy_reference": "p"]
    static let submitted: Setup = { d in
        d.act("s", "draft", notice)
        d.act("s", "submit", as: lars)
    }
    static let acknowledged: Setup = { d in
        submitted(&d)
        d.act("s", "acknowledge")
    }

    static let rows: [Row] = [
        Row(fixture: .choice, phase: "open", setup: none, event: act(.choose, ["option": "b"]), expect: .accepted),
        Row(fixture: .choice, phase: "open", setup: none, event: act(.choose, ["option": "c"]), expect: .refused(.invalidField)),
        Row(fixture: .choice, phase: "open", setup: none, event: draft, expect: .refused(.unknownAction)),
        Row(fixture: .task, phase: "open", setup: none, event: act(.done), expect: .accepted),
        Row(fixture: .task, phase: "open", setup: none, event: act(.skip), expect: .refused(.missingField)),
        Row(fixture: .task, phase: "open", setup: none, event: act(.skip, ["reason": "r"], as: lars), expect: .refused(.wrongRole)),
        Row(fixture: .task, phase: "open", setup: none, event: act(.done, [:], as: Actor(name: "ola")), expect: .refused(.roleRequired)),
        Row(fixture: .waitEvent, phase: "waiting", setup: none, event: act(.received), expect: .accepted),
        Row(fixture: .waitDelay, phase: "waiting", setup: none, event: act(.received), expect: .refused(.unknownAction)),
        Row(fixture: .statement, phase: "drafting", setup: none, event: draft, expect: .accepted),
        Row(fixture: .statement, phase: "drafting", setup: none, event: act(.draft, ["what": "w"]), expect: .refused(.unrenderedDraft)),
        Row(fixture: .statement, phase: "drafting", setup: none, event: act(.approve, [:], as: lars), expect: .refused(.actionUnavailable)),
        Row(fixture: .statement, phase: "drafting", setup: none, event: act(.publish), expect: .refused(.actionUnavailable)),
        Row(fixture: .statement, phase: "awaiting_approval", setup: awaiting, event: act(.approve, [:], as: lars), expect: .accepted),
        Row(fixture: .statement, phase: "awaiting_approval", setup: awaiting, event: act(.reject, ["reason": "r"], as: lars), expect: .accepted),
        Row(fixture: .statement, phase: "awaiting_approval", setup: awaiting, event: act(.approve), expect: .refused(.wrongRole)),
        Row(fixture: .statement, phase: "awaiting_approval", setup: awaiting, event: draft, expect: .accepted),
        Row(fixture: .statement, phase: "awaiting_approval", setup: awaiting, event: act(.publish), expect: .refused(.actionUnavailable)),
        Row(fixture: .statement, phase: "approved", setup: approved, event: act(.publish), expect: .accepted),
        Row(fixture: .statement, phase: "approved", setup: approved, event: act(.approve, [:], as: lars), expect: .refused(.actionUnavailable)),
        Row(fixture: .statement, phase: "approved", setup: approved, event: draft, expect: .accepted),
        Row(fixture: .statement, phase: "publishing", setup: publishing, event: draft, expect: .refused(.actionUnavailable)),
        Row(fixture: .statement, phase: "publishing", setup: publishing, event: act(.publish), expect: .refused(.actionUnavailable)),
        Row(fixture: .statement, phase: "publishing", setup: publishing, event: confirm, expect: .accepted),
        Row(fixture: .takedown, phase: "drafting", setup: none, event: act(.draft, notice), expect: .accepted),
        Row(fixture: .takedown, phase: "drafting", setup: none, event: act(.submit, [:], as: lars), expect: .refused(.missingElements)),
        Row(fixture: .takedown, phase: "drafting", setup: none, event: act(.removed), expect: .refused(.actionUnavailable)),
        Row(fixture: .takedown, phase: "drafting", setup: none, event: draft, expect: .refused(.unknownAction)),
        Row(fixture: .takedown, phase: "submitted", setup: submitted, event: act(.acknowledge), expect: .accepted),
        Row(fixture: .takedown, phase: "submitted", setup: submitted, event: act(.removed), expect: .accepted),
        Row(fixture: .takedown, phase: "submitted", setup: submitted, event: act(.refused), expect: .refused(.missingField)),
        Row(fixture: .takedown, phase: "submitted", setup: submitted, event: act(.submit, [:], as: lars), expect: .refused(.actionUnavailable)),
        Row(fixture: .takedown, phase: "submitted", setup: submitted, event: act(.draft, notice), expect: .refused(.actionUnavailable)),
        Row(fixture: .takedown, phase: "acknowledged", setup: acknowledged, event: act(.acknowledge), expect: .refused(.actionUnavailable)),
        Row(fixture: .takedown, phase: "acknowledged", setup: acknowledged, event: act(.appeal, ["reason": "r"]), expect: .accepted),
        Row(fixture: .escalate, phase: "paging", setup: none, event: act(.ack, ["by": "ola"], as: Actor(name: "ola")), expect: .accepted),
        Row(fixture: .escalate, phase: "paging", setup: none, event: act(.ack), expect: .refused(.missingField)),
        Row(fixture: .escalate, phase: "paging", setup: none, event: confirm, expect: .accepted),
        Row(fixture: .notify, phase: "sending", setup: none, event: confirm, expect: .accepted),
        Row(fixture: .notify, phase: "sending", setup: none, event: act(.done), expect: .refused(.unknownAction)),
        Row(fixture: .parallel, phase: "running", setup: none, event: act(.done), expect: .refused(.unknownAction)),
        Row(fixture: .foreach, phase: "running", setup: none, event: act(.done), expect: .refused(.unknownAction)),
        Row(fixture: .clock, phase: "finished (the incident closed with it)", setup: none, event: act(.done), expect: .refused(.closed)),
        Row(fixture: .parallel, phase: "running", setup: none, event: { _ in .acted(step: "fin", action: "done", fields: [:], actor: kari) }, expect: .refused(.notActive)),
        Row(fixture: .task, phase: "closed", setup: { $0.act("incident", "close", ["outcome": "x", "reason": "r"], as: lena) },
            event: act(.done), expect: .refused(.closed)),
        Row(fixture: .task, phase: "open", setup: none,
            event: { _ in .acted(step: "nope", action: "done", fields: [:], actor: kari) }, expect: .refused(.unknownStep)),
        Row(fixture: .task, phase: "open", setup: none,
            event: { _ in .acted(step: Engine.incidentStep, action: "close", fields: ["outcome": "x", "reason": "r"], actor: lena) },
            expect: .accepted),
        Row(fixture: .task, phase: "open", setup: none,
            event: { _ in .acted(step: Engine.incidentStep, action: "reopen", fields: [:], actor: lena) },
            expect: .refused(.unknownAction)),
    ]

    @Test("Each row: accepted, or refused with its code and no command-line syntax", arguments: 0..<rows.count)
    func row(_ index: Int) {
        let row = Self.rows[index]
        var d = row.fixture.driver
        row.setup(&d)
        let event = row.event(d)
        switch (Engine.handle(event, in: d.state, at: d.now), row.expect) {
        case (.success, .accepted):
            break
        case (.failure(let r), .refused(let code)):
            #expect(r.code == code, "\(row): \(r)")
            #expect(!r.message.contains("--"), "\(row): the message holds command-line syntax: \(r.message)")
        case (.success, .refused(let code)):
            Issue.record("\(row): accepted, expected \(code.rawValue)")
        case (.failure(let r), .accepted):
            Issue.record("\(row): refused \(r)")
        }
    }
}
