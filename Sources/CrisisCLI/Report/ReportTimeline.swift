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

    /// Streams the rows of `report`'s timeline to `emit`; `each` sees every record first, as it is read.
    static func stream(_ report: IncidentReport, each: (TimelineEntry) throws -> Void = { _ in },
                       emit: (Row) throws -> Void) throws {
        let incident = report.incident
        let clock = ZoneClock(report.zone)
        let keyPrefix = incident.id + "/"
        var day = ""
        // Entries not yet finished: each with the sends folded into it so far. `pending[..<done]` are finished
        // (removed in bulk, not one at a time: removeFirst moves the whole window).
        var pending: [(entry: TimelineEntry, sends: [String])] = []
        var done = 0
        var pendingStart = 0  // the line number of pending[done]
        var lines = 0  // lines so far (entries not folded)
        var host: Int?  // the line number of the line intents fold into
        var byKey: [String: (host: Int, part: Int)] = [:]

        func finish(_ item: (entry: TimelineEntry, sends: [String])) throws {
            let stored = item.entry.stored
            let simulated = item.entry.record?.now
            let at = simulated ?? stored.recordedAt
            let stamp = clock.human(at)
            let offClock = incident.isDrill && simulated == nil
            let heading = clock.dayHeading(at)
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
        func flush(keeping: Int) throws {
            while pending.count - done > keeping {
                let first = pending[done]
                done += 1
                if !byKey.isEmpty { byKey = byKey.filter { $0.value.host != pendingStart } }
                pendingStart += 1
                try finish(first)
            }
            if done >= window || done == pending.count {
                pending.removeFirst(done)
                done = 0
            }
        }

        try report.forEachEntry { entry in
            try each(entry)
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
            case .outcome(let r)? where r.result == .sandboxed && r.effects.isEmpty && r.note == nil
                && r.clockAnomaly == nil && byKey[r.key] != nil:
                if let place = byKey[r.key] { pending[place.host - pendingStart + done].sends[place.part] += " (sandboxed)" }
                return
            default:
                // (An intent whose line was written more than a window ago stands on its own line.)
                host = lines
                lines += 1
                pending.append((entry, []))
                if pending.count - done > window { try flush(keeping: window) }
            }
        }
        try flush(keeping: 0)
    }
}
