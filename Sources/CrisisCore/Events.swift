/// Whether an incident is real or an exercise. Fixed by the first event; a drill can never become live.
public enum IncidentMode: String, Sendable, Hashable, Codable, CaseIterable {
    case live, drill
}

/// Who did something: the operator's name (`--as`) and the playbook role they acted in (`--role`).
public struct Actor: Sendable, Hashable, Codable {
    public var name: String
    public var role: String?
    public init(name: String, role: String? = nil) {
        self.name = name
        self.role = role
    }
    /// The engine itself (timers, guards).
    public static let system = Actor(name: "crisis", role: nil)
}

/// Everything an incident runs on, pinned when it starts: the playbook (whose exact bytes the store keeps), its
/// SHA-256, the contacts directory, the mode and the validated inputs. Never changes afterwards.
public struct RunDefinition: Sendable, Hashable, Codable {
    public var incidentID: String
    public var title: String
    public var mode: IncidentMode
    public var playbook: Playbook
    /// Lower-case hex SHA-256 of the playbook file's exact bytes.
    public var playbookSHA256: String
    public var contacts: ContactsDirectory?
    /// Input values as the operator typed them, checked against their types; defaults filled in.
    public var inputs: [String: String]
    /// An incident opened by an engine before crisis/0.4, replayed with the rules it ran with: the statement's
    /// approval window (`approval.timeout`) armed once, at the first draft (later engines re-arm it for each
    /// revision); `exclude_input` names matched as written (later engines match them to the directory's people by
    /// id or display name, so `Liv Legal` excludes `liv.legal`); and a takedown's `give_up_after` ending it
    /// `no_response` whatever the platform had said (later engines end only a request still merely submitted).
    public var legacyRules: Bool

    public init(incidentID: String, title: String, mode: IncidentMode, playbook: Playbook, playbookSHA256: String,
                contacts: ContactsDirectory? = nil, inputs: [String: String], legacyRules: Bool = false) {
        self.incidentID = incidentID
        self.title = title
        self.mode = mode
        self.playbook = playbook
        self.playbookSHA256 = playbookSHA256
        self.contacts = contacts
        self.inputs = inputs
        self.legacyRules = legacyRules
    }
}

/// What happened: the only way state changes. Events are past-tense facts; the shell records each one in the
/// audit trail before it acts on the engine's answer.
public enum EngineEvent: Sendable, Hashable, Codable {
    /// An operator performed `action` on the active step instance `step` (an id, or `id[n]` for the n-th
    /// item of a foreach, or `incident` for incident-wide actions such as `close`).
    case acted(step: String, action: String, fields: [String: String], actor: Actor)
    /// A due timer fired. The shell fires timers whose due time has come, in due order.
    case timerFired(id: String)
    /// The result of an outbound delivery the engine asked for (or an operator's answer for one in doubt).
    case deliveryCompleted(key: String, result: DeliveryResult, detail: String?, actor: Actor)
    /// A free-text timeline entry. Changes nothing but the timeline.
    case noted(text: String, actor: Actor)
    /// A new draft of the holding statement on the active instance `step`: the drafter's facts and the texts
    /// the shell rendered from them. The engine binds approvals to `statement.sha256`; it never renders.
    case drafted(step: String, facts: [String: String], statement: RenderedStatement, actor: Actor)
}

/// A statement as the shell rendered it from a template: the text per language and the hash approvals bind to.
public struct RenderedStatement: Sendable, Hashable, Codable {
    /// Language (`nb`, `en`) to rendered text: the default text.
    public var texts: [String: String]
    /// Channel to its variant's text per language; empty without variants.
    public var variants: [String: [String: String]]
    /// The statement's languages, in order. Empty in records written before per-language publication.
    public var languages: [String]
    /// Lower-case hex SHA-256 of the rendered texts (every variant's too), as the shell computed it.
    public var sha256: String
    /// Measures and failed checks, evaluated by the shell at draft (StatementChecks.swift); recorded, never
    /// evaluated again on replay. Empty in trails written before crisis/0.4.
    public var checks: DraftChecks = DraftChecks()
    public init(texts: [String: String], sha256: String, variants: [String: [String: String]] = [:],
                languages: [String] = []) {
        self.texts = texts
        self.sha256 = sha256
        self.variants = variants
        self.languages = languages
    }
}

