/// Where a value came from in a source file: 1-based line and column, as editors and compilers count them.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public static let unknown = SourceLocation(file: "", line: 0, column: 0)
    public var description: String { "\(file):\(line):\(column)" }
}

/// A value with the place it was written, so that semantic checks can point at it.
public struct Located<Value: Sendable & Hashable>: Sendable, Hashable {
    public var value: Value
    public var location: SourceLocation
    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }
}

extension Located: Codable where Value: Codable {}

/// A playbook, format v1 (`schema: crisis-playbook/v1`). See docs/playbook-format.md.
///
/// The model is plain data. The loader (CrisisPlaybook) builds it from YAML and checks it; the engine walks it.
public struct Playbook: Sendable, Hashable, Codable {
    /// The only format this build understands.
    public static let schemaV1 = "crisis-playbook/v1"

    public var schema: String
    public var id: String
    public var version: String
    public var title: String
    public var summary: String?
    /// IANA time zone in which deadlines are shown (`Europe/Oslo`). Computation is always in UTC.
    public var timeZone: String
    /// Statement languages, BCP 47 tags (`nb`, `en`). The first is the default.
    public var languages: [String]
    public var roles: [Role]
    public var inputs: [InputSpec]
    public var targets: [TargetSpec]
    /// Recurring statements or tasks, each occurrence a target (`cadences:`; Cadence.swift).
    public var cadences: [CadenceSpec] = []
    public var clocks: [ClockSpec]
    /// The run deadline, counted from the incident's start.
    public var deadline: DeadlineSpec?
    public var start: Located<String>
    /// Top-level steps in file order. Steps inside `parallel` branches and `foreach` bodies are nested.
    public var steps: [Step]
    public var location: SourceLocation
    /// `conflicted: INPUT`: the input (a list of names or person ids, separated by commas or new lines) naming the
    /// people the incident is about. They may not draft, approve, reject, acknowledge, choose or close, whatever
    /// role they hold (docs/playbook-format.md, "Who may act").
    public var conflicted: Located<String>? = nil
    /// `obligations:`: the regulatory obligations the playbook names (MAR Art. 17, Form 8-K, NIS2, GDPR Art. 34),
    /// each to be considered during the run: applies or not applicable, with a reason (the incident action
    /// `consider`; the register in `status`).
    public var obligations: [ObligationSpec] = []
    /// `channels:`: channels the playbook declares (lower-case name to limits): limits that hold for every
    /// statement on that channel, and channels of the playbook's own, known from then on (StatementChecks.swift).
    public var channels: [String: ChannelLimits] = [:]

    public init(
        schema: String = Playbook.schemaV1, id: String, version: String, title: String, summary: String? = nil,
        timeZone: String = "UTC", languages: [String] = ["en"], roles: [Role] = [], inputs: [InputSpec] = [],
        targets: [TargetSpec] = [], clocks: [ClockSpec] = [], deadline: DeadlineSpec? = nil, start: Located<String>,
        steps: [Step], location: SourceLocation = .unknown
    ) {
        self.schema = schema
        self.id = id
        self.version = version
        self.title = title
        self.summary = summary
        self.timeZone = timeZone
        self.languages = languages
        self.roles = roles
        self.inputs = inputs
        self.targets = targets
        self.clocks = clocks
        self.deadline = deadline
        self.start = start
        self.steps = steps
        self.location = location
    }

    /// Every step, nested ones included, depth first in file order.
    public var allSteps: [Step] {
        var out: [Step] = []
        func walk(_ s: Step) {
            out.append(s)
            s.kind.nestedSteps.forEach(walk)
        }
        steps.forEach(walk)
        return out
    }

    /// Looks a step up by id anywhere in the playbook.
    public func step(_ id: String) -> Step? { allSteps.first { $0.id == id } }

    public func input(_ name: String) -> InputSpec? { inputs.first { $0.name == name } }
    public func role(_ id: String) -> Role? { roles.first { $0.id == id } }
    public func clock(_ id: String) -> ClockSpec? { clocks.first { $0.id == id } }
    public func cadence(_ id: String) -> CadenceSpec? { cadences.first { $0.id == id } }
    public func obligation(_ id: String) -> ObligationSpec? { obligations.first { $0.id == id } }
}

/// A regulatory obligation the playbook names, for the "considered / not applicable" register: whoever
/// considers it records whether it applies and why (`consider`).
public struct ObligationSpec: Sendable, Hashable, Codable {
    public var id: String
    public var title: String
    /// Where the obligation comes from (`MAR Art. 17(1)`), shown in the register.
    public var reference: String?
    /// The playbook clock that counts the obligation's deadline, if any.
    public var clock: Located<String>?
    public var location: SourceLocation
    public init(id: String, title: String, reference: String? = nil, clock: Located<String>? = nil,
                location: SourceLocation = .unknown) {
        self.id = id
        self.title = title
        self.reference = reference
        self.clock = clock
        self.location = location
    }
}

/// A playbook role (crisis lead, comms on duty, legal...). People hold roles through the contacts directory.
public struct Role: Sendable, Hashable, Codable {
    public var id: String
    public var title: String
    /// A lead role may act on any step that names another owner role (not on approvals or takedown submission,
    /// which keep their own role lists).
    public var lead: Bool
    public var location: SourceLocation
    public init(id: String, title: String, lead: Bool = false, location: SourceLocation = .unknown) {
        self.id = id
        self.title = title
        self.lead = lead
        self.location = location
    }
}

/// The type of a value an operator supplies: an input at start or a field of an action.
public enum ValueType: String, Sendable, Hashable, Codable, CaseIterable {
    case string, text, url, urls, `enum`, integer, boolean, time
}

/// An input asked when an incident starts (`crisis start --set NAME=VALUE`).
public struct InputSpec: Sendable, Hashable, Codable {
    public var name: String
    public var type: ValueType
    public var prompt: String
    public var required: Bool
    /// Default, as the operator would type it. Always a string in YAML, so `NO` stays `NO`.
    public var defaultValue: String?
    /// Allowed values for `enum`.
    public var values: [String]
    public var location: SourceLocation
    public init(
        name: String, type: ValueType, prompt: String, required: Bool = false, defaultValue: String? = nil,
        values: [String] = [], location: SourceLocation = .unknown
    ) {
        self.name = name
        self.type = type
        self.prompt = prompt
        self.required = required
        self.defaultValue = defaultValue
        self.values = values
        self.location = location
    }
}

