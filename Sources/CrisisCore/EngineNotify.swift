/// `notify`: tell an audience on named channels; `sent` when every delivery went out, `failed` when one failed.
extension NotifySpec: StepKindSpec {
    public static var stepType: StepType { .notify }
    public var ownOutcomes: [String] { [Outcome.sent, Outcome.failed] }
    public var canTimeOut: Bool { true }
    public var isWaiting: Bool { true }
}

extension Machine {
    mutating func enterNotify(_ spec: NotifySpec, run: StepRun) {
        let instance = run.instance
        if spec.channels.isEmpty {
            exit(instance, outcome: Outcome.sent)
            return
        }
        let text = substitute(spec.message, scope: run.scope)
        var n = NotifyRun()
        for channel in spec.channels {
            n.deliveries[channel] = deliver(
                instance: instance, purpose: .notify, channel: channel, recipients: [spec.audience], text: text)
        }
        setProgress(instance, .notify(spec, n))
    }

    mutating func notifyDeliveryFinished(_ n: NotifyRun, instance: String) {
        let statuses = n.deliveries.values.map { key in
            state.deliveries.first { $0.delivery.key == key }?.status ?? .pending
        }
        guard statuses.allSatisfy(\.isFinal) else { return }
        exit(instance, outcome: statuses.contains(.failed) ? Outcome.failed : Outcome.sent)
    }
}
