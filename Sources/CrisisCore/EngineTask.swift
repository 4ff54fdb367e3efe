/// `task`: a manual checklist item, done or skipped by its owner.
extension TaskSpec: StepKindSpec {
    public static var stepType: StepType { .task }
    public var ownOutcomes: [String] { [Outcome.done, Outcome.skipped] }
    public var canTimeOut: Bool { true }
    public var isWaiting: Bool { true }
}

extension Machine {
    func taskSpecs(_ spec: TaskSpec, owners: [String]) -> [ActionSpec] {
        let own = spec.fields.map { FieldSpec(name: $0.name, type: $0.type, required: $0.required, prompt: $0.prompt) }
        return [
            ActionSpec(
                .done, title: "Mark the task done",
                fields: own + [FieldSpec(name: "note", type: .text, required: false, prompt: "What was done")],
                roles: owners),
            ActionSpec(
                .skip, title: "Skip the task",
                fields: [FieldSpec(name: "reason", type: .text, required: true, prompt: "Why it is skipped")],
                roles: owners),
        ]
    }

    /// `done` or `skip` (the only task actions `taskSpecs` offers).
    mutating func taskAct(_ action: StepAction, instance: String) {
        exit(instance, outcome: action == .skip ? Outcome.skipped : Outcome.done)
    }
}
