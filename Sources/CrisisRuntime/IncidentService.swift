import CrisisAudit
import CrisisCore
import CrisisPlaybook
import Foundation

/// An incident as rebuilt from its audit trail.
public struct LoadedIncident: Sendable {
    public var header: IncidentHeader
    public var definition: RunDefinition
    public var state: IncidentState
    /// Sequence number of the last record.
    public var seq: Int
    /// Who wrote the last record.
    public var headActor: String
    /// The incident's clock: simulated for drills (moved only by `tick`), else the last recorded instant.
    public var now: Instant
    /// Pinned template files by relative path.
    public var templates: [String: [UInt8]]
    /// Every record, in order.
    public var events: [StoredEvent]
    /// Timer anomalies seen while replaying (wall clock moved backwards between records).
    public var clockAnomalies: Int

    public var isDrill: Bool { definition.mode == .drill }
}

/// What one command changed.
public struct CommitResult: Sendable {
    public var records: [StoredEvent]
    public var actions: [EngineAction]
    public var incident: LoadedIncident
}

/// The imperative shell around the pure engine: it loads an incident by replaying its trail, validates each
/// operator action with the engine, appends it in one `BEGIN IMMEDIATE` transaction (with the write-ahead
/// intents of any deliveries it causes), performs the deliveries, and records their outcomes.
public struct IncidentService: Sendable {
    public let store: AuditStore
    /// Version written into records and the incident header.
    public static let engineVersion = "crisis/0.1"

    public init(store: AuditStore) {
        self.store = store
    }

    // MARK: start

    /// Options for `crisis start`.
    public struct StartRequest: Sendable {
        public var playbookPath: String
        public var contactsPath: String?
        public var inputs: [(String, String)]
        public var mode: IncidentMode
        public var title: String?
        public var actor: Actor
        public var wallNow: Instant
        /// Drills: the simulated start time (default: the wall clock).
        public var simulatedStart: Instant?
        public init(playbookPath: String, contactsPath: String? = nil, inputs: [(String, String)] = [],
                    mode: IncidentMode = .live, title: String? = nil, actor: Actor, wallNow: Instant,
                    simulatedStart: Instant? = nil) {
            self.playbookPath = playbookPath
            self.contactsPath = contactsPath
            self.inputs = inputs
            self.mode = mode
            self.title = title
            self.actor = actor
            self.wallNow = wallNow
            self.simulatedStart = simulatedStart
        }
    }

