import ArgumentParser
import CrisisAudit
import CrisisCore
import CrisisRuntime
import Foundation

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Show an incident's timeline: every record, who, when, what.",
        discussion: "--json prints the exact hashed record bytes, one JSON object per record, in an array.")

    @OptionGroup var store: StoreOptions
    @Argument(help: "Incident id.") var id: String
    @Flag(help: "Machine-readable output (the canonical records).") var json = false

    func run() async throws {
        do {
            let service = try store.service()
            let incident = try service.load(id)
            if json {
                var out = Data("[\n".utf8)
                for (i, e) in incident.events.enumerated() {
                    out.append(contentsOf: e.record)
                    out.append(contentsOf: Array((i + 1 < incident.events.count ? ",\n" : "\n").utf8))
                }
                out.append(contentsOf: Array("]\n".utf8))
                FileHandle.standardOutput.write(out)
            } else {
                Out.print(TimelineText.render(incident, color: Colour.enabled))
            }
        } catch {
            throw fail(error)
        }
    }
}

/// One row of `crisis list`.
struct IncidentSummary: Codable {
    var id: String
    var title: String
    var playbook: String
    var mode: String
    var status: String
    var outcome: String?
    var opened: String
    var lastActivity: String
    var lastSeq: Int

    enum CodingKeys: String, CodingKey {
        case id, title, playbook, mode, status, outcome, opened
        case lastActivity = "last_activity"
        case lastSeq = "seq"
    }
}

