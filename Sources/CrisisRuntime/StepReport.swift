import CrisisAudit
import CrisisCore

/// `crisis show ID STEP`: one step in full, for the person who must act on it: a statement's text per language
/// with its length on every channel and its approvals, a takedown's assembled notice, a choice's options, an
/// escalation's pages and acknowledgements. `--json` prints it as is; the live board reads the same report.
///
/// Times are RFC 3339 in the playbook's zone (`deadline`, `at`), with a human form beside the ones people wait
/// for (`due`: `2026-03-02 09:15 +01:00`, `due_in`: `in 4m`). Field names are stable; new fields may be added.
public struct StepReport: Codable, Sendable {
    /// A holding statement: the current revision as it will be published, its lengths, its approvals.
    public struct Statement: Codable, Sendable {
        /// One language's text, exactly as it will be published, with its length on every channel of the step.
        public struct Text: Codable, Sendable {
            public var language: String
            /// For a channel's variant, that channel (nil for the default text).
            public var channel: String?
            public var text: String
            public var lengths: [ChannelMeasure]
        }

        /// An approval or a rejection of some revision.
        public struct Decision: Codable, Sendable {
            public var person: String
            public var role: String
            public var revision: Int
            public var approved: Bool
            /// The approver's comment, or the reason for a rejection.
            public var reason: String?
            public var at: String
            /// An approval of a revision failing checks: the approver's reason for accepting it anyway.
            public var override: String? = nil
            /// SHA-256 of the revision's texts the decision binds to.
            public var sha256: String? = nil
        }

        /// What one revision changed in one language against the revision before it.
        public struct Change: Codable, Sendable {
            public var revision: Int
            public var language: String
            /// A word diff: `[-removed-]{+added+}` inline, a few words of context around each change (`TextDiff.inline`).
            public var diff: String
        }

        /// A handover of the spokesperson role.
        public struct Handover: Codable, Sendable {
            public var from: String?
            public var to: String
            public var by: String
            public var reason: String?
            public var at: String
        }

        /// A channel's publication, once asked for.
        public struct Publication: Codable, Sendable {
            public var channel: String
            /// The language published (nil for a draft recorded before per-language publication).
            public var language: String?
            public var key: String
            /// The delivery's status (`manual`, `sent`, `failed`, ...).
            public var status: String
        }

        /// `drafting`, `awaiting_approval`, `approved`, `publishing`.
        public var phase: String
        /// The current revision (0 before the first draft).
        public var revision: Int
        public var sha256: String?
        public var drafter: String?
        /// When the current revision was drafted.
        public var drafted: String?
        /// The facts the current revision was drafted from.
        public var facts: [String: String]
        /// The current revision's default texts in the statement's language order, each measured on the channels
        /// that publish it.
        public var texts: [Text]
        /// The current revision's channel variants (`channel` set), by channel in the step's order, then language;
        /// nil without variants.
        public var variants: [Text]?
        public var channels: [String]
        /// How many distinct approvers a revision needs.
        public var quorum: Int
        /// Distinct people who approved the current revision.
        public var approved_by: [String]
        /// For people: `1 of 2 approvals`.
        public var progress: String
        /// How many more approvals the current revision needs (0 once approved).
        public var approvals_needed: Int
        /// Every decision, on every revision, in order.
        public var decisions: [Decision]
        /// The roles that may approve now (the fallback roles too once the approval window has passed).
        public var approver_roles: [String]
        public var fallback_roles: [String]
        public var fallback_open: Bool
        /// People of the contacts directory who may still approve the current revision: holding an approver role
        /// (or standing in for someone who does), not its drafter when the playbook says so, not conflicted, not
        /// yet decided. Nil without a directory (then anyone acting in an approver role may).
        public var may_approve: [String]?
        /// Rejections left before the step gives up with outcome `rejected`.
        public var revisions_left: Int
        public var publications: [Publication]
        /// Each text's measure on each channel, as recorded when the current revision was drafted (empty for
        /// drafts recorded before crisis/0.4: then `texts[].lengths` only).
        public var measures: [DraftMeasure] = []
        /// The declared limits and content checks the current revision fails, for people (approval needs an
        /// override reason while it is not empty).
        public var failed_checks: [String] = []
        /// The approval rule in words (`quorum 1 of comms; all of head_of_comms, legal; final sign-off by ceo`).
        public var approval_rule: String? = nil
        /// What the current revision still needs (`an approval as 'legal'`, `the final sign-off of 'ceo'`); empty
        /// once approved; nil before the first draft.
        public var approval_missing: [String]? = nil
        /// Who speaks for the statement now (nil when the playbook names no spokesperson role).
        public var spokesperson: String? = nil
        /// Every handover of the spokesperson role, oldest first.
        public var handovers: [Handover]? = nil
        /// What each revision after the first changed, per language with a change, oldest first.
        public var changes: [Change]? = nil
        /// Deliveries of the approved text to the roles the approval rule informs.
        public var informed: [Publication]? = nil
    }

