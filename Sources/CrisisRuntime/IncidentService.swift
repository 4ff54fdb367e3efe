import CrisisAudit
import CrisisCore
import CrisisPlaybook
import Foundation

/// What one command changed.
public struct CommitResult: Sendable {
    /// Every record the command wrote (the action, its intents, outcomes, fired timers), in order.
    public var records: [StoredEvent]
    /// Everything the engine did in answer.
    public var actions: [EngineAction]
    /// What the engine asked to be shown to people.
    public var reminders: [Reminder]
    /// The incident as it stands after the command.
    public var incident: LoadedIncident
    /// The checkpoint issued because the command closed the incident.
    public var checkpoint: Checkpoint?
    /// Why no checkpoint could be issued at close (the incident is closed all the same).
    public var checkpointProblem: String?
}

/// The imperative shell around the pure engine, split along its seams:
///
/// ```
///  request ─▶ Intake ──event──▶ Committer.process ──record+intents──▶ AuditStore (one BEGIN IMMEDIATE)
///                                     │ engine actions
///                                     ▼
///                               EffectRunner ──deliver──▶ transport ──outcome event──▶ Committer.process
///                                     │ close            (drills: the sandbox, always)
///                                     ▼
///                               checkpoint at the end of the command
///  TimerPump: due timers ──timerFired──▶ Committer.process ──▶ EffectRunner
///  IncidentLoader: trail ──replay──▶ LoadedIncident   (every command starts here)
/// ```
///
/// Every command (start, act, note, tick) goes through this one pipeline.
public struct IncidentService: Sendable {
    /// The audit log (SQLite today; any `AuditLog` backend).
    public let store: any AuditLog
    /// Where live deliveries go (default: handed to a person).
    public var transport: any DeliveryTransport
    /// The key that signs the checkpoint issued when a command closes an incident; nil issues none.
    public var checkpointSigner: (@Sendable () throws -> CheckpointSigner)?
    /// Set while a `crisis watch` runs on the database (and in the watcher itself): live deliveries that a
    /// transport sends are queued for it instead of sent by the command. Nil: the command sends them, and any
    /// the incident has queued, before it returns.
    public var handoff: DeliveryHandoff?
    /// Looks for a running watcher when a command performs its effects (what it finds comes before `handoff`):
    /// a command that runs for long (the board) sees a watcher start or stop. Never set in the watcher itself.
    public var watcherProbe: (@Sendable () -> DeliveryHandoff?)?
    /// Who this process is, in the claims it records before sending a queued delivery.
    public var sender: DeliverySender = .thisProcess("crisis")

    /// Version written into records and the incident header.
    public static let engineVersion = "crisis/0.4"

    public init(store: any AuditLog, transport: any DeliveryTransport = ManualTransport(),
                checkpointSigner: (@Sendable () throws -> CheckpointSigner)? = nil) {
        self.store = store
        self.transport = transport
        self.checkpointSigner = checkpointSigner
    }

