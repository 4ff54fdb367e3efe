/// `notify`: tell an audience on named channels.
///
/// A named audience (`audience:` only) gets one delivery per channel, addressed to the audience. A distribution
/// list of the contacts directory (`list:`) gets one delivery per member and channel, each carrying the member,
/// their address on that channel and their language as the directory gave them when the step was entered.
///
/// Outcomes, once every delivery that counts (each recipient's latest attempt on each channel) has ended, as
/// `on_failure` (`NotifyFailurePolicy`) says: `sent` when all went out; with `fail` (the default) `failed` when one
/// failed; with `wait` the step stays open until the failed ones are retried and go out (or it times out); with
/// `continue` `sent` when at least one went out. While the step is active, `retry` sends a failed delivery again
/// as a new delivery (new key, `retryOf` the failed one); what went out is never sent again.
extension NotifySpec: StepKindSpec {
    public static var stepType: StepType { .notify }
    public var ownOutcomes: [String] { onFailure == .wait ? [Outcome.sent] : [Outcome.sent, Outcome.failed] }
    public var canTimeOut: Bool { true }
    public var isWaiting: Bool { true }
}

extension Machine {
    mutating func enterNotify(_ spec: NotifySpec, run: StepRun) {
        let instance = run.instance
        let text = substitute(spec.message, scope: run.scope)
        var n = NotifyRun()
        if let listID = spec.list?.value {
            guard let list = definition.contacts?.list(listID) else {
                actions.append(.remind(
                    step: instance,
                    message: definition.contacts == nil
                        ? "step '\(instance)' sends to list '\(listID)', but the incident has no contacts directory; it was sent to the audience '\(spec.audience)' instead"
                        : "list '\(listID)' is not in the incident's contacts directory; step '\(instance)' was sent to the audience '\(spec.audience)' instead"))
                enterNotifyAudience(spec, n, text: text, instance: instance)
                return
            }
            n.list = list.id
            n.listName = list.name
            n.members = list.members
            if list.members.isEmpty || spec.channels.isEmpty {
                setProgress(instance, .notify(spec, n))
                exit(instance, outcome: Outcome.sent)
                return
            }
            let fallbackLanguage = playbook.languages.first
            for member in list.members {
                let person = definition.contacts?.person(member)
                for channel in spec.channels {
                    n.keys.append(deliver(Delivery(
                        key: "", step: instance, purpose: .notify, channel: channel, recipients: [member], text: text,
                        address: person?.address(on: channel), language: person?.language ?? fallbackLanguage)))
                }
            }
            setProgress(instance, .notify(spec, n))
            return
        }
        enterNotifyAudience(spec, n, text: text, instance: instance)
    }

    /// One delivery per channel to the audience as written (no list, or a list the incident cannot resolve).
    mutating func enterNotifyAudience(_ spec: NotifySpec, _ run: NotifyRun, text: String, instance: String) {
        if spec.channels.isEmpty {
            exit(instance, outcome: Outcome.sent)
            return
        }
        var n = run
        for channel in spec.channels {
            let key = deliver(
                instance: instance, purpose: .notify, channel: channel, recipients: [spec.audience], text: text)
            n.deliveries[channel] = key
            n.keys.append(key)
        }
        setProgress(instance, .notify(spec, n))
    }

    mutating func notifyDeliveryFinished(_ spec: NotifySpec, _ n: NotifyRun, instance: String) {
        let current = n.current(in: state)
        guard current.allSatisfy(\.status.isFinal) else { return }
        let failed = current.filter { $0.status == .failed }
        if failed.isEmpty {
            exit(instance, outcome: Outcome.sent)
            return
        }
        switch spec.onFailure {
        case .fail:
            exit(instance, outcome: Outcome.failed)
        case .wait:
            let names = failed.map { Self.deliveryName($0.delivery) }.joined(separator: ", ")
            actions.append(.remind(
                step: instance,
                message: "\(failed.count) of \(current.count) deliver\(current.count == 1 ? "y" : "ies") of '\(instance)' failed (\(names)); the step waits for a retry"))
        case .continue:
            exit(instance, outcome: failed.count < current.count ? Outcome.sent : Outcome.failed)
        }
    }

    /// `retry` is offered while a delivery that counts has failed.
    func notifySpecs(_ spec: NotifySpec, _ n: NotifyRun, owners: [String]) -> [ActionSpec] {
        let failed = n.current(in: state).filter { $0.status == .failed }.map(\.delivery.key)
        guard !failed.isEmpty else { return [] }
        return [
            ActionSpec(
                .retry, title: "Send a failed delivery again",
                fields: [
                    FieldSpec(name: "delivery", type: .enum, required: true, values: failed,
                              prompt: "The failed delivery (its key, or the last part of it)"),
                ], roles: owners)
        ]
    }

    /// The failed delivery a `retry` names: its key, or the last segments of it (`7`, `notify/7`) when they name
    /// exactly one of the step's failed deliveries that count. Nil when nothing matches.
    func failedNotifyDelivery(_ given: String, _ n: NotifyRun) -> String? {
        let failed = n.current(in: state).filter { $0.status == .failed }.map(\.delivery.key)
        if failed.contains(given) { return given }
        let matches = failed.filter { $0.hasSuffix("/" + given) }
        return matches.count == 1 ? matches[0] : nil
    }

    /// A new delivery with the failed one's channel, recipient, address, language and text, and a new key.
    mutating func notifyRetry(_ spec: NotifySpec, _ n: NotifyRun, instance: String, key: String) {
        guard let failed = state.deliveries.first(where: { $0.delivery.key == key })?.delivery else { return }
        var n = n
        var again = failed
        again.retryOf = key
        n.keys = n.allKeys
        n.keys.append(deliver(again))
        setProgress(instance, .notify(spec, n))
    }

    /// `kari.nordmann on email`: a delivery for people.
    static func deliveryName(_ d: Delivery) -> String {
        "\(d.recipients.joined(separator: ", ")) on \(d.channel)"
    }
}
