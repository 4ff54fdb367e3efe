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

    /// The choices of a status, numbered in the order the board shows them: each active step's actions, then a
    /// confirmation for each finished step that still has deliveries waiting for a person (a page sent by hand
    /// before someone acknowledged), then the incident-wide ones. Deliveries are chosen by their short keys.
    static func all(_ r: StatusReport) -> [BoardChoice] {
        var out: [BoardChoice] = []
        for a in r.active {
            for act in a.actions {
                let fields = act.name == "confirm_delivery" ? confirmFields(act.fields, step: a.step, r) : act.fields
                out.append(BoardChoice(number: out.count + 1, step: a.step, action: act.name,
                                       title: "\(a.step): \(act.title)", fields: fields, role: act.role))
            }
        }
        let active = Set(r.active.map(\.step))
        var finished: [String] = []
        for d in r.deliveries where !active.contains(d.step) && !finished.contains(d.step) { finished.append(d.step) }
        for step in finished {
            let fields = confirmFields([
                StatusReport.Field(name: "key", type: "enum", required: true, values: [], prompt: "Delivery key"),
                StatusReport.Field(name: "result", type: "enum", required: true, values: ["sent", "failed"],
                                   prompt: "Did it go out?"),
                StatusReport.Field(name: "detail", type: "text", required: false, values: nil,
                                   prompt: "Details (who sent it, how)"),
            ], step: step, r)
            out.append(BoardChoice(number: out.count + 1, step: step, action: "confirm_delivery",
                                   title: "\(step): Confirm whether a delivery went out", fields: fields, role: nil))
        }
        for act in r.incident_actions {
            out.append(BoardChoice(number: out.count + 1, step: Engine.incidentStep, action: act.name,
                                   title: "incident: \(act.title)", fields: act.fields, role: act.role))
        }
        return out
    }

    /// A confirmation's fields with the step's waiting deliveries as short keys (`12`, not the 60-character
    /// key), the only one as the default.
    static func confirmFields(_ fields: [StatusReport.Field], step: String, _ r: StatusReport) -> [StatusReport.Field] {
        let keys = r.deliveries.filter { $0.step == step }.map { $0.short_key ?? $0.key }
        return fields.map { f in
            guard f.name == "key", !keys.isEmpty else { return f }
            var f = f
            f.values = keys
            f.default = keys.count == 1 ? keys[0] : nil
            return f
        }
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
                       elapsed: String, color: Bool, inject: String? = nil) -> [String] {
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
        if let inject {
            // A drill's latest inject, on two lines at most: what the players are reacting to.
            for line in wrap(inject, width: width).prefix(2) { top.append(Colour.yellow(line, color)) }
        }
        if !r.targets.isEmpty {
            // Targets: met, missed, or how long is left (the nearest first after those decided).
            let shown = r.targets.map { t -> String in
                switch t.state {
                case "met": return "\(Sym.check) \(t.id)"
                case "missed", "not_met": return Colour.red("\(Sym.cross) \(t.id) MISSED", color)
                case "pending": return "\(t.id) \(t.due_in ?? "")"
                default: return "\(t.id) not started"
                }
            }
            top.append(clip("targets: " + shown.joined(separator: " · "), width))
        }
        if let cadences = r.cadences, !cadences.isEmpty {
            // Cadences: the next occurrence due and the tally so far (`public_updates next in 12m · 3 met, 1 missed`).
            let shown = cadences.map { c -> String in
                let tally = "\(c.met) met" + (c.missed > 0 ? Colour.red(", \(c.missed) missed", color) : "")
                switch c.state {
                case "running":
                    let next = c.next_due_in.map { $0.hasPrefix("overdue") ? Colour.red("next \($0)", color) : "next \($0)" }
                    return "\(c.id) \(next ?? "") · \(tally)"
                case "not_started": return "\(c.id) not started"
                default: return "\(c.id) ended · \(tally)"
                }
            }
            top.append(clip("cadences: " + shown.joined(separator: " · "), width))
        }
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
        let drillKey = r.mode == "drill" && r.status == "open" ? "t next timer  " : ""
        let keys = clip("[1-\(max(1, choices.count))] choose  n note  l log  \(drillKey)? help  q quit",
                        width / 2 + 8 + drillKey.count)
        if let message, Fit.columns(message) > width - Fit.columns(keys) - 2 {
            // A message longer than the room beside the keys takes the whole line (? shows the keys again).
            bottom.append(clip("» " + message, width))
        } else {
            bottom.append(pad(keys, right: message ?? "", width: width))
        }

        let room = height - top.count - bottom.count
        // Each active step: its heading and what is happening (always), then the playbook's guidance in the room
        // that is left, first steps first.
        var steps: [(step: String, lines: [String], guidance: [String])] = []
        for a in r.active {
            var head = "\(Sym.current) \(a.step) (\(a.type))"
            if let t = a.title { head += " \(t)" }
            let due = a.due_in.map { "due \($0)" } ?? ""
            var lines = [pad(clip(head, width - due.count - 2), right: due, width: width)]
            for line in details(a, now: r.now) { lines.append(contentsOf: wrap("    " + line, width: width)) }
            steps.append((a.step, lines, guidance(a).flatMap { wrap("    " + $0, width: width) }))
        }
        var rest: [String] = []
        if !r.deliveries.isEmpty {
            rest.append("\(Sym.envelope) \(r.deliveries.count) deliver\(r.deliveries.count == 1 ? "y" : "ies") waiting for a person:")
            for d in r.deliveries {
                // Who to reach and where, and the short key the confirm choice asks for.
                let doubt = d.in_doubt ? " IN DOUBT: did it go out?" : ""
                rest.append(contentsOf: wrap(
                    "    [\(d.short_key ?? d.key)] \(d.purpose) on \(d.channel)"
                        + (d.recipients == [d.channel] ? "" : " to \(d.recipientsText)") + doubt, width: width))
            }
        }
        if let outbox = r.outbox {
            let queued = outbox.filter { $0.status == "queued" }.count
            let parts = [outbox.count - queued > 0 ? "\(outbox.count - queued) being sent" : nil,
                         queued > 0 ? "\(queued) queued for crisis watch" : nil].compactMap { $0 }
            rest.append(contentsOf: wrap("\(Sym.envelope) deliveries: " + parts.joined(separator: ", ")
                                         + " (" + outbox.map { $0.short_key ?? $0.key }.joined(separator: " ") + ")",
                                         width: width))
        }
        for n in r.failed_notifications ?? [] where n.state != "active" {
            rest.append(contentsOf: wrap("\(Sym.envelope) \(n.step) finished \(n.state): \(n.summary)", width: width))
        }
        for c in r.clocks where c.state == "running" || c.state == "expired" {
            rest.append(clip("\(Sym.clock) \(c.id): \(c.state == "expired" ? "EXPIRED" : "left \(c.remaining)")  \(c.title)", width))
        }
        var spare = room - steps.reduce(0) { $0 + $1.lines.count } - rest.count
        var middle: [String] = []
        for step in steps {
            let take = max(0, min(spare, step.guidance.count))
            middle += step.lines + step.guidance.prefix(take)
            if take > 0 && take < step.guidance.count {
                middle[middle.count - 1] = "    \(Sym.ellipsis) the rest: crisis show \(shellWord(step.step))"
            }
            spare -= take
        }
        middle += rest
        if middle.count > room {
            let cut = middle.count - room + 1
            middle = Array(middle.prefix(room - 1)) + ["   … \(cut) more lines: l for the log, or crisis status"]
        }
        while middle.count < room { middle.append("") }
        return (top + middle + bottom).prefix(terminal.height).map { clip($0, min(width, terminal.width)) }
    }

    /// The nearest deadlines: step timeouts, running clocks and escalation moves, soonest first.
    static func nextDeadlines(_ r: StatusReport) -> [String] {
        var items: [(String, String)] = []
        for a in r.active { if let d = a.deadline, let rel = a.due_in { items.append((d, "\(a.step) \(rel)")) } }
        // (Targets have their own line.)
        for c in r.clocks where c.state == "running" { items.append((c.deadline, "\(c.id) left \(c.remaining)")) }
        // Timers the lines above do not already show (step timeouts and targets are there): escalation moves,
        // reminders, the run deadline.
        for t in r.timers
        where !t.purpose.hasPrefix("target ") && !t.purpose.hasPrefix("cadence ") && t.purpose != "step timeout" {
            if let rel = t.due_in { items.append((t.due, (t.step.map { "\($0): " } ?? "") + "\(t.purpose) \(rel)")) }
        }
        let sorted = items.sorted { $0.0 < $1.0 }.map(\.1)
        var seen = Set<String>()
        return Array(sorted.filter { seen.insert($0).inserted }.prefix(3)).ifEmpty(["nothing armed"])
    }

    /// What a person needs about a step, in a few lines: who is paged and who is next, approvals, a takedown's
    /// state, then the playbook's guidance (instructions, checklist) when the board has room for it.
    static func details(_ a: StatusReport.Active, now: String) -> [String] {
        var out: [String] = []
        if let role = a.role { out.append("role \(role)") }
        let d = a.detail
        if let paging = d["paging"] {
            let level = d["level"].map { "level \($0) of \(d["levels"] ?? "?"): " } ?? ""
            out.append("\(level)paging \(paging)")
        }
        if let acked = d["acknowledged"] { out.append("acknowledged: \(acked)") }
        if let waiting = d["waiting_for"] { out.append("waiting for \(waiting)") }
        if let stand = d["stand_ins"] { out.append(contentsOf: stand.split(separator: "\n").map(String.init)) }
        if let next = d["next"] { out.append("next: \(HumanTime.inText(next, today: now))") }
        if let phase = d["phase"] {
            var s = "statement \(phase), revision \(d["revision"] ?? "0")"
            if let by = d["approved_by"], !by.isEmpty { s += ", approved by \(by)" }
            if let approvals = a.approvals { s += " (\(approvals))" }
            out.append(s)
            if let failed = d["failed_checks"] {
                let all = failed.split(separator: "\n")
                out.append("fails \(all.count) check\(all.count == 1 ? "" : "s"), approval needs an override: "
                           + all.joined(separator: "; "))
            }
        }
        if let status = d["status"], let platform = d["platform"] {
            out.append("takedown on \(platform): \(status)")
            if let route = d["send_to"] { out.append("send it to: \(route)") }
        }
        if let authority = d["authority"] {
            var s = "submission to \(authority): " + (d["next_phase"].map { "preparing \($0)" } ?? "every phase submitted")
            if let missing = d["missing"] { s += ", missing \(missing)" }
            if let reference = d["reference"] { s += "; reference \(reference)" }
            out.append(s)
        }
        if let delivered = d["delivered"] {
            out.append((d["list"].map { "list \($0): " } ?? "") + delivered)
            for line in (d["failed_deliveries"] ?? "").split(separator: "\n") { out.append("failed: \(line)") }
        }
        return out
    }

    /// The playbook's guidance for a step: its options with the default, its instructions, its checklist.
    static func guidance(_ a: StatusReport.Active) -> [String] {
        var out: [String] = []
        if let options = a.options {
            out.append("options: " + options.map { $0.id + ($0.id == a.default_option ? " (default)" : "") }
                .joined(separator: ", "))
        }
        if let text = a.instructions?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
            out.append(text.replacingOccurrences(of: "\n", with: " "))
        }
        for item in a.checklist ?? [] { out.append("[ ] \(item)") }
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
