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

/// The symbols people see on a terminal, and their plain ASCII stand-ins everywhere else (a pipe, a file,
/// `NO_COLOR`, `--no-color`, `TERM=dumb`), through `Style.symbol(_:plain:)`.
enum Sym {
    /// `…`: a value to fill in (`--set reason=…`), a shortened hash.
    static var ellipsis: String { Style.symbol("…", plain: "...") }
    /// `…` in what is written to standard error (a refusal's advice): as `ellipsis`, for that stream.
    static var errorEllipsis: String { Style.decorated(descriptor: 2) ? "…" : "..." }
    /// `✓`: done, met.
    static var check: String { Style.symbol("✓", plain: "ok") }
    /// `✗`: cancelled, failed.
    static var cross: String { Style.symbol("✗", plain: "x") }
    /// `▸`: the current one.
    static var current: String { Style.symbol("▸", plain: ">") }
    /// `⏱`: a clock.
    static var clock: String { Style.symbol("⏱", plain: "*") }
    /// `✉`: a delivery.
    static var envelope: String { Style.symbol("✉", plain: "@") }
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
/// as one command, and never inside a quoted word. Colour escapes take no columns.
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

    /// Every line of `text` fitted to `width`.
    static func text(_ text: String, width: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .flatMap { lines(String($0), width: width) }.joined(separator: "\n")
    }

    static func lines(_ line: String, width: Int) -> [String] {
        guard columns(line) > width else { return [line] }
        let indent = line.prefix { $0 == " " }.count
        let isCommand = line.dropFirst(indent).hasPrefix("→ crisis ")
        let hang = String(repeating: " ", count: indent + 4)
        // A command keeps room for its trailing backslash, and for the arrow's two extra bytes (byte-counting
        // tools such as awk in the C locale see the line as wider than it shows).
        let room = width - (isCommand ? 4 : 0)
        // Words with the spaces before them, so double spaces between columns survive where nothing breaks. In a
        // command, a single-quoted word is one word whatever it holds (a break inside quotes would change it).
        var words: [(gap: String, word: String)] = []
        var gap = ""
        var word = ""
        var quoted = false
        var previous: Character = " "
        for ch in line.dropFirst(indent) {
            defer { previous = ch }
            if ch == " " && !quoted {
                if !word.isEmpty {
                    words.append((gap, word))
                    word = ""
                    gap = ""
                }
                gap.append(ch)
            } else {
                // `\'` outside quotes is a quote character, not the start of a quoted word.
                if isCommand && ch == "'" && (quoted || previous != "\\") { quoted.toggle() }
                word.append(ch)
            }
        }
        if !word.isEmpty { words.append((gap, word)) }
        if isCommand {
            // `--set name=value` and `--role comms` stay on one line: a person reads them as one thing.
            var glued: [(gap: String, word: String)] = []
            for w in words {
                if let last = glued.last, last.word.hasPrefix("--"), !last.word.contains("="), !w.word.hasPrefix("-"),
                    w.gap == " ", columns(last.word) + 1 + columns(w.word) <= room - indent - 4
                {
                    glued[glued.count - 1].word += " " + w.word
                } else {
                    glued.append(w)
                }
            }
            words = glued
        }
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

    /// A text (its own newlines kept) wrapped at `width`, every line indented by `indent` spaces. Breaks only at
    /// spaces, and never drops a character but the spaces it breaks at: a word longer than the room stays whole.
    static func paragraph(_ text: String, indent: Int, width: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        let room = max(20, width - indent)
        var out: [String] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var current = ""
            var pendingGap = ""
            var word = ""
            func flushWord() {
                guard !word.isEmpty else { return }
                if !current.isEmpty && columns(current) + pendingGap.count + columns(word) > room {
                    out.append(pad + current)
                    current = word
                } else {
                    current += pendingGap + word
                }
                pendingGap = ""
                word = ""
            }
            for ch in raw {
                if ch == " " {
                    flushWord()
                    pendingGap.append(ch)
                } else {
                    word.append(ch)
                }
            }
            flushWord()
            // Spaces that end a line are part of the text: keep them where they are.
            current += pendingGap
            out.append(current.isEmpty ? "" : pad + current)
        }
        return out
    }
}