/// Where a target's stopwatch starts.
public enum TargetOrigin: Sendable, Hashable, Codable {
    /// When the incident was started.
    case incidentStart
    /// A `time` input (for example `detected_at`): holding-statement SLAs run from detection, not from start.
    case input(String)
    /// A moment recorded during the run (a time field of an action, the time of a step's outcome): the target
    /// is armed when it happens and is "not started" until then.
    case run(RunAnchor)
}

/// A moment recorded during the incident that a clock or a target can count from. Written
/// `from: {step: STEP, field: FIELD}` or `from: {step: STEP, outcome: OUTCOME}`.
public enum RunAnchor: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The last value of a `time` field an operator recorded on an action of `step` (`--set aware_at=...`).
    case field(step: Located<String>, field: Located<String>)
    /// When `step` (any instance) last took `outcome`.
    case outcome(step: Located<String>, outcome: Located<String>)

    /// The step the anchor belongs to.
    public var step: Located<String> {
        switch self {
        case .field(let step, _), .outcome(let step, _): step
        }
    }

    /// For people: `field aware_at of confirm_breach`, `outcome confirmed of assess`.
    public var description: String {
        switch self {
        case .field(let step, let field): "field \(field.value) of \(step.value)"
        case .outcome(let step, let outcome): "outcome \(outcome.value) of \(step.value)"
        }
    }
}

/// A performance target: "first holding statement published within 60 minutes of detection".
public struct TargetSpec: Sendable, Hashable, Codable {
    public var id: String
    public var title: String
    /// The step whose outcome (or intermediate state) meets the target.
    public var step: Located<String>
    /// The outcome of `step` that meets it (empty when `reaches` names a state instead).
    public var outcome: Located<String>
    /// An intermediate state of `step` that meets it when reached: a takedown's `submitted` or `acknowledged`, a
    /// statement's `awaiting_approval`, `approved` or `publishing` (`TargetSpec.intermediateStates`).
    public var reaches: Located<String>?
    public var within: PlaybookDuration
    public var from: TargetOrigin
    public var location: SourceLocation
    public init(
        id: String, title: String, step: Located<String>, outcome: Located<String>, within: PlaybookDuration,
        from: TargetOrigin = .incidentStart, reaches: Located<String>? = nil, location: SourceLocation = .unknown
    ) {
        self.id = id
        self.title = title
        self.step = step
        self.outcome = outcome
        self.reaches = reaches
        self.within = within
        self.from = from
        self.location = location
    }

    /// The states a step of `type` passes through that a target may name with `reaches` (empty: none).
    public static func intermediateStates(of type: StepType) -> [String] {
        switch type {
        case .takedown: TakedownStatus.allCases.filter { $0 != .drafting }.map(\.rawValue)
        case .holdingStatement:
            [StatementPhase.awaitingApproval, .approved, .publishing].map(\.rawValue)
        case .submission: SubmissionPhase.allCases.map(\.rawValue)
        case .choice, .task, .escalate, .notify, .clock, .wait, .parallel, .foreach, .end: []
        }
    }
}

/// A named clock (regulatory or internal), started and stopped by `clock` steps.
public struct ClockSpec: Sendable, Hashable, Codable {
    public var id: String
    public var title: String
    /// Elapsed time from the clock's start to its deadline (GDPR Art. 33: 72h; weekends count).
    public var duration: PlaybookDuration
    /// Reminders before the deadline (`["24h", "6h"]`).
    public var warnBefore: [PlaybookDuration]
    /// The law or policy behind it, shown with the deadline.
    public var reference: String?
    /// Warnings that also enter a step (`on_warning: [{before: 15m, next: nag_dpo}]`).
    public var onWarning: [ClockRoute]
    /// The step entered when the deadline passes (`on_expiry: escalate_dpo`).
    public var onExpiry: Located<String>?
    /// The catalog clock it follows (`clock: gdpr-art33`), if any (`ClockCatalog`).
    public var catalog: String?
    /// How it counts when not plain elapsed `duration` (business days, calendar months); nil: elapsed.
    public var rule: DeadlineRule?
    /// The zone a counting rule counts days in when the clock fixes it; nil: the playbook's zone.
    public var countingZone: String?
    public var location: SourceLocation
    public init(
        id: String, title: String, duration: PlaybookDuration, warnBefore: [PlaybookDuration] = [],
        reference: String? = nil, onWarning: [ClockRoute] = [], onExpiry: Located<String>? = nil,
        catalog: String? = nil, rule: DeadlineRule? = nil, countingZone: String? = nil,
        location: SourceLocation = .unknown
    ) {
        self.catalog = catalog
        self.rule = rule
        self.countingZone = countingZone
        self.id = id
        self.title = title
        self.duration = duration
        self.warnBefore = warnBefore
        self.reference = reference
        self.onWarning = onWarning
        self.onExpiry = onExpiry
        self.location = location
    }

    /// Every warning the clock gives, in the order they are armed: `warn_before`, then the `on_warning`
    /// durations not already listed there.
    public var warnings: [PlaybookDuration] {
        var out: [PlaybookDuration] = []
        for d in warnBefore + onWarning.map(\.before) where !out.contains(d) { out.append(d) }
        return out
    }

    /// The step a warning `before` the deadline enters, if any.
    public func route(before: PlaybookDuration) -> Located<String>? {
        onWarning.first { $0.before == before }?.next
    }
}

/// A clock warning that enters a step: `{before: 15m, next: nag_dpo}`. The step is entered at the top level, in
/// a scope of its own (`Scope.clockRoute`): it runs beside the main flow, and an `end` on its path finishes the
/// route without closing the incident. A step that is already active is not entered again.
public struct ClockRoute: Sendable, Hashable, Codable {
    /// How long before the deadline.
    public var before: PlaybookDuration
    /// A top-level step.
    public var next: Located<String>
    public var location: SourceLocation
    public init(before: PlaybookDuration, next: Located<String>, location: SourceLocation = .unknown) {
        self.before = before
        self.next = next
        self.location = location
    }
}

/// The run deadline. When it passes, every active step is cancelled and the run goes to `next`
/// (or, without `next`, the overrun is flagged and the run goes on).
public struct DeadlineSpec: Sendable, Hashable, Codable {
    public var after: PlaybookDuration
    public var next: Located<String>?
    public var location: SourceLocation
    public init(after: PlaybookDuration, next: Located<String>? = nil, location: SourceLocation = .unknown) {
        self.after = after
        self.next = next
        self.location = location
    }
}

