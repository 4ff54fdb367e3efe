/// Approval rules of a holding statement (`approval:` in the playbook):
///
///     quorum (distinct approvers over roles, all_of and the fallback roles once the window passed)
///       + all_of (one distinct approver acting as each role)
///       ──▶ final (the final authority signs off last; refused before the rest is met)
///       ──▶ approved; the roles under `inform` get the approved text (deliveries, purpose `inform`)
///
/// The approval window (`timeout`) counts from the current revision: each new revision replaces the window's
/// timer (incidents opened before crisis/0.4 keep the window armed once, at the first draft). The spokesperson
/// (`spokesperson: ROLE`) is the role's first holder until a `handover` names someone else.
extension Machine {
    /// Where the current revision stands against the approval rule: what is met, and what is still missing.
    func approvalProgress(_ spec: StatementSpec, _ s: StatementRun) -> ApprovalProgress {
        Engine.approvalProgress(spec.approval, decisions: s.decisions, revision: s.current?.revision ?? 0)
    }

    /// The refusal of an approval that the rule does not allow now: the final authority before the rest is met.
    func checkApprovalOrder(_ spec: StatementSpec, _ s: StatementRun, actor: Actor) throws(Rejection) {
        guard let final = spec.approval.finalRole?.value, actor.role == final else { return }
        let progress = approvalProgress(spec, s)
        guard progress.restMet else {
            throw Rejection(
                .finalTooEarly,
                "'\(final)' signs off last: revision \(s.current?.revision ?? 0) still needs \(progress.restMissing.joined(separator: ", "))")
        }
    }

    /// Arms the approval window for the revision just drafted (the first one only in incidents opened before
    /// crisis/0.4); a new revision replaces the window of the previous one and closes the fallback again.
    mutating func armApprovalWindow(_ spec: StatementSpec, instance: String, first: Bool) {
        guard let timeout = spec.approval.timeout,
            let run = state.run(instance), case .statement(let spec, var s) = run.progress
        else { return }
        guard first || !definition.legacyRules else { return }
        if let old = s.fallbackTimer { state.timers.removeAll { $0.id == old } }
        if !first { s.fallbackOpen = false }
        s.fallbackTimer = arm(now + timeout, step: instance, .approvalFallback)
        setProgress(instance, .statement(spec, s))
    }

    /// The approved text to the holders of the `inform` roles, one delivery each on their preferred channel in
    /// their language; a reminder for a role nobody holds (or without a directory).
    mutating func informApproved(_ spec: StatementSpec, _ s: inout StatementRun, instance: String) {
        guard !spec.approval.inform.isEmpty, let draft = s.current else { return }
        var sent: Set<String> = []
        for role in spec.approval.inform.map(\.value) {
            let holders = definition.contacts?.holders(of: role) ?? []
            let reachable = holders.filter { !$0.channels.isEmpty }
            if reachable.isEmpty {
                actions.append(
                    .remind(
                        step: instance,
                        message: "revision \(draft.revision) of '\(instance)' is approved; inform role '\(role)' of it (nobody holding it can be reached through the directory)"))
                continue
            }
            for person in reachable where !sent.contains(person.id) {
                sent.insert(person.id)
                let channel = person.channels[0]
                let language = person.language.flatMap { draft.texts[$0] != nil ? $0 : nil }
                    ?? playbook.languages.first ?? ""
                s.informed.append(
                    deliver(
                        Delivery(
                            key: "", step: instance, purpose: .inform, channel: channel.type, recipients: [person.id],
                            text: draft.texts[language] ?? "", address: channel.address, language: language)))
            }
        }
    }

    /// The spokesperson now: the last handover's, else the spokesperson role's first holder in the directory.
    func spokesperson(_ spec: StatementSpec, _ s: StatementRun) -> String? {
        Engine.spokesperson(spec, s, contacts: definition.contacts)
    }

