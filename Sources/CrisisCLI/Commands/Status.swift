import ArgumentParser
import CrisisCore
import CrisisRuntime

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show an incident: active steps and the actions each accepts, deadlines, clocks, approvals.",
        discussion: "Without ID, shows the most recently active open incident. --json is the scripting contract.")

    @OptionGroup var store: StoreOptions
    @Argument(help: "Incident id.") var id: String?
    @Flag(help: "Machine-readable output.") var json = false

    func run() async throws {
        do {
            let service = try store.service(reading: true)
            let incident = try service.load(try resolveIncident(id, service: service))
            let report = StatusReport(incident, wallNow: .wallClock())
            if json { try Out.json(report) } else { Out.print(StatusText.render(report, color: Colour.enabled)) }
        } catch {
            throw fail(error)
        }
    }
}

/// The incident an ID-less command means: the open incident with the latest activity.
func resolveIncident(_ id: String?, service: IncidentService) throws -> String {
    try id ?? service.latestOpenIncident()
}
