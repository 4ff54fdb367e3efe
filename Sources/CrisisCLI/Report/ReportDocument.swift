import CrisisCore
import CrisisRuntime
import Foundation

/// The content of an incident report, once, as a stream of blocks: `MarkdownReport` and `HTMLReport` lay the
/// same blocks out. Texts in blocks are as recorded (only controls and bidi characters made visible, as `log`
/// does): each writer escapes them for its format.
enum ReportBlock {
    /// How a cell reads: plain, monospaced, a good or bad result, or secondary.
    enum Tone { case plain, code, good, bad, muted }

    struct Cell {
        var text: String
        var tone: Tone = .plain
        init(_ text: String, _ tone: Tone = .plain) {
            self.text = text
            self.tone = tone
        }
    }

    /// The document title and the line under it.
    case title(String, subtitle: String)
    /// A numbered section (`id` is an anchor name, letters only).
    case section(String, id: String)
    case subsection(String)
    case minor(String)
    /// Name/value rows.
    case facts([(String, Cell)])
    case tableStart([String])
    case row([Cell])
    case tableEnd
    case paragraph(String, Tone)
    /// A statement text in one language, lines kept.
    case quote(label: String, text: String)
    /// The HTML report's SVG timeline goes here (Markdown has none).
    case chart
    /// The closing line.
    case footer(String)
    /// Where the blocks that follow go: set aside in one of the channels (a writer keeps their text in a
    /// `SideText` per channel), or with nil written out; `undivert` writes what a channel set aside, in order,
    /// where it stands.
    case divert(Channel?)
    case undivert(Channel)

    /// The parts of a report laid out in the pass over the trail, before the parts that come ahead of them.
    enum Channel { case notes, timeline }
}

enum ReportDocument {
    /// The marking of a drill, on every page.
    static let drillMarking = "DRILL — EXERCISE ONLY — nothing was sent to the world; times are the drill's simulated clock"

    /// Builds the report of incident `id` and writes its blocks, in one pass over the trail: the notes and the
    /// timeline are laid out as the records go by and set aside (`divert`), then `begin` is called with the
    /// report, the blocks that come before them are written, and they are written out in their places.
    @discardableResult
    static func write(service: IncidentService, incident id: String, begin: (IncidentReport) throws -> Void,
                      emit: (ReportBlock) throws -> Void) throws -> IncidentReport
    {
        var tail: Tail?
        let report = try IncidentReport.build(service: service, incident: id, replayed: { tail = Tail(incident: $0) },
                                              each: { entry in try tail?.add(entry, emit: emit) })
        var rest = tail ?? Tail(incident: report.incident)
        try begin(report)
        try blocks(report, emit: emit)
        try rest.end(report, emit: emit)
        return report
    }

    /// Writes the blocks of a report already built: the notes and timeline from a second pass over the trail.
    static func write(_ report: IncidentReport, begin: (IncidentReport) throws -> Void,
                      emit: (ReportBlock) throws -> Void) throws
    {
        var tail = Tail(incident: report.incident)
        try report.forEachEntry { entry in try tail.add(entry, emit: emit) }
        try begin(report)
        try blocks(report, emit: emit)
        try tail.end(report, emit: emit)
    }

    /// The notes table and the timeline, laid out record by record and set aside until `end` writes them.
    struct Tail {
        let incident: LoadedIncident
        let clock: ZoneClock
        var timeline: ReportTimeline
        var people: [String: String] = [:]
        var notes = 0
        var open = false
        static let columns = ["#", "Time", "Who", "What"]

        init(incident: LoadedIncident) {
            self.incident = incident
            let zone = ZoneFormat(identifier: incident.definition.playbook.timeZone)
            clock = ZoneClock(zone)
            timeline = ReportTimeline(incident: incident, zone: zone)
        }

        /// A person's name as `blocks` shows it (`IncidentReport.person`, escaped), kept for the next line.
        mutating func who(_ id: String) -> String {
            if let known = people[id] { return known }
            var name = id
            if let p = incident.definition.contacts?.person(id), p.name != id { name = "\(p.name) (\(id))" }
            let text = TerminalText.escape(name)
            if people.count < 4096 { people[id] = text }
            return text
        }