    var loader: IncidentLoader { IncidentLoader(log: store) }
    var snapshots: SnapshotCache { SnapshotCache(log: store) }
    var committer: Committer { Committer(log: store) }
    var effects: EffectRunner {
        EffectRunner(committer: committer, transport: transport, handoff: watcherProbe?() ?? handoff, sender: sender)
    }
    var timers: TimerPump { TimerPump(committer: committer, effects: effects) }

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
        /// Drills started from a scenario: its file name and exact bytes, pinned with the playbook.
        public var scenario: (name: String, bytes: [UInt8])?
        /// Incidents the new one is related to (`--related ID`): recorded in its opening record, and in each of
        /// them as a note naming the new one.
        public var related: [String] = []
        public init(playbookPath: String, contactsPath: String? = nil, inputs: [(String, String)] = [],
                    mode: IncidentMode = .live, title: String? = nil, actor: Actor, wallNow: Instant,
                    simulatedStart: Instant? = nil, scenario: (name: String, bytes: [UInt8])? = nil) {
            self.playbookPath = playbookPath
            self.contactsPath = contactsPath
            self.inputs = inputs
            self.mode = mode
            self.title = title
            self.actor = actor
            self.wallNow = wallNow
            self.simulatedStart = simulatedStart
            self.scenario = scenario
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
        let startScenario = request.scenario.flatMap {
            // Its clock starts at the drill's start (for a second incident, the moment an inject opened it).
            ScenarioLoader.load(bytes: $0.bytes, path: $0.name, checkReferences: false, start: request.simulatedStart).scenario
        }
        if let s = startScenario, let c = contacts { contacts = s.applyRoster(to: c) }
        let baseDirectory = (request.playbookPath as NSString).deletingLastPathComponent
        diagnostics += PlaybookValidator.validate(
            playbook, baseDirectory: baseDirectory.isEmpty ? "." : baseDirectory, contacts: contacts)
        let errors = errorsOnly(diagnostics)
        guard errors.isEmpty else { throw RuntimeError.diagnostics(errors) }

        let engineNow = request.mode == .drill ? (request.simulatedStart ?? request.wallNow) : request.wallNow
        let inputs = try checkInputs(request.inputs, playbook: playbook, now: engineNow)
        let unknownNames = ConflictedNames.problems(inputs: inputs, playbook: playbook, contacts: contacts)
        guard unknownNames.isEmpty else { throw RuntimeError.invalidInputs(problems: unknownNames, missing: []) }
        let playbookSHA = sha256Hex(playbookBytes)
        let fileName = (request.playbookPath as NSString).lastPathComponent
        var files = [PinnedFile(fileName: fileName, bytes: playbookBytes)]
        var templates: [TrailRecord.Opened.FileRef] = []
        var templateBytes: [String: [UInt8]] = [:]
        for path in Self.templatePaths(playbook) {
            let full = baseDirectory.isEmpty ? path : baseDirectory + "/" + path
            let bytes = try readFile(full, what: "statement template")
            files.append(PinnedFile(fileName: path, bytes: bytes))
            templates.append(.init(path: path, sha256: sha256Hex(bytes)))
            templateBytes[path] = bytes
        }
        var contactsRef: TrailRecord.Opened.FileRef?
        if let contactsBytes, let cp = request.contactsPath {
            let name = (cp as NSString).lastPathComponent
            files.append(PinnedFile(fileName: name, bytes: contactsBytes))
            contactsRef = .init(path: name, sha256: sha256Hex(contactsBytes))
        }
        var scenarioRef: TrailRecord.Opened.FileRef?
        if let scenario = request.scenario {
            guard request.mode == .drill else { throw RuntimeError.invalid("a scenario runs only as a drill") }
            files.append(PinnedFile(fileName: scenario.name, bytes: scenario.bytes))
            scenarioRef = .init(path: scenario.name, sha256: sha256Hex(scenario.bytes))
        }

        // Related incidents must exist (a short id part is resolved), and be of the same kind: a drill is never
        // linked to a live incident.
        var related: [String] = []
        for name in request.related {
            let other = try resolveIncident(name)
            guard let header = try store.incident(id: other) else { throw RuntimeError.invalid("no incident \(name)") }
            guard header.mode == request.mode else {
                throw RuntimeError.invalid("\(other) is a \(header.mode.rawValue) incident; a \(request.mode.rawValue) cannot be related to it")
            }
            if !related.contains(other) { related.append(other) }
        }
        let title = request.title ?? playbook.title
        var lastError: (any Error)?
        for _ in 0..<5 {
            let id = Self.newIncidentID(playbook: playbook, at: request.wallNow)
            let definition = RunDefinition(
                incidentID: id, title: title, mode: request.mode, playbook: playbook, playbookSHA256: playbookSHA,
                contacts: contacts, inputs: inputs)
            let (state, actions) = Engine.start(definition, at: engineNow)
            let opened = TrailRecord.Opened(
                now: engineNow, mode: request.mode, title: title, engine: Self.engineVersion,
                playbook: .init(id: playbook.id, version: playbook.version, file: fileName, sha256: playbookSHA),
                templates: templates.sorted { $0.path < $1.path }, contacts: contactsRef, scenario: scenarioRef,
                related: related, inputs: inputs,
                effects: actions.map(RecordedEffect.init))
            let header = NewIncident(
                id: id, origin: "crisis/\(id)", title: title, playbookID: playbook.id,
                playbookVersion: playbook.version, playbookSHA256: playbookSHA, mode: request.mode,
                createdAt: request.wallNow)
            let first = EventDraft(
                type: RecordType.opened, idempotencyKey: "open/\(id)", actor: Committer.auditActor(request.actor),
                recordedAt: request.wallNow, body: TrailRecord.opened(opened).body)
            let stored: StoredEvent
            do {
                stored = try store.createIncident(header, files: files, firstEvent: first)
            } catch AuditError.duplicateIncident {
                lastError = AuditError.duplicateIncident(id)
                continue
            }
            guard let created = try store.incident(id: id) else {
                throw RuntimeError.corruptRecord("incident \(id) vanished after it was created")
            }
            var loaded = LoadedIncident(
                header: created, definition: definition, state: state, seq: stored.seq, headHash: stored.entryHashHex,
                now: engineNow, templates: templateBytes, opened: opened, clockAnomalies: 0, snapshotSeq: stored.seq)
            loaded.sandboxOutages = startScenario?.sandboxOutages ?? []
            var run = CommandRun(loaded)
            run.records = [stored]
            run.actions = actions
            let intents = actions.compactMap { if case .deliver(let d) = $0 { d } else { nil } }
            if !intents.isEmpty {
                run.records += try store.append(
                    incident: id, expectedSeq: stored.seq,
                    events: intents.map {
                        EventDraft(type: RecordType.intent, idempotencyKey: "intent/\($0.key)",
                                   actor: Committer.auditActor(request.actor), recordedAt: request.wallNow,
                                   body: TrailRecord.intent(.init(now: engineNow, delivery: $0)).body)
                    })
                if let last = run.records.last {
                    run.incident.seq = last.seq
                    run.incident.headHash = last.entryHashHex
                }
            }
            try effects.run(actions, actor: request.actor, wallNow: request.wallNow, into: &run)
            // The link back: each related incident records that this one was opened as related to it.
            for other in related {
                _ = try note(incident: other, text: "\(Self.relatedTag)\(id) opened as related: \(title)", actor: request.actor,
                             expectSeq: nil, idempotencyKey: "related/\(id)", wallNow: request.wallNow)
            }
            return finish(run)
        }
        throw lastError ?? RuntimeError.invalid("could not allocate an incident id")
    }

