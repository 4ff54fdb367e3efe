import ArgumentParser
import CrisisCore
import CrisisPlaybook
import CrisisRuntime
import Foundation

/// `crisis drill`: exercises from a scenario file (docs/drill-format.md).
struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Run a drill from a scenario file, and score it.",
        usage: """
            crisis drill SCENARIO [--auto | --speed N | --tabletop] [--db PATH]
              crisis drill resume ID [--auto | --speed N]
              crisis drill score [ID] [--json]
              crisis drill check SCENARIO...
            """,
        discussion: """
            A scenario (docs/drill-format.md) runs a playbook as a drill with injects, the team's expected actions, \
            the outside world's behaviour and objectives. 'crisis drill run --help' explains the ways to play one. \
            Example: crisis drill Examples/drills/employee-post-viral.yaml --auto --db drill.sqlite
            """,
        subcommands: [DrillRunCommand.self, DrillResumeCommand.self, DrillScoreCommand.self, DrillCheckCommand.self],
        defaultSubcommand: DrillRunCommand.self)
}

/// How a drill is played: `--auto`, `--speed N`, or step by step (the default).
struct DrillPaceOptions: ParsableArguments {
    @Flag(help: "Play the scenario unattended: the team's expected actions too.") var auto = false
    @Option(help: ArgumentHelp(
        "Facilitated: run the drill clock at N times real time (60: a minute a second).", valueName: "N"))
    var speed: Double?
    @Flag(help: "A tabletop exercise: the scenario's modules, injects and questions for the room; answers recorded.")
    var tabletop = false
    @Flag(help: "Print the final score as JSON (progress goes to standard error).") var json = false

    func validate() throws {
        if let speed, !(speed > 0) || !speed.isFinite { throw ValidationError("--speed must be a number above 0, not \(speed)") }
        if auto, speed != nil { throw ValidationError("--auto moves the clock at once; leave out --speed") }
        if tabletop, auto || speed != nil { throw ValidationError("--tabletop is discussion-based: leave out --auto and --speed") }
    }

    var mode: DrillRunner.Mode { auto ? .auto : .facilitated }
    var pace: DrillRunner.Pace { auto ? .instant : speed.map { .speed($0) } ?? .step }
}

