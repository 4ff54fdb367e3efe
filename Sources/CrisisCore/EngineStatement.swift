/// `holding_statement`: drafts bound to their hash, approvals with quorum, conflicts and fallback, publication
/// per channel through deliveries. The engine never renders: the shell renders the template from the facts
/// and sends `EngineEvent.drafted` with the texts and their hash.
///
/// Phases (`StatementPhase`):
///
///                  drafted                      approve (quorum)              publish
///     drafting -------------> awaiting_approval ----------------> approved -------------> publishing
///        ^                        |   ^    ^                        |                     |   |
///        |         reject         |   |    |  drafted (revision n+1; |                     |   | every channel
///        +------------------------+   |    |  approvals start over)  |                     |   v sent or sandboxed
///                                     |    +-------------------------+                     | (outcome published)
///     max_revisions rejections:       +-- drafted                                          |
///     outcome rejected                                           a channel failed: publish + it again
extension StatementSpec: StepKindSpec {
    public static var stepType: StepType { .holdingStatement }
    public var ownOutcomes: [String] { [Outcome.published, Outcome.rejected] }
    public var canTimeOut: Bool { true }
    public var isWaiting: Bool { true }
}

extension Machine {
    func approverRoles(_ spec: StatementSpec, _ s: StatementRun) -> [String] {
        var roles = spec.approval.decidingRoles
        if s.fallbackOpen {
            for role in spec.approval.fallbackRoles.map(\.value) where !roles.contains(role) { roles.append(role) }
        }
        return roles
    }

    /// Channels that may be published now: never asked for, or whose delivery failed.
    func publishableChannels(_ spec: StatementSpec, _ s: StatementRun) -> [String] {
        spec.channels.map(\.id).filter { channel in
            guard let key = s.publications[channel] else { return true }
            return state.deliveries.first { $0.delivery.key == key }?.status == .failed
        }
    }

    func statementSpecs(_ spec: StatementSpec, _ s: StatementRun, owners: [String]) -> [ActionSpec] {
        var specs: [ActionSpec] = []
        if s.phase != .publishing {
            // The facts only: the texts and their hash come with `drafted`, rendered by the shell.
            let fields = spec.facts.map {
                FieldSpec(
                    name: $0.name, type: $0.type, required: $0.required, prompt: $0.prompt,
                    defaultValue: s.current?.facts[$0.name])
            }
            specs.append(ActionSpec(.draft, title: "Draft the statement", fields: fields, roles: owners))
        }
        if s.phase == .awaitingApproval {
            let approvers = approverRoles(spec, s)
            specs.append(
                ActionSpec(
                    .approve, title: "Approve revision \(s.current?.revision ?? 0)",
                    fields: [FieldSpec(name: "comment", type: .text, required: false, prompt: "Comment")],
                    roles: approvers))
            specs.append(
                ActionSpec(
                    .reject, title: "Reject revision \(s.current?.revision ?? 0)",
                    fields: [FieldSpec(name: "reason", type: .text, required: true, prompt: "What must change")],
                    roles: approvers))
        }
        if let role = spec.spokesperson?.value {
            specs.append(
                ActionSpec(
                    .handover, title: "Hand the spokesperson role over",
                    fields: [
                        FieldSpec(name: "to", type: .string, required: true, prompt: "Who speaks for the statement now"),
                        FieldSpec(name: "reason", type: .text, required: false, prompt: "Why"),
                    ], roles: owners + [role].filter { !owners.isEmpty && !owners.contains($0) }))
        }
        let channels = publishableChannels(spec, s)
        if s.phase == .approved || (s.phase == .publishing && !channels.isEmpty) {
            let languages = playbook.languages
            specs.append(
                ActionSpec(
                    .publish, title: "Publish the approved statement",
                    fields: [
                        FieldSpec(
                            name: "channel", type: .enum, required: false, values: channels,
                            prompt: "Channel (all remaining channels when omitted)"),
                        FieldSpec(
                            name: "language", type: .enum, required: false, values: languages, prompt: "Language",
                            defaultValue: languages.first),
                    ], roles: owners))
        }
        return specs
    }

    /// A new revision from `drafted`: approvals start over; the first draft arms the approval window.
    mutating func statementDraft(
        _ spec: StatementSpec, _ s: StatementRun, instance: String, facts: [String: String],
        statement: RenderedStatement, actor: Actor
    ) {
        var s = s
        var kept: [String: String] = [:]
        for fact in spec.facts { if let v = facts[fact.name] { kept[fact.name] = v } }
        var texts: [String: String] = [:]
        for language in playbook.languages { texts[language] = statement.texts[language] ?? "" }
        let first = s.drafts.isEmpty
        s.drafts.append(
            StatementDraft(
                revision: s.drafts.count + 1, facts: kept, texts: texts, sha256: statement.sha256, drafter: actor.name,
                at: now))
        s.phase = .awaitingApproval
        setProgress(instance, .statement(spec, s))
        reachedPhase(instance, .awaitingApproval)
        armApprovalWindow(spec, instance: instance, first: first)
    }