/// One step of a playbook.
public struct Step: Sendable, Hashable, Codable {
    /// Unique in the whole playbook, nested steps included.
    public var id: String
    public var title: String?
    /// Free-text guidance shown to the operator.
    public var instructions: String?
    /// The role that owns the step. Operators acting on it must hold this role (or a lead role).
    public var role: Located<String>?
    /// How long the step may wait before it takes its `timeout` outcome.
    public var timeout: PlaybookDuration?
    /// Bound on how often the step may be entered (loops). Entering once more takes outcome `max_visits`.
    public var maxVisits: Int?
    /// Outcome name to the id of the step that follows. A plain `next: X` in YAML routes every outcome to X.
    public var next: [String: Located<String>]
    public var kind: StepKind
    public var location: SourceLocation

    public init(
        id: String, title: String? = nil, instructions: String? = nil, role: Located<String>? = nil,
        timeout: PlaybookDuration? = nil, maxVisits: Int? = nil, next: [String: Located<String>] = [:],
        kind: StepKind, location: SourceLocation = .unknown
    ) {
        self.id = id
        self.title = title
        self.instructions = instructions
        self.role = role
        self.timeout = timeout
        self.maxVisits = maxVisits
        self.next = next
        self.kind = kind
        self.location = location
    }

    /// The step's kind in the step table.
    public var stepType: StepType { kind.stepType }

    /// The step type's name as written in YAML.
    public var typeName: String { kind.stepType.yamlName }

    /// Every outcome this step can take, in a stable order. `timeout` is listed only when the step has a
    /// timeout; `max_visits` only when it has a bound.
    public var outcomes: [String] {
        var o = kind.ownOutcomes
        if timeout != nil, kind.canTimeOut { o.append(Outcome.timeout) }
        if maxVisits != nil { o.append(Outcome.maxVisits) }
        return o
    }

    /// Whether the step waits on people or the world (and so must have a routed timeout).
    public var isWaiting: Bool { kind.isWaiting }
}

/// Outcome names the engine itself gives (choice options and `end` outcomes are the playbook's own).
public enum Outcome {
    /// The step's timeout passed.
    public static let timeout = "timeout"
    /// The step was entered once more than its `max_visits`.
    public static let maxVisits = "max_visits"
    /// task, clock, parallel, foreach: finished.
    public static let done = "done"
    /// notify, parallel, foreach: did not succeed.
    public static let failed = "failed"
    /// task: skipped by an operator.
    public static let skipped = "skipped"
    /// holding_statement: published on every channel.
    public static let published = "published"
    /// holding_statement: `max_revisions` drafts were rejected.
    public static let rejected = "rejected"
    /// escalate: someone acknowledged.
    public static let acknowledged = "acknowledged"
    /// escalate: every level and round was paged without an acknowledgement.
    public static let exhausted = "exhausted"
    /// notify: every delivery went out.
    public static let sent = "sent"
    /// wait: a pure delay passed.
    public static let elapsed = "elapsed"
    /// wait: the awaited event was recorded.
    public static let received = "received"
    /// Recorded in the history for an instance that was cancelled, never routed.
    public static let cancelled = "cancelled"
}

/// What a step does.
public indirect enum StepKind: Sendable, Hashable, Codable {
    case choice(ChoiceSpec)
    case task(TaskSpec)
    case holdingStatement(StatementSpec)
    case takedown(TakedownSpec)
    case escalate(EscalateSpec)
    case notify(NotifySpec)
    case clock(ClockStepSpec)
    case wait(WaitSpec)
    case parallel(ParallelSpec)
    case foreach(ForeachSpec)
    case end(EndSpec)
    case submission(SubmissionSpec)

    /// The kind's row in the step table: the one switch from a kind to its type.
    public var stepType: StepType {
        switch self {
        case .choice: .choice
        case .task: .task
        case .holdingStatement: .holdingStatement
        case .takedown: .takedown
        case .escalate: .escalate
        case .notify: .notify
        case .clock: .clock
        case .wait: .wait
        case .parallel: .parallel
        case .foreach: .foreach
        case .end: .end
        case .submission: .submission
        }
    }

    /// The kind's spec, for what depends on the step's own definition.
    public var spec: any StepKindSpec {
        switch self {
        case .choice(let s): s
        case .task(let s): s
        case .holdingStatement(let s): s
        case .takedown(let s): s
        case .escalate(let s): s
        case .notify(let s): s
        case .clock(let s): s
        case .wait(let s): s
        case .parallel(let s): s
        case .foreach(let s): s
        case .end(let s): s
        case .submission(let s): s
        }
    }

    /// The step type's name as written in YAML.
    public var typeName: String { stepType.yamlName }

    /// Steps nested inside this one: the steps of every parallel branch, a foreach body.
    public var nestedSteps: [Step] {
        switch self {
        case .parallel(let p): p.branches.flatMap(\.steps)
        case .foreach(let f): [f.body]
        case .choice, .task, .holdingStatement, .takedown, .escalate, .notify, .clock, .wait, .end, .submission: []
        }
    }

    /// The outcomes of this kind, without `timeout` and `max_visits`.
    public var ownOutcomes: [String] { spec.ownOutcomes }

    /// Kinds whose `timeout` is meaningful.
    public var canTimeOut: Bool { spec.canTimeOut }

    /// Steps that wait on people or the world and so must carry a routed timeout (lint `wait-without-timeout`).
    public var isWaiting: Bool { spec.isWaiting }

    /// The operator actions a step of this kind can ever accept.
    public var operatorActions: [StepAction] { spec.operatorActions }
}

/// A guard on inputs: `when: {input: severity, in: [sev1, sev2]}` or `when: {input: platform, equals: x}`.
public struct Guard: Sendable, Hashable, Codable {
    public var input: Located<String>
    /// The option matches when the input's value is one of these.
    public var anyOf: [String]
    public var location: SourceLocation
    public init(input: Located<String>, anyOf: [String], location: SourceLocation = .unknown) {
        self.input = input
        self.anyOf = anyOf
        self.location = location
    }
}

public struct ChoiceOption: Sendable, Hashable, Codable {
    public var id: String
    public var label: String
    public var when: Guard?
    public var location: SourceLocation
    /// `starts_clock`: choosing this option starts the named clock (materiality determined, the board decided);
    /// the clock records the decision that started it.
    public var startsClock: Located<String>? = nil
    public init(id: String, label: String, when: Guard? = nil, location: SourceLocation = .unknown) {
        self.id = id
        self.label = label
        self.when = when
        self.location = location
    }
}

