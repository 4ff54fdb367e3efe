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
            board asks for each field with the playbook's prompt and asks again before anything irreversible. \
            n adds a timeline note, l shows the timeline, ? help, q leaves; 'crisis run ID' later returns to the \
            same board. Timers fire while the board is open (it does what 'crisis watch' does for its incident), \
            and another operator's action redraws it. Without a terminal (a pipe, CI) it runs in line mode: the \
            board is printed, then one command per line is read from standard input (a number, n, l, q).
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var op: OperatorOptions
    @OptionGroup var keys: KeyOptions
    @OptionGroup var display: DisplayOptions
    @Argument(help: "Incident id, or an unambiguous part of it (default: the latest open incident).") var id: String?

    func run() async throws {
        do {
            let service = try store.service(keys: keys)
            let incidentID = try service.resolveIncident(id)
            var board = Board(service: service, incident: incidentID, actor: op.actor)
            if Terminal.isInteractive {
                try board.interactive()
            } else {
                try board.lineMode()
            }
        } catch {
            throw fail(error)
        }
    }
}

/// The board's loop: reads the incident, fires its due timers, paints, and turns keys into actions.
struct Board {
    let service: IncidentService
    let incident: String
    let actor: Actor
    var seq = -1
    var report: StatusReport?
    var message: String?
    var opened: Instant = .wallClock()

    init(service: IncidentService, incident: String, actor: Actor) {
        self.service = service
        self.incident = incident
        self.actor = actor
    }

    /// Reads the incident again when it changed; fires its due timers when it is live (what `watch` does).
    mutating func refresh() throws {
        var loaded = try service.load(incident)
        if !loaded.isDrill, loaded.state.status.isOpen, let due = loaded.state.nextTimer?.due, due <= .wallClock() {
            let fired = try service.tick(incident: incident, advance: .none, actor: .system, wallNow: .wallClock())
            loaded = fired.incident
            if let reminder = fired.reminders.last { message = reminder.message }
            else if fired.records.count > 0 { message = "timers fired: \(fired.records.count) record(s)" }
        }
        opened = loaded.header.createdAt
        seq = loaded.seq
        report = StatusReport(loaded, wallNow: .wallClock())
    }

    func frame(width: Int, height: Int, color: Bool) -> [String] {
        guard let r = report else { return [] }
        let elapsed = humanDuration(Instant.wallClock() - opened)
        return BoardLayout.render(r, choices: BoardChoice.all(r), width: width, height: height, message: message,
                                  elapsed: elapsed, color: color)
    }

    // MARK: Interactive

