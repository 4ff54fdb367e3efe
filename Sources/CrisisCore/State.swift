/// The state of one incident: a pure fold over its events (`Engine.start` then `Engine.handle` for each).
///
/// Nothing here is read from a clock or a disk; replaying the same events at the same instants gives the same
/// state, which is what `crisis` relies on to resume after a crash.
public struct IncidentState: Sendable, Hashable {
    public var definition: RunDefinition
    public var startedAt: Instant
    public var status: IncidentStatus
    /// Active step instances, in the order they became active.
    public var active: [StepRun]
    /// Armed timers. The shell fires each whose `due` has come, earliest first, as `timerFired(id)`.
    public var timers: [TimerEntry]
    public var clocks: [ClockRun]
    public var targets: [TargetRun]
    /// Every outbound delivery the engine asked for, by key, with its latest result.
    public var deliveries: [DeliveryRecord]
    /// Finished step instances, in the order they finished.
    public var history: [StepRecord]
    /// How often each step id has been entered.
    public var visits: [String: Int]
    /// The run deadline, if the playbook has one.
    public var deadline: Instant?
    public var deadlineExceeded: Bool
    /// Counter for timer ids and delivery keys: makes every id unique and deterministic.
    public var serial: Int
    /// Step id to field name to the last value an operator recorded with `--set` on an accepted action of that
    /// step (any instance; `confirm_delivery` and reserved `_` fields left out). Later texts read it as
    /// `{{steps.STEP.FIELD}}` (TemplateModel).
    public internal(set) var recordedFields: [String: [String: String]]

    public init(definition: RunDefinition, startedAt: Instant) {
        self.definition = definition
        self.startedAt = startedAt
        self.status = .open
        self.active = []
        self.timers = []
        self.clocks = []
        self.targets = []
        self.deliveries = []
        self.history = []
        self.visits = [:]
        self.deadline = nil
        self.deadlineExceeded = false
        self.serial = 0
        self.recordedFields = [:]
    }

    /// The active instance with this id.
    public func run(_ instance: String) -> StepRun? { active.first { $0.instance == instance } }

    /// The earliest armed timer.
    public var nextTimer: TimerEntry? { timers.min { ($0.due, $0.id) < ($1.due, $1.id) } }

    /// Deliveries asked for and not yet finished: in flight, or waiting for an operator to confirm.
    public var openDeliveries: [DeliveryRecord] { deliveries.filter { !$0.status.isFinal } }
}

public enum IncidentStatus: Sendable, Hashable {
    case open
    case closed(outcome: String)

    public var isOpen: Bool { if case .open = self { true } else { false } }
}

/// One armed timer: an absolute due time, never a countdown.
public struct TimerEntry: Sendable, Hashable {
    /// Unique per incident, stable under replay (`t12`): a timer that fires after it was replaced is ignored.
    public var id: String
    public var due: Instant
    /// The step instance it belongs to, if any.
    public var step: String?
    public var purpose: TimerPurpose
    public init(id: String, due: Instant, step: String?, purpose: TimerPurpose) {
        self.id = id
        self.due = due
        self.step = step
        self.purpose = purpose
    }
}

public enum TimerPurpose: Sendable, Hashable {
    /// The step's own timeout.
    case stepTimeout
    /// A statement's approval window; when it passes, fallback approvers may approve.
    case approvalFallback
    /// An escalation level's acknowledgement timeout.
    case ackTimeout(level: Int, round: Int)
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
    case runDeadline
}

/// An active step instance.
public struct StepRun: Sendable, Hashable {
    /// `stepid`, or `stepid[n]` for the n-th (1-based) item of a foreach.
    public var instance: String
    public var stepID: String
    public var enteredAt: Instant
    /// When the step times out, if it can.
    public var dueAt: Instant?
    /// The parallel step and branch, or the foreach step and item, this instance runs inside.
    public var scope: Scope?
    public var detail: StepDetail

    public init(instance: String, stepID: String, enteredAt: Instant, dueAt: Instant? = nil, scope: Scope? = nil,
                detail: StepDetail) {
        self.instance = instance
        self.stepID = stepID
        self.enteredAt = enteredAt
        self.dueAt = dueAt
        self.scope = scope
        self.detail = detail
    }
}

public enum Scope: Sendable, Hashable {
    case branch(parallel: String, branch: String)
    case item(foreach: String, index: Int, value: String)
}

/// Step-type specific progress.
public enum StepDetail: Sendable, Hashable {
    case simple
    case statement(StatementRun)
    case takedown(TakedownRun)
    case escalation(EscalationRun)
    case notify(NotifyRun)
    case parallel(ParallelRun)
    case foreach(ForeachRun)
}

public struct StatementDraft: Sendable, Hashable {
    public var revision: Int
    public var facts: [String: String]
    /// Rendered text per language (`nb`, `en`).
    public var texts: [String: String]
    /// SHA-256 (hex) of the rendered texts as the runtime computed it; approvals bind to it.
    public var sha256: String
    public var drafter: String
    public var at: Instant
    public init(revision: Int, facts: [String: String], texts: [String: String], sha256: String, drafter: String,
                at: Instant) {
        self.revision = revision
        self.facts = facts
        self.texts = texts
        self.sha256 = sha256
        self.drafter = drafter
        self.at = at
    }
}