    /// An approved statement text of a related incident, to draft from: where it is, its revision and hash, and
    /// its facts.
    public struct ReusedStatement: Sendable {
        public var incident: String
        public var step: String
        public var revision: Int
        public var sha256: String
        public var facts: [String: String]
    }

    /// The approved text of statement step `step` in incident `other`, which must be related to `id`: its last
    /// revision, once approved (approved, or being or having been published). Refused with why otherwise.
    public func approvedStatement(for id: String, in other: String, step: String) throws -> ReusedStatement {
        guard try relatedIncidents(id).contains(other) else {
            throw RuntimeError.invalid("\(other) is not related to \(id); only a related incident's texts are reused "
                                       + "(crisis start ... --related \(other))")
        }
        let incident = try load(other)
        let detail = incident.state.run(step)?.detail ?? incident.state.history.last { $0.instance == step }?.detail
        guard case .statement(let s)? = detail else {
            throw RuntimeError.invalid("\(other) has no statement step '\(step)'")
        }
        guard s.phase == .approved || s.phase == .publishing, let current = s.current else {
            throw RuntimeError.invalid("the statement '\(step)' of \(other) has no approved text (it is \(s.phase.rawValue))")
        }
        return ReusedStatement(incident: other, step: step, revision: current.revision, sha256: current.sha256,
                               facts: current.facts)
    }

    /// How a related incident's link back reads in its trail: a note `#related ID opened as related: TITLE`.
    public static let relatedTag = "#related "

