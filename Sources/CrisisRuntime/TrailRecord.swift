import CrisisAudit
import CrisisCore

/// The body of one audit record, typed: the one place that writes and reads record bodies.
///
/// Replay, `log`, `status` and exports all read records through `TrailRecord.decode`; every command writes them
/// through `body`. The layout is evidence and is specified field by field in docs/audit-format.md ("Record
/// bodies"); member order here is the order on disk. Records written by earlier builds decode too (a statement
/// draft's texts used to travel as the reserved fields `_text.<lang>` and `_sha256`).
public enum TrailRecord: Sendable, Hashable {
    case opened(Opened)
    case action(ActionTaken)
    case timer(TimerFired)
    case clockAdvanced(ClockAdvanced)
    case intent(Intent)
    case outcome(Outcome)
    case note(Note)
    case rejected(Rejected)
    case checkpoint(CheckpointIssued)

    /// `incident.opened`: the run definition, pinned.
    public struct Opened: Sendable, Hashable {
        public struct PlaybookRef: Sendable, Hashable {
            public var id: String
            public var version: String
            public var file: String
            public var sha256: String
        }
        public struct FileRef: Sendable, Hashable {
            public var path: String
            public var sha256: String
        }
        public var now: Instant
        public var mode: IncidentMode
        public var title: String
        /// The engine version that opened the incident (`crisis/0.1`).
        public var engine: String
        public var playbook: PlaybookRef
        /// Statement templates, sorted by path.
        public var templates: [FileRef]
        public var contacts: FileRef?
        /// A drill started from a scenario (`crisis drill`): the scenario file, pinned like the playbook, so scoring
        /// and the after-action report read it from the trail. Nil otherwise.
        public var scenario: FileRef? = nil
        /// Incidents this one is related to (`crisis start --related ID`: a recurrence, a reactivation); each of
        /// them records the link back as a note. Empty in records written before crisis/0.5.
        public var related: [String] = []
        public var inputs: [String: String]
        public var effects: [RecordedEffect]
    }

    /// `operator.action`: an operator's action the engine accepted.
    public struct ActionTaken: Sendable, Hashable {
        public var now: Instant
        public var step: String
        public var action: String
        /// The fields the operator gave (`--set`); for a statement draft, its facts.
        public var fields: [String: String]
        /// A statement draft's rendered texts and their hash (what approvals bind to).
        public var statement: RenderedStatement?
        /// What the action acted on, as it stood when it was accepted, so the trail tells the story by itself:
        /// for an approval or rejection of a statement, the `revision` and `sha256` of the text it binds to; for a
        /// takedown's `submit`, the `platform`, the `urls` and every notice element as submitted (`notice.NAME`,
        /// prefilled ones included). Empty for other actions and in records written before crisis/0.4.
        public var subject: [String: String] = [:]
        public var actor: Actor
        public var note: String?
        public var effects: [RecordedEffect]
        public var clockAnomaly: ClockAnomaly?
    }

    /// `timer.fired`.
    ///
    /// The engine handles a timer at its due instant (never before the incident's clock), so what it arms
    /// counts from then. A live timer also records when the wall clock actually fired it (`fired_at`): a
    /// watcher that slept or crashed catches up in due order and each record says how late it was.
    public struct TimerFired: Sendable, Hashable {
        public var now: Instant
        public var timer: String
        public var due: Instant
        public var step: String?
        /// Live incidents: the wall-clock instant the timer was fired. Nil in drills (and in records written before
        /// crisis/0.3, where the engine handled timers at the firing command's time: `now`).
        public var firedAt: Instant?
        /// What the timer was for, for people (`ack timeout (level 1, round 1)`); nil in records before crisis/0.3.
        public var purpose: String?
        public var effects: [RecordedEffect]
        /// How long after its due instant the timer was fired.
        public var lateBy: PlaybookDuration { (firedAt ?? now) - due }
        public init(now: Instant, timer: String, due: Instant, step: String?, firedAt: Instant? = nil,
                    purpose: String? = nil, effects: [RecordedEffect]) {
            self.now = now
            self.timer = timer
            self.due = due
            self.step = step
            self.firedAt = firedAt
            self.purpose = purpose
            self.effects = effects
        }
    }

