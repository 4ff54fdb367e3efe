import CrisisAudit

/// The audit record types the runtime writes (the `type` column and the record's `type` member).
public enum RecordType {
    public static let opened = "incident.opened"
    public static let action = "operator.action"
    public static let timer = "timer.fired"
    public static let clockAdvanced = "clock.advanced"
    public static let intent = "action.intent"
    public static let outcome = "action.outcome"
    public static let note = "operator.note"
    public static let rejected = "input.rejected"
    public static let checkpoint = "checkpoint.issued"
}
