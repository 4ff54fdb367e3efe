/// `escalate`: page people level by level until someone acknowledges; repeat the whole policy `repeat` times;
/// then `exhausted`. Unavailable people are replaced by the first available person of their deputy chain.
///
///     level 0 paged --ack timeout--> level 1 paged --> ... --> last level --ack timeout--> next round (level 0)
///          |                              |                                   (after the last round: exhausted)
///          +------------ ack -------------┴--> acknowledged
///
/// Shapes (docs/playbook-format.md, "Escalation shapes"):
/// - `ack: all`: the level is acknowledged when every target has acknowledged; someone who acknowledged is never
///   paged again in this escalation, so the ack timeout moves on to the next level with those still missing.
/// - `attempts: sequential` (`every:`): one channel at a time per target; the next after `every`, or at once when
///   the attempt is not reached (failed delivery, `not_reached`). `parallel`: every channel at once.
/// - `inform: true`: the level is told, no ack is expected; the next level follows after its wait (or at once).
/// - `stop_at_ack: false`: every level is paged in turn; acks are recorded and decide the outcome at the end.
/// - `reescalate_after`: after the ack, the step it routed to must see an accepted action (or finish) within the
///   interval, else the next level is paged, one more level per interval.
extension EscalateSpec: StepKindSpec {
    public static var stepType: StepType { .escalate }
    public var ownOutcomes: [String] { [Outcome.acknowledged, Outcome.exhausted] }
    public var canTimeOut: Bool { true }
    /// Bounded by its levels and repeats, so it needs no timeout of its own.
    public var isWaiting: Bool { false }
}

extension Engine {
    /// Why `by` may not acknowledge the active escalation `step`, or nil (also nil when `step` is not an active
    /// escalation, or the incident has no contacts directory). The shell asks before it sends an `ack`; the engine
    /// does not check it, so trails recorded when anyone could acknowledge still replay to the same state.
    public static func acknowledgerProblem(by: String, step: String, in state: IncidentState) -> Rejection? {
        guard let run = state.run(step), case .escalation(_, let e) = run.progress else { return nil }
        return Machine(state: state, now: state.startedAt).acknowledgerProblem(by, e, instance: step)
    }
}

extension IncidentState {
    /// The roles `person` holds for this incident as a deputy standing in for someone whose directory entry says
    /// `deputy_holds_roles: true` (from every escalation so far, active or finished).
    public func rolesHeld(by person: String) -> [String] {
        var runs: [EscalationRun] = []
        for r in active { if case .escalation(let e) = r.detail { runs.append(e) } }
        for h in history { if case .escalation(let e) = h.detail { runs.append(e) } }
        var roles: [String] = []
        for e in runs {
            for level in e.levels {
                for s in level.substitutions where s.standIn == person {
                    for role in s.heldRoles where !roles.contains(role) { roles.append(role) }
                }
            }
        }
        return roles
    }

