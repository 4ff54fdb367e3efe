import CrisisCore
import CrisisPlaybook

/// Why a runtime operation did not happen. Each case maps to one documented exit status.
public enum RuntimeError: Error, CustomStringConvertible {
    /// The operator's action was refused (recorded as `input.rejected` when the incident exists). Exit 1.
    case refused(code: String, message: String, hint: RejectionHint? = nil)
    /// Invalid input that concerns no existing incident (bad playbook, unknown incident, bad `--set`). Exit 1.
    case invalid(String)
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
        case .diagnostics(let d): d.map(\.description).joined(separator: "\n")
        case .conflict(let expected, let head, let by):
            "conflict: incident advanced to \(head) by \(by) (you expected \(expected)); run 'crisis status' and retry"
        case .corruptRecord(let m): "audit trail cannot be replayed: \(m)"
        }
    }
}
