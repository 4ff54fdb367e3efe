import CrisisAudit
import CrisisCore

/// `crisis status --json`: the scripting contract. A script that reads only this and calls `act` and `tick`
/// can drive any playbook to its end. Field names are stable; new fields may be added.
public struct StatusReport: Codable, Sendable {
    public struct PlaybookRef: Codable, Sendable {
        public var id: String
        public var version: String
        public var sha256: String
        public var title: String
    }

    public struct Field: Codable, Sendable {
        public var name: String
        public var type: String
        public var required: Bool
        public var values: [String]?
        public var prompt: String
        public var `default`: String?

        public init(name: String, type: String, required: Bool, values: [String]?, prompt: String,
                    default: String? = nil) {
            self.name = name
            self.type = type
            self.required = required
            self.values = values
            self.prompt = prompt
            self.default = `default`
        }
    }

    public struct Action: Codable, Sendable {
        public var name: String
        public var title: String
        public var fields: [Field]
        /// The first role that may perform it (null: anyone on the incident).
        public var role: String?
        public var roles: [String]
        /// People of the incident's contacts directory who hold one of `roles` (empty without a directory).
        public var people: [String]
    }

    public struct Active: Codable, Sendable {
        public var step: String
        public var type: String
        public var title: String?
        public var instructions: String?
        public var role: String?
        public var entered: String
        /// When the step times out (RFC 3339 in the playbook's zone), if it can.
        public var deadline: String?
        /// The deadline relative to `now`: `in 4m`, `overdue 3m`.
        public var due_in: String?
        public var detail: [String: String]
        public var actions: [Action]
        /// A task's checklist (absent when it has none).
        public var checklist: [String]?
        /// A choice's options with their labels (absent for other steps).
        public var options: [Option]?
        /// A choice's default option: taken on timeout unless the step routes `timeout` elsewhere.
        public var default_option: String?
        /// A statement's quorum progress on its current revision (`1 of 2 approvals`), once drafted.
        public var approvals: String?
    }

    /// A choice's option: its id (the value of `--set option=`) and its label.
    public struct Option: Codable, Sendable {
        public var id: String
        public var label: String
    }

    public struct Timer: Codable, Sendable {
        public var id: String
        public var due: String
        public var step: String?
        public var purpose: String
        /// Whether it is due at `now`: a drill's `tick` fires it; a live incident's watcher has (or is late).
        public var due_now: Bool
        /// Relative to `now`: `in 4m`, `overdue 3m`.
        public var due_in: String?
    }

    public struct Clock: Codable, Sendable {
        public var id: String
        public var title: String
        public var started: String
        public var deadline: String
        /// Time left (`2h 05m`) or `overdue by ...`: counted to now while the clock runs, and frozen when it was
        /// stopped or the incident closed.
        public var remaining: String
        /// `running`, `expired` (deadline passed, not stopped), `stopped`, or `not_stopped` (the incident closed
        /// before the clock was stopped).
        public var state: String
        public var reference: String?
        /// When it was stopped.
        public var stopped: String?
        /// For a stopped clock: `met` (stopped by its deadline) or `missed`; for one the incident closed on after
        /// its deadline: `missed`.
        public var result: String?
        /// How late (`2h 10m`) when `result` is `missed`.
        public var missed_by: String?
        /// The deadline an operator set during the run (`set_deadline`).
        public var deadline_set: DeadlineSet?
        /// The decision that started the clock (`starts_clock`): `sue on restore_or_sue by kari.nordmann`.
        public var started_by: String? = nil
    }

    /// A deadline set during the run: when, by whom, why, and the deadline before it.
    /// A decision on a choice, with its rationale and the objections it overrode.
    public struct Decision: Codable, Sendable {
        public var choice: String
        public var option: String
        public var rationale: String?
        public var by: String
        public var at: String
        /// Why standing objections were overridden.
        public var override: String?
        /// The objections overridden: `ola.hansen: "reason"`.
        public var overrode: [String]?
        public var started_clock: String?
    }

    /// An objection raised on a choice: standing (no decision yet) or overridden.
    public struct Objection: Codable, Sendable {
        public var choice: String
        public var by: String
        public var reason: String
        public var at: String
        public var overridden_by: String?
        public var override: String?
    }

