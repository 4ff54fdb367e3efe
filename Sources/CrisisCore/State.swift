/// The state of one incident: a pure fold over its events (`Engine.start` then `Engine.handle` for each).
///
/// Nothing here is read from a clock or a disk; replaying the same events at the same instants gives the same
/// state, which is what `crisis` relies on to resume after a crash.
public struct IncidentState: Sendable, Hashable, Codable {
    /// What the incident runs on, pinned at start.
    public let definition: RunDefinition
    public let startedAt: Instant
    public internal(set) var status: IncidentStatus
    /// Active step instances, in the order they became active.
    public internal(set) var active: [StepRun]
    /// Armed timers. The shell fires each whose `due` has come, earliest first, as `timerFired(id)`.
    public internal(set) var timers: [TimerEntry]
    public internal(set) var clocks: [ClockRun]
    public internal(set) var targets: [TargetRun]
    /// The cadences that have started (Cadence.swift), in the order they started.
    public internal(set) var cadences: [CadenceRun]
    /// Every outbound delivery the engine asked for, by key, with its latest result.
    public internal(set) var deliveries: [DeliveryRecord]
    /// Finished step instances, in the order they finished.
    public internal(set) var history: [StepRecord]
    /// How often each step id has been entered.
    public internal(set) var visits: [String: Int]
    /// The run deadline, if the playbook has one.
    public internal(set) var runDeadline: RunDeadline?
    /// Counter for timer ids and delivery keys: makes every id unique and deterministic.
    public internal(set) var serial: Int
    /// Step id to field name to the last value an operator recorded on an accepted action of that step (any
    /// instance; `confirm_delivery` left out; a statement draft's facts included). Later texts read it as
    /// `{{steps.STEP.FIELD}}` (TemplateModel).
    public internal(set) var recordedFields: [String: [String: String]]
    /// When the incident closed (nil while open, and for states folded before this was kept). Clocks and targets
    /// are final from then on: shown as they stood at that instant.
    public internal(set) var closedAt: Instant?
    /// Every decision taken on a choice an operator makes (or its timeout default), in order.
    public internal(set) var decisions: [DecisionRecord] = []
    /// Objections raised on choices (`object`), with who overrode them.
    public internal(set) var objections: [ObjectionRecord] = []
    /// The "considered / not applicable" register: the last decision on each obligation (`consider`), in order.
    public internal(set) var considerations: [ObligationDecision] = []

    init(definition: RunDefinition, startedAt: Instant) {
        self.definition = definition
        self.startedAt = startedAt
        self.status = .open
        self.active = []
        self.timers = []
        self.clocks = []
        self.targets = []
        self.cadences = []
        self.deliveries = []
        self.history = []
        self.visits = [:]
        self.runDeadline = nil
        self.serial = 0
        self.recordedFields = [:]
        self.closedAt = nil
    }

    /// The active instance with this id.
    public func run(_ instance: String) -> StepRun? { active.first { $0.instance == instance } }

    /// The earliest armed timer.
    public var nextTimer: TimerEntry? { timers.min { ($0.due, $0.order) < ($1.due, $1.order) } }

    /// Deliveries asked for and not yet finished: in flight, or waiting for an operator to confirm.
    public var openDeliveries: [DeliveryRecord] { deliveries.filter { !$0.status.isFinal } }

    /// When the run deadline is (or was), if the playbook has one.
    public var deadline: Instant? { runDeadline?.due }

    /// Whether the run deadline has passed.
    public var deadlineExceeded: Bool { if case .passed? = runDeadline { true } else { false } }
}

extension IncidentState {
    /// The key under which a decoder's `userInfo` carries the `RunDefinition` of the state being decoded.
    public static let definitionKey = CodingUserInfoKey(rawValue: "crisis.runDefinition")!

    enum CodingKeys: String, CodingKey {
        case startedAt, status, active, timers, clocks, targets, deliveries, history, visits, runDeadline, serial
        case recordedFields, closedAt, cadences
        case decisions, objections, considerations
    }

    /// Decodes a state encoded by `encode(to:)`. The definition is not part of the encoding (it is pinned with
    /// the incident and rebuilt from its bytes): the decoder's `userInfo[definitionKey]` supplies it.
    public init(from decoder: any Decoder) throws {
        guard let definition = decoder.userInfo[Self.definitionKey] as? RunDefinition else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "no RunDefinition in userInfo[definitionKey]"))
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.definition = definition
        startedAt = try c.decode(Instant.self, forKey: .startedAt)
        status = try c.decode(IncidentStatus.self, forKey: .status)
        active = try c.decode([StepRun].self, forKey: .active)
        timers = try c.decode([TimerEntry].self, forKey: .timers)
        clocks = try c.decode([ClockRun].self, forKey: .clocks)
        targets = try c.decode([TargetRun].self, forKey: .targets)
        deliveries = try c.decode([DeliveryRecord].self, forKey: .deliveries)
        history = try c.decode([StepRecord].self, forKey: .history)
        visits = try c.decode([String: Int].self, forKey: .visits)
        runDeadline = try c.decodeIfPresent(RunDeadline.self, forKey: .runDeadline)
        serial = try c.decode(Int.self, forKey: .serial)
        recordedFields = try c.decode([String: [String: String]].self, forKey: .recordedFields)
        closedAt = try c.decodeIfPresent(Instant.self, forKey: .closedAt)
        cadences = try c.decodeIfPresent([CadenceRun].self, forKey: .cadences) ?? []
        decisions = try c.decodeIfPresent([DecisionRecord].self, forKey: .decisions) ?? []
        objections = try c.decodeIfPresent([ObjectionRecord].self, forKey: .objections) ?? []
        considerations = try c.decodeIfPresent([ObligationDecision].self, forKey: .considerations) ?? []
    }

    /// Everything but the definition, which the incident pins separately.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(status, forKey: .status)
        try c.encode(active, forKey: .active)
        try c.encode(timers, forKey: .timers)
        try c.encode(clocks, forKey: .clocks)
        try c.encode(targets, forKey: .targets)
        try c.encode(deliveries, forKey: .deliveries)
        try c.encode(history, forKey: .history)
        try c.encode(visits, forKey: .visits)
        try c.encodeIfPresent(runDeadline, forKey: .runDeadline)
        try c.encode(serial, forKey: .serial)
        try c.encode(recordedFields, forKey: .recordedFields)
        try c.encodeIfPresent(closedAt, forKey: .closedAt)
        try c.encode(cadences, forKey: .cadences)
        if !decisions.isEmpty { try c.encode(decisions, forKey: .decisions) }
        if !objections.isEmpty { try c.encode(objections, forKey: .objections) }
        if !considerations.isEmpty { try c.encode(considerations, forKey: .considerations) }
    }
}