/// What a choice does when its timeout passes instead of picking its default: a decision only a person may make
/// (restore the content or sue) is escalated or reminded, never decided. The choice stays open.
public enum ChoiceTimeout: Sendable, Hashable, Codable {
    /// Enter this step (beside the flow, like a clock's route); the choice waits on.
    case escalate(Located<String>)
    /// Remind the people on the incident with this text, and again after each further timeout.
    case remind(String)
}

/// An operator decides between labelled options; or, when options carry `when` guards, the inputs decide
/// (first match wins, else the default). Each option's route is in `Step.next[option.id]`. On timeout the
/// default option's route is taken unless `next.timeout` says otherwise.
public struct ChoiceSpec: Sendable, Hashable, Codable {
    public var options: [ChoiceOption]
    public var defaultOption: Located<String>?
    /// `rationale: required`: `choose` is refused without a `rationale` field.
    public var rationaleRequired: Bool = false
    /// `on_timeout`: escalate or remind on timeout instead of taking the default (exactly one of the two).
    public var onTimeout: ChoiceTimeout? = nil
    public init(options: [ChoiceOption], defaultOption: Located<String>?) {
        self.options = options
        self.defaultOption = defaultOption
    }
    /// A choice decided by guards on inputs, not by an operator.
    public var isAutomatic: Bool { options.contains { $0.when != nil } }
}

/// A manual checklist item.
public struct TaskSpec: Sendable, Hashable, Codable {
    public var checklist: [String]
    /// Values recorded when the task is done (`fields: {aware_at: {type: time, prompt: ...}}`), which clocks and
    /// targets may count from and later texts read as `{{steps.STEP.FIELD}}`.
    public var fields: [FactSpec]
    public init(checklist: [String] = [], fields: [FactSpec] = []) {
        self.checklist = checklist
        self.fields = fields
    }
}

/// A fact the drafter fills in when drafting a statement (the template's slots).
public struct FactSpec: Sendable, Hashable, Codable {
    public var name: String
    public var prompt: String
    public var type: ValueType
    public var required: Bool
    public var location: SourceLocation
    /// `language_neutral` as the playbook gives it: `true`, one value serves every language (`--set NAME=`);
    /// `false`, a value per language (`--set NAME.nb=`, `--set NAME.en=`) and never one for all; nil, by type
    /// (`isLanguageNeutral`). A new draft of a statement with more than one language gives a fact that is not
    /// language-neutral per language (`StatementSpec.singleValueProblem`); drafts recorded before that rule may
    /// carry one value for every language, which replay still accepts.
    public var languageNeutral: Bool?
    /// Per-language prompts (`prompt: {nb: ..., en: ...}`); `prompt` is the first of them.
    public var prompts: [String: String]
    /// Where each per-language prompt's language is written (for `validate`).
    public var promptLocations: [String: SourceLocation] = [:]
    public init(name: String, prompt: String, type: ValueType = .text, required: Bool = true,
                location: SourceLocation = .unknown, languageNeutral: Bool? = nil, prompts: [String: String] = [:]) {
        self.name = name
        self.prompt = prompt
        self.type = type
        self.required = required
        self.location = location
        self.languageNeutral = languageNeutral
        self.prompts = prompts
    }

    /// Whether one value serves every language: as the playbook says, else by type (a time, a URL, a number is
    /// the same in every language; `string` and `text` are written per language).
    public var isLanguageNeutral: Bool {
        if let languageNeutral { return languageNeutral }
        switch type {
        case .url, .urls, .integer, .time, .boolean, .enum: return true
        case .string, .text: return false
        }
    }
}

/// Who must approve a statement.
public struct ApprovalSpec: Sendable, Hashable, Codable {
    /// Roles whose holders may approve.
    public var roles: [Located<String>]
    /// How many distinct people must approve the same draft.
    public var quorum: Int
    /// After this long without quorum, `fallbackRoles` may approve too (the "legal is on holiday" remedy).
    public var timeout: PlaybookDuration?
    public var fallbackRoles: [Located<String>]
    /// A `list`/`string` input naming people who must not approve (for example the executive the story is about).
    public var excludeInput: Located<String>?
    /// The person who drafted a version may not approve it.
    public var distinctFromDrafter: Bool
    public var location: SourceLocation
    /// Roles that must each approve (`all_of: [head_of_comms, legal]`): one distinct approver acting as each,
    /// beside the quorum (which counts every distinct approver). Empty: the quorum over `roles` alone decides.
    public var allOf: [Located<String>] = []
    /// The final authority (`final: ceo`): signs off last, once the quorum and `allOf` are met; the approval is
    /// complete only with their sign-off. Nil: no final sign-off.
    public var finalRole: Located<String>? = nil
    /// Roles informed of the approved text without approving it (`inform: [board_liaison]`): their holders get it
    /// as a delivery (purpose `inform`) when the approval completes.
    public var inform: [Located<String>] = []
    public init(
        roles: [Located<String>], quorum: Int = 1, timeout: PlaybookDuration? = nil,
        fallbackRoles: [Located<String>] = [], excludeInput: Located<String>? = nil, distinctFromDrafter: Bool = true,
        location: SourceLocation = .unknown, allOf: [Located<String>] = [], finalRole: Located<String>? = nil,
        inform: [Located<String>] = []
    ) {
        self.roles = roles
        self.quorum = quorum
        self.timeout = timeout
        self.fallbackRoles = fallbackRoles
        self.excludeInput = excludeInput
        self.distinctFromDrafter = distinctFromDrafter
        self.location = location
        self.allOf = allOf
        self.finalRole = finalRole
        self.inform = inform
    }

    /// Every role that may decide on a draft before the window passes: `roles`, then `allOf`, then `finalRole`.
    public var decidingRoles: [String] {
        var out: [String] = []
        for r in roles.map(\.value) + allOf.map(\.value) + (finalRole.map { [$0.value] } ?? []) where !out.contains(r) {
            out.append(r)
        }
        return out
    }
}

/// A publication channel and how long a text it takes.
public struct ChannelSpec: Sendable, Hashable, Codable {
    /// `x`, `sms`, `facebook`, `instagram`, `linkedin`, `website`, `email`, `press`, ...
    public var id: String
    public var location: SourceLocation
    /// The languages this channel publishes (`channels: [{id: x, languages: [en]}]`); empty: every language of
    /// the statement.
    public var languages: [Located<String>]
    public init(id: String, location: SourceLocation = .unknown, languages: [Located<String>] = []) {
        self.id = id
        self.location = location
        self.languages = languages
    }
}