    /// `clock.advanced`: a drill's simulated clock moved.
    public struct ClockAdvanced: Sendable, Hashable {
        public var now: Instant
        public var from: Instant
        public var by: PlaybookDuration { now - from }
    }

    /// `action.intent`: a delivery about to be performed (write-ahead).
    public struct Intent: Sendable, Hashable {
        public var now: Instant
        public var delivery: Delivery
    }

    /// `action.outcome`: how a delivery ended (a transport's answer, or a person's).
    public struct Outcome: Sendable, Hashable {
        public var now: Instant
        public var key: String
        public var result: DeliveryResult
        public var detail: String?
        public var actor: Actor
        /// A note the operator gave when settling a delivery by hand.
        public var note: String?
        public var effects: [RecordedEffect]
        public var clockAnomaly: ClockAnomaly?
        /// Every attempt a transport made (live deliveries through `crisis-transports/v1`); absent otherwise, so
        /// outcomes written before transports existed keep their bytes.
        public var attempts: [DeliveryAttempt]? = nil
    }

    /// `operator.note`.
    public struct Note: Sendable, Hashable {
        public var now: Instant
        public var text: String
        public var actor: Actor
        public var clockAnomaly: ClockAnomaly?
    }

    /// `input.rejected`: a refused action; nothing else changed.
    public struct Rejected: Sendable, Hashable {
        public var now: Instant
        public var step: String
        public var action: String
        public var fields: [String: String]
        public var actor: Actor
        public var code: String
        public var message: String
    }

    /// `checkpoint.issued`, written by the store.
    public struct CheckpointIssued: Sendable, Hashable {
        public var treeSize: Int
        public var merkleRoot: String
        public var chainHead: String
        public var keyName: String
        public var keyID: String?
        public var verifierKey: String?
    }

    /// A live record whose wall clock was earlier than the previous record's (order comes from `seq`).
    public struct ClockAnomaly: Sendable, Hashable {
        public var wall: Instant
        public var previous: Instant
    }

    // MARK: reading

    /// The record type this body is written under.
    public var type: RecordType {
        switch self {
        case .opened: .opened
        case .action: .action
        case .timer: .timer
        case .clockAdvanced: .clockAdvanced
        case .intent: .intent
        case .outcome: .outcome
        case .note: .note
        case .rejected: .rejected
        case .checkpoint: .checkpoint
        }
    }

    /// The engine's instant of the record, where it has one (every record but a checkpoint).
    public var now: Instant? {
        switch self {
        case .opened(let r): r.now
        case .action(let r): r.now
        case .timer(let r): r.now
        case .clockAdvanced(let r): r.now
        case .intent(let r): r.now
        case .outcome(let r): r.now
        case .note(let r): r.now
        case .rejected(let r): r.now
        case .checkpoint: nil
        }
    }

    /// What the record feeds the engine on replay, or nil for records that carry no event.
    public var event: EngineEvent? {
        switch self {
        case .action(let r):
            if let statement = r.statement {
                return .drafted(step: r.step, facts: r.fields, statement: statement, actor: r.actor)
            }
            return .acted(step: r.step, action: r.action, fields: r.fields, actor: r.actor)
        case .timer(let r): return .timerFired(id: r.timer)
        case .outcome(let r):
            return .deliveryCompleted(key: r.key, result: r.result, detail: r.detail, actor: r.actor)
        case .note(let r): return .noted(text: r.text, actor: r.actor)
        case .opened, .clockAdvanced, .intent, .rejected, .checkpoint: return nil
        }
    }

    /// Whether records of `type` feed the engine on replay.
    public static func carriesEvent(_ type: RecordType) -> Bool {
        type == RecordType.action || type == RecordType.timer || type == RecordType.outcome || type == .note
    }

    /// Who the record names as acting (the operator for actions, outcomes, notes and refusals).
    public var actor: Actor? {
        switch self {
        case .action(let r): r.actor
        case .outcome(let r): r.actor
        case .note(let r): r.actor
        case .rejected(let r): r.actor
        case .opened, .timer, .clockAdvanced, .intent, .checkpoint: nil
        }
    }