    /// Opens an incident: loads and checks the playbook, pins its exact bytes (and templates and contacts),
    /// checks the inputs, and records `incident.opened` with the engine's first transitions.
    public func start(_ request: StartRequest) throws -> CommitResult {
        let playbookBytes = try readFile(request.playbookPath, what: "playbook")
        let loaded = PlaybookLoader.load(bytes: playbookBytes, path: request.playbookPath)
        var diagnostics = loaded.diagnostics
        var contacts: ContactsDirectory?
        var contactsBytes: [UInt8]?
        if let cp = request.contactsPath {
            let bytes = try readFile(cp, what: "contacts directory")
            let c = ContactsLoader.load(bytes: bytes, path: cp)
            diagnostics += c.diagnostics
            contacts = c.directory
            contactsBytes = bytes
        }
        guard let playbook = loaded.playbook else { throw RuntimeError.diagnostics(errorsOnly(diagnostics)) }
        let baseDirectory = (request.playbookPath as NSString).deletingLastPathComponent
        diagnostics += PlaybookValidator.validate(
            playbook, baseDirectory: baseDirectory.isEmpty ? "." : baseDirectory, contacts: contacts)
        let errors = errorsOnly(diagnostics)
        guard errors.isEmpty else { throw RuntimeError.diagnostics(errors) }

        let inputs = try checkInputs(request.inputs, playbook: playbook)
        var files: [PinnedFile] = []
        let playbookSHA = sha256Hex(playbookBytes)
        let fileName = (request.playbookPath as NSString).lastPathComponent
        files.append(PinnedFile(fileName: fileName, bytes: playbookBytes))
        var templateRefs: [(String, CanonicalValue)] = []
        for path in Self.templatePaths(playbook) {
            let full = baseDirectory.isEmpty ? path : baseDirectory + "/" + path
            let bytes = try readFile(full, what: "statement template")
            let sha = sha256Hex(bytes)
            files.append(PinnedFile(fileName: path, bytes: bytes))
            templateRefs.append((path, RecordBody.obj([("path", .string(path)), ("sha256", .string(sha))])))
        }
        var contactsRef: CanonicalValue?
        if let contactsBytes, let cp = request.contactsPath {
            let sha = sha256Hex(contactsBytes)
            files.append(PinnedFile(fileName: (cp as NSString).lastPathComponent, bytes: contactsBytes))
            contactsRef = RecordBody.obj([("file", .string((cp as NSString).lastPathComponent)), ("sha256", .string(sha))])
        }

        let engineNow = request.mode == .drill ? (request.simulatedStart ?? request.wallNow) : request.wallNow
        let title = request.title ?? playbook.title
        var lastError: (any Error)?
        for _ in 0..<5 {
            let id = Self.newIncidentID(playbook: playbook, at: request.wallNow)
            let definition = RunDefinition(
                incidentID: id, title: title, mode: request.mode, playbook: playbook, playbookSHA256: playbookSHA,
                contacts: contacts, inputs: inputs)
            let (state, actions) = Engine.start(definition, at: engineNow)
            let body = RecordBody.obj([
                ("now", .integer(engineNow.millisecondsSinceEpoch)),
                ("mode", .string(request.mode.rawValue)),
                ("title", .string(title)),
                ("engine", .string(Self.engineVersion)),
                ("playbook", RecordBody.obj([
                    ("id", .string(playbook.id)), ("version", .string(playbook.version)),
                    ("file", .string(fileName)), ("sha256", .string(playbookSHA)),
                ])),
                ("templates", .array(templateRefs.sorted { $0.0 < $1.0 }.map(\.1))),
                ("contacts", contactsRef),
                ("inputs", RecordBody.stringMap(inputs)),
                ("effects", RecordBody.effects(actions)),
            ])
            let header = NewIncident(
                id: id, origin: "crisis/\(id)", title: title, playbookID: playbook.id,
                playbookVersion: playbook.version, playbookSHA256: playbookSHA, mode: request.mode,
                createdAt: request.wallNow)
            let opened = EventDraft(
                type: RecordType.opened, idempotencyKey: "open/\(id)", actor: RecordBody.auditActor(request.actor),
                recordedAt: request.wallNow, body: body)
            let intentDrafts = intents(for: actions, now: engineNow, actor: request.actor, wallNow: request.wallNow)
            do {
                var records = [try store.createIncident(header, files: files, firstEvent: opened)]
                if !intentDrafts.isEmpty {
                    records += try store.append(incident: id, expectedSeq: 1, events: intentDrafts)
                }
                var incident = try load(id)
                let performed = try performDeliveries(actions, in: &incident, actor: request.actor,
                                                      wallNow: request.wallNow)
                _ = state
                return CommitResult(records: records + performed.records, actions: actions + performed.actions,
                                    incident: incident)
            } catch AuditError.duplicateIncident {
                lastError = AuditError.duplicateIncident(id)
                continue
            }
        }
        throw lastError ?? RuntimeError.invalid("could not allocate an incident id")
    }

    // MARK: load

    /// Rebuilds an incident from its trail: the definition from the pinned bytes, the state by replaying every
    /// record through the engine.
    public func load(_ id: String) throws -> LoadedIncident {
        guard let header = try store.incident(id: id) else {
            throw RuntimeError.invalid("no incident '\(TerminalText.escape(id))' in this database; see 'crisis list'")
        }
        let events = try store.events(incident: id)
        guard let first = events.first, first.type == RecordType.opened else {
            throw RuntimeError.corruptRecord("incident \(id) has no incident.opened record")
        }
        let (definition, templates, openedNow) = try definition(from: first.body, header: header)
        var (state, _) = Engine.start(definition, at: openedNow)
        var now = openedNow
        var anomalies = 0
        for record in events.dropFirst() {
            if let t = record.body.instant("now") {
                if t < now { anomalies += 1 } else { now = t }
            }
            guard let event = try RecordBody.decodeEvent(type: record.type, body: record.body) else { continue }
            switch Engine.handle(event, in: state, at: now) {
            case .success(let (next, _)): state = next
            case .failure(let rejection):
                throw RuntimeError.corruptRecord("record \(record.seq) (\(record.type)) replays as refused: \(rejection)")
            }
        }
        let last = events[events.count - 1]
        return LoadedIncident(
            header: header, definition: definition, state: state, seq: last.seq, headActor: last.actor.id, now: now,
            templates: templates, events: events, clockAnomalies: anomalies)
    }

