import ArgumentParser
import CrisisCore
import CrisisRuntime

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show an incident: active steps and the actions each accepts, deadlines, clocks, approvals.",
        discussion: """
            Without ID, shows the most recently active open incident. ID may be any part of the id that begins \
            or ends exactly one incident's id (bd63). --json is the scripting contract; with --json a refusal is \
            also printed as {"error": {"code", "message", "exit", "hint"}} on standard output.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var display: DisplayOptions
    @Argument(help: "Incident id or a short part of it (default: the latest open incident).",
              completion: Complete.incidents("status"))
    var id: String?
    @Flag(help: "Machine-readable output.") var json = false

    func run() async throws {
        do {
            let service = try store.service(reading: true)
            let incident = try service.load(try service.resolveIncident(id))
            var report = StatusReport(incident, wallNow: .wallClock())
            let related = try service.relatedIncidents(incident.header.id)
            if !related.isEmpty { report.related = related }
            let busy = try service.assignedElsewhere(incident.header.id)
            if !busy.isEmpty { report.assigned_elsewhere = busy.map { .init(person: $0.person, incidents: $0.incidents) } }
            if json { try Out.json(report) } else { Out.print(StatusText.render(report, color: Style.colour)) }
        } catch {
            throw fail(error, json: json)
        }
    }
}