    /// The engine's transitions recorded with the record (for readers; replay recomputes them).
    public var effects: [RecordedEffect] {
        switch self {
        case .opened(let r): r.effects
        case .action(let r): r.effects
        case .timer(let r): r.effects
        case .outcome(let r): r.effects
        case .clockAdvanced, .intent, .note, .rejected, .checkpoint: []
        }
    }

    public var clockAnomaly: ClockAnomaly? {
        switch self {
        case .action(let r): r.clockAnomaly
        case .outcome(let r): r.clockAnomaly
        case .note(let r): r.clockAnomaly
        case .opened, .timer, .clockAdvanced, .intent, .rejected, .checkpoint: nil
        }
    }

    /// Reads a stored record's body.
    public static func decode(_ record: StoredEvent) throws -> TrailRecord {
        do {
            return try decode(type: record.type, body: record.body)
        } catch RuntimeError.corruptRecord(let why) {
            throw RuntimeError.corruptRecord("record \(record.seq) (\(record.type.rawValue)): \(why)")
        }
    }

    /// Reads a body written under `type`.
    public static func decode(type: RecordType, body b: CanonicalValue) throws -> TrailRecord {
        switch type {
        case .opened:
            guard let pb = b["playbook"] else { throw RuntimeError.corruptRecord("missing 'playbook'") }
            guard let mode = IncidentMode(rawValue: try b.requiredString("mode")) else {
                throw RuntimeError.corruptRecord("unknown mode")
            }
            return .opened(Opened(
                now: try b.requiredInstant("now"), mode: mode, title: try b.requiredString("title"),
                engine: b["engine"]?.stringValue ?? "",
                playbook: .init(id: try pb.requiredString("id"), version: try pb.requiredString("version"),
                                file: try pb.requiredString("file"), sha256: try pb.requiredString("sha256")),
                templates: try (b["templates"]?.arrayValue ?? []).map {
                    .init(path: try $0.requiredString("path"), sha256: try $0.requiredString("sha256"))
                },
                contacts: try b["contacts"].map {
                    .init(path: try $0.requiredString("file"), sha256: try $0.requiredString("sha256"))
                },
                scenario: try b["scenario"].map {
                    .init(path: try $0.requiredString("file"), sha256: try $0.requiredString("sha256"))
                },
                related: (b["related"]?.arrayValue ?? []).compactMap(\.stringValue),
                inputs: try b.stringMap("inputs"), effects: try RecordedEffect.decodeList(b["effects"])))
        case .action:
            var fields = try b.stringMap("fields")
            var statement: RenderedStatement?
            if let s = b["statement"] {
                var variants: [String: [String: String]] = [:]
                for v in s["variants"]?.arrayValue ?? [] {
                    guard let channel = v["channel"]?.stringValue else {
                        throw RuntimeError.corruptRecord("'variants' holds an entry without a channel")
                    }
                    variants[channel] = try v.stringMap("texts")
                }
                statement = RenderedStatement(
                    texts: try s.stringMap("texts"), sha256: try s.requiredString("sha256"), variants: variants,
                    languages: (s["languages"]?.arrayValue ?? []).compactMap(\.stringValue))
                statement?.checks = try DraftChecksCoding.decode(s)
            } else if let sha = fields[Legacy.hashField] {
                // Written before drafts were typed: the texts rode along as reserved fields.
                var texts: [String: String] = [:]
                for (name, value) in fields where name.hasPrefix(Legacy.textPrefix) {
                    texts[String(name.dropFirst(Legacy.textPrefix.count))] = value
                }
                fields = fields.filter { !$0.key.hasPrefix("_") }
                statement = RenderedStatement(texts: texts, sha256: sha)
            }
            return .action(ActionTaken(
                now: try b.requiredInstant("now"), step: try b.requiredString("step"),
                action: try b.requiredString("action"), fields: fields, statement: statement,
                subject: try b.stringMap("subject"),
                actor: try decodeActor(b["actor"]), note: b["note"]?.stringValue,
                effects: try RecordedEffect.decodeList(b["effects"]), clockAnomaly: try decodeAnomaly(b)))
        case .timer:
            return .timer(TimerFired(
                now: try b.requiredInstant("now"), timer: try b.requiredString("timer"), due: try b.requiredInstant("due"),
                step: b["step"]?.stringValue, firedAt: b["fired_at"]?.intValue.map { Instant(millisecondsSinceEpoch: Int64($0)) },
                purpose: b["purpose"]?.stringValue, effects: try RecordedEffect.decodeList(b["effects"])))
        case .clockAdvanced:
            return .clockAdvanced(ClockAdvanced(now: try b.requiredInstant("now"), from: try b.requiredInstant("from")))
        case .intent:
            guard let purpose = DeliveryPurpose(rawValue: try b.requiredString("purpose")) else {
                throw RuntimeError.corruptRecord("unknown delivery purpose")
            }
            return .intent(Intent(now: try b.requiredInstant("now"), delivery: Delivery(
                key: try b.requiredString("key"), step: try b.requiredString("step"), purpose: purpose,
                channel: try b.requiredString("channel"),
                recipients: (b["recipients"]?.arrayValue ?? []).compactMap(\.stringValue),
                text: try b.requiredString("text"), address: b["address"]?.stringValue,
                language: b["language"]?.stringValue, retryOf: b["retry_of"]?.stringValue)))
        case .outcome:
            guard let result = DeliveryResult(rawValue: try b.requiredString("result")) else {
                throw RuntimeError.corruptRecord("unknown delivery result")
            }
            return .outcome(Outcome(
                now: try b.requiredInstant("now"), key: try b.requiredString("key"), result: result,
                detail: b["detail"]?.stringValue, actor: try decodeActor(b["actor"]), note: b["note"]?.stringValue,
                effects: try RecordedEffect.decodeList(b["effects"]), clockAnomaly: try decodeAnomaly(b),
                attempts: try b["attempts"].map(decodeAttempts)))
        case .note:
            return .note(Note(now: try b.requiredInstant("now"), text: try b.requiredString("text"),
                              actor: try decodeActor(b["actor"]), clockAnomaly: try decodeAnomaly(b)))
        case .rejected:
            return .rejected(Rejected(
                now: try b.requiredInstant("now"), step: try b.requiredString("step"),
                action: try b.requiredString("action"), fields: try b.stringMap("fields"),
                actor: try decodeActor(b["actor"]), code: try b.requiredString("code"),
                message: try b.requiredString("message")))
        case .checkpoint:
            return .checkpoint(CheckpointIssued(
                treeSize: Int(try b.requiredInt("tree_size")), merkleRoot: try b.requiredString("merkle_root"),
                chainHead: try b.requiredString("chain_head"), keyName: try b.requiredString("key_name"),
                keyID: b["key_id"]?.stringValue, verifierKey: b["verifier_key"]?.stringValue))
        }
    }

