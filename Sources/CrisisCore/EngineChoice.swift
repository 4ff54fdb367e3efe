/// `choice`: an operator picks an option, or the inputs decide through guards (first match wins, else the
/// default). Outcomes: the option ids.
extension ChoiceSpec: StepKindSpec {
    public static var stepType: StepType { .choice }
    public var ownOutcomes: [String] { options.map(\.id) }
    public var canTimeOut: Bool { true }
    public var isWaiting: Bool { !isAutomatic }
    /// A choice decided by guards takes no operator action.
    public var operatorActions: [StepAction] { isAutomatic ? [] : Self.stepType.actions }
}

extension Machine {
    mutating func enterChoice(_ spec: ChoiceSpec, instance: String) {
        guard spec.isAutomatic else { return }
        exit(instance, outcome: automaticOption(spec))
    }

    /// First option whose guard matches the inputs, else the default (else the first option).
    func automaticOption(_ spec: ChoiceSpec) -> String {
        for option in spec.options {
            if let g = option.when, let value = definition.inputs[g.input.value], g.anyOf.contains(value) {
                return option.id
            }
        }
        return spec.defaultOption?.value ?? spec.options.first?.id ?? Outcome.done
    }

    func choiceSpecs(_ spec: ChoiceSpec, owners: [String]) -> [ActionSpec] {
        guard !spec.isAutomatic else { return [] }
        return [
            ActionSpec(
                .choose, title: "Choose an option",
                fields: [
                    FieldSpec(
                        name: "option", type: .enum, required: true, values: spec.options.map(\.id),
                        prompt: spec.options.map { "\($0.id): \($0.label)" }.joined(separator: "; "),
                        defaultValue: spec.defaultOption?.value)
                ], roles: owners)
        ]
    }
}