    /// A takedown request: its notice as it will be sent, element by element.
    public struct Takedown: Codable, Sendable {
        /// One notice element the legal basis requires.
        public struct Element: Codable, Sendable {
            public var name: String
            /// For people: `Notifier name`.
            public var title: String
            public var type: String
            /// The value so far (prefilled, or drafted), nil when empty.
            public var value: String?
            /// Whether it must still be filled in before `submit` (a boolean element must be `true`).
            public var missing: Bool
        }

        /// A change of the request's status.
        public struct Transition: Codable, Sendable {
            public var from: String
            public var to: String
            public var by: String
            public var at: String
            public var note: String?
        }

        public var status: String
        public var platform: String
        /// Where to send the notice for this platform (a reporting form's URL, an address), when the playbook
        /// says (`reporting_route`).
        public var reporting_route: String?
        /// The legal basis (`privacy`, `dsa_art16`, ...).
        public var basis: String
        /// The basis for people (`Notice of illegal content (EU Digital Services Act, Art. 16)`).
        public var basis_title: String
        public var urls: [String]
        public var elements: [Element]
        /// Names of the elements still missing.
        public var missing: [String]
        /// The assembled notice, ready to paste into the platform's form or an e-mail; missing elements are
        /// marked `[MISSING: name]`.
        public var notice: String
        /// Roles whose holders may submit it.
        public var submitters: [String]
        public var ticket: String?
        public var submitted: String?
        public var submitted_by: String?
        public var follow_up: String?
        public var give_up_after: String?
        public var history: [Transition]
        /// `playbook` when the route is the playbook's `reporting_route`, `catalog` when it comes from the
        /// platform catalog (docs/platforms.md), nil when there is no route.
        public var route_source: String?
        /// The platform as the catalog knows it (`X (Twitter)`), nil for a platform it does not know.
        public var platform_name: String?
        /// Who the catalog says may submit to this platform, and how long it typically takes to answer.
        public var who_may_submit: String?
        public var typical_response: String?
        /// SHA-256 of `notice` (UTF-8), the hash `submit` records.
        public var notice_sha256: String
        /// The platform's answer per URL so far (`url_result`): URL and result (nil: none yet).
        public var url_results: [URLResult]
        /// When the platform said it will decide (`pending`).
        public var pending_until: String?
        /// DMCA: the counter-notice's receipt and the restore window.
        public var counter_notice: CounterNoticeWindow?

        public struct URLResult: Codable, Sendable {
            public var url: String
            public var result: String?
            public var note: String?
        }

        public struct CounterNoticeWindow: Codable, Sendable {
            public var received: String
            public var restore_from: String
            public var restore_by: String
        }
    }