/// The run deadline: armed at start, passed when its timer fires.
public enum RunDeadline: Sendable, Hashable, Codable {
    case pending(due: Instant)
    case passed(due: Instant)

    public var due: Instant {
        switch self {
        case .pending(let due), .passed(let due): due
        }
    }
}

public enum IncidentStatus: Sendable, Hashable, Codable {
    case open
    case closed(outcome: String)

    public var isOpen: Bool { if case .open = self { true } else { false } }
}

/// One armed timer: an absolute due time, never a countdown.
public struct TimerEntry: Sendable, Hashable, Codable {
    /// Unique per incident, stable under replay (`t12`): a timer that fires after it was replaced is ignored.
    public let id: String
    public let due: Instant
    /// The step instance it belongs to, if any.
    public let step: String?
    public let purpose: TimerPurpose
    public init(id: String, due: Instant, step: String?, purpose: TimerPurpose) {
        self.id = id
        self.due = due
        self.step = step
        self.purpose = purpose
    }

    /// Arming order, for timers due at the same instant: the serial number in the id (`t12` is 12), so `t9`
    /// fires before `t10`.
    public var order: Int { Int(id.dropFirst()) ?? Int.max }
}

public enum TimerPurpose: Sendable, Hashable, Codable {
    /// The step's own timeout.
    case stepTimeout
    /// A statement's approval window; when it passes, fallback approvers may approve.
    case approvalFallback
    /// An escalation level's acknowledgement timeout (for an inform-only level: its wait).
    case ackTimeout(level: Int, round: Int)
    /// A sequential level's next channel (`every:`).
    case nextChannel(level: Int, round: Int)
    /// `reescalate_after`: the acknowledged escalation `escalation` pages `level` unless the step the
    /// acknowledgement routed to (the timer's step) has had an accepted action or finished meanwhile.
    case reescalate(escalation: String, level: Int)
    /// A takedown follow-up reminder.
    case followUp
    /// A takedown's give-up time: `no_response`.
    case noResponse
    /// A pure `wait` delay.
    case delay
    /// A clock warning, `before` its deadline.
    case clockWarning(clock: String, before: PlaybookDuration)
    case clockDeadline(clock: String)
    case targetDeadline(target: String)
    /// A cadence's occurrence `occurrence` (1-based) is due: missed unless it was met meanwhile.
    case cadenceDue(cadence: String, occurrence: Int)
    case runDeadline
}

/// An active step instance.
///
/// Its lifecycle is drawn at the top of Engine.swift.
public struct StepRun: Sendable, Hashable, Codable {
    /// `stepid`, or `stepid[n]` for the n-th (1-based) item of a foreach.
    public let instance: String
    public let stepID: String
    public let enteredAt: Instant
    /// When the step times out, if it can.
    public internal(set) var dueAt: Instant?
    /// The parallel step and branch, or the foreach step and item, this instance runs inside.
    public let scope: Scope?
    /// The step's spec with its progress: the progress always matches the step's kind.
    public internal(set) var progress: StepProgress

    init(instance: String, stepID: String, enteredAt: Instant, dueAt: Instant? = nil, scope: Scope? = nil,
         progress: StepProgress) {
        self.instance = instance
        self.stepID = stepID
        self.enteredAt = enteredAt
        self.dueAt = dueAt
        self.scope = scope
        self.progress = progress
    }

    /// The step-type specific progress, without the spec.
    public var detail: StepDetail { progress.detail }
}

public enum Scope: Sendable, Hashable, Codable {
    case branch(parallel: String, branch: String)
    case item(foreach: String, index: Int, value: String)
    /// A step a clock's warning or expiry entered (`on_warning`, `on_expiry`), and the steps its routes lead to:
    /// they run beside the main flow; an `end` or a missing route finishes the route, never the incident.
    case clockRoute(clock: String)
    /// A step a choice's timeout escalated to (`on_timeout: {escalate: STEP}`), and the steps its routes lead
    /// to: like a clock's route, beside the main flow while the choice waits on.
    case timeoutRoute(choice: String)
}

