/// The pure state machine: `(state, event, now) -> (state, [action])`.
///
/// No clock, no I/O, no randomness: time and outcomes enter as events. The shell (CrisisRuntime) records every
/// event in the audit trail, performs the `deliver` actions write-ahead, and fires timers from `state.timers`.
///
/// Every call runs to quiescence: steps that complete without waiting (automatic choices, clock steps, `end`,
/// `parallel` and `foreach` entry, `max_visits` exits) are processed before the call returns.
///
/// Refusals carry a `RejectionCode` (docs/rejection-codes.md), a message for the operator and, where it
/// helps, a `RejectionHint` (the role needed, the field missing, the actions possible now).
///
/// The code of each step kind lives in its own file (`EngineChoice.swift`, `EngineTask.swift`,
/// `EngineStatement.swift`, `EngineTakedown.swift`, `EngineEscalate.swift`, `EngineNotify.swift`,
/// `EngineClock.swift`, `EngineWait.swift`, `EngineParallel.swift`, `EngineForeach.swift`, `EngineEnd.swift`);
/// this file holds the worklist, routing, cancellation, timers and deliveries, and switches over kinds only to
/// delegate.
///
/// Step lifecycle (one instance; `Machine.enter`, `exit`, `cancel`):
///
///                      enter
///     (queued) -------------------> active ---- outcome ----> finished (history: outcome)
///        |                            |  |
///        | visits > max_visits        |  +-- timeout timer --> finished (history: timeout)
///        +--> finished (max_visits)   |
///                                     +-- cancelled (sibling won, fail-fast, deadline, close, entered again)
///                                          --> finished (history: cancelled)
///
/// Automatic steps (guarded choice, clock, end, empty parallel/foreach, pure delay of zero) go from active to
/// finished within the same event.
public enum Engine {
    /// The pseudo-step that incident-wide actions (`close`, `set_deadline`) are performed on.
    public static let incidentStep = "incident"

