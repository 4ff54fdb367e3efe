import CrisisCore
import CrisisRuntime
import Foundation

/// Something the operator can do from the board: an action of an active step, chosen by its number.
struct BoardChoice: Sendable {
    var number: Int
    var step: String
    var action: String
    var title: String
    var fields: [StatusReport.Field]
    var role: String?

    /// The choices of a status, numbered in the order the board shows them: each active step's actions, then
    /// the incident-wide ones.
    static func all(_ r: StatusReport) -> [BoardChoice] {
        var out: [BoardChoice] = []
        for a in r.active {
            for act in a.actions {
                out.append(BoardChoice(number: out.count + 1, step: a.step, action: act.name,
                                       title: "\(a.step): \(act.title)", fields: act.fields, role: act.role))
            }
        }
        for act in r.incident_actions {
            out.append(BoardChoice(number: out.count + 1, step: Engine.incidentStep, action: act.name,
                                   title: "incident: \(act.title)", fields: act.fields, role: act.role))
        }
        return out
    }

    /// Actions that commit to a statement's or a takedown's text: the board shows the step in full first.
    static let previewed: Set<String> = ["approve", "publish", "submit", "reject"]

    /// Actions that cannot be taken back: the board shows what they act on and asks before recording them.
    var isIrreversible: Bool {
        ["approve", "publish", "submit", "close", "reject", "choose", "set_deadline"].contains(action)
    }
}

/// The board as lines of text: a pure function of what the incident is and what the operator is doing, so the
/// same inputs always draw the same board (golden tests) and the terminal code only paints it.
///
///     LIVE  Service outage …  [bd63]                     elapsed 1h 05m  now 03:04:12
///     next: page_major level 2 in 4m · target status_page_first overdue 3m
///     ───────────────────────────────────────────────────────────────────────────────
///     ▸ page_major (escalate) Page the major-incident chain        due in 4m
///         paging per.olsen, …; acknowledged: …; next: level 2 …
///     …
///     ───────────────────────────────────────────────────────────────────────────────
///      1 page_major: Record who acknowledged   2 …
///     [1-9] choose  n note  l log  ? help  q quit              message line
enum BoardLayout {
    static func render(_ r: StatusReport, choices: [BoardChoice], width: Int, height: Int, message: String?,
                       elapsed: String, color: Bool) -> [String] {
        // Laid out for at least 40x12; a smaller terminal sees the top-left of it, never a line wider than it.
        let terminal = (width: max(1, width), height: max(1, height))
        let width = max(40, width)
        let height = max(12, height)
        var top: [String] = []
        let mode = r.mode == "drill" ? Colour.yellow("DRILL", color) : Colour.red("LIVE", color)
        let short = String(r.incident.split(separator: "-").last ?? Substring(r.incident))
        let right = "elapsed \(elapsed)  now \(clockOnly(r.now))"
        let titleRoom = max(10, width - 6 - short.count - 4 - right.count - 2)
        top.append(pad("\(mode)  \(clip(r.title, titleRoom))  [\(short)]", right: right, width: width))
        top.append(clip("next: " + nextDeadlines(r).joined(separator: " · "), width))
        if r.status != "open" {
            top.append(Colour.bold(clip("CLOSED: \(r.outcome ?? "")", width), color))
        }
        top.append(String(repeating: "─", count: width))

        var bottom: [String] = [String(repeating: "─", count: width)]
        let choiceRows = max(2, min(choices.count, height / 4))
        var shown = 0
        var row = ""
        for c in choices {
            let cell = "\(c.number < 10 ? " " : "")\(c.number) \(c.title)"
            if shown >= choiceRows * 2 { break }
            if row.isEmpty {
                row = clip(cell, width / 2 - 1)
            } else {
                bottom.append(pad(row, right: "", width: width / 2) + clip(cell, width - width / 2))
                row = ""
            }
            shown += 1
        }
        if !row.isEmpty { bottom.append(row) }
        if choices.count > shown { bottom.append("   … \(choices.count - shown) more: type its number") }
        if choices.isEmpty { bottom.append(r.status == "open" ? "   nothing to do now: waiting for timers or others" : "   the incident is closed") }
        let keys = clip("[1-\(max(1, choices.count))] choose  n note  l log  ? help  q quit", width / 2 + 8)
        if let message, Fit.columns(message) > width - Fit.columns(keys) - 2 {
            // A message longer than the room beside the keys takes the whole line (? shows the keys again).
            bottom.append(clip("» " + message, width))
        } else {
            bottom.append(pad(keys, right: message ?? "", width: width))
        }

        let room = height - top.count - bottom.count
        var middle: [String] = []
        for a in r.active {
            var head = "▸ \(a.step) (\(a.type))"
            if let t = a.title { head += " \(t)" }
            let due = a.due_in.map { "due \($0)" } ?? ""
            middle.append(pad(clip(head, width - due.count - 2), right: due, width: width))
            for line in details(a) { middle.append(contentsOf: wrap("    " + line, width: width)) }
        }
        if !r.deliveries.isEmpty {
            middle.append("✉ \(r.deliveries.count) deliver\(r.deliveries.count == 1 ? "y" : "ies") waiting for a person:")
            for d in r.deliveries {
                let doubt = d.in_doubt ? " IN DOUBT" : ""
                middle.append(contentsOf: wrap(
                    "    \(d.purpose) on \(d.channel) to \(d.recipients.joined(separator: ", "))\(doubt)", width: width))
            }
        }
        for c in r.clocks where c.state == "running" || c.state == "expired" {
            middle.append(clip("⏱ \(c.id): \(c.state == "expired" ? "EXPIRED" : "left \(c.remaining)")  \(c.title)", width))
        }
        if middle.count > room {
            let cut = middle.count - room + 1
            middle = Array(middle.prefix(room - 1)) + ["   … \(cut) more lines: l for the log, or crisis status"]
        }
        while middle.count < room { middle.append("") }
        return (top + middle + bottom).prefix(terminal.height).map { clip($0, min(width, terminal.width)) }
    }