        mutating func add(_ entry: TimelineEntry, emit: (ReportBlock) throws -> Void) throws {
            if case .note(let n)? = entry.record {
                try emit(.divert(.notes))
                if notes == 0 { try emit(.tableStart(["#", "When", "By", "Note"])) }
                notes += 1
                try emit(.row([.init("\(entry.stored.seq)"), .init(clock.human(n.now)), .init(who(n.actor.name)),
                               .init(TerminalText.escape(n.text, keepNewlines: true))]))
                try emit(.divert(nil))
            }
            var open = self.open
            try timeline.add(entry) { row in try Self.emitRow(row, open: &open, emit: emit) }
            self.open = open
        }

        static func emitRow(_ row: ReportTimeline.Row, open: inout Bool, emit: (ReportBlock) throws -> Void) throws {
            try emit(.divert(.timeline))
            switch row {
            case .day(let heading):
                if open { try emit(.tableEnd) }
                try emit(.minor(heading))
                try emit(.tableStart(columns))
                open = true
            case .line(let l):
                if !open {
                    try emit(.tableStart(columns))
                    open = true
                }
                let bad = FastText.containsAny(l.what, ReportDocument.badWords)
                try emit(.row([.init("\(l.seq)", .muted), .init(l.clock, .code), .init(l.who),
                               .init(l.what, bad ? .bad : .plain)]))
            }
            try emit(.divert(nil))
        }

        /// 6. Notes and 7. the timeline, then the closing line.
        mutating func end(_ r: IncidentReport, emit: (ReportBlock) throws -> Void) throws {
            var open = self.open
            try timeline.end { row in try Self.emitRow(row, open: &open, emit: emit) }
            let s = r.summary
            try emit(.section("Notes", id: "notes"))
            if notes == 0 {
                try emit(.paragraph("No notes.", .muted))
            } else {
                try emit(.undivert(.notes))
                try emit(.tableEnd)
            }
            try emit(.section("Timeline", id: "timeline"))
            try emit(.paragraph("Every record as 'crisis log' tells it (delivery plumbing folded into the line that "
                + "caused it); # is the record's sequence number in the hash chain.", .muted))
            try emit(.undivert(.timeline))
            if open { try emit(.tableEnd) }
            try emit(.footer("Exported by crisis \(CrisisVersion.release) from \(s.records) records of incident "
                + "\(s.incident) (chain head \(s.chainHead)). This report is a reading aid: the evidence is the trail; "
                + "check it with 'crisis verify \(s.incident)' or a bundle ('crisis export \(s.incident) --format bundle')."))
        }
    }

