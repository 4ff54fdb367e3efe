/// Operator actions: what each active step accepts now, and the checks every action passes before it changes
/// anything (step, action, role, fields). The kinds' own actions are in their files; this one dispatches.
extension Machine {
    var leadRoles: [String] { playbook.roles.filter(\.lead).map(\.id) }

    /// The roles that may act on a step's own actions: its role and the lead roles. Empty: anyone.
    func ownerRoles(_ step: Step) -> [String] {
        guard let role = step.role?.value else { return [] }
        return [role] + leadRoles.filter { $0 != role }
    }

    // MARK: Action specs

    /// The actions of the pseudo-step `incident`: `close`, `set_deadline` when the playbook has clocks, and
    /// `consider` when it names obligations.
    func incidentActionSpecs() -> [ActionSpec] {
        [closeActionSpec()] + [setDeadlineActionSpec(), considerActionSpec()].compactMap { $0 }
    }

    func closeActionSpec() -> ActionSpec {
        ActionSpec(
            .close, title: "Close the incident",
            fields: [
                FieldSpec(name: "outcome", type: .string, required: true, prompt: "Outcome (resolved, contained, false_alarm...)"),
                FieldSpec(name: "reason", type: .text, required: true, prompt: "Why the incident is closed now"),
            ], roles: leadRoles)
    }

    /// The deliveries of an instance that are still pending (in doubt) or waiting for a manual send.
    func openDeliveryKeys(_ instance: String) -> [String] {
        state.deliveries.filter { $0.delivery.step == instance && !$0.status.isFinal }.map(\.delivery.key)
    }

    /// The actions the instance accepts now: its kind's (delegated to the kind's file), then `confirm_delivery`
    /// while a delivery of it is open.
    func actionSpecs(for run: StepRun, step: Step) -> [ActionSpec] {
        let owners = ownerRoles(step)
        var specs: [ActionSpec]
        switch run.progress {
        case .choice(let spec): specs = choiceSpecs(spec, run: run, owners: owners)
        case .task(let spec): specs = taskSpecs(spec, owners: owners)
        case .statement(let spec, let s): specs = statementSpecs(spec, s, owners: owners)
        case .takedown(let spec, let t): specs = takedownSpecs(spec, t, owners: owners)
        case .escalation(_, let e): specs = escalationSpecs(e)
        case .notify(let spec, let n): specs = notifySpecs(spec, n, owners: owners)
        case .clock: specs = []
        case .wait(let spec): specs = waitSpecs(spec, owners: owners)
        case .parallel: specs = []
        case .foreach: specs = []
        case .end: specs = []
        case .submission(let spec, let r): specs = submissionSpecs(spec, r, owners: owners)
        }
        let open = openDeliveryKeys(run.instance)
        if !open.isEmpty {
            specs.append(
                ActionSpec(
                    .confirmDelivery, title: "Confirm whether a delivery went out",
                    fields: [
                        FieldSpec(name: "key", type: .enum, required: true, values: open, prompt: "Delivery key"),
                        FieldSpec(
                            name: "result", type: .enum, required: true, values: ["sent", "failed"],
                            prompt: "Did it go out?"),
                        FieldSpec(name: "detail", type: .text, required: false, prompt: "Details (who sent it, how)"),
                    ]))
        }
        return specs
    }

    // MARK: Dispatch