/// A word the shell reads as itself: as is when it holds only letters, digits and `_-.,:/@%+=`, else in single
/// quotes (`takedown_each[1]` is a glob in sh and zsh; `sev2 or sev3` is three words).
func shellWord(_ s: String) -> String {
    let plain = !s.isEmpty && s.unicodeScalars.allSatisfy { u in
        (u.properties.isAlphabetic || u.properties.numericType != nil) && !TerminalText.isUnsafe(u)
            || "_-.,:/@%+=".unicodeScalars.contains(u)
    } && !s.hasPrefix("-") && !s.hasPrefix("=")
    if plain { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// Times for people: the incident's local time with its offset, without seconds.
enum HumanTime {
    /// `2026-03-02T09:15:00+01:00` as `2026-03-02 09:15 +01:00`; as `09:15 +01:00` when `today` (another RFC 3339
    /// time in the same zone) is on the same local day. Anything else is returned as it is.
    static func show(_ rfc: String, today: String? = nil) -> String {
        guard let t = rfc.firstIndex(of: "T"), rfc.distance(from: rfc.startIndex, to: t) == 10 else { return rfc }
        let date = String(rfc[..<t])
        let time = rfc[rfc.index(after: t)...]
        guard time.count >= 6 else { return rfc }
        let zone = rfc.hasSuffix("Z") ? "UTC" : String(rfc.suffix(6))
        let hm = time.prefix(5)
        if let today, today.hasPrefix(date + "T") { return "\(hm) \(zone)" }
        return "\(date) \(hm) \(zone)"
    }

    /// Every RFC 3339 time among the words of `text`, shown as `show` shows one.
    static func inText(_ text: String, today: String? = nil) -> String {
        text.split(separator: " ", omittingEmptySubsequences: false).map { show(String($0), today: today) }
            .joined(separator: " ")
    }
}

/// Suggested commands: one line per alternative, each safe to paste as printed (words quoted for the shell, no
/// `a|b` alternatives the shell would read as a pipe). Enum values are separate lines when there are few; else
/// a hint line lists them, in words.
enum Suggest {
    /// Most lines one action expands into (one per value of its enum field).
    static let maxAlternatives = 6

    /// The command lines (`→ crisis act …`, indented by `indent`) and the hints under them (without indent).
    static func act(incident: String, step: String, _ action: StatusReport.Action, indent: Int = 4)
        -> (commands: [String], hints: [String])
    {
        let pad = String(repeating: " ", count: indent)
        let base = "\(pad)→ crisis act \(shellWord(incident)) \(shellWord(step)) \(shellWord(action.name))"
        let role = action.role.map { " --role \(shellWord($0))" } ?? ""
        let required = action.fields.filter(\.required)
        // The first required enum field with few values becomes one command per value.
        let expand = required.first { ($0.values?.count ?? 0) > 0 && ($0.values?.count ?? 0) <= maxAlternatives }
        func line(_ value: String?) -> String {
            var s = base
            for f in required {
                if f.name == expand?.name, let value {
                    s += " --set " + shellWord(f.name + "=" + value)
                } else {
                    s += " --set \(shellWord(f.name))=\(Sym.ellipsis)"
                }
            }
            return s + role
        }
        let commands = expand?.values.map { $0.map(line) } ?? [line(nil)]
        var hints: [String] = []
        for f in action.fields {
            guard let values = f.values, f.name != expand?.name else { continue }
            let joined = values.joined(separator: ", ")
            hints.append(joined.count > 60 ? "\(f.name): one of \(values.count) values (status --json lists them)"
                         : "\(f.name): \(joined)")
        }
        let optional = action.fields.filter { !$0.required }.map(\.name)
        if !optional.isEmpty { hints.append("optional: \(optional.joined(separator: ", "))") }
        return (commands, hints)
    }

    /// The two ways to settle a delivery waiting for a person. `key` is the short key people type (the
    /// reports' `short_key`: the last segments of the delivery's key), never the full one.
    static func confirm(incident: String, step: String, key: String, indent: Int = 4) -> [String] {
        let pad = String(repeating: " ", count: indent)
        return ["sent", "failed"].map {
            "\(pad)→ crisis act \(shellWord(incident)) \(shellWord(step)) confirm_delivery --set key=\(shellWord(key)) "
                + "--set result=\($0)"
        }
    }
}

/// A channel's measure for people: `x 231 of 280`, `sms GSM-7, 2 messages`, `website 231 characters`.
func lengthText(_ m: ChannelMeasure) -> String {
    if let encoding = m.encoding, let segments = m.segments {
        return "\(m.channel) \(encoding), \(segments) message\(segments == 1 ? "" : "s")"
            + (m.overLimit ? " (OVER \(ChannelLength.maxSMSSegments))" : "")
    }
    guard let limit = m.limit else { return "\(m.channel) \(m.count) characters" }
    return "\(m.channel) \(m.count) of \(limit)" + (m.overLimit ? " (OVER by \(m.count - limit))" : "")
}

/// A met or missed target's id for people: `target first_post`, or for a cadence's occurrence (`public_updates#2`)
/// `cadence public_updates occurrence 2`. Without `prefix`, a plain target is its bare id.
func targetLabel(_ id: String, prefix: Bool = true) -> String {
    let e = { (s: String) in TerminalText.escape(s) }
    let parts = id.split(separator: "#", maxSplits: 1)
    if parts.count == 2 { return "cadence \(e(String(parts[0]))) occurrence \(e(String(parts[1])))" }
    return prefix ? "target \(e(id))" : e(id)
}

/// `crisis status` for people.
enum StatusText {
    /// A cadence's standing: `next (3) due 14:30 (in 12m) · 2 met, 1 missed`, `ended 16:05 · 6 met, 1 missed`.
    static func cadenceState(_ c: StatusReport.Cadence, when: (String) -> String, color: Bool) -> String {
        let tally = "\(c.met) met, " + (c.missed > 0 ? Colour.red("\(c.missed) missed", color) : "0 missed")
        switch c.state {
        case "not_started": return "not started (counts from \(TerminalText.escape(c.counts_from ?? "?")))"
        case "ended": return "ended \(c.ended.map(when) ?? "") · \(tally)"
        case "closed": return "stopped when the incident closed · \(tally)"
        default:
            guard let due = c.next_due else { return tally }
            let rel = c.next_due_in.map { $0.hasPrefix("overdue") ? Colour.red(" (\($0))", color) : " (\($0))" } ?? ""
            return "next (\(c.next_occurrence ?? 0)) due \(when(due))\(rel) · \(tally)"
                + (c.until.map { " · until \(TerminalText.escape($0))" } ?? "")
        }
    }

    static func render(_ r: StatusReport, color: Bool) -> String {
        render(r, color: color, width: Fit.terminalWidth())
    }

    static func render(_ r: StatusReport, color: Bool, width: Int) -> String {
        let e = { (s: String) in TerminalText.escape(s) }
        let when = { (s: String) in HumanTime.show(s, today: r.now) }
        var lines: [String] = []
        let banner = r.mode == "drill" ? Colour.yellow("DRILL — EXERCISE ONLY — nothing is sent", color) + "\n"
            : Colour.red(Colour.bold(liveBanner(r), color), color) + "\n"
        lines.append(banner + Colour.bold("\(e(r.title))", color) + "  [\(r.incident)]")
        lines.append("playbook \(r.playbook.id)@\(r.playbook.version) (sha256 \(r.playbook.sha256.prefix(12))\(Sym.ellipsis))  "
                     + "status \(r.status)\(r.outcome.map { " (\(e($0)))" } ?? "")  record \(r.seq)")
        let clockName = r.clock == "simulated" ? "simulated clock" : "wall clock"
        lines.append("now \(HumanTime.show(r.now)) (\(r.timezone), \(clockName))"
                     + (r.deadline.map { "  run deadline \(when($0))" } ?? "")
                     + (r.deadline_exceeded ? Colour.red("  DEADLINE EXCEEDED", color) : ""))
        if let related = r.related, !related.isEmpty {
            lines.append("related: " + related.joined(separator: ", ") + "  (crisis log \(r.incident) --related)")
        }
        for busy in r.assigned_elsewhere ?? [] {
            lines += Fit.lines("\(e(busy.person)) is also working open incident " + busy.incidents.joined(separator: ", "),
                               width: Fit.terminalWidth()).map { Colour.yellow($0, color) }
        }
        if !r.active.isEmpty {
            lines.append("")
            lines.append(Colour.bold("Active steps", color))
            for a in r.active { lines += active(a, r, color: color, width: width) }
        }
        if !r.deliveries.isEmpty {
            lines.append("")
            lines.append(Colour.bold("Deliveries waiting for a person", color))
            for d in r.deliveries {
                let why = d.in_doubt ? Colour.red("IN DOUBT: intent recorded, no outcome — did it go out?", color)
                    : "send by hand, then confirm"
                lines.append("  \(d.short_key ?? d.key)  \(d.purpose) on \(d.channel) to \(e(d.recipientsText)): \(why)")
                lines += Fit.paragraph(TerminalText.escape(d.text, keepNewlines: true), indent: 6, width: width)
                lines += Suggest.confirm(incident: r.incident, step: d.step, key: d.short_key ?? d.key)
            }
        }
        if let outbox = r.outbox {
            lines.append("")
            lines.append(Colour.bold("Deliveries being sent", color))
            for d in outbox {
                lines += Fit.lines("  \(d.short_key ?? d.key)  \(d.purpose) on \(d.channel) to \(e(d.recipientsText)): "
                                   + OutboxText.state(d), width: width)
            }
        }
        let finishedFailures = (r.failed_notifications ?? []).filter { $0.state != "active" }
        if !finishedFailures.isEmpty {
            // Active ones say so in their own block; these finished with a delivery that did not go out.
            lines.append("")
            lines.append(Colour.bold("Notifications that did not reach everyone", color))
            for n in finishedFailures {
                lines.append("  \(n.step)  finished \(e(n.state)): \(e(n.summary))")
                for f in n.failed { lines.append("      " + Colour.red("failed: ", color) + e(f)) }
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
                    state = "stopped \(c.stopped.map(when) ?? "?"): "
                        + (c.result == "met" ? Colour.green("met, \(c.remaining) to spare", color) : missed)
                case "not_stopped":
                    state = "not stopped when the incident closed" + (c.result == "missed" ? ": \(missed)" : ", \(c.remaining) left")
                default:
                    state = c.state
                }
                lines.append("  \(c.id)  \(e(c.title))  deadline \(when(c.deadline))  \(state)"
                             + (c.reference.map { "  (\(e($0)))" } ?? ""))
                if let set = c.deadline_set {
                    lines.append(Colour.dim(
                        "      deadline set \(when(set.at)) by \(e(set.by)): \(e(set.reason)) (was \(when(set.previous)))",
                        color))
                }
                if let by = c.started_by { lines.append(Colour.dim("      started by the decision \(e(by))", color)) }
            }
        }
        let standing = (r.objections ?? []).filter { $0.overridden_by == nil }
        if !standing.isEmpty {
            lines.append("")
            lines.append(Colour.bold("Objections standing", color))
            for o in standing {
                lines.append("  \(o.choice)  " + Colour.yellow("\(e(o.by)) objects", color) + " \(when(o.at)): \(e(o.reason))")
            }
        }
        if let decisions = r.decisions, !decisions.isEmpty {
            lines.append("")
            lines.append(Colour.bold("Decisions", color))
            for d in decisions {
                lines.append("  \(d.choice)  \(d.option)  by \(e(d.by)) \(when(d.at))"
                             + (d.rationale.map { ": \(e($0))" } ?? ""))
                if let override = d.override {
                    lines.append(Colour.dim(
                        "      overrode \((d.overrode ?? []).map(e).joined(separator: "; ")): \(e(override))", color))
                }
                if let clock = d.started_clock { lines.append(Colour.dim("      started clock \(clock)", color)) }
            }
        }
        if let obligations = r.obligations, !obligations.isEmpty {
            lines.append("")
            lines.append(Colour.bold("Obligations (considered / not applicable)", color))
            let width = obligations.map(\.id.count).max() ?? 0
            for o in obligations {
                let id = o.id.padding(toLength: width, withPad: " ", startingAt: 0)
                let decision: String
                switch o.decision {
                case "applies": decision = Colour.yellow("applies", color)
                case "not_applicable": decision = Colour.green("not applicable", color)
                default: decision = Colour.red("not yet considered", color)
                }
                var line = "  \(id)  \(decision)"
                if let by = o.by, let at = o.at { line += "  \(e(by)) \(when(at))" }
                if let reason = o.reason { line += ": \(e(reason))" }
                lines.append(line)
                lines.append(Colour.dim("      \(e(o.title))" + (o.reference.map { " (\(e($0)))" } ?? ""), color))
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
                case "not_met":
                    state = Colour.red("not met when the incident closed", color) + (t.due.map { " (due \(when($0)))" } ?? "")
                default:
                    let rel = t.due_in.map { $0.hasPrefix("overdue") ? Colour.red(" (\($0))", color) : " (\($0))" } ?? ""
                    state = "due \(t.due.map(when) ?? "?")\(rel)"
                }
                lines.append("  \(t.id)  \(e(t.title))  \(state)")
            }
        }
        if let cadences = r.cadences, !cadences.isEmpty {
            lines.append("")
            lines.append(Colour.bold("Cadences", color))
            for c in cadences {
                lines.append("  \(c.id)  \(e(c.title))  every \(c.every)" + (c.between.map { " between \($0)" } ?? ""))
                lines.append("      " + Self.cadenceState(c, when: when, color: color))
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
                lines.append("  \(when(t.due))\(rel)  \(t.purpose)\(t.step.map { " (\($0))" } ?? "")" + late)
            }
        }
        if r.status == "open" && r.active.isEmpty && r.deliveries.isEmpty {
            lines.append("")
            lines.append("No step is active; run 'crisis tick \(r.incident)' to fire due timers.")
        }
        return Fit.text(lines.joined(separator: "\n"), width: width)
    }

    /// A live incident's first line: `LIVE — REAL INCIDENT — bd63 — open 2h 05m` (the id's last part, which
    /// names it in every command, and how long it has been open).
    static func liveBanner(_ r: StatusReport) -> String {
        let short = r.incident.split(separator: "-").last.map(String.init) ?? r.incident
        let time = r.elapsed.map { r.status == "closed" ? " — closed after \($0)" : " — open \($0)" } ?? ""
        return "LIVE — REAL INCIDENT — \(short)\(time)"
    }

    /// One active step: what it is, its guidance, its progress and what may be done.
    static func active(_ a: StatusReport.Active, _ r: StatusReport, color: Bool, width: Int) -> [String] {
        let e = { (s: String) in TerminalText.escape(s) }
        var lines: [String] = []
        lines.append("  \(a.step)  (\(a.type))" + (a.title.map { "  \(e($0))" } ?? ""))
        var facts: [String] = []
        if let role = a.role { facts.append("role \(role)") }
        if let d = a.deadline {
            let rel = a.due_in.map { $0.hasPrefix("overdue") ? Colour.red(" (\($0))", color) : " (\($0))" } ?? ""
            facts.append("due \(HumanTime.show(d, today: r.now))\(rel)")
        }
        if !facts.isEmpty { lines.append("      " + facts.joined(separator: " · ")) }
        if let text = a.instructions?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
            lines += Fit.paragraph(TerminalText.escape(text, keepNewlines: true), indent: 6, width: width)
        }
        for item in a.checklist ?? [] { lines.append("      [ ] \(e(item))") }
        if let options = a.options, !options.isEmpty {
            lines.append("      options" + (a.default_option.map { " (default: \($0))" } ?? "") + ":")
            let w = options.map(\.id.count).max() ?? 0
            for o in options {
                lines.append("        \(o.id)\(String(repeating: " ", count: w - o.id.count))  \(e(o.label))")
            }
        }
        let isStatement = a.type == StepType.holdingStatement.yamlName
        var detail = a.detail
        if a.type == StepType.escalate.yamlName, let level = detail["level"], let paging = detail["paging"] {
            // Who is being paged now, then what else is known (acks, stand-ins, the next move).
            lines.append("      level \(level) of \(detail["levels"] ?? "?"), round \(detail["round"] ?? "?"): paging "
                         + TerminalText.escape(paging))
            for key in ["level", "levels", "round", "paging"] { detail.removeValue(forKey: key) }
            if let next = detail["next"] { detail["next"] = HumanTime.inText(next, today: r.now) }
        }
        if isStatement {
            lines += statement(a, r, width: width)
        } else if a.type == StepType.takedown.yamlName, let notice = detail.removeValue(forKey: "notice") {
            // The route beside the notice, then the notice as it is pasted.
            detail.removeValue(forKey: "notice_sha256")
            let route = detail.removeValue(forKey: "send_to")
            for (k, v) in detail.sorted(by: { $0.key < $1.key }) {
                let shown = TerminalText.escape(v, keepNewlines: true)
                    .split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n          ")
                lines.append("      \(k): \(shown)")
            }
            if let route { lines.append("      send it to: \(TerminalText.escape(route))") }
            lines.append("      notice, ready to paste:")
            lines += TerminalText.escape(notice, keepNewlines: true).split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.isEmpty ? "" : "        \($0)" }
        } else {
            for (k, v) in detail.sorted(by: { $0.key < $1.key }) {
                let shown = TerminalText.escape(v, keepNewlines: true)
                    .split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n          ")
                lines.append("      \(k): \(shown)")
            }
        }
        if a.type == StepType.takedown.yamlName || a.type == StepType.submission.yamlName {
            lines.append("      the notice, ready to paste, and what it still lacks:")
            lines.append("    → crisis show \(shellWord(r.incident)) \(shellWord(a.step))")
        }
        for act in a.actions {
            if act.name == StepAction.confirmDelivery.rawValue {
                let n = r.deliveries.filter { $0.step == a.step }.count
                if n > 0 {
                    lines.append(Colour.dim("    confirm_delivery: one command for each delivery below", color))
                }
                continue
            }
            let (commands, hints) = Suggest.act(incident: r.incident, step: a.step, act)
            lines += commands
            if !hints.isEmpty { lines.append(Colour.dim("        " + hints.joined(separator: "; "), color)) }
        }
        return lines
    }

    /// A statement's revision, approvals and texts (one block per language, as published).
    static func statement(_ a: StatusReport.Active, _ r: StatusReport, width: Int) -> [String] {
        let d = a.detail
        var lines: [String] = []
        var head = ["revision \(d["revision"] ?? "0")", (d["phase"] ?? "?").replacingOccurrences(of: "_", with: " ")]
        if let progress = a.approvals { head.append(progress) }
        if let by = d["approved_by"], !by.isEmpty { head.append("approved by \(TerminalText.escape(by))") }
        if d["fallback"] == "open" { head.append("fallback approvers may approve") }
        lines.append("      " + head.joined(separator: " · "))
        if let needs = d["needs"] { lines.append("      still needed: \(TerminalText.escape(needs))") }
        if let who = d["spokesperson"] { lines.append("      spokesperson: \(TerminalText.escape(who))") }
        if let sha = d["sha256"] { lines.append("      sha256 \(sha.prefix(16))\(Sym.ellipsis)") }
        if let failed = d["failed_checks"] {
            let all = failed.split(separator: "\n")
            lines.append("      fails \(all.count) check\(all.count == 1 ? "" : "s") (approval needs --set override=\"why\"):")
            for f in all { lines.append("        " + TerminalText.escape(String(f))) }
        }
        let order = r.languages ?? []
        // `text.LANG` (the default text), then `text.CHANNEL.LANG` (a channel's variant), languages in playbook order.
        let languages = d.keys.filter { $0.hasPrefix("text.") }.map { String($0.dropFirst(5)) }
            .sorted {
                let a = $0.split(separator: ".").map(String.init), b = $1.split(separator: ".").map(String.init)
                return (a.count, a.count > 1 ? a[0] : "", order.firstIndex(of: a.last ?? "") ?? Int.max, $0)
                    < (b.count, b.count > 1 ? b[0] : "", order.firstIndex(of: b.last ?? "") ?? Int.max, $1)
            }
        for language in languages {
            let parts = language.split(separator: ".")
            lines.append("      \(parts.count > 1 ? "\(parts[1]), \(parts[0]) variant" : language):")
            lines += Fit.paragraph(TerminalText.escape(d["text.\(language)"] ?? "", keepNewlines: true), indent: 8,
                                   width: width)
        }
        if !languages.isEmpty {
            lines.append("      lengths per channel and who may still approve:")
            lines.append("    → crisis show \(shellWord(r.incident)) \(shellWord(a.step))")
        }
        return lines
    }
}

