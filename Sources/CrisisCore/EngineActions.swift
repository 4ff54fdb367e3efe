/// Operator actions: what each active step accepts now, and the checks every action passes before it changes
/// anything (step, action, role, fields).
extension Machine {
    // MARK: Vocabulary

    /// Every action a step of this kind can ever accept (to tell "not now" from "never").
    static func vocabulary(_ kind: StepKind) -> [String] {
        switch kind {
        case .choice(let c): c.isAutomatic ? [] : ["choose"]
        case .task: ["done", "skip"]
        case .holdingStatement: ["draft", "approve", "reject", "publish", "confirm_delivery"]
        case .takedown:
            ["draft", "submit", "acknowledge", "removed", "partially_removed", "refused", "appeal", "confirm_delivery"]
        case .escalate: ["ack", "confirm_delivery"]
        case .notify: ["confirm_delivery"]
        case .wait(let w): w.event == nil ? [] : ["received"]
        case .clock, .parallel, .foreach, .end: []
        }
    }

    var leadRoles: [String] { playbook.roles.filter(\.lead).map(\.id) }

    /// The roles that may act on a step's own actions: its role and the lead roles. Empty: anyone.
    func ownerRoles(_ step: Step) -> [String] {
        guard let role = step.role?.value else { return [] }
        return [role] + leadRoles.filter { $0 != role }
    }

    // MARK: Action specs

    func closeActionSpec() -> ActionSpec {
        ActionSpec(
            name: "close", title: "Close the incident",
            fields: [
                FieldSpec(name: "outcome", type: .string, required: true, prompt: "Outcome (resolved, contained, false_alarm...)"),
                FieldSpec(name: "reason", type: .text, required: true, prompt: "Why the incident is closed now"),
            ], roles: leadRoles)
    }

    /// The deliveries of an instance that are still pending (in doubt) or waiting for a manual send.
    func openDeliveryKeys(_ instance: String) -> [String] {
        state.deliveries.filter { $0.delivery.step == instance && !$0.status.isFinal }.map(\.delivery.key)
    }