    /// A choice: its options with their labels, and what happens when nobody chooses.
    public struct Choice: Codable, Sendable {
        public struct Option: Codable, Sendable {
            public var id: String
            public var label: String
            /// The step the option leads to (nil: the route ends).
            public var next: String?
            /// Whether it is the default (taken on timeout unless the step routes `timeout` elsewhere).
            public var `default`: Bool
            /// For a choice the inputs decide: the guard (`severity in sev1`).
            public var when: String?
        }

        public var options: [Option]
        public var default_option: String?
        /// Decided by the inputs (guards), not by a person.
        public var automatic: Bool
        /// What happens on timeout, for people: `normal → page_comms`.
        public var on_timeout: String?
        /// The option taken, once the step finished.
        public var chosen: String?
    }

    /// An escalation: its levels, who was paged on which channel, who acknowledged, and what comes next.
    public struct Escalation: Codable, Sendable {
        public struct Level: Codable, Sendable {
            /// 1-based.
            public var number: Int
            public var targets: [String]
            public var channels: [String]
            /// `any` or `all`.
            public var ack: String
            public var ack_timeout: String
            public var attempts: String
            public var every: String?
            public var inform: Bool
            /// `paged` (an earlier level), `current`, or `waiting` (not paged yet).
            public var state: String
            /// Stand-ins and people paged outside their availability, for people.
            public var stand_ins: [String]
        }

        /// One page to one person.
        public struct Page: Codable, Sendable {
            public var at: String
            public var level: Int
            public var round: Int
            public var person: String
            public var channel: String
            public var key: String
            /// The delivery's status, if it is known.
            public var status: String?
            /// The shortest key `confirm_delivery --set key=` accepts for it while it waits.
            public var short_key: String?
        }

        public struct Ack: Codable, Sendable {
            public var person: String
            public var channel: String?
            public var standing_in_for: String?
            /// False for someone paged only by an inform-only level.
            public var counted: Bool
            public var level: Int
            public var round: Int
            public var recorded_by: String
            public var at: String
        }

        public struct NotReached: Codable, Sendable {
            public var person: String
            public var channel: String?
            public var detail: String?
            public var recorded_by: String
            public var at: String
        }

        /// The current level, 1-based.
        public var level: Int
        /// The current round, 1-based, of `rounds`.
        public var round: Int
        public var rounds: Int
        public var levels: [Level]
        public var pages: [Page]
        public var acks: [Ack]
        public var not_reached: [NotReached]
        public var acknowledged_by: String?
        /// Who must still acknowledge on the current level (an `ack: all` level), else empty.
        public var waiting_for: [String]
        /// The next move while nobody acknowledges (`level 2 (kari) at ... (in 10m)`).
        public var next: String?
    }

    /// A delivery of this step (a page, a notification, a publication).
    public struct Delivery: Codable, Sendable {
        public var key: String
        /// The shortest key `confirm_delivery --set key=` accepts for it while it waits.
        public var short_key: String?
        public var purpose: String
        public var channel: String
        public var recipients: [String]
        public var status: String
        public var text: String
        /// The recipient's address on the channel as resolved when it was asked for (list members).
        public var address: String?
        public var language: String?
        /// The failed delivery this one sends again.
        public var retry_of: String?
        /// What the transport or the person settling it said.
        public var detail: String?
    }

    public var incident: String
    public var mode: String
    public var timezone: String
    /// The incident's present, as in `status`.
    public var now: String
    /// The step instance (`takedown_each[2]`).
    public var step: String
    public var step_id: String
    public var type: String
    public var title: String?
    /// `active`, `finished`, or `not_entered`.
    public var state: String
    /// The outcome of a finished step.
    public var outcome: String?
    public var role: String?
    public var instructions: String?
    public var checklist: [String]
    public var entered: String?
    public var finished: String?
    /// When the active step times out (RFC 3339).
    public var deadline: String?
    /// The deadline for people, in the playbook's zone: `2026-03-02 09:15 +01:00`.
    public var due: String?
    /// The deadline relative to `now`: `in 4m`, `overdue 3m`.
    public var due_in: String?
    /// Where the step goes when it times out (a step id), if it can.
    public var on_timeout: String?
    public var statement: Statement?
    public var takedown: Takedown?
    /// A regulatory submission: its phase, the fields it lacks, what was submitted (hash) and the receipts.
    public var submission: Submission?
    public var choice: Choice?
    public var escalation: Escalation?
    /// A notify step: recipient by recipient (a list's members, else its channels), with each one's deliveries.
    public var notify: NotifyProgress?
    public var deliveries: [Delivery]
    /// The cadences whose occurrences this step meets, as in `status`; absent when none.
    public var cadences: [StatusReport.Cadence]?
    /// What may be done on the step now, as in `status`.
    public var actions: [StatusReport.Action]