    mutating func act(instance: String, action name: String, fields: [String: String], actor: Actor) throws(Rejection) {
        if instance == Engine.incidentStep {
            let specs = incidentActionSpecs()
            let names = specs.map(\.name)
            guard let spec = specs.first(where: { $0.name == name }), let action = StepAction(rawValue: name) else {
                throw Rejection(
                    .unknownAction,
                    "the incident accepts action\(names.count == 1 ? "" : "s") \(names.map { "'\($0)'" }.joined(separator: " or ")), not '\(name)'",
                    hint: .actionsAvailable(names))
            }
            try checkRole(spec, action: action, actor: actor)
            try checkFields(spec, fields)
            if action == .consider {
                consider(fields: fields, actor: actor)
            } else if action == .setDeadline {
                try checkNotConflicted(.setDeadline, actor: actor, fields: fields)
                try setDeadline(fields: fields, actor: actor)
            } else {
                try checkNotConflicted(.close, actor: actor, fields: fields)
                close(outcome: fields["outcome"] ?? "closed")
            }
            return
        }
        guard let run = state.run(instance), let step = playbook.step(run.stepID) else {
            try inactive(instance: instance, action: name, fields: fields, actor: actor)
            return
        }
        if name == StepAction.draft.rawValue, case .statement = run.progress {
            throw Rejection(
                .unrenderedDraft,
                "a statement draft must carry its rendered texts; the draft of '\(instance)' came without them")
        }
        let (action, spec) = try availableAction(name, run: run, step: step)
        var fields = fields
        if action == .retry, case .notify(_, let n) = run.progress, let given = fields["delivery"],
            let key = failedNotifyDelivery(given, n)
        {
            // The last segments of a failed delivery's key name it as its full key would.
            fields["delivery"] = key
        }
        try checkRole(spec, action: action, actor: actor)
        try checkFields(spec, fields)
        try checkNotConflicted(action, actor: actor, fields: fields)
        if action == .retry, case .notify(let notify, let n) = run.progress {
            // Like confirm_delivery, a retry is about a delivery, not a fact later texts read.
            progressMade(on: instance)
            notifyRetry(notify, n, instance: instance, key: fields["delivery"] ?? "")
            return
        }
        if action == .confirmDelivery {
            let result: DeliveryResult = fields["result"] == "failed" ? .failed : .sent
            try completeDelivery(key: fields["key"] ?? "", result: result, detail: fields["detail"])
            return
        }
        state.recordFields(fields, of: run.stepID)
        progressMade(on: instance)
        switch run.progress {
        case .choice(let spec): choiceAct(spec, run: run, action: action, fields: fields, actor: actor)
        case .task: taskAct(action, instance: instance)
        case .statement(let spec, let s):
            try statementAct(spec, s, instance: instance, action: action, fields: fields, actor: actor)
        case .takedown(let spec, let t):
            try takedownAct(spec, t, instance: instance, action: action, fields: fields, actor: actor)
        case .escalation: try escalationAct(action, instance: instance, fields: fields, actor: actor)
        case .wait: exit(instance, outcome: Outcome.received)
        case .submission(let spec, let r):
            try submissionAct(spec, r, instance: instance, action: action, fields: fields, actor: actor)
        case .notify, .clock, .parallel, .foreach, .end:
            // These kinds take no action of their own (`StepType.actions`); only confirm_delivery, handled above.
            return
        }
    }

    /// A new statement draft with its rendered texts.
    mutating func drafted(
        instance: String, facts: [String: String], statement: RenderedStatement, actor: Actor
    ) throws(Rejection) {
        guard let run = state.run(instance), let step = playbook.step(run.stepID) else {
            try inactive(instance: instance, action: StepAction.draft.rawValue, fields: facts, actor: actor)
            return
        }
        guard case .statement(let spec, let s) = run.progress else {
            throw Rejection(
                .unknownAction,
                "a \(step.typeName) step takes no rendered statement; only a holding_statement step is drafted that way",
                hint: .actionsAvailable(actionSpecs(for: run, step: step).map(\.name)))
        }
        let (action, actionSpec) = try availableAction(StepAction.draft.rawValue, run: run, step: step)
        try checkRole(actionSpec, action: action, actor: actor)
        try checkDraftFacts(spec, facts)
        try checkNotConflicted(action, actor: actor, fields: facts)
        let languages = statement.languages.isEmpty ? playbook.languages : spec.languages(in: playbook)
        var missing = languages.filter { statement.texts[$0] == nil }
        if !statement.languages.isEmpty {
            for channel in spec.channels where spec.variants[channel.id] != nil {
                for l in spec.languages(of: channel, in: playbook) where statement.variants[channel.id]?[l] == nil {
                    missing.append("\(l) (the \(channel.id) variant)")
                }
            }
        }
        if !missing.isEmpty || statement.sha256.isEmpty {
            let what = missing.isEmpty ? "its hash" : "the text in \(missing.joined(separator: ", "))"
            throw Rejection(.incompleteStatement, "the draft of '\(instance)' lacks \(what)")
        }
        state.recordFields(facts, of: run.stepID)
        progressMade(on: instance)
        statementDraft(spec, s, instance: instance, facts: facts, statement: statement, actor: actor)
    }

