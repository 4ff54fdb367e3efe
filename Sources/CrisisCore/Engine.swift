/// The pure state machine: `(state, event, now) -> (state, [action])`.
///
/// No clock, no I/O, no randomness: time and outcomes enter as events. The shell (CrisisRuntime) records every
/// event in the audit trail, performs the `deliver` actions write-ahead, and fires timers from `state.timers`.
///
/// Every call runs to quiescence: steps that complete without waiting (automatic choices, clock steps, `end`,
/// `parallel` and `foreach` entry, `max_visits` exits) are processed before the call returns.
///
/// Rejection codes (`Rejection.code`), each with a message for the operator:
/// - `closed`: the incident is closed; only notes and delivery results are accepted.
/// - `unknown-step`: the playbook has no such step; `not-active`: the step exists but is not active now.
/// - `unknown-action`: the step type has no such action; `action-unavailable`: it has, but not in this phase.
/// - `role-required`, `wrong-role`: the action needs one of the listed roles (`--role`).
/// - `unknown-field`, `missing-field`, `invalid-field`, `reserved-field` (a `_` field on an operator action).
/// - `own-draft`, `conflicted-approver`, `already-decided`: statement approval rules.
/// - `missing-elements`: a takedown notice lacks elements its legal basis requires.
/// - `unknown-timer` (fired, cancelled or replaced), `timer-not-due`.
/// - `unknown-delivery`, `delivery-final` (a final delivery result cannot change).
public enum Engine {
    /// Fields whose names start with `_` are reserved for the runtime (rendered statement texts `_text.<lang>`,
    /// their hash `_sha256`); operators cannot set them.
    public static let reservedFieldPrefix = "_"

    /// The reserved `draft` field carrying the SHA-256 (hex) of the rendered statement texts.
    public static let statementHashField = "_sha256"

    /// The reserved `draft` field carrying the rendered statement text in `language`.
    public static func statementTextField(_ language: String) -> String { "_text.\(language)" }

    /// The pseudo-step that incident-wide actions (`close`) are performed on.
    public static let incidentStep = "incident"

    /// Most step entries one event may cause before the engine calls it a runaway loop and closes the incident.
    public static let entryCap = 10_000

    /// Opens an incident: arms the run deadline and target timers, enters the start step and runs until
    /// quiescent (automatic choices and clock steps complete at once).
    public static func start(_ definition: RunDefinition, at now: Instant) -> (IncidentState, [EngineAction]) {
        var m = Machine(state: IncidentState(definition: definition, startedAt: now), now: now)
        m.begin()
        return (m.state, m.actions)
    }

    /// Applies one event. A refused event leaves the state unchanged and returns why.
    public static func handle(_ event: EngineEvent, in state: IncidentState, at now: Instant)
        -> Result<(IncidentState, [EngineAction]), Rejection>
    {
        var m = Machine(state: state, now: now)
        do {
            try m.apply(event)
        } catch {
            return .failure(error)
        }
        return .success((m.state, m.actions))
    }

    /// The actions the active step instance accepts now, with their fields and roles. For the pseudo-step
    /// `incident`: `close`. Unknown or inactive instances, and every instance of a closed incident: none.
    public static func availableActions(for instance: String, in state: IncidentState) -> [ActionSpec] {
        guard state.status.isOpen else { return [] }
        let m = Machine(state: state, now: state.startedAt)
        if instance == incidentStep { return [m.closeActionSpec()] }
        guard let run = state.run(instance), let step = state.definition.playbook.step(run.stepID) else { return [] }
        // Reserved fields (`_sha256`, `_text.<lang>`) are filled by the runtime, never by an operator or script.
        return m.actionSpecs(for: run, step: step).map { spec in
            var spec = spec
            spec.fields.removeAll { $0.name.hasPrefix(reservedFieldPrefix) }
            return spec
        }
    }
}

/// A step entry waiting in the worklist.
struct PendingEntry {
    var stepID: String
    var instance: String
    var scope: Scope?
}

/// One event's worth of work on a copy of the state. Refusals are thrown before anything observable happens;
/// the caller discards the copy.
struct Machine {
    var state: IncidentState
    var actions: [EngineAction] = []
    let now: Instant
    var queue: [PendingEntry] = []
    var entries = 0

    init(state: IncidentState, now: Instant) {
        self.state = state
        self.now = now
    }

    var definition: RunDefinition { state.definition }
    var playbook: Playbook { state.definition.playbook }

    // MARK: Start