    /// Writes the blocks of `report` that come before its notes and timeline (`Tail` writes those).
    static func blocks(_ r: IncidentReport, emit: (ReportBlock) throws -> Void) throws {
        let s = r.summary
        let clock = ZoneClock(r.zone)
        let e = { (text: String) in TerminalText.escape(text) }
        let text = { (t: String) in TerminalText.escape(t, keepNewlines: true) }
        func at(_ i: Instant?) -> String { i.map(clock.human) ?? "—" }
        // A trail names the same few people over and over.
        var people: [String: String] = [:]
        func who(_ id: String) -> String {
            if let known = people[id] { return known }
            let name = e(r.person(id))
            if people.count < 4096 { people[id] = name }
            return name
        }

        try emit(.title("\(r.exercise == nil ? "Incident report" : "After-action report"): \(e(s.title))", subtitle:
            "Playbook \(e(s.playbookTitle)) (\(e(s.playbookID))@\(e(s.playbookVersion))) · incident \(s.incident) · "
                + (s.isDrill ? "drill" : "live")))

        // 1. Summary
        try emit(.section("Summary", id: "summary"))
        var facts: [(String, ReportBlock.Cell)] = [
            ("What happened", .init(s.title == s.playbookTitle ? e(s.title) : "\(e(s.title)) (playbook: \(e(s.playbookTitle)))")),
            ("Incident", .init(s.incident, .code)),
            ("Playbook", .init("\(e(s.playbookID))@\(e(s.playbookVersion)), sha256 \(s.playbookSHA256)", .code)),
            ("Mode", .init(s.isDrill ? "drill (exercise)" : "live", s.isDrill ? .bad : .plain)),
            ("Opened", .init("\(at(s.openedAt)) by \(who(s.openedBy))")),
        ]
        if let closed = s.closedAt {
            facts.append(("Closed", .init("\(at(closed))" + (s.closedBy.map { " by \(who($0))" } ?? ""))))
            facts.append(("Duration", .init(humanDuration(closed - s.openedAt))))
        } else {
            facts.append(("Closed", .init("still open at the last record (\(at(s.lastRecordAt)))", .bad)))
        }
        facts.append(("Led by", .init(s.leads.map(who).joined(separator: ", "))))
        facts.append(("How it ended", .init(s.outcome.map(e) ?? "not closed", s.outcome == nil ? .muted : .plain)))
        if let reason = s.closeReason { facts.append(("Close reason", .init(e(reason)))) }
        facts.append(("Time zone", .init("\(s.timeZone) (every time below is local, with its UTC offset)")))
        facts.append(("Records", .init("\(s.records); chain head \(s.chainHead)", .code)))
        for input in s.inputs { facts.append(("Input \(e(input.name))", .init(e(input.value)))) }
        try emit(.facts(facts))
        let counts = [
            (r.statements.count, "statement"), (r.takedowns.count, "takedown"), (r.escalations.count, "escalation"),
            (r.clocks.count, "clock"), (r.targets.count, "target"), (r.noteCount, "note"),
        ].map { "\($0.0) \($0.1)\($0.0 == 1 ? "" : "s")" }
        try emit(.paragraph("This report holds " + counts.joined(separator: ", ") + ", then the timeline.", .muted))
        try emit(.chart)

        if let x = r.exercise { try exercise(x, at: at, emit: emit) }

        // 2. Clocks and targets
        try emit(.section("Clocks and targets", id: "clocks"))
        func result(_ x: IncidentReport.Result) -> ReportBlock.Cell {
            switch x {
            case .met(let spare): .init("met, \(humanDuration(spare)) to spare", .good)
            case .missed(let by): .init("MISSED by \(humanDuration(by))", .bad)
            case .running(let left): .init("running at the last record, \(humanDuration(left)) left", .muted)
            case .notMet: .init("not met before close", .bad)
            case .notStarted: .init("not started", .muted)
            }
        }
        if r.clocks.isEmpty {
            try emit(.paragraph("No clock was started.", .muted))
        } else {
            try emit(.tableStart(["Clock", "Started", "Deadline", "Stopped", "Result"]))
            for c in r.clocks {
                var name = "\(e(c.title)) (\(e(c.id)))" + (c.reference.map { "; \(e($0))" } ?? "")
                if let d = c.deadlineSet {
                    name += "; deadline set by \(who(d.by)) at \(at(d.at)) (was \(at(d.previous))): \(e(d.reason))"
                }
                try emit(.row([.init(name), .init(at(c.startedAt)), .init(at(c.deadline)), .init(at(c.stoppedAt)),
                               result(c.result)]))
            }
            try emit(.tableEnd)
        }
        if r.targets.isEmpty {
            try emit(.paragraph("The playbook sets no targets.", .muted))
        } else {
            try emit(.tableStart(["Target", "Counts from", "Due", "Met", "Result"]))
            for t in r.targets {
                let met = t.metAt.map { at($0) } ?? t.reachedLateAt.map { "\(at($0)) (late)" } ?? at(nil)
                try emit(.row([.init("\(e(t.title)) (\(e(t.id)))"), .init(at(t.origin)), .init(at(t.due)),
                               .init(met), result(t.result)]))
            }
            try emit(.tableEnd)
        }
        // Cadences: each recurring promise (an update every 30 minutes), its occurrences met and missed.
        let cadences = r.incident.definition.playbook.cadences.compactMap { spec in
            r.incident.state.cadences.first { $0.id == spec.id }.map { (spec, $0) }
        }
        if !cadences.isEmpty {
            try emit(.tableStart(["Cadence", "Every", "Occurrences", "Met", "Missed", "Missed occurrences"]))
            for (spec, run) in cadences {
                let missed = run.occurrences.filter(\.missed).map { "#\($0.number) due \(at($0.due))" }
                try emit(.row([.init("\(e(spec.title)) (\(e(spec.id)))"), .init(humanDuration(spec.every)),
                               .init("\(run.occurrences.count)"), .init("\(run.met)"),
                               .init("\(run.missed)", run.missed > 0 ? .bad : .good),
                               .init(missed.isEmpty ? "none" : missed.joined(separator: ", "))]))
            }
            try emit(.tableEnd)
        }

        // 3. Statements
        try emit(.section("Statements", id: "statements"))
        if r.statements.isEmpty { try emit(.paragraph("No holding statement step ran.", .muted)) }
        for st in r.statements {
            try emit(.subsection("\(e(st.title)) (\(e(st.instance)))"))
            try emit(.facts([
                ("Entered", .init(at(st.enteredAt))),
                ("Finished", .init(st.exitedAt.map { "\(at($0)): \(e(st.outcome ?? ""))" } ?? "still active (\(st.phase.rawValue))")),
                ("Versions", .init("\(st.drafts.count)")),
            ]))
            for d in st.drafts {
                try emit(.minor("Revision \(d.revision), drafted by \(who(d.drafter)) at \(at(d.at))"))
                var rows: [(String, ReportBlock.Cell)] = [("Text sha256", .init(d.sha256, .code))]
                for (k, v) in d.facts.sorted(by: { $0.key < $1.key }) { rows.append(("Fact \(e(k))", .init(e(v)))) }
                // Measures and failed checks as recorded at draft (none for drafts before crisis/0.4).
                for m in d.checks.measures { rows.append(("Length \(e(m.channel)) (\(e(m.language)))", .init(lengthText(m)))) }
                for f in d.checks.findings { rows.append(("Failed check", .init(e(f.summary), .bad))) }
                try emit(.facts(rows))
                for (lang, body) in d.texts.sorted(by: { $0.key < $1.key }) {
                    try emit(.quote(label: "Text (\(e(lang)))", text: text(body)))
                }
                for (channel, texts) in d.variants.sorted(by: { $0.key < $1.key }) {
                    for (lang, body) in texts.sorted(by: { $0.key < $1.key }) {
                        try emit(.quote(label: "Text for \(e(channel)) (\(e(lang)))", text: text(body)))
                    }
                }
                if d.texts.isEmpty { try emit(.paragraph("Text not recorded; its hash is above.", .muted)) }
                if let previous = st.drafts.last(where: { $0.revision == d.revision - 1 }) {
                    for (lang, body) in d.texts.sorted(by: { $0.key < $1.key }) {
                        guard let diff = TextDiff.inline(previous.texts[lang] ?? "", body, context: 8) else { continue }
                        try emit(.quote(label: "Changes from revision \(previous.revision) (\(e(lang)))", text: text(diff)))
                    }
                }
            }
            try emit(.minor("Approvals"))
            if st.decisions.isEmpty {
                try emit(.paragraph("No approval or rejection was recorded.", .muted))
            } else {
                try emit(.tableStart(["When", "Who", "Role", "Decision", "Revision", "Text sha256", "Comment"]))
                for a in st.decisions {
                    try emit(.row([.init(at(a.at)), .init(who(a.person)), .init(e(a.role)),
                                   .init(a.approved ? "approved" : "rejected", a.approved ? .good : .bad),
                                   .init("\(a.revision)"), .init(String(a.sha256.prefix(16)) + "…", .code),
                                   .init((a.reason.map(e) ?? "")
                                         + (a.override.map { " (override of failed checks: \(e($0)))" } ?? ""))]))
                }
                try emit(.tableEnd)
            }
            if !st.informed.isEmpty {
                try emit(.minor("Informed of the approved text"))
                try emit(.tableStart(["Channel", "Audience", "Status", "When", "Settled by", "Detail"]))
                for p in st.informed { try emit(.row(delivery(p, at: at, who: who))) }
                try emit(.tableEnd)
            }
            if !st.handovers.isEmpty {
                try emit(.minor("Spokesperson"))
                try emit(.tableStart(["When", "From", "To", "By", "Reason"]))
                for h in st.handovers {
                    try emit(.row([.init(at(h.at)), .init(h.from.map(who) ?? ""), .init(who(h.to)), .init(who(h.by)),
                                   .init(h.reason.map(e) ?? "")]))
                }
                try emit(.tableEnd)
            }
            try emit(.minor("Publications"))
            if st.publications.isEmpty {
                try emit(.paragraph("Not published.", .muted))
            } else {
                try emit(.tableStart(["Channel", "Audience", "Status", "When", "Settled by", "Detail"]))
                for p in st.publications { try emit(.row(delivery(p, at: at, who: who))) }
                try emit(.tableEnd)
            }
        }

        // 4. Takedowns
        try emit(.section("Takedowns", id: "takedowns"))
        if r.takedowns.isEmpty { try emit(.paragraph("No takedown step ran.", .muted)) }
        for t in r.takedowns {
            let run = t.run
            try emit(.subsection("\(e(t.title)) (\(e(t.instance))): \(run.status.rawValue)"))
            var rows: [(String, ReportBlock.Cell)] = [
                ("Platform", .init(e(run.platform))),
                ("URLs", .init(run.urls.map(e).joined(separator: " "), .code)),
                ("Legal basis", .init(t.legalBasis.map(e) ?? "—")),
                ("Entered", .init(at(t.enteredAt))),
                ("Submitted", .init(run.submission.map { "\(at($0.at)) by \(who($0.by))" } ?? "not submitted")),
                ("Ticket", .init(run.ticket.map(e) ?? "—", .code)),
                ("Finished", .init(t.exitedAt.map { "\(at($0)): \(e(t.outcome ?? ""))" } ?? "still active")),
            ]
            if run.submission == nil { rows[4].1.tone = .muted }
            try emit(.facts(rows))
            try emit(.minor("Notice as submitted"))
            if t.notice.isEmpty {
                try emit(.paragraph("No notice elements recorded.", .muted))
            } else {
                try emit(.tableStart(["Element", "Value"]))
                for n in t.notice { try emit(.row([.init(e(n.name), .code), .init(text(n.value))])) }
                try emit(.tableEnd)
            }
            try emit(.minor("Lifecycle"))
            if run.history.isEmpty {
                try emit(.paragraph("No transitions recorded.", .muted))
            } else {
                try emit(.tableStart(["When", "From", "To", "By", "Note"]))
                for h in run.history {
                    try emit(.row([.init(at(h.at)), .init(h.from.rawValue), .init(h.to.rawValue), .init(who(h.by)),
                                   .init(h.note.map(e) ?? "")]))
                }
                try emit(.tableEnd)
            }
        }

        // 5. Escalations
        try emit(.section("Escalations", id: "escalations"))
        if r.escalations.isEmpty { try emit(.paragraph("No escalation step ran.", .muted)) }
        for esc in r.escalations {
            try emit(.subsection("\(e(esc.title)) (\(e(esc.instance)))"))
            try emit(.facts([
                ("Entered", .init(at(esc.enteredAt))),
                ("Finished", .init(esc.exitedAt.map { "\(at($0)): \(e(esc.outcome ?? ""))" } ?? "still active")),
                ("Attempts", .init("\(esc.attempts.count); \(esc.acks.count) acknowledgement(s)")),
            ]))
            try emit(.minor("Page attempts"))
            if esc.attempts.isEmpty {
                try emit(.paragraph("Nobody was paged.", .muted))
            } else {
                try emit(.tableStart(["Attempt", "Paged at", "To", "Channel", "Status", "Settled", "Detail"]))
                for a in esc.attempts {
                    let label = "#\(a.attempt), level \(a.level + 1), round \(a.round + 1)"
                    if a.pages.isEmpty { try emit(.row([.init(label), .init(at(a.at)), .init("—"), .init(""), .init(""), .init(""), .init("")])) }
                    for p in a.pages {
                        let d = delivery(p, at: at, who: who)
                        try emit(.row([.init(label), .init(at(a.at)), .init(p.recipients.map(who).joined(separator: ", ")),
                                       .init(e(p.channel)), d[2], d[3], d[5]]))
                    }
                }
                try emit(.tableEnd)
            }
            try emit(.minor("Acknowledgements"))
            if esc.acks.isEmpty {
                try emit(.paragraph("Nobody acknowledged.", .bad))
            } else {
                try emit(.tableStart(["When", "Who", "Channel", "Level", "Counted", "Recorded by"]))
                for a in esc.acks {
                    let person = who(a.person) + (a.standingInFor.map { " (standing in for \(who($0)))" } ?? "")
                    try emit(.row([.init(at(a.at)), .init(person, .good), .init(a.channel.map(e) ?? "—"),
                                   .init("level \(a.level + 1), round \(a.round + 1)"),
                                   .init(a.counted ? "yes" : "no (informed only)"), .init(who(a.recordedBy))]))
                }
                try emit(.tableEnd)
            }
            if !esc.notReached.isEmpty {
                try emit(.minor("Not reached"))
                try emit(.tableStart(["When", "Who", "Channel", "Detail", "Recorded by"]))
                for n in esc.notReached {
                    try emit(.row([.init(at(n.at)), .init(who(n.person), .bad), .init(n.channel.map(e) ?? "—"),
                                   .init(n.detail.map(e) ?? ""), .init(who(n.recordedBy))]))
                }
                try emit(.tableEnd)
            }
        }
    }