    private func definition(from body: CanonicalValue, header: IncidentHeader) throws
        -> (RunDefinition, [String: [UInt8]], Instant)
    {
        guard let pb = body["playbook"], let sha = pb["sha256"]?.stringValue, let file = pb["file"]?.stringValue,
            let modeText = body["mode"]?.stringValue, let mode = IncidentMode(rawValue: modeText),
            let nowMs = body.instant("now")
        else { throw RuntimeError.corruptRecord("incident.opened lacks playbook, mode or now") }
        guard let pinned = try store.pinnedFile(sha256: sha) else {
            throw RuntimeError.corruptRecord("pinned playbook \(sha) is missing")
        }
        guard sha256Hex(pinned.bytes) == sha else {
            throw RuntimeError.corruptRecord("pinned playbook bytes do not match their SHA-256 \(sha)")
        }
        let loaded = PlaybookLoader.load(bytes: pinned.bytes, path: file)
        guard let playbook = loaded.playbook else {
            throw RuntimeError.corruptRecord("pinned playbook \(file) no longer loads")
        }
        var contacts: ContactsDirectory?
        if let c = body["contacts"], let csha = c["sha256"]?.stringValue {
            guard let cfile = try store.pinnedFile(sha256: csha) else {
                throw RuntimeError.corruptRecord("pinned contacts \(csha) missing")
            }
            contacts = ContactsLoader.load(bytes: cfile.bytes, path: cfile.fileName).directory
        }
        var templates: [String: [UInt8]] = [:]
        for item in body["templates"]?.arrayValue ?? [] {
            guard let path = item["path"]?.stringValue else { throw RuntimeError.corruptRecord("template without path") }
            guard let tsha = item["sha256"]?.stringValue, let f = try store.pinnedFile(sha256: tsha) else {
                throw RuntimeError.corruptRecord("pinned template \(path) missing")
            }
            templates[path] = f.bytes
        }
        let definition = RunDefinition(
            incidentID: header.id, title: body["title"]?.stringValue ?? header.title, mode: mode, playbook: playbook,
            playbookSHA256: sha, contacts: contacts, inputs: try body.stringMap("inputs"))
        return (definition, templates, nowMs)
    }

    // MARK: act, note, tick

    /// An operator action: `crisis act ID STEP ACTION`.
    public struct ActRequest: Sendable {
        public var incident: String
        public var step: String
        public var action: String
        public var fields: [(String, String)]
        public var actor: Actor
        public var note: String?
        public var expectSeq: Int?
        public var idempotencyKey: String?
        public var wallNow: Instant
        public init(incident: String, step: String, action: String, fields: [(String, String)] = [], actor: Actor,
                    note: String? = nil, expectSeq: Int? = nil, idempotencyKey: String? = nil, wallNow: Instant) {
            self.incident = incident
            self.step = step
            self.action = action
            self.fields = fields
            self.actor = actor
            self.note = note
            self.expectSeq = expectSeq
            self.idempotencyKey = idempotencyKey
            self.wallNow = wallNow
        }
    }

