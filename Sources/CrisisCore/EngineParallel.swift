/// `parallel`: branches at once, each from its own start to one of its own `end` steps (`done` or `failed`);
/// the join policy (`all`, `any`, a count) and the branch-failure policy decide the outcome.
///
/// Branch status:
///
///     running --end done--> done
///        | --end failed / no route--> failed
///        +--parallel finished or cancelled--> cancelled
extension ParallelSpec: StepKindSpec {
    public static var stepType: StepType { .parallel }
    public var ownOutcomes: [String] { [Outcome.done, Outcome.failed] }
    public var canTimeOut: Bool { true }
    public var isWaiting: Bool { true }
}

extension Machine {
    func initialParallel(_ spec: ParallelSpec) -> ParallelRun {
        var branches: [String: BranchStatus] = [:]
        for b in spec.branches { branches[b.id] = .running }
        return ParallelRun(branches: branches)
    }

    mutating func enterParallel(_ spec: ParallelSpec, instance: String) {
        if spec.branches.isEmpty {
            exit(instance, outcome: Outcome.done)
            return
        }
        for branch in spec.branches {
            queue.append(
                PendingEntry(
                    stepID: branch.start.value, instance: branch.start.value,
                    scope: .branch(parallel: instance, branch: branch.id)))
        }
    }

    /// Marks the still running branches of a parallel instance cancelled (it finished or was cancelled).
    mutating func cancelRunningBranches(of instance: String) {
        guard let run = state.run(instance), case .parallel(let spec, var p) = run.progress else { return }
        for (branch, status) in p.branches where status == .running { p.branches[branch] = .cancelled }
        setProgress(instance, .parallel(spec, p))
    }

    mutating func branchFinished(parallel: String, branch: String, failed: Bool) {
        guard let run = state.run(parallel), case .parallel(let spec, var p) = run.progress,
            p.branches[branch] == .running
        else { return }
        p.branches[branch] = failed ? .failed : .done
        setProgress(parallel, .parallel(spec, p))
        if failed, spec.onBranchFailure == .failFast {
            exit(parallel, outcome: Outcome.failed)
            return
        }
        let statuses = spec.branches.map { p.branches[$0.id] ?? .running }
        let done = statuses.filter { $0 == .done }.count
        let failures = statuses.filter { $0 == .failed }.count
        let running = statuses.filter { $0 == .running }.count
        switch spec.join {
        case .all:
            if running == 0 { exit(parallel, outcome: failures == 0 ? Outcome.done : Outcome.failed) }
        case .any, .count:
            var needed = 1
            if case .count(let n) = spec.join { needed = n }
            if done >= needed {
                exit(parallel, outcome: Outcome.done)
            } else if done + running < needed {
                exit(parallel, outcome: Outcome.failed)
            }
        }
    }
}
