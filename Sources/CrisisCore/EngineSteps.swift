/// `takedown`, `escalate`, `notify` and `clock` steps, and message substitution.
extension Machine {
    // MARK: Substitution

    /// Fills a message, prefill, platform or urls text through the template model (TemplateModel: the same
    /// variables `validate` accepts, rendered by Mustache), with the values of this state inside `scope`. A text
    /// that does not parse (which `validate` refuses) stays as written.
    func substitute(_ text: String, scope: Scope?) -> String {
        (try? TemplateModel.render(text, TemplateValues(state: state, scope: scope))) ?? text
    }

    func resolve(_ source: ValueSource, scope: Scope?) -> String {
        switch source {
        case .literal(let text): substitute(text, scope: scope)
        case .input(let name): definition.inputs[name.value] ?? ""
        }
    }

    // MARK: Takedown

    func initialTakedown(_ spec: TakedownSpec, run: StepRun) -> TakedownRun {
        let platform = resolve(spec.platform, scope: run.scope)
        let urls = ValueType.splitList(resolve(spec.urls, scope: run.scope))
        var notice: [String: String] = [:]
        for (name, value) in spec.prefill { notice[name] = substitute(value, scope: run.scope) }
        if !urls.isEmpty { notice[NoticeElement.urls.rawValue] = urls.joined(separator: "\n") }
        return TakedownRun(platform: platform, urls: urls, notice: notice)
    }

    func takedownRun(_ instance: String) -> TakedownRun? {
        guard let run = state.run(instance), case .takedown(let t) = run.detail else { return nil }
        return t
    }

    mutating func setTakedown(_ instance: String, _ t: TakedownRun) {
        guard let i = state.active.firstIndex(where: { $0.instance == instance }) else { return }
        state.active[i].detail = .takedown(t)
    }

    /// Required elements that are empty (booleans must be `true`).
    static func missingElements(_ basis: LegalBasis, _ notice: [String: String]) -> [String] {
        basis.requiredElements.filter { element in
            let value = (notice[element.rawValue] ?? "").trimmingSpaces()
            if element.valueType == .boolean { return value != "true" }
            return value.isEmpty
        }.map(\.rawValue)
    }

    func takedownSpecs(_ spec: TakedownSpec, _ t: TakedownRun, owners: [String]) -> [ActionSpec] {
        switch t.status {
        case .drafting, .drafted:
            let fields = spec.basis.requiredElements.map {
                FieldSpec(
                    name: $0.rawValue, type: $0.valueType, required: false, prompt: $0.rawValue.replacingUnderscores(),
                    defaultValue: t.notice[$0.rawValue])
            }
            return [
                ActionSpec(name: "draft", title: "Fill in the notice (\(spec.basis.rawValue))", fields: fields, roles: owners),
                ActionSpec(
                    name: "submit", title: "Record that the request was submitted to \(t.platform)",
                    fields: [FieldSpec(name: "ticket", type: .string, required: false, prompt: "Platform ticket or case id")],
                    roles: spec.submitterRoles.map(\.value)),
            ]
        case .submitted, .acknowledged:
            var specs: [ActionSpec] = []
            if t.status == .submitted {
                specs.append(
                    ActionSpec(
                        name: "acknowledge", title: "The platform acknowledged the request",
                        fields: [FieldSpec(name: "ticket", type: .string, required: false, prompt: "Platform ticket or case id")],
                        roles: owners))
            }
            let note = FieldSpec(name: "note", type: .text, required: false, prompt: "Details")
            let reason = FieldSpec(name: "reason", type: .text, required: true, prompt: "Reason")
            specs.append(ActionSpec(name: "removed", title: "The content was removed", fields: [note], roles: owners))
            specs.append(
                ActionSpec(name: "partially_removed", title: "Some of the content was removed", fields: [note], roles: owners))
            specs.append(ActionSpec(name: "refused", title: "The platform refused", fields: [reason], roles: owners))
            specs.append(ActionSpec(name: "appeal", title: "We appealed the decision", fields: [reason], roles: owners))
            return specs
        case .removed, .partiallyRemoved, .refused, .noResponse, .appealed:
            return []
        }
    }