    // MARK: writing

    /// The canonical body, member by member in the documented order.
    public var body: CanonicalValue {
        switch self {
        case .opened(let r):
            return obj([
                ("now", .integer(r.now.millisecondsSinceEpoch)),
                ("mode", .string(r.mode.rawValue)),
                ("title", .string(r.title)),
                ("engine", .string(r.engine)),
                ("playbook", obj([
                    ("id", .string(r.playbook.id)), ("version", .string(r.playbook.version)),
                    ("file", .string(r.playbook.file)), ("sha256", .string(r.playbook.sha256)),
                ])),
                ("templates", .array(r.templates.map { obj([("path", .string($0.path)), ("sha256", .string($0.sha256))]) })),
                ("contacts", r.contacts.map { obj([("file", .string($0.path)), ("sha256", .string($0.sha256))]) }),
                ("scenario", r.scenario.map { obj([("file", .string($0.path)), ("sha256", .string($0.sha256))]) }),
                ("related", r.related.isEmpty ? CanonicalValue?.none : .array(r.related.map { .string($0) })),
                ("inputs", stringMap(r.inputs)),
                ("effects", RecordedEffect.encodeList(r.effects)),
            ])
        case .action(let r):
            return obj([
                ("now", .integer(r.now.millisecondsSinceEpoch)), ("step", .string(r.step)),
                ("action", .string(r.action)), ("fields", stringMap(r.fields)),
                ("statement", r.statement.map {
                    obj([("sha256", .string($0.sha256)), ("texts", stringMap($0.texts)),
                         ("languages", $0.languages.isEmpty ? nil : .array($0.languages.map { .string($0) })),
                         ("variants", $0.variants.isEmpty ? nil : .array($0.variants.sorted { $0.key < $1.key }.map {
                             obj([("channel", .string($0.key)), ("texts", stringMap($0.value))])
                         }))] + DraftChecksCoding.members($0.checks))
                }),
                ("subject", r.subject.isEmpty ? CanonicalValue?.none : stringMap(r.subject)),
                ("actor", actor(r.actor)), ("note", r.note.map { .string($0) }),
                ("effects", RecordedEffect.encodeList(r.effects)), ("clock_anomaly", r.clockAnomaly.map(anomaly)),
            ])
        case .timer(let r):
            return obj([
                ("now", .integer(r.now.millisecondsSinceEpoch)), ("timer", .string(r.timer)),
                ("due", .integer(r.due.millisecondsSinceEpoch)), ("late_by_ms", .integer(r.lateBy.milliseconds)),
                ("fired_at", r.firedAt.map { .integer($0.millisecondsSinceEpoch) }),
                ("purpose", r.purpose.map { .string($0) }),
                ("step", r.step.map { .string($0) }), ("effects", RecordedEffect.encodeList(r.effects)),
            ])
        case .clockAdvanced(let r):
            return obj([
                ("now", .integer(r.now.millisecondsSinceEpoch)), ("from", .integer(r.from.millisecondsSinceEpoch)),
                ("by_ms", .integer(r.by.milliseconds)),
            ])
        case .intent(let r):
            let d = r.delivery
            return obj([
                ("now", .integer(r.now.millisecondsSinceEpoch)), ("key", .string(d.key)), ("step", .string(d.step)),
                ("purpose", .string(d.purpose.rawValue)), ("channel", .string(d.channel)),
                ("recipients", .array(d.recipients.map { .string($0) })), ("text", .string(d.text)),
                // Only a notification to a list member (address, language) and a retry (retry_of) carry these.
                ("address", d.address.map { .string($0) }), ("language", d.language.map { .string($0) }),
                ("retry_of", d.retryOf.map { .string($0) }),
            ])
        case .outcome(let r):
            return obj([
                ("now", .integer(r.now.millisecondsSinceEpoch)), ("key", .string(r.key)),
                ("result", .string(r.result.rawValue)), ("detail", r.detail.map { .string($0) }),
                ("actor", actor(r.actor)), ("note", r.note.map { .string($0) }),
                ("effects", RecordedEffect.encodeList(r.effects)), ("clock_anomaly", r.clockAnomaly.map(anomaly)),
                ("attempts", r.attempts.map(encodeAttempts)),
            ])
        case .note(let r):
            return obj([
                ("now", .integer(r.now.millisecondsSinceEpoch)), ("text", .string(r.text)), ("actor", actor(r.actor)),
                ("clock_anomaly", r.clockAnomaly.map(anomaly)),
            ])
        case .rejected(let r):
            return obj([
                ("now", .integer(r.now.millisecondsSinceEpoch)), ("step", .string(r.step)),
                ("action", .string(r.action)), ("fields", stringMap(r.fields)), ("actor", actor(r.actor)),
                ("code", .string(r.code)), ("message", .string(r.message)),
            ])
        case .checkpoint(let r):
            return obj([
                ("tree_size", .integer(Int64(r.treeSize))), ("merkle_root", .string(r.merkleRoot)),
                ("chain_head", .string(r.chainHead)), ("key_name", .string(r.keyName)),
                ("key_id", r.keyID.map { .string($0) }), ("verifier_key", r.verifierKey.map { .string($0) }),
            ])
        }
    }

