import CrisisCore
import CrisisPlaybook

/// Why a runtime operation did not happen. Each case maps to one documented exit status.
public enum RuntimeError: Error, CustomStringConvertible {
    /// The operator's action was refused (recorded as `input.rejected` when the incident exists). Exit 1.
    case refused(code: String, message: String, hint: RejectionHint? = nil)
    /// Invalid input that concerns no existing incident (bad playbook, unknown incident, bad `--set`). Exit 1.
    case invalid(String)
    /// `start` was given inputs the playbook does not take or values of the wrong type (`problems`), or lacks
    /// required inputs (`missing`). Nothing was created. Exit 1.
    case invalidInputs(problems: [String], missing: [MissingInput])
    /// The playbook or contacts file has errors. Exit 1.
    case diagnostics([Diagnostic])
    /// `--expect-seq` was stale. Exit 4.
    case conflict(expected: Int, head: Int, by: String)
    /// The trail could not be replayed: a record is malformed or the engine refuses it. Exit 3.
    case corruptRecord(String)

    public var description: String {
        switch self {
        case .refused(let code, let message, _): "refused: \(message) [\(code)]"
        case .invalid(let m): m
        case .invalidInputs(let problems, let missing):
            (problems + (missing.isEmpty ? [] : ["missing required inputs: " + missing.map(\.name).joined(separator: ", ")]))
                .joined(separator: "\n")
        case .diagnostics(let d): d.map(\.description).joined(separator: "\n")
        case .conflict(let expected, let head, let by):
            "conflict: incident advanced to \(head) by \(by) (you expected \(expected)); run 'crisis status' and retry"
        case .corruptRecord(let m): "audit trail cannot be replayed: \(m)"
        }
    }
}

/// A required input `start` was not given: its name, its type (`enum: a|b` for enums) and its prompt.
public struct MissingInput: Sendable, Hashable {
    public var name: String
    /// As people read it: the type, or `enum: a|b|c`.
    public var kind: String
    public var prompt: String
    /// The input's type (`ValueType` raw value) and, for an enum, its values: what a prompt checks against.
    public var type: String = ""
    public var values: [String] = []
}
