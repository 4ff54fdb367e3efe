import CrisisAudit
import CrisisCore

/// Performs what the engine asked for, after its cause was committed. One exhaustive switch: a new kind of
/// engine action does not compile until this says what the shell does with it.
///
/// - `deliver`: the intent is already committed with its cause; the delivery goes to the transport (drills: the
///   sandbox, always, decided here and nowhere else) and its outcome comes back as an event, recorded like any
///   other. A crash between the two leaves the delivery in doubt, for a person to settle; it is never repeated.
/// - `close`: noted, so the command issues a signed checkpoint once everything it caused is recorded.
/// - `remind`: shown to the people on the incident.
/// - Step, clock, target and deadline transitions: already in the state and in the record's `effects`.
struct EffectRunner: Sendable {
    let committer: Committer
    /// Where live deliveries go.
    let transport: any DeliveryTransport

    func run(_ actions: [EngineAction], actor: Actor, wallNow: Instant, into run: inout CommandRun) throws {
        var queue = actions[...]
        var faultChecked = false
        while let action = queue.popFirst() {
            switch action {
            case .deliver(let delivery):
                if !faultChecked {
                    FaultInjection.hit(.afterIntent)
                    faultChecked = true
                }
                // Drills: the sandbox, always, with the outages their scenario scripts (pinned in the trail).
                let sent = run.incident.isDrill
                    ? SandboxTransport(outages: run.incident.sandboxOutages)
                        .send(delivery, at: run.firingAt ?? Committer.engineNow(run.incident, wallNow: wallNow))
                    : transport.send(delivery, context: DeliveryContext(
                        incident: run.incident.id, contacts: run.incident.definition.contacts))
                let event = EngineEvent.deliveryCompleted(
                    key: delivery.key, result: sent.result, detail: sent.detail, actor: actor)
                let anomaly = Committer.clockAnomaly(run.incident, wallNow: wallNow)
                let result = try committer.process(
                    event, key: "outcome/\(delivery.key)", actor: actor, wallNow: wallNow, into: &run
                ) { now, effects in
                    .outcome(.init(now: now, key: delivery.key, result: sent.result, detail: sent.detail, actor: actor,
                                   note: nil, effects: effects, clockAnomaly: anomaly,
                                   attempts: sent.attempts.isEmpty ? nil : sent.attempts))
                }
                switch result {
                case .success(let more): queue.append(contentsOf: more)
                case .failure(let r):
                    throw RuntimeError.corruptRecord("engine refused the outcome of delivery \(delivery.key): \(r)")
                }
            case .close(let outcome):
                run.closed = outcome
            case .remind(let step, let message):
                run.reminders.append(Reminder(step: step, message: message))
            case .enterStep, .exitStep, .cancelStep, .startClock, .stopClock, .expireClock, .meetTarget, .missTarget,
                .exceedDeadline:
                break
            }
        }
    }
}

/// Fires the timers whose due instant has come, one by one in due order, each as its own `timer.fired` record.
///
/// Each timer is handled at its own due instant (never earlier than the incident's clock), and so is everything
/// it causes (its deliveries' outcomes), so the timers it arms count from when it was due, not from when a
/// command or a watcher got round to it. Any split of a span of time into steps therefore gives the same state
/// and the same recorded engine times: one `--advance 60m` and twelve `--advance 5m` make the same incident, and
/// a watcher that slept through an hour catches up exactly as if it had been awake (each live record also says
/// when it really fired, and how late).
struct TimerPump: Sendable {
    let committer: Committer
    let effects: EffectRunner

    /// Most timers one command fires: a playbook that re-arms a zero-length timer forever stops here.
    static let cap = 10_000

    /// Fires every timer due at or before `until`. Returns how many fired.
    @discardableResult
    func fireDue(until: Instant, wallNow: Instant, into run: inout CommandRun) throws -> Int {
        var fired = 0
        defer { run.firingAt = nil }
        while let timer = run.incident.state.nextTimer, timer.due <= until, fired < Self.cap {
            fired += 1
            run.firingAt = timer.due
            let firedAt: Instant? = run.incident.isDrill ? nil : wallNow
            let result = try committer.process(
                .timerFired(id: timer.id), key: "timer/\(timer.id)", actor: .system, wallNow: wallNow, into: &run
            ) { now, effects in
                .timer(.init(now: now, timer: timer.id, due: timer.due, step: timer.step, firedAt: firedAt,
                             purpose: StatusReport.purpose(timer.purpose), effects: effects))
            }
            switch result {
            case .success(let actions): try effects.run(actions, actor: .system, wallNow: wallNow, into: &run)
            case .failure(let r):
                throw RuntimeError.corruptRecord("engine refused its own due timer \(timer.id): \(r)")
            }
        }
        return fired
    }

    /// Live incidents: fires what the wall clock has made due.
    @discardableResult
    func fireDue(wallNow: Instant, into run: inout CommandRun) throws -> Int {
        try fireDue(until: Committer.engineNow(run.incident, wallNow: wallNow), wallNow: wallNow, into: &run)
    }
}
