/// `end`: closes the incident with its outcome (top level) or finishes its parallel branch (`done`/`failed`).
extension EndSpec: StepKindSpec {
    public static var stepType: StepType { .end }
    /// An end step is never routed: its outcome closes the incident or its branch.
    public var ownOutcomes: [String] { [] }
    public var canTimeOut: Bool { false }
    public var isWaiting: Bool { false }
}
