/// The step kinds of playbook format v1, as one table: each kind's YAML name, the keys it takes, where it may
/// stand, and the operator actions it accepts. The loader, the validator, the graph and the engine read this
/// table; none of them lists kinds or action names of its own.
///
/// What depends on a step's own definition (a choice's options are its outcomes; a wait for an event can time
/// out, a pure delay cannot) is answered by the kind's spec through `StepKindSpec`, next to the engine code of
/// that kind (`EngineChoice.swift`, `EngineTask.swift`, ...).
public enum StepType: String, Sendable, Hashable, Codable, CaseIterable {
    case choice
    case task
    case holdingStatement = "holding_statement"
    case takedown
    case escalate
    case notify
    case clock
    case wait
    case parallel
    case foreach
    case end
    case submission

    /// The name written after `type:` in YAML.
    public var yamlName: String { rawValue }

    /// Keys every step may carry, whatever its kind (before `refusedCommonKeys` are taken out).
    public static let commonKeys = ["type", "title", "instructions", "role", "timeout", "max_visits", "next"]

    /// The keys of this kind, besides the common ones.
    public var keys: [String] {
        switch self {
        case .choice: ["options", "default", "rationale", "on_timeout"]
        case .task: ["checklist", "fields"]
        case .holdingStatement:
            ["template", "channels", "facts", "approval", "max_revisions", "languages", "variants", "max_length",
             "limits", "must_include", "must_not_include", "spokesperson"]
        case .takedown: ["platform", "urls", "basis", "submitters", "follow_up", "give_up_after", "prefill", "reporting_route"]
        case .escalate: ["policy", "levels", "repeat", "message", "stop_at_ack", "reescalate_after"]
        case .notify: ["audience", "channels", "message", "list", "on_failure"]
        case .clock: ["clock", "op", "from"]
        case .wait: ["event", "for"]
        case .parallel: ["branches", "join", "on_branch_failure"]
        case .foreach: ["items", "as", "failed_when", "tolerate_failures", "do"]
        case .end: ["outcome", "summary"]
        case .submission: ["authority", "legal_basis", "citation", "phases", "content", "stops_clock", "submitters"]
        }
    }

    /// Common keys this kind refuses, each with the reason the loader gives.
    public var refusedCommonKeys: [String: String] {
        switch self {
        case .end: ["timeout": "an end step finishes at once", "max_visits": "an end step finishes at once"]
        case .choice, .task, .holdingStatement, .takedown, .escalate, .notify, .clock, .wait, .parallel, .foreach,
            .submission:
            [:]
        }
    }

    /// Every key a step of this kind may carry, in the order the loader lists them.
    public var allowedKeys: [String] {
        let refused = refusedCommonKeys
        return Self.commonKeys.filter { refused[$0] == nil } + keys
    }

    /// The kinds a foreach body may be (they run once per item), in the order diagnostics list them.
    public static let foreachBodyTypes: [StepType] = [.task, .takedown, .notify, .escalate, .wait]

    /// Whether a step of this kind may be the body of a foreach.
    public var mayBeForeachBody: Bool { Self.foreachBodyTypes.contains(self) }

    /// Every operator action a step of this kind can ever accept (which of them are possible now depends on its
    /// progress). The only list of action names per kind: the engine offers and accepts nothing else.
    public var actions: [StepAction] {
        switch self {
        case .choice: [.choose, .object]
        case .task: [.done, .skip]
        case .holdingStatement: [.draft, .approve, .reject, .publish, .handover, .confirmDelivery]
        case .takedown:
            [.draft, .submit, .acknowledge, .removed, .partiallyRemoved, .refused, .appeal, .editRequested,
             .confirmDelivery, .pending, .restricted, .labelled, .urlResult, .counterNotice, .restored]
        case .escalate: [.ack, .notReached, .confirmDelivery]
        case .notify: [.retry, .confirmDelivery]
        case .wait: [.received]
        case .submission: [.draft, .submit, .receipt, .confirmDelivery]
        case .clock, .parallel, .foreach, .end: []
        }
    }

    /// Body outcomes counted as a failed item when a foreach does not say (`failed_when`); only those the body
    /// can take are used.
    public var defaultFailedOutcomes: [String] {
        switch self {
        case .task: [Outcome.skipped, Outcome.timeout]
        case .takedown:
            [TakedownStatus.refused.rawValue, TakedownStatus.noResponse.rawValue, TakedownStatus.labelled.rawValue,
             TakedownStatus.restored.rawValue, Outcome.timeout]
        case .notify: [Outcome.failed, Outcome.timeout]
        case .escalate: [Outcome.exhausted]
        case .wait: [Outcome.timeout]
        case .submission: [Outcome.timeout]
        case .choice, .holdingStatement, .clock, .parallel, .foreach, .end: [Outcome.failed, Outcome.timeout]
        }
    }
}

