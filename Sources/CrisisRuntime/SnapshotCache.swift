import CrisisAudit
import CrisisCore
import Foundation

/// Folded state saved beside the trail so that a command folds only the records after it (a cache, never
/// evidence: stored with the seq and entry hash it was folded to, checked against the trail on every load,
/// rebuilt when absent, stale or written by another engine version; `verify` always replays in full and
/// compares).
struct SnapshotCache: Sendable {
    let log: any AuditLog

    /// A new snapshot is saved once this many records were folded since the last one.
    static let interval = 64

    /// Names the state's encoding and the engine semantics it was folded with. Any change to the engine's
    /// transitions or to the state types must change it, so that old snapshots are rebuilt, not trusted.
    static let version = "\(IncidentService.engineVersion) state/10"

    struct Payload: Codable {
        var state: IncidentState
        var now: Instant
        var clockAnomalies: Int
    }

    /// The saved state of `id`, if there is a usable one.
    /// The state is decoded against `definition`, which the snapshot does not hold (the incident pins it).
    func load(_ id: String, definition: RunDefinition) -> (seq: Int, entryHash: String, payload: Payload)? {
        let decoder = JSONDecoder()
        decoder.userInfo[IncidentState.definitionKey] = definition
        guard let snapshot = try? log.snapshot(incident: id), snapshot.engineVersion == Self.version,
            let payload = try? decoder.decode(Payload.self, from: Data(snapshot.bytes))
        else { return nil }
        return (snapshot.seq, snapshot.entryHash, payload)
    }

    /// Saves the incident's state if enough records were folded since the last snapshot. Failures are ignored:
    /// the next command replays a little more.
    func saveIfDue(_ incident: LoadedIncident, wallNow: Instant) {
        guard incident.seq - incident.snapshotSeq >= Self.interval else { return }
        save(incident, wallNow: wallNow)
    }

    func save(_ incident: LoadedIncident, wallNow: Instant) {
        let payload = Payload(state: incident.state, now: incident.now, clockAnomalies: incident.clockAnomalies)
        guard let bytes = try? JSONEncoder().encode(payload) else { return }
        try? log.saveSnapshot(StateSnapshot(
            incidentID: incident.id, seq: incident.seq, entryHash: incident.headHash, engineVersion: Self.version,
            bytes: [UInt8](bytes), savedAt: wallNow))
    }
}
