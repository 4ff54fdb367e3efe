import CrisisCore
import CrisisRuntime
import Foundation

extension TimelineText {
    /// The timeline as a person reads it, at `width` columns: a heading per local day with its offset, then one
    /// entry per record (`seq`, local time, who, what); long entries wrap under their text, never cut. Delivery
    /// keys are shown without the incident id they all start with.
    ///
    ///        Mon 30 Nov 2026, Europe/Oslo +01:00
    ///        1 15:59  root  opened live incident from employee-post-viral@1
    ///        2 16:09  crisis  timer t7 fired (page_lead: ack timeout (level 1, round
    ///                 1))  [page_lead→exhausted]
    ///
    /// Unless `all`, plumbing is folded into the line that caused it: a delivery intent becomes
    /// `[sends: PURPOSE via CHANNEL to RECIPIENTS]` on the record before it, and a drill's sandboxed outcome of that
    /// delivery (with no effects or note of its own) adds `(sandboxed)` there instead of a line.
    static func render(_ entries: [TimelineEntry], incident: LoadedIncident, color: Bool,
                       width: Int = Fit.terminalWidth(), all: Bool = true) -> String {
        var rows: [String] = []
        if incident.isDrill {
            rows += wrap("DRILL — exercise record; times are the drill's simulated clock", width: width)
                .map { Colour.yellow($0, color) }
        }
        rows += withHeadings(entryRows(entries, incident: incident, color: color, width: width, all: all),
                             zone: ZoneFormat(identifier: incident.definition.playbook.timeZone), color: color, width: width)
        return rows.joined(separator: "\n")
    }

    /// The timelines of related incidents merged in time order (`crisis log ID --related`), each line marked with
    /// its incident's short id; day headings in the first incident's zone.
    static func renderMerged(_ parts: [(entries: [TimelineEntry], incident: LoadedIncident)], color: Bool,
                             width: Int = Fit.terminalWidth(), all: Bool = true) -> String {
        guard let first = parts.first else { return "" }
        var rows: [String] = []
        for part in parts {
            let mark = "[\(part.incident.id.suffix(4))] "
            rows += wrap("\(part.incident.id)  \(TerminalText.escape(part.incident.header.title))"
                         + (part.incident.isDrill ? "  (DRILL)" : ""), width: width - mark.count)
                .enumerated().map { ($0.offset == 0 ? mark : String(repeating: " ", count: mark.count)) + $0.element }
        }
        rows.append("")
        var merged: [(row: Row, order: Int)] = []
        for (n, part) in parts.enumerated() {
            let mark = "[\(part.incident.id.suffix(4))] "
            merged += entryRows(part.entries, incident: part.incident, color: color, width: width - mark.count, all: all)
                .map { row in
                    var r = row
                    r.lines = r.lines.enumerated().map { ($0.offset == 0 ? mark : String(repeating: " ", count: mark.count)) + $0.element }
                    return (r, n)
                }
        }
        let sorted = merged.enumerated().sorted { a, b in
            (a.element.row.at, a.element.order, a.offset) < (b.element.row.at, b.element.order, b.offset)
        }.map(\.element.row)
        rows += withHeadings(sorted, zone: ZoneFormat(identifier: first.incident.definition.playbook.timeZone), color: color,
                             width: width)
        return rows.joined(separator: "\n")
    }

    /// One timeline line (and its wrapped continuation lines) and when it happened.
    struct Row {
        var at: Instant
        /// A drill's record made on the real clock (a checkpoint): outside the day headings.
        var offClock: Bool
        var lines: [String]
    }

    static func withHeadings(_ entryRows: [Row], zone: ZoneFormat, color: Bool, width: Int) -> [String] {
        var rows: [String] = []
        var day = ""
        for row in entryRows {
            let heading = dayHeading(row.at, zone: zone)
            if heading != day && !row.offClock {
                day = heading
                rows += wrap(heading, width: width).map { Colour.bold($0, color) }
            }
            rows += row.lines
        }
        return rows
    }