/// An operator action, by the name given to `crisis act ID STEP ACTION`. Which kinds accept which action is
/// `StepType.actions`; `close` is the incident's own (`Engine.incidentStep`).
public enum StepAction: String, Sendable, Hashable, Codable, CaseIterable {
    /// choice: pick an option.
    case choose
    /// choice: object to the decision before it is made, with a reason (anyone on the incident); a later
    /// `choose` must override it, with a reason.
    case object
    /// task: mark it done.
    case done
    /// task: skip it, with a reason.
    case skip
    /// wait: the awaited event happened.
    case received
    /// holding_statement: record a new draft (sent as `EngineEvent.drafted`, with the rendered texts);
    /// takedown: fill in the notice.
    case draft
    /// holding_statement: approve the current draft.
    case approve
    /// holding_statement: reject the current draft.
    case reject
    /// holding_statement: publish the approved text.
    case publish
    /// takedown: the request was submitted to the platform.
    case submit
    /// takedown: the platform acknowledged the request.
    case acknowledge
    /// takedown: the content was removed.
    case removed
    /// takedown: some of the content was removed.
    case partiallyRemoved = "partially_removed"
    /// takedown: the platform refused.
    case refused
    /// takedown: the decision was appealed.
    case appeal
    /// takedown: the platform asks for changes to the notice before it decides; the request goes back to the
    /// sender to be redrafted and submitted again.
    case editRequested = "edit_requested"
    /// takedown: the platform will decide by a date it gave (field `until`).
    case pending
    /// takedown: the content was withheld in some countries.
    case restricted
    /// takedown: the content was left up with a label.
    case labelled
    /// takedown: the platform's answer for one URL (fields `url`, `result`); the outcome follows from all of them.
    case urlResult = "url_result"
    /// takedown (DMCA): the uploader's counter-notice; the restore window starts.
    case counterNotice = "counter_notice"
    /// takedown (DMCA): the material was put back after a counter-notice.
    case restored
    /// escalate: someone acknowledged the page.
    case ack
    /// escalate: a page did not reach its person (a sequential level tries their next channel).
    case notReached = "not_reached"
    /// Any step with deliveries in doubt or waiting for a manual send: say whether one went out.
    case confirmDelivery = "confirm_delivery"
    /// notify: send a failed delivery again, as a new delivery (new key) recorded as a retry of the failed one.
    case retry
    /// The incident (`Engine.incidentStep`): close it.
    case close
    /// The incident (`Engine.incidentStep`): set a clock's deadline to a date someone named (a regulator).
    case setDeadline = "set_deadline"
    /// submission: the authority's receipt of the last submission: its reference number and any deadline it set.
    case receipt
    /// The incident (`Engine.incidentStep`): record whether a regulatory obligation applies, and why.
    case consider
    /// holding_statement: hand the spokesperson role over to another person (`to`).
    case handover

    /// What the action does, for role refusals that are not about owning the step ("deciding on a statement
    /// draft needs one of the roles ..."). Nil: the step's owner roles decide.
    var roleContext: String? {
        switch self {
        case .approve, .reject: "deciding on a statement draft"
        case .submit: "submitting a takedown request or a regulatory submission"
        case .close: "closing the incident"
        case .setDeadline: "setting a clock's deadline"
        case .object, .consider, .handover: nil
        case .choose, .done, .skip, .received, .draft, .publish, .acknowledge, .removed, .partiallyRemoved, .refused,
            .appeal, .editRequested, .ack, .notReached, .confirmDelivery, .retry, .receipt, .pending, .restricted,
            .labelled, .urlResult, .counterNotice, .restored:
            nil
        }
    }
}

/// What a step kind's spec answers about itself. Each spec conforms in the engine file of its kind.
public protocol StepKindSpec: Sendable, Hashable, Codable {
    /// The kind this spec belongs to.
    static var stepType: StepType { get }
    /// The outcomes of this step, without `timeout` and `max_visits`.
    var ownOutcomes: [String] { get }
    /// Whether the step's `timeout` is meaningful.
    var canTimeOut: Bool { get }
    /// Whether the step waits on people or the world (and so must have a routed timeout).
    var isWaiting: Bool { get }
    /// The operator actions this step can ever accept: its kind's, unless the spec rules them out (a choice
    /// decided by guards, a pure delay).
    var operatorActions: [StepAction] { get }
}

extension StepKindSpec {
    public var operatorActions: [StepAction] { Self.stepType.actions }
}