    /// The actions of the pseudo-step `incident` (`set_deadline` only when the playbook has clocks).
    public static let incidentActions: [StepAction] = [.close, .setDeadline]

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
    /// `incident`: `close`, and `set_deadline` when the playbook has clocks. Unknown or inactive instances, and
    /// every instance of a closed incident: none.
    /// A holding statement's `draft` lists the facts only: the shell renders the texts and sends `drafted`.
    public static func availableActions(for instance: String, in state: IncidentState) -> [ActionSpec] {
        guard state.status.isOpen else { return [] }
        let m = Machine(state: state, now: state.startedAt)
        if instance == incidentStep { return m.incidentActionSpecs() }
        guard let run = state.run(instance), let step = state.definition.playbook.step(run.stepID) else { return [] }
        return m.actionSpecs(for: run, step: step)
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
            state.runDeadline = .pending(due: due)
            arm(due, step: nil, .runDeadline)
        }
        beginTargets()
        beginCadences()
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
                throw Rejection(.unknownTimer, "timer '\(id)' is not armed (it already fired or was replaced)")
            }
            let timer = state.timers[index]
            guard timer.due <= now else {
                throw Rejection(
                    .timerNotDue,
                    "timer '\(id)' is due at \(local(timer.due)), not yet at \(local(now))")
            }
            state.timers.remove(at: index)
            fire(timer)
        case .acted(let step, let action, let fields, let actor):
            try requireOpen()
            try act(instance: step, action: action, fields: fields, actor: actor)
        case .drafted(let step, let facts, let statement, let actor):
            try requireOpen()
            try drafted(instance: step, facts: facts, statement: statement, actor: actor)
        }
        drain()
        armAnchoredTargets()
    }

    func requireOpen() throws(Rejection) {
        if case .closed(let outcome) = state.status {
            throw Rejection(
                .closed, "the incident is closed (outcome \(outcome)); it accepts only notes and delivery results")
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
            guard let run = state.run(parallel), case .parallel(_, let p) = run.progress else { return false }
            return p.branches[branch] == .running
        case .item(let foreach, let index, _):
            guard let run = state.run(foreach), case .foreach(_, let f) = run.progress else { return false }
            return f.outcomes[index] == nil
        case .clockRoute, .timeoutRoute:
            return true
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
        if let active = state.run(entry.instance) {
            if case .clockRoute(let clock) = entry.scope {
                // A clock's route does not restart a step the incident is already working on.
                actions.append(
                    .remind(
                        step: entry.instance,
                        message: "the route of clock '\(clock)' leads to '\(entry.instance)', which is already active since \(local(active.enteredAt)); it was not entered again"))
                return
            }
            cancel(entry.instance, reason: "entered again")
        }
        let visits = (state.visits[step.id] ?? 0) + 1
        state.visits[step.id] = visits
        if let maxVisits = step.maxVisits, visits > maxVisits {
            // Never entered: no enter action, no progress kept.
            state.history.append(
                StepRecord(
                    instance: entry.instance, stepID: step.id, outcome: Outcome.maxVisits, enteredAt: now, exitedAt: now))
            actions.append(.exitStep(step: entry.instance, outcome: Outcome.maxVisits))
            meetTargets(stepID: step.id, outcome: Outcome.maxVisits)
            route(stepID: step.id, instance: entry.instance, scope: entry.scope, outcome: Outcome.maxVisits)
            return
        }
        actions.append(.enterStep(step: entry.instance, type: step.stepType))
        var run = StepRun(
            instance: entry.instance, stepID: step.id, enteredAt: now, scope: entry.scope,
            progress: initialProgress(step.kind, scope: entry.scope))
        var automatic = false
        if case .choice(let c) = step.kind, c.isAutomatic { automatic = true }
        if let timeout = step.timeout, step.kind.canTimeOut, !automatic {
            run.dueAt = now + timeout
        }
        state.active.append(run)
        if let due = run.dueAt {
            arm(due, step: entry.instance, .stepTimeout)
        }
        onEntry(state.active[state.active.count - 1])
    }

    /// The progress a step starts with. Delegates to the kind's file.
    func initialProgress(_ kind: StepKind, scope: Scope?) -> StepProgress {
        switch kind {
        case .choice(let spec): .choice(spec)
        case .task(let spec): .task(spec)
        case .holdingStatement(let spec): .statement(spec, StatementRun())
        case .takedown(let spec): .takedown(spec, initialTakedown(spec, scope: scope))
        case .escalate(let spec): .escalation(spec, initialEscalation(spec))
        case .notify(let spec): .notify(spec, NotifyRun())
        case .clock(let spec): .clock(spec)
        case .wait(let spec): .wait(spec)
        case .parallel(let spec): .parallel(spec, initialParallel(spec))
        case .foreach(let spec): .foreach(spec, initialForeach(spec))
        case .end(let spec): .end(spec)
        case .submission(let spec): .submission(spec, initialSubmission(spec, scope: scope))
        }
    }

    /// What a step does when it becomes active. Delegates to the kind's file.
    mutating func onEntry(_ run: StepRun) {
        let instance = run.instance
        switch run.progress {
        case .choice(let spec): enterChoice(spec, instance: instance)
        case .task: return
        case .statement: return
        case .takedown: return
        case .escalation(_, let e): enterEscalation(e, instance: instance)
        case .notify(let spec, _): enterNotify(spec, run: run)
        case .clock(let spec): enterClock(spec, instance: instance)
        case .wait(let spec): enterWait(spec, instance: instance)
        case .parallel(let spec, _): enterParallel(spec, instance: instance)
        case .foreach(let spec, let f): enterForeach(spec, f, instance: instance)
        case .end(let spec): exit(instance, outcome: spec.outcome)
        case .submission: return
        }
    }

    /// Replaces the progress of an active instance (which keeps its kind).
    mutating func setProgress(_ instance: String, _ progress: StepProgress) {
        guard let i = state.active.firstIndex(where: { $0.instance == instance }) else { return }
        state.active[i].progress = progress
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
        route(stepID: run.stepID, instance: run.instance, scope: run.scope, outcome: outcome)
    }

    mutating func route(stepID: String, instance: String, scope: Scope?, outcome: String) {
        if case .item(let foreach, let index, _) = scope {
            itemFinished(foreach: foreach, index: index, outcome: outcome)
            return
        }
        guard let step = playbook.step(stepID) else { return }
        if case .end = step.kind {
            switch scope {
            case .branch(let parallel, let branch):
                branchFinished(parallel: parallel, branch: branch, failed: outcome == Outcome.failed)
            case .clockRoute, .timeoutRoute:
                // The clock's (or the timeout's) route is done; the incident goes on.
                return
            case nil, .item:
                close(outcome: outcome)
            }
            return
        }
        var target = step.next[outcome]?.value
        if target == nil, outcome == Outcome.timeout, case .choice(let c) = step.kind, let d = c.defaultOption {
            target = step.next[d.value]?.value
        }
        if target == nil, case .takedown = step.kind, let fallback = TakedownStatus(rawValue: outcome)?.routeFallback {
            // A later takedown outcome the playbook does not route takes the route of the one it extends.
            target = step.next[fallback.rawValue]?.value
        }
        if let target {
            queue.append(PendingEntry(stepID: target, instance: target, scope: scope))
        } else {
            noRoute(scope: scope, instance: instance, reason: "outcome '\(outcome)' of step '\(instance)' has no route")
        }
    }

    mutating func noRoute(scope: Scope?, instance: String, reason: String) {
        switch scope {
        case .branch(let parallel, let branch):
            branchFinished(parallel: parallel, branch: branch, failed: true)
        case .item(let foreach, let index, _):
            itemFinished(foreach: foreach, index: index, outcome: Outcome.failed)
        case .clockRoute(let clock):
            actions.append(.remind(step: instance, message: "\(reason); the route of clock '\(clock)' ends here"))
        case .timeoutRoute(let choice):
            actions.append(.remind(step: instance, message: "\(reason); the escalation of '\(choice)' ends here"))
        case nil:
            actions.append(.remind(step: instance, message: "\(reason); the incident was closed as unrouted"))
            close(outcome: "unrouted")
        }
    }

    /// The parallel or foreach instance a scope belongs to.
    static func container(_ scope: Scope?) -> String? {
        switch scope {
        case nil, .clockRoute, .timeoutRoute: nil
        case .branch(let parallel, _): parallel
        case .item(let foreach, _, _): foreach
        }
    }

    mutating func cancelChildren(of instance: String, reason: String) {
        let children = state.active.filter { Machine.container($0.scope) == instance }.map(\.instance)
        for child in children { cancel(child, reason: reason) }
        cancelRunningBranches(of: instance)
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
                instance: instance, stepID: run.stepID, outcome: Outcome.cancelled, enteredAt: run.enteredAt,
                exitedAt: now, detail: run.detail))
        actions.append(.cancelStep(step: instance, reason: reason))
    }

    mutating func close(outcome: String) {
        guard state.status.isOpen else { return }
        for run in state.active {
            state.history.append(
                StepRecord(
                    instance: run.instance, stepID: run.stepID, outcome: Outcome.cancelled, enteredAt: run.enteredAt,
                    exitedAt: now, detail: run.detail))
            actions.append(.cancelStep(step: run.instance, reason: "incident closed"))
        }
        state.active = []
        state.timers = []
        state.status = .closed(outcome: outcome)
        state.closedAt = now
        actions.append(.close(outcome: outcome))
        queue.removeAll()
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
        deliver(Delivery(key: "", step: instance, purpose: purpose, channel: channel, recipients: recipients, text: text))
    }

    /// Asks for `delivery` under a new key (`incident/step/purpose/serial`; the key it carries is ignored).
    mutating func deliver(_ delivery: Delivery) -> String {
        var delivery = delivery
        delivery.key = "\(definition.incidentID)/\(delivery.step)/\(delivery.purpose.rawValue)/\(state.serial)"
        state.serial += 1
        state.deliveries.append(DeliveryRecord(delivery: delivery))
        actions.append(.deliver(delivery))
        return delivery.key
    }

    mutating func fire(_ timer: TimerEntry) {
        switch timer.purpose {
        case .stepTimeout:
            if let step = timer.step { stepTimedOut(step) }
        case .approvalFallback:
            if let step = timer.step { openFallback(instance: step) }
        case .ackTimeout:
            if let step = timer.step { escalationTimedOut(instance: step) }
        case .nextChannel(let level, let round):
            if let step = timer.step { nextChannelDue(instance: step, level: level, round: round) }
        case .reescalate(let escalation, let level):
            if let step = timer.step { reescalate(escalation: escalation, level: level, watched: step) }
        case .followUp:
            if let step = timer.step { followUp(instance: step) }
        case .noResponse:
            if let step = timer.step { takedownNoResponse(instance: step) }
        case .delay:
            if let step = timer.step { exit(step, outcome: Outcome.elapsed) }
        case .clockWarning(let clock, let before):
            clockWarning(clock, before: before)
        case .clockDeadline(let clock):
            clockDeadline(clock)
        case .targetDeadline(let target):
            targetDeadline(target)
        case .cadenceDue(let cadence, let occurrence):
            cadenceDue(cadence, occurrence: occurrence)
        case .runDeadline:
            state.runDeadline = .passed(due: state.runDeadline?.due ?? now)
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
            throw Rejection(.unknownDelivery, "no delivery has key '\(key)'")
        }
        let record = state.deliveries[index]
        guard !record.status.isFinal else {
            throw Rejection(
                .deliveryFinal,
                "delivery '\(key)' already ended as \(record.status.rawValue); a final delivery result cannot be changed")
        }
        switch (result, record.status) {
        case (.queued, .pending), (.sending, .queued), (.manual, .pending), (.manual, .queued):
            break
        case (.queued, _), (.sending, _), (.manual, _):
            throw Rejection(
                .deliveryQueued,
                "delivery '\(key)' is \(record.status.rawValue); it cannot become \(result.rawValue)")
        case (.sent, .queued), (.failed, .queued):
            // A person may not settle what the watcher is about to send: both would send it.
            throw Rejection(
                .deliveryQueued,
                "delivery '\(key)' is \(record.detail ?? "queued for crisis watch") and has not been tried yet: "
                    + "its result will be recorded. If nothing is running to send it, the next command on the "
                    + "incident sends it")
        case (.sent, _), (.failed, _), (.sandboxed, _):
            break
        }
        state.deliveries[index].detail = detail
        switch result {
        case .manual:
            state.deliveries[index].status = .manual
            return
        case .queued:
            state.deliveries[index].status = .queued
            return
        case .sending:
            state.deliveries[index].status = .sending
            return
        case .sent: state.deliveries[index].status = .sent
        case .failed: state.deliveries[index].status = .failed
        case .sandboxed: state.deliveries[index].status = .sandboxed
        }
        guard state.status.isOpen, let run = state.run(record.delivery.step) else { return }
        switch run.progress {
        case .statement(let spec, let s):
            statementDeliveryFinished(spec, s, instance: run.instance, record: state.deliveries[index])
        case .notify(let spec, let n):
            notifyDeliveryFinished(spec, n, instance: run.instance)
        case .escalation:
            // A page that went out changes nothing: the ack timer decides. One that failed moves a sequential
            // level to its person's next channel.
            pageDeliveryFailed(instance: run.instance, record: state.deliveries[index])
        case .choice, .task, .takedown, .clock, .wait, .parallel, .foreach, .end, .submission:
            return
        }
    }
}

extension Instant {
    /// The instant `duration` before this one.
    func minus(_ duration: PlaybookDuration) -> Instant {
        Instant(millisecondsSinceEpoch: millisecondsSinceEpoch &- duration.milliseconds)
    }
}
