import CrisisCore
import Foundation

/// How one delivery attempt ended, as a transport reports it.
public struct TransportResult: Sendable, Hashable {
    public var result: DeliveryResult
    /// What happened, for the trail and for people (a provider's message id, an error, "send it by hand").
    public var detail: String
    public init(_ result: DeliveryResult, _ detail: String) {
        self.result = result
        self.detail = detail
    }
}

/// Something that sends deliveries of live incidents to the world (a webhook, an SMS gateway, e-mail), or hands
/// them to a person. Drills never reach a transport: the effect runner sends every drill delivery to the
/// `SandboxTransport`, whatever transport it was given.
public protocol DeliveryTransport: Sendable {
    func send(_ delivery: Delivery) -> TransportResult
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
