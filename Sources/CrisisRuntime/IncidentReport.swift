import CrisisAudit
import CrisisCore
import Foundation

/// `export --format md|html`: what a person reads after the incident, built once from the replayed state and one
/// streaming pass over the trail; the Markdown and HTML renderers only lay it out.
///
/// Its size grows with the statements, takedowns, escalations, clocks and deliveries of the incident, not with its
/// records: the timeline and the notes are not part of it but read again, one record at a time, by `forEachEntry`
/// and `forEachNote` (the first `chartNoteLimit` notes are kept, for the HTML chart).
/// Every string in it is as recorded (operator input included): renderers escape.
public struct IncidentReport: Sendable {
    /// What happened, when, who led and how it ended.
    public struct Summary: Sendable {
        public var incident: String
        public var title: String
        public var playbookID: String
        public var playbookVersion: String
        public var playbookTitle: String
        public var playbookSHA256: String
        public var isDrill: Bool
        /// The playbook's IANA zone: every time in the report is shown in it, with its offset.
        public var timeZone: String
        public var openedAt: Instant
        /// Who opened it (the actor of record 1).
        public var openedBy: String
        /// When it closed (nil while open).
        public var closedAt: Instant?
        /// The outcome it closed with (nil while open).
        public var outcome: String?
        /// The reason given with `act incident close`, and by whom (nil when an end step closed it).
        public var closeReason: String?
        public var closedBy: String?
        /// The people who acted in one of the playbook's lead roles, first appearance first; the opener when
        /// nobody did.
        public var leads: [String]
        /// The instant of the last record (a drill's simulated clock).
        public var lastRecordAt: Instant
        public var records: Int
        public var chainHead: String
        public var inputs: [(name: String, value: String)]
    }

    /// A delivery (a publication or a page) and how it ended: when it was asked for and when it was settled.
    public struct Delivered: Sendable {
        public var key: String
        public var channel: String
        public var recipients: [String]
        public var purpose: DeliveryPurpose
        /// `pending`, `manual`, `sent`, `failed`, `sandboxed`.
        public var status: String
        public var detail: String?
        /// When its outcome was recorded, and by whom (an operator confirming by hand, or `crisis`).
        public var settledAt: Instant?
        public var settledBy: String?
        /// A statement publication's language (nil for other deliveries and for publications of drafts recorded
        /// before per-language publication).
        public var language: String? = nil
    }

    /// A holding statement: every draft (text and hash per revision), every decision, every publication.
    public struct Statement: Sendable {
        public var instance: String
        public var title: String
        public var enteredAt: Instant
        public var exitedAt: Instant?
        public var outcome: String?
        public var phase: StatementPhase
        public var drafts: [StatementDraft]
        public var decisions: [ApprovalRecord]
        /// By channel, in channel order.
        public var publications: [Delivered]
        /// The approved text sent to the roles the approval rule informs, in the order sent.
        public var informed: [Delivered] = []
        /// Each handover of the spokesperson role, oldest first.
        public var handovers: [SpokespersonHandover] = []
    }

    /// A takedown request: platform, URLs, the notice as submitted (every element), ticket and lifecycle.
    public struct Takedown: Sendable {
        public var instance: String
        public var title: String
        public var enteredAt: Instant
        public var exitedAt: Instant?
        public var outcome: String?
        public var legalBasis: String?
        public var run: TakedownRun
        /// The notice elements by name.
        public var notice: [(name: String, value: String)]
    }

    /// One round of pages and what became of each.
    public struct Attempt: Sendable {
        public var attempt: Int
        public var level: Int
        public var round: Int
        public var at: Instant
        public var pages: [Delivered]
    }

    /// An escalation: every page attempt, every acknowledgement and every attempt recorded as not reached.
    public struct Escalation: Sendable {
        public var instance: String
        public var title: String
        public var enteredAt: Instant
        public var exitedAt: Instant?
        public var outcome: String?
        public var attempts: [Attempt]
        public var acks: [AckRecord]
        public var notReached: [NotReachedRecord]
    }