enum IncidentList {
    static func summaries(service: IncidentService) throws -> [IncidentSummary] {
        try service.store.incidents().map { header in
            var status = "unreadable"
            var outcome: String?
            var lastActivity = header.createdAt
            var seq = 0
            if let incident = try? service.load(header.id) {
                switch incident.state.status {
                case .open: status = "open"
                case .closed(let o):
                    status = "closed"
                    outcome = o
                }
                lastActivity = incident.events.last?.recordedAt ?? header.createdAt
                seq = incident.seq
            }
            return IncidentSummary(
                id: header.id, title: header.title, playbook: "\(header.playbookID)@\(header.playbookVersion)",
                mode: header.mode.rawValue, status: status, outcome: outcome, opened: ISO8601.format(header.createdAt, milliseconds: false),
                lastActivity: ISO8601.format(lastActivity, milliseconds: false), lastSeq: seq)
        }
    }
}

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the incidents in the database.")

    @OptionGroup var store: StoreOptions
    @Flag(help: "Only open incidents.") var open = false
    @Flag(help: "Machine-readable output.") var json = false

    func run() async throws {
        do {
            guard store.exists else {
                if json { try Out.json([IncidentSummary]()) } else { Out.print("No database at \(store.path) yet: no incidents.") }
                return
            }
            let service = try store.service()
            var rows = try IncidentList.summaries(service: service)
            if open { rows = rows.filter { $0.status == "open" } }
            if json {
                try Out.json(rows)
                return
            }
            if rows.isEmpty {
                Out.print(open ? "No open incidents." : "No incidents in \(store.path).")
                return
            }
            let table = [["ID", "MODE", "STATUS", "OPENED (UTC)", "LAST ACTIVITY", "PLAYBOOK", "TITLE"]]
                + rows.map { r in
                    [r.id, r.mode.uppercased(), r.status + (r.outcome.map { " (\($0))" } ?? ""),
                     String(r.opened.prefix(16)).replacingOccurrences(of: "T", with: " "),
                     String(r.lastActivity.prefix(16)).replacingOccurrences(of: "T", with: " "), r.playbook,
                     TerminalText.escape(r.title)]
                }
            Out.print(TextTable.render(table))
        } catch {
            throw fail(error)
        }
    }
}

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute an incident's hash chain and check every record. Exit 3 on tampering.",
        discussion: """
            Checks every entry hash, every link, sequence contiguity, the canonical encoding of every record,
            the columns copied from each record, the pinned playbook bytes, SQLite's integrity_check, and that
            the trail still replays through the engine. Without ID, verifies every incident in the database.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var keys: KeyOptions
    @Argument(help: "Incident id (default: all).") var id: String?
    @Option(help: ArgumentHelp(
        "A checkpoint note kept outside the database (repeatable): the trail must still contain exactly what it "
            + "signed.", valueName: "file"))
    var checkpoint: [String] = []
    @Option(name: .customLong("verifier-key"), help: ArgumentHelp(
        "The published verifier key the checkpoints must be signed with (default: the one of --key).",
        valueName: "key"))
    var verifierKey: String?
    @Flag(help: "Machine-readable output.") var json = false

    func run() async throws {
        let service: IncidentService
        do { service = try store.service() } catch { throw fail(error) }
        let ids: [String]
        do {
            ids = try id.map { [$0] } ?? service.store.incidents().map(\.id)
        } catch { throw fail(error) }
        if !checkpoint.isEmpty && ids.count != 1 { throw ValidationError("--checkpoint needs one incident ID") }
        var failed = false
        var results: [VerifyOutput] = []
        for incidentID in ids {
            var out = VerifyOutput(incident: incidentID, ok: true, records: 0, head: nil, merkle_root: nil,
                                   first_bad_seq: nil, problem: nil, checkpoints: nil, anchored_at: nil)
            do {
                guard try service.store.incident(id: incidentID) != nil else {
                    throw RuntimeError.invalid("no incident '\(TerminalText.escape(incidentID))' in this database")
                }
                let report = try service.store.verify(incident: incidentID)
                out.records = report.recordCount
                out.head = report.chainHead
                out.merkle_root = report.merkleRoot
                if let bad = report.firstBadSeq {
                    out.ok = false
                    out.first_bad_seq = bad
                    out.problem = report.firstProblem?.message
                } else if let problem = report.firstProblem?.message {
                    out.ok = false
                    out.problem = problem
                } else {
                    do {
                        let incident = try service.load(incidentID)
                        if let mismatch = IncidentService.headerMismatch(incident) {
                            out.ok = false
                            out.problem = mismatch
                        }
                    } catch {
                        out.ok = false
                        out.problem = "the trail does not replay: \(error)"
                    }
                }
                out.checkpoints = report.checkpointsChecked
                if out.ok && !checkpoint.isEmpty {
                    let verifier = try CheckpointVerifier(
                        verifierKey: try verifierKey ?? keys.signer(store: store).verifierKey)
                    for file in checkpoint {
                        guard let data = FileManager.default.contents(atPath: file) else {
                            throw RuntimeError.invalid("cannot read checkpoint \(file)")
                        }
                        do {
                            let v = try service.store.verifyCheckpoint(
                                note: String(decoding: data, as: UTF8.self), verifier: verifier, incident: incidentID)
                            out.anchored_at = max(out.anchored_at ?? 0, v.treeSize)
                        } catch {
                            out.ok = false
                            out.problem = "checkpoint \(file): \(error)"
                            break
                        }
                    }
                }
            } catch let e as RuntimeError {
                if case .invalid = e { throw fail(e) }
                out.ok = false
                out.problem = "\(e)"
            } catch {
                out.ok = false
                out.problem = "\(error)"
            }
            if !out.ok { failed = true }
            results.append(out)
        }
        if json {
            try Out.json(results)
        } else {
            for r in results {
                if r.ok {
                    Out.print("\(r.incident): ok: \(r.records) records, chain intact, head \(r.head ?? "-")")
                    if let anchored = r.anchored_at {
                        Out.print("  integrity proven up to record \(anchored) by the external checkpoint; "
                                  + "\(r.records - anchored) later records are not externally anchored")
                    } else {
                        Out.print("  not checked against an external checkpoint (\(r.checkpoints ?? 0) stored in the "
                                  + "database); pass --checkpoint FILE to prove nothing was rewritten or cut")
                    }
                } else if let seq = r.first_bad_seq {
                    Out.print("\(r.incident): TAMPERED at record \(seq): \(TerminalText.escape(r.problem ?? ""))")
                } else {
                    Out.print("\(r.incident): FAILED: \(TerminalText.escape(r.problem ?? ""))")
                }
            }
            if results.isEmpty { Out.print("No incidents in \(store.path).") }
        }
        if failed { throw ExitCode(ExitStatus.integrity) }
    }
}

struct VerifyOutput: Codable {
    var incident: String
    var ok: Bool
    var records: Int
    var head: String?
    var merkle_root: String?
    var first_bad_seq: Int?
    var problem: String?
    var checkpoints: Int?
    var anchored_at: Int?
}