    /// The report on `step` (an active instance, a step id with one active instance, a finished step, or a step
    /// not entered yet) as of `wallNow` (ignored by drills, as in `StatusReport`).
    public init(_ incident: LoadedIncident, step name: String, wallNow: Instant? = nil) throws {
        let def = incident.definition
        let state = incident.state
        let playbook = def.playbook
        let zone = ZoneFormat(identifier: playbook.timeZone)
        let now = incident.isDrill || !state.status.isOpen ? incident.now : max(wallNow ?? incident.now, incident.now)
        func fmt(_ i: Instant) -> String { zone.rfc3339(i) }

        let run: StepRun?
        let finished: StepRecord?
        if let r = state.run(name) {
            run = r
            finished = nil
        } else if case let instances = state.active.filter({ $0.stepID == name }), !instances.isEmpty {
            guard instances.count == 1 else {
                throw RuntimeError.invalid(
                    "step '\(name)' has \(instances.count) active instances; name one: "
                        + instances.map(\.instance).joined(separator: ", "))
            }
            run = instances[0]
            finished = nil
        } else {
            run = nil
            finished = state.history.last { $0.instance == name } ?? state.history.last { $0.stepID == name }
        }
        let stepID = run?.stepID ?? finished?.stepID ?? name
        guard let step = playbook.step(stepID) else {
            let ids = state.active.map(\.instance)
            throw RuntimeError.invalid(
                "no step '\(name)' in playbook \(playbook.id)"
                    + (ids.isEmpty ? "" : "; active now: \(ids.joined(separator: ", "))"))
        }
        let instance = run?.instance ?? finished?.instance ?? name

        self.incident = def.incidentID
        mode = def.mode.rawValue
        timezone = playbook.timeZone
        self.now = fmt(now)
        self.step = instance
        step_id = stepID
        type = step.typeName
        title = step.title
        self.state = run != nil ? "active" : finished != nil ? "finished" : "not_entered"
        outcome = finished?.outcome
        role = step.role?.value
        instructions = step.instructions
        if case .task(let t) = step.kind { checklist = t.checklist } else { checklist = [] }
        entered = (run?.enteredAt ?? finished?.enteredAt).map(fmt)
        self.finished = finished.map { fmt($0.exitedAt) }
        deadline = run?.dueAt.map(fmt)
        due = run?.dueAt.map(zone.human)
        due_in = run?.dueAt.map { relativeTime($0 - now) }
        if step.timeout != nil, step.kind.canTimeOut {
            var target = step.next[Outcome.timeout]?.value
            if target == nil, case .choice(let c) = step.kind, let d = c.defaultOption { target = step.next[d.value]?.value }
            on_timeout = target
        } else {
            on_timeout = nil
        }

        let meets = playbook.cadences.filter { $0.step.value == stepID }
        cadences = meets.isEmpty ? nil : StatusReport.cadenceReports(
            meets, state: state, fmt: fmt, relative: { relativeTime($0 - now) })

        let detail = run?.detail ?? finished?.detail ?? .simple
        statement = nil
        takedown = nil
        submission = nil
        choice = nil
        escalation = nil
        notify = nil
        switch step.kind {
        case .holdingStatement(let spec):
            let s: StatementRun
            if case .statement(let r) = detail { s = r } else { s = StatementRun() }
            statement = Self.statement(spec, s, incident: incident, fmt: fmt)
        case .takedown(let spec):
            if case .takedown(let t) = detail { takedown = Self.takedown(spec, t, state: state, fmt: fmt) }
        case .choice(let spec):
            choice = Self.choice(spec, step: step, chosen: finished?.outcome)
        case .escalate:
            if case .escalation(let e) = detail {
                let next = run.flatMap { r in
                    StatusReport.escalationNext(r, state: state, fmt: fmt, relative: { relativeTime($0 - now) })
                }
                escalation = Self.escalation(e, state: state, next: next, fmt: fmt)
            }
        case .notify(let spec):
            if case .notify(let n) = detail { notify = NotifyProgress(spec: spec, run: n, state: state) }
        case .submission(let spec):
            if case .submission(let r) = detail { submission = Self.submission(spec, r, fmt: fmt) }
        case .task, .clock, .wait, .parallel, .foreach, .end:
            break
        }
        deliveries = state.deliveries.filter { $0.delivery.step == instance }.map {
            Delivery(key: $0.delivery.key, short_key: Intake.shortDeliveryKey($0.delivery.key, in: state), purpose: $0.delivery.purpose.rawValue, channel: $0.delivery.channel,
                     recipients: $0.delivery.recipients, status: $0.status.rawValue, text: $0.delivery.text,
                     address: $0.delivery.address, language: $0.delivery.language, retry_of: $0.delivery.retryOf,
                     detail: $0.detail)
        }
        actions = run == nil ? [] : StatusReport.actionReports(Engine.availableActions(for: instance, in: state), def)
    }

