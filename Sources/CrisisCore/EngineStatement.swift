/// `holding_statement`: drafts bound to their hash, approvals with quorum, conflicts and fallback, publication
/// per channel through deliveries.
extension Machine {
    func statementRun(_ instance: String) -> StatementRun? {
        guard let run = state.run(instance), case .statement(let s) = run.detail else { return nil }
        return s
    }

    mutating func setStatement(_ instance: String, _ s: StatementRun) {
        guard let i = state.active.firstIndex(where: { $0.instance == instance }) else { return }
        state.active[i].detail = .statement(s)
    }

    func approverRoles(_ spec: StatementSpec, _ s: StatementRun) -> [String] {
        var roles = spec.approval.roles.map(\.value)
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
            var fields = spec.facts.map {
                FieldSpec(
                    name: $0.name, type: $0.type, required: $0.required, prompt: $0.prompt,
                    defaultValue: s.current?.facts[$0.name])
            }
            fields.append(
                FieldSpec(
                    name: Engine.statementHashField, type: .string, required: true,
                    prompt: "SHA-256 of the rendered texts (set by crisis)"))
            for language in playbook.languages {
                fields.append(
                    FieldSpec(
                        name: Engine.statementTextField(language), type: .text, required: true,
                        prompt: "Rendered statement in \(language) (set by crisis)"))
            }
            specs.append(ActionSpec(name: "draft", title: "Draft the statement", fields: fields, roles: owners))
        }
        if s.phase == .awaitingApproval {
            let approvers = approverRoles(spec, s)
            specs.append(
                ActionSpec(
                    name: "approve", title: "Approve revision \(s.current?.revision ?? 0)",
                    fields: [FieldSpec(name: "comment", type: .text, required: false, prompt: "Comment")],
                    roles: approvers))
            specs.append(
                ActionSpec(
                    name: "reject", title: "Reject revision \(s.current?.revision ?? 0)",
                    fields: [FieldSpec(name: "reason", type: .text, required: true, prompt: "What must change")],
                    roles: approvers))
        }
        let channels = publishableChannels(spec, s)
        if s.phase == .approved || (s.phase == .publishing && !channels.isEmpty) {
            let languages = playbook.languages
            specs.append(
                ActionSpec(
                    name: "publish", title: "Publish the approved statement",
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

    mutating func statementAct(
        _ spec: StatementSpec, instance: String, action: String, fields: [String: String], actor: Actor
    ) throws(Rejection) {
        guard var s = statementRun(instance) else { return }
        switch action {
        case "draft":
            var facts: [String: String] = [:]
            for fact in spec.facts { if let v = fields[fact.name] { facts[fact.name] = v } }
            var texts: [String: String] = [:]
            for language in playbook.languages { texts[language] = fields[Engine.statementTextField(language)] ?? "" }
            let first = s.drafts.isEmpty
            s.drafts.append(
                StatementDraft(
                    revision: s.drafts.count + 1, facts: facts, texts: texts, sha256: fields[Engine.statementHashField] ?? "",
                    drafter: actor.name, at: now))
            s.phase = .awaitingApproval
            setStatement(instance, s)
            if first, let timeout = spec.approval.timeout {
                arm(now + timeout, step: instance, .approvalFallback)
            }
        case "approve", "reject":
            guard let draft = s.current else { return }
            let person = actor.name
            if action == "approve", spec.approval.distinctFromDrafter, same(person, draft.drafter) {
                throw Rejection(
                    "own-draft",
                    "\(person) drafted revision \(draft.revision) and may not approve it; another approver must decide")
            }
            if let input = spec.approval.excludeInput?.value, let value = definition.inputs[input] {
                let excluded = value.split(whereSeparator: { $0 == "," || $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
                    .map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
                if excluded.contains(where: { same($0, person) }) {
                    throw Rejection(
                        "conflicted-approver",
                        "\(person) is listed in '\(input)' as conflicted and may not decide on this statement")
                }
            }
            if s.decisions.contains(where: { $0.revision == draft.revision && same($0.person, person) }) {
                throw Rejection(
                    "already-decided", "\(person) has already decided on revision \(draft.revision); one decision per person")
            }
            let approved = action == "approve"
            s.decisions.append(
                ApprovalRecord(
                    person: person, role: actor.role ?? "", revision: draft.revision, sha256: draft.sha256,
                    approved: approved, reason: approved ? fields["comment"] : fields["reason"], at: now))
            if approved {
                var approvers: [String] = []
                for d in s.decisions where d.revision == draft.revision && d.approved {
                    if !approvers.contains(where: { same($0, d.person) }) { approvers.append(d.person) }
                }
                if approvers.count >= max(1, spec.approval.quorum) { s.phase = .approved }
                setStatement(instance, s)
            } else {
                s.phase = .drafting
                setStatement(instance, s)
                let rejected = Set(s.decisions.filter { !$0.approved }.map(\.revision)).count
                if rejected >= spec.maxRevisions {
                    exit(instance, outcome: "rejected")
                }
            }
        case "publish":
            guard let draft = s.current else { return }
            let available = publishableChannels(spec, s)
            let channels = fields["channel"].map { [$0] } ?? available
            let language = fields["language"] ?? playbook.languages.first ?? ""
            if spec.channels.isEmpty {
                exit(instance, outcome: "published")
                return
            }
            for channel in channels {
                let key = deliver(
                    instance: instance, purpose: .publish, channel: channel, recipients: [channel],
                    text: draft.texts[language] ?? "")
                s.publications[channel] = key
            }
            s.phase = .publishing
            setStatement(instance, s)
        default:
            return
        }
    }

    mutating func openFallback(instance: String) {
        guard var s = statementRun(instance), let run = state.run(instance), let step = playbook.step(run.stepID),
            case .holdingStatement(let spec) = step.kind
        else { return }
        s.fallbackOpen = true
        setStatement(instance, s)
        let roles = spec.approval.fallbackRoles.map(\.value)
        let who = roles.isEmpty ? "no fallback roles are named" : "fallback roles may now approve too: \(roles.joined(separator: ", "))"
        actions.append(
            .remind(step: instance, message: "the statement on '\(instance)' has waited \(spec.approval.timeout ?? .zero) for approval; \(who)"))
    }

    mutating func statementDeliveryFinished(instance: String, record: DeliveryRecord) {
        guard let s = statementRun(instance), let run = state.run(instance), let step = playbook.step(run.stepID),
            case .holdingStatement(let spec) = step.kind
        else { return }
        if record.status == .failed {
            actions.append(
                .remind(
                    step: instance,
                    message: "publication on \(record.delivery.channel) failed; publish that channel again with --set channel=\(record.delivery.channel)"
                ))
            return
        }
        let all = spec.channels.map(\.id).allSatisfy { channel in
            guard let key = s.publications[channel],
                let status = state.deliveries.first(where: { $0.delivery.key == key })?.status
            else { return false }
            return status == .sent || status == .sandboxed
        }
        if all { exit(instance, outcome: "published") }
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