struct DrillRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start a drill from a scenario and play it.",
        usage: "crisis drill SCENARIO [--auto | --speed N | --tabletop] [--db PATH]",
        discussion: """
            Facilitated (the default): the players work the drill with the same board and commands as a live \
            incident ('crisis run ID' in their own terminals); this command plays the injects at their simulated \
            times, the outside world's scripted behaviour and the clock. Step by step, it says what comes next and \
            moves the clock there when you press Enter (q pauses); at each team action the script expects, the \
            clock stands still until the players have done it (Enter when done, s skips it), so a drill worked as \
            the script says leaves the same trail as --auto. With --speed N the clock runs at N times real \
            time (Ctrl-C pauses). A paused drill goes on with 'crisis drill resume ID'.
            --auto plays the scenario unattended: the team's expected actions too, each when it becomes possible \
            plus its delay; the clock moves at once from one event to the next. For regression tests and \
            demonstrations. Exit 0 when the drill ends as the scenario expects, 1 when it does not.
            --tabletop walks the scenario's modules for a room: each module's injects and questions, the answers \
            typed by the facilitator recorded as the drill's timeline (a question at a playbook decision point takes \
            one of the step's options and is scored against the expected one); 'p TEXT' notes a parking-lot item, \
            'n' skips to the next module, 'q' stops.
            Every outbound message goes to the sandbox. The scenario is checked against its playbook and contacts \
            first: every problem at once, as file:line:column, and nothing is started.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var display: DisplayOptions
    @Argument(help: ArgumentHelp("The scenario file (crisis-scenario/v1).", valueName: "scenario"), completion: .file())
    var scenario: String
    @OptionGroup var pace: DrillPaceOptions
    @OptionGroup var op: OperatorOptions

    func run() async throws {
        let loaded = ScenarioLoader.load(path: scenario)
        for d in loaded.diagnostics { Out.error(d.description) }
        guard let s = loaded.scenario else { throw ExitCode(ExitStatus.refused) }
        do {
            let service = try store.service(create: true)
            guard let bytes = FileManager.default.contents(atPath: scenario) else {
                throw RuntimeError.invalid("cannot read \(scenario)")
            }
            let runner = DrillRunner(service: service, scenario: s,
                                     scenarioFile: ((scenario as NSString).lastPathComponent, [UInt8](bytes)))
            if pace.tabletop {
                guard !s.modules.isEmpty else {
                    throw RuntimeError.invalid("\(scenario) has no modules: a tabletop walks a scenario's 'modules'")
                }
                let id = try runner.start(wallNow: .wallClock())
                try Tabletop(service: service, scenario: s, id: id, actor: op.actor).run()
                return
            }
            let id = try runner.start(wallNow: .wallClock())
            try playDrill(runner, id: id, service: service, pace: pace, store: store)
        } catch let e as ExitCode {
            throw e
        } catch {
            throw fail(error, json: pace.json)
        }
    }
}

struct DrillResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Go on with a paused drill, where its trail says it stands.",
        usage: "crisis drill resume ID [--auto | --speed N]",
        discussion: """
            The scenario is read from the trail (pinned when the drill started); the injects already played and \
            the scripted actions already done are not played again.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var display: DisplayOptions
    @Argument(help: "Incident id or a short part of it.", completion: Complete.incidents("drill resume")) var id: String
    @OptionGroup var pace: DrillPaceOptions

    func run() async throws {
        do {
            let service = try store.service()
            let id = try service.resolveIncident(id)
            let s = try DrillScore.scenario(service.store, id)
            let runner = DrillRunner(service: service, scenario: s, scenarioFile: (s.id, []))
            try playDrill(runner, id: id, service: service, pace: pace, store: store)
        } catch let e as ExitCode {
            throw e
        } catch {
            throw fail(error, json: pace.json)
        }
    }
}

