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
    /// Set while a `crisis watch` runs on the database: live deliveries its transports send are queued for it
    /// (recorded as `queued`), and the command returns at once instead of waiting on a slow channel.
    var handoff: DeliveryHandoff?
    /// Who sends a delivery this process claims (`crisis act (pid 4711 on host)`).
    var sender: DeliverySender = .thisProcess("crisis")

    /// Most times an outcome is re-recorded after another writer got in first.
    static let conflictRetries = 20

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
                let sent: TransportResult
                if run.incident.isDrill {
                    // Drills: the sandbox, always, with the outages their scenario scripts (pinned in the trail).
                    sent = SandboxTransport(outages: run.incident.sandboxOutages)
                        .send(delivery, at: run.firingAt ?? Committer.engineNow(run.incident, wallNow: wallNow))
                } else if let handoff, transport.sendsItself(delivery) {
                    // The watcher sends it; this command does not wait for the channel.
                    sent = TransportResult(.queued, "queued for \(handoff.watcher)")
                } else {
                    sent = transport.send(delivery, context: DeliveryContext(
                        incident: run.incident.id, contacts: run.incident.definition.contacts))
                }
                queue.append(contentsOf: try record(sent, of: delivery.key, actor: actor, wallNow: wallNow, into: &run))
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

    /// Sends the incident's queued deliveries now, one after the other: what a command does when no watcher runs
    /// (a watcher that stopped left them queued). Each is claimed first (`sending`), so a crash mid-send leaves
    /// it in doubt, never queued again.
    func sendQueued(actor: Actor, wallNow: Instant, into run: inout CommandRun) throws {
        guard !run.incident.isDrill else { return }
        var tried = Set<String>()
        while let d = run.incident.state.deliveries.first(where: { $0.status == .queued && !tried.contains($0.delivery.key) }) {
            tried.insert(d.delivery.key)
            guard try claim(d.delivery.key, actor: actor, wallNow: wallNow, into: &run) else { continue }
            let sent = transport.send(d.delivery, context: DeliveryContext(
                incident: run.incident.id, contacts: run.incident.definition.contacts))
            let more = try record(sent, of: d.delivery.key, actor: actor, wallNow: wallNow, into: &run)
            try self.run(more, actor: actor, wallNow: wallNow, into: &run)
        }
    }

    /// Records that this process is sending a queued delivery (`sending`). False when it is no longer queued
    /// (another sender claimed it, or a person settled it): then it is not this process's to send.
    func claim(_ key: String, actor: Actor, wallNow: Instant, into run: inout CommandRun) throws -> Bool {
        guard run.incident.state.deliveries.first(where: { $0.delivery.key == key })?.status == .queued else {
            return false
        }
        let claimed = TransportResult(.sending, "claimed by \(sender.description)")
        do {
            _ = try record(claimed, of: key, actor: actor, wallNow: wallNow, into: &run, retryConflicts: false)
        } catch is OutcomeTaken {
            return false
        }
        return run.incident.state.deliveries.first(where: { $0.delivery.key == key })?.status == .sending
            && run.records.last?.replayedFromKey != true
    }

    /// Records a delivery's result and returns what the engine asks next. When another process wrote to the
    /// incident meanwhile, reloads it and records the result against what now stands (it is about the delivery,
    /// whatever else happened), unless `retryConflicts` is false (a claim: the loser must not send).
    @discardableResult
    func record(_ sent: TransportResult, of key: String, actor: Actor, wallNow: Instant, into run: inout CommandRun,
                retryConflicts: Bool = true) throws -> [EngineAction] {
        let idempotency = switch sent.result {
        case .queued: "queued/\(key)"
        case .sending: "claim/\(key)"
        case .sent, .failed, .sandboxed, .manual: "outcome/\(key)"
        }
        var attempt = 0
        while true {
            attempt += 1
            let event = EngineEvent.deliveryCompleted(key: key, result: sent.result, detail: sent.detail, actor: actor)
            let anomaly = Committer.clockAnomaly(run.incident, wallNow: wallNow)
            let result: Result<[EngineAction], Rejection>
            do {
                result = try committer.process(event, key: idempotency, actor: actor, wallNow: wallNow, into: &run) {
                    now, effects in
                    .outcome(.init(now: now, key: key, result: sent.result, detail: sent.detail, actor: actor,
                                   note: nil, effects: effects, clockAnomaly: anomaly,
                                   attempts: sent.attempts.isEmpty ? nil : sent.attempts))
                }
            } catch AuditError.conflict where retryConflicts && attempt < Self.conflictRetries {
                run.incident = try IncidentLoader(log: committer.log).load(run.incident.id)
                continue
            } catch AuditError.conflict where !retryConflicts {
                throw OutcomeTaken(reason: "another process wrote to the incident first")
            }
            switch result {
            case .success(let more): return more
            case .failure(let r) where r.code == .deliveryQueued || r.code == .deliveryFinal:
                // Someone else settled or claimed it meanwhile: theirs stands.
                throw OutcomeTaken(reason: r.message)
            case .failure(let r):
                throw RuntimeError.corruptRecord("engine refused the outcome of delivery \(key): \(r)")
            }
        }
    }
}

/// A delivery's result could not be recorded because another process settled or claimed it first: theirs stands.
struct OutcomeTaken: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
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