    /// The incidents related to `id`, both ways: those its opening names, and those that named it when they
    /// were opened (their notes in its trail), in the order they were linked.
    public func relatedIncidents(_ id: String) throws -> [String] {
        var out: [String] = []
        try store.forEachEvent(incident: id) { stored in
            switch try TrailRecord.decode(stored) {
            case .opened(let o): out += o.related
            case .note(let n) where n.text.hasPrefix(Self.relatedTag):
                let other = String(n.text.dropFirst(Self.relatedTag.count).prefix { $0 != " " })
                if !out.contains(other) { out.append(other) }
            default: break
            }
        }
        return out
    }

    /// People who acted in incident `id` and also in another open incident of the same kind (live with live,
    /// drill with drill): one person, two incidents at once is worth knowing at 3 a.m. Each with those incidents.
    public func assignedElsewhere(_ id: String) throws -> [(person: String, incidents: [String])] {
        func people(_ incident: String) throws -> Set<String> {
            var out = Set<String>()
            try store.forEachEvent(incident: incident) { stored in
                guard stored.type == .action, case .action(let a) = try TrailRecord.decode(stored) else { return }
                out.insert(a.actor.name)
            }
            return out
        }
        func isOpen(_ incident: String) -> Bool {
            guard let loaded = try? load(incident), case .open = loaded.state.status else { return false }
            return true
        }
        let headers = try store.incidents()
        guard let mine = headers.first(where: { $0.id == id }), isOpen(id) else { return [] }
        let here = try people(id)
        guard !here.isEmpty else { return [] }
        var found: [String: [String]] = [:]
        // Only incidents of the same kind are read, and only open ones' trails.
        for other in headers where other.id != id && other.mode == mine.mode && isOpen(other.id) {
            for person in try people(other.id).intersection(here) { found[person, default: []].append(other.id) }
        }
        return found.keys.sorted().map { ($0, found[$0] ?? []) }
    }

    // MARK: load

    /// Rebuilds an incident from its trail: the definition from the pinned bytes, the state by replaying the
    /// records through the engine.
    public func load(_ id: String) throws -> LoadedIncident {
        let incident = try loader.load(id)
        snapshots.saveIfDue(incident, wallNow: incident.now)
        return incident
    }

