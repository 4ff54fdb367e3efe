import ArgumentParser
import CrisisCore
import CrisisRuntime
import Foundation

struct StartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Open an incident from a playbook. Prints the new incident id on its last line.",
        discussion: """
            The playbook's exact bytes (and its templates and contacts file) are pinned in the audit trail:
            editing the files later never changes a running incident.

            Without a required input, start lists every missing one and creates nothing (with --json, also as \
            {"error": {"code": "invalid-inputs", "missing": [...]}} on standard output).
            Time inputs take RFC 3339 or a time relative to the start: now, -15m, now-1h30m (recorded as the \
            absolute time, with the playbook zone's offset).
            Example:
              crisis start Playbooks/executive-impersonation.yaml --drill --contacts Examples/contacts.yaml \\
                --clock 2025-10-24T10:00:00+02:00 --set detected_at=2025-10-24T10:00:00+02:00 \\
                --set impostor_urls=https://x.com/fake_ceo --set executive="Erik Solheim, CEO" --set platform=x
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var op: OperatorOptions
    @OptionGroup var display: DisplayOptions

    @Argument(help: ArgumentHelp("The playbook file.", valueName: "playbook"),
              completion: .file(extensions: ["yaml", "yml"]))
    var file: String
    @OptionGroup var options: StartOptions
    @Flag(help: "Print the incident as JSON (status --json) instead of text.") var json = false

    func run() async throws {
        let request = try options.request(playbook: file, actor: op.actor)
        do {
            let result = try store.creating { try store.service(create: true).start(request) }
            if json {
                try Out.json(StatusReport(result.incident, wallNow: .wallClock()))
            } else {
                let report = StatusReport(result.incident, wallNow: .wallClock())
                Out.print(StatusText.render(report, color: Style.colour))
            }
            Out.print(result.incident.header.id)
        } catch {
            throw fail(error, json: json)
        }
    }
}

/// What opens an incident from a playbook: `crisis start` and `crisis run PLAYBOOK` take the same options.
struct StartOptions: ParsableArguments {
    @Option(name: .customLong("set"), help: ArgumentHelp("An input value (repeatable).", valueName: "name=value"))
    var sets: [String] = []
    @Flag(help: "Run as a drill: simulated clock, every outbound channel sandboxed, marked DRILL for ever.")
    var drill = false
    @Option(help: "A title for this incident (default: the playbook's).") var title: String?
    @Option(help: ArgumentHelp(
        "Contacts directory (people, roles, escalation policies); default: $CRISIS_CONTACTS when set.",
        valueName: "file"))
    var contacts: String?
    @Option(help: ArgumentHelp("Drills: the simulated start time (RFC 3339), default now.", valueName: "time"))
    var clock: String?
    @Option(help: ArgumentHelp(
        "An incident this one is related to (a recurrence, a reactivation); the link is recorded both ways. Repeatable.",
        valueName: "id"))
    var related: [String] = []

    /// Whether none of these options was given (`crisis run ID` on an existing incident takes none).
    var isEmpty: Bool { sets.isEmpty && !drill && title == nil && contacts == nil && clock == nil && related.isEmpty }

    func validate() throws {
        _ = try parseAssignments(sets)
        if let clock {
            guard drill else { throw ValidationError("--clock is for drills (add --drill)") }
            guard ISO8601.parse(clock) != nil else {
                throw ValidationError("--clock must be an RFC 3339 time such as 2025-10-24T10:00:00+02:00")
            }
        }
    }

    /// The service request that starts an incident from `playbook` with these options.
    func request(playbook: String, actor: Actor) throws -> IncidentService.StartRequest {
        let installed = ProcessInfo.processInfo.environment["CRISIS_CONTACTS"].flatMap { $0.isEmpty ? nil : $0 }
        var request = try IncidentService.StartRequest(
            playbookPath: playbook, contactsPath: contacts ?? installed, inputs: parseAssignments(sets),
            mode: drill ? .drill : .live, title: title, actor: actor, wallNow: .wallClock(),
            simulatedStart: clock.flatMap(ISO8601.parse))
        request.related = related
        return request
    }
}
