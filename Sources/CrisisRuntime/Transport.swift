import CrisisCore
import Foundation

/// How one delivery attempt ended, as a transport reports it.
public struct TransportResult: Sendable, Hashable {
    public var result: DeliveryResult
    /// What happened, for the trail and for people (a provider's message id, an error, "send it by hand").
    public var detail: String
    /// Every attempt a real transport made, in order (empty for the sandbox and hand delivery).
    public var attempts: [DeliveryAttempt]
    public init(_ result: DeliveryResult, _ detail: String, attempts: [DeliveryAttempt] = []) {
        self.result = result
        self.detail = detail
        self.attempts = attempts
    }
}

/// One try at sending a delivery to one recipient, as recorded in `action.outcome`'s `attempts`: when, how long it
/// took, what came back (an HTTP status, an SMTP reply code, a program's exit status) or what went wrong, and how
/// long the outbox waited before the next. Never a secret, a URL or a body.
public struct DeliveryAttempt: Sendable, Hashable {
    /// 1 for the first attempt at this recipient.
    public var number: Int
    /// The recipient's person id (nil for a webhook, which posts once for everyone).
    public var to: String?
    /// Wall-clock instant the attempt began.
    public var at: Instant
    public var latencyMs: Int64
    /// HTTP status, SMTP reply code, or exit status; nil when nothing answered.
    public var status: Int?
    /// A short answer (an SMTP reply, the first line of an error body, a program's output).
    public var reply: String?
    public var error: String?
    /// How long the outbox waited after this attempt before the next (nil after the last).
    public var backoffMs: Int64?

    public init(number: Int = 1, to: String? = nil, at: Instant, latencyMs: Int64, status: Int? = nil,
                reply: String? = nil, error: String? = nil, backoffMs: Int64? = nil) {
        self.number = number
        self.to = to
        self.at = at
        self.latencyMs = latencyMs
        self.status = status
        self.reply = reply
        self.error = error
        self.backoffMs = backoffMs
    }
}

/// What a transport may need besides the delivery: the incident and its directory (for the recipients'
/// addresses on the channel).
public struct DeliveryContext: Sendable {
    public var incident: String
    public var contacts: ContactsDirectory?
    public init(incident: String, contacts: ContactsDirectory?) {
        self.incident = incident
        self.contacts = contacts
    }
}

/// Something that sends deliveries of live incidents to the world (a webhook, an SMS gateway, e-mail), or hands
/// them to a person. Drills never reach a transport: the effect runner sends every drill delivery to the
/// `SandboxTransport`, whatever transport it was given.
public protocol DeliveryTransport: Sendable {
    func send(_ delivery: Delivery) -> TransportResult
    /// Sends with the incident's context (the effect runner calls this one). Default: `send(_:)`.
    func send(_ delivery: Delivery, context: DeliveryContext) -> TransportResult
    /// Whether the transport sends `delivery` itself (false: it hands it to a person, so a watcher has nothing
    /// to send). Default: true, except for `ManualTransport`.
    func sendsItself(_ delivery: Delivery) -> Bool
}

extension DeliveryTransport {
    public func send(_ delivery: Delivery, context: DeliveryContext) -> TransportResult { send(delivery) }
}

/// Drills: every delivery is written to the sandbox (its intent record), never to the world. A drill scenario may
/// script channel outages: a delivery on that channel inside the window comes back `failed` (still from the
/// sandbox: nothing is sent either way).
public struct SandboxTransport: DeliveryTransport {
    /// A channel the sandbox fails between two instants of the drill's clock.
    public struct Outage: Sendable, Hashable {
        public var channel: String
        public var from: Instant
        public var until: Instant
        public var detail: String
        public init(channel: String, from: Instant, until: Instant, detail: String) {
            self.channel = channel
            self.from = from
            self.until = until
            self.detail = detail
        }
    }

    public var outages: [Outage]
    public init(outages: [Outage] = []) { self.outages = outages }

    public func send(_ delivery: Delivery) -> TransportResult {
        TransportResult(.sandboxed, "drill: written to the sandbox, not sent")
    }

    /// The sandbox's answer at `now` on the drill's clock: failed inside a scripted outage of the channel.
    public func send(_ delivery: Delivery, at now: Instant) -> TransportResult {
        if let outage = outages.first(where: { $0.channel == delivery.channel && !(now < $0.from) && now < $0.until }) {
            return TransportResult(.failed, "drill: scripted outage: \(outage.detail)")
        }
        return send(delivery)
    }
}

/// Live incidents without a configured transport: the delivery is handed to a person, who sends it by hand and
/// confirms it (`confirm_delivery`).
public struct ManualTransport: DeliveryTransport {
    public init() {}
    public func send(_ delivery: Delivery) -> TransportResult {
        TransportResult(.manual, "no transport for channel '\(delivery.channel)': send it by hand, then confirm it")
    }
}

/// Test hooks that crash the process at named points, for the crash and in-doubt tests
/// (`CRISIS_FAULT=after-intent`). Unset in normal use.
public enum FaultInjection {
    public enum Point: String, Sendable {
        /// After the intents of a delivery were committed, before it was performed.
        case afterIntent = "after-intent"
    }

    public static func hit(_ point: Point) {
        guard ProcessInfo.processInfo.environment["CRISIS_FAULT"] == point.rawValue else { return }
        kill(getpid(), SIGKILL)
    }
}
