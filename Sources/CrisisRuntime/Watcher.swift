import CrisisAudit
import CrisisCore
import Dispatch
import Synchronization

/// What `crisis watch` does: fires the due timers of open incidents as their due instants come, and performs
/// what they cause (escalations page the next level, clocks warn, targets are missed), with nobody typing.
///
/// The watcher holds no state that matters: every pass reads the store, and everything it does goes through the
/// same pipeline as a command (`IncidentService.tick`), so
/// - two watchers on one database never fire a timer twice: the store's `BEGIN IMMEDIATE` at the expected
///   sequence number lets one of them write; the other reloads and finds the timer gone;
/// - a watcher restarted after a crash or a sleep catches up in due order, each timer handled at its due instant
///   and recorded with when it really fired;
/// - stopping it between passes (SIGTERM, Ctrl-C) loses nothing.
///
/// Live incidents are watched unless the watcher is given a list of incidents. Drills run on a simulated clock
/// and are only watched when named: the watcher then runs their clock at `speed` times the wall clock from the
/// moment it first sees them (a tabletop exercise paced in real time).
public struct Watcher: Sendable {
    /// One incident as the watcher last saw it.
    struct Seen: Sendable {
        var seq: Int
        var open: Bool
        var drill: Bool
        var nextDue: Instant?
        var now: Instant
        /// Drills: the simulated instant that corresponds to `wallAnchor`.
        var simAnchor: Instant
        var wallAnchor: Instant
        /// The last load problem reported, so it is said once per change, not once per pass.
        var problem: String?
        /// Live deliveries queued for a watcher, not yet claimed.
        var queued = false
    }

    /// What one pass did.
    public struct Pass: Sendable {
        /// Each incident the pass fired timers on, with what was recorded.
        public var fired: [(incident: String, result: CommitResult)] = []
        /// Incidents seen for the first time (or again after a change of state), with when their next timer is due.
        public var started: [(incident: String, drill: Bool, nextDue: Instant?)] = []
        /// Incidents whose trail could not be read or written, with why (said once per change).
        public var problems: [(incident: String, message: String)] = []
        /// When the next timer of a watched incident is due, on the wall clock; nil when none is armed.
        public var nextWake: Instant?
        /// How many open incidents are watched.
        public var watching: Int = 0
        /// How many deliveries are being sent (on their own threads) as the pass ends.
        public var sending: Int = 0
    }

    public let service: IncidentService
    /// Incidents named on the command line; empty: every open live incident.
    public let named: Set<String>
    /// How fast a named drill's simulated clock runs against the wall clock.
    public let speed: Double
    var seen: [String: Seen] = [:]
    /// Deliveries this watcher is sending, each on its own thread.
    let sends = InFlightSends()

    public init(service: IncidentService, named: [String] = [], speed: Double = 1) {
        self.service = service
        self.named = Set(named)
        self.speed = speed > 0 ? speed : 1
    }