/// What one command did, in words: a sentence for each thing that happened ("approved by ola (1 of 2)",
/// "acknowledged by jonas.lie via sms: page_comms acknowledged → status_page_first"), what the engine sent and
/// started, and one line naming the records written, for the trail.
enum EffectsText {
    static func render(_ result: CommitResult, color: Bool) -> String {
        render(result, color: color, width: Fit.terminalWidth(), wallNow: .wallClock())
    }

    static func render(_ result: CommitResult, color: Bool, width: Int, wallNow: Instant) -> String {
        let incident = result.incident
        let zone = ZoneFormat(identifier: incident.definition.playbook.timeZone)
        var lines: [String] = []
        // What a drill's sandbox did with the deliveries: one line, with the steps it moved.
        var sandboxed: [String] = []
        var sandboxMoves: [RecordedEffect] = []
        for stored in result.records {
            guard let record = try? TrailRecord.decode(stored) else { continue }
            if case .outcome(let o) = record, o.result == .sandboxed, !stored.replayedFromKey {
                sandboxed.append(o.key)
                sandboxMoves += o.effects
                continue
            }
            guard let said = says(record, incident: incident, zone: zone) else { continue }
            if case .clockAdvanced = record {
                // The clock moved first; the timers it made due are recorded before it, in due order.
                lines.insert(said, at: 0)
                continue
            }
            lines.append((stored.replayedFromKey ? "already recorded (same idempotency key): " : "") + said)
            if case .action(let a) = record, a.statement != nil {
                lines.append("  read it in full:")
                lines.append("  → crisis show \(shellWord(incident.id)) \(shellWord(a.step))")
            }
        }
        if !sandboxed.isEmpty {
            lines.append((sandboxed.count == 1 ? "1 delivery" : "\(sandboxed.count) deliveries")
                         + " written to the drill's sandbox (nothing was sent)" + moves(sandboxMoves))
        }
        for action in result.actions {
            if case .deliver(let d) = action {
                // Who to reach and where, and the short key the confirm command takes.
                let info = StatusReport.recipients(d.recipients, channel: d.channel, incident.definition.contacts)
                let to = info.map { Recipients.text($0, channel: d.channel) }
                    ?? (d.recipients == [d.channel] ? nil : d.recipients.joined(separator: ", "))
                let key = incident.state.shortDeliveryKey(d.key)
                let language = d.purpose == .publish ? d.language.map { " in \($0)" } ?? "" : ""
                lines.append("  \(Sym.envelope) \(d.purpose.rawValue) on \(d.channel)\(language)"
                             + (to.map { " to \(TerminalText.escape($0))" } ?? "") + " [\(key)]")
            } else if let s = describe(action, zone: zone, color: color) {
                lines.append("  " + s)
            }
        }
        if let first = result.records.first?.seq, let last = result.records.last?.seq {
            lines.append(Colour.dim("trail: " + (first == last ? "record \(first)" : "records \(first)–\(last)"), color))
        }
        let status = StatusReport(result.incident, wallNow: wallNow)
        if status.status == "closed" {
            lines.append(Colour.bold("incident closed: \(TerminalText.escape(status.outcome ?? ""))", color))
        } else if !status.active.isEmpty {
            lines.append("active: " + status.active.map { $0.step }.joined(separator: ", "))
        }
        return Fit.text(lines.joined(separator: "\n"), width: width)
    }