    static func entryRows(_ entries: [TimelineEntry], incident: LoadedIncident, color: Bool, width: Int, all: Bool) -> [Row] {
        let (folded, sends) = all ? ([], [:]) : fold(entries)
        let zone = ZoneFormat(identifier: incident.definition.playbook.timeZone)
        var rows: [Row] = []
        let seqWidth = max(3, String(entries.last?.stored.seq ?? 0).count)
        let textColumn = seqWidth + 1 + 5 + 2
        let keyPrefix = incident.id + "/"
        for (index, entry) in entries.enumerated() where !folded.contains(index) {
            let stored = entry.stored
            let simulated = entry.record?.now
            let at = simulated ?? stored.recordedAt
            let stamp = zone.human(at)  // 2025-10-27 09:00 +01:00
            // A drill's records made on the real clock (checkpoints) say their full time, outside the day headings.
            let offClock = incident.isDrill && simulated == nil
            let clock = offClock ? "  -  " : String(stamp.dropFirst(11).prefix(5))
            let real = offClock ? " (real clock: \(stamp))" : ""
            let role = entry.record?.actor?.role ?? stored.actor.role
            let who = TerminalText.escape(stored.actor.id) + (role.map { " [\(TerminalText.escape($0))]" } ?? "")
            let anomaly = entry.record?.clockAnomaly != nil ? Colour.red("  [wall clock went backwards]", color) : ""
            var what = entry.record.map(summary) ?? Colour.red("\(stored.type.rawValue): unreadable body", color)
            if let parts = sends[index] { what += "  [sends: " + parts.joined(separator: "; ") + "]" }
            what = FastText.replacing(what, keyPrefix, with: "")
            let seq = String(repeating: " ", count: seqWidth - String(stored.seq).count) + String(stored.seq)
            let lines = wrap("\(who)  \(what)\(real)\(anomaly)", width: max(20, width - textColumn))
            rows.append(Row(at: at, offClock: offClock, lines: lines.enumerated().map { i, line in
                (i == 0 ? "\(seq) \(clock)  " : String(repeating: " ", count: textColumn)) + line
            }))
        }
        return rows
    }

    /// Which entries fold into another (intents, and sandboxed outcomes of folded intents), and what each host
    /// line gains, by entry index.
    static func fold(_ entries: [TimelineEntry]) -> (folded: Set<Int>, sends: [Int: [String]]) {
        var folded = Set<Int>()
        var sends: [Int: [String]] = [:]
        var host: Int?
        var byKey: [String: (host: Int, part: Int)] = [:]
        for (index, entry) in entries.enumerated() {
            switch entry.record {
            case .intent(let r)? where host != nil:
                let h = host ?? index
                let d = r.delivery
                // A publication says its language: one delivery per channel and language.
                let language = d.purpose == .publish ? d.language.map { " (\(TerminalText.escape($0)))" } ?? "" : ""
                let text = "\(d.purpose.rawValue) via \(TerminalText.escape(d.channel))\(language) to "
                    + TerminalText.escape(d.recipients.joined(separator: ", "))
                sends[h, default: []].append(text)
                byKey[d.key] = (h, (sends[h]?.count ?? 1) - 1)
                folded.insert(index)
            case .outcome(let r)? where (r.result == .sandboxed || r.result == .queued) && r.effects.isEmpty
                && r.note == nil && r.clockAnomaly == nil && byKey[r.key] != nil:
                if let place = byKey[r.key] {
                    sends[place.host]?[place.part] += r.result == .queued ? " (queued for crisis watch)" : " (sandboxed)"
                }
                folded.insert(index)
            case .outcome(let r)? where r.result == .sending && r.effects.isEmpty && r.note == nil:
                // A sender's claim: plumbing; the result that follows says what happened.
                folded.insert(index)
            default:
                host = index
            }
        }
        return (folded, sends)
    }

    /// `Mon 30 Nov 2026, Europe/Oslo +01:00`: the day in the incident's zone, with the offset its times carry.
    static func dayHeading(_ instant: Instant, zone: ZoneFormat) -> String {
        let stamp = zone.human(instant)
        let date = Date(timeIntervalSince1970: Double(instant.millisecondsSinceEpoch) / 1000)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone.zone
        let weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][calendar.component(.weekday, from: date) - 1]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        let offset = String(stamp.split(separator: " ").last ?? "")
        return "\(weekday) \(c.day ?? 0) \(months[(c.month ?? 1) - 1]) \(c.year ?? 0), \(zone.zone.identifier) \(offset)"
    }

    /// Words into lines of at most `width` columns; a word longer than a line is split, never cut.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            var word = String(word)
            while Fit.columns(word) > width {
                if !line.isEmpty { lines.append(line); line = "" }
                lines.append(String(word.prefix(width)))
                word = String(word.dropFirst(width))
            }
            if line.isEmpty {
                line = word
            } else if Fit.columns(line) + 1 + Fit.columns(word) <= width {
                line += " " + word
            } else {
                lines.append(line)
                line = word
            }
        }
        if !line.isEmpty || lines.isEmpty { lines.append(line) }
        // The double spaces between columns may fall at a break: no trailing or leading blanks on wrapped lines.
        return lines.enumerated().map { i, l in
            var l = Substring(l)
            while l.last == " " { l = l.dropLast() }
            if i > 0 { while l.first == " " { l = l.dropFirst() } }
            return String(l)
        }.filter { !$0.isEmpty }.ifEmpty([""])
    }
}
