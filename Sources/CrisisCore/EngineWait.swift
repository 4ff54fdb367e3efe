/// `wait`: for an event an operator records (`received`, with the step's timeout), or a pure delay (`elapsed`).
extension WaitSpec: StepKindSpec {
    public static var stepType: StepType { .wait }
    public var ownOutcomes: [String] { event == nil ? [Outcome.elapsed] : [Outcome.received] }
    /// A pure delay has no timeout of its own: it is its duration.
    public var canTimeOut: Bool { event != nil }
    public var isWaiting: Bool { event != nil }
    /// A pure delay takes no operator action.
    public var operatorActions: [StepAction] { event == nil ? [] : Self.stepType.actions }
}

extension Machine {
    mutating func enterWait(_ spec: WaitSpec, instance: String) {
        guard spec.event == nil else { return }
        if let duration = spec.duration {
            arm(now + duration, step: instance, .delay)
        } else {
            exit(instance, outcome: Outcome.elapsed)
        }
    }

    func waitSpecs(_ spec: WaitSpec, owners: [String]) -> [ActionSpec] {
        guard let event = spec.event else { return [] }
        return [
            ActionSpec(
                .received, title: "Record that \(event) happened",
                fields: [FieldSpec(name: "details", type: .text, required: false, prompt: "What happened")],
                roles: owners)
        ]
    }
}
