import ArgumentParser
import CrisisAudit
import CrisisCore
import CrisisRuntime
import Foundation

/// The formats `crisis export` writes.
enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
    case bundle, jsonl, csv, md, html, lumen
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export one incident: a verifiable bundle, JSON lines, CSV, a report (md, html) or Lumen notices.",
        discussion: """
            bundle: a folder with the records in their canonical bytes exactly as hashed, the stored hashes, the \
            pinned playbook, templates and contacts, the checkpoints, the verifier keys, a manifest of SHA-256 \
            sums and a README on checking it without crisis ('crisis verify FOLDER' or scripts/verify-bundle). \
            Default folder: ID.bundle; with -o NAME.tar, one POSIX tar file holding the folder NAME/ \
            ('crisis verify NAME.tar' checks it). jsonl: one decoded record per line, to standard output or -o. \
            csv: one row per record for a spreadsheet (RFC 4180, CRLF, formula cells neutralised with a leading '). \
            md, html: a report for people (summary, clocks and targets, statements with every version, approval \
            and publication, takedowns, escalations, notes, the timeline); html is one self-contained page with \
            an SVG timeline that prints to PDF. To standard output or -o. \
            lumen: the submitted takedown notices in the Lumen database's notice fields, as JSON. \
            Export only reads the database.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var display: DisplayOptions
    @Argument(help: "Incident id or a short part of it (default: the latest open incident).",
              completion: Complete.incidents("export"))
    var reference: String?
    @Option(help: "What to write.") var format: ExportFormat = .bundle
    @Option(name: [.customShort("o"), .long], help: ArgumentHelp(
        "Where to write (bundle default: ID.bundle; jsonl, md, html default: standard output).", valueName: "path"),
            completion: .file())
    var output: String?
    @Flag(help: "Replace an existing output (a previous bundle or a file).") var force = false
    @Flag(help: "csv: begin with a UTF-8 byte order mark (for spreadsheets that want one).") var bom = false
    @Option(help: ArgumentHelp(
        "Leave out of a bundle: 'contacts' replaces phone numbers and e-mail addresses with [redacted] (records "
            + "holding one become hash-only stubs; the contacts file a redacted copy). The bundle still verifies.",
        valueName: "what"))
    var redact: String?

    func validate() throws {
        if let redact {
            guard BundleRedaction(rawValue: redact) != nil else {
                throw ValidationError("--redact: unknown value '\(redact)' (known: "
                    + BundleRedaction.allCases.map(\.rawValue).joined(separator: ", ") + ")")
            }
            guard format == .bundle else { throw ValidationError("--redact applies to --format bundle only") }
        }
        if bom, format != .csv { throw ValidationError("--bom applies to --format csv only") }
    }

    func run() async throws {
        do {
            let service = try store.service(reading: true)
            let redaction = redact.flatMap(BundleRedaction.init(rawValue:))
            let id = try service.resolveIncident(reference)
            switch format {
            case .bundle:
                let path = output ?? "\(id).bundle"
                let s = path.hasSuffix(".tar")
                    ? try BundleExporter.exportTar(store: service.store, incident: id, to: path, force: force,
                                                   exportedBy: "crisis \(CrisisVersion.release)", mtime: .wallClock(),
                                                   redact: redaction)
                    : try BundleExporter.export(store: service.store, incident: id, to: path, force: force,
                                                exportedBy: "crisis \(CrisisVersion.release)", redact: redaction)
                Out.error("exported \(s.records) records, \(s.pinnedFiles) pinned files and \(s.checkpoints) "
                          + "checkpoint(s); chain head \(s.chainHead ?? "-")")
                if let redaction {
                    Out.error("redacted (\(redaction.rawValue)): \(s.redactedRecords) records as hash-only stubs"
                              + (s.redactedFiles.isEmpty ? "" : ", \(s.redactedFiles.joined(separator: ", "))"))
                }
                Out.print(s.path)
            case .jsonl:
                try exportJSONL(service: service, id: id)
            case .md, .html:
                try exportReport(service: service, id: id, html: format == .html)
            case .csv: try exportCSV(service: service, id: id)  // Commands/ExportForms.swift
            case .lumen: try exportLumen(service: service, id: id)
            }
        } catch {
            throw fail(error)
        }
    }

    func exportJSONL(service: IncidentService, id: String) throws {
        try writeStream { write in
            let n = try JSONLExporter.export(store: service.store, incident: id, write: write)
            return "exported \(n) records as JSON lines"
        }
    }
}