    /// One line of the "considered / not applicable" register.
    public struct Obligation: Codable, Sendable {
        public var id: String
        public var title: String
        public var reference: String?
        /// `applies`, `not_applicable` or `not_considered`.
        public var decision: String
        public var reason: String?
        public var by: String?
        public var at: String?
        public var clock: String?
    }

    public struct DeadlineSet: Codable, Sendable {
        public var at: String
        public var by: String
        public var reason: String
        public var previous: String
    }

    public struct Target: Codable, Sendable {
        public var id: String
        public var title: String
        /// Absent while the target is not started (its moment has not been recorded).
        public var due: String?
        /// `pending`, `met`, `missed`, `not_started` (waiting for the moment it counts from), or `not_met` (the
        /// incident closed before it was met).
        public var state: String
        public var met_after: String?
        /// For a target counting from a moment recorded during the run: which (`field aware_at of confirm`).
        public var counts_from: String?
        /// For a pending target: its due time relative to `now` (`in 4m`, `overdue 3m`).
        public var due_in: String?
    }

    /// A cadence (a recurring statement or task, each occurrence a target): how many occurrences were met and
    /// missed, and the next one due.
    public struct Cadence: Codable, Sendable {
        public var id: String
        public var title: String
        /// `30m`.
        public var every: String
        /// `06:00-24:00` in the playbook's zone; absent when occurrences may fall due at any time.
        public var between: String?
        /// `running`, `not_started` (waiting for the moment it counts from), `ended` (its `until` was recorded),
        /// or `closed` (the incident closed while it ran).
        public var state: String
        public var met: Int
        public var missed: Int
        /// The pending occurrence's number and due time; absent when none is pending.
        public var next_occurrence: Int?
        public var next_due: String?
        /// The pending occurrence's due time relative to `now` (`in 12m`, `overdue 3m`).
        public var next_due_in: String?
        /// For a cadence counting from a moment recorded during the run: which (`outcome published of first_post`).
        public var counts_from: String?
        /// What ends it (`outcome restored of restored_check`).
        public var until: String?
        /// When it ended.
        public var ended: String?
        public var occurrences: [Occurrence]
    }

    /// One occurrence of a cadence.
    public struct Occurrence: Codable, Sendable {
        public var number: Int
        public var due: String
        /// `met`, `missed`, `pending`, or `not_met` (the incident closed before it was met).
        public var state: String
        public var met_at: String?
        /// For a missed occurrence its step still took the outcome for: when (late).
        public var done_late_at: String?
    }

    /// Someone a delivery is for, as the person delivering it by hand needs them.
    public struct Recipient: Codable, Sendable {
        public var id: String
        public var name: String
        /// Their address on the delivery's channel (a phone number, an e-mail address); null if they have none.
        public var address: String?
    }

    /// A notify step with failed deliveries.
    public struct FailedNotification: Codable, Sendable {
        public var step: String
        /// `active`, or the outcome it finished with.
        public var state: String
        /// `1 of 2 channels confirmed, 1 failed`.
        public var summary: String
        /// `ali.hassan on email (mailbox full): retry 12`, one per failed delivery.
        public var failed: [String]
    }

    public struct DeliveryInfo: Codable, Sendable {
        public var key: String
        public var step: String
        public var purpose: String
        public var channel: String
        public var status: String
        /// True when the intent was recorded but no outcome: someone must say whether it went out.
        public var in_doubt: Bool
        /// Who it is for: person ids, `role:NAME`, or an audience.
        public var recipients: [String]
        public var text: String
        /// The shortest key `confirm_delivery --set key=` accepts for it (its last segments): what people type.
        public var short_key: String?
        /// The recipients a person can reach: each person's name and their address on this channel, from the
        /// incident's contacts directory (absent without one, or for a recipient it does not list).
        public var to: [Recipient]?
        /// The language of the text for its recipient (a distribution list's member), if known.
        public var language: String?
        /// The failed delivery this one sends again (`retry`), as its last segment.
        public var retry_of: String?
        /// A claimed delivery (`sending`): who claimed it (`crisis watch (pid 4711 on ops-1)`).
        public var sender: String?
    }