    /// `handover`: the spokesperson role passes to `to` (a person of the directory when the incident has one).
    mutating func handover(
        _ spec: StatementSpec, _ s: StatementRun, instance: String, fields: [String: String], actor: Actor
    ) throws(Rejection) {
        var s = s
        let given = (fields["to"] ?? "").trimmingSpaces()
        var to = given
        if let contacts = definition.contacts {
            guard let person = contacts.person(named: given) ?? contacts.people.first(where: { same($0.id, given) })
            else {
                let near = contacts.suggestions(for: given)
                throw Rejection(
                    .invalidField,
                    "field 'to': '\(given)' is not in the incident's contacts directory"
                        + (near.isEmpty ? "" : "; did you mean \(near.map { "'\($0)'" }.joined(separator: " or "))?"))
            }
            to = person.id
        }
        let from = spokesperson(spec, s)
        if let from, same(from, to) {
            throw Rejection(.invalidField, "\(to) is already the spokesperson of '\(instance)'")
        }
        s.handovers.append(SpokespersonHandover(from: from, to: to, by: actor.name, reason: fields["reason"], at: now))
        setProgress(instance, .statement(spec, s))
        actions.append(
            .remind(step: instance, message: "spokesperson of '\(instance)': \(from ?? "nobody") handed over to \(to)"))
    }
}

/// How far a statement revision's approvals are: the rule's parts and what is still missing.
public struct ApprovalProgress: Sendable, Hashable {
    /// Distinct people who approved the revision (final sign-off included), in order.
    public var approvers: [String]
    /// Whether the quorum and every `all_of` role are met (what the final authority waits for).
    public var restMet: Bool
    /// Whether the final authority signed off (true when the rule names none).
    public var finalMet: Bool
    /// What is still needed, for people: `2 more approvals`, `an approval as 'legal'`, `the final sign-off of 'ceo'`.
    public var missing: [String]
    /// What the final authority waits for: `missing` without the final sign-off.
    public var restMissing: [String] { finalMet || missing.isEmpty ? missing : Array(missing.dropLast()) }
    /// Whether the revision is approved.
    public var complete: Bool { restMet && finalMet }
}

extension Engine {
    /// Where `revision` stands against `rule`, from the decisions recorded. The quorum counts distinct approvers
    /// other than the final sign-off (0 when the rule names no `roles`); each `all_of` role needs an approver
    /// acting as it; the final authority's approval counts only as the final sign-off.
    public static func approvalProgress(_ rule: ApprovalSpec, decisions: [ApprovalRecord], revision: Int)
        -> ApprovalProgress
    {
        let final = rule.finalRole?.value
        var approvers: [String] = []
        var rest: [ApprovalRecord] = []
        var finalMet = final == nil
        for d in decisions where d.revision == revision && d.approved {
            let person = d.person.lowercased()
            guard !approvers.contains(where: { $0.lowercased() == person }) else { continue }
            approvers.append(d.person)
            if let final, d.role == final { finalMet = true } else { rest.append(d) }
        }
        var missing: [String] = []
        let quorum = rule.roles.isEmpty ? 0 : max(1, rule.quorum)
        if rest.count < quorum {
            let more = quorum - rest.count
            missing.append("\(more) more approval\(more == 1 ? "" : "s")")
        }
        for role in rule.allOf.map(\.value) where !rest.contains(where: { $0.role == role }) {
            missing.append("an approval as '\(role)'")
        }
        let restMet = missing.isEmpty
        if let final, !finalMet { missing.append("the final sign-off of '\(final)'") }
        return ApprovalProgress(approvers: approvers, restMet: restMet, finalMet: finalMet, missing: missing)
    }

    /// The statement's spokesperson now: the last handover's, else the spokesperson role's first holder.
    public static func spokesperson(_ spec: StatementSpec, _ s: StatementRun, contacts: ContactsDirectory?) -> String? {
        if let last = s.handovers.last { return last.to }
        guard let role = spec.spokesperson?.value else { return nil }
        return contacts?.holders(of: role).first?.id
    }
}