/// Render a statement from a Mustache template per language, check each channel's limits, collect approvals,
/// lock the approved text by hash, and record publication per channel.
public struct StatementSpec: Sendable, Hashable, Codable {
    /// Template base path relative to the playbook: `templates/viral-post` is rendered from
    /// `templates/viral-post.<lang>.mustache` for each language.
    public var template: Located<String>
    public var channels: [ChannelSpec]
    public var facts: [FactSpec]
    public var approval: ApprovalSpec
    /// How many rejected drafts before the step gives up with outcome `rejected`.
    public var maxRevisions: Int
    /// The statement's own languages (`languages: [nb, en]`); empty: the playbook's.
    public var languages: [Located<String>]
    /// Channel to the template base of its own text (`variants: {x: templates/viral-post.x}` renders
    /// `templates/viral-post.x.<lang>.mustache`); a channel without one publishes the default text.
    public var variants: [String: Located<String>]
    /// Declared limits (`max_length`, `limits:`) and content checks (`must_include`, `must_not_include`),
    /// evaluated at draft (StatementChecks.swift).
    public var checks: StatementChecksSpec = StatementChecksSpec()
    /// The role that speaks for the statement (`spokesperson: head_of_comms`); its first holder in the directory
    /// is the spokesperson until a `handover` names someone else. Nil: no spokesperson is named.
    public var spokesperson: Located<String>? = nil
    public init(template: Located<String>, channels: [ChannelSpec], facts: [FactSpec], approval: ApprovalSpec,
                maxRevisions: Int = 3, languages: [Located<String>] = [], variants: [String: Located<String>] = [:],
                spokesperson: Located<String>? = nil) {
        self.template = template
        self.channels = channels
        self.facts = facts
        self.approval = approval
        self.maxRevisions = maxRevisions
        self.languages = languages
        self.variants = variants
        self.spokesperson = spokesperson
    }

    /// The languages the statement is written in: its own, else the playbook's, in order.
    public func languages(in playbook: Playbook) -> [String] {
        languages.isEmpty ? playbook.languages : languages.map(\.value)
    }

    /// The languages `channel` publishes, in the statement's order: those it names, else every one.
    public func languages(of channel: ChannelSpec, in playbook: Playbook) -> [String] {
        let all = languages(in: playbook)
        return channel.languages.isEmpty ? all : all.filter { l in channel.languages.contains { $0.value == l } }
    }

    /// Whether `fact` takes a value per language here: it is not language-neutral and the statement has more
    /// than one language.
    public func isPerLanguage(_ fact: FactSpec, in playbook: Playbook) -> Bool {
        !fact.isLanguageNeutral && languages(in: playbook).count > 1
    }

    /// Why a new draft may not give `fact` once for every language (`--set NAME=`), or nil where it may: a fact
    /// written per language takes a value per language (`NAME.nb`, `NAME.en`), never one value for all, so a
    /// Norwegian text never reads an English sentence. (The engine still accepts such a value on replay: drafts
    /// recorded before this rule carry them.)
    public func singleValueProblem(_ fact: FactSpec, in playbook: Playbook) -> String? {
        guard isPerLanguage(fact, in: playbook) else { return nil }
        let names = languages(in: playbook).map { "\(fact.name).\($0)" }
        let list = names.count > 1 ? names.dropLast().joined(separator: ", ") + " and " + names[names.count - 1] : names.joined()
        return "\(fact.name) is written per language: give \(list) (or mark the fact language_neutral: true in the playbook)"
    }

    /// The facts as the template of `language` sees them: `NAME.<language>` where given, else `NAME`.
    public func facts(_ given: [String: String], for language: String) -> [String: String] {
        var out: [String: String] = [:]
        for fact in facts {
            if let v = given["\(fact.name).\(language)"] ?? given[fact.name] { out[fact.name] = v }
        }
        return out
    }
}

/// The legal basis of a takedown request. Each names the notice elements it requires.
public enum LegalBasis: String, Sendable, Hashable, CaseIterable, Codable {
    case dsaArt16 = "dsa_art16"
    case dmca512c3 = "dmca_512c3"
    case privacy
    case impersonation
    case defamation
    case termsOfService = "terms_of_service"
    /// A trademark infringement report (a counterfeit shop, a look-alike account or domain).
    case trademark
    /// An abuse report to a host or registrar: phishing, malware or fraud (`abuse_type`).
    case abuseReport = "abuse_report"
    /// A request to a search engine to delist results for a person's name (GDPR Art. 17, right to erasure).
    case delisting
    /// A request under a named national law (`citation`: "åndsverkloven § 104", ...).
    case nationalLaw = "national_law"

    /// The notice elements the request must carry before it may be submitted.
    public var requiredElements: [NoticeElement] {
        switch self {
        case .dsaArt16:
            // DSA Art. 16(2)(a)-(d).
            [.explanation, .urls, .notifierName, .notifierEmail, .goodFaithStatement]
        case .dmca512c3:
            // 17 U.S.C. 512(c)(3)(A)(i)-(vi).
            [.signature, .copyrightedWork, .urls, .notifierName, .notifierAddress, .notifierPhone, .notifierEmail,
             .goodFaithStatement, .accuracyUnderPerjury]
        case .privacy:
            [.explanation, .urls, .notifierName, .notifierEmail, .affectedPerson, .authorisation]
        case .impersonation:
            // Only the impersonated party or an authorised representative may report (X, Meta, LinkedIn).
            [.urls, .impersonatedAccount, .notifierName, .notifierEmail, .authorisation, .explanation]
        case .defamation:
            [.explanation, .urls, .notifierName, .notifierEmail, .affectedPerson, .goodFaithStatement]
        case .termsOfService:
            [.explanation, .urls, .policyReference]
        case .trademark:
            [.trademarkRegistration, .urls, .explanation, .notifierName, .notifierEmail, .authorisation,
             .goodFaithStatement]
        case .abuseReport:
            [.abuseType, .urls, .explanation, .evidence, .notifierName, .notifierEmail]
        case .delisting:
            // GDPR Art. 17(1); the search engines' forms ask for the name searched and the person's authority.
            [.searchTerms, .urls, .affectedPerson, .explanation, .notifierName, .notifierEmail, .authorisation]
        case .nationalLaw:
            [.citation, .explanation, .urls, .notifierName, .notifierEmail, .goodFaithStatement]
        }
    }
}