    /// How a clock or target stands in the report.
    public enum Result: Sendable, Hashable {
        /// Met with this much time to spare.
        case met(spare: PlaybookDuration)
        /// Missed by this much (for a clock never stopped: how far past its deadline it was at close).
        case missed(by: PlaybookDuration)
        /// Still running (an open incident), this much left.
        case running(left: PlaybookDuration)
        /// Closed before its deadline without being stopped or met.
        case notMet
        /// A target whose counting never started.
        case notStarted
    }

    /// A clock's run: started, deadline (and any deadline set by hand), stopped, and how it ended.
    public struct Clock: Sendable {
        public var id: String
        public var title: String
        public var reference: String?
        public var startedAt: Instant
        public var deadline: Instant
        public var stoppedAt: Instant?
        public var deadlineSet: DeadlineChange?
        public var result: Result
    }

    /// A performance target of the playbook: when it began counting, when it was due, when met, and the result.
    public struct Target: Sendable {
        public var id: String
        public var title: String
        public var origin: Instant?
        public var due: Instant?
        public var metAt: Instant?
        public var result: Result
        /// A missed target whose moment came after its deadline: when.
        public var reachedLateAt: Instant? = nil
    }

    /// An operator's note: its record number, time, author and text.
    public struct Note: Sendable {
        public var seq: Int
        public var at: Instant
        public var by: String
        public var text: String
    }

    public var summary: Summary
    /// Every statement, takedown and escalation step instance, finished or active, in the order entered.
    public var statements: [Statement]
    public var takedowns: [Takedown]
    public var escalations: [Escalation]
    /// The clocks that were started, and every target of the playbook.
    public var clocks: [Clock]
    public var targets: [Target]
    /// How many notes the trail holds.
    public var noteCount: Int
    /// The first `chartNoteLimit` notes, for a chart.
    public var firstNotes: [Note]
    /// How many notes `firstNotes` keeps at most.
    public static let chartNoteLimit = 200
    /// The incident as replayed (its definition names the zone, the steps and the contacts).
    public var incident: LoadedIncident
    let store: any AuditLog
    /// A drill started from a scenario: its score and debrief, for the after-action report.
    public var exercise: DrillScore? = nil

    /// The time zone every time is shown in.
    public var zone: ZoneFormat { ZoneFormat(identifier: summary.timeZone) }

    /// A person's name from the pinned contacts directory (`Kari Nordmann (kari)`), or the id as recorded.
    public func person(_ id: String) -> String {
        guard let p = incident.definition.contacts?.person(id), p.name != id else { return id }
        return "\(p.name) (\(id))"
    }

    /// Every record of the incident, typed, one at a time in order: the timeline, without holding it.
    public func forEachEntry(_ body: (TimelineEntry) throws -> Void) throws {
        try store.forEachEvent(incident: summary.incident) { stored in
            try body(TimelineEntry(stored: stored, record: try? TrailRecord.decode(stored)))
        }
    }

    /// Every note of the incident, one at a time in order, read from the trail.
    public func forEachNote(_ body: (Note) throws -> Void) throws {
        try store.forEachEvent(incident: summary.incident) { stored in
            guard stored.type == .note, case .note(let r)? = try? TrailRecord.decode(stored) else { return }
            try body(Note(seq: stored.seq, at: r.now, by: r.actor.name, text: r.text))
        }
    }

