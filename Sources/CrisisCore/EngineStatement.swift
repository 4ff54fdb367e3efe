/// `holding_statement`: drafts bound to their hash, approvals with quorum, conflicts and fallback, publication
/// per channel and language through deliveries (each channel's variant text, else the default text). A draft
/// recorded before per-language publication (`StatementDraft.languages` empty) is published once per channel,
/// as it was then, so old trails replay to the same state. The engine never renders: the shell renders the templates
/// from the facts and sends `EngineEvent.drafted` with the texts and their hash.
///
/// Phases (`StatementPhase`):
///
///                  drafted                      approve (quorum)              publish
///     drafting -------------> awaiting_approval ----------------> approved -------------> publishing
///        ^                        |   ^    ^                        |                     |   |
///        |         reject         |   |    |  drafted (revision n+1; |                     |   | every channel in
///        +------------------------+   |    |  approvals start over)  |                     |   v each of its languages
///                                     |    |                         |                     |     sent or sandboxed
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

    /// Channels that may be published now: never asked for, or whose delivery failed. For a draft recorded before
    /// per-language publication, a channel is published once, in whichever language.
    func publishableChannels(_ spec: StatementSpec, _ s: StatementRun) -> [String] {
        spec.channels.filter { channel in !publishableLanguages(spec, s, channel: channel).isEmpty }.map(\.id)
    }

    /// The languages `channel` may be published in now: those it takes never asked for, or whose delivery
    /// failed. For a draft recorded before per-language publication: every language while the channel has no
    /// publication (or its last failed), else none.
    func publishableLanguages(_ spec: StatementSpec, _ s: StatementRun, channel: ChannelSpec) -> [String] {
        let open: (StatementPublication?) -> Bool = { p in
            guard let key = p?.key else { return true }
            return self.state.deliveries.first { $0.delivery.key == key }?.status == .failed
        }
        if s.current?.languages.isEmpty ?? true {
            return open(s.publication(channel: channel.id, language: nil)) ? playbook.languages : []
        }
        return spec.languages(of: channel, in: playbook).filter { open(s.publication(channel: channel.id, language: $0)) }
    }

    /// The draft's fields: a language-neutral fact once (`NAME`), a fact written per language once per language
    /// (`NAME.nb`, `NAME.en`), so the board and line mode ask for each.
    func draftFields(_ spec: StatementSpec, _ s: StatementRun) -> [FieldSpec] {
        let languages = spec.languages(in: playbook)
        var fields: [FieldSpec] = []
        for fact in spec.facts {
            let given = s.current?.facts ?? [:]
            if spec.isPerLanguage(fact, in: playbook) {
                for language in languages {
                    fields.append(FieldSpec(
                        name: "\(fact.name).\(language)", type: fact.type, required: fact.required,
                        prompt: fact.prompts[language] ?? "\(fact.prompt) (\(language))",
                        defaultValue: given["\(fact.name).\(language)"] ?? given[fact.name]))
                }
            } else {
                fields.append(FieldSpec(
                    name: fact.name, type: fact.type, required: fact.required, prompt: fact.prompt,
                    defaultValue: given[fact.name]))
            }
        }
        return fields
    }

    /// Checks a draft's facts against the statement: names (`NAME`, or `NAME.<lang>` for a fact written per
    /// language), languages, required facts in every language, and each value's type.
    ///
    /// A fact written per language that the playbook does not declare `language_neutral: false` also takes one
    /// value for every language (`NAME`), which a value of its own language overrides: drafts recorded before
    /// per-language facts carry only such values, and replay accepts them. A new draft never gets here with one:
    /// the shell refuses it first (`StatementSpec.singleValueProblem`).
    func checkDraftFacts(_ spec: StatementSpec, _ facts: [String: String]) throws(Rejection) {
        let languages = spec.languages(in: playbook)
        let accepted = draftFields(spec, StatementRun()).map(\.name)
        let acceptedText = accepted.isEmpty ? "it takes no facts" : "accepted fields: \(accepted.joined(separator: ", "))"
        for name in facts.keys.sorted() {
            if let fact = spec.facts.first(where: { $0.name == name }) {
                if spec.isPerLanguage(fact, in: playbook), fact.languageNeutral == false {
                    throw Rejection(
                        .unknownField,
                        "fact '\(name)' is written per language; give "
                            + languages.map { "'\(name).\($0)'" }.joined(separator: " and "),
                        hint: .fieldsAccepted(accepted))
                }
                continue
            }
            if let dot = name.lastIndex(of: "."),
                let fact = spec.facts.first(where: { $0.name == String(name[..<dot]) })
            {
                let language = String(name[name.index(after: dot)...])
                guard languages.contains(language) else {
                    throw Rejection(
                        .unknownField,
                        "the statement has no language '\(language)' (its languages: \(languages.joined(separator: ", "))); "
                            + "'\(name)' cannot be used", hint: .fieldsAccepted(accepted))
                }
                if !spec.isPerLanguage(fact, in: playbook) {
                    let why = languages.count == 1
                        ? "the statement has one language (\(language))" : "fact '\(fact.name)' is the same in every language"
                    throw Rejection(
                        .unknownField, "\(why); give it once as '\(fact.name)'", hint: .fieldsAccepted(accepted))
                }
                continue
            }
            throw Rejection(
                .unknownField, "action 'draft' has no field '\(name)'; \(acceptedText)", hint: .fieldsAccepted(accepted))
        }
        for fact in spec.facts {
            let perLanguage = spec.isPerLanguage(fact, in: playbook)
            for language in perLanguage ? languages : [""] {
                let name = perLanguage ? "\(fact.name).\(language)" : fact.name
                let value = facts[name].flatMap { $0.isEmpty ? nil : $0 } ?? (perLanguage ? facts[fact.name] : nil)
                guard let value, !value.isEmpty else {
                    if fact.required {
                        throw Rejection(
                            .missingField, "action 'draft' needs field '\(name)' (\(fact.prompts[language] ?? fact.prompt))",
                            hint: .fieldMissing(name: name, type: fact.type, allowed: []))
                    }
                    continue
                }
                if let problem = fact.type.problem(with: value, allowed: []) {
                    let given = facts[name] == nil ? fact.name : name
                    throw Rejection(
                        .invalidField, "field '\(given)' \(problem)", hint: .fieldInvalid(name: given, allowed: []))
                }
            }
        }
    }

    func statementSpecs(_ spec: StatementSpec, _ s: StatementRun, owners: [String]) -> [ActionSpec] {
        var specs: [ActionSpec] = []
        if s.phase != .publishing {
            // The facts only: the texts and their hash come with `drafted`, rendered by the shell.
            specs.append(ActionSpec(.draft, title: "Draft the statement", fields: draftFields(spec, s), roles: owners))
        }
        if s.phase == .awaitingApproval {
            let approvers = approverRoles(spec, s)
            specs.append(
                ActionSpec(
                    .approve, title: "Approve revision \(s.current?.revision ?? 0)" + checksNote(s),
                    fields: [FieldSpec(name: "comment", type: .text, required: false, prompt: "Comment")]
                        + overrideFields(s),
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
            let legacy = s.current?.languages.isEmpty ?? true
            var languages: [String] = []
            for channel in spec.channels {
                for l in publishableLanguages(spec, s, channel: channel) where !languages.contains(l) { languages.append(l) }
            }
            if legacy { languages = playbook.languages }
            specs.append(
                ActionSpec(
                    .publish, title: "Publish the approved statement",
                    fields: [
                        FieldSpec(
                            name: "channel", type: .enum, required: false, values: channels,
                            prompt: "Channel (all remaining channels when omitted)"),
                        legacy
                            ? FieldSpec(
                                name: "language", type: .enum, required: false, values: languages, prompt: "Language",
                                defaultValue: languages.first)
                            : FieldSpec(
                                name: "language", type: .enum, required: false, values: languages,
                                prompt: "Language (every remaining language of the channel when omitted)"),
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
        let languages = spec.languages(in: playbook)
        for fact in spec.facts {
            if let v = facts[fact.name] { kept[fact.name] = v }
            for language in languages { if let v = facts["\(fact.name).\(language)"] { kept["\(fact.name).\(language)"] = v } }
        }
        var texts: [String: String] = [:]
        for language in statement.languages.isEmpty ? playbook.languages : languages {
            texts[language] = statement.texts[language] ?? ""
        }
        var variants: [String: [String: String]] = [:]
        if !statement.languages.isEmpty {
            for channel in spec.channels where spec.variants[channel.id] != nil {
                for language in spec.languages(of: channel, in: playbook) {
                    variants[channel.id, default: [:]][language] = statement.variants[channel.id]?[language] ?? ""
                }
            }
        }
        let first = s.drafts.isEmpty
        var draft = StatementDraft(
            revision: s.drafts.count + 1, facts: kept, texts: texts, sha256: statement.sha256, drafter: actor.name,
            at: now, variants: variants, languages: statement.languages.isEmpty ? [] : languages)
        draft.checks = statement.checks
        s.drafts.append(draft)
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
            try publish(spec, s, instance: instance, fields: fields)
        case .handover:
            try handover(spec, s, instance: instance, fields: fields, actor: actor)
        case .choose, .done, .skip, .received, .draft, .submit, .acknowledge, .removed, .partiallyRemoved, .refused,
            .appeal, .editRequested, .ack, .notReached, .confirmDelivery, .retry, .close, .setDeadline, .receipt, .object, .consider,
            .pending, .restricted, .labelled, .urlResult, .counterNotice, .restored:
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
            let rules = definition.legacyRules
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
        let override = approved ? try checkOverride(draft, fields: fields) : nil
        if approved { try checkApprovalOrder(spec, s, actor: actor) }
        var record = ApprovalRecord(
            person: person, role: actor.role ?? "", revision: draft.revision, sha256: draft.sha256,
            approved: approved, reason: approved ? fields["comment"] : fields["reason"], at: now)
        record.override = override
        s.decisions.append(record)
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

    /// Publication per channel and language: `channel` and `language` narrow it (each omitted: every remaining
    /// one); each (channel, language) goes out with the channel's variant text if it has one, else the default.
    /// A draft recorded before per-language publication goes out once per channel, in `language` or the first.
    mutating func publish(
        _ spec: StatementSpec, _ s: StatementRun, instance: String, fields: [String: String]
    ) throws(Rejection) {
        var s = s
        guard let draft = s.current else { return }
        if spec.channels.isEmpty {
            exit(instance, outcome: Outcome.published)
            return
        }
        if draft.languages.isEmpty {
            let channels = fields["channel"].map { [$0] } ?? publishableChannels(spec, s)
            let language = fields["language"] ?? playbook.languages.first ?? ""
            for channel in channels {
                let key = deliver(
                    instance: instance, purpose: .publish, channel: channel, recipients: [channel],
                    text: draft.texts[language] ?? "")
                s.publications.append(StatementPublication(channel: channel, language: nil, key: key))
            }
        } else {
            let channels = spec.channels.filter { c in fields["channel"].map { $0 == c.id } ?? true }
            var pairs: [(String, String)] = []
            for channel in channels {
                let open = publishableLanguages(spec, s, channel: channel)
                if let language = fields["language"] {
                    if open.contains(language) {
                        pairs.append((channel.id, language))
                    } else if fields["channel"] != nil {
                        let takes = spec.languages(of: channel, in: playbook)
                        throw Rejection(
                            .actionUnavailable,
                            takes.contains(language)
                                ? "the \(language) text is already published on \(channel.id) (or on its way); "
                                    + "still to publish there: \(open.isEmpty ? "nothing" : open.joined(separator: ", "))"
                                : "\(channel.id) does not publish in \(language); it takes \(takes.joined(separator: ", "))")
                    }
                } else {
                    pairs += open.map { (channel.id, $0) }
                }
            }
            if pairs.isEmpty {
                throw Rejection(
                    .actionUnavailable,
                    "nothing is left to publish in \(fields["language"] ?? "any language")"
                        + (fields["channel"].map { " on \($0)" } ?? ""))
            }
            for (channel, language) in pairs {
                var delivery = Delivery(
                    key: "", step: instance, purpose: .publish, channel: channel, recipients: [channel],
                    text: draft.text(channel: channel, language: language))
                delivery.language = language
                let key = deliver(delivery)
                s.publications.append(StatementPublication(channel: channel, language: language, key: key))
            }
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
            let channel = record.delivery.channel
            let message = record.delivery.language.map {
                "publication on \(channel) in \($0) failed; publish it again (channel=\(channel) language=\($0))"
            } ?? "publication on \(channel) failed; publish that channel (\(channel)) again"
            actions.append(.remind(step: instance, message: message))
            return
        }
        // Every channel in every language it takes (a draft from before per-language publication: once each).
        let legacy = s.current?.languages.isEmpty ?? true
        let all = spec.channels.allSatisfy { channel in
            (legacy ? [nil] : spec.languages(of: channel, in: playbook).map { Optional($0) }).allSatisfy { language in
                guard let key = s.publication(channel: channel.id, language: language)?.key,
                    let status = state.deliveries.first(where: { $0.delivery.key == key })?.status
                else { return false }
                return status == .sent || status == .sandboxed
            }
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
