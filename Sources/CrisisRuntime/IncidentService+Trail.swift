import CrisisAudit
import CrisisCore
import Foundation

/// One incident of the database, for `crisis list` and for resolving an omitted incident id.
public struct IncidentSummary: Codable, Sendable, Hashable {
    public var id: String
    public var title: String
    public var playbook: String
    public var mode: String
    /// `open`, `closed`, or `unreadable` (its trail does not replay: run verify).
    public var status: String
    public var outcome: String?
    /// RFC 3339, UTC.
    public var opened: String
    public var lastActivity: String
    public var lastSeq: Int
    /// The playbook's IANA time zone, in which people read the incident's times (null if it does not replay).
    public var timezone: String?

    enum CodingKeys: String, CodingKey {
        case id, title, playbook, mode, status, outcome, opened, timezone
        case lastActivity = "last_activity"
        case lastSeq = "seq"
    }
}

/// An incident reference that names no incident, or several. Exit 1; `candidates` lists those it could mean.
public struct IncidentReferenceError: Error, CustomStringConvertible, Sendable {
    /// What the operator typed.
    public var reference: String
    /// The incidents it could mean (empty: none).
    public var candidates: [String]

    public init(reference: String, candidates: [String]) {
        self.reference = reference
        self.candidates = candidates
    }

    /// `unknown-incident` or `ambiguous-incident`.
    public var code: String { candidates.isEmpty ? "unknown-incident" : "ambiguous-incident" }

    public var description: String {
        if candidates.isEmpty { return "no incident '\(reference)' in this database; see 'crisis list'" }
        let shown = candidates.prefix(10).joined(separator: ", ") + (candidates.count > 10 ? ", …" : "")
        return "'\(reference)' could be any of \(candidates.count) incidents: \(shown); give more of the id"
    }
}

/// One record of a timeline: as stored, and typed (nil when its body cannot be read).
public struct TimelineEntry: Sendable {
    public var stored: StoredEvent
    public var record: TrailRecord?
}

/// What `verify` found for one incident.
public struct VerifyOutcome: Codable, Sendable {
    public var incident: String
    public var ok: Bool
    public var records: Int
    public var head: String?
    public var merkle_root: String?
    public var first_bad_seq: Int?
    public var problem: String?
    /// Checkpoints stored in the database that were checked.
    public var checkpoints: Int?
    /// The largest tree size an external checkpoint proved.
    public var anchored_at: Int?
    /// The saved state snapshot (a cache, not evidence) disagreed with the full replay and was rebuilt.
    public var snapshot_rebuilt: Bool?

    public init(incident: String, ok: Bool, records: Int, problem: String? = nil) {
        self.incident = incident
        self.ok = ok
        self.records = records
        self.problem = problem
    }
}

extension IncidentService {
    /// Every incident in the database, with its status from its trail.
    public func summaries() throws -> [IncidentSummary] {
        try store.incidents().map { header in
            var status = "unreadable"
            var outcome: String?
            var seq = 0
            var zone: String?
            if let incident = try? load(header.id) {
                zone = incident.definition.playbook.timeZone
                switch incident.state.status {
                case .open: status = "open"
                case .closed(let o):
                    status = "closed"
                    outcome = o
                }
                seq = incident.seq
            }
            let lastActivity = header.lastEventAt ?? header.createdAt
            return IncidentSummary(
                id: header.id, title: header.title, playbook: "\(header.playbookID)@\(header.playbookVersion)",
                mode: header.mode.rawValue, status: status, outcome: outcome,
                opened: ISO8601.format(header.createdAt, milliseconds: false),
                lastActivity: ISO8601.format(lastActivity, milliseconds: false), lastSeq: seq, timezone: zone)
        }
    }

    /// The incident an id-less command means: the open incident with the latest activity (to the second, then
    /// the longest trail). Loads incidents newest first and stops at the first open one.
    public func latestOpenIncident() throws -> String {
        let ordered = try store.incidents().enumerated().map { i, h in
            (key: ISO8601.format(h.lastEventAt ?? h.createdAt, milliseconds: false), seq: h.lastSeq, index: i, id: h.id)
        }.sorted { a, b in
            // Newest first; among equals the one listed first (what `max` over the list picked).
            (a.key, a.seq) != (b.key, b.seq) ? (a.key, a.seq) > (b.key, b.seq) : a.index < b.index
        }
        for candidate in ordered {
            guard let incident = try? load(candidate.id), incident.state.status.isOpen else { continue }
            return candidate.id
        }
        throw RuntimeError.invalid("no open incident in this database; name one (see 'crisis list')")
    }