    /// Rebuilds an incident by replaying every record, ignoring the state snapshot (what `verify` does).
    public func replay(_ id: String) throws -> LoadedIncident {
        try loader.load(id, useSnapshot: false)
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
        /// A statement draft that reuses a related incident's approved text (`crisis act ... draft --reuse ID`).
        public var reuse: ReusedStatement? = nil
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

    /// Performs an operator action. Live incidents first fire the timers that have come due (unless the
    /// operator pinned the sequence number they saw). A refusal is recorded as `input.rejected` and thrown as
    /// `RuntimeError.refused`; nothing else changes.
    public func act(_ request: ActRequest) throws -> CommitResult {
        if let recorded = try alreadyRecorded(request.incident, key: request.idempotencyKey) { return recorded }
        return try withRetries(request.incident, expectSeq: request.expectSeq) { incident in
            var run = CommandRun(incident, expectedSeq: request.expectSeq)
            if !incident.isDrill && request.expectSeq == nil {
                try timers.fireDue(wallNow: request.wallNow, into: &run)
            }
            switch Intake.action(request, incident: run.incident, wallNow: request.wallNow) {
            case .failure(let r):
                try refuse(r, step: request.step, action: request.action, fields: request.fields,
                           actor: request.actor, run: run, wallNow: request.wallNow)
            case .success(let accepted):
                return try perform(accepted, key: request.idempotencyKey ?? Self.randomKey(),
                                   step: request.step, action: request.action, fields: request.fields,
                                   wallNow: request.wallNow, run: &run)
            }
        }
    }

    /// A free-text timeline entry: `crisis note ID TEXT`. It goes through the same pipeline as every action
    /// (the engine records it and changes nothing else).
    public func note(incident id: String, text: String, actor: Actor, expectSeq: Int?, idempotencyKey: String?,
                     wallNow: Instant) throws -> CommitResult {
        if let recorded = try alreadyRecorded(id, key: idempotencyKey) { return recorded }
        return try withRetries(id, expectSeq: expectSeq) { incident in
            var run = CommandRun(incident, expectedSeq: expectSeq)
            switch Intake.note(text, actor: actor, incident: incident, wallNow: wallNow) {
            case .failure(let r):
                try refuse(r, step: Engine.incidentStep, action: "note", fields: [], actor: actor, run: run,
                           wallNow: wallNow)
            case .success(let accepted):
                return try perform(accepted, key: idempotencyKey ?? Self.randomKey(), step: Engine.incidentStep,
                                   action: "note", fields: [], wallNow: wallNow, run: &run)
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
            var run = CommandRun(incident)
            if case .none = advance {} else {
                let refuse = { (code: RejectionCode, message: String) throws -> Never in
                    try self.refuse(Rejection(code, message), step: Engine.incidentStep, action: "tick",
                                    fields: [], actor: actor, run: run, wallNow: wallNow)
                }
                guard incident.state.status.isOpen else {
                    try refuse(.closed, "incident \(id) is closed: its clock no longer moves")
                }
                guard incident.isDrill else {
                    try refuse(.invalidAdvance,
                               "incident \(id) is live: it runs on the wall clock, so its clock cannot be advanced "
                                   + "(that is for drills; 'crisis watch' fires live timers as they come due)")
                }
                let target: Instant
                switch advance {
                case .by(let d):
                    guard d.milliseconds > 0 else {
                        try refuse(.invalidAdvance, "the advance must be positive (it was \(humanDuration(d)))")
                    }
                    target = incident.now + d
                case .toNextTimer:
                    guard let t = incident.state.nextTimer else {
                        try refuse(.invalidAdvance, "no timer is armed: nothing to advance to")
                    }
                    target = max(t.due, incident.now)
                case .none:
                    target = incident.now
                }
                // Timers due on the way fire at their own due instants; then the clock reaches the target.
                try timers.fireDue(until: target, wallNow: wallNow, into: &run)
                if target > run.incident.now, run.incident.state.status.isOpen {
                    try committer.append(.clockAdvanced(.init(now: target, from: incident.now)), key: Self.randomKey(),
                                         actor: actor, wallNow: wallNow, into: &run)
                }
                return finish(run)
            }
            let effects = self.effects
            try TimerPump(committer: committer, effects: effects).fireDue(wallNow: wallNow, into: &run)
            try sendQueuedIfNoWatcher(effects, actor: .system, wallNow: wallNow, into: &run)
            return finish(run)
        }
    }

    // MARK: the watcher's sends

    /// A queued delivery this process has claimed (recorded `sending`): its own to send, then to complete.
    public struct ClaimedDelivery: Sendable {
        public var incident: String
        public var delivery: Delivery
        public var contacts: ContactsDirectory?
    }

    /// Fires the live timers that have come due (as every command does first), then claims every delivery
    /// `incident` has queued: one `sending` record each. What another process claimed or
    /// settled first is left to it. Send each with `send(_:)`, then record its result with `complete`.
    public func claimQueued(incident id: String, wallNow: Instant) throws -> (claimed: [ClaimedDelivery], result: CommitResult) {
        var claimed: [ClaimedDelivery] = []
        let result = try withRetries(id, expectSeq: nil) { incident in
            claimed = []
            var run = CommandRun(incident)
            guard !incident.isDrill else { return finish(run) }
            // Timers that came due first, at their due instants, as every command does: a claim is a record at
            // the wall clock, and recorded first it would move the incident's clock past them, so what they
            // cause would count from the claim instead of from when they came due.
            try timers.fireDue(wallNow: wallNow, into: &run)
            for d in run.incident.state.deliveries where d.status == .queued {
                if try effects.claim(d.delivery.key, actor: .system, wallNow: wallNow, into: &run) {
                    claimed.append(ClaimedDelivery(incident: id, delivery: d.delivery,
                                                   contacts: run.incident.definition.contacts))
                }
            }
            return finish(run)
        }
        return (claimed, result)
    }

    /// Sends a claimed delivery through the transport (this takes as long as the channel does: up to its deadline).
    public func send(_ claimed: ClaimedDelivery) -> TransportResult {
        transport.send(claimed.delivery, context: DeliveryContext(incident: claimed.incident, contacts: claimed.contacts))
    }

    /// Records the result of a claimed delivery, against the incident as it stands now, and performs what it
    /// causes (a page that failed moves to the next channel: queued again, for the watcher's next pass). Nil when
    /// a person settled it meanwhile: theirs stands.
    public func complete(_ claimed: ClaimedDelivery, sent: TransportResult, wallNow: Instant) throws -> CommitResult? {
        var run = CommandRun(try load(claimed.incident))
        do {
            let more = try effects.record(sent, of: claimed.delivery.key, actor: .system, wallNow: wallNow, into: &run)
            try effects.run(more, actor: .system, wallNow: wallNow, into: &run)
        } catch is OutcomeTaken {
            return nil
        }
        return finish(run)
    }

    // MARK: the pipeline's ends

    /// Commits an accepted request and runs what it causes.
    private func perform(_ accepted: Intake.Accepted, key: String, step: String, action: String,
                         fields: [(String, String)], wallNow: Instant, run: inout CommandRun) throws -> CommitResult {
        let result = try committer.process(accepted.event, key: key, actor: accepted.actor, wallNow: wallNow,
                                           into: &run, record: accepted.record)
        switch result {
        case .failure(let r):
            try refuse(r, step: step, action: action, fields: fields, actor: accepted.actor, run: run, wallNow: wallNow)
        case .success(let actions):
            if run.records.last?.replayedFromKey == true {
                // Another process recorded this very request meanwhile: answer with its record.
                var answer = finish(run)
                answer.incident = try load(run.incident.id)
                return answer
            }
            let effects = self.effects
            try effects.run(actions, actor: accepted.actor, wallNow: wallNow, into: &run)
            try sendQueuedIfNoWatcher(effects, actor: accepted.actor, wallNow: wallNow, into: &run)
            return finish(run)
        }
    }

    /// With no watcher running, a command sends what the incident has queued (a watcher stopped before it got to
    /// them) before it returns.
    private func sendQueuedIfNoWatcher(_ effects: EffectRunner, actor: Actor, wallNow: Instant,
                                       into run: inout CommandRun) throws {
        guard effects.handoff == nil, !run.incident.isDrill else { return }
        try effects.sendQueued(actor: actor, wallNow: wallNow, into: &run)
    }

    /// Issues the closing checkpoint if the command closed the incident, and packs the result.
    private func finish(_ run: CommandRun) -> CommitResult {
        snapshots.saveIfDue(run.incident, wallNow: run.records.last?.recordedAt ?? run.incident.now)
        var result = CommitResult(records: run.records, actions: run.actions, reminders: run.reminders,
                                  incident: run.incident)
        if run.closed != nil, let signer = checkpointSigner {
            do {
                result.checkpoint = try store.issueCheckpoint(incident: run.incident.id, signer: try signer(),
                                                              at: run.records.last?.recordedAt ?? run.incident.now)
            } catch {
                result.checkpointProblem = "\(error)"
            }
        }
        return result
    }

    /// Records a refusal (`input.rejected`) and throws it. The trail is otherwise unchanged: records the same
    /// command wrote before (due timers it fired) stay.
    private func refuse(_ rejection: Rejection, step: String, action: String, fields: [(String, String)],
                        actor: Actor, run: CommandRun, wallNow: Instant) throws -> Never {
        let record = TrailRecord.rejected(.init(
            now: Committer.engineNow(run.incident, wallNow: wallNow), step: step, action: action,
            fields: Dictionary(fields, uniquingKeysWith: { a, _ in a }), actor: actor, code: rejection.code.rawValue,
            message: rejection.message))
        let recorder = Intake.operatorProblem(actor) == nil ? Committer.auditActor(actor) : .system
        _ = try store.append(
            incident: run.incident.id, expectedSeq: nil,
            events: [EventDraft(type: RecordType.rejected, idempotencyKey: Self.randomKey(), actor: recorder,
                                recordedAt: wallNow, body: record.body)])
        throw RuntimeError.refused(code: rejection.code.rawValue, message: rejection.message, hint: rejection.hint)
    }

    /// A retry with the key of a request already recorded answers with that record: it never runs twice, and
    /// it is not re-validated against a state it has itself changed.
    private func alreadyRecorded(_ id: String, key: String?) throws -> CommitResult? {
        guard let key, try store.incident(id: id) != nil,
            var recorded = try store.event(incident: id, idempotencyKey: key)
        else { return nil }
        recorded.replayedFromKey = true
        return CommitResult(records: [recorded], actions: [], reminders: [], incident: try load(id))
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
                throw RuntimeError.conflict(expected: expectSeq, head: incident.seq,
                                            by: try lastOperator(id, head: incident.seq))
            }
            do {
                return try body(incident)
            } catch AuditError.conflict(let head, _, _) {
                let who = try lastOperator(id, head: head)
                if let expectSeq { throw RuntimeError.conflict(expected: expectSeq, head: head, by: who) }
                if attempt >= 20 { throw RuntimeError.conflict(expected: incident.seq, head: head, by: who) }
            }
        }
    }

