/// `clock`: start, stop or check a named clock (GDPR Art. 33's 72 hours), with warnings before its deadline.
/// Completes at once with `done`. Clock status diagram: `ClockRun` in State.swift.
///
/// Also here: performance targets (armed at start, or when the moment they count from is recorded; met by an
/// outcome or an intermediate state), clock warnings and expiry that enter steps (`on_warning`, `on_expiry`),
/// the incident action `set_deadline`, and the local times engine messages show.
extension ClockStepSpec: StepKindSpec {
    public static var stepType: StepType { .clock }
    public var ownOutcomes: [String] { [Outcome.done] }
    public var canTimeOut: Bool { false }
    public var isWaiting: Bool { false }
}

extension Engine {
    /// An instant for people, in the time zone `timeZone` (an IANA name) with its offset at that instant:
    /// `2026-03-30 17:40 +02:00`, or `... UTC` where the offset is zero. Every time in an engine message is
    /// written this way.
    public static func localTime(_ instant: Instant, timeZone: String) -> String {
        let offset = AvailabilityWindow.utcOffsetSeconds(of: timeZone, at: instant)
        let text = ISO8601.format(instant, offsetSeconds: offset, milliseconds: false)
        let zone = offset == 0 ? "UTC" : String(text.suffix(6))
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(5)) + " " + zone
    }
}

extension Machine {
    /// An instant in the playbook's time zone, for messages.
    func local(_ instant: Instant) -> String { Engine.localTime(instant, timeZone: playbook.timeZone) }

    mutating func enterClock(_ spec: ClockStepSpec, instance: String) {
        performClock(spec, instance: instance)
        exit(instance, outcome: Outcome.done)
    }

    mutating func performClock(_ spec: ClockStepSpec, instance: String) {
        let id = spec.clock.value
        guard let clock = playbook.clock(id) else {
            actions.append(.remind(step: instance, message: "the playbook has no clock '\(id)'"))
            return
        }
        let existing = state.clocks.firstIndex { $0.id == id }
        switch spec.operation {
        case .start:
            if let i = existing, state.clocks[i].status.isRunning {
                actions.append(
                    .remind(
                        step: instance,
                        message: "clock '\(id)' is already running (deadline \(local(state.clocks[i].deadline))); it was kept"))
                return
            }
            var origin = now
            if let input = spec.from?.value, let value = definition.inputs[input], let parsed = ISO8601.parse(value) {
                origin = parsed
            }
            if let anchor = spec.anchor {
                if let at = anchorInstant(anchor) {
                    origin = at
                } else {
                    actions.append(
                        .remind(
                            step: instance,
                            message: "clock '\(id)' counts from \(anchor), which has not been recorded; it counts from now"))
                }
            }
            let deadline = clock.deadline(from: origin, zone: playbook.timeZone)
            let run = ClockRun(id: id, startedAt: origin, deadline: deadline)
            if let i = existing { state.clocks[i] = run } else { state.clocks.append(run) }
            actions.append(.startClock(id: id, deadline: deadline))
            armClock(clock, deadline: deadline)
        case .stop:
            guard let i = existing, state.clocks[i].status.isRunning else {
                actions.append(.remind(step: instance, message: "clock '\(id)' is not running; nothing to stop"))
                return
            }
            state.clocks[i].status = .stopped(at: now)
            state.timers.removeAll { Machine.clockID(of: $0.purpose) == id }
            actions.append(.stopClock(id: id))
        case .check:
            guard let i = existing else {
                actions.append(.remind(step: instance, message: "clock '\(id)' (\(clock.title)) has not been started"))
                return
            }
            let run = state.clocks[i]
            let deadline = local(run.deadline)
            let message: String
            if case .stopped(let stopped) = run.status {
                message = "clock '\(id)' (\(clock.title)) was stopped at \(local(stopped)); deadline was \(deadline)"
            } else if run.deadline > now {
                message = "clock '\(id)' (\(clock.title)): \(run.deadline - now) left, deadline \(deadline)"
            } else {
                message = "clock '\(id)' (\(clock.title)) passed its deadline \(deadline) \(now - run.deadline) ago"
            }
            actions.append(.remind(step: instance, message: message))
        }
    }

