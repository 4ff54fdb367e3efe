/// `takedown`: a removal request under a legal basis, its notice elements, its submission and the platform's
/// answer, with follow-up reminders while the platform is silent. Status diagram: `TakedownRun` in State.swift.
///
///     drafting --draft--> drafted --submit--> submitted --acknowledge--> acknowledged --pending--> pending
///                            ^                    |                          |                      |
///                            |                    +--removed, partially_removed, restricted, labelled, refused,
///                            |                    |  appeal, or url_result for every URL--> (outcome)
///                            |                    +--give_up_after--> no_response (outcome; only while
///                            |                    |  submitted: once acknowledged the give-up time reminds)
///                            |                    +--counter_notice (DMCA)--> counter_noticed --restored,
///                            |                                                 removed--> (outcome)
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
        case .pending: .pending
        case .restricted: .restricted
        case .labelled: .labelled
        case .counterNotice: .counterNoticed
        case .restored: .restored
        case .choose, .done, .skip, .received, .approve, .reject, .publish, .ack, .notReached, .confirmDelivery, .retry, .close,
            .setDeadline, .receipt, .object, .consider, .urlResult, .handover:
            nil
        }
    }
}

extension TakedownStatus {
    /// The outcome whose route a later outcome takes when the playbook does not route it (so playbooks written
    /// before it existed stay valid): `restricted` → `partially_removed`, `labelled` and `restored` → `refused`
    /// (the content stays up). Nil for the original outcomes.
    public var routeFallback: TakedownStatus? {
        switch self {
        case .restricted: .partiallyRemoved
        case .labelled, .restored: .refused
        default: nil
        }
    }

    /// Waiting on the platform: submitted, and not yet decided.
    var awaitsPlatform: Bool { self == .submitted || self == .acknowledged || self == .pending }

    /// The outcome that per-URL results add up to: one result for every URL gives it; removed for some but not
    /// all gives `partially_removed`; otherwise the mildest measure taken (`restricted`, then `labelled`), else
    /// `refused`.
    static func derived(from results: [TakedownStatus]) -> TakedownStatus {
        guard let first = results.first else { return .refused }
        if results.allSatisfy({ $0 == first }) { return first }
        if results.contains(.removed) { return .partiallyRemoved }
        if results.contains(.restricted) { return .restricted }
        if results.contains(.labelled) { return .labelled }
        return .refused
    }
}

/// The DMCA restore window: the platform may put the material back not less than 10 and not more than 14
/// business days after it received the counter-notice (17 U.S.C. 512(g)(2)(C)), counted in US federal business
/// days in US Eastern time.
public enum DMCARestoreWindow {
    public static let zone = "America/New_York"
    public static let earliest = 10
    public static let latest = 14