/// One element of a takedown notice. The raw value is the field name the operator fills in.
public enum NoticeElement: String, Sendable, Hashable, CaseIterable, Codable {
    case explanation
    case urls
    case notifierName = "notifier_name"
    case notifierEmail = "notifier_email"
    case notifierAddress = "notifier_address"
    case notifierPhone = "notifier_phone"
    case goodFaithStatement = "good_faith_statement"
    case accuracyUnderPerjury = "accuracy_under_perjury"
    case signature
    case copyrightedWork = "copyrighted_work"
    case affectedPerson = "affected_person"
    case authorisation
    case impersonatedAccount = "impersonated_account"
    case policyReference = "policy_reference"
    /// trademark: the mark, its registration number and office (`EXAMPLE, EUTM 018000000`).
    case trademarkRegistration = "trademark_registration"
    /// abuse_report: `phishing`, `malware` or `fraud` (`NoticeElement.abuseTypes`).
    case abuseType = "abuse_type"
    /// abuse_report: what shows the abuse (a sample e-mail's headers, a malware hash, a victim's report).
    case evidence
    /// delisting: the name (or other terms) the results appear for.
    case searchTerms = "search_terms"
    /// national_law: the provision the request relies on (`Norwegian Copyright Act (åndsverkloven) § 104`).
    case citation

    /// The kinds of abuse an `abuse_type` element may name.
    public static let abuseTypes = ["phishing", "malware", "fraud"]

    public var valueType: ValueType {
        switch self {
        case .urls: .urls
        case .notifierEmail, .notifierName, .notifierPhone, .signature, .impersonatedAccount, .affectedPerson,
            .policyReference, .abuseType, .searchTerms:
            .string
        // Statements are text, stored verbatim (`true`, from trails written when they were booleans, stands for
        // the standard wording: `statementText`).
        default: .text
        }
    }

    /// The values the element accepts, when it is a closed list (empty: any value of its type).
    public var allowedValues: [String] { self == .abuseType ? Self.abuseTypes : [] }

    /// Whether the element is a statement the notifier makes (its text is stored verbatim and printed as a
    /// paragraph of its own).
    public var isStatement: Bool { self == .goodFaithStatement || self == .accuracyUnderPerjury }

    /// The standard wording of a statement element under `basis` (what `true` stands for; the draft's default).
    public func statementText(basis: LegalBasis) -> String? {
        switch (self, basis) {
        case (.accuracyUnderPerjury, _):
            "The information in this notification is accurate, and under penalty of perjury, I am authorised to "
                + "act on behalf of the owner of an exclusive right that is allegedly infringed."
        case (.goodFaithStatement, .dmca512c3):
            "I have a good faith belief that use of the material in the manner complained of is not authorised by "
                + "the copyright owner, its agent, or the law."
        case (.goodFaithStatement, .trademark):
            "I have a good faith belief that the use of the trademark described above is not authorised by the "
                + "trademark owner, its agent, or the law."
        case (.goodFaithStatement, _):
            "I confirm in good faith that the information and allegations in this notice are accurate and complete."
        default: nil
        }
    }

    /// Whether `value` fills the element: not blank; a statement not `false` (`true` stands for the standard
    /// wording); a closed list's value one of its values.
    public func isFilled(by value: String?) -> Bool {
        let v = (value ?? "").trimmingSpaces()
        if v.isEmpty { return false }
        if isStatement { return v != "false" }
        if !allowedValues.isEmpty { return allowedValues.contains(v) }
        return true
    }

    /// The value as it goes into the notice: a statement given as `true` in its standard wording.
    public func noticeText(_ value: String, basis: LegalBasis) -> String {
        if isStatement, value.trimmingSpaces() == "true" { return statementText(basis: basis) ?? value }
        return value
    }
}

/// Where a step gets a value: a literal, or an input.
public enum ValueSource: Sendable, Hashable, Codable {
    case literal(String)
    case input(Located<String>)
}

/// Lifecycle of a takedown request.
public enum TakedownStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case drafting, drafted, submitted, acknowledged
    case removed
    case partiallyRemoved = "partially_removed"
    case refused
    case noResponse = "no_response"
    case appealed
    /// The platform asked for changes to the notice; it is redrafted and submitted again (not an outcome).
    case editRequested = "edit_requested"
    /// Withheld in some countries (geo-blocked), up elsewhere.
    case restricted
    /// Left up with a label or warning screen.
    case labelled
    /// The platform said when it will decide (`pending_until`); a reminder fires then (not an outcome).
    case pending
    /// DMCA: the uploader sent a counter-notice; the platform may restore the material 10 to 14 US business days
    /// after it received it unless a court action is filed (not an outcome).
    case counterNoticed = "counter_noticed"
    /// DMCA: the material was put back after a counter-notice.
    case restored

    public static let finalStatuses: [TakedownStatus] = [
        .removed, .partiallyRemoved, .refused, .noResponse, .appealed, .restricted, .labelled, .restored,
    ]

    /// What a platform may answer for one URL (`url_result`).
    public static let urlResults: [TakedownStatus] = [.removed, .restricted, .labelled, .refused]
}

/// A takedown or removal request and its lifecycle, with follow-up reminders while the platform is silent.
public struct TakedownSpec: Sendable, Hashable, Codable {
    public var platform: ValueSource
    /// A `url` or `urls` input, or a literal URL.
    public var urls: ValueSource
    public var basis: LegalBasis
    public var basisLocation: SourceLocation
    /// Roles whose holders may submit (for impersonation: the impersonated party's representative).
    public var submitterRoles: [Located<String>]
    /// Remind the owner every so often while waiting for the platform.
    public var followUp: PlaybookDuration?
    /// After submission, give up waiting and take `no_response` after this long.
    public var giveUpAfter: PlaybookDuration?
    /// Prefilled notice element values (templated text with `{{inputs.x}}`).
    public var prefill: [String: String]
    /// Where to send the assembled notice (a reporting form's URL, an address), by platform (`reporting_route`);
    /// a route for any platform is under `*`. Nil when the playbook does not say.
    public var reportingRoutes: [String: String]?
    /// The record that authorises the request (`prefill: {authorisation: {record: consent}}`): a step that must
    /// have finished (done, or decided) before `submit` is accepted. Nil when the element is typed in.
    public var authorisationRecord: Located<String>?
    public init(
        platform: ValueSource, urls: ValueSource, basis: LegalBasis, basisLocation: SourceLocation = .unknown,
        submitterRoles: [Located<String>] = [], followUp: PlaybookDuration? = nil, giveUpAfter: PlaybookDuration? = nil,
        prefill: [String: String] = [:], reportingRoutes: [String: String]? = nil,
        authorisationRecord: Located<String>? = nil
    ) {
        self.authorisationRecord = authorisationRecord
        self.platform = platform
        self.urls = urls
        self.basis = basis
        self.basisLocation = basisLocation
        self.submitterRoles = submitterRoles
        self.followUp = followUp
        self.giveUpAfter = giveUpAfter
        self.prefill = prefill
        self.reportingRoutes = reportingRoutes
    }