    /// What one record says happened, in words; nil for records that only carry bookkeeping (intents,
    /// checkpoints).
    static func says(_ record: TrailRecord, incident: LoadedIncident, zone: ZoneFormat) -> String? {
        let e = { (s: String) in TerminalText.escape(s) }
        switch record {
        case .action(let r):
            let what = action(r, incident: incident)
            let moved = moves(r.effects)
            // The step is named by its move ("page_comms acknowledged → ..."), else up front.
            let named = moved.hasPrefix(": \(r.step) ") || r.step == "incident"
            return (named ? "" : "\(r.step): ") + what + moved
        case .timer(let r):
            return "timer: " + e(r.purpose ?? r.timer) + (r.step.map { " on \(e($0))" } ?? "") + " came due" + moves(r.effects)
        case .outcome(let r) where r.result == .queued || r.result == .sending:
            // "delivery 5 queued for crisis watch (pid 4711)", "delivery 5 claimed by crisis act (pid ...)"
            return "delivery \(e(incident.state.shortDeliveryKey(r.key))) " + e(r.detail ?? r.result.rawValue) + moves(r.effects)
        case .outcome(let r):
            return "delivery \(e(incident.state.shortDeliveryKey(r.key))) \(r.result.rawValue)" + (r.detail.map { " (\(e($0)))" } ?? "")
                + ", recorded by \(e(r.actor.name))" + (r.note.map { " — \(e($0))" } ?? "") + moves(r.effects)
        case .clockAdvanced(let r):
            return "drill clock advanced by \(humanDuration(r.by)) to \(zone.human(r.now))"
        case .note(let r):
            return "noted by \(e(r.actor.name))"
        case .rejected(let r):
            return "refused \(e(r.step)) \(e(r.action)): \(e(r.message))"
        case .opened(let r):
            return "opened \(r.mode.rawValue) incident" + moves(r.effects)
        case .intent, .checkpoint:
            return nil
        }
    }

