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

/// Drills: every delivery is written to the sandbox (its intent record), never to the world.
public struct SandboxTransport: DeliveryTransport {
    public init() {}
    public func send(_ delivery: Delivery) -> TransportResult {
        TransportResult(.sandboxed, "drill: written to the sandbox, not sent")
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
