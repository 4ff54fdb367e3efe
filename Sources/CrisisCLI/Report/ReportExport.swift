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
        guard let output else {
            var buffer: [UInt8] = []
            try render { text in
                buffer += Array(text.utf8)
                if buffer.count >= 1 << 16 {
                    FileHandle.standardOutput.write(Data(buffer))
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            FileHandle.standardOutput.write(Data(buffer))
            return
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isDir) {
            guard force, !isDir.boolValue else {
                throw RuntimeError.invalid(isDir.boolValue ? "\(output) is a folder" :
                                            "\(output) already exists; pass --force to replace it")
            }
        }
        let partial = output + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        guard FileManager.default.createFile(atPath: partial, contents: nil),
            let handle = FileHandle(forWritingAtPath: partial)
        else { throw RuntimeError.invalid("cannot write \(output): \(String(cString: strerror(errno)))") }
        do {
            var buffer: [UInt8] = []
            try render { text in
                buffer += Array(text.utf8)
                if buffer.count >= 1 << 16 {
                    try handle.write(contentsOf: Data(buffer))
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            try handle.write(contentsOf: Data(buffer))
            try handle.close()
            if FileManager.default.fileExists(atPath: output) { try FileManager.default.removeItem(atPath: output) }
            try FileManager.default.moveItem(atPath: partial, toPath: output)
            Out.error("exported the \(html ? "HTML" : "Markdown") report of \(report.summary.records) records to \(output)")
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }
}