    /// Words that mark a timeline line as bad news.
    static let badWords = ["REFUSED", "MISSED", "missed ", "EXPIRED", "expired", "exceeded"].map { Array($0.utf8) }

    /// A drill's after-action part: the score with its evidence, then the improvement plan from the debrief.
    static func exercise(_ x: DrillScore, at: (Instant?) -> String, emit: (ReportBlock) throws -> Void) throws {
        let e = { (text: String) in TerminalText.escape(text) }
        try emit(.section("Exercise evaluation", id: "evaluation"))
        try emit(.facts([
            ("Scenario", .init("\(e(x.scenario)): \(e(x.title))")),
            ("Ended", .init((x.outcome.map(e) ?? "not closed") + (x.expected_outcome.map { " (expected: \(e($0)))" } ?? ""),
                            x.outcome == x.expected_outcome ? .good : .bad)),
            ("Drill time", .init(x.span)),
            ("Refused actions", .init("\(x.refusals)", x.refusals == 0 ? .plain : .bad)),
        ]))
        try emit(.minor("Times from the start"))
        try emit(.tableStart(["Moment", "After", "Evidence"]))
        for m in x.measures {
            try emit(.row([.init(m.name), .init(m.after ?? "never", m.after == nil ? .muted : .plain),
                           .init(m.record.map { "record \($0)" } ?? "—", .muted)]))
        }
        try emit(.tableEnd)
        if !x.objectives.isEmpty {
            try emit(.minor("Objectives"))
            try emit(.tableStart(["Objective", "Within", "Reached after", "Rating", "Evidence"]))
            for o in x.objectives {
                let tone: ReportBlock.Tone = o.rating == DrillScore.Rating.performed.rawValue ? .good
                    : o.rating == DrillScore.Rating.someChallenges.rawValue ? .plain : .bad
                try emit(.row([.init("\(e(o.title)) (\(e(o.id)))"), .init(o.within), .init(o.after ?? "never"),
                               .init(o.rating, tone), .init(o.evidence.map { "record \($0)" }.joined(separator: ", "), .muted)]))
            }
            try emit(.tableEnd)
        }
        if !x.decisions.isEmpty {
            try emit(.minor("Decisions"))
            try emit(.tableStart(["Decision point", "Expected", "Chosen", "Evidence"]))
            for d in x.decisions {
                try emit(.row([.init(e(d.step)), .init(e(d.expected)), .init(d.chosen.map(e) ?? "none", d.matches ? .good : .bad),
                               .init(d.record.map { "record \($0)" } ?? "—", .muted)]))
            }
            try emit(.tableEnd)
        }
        if !x.injects.isEmpty {
            try emit(.minor("Injects"))
            try emit(.tableStart(["Inject", "At", "Played", "Answered", "Evidence"]))
            for i in x.injects {
                let answered: ReportBlock.Cell
                switch i.answered {
                case nil: answered = .init("—", .muted)
                case true?:
                    answered = .init("after \(i.answered_after ?? "?")" + (i.rating.map { ": \($0)" } ?? ""),
                                     i.rating.map { $0 == DrillScore.Rating.performed.rawValue ? .good : .bad } ?? .plain)
                case false?: answered = .init("not answered" + (i.rating.map { ": \($0)" } ?? ""), .bad)
                }
                let evidence = [i.record.map { "record \($0)" }, i.answer_record.map { "answer record \($0)" }].compactMap { $0 }
                try emit(.row([.init(e(i.id)), .init(i.at), .init(i.delivered ? "yes" : "no (its condition did not hold)",
                                                                   i.delivered ? .plain : .muted),
                               answered, .init(evidence.isEmpty ? "—" : evidence.joined(separator: ", "), .muted)]))
            }
            try emit(.tableEnd)
        }
        try emit(.minor("Strengths"))
        let strengths = x.hot_wash.filter { $0.kind == .strength }
        if strengths.isEmpty {
            try emit(.paragraph("None noted yet: the debrief tags them with 'crisis note ID \"#strength …\"'.", .muted))
        }
        for s in strengths { try emit(.paragraph("\(e(s.text)) (record \(s.record))", .good)) }
        try emit(.minor("Improvement plan"))
        let plan = x.hot_wash.filter { $0.kind == .improvement }
        if plan.isEmpty {
            try emit(.paragraph("No area for improvement noted yet: 'crisis note ID \"#improve owner=ID due=YYYY-MM-DD …\"'.", .muted))
        } else {
            try emit(.tableStart(["Area for improvement", "Owner", "Due", "Evidence"]))
            for i in plan {
                try emit(.row([.init(e(i.text)), .init(i.owner.map(e) ?? "not assigned", i.owner == nil ? .bad : .plain),
                               .init(i.due.map(e) ?? "not set", i.due == nil ? .bad : .plain), .init("record \(i.record)", .muted)]))
            }
            try emit(.tableEnd)
        }
        let parked = x.hot_wash.filter { $0.kind == .parkingLot }
        if !parked.isEmpty {
            try emit(.minor("Parking lot"))
            for p in parked { try emit(.paragraph("\(e(p.text)) (record \(p.record))", .plain)) }
        }
    }