    /// One pass over the database at `wallNow`: loads what changed, fires what is due.
    public mutating func pass(wallNow: Instant, shouldStop: () -> Bool = { false }) throws -> Pass {
        var pass = Pass()
        collectSends(into: &pass)
        let headers = try service.store.incidents()
        let known = Set(headers.map(\.id))
        for id in named where !known.contains(id) {
            if seen[id]?.problem == nil {
                pass.problems.append((id, "no incident \(id) in this database"))
                seen[id] = Seen(seq: -1, open: false, drill: false, nextDue: nil, now: wallNow, simAnchor: wallNow,
                                wallAnchor: wallNow, problem: "missing")
            }
        }
        for header in headers {
            if shouldStop() { break }
            if named.isEmpty ? header.mode != .live : !named.contains(header.id) { continue }
            if var s = seen[header.id], s.seq == header.lastSeq {
                guard s.open else { continue }
                if s.drill { reanchor(&s, wallNow: wallNow) }
                seen[header.id] = s
            } else {
                do {
                    let incident = try service.load(header.id)
                    let fresh = seen[header.id] == nil || seen[header.id]?.problem != nil
                    var s = Seen(
                        seq: incident.seq, open: incident.state.status.isOpen, drill: incident.isDrill,
                        nextDue: incident.state.nextTimer?.due, now: incident.now,
                        simAnchor: seen[header.id]?.simAnchor ?? incident.now,
                        wallAnchor: seen[header.id]?.wallAnchor ?? wallNow, problem: nil)
                    if fresh { s.simAnchor = incident.now; s.wallAnchor = wallNow }
                    if s.drill { reanchor(&s, wallNow: wallNow) }
                    s.queued = Self.hasQueued(incident)
                    if fresh && s.open { pass.started.append((header.id, s.drill, s.nextDue)) }
                    seen[header.id] = s
                } catch {
                    let message = "\(error)"
                    if seen[header.id]?.problem != message { pass.problems.append((header.id, message)) }
                    seen[header.id] = Seen(seq: header.lastSeq, open: false, drill: header.mode == .drill, nextDue: nil,
                                           now: wallNow, simAnchor: wallNow, wallAnchor: wallNow, problem: message)
                    continue
                }
            }
            if seen[header.id]?.queued == true { startSends(header.id, wallNow: wallNow, into: &pass) }
            guard let s = seen[header.id], s.open, let due = s.nextDue else { continue }
            let presentOfIncident = s.drill ? simulated(s, wallNow: wallNow) : wallNow
            guard due <= presentOfIncident else { continue }
            do {
                let advance: IncidentService.Advance
                if s.drill, presentOfIncident > s.now {
                    advance = .by(presentOfIncident - s.now)
                } else {
                    advance = .none
                }
                let result = try service.tick(incident: header.id, advance: advance, actor: .system, wallNow: wallNow)
                let incident = result.incident
                seen[header.id]?.seq = incident.seq
                seen[header.id]?.open = incident.state.status.isOpen
                seen[header.id]?.nextDue = incident.state.nextTimer?.due
                seen[header.id]?.now = incident.now
                seen[header.id]?.queued = Self.hasQueued(incident)
                if !result.records.isEmpty { pass.fired.append((header.id, result)) }
                if seen[header.id]?.queued == true { startSends(header.id, wallNow: wallNow, into: &pass) }
            } catch {
                let message = "\(error)"
                if seen[header.id]?.problem != message { pass.problems.append((header.id, message)) }
                seen[header.id]?.problem = message
                // Read it again next pass: another writer may have moved it on.
                seen[header.id]?.seq = -1
            }
        }
        for (_, s) in seen where s.open {
            pass.watching += 1
            guard let due = s.nextDue else { continue }
            let wall = s.drill ? wallInstant(of: due, s) : due
            pass.nextWake = min(pass.nextWake ?? wall, wall)
        }
        return pass
    }

    // MARK: sends

    static func hasQueued(_ incident: LoadedIncident) -> Bool {
        !incident.isDrill && incident.state.deliveries.contains { $0.status == .queued }
    }

    /// Claims the incident's queued deliveries and sends each on its own thread, so a slow or failing channel
    /// holds up neither timers nor other deliveries. Each result is recorded by its thread; the pass after it
    /// prints it.
    mutating func startSends(_ id: String, wallNow: Instant, into pass: inout Pass) {
        do {
            let (claimed, result) = try service.claimQueued(incident: id, wallNow: wallNow)
            if !result.records.isEmpty { pass.fired.append((id, result)) }
            seen[id]?.seq = result.incident.seq
            seen[id]?.open = result.incident.state.status.isOpen
            seen[id]?.nextDue = result.incident.state.nextTimer?.due
            seen[id]?.now = result.incident.now
            seen[id]?.queued = Self.hasQueued(result.incident)
            // Some left queued (another process wrote first): read the incident again next pass.
            if seen[id]?.queued == true { seen[id]?.seq = -1 }
            for c in claimed {
                let service = self.service
                let sends = self.sends
                sends.started()
                DispatchQueue.global().async {
                    let sent = service.send(c)
                    do {
                        let done = try service.complete(c, sent: sent, wallNow: .wallClock())
                        sends.finished(id, done, problem: nil)
                    } catch {
                        sends.finished(id, nil, problem: "delivery \(c.delivery.key): its result could not be recorded: "
                                       + "\(error); it stays in doubt")
                    }
                }
            }
        } catch {
            let message = "\(error)"
            if seen[id]?.problem != message { pass.problems.append((id, message)) }
            seen[id]?.problem = message
            seen[id]?.seq = -1
        }
    }