    // MARK: helpers

    /// Names used by records written before statement drafts were typed.
    enum Legacy {
        static let textPrefix = "_text."
        static let hashField = "_sha256"
    }

    private func obj(_ members: [(String, CanonicalValue?)]) -> CanonicalValue {
        .object(members.compactMap { k, v in v.map { (k, $0) } })
    }

    /// A name-to-value map as an array of `{"name", "value"}` objects sorted by the names' UTF-8 bytes: names
    /// are operator-typed (and may hold characters that canonical member names may not), so they are data.
    private func stringMap(_ m: [String: String]) -> CanonicalValue {
        .array(m.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }.map {
            .object([("name", .string($0.key)), ("value", .string($0.value))])
        })
    }

    private func actor(_ a: Actor) -> CanonicalValue {
        obj([("name", .string(a.name)), ("role", a.role.map { .string($0) })])
    }

    private func anomaly(_ a: ClockAnomaly) -> CanonicalValue {
        .object([("wall", .integer(a.wall.millisecondsSinceEpoch)),
                 ("previous", .integer(a.previous.millisecondsSinceEpoch))])
    }

    private static func decodeActor(_ v: CanonicalValue?) throws -> Actor {
        guard let v, let name = v["name"]?.stringValue else { throw RuntimeError.corruptRecord("missing 'actor'") }
        return Actor(name: name, role: v["role"]?.stringValue)
    }

    private func encodeAttempts(_ attempts: [DeliveryAttempt]) -> CanonicalValue {
        .array(attempts.map { a in
            obj([("n", .integer(Int64(a.number))), ("to", a.to.map { .string($0) }),
                 ("at", .integer(a.at.millisecondsSinceEpoch)), ("latency_ms", .integer(a.latencyMs)),
                 ("status", a.status.map { .integer(Int64($0)) }), ("reply", a.reply.map { .string($0) }),
                 ("error", a.error.map { .string($0) }), ("backoff_ms", a.backoffMs.map { .integer($0) })])
        })
    }

    private static func decodeAttempts(_ v: CanonicalValue) throws -> [DeliveryAttempt] {
        guard let items = v.arrayValue else { throw RuntimeError.corruptRecord("'attempts' is not a list") }
        return try items.map { i in
            DeliveryAttempt(number: Int(try i.requiredInt("n")), to: i["to"]?.stringValue, at: try i.requiredInstant("at"),
                            latencyMs: try i.requiredInt("latency_ms"), status: i["status"]?.intValue,
                            reply: i["reply"]?.stringValue, error: i["error"]?.stringValue,
                            backoffMs: i["backoff_ms"]?.int64Value)
        }
    }

    private static func decodeAnomaly(_ b: CanonicalValue) throws -> ClockAnomaly? {
        guard let a = b["clock_anomaly"] else { return nil }
        return ClockAnomaly(wall: try a.requiredInstant("wall"), previous: try a.requiredInstant("previous"))
    }
}

