import CrisisRuntime
import Foundation

extension ExportCommand {
    /// `export --format md|html`: builds the report once and streams it, to standard output or to `-o PATH` with
    /// the rules of the jsonl export (an existing file is refused unless `--force`, a folder always; the text is
    /// written to `PATH.partial-PID` and moved into place only when complete).
    func exportReport(service: IncidentService, id: String, html: Bool) throws {
        // An unknown incident is refused before the output path is looked at (the report is built while it is
        // written).
        if try service.store.incident(id: id) == nil { _ = try IncidentReport.build(service: service, incident: id) }
        try writeTextStream { write in
            let report = html ? try HTMLReport.write(service: service, incident: id, to: write)
                : try MarkdownReport.write(service: service, incident: id, to: write)
            return "exported the \(html ? "HTML" : "Markdown") report of \(report.summary.records) records"
        }
    }
}

/// Text set aside in a temporary file while a report is written, and written out later: the timeline is built
/// in the same pass over the trail as the notes table that comes before it, so the trail is read once for both,
/// and memory stays flat however long the timeline is. (Where no temporary file can be made, it is kept in
/// memory.)
final class SideText {
    private let path: String
    private let handle: FileHandle?
    private var buffer: [UInt8] = []

    init() {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("crisis-report-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)").path
        if FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) {
            handle = FileHandle(forUpdatingAtPath: path)
        } else {
            handle = nil
        }
    }

    deinit {
        try? handle?.close()
        try? FileManager.default.removeItem(atPath: path)
    }

    func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if let handle, buffer.count >= 1 << 16 {
            try handle.write(contentsOf: buffer)
            buffer.removeAll(keepingCapacity: true)
        }
    }

    /// Writes everything set aside to `out`, in pieces that end at a newline (never inside a character), and
    /// empties it.
    func drain(_ out: (String) throws -> Void) throws {
        guard let handle else {
            try out(String(decoding: buffer, as: UTF8.self))
            buffer.removeAll()
            return
        }
        try handle.write(contentsOf: buffer)
        buffer.removeAll()
        try handle.seek(toOffset: 0)
        var carry: [UInt8] = []
        while let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty {
            carry.append(contentsOf: chunk)
            if let cut = carry.lastIndex(of: 0x0A) {
                try out(String(decoding: carry[...cut], as: UTF8.self))
                carry.removeSubrange(...cut)
            }
        }
        if !carry.isEmpty { try out(String(decoding: carry, as: UTF8.self)) }
        try handle.truncate(atOffset: 0)
    }
}
