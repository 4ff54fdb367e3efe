/// The types of audit records: the `type` member of every record and its `event_type` column.
///
/// The raw values are part of the evidence format (docs/audit-format.md, "Record bodies"): a case is never renamed
/// or removed. A new case needs a new migration that widens the `event_type` CHECK list (a test compares every
/// migration's list with `allCases`).
public enum RecordType: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    /// `incident.opened`: seq 1, the playbook, inputs and the engine's first effects.
    case opened = "incident.opened"
    /// `operator.action`: an operator acted on a step.
    case action = "operator.action"
    /// `timer.fired`: a timer elapsed.
    case timer = "timer.fired"
    /// `clock.advanced`: a drill's simulated clock moved.
    case clockAdvanced = "clock.advanced"
    /// `action.intent`: a delivery about to be attempted (written before it is).
    case intent = "action.intent"
    /// `action.outcome`: how a delivery ended.
    case outcome = "action.outcome"
    /// `operator.note`: free text; changes no state.
    case note = "operator.note"
    /// `input.rejected`: an operator input the engine refused.
    case rejected = "input.rejected"
    /// `checkpoint.issued`: a signed checkpoint of records 1..N (written by `issueCheckpoint`).
    case checkpoint = "checkpoint.issued"

    /// The raw value, as written in records.
    public var description: String { rawValue }

    /// The type named by `text` as read from storage; an unknown name is an integrity error (the trail was written
    /// by a newer version, or edited), never a crash.
    static func decode(_ text: String, seq: Int) throws -> RecordType {
        guard let type = RecordType(rawValue: text) else {
            throw AuditError.integrity("seq \(seq): unknown record type '\(text)'")
        }
        return type
    }
}