    /// Claims and sends (each on its own thread) what `incident` has queued, without firing its timers: what the
    /// interactive board does for its own incident, so a slow channel never holds the board.
    public mutating func sendQueued(incident id: String, wallNow: Instant) -> Pass {
        var pass = Pass()
        collectSends(into: &pass)
        if seen[id] == nil {
            seen[id] = Seen(seq: -1, open: true, drill: false, nextDue: nil, now: wallNow, simAnchor: wallNow,
                            wallAnchor: wallNow, problem: nil)
        }
        startSends(id, wallNow: wallNow, into: &pass)
        return pass
    }

    /// The results of the sends that finished since the last pass.
    public func finishedSends() -> Pass {
        var pass = Pass()
        collectSends(into: &pass)
        return pass
    }

    /// Moves the results of finished sends into `pass`.
    func collectSends(into pass: inout Pass) {
        for (id, result, problem) in sends.take() {
            if let result, !result.records.isEmpty { pass.fired.append((id, result)) }
            if let problem { pass.problems.append((id, problem)) }
        }
        pass.sending = sends.running
    }

    /// Waits until every send in flight has its result recorded (`--once`, and before stopping), then returns what
    /// they recorded.
    /// How many deliveries are being sent now.
    public var sending: Int { sends.running }

    public func finishSends() -> Pass {
        sends.wait()
        var pass = Pass()
        collectSends(into: &pass)
        return pass
    }

    /// A named drill's present: its simulated clock run at `speed` from when the watcher first saw it.
    func simulated(_ s: Seen, wallNow: Instant) -> Instant {
        let elapsed = Double((wallNow - s.wallAnchor).milliseconds) * speed
        return s.simAnchor + PlaybookDuration(milliseconds: Int64(elapsed.rounded(.down)))
    }

    /// When on the wall clock a drill's simulated instant comes.
    func wallInstant(of simulatedInstant: Instant, _ s: Seen) -> Instant {
        let ahead = Double((simulatedInstant - s.simAnchor).milliseconds) / speed
        return s.wallAnchor + PlaybookDuration(milliseconds: Int64(ahead.rounded(.up)))
    }

    /// Someone moved a drill's clock past where the watcher would have it: the drill continues from there.
    func reanchor(_ s: inout Seen, wallNow: Instant) {
        if s.now > simulated(s, wallNow: wallNow) {
            s.simAnchor = s.now
            s.wallAnchor = wallNow
        }
    }
}

/// The watcher's sends in flight, and the results of those that finished, for the next pass to print.
final class InFlightSends: Sendable {
    struct Box {
        var running = 0
        var done: [(String, CommitResult?, String?)] = []
    }
    let box = Mutex(Box())
    let idle = DispatchGroup()

    func started() {
        idle.enter()
        box.withLock { $0.running += 1 }
    }

    func finished(_ id: String, _ result: CommitResult?, problem: String?) {
        box.withLock {
            $0.running -= 1
            $0.done.append((id, result, problem))
        }
        idle.leave()
    }

    var running: Int { box.withLock { $0.running } }

    func take() -> [(String, CommitResult?, String?)] {
        box.withLock { b in
            defer { b.done = [] }
            return b.done
        }
    }

    func wait() { idle.wait() }
}
