/// `clock`: start, stop or check a named clock (GDPR Art. 33's 72 hours), with warnings before its deadline.
/// Completes at once with `done`. Clock status diagram: `ClockRun` in State.swift.
extension ClockStepSpec: StepKindSpec {
    public static var stepType: StepType { .clock }
    public var ownOutcomes: [String] { [Outcome.done] }
    public var canTimeOut: Bool { false }
    public var isWaiting: Bool { false }
}

extension Machine {
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
                        message: "clock '\(id)' is already running (deadline \(ISO8601.format(state.clocks[i].deadline))); it was kept"))
                return
            }
            var origin = now
            if let input = spec.from?.value, let value = definition.inputs[input], let parsed = ISO8601.parse(value) {
                origin = parsed
            }
            let deadline = origin + clock.duration
            let run = ClockRun(id: id, startedAt: origin, deadline: deadline)
            if let i = existing { state.clocks[i] = run } else { state.clocks.append(run) }
            state.timers.removeAll { Machine.clockID(of: $0.purpose) == id }
            actions.append(.startClock(id: id, deadline: deadline))
            for before in clock.warnBefore {
                let due = deadline.minus(before)
                if due > now { arm(due, step: nil, .clockWarning(clock: id, before: before)) }
            }
            arm(deadline, step: nil, .clockDeadline(clock: id))
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
            let deadline = ISO8601.format(run.deadline)
            let message: String
            if case .stopped(let stopped) = run.status {
                message = "clock '\(id)' (\(clock.title)) was stopped at \(ISO8601.format(stopped)); deadline was \(deadline)"
            } else if run.deadline > now {
                message = "clock '\(id)' (\(clock.title)): \(run.deadline - now) left, deadline \(deadline)"
            } else {
                message = "clock '\(id)' (\(clock.title)) passed its deadline \(deadline) \(now - run.deadline) ago"
            }
            actions.append(.remind(step: instance, message: message))
        }
    }

    mutating func clockWarning(_ clock: String, before: PlaybookDuration) {
        let title = playbook.clock(clock)?.title ?? clock
        var message = "clock '\(clock)' (\(title)): \(before) left"
        if let run = state.clocks.first(where: { $0.id == clock }) {
            message += ", deadline \(ISO8601.format(run.deadline))"
        }
        actions.append(.remind(step: nil, message: message))
    }

    mutating func clockDeadline(_ clock: String) {
        guard let i = state.clocks.firstIndex(where: { $0.id == clock }) else { return }
        state.clocks[i].status = .expired
        actions.append(.expireClock(id: clock))
    }

    /// The clock a timer belongs to, for clock warnings and deadlines.
    static func clockID(of purpose: TimerPurpose) -> String? {
        switch purpose {
        case .clockWarning(let clock, _), .clockDeadline(let clock): clock
        case .stepTimeout, .approvalFallback, .ackTimeout, .nextChannel, .reescalate, .followUp, .noResponse, .delay,
            .targetDeadline,
            .runDeadline:
            nil
        }
    }
}