/// One entry of a record's `effects`: what the engine did in response to the record's event, as recorded for
/// readers (replay recomputes it from the event).
public enum RecordedEffect: Sendable, Hashable {
    case enter(step: String, type: String)
    case exit(step: String, outcome: String)
    case cancel(step: String, reason: String)
    case deliver(key: String, step: String, purpose: String, channel: String)
    case remind(step: String?, message: String)
    case startClock(id: String, deadline: Instant)
    case stopClock(id: String)
    case expireClock(id: String)
    case meetTarget(id: String, after: PlaybookDuration)
    case missTarget(id: String)
    case exceedDeadline
    case close(outcome: String)

    public init(_ action: EngineAction) {
        switch action {
        case .enterStep(let step, let type): self = .enter(step: step, type: type.rawValue)
        case .exitStep(let step, let outcome): self = .exit(step: step, outcome: outcome)
        case .cancelStep(let step, let reason): self = .cancel(step: step, reason: reason)
        case .deliver(let d): self = .deliver(key: d.key, step: d.step, purpose: d.purpose.rawValue, channel: d.channel)
        case .remind(let step, let message): self = .remind(step: step, message: message)
        case .startClock(let id, let deadline): self = .startClock(id: id, deadline: deadline)
        case .stopClock(let id): self = .stopClock(id: id)
        case .expireClock(let id): self = .expireClock(id: id)
        case .meetTarget(let id, let after): self = .meetTarget(id: id, after: after)
        case .missTarget(let id): self = .missTarget(id: id)
        case .exceedDeadline: self = .exceedDeadline
        case .close(let outcome): self = .close(outcome: outcome)
        }
    }

    static func encodeList(_ effects: [RecordedEffect]) -> CanonicalValue { .array(effects.map(\.canonical)) }

    static func decodeList(_ value: CanonicalValue?) throws -> [RecordedEffect] {
        guard let value else { return [] }
        guard let items = value.arrayValue else { throw RuntimeError.corruptRecord("'effects' is not a list") }
        return try items.map(decode)
    }