public struct ApprovalRecord: Sendable, Hashable {
    public var person: String
    public var role: String
    public var revision: Int
    public var sha256: String
    public var approved: Bool
    public var reason: String?
    public var at: Instant
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

public struct StatementRun: Sendable, Hashable {
    public var phase: StatementPhase
    public var drafts: [StatementDraft]
    public var decisions: [ApprovalRecord]
    /// Whether the approval window has passed, so fallback roles may approve.
    public var fallbackOpen: Bool
    /// Channel to delivery key, for publications asked for.
    public var publications: [String: String]
    public init() {
        phase = .drafting
        drafts = []
        decisions = []
        fallbackOpen = false
        publications = [:]
    }
    public var current: StatementDraft? { drafts.last }
}

public struct TakedownRun: Sendable, Hashable {
    public var status: TakedownStatus
    public var platform: String
    public var urls: [String]
    /// Notice element name to value.
    public var notice: [String: String]
    public var ticket: String?
    public var submittedAt: Instant?
    public var submittedBy: String?
    public var history: [TakedownTransition]
    public init(platform: String, urls: [String], notice: [String: String] = [:]) {
        self.status = .drafting
        self.platform = platform
        self.urls = urls
        self.notice = notice
        self.ticket = nil
        self.submittedAt = nil
        self.submittedBy = nil
        self.history = []
    }
}

public struct TakedownTransition: Sendable, Hashable {
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

/// One resolved escalation level: concrete people (or unresolved roles when there is no directory).
public struct ResolvedLevel: Sendable, Hashable {
    public var targets: [String]
    public var ackTimeout: PlaybookDuration
    public var channels: [String]
    public init(targets: [String], ackTimeout: PlaybookDuration, channels: [String]) {
        self.targets = targets
        self.ackTimeout = ackTimeout
        self.channels = channels
    }
}

public struct PageAttempt: Sendable, Hashable {
    public var attempt: Int
    public var level: Int
    public var round: Int
    public var targets: [String]
    public var deliveryKeys: [String]
    public var at: Instant
    public init(attempt: Int, level: Int, round: Int, targets: [String], deliveryKeys: [String], at: Instant) {
        self.attempt = attempt
        self.level = level
        self.round = round
        self.targets = targets
        self.deliveryKeys = deliveryKeys
        self.at = at
    }
}

public struct EscalationRun: Sendable, Hashable {
    public var levels: [ResolvedLevel]
    /// 0-based index into `levels`.
    public var level: Int
    /// 0-based repeat round.
    public var round: Int
    public var attempts: [PageAttempt]
    public var acknowledgedBy: String?
    public init(levels: [ResolvedLevel]) {
        self.levels = levels
        self.level = 0
        self.round = 0
        self.attempts = []
        self.acknowledgedBy = nil
    }
}

public struct NotifyRun: Sendable, Hashable {
    /// Channel to delivery key.
    public var deliveries: [String: String]
    public init(deliveries: [String: String] = [:]) { self.deliveries = deliveries }
}

public enum BranchStatus: String, Sendable, Hashable, Codable {
    case running, done, failed, cancelled
}

public struct ParallelRun: Sendable, Hashable {
    public var branches: [String: BranchStatus]
    public init(branches: [String: BranchStatus]) { self.branches = branches }
}

public struct ForeachRun: Sendable, Hashable {
    public var items: [String]
    /// 1-based item index to the body's outcome, for finished items.
    public var outcomes: [Int: String]
    public init(items: [String]) {
        self.items = items
        self.outcomes = [:]
    }
}

public struct ClockRun: Sendable, Hashable {
    public var id: String
    public var startedAt: Instant
    public var deadline: Instant
    public var stoppedAt: Instant?
    public var expired: Bool
    public init(id: String, startedAt: Instant, deadline: Instant) {
        self.id = id
        self.startedAt = startedAt
        self.deadline = deadline
        self.stoppedAt = nil
        self.expired = false
    }
}

public struct TargetRun: Sendable, Hashable {
    public var id: String
    public var origin: Instant
    public var due: Instant
    public var metAt: Instant?
    public var missed: Bool
    public init(id: String, origin: Instant, due: Instant) {
        self.id = id
        self.origin = origin
        self.due = due
        self.metAt = nil
        self.missed = false
    }
}

public enum DeliveryStatus: String, Sendable, Hashable, Codable {
    /// Asked for; no result yet. After a crash this is "in doubt": an operator must say whether it went out.
    case pending
    /// No transport for the channel: waiting for an operator to send it by hand and confirm.
    case manual
    case sent, failed, sandboxed

    public var isFinal: Bool { self == .sent || self == .failed || self == .sandboxed }
}

public struct DeliveryRecord: Sendable, Hashable {
    public var delivery: Delivery
    public var status: DeliveryStatus
    public var detail: String?
    public init(delivery: Delivery, status: DeliveryStatus = .pending, detail: String? = nil) {
        self.delivery = delivery
        self.status = status
        self.detail = detail
    }
}

/// A finished step instance.
public struct StepRecord: Sendable, Hashable {
    public var instance: String
    public var stepID: String
    public var outcome: String
    public var enteredAt: Instant
    public var exitedAt: Instant
    /// The step-type specific progress as it was when the instance finished (approvals, takedown lifecycle,
    /// escalation attempts), so that status and reports can show it after the step is gone.
    public var detail: StepDetail
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
    /// What to pass as ACTION to `crisis act ID STEP ACTION`.
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

/// A field of an action (`--set NAME=VALUE`).
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