    /// `approve`, `reject` or `publish` (`draft` comes as `drafted`; `confirm_delivery` is the dispatcher's).
    mutating func statementAct(
        _ spec: StatementSpec, _ s: StatementRun, instance: String, action: StepAction, fields: [String: String],
        actor: Actor
    ) throws(Rejection) {
        switch action {
        case .approve, .reject:
            try decide(spec, s, instance: instance, approved: action == .approve, fields: fields, actor: actor)
        case .publish:
            publish(spec, s, instance: instance, fields: fields)
        case .handover:
            try handover(spec, s, instance: instance, fields: fields, actor: actor)
        case .choose, .done, .skip, .received, .draft, .submit, .acknowledge, .removed, .partiallyRemoved, .refused,
            .appeal, .editRequested, .ack, .notReached, .confirmDelivery, .retry, .close, .setDeadline, .receipt, .object, .consider:
            return
        }
    }

    mutating func decide(
        _ spec: StatementSpec, _ s: StatementRun, instance: String, approved: Bool, fields: [String: String],
        actor: Actor
    ) throws(Rejection) {
        var s = s
        guard let draft = s.current else { return }
        let person = actor.name
        if approved, spec.approval.distinctFromDrafter, same(person, draft.drafter) {
            throw Rejection(
                .ownDraft, "\(person) drafted revision \(draft.revision) and may not approve it; another approver must decide")
        }
        if let input = spec.approval.excludeInput?.value, let value = definition.inputs[input] {
            let excluded = value.split(whereSeparator: { $0 == "," || $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
                .map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
            let rules = definition.legacyApprovalRules
            if excluded.contains(where: { rules ? same($0, person) : samePerson($0, person) }) {
                throw Rejection(
                    .conflictedApprover,
                    "\(person) is listed in '\(input)' as conflicted and may not decide on this statement")
            }
        }
        if s.decisions.contains(where: { $0.revision == draft.revision && same($0.person, person) }) {
            throw Rejection(
                .alreadyDecided, "\(person) has already decided on revision \(draft.revision); one decision per person")
        }
        if approved { try checkApprovalOrder(spec, s, actor: actor) }
        s.decisions.append(
            ApprovalRecord(
                person: person, role: actor.role ?? "", revision: draft.revision, sha256: draft.sha256,
                approved: approved, reason: approved ? fields["comment"] : fields["reason"], at: now))
        if approved {
            if approvalProgress(spec, s).complete {
                s.phase = .approved
                informApproved(spec, &s, instance: instance)
            }
            setProgress(instance, .statement(spec, s))
            if s.phase == .approved { reachedPhase(instance, .approved) }
        } else {
            s.phase = .drafting
            setProgress(instance, .statement(spec, s))
            let rejected = Set(s.decisions.filter { !$0.approved }.map(\.revision)).count
            if rejected >= spec.maxRevisions {
                exit(instance, outcome: Outcome.rejected)
            }
        }
    }

    mutating func publish(_ spec: StatementSpec, _ s: StatementRun, instance: String, fields: [String: String]) {
        var s = s
        guard let draft = s.current else { return }
        let available = publishableChannels(spec, s)
        let channels = fields["channel"].map { [$0] } ?? available
        let language = fields["language"] ?? playbook.languages.first ?? ""
        if spec.channels.isEmpty {
            exit(instance, outcome: Outcome.published)
            return
        }
        for channel in channels {
            let key = deliver(
                instance: instance, purpose: .publish, channel: channel, recipients: [channel],
                text: draft.texts[language] ?? "")
            s.publications[channel] = key
        }
        s.phase = .publishing
        setProgress(instance, .statement(spec, s))
        reachedPhase(instance, .publishing)
    }

    /// Targets that name the phase (`reaches: approved`) are met once the statement has reached it.
    mutating func reachedPhase(_ instance: String, _ phase: StatementPhase) {
        guard let run = state.run(instance) else { return }
        reachTargets(stepID: run.stepID, reached: phase.rawValue)
    }

    mutating func openFallback(instance: String) {
        guard let run = state.run(instance), case .statement(let spec, var s) = run.progress else { return }
        s.fallbackOpen = true
        setProgress(instance, .statement(spec, s))
        let roles = spec.approval.fallbackRoles.map(\.value)
        let who = roles.isEmpty ? "no fallback roles are named" : "fallback roles may now approve too: \(roles.joined(separator: ", "))"
        actions.append(
            .remind(step: instance, message: "the statement on '\(instance)' has waited \(spec.approval.timeout ?? .zero) for approval; \(who)"))
    }

    mutating func statementDeliveryFinished(
        _ spec: StatementSpec, _ s: StatementRun, instance: String, record: DeliveryRecord
    ) {
        if record.delivery.purpose == .inform {
            if record.status == .failed {
                actions.append(
                    .remind(
                        step: instance,
                        message: "the approved statement did not reach \(record.delivery.recipients.joined(separator: ", ")) on \(record.delivery.channel); inform them another way"))
            }
            return
        }
        if record.status == .failed {
            actions.append(
                .remind(
                    step: instance,
                    message: "publication on \(record.delivery.channel) failed; publish that channel (\(record.delivery.channel)) again"
                ))
            return
        }
        let all = spec.channels.map(\.id).allSatisfy { channel in
            guard let key = s.publications[channel],
                let status = state.deliveries.first(where: { $0.delivery.key == key })?.status
            else { return false }
            return status == .sent || status == .sandboxed
        }
        if all { exit(instance, outcome: Outcome.published) }
    }

    func same(_ a: String, _ b: String) -> Bool { a.lowercased() == b.lowercased() }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