    /// A delivery's cells: channel, audience, status, when settled, by whom, detail.
    static func delivery(_ p: IncidentReport.Delivered, at: (Instant?) -> String, who: (String) -> String)
        -> [ReportBlock.Cell]
    {
        let tone: ReportBlock.Tone = p.status == "sent" ? .good : p.status == "failed" || p.status == "pending" ? .bad : .plain
        return [.init(TerminalText.escape(p.channel + (p.language.map { " (\($0))" } ?? ""))),
                .init(p.recipients.map(who).joined(separator: ", ")),
                .init(p.status, tone), .init(at(p.settledAt)), .init(p.settledBy.map(who) ?? "—"),
                .init(p.detail.map { TerminalText.escape($0) } ?? "")]
    }
}

/// A way of laying out a report's blocks (Markdown, HTML): given `layOut`, it writes a report already built, or
/// builds one and writes it in one pass over the trail.
protocol ReportLayout {
    /// Lays out the blocks `produce` emits; `begin` (called by it once the report is built, before the first
    /// block written out) writes what heads the output (the page's head, the drill's marking).
    static func layOut<T>(
        _ out: @escaping (String) throws -> Void,
        _ produce: (_ begin: (IncidentReport) throws -> Void, _ emit: (ReportBlock) throws -> Void) throws -> T
    ) throws -> T
}

extension ReportLayout {
    /// Writes a report already built (its notes and timeline read from the trail again).
    static func write(_ report: IncidentReport, to out: (String) throws -> Void) throws {
        try render(out) { begin, emit in try ReportDocument.write(report, begin: begin, emit: emit) }
    }

    /// Builds the report of incident `id` and writes it, in one pass over the trail; returns the report.
    @discardableResult
    static func write(service: IncidentService, incident id: String, to out: (String) throws -> Void) throws
        -> IncidentReport
    {
        try render(out) { begin, emit in
            try ReportDocument.write(service: service, incident: id, begin: begin, emit: emit)
        }
    }

    private static func render<T>(
        _ out: (String) throws -> Void,
        _ produce: (_ begin: (IncidentReport) throws -> Void, _ emit: (ReportBlock) throws -> Void) throws -> T
    ) throws -> T {
        try withoutActuallyEscaping(out) { out in try layOut(out, produce) }
    }
}