    /// Replaces the clock's timers with its warnings still ahead and its deadline.
    mutating func armClock(_ clock: ClockSpec, deadline: Instant) {
        state.timers.removeAll { Machine.clockID(of: $0.purpose) == clock.id }
        for before in clock.warnings {
            let due = deadline.minus(before)
            if due > now { arm(due, step: nil, .clockWarning(clock: clock.id, before: before)) }
        }
        arm(deadline, step: nil, .clockDeadline(clock: clock.id))
    }

    mutating func clockWarning(_ clock: String, before: PlaybookDuration) {
        let spec = playbook.clock(clock)
        var message = "clock '\(clock)' (\(spec?.title ?? clock)): \(before) left"
        if let run = state.clocks.first(where: { $0.id == clock }) {
            message += ", deadline \(local(run.deadline))"
        }
        actions.append(.remind(step: nil, message: message))
        if let next = spec?.route(before: before)?.value { enterFromClock(next, clock: clock, why: "\(before) left") }
    }

    mutating func clockDeadline(_ clock: String) {
        guard let i = state.clocks.firstIndex(where: { $0.id == clock }) else { return }
        state.clocks[i].status = .expired
        actions.append(.expireClock(id: clock))
        if let next = playbook.clock(clock)?.onExpiry?.value { enterFromClock(next, clock: clock, why: "deadline passed") }
    }

    /// Enters the step a clock's warning or expiry routes to, at the top level in the clock's own scope. A step
    /// that is already active is left alone (entering it again would restart it: a second page, a lost draft).
    mutating func enterFromClock(_ stepID: String, clock: String, why: String) {
        if let run = state.run(stepID) {
            actions.append(
                .remind(
                    step: stepID,
                    message: "clock '\(clock)' (\(why)) routes to '\(stepID)', which is already active since \(local(run.enteredAt)); it was not entered again"))
            return
        }
        queue.append(PendingEntry(stepID: stepID, instance: stepID, scope: .clockRoute(clock: clock)))
    }

    /// The clock a timer belongs to, for clock warnings and deadlines.
    static func clockID(of purpose: TimerPurpose) -> String? {
        switch purpose {
        case .clockWarning(let clock, _), .clockDeadline(let clock): clock
        case .stepTimeout, .approvalFallback, .ackTimeout, .nextChannel, .reescalate, .followUp, .noResponse, .delay,
            .targetDeadline, .cadenceDue,
            .runDeadline:
            nil
        }
    }

    // MARK: Anchors

    /// When a moment recorded during the run happened, if it has: the last value of a `time` field recorded on
    /// the step, or when an instance of the step last took the outcome.
    func anchorInstant(_ anchor: RunAnchor) -> Instant? {
        switch anchor {
        case .field(let step, let field):
            return state.recordedFields[step.value]?[field.value].flatMap(ISO8601.parse)
        case .outcome(let step, let outcome):
            return state.history.last { $0.stepID == step.value && $0.outcome == outcome.value }?.exitedAt
        }
    }

    // MARK: Targets

    /// Arms the targets that count from the start or an input; the others wait for their moment.
    mutating func beginTargets() {
        for target in playbook.targets {
            var origin = now
            switch target.from {
            case .incidentStart: break
            case .input(let name):
                if let value = definition.inputs[name], let parsed = ISO8601.parse(value) { origin = parsed }
            case .run: continue
            }
            armTarget(target, origin: origin)
        }
    }

    mutating func armTarget(_ target: TargetSpec, origin: Instant) {
        let due = origin + target.within
        state.targets.append(TargetRun(id: target.id, origin: origin, due: due))
        arm(due, step: nil, .targetDeadline(target: target.id))
    }

    /// Arms every target whose moment has now been recorded (once: a later value does not move it).
    mutating func armAnchoredTargets() {
        guard state.status.isOpen else { return }
        advanceCadences()
        for target in playbook.targets {
            guard case .run(let anchor) = target.from, !state.targets.contains(where: { $0.id == target.id }),
                let origin = anchorInstant(anchor)
            else { continue }
            armTarget(target, origin: origin)
        }
    }