/// An active step's spec paired with its progress: a statement step always has a statement run, and so on.
public enum StepProgress: Sendable, Hashable, Codable {
    case choice(ChoiceSpec)
    case task(TaskSpec)
    case statement(StatementSpec, StatementRun)
    case takedown(TakedownSpec, TakedownRun)
    case escalation(EscalateSpec, EscalationRun)
    case notify(NotifySpec, NotifyRun)
    case clock(ClockStepSpec)
    case wait(WaitSpec)
    case parallel(ParallelSpec, ParallelRun)
    case foreach(ForeachSpec, ForeachRun)
    case end(EndSpec)
    case submission(SubmissionSpec, SubmissionRun)

    /// The kind of the step.
    public var stepType: StepType {
        switch self {
        case .choice: .choice
        case .task: .task
        case .statement: .holdingStatement
        case .takedown: .takedown
        case .escalation: .escalate
        case .notify: .notify
        case .clock: .clock
        case .wait: .wait
        case .parallel: .parallel
        case .foreach: .foreach
        case .end: .end
        case .submission: .submission
        }
    }

    /// The progress without the spec, as history keeps it.
    public var detail: StepDetail {
        switch self {
        case .choice, .task, .clock, .wait, .end: .simple
        case .statement(_, let s): .statement(s)
        case .takedown(_, let t): .takedown(t)
        case .escalation(_, let e): .escalation(e)
        case .notify(_, let n): .notify(n)
        case .parallel(_, let p): .parallel(p)
        case .foreach(_, let f): .foreach(f)
        case .submission(_, let r): .submission(r)
        }
    }
}

/// Step-type specific progress, as a finished instance keeps it in the history.
public enum StepDetail: Sendable, Hashable, Codable {
    case simple
    case statement(StatementRun)
    case takedown(TakedownRun)
    case escalation(EscalationRun)
    case notify(NotifyRun)
    case parallel(ParallelRun)
    case foreach(ForeachRun)
    case submission(SubmissionRun)
}

public struct StatementDraft: Sendable, Hashable, Codable {
    public var revision: Int
    /// The drafter's facts: `NAME` for one value in every language, `NAME.<lang>` for one language.
    public var facts: [String: String]
    /// Rendered text per language (`nb`, `en`): the default text, for every channel without a variant.
    public var texts: [String: String]
    /// Channel to its variant's text per language (`x` -> `en` -> short text). Empty without variants.
    public var variants: [String: [String: String]]
    /// The statement's languages as drafted, in order. Empty for drafts recorded before per-language
    /// publication: such a draft is published once per channel, in one language (`publish` then works as it did).
    public var languages: [String]
    /// SHA-256 (hex) of the rendered texts as the runtime computed it; approvals bind to it.
    public var sha256: String
    public var drafter: String
    public var at: Instant
    /// The measures and failed checks the shell recorded at draft (empty in trails written before crisis/0.4).
    public var checks: DraftChecks = DraftChecks()
    public init(revision: Int, facts: [String: String], texts: [String: String], sha256: String, drafter: String,
                at: Instant, variants: [String: [String: String]] = [:], languages: [String] = []) {
        self.revision = revision
        self.facts = facts
        self.texts = texts
        self.sha256 = sha256
        self.drafter = drafter
        self.at = at
        self.variants = variants
        self.languages = languages
    }

    /// The text that goes out on `channel` in `language`: the channel's variant if it has one, else the default.
    public func text(channel: String, language: String) -> String {
        variants[channel]?[language] ?? texts[language] ?? ""
    }
}

/// A publication of an approved statement asked for on one channel, in one language.
public struct StatementPublication: Sendable, Hashable, Codable {
    public var channel: String
    /// Nil for a publication of a draft recorded before per-language publication (one per channel).
    public var language: String?
    /// The delivery's key.
    public var key: String
    public init(channel: String, language: String?, key: String) {
        self.channel = channel
        self.language = language
        self.key = key
    }
}

public struct ApprovalRecord: Sendable, Hashable, Codable {
    public var person: String
    public var role: String
    public var revision: Int
    public var sha256: String
    public var approved: Bool
    public var reason: String?
    public var at: Instant
    /// An approval of a revision that fails checks (its draft's `checks.findings`): the approver's reason for
    /// accepting it anyway (field `override`). Nil otherwise.
    public var override: String? = nil
    public init(person: String, role: String, revision: Int, sha256: String, approved: Bool, reason: String?,
                at: Instant) {
        self.person = person
        self.role = role
        self.revision = revision
        self.sha256 = sha256
        self.approved = approved
        self.reason = reason
        self.at = at
    }
}

/// The statement's spokesperson role passed to another person (`handover`), recorded in the trail.
public struct SpokespersonHandover: Sendable, Hashable, Codable {
    /// Who spoke for the statement before (nil: nobody was named).
    public var from: String?
    /// Who speaks for it from now on: a person of the directory (its id), or a name as given without one.
    public var to: String
    /// Who handed it over.
    public var by: String
    public var reason: String?
    public var at: Instant
    public init(from: String?, to: String, by: String, reason: String?, at: Instant) {
        self.from = from
        self.to = to
        self.by = by
        self.reason = reason
        self.at = at
    }
}

public enum StatementPhase: String, Sendable, Hashable, Codable {
    /// No draft yet, or the last one was rejected.
    case drafting
    /// A draft waits for approvals.
    case awaitingApproval = "awaiting_approval"
    /// Quorum reached: the text is locked by its hash and may be published.
    case approved
    /// Publication asked for on every channel; waiting for the deliveries.
    case publishing
}