    mutating func interactive() throws {
        let term = Terminal()
        // Ctrl-C and SIGTERM: the board finishes what it is recording, then leaves.
        let signals = StopSignals()
        defer {
            term.leave()
            _ = signals
        }
        term.enterBoard()
        try refresh()
        while !StopSignals.requested {
            let (w, h) = Terminal.size()
            term.paint(frame(width: w, height: h, color: true))
            guard let key = term.key(timeoutMs: 1000) else {
                try refresh()
                continue
            }
            switch key {
            case UInt8(ascii: "q"), 4:
                return
            case UInt8(ascii: "?"):
                message = "number: act · n: note · l: log · r: redraw · q: quit"
            case UInt8(ascii: "r"):
                try refresh()
            case UInt8(ascii: "n"):
                term.lineMode()
                term.at(row: h, "note: ")
                if let text = readLine(), !text.isEmpty { message = submitNote(text) }
                term.keyMode()
                try refresh()
            case UInt8(ascii: "l"):
                showLog(term, height: h)
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                var digits = String(UnicodeScalar(key))
                // A second digit within a short moment makes a two-digit number.
                if let next = term.key(timeoutMs: 400), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) {
                    digits.append(Character(UnicodeScalar(next)))
                }
                term.lineMode()
                message = choose(Int(digits) ?? 0, ask: { prompt in
                    term.at(row: h, prompt)
                    return readLine()
                })
                term.keyMode()
                try refresh()
            default:
                message = "unknown key; ? for help"
            }
        }
    }

    func showLog(_ term: Terminal, height: Int) {
        guard let entries = try? service.timeline(incident), let loaded = try? service.load(incident) else { return }
        let lines = TimelineText.render(entries, incident: loaded, color: false).split(separator: "\n").map(String.init)
        let (w, h) = Terminal.size()
        let shown = lines.suffix(h - 1).map { BoardLayout.clip($0, w) }
        term.paint(Array(shown) + ["— the last \(shown.count) of \(lines.count) records; any key returns —"])
        while term.key(timeoutMs: 1000) == nil, !StopSignals.requested {}
        _ = height
    }

    // MARK: Line mode

    /// For pipes and scripts: the board once, then commands from standard input, one per line.
    mutating func lineMode() throws {
        try refresh()
        Out.print(frame(width: Fit.terminalWidth(), height: 24, color: false).joined(separator: "\n"))
        while let line = readLine() {
            let cmd = line.trimmingCharacters(in: .whitespaces)
            if cmd == "q" || cmd == "quit" { return }
            if cmd == "l" {
                let loaded = try service.load(incident)
                Out.print(TimelineText.render(try service.timeline(incident), incident: loaded, color: false))
                continue
            }
            if cmd.hasPrefix("n ") {
                message = submitNote(String(cmd.dropFirst(2)))
            } else if let n = Int(cmd) {
                message = choose(n, ask: { prompt in
                    for line in Fit.lines(prompt, width: Fit.terminalWidth()) { Out.print(line) }
                    return readLine()
                })
            } else if !cmd.isEmpty {
                message = "say a number, 'n TEXT', 'l' or 'q'"
            }
            try refresh()
            Out.print((message.map { Fit.lines("» \($0)", width: Fit.terminalWidth()).joined(separator: "\n") + "\n" } ?? "") + frame(width: Fit.terminalWidth(), height: 24, color: false)
                .joined(separator: "\n"))
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

    /// Asks for the fields of choice `number` and records it at the sequence number the board showed: a board
    /// gone stale (someone else acted first) is refused with who it was, and the fresh board is shown.
    func choose(_ number: Int, ask: (String) -> String?) -> String {
        guard let r = report else { return "no board yet" }
        let choices = BoardChoice.all(r)
        guard let choice = choices.first(where: { $0.number == number }) else {
            return choices.isEmpty ? "nothing can be done now" : "no choice \(number): 1 to \(choices.count)"
        }
        var fields: [(String, String)] = []
        for f in choice.fields {
            var hint = f.required ? "" : " (optional, Enter to skip)"
            if let values = f.values { hint += " [\(values.joined(separator: "/"))]" }
            if let d = f.default { hint += " (default \(d))" }
            guard let answer = ask("\(f.name): \(f.prompt)\(hint): ") else { return "cancelled" }
            let value = answer.trimmingCharacters(in: .whitespaces)
            if value.isEmpty {
                if f.required && f.default == nil { return "cancelled: \(f.name) is required" }
                continue
            }
            fields.append((f.name, value))
        }
        if choice.isIrreversible {
            let what = fields.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
            guard let yes = ask("\(choice.title) \(what) — record it? [y/N] "), yes.lowercased().hasPrefix("y") else {
                return "not recorded"
            }
        }
        do {
            let result = try service.act(.init(
                incident: incident, step: choice.step, action: choice.action, fields: fields,
                actor: Actor(name: actor.name, role: actor.role), expectSeq: seq, wallNow: .wallClock()))
            let last = result.records.last?.seq ?? 0
            return "\(choice.step) \(choice.action): recorded as record \(last)"
        } catch RuntimeError.conflict(_, let head, let by) {
            return "not recorded: \(by) acted first (record \(head)); here is the fresh board"
        } catch {
            return "refused: \(error)"
        }
    }
}
