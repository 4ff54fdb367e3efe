/// `takedown`: a removal request under a legal basis, its notice elements, its submission and the platform's
/// answer, with follow-up reminders while the platform is silent. Status diagram: `TakedownRun` in State.swift.
///
///     drafting --draft--> drafted --submit--> submitted --acknowledge--> acknowledged
///                            ^                    |                          |
///                            |                    +--removed, partially_removed, refused, appeal--> (outcome)
///                            |                    +--give_up_after--> no_response (outcome)
///                            +--draft-- edit_requested <--edit_requested--+ (the platform asks for changes;
///                                       (submit again as it is, too)        reminders stop until resubmitted)
extension TakedownSpec: StepKindSpec {
    public static var stepType: StepType { .takedown }
    public var ownOutcomes: [String] { TakedownStatus.finalStatuses.map(\.rawValue) }
    public var canTimeOut: Bool { true }
    public var isWaiting: Bool { true }
}

extension StepAction {
    /// The status a takedown takes on this action.
    var takedownStatus: TakedownStatus? {
        switch self {
        case .draft: .drafted
        case .submit: .submitted
        case .acknowledge: .acknowledged
        case .removed: .removed
        case .partiallyRemoved: .partiallyRemoved
        case .refused: .refused
        case .appeal: .appealed
        case .editRequested: .editRequested
        case .choose, .done, .skip, .received, .approve, .reject, .publish, .ack, .notReached, .confirmDelivery, .retry, .close,
            .setDeadline, .receipt, .object, .consider, .handover:
            nil
        }
    }
}

extension Machine {
    func resolve(_ source: ValueSource, scope: Scope?) -> String {
        switch source {
        case .literal(let text): substitute(text, scope: scope)
        case .input(let name): definition.inputs[name.value] ?? ""
        }
    }

    func initialTakedown(_ spec: TakedownSpec, scope: Scope?) -> TakedownRun {
        let platform = resolve(spec.platform, scope: scope)
        let urls = ValueType.splitList(resolve(spec.urls, scope: scope))
        var notice: [String: String] = [:]
        for (name, value) in spec.prefill { notice[name] = substitute(value, scope: scope) }
        if !urls.isEmpty { notice[NoticeElement.urls.rawValue] = urls.joined(separator: "\n") }
        return TakedownRun(platform: platform, urls: urls, notice: notice)
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
        let ticket = FieldSpec(name: "ticket", type: .string, required: false, prompt: "Platform ticket or case id")
        switch t.status {
        case .drafting, .drafted, .editRequested:
            let fields = spec.basis.requiredElements.map {
                FieldSpec(
                    name: $0.rawValue, type: $0.valueType, required: false, prompt: $0.rawValue.replacingUnderscores(),
                    defaultValue: t.notice[$0.rawValue])
            }
            return [
                ActionSpec(.draft, title: "Fill in the notice (\(spec.basis.rawValue))", fields: fields, roles: owners),
                ActionSpec(
                    .submit, title: "Record that the request was submitted to \(t.platform)", fields: [ticket],
                    roles: spec.submitterRoles.map(\.value)),
            ]
        case .submitted, .acknowledged:
            var specs: [ActionSpec] = []
            if t.status == .submitted {
                specs.append(
                    ActionSpec(.acknowledge, title: "The platform acknowledged the request", fields: [ticket], roles: owners))
            }
            let note = FieldSpec(name: "note", type: .text, required: false, prompt: "Details")
            let reason = FieldSpec(name: "reason", type: .text, required: true, prompt: "Reason")
            specs.append(ActionSpec(.removed, title: "The content was removed", fields: [note], roles: owners))
            specs.append(ActionSpec(.partiallyRemoved, title: "Some of the content was removed", fields: [note], roles: owners))
            specs.append(ActionSpec(.refused, title: "The platform refused", fields: [reason], roles: owners))
            specs.append(ActionSpec(.appeal, title: "We appealed the decision", fields: [reason], roles: owners))
            let asks = FieldSpec(name: "reason", type: .text, required: true, prompt: "What the platform asks to change")
            specs.append(ActionSpec(.editRequested, title: "The platform asks for changes to the notice", fields: [asks, ticket],
                                    roles: owners))
            return specs
        case .removed, .partiallyRemoved, .refused, .noResponse, .appealed:
            return []
        }
    }