/// Plays a started drill as the options say, prints its progress and score; exit 1 if it ends otherwise than
/// the scenario expects (or is paused).
func playDrill(_ runner: DrillRunner, id: String, service: IncidentService, pace: DrillPaceOptions,
               store: StoreOptions) throws {
    let s = runner.scenario
    let started = Date()
    let zone = ZoneFormat(identifier: (try? service.load(id).definition.playbook.timeZone) ?? "UTC")
    let say: (String) -> Void = { line in if pace.json { Out.error(line) } else { Out.print(line) } }
    let width = Fit.terminalWidth()
    say(Fit.lines("DRILL \(TerminalText.escape(s.id)): \(TerminalText.escape(s.title))", width: width).joined(separator: "\n"))
    say(Fit.lines("incident \(id), drill clock from \(zone.human(s.start))", width: width).joined(separator: "\n"))
    if pace.mode == .facilitated {
        say(Fit.lines("players: crisis run \(id)  (each player, in their own terminal)", width: width).joined(separator: "\n"))
    }
    let signals = pace.speed != nil ? StopSignals() : nil
    let outcome = try runner.play(
        id, mode: pace.mode, pace: pace.pace, wallNow: { .wallClock() },
        proceed: { pending in
            if signals != nil { return StopSignals.requested ? .pause : .go }
            let when = DrillText.offset(pending.at, from: s.start)
            let ask = pending.waiting
                ? "\(when)  waiting for \(pending.what.replacingOccurrences(of: "players: ", with: ""))  [Enter: "
                    + "done, s: skip, q: pause]"
                : "next: \(when)  \(pending.what)  [Enter: go there, q: pause]"
            Out.error(Fit.lines(ask, width: width).joined(separator: "\n"))
            guard let line = readLine() else { return .pause }
            switch line.trimmingCharacters(in: .whitespaces).lowercased() {
            case "q": return .pause
            case "s" where pending.waiting: return .skip
            default: return .go
            }
        },
        sleep: { seconds in
            guard let signals else { return }
            _ = signals.wake.wait(timeout: .now() + seconds)
        }
    ) { step in say(DrillText.progress(step, start: s.start)) }
    let seconds = Date().timeIntervalSince(started)
    if outcome.stoppedBecause == "paused by the facilitator" {
        say("paused at \(DrillText.offset(s.start + outcome.span, from: s.start)); go on with:\n"
            + Fit.lines("→ crisis drill resume \(id)", width: width).joined(separator: "\n"))
        throw ExitCode(ExitStatus.refused)
    }
    let score = try DrillScore.compute(service, id)
    if pace.json {
        try Out.json(score)
    } else {
        Out.print("")
        Out.print(DrillText.score(score))
    }
    say(String(format: "played %@ of drill time in %.2f s", humanDuration(outcome.span), seconds))
    if let why = outcome.stoppedBecause { Out.error("the drill stopped: \(why)") }
    // The after-action report, next to the database: its path is the last thing said.
    let folder = (store.path as NSString).deletingLastPathComponent
    let reportPath = (folder.isEmpty ? "" : folder + "/") + "\(id).after-action.md"
    var markdown = ""
    try MarkdownReport.write(try IncidentReport.build(service: service, incident: id)) { markdown += $0 }
    if FileManager.default.createFile(atPath: reportPath, contents: Data(markdown.utf8)) {
        say("as a page:\n" + Fit.lines("→ crisis export \(id) --format html -o \(id).html", width: Fit.terminalWidth())
            .joined(separator: "\n"))
        say("after-action report: \(reportPath)")
    } else {
        say("after-action report: crisis export \(id) --format md  (could not write \(reportPath))")
    }
    var expected = s.expectedOutcome.map { outcome.closed == $0 } ?? (outcome.closed != nil)
    if !expected {
        Out.error("the drill did not end as the scenario expects (closed: \(outcome.closed ?? "no"); "
                  + "expected: \(s.expectedOutcome ?? "closed"))")
    }
    // The second incidents its injects opened: each its own incident, score and report.
    for second in outcome.opened {
        let other = try DrillScore.compute(service, second.incident)
        let fine = other.expected_outcome.map { second.closed == $0 } ?? (second.closed != nil)
        expected = expected && (fine || pace.mode != .auto)
        say(Fit.lines("second incident \(second.incident): " + (second.closed.map { "closed: \($0)" } ?? "open")
                      + (other.expected_outcome.map { " (expected: \($0))" } ?? "")
                      + "; its score: crisis drill score \(second.incident)", width: width).joined(separator: "\n"))
        if let why = second.stoppedBecause { Out.error("the second incident stopped: \(why)") }
    }
    if !expected { throw ExitCode(ExitStatus.refused) }
}

