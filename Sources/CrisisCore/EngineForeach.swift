/// `foreach`: one instance of the body per item of a `urls` input (`each[1]`, `each[2]`, ...); `failed` when
/// more items than tolerated end with a failed outcome, else `done`.
extension ForeachSpec: StepKindSpec {
    public static var stepType: StepType { .foreach }
    public var ownOutcomes: [String] { [Outcome.done, Outcome.failed] }
    public var canTimeOut: Bool { true }
    public var isWaiting: Bool { false }
}

extension Machine {
    func initialForeach(_ spec: ForeachSpec) -> ForeachRun {
        ForeachRun(items: ValueType.splitList(definition.inputs[spec.items.value] ?? ""))
    }

    mutating func enterForeach(_ spec: ForeachSpec, _ f: ForeachRun, instance: String) {
        guard !f.items.isEmpty else {
            exit(instance, outcome: Outcome.done)
            return
        }
        for (offset, item) in f.items.enumerated() {
            queue.append(
                PendingEntry(
                    stepID: spec.body.id, instance: "\(instance)[\(offset + 1)]",
                    scope: .item(foreach: instance, index: offset + 1, value: item)))
        }
    }

    mutating func itemFinished(foreach: String, index: Int, outcome: String) {
        guard let run = state.run(foreach), case .foreach(let spec, var f) = run.progress, f.outcomes[index] == nil
        else { return }
        f.outcomes[index] = outcome
        setProgress(foreach, .foreach(spec, f))
        guard f.outcomes.count >= f.items.count else { return }
        let failures = f.items.indices.filter { spec.failedOutcomes.contains(f.outcomes[$0 + 1] ?? "") }.count
        exit(foreach, outcome: failures > spec.tolerateFailures ? Outcome.failed : Outcome.done)
    }
}
