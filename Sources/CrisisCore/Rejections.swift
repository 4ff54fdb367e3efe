/// Every reason an event can be refused, by the engine or by the shell before the engine sees it. The raw value
/// is what goes into `input.rejected` records and `--format json`; it never changes once released.
/// docs/rejection-codes.md lists exactly these (a test checks it against `summary`).
public enum RejectionCode: String, Sendable, Hashable, Codable, CaseIterable {
    // Engine: the incident, the step, the action.
    /// The incident is closed; only notes and delivery results are accepted.
    case closed
    /// The playbook has no such step.
    case unknownStep = "unknown-step"
    /// The step exists but is not active now.
    case notActive = "not-active"
    /// The step's kind has no such action (or the incident-wide pseudo-step has no such action).
    case unknownAction = "unknown-action"
    /// The step's kind has the action, but not in its current phase.
    case actionUnavailable = "action-unavailable"
    /// A holding statement's draft came as a plain action; the shell must render it and send a drafted event.
    case unrenderedDraft = "unrendered-draft"
    /// A drafted statement lacks the text of one of the playbook's languages, or its hash.
    case incompleteStatement = "incomplete-statement"
    // Engine: roles and fields.
    /// The action needs one of some roles and the operator named none.
    case roleRequired = "role-required"
    /// The action needs one of some roles and the operator acts in another.
    case wrongRole = "wrong-role"
    /// The action has no field of that name.
    case unknownField = "unknown-field"
    /// A required field of the action is absent or empty (also the shell's check of confirm_delivery).
    case missingField = "missing-field"
    /// A field's value is not valid for its type or not one of its allowed values.
    case invalidField = "invalid-field"
    // Engine: statement approval.
    /// The drafter of a revision tried to approve it.
    case ownDraft = "own-draft"
    /// The person is listed in the statement's exclude input as conflicted.
    case conflictedApprover = "conflicted-approver"
    /// The person has already approved or rejected this revision.
    case alreadyDecided = "already-decided"
    /// The revision fails declared limits or content checks (recorded at draft) and the approval gives no
    /// `override` reason.
    case unmetChecks = "unmet-checks"
    // Engine: who may act.
    /// The person is named by the incident's `conflicted` input and may not draft, decide, acknowledge, choose or
    /// close, whatever role they hold.
    case conflictedPerson = "conflicted-person"
    // Engine: takedown.
    /// A takedown notice lacks elements its legal basis requires, so it cannot be submitted.
    case missingElements = "missing-elements"
    /// A takedown whose authorisation comes from a record (`prefill: {authorisation: {record: STEP}}`) before
    /// that step has been done.
    case authorisationMissing = "authorisation-missing"
    // Engine: timers and deliveries.
    /// The timer is not armed: it already fired, or was cancelled or replaced.
    case unknownTimer = "unknown-timer"
    /// The timer fired before its due time.
    case timerNotDue = "timer-not-due"
    /// No delivery has that key.
    case unknownDelivery = "unknown-delivery"
    /// The delivery already has a final result, which cannot change.
    case deliveryFinal = "delivery-final"
    /// The delivery is queued for the watcher (or being sent by a sender): it cannot be settled by hand yet, nor
    /// queued or claimed again.
    case deliveryQueued = "delivery-queued"
    // Shell: before the engine.
    /// The operator name or role is empty, too long or holds control characters.
    case invalidOperator = "invalid-operator"
    /// The fields or the note are larger than the shell accepts.
    case tooLarge = "too-large"
    /// A field name starting with `_`, which is reserved for crisis itself.
    case reservedField = "reserved-field"
    /// The same field was given twice.
    case duplicateField = "duplicate-field"
    /// A note's text is not acceptable (it holds a NUL character).
    case invalidText = "invalid-text"
    /// The operator claims a role but is not in the incident's contacts directory.
    case notInDirectory = "not-in-directory"
    /// The operator claims a role the playbook does not declare.
    case unknownRole = "unknown-role"
    /// The operator claims a role they do not hold in the contacts directory.
    case roleNotHeld = "role-not-held"
    /// With a contacts directory: the person acknowledging was not paged by the escalation, stands in for nobody
    /// paged, and holds no lead role (the shell asks `Engine.acknowledgerProblem` before the engine sees the ack).
    case notPaged = "not-paged"
    /// An ack's `by` names nobody in the incident's contacts directory.
    case unknownPerson = "unknown-person"
    /// A statement template is not pinned with the incident.
    case missingTemplate = "missing-template"
    /// A statement template does not parse.
    case templateError = "template-error"
    /// A rendered statement is over a channel's length limit.
    case overChannelLimit = "over-channel-limit"
    /// The final authority of a statement's approval tried to sign off before the quorum and `all_of` were met.
    case finalTooEarly = "final-too-early"
    /// A drill's clock cannot move as asked: a zero or negative advance, a live incident, or no timer to go to.
    case invalidAdvance = "invalid-advance"

