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
                let sent = run.incident.isDrill ? SandboxTransport().send(delivery) : transport.send(delivery)
                let event = EngineEvent.deliveryCompleted(
                    key: delivery.key, result: sent.result, detail: sent.detail, actor: actor)
                let anomaly = Committer.clockAnomaly(run.incident, wallNow: wallNow)
                let result = try committer.process(
                    event, key: "outcome/\(delivery.key)", actor: actor, wallNow: wallNow, into: &run
                ) { now, effects in
                    .outcome(.init(now: now, key: delivery.key, result: sent.result, detail: sent.detail, actor: actor,
                                   note: nil, effects: effects, clockAnomaly: anomaly))
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

/// Fires the timers whose due instant has come, in due order, each as its own `timer.fired` record at the
/// incident's clock, and runs what each causes.
struct TimerPump: Sendable {
    let committer: Committer
    let effects: EffectRunner

    func fireDue(wallNow: Instant, into run: inout CommandRun) throws {
        let now = Committer.engineNow(run.incident, wallNow: wallNow)
        var fired = 0
        while let timer = run.incident.state.nextTimer, timer.due <= now, fired < 10_000 {
            fired += 1
            let result = try committer.process(
                .timerFired(id: timer.id), key: "timer/\(timer.id)", actor: .system, wallNow: wallNow, into: &run
            ) { now, effects in
                .timer(.init(now: now, timer: timer.id, due: timer.due, step: timer.step, effects: effects))
            }
            switch result {
            case .success(let actions): try effects.run(actions, actor: .system, wallNow: wallNow, into: &run)
            case .failure(let r):
                throw RuntimeError.corruptRecord("engine refused its own due timer \(timer.id): \(r)")
            }
        }
    }
}