struct DrillScoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score a drill from its trail: times, objectives rated with their evidence, targets, decisions, injects.",
        discussion: """
            The scenario is read from the trail (it was pinned when the drill started), so a drill scores the same \
            on any machine. Ratings: performed without challenges (within the objective's time), with some \
            challenges (up to half as long again), with major challenges (later), unable to be performed (never).
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var display: DisplayOptions
    @Argument(help: "Incident id or a short part of it (default: the latest open incident).",
              completion: Complete.incidents("drill score"))
    var id: String?
    @Flag(help: "Machine-readable output.") var json = false

    func run() async throws {
        do {
            let service = try store.service(reading: true)
            let score = try DrillScore.compute(service, try service.resolveIncident(id))
            if json { try Out.json(score) } else { Out.print(DrillText.score(score)) }
        } catch {
            throw fail(error, json: json)
        }
    }
}

struct DrillCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check scenario files against their playbooks and contacts (exit 0 valid, 1 invalid).")

    @OptionGroup var display: DisplayOptions
    @Argument(help: ArgumentHelp("Scenario files.", valueName: "scenario"), completion: .file()) var files: [String]

    func run() async throws {
        var bad = false
        for file in files {
            let loaded = ScenarioLoader.load(path: file)
            for d in loaded.diagnostics { Out.print(d.description) }
            if loaded.scenario == nil { bad = true } else { Out.print("\(file): ok") }
        }
        if bad { throw ExitCode(ExitStatus.refused) }
    }
}

enum DrillText {
    static func offset(_ at: Instant, from start: Instant) -> String {
        let minutes = max(0, (at - start).milliseconds / 60_000)
        return String(format: "T+%d:%02d", minutes / 60, minutes % 60)
    }

    static func progress(_ step: DrillRunner.Step, start: Instant, width: Int = Fit.terminalWidth()) -> String {
        let e = { (s: String) in TerminalText.escape(s) }
        let line: String
        switch step {
        case .started(let id): line = "started \(id)"
        case .inject(let inject, let at):
            line = "\(offset(at, from: start))  INJECT \(inject.id)"
                + (inject.from.map { " from \(e($0))" } ?? "") + ": \(e(inject.content))"
        case .skippedInject(let inject, let why): line = "         inject \(inject.id) not played: \(e(why))"
        case .acted(let s, let instance, let person, let at):
            let fields = s.fields.sorted { $0.key < $1.key }.map { "\($0.key)=\(e($0.value))" }.joined(separator: " ")
            line = "\(offset(at, from: start))  \(s.world ? "world " : "")\(e(instance)) \(e(s.action))"
                + (fields.isEmpty ? "" : " \(fields)") + "  (\(e(person)))"
        case .refused(let s, let instance, let message, let at):
            line = "\(offset(at, from: start))  REFUSED \(e(instance)) \(e(s.action)): \(e(message))"
        case .timers(let count, let at):
            line = "\(offset(at, from: start))  \(count) timer\(count == 1 ? "" : "s") fired"
        case .opened(let id, let scenario, let at):
            line = "\(offset(at, from: start))  SECOND INCIDENT \(id) (\(e(scenario))): players, crisis run \(id)"
        case .second(let id, let inner):
            // The second incident's events on the same drill clock, marked with its short id as on the board.
            let mark = "[\(id.suffix(4))] "
            return progress(inner, start: start, width: width - mark.count).split(separator: "\n", omittingEmptySubsequences: false)
                .enumerated().map { $0.offset == 0 ? mark + $0.element : String(repeating: " ", count: mark.count) + $0.element }
                .joined(separator: "\n")
        }
        return Fit.lines(line, width: width).joined(separator: "\n")
    }

    static func score(_ s: DrillScore) -> String {
        let e = { (x: String) in TerminalText.escape(x) }
        var lines = ["DRILL SCORE  \(e(s.scenario)): \(e(s.title))",
                     "incident \(s.incident)  " + (s.outcome.map { "closed: \(e($0))" } ?? "not closed")
                        + (s.expected_outcome.map { " (expected: \(e($0)))" } ?? "") + "  drill time \(s.span)", ""]
        lines.append("Times from the start")
        for m in s.measures {
            lines.append("  " + m.name.padding(toLength: 30, withPad: " ", startingAt: 0)
                         + (m.after ?? "never") + (m.record.map { "  (record \($0))" } ?? ""))
        }
        if !s.objectives.isEmpty {
            lines.append("")
            lines.append("Objectives")
            for o in s.objectives {
                lines.append("  \(o.id)  \(e(o.title))")
                lines.append("      \(o.rating.uppercased()): " + (o.after.map { "after \($0)" } ?? "never")
                             + " (within \(o.within))" + (o.evidence.isEmpty ? "" : "; evidence: record "
                                + o.evidence.map(String.init).joined(separator: ", ")))
            }
        }
        if !s.targets.isEmpty {
            lines.append("")
            lines.append("Targets")
            for t in s.targets {
                lines.append("  \(t.id)  " + standing(t.result, t.margin)
                             + ((t.met_after ?? t.reached_after).map { " (after \($0))" } ?? ""))
            }
        }
        if let cadences = s.cadences {
            lines.append("")
            lines.append("Cadences")
            for c in cadences {
                lines.append("  \(c.id)  every \(c.every): \(c.met) of \(c.occurrences) met"
                             + (c.missed > 0 ? ", \(c.missed) MISSED" : ""))
            }
        }
        if !s.clocks.isEmpty {
            lines.append("")
            lines.append("Clocks")
            for c in s.clocks {
                lines.append("  \(c.id)  " + standing(c.result, c.margin))
                lines.append("      started \(c.started), due \(c.due)" + (c.stopped.map { ", stopped \($0)" } ?? ""))
            }
        }
        if !s.decisions.isEmpty { lines.append(decisions(s)) }
        if !s.injects.isEmpty {
            lines.append("")
            lines.append("Injects")
            for i in s.injects {
                lines.append("  \(i.id)  \(i.at)  " + (i.delivered ? "delivered" : "not played")
                             + (i.record.map { "  (record \($0))" } ?? ""))
                if let answered = i.answered {
                    lines.append("      " + (answered ? "answered after \(i.answered_after ?? "?")" : "NOT ANSWERED")
                                 + (i.rating.map { ": \($0.uppercased())" } ?? "")
                                 + (i.answer_record.map { "  (record \($0))" } ?? ""))
                }
            }
        }
        lines.append("")
        lines.append("Refused actions: \(s.refusals)")
        lines.append(debrief(s))
        return lines.flatMap { $0.isEmpty ? [""] : $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
            .flatMap { Fit.lines($0, width: Fit.terminalWidth()) }.joined(separator: "\n")
    }

    /// A target's or clock's result in words: `met, 35m to spare`, `MISSED by 1h 10m`, `running, 2h left`.
    static func standing(_ result: String, _ margin: String?) -> String {
        switch result {
        case "met": "met" + (margin.map { ", \($0) to spare" } ?? "")
        case "missed": "MISSED" + (margin.map { " by \($0)" } ?? "")
        case "running": "running" + (margin.map { ", \($0) left" } ?? "")
        case "not_met": "not met (closed before it was)"
        default: "not started"
        }
    }

    /// The decisions against the expected ones; empty when the scenario expects none.
    static func decisions(_ s: DrillScore) -> String {
        guard !s.decisions.isEmpty else { return "" }
        let e = { (x: String) in TerminalText.escape(x) }
        var lines = ["", "Decisions"]
        for d in s.decisions {
            lines.append("  \(d.step): " + (d.chosen.map { "chose \(e($0))" } ?? "no choice made")
                         + " (expected \(e(d.expected)))" + (d.matches ? "" : "  DIFFERS")
                         + (d.record.map { "  (record \($0))" } ?? ""))
        }
        return lines.flatMap { Fit.lines($0, width: Fit.terminalWidth()) }.joined(separator: "\n")
    }

    /// The debrief's strengths, areas for improvement (owner, due) and parking lot.
    static func debrief(_ s: DrillScore) -> String {
        let e = { (x: String) in TerminalText.escape(x) }
        guard !s.hot_wash.isEmpty else {
            return "\nDebrief: no notes yet (crisis note \(s.incident) \"#strength …\" or "
                + "\"#improve owner=ID due=YYYY-MM-DD …\")"
        }
        var lines: [String] = []
        let sections: [(HotWashItem.Kind, String)] = [(.strength, "Strengths"), (.improvement, "Areas for improvement"),
                                                      (.parkingLot, "Parking lot")]
        for (kind, title) in sections {
            let items = s.hot_wash.filter { $0.kind == kind }
            guard !items.isEmpty else { continue }
            lines += ["", title]
            for i in items {
                switch kind {
                case .strength: lines.append("  + \(e(i.text))  (record \(i.record))")
                case .improvement:
                    lines.append("  - \(e(i.text))  owner \(i.owner.map(e) ?? "none yet"), due \(i.due.map(e) ?? "not set")"
                                 + "  (record \(i.record))")
                case .parkingLot: lines.append("  ? \(e(i.text))  (record \(i.record))")
                }
            }
        }
        return lines.flatMap { Fit.lines($0, width: Fit.terminalWidth()) }.joined(separator: "\n")
    }
}

/// `crisis drill SCENARIO --tabletop`: a discussion-based exercise, module by module, for a room (a projector).
struct Tabletop {
    let service: IncidentService
    let scenario: Scenario
    let id: String
    let actor: Actor

    func note(_ text: String, as who: Actor? = nil) throws {
        _ = try service.note(incident: id, text: text, actor: who ?? actor, expectSeq: nil, idempotencyKey: nil,
                             wallNow: .wallClock())
    }

    func run() throws {
        let width = Fit.terminalWidth()
        let rule = String(repeating: "═", count: width)
        Out.print("DRILL — TABLETOP  \(TerminalText.escape(scenario.title))")
        Out.print("incident \(id)")
        var stopped = false
        modules: for (n, module) in scenario.modules.enumerated() {
            Out.print("")
            Out.print(rule)
            Out.print(Fit.lines("MODULE \(n + 1) of \(scenario.modules.count): \(TerminalText.escape(module.title))", width: width)
                .joined(separator: "\n"))
            Out.print(rule)
            for injectID in module.injects {
                guard let inject = scenario.injects.first(where: { $0.id == injectID }) else { continue }
                let via = [inject.channel, inject.from.map { "from \($0)" }].compactMap { $0 }.joined(separator: ", ")
                Out.print("")
                Out.print("INJECT  \(DrillScore.when(inject))" + (via.isEmpty ? "" : "  \(TerminalText.escape(via))"))
                for line in TimelineText.wrap(TerminalText.escape(inject.content), width: width - 4) { Out.print("    " + line) }
                try note(DrillRunner.injectText(inject), as: DrillRunner.injectActor)
            }
            Out.print("")
            for (q, question) in module.questions.enumerated() {
                let label = "\(module.id)/q\(q + 1)"
                Out.print(Fit.lines("\(q + 1). \(TerminalText.escape(question.ask))", width: width).joined(separator: "\n"))
                if question.decision != nil, !question.options.isEmpty {
                    Out.print("   decision point \(question.decision ?? ""): \(question.options.joined(separator: " | "))")
                }
                while true {
                    Out.print("\(q + 1)> ", terminator: "")
                    guard let line = readLine() else { stopped = true; break modules }
                    let answer = line.trimmingCharacters(in: .whitespaces)
                    if answer == "q" { stopped = true; break modules }
                    if answer == "n" { continue modules }
                    if answer.isEmpty { break }
                    if answer.hasPrefix("p ") {
                        try note("#parking " + answer.dropFirst(2).trimmingCharacters(in: .whitespaces))
                        Out.print("   parked")
                        continue
                    }
                    if let step = question.decision, !question.options.isEmpty {
                        let matches = question.options.filter { $0 == answer || $0.hasPrefix(answer) }
                        guard matches.count == 1 else {
                            Out.print("   answer with one of: \(question.options.joined(separator: ", "))")
                            continue
                        }
                        try note("\(DrillScore.decisionTag)\(step)=\(matches[0]) (\(label)) \(question.ask)")
                        Out.print("   recorded: \(step) = \(matches[0])")
                    } else {
                        try note("#answer \(label): \(question.ask) — \(answer)")
                        Out.print("   recorded")
                    }
                    break
                }
            }
        }
        Out.print("")
        if stopped { Out.print("stopped; the answers so far are recorded in \(id)") }
        let score = try DrillScore.compute(service, id)
        var lines = ["TABLETOP  \(TerminalText.escape(scenario.title))", "incident \(id)"]
        lines.append(DrillText.decisions(score))
        lines.append(DrillText.debrief(score))
        Out.print(lines.filter { !$0.isEmpty }.joined(separator: "\n"))
        Out.print("after-action report: crisis export \(id) --format md")
    }
}