    /// Who acted last, for "incident advanced to N by NAME": the last record not written by crisis itself (a
    /// timer, an automatic checkpoint) among the latest few.
    private func lastOperator(_ id: String, head: Int) throws -> String {
        let recent = try store.events(incident: id, from: max(1, head - 15))
        return recent.last(where: { $0.actor.id != AuditActor.system.id })?.actor.id
            ?? recent.last?.actor.id ?? AuditActor.system.id
    }

    // MARK: helpers

    /// Checks `start`'s inputs against the playbook. A `time` input given relative to `now` (the start instant:
    /// `now`, `-15m`, `now-1h`) is recorded as the absolute time it names, with the playbook zone's offset.
    func checkInputs(_ given: [(String, String)], playbook: Playbook, now: Instant) throws -> [String: String] {
        var values: [String: String] = [:]
        var problems: [String] = []
        let zone = ZoneFormat(identifier: playbook.timeZone)
        for (name, typed) in given {
            var value = typed
            if playbook.input(name)?.type == .time, let offset = RelativeTime.offset(typed) {
                value = zone.rfc3339(now + offset)
            }
            guard let spec = playbook.input(name) else {
                let known = playbook.inputs.map(\.name).joined(separator: ", ")
                problems.append("unknown input '\(name)' (this playbook takes: \(known))")
                continue
            }
            if values[name] != nil { problems.append("input '\(name)' given twice") }
            if let p = spec.type.problem(with: value, allowed: spec.values) {
                problems.append("input '\(name)' \(p)")
            }
            values[name] = value
        }
        var missing: [MissingInput] = []
        for spec in playbook.inputs where values[spec.name] == nil {
            if let d = spec.defaultValue {
                values[spec.name] = d
            } else if spec.required {
                let kind = spec.type == .enum ? "enum: " + spec.values.joined(separator: "|") : spec.type.rawValue
                missing.append(MissingInput(name: spec.name, kind: kind, prompt: spec.prompt, type: spec.type.rawValue,
                                            values: spec.values))
            }
        }
        guard problems.isEmpty && missing.isEmpty else {
            throw RuntimeError.invalidInputs(problems: problems, missing: missing)
        }
        return values
    }

    static func templatePaths(_ playbook: Playbook) -> [String] {
        var paths: [String] = []
        for step in playbook.allSteps {
            guard case .holdingStatement(let spec) = step.kind else { continue }
            for lang in spec.languages(in: playbook) {
                let p = "\(spec.template.value).\(lang).mustache"
                if !paths.contains(p) { paths.append(p) }
            }
            // Each channel variant in the languages its channel publishes.
            for channel in spec.channels {
                guard let base = spec.variants[channel.id]?.value else { continue }
                for lang in spec.languages(of: channel, in: playbook) {
                    let p = "\(base).\(lang).mustache"
                    if !paths.contains(p) { paths.append(p) }
                }
            }
        }
        return paths
    }

    private func readFile(_ path: String, what: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RuntimeError.invalid("cannot read \(what) '\(path)'")
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
}
