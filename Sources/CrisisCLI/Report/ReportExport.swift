import CrisisRuntime
import Foundation

extension ExportCommand {
    /// `export --format md|html`: builds the report once and streams it, to standard output or to `-o PATH` with
    /// the rules of the jsonl export (an existing file is refused unless `--force`, a folder always; the text is
    /// written to `PATH.partial-PID` and moved into place only when complete).
    func exportReport(service: IncidentService, id: String, html: Bool) throws {
        let report = try IncidentReport.build(service: service, incident: id)
        func render(_ write: (String) throws -> Void) throws {
            if html { try HTMLReport.write(report, to: write) } else { try MarkdownReport.write(report, to: write) }
        }
        try writeStream { write in
            try render { text in try write(Array(text.utf8)) }
            return "exported the \(html ? "HTML" : "Markdown") report of \(report.summary.records) records"
        }
    }
}