    /// The incident a command means by `reference`: without one, the latest open incident; else the incident
    /// whose id it is, or the only one whose id begins or ends with it (ignoring case), so
    /// `bd63` names `service-outage-20261130-bd63`. Throws `IncidentReferenceError` when it names none or
    /// several (listing them).
    public func resolveIncident(_ reference: String?) throws -> String {
        guard let reference else { return try latestOpenIncident() }
        let candidates = try incidentCandidates(reference)
        if candidates.count == 1 { return candidates[0] }
        throw IncidentReferenceError(reference: reference, candidates: candidates)
    }

    /// The incidents `reference` may mean: its exact id alone when there is one, else every id that begins or
    /// ends with it (ignoring case), in the database's order. Empty for an empty reference.
    public func incidentCandidates(_ reference: String) throws -> [String] {
        guard !reference.isEmpty else { return [] }
        let ids = try store.incidents().map(\.id)
        if ids.contains(reference) { return [reference] }
        let wanted = reference.lowercased()
        return ids.filter {
            let id = $0.lowercased()
            return id.hasPrefix(wanted) || id.hasSuffix(wanted)
        }
    }

    /// Every record of an incident, typed, in order. Reads the trail without replaying it.
    public func timeline(_ id: String) throws -> [TimelineEntry] {
        _ = try loader.header(id)
        var out: [TimelineEntry] = []
        try store.forEachEvent(incident: id) { stored in
            out.append(TimelineEntry(stored: stored, record: try? TrailRecord.decode(stored)))
        }
        return out
    }

    /// Checks an incident: its hash chain, every record's canonical form and copied columns, and the stored
    /// checkpoints (the store), that the header agrees with the first record (the runtime), and each external
    /// checkpoint note given. With `deep`, also SQLite's `integrity_check` of the whole file and a full replay
    /// through the engine (each record must read as its type and replay as accepted; the state snapshot is
    /// checked against the replay and rebuilt).
    public func verify(_ id: String, checkpoints notes: [(name: String, note: String)] = [],
                       verifier: CheckpointVerifier? = nil, deep: Bool = true) throws -> VerifyOutcome {
        _ = try loader.header(id)
        var out = VerifyOutcome(incident: id, ok: true, records: 0)
        let report = try store.verify(incident: id, integrityCheck: deep)
        out.records = report.recordCount
        out.head = report.chainHead
        out.merkle_root = report.merkleRoot
        out.checkpoints = report.checkpointsChecked
        if let bad = report.firstBadSeq {
            out.ok = false
            out.first_bad_seq = bad
            out.problem = report.firstProblem?.message
            return out
        }
        if let problem = report.firstProblem?.message {
            out.ok = false
            out.problem = problem
            return out
        }
        if !deep {
            // The header against record 1 needs only the definition record 1 pins.
            do {
                if let mismatch = Self.headerMismatch(try loader.load(id, useSnapshot: false, upTo: 1)) {
                    out.ok = false
                    out.problem = mismatch
                    return out
                }
            } catch {
                out.ok = false
                out.problem = "record 1 does not load: \(error)"
                return out
            }
        } else {
            do {
                // A full replay: the snapshot is a cache and is checked against it, never trusted here. One
                // pass: replay up to the snapshot's record, compare, then fold the rest.
                let saved = try? store.snapshot(incident: id)
                var replayed = try loader.load(id, useSnapshot: false, upTo: saved?.seq)
                var wrongSnapshot = false
                if saved != nil, let cached = snapshots.load(id, definition: replayed.definition),
                    cached.seq == replayed.seq
                {
                    wrongSnapshot = cached.payload.state != replayed.state || cached.payload.now != replayed.now
                }
                try loader.fold(try store.events(incident: id, from: replayed.seq + 1), into: &replayed)
                if let mismatch = Self.headerMismatch(replayed) {
                    out.ok = false
                    out.problem = mismatch
                    return out
                }
                if wrongSnapshot {
                    snapshots.save(replayed, wallNow: replayed.now)
                    out.snapshot_rebuilt = true
                }
            } catch {
                out.ok = false
                out.problem = "the trail does not replay: \(error)"
                return out
            }
        }
        guard let verifier else { return out }
        for (name, note) in notes {
            do {
                let v = try store.verifyCheckpoint(note: note, verifier: verifier, incident: id)
                out.anchored_at = max(out.anchored_at ?? 0, v.treeSize)
            } catch {
                out.ok = false
                out.problem = "checkpoint \(name): \(error)"
                break
            }
        }
        return out
    }

    /// Signs the incident's trail head.
    public func checkpoint(_ id: String, signer: CheckpointSigner, wallNow: Instant) throws -> Checkpoint {
        _ = try loader.header(id)
        return try store.issueCheckpoint(incident: id, signer: signer, at: wallNow)
    }

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
}
