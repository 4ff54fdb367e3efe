import ArgumentParser
import CrisisAudit
import CrisisCore
import CrisisRuntime
import Dispatch
import Foundation
import Synchronization


struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Fire live incidents' timers as they come due, with nobody typing (run it as a service).",
        discussion: """
            Watches every open LIVE incident in the database: each timer fires within a second of its due time \
            (an unacknowledged page escalates to the next level, a clock warns, a target is missed) and what it \
            causes is performed and recorded. One line is printed per record written.

            While it runs it also sends live deliveries through the transports (--transports, \
            $CRISIS_TRANSPORTS): commands and boards record them as queued and return at once; the watcher claims \
            each and sends it on a thread of its own, so a slow channel holds up nothing else (docs/watch.md).

            Several watchers on one database are safe: a timer is fired once, a delivery sent once. Stopped (Ctrl-C, SIGTERM) it \
            finishes the transaction in hand and the deliveries it is sending; restarted after a crash or a sleep it catches up in due order, \
            each timer handled at its due instant and recorded with how late it fired.

            Drills are watched only when named: their simulated clock then runs at --speed times the wall clock \
            from now. --once does one pass and exits (for cron). See docs/watch.md for a systemd unit.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var keys: KeyOptions
    @OptionGroup var display: DisplayOptions
    @Argument(help: ArgumentHelp(
        "Only these incidents (drills included), by id or a short part of it. Default: every open live incident.",
        discussion: "A name that matches no incident yet is watched for until it appears.", valueName: "id"),
        completion: Complete.incidents("watch"))
    var ids: [String] = []
    @Flag(help: "One pass: fire what is due now, then exit.") var once = false
    @Option(help: ArgumentHelp("Named drills: how fast their simulated clock runs (2 = twice real time).",
                               valueName: "factor"))
    var speed: Double = 1
    @Option(help: ArgumentHelp("How often, in seconds, to look for new incidents and changes made by others.",
                               valueName: "seconds"))
    var poll: Double = 1
    @Flag(help: "One JSON object per line instead of text.") var json = false

    func validate() throws {
        guard speed > 0, speed <= 10_000 else { throw ValidationError("--speed must be between 0 and 10000") }
        guard poll >= 0.05, poll <= 60 else {
            throw ValidationError("--poll takes seconds between 0.05 and 60, such as 0.5")
        }
    }

    func run() async throws {
        do {
            try checkWritable(store.path)
            var service = try store.service(keys: keys)
            // The watcher sends live deliveries itself, each on its own thread: what it fires is queued, then
            // claimed and sent. It never looks for a watcher (that would drop its own lock).
            service.watcherProbe = nil
            service.handoff = DeliveryHandoff(watcher: "crisis watch (pid \(getpid()))")
            service.sender = .thisProcess("crisis watch")
            let ids = try self.ids.map { try watchedIncident($0, service: service) }
            // Watching every live incident: commands leave their deliveries to this watcher while it runs.
            let lock = ids.isEmpty ? WatcherLock.hold(database: store.path) : nil
            var watcher = Watcher(service: service, named: ids, speed: speed)
            let pollMs = Int64((poll * 1000).rounded())
            let signals = once ? nil : StopSignals()
            let wake = signals?.wake ?? DispatchSemaphore(value: 0)
            if !once {
                let line = "crisis watch: watching \(ids.isEmpty ? "every open live incident" : ids.joined(separator: ", ")) "
                    + "in \(store.path) (Ctrl-C to stop)"
                for part in Fit.lines(line, width: Fit.terminalWidth()) { Out.error(part) }
            }
            let shouldStop = { StopSignals.requested }
            var total = 0
            var problems = 0
            var day: String?
            repeat {
                let pass = try watcher.pass(wallNow: .wallClock(), shouldStop: shouldStop)
                total += pass.fired.reduce(0) { $0 + $1.result.records.count }
                problems += pass.problems.count
                print(pass, service: service, day: &day)
                if once || shouldStop() { break }
                let now = Instant.wallClock()
                var sleepMs = pollMs
                if let next = pass.nextWake { sleepMs = max(0, min(sleepMs, (next - now).milliseconds)) }
                if sleepMs > 0 { _ = wake.wait(timeout: .now() + .milliseconds(Int(sleepMs))) }
            } while !shouldStop()
            if watcher.sending > 0 {
                Out.error("crisis watch: waiting for \(watcher.sending) delivery(ies) being sent to finish")
            }
            let last = watcher.finishSends()
            total += last.fired.reduce(0) { $0 + $1.result.records.count }
            problems += last.problems.count
            print(last, service: service, day: &day)
            _ = signals
            _ = lock
            if !once { Out.error("crisis watch: stopped; \(total) record(s) written") }
            if problems > 0 && once { throw ExitCode(ExitStatus.refused) }
        } catch let e as ExitCode {
            throw e
        } catch {
            throw fail(error, json: json)
        }
    }

    /// A named incident: the one the reference names; a name that matches none is kept as it is (the watcher
    /// waits for it to be started); an ambiguous one is refused.
    func watchedIncident(_ reference: String, service: IncidentService) throws -> String {
        let candidates = try service.incidentCandidates(reference)
        switch candidates.count {
        case 0: return reference
        case 1: return candidates[0]
        default: throw IncidentReferenceError(reference: reference, candidates: candidates)
        }
    }

    /// The watcher records what it fires: refuse a database it cannot write before watching, not at 3 a.m.
    func checkWritable(_ path: String) throws {
        let fm = FileManager.default
        guard fm.fileExists(atPath: path) else {
            throw RuntimeError.invalid("no database at \(path); pass --db or set CRISIS_DB ('crisis start' creates one)")
        }
        let dir = (path as NSString).deletingLastPathComponent
        if !fm.isWritableFile(atPath: path) || !fm.isWritableFile(atPath: dir.isEmpty ? "." : dir) {
            throw RuntimeError.invalid(
                "the database \(path) (or its folder) is read-only: the watcher must record the timers it fires")
        }
    }

    /// One line per record: `HH:MM:SS  INCIDENT  SEQ  what`, in the incident's zone, with a line naming the date
    /// whenever it changes (so an 80-column terminal shows whole lines).
    func print(_ pass: Watcher.Pass, service: IncidentService, day: inout String?) {
        func stamp(_ zone: ZoneFormat, _ instant: Instant) -> String {
            let full = zone.humanSeconds(instant)
            let date = String(full.prefix(10)) + " (" + String(full.split(separator: " ").last ?? "") + ")"
            if date != day {
                day = date
                if !json { Out.print("-- \(date)") }
            }
            return String(full.dropFirst(11).prefix(8))
        }
        for (id, message) in pass.problems {
            if json {
                Out.jsonLine(["event": "problem", "incident": id, "message": message])
            } else {
                Out.error("crisis watch: \(id): \(message)")
            }
        }
        for (id, drill, next) in pass.started where !once {
            let zone = (try? service.load(id)).map { ZoneFormat(identifier: $0.definition.playbook.timeZone) }
            let due = next.map { d in zone.map { $0.human(d) } ?? ISO8601.format(d) } ?? "none armed"
            if json {
                Out.jsonLine(["event": "watching", "incident": id, "mode": drill ? "drill" : "live",
                              "next_timer": next.map { ISO8601.format($0) } ?? ""])
            } else {
                for part in Fit.lines("watching \(id) [\(Self.short(id))] (\(drill ? "DRILL" : "LIVE")): next timer \(due)",
                                      width: Fit.terminalWidth()) { Out.print(part) }
            }
        }
        for (id, result) in pass.fired {
            let zone = ZoneFormat(identifier: result.incident.definition.playbook.timeZone)
            for stored in result.records {
                let record = try? TrailRecord.decode(stored)
                if json {
                    var row: [String: String] = ["event": stored.type.rawValue, "incident": id,
                                                 "seq": String(stored.seq),
                                                 "recorded_at": ISO8601.format(stored.recordedAt)]
                    if case .timer(let t)? = record {
                        row["timer"] = t.timer
                        row["due"] = ISO8601.format(t.due)
                        row["late_ms"] = String(t.lateBy.milliseconds)
                    }
                    Out.jsonLine(row)
                } else {
                    // The incident by its short id (what `watching` lines and the board show, and every command
                    // takes), wrapped to the terminal.
                    let what = (record.map(TimelineText.summary) ?? stored.type.rawValue)
                        .replacingOccurrences(of: id + "/", with: "")
                    let line = "\(stamp(zone, stored.recordedAt))  \(Self.short(id))  \(String(format: "%4d", stored.seq))  \(what)"
                    for part in Fit.lines(line, width: Fit.terminalWidth()) { Out.print(part) }
                }
            }
            for reminder in result.reminders where !json {
                for part in Fit.lines("\(stamp(zone, .wallClock()))  \(Self.short(id))  ! \(TerminalText.escape(reminder.message))",
                                      width: Fit.terminalWidth()) { Out.print(part) }
            }
            if let cp = result.checkpoint, !json {
                Out.print("\(stamp(zone, .wallClock()))  \(Self.short(id))  incident closed; checkpoint at tree size \(cp.treeSize)")
            }
        }
    }

    /// `5d36` for `employee-post-viral-20261130-5d36`: the part after the last dash, which commands accept.
    static func short(_ id: String) -> String { String(id.split(separator: "-").last ?? Substring(id)) }
}