    /// How every clock that was started and every target of the playbook stand at `end` (the close, or now):
    /// met with time to spare, missed and by how much, running, not met, not started. The report's and the drill
    /// score's one reading. `reachedLate` says when a missed target's moment came after all (the state keeps only
    /// that it was missed): it is then missed by that much, else by how far past its deadline `end` is.
    public static func standing(_ incident: LoadedIncident, end: Instant, closed: Bool,
                                reachedLate: ((TargetSpec, _ origin: Instant) -> Instant?)? = nil)
        -> (clocks: [Clock], targets: [Target])
    {
        let clocks = incident.state.clocks.map { c -> Clock in
            let spec = incident.definition.playbook.clock(c.id)
            let result: Result
            switch c.ended {
            case .met(let left)?: result = .met(spare: left)
            case .missed(let by)?: result = .missed(by: by)
            case nil:
                let left = c.deadline - end
                result = left.milliseconds < 0 ? .missed(by: PlaybookDuration(milliseconds: -left.milliseconds))
                    : closed ? .notMet : .running(left: left)
            }
            return Clock(id: c.id, title: spec?.title ?? c.id, reference: spec?.reference, startedAt: c.startedAt,
                         deadline: c.deadline, stoppedAt: c.stoppedAt, deadlineSet: c.deadlineSet, result: result)
        }
        let targets = incident.definition.playbook.targets.map { spec -> Target in
            guard let t = incident.state.targets.first(where: { $0.id == spec.id }) else {
                return Target(id: spec.id, title: spec.title, origin: nil, due: nil, metAt: nil,
                              result: closed ? .notMet : .notStarted)
            }
            let result: Result
            if let met = t.metAt {
                result = met <= t.due ? .met(spare: t.due - met) : .missed(by: met - t.due)
            } else if t.missed || end > t.due {
                let late = t.missed ? reachedLate?(spec, t.origin) : nil
                result = .missed(by: (late.map { max($0, t.due) } ?? max(end, t.due)) - t.due)
                return Target(id: t.id, title: spec.title, origin: t.origin, due: t.due, metAt: nil, result: result,
                              reachedLateAt: late)
            } else {
                result = closed ? .notMet : .running(left: t.due - end)
            }
            return Target(id: t.id, title: spec.title, origin: t.origin, due: t.due, metAt: t.metAt, result: result)
        }
        return (clocks, targets)
    }

    /// Builds the report of incident `id`: replays it, then reads its records once for what the state does not
    /// keep (when each delivery was settled and by whom, notes, the close reason, who acted as lead).
    ///
    /// `replayed` is called with the replayed incident before that pass, and `each` with every record the pass
    /// reads, in order, typed as `forEachEntry` gives it: a writer lays out the timeline in the same pass instead
    /// of reading the trail again.
    public static func build(service: IncidentService, incident id: String,
                             replayed: (LoadedIncident) throws -> Void = { _ in },
                             each: (TimelineEntry) throws -> Void = { _ in }) throws -> IncidentReport
    {
        let incident = try service.load(id)
        try replayed(incident)
        let def = incident.definition
        let state = incident.state
        let leadRoles = Set(def.playbook.roles.filter(\.lead).map(\.id))
        var settled: [String: (at: Instant, by: String)] = [:]
        var notes: [Note] = []
        var noteCount = 0
        var closeReason: String?
        var closedBy: String?
        var leads: [String] = []
        var openedBy = ""
        var count = 0
        var last = incident.opened.now
        var head = ""
        // Targets missed at their deadline whose moment came later after all: when (the state keeps only the miss).
        let missed = def.playbook.targets.compactMap { spec -> (TargetSpec, Instant)? in
            guard let t = state.targets.first(where: { $0.id == spec.id }), t.missed, t.metAt == nil else { return nil }
            return (spec, t.origin)
        }
        var lateReach: [String: Instant] = [:]
        try service.store.forEachEntryAhead(incident: id) { entry in
            let stored = entry.stored
            count += 1
            head = stored.entryHashHex
            if stored.seq == 1 { openedBy = stored.actor.id }
            let decoded = entry.record
            try each(entry)
            guard let record = decoded else { return }
            if let now = record.now, now > last { last = now }
            if !missed.isEmpty, let now = record.now {
                for (spec, origin) in missed where lateReach[spec.id] == nil && origin < now
                    && DrillScore.reaches(record, step: spec.step.value, state: spec.reaches?.value ?? spec.outcome.value)
                {
                    lateReach[spec.id] = now
                }
            }
            if let actor = record.actor, let role = actor.role, leadRoles.contains(role), !leads.contains(actor.name) {
                leads.append(actor.name)
            }
            switch record {
            case .outcome(let r) where r.result.isEnd: settled[r.key] = (r.now, r.actor.name)
            case .note(let r):
                noteCount += 1
                if notes.count < chartNoteLimit {
                    notes.append(Note(seq: stored.seq, at: r.now, by: r.actor.name, text: r.text))
                }
            case .action(let r) where r.step == Engine.incidentStep && r.action == StepAction.close.rawValue:
                closeReason = r.fields["reason"]
                closedBy = r.actor.name
            default: break
            }
        }
        var outcome: String?
        if case .closed(let o) = state.status { outcome = o }
        let summary = Summary(
            incident: id, title: def.title, playbookID: def.playbook.id, playbookVersion: def.playbook.version,
            playbookTitle: def.playbook.title, playbookSHA256: def.playbookSHA256, isDrill: incident.isDrill,
            timeZone: def.playbook.timeZone, openedAt: state.startedAt, openedBy: openedBy,
            closedAt: outcome == nil ? nil : (state.closedAt ?? last), outcome: outcome, closeReason: closeReason,
            closedBy: closedBy, leads: leads.isEmpty ? [openedBy] : leads, lastRecordAt: last, records: count,
            chainHead: head, inputs: def.inputs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })

        let deliveries = Dictionary(state.deliveries.map { ($0.delivery.key, $0) }, uniquingKeysWith: { _, b in b })
        func delivered(_ key: String) -> Delivered? {
            guard let d = deliveries[key] else { return nil }
            return Delivered(key: key, channel: d.delivery.channel, recipients: d.delivery.recipients,
                             purpose: d.delivery.purpose, status: d.status.rawValue, detail: d.detail,
                             settledAt: settled[key]?.at, settledBy: settled[key]?.by)
        }

        // Every step instance, finished or active, in the order it was entered.
        struct Instance {
            var instance, stepID: String
            var entered: Instant
            var exited: Instant?
            var outcome: String?
            var detail: StepDetail
            var spec: StepProgress?
        }
        var instances = state.history.map {
            Instance(instance: $0.instance, stepID: $0.stepID, entered: $0.enteredAt, exited: $0.exitedAt,
                     outcome: $0.outcome, detail: $0.detail, spec: nil)
        }
        instances += state.active.map {
            Instance(instance: $0.instance, stepID: $0.stepID, entered: $0.enteredAt, exited: nil, outcome: nil,
                     detail: $0.detail, spec: $0.progress)
        }
        instances.sort { $0.entered < $1.entered }
        var statements: [Statement] = []
        var takedowns: [Takedown] = []
        var escalations: [Escalation] = []
        for i in instances {
            let title = def.playbook.step(i.stepID)?.title ?? i.stepID
            switch i.detail {
            case .statement(let s):
                statements.append(Statement(
                    instance: i.instance, title: title, enteredAt: i.entered, exitedAt: i.exited, outcome: i.outcome,
                    phase: s.phase, drafts: s.drafts, decisions: s.decisions,
                    publications: s.latestPublications.compactMap { p in
                        delivered(p.key).map { var d = $0; d.language = p.language; return d }
                    },
                    informed: s.informed.compactMap { delivered($0) }, handovers: s.handovers))
            case .takedown(let t):
                var basis: String?
                if case .takedown(let spec)? = def.playbook.step(i.stepID)?.kind { basis = spec.basis.rawValue }
                takedowns.append(Takedown(
                    instance: i.instance, title: title, enteredAt: i.entered, exitedAt: i.exited, outcome: i.outcome,
                    legalBasis: basis, run: t, notice: t.notice.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
            case .escalation(let e):
                escalations.append(Escalation(
                    instance: i.instance, title: title, enteredAt: i.entered, exitedAt: i.exited, outcome: i.outcome,
                    attempts: e.attempts.map { a in
                        Attempt(attempt: a.attempt, level: a.level, round: a.round, at: a.at,
                                pages: a.deliveryKeys.compactMap(delivered))
                    }, acks: e.acks, notReached: e.notReached))
            default: break
            }
        }

        let (clocks, targets) = standing(incident, end: summary.closedAt ?? incident.now, closed: outcome != nil) { spec, _ in
            lateReach[spec.id]
        }
        var report = IncidentReport(summary: summary, statements: statements, takedowns: takedowns,
                                    escalations: escalations, clocks: clocks, targets: targets, noteCount: noteCount,
                                    firstNotes: notes, incident: incident, store: service.store)
        if incident.opened.scenario != nil { report.exercise = try DrillScore.compute(service, id) }
        return report
    }
}