    /// The step's progress as it stands after the command (active, else the last finished instance).
    static func detail(_ instance: String, in state: IncidentState) -> StepDetail? {
        state.run(instance)?.detail ?? state.history.last { $0.instance == instance }?.detail
    }

    /// An operator's action in words, without the moves it caused.
    static func action(_ r: TrailRecord.ActionTaken, incident: LoadedIncident) -> String {
        let e = { (s: String) in TerminalText.escape(s) }
        let state = incident.state
        let playbook = incident.definition.playbook
        let who = e(r.actor.name)
        let stepID = state.run(r.step)?.stepID ?? state.history.last { $0.instance == r.step }?.stepID ?? r.step
        let kind = playbook.step(stepID)?.kind
        switch (r.action, kind) {
        case ("draft", .holdingStatement(let spec)?):
            guard let st = r.statement, case .statement(let s)? = detail(r.step, in: state) else {
                return "drafted by \(who)"
            }
            let revision = s.drafts.last { $0.sha256 == st.sha256 }?.revision ?? s.drafts.count
            var measures: [String] = []
            for channel in spec.channels where !st.checks.measures.isEmpty {
                // As recorded with the draft, against the declared limits.
                let all = st.checks.measures.filter { $0.channel == channel.id }
                if let m = all.max(by: { ($0.segments ?? $0.count) < ($1.segments ?? $1.count) }) {
                    if let encoding = m.encoding, let segments = m.segments {
                        measures.append("\(segments) SMS message\(segments == 1 ? "" : "s") (\(encoding))")
                    } else if let limit = m.limit {
                        measures.append("\(m.count) of \(limit) on \(channel.id)")
                    }
                }
            }
            for channel in spec.channels where st.checks.measures.isEmpty {
                let languages = st.languages.isEmpty ? playbook.languages : spec.languages(of: channel, in: playbook)
                let all = languages.map {
                    ChannelLength.measure(st.variants[channel.id]?[$0] ?? st.texts[$0] ?? "", channel: channel.id)
                }
                let worst = all.max { ($0.segments ?? $0.count) < ($1.segments ?? $1.count) }
                if let m = worst, m.limit != nil || m.segments != nil {
                    if let encoding = m.encoding, let segments = m.segments {
                        measures.append("\(segments) SMS message\(segments == 1 ? "" : "s") (\(encoding))")
                    } else if let limit = m.limit {
                        measures.append("\(m.count) of \(limit) on \(channel.id)")
                    }
                }
            }
            var roles = spec.approval.decidingRoles
            if s.fallbackOpen { for f in spec.approval.fallbackRoles.map(\.value) where !roles.contains(f) { roles.append(f) } }
            let quorum = max(1, spec.approval.quorum)
            return "draft \(revision) ready" + (measures.isEmpty ? "" : ": " + measures.joined(separator: ", "))
                + failedChecksText(st.checks)
                + "; waiting for \(roles.joined(separator: " or ")) (0 of \(quorum) approval\(quorum == 1 ? "" : "s"))"
        case ("approve", .holdingStatement(let spec)?), ("reject", .holdingStatement(let spec)?):
            guard case .statement(let s)? = detail(r.step, in: state),
                let mine = s.decisions.lastIndex(where: { $0.person == r.actor.name })
            else { return "\(r.action)d by \(who)" }
            let decision = s.decisions[mine]
            if !decision.approved {
                let rejected = Set(s.decisions.filter { !$0.approved }.map(\.revision)).count
                let left = max(0, spec.maxRevisions - rejected)
                return "revision \(decision.revision) rejected by \(who)" + (decision.reason.map { ": \(e($0))" } ?? "")
                    + "; \(left) revision\(left == 1 ? "" : "s") left"
            }
            var approvers: [String] = []
            for d in s.decisions[...mine] where d.revision == decision.revision && d.approved {
                if !approvers.contains(where: { $0.lowercased() == d.person.lowercased() }) { approvers.append(d.person) }
            }
            if !spec.approval.allOf.isEmpty || spec.approval.finalRole != nil {
                let progress = Engine.approvalProgress(
                    spec.approval, decisions: Array(s.decisions[...mine]), revision: decision.revision)
                return "approved by \(who)"
                    + (progress.complete
                        ? "; revision \(decision.revision) is approved and locked"
                        : "; still needed: \(progress.missing.joined(separator: ", "))")
            }
            let quorum = max(1, spec.approval.quorum)
            return "approved by \(who) (\(min(approvers.count, quorum)) of \(quorum))"
                + (decision.override.map { ", overriding failed checks: \(e($0))" } ?? "")
                + (approvers.count >= quorum ? "; revision \(decision.revision) is approved and locked" : "")
        case ("publish", _):
            return "publication asked for by \(who)" + (r.fields["channel"].map { " on \(e($0))" } ?? " on every channel left")
                + (r.fields["language"].map { " in \(e($0))" } ?? "")
        case ("ack", _):
            let by = r.fields["by"] ?? r.actor.name
            return "acknowledged by \(e(by))" + (r.fields["via"].map { " via \(e($0))" } ?? "")
                + (by == r.actor.name ? "" : " (recorded by \(who))")
        case ("not_reached", _):
            return "\(e(r.fields["person"] ?? "?")) not reached" + (r.fields["detail"].map { " (\(e($0)))" } ?? "")
                + ", recorded by \(who)"
        case ("choose", .choice(let spec)?):
            let option = r.fields["option"] ?? "?"
            let label = spec.options.first { $0.id == option }?.label
            return "\(who) chose \(e(option))" + (label.map { " (\(e($0)))" } ?? "")
        case ("draft", .takedown(let spec)?):
            guard case .takedown(let t)? = detail(r.step, in: state) else { return "notice drafted by \(who)" }
            let missing = spec.basis.requiredElements.filter { element in
                if element == .authorisation && spec.authorisationRecord != nil { return false }
                return !element.isFilled(by: t.notice[element.rawValue])
            }.map(\.rawValue)
            return "notice for \(e(t.platform)) drafted by \(who)"
                + (missing.isEmpty ? ": complete, ready to submit" : "; still missing: \(missing.joined(separator: ", "))")
        case ("submit", .takedown?):
            let platform: String
            if case .takedown(let t)? = detail(r.step, in: state) { platform = t.platform } else { platform = "the platform" }
            return "submitted to \(e(platform)) by \(who)" + (r.fields["ticket"].map { " (ticket \(e($0)))" } ?? "")
        case ("draft", .submission?):
            guard case .submission(let sub)? = detail(r.step, in: state) else { return "notice drafted by \(who)" }
            return "notice to \(e(sub.authority)) drafted by \(who)"
        case ("submit", .submission?):
            let authority = r.subject["authority"] ?? "the authority"
            let sha = r.subject["sha256"].map { ", sha256 \(e(String($0.prefix(12))))\(Sym.ellipsis)" } ?? ""
            return "submitted \(e(r.subject["phase"] ?? "")) notice to \(e(authority))\(sha) by \(who)"
                + (r.fields["reference"].map { " (reference \(e($0)))" } ?? "")
        case ("receipt", .submission?):
            return "receipt \(e(r.fields["reference"] ?? "?")) recorded by \(who)"
                + (r.fields["deadline"].flatMap(ISO8601.parse).map {
                    "; the authority's deadline is \(Engine.localTime($0, timeZone: playbook.timeZone))"
                } ?? "")
        case ("done", _), ("skip", _), ("received", _):
            let verb = r.action == "skip" ? "skipped" : r.action
            return "\(verb) by \(who)" + (r.fields["reason"].map { " (\(e($0)))" } ?? "")
        case ("close", _):
            return "closed by \(who)" + (r.fields["reason"].map { " (\(e($0)))" } ?? "")
        default:
            return "\(e(r.action).replacingOccurrences(of: "_", with: " ")) recorded by \(who)"
        }
    }

