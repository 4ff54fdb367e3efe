import ArgumentParser

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "validate", abstract: "Check playbooks.")
    @Argument(help: "Playbook files.") var files: [String]
    func run() async throws {}
}