    func actionSpecs(for run: StepRun, step: Step) -> [ActionSpec] {
        let owners = ownerRoles(step)
        var specs: [ActionSpec] = []
        switch step.kind {
        case .choice(let c):
            guard !c.isAutomatic else { break }
            specs.append(
                ActionSpec(
                    name: "choose", title: "Choose an option",
                    fields: [
                        FieldSpec(
                            name: "option", type: .enum, required: true, values: c.options.map(\.id),
                            prompt: c.options.map { "\($0.id): \($0.label)" }.joined(separator: "; "),
                            defaultValue: c.defaultOption?.value)
                    ], roles: owners))
        case .task:
            specs.append(
                ActionSpec(
                    name: "done", title: "Mark the task done",
                    fields: [FieldSpec(name: "note", type: .text, required: false, prompt: "What was done")], roles: owners))
            specs.append(
                ActionSpec(
                    name: "skip", title: "Skip the task",
                    fields: [FieldSpec(name: "reason", type: .text, required: true, prompt: "Why it is skipped")],
                    roles: owners))
        case .wait(let w):
            guard let event = w.event else { break }
            specs.append(
                ActionSpec(
                    name: "received", title: "Record that \(event) happened",
                    fields: [FieldSpec(name: "details", type: .text, required: false, prompt: "What happened")],
                    roles: owners))
        case .holdingStatement(let spec):
            if case .statement(let s) = run.detail { specs += statementSpecs(spec, s, owners: owners) }
        case .takedown(let spec):
            if case .takedown(let t) = run.detail { specs += takedownSpecs(spec, t, owners: owners) }
        case .escalate:
            specs.append(
                ActionSpec(
                    name: "ack", title: "Record who acknowledged",
                    fields: [
                        FieldSpec(name: "by", type: .string, required: true, prompt: "Who acknowledged (person id or name)"),
                        FieldSpec(name: "via", type: .string, required: false, prompt: "How they were reached"),
                    ]))
        case .notify, .clock, .parallel, .foreach, .end:
            break
        }
        let open = openDeliveryKeys(run.instance)
        if !open.isEmpty {
            specs.append(
                ActionSpec(
                    name: "confirm_delivery", title: "Confirm whether a delivery went out",
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

    mutating func act(instance: String, action: String, fields: [String: String], actor: Actor) throws(Rejection) {
        if instance == Engine.incidentStep {
            let spec = closeActionSpec()
            guard action == spec.name else {
                throw Rejection("unknown-action", "the incident accepts action 'close', not '\(action)'")
            }
            try checkRole(spec, actor: actor, what: "closing the incident")
            try checkFields(spec, fields)
            let outcome = fields["outcome"] ?? "closed"
            close(outcome: outcome)
            return
        }
        guard let run = state.run(instance), let step = playbook.step(run.stepID) else {
            try inactive(instance: instance, action: action, fields: fields, actor: actor)
            return
        }
        let specs = actionSpecs(for: run, step: step)
        guard let spec = specs.first(where: { $0.name == action }) else {
            let names = specs.map(\.name)
            let available = names.isEmpty ? "it accepts no action now" : "available now: \(names.joined(separator: ", "))"
            if Machine.vocabulary(step.kind).contains(action) {
                throw Rejection(
                    "action-unavailable", "action '\(action)' is not possible on '\(instance)' now\(phaseNote(run)); \(available)")
            }
            throw Rejection(
                "unknown-action", "a \(step.typeName) step has no action '\(action)'; \(available)")
        }
        let what: String
        switch action {
        case "approve", "reject": what = "deciding on a statement draft"
        case "submit": what = "submitting a takedown request"
        default: what = "step '\(instance)'"
        }
        try checkRole(spec, actor: actor, what: what)
        try checkFields(spec, fields)
        if action == "confirm_delivery" {
            let result: DeliveryResult = fields["result"] == "failed" ? .failed : .sent
            try completeDelivery(key: fields["key"] ?? "", result: result, detail: fields["detail"])
            return
        }
        state.recordFields(fields, of: run.stepID)
        switch step.kind {
        case .choice:
            exit(instance, outcome: fields["option"] ?? "")
        case .task:
            exit(instance, outcome: action == "skip" ? "skipped" : Outcome.done)
        case .wait:
            exit(instance, outcome: "received")
        case .holdingStatement(let s):
            try statementAct(s, instance: instance, action: action, fields: fields, actor: actor)
        case .takedown(let t):
            try takedownAct(t, instance: instance, action: action, fields: fields, actor: actor)
        case .escalate:
            acknowledge(instance: instance, by: fields["by"] ?? actor.name)
        case .notify, .clock, .parallel, .foreach, .end:
            break
        }
    }

    func phaseNote(_ run: StepRun) -> String {
        switch run.detail {
        case .statement(let s): " (statement is \(s.phase.rawValue))"
        case .takedown(let t): " (request is \(t.status.rawValue))"
        default: ""
        }
    }

    /// An action on an instance that is not active: a late ack, or a refusal that says what is active.
    mutating func inactive(instance: String, action: String, fields: [String: String], actor: Actor) throws(Rejection) {
        var base = instance
        if let bracket = instance.firstIndex(of: "[") { base = String(instance[..<bracket]) }
        guard let step = playbook.step(base) else {
            throw Rejection("unknown-step", "the playbook has no step '\(instance)'; \(activeList())")
        }
        if action == "ack", case .escalate = step.kind,
            let record = state.history.last(where: { $0.instance == instance })
        {
            let by = fields["by"] ?? actor.name
            actions.append(
                .remind(
                    step: instance,
                    message:
                        "late ack by \(by) for '\(instance)' recorded; it changes nothing (the step already finished with outcome \(record.outcome))"
                ))
            return
        }
        throw Rejection("not-active", "step '\(instance)' is not active; \(activeList())")
    }

    func activeList() -> String {
        let names = state.active.map(\.instance)
        return names.isEmpty ? "no step is active" : "active steps: \(names.joined(separator: ", "))"
    }

    // MARK: Checks

    func checkRole(_ spec: ActionSpec, actor: Actor, what: String) throws(Rejection) {
        guard !spec.roles.isEmpty else { return }
        let first = spec.roles[0]
        let needs: String
        switch what {
        case let w where w.hasPrefix("step "):
            needs = "this step belongs to role '\(first)'"
                + (spec.roles.count > 1 ? " (or a lead role: \(spec.roles.dropFirst().joined(separator: ", ")))" : "")
        default:
            needs = "\(what) needs one of the roles \(spec.roles.map { "'\($0)'" }.joined(separator: ", "))"
        }
        guard let role = actor.role else {
            throw Rejection("role-required", "\(needs); act with --role \(first)")
        }
        guard spec.roles.contains(role) else {
            throw Rejection("wrong-role", "\(needs), and you act as '\(role)'; act with --role \(first)")
        }
    }

    func checkFields(_ spec: ActionSpec, _ fields: [String: String]) throws(Rejection) {
        let accepted = spec.fields.map(\.name)
        let acceptedText = accepted.isEmpty ? "it takes no fields" : "accepted fields: \(accepted.joined(separator: ", "))"
        for name in fields.keys.sorted() where !accepted.contains(name) {
            if name.hasPrefix(Engine.reservedFieldPrefix) {
                throw Rejection(
                    "reserved-field", "field '\(name)' is reserved for crisis itself and cannot be set on '\(spec.name)'")
            }
            throw Rejection("unknown-field", "action '\(spec.name)' has no field '\(name)'; \(acceptedText)")
        }
        for field in spec.fields {
            guard let value = fields[field.name], !value.isEmpty else {
                if field.required {
                    throw Rejection(
                        "missing-field", "action '\(spec.name)' needs field '\(field.name)' (\(field.prompt)); set it with --set \(field.name)=VALUE")
                }
                continue
            }
            if let problem = field.type.problem(with: value, allowed: field.values) {
                throw Rejection("invalid-field", "field '\(field.name)' \(problem)")
            }
        }
    }
}