    /// The steps a record finished and entered: `: page_comms acknowledged → status_page_first`.
    static func moves(_ effects: [RecordedEffect]) -> String {
        var parts: [String] = []
        var current: String?
        var entered: [String] = []
        func flush() {
            if let c = current {
                parts.append(c + (entered.isEmpty ? "" : " → " + entered.joined(separator: ", ")))
            } else if !entered.isEmpty {
                parts.append("→ " + entered.joined(separator: ", "))
            }
            current = nil
            entered = []
        }
        for effect in effects {
            switch effect {
            case .exit(let step, let outcome):
                flush()
                current = "\(step) \(TerminalText.escape(outcome))"
            case .enter(let step, _):
                entered.append(step)
            case .cancel(let step, _):
                flush()
                parts.append("\(step) cancelled")
            case .deliver, .remind, .startClock, .stopClock, .expireClock, .meetTarget, .missTarget, .exceedDeadline,
                .close:
                continue
            }
        }
        flush()
        return parts.isEmpty ? "" : ": " + parts.joined(separator: "; ")
    }

    /// The engine's other answers (steps moving are told by `moves`).
    static func describe(_ a: EngineAction, zone: ZoneFormat, color: Bool) -> String? {
        let e = { (s: String) in TerminalText.escape(s) }
        switch a {
        case .enterStep, .exitStep: return nil
        case .cancelStep(let step, let reason): return "\(Sym.cross) \(step) cancelled: \(e(reason))"
        case .deliver(let d):
            let to = d.recipients == [d.channel] ? "" : " to \(e(d.recipients.joined(separator: ", ")))"
            return "\(Sym.envelope) \(d.purpose.rawValue) on \(d.channel)\(to) [\(d.key)]"
        case .remind(_, let message): return Colour.yellow("! \(e(message))", color)
        case .startClock(let id, let deadline): return "\(Sym.clock) clock \(id) started, deadline \(zone.human(deadline))"
        case .stopClock(let id): return "\(Sym.clock) clock \(id) stopped"
        case .expireClock(let id): return Colour.red("\(Sym.clock) clock \(id) EXPIRED", color)
        case .meetTarget(let id, let after):
            return Colour.green("\(targetLabel(id)) met after \(humanDuration(after))", color)
        case .missTarget(let id): return Colour.red("\(targetLabel(id)) MISSED", color)
        case .exceedDeadline: return Colour.red("run deadline exceeded", color)
        case .close(let outcome): return "incident closing: \(e(outcome))"
        }
    }
}

