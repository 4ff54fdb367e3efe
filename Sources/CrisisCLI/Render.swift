import CrisisAudit
import CrisisCore
import CrisisRuntime
import Foundation

/// Colour only on a terminal and never with `NO_COLOR`.
enum Colour {
    static var enabled: Bool {
        isatty(1) == 1 && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
            && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }
    static func bold(_ s: String, _ on: Bool) -> String { on ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
    static func red(_ s: String, _ on: Bool) -> String { on ? "\u{1B}[31m\(s)\u{1B}[0m" : s }
    static func yellow(_ s: String, _ on: Bool) -> String { on ? "\u{1B}[33m\(s)\u{1B}[0m" : s }
    static func green(_ s: String, _ on: Bool) -> String { on ? "\u{1B}[32m\(s)\u{1B}[0m" : s }
    static func dim(_ s: String, _ on: Bool) -> String { on ? "\u{1B}[2m\(s)\u{1B}[0m" : s }
}

/// Left-aligned columns, two spaces apart.
enum TextTable {
    static func render(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        var widths = Array(repeating: 0, count: first.count)
        for row in rows { for (i, c) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        return rows.map { row in
            row.enumerated().map { i, c in
                i == row.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// Fits text into the terminal: a long line breaks at a run of spaces, its continuation indented four columns
/// deeper than the line itself. A suggested command (`→ crisis …`) breaks with a trailing ` \` so it still pastes
/// as one command. Colour escapes take no columns.
enum Fit {
    /// The terminal's width on a terminal; else `$COLUMNS`; else 80. Never below 40.
    static func terminalWidth() -> Int {
        var size = winsize()
        if isatty(1) == 1, ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return max(40, Int(size.ws_col)) }
        if let c = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), c > 0 { return max(40, c) }
        return 80
    }

    /// Columns a string takes, ignoring `ESC [ … m` colour sequences.
    static func columns(_ s: String) -> Int {
        var n = 0
        var inEscape = false
        for ch in s.unicodeScalars {
            if inEscape {
                if ch == "m" { inEscape = false }
            } else if ch == "\u{1B}" {
                inEscape = true
            } else {
                n += 1
            }
        }
        return n
    }

    static func lines(_ line: String, width: Int) -> [String] {
        guard columns(line) > width else { return [line] }
        let indent = line.prefix { $0 == " " }.count
        let isCommand = line.dropFirst(indent).hasPrefix("→ crisis ")
        let hang = String(repeating: " ", count: indent + 4)
        // A command keeps room for its trailing backslash, and for the arrow's two extra bytes (byte-counting
        // tools such as awk in the C locale see the line as wider than it shows).
        let room = width - (isCommand ? 4 : 0)
        // Words with the spaces before them, so double spaces between columns survive where nothing breaks.
        var words: [(gap: String, word: String)] = []
        var gap = ""
        var word = ""
        for ch in line.dropFirst(indent) {
            if ch == " " {
                if !word.isEmpty {
                    words.append((gap, word))
                    word = ""
                    gap = ""
                }
                gap.append(ch)
            } else {
                word.append(ch)
            }
        }
        if !word.isEmpty { words.append((gap, word)) }
        var out: [String] = []
        var current = String(repeating: " ", count: indent)
        var fresh = true
        for (gap, word) in words {
            if !fresh && columns(current) + gap.count + columns(word) > room {
                out.append(current + (isCommand ? " \\" : ""))
                current = hang + word
            } else {
                current += (fresh ? "" : gap) + word
            }
            fresh = false
        }
        out.append(current)
        return out
    }
}

/// A step instance as a shell word: `takedown_each[1]` is a glob in sh and zsh, so it is quoted.
func shellWord(_ s: String) -> String {
    s.contains("[") ? "'\(s)'" : s
}

/// `crisis status` for people.
enum StatusText {
    static func render(_ r: StatusReport, color: Bool) -> String {
        let e = { (s: String) in TerminalText.escape(s) }
        var lines: [String] = []
        let banner = r.mode == "drill" ? Colour.yellow("DRILL — EXERCISE ONLY — nothing is sent", color) + "\n" : ""
        lines.append(banner + Colour.bold("\(e(r.title))", color) + "  [\(r.incident)]")
        lines.append("playbook \(r.playbook.id)@\(r.playbook.version) (sha256 \(r.playbook.sha256.prefix(12))…)  "
                     + "status \(r.status)\(r.outcome.map { " (\(e($0)))" } ?? "")  record \(r.seq)")
        let clockName = r.clock == "simulated" ? "simulated clock" : "wall clock"
        lines.append("now \(r.now) (\(r.timezone), \(clockName))" + (r.deadline.map { "  run deadline \($0)" } ?? "")
                     + (r.deadline_exceeded ? Colour.red("  DEADLINE EXCEEDED", color) : ""))
        if !r.active.isEmpty {
            lines.append("")
            lines.append(Colour.bold("Active steps", color))
            for a in r.active {
                var head = "  \(a.step)  (\(a.type))"
                if let t = a.title { head += "  \(e(t))" }
                if let role = a.role { head += "  role: \(role)" }
                if let d = a.deadline {
                    let rel = a.due_in.map { $0.hasPrefix("overdue") ? Colour.red(" (\($0))", color) : " (\($0))" } ?? ""
                    head += "  due \(d)\(rel)"
                }
                lines.append(head)
                for (k, v) in a.detail.sorted(by: { $0.key < $1.key }) {
                    let shown = e(v).split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n        ")
                    lines.append("      \(k): \(shown)")
                }
                for act in a.actions {
                    var line = "    → crisis act \(r.incident) \(shellWord(a.step)) \(act.name)"
                    for f in act.fields where f.required { line += " --set \(f.name)=…" }
                    if let role = act.role { line += " --role \(role)" }
                    lines.append(line)
                    let optional = act.fields.filter { !$0.required }.map(\.name)
                    var hints: [String] = []
                    for f in act.fields {
                        guard let values = f.values else { continue }
                        let joined = values.joined(separator: "|")
                        if act.name == StepAction.confirmDelivery.rawValue && f.name == "key" {
                            // The keys are long; each waiting delivery below has its own command.
                            hints.append("key: \(values.count == 1 ? "the delivery" : "one of the \(values.count) deliveries") below")
                        } else if joined.count > 60 {
                            hints.append("\(f.name): one of \(values.count) values (status --json lists them)")
                        } else {
                            hints.append("\(f.name): \(joined)")
                        }
                    }
                    if !optional.isEmpty { hints.append("optional: \(optional.joined(separator: ", "))") }
                    if !hints.isEmpty { lines.append(Colour.dim("        " + hints.joined(separator: "; "), color)) }
                }
            }
        }
        if !r.deliveries.isEmpty {
            lines.append("")
            lines.append(Colour.bold("Deliveries waiting for a person", color))
            for d in r.deliveries {
                let why = d.in_doubt ? Colour.red("IN DOUBT: intent recorded, no outcome — did it go out?", color)
                    : "send by hand, then confirm"
                lines.append("  \(d.key)  \(d.purpose) on \(d.channel) to \(e(d.recipients.joined(separator: ", "))): \(why)")
                let text = e(d.text).split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n      ")
                lines.append("      \"\(text)\"")
                lines.append("    → crisis act \(r.incident) \(shellWord(d.step)) confirm_delivery --set key=\(d.key) --set result=sent|failed")
            }
        }
        if !r.clocks.isEmpty {
            lines.append("")
            lines.append(Colour.bold("Clocks", color))
            for c in r.clocks {
                let missed = Colour.red("MISSED by \(c.missed_by ?? "?")", color)
                let state: String
                switch c.state {
                case "running":
                    state = c.remaining.hasPrefix("overdue") ? Colour.red(c.remaining, color) : "left \(c.remaining)"
                case "expired":
                    state = Colour.red("EXPIRED, \(c.remaining)", color)
                case "stopped":
                    state = "stopped \(c.stopped ?? "?"): "
                        + (c.result == "met" ? Colour.green("met, \(c.remaining) to spare", color) : missed)
                case "not_stopped":
                    state = "not stopped when the incident closed" + (c.result == "missed" ? ": \(missed)" : ", \(c.remaining) left")
                default:
                    state = c.state
                }
                lines.append("  \(c.id)  \(e(c.title))  deadline \(c.deadline)  \(state)"
                             + (c.reference.map { "  (\(e($0)))" } ?? ""))
                if let set = c.deadline_set {
                    lines.append(Colour.dim(
                        "      deadline set \(set.at) by \(e(set.by)): \(e(set.reason)) (was \(set.previous))", color))
                }
            }
        }
        if !r.targets.isEmpty {
            lines.append("")
            lines.append(Colour.bold("Targets", color))
            for t in r.targets {
                let state: String
                switch t.state {
                case "missed": state = Colour.red("MISSED", color)
                case "met": state = Colour.green("met after \(t.met_after ?? "?")", color)
                case "not_started": state = "not started (counts from \(e(t.counts_from ?? "?")))"
                case "not_met": state = Colour.red("not met when the incident closed", color) + (t.due.map { " (due \($0))" } ?? "")
                default:
                    let rel = t.due_in.map { $0.hasPrefix("overdue") ? Colour.red(" (\($0))", color) : " (\($0))" } ?? ""
                    state = "due \(t.due ?? "?")\(rel)"
                }
                lines.append("  \(t.id)  \(e(t.title))  \(state)")
            }
        }
        if !r.timers.isEmpty {
            lines.append("")
            lines.append(Colour.bold("Timers", color))
            for t in r.timers {
                let rel = t.due_in.map { "  \($0)" } ?? ""
                let late = !t.due_now ? ""
                    : r.mode == "drill" ? Colour.yellow("  due: crisis tick \(r.incident)", color)
                    : Colour.red("  not fired yet: is 'crisis watch' running? (or: crisis tick \(r.incident))", color)
                lines.append("  \(t.due)\(rel)  \(t.purpose)\(t.step.map { " (\($0))" } ?? "")" + late)
            }
        }
        if r.status == "open" && r.active.isEmpty && r.deliveries.isEmpty {
            lines.append("")
            lines.append("No step is active; run 'crisis tick \(r.incident)' to fire due timers.")
        }
        let width = Fit.terminalWidth()
        return lines.joined(separator: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            .flatMap { Fit.lines(String($0), width: width) }.joined(separator: "\n")
    }
}

/// What one command changed, for people: the records written and the transitions they caused.
enum EffectsText {
    static func render(_ result: CommitResult, color: Bool) -> String {
        var lines: [String] = []
        for record in result.records {
            lines.append("record \(record.seq): \(record.type.rawValue)" + (record.replayedFromKey ? " (already recorded: same idempotency key)" : ""))
        }
        let zone = ZoneFormat(identifier: result.incident.definition.playbook.timeZone)
        for action in result.actions { if let s = describe(action, zone: zone, color: color) { lines.append("  " + s) } }
        let status = StatusReport(result.incident, wallNow: .wallClock())
        if status.status == "closed" {
            lines.append(Colour.bold("incident closed: \(TerminalText.escape(status.outcome ?? ""))", color))
        } else if !status.active.isEmpty {
            lines.append("active: " + status.active.map { $0.step }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }

    static func describe(_ a: EngineAction, zone: ZoneFormat, color: Bool) -> String? {
        let e = { (s: String) in TerminalText.escape(s) }
        switch a {
        case .enterStep(let step, let type): return "→ \(step) (\(type.rawValue))"
        case .exitStep(let step, let outcome): return "✓ \(step): \(outcome)"
        case .cancelStep(let step, let reason): return "✗ \(step) cancelled: \(e(reason))"
        case .deliver(let d): return "✉ \(d.purpose.rawValue) on \(d.channel) [\(d.key)]"
        case .remind(_, let message): return Colour.yellow("! \(e(message))", color)
        case .startClock(let id, let deadline): return "⏱ clock \(id) started, deadline \(zone.human(deadline))"
        case .stopClock(let id): return "⏱ clock \(id) stopped"
        case .expireClock(let id): return Colour.red("⏱ clock \(id) EXPIRED", color)
        case .meetTarget(let id, let after): return Colour.green("target \(id) met after \(humanDuration(after))", color)
        case .missTarget(let id): return Colour.red("target \(id) MISSED", color)
        case .exceedDeadline: return Colour.red("run deadline exceeded", color)
        case .close(let outcome): return "incident closing: \(e(outcome))"
        }
    }
}

/// `crisis log` for people.
enum TimelineText {
    static func render(_ entries: [TimelineEntry], incident: LoadedIncident, color: Bool) -> String {
        let zone = ZoneFormat(identifier: incident.definition.playbook.timeZone)
        var rows: [String] = []
        if incident.isDrill { rows.append(Colour.yellow("DRILL — exercise record", color)) }
        for entry in entries {
            let stored = entry.stored
            let simulated = entry.record?.now
            var time = zone.human(simulated ?? stored.recordedAt)
            if incident.isDrill { time += simulated == nil ? " (real)" : " (sim)" }
            let role = entry.record?.actor?.role ?? stored.actor.role
            let who = TerminalText.escape(stored.actor.id) + (role.map { " [\(TerminalText.escape($0))]" } ?? "")
            let anomaly = entry.record?.clockAnomaly != nil ? Colour.red("  [wall clock went backwards]", color) : ""
            let what = entry.record.map(summary) ?? Colour.red("\(stored.type.rawValue): unreadable body", color)
            rows.append("\(String(format: "%4d", stored.seq))  \(time)  \(who)  \(what)\(anomaly)")
        }
        return rows.joined(separator: "\n")
    }

    static func fields(_ f: [String: String]) -> String {
        f.sorted { $0.key < $1.key }.map { "\($0.key)=\(TerminalText.escape($0.value))" }.joined(separator: " ")
    }

    static func summary(_ record: TrailRecord) -> String {
        let e = { (s: String) in TerminalText.escape(s) }
        switch record {
        case .opened(let r):
            return "opened \(r.mode.rawValue) incident from \(e(r.playbook.id))@\(e(r.playbook.version))" + effects(r.effects)
        case .action(let r):
            var s = "\(e(r.step)) \(e(r.action))"
            var shown = r.fields
            if r.action == StepAction.ack.rawValue, let by = shown.removeValue(forKey: "by") {
                s = "\(e(r.step)) acknowledged by \(e(by))"
                if let via = shown.removeValue(forKey: "via") { s += " via \(e(via))" }
            }
            if !shown.isEmpty { s += " " + fields(shown) }
            if let st = r.statement { s += " (statement sha256 \(st.sha256.prefix(12))…)" }
            if let note = r.note { s += " — \(e(note))" }
            return s + effects(r.effects)
        case .timer(let r):
            let late = r.firedAt != nil && r.lateBy.milliseconds >= 1000 ? " \(humanDuration(r.lateBy)) late" : ""
            let what = [r.step.map(e), r.purpose.map(e)].compactMap { $0 }.joined(separator: ": ")
            return "timer \(e(r.timer)) fired" + (what.isEmpty ? "" : " (\(what))") + late + effects(r.effects)
        case .clockAdvanced(let r): return "drill clock advanced by \(humanDuration(r.by))"
        case .intent(let r):
            return "intent: \(r.delivery.purpose.rawValue) on \(e(r.delivery.channel)) to "
                + "\(e(r.delivery.recipients.joined(separator: ", "))) [\(e(r.delivery.key))]"
        case .outcome(let r):
            return "outcome \(r.result.rawValue) [\(e(r.key))]" + (r.detail.map { ": \(e($0))" } ?? "")
                + (r.note.map { " — \(e($0))" } ?? "") + effects(r.effects)
        case .note(let r): return "note: \(e(r.text))"
        case .rejected(let r):
            return "REFUSED \(e(r.step)) \(e(r.action))" + (r.fields.isEmpty ? "" : " " + fields(r.fields))
                + ": \(e(r.message)) [\(e(r.code))]"
        case .checkpoint(let r): return "checkpoint signed by \(e(r.keyName)) at tree size \(r.treeSize)"
        }
    }

    static func effects(_ effects: [RecordedEffect]) -> String {
        let parts = effects.compactMap { effect -> String? in
            switch effect {
            case .exit(let step, let outcome): return "\(step)→\(outcome)"
            case .close(let outcome): return "closed: \(TerminalText.escape(outcome))"
            case .missTarget(let id): return "missed \(id)"
            case .meetTarget(let id, _): return "met \(id)"
            case .expireClock(let id): return "clock \(id) expired"
            case .startClock(let id, _): return "clock \(id) started"
            case .stopClock(let id): return "clock \(id) stopped"
            case .remind(_, let message): return "reminder: \(TerminalText.escape(message))"
            case .exceedDeadline: return "run deadline exceeded"
            case .enter, .cancel, .deliver: return nil
            }
        }
        return parts.isEmpty ? "" : "  [" + parts.joined(separator: "; ") + "]"
    }
}
