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

    /// Error or warning.
    public var severity: Severity
    /// Stable machine-readable code (`missing-transition-target`, `unknown-key`, ...).
    public var code: DiagnosticCode
    /// What is wrong and, where possible, how to fix it.
    public var message: String
    /// Where: the file as given on the command line, 1-based line and column (columns count characters).
    public var location: SourceLocation

    /// A diagnostic of the given severity.
    public init(_ severity: Severity, _ code: DiagnosticCode, _ message: String, at location: SourceLocation) {
        self.severity = severity
        self.code = code
        self.message = message
        self.location = location
    }

    /// An error.
    public static func error(_ code: DiagnosticCode, _ message: String, at location: SourceLocation) -> Diagnostic {
        Diagnostic(.error, code, message, at: location)
    }

    /// A warning.
    public static func warning(_ code: DiagnosticCode, _ message: String, at location: SourceLocation) -> Diagnostic {
        Diagnostic(.warning, code, message, at: location)
    }

    /// Whether this is an error (the file is invalid).
    public var isError: Bool { severity == .error }

    /// `path:line:column: error: message [code]`
    public var description: String {
        "\(location.file):\(location.line):\(location.column): \(severity.rawValue): \(message) [\(code.rawValue)]"
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
            if a.code != b.code { return a.code.rawValue < b.code.rawValue }
            return a.message < b.message
        }
    }
}

extension Array where Element == Diagnostic {
    /// Whether any diagnostic is an error.
    public var hasErrors: Bool { contains { $0.isError } }
    /// How many are errors.
    public var errorCount: Int { filter(\.isError).count }
    /// How many are warnings.
    public var warningCount: Int { filter { !$0.isError }.count }
}

