import CrisisAudit
import CrisisCore

/// The audit record types the runtime writes (the `type` column and the record's `type` member).
public typealias RecordType = CrisisAudit.RecordType

/// Builds and reads the `body` member of audit records. The body layout is documented in docs/audit-format.md;
/// it is part of the evidence, so it is written out field by field here rather than derived from Swift types.
enum RecordBody {
    static func obj(_ members: [(String, CanonicalValue?)]) -> CanonicalValue {
        .object(members.compactMap { k, v in v.map { (k, $0) } })
    }

    static func str(_ s: String?) -> CanonicalValue? { s.map { .string($0) } }
    static func int(_ i: Int64?) -> CanonicalValue? { i.map { .integer($0) } }
    static func int(_ i: Int?) -> CanonicalValue? { i.map { .integer(Int64($0)) } }

    /// A name-to-value map as an array of `{"name", "value"}` objects sorted by name: names are operator-typed
    /// (and may hold characters that canonical member names may not), so they are data, not keys.
    static func stringMap(_ m: [String: String]) -> CanonicalValue {
        .array(m.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }.map {
            .object([("name", .string($0.key)), ("value", .string($0.value))])
        })
    }

    static func actor(_ a: Actor) -> CanonicalValue {
        obj([("name", .string(a.name)), ("role", str(a.role))])
    }

    static func auditActor(_ a: Actor) -> AuditActor { AuditActor(id: a.name, role: a.role) }

    // MARK: engine events

    static func encode(_ event: EngineEvent) -> [(String, CanonicalValue?)] {
        switch event {
        case .acted(let step, let action, let fields, let actor):
            return [("step", .string(step)), ("action", .string(action)), ("fields", stringMap(fields)),
                    ("actor", Self.actor(actor))]
        case .timerFired(let id):
            return [("timer", .string(id))]
        case .deliveryCompleted(let key, let result, let detail, let actor):
            return [("key", .string(key)), ("result", .string(result.rawValue)), ("detail", str(detail)),
                    ("actor", Self.actor(actor))]
        case .noted(let text, let actor):
            return [("text", .string(text)), ("actor", Self.actor(actor))]
        }
    }

    /// Reads the engine event back from a record, or nil for records that carry none (opened, intent, clock,
    /// rejected, checkpoint).
    static func decodeEvent(type: RecordType, body: CanonicalValue) throws -> EngineEvent? {
        switch type {
        case RecordType.action:
            return .acted(
                step: try body.requiredString("step"), action: try body.requiredString("action"),
                fields: try body.stringMap("fields"), actor: try decodeActor(body["actor"]))
        case RecordType.timer:
            return .timerFired(id: try body.requiredString("timer"))
        case RecordType.outcome:
            guard let result = DeliveryResult(rawValue: try body.requiredString("result")) else {
                throw RuntimeError.corruptRecord("unknown delivery result")
            }
            return .deliveryCompleted(
                key: try body.requiredString("key"), result: result, detail: body["detail"]?.stringValue,
                actor: try decodeActor(body["actor"]))
        case RecordType.note:
            return .noted(text: try body.requiredString("text"), actor: try decodeActor(body["actor"]))
        default:
            return nil
        }
    }

    static func decodeActor(_ v: CanonicalValue?) throws -> Actor {
        guard let v, let name = v["name"]?.stringValue else { throw RuntimeError.corruptRecord("actor missing") }
        return Actor(name: name, role: v["role"]?.stringValue)
    }

    // MARK: engine actions (recorded as `effects`, for readers; replay recomputes them)

    static func effects(_ actions: [EngineAction]) -> CanonicalValue {
        .array(actions.map(effect))
    }

    static func effect(_ a: EngineAction) -> CanonicalValue {
        switch a {
        case .enterStep(let step, let type):
            return obj([("do", .string("enter")), ("step", .string(step)), ("step_type", .string(type))])
        case .exitStep(let step, let outcome):
            return obj([("do", .string("exit")), ("step", .string(step)), ("outcome", .string(outcome))])
        case .cancelStep(let step, let reason):
            return obj([("do", .string("cancel")), ("step", .string(step)), ("reason", .string(reason))])
        case .deliver(let d):
            return obj([("do", .string("deliver")), ("key", .string(d.key)), ("step", .string(d.step)),
                        ("purpose", .string(d.purpose.rawValue)), ("channel", .string(d.channel))])
        case .remind(let step, let message):
            return obj([("do", .string("remind")), ("step", str(step)), ("message", .string(message))])
        case .startClock(let id, let deadline):
            return obj([("do", .string("start_clock")), ("clock", .string(id)),
                        ("deadline", .integer(deadline.millisecondsSinceEpoch))])
        case .stopClock(let id):
            return obj([("do", .string("stop_clock")), ("clock", .string(id))])
        case .expireClock(let id):
            return obj([("do", .string("expire_clock")), ("clock", .string(id))])
        case .meetTarget(let id, let after):
            return obj([("do", .string("meet_target")), ("target", .string(id)),
                        ("after_ms", .integer(after.milliseconds))])
        case .missTarget(let id):
            return obj([("do", .string("miss_target")), ("target", .string(id))])
        case .exceedDeadline:
            return obj([("do", .string("exceed_deadline"))])
        case .close(let outcome):
            return obj([("do", .string("close")), ("outcome", .string(outcome))])
        }
    }

    static func intent(_ d: Delivery, now: Instant) -> CanonicalValue {
        obj([("now", .integer(now.millisecondsSinceEpoch)), ("key", .string(d.key)), ("step", .string(d.step)),
             ("purpose", .string(d.purpose.rawValue)), ("channel", .string(d.channel)),
             ("recipients", .array(d.recipients.map { .string($0) })), ("text", .string(d.text))])
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

    /// Reads a map written by `RecordBody.stringMap`.
    func stringMap(_ key: String) throws -> [String: String] {
        guard let items = self[key]?.arrayValue else { return [:] }
        var out: [String: String] = [:]
        for item in items {
            guard let name = item["name"]?.stringValue, let value = item["value"]?.stringValue else {
                throw RuntimeError.corruptRecord("'\(key)' holds an entry without name and value")
            }
            out[name] = value
        }
        return out
    }

    /// An integer member as an instant.
    func instant(_ key: String) -> Instant? {
        self[key]?.intValue.map { Instant(millisecondsSinceEpoch: Int64($0)) }
    }
}