    mutating func begin() {
        if let deadline = playbook.deadline {
            let due = now + deadline.after
            state.deadline = due
            arm(due, step: nil, .runDeadline)
        }
        for target in playbook.targets {
            var origin = now
            if case .input(let name) = target.from, let value = definition.inputs[name],
                let parsed = ISO8601.parse(value)
            {
                origin = parsed
            }
            let due = origin + target.within
            state.targets.append(TargetRun(id: target.id, origin: origin, due: due))
            arm(due, step: nil, .targetDeadline(target: target.id))
        }
        let start = playbook.start.value
        queue.append(PendingEntry(stepID: start, instance: start, scope: nil))
        drain()
    }

    // MARK: Events

    mutating func apply(_ event: EngineEvent) throws(Rejection) {
        switch event {
        case .noted:
            return
        case .deliveryCompleted(let key, let result, let detail, _):
            try completeDelivery(key: key, result: result, detail: detail)
        case .timerFired(let id):
            try requireOpen()
            guard let index = state.timers.firstIndex(where: { $0.id == id }) else {
                throw Rejection("unknown-timer", "timer '\(id)' is not armed (it already fired or was replaced)")
            }
            let timer = state.timers[index]
            guard timer.due <= now else {
                throw Rejection(
                    "timer-not-due", "timer '\(id)' is due at \(ISO8601.format(timer.due)), not yet at \(ISO8601.format(now))")
            }
            state.timers.remove(at: index)
            fire(timer)
        case .acted(let step, let action, let fields, let actor):
            try requireOpen()
            try act(instance: step, action: action, fields: fields, actor: actor)
        }
        drain()
    }

    func requireOpen() throws(Rejection) {
        if case .closed(let outcome) = state.status {
            throw Rejection("closed", "the incident is closed (outcome \(outcome)); it accepts only notes and delivery results")
        }
    }

    // MARK: Worklist

    mutating func drain() {
        var i = 0
        while i < queue.count, state.status.isOpen {
            let entry = queue[i]
            i += 1
            enter(entry)
        }
        queue.removeAll()
    }

    /// Whether an entry's scope is still running: a branch cancelled or finished meanwhile drops its entries.
    func scopeIsLive(_ scope: Scope?) -> Bool {
        switch scope {
        case nil:
            return true
        case .branch(let parallel, let branch):
            guard let run = state.run(parallel), case .parallel(let p) = run.detail else { return false }
            return p.branches[branch] == .running
        case .item(let foreach, let index, _):
            guard let run = state.run(foreach), case .foreach(let f) = run.detail else { return false }
            return f.outcomes[index] == nil
        }
    }

    mutating func enter(_ entry: PendingEntry) {
        guard state.status.isOpen, scopeIsLive(entry.scope) else { return }
        entries += 1
        if entries > Engine.entryCap {
            actions.append(
                .remind(
                    step: entry.instance,
                    message:
                        "more than \(Engine.entryCap) steps were entered for one event (last: '\(entry.stepID)'); the playbook loops without waiting, so the incident was closed"
                ))
            close(outcome: "runaway_loop")
            return
        }
        guard let step = playbook.step(entry.stepID) else {
            noRoute(scope: entry.scope, instance: entry.instance, reason: "step '\(entry.stepID)' does not exist in the playbook")
            return
        }
        if state.run(entry.instance) != nil {
            cancel(entry.instance, reason: "entered again")
        }
        let visits = (state.visits[step.id] ?? 0) + 1
        state.visits[step.id] = visits
        var run = StepRun(instance: entry.instance, stepID: step.id, enteredAt: now, scope: entry.scope, detail: .simple)
        if let maxVisits = step.maxVisits, visits > maxVisits {
            state.active.append(run)
            exit(entry.instance, outcome: Outcome.maxVisits)
            return
        }
        actions.append(.enterStep(step: entry.instance, type: step.typeName))
        run.detail = initialDetail(step: step, run: run)
        var automatic = false
        if case .choice(let c) = step.kind, c.isAutomatic { automatic = true }
        if let timeout = step.timeout, step.kind.canTimeOut, !automatic {
            run.dueAt = now + timeout
        }
        state.active.append(run)
        if let due = run.dueAt {
            arm(due, step: entry.instance, .stepTimeout)
        }
        onEntry(step: step, instance: entry.instance)
    }