    public var incident: String
    public var title: String
    public var playbook: PlaybookRef
    public var mode: String
    public var status: String
    public var outcome: String?
    public var seq: Int
    /// The incident's present: the wall clock for a live incident (never earlier than its last record), the
    /// simulated clock for a drill.
    public var now: String
    /// `wall` (live) or `simulated` (drill).
    public var clock: String?
    public var timezone: String
    /// The playbook's languages, in its order (a statement's texts are `detail["text.<language>"]`).
    public var languages: [String]?
    /// Incidents related to this one, both ways (`crisis start --related`); set by the commands that read the
    /// trail for it (`status`), absent otherwise.
    public var related: [String]? = nil
    /// People who acted here and also in another open incident at once, with those incidents; set by `status`.
    public var assigned_elsewhere: [AssignedElsewhere]? = nil

    public struct AssignedElsewhere: Codable, Sendable {
        public var person: String
        public var incidents: [String]
        public init(person: String, incidents: [String]) {
            self.person = person
            self.incidents = incidents
        }
    }
    public var inputs: [String: String]
    public var active: [Active]
    public var timers: [Timer]
    public var clocks: [Clock]
    public var targets: [Target]
    /// The playbook's cadences, in its order. Absent when the playbook has none.
    public var cadences: [Cadence]?
    /// Deliveries waiting for a person: to send by hand, or in doubt (say whether they went out).
    public var deliveries: [DeliveryInfo]
    /// Deliveries a machine is on: queued for `crisis watch` (`queued`), or being sent now (`sending`). Absent
    /// when there is none.
    public var outbox: [DeliveryInfo]?
    /// Notify steps, active or finished, with a failed delivery that counts (not retried): what went out and what
    /// did not, so a step that failed on one channel of two says so after it is gone. Absent when there is none.
    public var failed_notifications: [FailedNotification]?
    public var deadline: String?
    public var deadline_exceeded: Bool
    public var incident_actions: [Action]
    /// Decisions taken on choices, in order; absent when there is none.
    public var decisions: [Decision]? = nil
    /// Objections raised on choices, standing or overridden; absent when there is none.
    public var objections: [Objection]? = nil
    /// The playbook's obligations, each as considered (or `not_considered`); absent when it names none.
    public var obligations: [Obligation]? = nil
    /// When the incident was opened (RFC 3339 in the playbook's zone). Absent in reports printed before it existed.
    public var opened_at: String?
    /// How long the incident has been open as of `now` (until it closed, once closed): `2h 05m`.
    public var elapsed: String?

