import CrisisAudit
import CrisisCore

/// One command's work on one incident: the incident as it stands, what was recorded, and what it caused.
struct CommandRun: Sendable {
    var incident: LoadedIncident
    var records: [StoredEvent] = []
    var actions: [EngineAction] = []
    /// Reminders and warnings the engine asked the shell to show people.
    var reminders: [Reminder] = []
    /// The outcome, when the command closed the incident.
    var closed: String?
    /// Where the command was told to write at (`--expect-seq`); used once, by the first commit.
    var expectedSeq: Int?
    /// While a due timer and what it causes are processed: the timer's due instant, the engine's `now` for
    /// them (never earlier than the incident's clock). Nil otherwise: the engine runs at `engineNow`.
    var firingAt: Instant?

    init(_ incident: LoadedIncident, expectedSeq: Int? = nil) {
        self.incident = incident
        self.expectedSeq = expectedSeq
    }
}

/// Appends records and folds them in: the only place that writes an incident's records after it opened.
///
/// `process` is the commit pipeline of one event, in the manner of async-http-client's
/// `modifyStateAndRunActions`: the engine answers `(state, actions)` or a refusal; an accepted event is encoded
/// as its typed record and appended, with the write-ahead intents of the deliveries it asks for, in one
/// `BEGIN IMMEDIATE` transaction at the expected sequence number; only then does the new state replace the old.
/// What the actions do is the effect runner's business.
struct Committer: Sendable {
    let log: any AuditLog

    /// Runs `event` through the engine and records it. Returns the engine's actions, or its refusal (nothing
    /// recorded).
    func process(
        _ event: EngineEvent, key: String, actor: Actor, wallNow: Instant, into run: inout CommandRun,
        record: (Instant, [RecordedEffect]) -> TrailRecord
    ) throws -> Result<[EngineAction], Rejection> {
        let now = run.firingAt.map { max($0, run.incident.now) } ?? Self.engineNow(run.incident, wallNow: wallNow)
        switch Engine.handle(event, in: run.incident.state, at: now) {
        case .failure(let rejection):
            return .failure(rejection)
        case .success(let (state, actions)):
            let stored = try append(
                record(now, actions.map(RecordedEffect.init)), key: key, actor: actor, wallNow: wallNow,
                intents: actions.compactMap { if case .deliver(let d) = $0 { d } else { nil } }, into: &run)
            if stored.first?.replayedFromKey == true { return .success([]) }
            run.incident.state = state
            run.actions += actions
            return .success(actions)
        }
    }

    /// Appends `record` (and the intents of `intents`) in one transaction, and moves the incident's head and
    /// clock. The state is the caller's to update.
    @discardableResult
    func append(_ record: TrailRecord, key: String, actor: Actor, wallNow: Instant, intents: [Delivery] = [],
                into run: inout CommandRun) throws -> [StoredEvent] {
        let now = record.now ?? run.incident.now
        let drafts = [EventDraft(type: record.type, idempotencyKey: key, actor: Self.auditActor(actor),
                                 recordedAt: wallNow, body: record.body)]
            + intents.map {
                EventDraft(type: RecordType.intent, idempotencyKey: "intent/\($0.key)", actor: Self.auditActor(actor),
                           recordedAt: wallNow, body: TrailRecord.intent(.init(now: now, delivery: $0)).body)
            }
        let expected = run.expectedSeq ?? run.incident.seq
        run.expectedSeq = nil
        let stored = try log.append(incident: run.incident.id, expectedSeq: expected, events: drafts)
        if let last = stored.last, !(stored.first?.replayedFromKey ?? false) {
            run.incident.seq = last.seq
            run.incident.headHash = last.entryHashHex
            run.incident.now = max(run.incident.now, now)
        }
        run.records += stored
        return stored
    }

    /// The engine's `now` for a new event: drills keep their simulated clock; live incidents use the wall
    /// clock, never earlier than the last record (a clock that jumped back is flagged, order comes from seq).
    static func engineNow(_ incident: LoadedIncident, wallNow: Instant) -> Instant {
        incident.isDrill ? incident.now : max(wallNow, incident.now)
    }

    /// A live record made while the wall clock is behind the incident's clock.
    static func clockAnomaly(_ incident: LoadedIncident, wallNow: Instant) -> TrailRecord.ClockAnomaly? {
        guard !incident.isDrill, wallNow < incident.now else { return nil }
        return .init(wall: wallNow, previous: incident.now)
    }

    static func auditActor(_ a: Actor) -> AuditActor { AuditActor(id: a.name, role: a.role) }
}

/// Something the engine asked to be shown to the people on the incident (a follow-up reminder, a clock warning).
public struct Reminder: Sendable, Hashable {
    public var step: String?
    public var message: String
}
