import CrisisCore
import Foundation

/// Where outbound deliveries go. Drills never touch the world: this is the one place that decides, and every
/// drill delivery is sandboxed. Live deliveries have no transport yet (webhooks and e-mail come with the
/// outbox issue), so they are handed to an operator to send by hand and confirm.
public enum Outbox {
    public static func send(_ delivery: Delivery, mode: IncidentMode) -> (DeliveryResult, String) {
        switch mode {
        case .drill:
            return (.sandboxed, "drill: written to the sandbox, not sent")
        case .live:
            return (.manual, "no transport for channel '\(delivery.channel)': send it by hand, then confirm with "
                        + "'crisis act ID \(delivery.step) confirm_delivery --set key=\(delivery.key) --set result=sent'")
        }
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