    /// The report as of `wallNow` (a live incident's present; drills ignore it and use their simulated clock).
    /// Without `wallNow`, a live incident is shown as of its last record.
    public init(_ incident: LoadedIncident, wallNow: Instant? = nil) {
        let def = incident.definition
        let state = incident.state
        let zone = ZoneFormat(identifier: def.playbook.timeZone)
        let now = incident.isDrill || !state.status.isOpen ? incident.now : max(wallNow ?? incident.now, incident.now)
        func relative(_ i: Instant) -> String { relativeTime(i - now) }
        func fmt(_ i: Instant) -> String { zone.rfc3339(i) }
        func actions(_ specs: [ActionSpec]) -> [Action] { Self.actionReports(specs, def) }
        self.incident = def.incidentID
        self.title = def.title
        self.playbook = PlaybookRef(id: def.playbook.id, version: def.playbook.version, sha256: def.playbookSHA256,
                                    title: def.playbook.title)
        self.mode = def.mode.rawValue
        switch state.status {
        case .open:
            status = "open"
            outcome = nil
        case .closed(let o):
            status = "closed"
            outcome = o
        }
        seq = incident.seq
        self.now = fmt(now)
        clock = incident.isDrill ? "simulated" : "wall"
        timezone = def.playbook.timeZone
        languages = def.playbook.languages
        inputs = def.inputs
        active = state.active.map { run in
            let step = def.playbook.step(run.stepID)
            return Active(
                step: run.instance, type: step?.typeName ?? "?", title: step?.title, instructions: step?.instructions,
                role: step?.role?.value, entered: fmt(run.enteredAt), deadline: run.dueAt.map(fmt),
                due_in: run.dueAt.map(relative),
                detail: Self.detail(run, escalationNext: Self.escalationNext(run, state: state, fmt: fmt, relative: relative),
                                    state: state, contacts: def.contacts, now: now),
                actions: actions(Engine.availableActions(for: run.instance, in: state)),
                checklist: Self.checklist(step), options: Self.options(step), default_option: Self.defaultOption(step),
                approvals: Self.approvals(run))
        }
        timers = state.timers.sorted { ($0.due, $0.order) < ($1.due, $1.order) }.map {
            Timer(id: $0.id, due: fmt($0.due), step: $0.step, purpose: Self.purpose($0.purpose), due_now: $0.due <= now,
                  due_in: relative($0.due))
        }
        // A closed incident's clocks and targets are final: as they stood when it closed.
        let closed = !state.status.isOpen
        let closedAt = closed ? (state.closedAt ?? now) : now
        clocks = state.clocks.map { c in
            let spec = def.playbook.clock(c.id)
            let st = c.stoppedAt != nil ? "stopped" : closed ? "not_stopped" : (c.expired ? "expired" : "running")
            let until = c.stoppedAt ?? closedAt
            let left = c.deadline - until
            var result: String?
            var missedBy: String?
            switch c.ended {
            case .met?: result = "met"
            case .missed(let by)?:
                result = "missed"
                missedBy = humanDuration(by)
            case nil:
                if closed, left.milliseconds < 0 {
                    result = "missed"
                    missedBy = humanDuration(PlaybookDuration(milliseconds: -left.milliseconds))
                }
            }
            return Clock(id: c.id, title: spec?.title ?? c.id, started: fmt(c.startedAt), deadline: fmt(c.deadline),
                         remaining: left.milliseconds < 0 ? "overdue by \(humanDuration(PlaybookDuration(milliseconds: -left.milliseconds)))"
                            : humanDuration(left),
                         state: st, reference: spec?.reference, stopped: c.stoppedAt.map(fmt), result: result,
                         missed_by: missedBy,
                         deadline_set: c.deadlineSet.map {
                             DeadlineSet(at: fmt($0.at), by: $0.by, reason: $0.reason, previous: fmt($0.previous))
                         },
                         started_by: c.startedBy.map { "\($0.option) on \($0.choice) by \($0.by)" })
        }
        // In the playbook's order, with the targets that have not started yet.
        targets = def.playbook.targets.map { spec in
            var countsFrom: String?
            if case .run(let anchor) = spec.from { countsFrom = anchor.description }
            guard let t = state.targets.first(where: { $0.id == spec.id }) else {
                return Target(id: spec.id, title: spec.title, due: nil, state: closed ? "not_met" : "not_started",
                              met_after: nil, counts_from: countsFrom, due_in: nil)
            }
            let st = t.metAt != nil ? "met" : (t.missed ? "missed" : closed ? "not_met" : "pending")
            return Target(id: t.id, title: spec.title, due: fmt(t.due), state: st,
                          met_after: t.metAt.map { humanDuration($0 - t.origin) }, counts_from: countsFrom,
                          due_in: st == "pending" ? relative(t.due) : nil)
        }
        cadences = def.playbook.cadences.isEmpty
            ? nil : Self.cadenceReports(def.playbook.cadences, state: state, fmt: fmt, relative: relative)
        let decisions = state.decisions.map { d in
            Decision(
                choice: d.choice, option: d.option, rationale: d.rationale, by: d.by, at: fmt(d.at), override: d.override,
                overrode: d.overrode.isEmpty
                    ? nil
                    : d.overrode.compactMap { i in
                        state.objections.indices.contains(i)
                            ? "\(state.objections[i].by): \(state.objections[i].reason)" : nil
                    },
                started_clock: d.startedClock)
        }
        self.decisions = decisions.isEmpty ? nil : decisions
        let objections = state.objections.map {
            Objection(choice: $0.choice, by: $0.by, reason: $0.reason, at: fmt($0.at), overridden_by: $0.overriddenBy,
                      override: $0.overrideReason)
        }
        self.objections = objections.isEmpty ? nil : objections
        let obligations = def.playbook.obligations.map { spec in
            let d = state.considerations.first { $0.obligation == spec.id }
            return Obligation(
                id: spec.id, title: spec.title, reference: spec.reference,
                decision: d.map { $0.applies ? ObligationDecision.applies : ObligationDecision.notApplicable }
                    ?? "not_considered",
                reason: d?.reason, by: d?.by, at: d.map { fmt($0.at) }, clock: spec.clock?.value)
        }
        self.obligations = obligations.isEmpty ? nil : obligations
        var waiting: [DeliveryInfo] = []
        var outbox: [DeliveryInfo] = []
        for d in state.deliveries where !d.status.isFinal {
            // A claimed delivery whose sender has ended with no result is in doubt, like an intent with none.
            let sender = d.status == .sending ? d.detail.flatMap(DeliverySender.parse) : nil
            let sending = d.status == .sending && (sender?.isRunning ?? false)
            let info = DeliveryInfo(
                key: d.delivery.key, step: d.delivery.step, purpose: d.delivery.purpose.rawValue,
                channel: d.delivery.channel, status: d.status.rawValue,
                in_doubt: d.status == .pending || (d.status == .sending && !sending),
                recipients: d.delivery.recipients, text: d.delivery.text,
                short_key: Intake.shortDeliveryKey(d.delivery.key, in: state),
                to: Self.recipients(d.delivery, def.contacts), language: d.delivery.language,
                retry_of: d.delivery.retryOf.map(NotifyProgress.shortKey),
                sender: d.status == .sending ? sender?.description : nil)
            if d.status == .queued || sending { outbox.append(info) } else { waiting.append(info) }
        }
        deliveries = waiting
        self.outbox = outbox.isEmpty ? nil : outbox
        var notifyInstances: [String] = []
        for instance in state.history.filter({ if case .notify = $0.detail { true } else { false } }).map(\.instance)
            + state.active.filter({ $0.progress.stepType == .notify }).map(\.instance)
        where !notifyInstances.contains(instance) {
            notifyInstances.append(instance)
        }
        let failedNotifications = notifyInstances.compactMap { instance -> FailedNotification? in
            guard let p = NotifyProgress.of(instance, in: state), p.failed > 0 else { return nil }
            let active = state.run(instance) != nil
            let outcome = active ? "active" : state.history.last { $0.instance == instance }?.outcome
            return FailedNotification(step: instance, state: outcome ?? "?", summary: p.summary,
                                      failed: p.failures(retry: active))
        }
        failed_notifications = failedNotifications.isEmpty ? nil : failedNotifications
        deadline = state.deadline.map(fmt)
        deadline_exceeded = state.deadlineExceeded
        incident_actions = actions(Engine.availableActions(for: "incident", in: state))
        opened_at = fmt(state.startedAt)
        elapsed = humanDuration(max(PlaybookDuration(milliseconds: 0), closedAt - state.startedAt))
    }

