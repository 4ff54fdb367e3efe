import ArgumentParser
import CrisisAudit
import CrisisCore
import CrisisRuntime
import Dispatch
import Foundation
import Synchronization


struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Work an incident from a full-screen board: what is due, who was paged, what you can do now.",
        discussion: """
            The board fits 80x24 and uses more room when there is more. Choose an action by its number: the \
            board asks for each field with the playbook's prompt, checks each value as it is typed (an enum \
            value may be given by an unambiguous prefix or its number), and asks again before anything \
            irreversible. Before approving, publishing, submitting or rejecting a statement or a takedown it \
            shows the text in full, as 'crisis show' does. n adds a timeline note, l shows the timeline, \
            t (drills) moves the simulated clock to the next timer, ? help, q leaves; 'crisis run ID' later \
            returns to the same board. Timers fire while the board is \
            open (it does what 'crisis watch' does for its incident), and another operator's action redraws \
            it within a moment. Without a terminal (a pipe, CI) it runs in line mode: the board is printed, \
            then one command per line is read from standard input (a number, n TEXT, l, t, q).
            Given a playbook file instead of an incident, it starts an incident as 'crisis start' does (with \
            the same --set, --drill, --contacts, --title and --clock) and opens the board on it.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var op: OperatorOptions
    @OptionGroup var keys: KeyOptions
    @OptionGroup var display: DisplayOptions
    @Argument(help: ArgumentHelp(
        "Incident id, or an unambiguous part of it (default: the latest open incident); or a playbook file "
            + "(.yaml, .yml) to start an incident from.", valueName: "id-or-playbook"),
              completion: .file(extensions: ["yaml", "yml"]))
    var id: String?
    @OptionGroup var start: StartOptions

    /// Whether `argument` names a playbook file to start from rather than an incident.
    static func isPlaybook(_ argument: String) -> Bool {
        var directory: ObjCBool = false
        let ext = (argument as NSString).pathExtension.lowercased()
        return (ext == "yaml" || ext == "yml")
            && FileManager.default.fileExists(atPath: argument, isDirectory: &directory) && !directory.boolValue
    }

    /// Starts the incident; on a terminal, a required input that was not given (or not valid) is asked for, with
    /// its prompt, and checked as typed, instead of refusing the start. Ctrl-D gives up (nothing is created).
    static func start(_ service: IncidentService, _ request: IncidentService.StartRequest, ask: Bool) throws
        -> CommitResult
    {
        var request = request
        while true {
            do {
                return try service.start(request)
            } catch RuntimeError.invalidInputs(let problems, let missing) where ask && !missing.isEmpty {
                for problem in problems { Out.print("» \(problem)") }
                for input in missing {
                    let field = StatusReport.Field(name: input.name, type: input.type, required: true,
                                                   values: input.values.isEmpty ? nil : input.values,
                                                   prompt: input.prompt)
                    let hint = field.values.map { " [" + $0.enumerated().map { "\($0.offset + 1) \($0.element)" }
                        .joined(separator: ", ") + "]" } ?? ""
                    while true {
                        for line in Fit.lines("\(input.name): \(input.prompt)\(hint)", width: Fit.terminalWidth()) {
                            Out.print(line)
                        }
                        FileHandle.standardOutput.write(Data("> ".utf8))
                        guard let typed = Swift.readLine() else {
                            throw RuntimeError.invalidInputs(problems: problems, missing: missing)
                        }
                        switch FieldCheck.check(typed, field: field) {
                        case .success(let value?):
                            request.inputs.append((input.name, value))
                        case .success(nil):
                            continue
                        case .failure(let problem):
                            Out.print("» \(problem.description)")
                            continue
                        }
                        break
                    }
                }
            }
        }
    }

    func validate() throws {
        if !start.isEmpty, !(id.map(Self.isPlaybook) ?? false) {
            throw ValidationError(
                "--set, --drill, --title, --contacts and --clock start an incident: give a playbook file (.yaml) "
                    + "to start from, or leave them out to open the board on an incident")
        }
    }

    func run() async throws {
        do {
            let service: IncidentService
            let incidentID: String
            var message: String?
            if let id, ["yaml", "yml"].contains((id as NSString).pathExtension.lowercased()), !Self.isPlaybook(id) {
                // A playbook file that is not there: say so, rather than look for an incident of that name.
                throw RuntimeError.invalid("no playbook file at \(id)")
            }
            if let id, Self.isPlaybook(id) {
                let request = try start.request(playbook: id, actor: op.actor)
                let (opened, started) = try store.creating {
                    let s = try store.service(create: true, keys: keys)
                    return (s, try Self.start(s, request, ask: Terminal.isInteractive))
                }
                service = opened
                incidentID = started.incident.header.id
                message = "started \(incidentID)"
            } else {
                service = try store.service(keys: keys)
                incidentID = try service.resolveIncident(id)
            }
            var board = Board(service: service, incident: incidentID, actor: op.actor)
            board.message = message
            if Terminal.isInteractive {
                try board.interactive()
            } else {
                if let message { Out.print(message) }
                try board.lineMode()
            }
        } catch {
            throw fail(error)
        }
    }
}

/// The board's loop: reads the incident, fires its due timers, paints, and turns keys into actions.
struct Board {
    var service: IncidentService
    /// Interactive live boards: sends what the incident queues, each delivery on its own thread, so that a slow
    /// or failing channel never holds the board (a running `crisis watch` may claim them first: either is fine).
    var sender: Watcher?
    let incident: String
    let actor: Actor
    var seq = -1
    var loaded: LoadedIncident?
    var report: StatusReport?
    var message: String?
    /// A drill's latest inject (`INJECT 21:15 journalist_call …`), shown under the deadlines until the next.
    var inject: String?
    /// The last record read for injects.
    var injectsReadTo = 0
    var opened: Instant = .wallClock()
    /// When `report` was computed: countdowns are recomputed from `loaded` once a second, without a replay.
    var reportedAt: Instant = .wallClock()
    let colour = Style.colour

    /// How often the interactive board looks for another process's records (a single indexed read).
    static let pollMs: Int32 = 250

    init(service: IncidentService, incident: String, actor: Actor) {
        self.service = service
        self.incident = incident
        self.actor = actor
    }

    /// Reads the incident again; fires its due timers when it is live (what `watch` does).
    mutating func refresh() throws {
        var loaded = try service.load(incident)
        if !loaded.isDrill, loaded.state.status.isOpen, let due = loaded.state.nextTimer?.due, due <= .wallClock() {
            let fired = try service.tick(incident: incident, advance: .none, actor: .system, wallNow: .wallClock())
            loaded = fired.incident
            if fired.records.count > 0 { message = Self.news(fired) }
        }
        opened = loaded.header.createdAt
        if loaded.isDrill, loaded.seq > injectsReadTo {
            let zone = ZoneFormat(identifier: loaded.definition.playbook.timeZone)
            try service.store.forEachEvent(incident: incident, from: injectsReadTo + 1) { stored in
                guard stored.type == .note, case .note(let n) = try TrailRecord.decode(stored),
                    n.actor.name == DrillRunner.injectActor.name
                else { return }
                let text = n.text.hasPrefix("INJECT ") ? String(n.text.dropFirst(7)) : n.text
                inject = "INJECT \(zone.human(n.now).dropFirst(11).prefix(5)) \(TerminalText.escape(text))"
            }
            injectsReadTo = loaded.seq
        }
        seq = loaded.seq
        self.loaded = loaded
        reportedAt = .wallClock()
        report = StatusReport(loaded, wallNow: reportedAt)
        // A running watcher sends them; the board sends only when none runs.
        if var own = sender, loaded.state.deliveries.contains(where: { $0.status == .queued }),
            service.watcherProbe?() == nil
        {
            let pass = own.sendQueued(incident: incident, wallNow: .wallClock())
            sender = own
            if let problem = pass.problems.first { message = problem.message }
            if let claimed = pass.fired.last?.result {
                seq = claimed.incident.seq
                self.loaded = claimed.incident
                report = StatusReport(claimed.incident, wallNow: reportedAt)
            }
        }
    }

    /// Results of the board's own sends that came back: one line saying how they ended.
    mutating func collectSends() throws {
        guard let pass = sender?.finishedSends(), !pass.fired.isEmpty || !pass.problems.isEmpty else { return }
        // "delivery 6: sent by sms (http): Ingrid Berg (ingrid.berg): HTTP 200 after 1 attempt"
        let said = pass.fired.flatMap(\.result.records).compactMap { stored -> String? in
            guard case .outcome(let o)? = try? TrailRecord.decode(stored), o.result.isEnd else { return nil }
            return "delivery \(TerminalText.escape(NotifyProgress.shortKey(o.key))): "
                + TerminalText.escape(o.detail ?? o.result.rawValue)
        } + pass.problems.map(\.message)
        try refresh()
        message = said.joined(separator: " · ")
    }

    /// The cheap check of an idle board: whether someone else recorded something (the trail's head seq, one
    /// primary-key read) or a timer is due. Returns whether the board changed. Once a second, the countdowns
    /// are recomputed from the incident already read (no replay).
    mutating func idle() throws -> Bool {
        if sender != nil {
            let before = seq
            try collectSends()
            if seq != before { return true }
        }
        let head = try service.store.headSeq(incident: incident)
        let now = Instant.wallClock()
        let timerDue = loaded.map { l in
            !l.isDrill && l.state.status.isOpen && (l.state.nextTimer.map { $0.due <= now } ?? false)
        } ?? true
        if head != seq || timerDue {
            let before = seq
            try refresh()
            if head != before, before >= 0, !timerDue { message = lastRecords(after: before) ?? message }
            return true
        }
        if now - reportedAt >= .seconds(1), let loaded {
            reportedAt = now
            report = StatusReport(loaded, wallNow: now)
            return true
        }
        return false
    }

    /// A prompt on the board's last row, with room to type. One too long for that row is shown whole on the two
    /// rows above it, and the last row keeps only what is answered: the field's name, or the `[y/N]` question.
    static func showPrompt(_ prompt: String, term: Terminal, width w: Int, height h: Int) {
        guard Fit.columns(prompt) > w - 20, h >= 6 else {
            term.at(row: h, BoardLayout.clip(prompt, max(10, w - 12)))
            return
        }
        let whole = Array(BoardLayout.wrap(prompt.trimmingCharacters(in: .whitespaces), width: w).prefix(2))
        for (i, line) in whole.enumerated() { term.at(row: h - whole.count + i, line) }
        let short: String
        if let dash = prompt.range(of: " — ", options: .backwards) {
            short = String(prompt[dash.upperBound...])
        } else if let colon = prompt.range(of: ": ") {
            short = String(prompt[..<colon.upperBound])
        } else {
            short = "> "
        }
        term.at(row: h, BoardLayout.clip(short, max(10, w - 12)))
    }

    /// `t` on a drill's board: the simulated clock moves to the next timer, which fires (as `tick --next`); a
    /// live incident's clock is the wall clock, so it is refused with why.
    func nextTimer() -> String {
        guard loaded?.isDrill == true else { return "t moves a drill's clock; a live incident runs on the wall clock" }
        do {
            return "drill clock moved — " + Self.news(try service.tick(incident: incident, advance: .toNextTimer,
                                                                       actor: actor, wallNow: .wallClock()))
        } catch {
            return "refused: \(error)"
        }
    }

    /// What a commit did, in words, on one line: what each record says (a timer that came due and the page it
    /// sent, the step it moved), who to reach for each delivery, reminders; the trail numbers left out.
    static func news(_ result: CommitResult) -> String {
        let said = EffectsText.render(result, color: false, width: 10_000, wallNow: .wallClock())
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("trail:") && !$0.hasPrefix("active:") }
        return said.isEmpty ? "recorded" : said.joined(separator: " · ")
    }

    /// One line about what another process recorded after `seq`: the newest record's summary.
    func lastRecords(after seq: Int) -> String? {
        guard let events = try? service.store.events(incident: incident, from: seq + 1), let last = events.last else {
            return nil
        }
        let record = try? TrailRecord.decode(last)
        var what = record.map(TimelineText.summary) ?? last.type.rawValue
        if case .outcome(let o)? = record, o.result.isEnd {
            // "delivery 15: sent by mail (smtp): Ali Hassan (ali.hassan): SMTP 250 after 1 attempt"
            what = "delivery \(TerminalText.escape(NotifyProgress.shortKey(o.key))): "
                + TerminalText.escape(o.detail ?? o.result.rawValue)
        }
        let more = events.count > 1 ? " (+\(events.count - 1) more)" : ""
        return "\(TerminalText.escape(last.actor.id)): \(what)\(more) (record \(last.seq))"
    }

    /// The board for line mode: no trailing blanks (a terminal overwrites them, a log keeps them).
    func plainFrame(width: Int) -> String {
        frame(width: width, height: 24, color: false).map { line in
            var l = Substring(line)
            while l.last == " " { l = l.dropLast() }
            return String(l)
        }.joined(separator: "\n")
    }

    func frame(width: Int, height: Int, color: Bool) -> [String] {
        guard let r = report else { return [] }
        let elapsed = humanDuration(Instant.wallClock() - opened)
        return BoardLayout.render(r, choices: BoardChoice.all(r), width: width, height: height, message: message,
                                  elapsed: elapsed, color: color, inject: inject)
    }

    // MARK: Interactive

    mutating func interactive() throws {
        if let loaded = try? service.load(incident), !loaded.isDrill {
            // Live: what the board's actions deliver is queued and sent on threads of its own.
            service.handoff = DeliveryHandoff(watcher: "crisis run (pid \(getpid()))")
            sender = Watcher(service: service, named: [incident])
        }
        defer {
            if let sender, sender.sending > 0 {
                Out.error("crisis run: waiting for \(sender.sending) delivery(ies) being sent to finish")
                _ = sender.finishSends()
            }
        }
        let term = Terminal()
        // Ctrl-C and SIGTERM: the board finishes what it is recording, then leaves.
        let signals = StopSignals()
        defer {
            term.leave()
            _ = signals
        }
        term.enterBoard()
        try refresh()
        var painted: [String] = []
        while !StopSignals.requested {
            // The size is read on every pass (every 250 ms at most), so a resized terminal is redrawn at once.
            let (w, h) = Terminal.size()
            let lines = frame(width: w, height: h, color: colour)
            if lines != painted {
                term.paint(lines)
                painted = lines
            }
            guard let key = term.key(timeoutMs: Self.pollMs) else {
                _ = try idle()
                continue
            }
            painted = []
            switch key {
            case UInt8(ascii: "q"), 4:
                return
            case UInt8(ascii: "t"):
                message = nextTimer()
                try refresh()
            case UInt8(ascii: "?"):
                message = "number: act · n: note · l: log · " + (loaded?.isDrill == true ? "t: drill clock to the next timer · " : "")
                    + "r: redraw · q: quit"
            case UInt8(ascii: "r"):
                try refresh()
            case UInt8(ascii: "n"):
                term.lineMode()
                term.at(row: h, "note: ")
                let text = Terminal.readLine()
                if let text, !text.isEmpty { message = submitNote(text) } else { message = "no note" }
                term.keyMode()
                try refresh()
            case UInt8(ascii: "l"):
                showLog(term)
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                var digits = String(UnicodeScalar(key))
                // A second digit within a short moment makes a two-digit number.
                if let next = term.key(timeoutMs: 400), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) {
                    digits.append(Character(UnicodeScalar(next)))
                }
                let io = BoardIO(
                    ask: { prompt in
                        let (w, h) = Terminal.size()
                        term.lineMode()
                        defer { term.keyMode() }
                        Self.showPrompt(prompt, term: term, width: w, height: h)
                        return Terminal.readLine()
                    },
                    say: { line in
                        let (w, h) = Terminal.size()
                        term.at(row: max(1, h - 1), BoardLayout.clip("» " + line, w))
                    },
                    preview: { text in
                        Pager.page(term, lines: text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
                    },
                    previewWidth: { Terminal.size().width })
                // The board stays painted under the prompts.
                term.paint(frame(width: w, height: h, color: colour))
                message = choose(Int(digits) ?? 0, io: io)
                try refresh()
            case 27:
                // An escape sequence (arrows, function keys): not a board key; its bytes are dropped.
                while term.key(timeoutMs: 20) != nil {}
                message = "unknown key; ? for help"
            default:
                let shown = key >= 0x20 && key < 0x7F ? "'\(Character(UnicodeScalar(key)))'" : "that key"
                message = "unknown key \(shown); ? for help"
            }
        }
    }

    func showLog(_ term: Terminal) {
        guard let entries = try? service.timeline(incident), let loaded = try? service.load(incident) else { return }
        let lines = TimelineText.render(entries, incident: loaded, color: false).split(separator: "\n").map(String.init)
        // The newest records last, as the log reads; the pager opens on its end.
        _ = Pager.page(term, lines: lines, startAtEnd: true, then: "Enter or q: the board")
    }

    // MARK: Line mode

    /// For pipes and scripts: the board once, then commands from standard input, one per line. The end of
    /// standard input ends the board (exit 0).
    mutating func lineMode() throws {
        try refresh()
        let width = Fit.terminalWidth()
        Out.print(plainFrame(width: width))
        let io = BoardIO(
            ask: { prompt in
                for line in Fit.lines(prompt, width: width) { Out.print(line) }
                return Swift.readLine()
            },
            say: { line in Out.print(BoardLayout.clip("» " + line, width)) },
            preview: { text in
                Out.print(text)
                return true
            },
            previewWidth: { width })
        while let line = Swift.readLine() {
            let cmd = line.trimmingCharacters(in: .whitespaces)
            if cmd == "q" || cmd == "quit" { return }
            if cmd == "l" {
                let loaded = try service.load(incident)
                Out.print(TimelineText.render(try service.timeline(incident), incident: loaded, color: false))
                continue
            }
            if cmd.hasPrefix("n ") {
                message = submitNote(String(cmd.dropFirst(2)))
            } else if cmd == "t" {
                message = nextTimer()
            } else if let n = Int(cmd) {
                message = choose(n, io: io)
            } else if !cmd.isEmpty {
                message = "'\(BoardLayout.clip(cmd, 20))' is not a command: say a number, 'n TEXT', 'l' or 'q'"
            }
            try refresh()
            Out.print((message.map { Fit.lines("» \($0)", width: width).joined(separator: "\n") + "\n" } ?? "")
                + plainFrame(width: width))
        }
    }

    // MARK: Acting

    func submitNote(_ text: String) -> String {
        do {
            let r = try service.note(incident: incident, text: text, actor: actor, expectSeq: nil, idempotencyKey: nil,
                                     wallNow: .wallClock())
            return "noted as record \(r.records.last?.seq ?? 0)"
        } catch {
            return "refused: \(error)"
        }
    }

    /// The step in full, as `crisis show` prints it, before an action that commits to its text: approving,
    /// publishing, rejecting a statement; submitting or rejecting a takedown. Nil for any other choice.
    func preview(_ choice: BoardChoice, width: Int) -> String? {
        guard BoardChoice.previewed.contains(choice.action), let loaded,
            let step = try? StepReport(loaded, step: choice.step, wallNow: .wallClock()),
            step.statement != nil || step.takedown != nil
        else { return nil }
        return StepText.render(step, color: colour, width: width)
    }

    /// Asks for the fields of choice `number` and records it at the sequence number the board showed: a board
    /// gone stale (someone else acted first) is refused with who it was, and the fresh board is shown. Each
    /// value is checked as it is typed and asked again, with the reason, until it is good; the end of input
    /// (Ctrl-D) cancels the choice.
    func choose(_ number: Int, io: BoardIO) -> String {
        guard let r = report else { return "no board yet" }
        let choices = BoardChoice.all(r)
        guard let choice = choices.first(where: { $0.number == number }) else {
            return choices.isEmpty ? "nothing can be done now" : "no choice \(number): choose 1 to \(choices.count)"
        }
        if let text = preview(choice, width: io.previewWidth()), !io.preview(text) {
            return "cancelled: \(choice.title)"
        }
        var fields: [(String, String)] = []
        for f in choice.fields {
            var hint = f.required ? "" : " (optional, Enter to skip)"
            if let values = f.values {
                hint += " [" + values.enumerated().map { "\($0.offset + 1) \($0.element)" }.joined(separator: ", ") + "]"
            }
            if let d = f.default { hint += " (default \(d))" }
            while true {
                guard let answer = io.ask("\(f.name): \(f.prompt)\(hint): ") else { return "cancelled: \(choice.title)" }
                switch FieldCheck.check(answer, field: f, action: choice.action, contacts: loaded?.definition.contacts) {
                case .success(let value):
                    if let value { fields.append((f.name, value)) }
                case .failure(let problem):
                    io.say(problem.description)
                    continue
                }
                break
            }
        }
        if choice.isIrreversible {
            let what = fields.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
            guard let yes = io.ask("\(choice.title) \(what) — record it? [y/N] "), yes.lowercased().hasPrefix("y") else {
                return "not recorded"
            }
        }
        do {
            let result = try service.act(.init(
                incident: incident, step: choice.step, action: choice.action, fields: fields,
                actor: Actor(name: actor.name, role: actor.role), expectSeq: seq, wallNow: .wallClock()))
            return "\(choice.step) \(choice.action): recorded — " + Self.news(result)
        } catch RuntimeError.conflict(_, let head, let by) {
            return "not recorded: \(by) acted first (record \(head)); here is the fresh board"
        } catch {
            return "refused: \(error)"
        }
    }
}

/// How a choice talks to the person: one prompt answered (nil at the end of input), one line said (a value's
/// problem), and a step's full text shown before the prompts (false when the person cancels there).
struct BoardIO {
    var ask: (String) -> String?
    var say: (String) -> Void
    var preview: (String) -> Bool
    var previewWidth: () -> Int
}
