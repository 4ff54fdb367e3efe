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
    /// Entry hash (hex) of the last record: what a state snapshot is checked against.
    public var headHash: String
    /// The incident's clock: simulated for drills (moved only by `tick`), else the last recorded instant.
    public var now: Instant
    /// Pinned template files by relative path.
    public var templates: [String: [UInt8]]
    /// The first record, typed.
    public var opened: TrailRecord.Opened
    /// Records whose wall clock went backwards, counted during replay.
    public var clockAnomalies: Int
    /// The record the saved state snapshot was folded to (1 when the load replayed from the start).
    var snapshotSeq: Int
    /// A drill from a scenario: the channel outages its sandbox plays (from the scenario pinned in the trail), so
    /// every process working the drill fails the same deliveries.
    public var sandboxOutages: [SandboxTransport.Outage] = []

    public var isDrill: Bool { definition.mode == .drill }
    public var id: String { header.id }
}

/// Rebuilds incidents from the trail: the run definition from the pinned bytes named by `incident.opened`, the
/// state by folding every later record's event through the engine. Nothing here reads a clock or the process's
/// time zone: the same trail gives the same state on any machine, in any season.
struct IncidentLoader: Sendable {
    let log: any AuditLog

    /// The engine that evaluated availability windows at one UTC offset, the directory zone's offset when the
    /// incident was opened (it read the offset from the wall clock). Its trails replay with that offset, so what
    /// it paged is what replay pages; later engines compute the offset for each instant.
    static let fixedOffsetEngine = "crisis/0.1"

    /// Engines that armed a statement's approval window once, at its first draft, matched excluded approvers by
    /// the name as written, and gave up on an acknowledged takedown; their trails replay that way
    /// (`RunDefinition.legacyRules`).
    static let legacyRuleEngines: Set<String> = ["crisis/0.1", "crisis/0.2", "crisis/0.3"]

    func header(_ id: String) throws -> IncidentHeader {
        guard let header = try log.incident(id: id) else {
            throw RuntimeError.invalid("no incident '\(id)' in this database; see 'crisis list'")
        }
        return header
    }

    /// Loads an incident: from its saved state snapshot and the records after it when there is a usable one
    /// (`useSnapshot`), else by replaying every record.
    /// With `upTo`, stops after that record (a full replay to a given point, for checking a snapshot).
    func load(_ id: String, useSnapshot: Bool = true, upTo: Int? = nil) throws -> LoadedIncident {
        let header = try header(id)
        // The first record names the run definition; its idempotency key is fixed when the incident opens.
        guard let first = try log.event(incident: id, idempotencyKey: "open/\(id)") ?? log.events(incident: id, from: 1).first,
            first.seq == 1, first.type == .opened, case .opened(let opened) = try TrailRecord.decode(first)
        else {
            throw RuntimeError.corruptRecord("incident \(id) has no incident.opened record")
        }
        let (definition, templates, scenario) = try definition(opened, header: header, openedAt: first.recordedAt)
        var incident = LoadedIncident(
            header: header, definition: definition, state: Engine.start(definition, at: opened.now).0,
            seq: first.seq, headHash: first.entryHashHex, now: opened.now, templates: templates, opened: opened,
            clockAnomalies: 0, snapshotSeq: first.seq)
        incident.sandboxOutages = scenario?.sandboxOutages ?? []
        if useSnapshot, let snapshot = SnapshotCache(log: log).load(id, definition: definition), snapshot.seq > first.seq {
            incident.state = snapshot.payload.state
            incident.now = snapshot.payload.now
            incident.clockAnomalies = snapshot.payload.clockAnomalies
            incident.seq = snapshot.seq
            incident.headHash = snapshot.entryHash
            incident.snapshotSeq = snapshot.seq
        }
        // Streamed: memory does not grow with the trail. The records are read and decoded a few batches ahead
        // on a second thread while this one folds them (decoding is most of a long replay's time).
        do {
            try log.forEachEntryAhead(incident: id, from: incident.seq + 1) { entry in
                if let upTo, entry.stored.seq > upTo { throw StopWalk() }
                try fold(entry, into: &incident)
            }
        } catch is StopWalk {}
        return incident
    }

    /// Folds stored records (in order, following `incident.seq`) into the incident.
    func fold(_ records: [StoredEvent], into incident: inout LoadedIncident) throws {
        for stored in records {
            try fold(TimelineEntry(stored: stored, record: nil), into: &incident)
        }
    }

