import ArgumentParser
import Foundation
import CrisisCore
import CrisisRuntime

struct ActCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "act",
        abstract: "Perform an action on an active step.",
        usage: "crisis act [<id>] <step> <action> [--set <name=value> ...] [<options>]",
        discussion: """
            'crisis status ID' lists the active steps, the actions each accepts and their fields.
            ID is the incident: its full id, or any part that begins or ends exactly one id (bd63 for \
            service-outage-20261130-bd63). With two words, 'crisis act STEP ACTION', the latest open incident is \
            meant ('crisis status' shows which); two words whose first names an incident and no step of it are \
            refused as a usage error (the action is missing), and nothing is recorded.
            Time fields take RFC 3339 or a time relative to the incident's clock: now, -15m, now+2h (recorded as \
            the absolute time it was). confirm_delivery's key may be the delivery's last part (the number after \
            its last '/'); so is retry's delivery (a notify step: send a failed delivery again as a new one,             'crisis act ID brief_managers retry --set delivery=12'; the retry is recorded as a retry of the failed             delivery and settled like any other, with 'crisis sent ID KEY' when sent by hand).
            Examples (Playbooks/employee-post-viral.yaml, people from Examples/contacts.yaml):
              crisis act ID capture_evidence done --as sara.ali
              crisis act ID holding_statement approve --as aleksander.dahl --role legal
              crisis act ID incident close --set outcome=resolved --set reason="post removed" --as grete.holm
            With a contacts directory, --role may be left out: the role you hold that the action needs is used.
            A refused action exits 1 with the reason and is recorded as a refusal; nothing else changes.
            With --expect-seq N the action is applied only if the incident is still at N (else exit 4).
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var op: OperatorOptions
    @OptionGroup var keys: KeyOptions
    @OptionGroup var display: DisplayOptions
    @Argument(help: ArgumentHelp(
        "[ID] STEP ACTION: the incident (default: the latest open one), the step (as listed by status; "
            + "'incident' for incident-wide actions) and the action.", valueName: "words"),
        completion: Complete.act)
    var words: [String] = []
    @Option(name: .customLong("set"), help: ArgumentHelp("A field value (repeatable).", valueName: "name=value"))
    var sets: [String] = []
    @Option(help: "A note recorded with the action.") var note: String?
    @Option(name: .customLong("expect-seq"), help: "Apply only if the incident's last record is still N.")
    var expectSeq: Int?
    @Option(name: .customLong("idempotency-key"), help: "Retrying with the same key never records twice.")
    var idempotencyKey: String?
    @Option(help: ArgumentHelp(
        "A statement draft: start from the approved text of the same step in a related incident (ID, or ID:STEP), "
            + "recorded with that text's hash; --set changes single facts.", valueName: "id[:step]"))
    var reuse: String?
    @Flag(help: "Print the resulting status as JSON.") var json = false

    func validate() throws {
        _ = try parseAssignments(sets)
        guard (2...3).contains(words.count) else {
            throw ValidationError(words.count < 2
                ? "give the step and the action: crisis act [ID] STEP ACTION"
                : "too many words: crisis act [ID] STEP ACTION (quote a value with spaces, or pass it with --set)")
        }
    }

    func run() async throws {
        let fields = try parseAssignments(sets)
        do {
            let service = try store.service(keys: keys)
            let target = try actTarget(words, service: service)
            var given = fields
            var reused: IncidentService.ReusedStatement?
            if let reuse {
                let here = try service.load(target.incident)
                guard target.action == "draft", case .statement? = here.state.run(target.step)?.detail else {
                    throw RuntimeError.invalid("--reuse starts a statement's draft: '\(target.step) \(target.action)' is not one")
                }
                let parts = reuse.split(separator: ":", maxSplits: 1).map(String.init)
                let other = try service.resolveIncident(parts.first ?? reuse)
                let found = try service.approvedStatement(for: target.incident, in: other, step: parts.count > 1 ? parts[1] : target.step)
                // The reused facts, then any the operator changes with --set.
                // A fact the operator gives per language (`what_we_know.nb`) replaces a reused value for every
                // language (`what_we_know`), and a value given once replaces the reused per-language ones.
                let changed = Set(fields.map(\.0))
                let base: (String) -> String = { String($0.prefix { $0 != "." }) }
                let changedPerLanguage = Set(changed.filter { $0.contains(".") }.map(base))
                let kept = found.facts.filter { k, _ in
                    !changed.contains(k) && !(k.contains(".") ? changed.contains(base(k)) : changedPerLanguage.contains(k))
                }
                given = kept.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } + fields
                reused = found
            }
            var request = IncidentService.ActRequest(
                incident: target.incident, step: target.step, action: target.action, fields: given,
                actor: op.actor, note: note, expectSeq: expectSeq, idempotencyKey: idempotencyKey,
                wallNow: .wallClock())
            request.reuse = reused
            let result = try service.act(request)
            try report(result, service: service, store: store, keys: keys, json: json)
        } catch {
            throw fail(error, json: json)
        }
    }
}

/// What `act [ID] STEP ACTION` means: three words name the incident first; two are a step and an action of
/// the latest open incident. Two words whose first names an incident (by id or short reference) and is no step
/// of that latest incident are a usage error: the action was left out.
func actTarget(_ words: [String], service: IncidentService) throws -> (incident: String, step: String, action: String) {
    if words.count == 3 { return (try service.resolveIncident(words[0]), words[1], words[2]) }
    guard words.count == 2 else { throw ValidationError("give the step and the action: crisis act [ID] STEP ACTION") }
    let named = try service.incidentCandidates(words[0])
    guard !named.isEmpty else { return (try service.latestOpenIncident(), words[0], words[1]) }
    let latest = try? service.latestOpenIncident()
    if let latest, let incident = try? service.load(latest),
        words[0] == Engine.incidentStep || incident.state.run(words[0]) != nil
            || incident.definition.playbook.step(words[0]) != nil
    {
        return (latest, words[0], words[1])
    }
    throw ValidationError(
        "'\(words[0])' names an incident, so the action is missing: crisis act \(words[0]) \(words[1]) ACTION "
            + "(or, for the latest open incident, crisis act STEP ACTION)")
}

struct NoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "note",
        abstract: "Add a free-text entry to the incident's timeline (the scribe's command).",
        usage: "crisis note [<id>] <text> [<options>]",
        discussion: """
            With one word, the text goes to the latest open incident; with two, the first is the incident (its id, \
            or any part that begins or ends exactly one id). A single word that is an incident's full id is \
            refused (the text is missing).
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var op: OperatorOptions
    @OptionGroup var display: DisplayOptions
    @Argument(help: ArgumentHelp(
        "[ID] TEXT: the incident (default: the latest open one), and the text (quote it), or - to read it from "
            + "standard input.", valueName: "words"),
        completion: Complete.note)
    var words: [String] = []
    var text: String { words.last ?? "" }
    @Option(name: .customLong("expect-seq"), help: "Record only if the incident's last record is still N.")
    var expectSeq: Int?
    @Option(name: .customLong("idempotency-key"), help: "Retrying with the same key never records twice.")
    var idempotencyKey: String?

    func validate() throws {
        guard (1...2).contains(words.count) else {
            throw ValidationError(words.isEmpty ? "give the text: crisis note [ID] TEXT"
                                  : "too many words: crisis note [ID] TEXT (quote the text)")
        }
        guard !text.isEmpty else { throw ValidationError("the note is empty") }
    }

    func run() async throws {
        var body = text
        if text == "-" {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard let s = String(validating: [UInt8](data), as: UTF8.self) else {
                throw ValidationError("standard input is not valid UTF-8; nothing was recorded")
            }
            body = s
            while body.hasSuffix("\n") { body.removeLast() }
        }
        guard !body.isEmpty else { throw ValidationError("the note is empty") }
        do {
            let service = try store.service()
            let id: String
            if words.count == 2 {
                id = try service.resolveIncident(words[0])
            } else {
                if try service.store.incident(id: words[0]) != nil {
                    throw ValidationError("'\(words[0])' is an incident; give the text: crisis note \(words[0]) TEXT")
                }
                id = try service.latestOpenIncident()
            }
            let result = try service.note(incident: id, text: body, actor: op.actor, expectSeq: expectSeq,
                                          idempotencyKey: idempotencyKey, wallNow: .wallClock())
            let seq = result.records.last?.seq ?? 0
            Out.print(result.records.last?.replayedFromKey == true ? "already recorded as record \(seq)" : "noted as record \(seq)")
        } catch {
            throw fail(error)
        }
    }
}

