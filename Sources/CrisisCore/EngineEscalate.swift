/// `escalate`: page people level by level until someone acknowledges; repeat the whole policy `repeat` times;
/// then `exhausted`. Unavailable people are replaced by their available deputies.
///
///     level 0 paged --ack timeout--> level 1 paged --> ... --> last level --ack timeout--> next round (level 0)
///          |                              |                                   (after the last round: exhausted)
///          +------------ ack -------------┴--> acknowledged
extension EscalateSpec: StepKindSpec {
    public static var stepType: StepType { .escalate }
    public var ownOutcomes: [String] { [Outcome.acknowledged, Outcome.exhausted] }
    public var canTimeOut: Bool { true }
    /// Bounded by its levels and repeats, so it needs no timeout of its own.
    public var isWaiting: Bool { false }
}

extension Machine {
    func initialEscalation(_ spec: EscalateSpec) -> EscalationRun {
        let resolved = resolveLevels(spec)
        return EscalationRun(levels: resolved.levels, repeats: resolved.repeats)
    }

    mutating func enterEscalation(_ e: EscalationRun, instance: String) {
        guard !e.levels.isEmpty else {
            exit(instance, outcome: Outcome.exhausted)
            return
        }
        fireLevel(instance: instance)
    }

    func escalationSpecs() -> [ActionSpec] {
        [
            ActionSpec(
                .ack, title: "Record who acknowledged",
                fields: [
                    FieldSpec(name: "by", type: .string, required: true, prompt: "Who acknowledged (person id or name)"),
                    FieldSpec(name: "via", type: .string, required: false, prompt: "How they were reached"),
                ])
        ]
    }

    func isAvailable(_ person: Person) -> Bool {
        person.availability.isEmpty || person.availability.contains { $0.contains(now) }
    }

    /// A person id, or their deputy when they are unavailable now and the deputy is available.
    func standIn(_ id: String) -> String {
        guard let directory = definition.contacts, let person = directory.person(id), !isAvailable(person) else {
            return id
        }
        if let deputyID = person.deputy, let deputy = directory.person(deputyID), isAvailable(deputy) {
            return deputy.id
        }
        return id
    }

    /// The levels as concrete people: a role becomes its holders (or stays `role:NAME` when nobody holds it or
    /// there is no directory), each person their stand-in. A directory policy's targets are parsed here.
    func resolveLevels(_ spec: EscalateSpec) -> (levels: [ResolvedLevel], repeats: Int) {
        var raw: [(targets: [PageTarget], ackTimeout: PlaybookDuration, channels: [String])]
        var repeats: Int
        if let id = spec.policy?.value, let policy = definition.contacts?.policy(id) {
            raw = policy.levels.map { ($0.targets, $0.ackTimeout, $0.channels) }
            repeats = policy.repeats
        } else {
            raw = spec.levels.map { ($0.targets.map(\.value), $0.ackTimeout, $0.channels) }
            repeats = spec.repeats
        }
        let levels = raw.map { level -> ResolvedLevel in
            var targets: [String] = []
            for target in level.targets {
                var resolved: [String]
                switch target {
                case .role(let role):
                    let holders = definition.contacts?.holders(of: role) ?? []
                    resolved = holders.isEmpty ? [target.description] : holders.map { standIn($0.id) }
                case .person(let id):
                    resolved = [standIn(id)]
                }
                for r in resolved where !targets.contains(r) { targets.append(r) }
            }
            return ResolvedLevel(targets: targets, ackTimeout: level.ackTimeout, channels: level.channels)
        }
        return (levels, max(0, repeats))
    }

    mutating func fireLevel(instance: String) {
        guard let run = state.run(instance), case .escalation(let spec, var e) = run.progress, e.level < e.levels.count
        else { return }
        let level = e.levels[e.level]
        let text = substitute(spec.message, scope: run.scope)
        var keys: [String] = []
        for target in level.targets {
            let channel =
                level.channels.first ?? definition.contacts?.person(target)?.channels.first?.type ?? "manual"
            keys.append(deliver(instance: instance, purpose: .page, channel: channel, recipients: [target], text: text))
        }
        e.attempts.append(
            PageAttempt(
                attempt: e.attempts.count + 1, level: e.level, round: e.round, targets: level.targets, deliveryKeys: keys,
                at: now))
        setProgress(instance, .escalation(spec, e))
        arm(now + level.ackTimeout, step: instance, .ackTimeout(level: e.level, round: e.round))
    }

    mutating func escalationTimedOut(instance: String) {
        guard let run = state.run(instance), case .escalation(let spec, var e) = run.progress else { return }
        if e.level + 1 < e.levels.count {
            e.level += 1
        } else if e.round < e.repeats {
            e.round += 1
            e.level = 0
        } else {
            exit(instance, outcome: Outcome.exhausted)
            return
        }
        setProgress(instance, .escalation(spec, e))
        fireLevel(instance: instance)
    }

    mutating func acknowledge(instance: String, by: String) {
        guard let run = state.run(instance), case .escalation(let spec, var e) = run.progress else { return }
        e.acknowledgedBy = by
        setProgress(instance, .escalation(spec, e))
        exit(instance, outcome: Outcome.acknowledged)
    }

    /// An ack for an escalation that already finished: recorded, changes nothing.
    mutating func lateAck(instance: String, by: String, record: StepRecord) {
        actions.append(
            .remind(
                step: instance,
                message:
                    "late ack by \(by) for '\(instance)' recorded; it changes nothing (the step already finished with outcome \(record.outcome))"
            ))
    }
}
