/// `choice`: an operator picks an option, or the inputs decide through guards (first match wins, else the
/// default). Outcomes: the option ids.
extension ChoiceSpec: StepKindSpec {
    public static var stepType: StepType { .choice }
    public var ownOutcomes: [String] { options.map(\.id) }
    public var canTimeOut: Bool { true }
    public var isWaiting: Bool { !isAutomatic }
    /// A choice decided by guards takes no operator action.
    public var operatorActions: [StepAction] { isAutomatic ? [] : Self.stepType.actions }
}

extension Machine {
    mutating func enterChoice(_ spec: ChoiceSpec, instance: String) {
        guard spec.isAutomatic else { return }
        exit(instance, outcome: automaticOption(spec))
    }

    /// First option whose guard matches the inputs, else the default (else the first option).
    func automaticOption(_ spec: ChoiceSpec) -> String {
        for option in spec.options {
            if let g = option.when, let value = definition.inputs[g.input.value], g.anyOf.contains(value) {
                return option.id
            }
        }
        return spec.defaultOption?.value ?? spec.options.first?.id ?? Outcome.done
    }

    func choiceSpecs(_ spec: ChoiceSpec, run: StepRun, owners: [String]) -> [ActionSpec] {
        guard !spec.isAutomatic else { return [] }
        var fields = [
            FieldSpec(
                name: "option", type: .enum, required: true, values: spec.options.map(\.id),
                prompt: spec.options.map { "\($0.id): \($0.label)" }.joined(separator: "; "),
                defaultValue: spec.defaultOption?.value)
        ]
        if spec.rationaleRequired {
            fields.append(FieldSpec(name: "rationale", type: .text, required: true, prompt: "Why this option"))
        }
        let standing = standingObjections(run)
        if !standing.isEmpty {
            let who = standing.map { state.objections[$0].by }.joined(separator: ", ")
            fields.append(
                FieldSpec(
                    name: "override", type: .text, required: true,
                    prompt: "Why the decision overrides the objection\(standing.count == 1 ? "" : "s") of \(who)"))
        }
        return [
            ActionSpec(.choose, title: "Choose an option", fields: fields, roles: owners),
            ActionSpec(
                .object, title: "Object to the decision before it is made",
                fields: [FieldSpec(name: "reason", type: .text, required: true, prompt: "Why you object")]),
        ]
    }

    /// The objections raised on this visit of the choice that no decision has overridden (indexes into
    /// `state.objections`).
    func standingObjections(_ run: StepRun) -> [Int] {
        state.objections.indices.filter {
            let o = state.objections[$0]
            return o.choice == run.instance && o.at >= run.enteredAt && o.overriddenBy == nil
        }
    }

    /// `choose` or `object` on an active choice.
    mutating func choiceAct(
        _ spec: ChoiceSpec, run: StepRun, action: StepAction, fields: [String: String], actor: Actor
    ) {
        if action == .object {
            let reason = fields["reason"] ?? ""
            state.objections.append(
                ObjectionRecord(choice: run.instance, by: actor.name, role: actor.role, reason: reason, at: now))
            actions.append(
                .remind(step: run.instance, message: "\(actor.name) objects to the decision on '\(run.instance)': \(reason)"))
            return
        }
        let option = fields["option"] ?? ""
        let standing = standingObjections(run)
        let override = standing.isEmpty ? nil : fields["override"]
        for i in standing {
            state.objections[i].overriddenBy = actor.name
            state.objections[i].overrideReason = override
        }
        decide(spec, instance: run.instance, option: option, rationale: fields["rationale"], actor: actor,
               override: override, overrode: standing)
        exit(run.instance, outcome: option)
    }

    /// Records a decision and starts the clock its option names (`starts_clock`).
    mutating func decide(
        _ spec: ChoiceSpec, instance: String, option: String, rationale: String?, actor: Actor, override: String?,
        overrode: [Int]
    ) {
        var record = DecisionRecord(
            choice: instance, option: option, rationale: rationale.flatMap { $0.isEmpty ? nil : $0 }, by: actor.name,
            role: actor.role, at: now, override: override, overrode: overrode)
        if let clockID = spec.options.first(where: { $0.id == option })?.startsClock?.value,
            startClock(clockID, decision: ClockDecision(choice: instance, option: option, by: actor.name), step: instance)
        {
            record.startedClock = clockID
        }
        state.decisions.append(record)
    }