    /// The actions an active step accepts, as the report shows them (with the directory people who may act).
    /// A field is `required` as Intake requires it: an ack's `by` is optional with a contacts directory (it
    /// defaults to the operator, who must be in the directory), required without one.
    static func actionReports(_ specs: [ActionSpec], _ def: RunDefinition) -> [Action] {
        specs.map { a in
            Action(
                name: a.name, title: a.title,
                fields: a.fields.map {
                    if a.name == StepAction.retry.rawValue, $0.name == "delivery", !$0.values.isEmpty {
                        // The failed deliveries by the last segment of their keys, which `retry` reads as the key.
                        return Field(name: $0.name, type: $0.type.rawValue, required: $0.required,
                                     values: $0.values.map(NotifyProgress.shortKey), prompt: $0.prompt,
                                     default: $0.defaultValue)
                    }
                    let defaultsToOperator = def.contacts != nil && a.name == StepAction.ack.rawValue && $0.name == "by"
                    return Field(name: $0.name, type: $0.type.rawValue, required: $0.required && !defaultsToOperator,
                                 values: $0.values.isEmpty ? nil : $0.values,
                                 prompt: defaultsToOperator ? $0.prompt + "; default: you, the operator" : $0.prompt,
                                 default: $0.defaultValue)
                }, role: a.roles.first, roles: a.roles,
                people: def.contacts?.people.filter { p in a.roles.contains(where: p.roles.contains) }.map(\.id) ?? [])
        }
    }

