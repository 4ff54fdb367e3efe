import ArgumentParser
import CrisisAudit
import CrisisCore
import CrisisRuntime
import Foundation

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Show an incident's timeline: every record, who, when, what.",
        discussion: """
            --json prints the exact hashed record bytes, one JSON object per record, in an array. --raw prints the \
            records as stored, one line each, without replaying the trail: a damaged trail can still be read. When \
            the hash chain does not verify, log warns at the top; when the trail does not replay, it says so and \
            prints the raw form. Either way it exits 3 after printing ('crisis verify' says more).
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var display: DisplayOptions
    @Argument(help: "Incident id or a short part of it (default: the latest open incident).",
              completion: Complete.incidents("log"))
    var reference: String?
    @Flag(help: "Machine-readable output (the canonical records).") var json = false
    @Flag(help: "The records as stored, without replaying them: seq, time, type, actor, hash check, body.")
    var raw = false
    @Flag(help: ArgumentHelp("Every record on its own line, delivery intents and sandboxed outcomes too (folded "
                             + "into the line that caused them otherwise)."))
    var all = false
    @Flag(help: ArgumentHelp("With the incidents related to this one (crisis start --related), their timelines merged in "
                             + "time order, each line marked with its incident's short id."))
    var related = false

    func validate() throws {
        if related, json || raw { throw ValidationError("--related merges readable timelines; leave out --json and --raw") }
    }

    func run() async throws {
        let damaged: Bool
        do {
            let service = try store.service(reading: true)
            let id = try service.resolveIncident(reference)
            if json {
                // Streamed: the stored bytes as they are, in blocks, so memory stays flat as the trail grows.
                var out: [UInt8] = Array("[\n".utf8)
                var first = true
                try service.store.forEachRecord(incident: id) { stored in
                    if !first { out += Array(",\n".utf8) }
                    first = false
                    out += stored.record
                    if out.count >= 1 << 16 {
                        FileHandle.standardOutput.write(Data(out))
                        out.removeAll(keepingCapacity: true)
                    }
                }
                out += Array((first ? "]\n" : "\n]\n").utf8)
                FileHandle.standardOutput.write(Data(out))
                return
            }
            // The chain check (hashes and links, no replay) first: a warning belongs above the story.
            let records = try service.store.rawRecords(incident: id)
            let broken = records.contains { !$0.problems.isEmpty }
            var lines: [String] = []
            if broken { lines += RawLogText.chainWarning(records, incident: id) }
            if raw {
                lines += RawLogText.lines(records)
                Out.print(lines.joined(separator: "\n"))
                damaged = broken
            } else {
                do {
                    let incident = try service.load(id)
                    let timeline = try service.timeline(id)
                    if related {
                        var parts = [(entries: timeline, incident: incident)]
                        for other in try service.relatedIncidents(id) {
                            parts.append((try service.timeline(other), try service.load(other)))
                        }
                        lines.append(TimelineText.renderMerged(parts, color: Style.colour, all: all))
                    } else {
                        lines.append(TimelineText.render(timeline, incident: incident, color: Style.colour, all: all))
                    }
                    damaged = broken
                } catch {
                    let (_, why) = explain(error)
                    lines += Fit.lines("This trail does not replay, so its timeline cannot be told: "
                        + why.joined(separator: " ").replacingOccurrences(of: "crisis: ", with: ""),
                        width: max(40, min(Fit.terminalWidth(), 100)))
                    lines.append("The records as stored (crisis log --raw):")
                    lines += RawLogText.lines(records)
                    damaged = true
                }
                Out.print(lines.joined(separator: "\n"))
            }
        } catch {
            throw fail(error, json: json)
        }
        if damaged { throw ExitCode(ExitStatus.integrity) }
    }
}

/// `crisis log --raw`: the records as stored, one line each, and the warning `log` prints above a trail whose
/// chain does not verify.
enum RawLogText {
    /// One line per record: seq, recorded time (UTC), type, actor (and role), `ok` or what is wrong with its
    /// hash or link, then its body as canonical JSON. Every stored text is escaped for the terminal.
    static func lines(_ records: [RawRecord]) -> [String] {
        records.map { r in
            let when = r.recordedAt.map { ISO8601.format($0, milliseconds: true) } ?? "?"
            let actor = (r.actorID ?? "?") + (r.actorRole.map { "(\($0))" } ?? "")
            let check = r.problems.isEmpty ? "ok" : (r.hashMatches ? "LINK-BAD" : "HASH-BAD")
            return "#\(r.seq) \(when) \(TerminalText.escape(r.type ?? "?")) \(TerminalText.escape(actor)) \(check) "
                + TerminalText.escape(r.bodyText)
        }
    }

    /// The lines above the output when a record breaks the chain: how many, the first few problems, what to run.
    static func chainWarning(_ records: [RawRecord], incident: String) -> [String] {
        let bad = records.filter { !$0.problems.isEmpty }
        guard !bad.isEmpty else { return [] }
        let width = max(40, min(Fit.terminalWidth(), 100))
        var lines = Fit.lines("WARNING: the hash chain of this trail does not verify (\(bad.count) of \(records.count) "
            + "records): it was altered, damaged or cut; 'crisis verify \(incident)' checks it in full.", width: width)
        for r in bad.prefix(3) {
            lines += Fit.lines("  seq \(r.seq): " + TerminalText.escape(r.problems.joined(separator: "; ")), width: width)
        }
        if bad.count > 3 { lines.append("  and \(bad.count - 3) more") }
        return lines + [""]
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
            Checks what a chain verifier must: every entry hash, every link, sequence contiguity, the canonical \
            encoding of every record, the columns copied from each record, the incident header against record 1, \
            the pinned playbook, template and contacts bytes, the schema and its append-only triggers, and every \
            stored checkpoint against its records and its signature, and SQLite's structural checks (a full check \
            of the small tables, a quick check of the trail's). With --deep, also SQLite's integrity_check of \
            the whole file (every page, indexes included) and a full replay of the trail through the engine (every \
            record must read as its type and replay as accepted; a stale state snapshot is rebuilt), which takes \
            several times as long. Without ID, verifies every incident in the database. A bundle (a folder or \
            NAME.tar) is verified offline instead.
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
        "The published verifier key the checkpoints must be signed with (default: the one of --key when that "
            + "file exists; verify never creates a key).",
        valueName: "key"))
    var verifierKey: String?
    @Flag(help: "Machine-readable output.") var json = false
    @Flag(help: ArgumentHelp(
        "Also run SQLite's integrity_check over the whole file and replay the trail through the engine: every "
            + "record read as its type and accepted again (several times slower; the chain checks are the same)."))
    var deep = false

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
        // The trusted key: --verifier-key, else the signing key that already exists (--key, $CRISIS_KEY, next to
        // the database). Never created here: a new key beside an evidence copy would make every genuine
        // checkpoint look forged.
        var verifier: CheckpointVerifier?
        if !notes.isEmpty {
            do {
                if let verifierKey {
                    do {
                        verifier = try CheckpointVerifier(verifierKey: verifierKey)
                    } catch {
                        throw ValidationError("--verifier-key: \(error)")
                    }
                } else if let signer = try keys.existingSigner(store: store) {
                    verifier = try CheckpointVerifier(verifierKey: signer.verifierKey)
                } else {
                    throw ValidationError("--checkpoint needs the key the checkpoint was signed with: pass "
                        + "--verifier-key KEY (the verifier key 'crisis checkpoint' printed) or --key FILE; there is "
                        + "no signing key at \(keys.path(store: store))")
                }
            } catch {
                throw fail(error, json: json)
            }
        }
        var results: [VerifyOutcome] = []
        for incidentID in ids {
            do {
                results.append(try service.verify(incidentID, checkpoints: notes, verifier: verifier, deep: deep))
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
                                  + "database, checked only against the key each names); pass --checkpoint FILE "
                                  + "--verifier-key KEY to prove nothing was rewritten or cut")
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
