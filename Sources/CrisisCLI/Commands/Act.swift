import ArgumentParser
import Foundation
import CrisisCore
import CrisisRuntime

struct ActCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "act",
        abstract: "Perform an action on an active step.",
        discussion: """
            'crisis status ID' lists the active steps, the actions each accepts and their fields.
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
    @Argument(help: "Incident id.") var id: String
    @Argument(help: "Step (as listed by status; 'incident' for incident-wide actions).") var step: String
    @Argument(help: "Action name.") var action: String
    @Option(name: .customLong("set"), help: ArgumentHelp("A field value (repeatable).", valueName: "name=value"))
    var sets: [String] = []
    @Option(help: "A note recorded with the action.") var note: String?
    @Option(name: .customLong("expect-seq"), help: "Apply only if the incident's last record is still N.")
    var expectSeq: Int?
    @Option(name: .customLong("idempotency-key"), help: "Retrying with the same key never records twice.")
    var idempotencyKey: String?
    @Flag(help: "Print the resulting status as JSON.") var json = false

    func validate() throws {
        _ = try parseAssignments(sets)
    }

    func run() async throws {
        let fields = try parseAssignments(sets)
        do {
            let service = try store.service(keys: keys)
            let result = try service.act(.init(
                incident: id, step: step, action: action, fields: fields, actor: op.actor, note: note,
                expectSeq: expectSeq, idempotencyKey: idempotencyKey, wallNow: .wallClock()))
            try report(result, service: service, store: store, keys: keys, json: json)
        } catch {
            throw fail(error)
        }
    }
}

struct NoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "note",
        abstract: "Add a free-text entry to the incident's timeline (the scribe's command).")

    @OptionGroup var store: StoreOptions
    @OptionGroup var op: OperatorOptions
    @Argument(help: "Incident id.") var id: String
    @Argument(help: "The text (quote it), or - to read it from standard input.") var text: String
    @Option(name: .customLong("expect-seq"), help: "Record only if the incident's last record is still N.")
    var expectSeq: Int?
    @Option(name: .customLong("idempotency-key"), help: "Retrying with the same key never records twice.")
    var idempotencyKey: String?

    func validate() throws {
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
    @Argument(help: "Incident id (default: the latest open incident).") var id: String?
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
            let incidentID = try resolveIncident(id, service: service)
            let result = try service.tick(incident: incidentID, advance: how, actor: op.actor, wallNow: .wallClock())
            try report(result, service: service, store: store, keys: keys, json: json)
        } catch {
            throw fail(error)
        }
    }
}

/// Prints what an `act` or `tick` did (or the resulting status as JSON), and checkpoints an incident it closed.
func report(_ result: CommitResult, service: IncidentService, store: StoreOptions, keys: KeyOptions, json: Bool) throws {
    if json {
        printClosingCheckpoint(result, print: false)
        try Out.json(StatusReport(try service.load(result.incident.header.id), wallNow: .wallClock()))
    } else {
        Out.print(EffectsText.render(result, color: Colour.enabled))
        printClosingCheckpoint(result, print: true)
    }
}