    mutating func takedownAct(
        _ spec: TakedownSpec, instance: String, action: String, fields: [String: String], actor: Actor
    ) throws(Rejection) {
        guard var t = takedownRun(instance) else { return }
        let from = t.status
        func transition(_ to: TakedownStatus, note: String?) {
            t.history.append(TakedownTransition(from: from, to: to, by: actor.name, at: now, note: note))
            t.status = to
        }
        switch action {
        case "draft":
            for element in spec.basis.requiredElements {
                if let value = fields[element.rawValue], !value.isEmpty { t.notice[element.rawValue] = value }
            }
            let urls = element(urls: t.notice)
            if !urls.isEmpty { t.urls = urls }
            transition(.drafted, note: nil)
            setTakedown(instance, t)
        case "submit":
            let missing = Machine.missingElements(spec.basis, t.notice)
            guard missing.isEmpty else {
                throw Rejection(
                    "missing-elements",
                    "a \(spec.basis.rawValue) notice cannot be submitted without: \(missing.joined(separator: ", ")); fill them in with the draft action (booleans must be true)")
            }
            t.ticket = fields["ticket"].flatMap { $0.isEmpty ? nil : $0 } ?? t.ticket
            t.submittedAt = now
            t.submittedBy = actor.name
            transition(.submitted, note: t.ticket.map { "ticket \($0)" })
            setTakedown(instance, t)
            state.timers.removeAll { $0.step == instance && $0.purpose == .stepTimeout }
            if let i = state.active.firstIndex(where: { $0.instance == instance }) { state.active[i].dueAt = nil }
            if let followUp = spec.followUp { arm(now + followUp, step: instance, .followUp) }
            if let giveUp = spec.giveUpAfter { arm(now + giveUp, step: instance, .noResponse) }
        case "acknowledge":
            if let ticket = fields["ticket"], !ticket.isEmpty { t.ticket = ticket }
            transition(.acknowledged, note: fields["ticket"])
            setTakedown(instance, t)
        case "removed", "partially_removed", "refused", "appeal":
            let to: TakedownStatus =
                switch action {
                case "removed": .removed
                case "partially_removed": .partiallyRemoved
                case "refused": .refused
                default: .appealed
                }
            transition(to, note: fields["reason"] ?? fields["note"])
            setTakedown(instance, t)
            exit(instance, outcome: to.rawValue)
        default:
            return
        }
    }

    func element(urls notice: [String: String]) -> [String] {
        ValueType.splitList(notice[NoticeElement.urls.rawValue] ?? "")
    }

    mutating func followUp(instance: String) {
        guard let t = takedownRun(instance), let run = state.run(instance), let step = playbook.step(run.stepID),
            case .takedown(let spec) = step.kind
        else { return }
        let since = t.submittedAt.map { " since \(ISO8601.format($0))" } ?? ""
        actions.append(
            .remind(
                step: instance,
                message: "takedown '\(instance)' on \(t.platform) is \(t.status.rawValue)\(since); follow up with the platform"))
        if let every = spec.followUp { arm(now + every, step: instance, .followUp) }
    }

    mutating func takedownNoResponse(instance: String) {
        guard var t = takedownRun(instance) else { return }
        t.history.append(TakedownTransition(from: t.status, to: .noResponse, by: Actor.system.name, at: now, note: nil))
        t.status = .noResponse
        setTakedown(instance, t)
        exit(instance, outcome: TakedownStatus.noResponse.rawValue)
    }

    // MARK: Escalation

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