    /// An instance of `stepID` took `outcome`: targets waiting for it are met (or missed when late).
    mutating func meetTargets(stepID: String, outcome: String) {
        // Cadences first: an update done in the same moment as the cadence's `until` still counts.
        meetCadences(stepID: stepID, outcome: outcome)
        armAnchoredTargets()
        for spec in playbook.targets
        where spec.reaches == nil && spec.step.value == stepID && spec.outcome.value == outcome {
            settleTarget(spec.id)
        }
    }

    /// An instance of `stepID` reached an intermediate state (a takedown's `submitted`, a statement's `approved`):
    /// targets naming it with `reaches` are met (or missed when late).
    mutating func reachTargets(stepID: String, reached: String) {
        meetCadences(stepID: stepID, outcome: nil, reached: reached)
        armAnchoredTargets()
        for spec in playbook.targets where spec.step.value == stepID && spec.reaches?.value == reached {
            settleTarget(spec.id)
        }
    }

    mutating func settleTarget(_ id: String) {
        guard let i = state.targets.firstIndex(where: { $0.id == id }), state.targets[i].status == .pending else { return }
        state.timers.removeAll { $0.purpose == .targetDeadline(target: id) }
        if now > state.targets[i].due {
            state.targets[i].status = .missed
            actions.append(.missTarget(id: id))
        } else {
            state.targets[i].status = .met(at: now)
            actions.append(.meetTarget(id: id, after: now - state.targets[i].origin))
        }
    }

    mutating func targetDeadline(_ target: String) {
        if let i = state.targets.firstIndex(where: { $0.id == target }), state.targets[i].status == .pending {
            state.targets[i].status = .missed
            actions.append(.missTarget(id: target))
        }
    }

    // MARK: set_deadline

    /// The incident action `set_deadline`: a regulator or a court names the deadline of a clock.
    func setDeadlineActionSpec() -> ActionSpec? {
        guard !playbook.clocks.isEmpty else { return nil }
        return ActionSpec(
            .setDeadline, title: "Set a clock's deadline (a date named by a regulator or a court)",
            fields: [
                FieldSpec(
                    name: "clock", type: .enum, required: true, values: playbook.clocks.map(\.id), prompt: "Which clock"),
                FieldSpec(name: "at", type: .time, required: true, prompt: "The new deadline, with its offset"),
                FieldSpec(name: "reason", type: .text, required: true, prompt: "Who named it, and why"),
            ], roles: leadRoles)
    }

    /// Moves the deadline of a clock (starting it now when it has not been started) and re-arms its warnings.
    /// A stopped clock has ended: refused.
    mutating func setDeadline(fields: [String: String], actor: Actor) throws(Rejection) {
        let id = fields["clock"] ?? ""
        guard let clock = playbook.clock(id), let deadline = fields["at"].flatMap(ISO8601.parse) else { return }
        let reason = fields["reason"] ?? ""
        if let i = state.clocks.firstIndex(where: { $0.id == id }) {
            if let stopped = state.clocks[i].stoppedAt {
                throw Rejection(
                    .actionUnavailable,
                    "clock '\(id)' was stopped at \(local(stopped)); a stopped clock's deadline cannot be moved",
                    hint: .fieldInvalid(name: "clock", allowed: state.clocks.filter(\.status.isRunning).map(\.id)))
            }
            let previous = state.clocks[i].deadline
            state.clocks[i].deadline = deadline
            state.clocks[i].deadlineSet = DeadlineChange(at: now, by: actor.name, reason: reason, previous: previous)
            if deadline > now { state.clocks[i].status = .running }
            actions.append(
                .remind(
                    step: Engine.incidentStep,
                    message: "clock '\(id)' (\(clock.title)): deadline moved from \(local(previous)) to \(local(deadline)) by \(actor.name): \(reason)"))
        } else {
            var run = ClockRun(id: id, startedAt: now, deadline: deadline)
            run.deadlineSet = DeadlineChange(at: now, by: actor.name, reason: reason, previous: deadline)
            state.clocks.append(run)
            actions.append(.startClock(id: id, deadline: deadline))
            actions.append(
                .remind(
                    step: Engine.incidentStep,
                    message: "clock '\(id)' (\(clock.title)) started with deadline \(local(deadline)) set by \(actor.name): \(reason)"))
        }
        armClock(clock, deadline: deadline)
    }
}