    /// Names and addresses for a delivery's recipients: the address it was asked for with (a list member's, as
    /// resolved when the step was entered), else the directory's; nil without a directory.
    static func recipients(_ d: CrisisCore.Delivery, _ contacts: ContactsDirectory?) -> [Recipient]? {
        guard var out = recipients(d.recipients, channel: d.channel, contacts) else { return nil }
        if let address = d.address, out.count == 1 { out[0].address = address }
        return out
    }

    /// Names and addresses for a delivery's recipients, from the directory; nil without one.
    public static func recipients(_ ids: [String], channel: String, _ contacts: ContactsDirectory?) -> [Recipient]? {
        guard let contacts else { return nil }
        let found = ids.compactMap { id in contacts.people.first { $0.id == id } }
        guard !found.isEmpty else { return nil }
        return found.map { p in
            Recipient(id: p.id, name: p.name, address: p.channels.first { $0.type == channel }?.address)
        }
    }

    static func checklist(_ step: Step?) -> [String]? {
        guard case .task(let t)? = step?.kind, !t.checklist.isEmpty else { return nil }
        return t.checklist
    }

    static func options(_ step: Step?) -> [Option]? {
        guard case .choice(let c)? = step?.kind else { return nil }
        return c.options.map { Option(id: $0.id, label: $0.label) }
    }

    static func defaultOption(_ step: Step?) -> String? {
        guard case .choice(let c)? = step?.kind else { return nil }
        return c.defaultOption?.value
    }

    /// `1 of 2 approvals` for a statement with a current revision.
    static func approvals(_ run: StepRun) -> String? {
        guard case .statement(let spec, let s) = run.progress, let c = s.current else { return nil }
        var approvers: [String] = []
        for d in s.decisions where d.revision == c.revision && d.approved {
            if !approvers.contains(where: { $0.lowercased() == d.person.lowercased() }) { approvers.append(d.person) }
        }
        if spec.approval.roles.isEmpty {
            return "\(approvers.count) approval\(approvers.count == 1 ? "" : "s") so far"
        }
        let quorum = max(1, spec.approval.quorum)
        return "\(min(approvers.count, quorum)) of \(quorum) approval\(quorum == 1 ? "" : "s")"
    }

    /// `specs` as they stand in `state` (a closed incident's as they stood when it closed).
    static func cadenceReports(_ specs: [CadenceSpec], state: IncidentState, fmt: (Instant) -> String,
                               relative: (Instant) -> String) -> [Cadence] {
        let closed = !state.status.isOpen
        return specs.map { spec in
            var countsFrom: String?
            if case .run(let anchor) = spec.from { countsFrom = anchor.description }
            let run = state.cadences.first { $0.id == spec.id }
            let pending = run?.endedAt == nil ? run?.pending : nil
            let st = run == nil ? (closed ? "closed" : "not_started")
                : run?.endedAt != nil ? "ended" : closed ? "closed" : "running"
            let occurrences = (run?.occurrences ?? []).map { o in
                Occurrence(number: o.number, due: fmt(o.due),
                           state: o.metAt != nil ? "met" : o.missed ? "missed" : closed ? "not_met" : "pending",
                           met_at: o.metAt.map(fmt), done_late_at: o.doneLateAt.map(fmt))
            }
            return Cadence(
                id: spec.id, title: spec.title, every: spec.every.description, between: spec.between?.description,
                state: st, met: run?.met ?? 0, missed: run?.missed ?? 0,
                next_occurrence: closed ? nil : pending?.number, next_due: closed ? nil : pending.map { fmt($0.due) },
                next_due_in: closed ? nil : pending.map { relative($0.due) }, counts_from: countsFrom,
                until: spec.until?.description, ended: run?.endedAt.map(fmt), occurrences: occurrences)
        }
    }

    static func purpose(_ p: TimerPurpose) -> String {
        switch p {
        case .stepTimeout: "step timeout"
        case .approvalFallback: "approval fallback"
        case .ackTimeout(let level, let round): "ack timeout (level \(level + 1), round \(round + 1))"
        case .nextChannel(let level, let round): "next channel (level \(level + 1), round \(round + 1))"
        case .reescalate(let escalation, let level): "re-escalation of \(escalation) (level \(level + 1))"
        case .followUp: "takedown follow-up"
        case .noResponse: "takedown no response"
        case .delay: "wait"
        case .clockWarning(let clock, let before): "\(clock) warning \(before) before deadline"
        case .clockDeadline(let clock): "\(clock) deadline"
        case .targetDeadline(let target): "target \(target)"
        case .cadenceDue(let cadence, let occurrence): "cadence \(cadence) occurrence \(occurrence)"
        case .runDeadline: "run deadline"
        }
    }

