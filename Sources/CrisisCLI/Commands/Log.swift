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
    @OptionGroup var display: DisplayOptions
    @Argument(help: "Incident id or a short part of it (default: the latest open incident).",
              completion: Complete.incidents("log"))
    var reference: String?
    @Flag(help: "Machine-readable output (the canonical records).") var json = false

    func run() async throws {
        do {
            let service = try store.service(reading: true)
            let id = try service.resolveIncident(reference)
            if json {
                let entries = try service.timeline(id)
                var out = Data("[\n".utf8)
                for (i, e) in entries.enumerated() {
                    out.append(contentsOf: e.stored.record)
                    out.append(contentsOf: Array((i + 1 < entries.count ? ",\n" : "\n").utf8))
                }
                out.append(contentsOf: Array("]\n".utf8))
                FileHandle.standardOutput.write(out)
            } else {
                let incident = try service.load(id)
                Out.print(TimelineText.render(try service.timeline(id), incident: incident, color: Style.colour))
            }
        } catch {
            throw fail(error, json: json)
        }
    }
}

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the incidents in the database.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var display: DisplayOptions
    @Flag(help: "Only open incidents.") var open = false
    @Flag(help: "Machine-readable output.") var json = false

    func run() async throws {
        do {
            guard store.exists else {
                if json { try Out.json([IncidentSummary]()) } else { Out.print("No database at \(store.path) yet: no incidents.") }
                return
            }
            let service = try store.service(reading: true)
            var rows = try service.summaries()
            if open { rows = rows.filter { $0.status == "open" } }
            if json {
                try Out.json(rows)
                return
            }
            if rows.isEmpty {
                Out.print(open ? "No open incidents." : "No incidents in \(store.path).")
                return
            }
            // Three lines per incident, so it fits 80 columns: the id, mode and status; the title and playbook;
            // when it opened (in the incident's own zone, with the offset) and its last activity.
            let now = Instant.wallClock()
            let width = Fit.terminalWidth()
            var lines: [String] = []
            for r in rows {
                let opened = ISO8601.parse(r.opened)
                let zone = ZoneFormat(identifier: r.timezone ?? "UTC")
                let status = r.status + (r.outcome.map { " (\(TerminalText.escape($0)))" } ?? "")
                let mode = r.mode == "drill" ? Colour.yellow("DRILL", Style.colour) : Colour.red("LIVE ", Style.colour)
                lines += Fit.lines("\(r.id)  \(mode)  \(status)", width: width)
                lines += Fit.lines("    \(TerminalText.escape(r.title)) (\(r.playbook))", width: width)
                var third = "    opened \(opened.map(zone.human) ?? r.opened)"
                if let last = ISO8601.parse(r.lastActivity) { third += ", last activity \(humanDuration(now - last)) ago" }
                lines += Fit.lines(third, width: width)
            }
            Out.print(lines.joined(separator: "\n"))
        } catch {
            throw fail(error, json: json)
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
    @OptionGroup var display: DisplayOptions
    @Argument(help: "Incident id or a short part of it (default: every incident).",
              completion: Complete.incidents("verify"))
    var id: String?
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
        if let id, BundleVerify.isBundleArgument(id) {  // a bundle folder: Commands/VerifyBundle.swift
            throw ExitCode(BundleVerify.run(path: id, key: verifierKey ?? keys.key, checkpoints: checkpoint, json: json))
        }
        let service: IncidentService
        let ids: [String]
        do {
            service = try store.service(reading: true)
            ids = try id.map { [try service.resolveIncident($0)] } ?? service.store.incidents().map(\.id)
        } catch { throw fail(error, json: json) }
        if !checkpoint.isEmpty && ids.count != 1 { throw ValidationError("--checkpoint needs one incident ID") }
        var notes: [(name: String, note: String)] = []
        for file in checkpoint {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw fail(RuntimeError.invalid("cannot read checkpoint \(file)"), json: json)
            }
            notes.append((file, String(decoding: data, as: UTF8.self)))
        }
        var results: [VerifyOutcome] = []
        for incidentID in ids {
            do {
                let verifier = notes.isEmpty ? nil : try CheckpointVerifier(
                    verifierKey: try verifierKey ?? keys.signer(store: store).verifierKey)
                results.append(try service.verify(incidentID, checkpoints: notes, verifier: verifier))
            } catch let e as RuntimeError {
                if case .invalid = e { throw fail(e, json: json) }
                results.append(VerifyOutcome(incident: incidentID, ok: false, records: 0, problem: "\(e)"))
            } catch {
                results.append(VerifyOutcome(incident: incidentID, ok: false, records: 0, problem: "\(error)"))
            }
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
        if results.contains(where: { !$0.ok }) { throw ExitCode(ExitStatus.integrity) }
    }
}
