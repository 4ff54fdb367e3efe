import ArgumentParser

struct GraphCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "graph", abstract: "Draw a playbook.")
    @Argument(help: "Playbook file.") var file: String
    func run() async throws {}
}