    mutating func takedownAct(
        _ spec: TakedownSpec, _ t: TakedownRun, instance: String, action: StepAction, fields: [String: String],
        actor: Actor
    ) throws(Rejection) {
        var t = t
        guard let to = action.takedownStatus else { return }
        let from = t.status
        var stepID = instance
        if let run = state.run(instance) { stepID = run.stepID }
        func transition(note: String?) {
            t.history.append(TakedownTransition(from: from, to: to, by: actor.name, at: now, note: note))
            t.status = to
        }
        // Targets that name the state (`reaches: submitted`) are met once the request has reached it.
        defer { if t.status == to { reachTargets(stepID: stepID, reached: to.rawValue) } }
        switch to {
        case .drafted:
            for element in spec.basis.requiredElements {
                if let value = fields[element.rawValue], !value.isEmpty { t.notice[element.rawValue] = value }
            }
            let urls = element(urls: t.notice)
            if !urls.isEmpty { t.urls = urls }
            transition(note: nil)
            setProgress(instance, .takedown(spec, t))
        case .submitted:
            let missing = Machine.missingElements(spec.basis, t.notice)
            guard missing.isEmpty else {
                throw Rejection(
                    .missingElements,
                    "a \(spec.basis.rawValue) notice cannot be submitted without: \(missing.joined(separator: ", ")); fill them in with the draft action (booleans must be true)",
                    hint: .elementsMissing(missing))
            }
            t.ticket = fields["ticket"].flatMap { $0.isEmpty ? nil : $0 } ?? t.ticket
            t.submission = TakedownSubmission(at: now, by: actor.name)
            transition(note: t.ticket.map { "ticket \($0)" })
            setProgress(instance, .takedown(spec, t))
            state.timers.removeAll {
                $0.step == instance && ($0.purpose == .stepTimeout || $0.purpose == .followUp || $0.purpose == .noResponse)
            }
            if let i = state.active.firstIndex(where: { $0.instance == instance }) { state.active[i].dueAt = nil }
            if let followUp = spec.followUp { arm(now + followUp, step: instance, .followUp) }
            if let giveUp = spec.giveUpAfter { arm(now + giveUp, step: instance, .noResponse) }
        case .acknowledged:
            if let ticket = fields["ticket"], !ticket.isEmpty { t.ticket = ticket }
            transition(note: fields["ticket"])
            setProgress(instance, .takedown(spec, t))
        case .editRequested:
            // Back with the sender: no reminders to chase the platform, no giving up, until it is submitted again.
            if let ticket = fields["ticket"], !ticket.isEmpty { t.ticket = ticket }
            transition(note: fields["reason"])
            setProgress(instance, .takedown(spec, t))
            state.timers.removeAll { $0.step == instance && ($0.purpose == .followUp || $0.purpose == .noResponse) }
        case .removed, .partiallyRemoved, .refused, .appealed, .noResponse:
            transition(note: fields["reason"] ?? fields["note"])
            setProgress(instance, .takedown(spec, t))
            exit(instance, outcome: to.rawValue)
        case .drafting:
            return
        }
    }

    func element(urls notice: [String: String]) -> [String] {
        ValueType.splitList(notice[NoticeElement.urls.rawValue] ?? "")
    }

    mutating func followUp(instance: String) {
        // Read what the reminder needs into plain values first: binding the spec and the run in one pattern here
        // crashed the optimizer of Swift 6.3.1 (CopyPropagation, "Found ownership error") in release builds.
        guard let (every, platform, status, submittedAt) = takedownFollowUpFacts(instance) else { return }
        let since = submittedAt.map { " since \(local($0))" } ?? ""
        actions.append(
            .remind(
                step: instance,
                message: "takedown '\(instance)' on \(platform) is \(status.rawValue)\(since); follow up with the platform"))
        if let every { arm(now + every, step: instance, .followUp) }
    }

    func takedownFollowUpFacts(_ instance: String)
        -> (PlaybookDuration?, String, TakedownStatus, Instant?)?
    {
        guard let run = state.run(instance) else { return nil }
        switch run.progress {
        case .takedown(let spec, let t): return (spec.followUp, t.platform, t.status, t.submittedAt)
        case .choice, .task, .statement, .escalation, .notify, .clock, .wait, .parallel, .foreach, .end, .submission:
            return nil
        }
    }

    mutating func takedownNoResponse(instance: String) {
        guard let run = state.run(instance), case .takedown(let spec, var t) = run.progress else { return }
        t.history.append(TakedownTransition(from: t.status, to: .noResponse, by: Actor.system.name, at: now, note: nil))
        t.status = .noResponse
        setProgress(instance, .takedown(spec, t))
        reachTargets(stepID: run.stepID, reached: TakedownStatus.noResponse.rawValue)
        exit(instance, outcome: TakedownStatus.noResponse.rawValue)
    }
}

extension String {
    func replacingUnderscores() -> String { String(map { $0 == "_" ? " " : $0 }) }
}