    /// The nearest deadlines: step timeouts, pending targets and running clocks, soonest first.
    static func nextDeadlines(_ r: StatusReport) -> [String] {
        var items: [(String, String)] = []
        for a in r.active { if let d = a.deadline, let rel = a.due_in { items.append((d, "\(a.step) \(rel)")) } }
        for t in r.targets where t.state == "pending" { if let d = t.due, let rel = t.due_in { items.append((d, "target \(t.id) \(rel)")) } }
        for c in r.clocks where c.state == "running" { items.append((c.deadline, "\(c.id) left \(c.remaining)")) }
        for t in r.timers.prefix(3) { if let rel = t.due_in { items.append((t.due, "\(t.purpose) \(rel)")) } }
        let sorted = items.sorted { $0.0 < $1.0 }.map(\.1)
        var seen = Set<String>()
        return Array(sorted.filter { seen.insert($0).inserted }.prefix(3)).ifEmpty(["nothing armed"])
    }

    /// What a person needs about a step, in a few lines.
    static func details(_ a: StatusReport.Active) -> [String] {
        var out: [String] = []
        if let role = a.role { out.append("role \(role)") }
        let d = a.detail
        if let paging = d["paging"] { out.append("paging \(paging)") }
        if let acked = d["acknowledged"] { out.append("acknowledged: \(acked)") }
        if let waiting = d["waiting_for"] { out.append("waiting for \(waiting)") }
        if let stand = d["stand_ins"] { out.append(contentsOf: stand.split(separator: "\n").map(String.init)) }
        if let next = d["next"] { out.append("next: \(next)") }
        if let phase = d["phase"] {
            var s = "statement \(phase), revision \(d["revision"] ?? "0")"
            if let by = d["approved_by"], !by.isEmpty { s += ", approved by \(by)" }
            out.append(s)
        }
        if let status = d["status"], let platform = d["platform"] { out.append("takedown on \(platform): \(status)") }
        return out
    }

    /// `03:04:12` from an RFC 3339 instant with offset.
    static func clockOnly(_ rfc3339: String) -> String {
        guard let t = rfc3339.firstIndex(of: "T") else { return rfc3339 }
        return String(rfc3339[rfc3339.index(after: t)...].prefix(8))
    }

    static func clip(_ s: String, _ width: Int) -> String {
        Fit.columns(s) <= width ? s : String(s.prefix(max(0, width - 1))) + "…"
    }

    static func pad(_ left: String, right: String, width: Int) -> String {
        let gap = width - Fit.columns(left) - Fit.columns(right)
        return gap >= 1 ? left + String(repeating: " ", count: gap) + right : clip(left + " " + right, width)
    }

    static func wrap(_ s: String, width: Int) -> [String] { Fit.lines(s, width: width) }
}

extension Array {
    func ifEmpty(_ other: [Element]) -> [Element] { isEmpty ? other : self }
}