    var canonical: CanonicalValue {
        func o(_ m: [(String, CanonicalValue?)]) -> CanonicalValue { .object(m.compactMap { k, v in v.map { (k, $0) } }) }
        switch self {
        case .enter(let step, let type):
            return o([("do", "enter"), ("step", .string(step)), ("step_type", .string(type))])
        case .exit(let step, let outcome):
            return o([("do", "exit"), ("step", .string(step)), ("outcome", .string(outcome))])
        case .cancel(let step, let reason):
            return o([("do", "cancel"), ("step", .string(step)), ("reason", .string(reason))])
        case .deliver(let key, let step, let purpose, let channel):
            return o([("do", "deliver"), ("key", .string(key)), ("step", .string(step)), ("purpose", .string(purpose)),
                      ("channel", .string(channel))])
        case .remind(let step, let message):
            return o([("do", "remind"), ("step", step.map { .string($0) }), ("message", .string(message))])
        case .startClock(let id, let deadline):
            return o([("do", "start_clock"), ("clock", .string(id)), ("deadline", .integer(deadline.millisecondsSinceEpoch))])
        case .stopClock(let id): return o([("do", "stop_clock"), ("clock", .string(id))])
        case .expireClock(let id): return o([("do", "expire_clock"), ("clock", .string(id))])
        case .meetTarget(let id, let after):
            return o([("do", "meet_target"), ("target", .string(id)), ("after_ms", .integer(after.milliseconds))])
        case .missTarget(let id): return o([("do", "miss_target"), ("target", .string(id))])
        case .exceedDeadline: return o([("do", "exceed_deadline")])
        case .close(let outcome): return o([("do", "close"), ("outcome", .string(outcome))])
        }
    }

    static func decode(_ v: CanonicalValue) throws -> RecordedEffect {
        switch try v.requiredString("do") {
        case "enter": return .enter(step: try v.requiredString("step"), type: try v.requiredString("step_type"))
        case "exit": return .exit(step: try v.requiredString("step"), outcome: try v.requiredString("outcome"))
        case "cancel": return .cancel(step: try v.requiredString("step"), reason: try v.requiredString("reason"))
        case "deliver":
            return .deliver(key: try v.requiredString("key"), step: try v.requiredString("step"),
                            purpose: try v.requiredString("purpose"), channel: try v.requiredString("channel"))
        case "remind": return .remind(step: v["step"]?.stringValue, message: try v.requiredString("message"))
        case "start_clock": return .startClock(id: try v.requiredString("clock"), deadline: try v.requiredInstant("deadline"))
        case "stop_clock": return .stopClock(id: try v.requiredString("clock"))
        case "expire_clock": return .expireClock(id: try v.requiredString("clock"))
        case "meet_target":
            return .meetTarget(id: try v.requiredString("target"),
                               after: PlaybookDuration(milliseconds: try v.requiredInt("after_ms")))
        case "miss_target": return .missTarget(id: try v.requiredString("target"))
        case "exceed_deadline": return .exceedDeadline
        case "close": return .close(outcome: try v.requiredString("outcome"))
        case let other: throw RuntimeError.corruptRecord("unknown effect '\(other)'")
        }
    }
}

extension CanonicalValue {
    func requiredString(_ key: String) throws -> String {
        guard let s = self[key]?.stringValue else { throw RuntimeError.corruptRecord("missing '\(key)'") }
        return s
    }

    func requiredInt(_ key: String) throws -> Int64 {
        guard let i = self[key]?.intValue else { throw RuntimeError.corruptRecord("missing '\(key)'") }
        return Int64(i)
    }

    func requiredInstant(_ key: String) throws -> Instant {
        Instant(millisecondsSinceEpoch: try requiredInt(key))
    }

    /// Reads a map written as `[{"name", "value"}]`.
    func stringMap(_ key: String) throws -> [String: String] {
        guard let member = self[key] else { return [:] }
        guard let items = member.arrayValue else { throw RuntimeError.corruptRecord("'\(key)' is not a list") }
        var out: [String: String] = [:]
        for item in items {
            guard let name = item["name"]?.stringValue, let value = item["value"]?.stringValue else {
                throw RuntimeError.corruptRecord("'\(key)' holds an entry without name and value")
            }
            out[name] = value
        }
        return out
    }
}