/// `crisis log` for people.
enum TimelineText {
    static func fields(_ f: [String: String]) -> String {
        f.sorted { $0.key < $1.key }.map { "\($0.key)=\(TerminalText.escape($0.value))" }.joined(separator: " ")
    }

    static func summary(_ record: TrailRecord) -> String {
        let e = { (s: String) in TerminalText.escape(s) }
        switch record {
        case .opened(let r):
            return "opened \(r.mode.rawValue) incident from \(e(r.playbook.id))@\(e(r.playbook.version))"
                + (r.related.isEmpty ? "" : ", related to " + r.related.map(e).joined(separator: ", ")) + effects(r.effects)
        case .action(let r):
            var s = "\(e(r.step)) \(e(r.action))"
            var shown = r.fields
            if r.action == StepAction.ack.rawValue, let by = shown.removeValue(forKey: "by") {
                s = "\(e(r.step)) acknowledged by \(e(by))"
                if let via = shown.removeValue(forKey: "via") { s += " via \(e(via))" }
            }
            if !shown.isEmpty { s += " " + fields(shown) }
            if let st = r.statement {
                s += " (statement sha256 \(st.sha256.prefix(12))\(Sym.ellipsis)" + failedChecksText(st.checks) + ")"
            }
            if let from = r.subject["reused_from"] {
                s += " reusing \(e(from)) \(e(r.subject["reused_step"] ?? "")) revision \(r.subject["reused_revision"] ?? "?")"
                    + " (sha256 \((r.subject["reused_sha256"] ?? "").prefix(12))\(Sym.ellipsis))"
            }
            s += subject(r.subject)
            if let note = r.note { s += " — \(e(note))" }
            return s + effects(r.effects)
        case .timer(let r):
            let late = r.firedAt != nil && r.lateBy.milliseconds >= 1000 ? " \(humanDuration(r.lateBy)) late" : ""
            if let purpose = r.purpose, purpose.hasPrefix("cadence ") {
                // "cadence public_updates occurrence 2 due [missed cadence public_updates occurrence 2; ...]"
                return "\(e(purpose)) due" + late + effects(r.effects)
            }
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

    /// What the action bound to, in words: ` (revision 2, sha256 2b52…)` for an approval; for a takedown's
    /// submission the platform, legal basis, URLs and every notice element as sent.
    static func subject(_ subject: [String: String]) -> String {
        guard !subject.isEmpty else { return "" }
        let e = { (s: String) in TerminalText.escape(s) }
        if let revision = subject["revision"], let sha = subject["sha256"] {
            return " (revision \(e(revision)), sha256 \(e(String(sha.prefix(12))))\(Sym.ellipsis))"
        }
        var parts: [String] = []
        if let authority = subject["authority"] {
            parts.append("\(e(subject["phase"] ?? "")) notice to \(e(authority)) under \(e(subject["legal_basis"] ?? ""))"
                + (subject["sha256"].map { ", sha256 \(e(String($0.prefix(12))))\(Sym.ellipsis)" } ?? ""))
            let content = subject.filter { $0.key.hasPrefix("content.") }
                .map { (String($0.key.dropFirst("content.".count)), $0.value) }.sorted { $0.0 < $1.0 }
            if !content.isEmpty { parts.append("content: " + content.map { "\($0.0)=\(e($0.1))" }.joined(separator: " ")) }
        }
        if let platform = subject["platform"] {
            parts.append("to \(e(platform))" + (subject["basis"].map { " under \(e($0))" } ?? "")
                + (subject["route"].map { " via \(e($0))" } ?? "")
                + (subject["notice_sha256"].map { ", notice sha256 \(e(String($0.prefix(12))))\(Sym.ellipsis)" } ?? ""))
        }
        let prefilled = subject.filter { $0.key.hasPrefix("prefill.") }
            .map { (String($0.key.dropFirst("prefill.".count)), $0.value) }.sorted { $0.0 < $1.0 }
        if !prefilled.isEmpty { parts.append("prefilled: " + prefilled.map { "\($0.0)=\(e($0.1))" }.joined(separator: " ")) }
        if let urls = subject["urls"] { parts.append("urls=\(e(urls.split(separator: "\n").joined(separator: " ")))") }
        let notice = subject.filter { $0.key.hasPrefix("notice.") }
            .map { (String($0.key.dropFirst("notice.".count)), $0.value) }.sorted { $0.0 < $1.0 }
        if !notice.isEmpty { parts.append("notice: " + notice.map { "\($0.0)=\(e($0.1))" }.joined(separator: " ")) }
        return parts.isEmpty ? "" : " " + parts.joined(separator: "; ")
    }

    static func effects(_ effects: [RecordedEffect]) -> String {
        let parts = effects.compactMap { effect -> String? in
            switch effect {
            case .exit(let step, let outcome): return "\(step)→\(outcome)"
            case .close(let outcome): return "closed: \(TerminalText.escape(outcome))"
            case .missTarget(let id): return "missed \(targetLabel(id, prefix: false))"
            case .meetTarget(let id, _): return "met \(targetLabel(id, prefix: false))"
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

extension StatusReport.DeliveryInfo {
    /// `Kari Nordmann +47 900 01 101, Ola Hansen +47 900 01 102`: who to reach and where, from the contacts
    /// directory; the recipient ids as recorded when the directory does not know them.
    var recipientsText: String {
        guard let to, !to.isEmpty else { return recipients.joined(separator: ", ") }
        return Recipients.text(to, channel: channel)
    }
}

enum Recipients {
    /// `Kari Nordmann +47 900 01 101, Ola Hansen (no sms address)`.
    static func text(_ people: [StatusReport.Recipient], channel: String) -> String {
        people.map { r in r.name + (r.address.map { " \($0)" } ?? " (no \(channel) address)") }
            .joined(separator: ", ")
    }
}

/// How a delivery a machine is on reads: queued for the watcher, or being sent by a named process.
enum OutboxText {
    static func state(_ d: StatusReport.DeliveryInfo) -> String {
        if d.status == "queued" { return "queued for crisis watch" }
        return "being sent" + (d.sender.map { " by \(TerminalText.escape($0))" } ?? "")
    }
}
