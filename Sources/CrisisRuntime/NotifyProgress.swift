import CrisisCore

/// Where a `notify` step stands, recipient by recipient: for a distribution list each member (with their
/// address, language and the result of each delivery to them), for a named audience each channel. Read by
/// `status` (the step's `delivered` line), `show` and the board, so "2 of 3 retail chains confirmed" is the same
/// everywhere. Only the deliveries that count are shown per recipient: a failed delivery that was retried is
/// replaced by its retry (`retry_of` says which, `attempts` how many there were).
public struct NotifyProgress: Codable, Sendable {
    /// One delivery that counts now.
    public struct Attempt: Codable, Sendable {
        public var key: String
        /// What `retry --set delivery=` and `crisis sent/failed` accept for it: its last segment.
        public var short_key: String
        public var channel: String
        /// The recipient's address on the channel as resolved when the step was entered (list members only).
        public var address: String?
        public var language: String?
        /// `pending` (in doubt), `manual`, `queued` (for crisis watch), `sending` (claimed by a sender), `sent`,
        /// `failed`, `sandboxed`.
        public var status: String
        /// What the transport or the person settling it said (why it failed).
        public var detail: String?
        /// The failed delivery this one retries.
        public var retry_of: String?
        /// How many deliveries were asked for for this recipient on this channel, retries included.
        public var attempts: Int
    }

    /// A list member, or (without a list) a channel of the audience.
    public struct Recipient: Codable, Sendable {
        /// The member's person id, or the audience as written.
        public var id: String
        /// The member's name in the directory, if known.
        public var name: String?
        /// `confirmed` (every delivery went out), `failed` (one failed), `sending` (queued for crisis watch or being
        /// sent), `waiting` (to send by hand, or in doubt).
        public var state: String
        public var deliveries: [Attempt]
    }

    public var audience: String
    /// The list id and name, for a notification to a distribution list.
    public var list: String?
    public var list_name: String?
    public var channels: [String]
    /// `fail`, `wait` or `continue`.
    public var on_failure: String
    /// Recipients (list members, or channels without a list) and how many of them are confirmed, failed, waiting.
    public var total: Int
    public var confirmed: Int
    public var failed: Int
    public var waiting: Int
    /// For people: `2 of 3 retail chains confirmed, 1 failed` (`1 of 2 channels confirmed` without a list).
    public var summary: String
    public var recipients: [Recipient]

    /// The progress of the notify instance `run`'s deliveries in `state`.
    public init(spec: NotifySpec, run n: NotifyRun, state: IncidentState) {
        let current = n.current(in: state)
        let all = Set(n.allKeys)
        let mine = state.deliveries.filter { all.contains($0.delivery.key) }
        func attempts(_ d: DeliveryRecord) -> Int {
            var count = 1
            var key = d.delivery.retryOf
            while let k = key {
                count += 1
                key = mine.first { $0.delivery.key == k }?.delivery.retryOf
            }
            return count
        }
        func attempt(_ d: DeliveryRecord) -> Attempt {
            Attempt(key: d.delivery.key, short_key: NotifyProgress.shortKey(d.delivery.key), channel: d.delivery.channel,
                    address: d.delivery.address, language: d.delivery.language, status: d.status.rawValue,
                    detail: d.detail, retry_of: d.delivery.retryOf, attempts: attempts(d))
        }
        func standing(_ ds: [DeliveryRecord]) -> String {
            if ds.contains(where: { $0.status == .failed }) { return "failed" }
            if ds.allSatisfy({ $0.status == .sent || $0.status == .sandboxed }) { return "confirmed" }
            if ds.contains(where: { $0.status == .queued || $0.status == .sending }) { return "sending" }
            return "waiting"
        }
        audience = spec.audience
        list = n.list
        list_name = n.listName
        channels = spec.channels
        on_failure = spec.onFailure.rawValue
        var rows: [Recipient] = []
        if n.list != nil {
            let contacts = state.definition.contacts
            for member in n.members {
                let ds = current.filter { $0.delivery.recipients == [member] }
                rows.append(Recipient(id: member, name: contacts?.person(member)?.name, state: standing(ds),
                                      deliveries: ds.map(attempt)))
            }
        } else {
            for d in current {
                rows.append(Recipient(id: d.delivery.channel, name: nil, state: standing([d]), deliveries: [attempt(d)]))
            }
        }
        recipients = rows
        total = rows.count
        confirmed = rows.filter { $0.state == "confirmed" }.count
        failed = rows.filter { $0.state == "failed" }.count
        waiting = rows.filter { $0.state == "waiting" }.count
        let sending = rows.filter { $0.state == "sending" }.count
        let noun = n.list != nil ? spec.audience : (total == 1 ? "channel" : "channels")
        var text = "\(confirmed) of \(total) \(noun) confirmed"
        if failed > 0 { text += ", \(failed) failed" }
        if sending > 0 { text += ", \(sending) being sent" }
        if waiting > 0 { text += ", \(waiting) waiting" }
        summary = text
    }

    /// The progress of an active or finished notify instance, nil for other steps.
    public static func of(_ instance: String, in state: IncidentState) -> NotifyProgress? {
        let detail = state.run(instance)?.detail ?? state.history.last { $0.instance == instance }?.detail
        let stepID = state.run(instance)?.stepID ?? state.history.last { $0.instance == instance }?.stepID
        guard case .notify(let n)? = detail, let stepID, let step = state.definition.playbook.step(stepID),
            case .notify(let spec) = step.kind
        else { return nil }
        return NotifyProgress(spec: spec, run: n, state: state)
    }

    /// The failed deliveries that count, for people: `ali.hassan on email (no such mailbox): retry 12` (without
    /// the retry once the step has finished).
    public func failures(retry: Bool = true) -> [String] {
        recipients.flatMap { r in
            r.deliveries.filter { $0.status == DeliveryStatus.failed.rawValue }.map { a in
                let who = list == nil ? audience : r.id
                return "\(who) on \(a.channel)" + (a.detail.map { " (\($0))" } ?? "")
                    + (retry ? ": retry \(a.short_key)" : "")
            }
        }
    }

    /// A delivery key's last segment (its serial number, unique in the incident).
    public static func shortKey(_ key: String) -> String {
        key.split(separator: "/").last.map(String.init) ?? key
    }
}
