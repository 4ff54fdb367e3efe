import ArgumentParser
import CrisisPlaybook
import Foundation

/// `crisis validate FILE... [--contacts FILE] [--format text|json]`
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check playbooks: YAML, shape, graph, templates, and (with --contacts) people and policies.",
        discussion: """
            Prints every problem as path:line:column: error|warning: message [code], then one summary line per \
            file. Exit status 0 when every file is valid (warnings allowed), 1 when any has an error.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @OptionGroup var display: DisplayOptions
    @Argument(help: "Playbook files.", completion: .file(extensions: ["yaml", "yml"])) var files: [String]
    @Option(help: "A contacts directory (contacts.yaml) to check people, roles and policies against.")
    var contacts: String?
    @Option(help: "Output format: text or json.") var format: Format = .text

    func validate() throws {
        if files.isEmpty { throw ValidationError("Give at least one playbook file.") }
    }

    func run() async throws {
        let reports = ValidationReport.check(files: files, contactsPath: contacts)
        let output: String
        switch format {
        case .text: output = ValidationText.text(reports, printer: DiagnosticPrinter(useColor: Style.colour))
        case .json: output = ValidationReport.json(reports)
        }
        FileHandle.standardOutput.write(Data(output.utf8))
        if reports.contains(where: { !$0.valid }) { throw ExitCode(ExitStatus.refused) }
    }
}
