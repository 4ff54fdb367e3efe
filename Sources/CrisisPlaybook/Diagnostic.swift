import CrisisCore
import Foundation

/// One problem found in a playbook or a contacts directory, at a place in a file.
///
/// Printed as `path:line:column: error|warning: message [code]`, like a compiler, so editors can jump to it.
public struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    /// How bad it is. Errors make a playbook invalid; warnings do not.
    public enum Severity: String, Sendable, Hashable, Codable {
        case error, warning
    }

    public var severity: Severity
    /// Stable machine-readable code (`missing-transition-target`, `unknown-key`, ...). See `DiagnosticCode`.
    public var code: String
    public var message: String
    public var location: SourceLocation

    public init(_ severity: Severity, _ code: String, _ message: String, at location: SourceLocation) {
        self.severity = severity
        self.code = code
        self.message = message
        self.location = location
    }

    /// An error.
    public static func error(_ code: String, _ message: String, at location: SourceLocation) -> Diagnostic {
        Diagnostic(.error, code, message, at: location)
    }

    /// A warning.
    public static func warning(_ code: String, _ message: String, at location: SourceLocation) -> Diagnostic {
        Diagnostic(.warning, code, message, at: location)
    }

    public var isError: Bool { severity == .error }

    /// `path:line:column: error: message [code]`
    public var description: String {
        "\(location.file):\(location.line):\(location.column): \(severity.rawValue): \(message) [\(code)]"
    }

    /// Sorts diagnostics by file, line, column, then severity (errors first), code and message, and drops exact
    /// duplicates, so output is stable.
    public static func sorted(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        var seen = Set<Diagnostic>()
        let unique = diagnostics.filter { seen.insert($0).inserted }
        return unique.sorted { a, b in
            if a.location.file != b.location.file { return a.location.file < b.location.file }
            if a.location.line != b.location.line { return a.location.line < b.location.line }
            if a.location.column != b.location.column { return a.location.column < b.location.column }
            if a.severity != b.severity { return a.severity == .error }
            if a.code != b.code { return a.code < b.code }
            return a.message < b.message
        }
    }
}

extension Array where Element == Diagnostic {
    /// Whether any diagnostic is an error.
    public var hasErrors: Bool { contains { $0.isError } }
    public var errorCount: Int { filter(\.isError).count }
    public var warningCount: Int { filter { !$0.isError }.count }
}

/// The diagnostic codes this module emits. Codes are part of the command-line contract (`--format json`).
public enum DiagnosticCode {
    // Reading the file.
    public static let unreadableFile = "unreadable-file"
    public static let fileTooLarge = "file-too-large"
    public static let invalidUTF8 = "invalid-utf8"
    // YAML subset.
    public static let yamlSyntax = "yaml-syntax"
    public static let duplicateKey = "duplicate-key"
    public static let yamlAlias = "yaml-alias"
    public static let yamlTag = "yaml-tag"
    public static let tooDeep = "too-deep"
    public static let yamlTruthy = "yaml-truthy"
    // Shape.
    public static let unknownKey = "unknown-key"
    public static let wrongType = "wrong-type"
    public static let missingKey = "missing-key"
    public static let badDuration = "bad-duration"
    public static let badIdentifier = "bad-identifier"
    public static let badValue = "bad-value"
    public static let badDefault = "bad-default"
    public static let badURL = "bad-url"
    public static let badTimezone = "bad-timezone"
    public static let unknownSchema = "unknown-schema"
    public static let conflictingKeys = "conflicting-keys"
    public static let badBody = "bad-body"
    // Graph.
    public static let missingStart = "missing-start"
    public static let unknownStart = "unknown-start"
    public static let missingTransitionTarget = "missing-transition-target"
    public static let unreachableStep = "unreachable-step"
    public static let noPathToEnd = "no-path-to-end"
    public static let duplicateStepID = "duplicate-step-id"
    public static let branchOutboundTarget = "branch-outbound-target"
    public static let unboundedCycle = "unbounded-cycle"
    public static let endWithNext = "end-with-next"
    // Semantics.
    public static let waitWithoutTimeout = "wait-without-timeout"
    public static let unroutedOutcome = "unrouted-outcome"
    public static let unknownOutcome = "unknown-outcome"
    public static let duplicateRoute = "duplicate-route"
    public static let choiceWithoutDefault = "choice-without-default"
    public static let unknownOption = "unknown-option"
    public static let unknownRole = "unknown-role"
    public static let unknownInput = "unknown-input"
    public static let wrongInputType = "wrong-input-type"
    public static let unknownClock = "unknown-clock"
    public static let unknownTargetStep = "unknown-target-step"
    public static let unknownTargetOutcome = "unknown-target-outcome"
    public static let timeoutExceedsDeadline = "timeout-exceeds-deadline"
    public static let stepWithoutTitle = "step-without-title"
    public static let implausibleQuorum = "implausible-quorum"
    public static let badPrefill = "bad-prefill"
    // Templates.
    public static let unknownTemplateVariable = "unknown-template-variable"
    public static let missingTemplate = "missing-template"
    public static let templateSyntax = "template-syntax"
    public static let templateTooLong = "template-too-long"
    // Contacts.
    public static let unknownPolicy = "unknown-policy"
    public static let unknownContact = "unknown-contact"
    public static let unknownDeputy = "unknown-deputy"
    public static let roleWithoutHolder = "role-without-holder"
}

/// Prints diagnostics as `path:line:column: error|warning: message [code]`, in colour only when the output is a
/// terminal and `NO_COLOR` is not set.
public struct DiagnosticPrinter: Sendable {
    public var useColor: Bool

    public init(useColor: Bool) { self.useColor = useColor }

    /// A printer for a file descriptor (1 = stdout, 2 = stderr) that colours only on a terminal and never with
    /// `NO_COLOR` set (https://no-color.org: any non-empty value).
    public static func forDescriptor(
        _ fd: Int32, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> DiagnosticPrinter {
        let noColor = !(environment["NO_COLOR"] ?? "").isEmpty
        return DiagnosticPrinter(useColor: !noColor && isatty(fd) == 1)
    }

    /// One line per diagnostic, in sorted order, each ending with a newline.
    public func render(_ diagnostics: [Diagnostic]) -> String {
        Diagnostic.sorted(diagnostics).map { render($0) + "\n" }.joined()
    }

    /// One diagnostic, without a trailing newline.
    public func render(_ d: Diagnostic) -> String {
        guard useColor else { return d.description }
        let bold = "\u{1B}[1m"
        let reset = "\u{1B}[0m"
        let colour = d.severity == .error ? "\u{1B}[1;31m" : "\u{1B}[1;35m"
        let l = d.location
        return "\(bold)\(l.file):\(l.line):\(l.column):\(reset) \(colour)\(d.severity.rawValue):\(reset) "
            + "\(bold)\(d.message)\(reset) [\(d.code)]"
    }
}
