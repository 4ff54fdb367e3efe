import CrisisCore
import Foundation

/// Deliveries left to a running `crisis watch`: a command that makes a live delivery records it `queued` and
/// returns; the watcher claims it (`sending`), sends it on its own thread, and records the result.
///
/// The three marks keep "never sent twice" without a lock held across a send:
/// - an intent with no result (`pending`) is in doubt, as before: the process that made it may have sent it;
/// - `queued` has not been tried by anyone: whoever claims it first sends it (the claim is a record at the
///   expected sequence number, so two claimants cannot both win);
/// - `sending` is claimed: in doubt once its sender has ended without a result.
public struct DeliveryHandoff: Sendable, Hashable {
    /// The watcher as people read it: `crisis watch (pid 4711)`.
    public var watcher: String
    public init(watcher: String) { self.watcher = watcher }
}

/// Who sends a claimed delivery: a program, its process id and host, recorded in the claim (`sending`) so that
/// `status` can tell a send in progress from one in doubt.
public struct DeliverySender: Sendable, Hashable, CustomStringConvertible {
    public var program: String
    public var pid: Int32
    public var host: String

    public init(program: String, pid: Int32, host: String) {
        self.program = program
        self.pid = pid
        self.host = host
    }

    /// This process.
    public static func thisProcess(_ program: String) -> DeliverySender {
        DeliverySender(program: program, pid: getpid(), host: ProcessInfo.processInfo.hostName)
    }

    /// `crisis watch (pid 4711 on ops-1)`: the form the claim's detail records, which `parse` reads back.
    public var description: String { "\(program) (pid \(pid) on \(host))" }

    /// The sender named in a claim's detail, if it names one.
    public static func parse(_ detail: String) -> DeliverySender? {
        guard let open = detail.range(of: " (pid ", options: .backwards), detail.hasSuffix(")") else { return nil }
        let inner = detail[open.upperBound..<detail.index(before: detail.endIndex)]
        guard let on = inner.range(of: " on "), let pid = Int32(inner[..<on.lowerBound]) else { return nil }
        let head = detail[..<open.lowerBound]
        let program = head.range(of: "claimed by ").map { String(head[$0.upperBound...]) } ?? String(head)
        return DeliverySender(program: program, pid: pid, host: String(inner[on.upperBound...]))
    }

    /// Whether this sender is still running: only knowable on its own host; elsewhere assumed running.
    public var isRunning: Bool {
        guard host == ProcessInfo.processInfo.hostName else { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}

/// The mark a running `crisis watch` leaves on a database: a shared `fcntl` lock on `DATABASE-watch`, which the
/// kernel drops when the process ends (a `kill -9` included), so a dead watcher is never taken for a live one.
/// Several watchers may hold it at once. Commands only look (`F_GETLK`), never lock, so two commands cannot
/// mistake each other for a watcher.
public enum WatcherLock {
    /// The lock file of a database.
    public static func path(database: String) -> String { database + "-watch" }

    /// A held lock: keep it for as long as the watcher runs. The process must not open and close the lock file
    /// again meanwhile (closing any descriptor of a file drops the process's `fcntl` locks on it).
    public final class Held: Sendable {
        let fd: Int32
        init(fd: Int32) { self.fd = fd }
        deinit { close(fd) }
    }

    /// Takes the watcher's shared lock (waiting, at most briefly, for a command that is looking). Nil when the
    /// lock file cannot be created (a read-only folder: then commands send their own deliveries).
    public static func hold(database: String) -> Held? {
        let fd = open(path(database: database), O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return nil }
        var lock = flock()
        lock.l_type = Int16(F_RDLCK)
        lock.l_whence = Int16(SEEK_SET)
        guard fcntl(fd, F_SETLKW, &lock) == 0 else {
            close(fd)
            return nil
        }
        return Held(fd: fd)
    }

    /// The process id of a watcher holding the lock, or nil when none does.
    public static func holder(database: String) -> Int32? {
        let fd = open(path(database: database), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        guard fcntl(fd, F_GETLK, &lock) == 0, lock.l_type != Int16(F_UNLCK) else { return nil }
        return lock.l_pid
    }
}

extension DeliveryTransport {
    /// Whether this transport sends `delivery` itself (false: it hands it to a person, so there is nothing to
    /// queue for a watcher).
    public func sendsItself(_ delivery: Delivery) -> Bool { !(self is ManualTransport) }
}

extension OutboxTransport {
    /// A channel with no transport is hand delivery.
    public func sendsItself(_ delivery: Delivery) -> Bool { config.route(for: delivery.channel) != nil }
}