    static func statement(_ spec: StatementSpec, _ s: StatementRun, incident: LoadedIncident,
                          fmt: (Instant) -> String) -> Statement {
        let def = incident.definition
        let state = incident.state
        let current = s.current
        var approvers: [String] = []
        if let c = current {
            for d in s.decisions where d.revision == c.revision && d.approved {
                if !approvers.contains(where: { $0.lowercased() == d.person.lowercased() }) { approvers.append(d.person) }
            }
        }
        let quorum = spec.approval.roles.isEmpty ? 0 : max(1, spec.approval.quorum)
        var roles = spec.approval.decidingRoles
        let fallback = spec.approval.fallbackRoles.map(\.value)
        if s.fallbackOpen { for r in fallback where !roles.contains(r) { roles.append(r) } }
        let languages = (current?.languages.isEmpty ?? true) ? def.playbook.languages : spec.languages(in: def.playbook)
        let texts = languages.map { lang -> Statement.Text in
            let text = current?.texts[lang] ?? ""
            let channels = spec.channels.filter {
                current?.variants[$0.id] == nil && spec.languages(of: $0, in: def.playbook).contains(lang)
            }
            return Statement.Text(language: lang, channel: nil, text: text,
                                  lengths: (current?.languages.isEmpty ?? true ? spec.channels : channels).map {
                                      ChannelLength.measure(text, channel: $0.id)
                                  })
        }
        var variants: [Statement.Text] = []
        for channel in spec.channels {
            guard let byLanguage = current?.variants[channel.id] else { continue }
            for lang in languages {
                guard let text = byLanguage[lang] else { continue }
                variants.append(Statement.Text(language: lang, channel: channel.id, text: text,
                                               lengths: [ChannelLength.measure(text, channel: channel.id)]))
            }
        }
        let rejected = Set(s.decisions.filter { !$0.approved }.map(\.revision)).count
        let approved = s.phase == .approved || s.phase == .publishing
        let mayApprove: [String]?
        if def.contacts == nil {
            mayApprove = nil
        } else if let c = current, s.phase == .awaitingApproval {
            mayApprove = Self.mayApprove(spec, s, draft: c, roles: roles, state: state)
        } else {
            mayApprove = []
        }
        let progress = Engine.approvalProgress(spec.approval, decisions: s.decisions, revision: current?.revision ?? 0)
        var changes: [Statement.Change] = []
        for (previous, draft) in zip(s.drafts, s.drafts.dropFirst()) {
            for lang in spec.languages(in: def.playbook) {
                if let diff = TextDiff.inline(previous.texts[lang] ?? "", draft.texts[lang] ?? "", context: 8) {
                    changes.append(Statement.Change(revision: draft.revision, language: lang, diff: diff))
                }
            }
        }
        var statement = Statement(
            phase: s.phase.rawValue, revision: current?.revision ?? 0, sha256: current?.sha256,
            drafter: current?.drafter, drafted: current.map { fmt($0.at) }, facts: current?.facts ?? [:],
            texts: current == nil ? [] : texts, variants: variants.isEmpty ? nil : variants, channels: spec.channels.map(\.id), quorum: quorum,
            approved_by: approvers,
            progress: quorum == 0
                ? "\(approvers.count) approval\(approvers.count == 1 ? "" : "s") so far"
                : "\(min(approvers.count, quorum)) of \(quorum) approval\(quorum == 1 ? "" : "s")",
            approvals_needed: approved ? 0 : max(0, quorum - approvers.count),
            decisions: s.decisions.map {
                Statement.Decision(person: $0.person, role: $0.role, revision: $0.revision, approved: $0.approved,
                                   reason: $0.reason, at: fmt($0.at), override: $0.override, sha256: $0.sha256)
            },
            approver_roles: roles, fallback_roles: fallback, fallback_open: s.fallbackOpen,
            may_approve: mayApprove,
            revisions_left: max(0, spec.maxRevisions - rejected),
            publications: s.latestPublications.map { p in
                Statement.Publication(
                    channel: p.channel, language: p.language, key: p.key,
                    status: state.deliveries.first { $0.delivery.key == p.key }?.status.rawValue ?? "pending")
            },
            measures: current?.checks.measures ?? [], failed_checks: current?.checks.findings.map(\.summary) ?? [])
        statement.approval_rule = Self.approvalRule(spec.approval)
        statement.approval_missing = current == nil ? nil : (approved ? [] : progress.missing)
        statement.spokesperson = Engine.spokesperson(spec, s, contacts: def.contacts)
        statement.handovers = s.handovers.isEmpty ? nil : s.handovers.map {
            Statement.Handover(from: $0.from, to: $0.to, by: $0.by, reason: $0.reason, at: fmt($0.at))
        }
        statement.changes = changes.isEmpty ? nil : changes
        statement.informed = s.informed.isEmpty ? nil : s.informed.map { key in
            let record = state.deliveries.first { $0.delivery.key == key }
            return Statement.Publication(
                channel: record.map { "\($0.delivery.recipients.joined(separator: ", ")) via \($0.delivery.channel)" } ?? "",
                key: key, status: record?.status.rawValue ?? "pending")
        }
        return statement
    }