    /// The route for `platform`: its own (its name in any case), else the one for any platform (`*`), else the
    /// one for `other`.
    public func reportingRoute(for platform: String) -> String? {
        guard let routes = reportingRoutes else { return nil }
        if let r = routes[platform] { return r }
        if let r = routes.first(where: { $0.key.lowercased() == platform.lowercased() })?.value { return r }
        return routes["*"] ?? routes["other"]
    }
}

/// Who an escalation level pages: everyone holding a role, or one person of the contacts directory. Written
/// `role:NAME` or as a person id; parsed once, where it is read.
public enum PageTarget: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `role:NAME`: the holders of the role (their deputies when they are unavailable).
    case role(String)
    /// A person id from the contacts directory.
    case person(String)

    /// The prefix that marks a role target.
    public static let rolePrefix = "role:"

    /// Reads `role:NAME` or a person id.
    public init(parsing text: String) {
        if text.hasPrefix(Self.rolePrefix) {
            self = .role(String(text.dropFirst(Self.rolePrefix.count)))
        } else {
            self = .person(text)
        }
    }

    /// As written: `role:NAME` or the person id. Also what a page to a role nobody holds is addressed to.
    public var description: String {
        switch self {
        case .role(let name): Self.rolePrefix + name
        case .person(let id): id
        }
    }
}

/// How many of a level's targets must acknowledge (`ack:`).
public enum AckMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// The first acknowledgement from a paged person ends the escalation (the default).
    case any
    /// Every target of the level must acknowledge; the ack timeout moves on with those still missing.
    case all
}

/// How a level uses its channels (`attempts:`).
public enum AttemptMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// One page per target on the level's first channel (else the person's first channel). The default, and the
    /// only behaviour of playbooks written before `attempts:` existed.
    case first
    /// The channels one after the other per target: the next after `every`, or at once when an attempt is
    /// recorded as not reached (a failed delivery, or the `not_reached` action).
    case sequential
    /// Every channel at once, one page per target and channel.
    case parallel
}

/// One level of an escalation: who is paged, on which channels, and how long they have to acknowledge.
public struct EscalationLevel: Sendable, Hashable, Codable {
    /// Roles (`role:legal`) or person ids from the contacts directory.
    public var targets: [Located<PageTarget>]
    /// How long the targets have to acknowledge; for an inform-only level, how long before the next level is paged
    /// (`wait:`, zero when absent).
    public var ackTimeout: PlaybookDuration
    public var channels: [String]
    public var location: SourceLocation
    /// `ack: any | all`.
    public var ack: AckMode
    /// `attempts: sequential | parallel` (absent: `first`).
    public var attempts: AttemptMode
    /// `every:` the interval between sequential channel attempts; nil: the next channel only when not reached.
    public var every: PlaybookDuration?
    /// `inform: true`: the targets are told, no acknowledgement is expected.
    public var inform: Bool
    public init(targets: [Located<PageTarget>], ackTimeout: PlaybookDuration, channels: [String] = [],
                location: SourceLocation = .unknown, ack: AckMode = .any, attempts: AttemptMode = .first,
                every: PlaybookDuration? = nil, inform: Bool = false) {
        self.targets = targets
        self.ackTimeout = ackTimeout
        self.channels = channels
        self.location = location
        self.ack = ack
        self.attempts = attempts
        self.every = every
        self.inform = inform
    }

    enum CodingKeys: String, CodingKey { case targets, ackTimeout, channels, location, ack, attempts, every, inform }

    /// Decodes with the defaults of a level written before `ack`, `attempts`, `every` and `inform` existed.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        targets = try c.decode([Located<PageTarget>].self, forKey: .targets)
        ackTimeout = try c.decode(PlaybookDuration.self, forKey: .ackTimeout)
        channels = try c.decode([String].self, forKey: .channels)
        location = try c.decode(SourceLocation.self, forKey: .location)
        ack = try c.decodeIfPresent(AckMode.self, forKey: .ack) ?? .any
        attempts = try c.decodeIfPresent(AttemptMode.self, forKey: .attempts) ?? .first
        every = try c.decodeIfPresent(PlaybookDuration.self, forKey: .every)
        inform = try c.decodeIfPresent(Bool.self, forKey: .inform) ?? false
    }
}

/// Page people level by level until someone acknowledges; repeat the whole policy `repeat` times; then
/// `exhausted`. Either names a policy of the contacts directory or lists levels inline.
public struct EscalateSpec: Sendable, Hashable, Codable {
    public var policy: Located<String>?
    public var levels: [EscalationLevel]
    public var repeats: Int
    public var message: String
    /// `stop_at_ack: false`: every level is paged in turn whatever the acknowledgements; the step ends after the
    /// last level (`acknowledged` when a level's acknowledgement was complete, else the next round or
    /// `exhausted`). True (the default): an acknowledgement ends the escalation.
    public var stopAtAck: Bool
    /// `reescalate_after:`: after the acknowledgement, when the step it routes to is still active with no
    /// accepted action this long afterwards, the next level is paged (and so on, one level per interval).
    public var reescalateAfter: PlaybookDuration?
    public init(policy: Located<String>? = nil, levels: [EscalationLevel] = [], repeats: Int = 0, message: String,
                stopAtAck: Bool = true, reescalateAfter: PlaybookDuration? = nil) {
        self.policy = policy
        self.levels = levels
        self.repeats = repeats
        self.message = message
        self.stopAtAck = stopAtAck
        self.reescalateAfter = reescalateAfter
    }

    enum CodingKeys: String, CodingKey { case policy, levels, repeats, message, stopAtAck, reescalateAfter }