    /// Folds one record, decoded already or not (`entry.record` nil: decoded here when the replay needs it).
    func fold(_ entry: TimelineEntry, into incident: inout LoadedIncident) throws {
        let stored = entry.stored
        // Only records that carry an engine event are decoded in full; the others (intents, clock moves,
        // refusals, checkpoints) lend the replay nothing but their instant. One that did not decode ahead
        // is decoded again here, for its error.
        let carries = TrailRecord.carriesEvent(stored.type)
        let record = carries ? try entry.record ?? TrailRecord.decode(stored) : nil
        if let t = record?.now ?? stored.body["now"]?.intValue.map({ Instant(millisecondsSinceEpoch: Int64($0)) }) {
            if t < incident.now { incident.clockAnomalies += 1 } else { incident.now = t }
        }
        if let event = record?.event {
            switch Engine.handle(event, in: incident.state, at: incident.now) {
            case .success(let (next, _)): incident.state = next
            case .failure(let rejection):
                throw RuntimeError.corruptRecord(
                    "record \(stored.seq) (\(stored.type.rawValue)) replays as refused: \(rejection)")
            }
        }
        incident.seq = stored.seq
        incident.headHash = stored.entryHashHex
    }

    /// The run definition pinned by `incident.opened`: the playbook re-read from its exact bytes, the contacts
    /// directory and templates likewise.
    func definition(_ opened: TrailRecord.Opened, header: IncidentHeader, openedAt: Instant) throws
        -> (RunDefinition, [String: [UInt8]], Scenario?)
    {
        let sha = opened.playbook.sha256
        guard let pinned = try log.pinnedFile(sha256: sha) else {
            throw RuntimeError.corruptRecord("pinned playbook \(sha) is missing")
        }
        guard sha256Hex(pinned.bytes) == sha else {
            throw RuntimeError.corruptRecord("pinned playbook bytes do not match their SHA-256 \(sha)")
        }
        guard let playbook = PlaybookLoader.load(bytes: pinned.bytes, path: opened.playbook.file).playbook else {
            throw RuntimeError.corruptRecord("pinned playbook \(opened.playbook.file) no longer loads")
        }
        var contacts: ContactsDirectory?
        if let c = opened.contacts {
            guard let file = try log.pinnedFile(sha256: c.sha256) else {
                throw RuntimeError.corruptRecord("pinned contacts \(c.sha256) missing")
            }
            contacts = ContactsLoader.load(bytes: file.bytes, path: file.fileName).directory
            if opened.engine == Self.fixedOffsetEngine {
                contacts = contacts?.fixingOffset(at: openedAt)
            }
        }
        // A drill from a scenario: its roster, as when it started (and its outages, for the sandbox).
        var scenario: Scenario?
        if let s = opened.scenario {
            guard let file = try log.pinnedFile(sha256: s.sha256) else {
                throw RuntimeError.corruptRecord("pinned scenario \(s.sha256) missing")
            }
            // Offsets count from the drill's start (a second incident's: when an inject opened it).
            guard let loaded = ScenarioLoader.load(bytes: file.bytes, path: s.path, checkReferences: false, start: opened.now).scenario
            else {
                throw RuntimeError.corruptRecord("pinned scenario \(s.path) no longer loads")
            }
            scenario = loaded
            if let c = contacts { contacts = loaded.applyRoster(to: c) }
        }
        var templates: [String: [UInt8]] = [:]
        for t in opened.templates {
            guard let file = try log.pinnedFile(sha256: t.sha256) else {
                throw RuntimeError.corruptRecord("pinned template \(t.path) missing")
            }
            templates[t.path] = file.bytes
        }
        let definition = RunDefinition(
            incidentID: header.id, title: opened.title, mode: opened.mode, playbook: playbook, playbookSHA256: sha,
            contacts: contacts, inputs: opened.inputs,
            legacyRules: Self.legacyRuleEngines.contains(opened.engine))
        return (definition, templates, scenario)
    }
}

extension ContactsDirectory {
    /// The directory with its zone replaced by the fixed UTC offset the zone had at `instant`.
    func fixingOffset(at instant: Instant) -> ContactsDirectory {
        let offset = AvailabilityWindow.utcOffsetSeconds(of: timeZone, at: instant)
        guard let fixed = TimeZone(secondsFromGMT: offset)?.identifier else { return self }
        var copy = self
        copy.timeZone = fixed
        for p in copy.people.indices {
            for w in copy.people[p].availability.indices { copy.people[p].availability[w].timeZone = fixed }
        }
        return copy
    }
}

/// Stops a walk over the records early (the store reports it as its own error; callers keep a flag).
struct StopWalk: Error {}
