import CrisisAudit
import CrisisCore
import CrisisRuntime
import Foundation

/// `export --format csv`: one row per record for a spreadsheet. UTF-8 (a byte order mark only with `--bom`),
/// RFC 4180 (CRLF line ends; a cell with a comma, quote, CR or LF is quoted and its quotes doubled), and no formula
/// injection: a cell that begins with `=`, `+`, `-`, `@`, tab, CR or LF gets a leading `'` (OWASP, "CSV
/// Injection"), so a spreadsheet shows it as text and never evaluates it. Records are streamed.
enum CSVExport {
    /// The header row.
    static let columns = [
        "seq", "time_utc", "local_time", "recorded_utc", "actor", "role", "type", "step", "action", "summary", "note",
        "fields", "hash", "prev_hash",
    ]

    /// One cell as written: neutralised against formulas, then quoted when it must be.
    static func cell(_ value: String) -> String {
        var out: [UInt8] = []
        appendCell(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `value` as one cell (see `cell`). On bytes: every character the rules look at is ASCII, and the
    /// String-by-scalar version cost more than reading the record.
    static func appendCell(_ value: String, to out: inout [UInt8]) {
        var value = value
        value.withUTF8 { bytes in
            let formula: Bool = bytes.first.map { (b: UInt8) -> Bool in formulaStarts.contains(b) } ?? false
            let quote: Bool = bytes.contains { (b: UInt8) -> Bool in b == 0x2C || b == 0x22 || b == 0x0D || b == 0x0A }
            if quote { out.append(0x22) }
            if formula { out.append(UInt8(ascii: "'")) }
            if quote {
                for b in bytes {
                    if b == 0x22 { out.append(0x22) }
                    out.append(b)
                }
                out.append(0x22)
            } else {
                out.append(contentsOf: bytes)
            }
        }
    }

    /// The first bytes that make a cell a formula: `=`, `+`, `-`, `@`, tab, CR, LF.
    static let formulaStarts: [UInt8] = [0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D, 0x0A]

    /// A row's bytes, CRLF-terminated.
    static func row(_ cells: [String]) -> [UInt8] {
        var out: [UInt8] = []
        for (i, c) in cells.enumerated() {
            if i > 0 { out.append(0x2C) }
            appendCell(c, to: &out)
        }
        out.append(0x0D)
        out.append(0x0A)
        return out
    }

    /// `{"a":"b"}` with keys sorted; controls, bidi and other invisible format characters as `\uXXXX` escapes,
    /// so the cell shows what a JSON reader gets back and nothing reorders or hides it.
    static func compactJSON(_ fields: [String: String]) -> String {
        func quoted(_ s: String) -> String {
            var out = "\""
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                default:
                    if TerminalText.isUnsafe(scalar) {
                        let hex = String(scalar.value, radix: 16)
                        out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            return out + "\""
        }
        let members = fields.sorted { $0.key < $1.key }.map { quoted($0.key) + ":" + quoted($0.value) }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// The row of one record, its times formatted by `clock` (the incident's zone, cached across records).
    static func row(_ stored: StoredEvent, clock: ZoneClock, keyPrefix: String) -> [UInt8] {
        let record = try? TrailRecord.decode(stored)
        let at = record?.now ?? stored.recordedAt
        var step = "", action = "", note = "", fields = ""
        switch record {
        case .opened(let r)?: fields = compactJSON(r.inputs)
        case .action(let r)?:
            (step, action, note) = (r.step, r.action, r.note ?? "")
            fields = compactJSON(r.fields)
        case .rejected(let r)?:
            (step, action) = (r.step, r.action)
            fields = compactJSON(r.fields)
        case .timer(let r)?: (step, action) = (r.step ?? "", r.purpose ?? "")
        case .intent(let r)?: action = r.delivery.purpose.rawValue
        case .outcome(let r)?: (action, note) = (r.result.rawValue, r.note ?? "")
        case .note(let r)?: note = r.text
        default: break
        }
        let summary = record.map { FastText.replacing(TimelineText.summary($0), keyPrefix, with: "") }
            ?? "\(stored.type.rawValue): unreadable body"
        return row([
            String(stored.seq), clock.utcMilliseconds(at), clock.rfc3339(at),
            clock.utcMilliseconds(stored.recordedAt), stored.actor.id,
            record?.actor?.role ?? stored.actor.role ?? "", stored.type.rawValue, step, action, summary, note, fields,
            stored.entryHashHex, stored.prevHashHex,
        ])
    }

    /// Writes the header and every record of `id` to `write`; returns the number of records.
    static func export(service: IncidentService, id: String, bom: Bool, write: ([UInt8]) throws -> Void) throws -> Int {
        let clock = ZoneClock(ZoneFormat(identifier: try service.load(id).definition.playbook.timeZone))
        try write((bom ? [0xEF, 0xBB, 0xBF] : []) + row(columns))
        var count = 0
        let keyPrefix = id + "/"
        // Rows are laid out on worker threads (each batch with a clock of its own: ZoneClock is a cache) and
        // written here in order.
        let format = clock.format
        try service.store.forEachRecordAhead(incident: id, transform: {
            let clock = ZoneClock(format)
            return { stored in row(stored, clock: clock, keyPrefix: keyPrefix) }
        }) { bytes in
            try write(bytes)
            count += 1
        }
        return count
    }
}

extension ExportCommand {
    /// Streams what `produce` writes to standard output, or with `-o` to a partial file moved into place when
    /// complete (an existing file only with `--force`, never a folder). `produce` returns the line for stderr.
    func writeStream(_ produce: (([UInt8]) throws -> Void) throws -> String) throws {
        try writeSink { sink in try produce { bytes in try sink.write(bytes) } }
    }

    /// `writeStream` for text: each piece is appended as UTF-8, without an array of its own.
    func writeTextStream(_ produce: ((String) throws -> Void) throws -> String) throws {
        try writeSink { sink in try produce { text in try sink.write(text) } }
    }

    private func writeSink(_ produce: (StreamSink) throws -> String) throws {
        guard let output else {
            let sink = StreamSink { FileHandle.standardOutput.write(Data($0)) }
            let message = try produce(sink)
            try sink.flush()
            Out.error(message)
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
            let sink = StreamSink { try handle.write(contentsOf: Data($0)) }
            let message = try produce(sink)
            try sink.flush()
            try handle.close()
            if FileManager.default.fileExists(atPath: output) { try FileManager.default.removeItem(atPath: output) }
            try FileManager.default.moveItem(atPath: partial, toPath: output)
            Out.error("\(message); written to \(output)")
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }

    func exportCSV(service: IncidentService, id: String) throws {
        try writeStream { write in
            let n = try CSVExport.export(service: service, id: id, bom: bom, write: write)
            return "exported \(n) records as CSV"
        }
    }

    func exportLumen(service: IncidentService, id: String) throws {
        let result = LumenExporter.notices(try service.load(id))
        try writeStream { write in
            try write(try result.json())
            let n = result.notices.count
            var message = "\(n) notice\(n == 1 ? "" : "s")"
            if result.draftsLeftOut > 0 {
                message += ", \(result.draftsLeftOut) draft\(result.draftsLeftOut == 1 ? "" : "s") not submitted left out"
            }
            return message
        }
    }
}

/// The buffer of `writeStream`: pieces are gathered and written out 64 KiB at a time.
final class StreamSink {
    private var buffer: [UInt8] = []
    private let out: ([UInt8]) throws -> Void

    init(_ out: @escaping ([UInt8]) throws -> Void) {
        self.out = out
        buffer.reserveCapacity(1 << 17)
    }

    func write(_ bytes: [UInt8]) throws {
        buffer += bytes
        if buffer.count >= 1 << 16 { try flush() }
    }

    func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// Writes out what is gathered.
    func flush() throws {
        try out(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
