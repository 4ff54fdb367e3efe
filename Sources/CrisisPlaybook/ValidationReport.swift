import CrisisCore
import Foundation

/// The result of `crisis validate` for one file.
public struct FileReport: Sendable, Hashable, Codable {
    /// A diagnostic as `--format json` prints it.
    public struct Entry: Sendable, Hashable, Codable {
        /// The file the diagnostic is in (a template file, for template problems).
        public var file: String
        /// 1-based line.
        public var line: Int
        /// 1-based column, in characters.
        public var column: Int
        /// `error` or `warning`.
        public var severity: String
        /// The diagnostic code (its raw value in JSON).
        public var code: DiagnosticCode
        /// The message.
        public var message: String

        /// The JSON shape of a diagnostic.
        public init(_ d: Diagnostic) {
            file = d.location.file
            line = d.location.line
            column = d.location.column
            severity = d.severity.rawValue
            code = d.code
            message = d.message
        }
    }

    /// The file as given on the command line.
    public var file: String
    /// No errors (warnings allowed).
    public var valid: Bool
    /// Steps in the playbook, nested ones included (nil for a contacts directory or an unreadable file).
    public var steps: Int?
    /// Every diagnostic, sorted.
    public var diagnostics: [Entry]

    /// A report; `diagnostics` are sorted.
    public init(file: String, valid: Bool, steps: Int?, diagnostics: [Diagnostic]) {
        self.file = file
        self.valid = valid
        self.steps = steps
        self.diagnostics = Diagnostic.sorted(diagnostics).map(Entry.init)
    }
}

/// Runs `crisis validate` over files; `json` is its machine-readable form (the text form is the CLI's).
public enum ValidationReport {
    /// Validates each playbook (with the contacts directory's rules when `contactsPath` is given). The contacts
    /// file, when given, gets its own report first.
    public static func check(files: [String], contactsPath: String? = nil) -> [FileReport] {
        var reports: [FileReport] = []
        var contacts: ContactsDirectory?
        if let contactsPath {
            let (directory, diagnostics) = ContactsLoader.load(path: contactsPath)
            contacts = directory
            reports.append(FileReport(file: contactsPath, valid: directory != nil, steps: nil, diagnostics: diagnostics))
        }
        for file in files {
            let result = PlaybookLoader.loadValidated(path: file, contacts: contacts)
            reports.append(FileReport(
                file: file, valid: !result.hasErrors, steps: result.partial?.allSteps.count,
                diagnostics: result.diagnostics))
        }
        return reports
    }

    /// `{"files":[{"file","valid","steps","diagnostics":[{"file","line","column","severity","code","message"}]}]}`
    public static func json(_ reports: [FileReport]) -> String {
        struct Output: Codable { var files: [FileReport] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(Output(files: reports)) else { return "{\"files\":[]}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