    /// The action by name if the instance accepts it now, else the refusal: unknown to the kind, or not now.
    func availableAction(_ name: String, run: StepRun, step: Step) throws(Rejection) -> (StepAction, ActionSpec) {
        let specs = actionSpecs(for: run, step: step)
        if let action = StepAction(rawValue: name), let spec = specs.first(where: { $0.name == name }) {
            return (action, spec)
        }
        let names = specs.map(\.name)
        let available = names.isEmpty ? "it accepts no action now" : "available now: \(names.joined(separator: ", "))"
        if let action = StepAction(rawValue: name), step.kind.operatorActions.contains(action) {
            throw Rejection(
                .actionUnavailable,
                "action '\(name)' is not possible on '\(run.instance)' now\(phaseNote(run.progress)); \(available)",
                hint: .actionsAvailable(names))
        }
        throw Rejection(
            .unknownAction, "a \(step.typeName) step has no action '\(name)'; \(available)", hint: .actionsAvailable(names))
    }

    /// Where a step with phases is, for "not possible now" refusals.
    func phaseNote(_ progress: StepProgress) -> String {
        switch progress {
        case .statement(_, let s): " (statement is \(s.phase.rawValue))"
        case .takedown(_, let t): " (request is \(t.status.rawValue))"
        case .submission(let spec, let r):
            r.submissions.last?.phase == spec.lastPhase ? " (every phase is submitted)" : ""
        case .choice, .task, .escalation, .notify, .clock, .wait, .parallel, .foreach, .end: ""
        }
    }

    /// An action on an instance that is not active: a late ack, or a refusal that says what is active.
    mutating func inactive(instance: String, action: String, fields: [String: String], actor: Actor) throws(Rejection) {
        var base = instance
        if let bracket = instance.firstIndex(of: "[") { base = String(instance[..<bracket]) }
        guard let step = playbook.step(base) else {
            throw Rejection(
                .unknownStep, "the playbook has no step '\(instance)'; \(activeList())",
                hint: .stepsActive(state.active.map(\.instance)))
        }
        if action == StepAction.ack.rawValue, case .escalate = step.kind,
            let record = state.history.last(where: { $0.instance == instance })
        {
            lateAck(instance: instance, by: fields["by"] ?? actor.name, record: record)
            return
        }
        throw Rejection(
            .notActive, "step '\(instance)' is not active; \(activeList())", hint: .stepsActive(state.active.map(\.instance)))
    }

    func activeList() -> String {
        let names = state.active.map(\.instance)
        return names.isEmpty ? "no step is active" : "active steps: \(names.joined(separator: ", "))"
    }

    // MARK: Checks

    func checkRole(_ spec: ActionSpec, action: StepAction, actor: Actor) throws(Rejection) {
        guard !spec.roles.isEmpty else { return }
        let needs: String
        if let context = action.roleContext {
            needs = "\(context) needs one of the roles \(spec.roles.map { "'\($0)'" }.joined(separator: ", "))"
        } else {
            needs = "this step belongs to role '\(spec.roles[0])'"
                + (spec.roles.count > 1 ? " (or a lead role: \(spec.roles.dropFirst().joined(separator: ", ")))" : "")
        }
        guard let role = actor.role else {
            throw Rejection(.roleRequired, "\(needs); no role was given", hint: .roleNeeded(spec.roles))
        }
        guard spec.roles.contains(role) else {
            throw Rejection(.wrongRole, "\(needs), and you act as '\(role)'", hint: .roleNeeded(spec.roles))
        }
    }

    func checkFields(_ spec: ActionSpec, _ fields: [String: String]) throws(Rejection) {
        let accepted = spec.fields.map(\.name)
        let acceptedText = accepted.isEmpty ? "it takes no fields" : "accepted fields: \(accepted.joined(separator: ", "))"
        for name in fields.keys.sorted() where !accepted.contains(name) {
            throw Rejection(
                .unknownField, "action '\(spec.name)' has no field '\(name)'; \(acceptedText)",
                hint: .fieldsAccepted(accepted))
        }
        for field in spec.fields {
            guard let value = fields[field.name], !value.isEmpty else {
                if field.required {
                    throw Rejection(
                        .missingField, "action '\(spec.name)' needs field '\(field.name)' (\(field.prompt))",
                        hint: .fieldMissing(name: field.name, type: field.type, allowed: field.values))
                }
                continue
            }
            if let problem = field.type.problem(with: value, allowed: field.values) {
                throw Rejection(
                    .invalidField, "field '\(field.name)' \(problem)",
                    hint: .fieldInvalid(name: field.name, allowed: field.values))
            }
        }
    }
}

extension ActionSpec {
    /// A spec for one of the actions of the step table.
    init(_ action: StepAction, title: String, fields: [FieldSpec] = [], roles: [String] = []) {
        self.init(name: action.rawValue, title: title, fields: fields, roles: roles)
    }
}