    /// The people the incident names as conflicted (the playbook's `conflicted:` input), as written.
    public var conflictedPeople: [String] {
        guard let input = definition.playbook.conflicted?.value, let value = definition.inputs[input] else { return [] }
        return value.split(whereSeparator: { $0 == "," || $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
            .map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
    }
}

/// A level as written (inline or in a directory policy), before people are resolved.
struct LevelPlan {
    var targets: [PageTarget]
    var ackTimeout: PlaybookDuration
    var channels: [String]
    var ack: AckMode
    var attempts: AttemptMode
    var every: PlaybookDuration?
    var inform: Bool
}

extension Machine {
    func initialEscalation(_ spec: EscalateSpec) -> EscalationRun {
        let (plans, repeats) = levelPlans(spec)
        return EscalationRun(levels: plans.map(resolve), repeats: repeats)
    }

    mutating func enterEscalation(_ e: EscalationRun, instance: String) {
        guard !e.levels.isEmpty else {
            exit(instance, outcome: Outcome.exhausted)
            return
        }
        fireLevel(instance: instance)
    }

    func escalationSpecs(_ e: EscalationRun) -> [ActionSpec] {
        var specs = [
            ActionSpec(
                .ack, title: "Record who acknowledged",
                fields: [
                    FieldSpec(name: "by", type: .string, required: true, prompt: "Who acknowledged (person id or name)"),
                    FieldSpec(name: "via", type: .string, required: false, prompt: "How they were reached"),
                ])
        ]
        if e.level < e.levels.count, e.levels[e.level].attempts != .first {
            specs.append(
                ActionSpec(
                    .notReached, title: "Record that a page did not reach someone (tries their next channel)",
                    fields: [
                        FieldSpec(name: "person", type: .string, required: true, prompt: "Who was not reached"),
                        FieldSpec(name: "detail", type: .text, required: false, prompt: "What happened (no answer, bounced)"),
                    ]))
        }
        return specs
    }

    // MARK: Resolution

    /// The levels of an inline spec or of its directory policy.
    func levelPlans(_ spec: EscalateSpec) -> (plans: [LevelPlan], repeats: Int) {
        if let id = spec.policy?.value, let policy = definition.contacts?.policy(id) {
            let plans = policy.levels.map {
                LevelPlan(targets: $0.targets, ackTimeout: $0.ackTimeout, channels: $0.channels, ack: $0.ack,
                          attempts: $0.attempts, every: $0.every, inform: $0.inform)
            }
            return (plans, max(0, policy.repeats))
        }
        let plans = spec.levels.map {
            LevelPlan(targets: $0.targets.map(\.value), ackTimeout: $0.ackTimeout, channels: $0.channels, ack: $0.ack,
                      attempts: $0.attempts, every: $0.every, inform: $0.inform)
        }
        return (plans, max(0, spec.repeats))
    }

    /// A level as concrete people at `now`: a role becomes its holders (or stays `role:NAME` when nobody holds it
    /// or there is no directory), each person their stand-in.
    func resolve(_ plan: LevelPlan) -> ResolvedLevel {
        var targets: [String] = []
        var substitutions: [Substitution] = []
        func add(_ id: String) {
            let (paged, substitution) = standIn(id)
            guard !targets.contains(paged) else { return }
            targets.append(paged)
            if let substitution { substitutions.append(substitution) }
        }
        for target in plan.targets {
            switch target {
            case .role(let role):
                let holders = definition.contacts?.holders(of: role) ?? []
                if holders.isEmpty {
                    if !targets.contains(target.description) { targets.append(target.description) }
                } else {
                    holders.forEach { add($0.id) }
                }
            case .person(let id):
                add(id)
            }
        }
        return ResolvedLevel(
            targets: targets, ackTimeout: plan.ackTimeout, channels: plan.channels, ack: plan.ack,
            attempts: plan.attempts, every: plan.every, inform: plan.inform, substitutions: substitutions)
    }

    /// A person id, or the first available person of their deputy chain (deputy, deputy's deputy, ...; a cycle or
    /// a deputy missing from the directory ends the walk). When nobody is available, the person themself, with a
    /// substitution that says so.
    func standIn(_ id: String) -> (String, Substitution?) {
        guard let directory = definition.contacts, let person = directory.person(id),
            let why = person.unavailability(at: now)
        else { return (id, nil) }
        var skipped = [SkippedPerson(person: id, reason: why)]
        var seen: Set<String> = [id]
        var current = person
        while let deputyID = current.deputy, !seen.contains(deputyID), let deputy = directory.person(deputyID) {
            seen.insert(deputyID)
            if let why = deputy.unavailability(at: now) {
                skipped.append(SkippedPerson(person: deputyID, reason: why))
                current = deputy
                continue
            }
            let held = person.deputyHoldsRoles ? person.roles.filter { !deputy.roles.contains($0) } : []
            return (deputyID, Substitution(person: id, skipped: skipped, standIn: deputyID, heldRoles: held))
        }
        return (id, Substitution(person: id, skipped: skipped, standIn: nil))
    }

    /// The channels a target is tried on, in order, under the level's attempt mode.
    func channels(for target: String, in level: ResolvedLevel) -> [String] {
        let own = definition.contacts?.person(target)?.channels.map(\.type) ?? []
        switch level.attempts {
        case .first:
            return [level.channels.first ?? own.first ?? "manual"]
        case .sequential, .parallel:
            if !level.channels.isEmpty { return level.channels }
            return own.isEmpty ? ["manual"] : own
        }
    }

    // MARK: Paging

    /// Pages the current level (resolved again now), arms its timers; an inform-only level with no wait moves on.
    mutating func fireLevel(instance: String) {
        guard let run = state.run(instance), case .escalation(let spec, var e) = run.progress, e.level < e.levels.count
        else { return }
        let plans = levelPlans(spec).plans
        if e.level < plans.count { e.levels[e.level] = resolve(plans[e.level]) }
        let level = e.levels[e.level]
        let done = acknowledgedTargets(level, e)
        let targets = level.targets.filter { !done.contains($0) }
        if spec.stopAtAck, !level.inform, !level.targets.isEmpty, targets.isEmpty {
            // Everyone this level pages has already acknowledged (ack: all, an earlier level).
            e.acknowledgedBy = e.acks.last(where: \.counted)?.person
            setProgress(instance, .escalation(spec, e))
            exit(instance, outcome: Outcome.acknowledged)
            return
        }
        let text = substitute(spec.message, scope: run.scope)
        var keys: [String] = []
        var channels: [String] = []
        var recipients: [String] = []
        for target in targets {
            let all = self.channels(for: target, in: level)
            for channel in level.attempts == .parallel ? all : [all[0]] {
                keys.append(deliver(instance: instance, purpose: .page, channel: channel, recipients: [target], text: text))
                channels.append(channel)
                recipients.append(target)
            }
        }
        e.attempts.append(
            PageAttempt(
                attempt: e.attempts.count + 1, level: e.level, round: e.round, targets: targets, deliveryKeys: keys,
                at: now, channels: channels, recipients: recipients))
        setProgress(instance, .escalation(spec, e))
        if level.attempts == .sequential, let every = level.every,
            targets.contains(where: { self.channels(for: $0, in: level).count > 1 })
        {
            arm(now + every, step: instance, .nextChannel(level: e.level, round: e.round))
        }
        if level.inform, level.ackTimeout == .zero {
            escalationTimedOut(instance: instance)
            return
        }
        arm(now + level.ackTimeout, step: instance, .ackTimeout(level: e.level, round: e.round))
    }

    /// The ack timeout (or an inform level's wait) passed: the next level, the next round, or the end.
    mutating func escalationTimedOut(instance: String) {
        guard let run = state.run(instance), case .escalation(let spec, var e) = run.progress else { return }
        state.timers.removeAll {
            if $0.step == instance, case .nextChannel = $0.purpose { true } else { false }
        }
        let last = e.level + 1 >= e.levels.count
        if !spec.stopAtAck, last, e.acknowledgedBy != nil {
            exit(instance, outcome: Outcome.acknowledged)
            return
        }
        if !last {
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

    /// How many pages a target has had in the current level and round.
    func pagesSoFar(_ target: String, _ e: EscalationRun) -> Int {
        e.attempts.filter { $0.level == e.level && $0.round == e.round }.reduce(0) { n, a in
            n + (a.recipients.isEmpty ? a.targets.filter { $0 == target }.count : a.recipients.filter { $0 == target }.count)
        }
    }

    /// Pages `targets` (default: every target of the current level still missing) on their next channel, if they
    /// have one left. Returns whether anyone still has a channel left afterwards.
    @discardableResult
    mutating func nextChannel(instance: String, only: [String]? = nil) -> Bool {
        guard let run = state.run(instance), case .escalation(let spec, var e) = run.progress, e.level < e.levels.count
        else { return false }
        let level = e.levels[e.level]
        guard level.attempts == .sequential else { return false }
        let acked = acknowledgedTargets(level, e)
        let text = substitute(spec.message, scope: run.scope)
        var attempt = PageAttempt(
            attempt: e.attempts.count + 1, level: e.level, round: e.round, targets: [], deliveryKeys: [], at: now)
        var more = false
        for target in level.targets where !acked.contains(target) && (only?.contains(target) ?? true) {
            let all = channels(for: target, in: level)
            let used = pagesSoFar(target, e)
            guard used < all.count else { continue }
            attempt.targets.append(target)
            attempt.deliveryKeys.append(
                deliver(instance: instance, purpose: .page, channel: all[used], recipients: [target], text: text))
            attempt.channels.append(all[used])
            attempt.recipients.append(target)
            if used + 1 < all.count { more = true }
        }
        guard !attempt.targets.isEmpty else { return false }
        e.attempts.append(attempt)
        setProgress(instance, .escalation(spec, e))
        return more
    }

    /// The `every:` timer of a sequential level: the next channel for everyone still missing.
    mutating func nextChannelDue(instance: String, level: Int, round: Int) {
        guard let run = state.run(instance), case .escalation(_, let e) = run.progress, e.level == level,
            e.round == round, e.level < e.levels.count, let every = e.levels[e.level].every
        else { return }
        if nextChannel(instance: instance) {
            arm(now + every, step: instance, .nextChannel(level: level, round: round))
        }
    }

    /// A page delivery failed: in a sequential level, its person's next channel at once.
    mutating func pageDeliveryFailed(instance: String, record: DeliveryRecord) {
        guard record.status == .failed, let run = state.run(instance), case .escalation(_, let e) = run.progress,
            let attempt = e.attempts.last(where: { $0.deliveryKeys.contains(record.delivery.key) }),
            attempt.level == e.level, attempt.round == e.round
        else { return }
        nextChannel(instance: instance, only: record.delivery.recipients)
    }

    // MARK: Actions

    /// `ack` and `not_reached` on an active escalation.
    mutating func escalationAct(
        _ action: StepAction, instance: String, fields: [String: String], actor: Actor
    ) throws(Rejection) {
        guard let run = state.run(instance), case .escalation(let spec, var e) = run.progress else { return }
        if action == .notReached {
            let person = directoryID(fields["person"] ?? "")
            guard e.level < e.levels.count, e.levels[e.level].targets.contains(person) else {
                throw Rejection(
                    .invalidField,
                    "field 'person' names '\(fields["person"] ?? "")', whom the current level of '\(instance)' does not page; paged now: \(currentTargets(e))",
                    hint: .fieldInvalid(name: "person", allowed: e.level < e.levels.count ? e.levels[e.level].targets : []))
            }
            let lastChannel = lastPage(to: person, in: e)?.channel
            e.notReached.append(
                NotReachedRecord(person: person, channel: lastChannel, detail: fields["detail"], recordedBy: actor.name, at: now))
            setProgress(instance, .escalation(spec, e))
            nextChannel(instance: instance, only: [person])
            return
        }
        // Who may acknowledge is checked by the shell before the event (`Engine.acknowledgerProblem`), never
        // here: trails recorded before that check (any `by` was accepted) must still replay to the same state.
        let by = fields["by"] ?? actor.name
        let person = directoryID(by)
        let standingInFor = e.levels.flatMap(\.substitutions).first { $0.standIn == person }?.person
        let isLead = definition.contacts != nil && hasLeadRole(person)
        // Every ack counts towards completion except one from someone paged only by inform-only levels; a lead's
        // ack completes the escalation.
        let pagedLevels = Set(e.attempts.map(\.level)).filter { $0 < e.levels.count }
        let covered = pagedLevels.filter { !Self.targets(of: e.levels[$0], coveredBy: person).isEmpty }
        let counts = isLead || covered.isEmpty || covered.contains { !e.levels[$0].inform }
        let channel = fields["via"] ?? lastPage(to: person, in: e)?.channel
        e.acks.append(
            AckRecord(
                person: person, channel: channel, standingInFor: standingInFor, counted: counts, level: e.level,
                round: e.round, recordedBy: actor.name, at: now))
        var complete = false
        if counts {
            let current = e.level < e.levels.count ? e.levels[e.level] : nil
            if let current, current.ack == .all,
                !(isLead && Self.targets(of: current, coveredBy: person).isEmpty)
            {
                let done = acknowledgedTargets(current, e)
                complete = current.targets.allSatisfy(done.contains)
            } else {
                complete = true
            }
        }
        if complete, e.acknowledgedBy == nil { e.acknowledgedBy = by }
        setProgress(instance, .escalation(spec, e))
        guard complete, spec.stopAtAck else { return }
        exit(instance, outcome: Outcome.acknowledged)
        armReescalation(spec, e, run: run)
    }

    /// Why `by` may not acknowledge the escalation `instance` now, or nil. With a contacts directory only: the
    /// person must have been paged by it (any level so far), or be the absent person a paged deputy stands in for,
    /// or hold a lead role (in the directory, or as a stand-in).
    func acknowledgerProblem(_ by: String, _ e: EscalationRun, instance: String) -> Rejection? {
        guard definition.contacts != nil else { return nil }
        let person = directoryID(by)
        let paged = e.paged
        let absentOriginal = e.levels.flatMap(\.substitutions).contains {
            $0.person == person && $0.standIn.map(paged.contains) == true
        }
        guard !paged.contains(person), !absentOriginal, !hasLeadRole(person) else { return nil }
        return Rejection(
            .notPaged,
            "\(by) was not paged by '\(instance)', stands in for nobody paged and holds no lead role, so may not acknowledge; paged so far: \(paged.joined(separator: ", "))",
            hint: .peopleAllowed(paged))
    }

    /// The targets of a level an ack by `person` answers for: themself, and whoever stands in for them.
    static func targets(of level: ResolvedLevel, coveredBy person: String) -> [String] {
        level.targets.filter { target in
            target == person || level.substitutions.contains { $0.person == person && $0.standIn == target }
        }
    }

    /// The targets of a level that have acknowledged (in person, or through the absent person they stand in for).
    func acknowledgedTargets(_ level: ResolvedLevel, _ e: EscalationRun) -> Set<String> {
        var done = Set<String>()
        for ack in e.acks where ack.counted {
            Self.targets(of: level, coveredBy: ack.person).forEach { done.insert($0) }
        }
        return done
    }

    /// The directory id of a person named by id or display name; the text itself when there is no such person.
    func directoryID(_ name: String) -> String { definition.contacts?.person(named: name)?.id ?? name }

    func currentTargets(_ e: EscalationRun) -> String {
        e.level < e.levels.count ? e.levels[e.level].targets.joined(separator: ", ") : "nobody"
    }

    /// The latest page to a person in this escalation: its channel.
    func lastPage(to person: String, in e: EscalationRun) -> (key: String, channel: String)? {
        for a in e.attempts.reversed() {
            let recipients = a.recipients.isEmpty ? a.targets : a.recipients
            if let i = recipients.lastIndex(of: person), i < a.deliveryKeys.count {
                let key = a.deliveryKeys[i]
                let channel = i < a.channels.count
                    ? a.channels[i] : state.deliveries.first { $0.delivery.key == key }?.delivery.channel ?? "manual"
                return (key, channel)
            }
        }
        return nil
    }

    /// Whether a directory person holds a lead role of the playbook (in the directory, or for this incident as a
    /// stand-in).
    func hasLeadRole(_ person: String) -> Bool {
        let roles = (definition.contacts?.person(person)?.roles ?? []) + state.rolesHeld(by: person)
        return roles.contains(where: leadRoles.contains)
    }

    /// Arms the re-escalation watch after an acknowledgement, when the spec asks for one and a level is left.
    mutating func armReescalation(_ spec: EscalateSpec, _ e: EscalationRun, run: StepRun) {
        guard let after = spec.reescalateAfter, e.level + 1 < e.levels.count, run.scope.map(Self.isBranch) ?? true,
            let step = playbook.step(run.stepID), let watched = step.next[Outcome.acknowledged]?.value
        else { return }
        arm(now + after, step: watched, .reescalate(escalation: run.instance, level: e.level + 1))
    }

    static func isBranch(_ scope: Scope) -> Bool { if case .branch = scope { true } else { false } }

    /// An accepted operator action on `instance` is progress: its re-escalation watch ends.
    mutating func progressMade(on instance: String) {
        state.timers.removeAll {
            if $0.step == instance, case .reescalate = $0.purpose { true } else { false }
        }
    }

    /// No progress on the watched step: page the finished escalation's level `level` and watch again.
    mutating func reescalate(escalation: String, level index: Int, watched: String) {
        guard let record = state.history.last(where: { $0.instance == escalation }),
            case .escalation(let e) = record.detail, let step = playbook.step(record.stepID),
            case .escalate(let spec) = step.kind, let after = spec.reescalateAfter
        else { return }
        let plans = levelPlans(spec).plans
        guard index < plans.count, index < e.levels.count else { return }
        let level = resolve(plans[index])
        let scope = state.run(watched)?.scope
        let text = substitute(spec.message, scope: scope)
        actions.append(
            .remind(
                step: watched,
                message: "no progress on '\(watched)' \(after) after '\(escalation)' was acknowledged; paging level \(index + 1): \(level.targets.joined(separator: ", "))"))
        for target in level.targets {
            let all = channels(for: target, in: level)
            for channel in level.attempts == .parallel ? all : [all[0]] {
                _ = deliver(instance: escalation, purpose: .page, channel: channel, recipients: [target], text: text)
            }
        }
        if index + 1 < plans.count {
            arm(now + after, step: watched, .reescalate(escalation: escalation, level: index + 1))
        }
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

    // MARK: Who may act

    /// Whether two names (ids or display names) are the same person: equal ignoring case, or the same directory
    /// person.
    func samePerson(_ a: String, _ b: String) -> Bool {
        if a.lowercased() == b.lowercased() { return true }
        guard let contacts = definition.contacts, let pa = contacts.person(named: a), let pb = contacts.person(named: b)
        else { return false }
        return pa.id == pb.id
    }

    /// Refuses drafting, deciding on a statement, acknowledging, choosing and closing by a person the incident
    /// names as conflicted (the operator, and for `ack` also the person acknowledging), whatever role they hold.
    func checkNotConflicted(_ action: StepAction, actor: Actor, fields: [String: String]) throws(Rejection) {
        let guarded: [StepAction] = [.draft, .approve, .reject, .ack, .choose, .close, .setDeadline]
        guard guarded.contains(action) else { return }
        let conflicted = state.conflictedPeople
        guard !conflicted.isEmpty, let input = playbook.conflicted?.value else { return }
        var people = [actor.name]
        if action == .ack, let by = fields["by"] { people.append(by) }
        for person in people where conflicted.contains(where: { samePerson($0, person) }) {
            throw Rejection(
                .conflictedPerson,
                "\(person) is named in '\(input)' as conflicted in this incident and may not \(action.rawValue), whatever role they hold")
        }
    }
}