    /// The window for a counter-notice received at `received`: from the start of the 10th business day after
    /// the day of receipt to the end of the 14th.
    public static func window(received: Instant) -> CounterNotice {
        guard let tz = ZonedTime.zone(zone) else {
            return CounterNotice(received: received, restoreFrom: received + .days(Int64(earliest)), restoreBy: received + .days(Int64(latest)))
        }
        let day = ZonedTime.local(received, in: tz).date
        let from = BusinessCalendar.usFederal.businessDay(earliest, after: day)
        let by = BusinessCalendar.usFederal.businessDay(latest, after: day).adding(days: 1)
        return CounterNotice(
            received: received, restoreFrom: ZonedTime.instant(from, seconds: 0, in: tz),
            restoreBy: ZonedTime.instant(by, seconds: 0, in: tz))
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

    /// Required elements that are empty (a statement must not be `false`; an `abuse_type` one of its values). An
    /// `authorisation` the playbook points at a record (`authorisationRecord`) is not typed in: it is checked
    /// apart (`authorisationProblem`).
    static func missingElements(_ basis: LegalBasis, _ notice: [String: String], recordAuthorised: Bool = false) -> [String] {
        basis.requiredElements.filter { element in
            if element == .authorisation && recordAuthorised { return false }
            return !element.isFilled(by: notice[element.rawValue])
        }.map(\.rawValue)
    }

    /// Why the request may not be submitted yet for want of its authorisation record, or nil: the step the
    /// playbook names must have finished (done, or decided), not skipped or timed out.
    func authorisationProblem(_ spec: TakedownSpec) -> String? {
        guard let record = spec.authorisationRecord?.value else { return nil }
        if authorisationRecord(spec) != nil { return nil }
        return "the authorisation comes from step '\(record)', which has not been done yet; record it first (crisis act … \(record) …)"
    }

    /// The finished instance of the step that authorises the request, when there is one.
    func authorisationRecord(_ spec: TakedownSpec) -> StepRecord? { state.authorisationRecord(for: spec) }

    func takedownSpecs(_ spec: TakedownSpec, _ t: TakedownRun, owners: [String]) -> [ActionSpec] {
        let ticket = FieldSpec(name: "ticket", type: .string, required: false, prompt: "Platform ticket or case id")
        switch t.status {
        case .drafting, .drafted, .editRequested:
            let fields = spec.basis.requiredElements.compactMap { element -> FieldSpec? in
                // An authorisation that comes from a record is not typed in.
                if element == .authorisation && spec.authorisationRecord != nil { return nil }
                let current = t.notice[element.rawValue].map { element.noticeText($0, basis: spec.basis) }
                let allowed = element.allowedValues
                return FieldSpec(
                    name: element.rawValue, type: allowed.isEmpty ? element.valueType : .enum, required: false,
                    values: allowed, prompt: element.rawValue.replacingUnderscores(),
                    defaultValue: current ?? element.statementText(basis: spec.basis))
            }
            return [
                ActionSpec(.draft, title: "Fill in the notice (\(spec.basis.rawValue))", fields: fields, roles: owners),
                ActionSpec(
                    .submit, title: "Record that the request was submitted to \(t.platform)", fields: [ticket],
                    roles: spec.submitterRoles.map(\.value)),
            ]
        case .submitted, .acknowledged, .pending:
            var specs: [ActionSpec] = []
            if t.status == .submitted {
                specs.append(
                    ActionSpec(.acknowledge, title: "The platform acknowledged the request", fields: [ticket], roles: owners))
            }
            let note = FieldSpec(name: "note", type: .text, required: false, prompt: "Details")
            let reason = FieldSpec(name: "reason", type: .text, required: true, prompt: "Reason")
            specs.append(ActionSpec(.removed, title: "The content was removed", fields: [note], roles: owners))
            specs.append(ActionSpec(.partiallyRemoved, title: "Some of the content was removed", fields: [note], roles: owners))
            specs.append(ActionSpec(
                .restricted, title: "The content was withheld in some countries",
                fields: [FieldSpec(name: "countries", type: .string, required: false, prompt: "Where it is withheld"), note],
                roles: owners))
            specs.append(ActionSpec(.labelled, title: "The content was left up with a label", fields: [note], roles: owners))
            specs.append(ActionSpec(.refused, title: "The platform refused", fields: [reason], roles: owners))
            specs.append(ActionSpec(.appeal, title: "We appealed the decision", fields: [reason], roles: owners))
            let asks = FieldSpec(name: "reason", type: .text, required: true, prompt: "What the platform asks to change")
            specs.append(ActionSpec(.editRequested, title: "The platform asks for changes to the notice", fields: [asks, ticket],
                                    roles: owners))
            specs.append(ActionSpec(
                .pending, title: "The platform will decide by a date it gave",
                fields: [FieldSpec(name: "until", type: .time, required: true, prompt: "The date the platform gave"), ticket],
                roles: owners))
            if !t.urls.isEmpty {
                specs.append(ActionSpec(
                    .urlResult, title: "The platform's answer for one URL",
                    fields: [
                        FieldSpec(name: "url", type: .enum, required: true, values: t.urls, prompt: "URL"),
                        FieldSpec(name: "result", type: .enum, required: true,
                                  values: TakedownStatus.urlResults.map(\.rawValue), prompt: "Result"),
                        note,
                    ], roles: owners))
            }
            if spec.basis == .dmca512c3 {
                specs.append(ActionSpec(
                    .counterNotice, title: "The uploader sent a counter-notice (the restore window starts)",
                    fields: [FieldSpec(name: "received", type: .time, required: false,
                                       prompt: "When the platform received it (default: now)"), note],
                    roles: owners))
            }
            return specs
        case .counterNoticed:
            let note = FieldSpec(name: "note", type: .text, required: false, prompt: "Details")
            return [
                ActionSpec(.restored, title: "The platform put the material back", fields: [note], roles: owners),
                ActionSpec(.removed, title: "The material stays down (a court action was filed)", fields: [note], roles: owners),
            ]
        case .removed, .partiallyRemoved, .refused, .noResponse, .appealed, .restricted, .labelled, .restored:
            return []
        }
    }

    mutating func takedownAct(
        _ spec: TakedownSpec, _ t: TakedownRun, instance: String, action: StepAction, fields: [String: String],
        actor: Actor
    ) throws(Rejection) {
        var t = t
        var stepID = instance
        if let run = state.run(instance) { stepID = run.stepID }
        if action == .urlResult {
            urlResult(spec, t, instance: instance, stepID: stepID, fields: fields, actor: actor)
            return
        }
        guard let to = action.takedownStatus else { return }
        let from = t.status
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
            if let problem = authorisationProblem(spec) {
                throw Rejection(.authorisationMissing, "a \(spec.basis.rawValue) notice cannot be submitted yet: \(problem)")
            }
            let missing = Machine.missingElements(spec.basis, t.notice, recordAuthorised: spec.authorisationRecord != nil)
            guard missing.isEmpty else {
                throw Rejection(
                    .missingElements,
                    "a \(spec.basis.rawValue) notice cannot be submitted without: \(missing.joined(separator: ", ")); fill them in with the draft action (statements must not be false)",
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
        case .pending:
            // The platform answered with a date: chase it then, not before; it did respond, so no giving up.
            if let ticket = fields["ticket"], !ticket.isEmpty { t.ticket = ticket }
            let until = fields["until"].flatMap(ISO8601.parse) ?? now
            t.pendingUntil = until
            transition(note: "the platform decides by \(local(until))")
            setProgress(instance, .takedown(spec, t))
            state.timers.removeAll { $0.step == instance && ($0.purpose == .followUp || $0.purpose == .noResponse) }
            arm(max(until, now), step: instance, .followUp)
        case .counterNoticed:
            let received = fields["received"].flatMap(ISO8601.parse) ?? now
            let window = DMCARestoreWindow.window(received: received)
            t.counterNotice = window
            transition(note: fields["note"] ?? "restore window \(local(window.restoreFrom)) to \(local(window.restoreBy))")
            setProgress(instance, .takedown(spec, t))
            state.timers.removeAll { $0.step == instance && ($0.purpose == .followUp || $0.purpose == .noResponse) }
            arm(max(window.restoreFrom, now), step: instance, .followUp)
        case .editRequested:
            // Back with the sender: no reminders to chase the platform, no giving up, until it is submitted again.
            if let ticket = fields["ticket"], !ticket.isEmpty { t.ticket = ticket }
            transition(note: fields["reason"])
            setProgress(instance, .takedown(spec, t))
            state.timers.removeAll { $0.step == instance && ($0.purpose == .followUp || $0.purpose == .noResponse) }
        case .restricted:
            let note = [fields["countries"].map { "withheld in \($0)" }, fields["note"]].compactMap { $0 }
            transition(note: note.isEmpty ? nil : note.joined(separator: "; "))
            setProgress(instance, .takedown(spec, t))
            exit(instance, outcome: to.rawValue)
        case .removed, .partiallyRemoved, .refused, .appealed, .noResponse, .labelled, .restored:
            transition(note: fields["reason"] ?? fields["note"])
            setProgress(instance, .takedown(spec, t))
            exit(instance, outcome: to.rawValue)
        case .drafting:
            return
        }
    }

    /// Records the platform's answer for one URL; once every URL has one, the request ends with the outcome they
    /// add up to (`TakedownStatus.derived`).
    mutating func urlResult(
        _ spec: TakedownSpec, _ t: TakedownRun, instance: String, stepID: String, fields: [String: String], actor: Actor
    ) {
        var t = t
        guard let url = fields["url"], let result = fields["result"].flatMap(TakedownStatus.init(rawValue:)) else { return }
        t.urlResults.append(TakedownURLResult(url: url, result: result, note: fields["note"], by: actor.name, at: now))
        let latest = t.resultByURL.compactMap(\.result?.result)
        guard latest.count == t.urls.count else {
            setProgress(instance, .takedown(spec, t))
            return
        }
        let outcome = TakedownStatus.derived(from: latest)
        let removed = latest.filter { $0 == .removed }.count
        t.history.append(TakedownTransition(
            from: t.status, to: outcome, by: actor.name, at: now,
            note: "per-URL results: \(removed) of \(latest.count) removed"))
        t.status = outcome
        setProgress(instance, .takedown(spec, t))
        reachTargets(stepID: stepID, reached: outcome.rawValue)
        exit(instance, outcome: outcome.rawValue)
    }

    func element(urls notice: [String: String]) -> [String] {
        ValueType.splitList(notice[NoticeElement.urls.rawValue] ?? "")
    }

    mutating func followUp(instance: String) {
        // Read what the reminder needs into plain values first: binding the spec and the run in one pattern here
        // crashed the optimizer of Swift 6.3.1 (CopyPropagation, "Found ownership error") in release builds.
        guard let (every, platform, status, submittedAt) = takedownFollowUpFacts(instance) else { return }
        let since = submittedAt.map { " since \(local($0))" } ?? ""
        var message = "takedown '\(instance)' on \(platform) is \(status.rawValue)\(since); follow up with the platform"
        if let (pendingUntil, counter) = takedownDates(instance) {
            if status == .pending, let until = pendingUntil {
                message = "takedown '\(instance)' on \(platform): the platform said it would decide by \(local(until)); follow up with the platform"
            } else if status == .counterNoticed, let c = counter {
                message = "takedown '\(instance)' on \(platform): after the counter-notice the platform may restore the material from \(local(c.restoreFrom)) (by \(local(c.restoreBy))) unless told of a court action; record restored or removed"
            }
        }
        actions.append(.remind(step: instance, message: message))
        if let every { arm(now + every, step: instance, .followUp) }
    }

    func takedownDates(_ instance: String) -> (Instant?, CounterNotice?)? {
        guard let run = state.run(instance) else { return nil }
        switch run.progress {
        case .takedown(_, let t): return (t.pendingUntil, t.counterNotice)
        case .choice, .task, .statement, .escalation, .notify, .clock, .wait, .parallel, .foreach, .end, .submission:
            return nil
        }
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

    /// The give-up time. A request still only submitted ends `no_response`. One the platform has answered
    /// (acknowledged, pending, counter-noticed) is not silent: the owner is reminded that no decision has come,
    /// and the request keeps waiting for it (the follow-up reminders go on).
    mutating func takedownNoResponse(instance: String) {
        guard let run = state.run(instance), case .takedown(let spec, let current) = run.progress else { return }
        // Engines before crisis/0.4 ended every request here; their trails replay that way.
        if !definition.legacyRules, current.status != .submitted && current.status.awaitsPlatform
            || current.status == .counterNoticed {
            remindUndecided(instance: instance, current)
            return
        }
        // A fresh copy, not a `var` bound by the pattern: the release build's ownership verifier (Swift 6.3.1)
        // crashed on the pattern-bound variable mutated after the early return above.
        var t = current
        t.history.append(TakedownTransition(from: t.status, to: .noResponse, by: Actor.system.name, at: now, note: nil))
        t.status = .noResponse
        setProgress(instance, .takedown(spec, t))
        reachTargets(stepID: run.stepID, reached: TakedownStatus.noResponse.rawValue)
        exit(instance, outcome: TakedownStatus.noResponse.rawValue)
    }

    /// A request the platform has acknowledged but not decided by the give-up time: a reminder, not an end.
    private mutating func remindUndecided(instance: String, _ t: TakedownRun) {
        let since = t.submittedAt.map { " (submitted \(local($0)))" } ?? ""
        actions.append(.remind(
            step: instance,
            message: "takedown '\(instance)' on \(t.platform) is \(t.status.rawValue) but the platform has not decided\(since); chase it or record its answer"))
    }
}

extension String {
    func replacingUnderscores() -> String { String(map { $0 == "_" ? " " : $0 }) }
}