/// The diagnostic codes this module emits. The raw values are part of the command-line contract
/// (`--format json`) and never change once released.
public enum DiagnosticCode: String, Sendable, Hashable, Codable, CaseIterable {
    // Reading the file.
    /// The file does not exist, is a directory, or cannot be read.
    case unreadableFile = "unreadable-file"
    /// The file is larger than 1 MiB (checked before parsing).
    case fileTooLarge = "file-too-large"
    /// The file is not valid UTF-8; points at the first bad byte.
    case invalidUTF8 = "invalid-utf8"
    // YAML subset.
    /// The YAML does not parse (position from libyaml), or holds more than one document.
    case yamlSyntax = "yaml-syntax"
    /// A key appears twice in the same mapping; points at the repetition.
    case duplicateKey = "duplicate-key"
    /// An anchor (`&a`) or alias (`*a`); refused before anything is expanded.
    case yamlAlias = "yaml-alias"
    /// A tag (`!!python/object`, `!custom`) or a `%TAG` directive.
    case yamlTag = "yaml-tag"
    /// Mappings and lists nested deeper than 64 levels.
    case tooDeep = "too-deep"
    /// A mapping of more than 10,000 keys.
    case tooWide = "too-wide"
    /// Warning: an unquoted yes/no/on/off that other YAML tools would read as a boolean.
    case yamlTruthy = "yaml-truthy"
    // Shape.
    /// A key the format does not know, with a "did you mean" hint.
    case unknownKey = "unknown-key"
    /// A mapping where a string is expected, a string where a list is, a non-decimal integer, ...
    case wrongType = "wrong-type"
    /// A required key is absent; points at the mapping.
    case missingKey = "missing-key"
    /// A duration that is not a string with units (`"90s"`, `"1h30m"`), or is out of range.
    case badDuration = "bad-duration"
    /// An id that is not `[a-z][a-z0-9_]*` (at most 64 bytes).
    case badIdentifier = "bad-identifier"
    /// A value outside its allowed set (step type, basis, op, join, language, ...).
    case badValue = "bad-value"
    /// An input's default is not a valid value of its type (or of its enum values).
    case badDefault = "bad-default"
    /// A literal URL that is not http(s).
    case badURL = "bad-url"
    /// Not an IANA time zone name.
    case badTimezone = "bad-timezone"
    /// A `schema` other than the one this build reads.
    case unknownSchema = "unknown-schema"
    /// Keys that exclude each other (`policy` and `levels`, `event` and `for`, ...).
    case conflictingKeys = "conflicting-keys"
    /// A foreach body of a type that cannot run per item.
    case badBody = "bad-body"
    // Graph.
    /// A playbook or branch without `start`.
    case missingStart = "missing-start"
    /// `start` names no step of its scope.
    case unknownStart = "unknown-start"
    /// A route to a step that does not exist; points at the target.
    case missingTransitionTarget = "missing-transition-target"
    /// A step no route leads to.
    case unreachableStep = "unreachable-step"
    /// A step from which no end step can be reached.
    case noPathToEnd = "no-path-to-end"
    /// A step id used twice (nested steps included).
    case duplicateStepID = "duplicate-step-id"
    /// A route across a parallel branch's boundary.
    case branchOutboundTarget = "branch-outbound-target"
    /// A loop none of whose steps has `max_visits`.
    case unboundedCycle = "unbounded-cycle"
    /// An end step with `next`.
    case endWithNext = "end-with-next"
    // Semantics.
    /// A waiting step without `timeout`, or whose timeout is not routed.
    case waitWithoutTimeout = "wait-without-timeout"
    /// An outcome a step can take that goes nowhere.
    case unroutedOutcome = "unrouted-outcome"
    /// A route or `failed_when` entry for an outcome the step cannot take.
    case unknownOutcome = "unknown-outcome"
    /// An outcome routed both by an option's `next` and by the step's `next`.
    case duplicateRoute = "duplicate-route"
    /// A choice without `default`.
    case choiceWithoutDefault = "choice-without-default"
    /// A choice default that is not one of its options.
    case unknownOption = "unknown-option"
    /// A role that is not declared under `roles`.
    case unknownRole = "unknown-role"
    /// An input that is not declared under `inputs`.
    case unknownInput = "unknown-input"
    /// An input of the wrong type for where it is used (foreach items must be `urls`, ...).
    case wrongInputType = "wrong-input-type"
    /// A clock step naming an undeclared clock.
    case unknownClock = "unknown-clock"
    /// A target naming a step that does not exist.
    case unknownTargetStep = "unknown-target-step"
    /// A target waiting for an outcome its step cannot take (or a state it never reaches).
    case unknownTargetOutcome = "unknown-target-outcome"
    /// A clock or target counting from a step, field or outcome that does not exist, or from a field that is not
    /// a time.
    case unknownAnchor = "unknown-anchor"
    /// Warning: a timeout longer than what bounds it (the run deadline, the step's timeout).
    case timeoutExceedsDeadline = "timeout-exceeds-deadline"
    /// Warning: a step without `title`.
    case stepWithoutTitle = "step-without-title"
    /// Warning: a quorum larger than the people (or roles) who could approve.
    case implausibleQuorum = "implausible-quorum"
    /// An approval rule nobody in the contacts directory can satisfy (a quorum larger than the approvers left
    /// once the drafter stands aside, an `all_of` or `final` role nobody else holds).
    case unsatisfiableApproval = "unsatisfiable-approval"
    /// A takedown `prefill` key that is not a notice element of its basis, or a value of the wrong type for it
    /// (a URL element given text, an `abuse_type` outside its list, a statement given `false`), or an
    /// `authorisation: {record: STEP}` naming no step.
    case badPrefill = "bad-prefill"
    /// Warning: a takedown's platform that the platform catalog does not know (no route is shown).
    case unknownPlatform = "unknown-platform"
    /// Warning: a takedown's basis the platform does not take reports under (by the platform catalog).
    case basisNotAccepted = "basis-not-accepted"
    // Templates.
    /// A template or message variable that is neither a declared fact, an input nor an incident field.
    case unknownTemplateVariable = "unknown-template-variable"
    /// A statement template file missing for one of the playbook's languages.
    case missingTemplate = "missing-template"
    /// A template tag or section that is not closed.
    case templateSyntax = "template-syntax"
    /// Warning: a template filled with sample facts exceeds a channel's limit (SMS: needs more than one message).
    case templateTooLong = "template-too-long"
    /// A statement's channel that is neither known to crisis nor declared under the playbook's `channels:` (a
    /// typo such as `twiter`); a warning for a declared channel whose name is close to a known one.
    case unknownChannel = "unknown-channel"
    /// A `must_include` / `must_not_include` item that is empty, or a regular expression (`/…/`) that does not
    /// compile.
    case badPattern = "bad-pattern"
    /// A limit or content check no text can meet: `max_length: 0`, `max_segments: 0`, a required phrase longer
    /// than the limit or outside the required SMS encoding, a phrase both required and forbidden.
    case impossibleCheck = "impossible-check"
    // Contacts.
    /// An escalation policy that is not in the contacts directory.
    case unknownPolicy = "unknown-policy"
    /// A person who is not in the contacts directory.
    case unknownContact = "unknown-contact"
    /// A deputy who is not in the contacts directory (or is the person themself).
    case unknownDeputy = "unknown-deputy"
    /// Warning: a role nobody in the contacts directory holds.
    case roleWithoutHolder = "role-without-holder"
    /// A `notify` step's `list` that is not a distribution list of the contacts directory.
    case unknownList = "unknown-list"
    /// Warning: a member of a notify step's list has no address on one of the step's channels.
    case noAddress = "no-address"
}