    /// Starts a clock because of a decision, counting from now. A clock already running is kept. Returns whether
    /// it started.
    mutating func startClock(_ id: String, decision: ClockDecision, step: String) -> Bool {
        guard let clock = playbook.clock(id) else {
            actions.append(.remind(step: step, message: "the playbook has no clock '\(id)'"))
            return false
        }
        let existing = state.clocks.firstIndex { $0.id == id }
        if let i = existing, state.clocks[i].status.isRunning {
            actions.append(
                .remind(
                    step: step,
                    message: "clock '\(id)' is already running (deadline \(local(state.clocks[i].deadline))); it was kept"))
            return false
        }
        let deadline = clock.deadline(from: now, zone: playbook.timeZone)
        var run = ClockRun(id: id, startedAt: now, deadline: deadline)
        run.startedBy = decision
        if let i = existing { state.clocks[i] = run } else { state.clocks.append(run) }
        actions.append(.startClock(id: id, deadline: deadline))
        actions.append(
            .remind(
                step: step,
                message: "clock '\(id)' (\(clock.title)) started by the decision '\(decision.option)' on '\(decision.choice)'; deadline \(local(deadline))"))
        armClock(clock, deadline: deadline)
        return true
    }

    /// A step's timeout fired. A choice with `on_timeout` escalates or reminds and stays open; a choice with a
    /// default records the default as decided on timeout; every other step takes outcome `timeout`.
    mutating func stepTimedOut(_ instance: String) {
        guard let run = state.run(instance), case .choice(let spec) = run.progress, !spec.isAutomatic else {
            exit(instance, outcome: Outcome.timeout)
            return
        }
        let step = playbook.step(run.stepID)
        switch spec.onTimeout {
        case .remind(let text)?:
            actions.append(.remind(step: instance, message: "'\(instance)' is still undecided: \(text)"))
            if let timeout = step?.timeout, let i = state.active.firstIndex(where: { $0.instance == instance }) {
                state.active[i].dueAt = now + timeout
                arm(now + timeout, step: instance, .stepTimeout)
            }
        case .escalate(let target)?:
            if let i = state.active.firstIndex(where: { $0.instance == instance }) { state.active[i].dueAt = nil }
            actions.append(
                .remind(
                    step: instance,
                    message: "'\(instance)' was not decided in time; it is escalated to '\(target.value)' and waits for a person to decide"))
            if let active = state.run(target.value) {
                actions.append(
                    .remind(
                        step: target.value,
                        message: "'\(target.value)' is already active since \(local(active.enteredAt)); it was not entered again"))
            } else {
                queue.append(PendingEntry(stepID: target.value, instance: target.value, scope: .timeoutRoute(choice: instance)))
            }
        case nil:
            if let d = spec.defaultOption?.value, step?.next[Outcome.timeout] == nil {
                decide(spec, instance: instance, option: d, rationale: "default taken on timeout", actor: .system,
                       override: nil, overrode: [])
            }
            exit(instance, outcome: Outcome.timeout)
        }
    }
}

// MARK: The obligations register

extension Machine {
    /// The incident action `consider`: whether an obligation the playbook names applies, and why.
    func considerActionSpec() -> ActionSpec? {
        guard !playbook.obligations.isEmpty else { return nil }
        return ActionSpec(
            .consider, title: "Record whether a regulatory obligation applies, and why",
            fields: [
                FieldSpec(
                    name: "obligation", type: .enum, required: true, values: playbook.obligations.map(\.id),
                    prompt: playbook.obligations.map { "\($0.id): \($0.title)" }.joined(separator: "; ")),
                FieldSpec(
                    name: "decision", type: .enum, required: true, values: ObligationDecision.values,
                    prompt: "Does it apply?"),
                FieldSpec(name: "reason", type: .text, required: true, prompt: "Why"),
            ])
    }

    /// Records the decision on an obligation; a later decision on the same obligation replaces it in the register
    /// (the trail keeps both).
    mutating func consider(fields: [String: String], actor: Actor) {
        let id = fields["obligation"] ?? ""
        let applies = fields["decision"] == ObligationDecision.applies
        let record = ObligationDecision(
            obligation: id, applies: applies, reason: fields["reason"] ?? "", by: actor.name, role: actor.role, at: now)
        state.considerations.removeAll { $0.obligation == id }
        state.considerations.append(record)
        let title = playbook.obligation(id)?.title ?? id
        actions.append(
            .remind(
                step: Engine.incidentStep,
                message: "\(title): \(applies ? "applies" : "not applicable") (\(actor.name)): \(record.reason)"))
    }
}

extension ObligationDecision {
    /// The `decision` field's values.
    public static let applies = "applies"
    public static let notApplicable = "not_applicable"
    public static let values = [applies, notApplicable]
}