    public func act(_ request: ActRequest) throws -> CommitResult {
        // A retry with the key of an action already recorded answers with that record: it never runs twice, and
        // it is not re-validated against a state it has itself changed.
        if let key = request.idempotencyKey, try store.incident(id: request.incident) != nil,
            let recorded = try store.event(incident: request.incident, idempotencyKey: key)
        {
            var replayed = recorded
            replayed.replayedFromKey = true
            return CommitResult(records: [replayed], actions: [], incident: try load(request.incident))
        }
        return try withRetries(request.incident, expectSeq: request.expectSeq) { incident in
            var incident = incident
            if let problem = Self.operatorProblem(request.actor) {
                return try refuse(&incident, request: request, code: "invalid-operator", message: problem)
            }
            let size = request.fields.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count }
            if size > Self.maximumTextBytes {
                return try refuse(&incident, request: request, code: "too-large",
                                  message: "the --set values are \(size) bytes together; at most \(Self.maximumTextBytes)")
            }
            var fired = CommitResult(records: [], actions: [], incident: incident)
            if !incident.isDrill && request.expectSeq == nil {
                fired = try fireDueTimers(&incident, wallNow: request.wallNow)
            }
            var fields: [String: String] = [:]
            for (k, v) in request.fields {
                if k.hasPrefix(Engine.reservedFieldPrefix) {
                    return try refuse(&incident, request: request, code: "reserved-field",
                                      message: "field '\(k)' is reserved; fields starting with '_' are set by crisis")
                }
                if fields[k] != nil {
                    return try refuse(&incident, request: request, code: "duplicate-field",
                                      message: "field '\(k)' was given twice")
                }
                fields[k] = v
            }
            let actor: Actor
            switch resolveRole(request.actor, step: request.step, action: request.action, in: incident) {
            case .success(let a): actor = a
            case .failure(let r): return try refuse(&incident, request: request, code: r.code, message: r.message)
            }
            if let run = incident.state.run(request.step), request.action == "draft",
                let step = incident.definition.playbook.step(run.stepID), case .holdingStatement(let spec) = step.kind
            {
                switch StatementRenderer.render(spec, facts: fields, incident: incident) {
                case .success(let rendered):
                    for (lang, text) in rendered.texts { fields[Engine.statementTextField(lang)] = text }
                    fields[Engine.statementHashField] = rendered.sha256
                case .failure(let r):
                    return try refuse(&incident, request: request, code: r.code, message: r.message)
                }
            }
            let now = engineNow(incident, wallNow: request.wallNow)
            var event = EngineEvent.acted(step: request.step, action: request.action, fields: fields, actor: actor)
            var recordType = RecordType.action
            if request.action == "confirm_delivery", incident.state.run(request.step) == nil
                || !incident.state.status.isOpen
            {
                // Settling a delivery whose step has finished (or whose incident closed): record its outcome.
                guard let key = fields["key"], let text = fields["result"],
                    let result = DeliveryResult(rawValue: text), result == .sent || result == .failed
                else {
                    return try refuse(&incident, request: request, code: "missing-field",
                                      message: "confirm_delivery needs --set key=KEY and --set result=sent|failed")
                }
                event = .deliveryCompleted(key: key, result: result, detail: fields["detail"], actor: actor)
                recordType = RecordType.outcome
            }
            switch Engine.handle(event, in: incident.state, at: now) {
            case .failure(let r):
                return try refuse(&incident, request: request, code: r.code, message: r.message)
            case .success(let (state, actions)):
                var members = RecordBody.encode(event)
                members.insert(("now", .integer(now.millisecondsSinceEpoch)), at: 0)
                members.append(("note", RecordBody.str(request.note)))
                members.append(("effects", RecordBody.effects(actions)))
                if let anomaly = clockAnomaly(incident, wallNow: request.wallNow) { members.append(("clock_anomaly", anomaly)) }
                let records = try record(
                    recordType, key: request.idempotencyKey ?? Self.randomKey(), body: RecordBody.obj(members),
                    result: (state, actions), actor: actor, now: now, wallNow: request.wallNow,
                    expectedSeq: request.expectSeq, in: &incident)
                if records.first?.replayedFromKey == true {
                    return CommitResult(records: records, actions: [], incident: try load(incident.header.id))
                }
                let performed = try performDeliveries(actions, in: &incident, actor: actor, wallNow: request.wallNow)
                return CommitResult(records: fired.records + records + performed.records,
                                    actions: fired.actions + actions + performed.actions, incident: incident)
            }
        }
    }

    /// A free-text timeline entry: `crisis note ID TEXT`.
    ///
    /// The scribe's most used command does not replay the incident: a note changes no state, so it needs only
    /// the head of the trail (for the expected sequence number) and the incident's clock from the last records.
    public func note(incident id: String, text: String, actor: Actor, expectSeq: Int?, idempotencyKey: String?,
                     wallNow: Instant) throws -> [StoredEvent] {
        guard let header = try store.incident(id: id) else {
            throw RuntimeError.invalid("no incident '\(TerminalText.escape(id))' in this database; see 'crisis list'")
        }
        var attempt = 0
        while true {
            attempt += 1
            guard let head = try store.head(incident: id) else {
                throw RuntimeError.corruptRecord("incident \(id) has no records")
            }
            if let expectSeq, expectSeq != head.seq {
                throw RuntimeError.conflict(expected: expectSeq, head: head.seq,
                                            by: try lastOperator(id, head: head.seq, fallback: head.actorID))
            }
            let recent = try store.events(incident: id, from: max(1, head.seq - 15))
            let last = recent.reversed().lazy.compactMap { $0.body.instant("now") }.first ?? header.createdAt
            let drill = header.mode == .drill
            let now = drill ? last : max(wallNow, last)
            let request = ActRequest(incident: id, step: "incident", action: "note", actor: actor, wallNow: wallNow)
            if let problem = Self.operatorProblem(actor) {
                try refuse(id, now: now, request: request, code: "invalid-operator", message: problem)
            }
            if text.utf8.count > Self.maximumTextBytes {
                try refuse(id, now: now, request: request, code: "too-large",
                           message: "the note is \(text.utf8.count) bytes; at most \(Self.maximumTextBytes) (split it)")
            }
            if text.utf8.contains(0) {
                try refuse(id, now: now, request: request, code: "invalid-text", message: "the note contains a NUL character")
            }
            var members = RecordBody.encode(EngineEvent.noted(text: text, actor: actor))
            members.insert(("now", .integer(now.millisecondsSinceEpoch)), at: 0)
            if !drill, wallNow < last {
                members.append(("clock_anomaly", RecordBody.obj([
                    ("wall", .integer(wallNow.millisecondsSinceEpoch)), ("previous", .integer(last.millisecondsSinceEpoch)),
                ])))
            }
            do {
                return try store.append(
                    incident: id, expectedSeq: expectSeq ?? head.seq,
                    events: [EventDraft(type: RecordType.note, idempotencyKey: idempotencyKey ?? Self.randomKey(),
                                        actor: RecordBody.auditActor(actor), recordedAt: wallNow,
                                        body: RecordBody.obj(members))])
            } catch AuditError.conflict(let h, let by, _) {
                let who = try lastOperator(id, head: h, fallback: by)
                if let expectSeq { throw RuntimeError.conflict(expected: expectSeq, head: h, by: who) }
                if attempt >= 20 { throw RuntimeError.conflict(expected: head.seq, head: h, by: who) }
            }
        }
    }

    /// How `tick` moves a drill's clock.
    public enum Advance: Sendable {
        case none
        case by(PlaybookDuration)
        case toNextTimer
    }

    /// Fires due timers; for drills, first moves the simulated clock.
    public func tick(incident id: String, advance: Advance, actor: Actor, wallNow: Instant) throws -> CommitResult {
        try withRetries(id, expectSeq: nil) { incident in
            var incident = incident
            var records: [StoredEvent] = []
            if case .none = advance {} else {
                guard incident.state.status.isOpen else {
                    throw RuntimeError.invalid("incident \(id) is closed: its clock no longer moves")
                }
                guard incident.isDrill else {
                    throw RuntimeError.invalid(
                        "incident \(id) is live: it runs on the wall clock, so --advance and --next are refused "
                            + "(they are for drills)")
                }
                let target: Instant
                switch advance {
                case .by(let d):
                    guard d.milliseconds > 0 else { throw RuntimeError.invalid("--advance must be positive") }
                    target = incident.now + d
                case .toNextTimer:
                    guard let t = incident.state.nextTimer else {
                        throw RuntimeError.invalid("no timer is armed: nothing to advance to")
                    }
                    target = max(t.due, incident.now)
                case .none:
                    target = incident.now
                }
                if target > incident.now {
                    let body = RecordBody.obj([
                        ("now", .integer(target.millisecondsSinceEpoch)),
                        ("from", .integer(incident.now.millisecondsSinceEpoch)),
                        ("by_ms", .integer(target.millisecondsSinceEpoch - incident.now.millisecondsSinceEpoch)),
                    ])
                    records += try store.append(
                        incident: id, expectedSeq: incident.seq,
                        events: [EventDraft(type: RecordType.clockAdvanced, idempotencyKey: Self.randomKey(),
                                            actor: RecordBody.auditActor(actor), recordedAt: wallNow, body: body)])
                    incident.seq = records.last?.seq ?? incident.seq
                    incident.now = target
                    incident.events += records
                }
            }
            let fired = try fireDueTimers(&incident, wallNow: wallNow)
            return CommitResult(records: records + fired.records, actions: fired.actions, incident: incident)
        }
    }

    // MARK: internals

    /// The engine's `now` for a new event: drills keep their simulated clock; live incidents use the wall
    /// clock, never earlier than the last record (a clock that jumped back is flagged, order comes from seq).
    func engineNow(_ incident: LoadedIncident, wallNow: Instant) -> Instant {
        incident.isDrill ? incident.now : max(wallNow, incident.now)
    }

    func clockAnomaly(_ incident: LoadedIncident, wallNow: Instant) -> CanonicalValue? {
        guard !incident.isDrill, wallNow < incident.now else { return nil }
        return RecordBody.obj([("wall", .integer(wallNow.millisecondsSinceEpoch)),
                               ("previous", .integer(incident.now.millisecondsSinceEpoch))])
    }

    private func fireDueTimers(_ incident: inout LoadedIncident, wallNow: Instant) throws -> CommitResult {
        var records: [StoredEvent] = []
        var actions: [EngineAction] = []
        let now = engineNow(incident, wallNow: wallNow)
        var guardCount = 0
        while let timer = incident.state.nextTimer, timer.due <= now, guardCount < 10_000 {
            guardCount += 1
            let event = EngineEvent.timerFired(id: timer.id)
            switch Engine.handle(event, in: incident.state, at: now) {
            case .failure(let r):
                throw RuntimeError.corruptRecord("engine refused its own due timer \(timer.id): \(r)")
            case .success(let (state, acts)):
                let body = RecordBody.obj([
                    ("now", .integer(now.millisecondsSinceEpoch)), ("timer", .string(timer.id)),
                    ("due", .integer(timer.due.millisecondsSinceEpoch)),
                    ("late_by_ms", .integer(now.millisecondsSinceEpoch - timer.due.millisecondsSinceEpoch)),
                    ("step", RecordBody.str(timer.step)), ("effects", RecordBody.effects(acts)),
                ])
                records += try record(RecordType.timer, key: "timer/\(timer.id)", body: body, result: (state, acts),
                                      actor: Actor.system, now: now, wallNow: wallNow, in: &incident)
                actions += acts
                let performed = try performDeliveries(acts, in: &incident, actor: Actor.system, wallNow: wallNow)
                records += performed.records
                actions += performed.actions
            }
        }
        return CommitResult(records: records, actions: actions, incident: incident)
    }

    /// Appends one event the engine accepted, with the intents of the deliveries it asks for, in one transaction
    /// (at `expectedSeq`, else the head `incident` was replayed at), and folds the engine's answer into `incident`.
    private func record(
        _ type: RecordType, key: String, body: CanonicalValue, result: (state: IncidentState, actions: [EngineAction]),
        actor: Actor, now: Instant, wallNow: Instant, expectedSeq: Int? = nil, in incident: inout LoadedIncident
    ) throws -> [StoredEvent] {
        let drafts = [EventDraft(type: type, idempotencyKey: key, actor: RecordBody.auditActor(actor),
                                 recordedAt: wallNow, body: body)]
            + intents(for: result.actions, now: now, actor: actor, wallNow: wallNow)
        let stored = try store.append(incident: incident.header.id, expectedSeq: expectedSeq ?? incident.seq,
                                      events: drafts)
        incident.state = result.state
        incident.seq = stored.last?.seq ?? incident.seq
        incident.now = max(incident.now, now)
        incident.events += stored
        return stored
    }

    private func intents(for actions: [EngineAction], now: Instant, actor: Actor, wallNow: Instant) -> [EventDraft] {
        actions.compactMap { a in
            guard case .deliver(let d) = a else { return nil }
            return EventDraft(type: RecordType.intent, idempotencyKey: "intent/\(d.key)",
                              actor: RecordBody.auditActor(actor), recordedAt: wallNow, body: RecordBody.intent(d, now: now))
        }
    }

    /// Performs the deliveries of committed actions and records each outcome. The intent was committed with
    /// the event that caused it, so a crash here leaves the delivery pending: in doubt, for an operator.
    private func performDeliveries(_ actions: [EngineAction], in incident: inout LoadedIncident, actor: Actor,
                                   wallNow: Instant) throws -> CommitResult {
        var queue: [Delivery] = actions.compactMap { if case .deliver(let d) = $0 { d } else { nil } }
        var records: [StoredEvent] = []
        var produced: [EngineAction] = []
        if !queue.isEmpty { FaultInjection.hit(.afterIntent) }
        while !queue.isEmpty {
            let delivery = queue.removeFirst()
            let (result, detail) = Outbox.send(delivery, mode: incident.definition.mode)
            let now = engineNow(incident, wallNow: wallNow)
            let event = EngineEvent.deliveryCompleted(key: delivery.key, result: result, detail: detail, actor: actor)
            switch Engine.handle(event, in: incident.state, at: now) {
            case .failure(let r):
                throw RuntimeError.corruptRecord("engine refused the outcome of delivery \(delivery.key): \(r)")
            case .success(let (state, acts)):
                var members = RecordBody.encode(event)
                members.insert(("now", .integer(now.millisecondsSinceEpoch)), at: 0)
                members.append(("effects", RecordBody.effects(acts)))
                records += try record(RecordType.outcome, key: "outcome/\(delivery.key)", body: RecordBody.obj(members),
                                      result: (state, acts), actor: actor, now: now, wallNow: wallNow, in: &incident)
                produced += acts
                queue += acts.compactMap { if case .deliver(let d) = $0 { d } else { nil } }
            }
        }
        return CommitResult(records: records, actions: produced, incident: incident)
    }

    /// Records a refusal (`input.rejected`) and throws it. The trail is otherwise unchanged.
    private func refuse(_ incident: inout LoadedIncident, request: ActRequest, code: String, message: String) throws
        -> CommitResult
    {
        try refuse(incident.header.id, now: engineNow(incident, wallNow: request.wallNow), request: request,
                   code: code, message: message)
    }

    /// Records a refusal (`input.rejected`) and throws it. The trail is otherwise unchanged.
    private func refuse(_ id: String, now: Instant, request: ActRequest, code: String, message: String) throws -> Never {
        let body = RecordBody.obj([
            ("now", .integer(now.millisecondsSinceEpoch)), ("step", .string(request.step)),
            ("action", .string(request.action)),
            ("fields", RecordBody.stringMap(Dictionary(request.fields, uniquingKeysWith: { a, _ in a }))),
            ("actor", RecordBody.actor(request.actor)), ("code", .string(code)), ("message", .string(message)),
        ])
        let recorder = Self.operatorProblem(request.actor) == nil ? RecordBody.auditActor(request.actor) : .system
        _ = try store.append(
            incident: id, expectedSeq: nil,
            events: [EventDraft(type: RecordType.rejected, idempotencyKey: Self.randomKey(),
                                actor: recorder, recordedAt: request.wallNow, body: body)])
        throw RuntimeError.refused(code: code, message: message)
    }

    /// Runs `body` on a freshly loaded incident. When another writer got in first and the caller did not pin a
    /// sequence number, reloads and tries again (the engine re-validates against the new state).
    private func withRetries(_ id: String, expectSeq: Int?, _ body: (LoadedIncident) throws -> CommitResult) throws
        -> CommitResult
    {
        var attempt = 0
        while true {
            attempt += 1
            let incident = try load(id)
            if let expectSeq, expectSeq != incident.seq {
                throw RuntimeError.conflict(
                    expected: expectSeq, head: incident.seq,
                    by: incident.events.last(where: { $0.actor.id != AuditActor.system.id })?.actor.id ?? incident.headActor)
            }
            do {
                return try body(incident)
            } catch AuditError.conflict(let head, let by, _) {
                let who = try lastOperator(id, head: head, fallback: by)
                if let expectSeq { throw RuntimeError.conflict(expected: expectSeq, head: head, by: who) }
                if attempt >= 20 { throw RuntimeError.conflict(expected: incident.seq, head: head, by: who) }
            }
        }
    }

    /// Picks or checks the role the operator acts in. With a contacts directory, a person listed there may only
    /// act in roles they hold; without `--role`, their role that the action needs is used.
    func resolveRole(_ actor: Actor, step: String, action: String, in incident: LoadedIncident) -> Result<Actor, Rejection> {
        guard let contacts = incident.definition.contacts else { return .success(actor) }
        guard let person = contacts.person(named: actor.name) else {
            // Someone not in the directory may still record what anyone may (an ack, a received call), but may
            // not claim a role: that would let a typo in --as bypass the role check.
            if let role = actor.role {
                return .failure(Rejection(
                    "not-in-directory",
                    "'\(actor.name)' is not in the incident's contacts directory, so cannot act as '\(role)'; "
                        + "use your person id from the directory with --as"))
            }
            return .success(actor)
        }
        if let role = actor.role, incident.definition.playbook.role(role) == nil {
            return .failure(Rejection(
                "unknown-role",
                "this playbook has no role '\(role)' (roles: \(incident.definition.playbook.roles.map(\.id).joined(separator: ", ")))"))
        }
        if let role = actor.role {
            guard person.roles.contains(role) else {
                return .failure(Rejection(
                    "role-not-held",
                    "\(person.name) does not hold role '\(role)' in the contacts directory (holds: \(person.roles.joined(separator: ", ")))"))
            }
            return .success(actor)
        }
        let needed = Engine.availableActions(for: step, in: incident.state).first { $0.name == action }?.roles ?? []
        let leads = incident.definition.playbook.roles.filter(\.lead).map(\.id)
        if let role = needed.first(where: person.roles.contains) ?? leads.first(where: person.roles.contains) {
            return .success(Actor(name: actor.name, role: role))
        }
        return .success(Actor(name: actor.name, role: person.roles.first))
    }

    private func checkInputs(_ given: [(String, String)], playbook: Playbook) throws -> [String: String] {
        var values: [String: String] = [:]
        var problems: [String] = []
        for (name, value) in given {
            guard let spec = playbook.input(name) else {
                let known = playbook.inputs.map(\.name).joined(separator: ", ")
                problems.append("unknown input '\(TerminalText.escape(name))' (this playbook takes: \(known))")
                continue
            }
            if values[name] != nil { problems.append("input '\(name)' given twice") }
            if let p = spec.type.problem(with: value, allowed: spec.values) {
                problems.append("input '\(name)' \(p)")
            }
            values[name] = value
        }
        var missing: [String] = []
        for spec in playbook.inputs where values[spec.name] == nil {
            if let d = spec.defaultValue {
                values[spec.name] = d
            } else if spec.required {
                let kind = spec.type == .enum ? "enum: " + spec.values.joined(separator: "|") : spec.type.rawValue
                missing.append("  --set \(spec.name)=…  (\(kind)) \(spec.prompt)")
            }
        }
        if !missing.isEmpty { problems.append("missing required inputs:\n" + missing.joined(separator: "\n")) }
        guard problems.isEmpty else { throw RuntimeError.invalid(problems.joined(separator: "\n")) }
        return values
    }

    static func templatePaths(_ playbook: Playbook) -> [String] {
        var paths: [String] = []
        for step in playbook.allSteps {
            guard case .holdingStatement(let spec) = step.kind else { continue }
            for lang in playbook.languages {
                let p = "\(spec.template.value).\(lang).mustache"
                if !paths.contains(p) { paths.append(p) }
            }
        }
        return paths
    }

    private func readFile(_ path: String, what: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RuntimeError.invalid("cannot read \(what) '\(TerminalText.escape(path))'")
        }
        return [UInt8](data)
    }

    private func errorsOnly(_ d: [Diagnostic]) -> [Diagnostic] { d.filter { $0.severity == .error } }

    static func newIncidentID(playbook: Playbook, at now: Instant) -> String {
        let day = String(ISO8601.format(now, milliseconds: false).prefix(10)).replacingOccurrences(of: "-", with: "")
        let prefix = String(playbook.id.prefix(40))
        let suffix = String(UInt16.random(in: 0...UInt16.max), radix: 16)
        return "\(prefix)-\(day)-\(String(repeating: "0", count: 4 - suffix.count))\(suffix)"
    }

    static func randomKey() -> String { UUID().uuidString.lowercased() }

    /// The incident header (what `list` shows) is a copy of the first record, outside the hash chain: it must
    /// agree with the record. Returns what differs, or nil.
    public static func headerMismatch(_ incident: LoadedIncident) -> String? {
        let h = incident.header
        let d = incident.definition
        var problems: [String] = []
        if h.title != d.title { problems.append("title") }
        if h.mode != d.mode { problems.append("mode (\(h.mode.rawValue) in the header, \(d.mode.rawValue) recorded)") }
        if h.playbookID != d.playbook.id || h.playbookVersion != d.playbook.version { problems.append("playbook id or version") }
        if h.playbookSHA256 != d.playbookSHA256 { problems.append("playbook sha256") }
        guard !problems.isEmpty else { return nil }
        return "the incident header disagrees with record 1 (incident.opened) in: " + problems.joined(separator: ", ")
    }

    /// Who acted last, for "incident advanced to N by NAME": the last record not written by crisis itself (a
    /// timer, an automatic checkpoint) among the latest few.
    private func lastOperator(_ id: String, head: Int, fallback: String) throws -> String {
        let recent = try store.events(incident: id, from: max(1, head - 15))
        return recent.last(where: { $0.actor.id != AuditActor.system.id })?.actor.id ?? fallback
    }

    /// Largest note, and largest sum of `--set` values, in bytes (records are capped at 256 KiB).
    public static let maximumTextBytes = 100_000

    /// Why an operator name or role cannot be recorded as an actor, or nil. Names are one line of at most 128
    /// characters with no control characters; anything else printable (accents, NFD, bidi marks, emoji) is
    /// kept byte-exact and shown escaped where it could mislead.
    static func operatorProblem(_ actor: Actor) -> String? {
        for (what, value) in [("operator name (--as)", actor.name), ("role (--role)", actor.role ?? "x")] {
            if value.isEmpty { return "the \(what) is empty" }
            if value.count > 128 { return "the \(what) is longer than 128 characters" }
            if let bad = value.unicodeScalars.first(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
                return "the \(what) contains the control character U+\(String(format: "%04X", bad.value)); "
                    + "use one line of printable text"
            }
        }
        return nil
    }
}
