import ArgumentParser
import CrisisCore
import CrisisRuntime
import Foundation

/// `crisis show [ID] STEP [--json]`: one step in full.
struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one step in full: a statement's text and lengths, a takedown notice, a choice's options.",
        discussion: """
            A holding statement: its current revision per language exactly as it will be published, its length \
            on every channel (X weighting, SMS encoding and messages), its hash and approvals, and who may still \
            approve. A takedown: the assembled notice, ready to paste, with the elements still missing. A choice: \
            its options with labels and the default. An escalation: who was paged on which channel, who \
            acknowledged, and what comes next. Every step: its instructions, checklist, role and due time.
            With one argument it is the step, on the latest open incident. --json prints the same report.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var display: DisplayOptions
    @Argument(help: ArgumentHelp("The incident id, then the step; or only the step (latest open incident).",
                                 valueName: "id-or-step"))
    var first: String
    @Argument(help: ArgumentHelp("The step (a step id, or an instance such as 'takedown_each[2]').", valueName: "step"))
    var second: String?
    @Flag(help: "Machine-readable output.") var json = false

    func run() async throws {
        do {
            let service = try store.service(reading: true)
            let id = try service.resolveIncident(second == nil ? nil : first)
            let incident = try service.load(id)
            let report = try StepReport(incident, step: second ?? first, wallNow: .wallClock())
            if json { try Out.json(report) } else { Out.print(StepText.render(report, color: Colour.enabled)) }
        } catch {
            throw fail(error, json: json)
        }
    }
}

/// `crisis show` for people.
enum StepText {
    static func render(_ r: StepReport, color: Bool) -> String {
        render(r, color: color, width: Fit.terminalWidth())
    }

    static func render(_ r: StepReport, color: Bool, width: Int) -> String {
        let e = { (s: String) in TerminalText.escape(s) }
        let when = { (s: String) in HumanTime.show(s, today: r.now) }
        var lines: [String] = []
        if r.mode == "drill" { lines.append(Colour.yellow("DRILL — EXERCISE ONLY — nothing is sent", color)) }
        lines.append(Colour.bold(r.step, color) + (r.title.map { "  \(e($0))" } ?? ""))
        var facts = [r.type.replacingOccurrences(of: "_", with: " ")]
        switch r.state {
        case "active": facts.append("active")
        case "finished": facts.append("finished: \(e(r.outcome ?? "?"))")
        default: facts.append("not entered yet")
        }
        if let role = r.role { facts.append("role \(role)") }
        facts.append("incident \(r.incident)")
        lines.append(facts.joined(separator: " · "))
        var times: [String] = []
        if let entered = r.entered { times.append("entered \(when(entered))") }
        if let finished = r.finished { times.append("finished \(when(finished))") }
        if let due = r.deadline {
            let rel = r.due_in.map { $0.hasPrefix("overdue") ? Colour.red(" (\($0))", color) : " (\($0))" } ?? ""
            times.append("due \(when(due))\(rel)")
        }
        if let next = r.on_timeout, r.state != "finished" { times.append("on timeout → \(next)") }
        if !times.isEmpty { lines.append(times.joined(separator: " · ")) }
        lines.append("now \(HumanTime.show(r.now)) (\(r.timezone))")

        if let text = r.instructions?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
            lines.append("")
            lines.append(Colour.bold("Instructions", color))
            lines += Fit.paragraph(TerminalText.escape(text, keepNewlines: true), indent: 2, width: width)
        }
        if !r.checklist.isEmpty {
            lines.append("")
            lines.append(Colour.bold("Checklist", color))
            for item in r.checklist { lines.append("  [ ] \(e(item))") }
        }
        if let c = r.choice { lines += choice(c, color: color) }
        if let s = r.statement { lines += statement(s, r, color: color, width: width) }
        if let t = r.takedown { lines += takedown(t, r, color: color, width: width) }
        if let s = r.submission { lines += submission(s, r, color: color, width: width) }
        if let x = r.escalation { lines += escalation(x, r, color: color) }
        if let p = r.notify { lines += notify(p, color: color) }
        if let cadences = r.cadences {
            // The step is a cadence's recurring update: when the next is due, and the tally so far.
            lines.append("")
            lines.append(Colour.bold("Cadences", color))
            for c in cadences {
                lines.append("  \(c.id)  \(e(c.title))  every \(c.every)" + (c.between.map { " between \($0)" } ?? ""))
                lines.append("      " + StatusText.cadenceState(c, when: when, color: color))
            }
        }
        let others = r.deliveries.filter { d in
            r.statement == nil && r.escalation == nil && r.notify == nil || d.status == "manual" || d.status == "pending"
                || (r.notify == nil && d.status == "failed")
        }
        if !others.isEmpty, r.escalation == nil {
            lines.append("")
            lines.append(Colour.bold("Deliveries", color))
            for d in others {
                lines.append("  \(d.short_key ?? d.key)  \(d.purpose) on \(d.channel) to \(e(d.recipients.joined(separator: ", "))): \(d.status)")
                if r.statement == nil {
                    lines += Fit.paragraph(TerminalText.escape(d.text, keepNewlines: true), indent: 6, width: width)
                }
                if d.status == "manual" || d.status == "pending" {
                    lines += Suggest.confirm(incident: r.incident, step: r.step, key: d.short_key ?? d.key)
                }
            }
        }
        let actions = r.actions.filter { $0.name != StepAction.confirmDelivery.rawValue }
        if !actions.isEmpty {
            lines.append("")
            lines.append(Colour.bold("What you can do", color))
            for act in actions {
                lines.append("  " + e(act.title) + (act.roles.isEmpty ? "" : " (\(act.roles.joined(separator: " or ")))"))
                let (commands, hints) = Suggest.act(incident: r.incident, step: r.step, act)
                lines += commands
                if !hints.isEmpty { lines.append(Colour.dim("        " + hints.joined(separator: "; "), color)) }
                // A field's prompt, where it says more than the field's name.
                for f in act.fields where f.values == nil && !f.prompt.isEmpty
                    && f.prompt.lowercased() != f.name.replacingOccurrences(of: "_", with: " ")
                {
                    lines.append(Colour.dim("        \(f.name): \(e(f.prompt))" + (f.required ? "" : " (optional)"), color))
                }
            }
        }
        return Fit.text(lines.joined(separator: "\n"), width: width)
    }

    /// A notify step recipient by recipient: each list member (or channel) with where each delivery went and
    /// how it ended; the short key in brackets is what `retry` and `crisis sent`/`failed` take.
    static func notify(_ p: NotifyProgress, color: Bool) -> [String] {
        let e = { (s: String) in TerminalText.escape(s) }
        var lines = ["", Colour.bold("Recipients", color) + "  " + e(p.summary)]
        var about = ["to \(e(p.audience))"]
        if let list = p.list { about.append("list \(e(list))" + (p.list_name.map { $0 == list ? "" : " (\(e($0)))" } ?? "")) }
        about.append("on \(p.channels.map(e).joined(separator: ", "))")
        about.append("on failure: \(p.on_failure)")
        lines.append("  " + about.joined(separator: " · "))
        for r in p.recipients {
            let state: String
            switch r.state {
            case "confirmed": state = Colour.green("confirmed", color)
            case "failed": state = Colour.red("FAILED", color)
            default: state = Colour.yellow("waiting", color)
            }
            let who = p.list == nil ? "\(e(r.id))" : (r.name.map { "\(e($0)) (\(e(r.id)))" } ?? e(r.id))
            lines.append("  \(who)  \(state)")
            for a in r.deliveries {
                var s = "      [\(a.short_key)] \(e(a.channel))"
                if p.list != nil { s += " " + (a.address.map(e) ?? "(no address on \(e(a.channel)))") }
                if let language = a.language { s += " (\(e(language)))" }
                s += "  \(a.status)"
                // What the transport or the person said; a hand delivery's standing note is shown below instead.
                if let detail = a.detail, a.status != "manual" { s += ": \(e(detail))" }
                if a.attempts > 1 { s += "  (attempt \(a.attempts))" }
                lines.append(s)
            }
        }
        return lines
    }

    static func choice(_ c: StepReport.Choice, color: Bool) -> [String] {
        let e = { (s: String) in TerminalText.escape(s) }
        var lines = ["", Colour.bold(c.automatic ? "Options (decided by the inputs)" : "Options", color)]
        let w = c.options.map(\.id.count).max() ?? 0
        for o in c.options {
            var line = "  \(o.id)\(String(repeating: " ", count: w - o.id.count))  \(e(o.label))"
            if let next = o.next { line += " → \(next)" }
            if o.default { line += "  (default)" }
            if let when = o.when { line += "  [when \(e(when))]" }
            lines.append(line)
        }
        if let t = c.on_timeout { lines.append("  on timeout: \(t)") }
        if let chosen = c.chosen { lines.append("  chosen: \(e(chosen))") }
        return lines
    }

    static func statement(_ s: StepReport.Statement, _ r: StepReport, color: Bool, width: Int) -> [String] {
        let e = { (s: String) in TerminalText.escape(s) }
        let when = { (s: String) in HumanTime.show(s, today: r.now) }
        var lines = [""]
        guard s.revision > 0 else {
            lines.append(Colour.bold("Statement", color) + ": no draft yet")
            lines.append("  channels: \(s.channels.joined(separator: ", ")); approval by \(s.approver_roles.joined(separator: " or "))"
                         + " (\(s.quorum) needed)")
            return lines
        }
        lines.append(Colour.bold("Statement, revision \(s.revision)", color) + ": "
                     + s.phase.replacingOccurrences(of: "_", with: " "))
        lines.append("  drafted by \(e(s.drafter ?? "?"))" + (s.drafted.map { " at \(when($0))" } ?? ""))
        lines.append("  sha256 \(s.sha256 ?? "?")")
        var approval = "  \(s.progress)"
        if !s.approved_by.isEmpty { approval += ": approved by \(e(s.approved_by.joined(separator: ", ")))" }
        let ruled = (s.approval_rule ?? "").contains("all of") || (s.approval_rule ?? "").contains("final sign-off")
        if ruled, let missing = s.approval_missing {
            // A rule with all_of or a final authority: what is missing says more than a count.
            if !missing.isEmpty { approval += "; still needed: \(missing.joined(separator: ", "))" }
        } else if s.approvals_needed > 0 {
            approval += "; \(s.approvals_needed) more needed from \(s.approver_roles.joined(separator: " or "))"
        }
        lines.append(approval)
        if ruled, let rule = s.approval_rule { lines.append("  approval rule: \(e(rule))") }
        for i in s.informed ?? [] { lines.append("  informed: \(e(i.channel)) \(i.status)") }
        if let who = s.spokesperson { lines.append("  spokesperson: \(e(who))") }
        for h in s.handovers ?? [] {
            lines.append("  spokesperson handed over from \(e(h.from ?? "nobody")) to \(e(h.to)) by \(e(h.by)) at \(when(h.at))"
                         + (h.reason.map { ": \(e($0))" } ?? ""))
        }
        if let may = s.may_approve, s.phase == "awaiting_approval" {
            lines.append("  may still approve: " + (may.isEmpty ? "nobody in the contacts directory" : e(may.joined(separator: ", "))))
        }
        if s.fallback_open { lines.append("  the approval window has passed: \(s.fallback_roles.joined(separator: ", ")) may approve too") }
        if !s.failed_checks.isEmpty {
            lines.append(Colour.red("  fails \(s.failed_checks.count) check\(s.failed_checks.count == 1 ? "" : "s")", color)
                         + " (approval needs an override reason):")
            for f in s.failed_checks { lines.append("    \(e(f))") }
        }
        for d in s.decisions where !d.approved {
            lines.append("  revision \(d.revision) rejected by \(e(d.person)) at \(when(d.at))" + (d.reason.map { ": \(e($0))" } ?? ""))
        }
        for d in s.decisions where d.approved {
            guard let override = d.override else { continue }
            lines.append("  revision \(d.revision) approved by \(e(d.person)) despite failed checks: \(e(override))")
        }
        for c in s.changes ?? [] {
            lines.append("  revision \(c.revision) (\(c.language)) changed: " + e(c.diff))
        }
        if !s.publications.isEmpty {
            lines.append("  published: " + s.publications.map {
                "\($0.channel)\($0.language.map { " (\($0))" } ?? "") \($0.status)"
            }.joined(separator: ", "))
        }
        var wrapped = false
        for t in s.texts + (s.variants ?? []) {
            lines.append("")
            let heading = t.channel.map { "── \(t.language), \($0) variant ──" } ?? "── \(t.language) ──"
            // The measures recorded with the draft, against the declared limits (a variant's on its channel, the
            // default text's on the channels with no variant); measured now for drafts recorded without them.
            let variantChannels = Set((s.variants ?? []).compactMap(\.channel))
            let recorded = s.measures.filter { m in
                guard m.language == t.language else { return false }
                if let channel = t.channel { return m.channel == channel }
                return !variantChannels.contains(m.channel)
            }
            var measured: [String] = []
            for m in t.lengths where s.measures.isEmpty {
                measured.append(m.overLimit ? Colour.red(lengthText(m), color) : lengthText(m))
            }
            for m in recorded {
                let prefix = "\(t.language) on \(m.channel):"
                let failed = s.failed_checks.contains { $0.hasPrefix(prefix) }
                measured.append(failed ? Colour.red(lengthText(m), color) : lengthText(m))
            }
            lines.append(Colour.bold(heading, color) + "  " + measured.joined(separator: " · "))
            let body = Fit.paragraph(TerminalText.escape(t.text, keepNewlines: true), indent: 2, width: width)
            if body.count > t.text.split(separator: "\n", omittingEmptySubsequences: false).count { wrapped = true }
            lines += body
        }
        if wrapped {
            lines.append("")
            lines.append(Colour.dim("(long lines are wrapped here to fit; --json has the exact text)", color))
        }
        return lines
    }

    /// A regulatory submission: the phase being prepared and what it lacks, then each submission made with its
    /// snapshot hash, reference number and any deadline the authority set.
    static func submission(_ s: StepReport.Submission, _ r: StepReport, color: Bool, width: Int) -> [String] {
        let e = { (t: String) in TerminalText.escape(t) }
        let when = { (t: String) in HumanTime.show(t, today: r.now) }
        var lines = ["", Colour.bold("Submission to \(e(s.authority))", color)
            + ": " + (s.next_phase.map { "preparing the \($0) notice" } ?? "every phase submitted")]
        lines.append("  legal basis \(e(s.legal_basis))" + (s.citation.map { " (\(e($0)))" } ?? "")
                     + " · phases \(s.phases.joined(separator: ", "))")
        if s.next_phase != nil {
            for f in s.fields {
                let mark = f.missing ? Colour.red("missing", color) : (f.value == nil ? "optional" : "filled")
                lines.append("  \(f.name) [\(mark)]: \(e(f.prompt))")
                if let v = f.value { lines += Fit.paragraph(e(v), indent: 6, width: width) }
            }
            if !s.missing.isEmpty, let draft = r.actions.first(where: { $0.name == StepAction.draft.rawValue }) {
                lines.append("  fill them in:")
                lines.append("    → crisis act \(shellWord(r.incident)) \(shellWord(r.step)) draft "
                             + s.missing.map { "--set \(shellWord($0))=\(Sym.ellipsis)" }.joined(separator: " ")
                             + (draft.role.map { " --role \(shellWord($0))" } ?? ""))
            }
        }
        if !s.submissions.isEmpty {
            lines.append("")
            lines.append(Colour.bold("Submitted", color))
            for x in s.submissions {
                lines.append("  \(x.phase) notice \(when(x.at)) by \(e(x.by)), sha256 \(x.sha256)")
                if let ref = x.reference {
                    lines.append("    reference \(e(ref))" + (x.received.map { ", receipt recorded \(when($0))" } ?? ""))
                } else {
                    lines.append("    no reference number yet (record it with: receipt --set reference=\(Sym.ellipsis))")
                }
                if let d = x.deadline { lines.append("    the authority's deadline: \(when(d))") }
            }
        }
        return lines
    }

    static func takedown(_ t: StepReport.Takedown, _ r: StepReport, color: Bool, width: Int) -> [String] {
        let e = { (s: String) in TerminalText.escape(s) }
        let when = { (s: String) in HumanTime.show(s, today: r.now) }
        var lines = ["", Colour.bold("Takedown request", color) + ": \(t.status.replacingOccurrences(of: "_", with: " "))"]
        lines.append("  platform \(e(t.platform)) · basis \(t.basis) · submitted by \(t.submitters.joined(separator: " or "))")
        if let route = t.reporting_route.map({ TerminalText.escape($0) }) {
            // A URL is never broken: on a line of its own when it does not fit beside the words.
            if Fit.columns("  send it to: " + route) <= width {
                lines.append("  send it to: " + route)
            } else {
                lines.append("  send it to:")
                lines += Fit.paragraph(route, indent: 4, width: width)
            }
        } else {
            lines.append("  send it through \(e(t.platform))'s own reporting form (not in the platform catalog; the playbook names no route)")
        }
        if let name = t.platform_name {
            lines.append("  \(e(name))" + (t.route_source == "catalog" ? " (route from the platform catalog; check it before a real incident)" : ""))
            if let who = t.who_may_submit { lines += Fit.paragraph("who may submit: " + e(who), indent: 2, width: width) }
            if let typical = t.typical_response { lines += Fit.paragraph("typical response: " + e(typical), indent: 2, width: width) }
        }
        if let until = t.pending_until { lines.append("  the platform decides by \(when(until))") }
        if let c = t.counter_notice {
            lines.append("  counter-notice received \(when(c.received)); the platform may restore the material from "
                         + "\(when(c.restore_from)) to \(when(c.restore_by)) (10 to 14 US business days) unless told of a court action")
        }
        if t.url_results.contains(where: { $0.result != nil }) {
            lines.append("  per URL:")
            for u in t.url_results { lines.append("    \(u.result ?? "no answer yet")  \(e(u.url))" + (u.note.map { " (\(e($0)))" } ?? "")) }
        }
        if let at = t.submitted {
            lines.append("  submitted \(when(at)) by \(e(t.submitted_by ?? "?"))" + (t.ticket.map { ", ticket \(e($0))" } ?? ""))
        }
        var rhythm: [String] = []
        if let f = t.follow_up { rhythm.append("follow up every \(f)") }
        if let g = t.give_up_after { rhythm.append("no response after \(g)") }
        if !rhythm.isEmpty { lines.append("  " + rhythm.joined(separator: "; ")) }
        if t.missing.isEmpty {
            lines.append("  every element the basis requires is filled in")
        } else {
            lines.append(Colour.red("  missing: \(t.missing.joined(separator: ", "))", color))
            if let draft = r.actions.first(where: { $0.name == StepAction.draft.rawValue }) {
                lines.append("  fill them in:")
                lines.append("    → crisis act \(shellWord(r.incident)) \(shellWord(r.step)) draft "
                             + t.missing.map { "--set \(shellWord($0))=\(Sym.ellipsis)" }.joined(separator: " ")
                             + (draft.role.map { " --role \(shellWord($0))" } ?? ""))
            }
        }
        lines.append("")
        lines.append(Colour.bold("Notice, ready to paste", color))
        lines += Fit.paragraph(TerminalText.escape(t.notice, keepNewlines: true), indent: 2, width: width)
        if t.history.count > 0 {
            lines.append("")
            lines.append(Colour.bold("History", color))
            for h in t.history {
                lines.append("  \(when(h.at))  \(h.from) → \(h.to) by \(e(h.by))" + (h.note.map { ": \(e($0))" } ?? ""))
            }
        }
        return lines
    }

    static func escalation(_ x: StepReport.Escalation, _ r: StepReport, color: Bool) -> [String] {
        let e = { (s: String) in TerminalText.escape(s) }
        let when = { (s: String) in HumanTime.show(s, today: r.now) }
        var head = "level \(x.level) of \(x.levels.count), round \(x.round) of \(x.rounds)"
        if let by = x.acknowledged_by { head += ", acknowledged by \(e(by))" }
        var lines = ["", Colour.bold("Escalation", color) + ": " + head]
        for l in x.levels {
            let mark = l.state == "current" ? Sym.current : " "
            var line = " \(mark)level \(l.number)  \(e(l.targets.joined(separator: ", ")))  on \(l.channels.joined(separator: ", "))"
            line += "  ack \(l.ack == "all" ? "by every one" : "by any one") within \(l.ack_timeout)"
            if l.inform { line += "  (inform only)" }
            if let every = l.every { line += "  (next channel every \(every))" }
            lines.append(line)
            for s in l.stand_ins { lines.append("      \(e(s))") }
        }
        if !x.pages.isEmpty {
            lines.append("")
            lines.append(Colour.bold("Pages", color))
            for p in x.pages {
                lines.append("  \(when(p.at))  \(e(p.person)) via \(p.channel)  (level \(p.level), round \(p.round))  "
                             + (p.status ?? "?"))
                // A page waiting for a person to send it (or in doubt) is settled here.
                if p.status == "manual" || p.status == "pending" {
                    lines += Suggest.confirm(incident: r.incident, step: r.step, key: p.short_key ?? p.key)
                }
            }
        }
        if !x.acks.isEmpty || !x.not_reached.isEmpty {
            lines.append("")
            lines.append(Colour.bold("Acknowledgements", color))
            for a in x.acks {
                lines.append("  \(when(a.at))  \(e(a.person))" + (a.channel.map { " via \(e($0))" } ?? "")
                             + (a.standing_in_for.map { " for \(e($0))" } ?? "")
                             + (a.counted ? "" : " (inform only, not counted)")
                             + (a.recorded_by == a.person ? "" : ", recorded by \(e(a.recorded_by))"))
            }
            for n in x.not_reached {
                lines.append("  \(when(n.at))  \(e(n.person)) not reached" + (n.channel.map { " via \(e($0))" } ?? "")
                             + (n.detail.map { ": \(e($0))" } ?? "") + ", recorded by \(e(n.recorded_by))")
            }
        }
        if !x.waiting_for.isEmpty { lines.append("  waiting for: \(e(x.waiting_for.joined(separator: ", "))) (every one must ack)") }
        if let next = x.next {
            // `next` quotes RFC 3339 times: show them as the rest of the page does.
            let shown = next.split(separator: " ").map { HumanTime.show(String($0), today: r.now) }.joined(separator: " ")
            lines.append("  next: \(e(shown))")
        }
        return lines
    }
}
