import CrisisCore
import Testing

/// Builders for playbooks written in Swift (the YAML loader lives elsewhere) and a step-by-step engine driver.

func at(_ text: String) -> Instant {
    guard let instant = ISO8601.parse(text) else {
        Issue.record("bad test instant \(text)")
        return Instant(millisecondsSinceEpoch: 0)
    }
    return instant
}

func dur(_ text: String) -> PlaybookDuration {
    guard let d = PlaybookDuration(parsing: text) else {
        Issue.record("bad test duration \(text)")
        return .zero
    }
    return d
}

/// 2025-10-24T08:00:00Z, a Friday.
let t0 = at("2025-10-24T08:00:00Z")

func loc<T>(_ value: T) -> Located<T> { Located(value, at: CrisisCore.SourceLocation.unknown) }

func step(
    _ id: String, _ kind: StepKind, role: String? = nil, timeout: String? = nil, maxVisits: Int? = nil,
    next: [String: String] = [:]
) -> Step {
    Step(
        id: id, title: id, role: role.map(loc), timeout: timeout.map(dur), maxVisits: maxVisits,
        next: next.mapValues(loc), kind: kind)
}

func end(_ id: String, _ outcome: String) -> Step { step(id, .end(EndSpec(outcome: outcome))) }

func task(_ id: String, role: String? = nil, timeout: String? = nil, maxVisits: Int? = nil, next: [String: String] = [:])
    -> Step
{
    step(id, .task(TaskSpec()), role: role, timeout: timeout, maxVisits: maxVisits, next: next)
}

func choice(
    _ id: String, _ options: [(String, Guard?)], default d: String, role: String? = nil, timeout: String? = nil,
    next: [String: String]
) -> Step {
    step(
        id,
        .choice(
            ChoiceSpec(options: options.map { ChoiceOption(id: $0.0, label: $0.0.uppercased(), when: $0.1) },
                       defaultOption: loc(d))),
        role: role, timeout: timeout, next: next)
}

func guardIn(_ input: String, _ values: [String]) -> Guard { Guard(input: loc(input), anyOf: values) }

let standardRoles = [
    Role(id: "lead", title: "Crisis lead", lead: true), Role(id: "comms", title: "Comms"),
    Role(id: "legal", title: "Legal"),
]

func playbook(
    _ steps: [Step], start: String? = nil, roles: [Role] = standardRoles, inputs: [InputSpec] = [],
    targets: [TargetSpec] = [], clocks: [ClockSpec] = [], deadline: DeadlineSpec? = nil, languages: [String] = ["en"]
) -> Playbook {
    Playbook(
        id: "test", version: "1", title: "Test", languages: languages, roles: roles, inputs: inputs, targets: targets,
        clocks: clocks, deadline: deadline, start: loc(start ?? steps.first?.id ?? "missing"), steps: steps)
}

func definition(
    _ pb: Playbook, inputs: [String: String] = [:], contacts: ContactsDirectory? = nil, id: String = "INC-1"
) -> RunDefinition {
    RunDefinition(
        incidentID: id, title: "Fake CEO account", mode: .drill, playbook: pb, playbookSHA256: "abc",
        contacts: contacts, inputs: inputs)
}

let kari = Actor(name: "kari", role: "comms")
let lars = Actor(name: "lars", role: "legal")
let lena = Actor(name: "lena", role: "lead")

/// Drives the engine: every accepted event is checked, every refusal is checked to change nothing.
struct Driver {
    var state: IncidentState
    var now: Instant
    let startActions: [EngineAction]

    init(_ def: RunDefinition, at start: Instant = t0) {
        let (state, actions) = Engine.start(def, at: start)
        self.state = state
        self.now = start
        self.startActions = actions
    }

    @discardableResult
    mutating func send(_ event: EngineEvent, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> [EngineAction] {
        switch Engine.handle(event, in: state, at: now) {
        case .success(let (next, actions)):
            state = next
            return actions
        case .failure(let rejection):
            Issue.record("refused: \(rejection)", sourceLocation: sourceLocation)
            return []
        }
    }

    /// Sends an event that must be refused and returns the refusal. (A refusal returns no state to apply.)
    func refuse(_ event: EngineEvent, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> Rejection {
        switch Engine.handle(event, in: state, at: now) {
        case .success(let (_, actions)):
            Issue.record("accepted, with actions \(actions)", sourceLocation: sourceLocation)
            return Rejection(.unknownAction, "accepted unexpectedly")
        case .failure(let rejection):
            return rejection
        }
    }

    @discardableResult
    mutating func act(
        _ step: String, _ action: String, _ fields: [String: String] = [:], as actor: Actor = kari,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) -> [EngineAction] {
        send(.acted(step: step, action: action, fields: fields, actor: actor), sourceLocation: sourceLocation)
    }

    func refuseAct(
        _ step: String, _ action: String, _ fields: [String: String] = [:], as actor: Actor = kari,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) -> Rejection {
        refuse(.acted(step: step, action: action, fields: fields, actor: actor), sourceLocation: sourceLocation)
    }

    /// Drafts a holding statement as the runtime does: the facts with the texts it rendered.
    @discardableResult
    mutating func draft(
        _ step: String, _ facts: [String: String], _ statement: RenderedStatement, as actor: Actor = kari,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) -> [EngineAction] {
        send(.drafted(step: step, facts: facts, statement: statement, actor: actor), sourceLocation: sourceLocation)
    }

    mutating func advance(_ by: String) { now = now + dur(by) }

    /// Moves the clock to the earliest timer and fires it.
    @discardableResult
    mutating func fireNext(sourceLocation: Testing.SourceLocation = #_sourceLocation) -> [EngineAction] {
        guard let timer = state.nextTimer else {
            Issue.record("no timer armed", sourceLocation: sourceLocation)
            return []
        }
        if timer.due > now { now = timer.due }
        return send(.timerFired(id: timer.id), sourceLocation: sourceLocation)
    }

    func timer(_ purpose: TimerPurpose) -> TimerEntry? { state.timers.first { $0.purpose == purpose } }
    var activeIDs: [String] { state.active.map(\.instance) }
    func available(_ instance: String) -> [String] { Engine.availableActions(for: instance, in: state).map(\.name) }
    func outcome(of instance: String) -> String? { state.history.last { $0.instance == instance }?.outcome }
}
