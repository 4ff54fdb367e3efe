import ArgumentParser
import CrisisPlaybook
import Foundation

/// `crisis graph FILE [--format mermaid|dot]`
struct GraphCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Draw a playbook as a Mermaid flowchart (default) or a Graphviz digraph.",
        discussion: """
            Timeout routes are dashed; parallel branches and foreach bodies are drawn as subgraphs. A playbook \
            that does not load is not drawn: its diagnostics go to standard error and the exit status is 1.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case mermaid, dot
    }

    @OptionGroup var display: DisplayOptions
    @Argument(help: "Playbook file.", completion: .file(extensions: ["yaml", "yml"])) var file: String
    @Option(help: "Output format: mermaid or dot.") var format: Format = .mermaid

    func run() async throws {
        let result = PlaybookLoader.load(path: file)
        guard let playbook = result.playbook else {
            let printer = DiagnosticPrinter.forDescriptor(STDERR_FILENO)
            FileHandle.standardError.write(Data(printer.render(result.diagnostics).utf8))
            throw ExitCode(ExitStatus.refused)
        }
        let graphFormat: PlaybookGraph.Format = format == .dot ? .dot : .mermaid
        FileHandle.standardOutput.write(Data(PlaybookGraph.render(playbook, format: graphFormat).utf8))
    }
}