    /// When the code is given, in one line (the text of docs/rejection-codes.md).
    public var summary: String {
        switch self {
        case .closed: "the incident is closed; only notes and delivery results are accepted"
        case .unknownStep: "the playbook has no such step"
        case .notActive: "the step exists but is not active now"
        case .unknownAction: "the step's kind (or the incident) has no such action"
        case .actionUnavailable: "the step's kind has the action, but not in its current phase"
        case .unrenderedDraft: "a holding statement was drafted without rendered texts (the shell renders first)"
        case .incompleteStatement: "a drafted statement lacks the text of a playbook language, or its hash"
        case .roleRequired: "the action needs one of some roles and no role was given"
        case .wrongRole: "the action needs one of some roles and the operator acts in another"
        case .unknownField: "the action has no field of that name"
        case .missingField: "a required field of the action is absent or empty"
        case .invalidField: "a field's value is not valid for its type or not one of its allowed values"
        case .ownDraft: "the drafter of a revision tried to approve it"
        case .conflictedApprover: "the person is listed in the statement's exclude input as conflicted"
        case .alreadyDecided: "the person has already approved or rejected this revision"
        case .unmetChecks: "the revision fails the statement's limits or content checks and the approval gives no override reason"
        case .notPaged: "the person was not paged by the escalation, stands in for nobody paged and holds no lead role"
        case .conflictedPerson: "the person is named as conflicted by the incident and may not draft, decide, acknowledge, choose or close"
        case .unknownPerson: "an ack's 'by' names nobody in the incident's contacts directory"
        case .missingElements: "a takedown notice or regulatory submission lacks elements its legal basis requires"
        case .authorisationMissing: "a takedown's authorisation comes from a step that has not been done yet"
        case .unknownTimer: "the timer is not armed (it fired, or was cancelled or replaced)"
        case .timerNotDue: "the timer fired before its due time"
        case .unknownDelivery: "no delivery has that key"
        case .deliveryFinal: "the delivery already has a final result, which cannot change"
        case .deliveryQueued: "the delivery is queued for crisis watch, or claimed by a sender: it is not settled by hand, queued or claimed again"
        case .invalidOperator: "the operator name or role is empty, too long or holds control characters"
        case .tooLarge: "the fields or the note are larger than crisis accepts"
        case .reservedField: "a field name starts with '_', which is reserved for crisis itself"
        case .duplicateField: "the same field was given twice"
        case .invalidText: "a note holds a NUL character"
        case .notInDirectory: "the operator claims a role but is not in the incident's contacts directory"
        case .unknownRole: "the operator claims a role the playbook does not declare"
        case .roleNotHeld: "the operator claims a role they do not hold in the contacts directory"
        case .missingTemplate: "a statement template is not pinned with the incident"
        case .templateError: "a statement template does not parse"
        case .overChannelLimit: "a rendered statement is over a channel's length limit"
        case .finalTooEarly: "the final authority of a statement's approval signs off last, once the quorum and all_of roles have approved"
        case .invalidAdvance: "the clock cannot move as asked (zero advance, live incident, or no timer armed)"
        }
    }

    /// Whether the engine gives this code (the others are the shell's, checked before the engine).
    public var isEngineCode: Bool {
        switch self {
        case .closed, .unknownStep, .notActive, .unknownAction, .actionUnavailable, .unrenderedDraft,
            .incompleteStatement, .roleRequired, .wrongRole, .unknownField, .missingField, .invalidField, .ownDraft,
            .conflictedApprover, .alreadyDecided, .unmetChecks, .conflictedPerson, .missingElements, .authorisationMissing, .unknownTimer, .timerNotDue, .unknownDelivery,
            .deliveryFinal, .deliveryQueued, .finalTooEarly:
            true
        case .invalidOperator, .tooLarge, .reservedField, .duplicateField, .invalidText, .notInDirectory,
            .unknownRole, .roleNotHeld, .notPaged, .unknownPerson, .missingTemplate, .templateError, .overChannelLimit,
            .invalidAdvance:
            false
        }
    }
}

/// What would make a refused event acceptable, as data. The command line renders it as advice (`--role`,
/// `--set`); a board renders it as a form. The engine's messages never carry command-line syntax.
public enum RejectionHint: Sendable, Hashable, Codable {
    /// Act in one of these roles; the first is the step's own (or the first allowed).
    case roleNeeded([String])
    /// Give this field: its name, type, and allowed values (for `enum` fields; empty otherwise).
    case fieldMissing(name: String, type: ValueType, allowed: [String])
    /// This field's value is not acceptable; its allowed values for `enum` fields (empty otherwise).
    case fieldInvalid(name: String, allowed: [String])
    /// The fields the action accepts.
    case fieldsAccepted([String])
    /// The actions the step accepts now (empty: none).
    case actionsAvailable([String])
    /// The step instances active now (empty: none).
    case stepsActive([String])
    /// The notice elements to fill in, with the takedown's `draft` action, before submitting.
    case elementsMissing([String])
    /// The people who may do this now (for an ack: those paged so far; a lead role may too).
    case peopleAllowed([String])
    /// A name was not recognised; the closest known names (empty: nothing close).
    case didYouMean([String])
}