/// A holding statement's progress. Its phases are drawn at the top of EngineStatement.swift.
public struct StatementRun: Sendable, Hashable, Codable {
    public internal(set) var phase: StatementPhase
    public internal(set) var drafts: [StatementDraft]
    public internal(set) var decisions: [ApprovalRecord]
    /// Whether the approval window has passed, so fallback roles may approve.
    public internal(set) var fallbackOpen: Bool
    /// Publications asked for, in order; a channel and language published again after a failure appears again.
    public internal(set) var publications: [StatementPublication]
    /// The approval window's timer for the current revision (its id), while it is armed: a new revision replaces
    /// it, so the window counts from the current revision. Nil in incidents opened before crisis/0.4.
    public internal(set) var fallbackTimer: String?
    /// Each handover of the spokesperson role, oldest first (`handover`).
    public internal(set) var handovers: [SpokespersonHandover]
    /// Delivery keys of the approved text sent to the people the approval rule informs (`inform:`).
    public internal(set) var informed: [String]
    public init() {
        phase = .drafting
        drafts = []
        decisions = []
        fallbackOpen = false
        publications = []
        fallbackTimer = nil
        handovers = []
        informed = []
    }
    public var current: StatementDraft? { drafts.last }

    /// The latest publication on `channel` in `language` (nil: any language, as drafts recorded before
    /// per-language publication were published).
    public func publication(channel: String, language: String?) -> StatementPublication? {
        publications.last { $0.channel == channel && (language == nil || $0.language == language) }
    }

    /// The latest publication of each channel and language (an earlier one that failed and was published again
    /// is left out), by channel name, then in the order the languages were first asked for.
    public var latestPublications: [StatementPublication] {
        var out: [StatementPublication] = []
        for p in publications {
            if let i = out.firstIndex(where: { $0.channel == p.channel && $0.language == p.language }) {
                out[i] = p
            } else {
                out.append(p)
            }
        }
        return out.enumerated().sorted { ($0.element.channel, $0.offset) < ($1.element.channel, $1.offset) }.map(\.element)
    }
}

/// A takedown request's progress. Its status is drawn at the top of EngineTakedown.swift; `submit` needs
/// every notice element of the legal basis.
public struct TakedownRun: Sendable, Hashable, Codable {
    public internal(set) var status: TakedownStatus
    public internal(set) var platform: String
    public internal(set) var urls: [String]
    /// Notice element name to value.
    public internal(set) var notice: [String: String]
    public internal(set) var ticket: String?
    public internal(set) var submission: TakedownSubmission?
    public internal(set) var history: [TakedownTransition]
    /// The platform's answer for each URL so far (`url_result`), in the order recorded; the last for a URL counts.
    public internal(set) var urlResults: [TakedownURLResult]
    /// When the platform said it will decide (`pending`).
    public internal(set) var pendingUntil: Instant?
    /// DMCA: the counter-notice and its restore window (`counter_notice`).
    public internal(set) var counterNotice: CounterNotice?
    public init(platform: String, urls: [String], notice: [String: String] = [:]) {
        self.status = .drafting
        self.platform = platform
        self.urls = urls
        self.notice = notice
        self.ticket = nil
        self.submission = nil
        self.history = []
        self.urlResults = []
        self.pendingUntil = nil
        self.counterNotice = nil
    }

    enum CodingKeys: String, CodingKey {
        case status, platform, urls, notice, ticket, submission, history, urlResults, pendingUntil, counterNotice
    }

    // The later fields are written only when set, so a run without them encodes as it always did.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        status = try c.decode(TakedownStatus.self, forKey: .status)
        platform = try c.decode(String.self, forKey: .platform)
        urls = try c.decode([String].self, forKey: .urls)
        notice = try c.decode([String: String].self, forKey: .notice)
        ticket = try c.decodeIfPresent(String.self, forKey: .ticket)
        submission = try c.decodeIfPresent(TakedownSubmission.self, forKey: .submission)
        history = try c.decode([TakedownTransition].self, forKey: .history)
        urlResults = try c.decodeIfPresent([TakedownURLResult].self, forKey: .urlResults) ?? []
        pendingUntil = try c.decodeIfPresent(Instant.self, forKey: .pendingUntil)
        counterNotice = try c.decodeIfPresent(CounterNotice.self, forKey: .counterNotice)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(status, forKey: .status)
        try c.encode(platform, forKey: .platform)
        try c.encode(urls, forKey: .urls)
        try c.encode(notice, forKey: .notice)
        try c.encodeIfPresent(ticket, forKey: .ticket)
        try c.encodeIfPresent(submission, forKey: .submission)
        try c.encode(history, forKey: .history)
        if !urlResults.isEmpty { try c.encode(urlResults, forKey: .urlResults) }
        try c.encodeIfPresent(pendingUntil, forKey: .pendingUntil)
        try c.encodeIfPresent(counterNotice, forKey: .counterNotice)
    }

    /// The latest result recorded for each URL, in the order of `urls`.
    public var resultByURL: [(url: String, result: TakedownURLResult?)] {
        urls.map { url in (url, urlResults.last { $0.url == url }) }
    }
    /// When the request was submitted.
    public var submittedAt: Instant? { submission?.at }
    /// Who submitted it.
    public var submittedBy: String? { submission?.by }
}

/// The platform's answer for one URL of a request.
public struct TakedownURLResult: Sendable, Hashable, Codable {
    public var url: String
    /// `removed`, `restricted`, `labelled` or `refused` (`TakedownStatus.urlResults`).
    public var result: TakedownStatus
    public var note: String?
    public var by: String
    public var at: Instant
    public init(url: String, result: TakedownStatus, note: String?, by: String, at: Instant) {
        self.url = url
        self.result = result
        self.note = note
        self.by = by
        self.at = at
    }
}