    func initialDetail(step: Step, run: StepRun) -> StepDetail {
        switch step.kind {
        case .holdingStatement:
            return .statement(StatementRun())
        case .takedown(let spec):
            return .takedown(initialTakedown(spec, run: run))
        case .escalate(let spec):
            return .escalation(EscalationRun(levels: resolveLevels(spec).levels))
        case .notify:
            return .notify(NotifyRun())
        case .parallel(let spec):
            var branches: [String: BranchStatus] = [:]
            for b in spec.branches { branches[b.id] = .running }
            return .parallel(ParallelRun(branches: branches))
        case .foreach(let spec):
            return .foreach(ForeachRun(items: ValueType.splitList(definition.inputs[spec.items.value] ?? "")))
        case .choice, .task, .clock, .wait, .end:
            return .simple
        }
    }

    mutating func onEntry(step: Step, instance: String) {
        switch step.kind {
        case .choice(let spec):
            guard spec.isAutomatic else { return }
            exit(instance, outcome: automaticOption(spec))
        case .task, .holdingStatement, .takedown:
            return
        case .escalate:
            guard let run = state.run(instance), case .escalation(let e) = run.detail, !e.levels.isEmpty else {
                exit(instance, outcome: "exhausted")
                return
            }
            fireLevel(instance: instance)
        case .notify(let spec):
            startNotify(spec, instance: instance)
        case .clock(let spec):
            performClock(spec, instance: instance)
            exit(instance, outcome: Outcome.done)
        case .wait(let spec):
            guard spec.event == nil else { return }
            if let duration = spec.duration {
                arm(now + duration, step: instance, .delay)
            } else {
                exit(instance, outcome: "elapsed")
            }
        case .parallel(let spec):
            if spec.branches.isEmpty {
                exit(instance, outcome: Outcome.done)
                return
            }
            for branch in spec.branches {
                queue.append(
                    PendingEntry(
                        stepID: branch.start.value, instance: branch.start.value,
                        scope: .branch(parallel: instance, branch: branch.id)))
            }
        case .foreach(let spec):
            guard let run = state.run(instance), case .foreach(let f) = run.detail, !f.items.isEmpty else {
                exit(instance, outcome: Outcome.done)
                return
            }
            for (offset, item) in f.items.enumerated() {
                queue.append(
                    PendingEntry(
                        stepID: spec.body.id, instance: "\(instance)[\(offset + 1)]",
                        scope: .item(foreach: instance, index: offset + 1, value: item)))
            }
        case .end(let spec):
            exit(instance, outcome: spec.outcome)
        }
    }

    /// First option whose guard matches the inputs, else the default (else the first option).
    func automaticOption(_ spec: ChoiceSpec) -> String {
        for option in spec.options {
            if let g = option.when, let value = definition.inputs[g.input.value], g.anyOf.contains(value) {
                return option.id
            }
        }
        return spec.defaultOption?.value ?? spec.options.first?.id ?? Outcome.done
    }

    // MARK: Exit, routing, cancellation

    mutating func exit(_ instance: String, outcome: String) {
        guard state.run(instance) != nil else { return }
        cancelChildren(of: instance, reason: "'\(instance)' finished with outcome \(outcome)")
        guard let index = state.active.firstIndex(where: { $0.instance == instance }) else { return }
        let run = state.active.remove(at: index)
        state.timers.removeAll { $0.step == instance }
        state.history.append(
            StepRecord(
                instance: instance, stepID: run.stepID, outcome: outcome, enteredAt: run.enteredAt, exitedAt: now,
                detail: run.detail))
        actions.append(.exitStep(step: instance, outcome: outcome))
        meetTargets(stepID: run.stepID, outcome: outcome)
        route(run, outcome: outcome)
    }

    mutating func route(_ run: StepRun, outcome: String) {
        if case .item(let foreach, let index, _) = run.scope {
            itemFinished(foreach: foreach, index: index, outcome: outcome)
            return
        }
        guard let step = playbook.step(run.stepID) else { return }
        if case .end = step.kind {
            if case .branch(let parallel, let branch) = run.scope {
                branchFinished(parallel: parallel, branch: branch, failed: outcome == Outcome.failed)
            } else {
                close(outcome: outcome)
            }
            return
        }
        var target = step.next[outcome]?.value
        if target == nil, outcome == Outcome.timeout, case .choice(let c) = step.kind, let d = c.defaultOption {
            target = step.next[d.value]?.value
        }
        if let target {
            queue.append(PendingEntry(stepID: target, instance: target, scope: run.scope))
        } else {
            noRoute(scope: run.scope, instance: run.instance, reason: "outcome '\(outcome)' of step '\(run.instance)' has no route")
        }
    }