struct TickCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tick",
        abstract: "Fire due timers; drills may move their simulated clock first.",
        discussion: """
            Live incidents run on the wall clock: tick fires what is due now ('crisis watch' does this \
            continuously). Drills run on a simulated clock that only tick moves: --advance 15m, or --next to \
            jump to the next armed timer. Timers due on the way fire in due order, each at its own due time.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var op: OperatorOptions
    @OptionGroup var keys: KeyOptions
    @OptionGroup var display: DisplayOptions
    @Argument(help: "Incident id or a short part of it (default: the latest open incident).",
              completion: Complete.incidents("tick"))
    var id: String?
    @Option(help: ArgumentHelp("Drills: move the clock forward by this much (\"15m\", \"2h\").", valueName: "duration"))
    var advance: String?
    @Flag(help: "Drills: move the clock to the next armed timer.") var next = false
    @Flag(help: "Print the resulting status as JSON.") var json = false

    func validate() throws {
        if advance != nil && next { throw ValidationError("give --advance or --next, not both") }
        if let advance, PlaybookDuration(parsing: advance) == nil {
            throw ValidationError("--advance needs a positive duration with a unit, such as 90s, 15m, 2h, 1d")
        }
    }

    func run() async throws {
        var how = IncidentService.Advance.none
        if let d = advance.flatMap({ PlaybookDuration(parsing: $0) }) {
            how = .by(d)
        } else if next {
            how = .toNextTimer
        }
        do {
            let service = try store.service(keys: keys)
            let incidentID = try service.resolveIncident(id)
            let result = try service.tick(incident: incidentID, advance: how, actor: op.actor, wallNow: .wallClock())
            try report(result, service: service, store: store, keys: keys, json: json)
        } catch {
            throw fail(error, json: json)
        }
    }
}

/// Prints what an `act` or `tick` did (or the resulting status as JSON), and checkpoints an incident it closed.
func report(_ result: CommitResult, service: IncidentService, store: StoreOptions, keys: KeyOptions, json: Bool) throws {
    if json {
        printClosingCheckpoint(result, print: false)
        try Out.json(StatusReport(try service.load(result.incident.header.id), wallNow: .wallClock()))
    } else {
        Out.print(EffectsText.render(result, color: Style.colour))
        printClosingCheckpoint(result, print: true)
    }
}