/// A DMCA counter-notice (17 U.S.C. 512(g)): when the platform received it and the window in which it may put
/// the material back (not less than 10, not more than 14 US business days after receipt) unless told that a
/// court action was filed.
public struct CounterNotice: Sendable, Hashable, Codable {
    /// When the platform received the counter-notice.
    public var received: Instant
    /// The earliest restore: the start of the 10th US business day after receipt (US Eastern time).
    public var restoreFrom: Instant
    /// The latest restore: the end of the 14th US business day after receipt (US Eastern time).
    public var restoreBy: Instant
    public init(received: Instant, restoreFrom: Instant, restoreBy: Instant) {
        self.received = received
        self.restoreFrom = restoreFrom
        self.restoreBy = restoreBy
    }
}

/// When and by whom a takedown request was submitted.
public struct TakedownSubmission: Sendable, Hashable, Codable {
    public var at: Instant
    public var by: String
    public init(at: Instant, by: String) {
        self.at = at
        self.by = by
    }
}

public struct TakedownTransition: Sendable, Hashable, Codable {
    public var from: TakedownStatus
    public var to: TakedownStatus
    public var by: String
    public var at: Instant
    public var note: String?
    public init(from: TakedownStatus, to: TakedownStatus, by: String, at: Instant, note: String?) {
        self.from = from
        self.to = to
        self.by = by
        self.at = at
        self.note = note
    }
}

/// One resolved escalation level: concrete people (or unresolved roles when there is no directory), resolved
/// when the escalation is entered and again when the level is paged (availability is read at that instant).
public struct ResolvedLevel: Sendable, Hashable, Codable {
    public var targets: [String]
    public var ackTimeout: PlaybookDuration
    public var channels: [String]
    public var ack: AckMode
    public var attempts: AttemptMode
    public var every: PlaybookDuration?
    public var inform: Bool
    /// Targets replaced by a deputy, or paged although nobody in their chain is available.
    public var substitutions: [Substitution]
    public init(targets: [String], ackTimeout: PlaybookDuration, channels: [String], ack: AckMode = .any,
                attempts: AttemptMode = .first, every: PlaybookDuration? = nil, inform: Bool = false,
                substitutions: [Substitution] = []) {
        self.targets = targets
        self.ackTimeout = ackTimeout
        self.channels = channels
        self.ack = ack
        self.attempts = attempts
        self.every = every
        self.inform = inform
        self.substitutions = substitutions
    }

    enum CodingKeys: String, CodingKey { case targets, ackTimeout, channels, ack, attempts, every, inform, substitutions }

    /// Decodes with the defaults of a level saved before the escalation shapes existed.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        targets = try c.decode([String].self, forKey: .targets)
        ackTimeout = try c.decode(PlaybookDuration.self, forKey: .ackTimeout)
        channels = try c.decode([String].self, forKey: .channels)
        ack = try c.decodeIfPresent(AckMode.self, forKey: .ack) ?? .any
        attempts = try c.decodeIfPresent(AttemptMode.self, forKey: .attempts) ?? .first
        every = try c.decodeIfPresent(PlaybookDuration.self, forKey: .every)
        inform = try c.decodeIfPresent(Bool.self, forKey: .inform) ?? false
        substitutions = try c.decodeIfPresent([Substitution].self, forKey: .substitutions) ?? []
    }

    /// The targets paged although nobody in their deputy chain was available.
    public var outsideAvailability: [String] { substitutions.filter(\.outsideAvailability).map(\.person) }
}

/// A target who could not be paged at the instant their level was paged, and what was done about it.
public struct Substitution: Sendable, Hashable, Codable {
    /// The person the level names (directly or through a role).
    public var person: String
    /// Everyone in the deputy chain who was skipped, the person first, with why.
    public var skipped: [SkippedPerson]
    /// Who was paged instead; nil when nobody in the chain was available (then `person` is paged, marked outside
    /// availability).
    public var standIn: String?
    /// The roles of `person` the stand-in holds for the rest of the incident (`deputy_holds_roles: true`).
    public var heldRoles: [String]
    public init(person: String, skipped: [SkippedPerson], standIn: String?, heldRoles: [String] = []) {
        self.person = person
        self.skipped = skipped
        self.standIn = standIn
        self.heldRoles = heldRoles
    }
    /// Whether the person was paged although unavailable.
    public var outsideAvailability: Bool { standIn == nil }
}

/// Someone skipped in a deputy chain, and why (`outside availability windows`, `on a flight until ...`).
public struct SkippedPerson: Sendable, Hashable, Codable {
    public var person: String
    public var reason: String
    public init(person: String, reason: String) {
        self.person = person
        self.reason = reason
    }
}

/// One round of pages: a level being paged, or the next channel of a sequential level.
public struct PageAttempt: Sendable, Hashable, Codable {
    public var attempt: Int
    public var level: Int
    public var round: Int
    public var targets: [String]
    public var deliveryKeys: [String]
    public var at: Instant
    /// The channel of each delivery (parallel to `deliveryKeys`; empty in escalations saved before channels were
    /// recorded).
    public var channels: [String]
    /// The person of each delivery (parallel to `deliveryKeys`; empty in older saves, where it is `targets`).
    public var recipients: [String]
    public init(attempt: Int, level: Int, round: Int, targets: [String], deliveryKeys: [String], at: Instant,
                channels: [String] = [], recipients: [String] = []) {
        self.attempt = attempt
        self.level = level
        self.round = round
        self.targets = targets
        self.deliveryKeys = deliveryKeys
        self.at = at
        self.channels = channels
        self.recipients = recipients
    }