    func resolveLevels(_ spec: EscalateSpec) -> (levels: [ResolvedLevel], repeats: Int) {
        var raw: [(targets: [String], ackTimeout: PlaybookDuration, channels: [String])]
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
                if target.hasPrefix("role:") {
                    let holders = definition.contacts?.holders(of: String(target.dropFirst(5))) ?? []
                    resolved = holders.isEmpty ? [target] : holders.map { standIn($0.id) }
                } else {
                    resolved = [standIn(target)]
                }
                for r in resolved where !targets.contains(r) { targets.append(r) }
            }
            return ResolvedLevel(targets: targets, ackTimeout: level.ackTimeout, channels: level.channels)
        }
        return (levels, max(0, repeats))
    }

    mutating func fireLevel(instance: String) {
        guard let i = state.active.firstIndex(where: { $0.instance == instance }),
            case .escalation(var e) = state.active[i].detail, e.level < e.levels.count,
            let step = playbook.step(state.active[i].stepID), case .escalate(let spec) = step.kind
        else { return }
        let level = e.levels[e.level]
        let text = substitute(spec.message, scope: state.active[i].scope)
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
        if let j = state.active.firstIndex(where: { $0.instance == instance }) {
            state.active[j].detail = .escalation(e)
        }
        arm(now + level.ackTimeout, step: instance, .ackTimeout(level: e.level, round: e.round))
    }

    mutating func escalationTimedOut(instance: String) {
        guard let i = state.active.firstIndex(where: { $0.instance == instance }),
            case .escalation(var e) = state.active[i].detail, let step = playbook.step(state.active[i].stepID),
            case .escalate(let spec) = step.kind
        else { return }
        if e.level + 1 < e.levels.count {
            e.level += 1
        } else if e.round < resolveLevels(spec).repeats {
            e.round += 1
            e.level = 0
        } else {
            exit(instance, outcome: "exhausted")
            return
        }
        state.active[i].detail = .escalation(e)
        fireLevel(instance: instance)
    }

    mutating func acknowledge(instance: String, by: String) {
        guard let i = state.active.firstIndex(where: { $0.instance == instance }),
            case .escalation(var e) = state.active[i].detail
        else { return }
        e.acknowledgedBy = by
        state.active[i].detail = .escalation(e)
        exit(instance, outcome: "acknowledged")
    }

    // MARK: Notify

    mutating func startNotify(_ spec: NotifySpec, instance: String) {
        guard let run = state.run(instance) else { return }
        if spec.channels.isEmpty {
            exit(instance, outcome: "sent")
            return
        }
        let text = substitute(spec.message, scope: run.scope)
        var n = NotifyRun()
        for channel in spec.channels {
            n.deliveries[channel] = deliver(
                instance: instance, purpose: .notify, channel: channel, recipients: [spec.audience], text: text)
        }
        if let i = state.active.firstIndex(where: { $0.instance == instance }) { state.active[i].detail = .notify(n) }
    }

    mutating func notifyDeliveryFinished(instance: String) {
        guard let run = state.run(instance), case .notify(let n) = run.detail else { return }
        let statuses = n.deliveries.values.map { key in
            state.deliveries.first { $0.delivery.key == key }?.status ?? .pending
        }
        guard statuses.allSatisfy(\.isFinal) else { return }
        exit(instance, outcome: statuses.contains(.failed) ? "failed" : "sent")
    }

    // MARK: Clock

    mutating func performClock(_ spec: ClockStepSpec, instance: String) {
        let id = spec.clock.value
        guard let clock = playbook.clock(id) else {
            actions.append(.remind(step: instance, message: "the playbook has no clock '\(id)'"))
            return
        }
        let existing = state.clocks.firstIndex { $0.id == id }
        switch spec.operation {
        case .start:
            if let i = existing, state.clocks[i].stoppedAt == nil {
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
            guard let i = existing, state.clocks[i].stoppedAt == nil else {
                actions.append(.remind(step: instance, message: "clock '\(id)' is not running; nothing to stop"))
                return
            }
            state.clocks[i].stoppedAt = now
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
            if let stopped = run.stoppedAt {
                message = "clock '\(id)' (\(clock.title)) was stopped at \(ISO8601.format(stopped)); deadline was \(deadline)"
            } else if run.deadline > now {
                message = "clock '\(id)' (\(clock.title)): \(run.deadline - now) left, deadline \(deadline)"
            } else {
                message = "clock '\(id)' (\(clock.title)) passed its deadline \(deadline) \(now - run.deadline) ago"
            }
            actions.append(.remind(step: instance, message: message))
        }
    }

    static func clockID(of purpose: TimerPurpose) -> String? {
        switch purpose {
        case .clockWarning(let clock, _), .clockDeadline(let clock): clock
        default: nil
        }
    }
}

extension String {
    func replacingUnderscores() -> String { String(map { $0 == "_" ? " " : $0 }) }
}
