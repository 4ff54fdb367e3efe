/// Cadences (Cadence.swift): started at the incident's start or when the moment they count from is recorded, one
/// occurrence pending at a time, each met when its step takes the outcome in time and missed when its timer fires
/// (or when the step takes the outcome late), ended when `until` is recorded.
extension Machine {
    /// Starts the cadences that count from the start or an input; the others wait for their moment.
    mutating func beginCadences() {
        for cadence in playbook.cadences {
            var origin = now
            switch cadence.from {
            case .incidentStart: break
            case .input(let name):
                if let value = definition.inputs[name], let parsed = ISO8601.parse(value) { origin = parsed }
            case .run: continue
            }
            startCadence(cadence, origin: origin)
        }
    }

    mutating func startCadence(_ spec: CadenceSpec, origin: Instant) {
        var run = CadenceRun(id: spec.id, origin: origin)
        if let until = spec.until, anchorInstant(until) != nil {
            run.endedAt = now
            state.cadences.append(run)
            actions.append(
                .remind(
                    step: nil,
                    message: "cadence '\(spec.id)' (\(spec.title)) did not start: \(until) was already recorded"))
            return
        }
        state.cadences.append(run)
        scheduleOccurrence(spec, index: state.cadences.count - 1, after: origin)
    }

    /// Adds the next occurrence, due `every` after `previous` (moved into the window), and arms its timer.
    mutating func scheduleOccurrence(_ spec: CadenceSpec, index i: Int, after previous: Instant) {
        let number = state.cadences[i].occurrences.count + 1
        let due = spec.nextDue(after: previous, zone: playbook.timeZone)
        state.cadences[i].occurrences.append(CadenceOccurrence(number: number, due: due))
        arm(due, step: nil, .cadenceDue(cadence: spec.id, occurrence: number))
    }

    /// Starts the cadences whose moment has now been recorded, and ends those whose `until` has.
    mutating func advanceCadences() {
        guard state.status.isOpen else { return }
        for spec in playbook.cadences {
            if case .run(let anchor) = spec.from, !state.cadences.contains(where: { $0.id == spec.id }),
                let origin = anchorInstant(anchor)
            {
                startCadence(spec, origin: origin)
            }
            guard let until = spec.until, let i = state.cadences.firstIndex(where: { $0.id == spec.id }),
                state.cadences[i].endedAt == nil, anchorInstant(until) != nil
            else { continue }
            endCadence(spec, index: i, why: "\(until) was recorded")
        }
    }

    /// Ends a cadence: its timer is removed; its pending occurrence is missed when already overdue, else dropped.
    mutating func endCadence(_ spec: CadenceSpec, index i: Int, why: String) {
        state.timers.removeAll {
            if case .cadenceDue(let cadence, _) = $0.purpose { cadence == spec.id } else { false }
        }
        if let pending = state.cadences[i].pending {
            if now > pending.due {
                state.cadences[i].occurrences[pending.number - 1].status = .missed
                actions.append(.missTarget(id: CadenceOccurrence.targetID(cadence: spec.id, number: pending.number)))
            } else {
                state.cadences[i].occurrences.removeLast()
            }
        }
        state.cadences[i].endedAt = now
        let run = state.cadences[i]
        actions.append(
            .remind(
                step: nil,
                message: "cadence '\(spec.id)' (\(spec.title)) ended: \(why); \(run.met) met, \(run.missed) missed"))
    }

    /// An instance of `stepID` took `outcome` (or, with `reached`, reached that intermediate state): the pending
    /// occurrence of each cadence waiting for it is settled (met, or missed when late) and the next one scheduled.
    mutating func meetCadences(stepID: String, outcome: String?, reached: String? = nil) {
        for spec in playbook.cadences where spec.step.value == stepID {
            if let reached {
                guard spec.reaches?.value == reached else { continue }
            } else {
                guard spec.reaches == nil, spec.outcome.value == outcome else { continue }
            }
            guard let i = state.cadences.firstIndex(where: { $0.id == spec.id }), state.cadences[i].endedAt == nil,
                let pending = state.cadences[i].pending
            else { continue }
            let n = pending.number - 1
            let target = CadenceOccurrence.targetID(cadence: spec.id, number: pending.number)
            state.timers.removeAll { $0.purpose == .cadenceDue(cadence: spec.id, occurrence: pending.number) }
            if now > pending.due {
                state.cadences[i].occurrences[n].status = .missed
                state.cadences[i].occurrences[n].doneLateAt = now
                actions.append(.missTarget(id: target))
            } else {
                let since = state.cadences[i].doneAt(before: pending.number)
                state.cadences[i].occurrences[n].status = .met(at: now)
                actions.append(.meetTarget(id: target, after: now - since))
            }
            scheduleOccurrence(spec, index: i, after: now)
        }
    }

    /// The timer of occurrence `occurrence` fired: missed unless it was met meanwhile. The next one counts from
    /// the missed due instant.
    mutating func cadenceDue(_ id: String, occurrence: Int) {
        guard let spec = playbook.cadence(id), let i = state.cadences.firstIndex(where: { $0.id == id }),
            state.cadences[i].endedAt == nil, let pending = state.cadences[i].pending, pending.number == occurrence
        else { return }
        state.cadences[i].occurrences[occurrence - 1].status = .missed
        actions.append(.missTarget(id: CadenceOccurrence.targetID(cadence: id, number: occurrence)))
        scheduleOccurrence(spec, index: i, after: pending.due)
        let next = state.cadences[i].pending.map { local($0.due) } ?? "-"
        actions.append(
            .remind(
                step: nil,
                message: "cadence '\(id)' (\(spec.title)): occurrence \(occurrence) due \(local(pending.due)) was missed; next due \(next)"))
    }
}

extension CadenceRun {
    /// When the occurrence before `number` was done (met, done late, or its due instant when never done); the
    /// origin for occurrence 1.
    public func doneAt(before number: Int) -> Instant {
        guard number >= 2, number - 2 < occurrences.count else { return origin }
        let previous = occurrences[number - 2]
        return previous.metAt ?? previous.doneLateAt ?? previous.due
    }
}