    enum CodingKeys: String, CodingKey { case attempt, level, round, targets, deliveryKeys, at, channels, recipients }

    /// Decodes with the defaults of an attempt saved before channels were recorded.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        attempt = try c.decode(Int.self, forKey: .attempt)
        level = try c.decode(Int.self, forKey: .level)
        round = try c.decode(Int.self, forKey: .round)
        targets = try c.decode([String].self, forKey: .targets)
        deliveryKeys = try c.decode([String].self, forKey: .deliveryKeys)
        at = try c.decode(Instant.self, forKey: .at)
        channels = try c.decodeIfPresent([String].self, forKey: .channels) ?? []
        recipients = try c.decodeIfPresent([String].self, forKey: .recipients) ?? []
    }
}

/// An accepted acknowledgement: who, on which channel, recorded by whom.
public struct AckRecord: Sendable, Hashable, Codable {
    /// The person who acknowledged (a directory id when there is a directory, else as written).
    public var person: String
    /// How they were reached: the `via` field, else the channel of the last page to them.
    public var channel: String?
    /// The absent person `person` stands in for, when they acknowledged as a deputy.
    public var standingInFor: String?
    /// Whether it counted towards the level (false for someone paged only by an inform-only level).
    public var counted: Bool
    public var level: Int
    public var round: Int
    /// The operator who recorded it.
    public var recordedBy: String
    public var at: Instant
    public init(person: String, channel: String?, standingInFor: String?, counted: Bool, level: Int, round: Int,
                recordedBy: String, at: Instant) {
        self.person = person
        self.channel = channel
        self.standingInFor = standingInFor
        self.counted = counted
        self.level = level
        self.round = round
        self.recordedBy = recordedBy
        self.at = at
    }
}

/// A page attempt recorded as not reaching its person (the `not_reached` action).
public struct NotReachedRecord: Sendable, Hashable, Codable {
    public var person: String
    public var channel: String?
    public var detail: String?
    public var recordedBy: String
    public var at: Instant
    public init(person: String, channel: String?, detail: String?, recordedBy: String, at: Instant) {
        self.person = person
        self.channel = channel
        self.detail = detail
        self.recordedBy = recordedBy
        self.at = at
    }
}

public struct EscalationRun: Sendable, Hashable, Codable {
    public internal(set) var levels: [ResolvedLevel]
    /// 0-based index into `levels`.
    public internal(set) var level: Int
    /// 0-based repeat round.
    public internal(set) var round: Int
    /// How many rounds after the first the policy allows.
    public internal(set) var repeats: Int
    public internal(set) var attempts: [PageAttempt]
    /// Who completed the acknowledgement, as the `by` field gave it (the first counted ack with `ack: any`, the
    /// last missing one with `all`); `acks` holds directory ids.
    public internal(set) var acknowledgedBy: String?
    /// Every accepted acknowledgement, in order.
    public internal(set) var acks: [AckRecord]
    /// Attempts recorded as not reached.
    public internal(set) var notReached: [NotReachedRecord]
    public init(levels: [ResolvedLevel], repeats: Int = 0) {
        self.levels = levels
        self.level = 0
        self.round = 0
        self.repeats = repeats
        self.attempts = []
        self.acknowledgedBy = nil
        self.acks = []
        self.notReached = []
    }

    enum CodingKeys: String, CodingKey { case levels, level, round, repeats, attempts, acknowledgedBy, acks, notReached }

    /// Decodes with the defaults of an escalation saved before acks were recorded one by one.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        levels = try c.decode([ResolvedLevel].self, forKey: .levels)
        level = try c.decode(Int.self, forKey: .level)
        round = try c.decode(Int.self, forKey: .round)
        repeats = try c.decode(Int.self, forKey: .repeats)
        attempts = try c.decode([PageAttempt].self, forKey: .attempts)
        acknowledgedBy = try c.decodeIfPresent(String.self, forKey: .acknowledgedBy)
        acks = try c.decodeIfPresent([AckRecord].self, forKey: .acks) ?? []
        notReached = try c.decodeIfPresent([NotReachedRecord].self, forKey: .notReached) ?? []
    }

    /// Everyone paged in this escalation so far, in order.
    public var paged: [String] {
        var out: [String] = []
        for a in attempts { for t in a.targets where !out.contains(t) { out.append(t) } }
        return out
    }

    /// The last acknowledgement, for the log: who and on which channel.
    public var lastAck: AckRecord? { acks.last }
}

public struct NotifyRun: Sendable, Hashable, Codable {
    /// Channel to delivery key, for a notification to a named audience (one delivery per channel). Empty for a
    /// distribution list, whose deliveries are in `keys`.
    public internal(set) var deliveries: [String: String]
    /// Every delivery of the step in the order asked for, retries included (empty in runs saved before lists
    /// and retries existed: then the values of `deliveries`).
    public internal(set) var keys: [String]
    /// The distribution list sent to (`list:`), its name for people, and its members as resolved on entry.
    public internal(set) var list: String?
    public internal(set) var listName: String?
    public internal(set) var members: [String]
    public init(deliveries: [String: String] = [:], keys: [String] = [], list: String? = nil, listName: String? = nil,
                members: [String] = []) {
        self.deliveries = deliveries
        self.keys = keys
        self.list = list
        self.listName = listName
        self.members = members
    }

