import Dispatch
import Foundation
import Synchronization

/// Set by SIGINT or SIGTERM while a long-running command (`watch`, `run`) listens for them.
private let stopFlag = Atomic<Bool>(false)

/// Ctrl-C and SIGTERM as a request to stop between transactions: the signal is not allowed to kill the
/// process mid-write; the command checks `requested` at its next safe point and leaves cleanly. `wake` is
/// signalled too, so a command sleeping on it wakes at once.
final class StopSignals {
    let wake = DispatchSemaphore(value: 0)
    private var sources: [any DispatchSourceSignal] = []

    /// Starts listening for SIGINT and SIGTERM (they no longer end the process on their own).
    init() {
        let wake = self.wake
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                stopFlag.store(true, ordering: .sequentiallyConsistent)
                wake.signal()
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Whether someone asked the process to stop.
    static var requested: Bool { stopFlag.load(ordering: .sequentiallyConsistent) }
}
