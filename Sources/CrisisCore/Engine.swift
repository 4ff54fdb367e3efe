/// The pure state machine: `(state, event, now) -> (state, [action])`.
///
/// No clock, no I/O, no randomness: time and outcomes enter as events. The shell (CrisisRuntime) records every
/// event in the audit trail, performs the `deliver` actions write-ahead, and fires timers from `state.timers`.
public enum Engine {
    /// Fields whose names start with `_` are reserved for the runtime (rendered statement texts `_text.<lang>`,
    /// their hash `_sha256`); operators cannot set them.
    public static let reservedFieldPrefix = "_"

    /// Opens an incident: enters the start step and runs until quiescent (automatic choices and clock steps
    /// complete at once), arms the run deadline, target and step timers.
    public static func start(_ definition: RunDefinition, at now: Instant) -> (IncidentState, [EngineAction]) {
        let state = IncidentState(definition: definition, startedAt: now)
        return (state, [])
    }

    /// Applies one event. A refused event leaves the state unchanged and returns why.
    public static func handle(_ event: EngineEvent, in state: IncidentState, at now: Instant)
        -> Result<(IncidentState, [EngineAction]), Rejection>
    {
        .failure(Rejection("unsupported", "engine not built yet"))
    }

    /// The actions the active step instance accepts now, with their fields and roles.
    public static func availableActions(for instance: String, in state: IncidentState) -> [ActionSpec] {
        []
    }
}