    enum CodingKeys: String, CodingKey { case deliveries, keys, list, listName, members }

    /// Decodes with the defaults of a run saved before lists and retries existed.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        deliveries = try c.decode([String: String].self, forKey: .deliveries)
        keys = try c.decodeIfPresent([String].self, forKey: .keys) ?? []
        list = try c.decodeIfPresent(String.self, forKey: .list)
        listName = try c.decodeIfPresent(String.self, forKey: .listName)
        members = try c.decodeIfPresent([String].self, forKey: .members) ?? []
    }

    /// Every delivery key of the step, retries included, in the order asked for.
    public var allKeys: [String] { keys.isEmpty ? deliveries.values.sorted() : keys }

    /// The deliveries that count now: each recipient's latest attempt on each channel (a delivery that was
    /// retried is replaced by its retry), in the order first asked for.
    public func current(in state: IncidentState) -> [DeliveryRecord] {
        let mine = Set(allKeys)
        let records = state.deliveries.filter { mine.contains($0.delivery.key) }
        var retries: [String: DeliveryRecord] = [:]
        for r in records { if let of = r.delivery.retryOf { retries[of] = r } }
        return records.filter { $0.delivery.retryOf == nil }.map { first in
            var latest = first
            while let next = retries[latest.delivery.key] { latest = next }
            return latest
        }
    }
}

public enum BranchStatus: String, Sendable, Hashable, Codable {
    case running, done, failed, cancelled
}

public struct ParallelRun: Sendable, Hashable, Codable {
    public internal(set) var branches: [String: BranchStatus]
    public init(branches: [String: BranchStatus]) { self.branches = branches }
}

public struct ForeachRun: Sendable, Hashable, Codable {
    public let items: [String]
    /// 1-based item index to the body's outcome, for finished items.
    public internal(set) var outcomes: [Int: String]
    public init(items: [String]) {
        self.items = items
        self.outcomes = [:]
    }
}

/// A named clock's run. Status (EngineClock.swift):
///
///     clock start --> running --deadline timer--> expired
///                        |                           |
///                   clock stop                  clock stop
///                        v                           |
///                   stopped(at) <--------------------+
///
/// `clock start` on a running or expired clock keeps it; on a stopped one it begins a new run. The incident
/// action `set_deadline` moves the deadline of a running or expired clock (back to running when the new deadline
/// is later) and re-arms its warnings. When the incident closes, a clock that was not stopped is final as it
/// stood then (`IncidentState.closedAt`).
public struct ClockRun: Sendable, Hashable, Codable {
    public let id: String
    public let startedAt: Instant
    public internal(set) var deadline: Instant
    public internal(set) var status: ClockStatus
    /// The last deadline an operator set during the run (`set_deadline`), if any.
    public internal(set) var deadlineSet: DeadlineChange?
    /// The decision that started the clock (an option with `starts_clock`); nil when a step or `set_deadline` did.
    public internal(set) var startedBy: ClockDecision?
    init(id: String, startedAt: Instant, deadline: Instant) {
        self.id = id
        self.startedAt = startedAt
        self.deadline = deadline
        self.status = .running
        self.deadlineSet = nil
    }
    /// When the clock was stopped, if it was.
    public var stoppedAt: Instant? { if case .stopped(let at) = status { at } else { nil } }
    /// Whether the deadline passed while the clock ran.
    public var expired: Bool { status == .expired }

    /// How a stopped clock ended (met with time to spare, or missed by how much); nil while it runs.
    public var ended: ClockEnding? {
        guard let stopped = stoppedAt else { return nil }
        return stopped <= deadline ? .met(left: deadline - stopped) : .missed(by: stopped - deadline)
    }
}

/// How a stopped clock ended.
public enum ClockEnding: Sendable, Hashable {
    /// Stopped by its deadline, with this much time to spare.
    case met(left: PlaybookDuration)
    /// Stopped after its deadline, this much late.
    case missed(by: PlaybookDuration)
}

/// A deadline an operator set during the run (a regulator named a date): when, by whom, why, and what it was.
public struct DeadlineChange: Sendable, Hashable, Codable {
    public var at: Instant
    public var by: String
    public var reason: String
    public var previous: Instant
    public init(at: Instant, by: String, reason: String, previous: Instant) {
        self.at = at
        self.by = by
        self.reason = reason
        self.previous = previous
    }
}

public enum ClockStatus: Sendable, Hashable, Codable {
    /// Counting down to the deadline.
    case running
    /// The deadline passed; the clock still runs until stopped.
    case expired
    /// Stopped at this instant (before or after its deadline).
    case stopped(at: Instant)

    /// Whether the clock has not been stopped.
    public var isRunning: Bool { if case .stopped = self { false } else { true } }
}

/// A performance target's run: pending until its step takes its outcome or reaches its state (met, or missed
/// when late) or its deadline timer fires (missed). A target counting from a moment recorded during the run
/// (`TargetOrigin.run`) has no run until that moment is recorded ("not started").
public struct TargetRun: Sendable, Hashable, Codable {
    public let id: String
    public let origin: Instant
    public let due: Instant
    public internal(set) var status: TargetStatus
    init(id: String, origin: Instant, due: Instant) {
        self.id = id
        self.origin = origin
        self.due = due
        self.status = .pending
    }
    /// When the target was met, if it was.
    public var metAt: Instant? { if case .met(let at) = status { at } else { nil } }
    /// Whether the target was missed.
    public var missed: Bool { status == .missed }
}

