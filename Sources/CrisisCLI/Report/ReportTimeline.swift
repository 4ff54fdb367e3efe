import CrisisCore
import CrisisRuntime
import Foundation

/// The timeline of a report: the lines `crisis log` shows (TimelineText.summary, its day headings and its folding
/// of delivery plumbing), produced one at a time as the records stream by.
///
/// `log` folds over the whole array; a report keeps only a window: a line is finished once `window` later records
/// have passed (a sandboxed outcome arriving later than that stands on its own line instead of being folded).
/// Memory stays bounded by the window, not by the incident.
struct ReportTimeline {
    /// One line of the timeline, its texts escaped for a terminal (controls and bidi made visible) but not for
    /// Markdown or HTML.
    struct Line {
        var seq: Int
        /// `HH:MM` in the incident's zone, or `-` for a drill's record on the real clock.
        var clock: String
        /// The full local time with its offset (`2026-03-02 09:00 +01:00`).
        var stamp: String
        var who: String
        var what: String
        /// The record's type, for styling.
        var type: String
    }

    enum Row {
        case day(String)
        case line(Line)
    }

    static let window = 256

    let incident: LoadedIncident
    let clock: ZoneClock
    let keyPrefix: String
    var day = ""
    // Entries not yet finished: each with the sends folded into it so far. `pending[..<done]` are finished
    // (removed in bulk, not one at a time: removeFirst moves the whole window).
    var pending: [(entry: TimelineEntry, sends: [String])] = []
    var done = 0
    var pendingStart = 0  // the line number of pending[done]
    var lines = 0  // lines so far (entries not folded)
    var host: Int?  // the line number of the line intents fold into
    var byKey: [String: (host: Int, part: Int)] = [:]
    /// The last day heading and the local time it was made for: a line of the same date and offset has it too.
    var lastHeading: (stamp: String, text: String)?

    /// A timeline of `incident`, its times in `zone`.
    init(incident: LoadedIncident, zone: ZoneFormat) {
        self.incident = incident
        clock = ZoneClock(zone)
        keyPrefix = incident.id + "/"
    }

    /// Streams the rows of `report`'s timeline to `emit`; `each` sees every record first, as it is read.
    static func stream(_ report: IncidentReport, each: (TimelineEntry) throws -> Void = { _ in },
                       emit: (Row) throws -> Void) throws {
        var timeline = ReportTimeline(incident: report.incident, zone: report.zone)
        try report.forEachEntry { entry in
            try each(entry)
            try timeline.add(entry, emit: emit)
        }
        try timeline.end(emit: emit)
    }

    /// Whether two local times (`2026-03-02 09:00 +01:00`) have the same date and offset: the key of
    /// `ZoneClock.dayHeading`.
    static func sameDay(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                guard x.count >= 10, y.count >= 10, x.prefix(10).elementsEqual(y.prefix(10)) else { return false }
                let sx = x.lastIndex(of: 0x20).map { x[($0 + 1)...] } ?? x[...]
                let sy = y.lastIndex(of: 0x20).map { y[($0 + 1)...] } ?? y[...]
                return sx.elementsEqual(sy)
            }
        }
    }

    private mutating func finish(_ item: (entry: TimelineEntry, sends: [String]), emit: (Row) throws -> Void) throws {
        let stored = item.entry.stored
        let simulated = item.entry.record?.now
        let at = simulated ?? stored.recordedAt
        let stamp = clock.human(at)
        let offClock = incident.isDrill && simulated == nil
        let heading: String
        if let last = lastHeading, Self.sameDay(last.stamp, stamp) {
            heading = last.text
        } else {
            heading = clock.dayHeading(at)
            lastHeading = (stamp, heading)
        }
        if heading != day && !offClock {
            day = heading
            try emit(.day(heading))
        }
        let role = item.entry.record?.actor?.role ?? stored.actor.role
        let who = TerminalText.escape(stored.actor.id) + (role.map { " [\(TerminalText.escape($0))]" } ?? "")
        var what = item.entry.record.map(TimelineText.summary) ?? "\(stored.type.rawValue): unreadable body"
        if !item.sends.isEmpty { what += "  [sends: " + item.sends.joined(separator: "; ") + "]" }
        if offClock { what += " (real clock: \(stamp))" }
        if item.entry.record?.clockAnomaly != nil { what += "  [wall clock went backwards]" }
        what = FastText.replacing(what, keyPrefix, with: "")
        try emit(.line(Line(seq: stored.seq, clock: offClock ? "-" : String(stamp.dropFirst(11).prefix(5)),
                            stamp: stamp, who: who, what: what, type: stored.type.rawValue)))
    }

    private mutating func flush(keeping: Int, emit: (Row) throws -> Void) throws {
        while pending.count - done > keeping {
            let first = pending[done]
            done += 1
            if !byKey.isEmpty { byKey = byKey.filter { $0.value.host != pendingStart } }
            pendingStart += 1
            try finish(first, emit: emit)
        }
        if done >= Self.window || done == pending.count {
            pending.removeFirst(done)
            done = 0
        }
    }

    /// Takes the next record; emits the lines it finishes.
    mutating func add(_ entry: TimelineEntry, emit: (Row) throws -> Void) throws {
        switch entry.record {
        case .intent(let r)? where host.map({ $0 >= pendingStart }) ?? false:
            let line = host ?? 0
            let h = line - pendingStart + done
            let d = r.delivery
            let text = "\(d.purpose.rawValue) via \(TerminalText.escape(d.channel)) to "
                + TerminalText.escape(d.recipients.joined(separator: ", "))
            pending[h].sends.append(text)
            byKey[d.key] = (line, pending[h].sends.count - 1)
            return
        case .outcome(let r)? where (r.result == .sandboxed || r.result == .queued) && r.effects.isEmpty
            && r.note == nil && r.clockAnomaly == nil && byKey[r.key] != nil:
            if let place = byKey[r.key] {
                pending[place.host - pendingStart + done].sends[place.part]
                    += r.result == .queued ? " (queued for crisis watch)" : " (sandboxed)"
            }
            return
        case .outcome(let r)? where r.result == .sending && r.effects.isEmpty && r.note == nil:
            // A sender's claim: plumbing; the result that follows says what happened (as `crisis log` folds it).
            return
        default:
            // (An intent whose line was written more than a window ago stands on its own line.)
            host = lines
            lines += 1
            pending.append((entry, []))
            if pending.count - done > Self.window { try flush(keeping: Self.window, emit: emit) }
        }
    }

    /// After the last record: emits the lines still open.
    mutating func end(emit: (Row) throws -> Void) throws {
        try flush(keeping: 0, emit: emit)
    }
}