    mutating func noRoute(scope: Scope?, instance: String, reason: String) {
        switch scope {
        case .branch(let parallel, let branch):
            branchFinished(parallel: parallel, branch: branch, failed: true)
        case .item(let foreach, let index, _):
            itemFinished(foreach: foreach, index: index, outcome: Outcome.failed)
        case nil:
            actions.append(.remind(step: instance, message: "\(reason); the incident was closed as unrouted"))
            close(outcome: "unrouted")
        }
    }

    /// The parallel or foreach instance a scope belongs to.
    static func container(_ scope: Scope?) -> String? {
        switch scope {
        case nil: nil
        case .branch(let parallel, _): parallel
        case .item(let foreach, _, _): foreach
        }
    }

    mutating func cancelChildren(of instance: String, reason: String) {
        let children = state.active.filter { Machine.container($0.scope) == instance }.map(\.instance)
        for child in children { cancel(child, reason: reason) }
        if let index = state.active.firstIndex(where: { $0.instance == instance }),
            case .parallel(var p) = state.active[index].detail
        {
            for (branch, status) in p.branches where status == .running { p.branches[branch] = .cancelled }
            state.active[index].detail = .parallel(p)
        }
    }

    /// Cancels an active instance and everything running inside it.
    mutating func cancel(_ instance: String, reason: String) {
        guard state.run(instance) != nil else { return }
        cancelChildren(of: instance, reason: reason)
        guard let index = state.active.firstIndex(where: { $0.instance == instance }) else { return }
        let run = state.active.remove(at: index)
        state.timers.removeAll { $0.step == instance }
        state.history.append(
            StepRecord(
                instance: instance, stepID: run.stepID, outcome: "cancelled", enteredAt: run.enteredAt, exitedAt: now,
                detail: run.detail))
        actions.append(.cancelStep(step: instance, reason: reason))
    }

    mutating func close(outcome: String) {
        guard state.status.isOpen else { return }
        for run in state.active {
            state.history.append(
                StepRecord(
                    instance: run.instance, stepID: run.stepID, outcome: "cancelled", enteredAt: run.enteredAt,
                    exitedAt: now, detail: run.detail))
            actions.append(.cancelStep(step: run.instance, reason: "incident closed"))
        }
        state.active = []
        state.timers = []
        state.status = .closed(outcome: outcome)
        actions.append(.close(outcome: outcome))
        queue.removeAll()
    }

    mutating func branchFinished(parallel: String, branch: String, failed: Bool) {
        guard let index = state.active.firstIndex(where: { $0.instance == parallel }),
            case .parallel(var p) = state.active[index].detail, p.branches[branch] == .running,
            let step = playbook.step(state.active[index].stepID), case .parallel(let spec) = step.kind
        else { return }
        p.branches[branch] = failed ? .failed : .done
        state.active[index].detail = .parallel(p)
        if failed, spec.onBranchFailure == .failFast {
            exit(parallel, outcome: Outcome.failed)
            return
        }
        let statuses = spec.branches.map { p.branches[$0.id] ?? .running }
        let done = statuses.filter { $0 == .done }.count
        let failures = statuses.filter { $0 == .failed }.count
        let running = statuses.filter { $0 == .running }.count
        switch spec.join {
        case .all:
            if running == 0 { exit(parallel, outcome: failures == 0 ? Outcome.done : Outcome.failed) }
        case .any, .count:
            var needed = 1
            if case .count(let n) = spec.join { needed = n }
            if done >= needed {
                exit(parallel, outcome: Outcome.done)
            } else if done + running < needed {
                exit(parallel, outcome: Outcome.failed)
            }
        }
    }

    mutating func itemFinished(foreach: String, index: Int, outcome: String) {
        guard let position = state.active.firstIndex(where: { $0.instance == foreach }),
            case .foreach(var f) = state.active[position].detail, f.outcomes[index] == nil,
            let step = playbook.step(state.active[position].stepID), case .foreach(let spec) = step.kind
        else { return }
        f.outcomes[index] = outcome
        state.active[position].detail = .foreach(f)
        guard f.outcomes.count >= f.items.count else { return }
        let failures = f.items.indices.filter { spec.failedOutcomes.contains(f.outcomes[$0 + 1] ?? "") }.count
        exit(foreach, outcome: failures > spec.tolerateFailures ? Outcome.failed : Outcome.done)
    }