    /// An escalation's next move, for people: who is paged next and when (`level 2 (role:crisis_lead) at …`).
    static func escalationNext(_ run: StepRun, state: IncidentState, fmt: (Instant) -> String,
                               relative: (Instant) -> String) -> String? {
        guard case .escalation(_, let e) = run.progress else { return nil }
        let timers = state.timers.filter { $0.step == run.instance }
        guard let timer = timers.min(by: { ($0.due, $0.order) < ($1.due, $1.order) }) else { return nil }
        let when = "\(fmt(timer.due)) (\(relative(timer.due)))"
        switch timer.purpose {
        case .ackTimeout:
            if e.level + 1 < e.levels.count {
                return "level \(e.level + 2) (\(e.levels[e.level + 1].targets.joined(separator: ", "))) at \(when)"
            }
            if e.round < e.repeats { return "round \(e.round + 2) from level 1 at \(when)" }
            return "exhausted at \(when) unless someone acknowledges"
        case .nextChannel: return "next channel at \(when)"
        case .reescalate: return "re-escalation at \(when) unless the next step moves"
        default: return nil
        }
    }

    /// With `contacts` and `now`, a person paged who lives in another zone than the directory's is shown with
    /// their local time (`jane.doe (02:40 America/New_York)`).
    static func detail(_ run: StepRun, escalationNext: String? = nil, state: IncidentState? = nil,
                       contacts: ContactsDirectory? = nil, now: Instant? = nil) -> [String: String] {
        switch run.detail {
        case .simple: return [:]
        case .statement(let s):
            var d = ["phase": s.phase.rawValue, "revision": String(s.current?.revision ?? 0)]
            if let c = s.current {
                d["sha256"] = c.sha256
                let approvers = s.decisions.filter { $0.revision == c.revision && $0.approved }.map(\.person)
                d["approved_by"] = approvers.joined(separator: ", ")
                for (lang, text) in c.texts { d["text.\(lang)"] = text }
                for (channel, texts) in c.variants { for (lang, text) in texts { d["text.\(channel).\(lang)"] = text } }
                // Declared limits and content checks the revision fails (one per line); approval needs an override.
                if !c.checks.findings.isEmpty { d["failed_checks"] = c.checks.findings.map(\.summary).joined(separator: "\n") }
            }
            if s.fallbackOpen { d["fallback"] = "open" }
            if case .statement(let spec, _) = run.progress {
                if let who = Engine.spokesperson(spec, s, contacts: state?.definition.contacts) { d["spokesperson"] = who }
                if let c = s.current, s.phase == .awaitingApproval, !spec.approval.allOf.isEmpty || spec.approval.finalRole != nil {
                    let missing = Engine.approvalProgress(spec.approval, decisions: s.decisions, revision: c.revision).missing
                    if !missing.isEmpty { d["needs"] = missing.joined(separator: ", ") }
                }
            }
            return d
        case .takedown(let t):
            var d = ["status": t.status.rawValue, "platform": t.platform, "urls": t.urls.joined(separator: " ")]
            if let ticket = t.ticket { d["ticket"] = ticket }
            if case .takedown(let spec, _) = run.progress {
                // The notice ready to paste, and where it goes (the playbook's route, else the catalog's).
                let notice = TakedownNotice.text(spec, t, authorisedBy: state?.authorisationText(for: spec))
                d["notice"] = notice
                d["notice_sha256"] = sha256Hex(Array(notice.utf8))
                d["send_to"] = spec.route(for: t.platform)?.text
                    ?? "\(t.platform)'s own reporting form (not in the platform catalog; the playbook names no route)"
            }
            if let until = t.pendingUntil, t.status == .pending { d["pending_until"] = ISO8601.format(until) }
            if let c = t.counterNotice {
                d["restore_window"] = "\(ISO8601.format(c.restoreFrom)) to \(ISO8601.format(c.restoreBy))"
            }
            if !t.urlResults.isEmpty {
                d["url_results"] = t.resultByURL.map { "\($0.url) \($0.result?.result.rawValue ?? "-")" }
                    .joined(separator: "\n")
            }
            return d
        case .submission(let r):
            var d = ["authority": r.authority]
            if case .submission(let spec, _) = run.progress {
                d["legal_basis"] = spec.legalBasis.value
                if let next = spec.nextPhases(after: r.submissions.map(\.phase)).first {
                    d["next_phase"] = next.rawValue
                    let missing = r.missing(spec, phase: next)
                    if !missing.isEmpty { d["missing"] = missing.joined(separator: ", ") }
                    // `drafting` while the next phase lacks a required field, `ready` once it may be submitted.
                    d["status"] = missing.isEmpty ? "ready" : "drafting"
                }
            }
            if let last = r.submissions.last {
                d["submitted"] = "\(last.phase.rawValue), sha256 \(StepReport.snapshotHash(last))"
                if let reference = last.reference { d["reference"] = reference }
                if let deadline = last.deadline { d["authority_deadline"] = ISO8601.format(deadline) }
            }
            return d
        case .escalation(let e):
            var d = ["level": String(e.level + 1), "round": String(e.round + 1), "levels": String(e.levels.count)]
            if e.level < e.levels.count {
                let level = e.levels[e.level]
                d["paging"] = level.targets.map { target in
                    guard let now, let local = contacts?.person(named: target)?.localTime(at: now) else { return target }
                    return "\(target) (\(local))"
                }.joined(separator: ", ")
                if level.ack == .all {
                    let acked = Set(e.acks.filter(\.counted).map(\.person))
                    let missing = level.targets.filter { !acked.contains($0) }
                    if !missing.isEmpty { d["waiting_for"] = missing.joined(separator: ", ") + " (every one must ack)" }
                }
                let subs = level.substitutions.map { s -> String in
                    let why = s.skipped.map { "\($0.person): \($0.reason)" }.joined(separator: "; ")
                    guard let standIn = s.standIn else {
                        return "\(s.person) paged OUTSIDE AVAILABILITY (nobody in the deputy chain is available: \(why))"
                    }
                    return "\(standIn) stands in for \(s.person) (\(why))"
                        + (s.heldRoles.isEmpty ? "" : ", holding \(s.heldRoles.joined(separator: ", "))")
                }
                if !subs.isEmpty { d["stand_ins"] = subs.joined(separator: "\n") }
            }
            if !e.acks.isEmpty {
                d["acknowledged"] = e.acks.map { a in
                    a.person + (a.channel.map { " via \($0)" } ?? "") + (a.standingInFor.map { " for \($0)" } ?? "")
                        + (a.counted ? "" : " (inform only, not counted)")
                }.joined(separator: ", ")
            }
            if let next = escalationNext { d["next"] = next }
            return d
        case .notify(let n):
            guard n.list != nil || !n.keys.isEmpty, case .notify(let spec, _) = run.progress, let state else {
                return ["channels": n.deliveries.keys.sorted().joined(separator: ", ")]
            }
            // `delivered`: recipient by recipient (a list's members, else the channels); `failed`: what to retry.
            let p = NotifyProgress(spec: spec, run: n, state: state)
            var d = ["channels": n.list == nil ? n.deliveries.keys.sorted().joined(separator: ", ")
                        : spec.channels.joined(separator: ", "),
                     "delivered": p.summary]
            if let list = p.list { d["list"] = p.list_name.map { $0 == list ? list : "\(list) (\($0))" } ?? list }
            let failures = p.failures()
            if !failures.isEmpty { d["failed_deliveries"] = failures.joined(separator: "\n") }
            return d
        case .parallel(let p):
            return p.branches.mapValues(\.rawValue)
        case .foreach(let f):
            return ["items": String(f.items.count), "finished": String(f.outcomes.count)]
        }
    }
}

extension IncidentState {
    /// The shortest form of a delivery key that `confirm_delivery --set key=` accepts for this incident now.
    public func shortDeliveryKey(_ key: String) -> String { Intake.shortDeliveryKey(key, in: self) }
}