    /// Decodes with the defaults of a spec written before `stop_at_ack` and `reescalate_after` existed.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        policy = try c.decodeIfPresent(Located<String>.self, forKey: .policy)
        levels = try c.decode([EscalationLevel].self, forKey: .levels)
        repeats = try c.decode(Int.self, forKey: .repeats)
        message = try c.decode(String.self, forKey: .message)
        stopAtAck = try c.decodeIfPresent(Bool.self, forKey: .stopAtAck) ?? true
        reescalateAfter = try c.decodeIfPresent(PlaybookDuration.self, forKey: .reescalateAfter)
    }
}

/// Tell a group on named channels.
public struct NotifySpec: Sendable, Hashable, Codable {
    /// Who is told, for people (`all employees`); without `list`, also the one recipient of each delivery.
    public var audience: String
    public var channels: [String]
    /// Message text; `{{inputs.name}}` is filled from the incident's inputs.
    public var message: String
    /// `list:` a distribution list of the contacts directory: one delivery per member and channel.
    public var list: Located<String>?
    /// `on_failure:` what a failed delivery means for the step.
    public var onFailure: NotifyFailurePolicy
    public init(audience: String, channels: [String], message: String, list: Located<String>? = nil,
                onFailure: NotifyFailurePolicy = .fail) {
        self.audience = audience
        self.channels = channels
        self.message = message
        self.list = list
        self.onFailure = onFailure
    }

    enum CodingKeys: String, CodingKey { case audience, channels, message, list, onFailure }

    /// Decodes with the defaults of a spec written before `list` and `on_failure` existed.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        audience = try c.decode(String.self, forKey: .audience)
        channels = try c.decode([String].self, forKey: .channels)
        message = try c.decode(String.self, forKey: .message)
        list = try c.decodeIfPresent(Located<String>.self, forKey: .list)
        onFailure = try c.decodeIfPresent(NotifyFailurePolicy.self, forKey: .onFailure) ?? .fail
    }
}

/// What a failed delivery means for a `notify` step (`on_failure:`). Whatever the policy, nothing that went out is
/// sent again, and a failed delivery can be retried (`retry`) while the step is active.
public enum NotifyFailurePolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Once every delivery has ended: outcome `failed` if any failed (and was not retried), else `sent`.
    case fail
    /// A failed delivery holds the step open for a `retry` (or its timeout): outcome `sent` once every recipient's
    /// latest delivery went out. The step never takes `failed`.
    case wait
    /// Failures are recorded and shown but do not change the route: once every delivery has ended, `sent` if at
    /// least one went out, `failed` only when none did.
    case `continue`
}

public enum ClockOperation: String, Sendable, Hashable, Codable, CaseIterable {
    case start, stop, check
}

/// Start, stop or check a named clock.
public struct ClockStepSpec: Sendable, Hashable, Codable {
    public var clock: Located<String>
    public var operation: ClockOperation
    /// For `start`: a `time` input to start from (awareness time) instead of now.
    public var from: Located<String>?
    /// For `start`: a moment recorded during the run to start from (`from: {step: X, field: aware_at}`). When it
    /// has not been recorded when the step runs, the clock starts now and the operator is told.
    public var anchor: RunAnchor?
    public init(clock: Located<String>, operation: ClockOperation, from: Located<String>? = nil, anchor: RunAnchor? = nil) {
        self.clock = clock
        self.operation = operation
        self.from = from
        self.anchor = anchor
    }
}

/// Wait for an event (recorded by an operator) with the step's timeout, or for a fixed time.
public struct WaitSpec: Sendable, Hashable, Codable {
    /// Name of the awaited event (`journalist_callback`). Nil for a pure delay.
    public var event: String?
    /// For a pure delay: how long.
    public var duration: PlaybookDuration?
    public init(event: String? = nil, duration: PlaybookDuration? = nil) {
        self.event = event
        self.duration = duration
    }
}

/// A branch of a `parallel` step: its own start and steps; it finishes at one of its `end` steps.
public struct Branch: Sendable, Hashable, Codable {
    public var id: String
    public var start: Located<String>
    public var steps: [Step]
    public var location: SourceLocation
    public init(id: String, start: Located<String>, steps: [Step], location: SourceLocation = .unknown) {
        self.id = id
        self.start = start
        self.steps = steps
        self.location = location
    }
}

public enum JoinPolicy: Sendable, Hashable, Codable {
    /// Done when every branch is done.
    case all
    /// Done when the first branch is done; the others are cancelled.
    case any
    /// Done when this many branches are done; the others are cancelled.
    case count(Int)
}

/// What a failed branch does to its siblings.
public enum BranchFailurePolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Let the other branches finish, then decide by the join policy.
    case waitAll = "wait_all"
    /// Cancel the other branches at once and take `failed`.
    case failFast = "fail_fast"
}

/// Work streams at once.
public struct ParallelSpec: Sendable, Hashable, Codable {
    public var branches: [Branch]
    public var join: JoinPolicy
    public var onBranchFailure: BranchFailurePolicy
    public init(branches: [Branch], join: JoinPolicy = .all, onBranchFailure: BranchFailurePolicy = .waitAll) {
        self.branches = branches
        self.join = join
        self.onBranchFailure = onBranchFailure
    }
}

/// One instance of `body` per item of a list input (one takedown per URL).
public struct ForeachSpec: Sendable, Hashable, Codable {
    /// A `urls` input.
    public var items: Located<String>
    /// The name each item is available under in the body (`{{item}}` by default).
    public var itemName: String
    public var body: Step
    /// Body outcomes that count as a failed item.
    public var failedOutcomes: [String]
    /// How many failed items are tolerated before the foreach takes `failed`.
    public var tolerateFailures: Int
    public init(items: Located<String>, itemName: String = "item", body: Step, failedOutcomes: [String],
                tolerateFailures: Int = 0) {
        self.items = items
        self.itemName = itemName
        self.body = body
        self.failedOutcomes = failedOutcomes
        self.tolerateFailures = tolerateFailures
    }
}

/// Close the incident (top level) or finish a parallel branch (inside one).
public struct EndSpec: Sendable, Hashable, Codable {
    /// `resolved`, `contained`, `false_alarm`... For a branch end: `done` or `failed`.
    public var outcome: String
    public var summary: String?
    public init(outcome: String, summary: String? = nil) {
        self.outcome = outcome
        self.summary = summary
    }
}