public enum TargetStatus: Sendable, Hashable, Codable {
    case pending
    case met(at: Instant)
    case missed
}

public enum DeliveryStatus: String, Sendable, Hashable, Codable {
    /// Asked for; no result yet. After a crash this is "in doubt": an operator must say whether it went out.
    case pending
    /// No transport for the channel: waiting for an operator to send it by hand and confirm.
    case manual
    /// Handed to the running `crisis watch`, not tried yet: whoever claims it sends it.
    case queued
    /// Claimed by a sender, which is sending it now. With no result after the sender ended: in doubt.
    case sending
    case sent, failed, sandboxed

    public var isFinal: Bool { self == .sent || self == .failed || self == .sandboxed }
}

public struct DeliveryRecord: Sendable, Hashable, Codable {
    public let delivery: Delivery
    public internal(set) var status: DeliveryStatus
    public internal(set) var detail: String?
    public init(delivery: Delivery, status: DeliveryStatus = .pending, detail: String? = nil) {
        self.delivery = delivery
        self.status = status
        self.detail = detail
    }
}

/// A finished step instance.
public struct StepRecord: Sendable, Hashable, Codable {
    public let instance: String
    public let stepID: String
    public let outcome: String
    public let enteredAt: Instant
    public let exitedAt: Instant
    /// The step-type specific progress as it was when the instance finished (approvals, takedown lifecycle,
    /// escalation attempts), so that status and reports can show it after the step is gone.
    public let detail: StepDetail
    public init(instance: String, stepID: String, outcome: String, enteredAt: Instant, exitedAt: Instant,
                detail: StepDetail = .simple) {
        self.instance = instance
        self.stepID = stepID
        self.outcome = outcome
        self.enteredAt = enteredAt
        self.exitedAt = exitedAt
        self.detail = detail
    }
}

/// An action an active step accepts now, for `status --json` and the interactive board.
public struct ActionSpec: Sendable, Hashable, Codable {
    /// The action's name (`StepAction.rawValue`).
    public var name: String
    public var title: String
    public var fields: [FieldSpec]
    /// Roles that may perform it (empty: anyone on the incident).
    public var roles: [String]
    public init(name: String, title: String, fields: [FieldSpec] = [], roles: [String] = []) {
        self.name = name
        self.title = title
        self.fields = fields
        self.roles = roles
    }
}

/// A field of an action.
public struct FieldSpec: Sendable, Hashable, Codable {
    public var name: String
    public var type: ValueType
    public var required: Bool
    /// Allowed values for `enum` fields.
    public var values: [String]
    public var prompt: String
    /// A suggested value (prefilled notice text, the current draft's facts).
    public var defaultValue: String?
    public init(name: String, type: ValueType, required: Bool, values: [String] = [], prompt: String,
                defaultValue: String? = nil) {
        self.name = name
        self.type = type
        self.required = required
        self.values = values
        self.prompt = prompt
        self.defaultValue = defaultValue
    }
}

/// The decision that started a clock: the choice instance, the option chosen, who chose it.
public struct ClockDecision: Sendable, Hashable, Codable {
    public var choice: String
    public var option: String
    public var by: String
    public init(choice: String, option: String, by: String) {
        self.choice = choice
        self.option = option
        self.by = by
    }
}

/// A decision on a choice: which option, why, by whom, and the objections it overrode.
public struct DecisionRecord: Sendable, Hashable, Codable {
    /// The choice instance.
    public var choice: String
    public var option: String
    /// The reason given (`rationale`); for a default taken on timeout, says so.
    public var rationale: String?
    /// Who decided (`crisis` for a default taken on timeout).
    public var by: String
    public var role: String?
    public var at: Instant
    /// Why the standing objections were overridden (`override`); nil when none stood.
    public var override: String?
    /// The objections (indexes into `IncidentState.objections`) this decision overrode.
    public var overrode: [Int]
    /// The clock the decision started (`starts_clock`), if any.
    public var startedClock: String?
    public init(choice: String, option: String, rationale: String?, by: String, role: String?, at: Instant,
                override: String? = nil, overrode: [Int] = [], startedClock: String? = nil) {
        self.choice = choice
        self.option = option
        self.rationale = rationale
        self.by = by
        self.role = role
        self.at = at
        self.override = override
        self.overrode = overrode
        self.startedClock = startedClock
    }
}

/// An objection raised on an active choice (`object`), and who overrode it, if anyone did.
public struct ObjectionRecord: Sendable, Hashable, Codable {
    public var choice: String
    public var by: String
    public var role: String?
    public var reason: String
    public var at: Instant
    /// Who decided over the objection, and why (the decision's `override`).
    public var overriddenBy: String?
    public var overrideReason: String?
    public init(choice: String, by: String, role: String?, reason: String, at: Instant) {
        self.choice = choice
        self.by = by
        self.role = role
        self.reason = reason
        self.at = at
    }
}

/// Whether a regulatory obligation applies, as someone considered it (`consider`).
public struct ObligationDecision: Sendable, Hashable, Codable {
    public var obligation: String
    public var applies: Bool
    public var reason: String
    public var by: String
    public var role: String?
    public var at: Instant
    public init(obligation: String, applies: Bool, reason: String, by: String, role: String?, at: Instant) {
        self.obligation = obligation
        self.applies = applies
        self.reason = reason
        self.by = by
        self.role = role
        self.at = at
    }
}