    /// The approval rule in words: `quorum 2 of comms, legal; all of head_of_comms, legal; final sign-off by
    /// ceo; informs board`.
    public static func approvalRule(_ a: ApprovalSpec) -> String {
        var parts: [String] = []
        if !a.roles.isEmpty { parts.append("quorum \(max(1, a.quorum)) of \(a.roles.map(\.value).joined(separator: ", "))") }
        if !a.allOf.isEmpty { parts.append("all of \(a.allOf.map(\.value).joined(separator: ", "))") }
        if let f = a.finalRole { parts.append("final sign-off by \(f.value)") }
        if !a.inform.isEmpty { parts.append("informs \(a.inform.map(\.value).joined(separator: ", "))") }
        return parts.joined(separator: "; ")
    }

    /// Directory people who may still decide on `draft`, mirroring the engine's checks (role, own draft,
    /// excluded or conflicted, already decided). Nil without a directory.
    static func mayApprove(_ spec: StatementSpec, _ s: StatementRun, draft: StatementDraft, roles: [String],
                           state: IncidentState) -> [String]? {
        let def = state.definition
        guard let contacts = def.contacts else { return nil }
        func same(_ name: String, _ p: Person) -> Bool {
            name.lowercased() == p.id.lowercased() || name.lowercased() == p.name.lowercased()
                || contacts.person(named: name)?.id == p.id
        }
        var excluded = state.conflictedPeople
        if let input = spec.approval.excludeInput?.value, let value = def.inputs[input] {
            excluded += value.split(whereSeparator: { $0 == "," || $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
                .map { trimmed($0) }.filter { !$0.isEmpty }
        }
        return contacts.people.filter { p in
            let held = p.roles + state.rolesHeld(by: p.id)
            guard held.contains(where: roles.contains) else { return false }
            if spec.approval.distinctFromDrafter, same(draft.drafter, p) { return false }
            if excluded.contains(where: { same($0, p) }) { return false }
            return !s.decisions.contains { $0.revision == draft.revision && same($0.person, p) }
        }.map(\.id)
    }

    static func takedown(
        _ spec: TakedownSpec, _ t: TakedownRun, state: IncidentState? = nil, fmt: (Instant) -> String
    ) -> Takedown {
        let authorisedBy = state?.authorisationText(for: spec)
        let elements = spec.basis.requiredElements.map { element -> Takedown.Element in
            let raw = trimmed(t.notice[element.rawValue] ?? "")
            if element == .authorisation, spec.authorisationRecord != nil, !element.isFilled(by: raw) {
                return Takedown.Element(
                    name: element.rawValue, title: element.title, type: element.valueType.rawValue,
                    value: authorisedBy, missing: authorisedBy == nil)
            }
            return Takedown.Element(
                name: element.rawValue, title: element.title, type: element.valueType.rawValue,
                value: raw.isEmpty ? nil : t.notice[element.rawValue], missing: !element.isFilled(by: raw))
        }
        let notice = TakedownNotice.text(spec, t, authorisedBy: authorisedBy)
        let route = spec.route(for: t.platform)
        let entry = PlatformCatalog.entry(t.platform)
        return Takedown(
            status: t.status.rawValue, platform: t.platform, reporting_route: route?.text,
            basis: spec.basis.rawValue,
            basis_title: spec.basis.title, urls: t.urls, elements: elements,
            missing: elements.filter(\.missing).map(\.name), notice: notice,
            submitters: spec.submitterRoles.map(\.value), ticket: t.ticket, submitted: t.submittedAt.map(fmt),
            submitted_by: t.submittedBy, follow_up: spec.followUp.map(duration),
            give_up_after: spec.giveUpAfter.map(duration),
            history: t.history.map {
                Takedown.Transition(from: $0.from.rawValue, to: $0.to.rawValue, by: $0.by, at: fmt($0.at), note: $0.note)
            },
            route_source: route?.source, platform_name: entry?.name, who_may_submit: entry?.whoMaySubmit,
            typical_response: entry?.typicalResponse, notice_sha256: sha256Hex(Array(notice.utf8)),
            url_results: t.resultByURL.map { Takedown.URLResult(url: $0.url, result: $0.result?.result.rawValue, note: $0.result?.note) },
            pending_until: t.pendingUntil.map(fmt),
            counter_notice: t.counterNotice.map {
                Takedown.CounterNoticeWindow(received: fmt($0.received), restore_from: fmt($0.restoreFrom), restore_by: fmt($0.restoreBy))
            })
    }

    /// The text without leading and trailing spaces and tabs (as the engine trims names and notice values).
    static func trimmed(_ s: some StringProtocol) -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = s.firstIndex(where: { !isSpace($0) }), let last = s.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(s[first...last])
    }

    /// A duration for people, whole days without their zero hours (`1d`, not `1d 0h`).
    static func duration(_ d: PlaybookDuration) -> String {
        let text = humanDuration(d)
        return text.hasSuffix("d 0h") ? String(text.dropLast(3)) : text
    }

    /// A legal basis for people.
    public static func basisTitle(_ basis: LegalBasis) -> String { basis.title }

    /// A notice element's name for people.
    public static func noticeTitle(_ element: NoticeElement) -> String { element.title }

    static func choice(_ spec: ChoiceSpec, step: Step, chosen: String?) -> Choice {
        let timeoutTarget = step.next[Outcome.timeout]?.value
        var onTimeout: String?
        if step.timeout != nil {
            if let timeoutTarget {
                onTimeout = "→ \(timeoutTarget)"
            } else if let d = spec.defaultOption?.value {
                onTimeout = "\(d) → \(step.next[d]?.value ?? "end of route")"
            }
        }
        return Choice(
            options: spec.options.map { o in
                Choice.Option(id: o.id, label: o.label, next: step.next[o.id]?.value,
                              default: o.id == spec.defaultOption?.value,
                              when: o.when.map { "\($0.input.value) in \($0.anyOf.joined(separator: ", "))" })
            },
            default_option: spec.defaultOption?.value, automatic: spec.isAutomatic, on_timeout: onTimeout,
            chosen: chosen)
    }

    static func escalation(_ e: EscalationRun, state: IncidentState, next: String?,
                           fmt: (Instant) -> String) -> Escalation {
        var waiting: [String] = []
        if e.level < e.levels.count, e.levels[e.level].ack == .all {
            let acked = Set(e.acks.filter(\.counted).map(\.person))
            waiting = e.levels[e.level].targets.filter { !acked.contains($0) }
        }
        var pages: [Escalation.Page] = []
        for a in e.attempts {
            for (i, key) in a.deliveryKeys.enumerated() {
                let record = state.deliveries.first { $0.delivery.key == key }
                let person = i < a.recipients.count ? a.recipients[i]
                    : record?.delivery.recipients.joined(separator: ", ") ?? a.targets.joined(separator: ", ")
                let channel = i < a.channels.count ? a.channels[i] : record?.delivery.channel ?? "?"
                pages.append(Escalation.Page(at: fmt(a.at), level: a.level + 1, round: a.round + 1, person: person,
                                             channel: channel, key: key, status: record?.status.rawValue,
                                             short_key: Intake.shortDeliveryKey(key, in: state)))
            }
        }
        return Escalation(
            level: min(e.level, max(0, e.levels.count - 1)) + 1, round: e.round + 1, rounds: e.repeats + 1,
            levels: e.levels.enumerated().map { i, l in
                Escalation.Level(
                    number: i + 1, targets: l.targets, channels: l.channels, ack: l.ack.rawValue,
                    ack_timeout: duration(l.ackTimeout), attempts: l.attempts.rawValue,
                    every: l.every.map(duration), inform: l.inform,
                    state: i < e.level ? "paged" : i == e.level ? "current" : "waiting",
                    stand_ins: l.substitutions.map { s in
                        let why = s.skipped.map { "\($0.person): \($0.reason)" }.joined(separator: "; ")
                        guard let standIn = s.standIn else {
                            return "\(s.person) paged outside availability (nobody in the deputy chain is available: \(why))"
                        }
                        return "\(standIn) stands in for \(s.person) (\(why))"
                            + (s.heldRoles.isEmpty ? "" : ", holding \(s.heldRoles.joined(separator: ", "))")
                    })
            },
            pages: pages,
            acks: e.acks.map {
                Escalation.Ack(person: $0.person, channel: $0.channel, standing_in_for: $0.standingInFor,
                               counted: $0.counted, level: $0.level + 1, round: $0.round + 1, recorded_by: $0.recordedBy,
                               at: fmt($0.at))
            },
            not_reached: e.notReached.map {
                Escalation.NotReached(person: $0.person, channel: $0.channel, detail: $0.detail,
                                      recorded_by: $0.recordedBy, at: fmt($0.at))
            },
            acknowledged_by: e.acknowledgedBy, waiting_for: waiting, next: next)
    }
}