    mutating func meetTargets(stepID: String, outcome: String) {
        for spec in playbook.targets where spec.step.value == stepID && spec.outcome.value == outcome {
            guard let i = state.targets.firstIndex(where: { $0.id == spec.id }), state.targets[i].metAt == nil,
                !state.targets[i].missed
            else { continue }
            state.timers.removeAll { $0.purpose == .targetDeadline(target: spec.id) }
            if now > state.targets[i].due {
                state.targets[i].missed = true
                actions.append(.missTarget(id: spec.id))
            } else {
                state.targets[i].metAt = now
                actions.append(.meetTarget(id: spec.id, after: now - state.targets[i].origin))
            }
        }
    }

    // MARK: Timers and deliveries

    @discardableResult
    mutating func arm(_ due: Instant, step: String?, _ purpose: TimerPurpose) -> String {
        let id = "t\(state.serial)"
        state.serial += 1
        state.timers.append(TimerEntry(id: id, due: due, step: step, purpose: purpose))
        return id
    }

    mutating func deliver(
        instance: String, purpose: DeliveryPurpose, channel: String, recipients: [String], text: String
    ) -> String {
        let key = "\(definition.incidentID)/\(instance)/\(purpose.rawValue)/\(state.serial)"
        state.serial += 1
        let delivery = Delivery(
            key: key, step: instance, purpose: purpose, channel: channel, recipients: recipients, text: text)
        state.deliveries.append(DeliveryRecord(delivery: delivery))
        actions.append(.deliver(delivery))
        return key
    }

    mutating func fire(_ timer: TimerEntry) {
        switch timer.purpose {
        case .stepTimeout:
            if let step = timer.step { exit(step, outcome: Outcome.timeout) }
        case .approvalFallback:
            if let step = timer.step { openFallback(instance: step) }
        case .ackTimeout:
            if let step = timer.step { escalationTimedOut(instance: step) }
        case .followUp:
            if let step = timer.step { followUp(instance: step) }
        case .noResponse:
            if let step = timer.step { takedownNoResponse(instance: step) }
        case .delay:
            if let step = timer.step { exit(step, outcome: "elapsed") }
        case .clockWarning(let clock, let before):
            let title = playbook.clock(clock)?.title ?? clock
            var message = "clock '\(clock)' (\(title)): \(before) left"
            if let run = state.clocks.first(where: { $0.id == clock }) {
                message += ", deadline \(ISO8601.format(run.deadline))"
            }
            actions.append(.remind(step: nil, message: message))
        case .clockDeadline(let clock):
            if let i = state.clocks.firstIndex(where: { $0.id == clock }) {
                state.clocks[i].expired = true
                actions.append(.expireClock(id: clock))
            }
        case .targetDeadline(let target):
            if let i = state.targets.firstIndex(where: { $0.id == target }), state.targets[i].metAt == nil,
                !state.targets[i].missed
            {
                state.targets[i].missed = true
                actions.append(.missTarget(id: target))
            }
        case .runDeadline:
            state.deadlineExceeded = true
            actions.append(.exceedDeadline)
            if let next = playbook.deadline?.next?.value {
                for instance in state.active.map(\.instance) {
                    cancel(instance, reason: "run deadline passed")
                }
                queue.append(PendingEntry(stepID: next, instance: next, scope: nil))
            }
        }
    }

    mutating func completeDelivery(key: String, result: DeliveryResult, detail: String?) throws(Rejection) {
        guard let index = state.deliveries.firstIndex(where: { $0.delivery.key == key }) else {
            throw Rejection("unknown-delivery", "no delivery has key '\(key)'")
        }
        let record = state.deliveries[index]
        guard !record.status.isFinal else {
            throw Rejection(
                "delivery-final",
                "delivery '\(key)' already ended as \(record.status.rawValue); a final delivery result cannot be changed")
        }
        state.deliveries[index].detail = detail
        switch result {
        case .manual:
            state.deliveries[index].status = .manual
            return
        case .sent: state.deliveries[index].status = .sent
        case .failed: state.deliveries[index].status = .failed
        case .sandboxed: state.deliveries[index].status = .sandboxed
        }
        guard state.status.isOpen, let run = state.run(record.delivery.step) else { return }
        switch run.detail {
        case .statement: statementDeliveryFinished(instance: run.instance, record: state.deliveries[index])
        case .notify: notifyDeliveryFinished(instance: run.instance)
        default: break
        }
    }
}

extension Instant {
    /// The instant `duration` before this one.
    func minus(_ duration: PlaybookDuration) -> Instant {
        Instant(millisecondsSinceEpoch: millisecondsSinceEpoch &- duration.milliseconds)
    }
}