/// How an outbound delivery ended.
public enum DeliveryResult: String, Sendable, Hashable, Codable, CaseIterable {
    /// Delivered by a transport.
    case sent
    /// The transport failed.
    case failed
    /// Drill: written to the sandbox, never to the world.
    case sandboxed
    /// No transport for the channel: an operator must send it by hand and confirm.
    case manual
    /// Not an end: handed to the running `crisis watch`, which sends it (the command that made it returned at
    /// once). A queued delivery has not been tried: whoever claims it sends it.
    case queued
    /// Not an end: a sender claimed a queued delivery and is sending it now. Without a later result (the
    /// sender crashed) it is in doubt, like a delivery with no result at all: never sent again silently.
    case sending

    /// The results a transport or a person gives at the end of a delivery (or, `manual`, for a person to give).
    public var isEnd: Bool { self != .queued && self != .sending }
}

/// What the shell must do or record after an event. Actions are imperatives; the shell performs `deliver`
/// (write-ahead: intent first) and records the rest in the same audit record as the event that caused them.
public enum EngineAction: Sendable, Hashable, Codable {
    /// A step instance became active.
    case enterStep(step: String, type: StepType)
    /// A step instance finished with an outcome.
    case exitStep(step: String, outcome: String)
    /// A step instance was cancelled (a sibling branch won, fail-fast, run deadline).
    case cancelStep(step: String, reason: String)
    /// Send something outbound. Record the intent under `key` before sending; report the result back as
    /// `deliveryCompleted`.
    case deliver(Delivery)
    /// Tell the people on the incident something (follow-up reminder, clock warning, overdue notice).
    case remind(step: String?, message: String)
    case startClock(id: String, deadline: Instant)
    case stopClock(id: String)
    case expireClock(id: String)
    case meetTarget(id: String, after: PlaybookDuration)
    case missTarget(id: String)
    case exceedDeadline
    /// The incident closed with an outcome.
    case close(outcome: String)
}

/// An outbound message: a page, a notification, a statement publication.
public struct Delivery: Sendable, Hashable, Codable {
    /// Idempotency key, stable per (incident, step instance, purpose, attempt): a transport's own retries reuse
    /// it; an operator's `retry` of a failed delivery is a new delivery with a new key (`retryOf` the old one).
    public var key: String
    public var step: String
    public var purpose: DeliveryPurpose
    public var channel: String
    /// Person ids, `role:NAME`, or an audience name.
    public var recipients: [String]
    public var text: String
    /// The recipient's address on `channel`, as the contacts directory gave it when the delivery was asked for
    /// (a notification to a distribution list; nil otherwise, and for a member with no address there).
    public var address: String?
    /// The language the recipient reads (a list member's `language`, else the playbook's first language); nil
    /// for deliveries not addressed to one directory person.
    public var language: String?
    /// The key of the failed delivery this one sends again (`retry`); nil for a first attempt.
    public var retryOf: String?
    public init(key: String, step: String, purpose: DeliveryPurpose, channel: String, recipients: [String],
                text: String, address: String? = nil, language: String? = nil, retryOf: String? = nil) {
        self.key = key
        self.step = step
        self.purpose = purpose
        self.channel = channel
        self.recipients = recipients
        self.text = text
        self.address = address
        self.language = language
        self.retryOf = retryOf
    }
}

public enum DeliveryPurpose: String, Sendable, Hashable, Codable {
    case page, notify, publish
    /// An approved statement sent to the people its approval rule informs (`inform:`), who do not approve it.
    case inform
}

/// Why the engine (or the shell, before the engine) refused an event. Returned as data; the shell records it as
/// `input.rejected` with `code.rawValue`.
public struct Rejection: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// Stable machine-readable code; its raw value goes into records. See `RejectionCode` and
    /// docs/rejection-codes.md.
    public var code: RejectionCode
    /// What is wrong, for the operator. Never command-line syntax: advice on what to type is rendered from `hint`.
    public var message: String
    /// What would make the event acceptable (a role, a field, the actions possible now), as data.
    public var hint: RejectionHint?
    public init(_ code: RejectionCode, _ message: String, hint: RejectionHint? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }
    public var description: String { "\(message) [\(code.rawValue)]" }
}
