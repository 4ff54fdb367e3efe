import CrisisAudit
import CrisisCore
import CrisisPlaybook
import Foundation

/// Plays a drill scenario unattended (`crisis drill SCENARIO --auto`): the team's expected actions and the outside
/// world's scripted behaviour, each when it becomes possible plus its `after`; injects at their offsets (as
/// timeline entries by `scenario`); the drill clock moved from one event to the next, timers firing on the way.
/// Everything goes through the same service, records and sandbox as any drill: the runner only decides what
/// happens when.
public struct DrillRunner {
    /// Who injects are recorded as.
    public static let injectActor = Actor(name: "scenario", role: "inject")
    /// Who the runner's own moves (the clock) are recorded as.
    public static let facilitator = Actor(name: "facilitator", role: nil)

    /// One thing the runner did, for its progress output.
    public enum Step: Sendable {
        case started(id: String)
        case inject(Scenario.Inject, at: Instant)
        case skippedInject(Scenario.Inject, because: String)
        case acted(Scenario.ScriptedAction, instance: String, person: String, at: Instant)
        case refused(Scenario.ScriptedAction, instance: String, message: String, at: Instant)
        case timers(count: Int, at: Instant)
        /// An inject opened a second incident (`opens:`), played alongside from here.
        case opened(id: String, scenario: String, at: Instant)
        /// Something the runner did in a second incident.
        indirect case second(incident: String, Step)
    }

    public struct Outcome: Sendable {
        public var incident: String
        public var closed: String?
        /// Simulated span from the start to the last record.
        public var span: PlaybookDuration
        /// Why the run stopped before the incident closed (nothing more happens, or the limit).
        public var stoppedBecause: String?
        public var refusals: Int
        /// The second incidents injects opened, as they ended.
        public var opened: [Outcome] = []
    }

    public let service: IncidentService
    public let scenario: Scenario
    public let scenarioFile: (name: String, bytes: [UInt8])

    public init(service: IncidentService, scenario: Scenario, scenarioFile: (name: String, bytes: [UInt8])) {
        self.service = service
        self.scenario = scenario
        self.scenarioFile = scenarioFile
    }

    /// Starts the drill incident (pinning the scenario) and returns its id.
    public func start(wallNow: Instant) throws -> String {
        let result = try service.start(.init(
            playbookPath: scenario.playbookPath, contactsPath: scenario.contactsPath, inputs: scenario.inputs,
            mode: .drill, title: scenario.title, actor: Self.facilitator, wallNow: wallNow,
            simulatedStart: scenario.start, scenario: scenarioFile))
        return result.incident.header.id
    }

    /// What a run remembers between bounded runs of the same incident (a second incident is played in steps, up
    /// to each move of the first's clock): since when each scripted action has been possible.
    public final class Memory {
        var availableSince: [String: Instant] = [:]
        public init() {}
    }

    /// How an inject's timeline entry names the second incident it opened.
    static let opensMark = " [opens drill incident "

    /// The second incidents the injects of drill `id` opened, from its trail (each with its own pinned scenario).
    func openedIncidents(_ id: String) throws -> [(runner: DrillRunner, id: String)] {
        var ids: [String] = []
        try service.store.forEachEvent(incident: id) { stored in
            guard stored.type == .note, case .note(let n) = try TrailRecord.decode(stored), n.actor.name == Self.injectActor.name,
                let range = n.text.range(of: Self.opensMark)
            else { return }
            ids.append(String(n.text[range.upperBound...].prefix { $0 != "]" }))
        }
        return try ids.map { other in
            (DrillRunner(service: service, scenario: try DrillScore.scenario(service.store, other), scenarioFile: (other, [])), other)
        }
    }

    /// Starts the scenario an inject opens, at `now` on the drill clock: its own drill incident, its scenario pinned.
    func open(_ path: String, at now: Instant, wallNow: Instant) throws -> (DrillRunner, String) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RuntimeError.invalid("cannot read \(path), which an inject opens")
        }
        let bytes = [UInt8](data)
        let loaded = ScenarioLoader.load(bytes: bytes, path: path, checkReferences: true, start: now, opened: true)
        guard let second = loaded.scenario else { throw RuntimeError.diagnostics(loaded.diagnostics.filter { $0.severity == .error }) }
        let runner = DrillRunner(service: service, scenario: second,
                                 scenarioFile: ((path as NSString).lastPathComponent, bytes))
        return (runner, try runner.start(wallNow: wallNow))
    }

    private enum Event {
        case inject(Scenario.Inject)
        case act(instance: String, cursor: Int, Scenario.ScriptedAction)
        /// Facilitated step by step: a team action the script expects now, which the players do themselves.
        case expect(instance: String, cursor: Int, Scenario.ScriptedAction)
        case timer
    }

    /// Who plays the team's part.
    public enum Mode: Sendable {
        /// `--auto`: the runner plays the team's expected actions too.
        case auto
        /// A facilitated drill: people play the team (with `crisis run`, `crisis act`); the runner plays only
        /// the injects, the world's scripted behaviour and the clock.
        case facilitated
    }

    /// How the drill clock moves between events.
    public enum Pace: Sendable {
        /// At once from one event to the next (`--auto`).
        case instant
        /// When the facilitator says so: `proceed` is asked before each move (false: pause).
        case step
        /// `speed`× real time: the clock moves in steps of at least a simulated minute.
        case speed(Double)
    }

    /// What the facilitator is asked before the clock moves (pace `.step`): the time and what happens then; or,
    /// when `waiting` is set, that the clock stands at a team action the script expects until the players did it.
    public struct Pending: Sendable {
        public var at: Instant
        public var what: String
        /// The clock stands still at an expected team action (`what` names it) until the players have done it.
        public var waiting: Bool = false
    }

    /// The facilitator's answer to a `Pending`.
    public enum Answer: Sendable {
        /// Move the clock there (or, waiting: look again, the players may have done it).
        case go
        /// Waiting: go on without the expected action (the players will not do it now).
        case skip
        /// Stop here; `crisis drill resume` goes on.
        case pause
    }

    /// The scripted actions the runner plays on a step in this mode.
    func entries(_ stepID: String, _ mode: Mode) -> [Scenario.ScriptedAction] {
        let list = scenario.script[stepID] ?? []
        return mode == .auto ? list : list.filter(\.world)
    }

    /// Where a drill stands, from its trail: the injects already played, and for each step instance how many of
    /// its scripted actions were done (matched in order by action and person; the players' own actions in a
    /// facilitated drill by action alone, whoever did them). What lets a paused drill resume.
    func resumePoint(_ id: String, mode: Mode, waypoints: Bool = false) throws -> (injected: Set<String>, cursors: [String: Int]) {
        var injected = Set<String>()
        var cursors: [String: Int] = [:]
        try service.store.forEachEvent(incident: id) { stored in
            switch try TrailRecord.decode(stored) {
            case .note(let n) where n.actor.name == Self.injectActor.name:
                for inject in scenario.injects where n.text.hasPrefix("INJECT \(inject.id) ") || n.text.hasPrefix("INJECT \(inject.id):") {
                    injected.insert(inject.id)
                }
            case .action(let a):
                // An instance of a foreach's body (`takedown_each[1]`) is scripted under the body's id (`takedown_each.do`).
                var stepID = DrillScore.stepID(a.step)
                if stepID != a.step, scenario.script[stepID] == nil { stepID += ".do" }
                let list = entries(stepID, waypoints ? .auto : mode)
                let c = cursors[a.step, default: 0]
                if c < list.count, list[c].action == a.action,
                    list[c].person == nil || list[c].person == a.actor.name || (waypoints && !list[c].world)
                {
                    cursors[a.step] = c + 1
                }
            default: break
            }
        }
        return (injected, cursors)
    }

    /// Plays the scenario on incident `id` until it closes, nothing more can happen (`--auto`), the scenario's
    /// limit, or the facilitator pauses. Resumes where the trail says the drill stands.
    ///
    /// Facilitated step by step, the team's scripted actions are waypoints: the clock moves to the moment `--auto`
    /// would do one and stands there (`Pending.waiting`) until the players have done it on their boards, so a drill
    /// the players work as the script says leaves the same trail as `--auto`.
    ///
    /// A second incident an inject opens (`opens:`) is played alongside, on the same drill clock: before the
    /// first incident's clock moves to a time, the second's events up to that time are played; when the first
    /// ends, the second is played to its own end. `until` bounds a run at a time (how the second is played).
    public func play(_ id: String, mode: Mode = .auto, pace: Pace = .instant, wallNow: @escaping () -> Instant,
                     proceed: (Pending) -> Answer = { _ in .go }, sleep: (Double) -> Void = { _ in },
                     until: Instant? = nil, memory: Memory? = nil, progress: (Step) -> Void) throws -> Outcome {
        var seconds = try openedIncidents(id).map { ($0.runner, $0.id, Memory()) }
        // Plays the second incidents up to `time` (a bounded run each), before the first incident's clock moves
        // there; nil: to their end (`--auto`, once the first has ended).
        func catchUp(_ time: Instant?) throws -> [Outcome] {
            try seconds.map { (runner, other, memory) in
                try runner.play(other, mode: mode, pace: .instant, wallNow: wallNow, until: time, memory: memory) { step in
                    progress(.second(incident: other, step))
                }
            }
        }
        let waypoints: Bool
        if mode == .facilitated, case .step = pace { waypoints = true } else { waypoints = false }
        var (injected, cursors) = try resumePoint(id, mode: mode, waypoints: waypoints)
        var skipped = Set<String>()  // waypoints the facilitator went on without
        let memory = memory ?? Memory()
        var refusals = 0
        var stopped: String?
        var iterations = 0
        var approved: Instant?  // pace .step: the facilitator has said to go on up to here
        while true {
            iterations += 1
            if waypoints {  // the players act in their own processes: where the script stands is in the trail
                cursors = try resumePoint(id, mode: mode, waypoints: true).cursors
                for key in skipped {
                    let parts = key.split(separator: "#", omittingEmptySubsequences: false)
                    if let n = Int(parts.last ?? ""), cursors[parts.dropLast().joined(separator: "#"), default: 0] == n {
                        cursors[parts.dropLast().joined(separator: "#")] = n + 1
                    }
                }
            }
            let incident = try service.load(id)
            if case .closed = incident.state.status { break }
            let now = incident.now
            if scenario.limit < now - scenario.start {
                stopped = "the drill did not close within its limit of \(humanDuration(scenario.limit))"
                break
            }
            if iterations > 100_000 {
                stopped = "the drill made no progress"
                break
            }
            var candidates: [(Instant, Int, Event)] = []
            for inject in scenario.injects where !injected.contains(inject.id) {
                guard let origin = try origin(of: inject, in: id) else { continue }  // its event has not happened yet
                candidates.append((max(origin + inject.at, now), 0, .inject(inject)))
            }
            let instances = incident.state.active.map { ($0.instance, $0.stepID) } + [(Engine.incidentStep, Engine.incidentStep)]
            for (instance, stepID) in instances {
                let list = entries(stepID, waypoints ? .auto : mode)
                let cursor = cursors[instance, default: 0]
                guard cursor < list.count else { continue }
                let scripted = list[cursor]
                let available = Engine.availableActions(for: instance, in: incident.state).contains { $0.name == scripted.action }
                let key = "\(instance)#\(cursor)"
                guard available else { memory.availableSince[key] = nil; continue }
                let since = memory.availableSince[key] ?? now
                memory.availableSince[key] = since
                let event: Event = waypoints && !scripted.world
                    ? .expect(instance: instance, cursor: cursor, scripted) : .act(instance: instance, cursor: cursor, scripted)
                candidates.append((max(since + scripted.after, now), 1, event))
            }
            if let timer = incident.state.nextTimer { candidates.append((max(timer.due, now), 2, .timer)) }
            let next = candidates.min(by: { ($0.0, $0.1) < ($1.0, $1.1) })
            if let until, next.map({ until < $0.0 }) ?? true { break }  // a bounded run: nothing more up to `until`
            if next == nil, mode == .auto {
                let waiting = incident.state.active.map(\.instance).joined(separator: ", ")
                stopped = "nothing more happens: the script has no action for \(waiting.isEmpty ? "any step" : waiting)"
                break
            }
            // Move the clock towards the next event (facilitated: as the pace says; the players act meanwhile).
            let target = next?.0
            if target.map({ now < $0 }) ?? true {
                switch pace {
                case .instant:
                    break
                case .step:
                    if let target, let approved, !(approved < target) { break }
                    let what = next.map { describe($0.2, in: incident) } ?? "nothing is scheduled: the players' move"
                    guard proceed(Pending(at: target ?? now, what: what)) != .pause else {
                        stopped = "paused by the facilitator"
                        return try outcome(id, stopped: stopped, refusals: refusals)
                    }
                    approved = target
                    continue  // the players may have acted while the facilitator read: look again
                case .speed(let factor):
                    // At least a simulated minute per move, so a fast drill does not write a record a second.
                    let stepSim = PlaybookDuration(milliseconds: Int64(max(60_000, factor * 1000)))
                    let until = target.map { min($0, now + stepSim) } ?? now + stepSim
                    sleep(Double((until - now).milliseconds) / 1000 / factor)
                    guard proceed(Pending(at: until, what: "")) != .pause else {
                        stopped = "paused by the facilitator"
                        return try outcome(id, stopped: stopped, refusals: refusals)
                    }
                    _ = try catchUp(until)
                    let r = try service.tick(incident: id, advance: .by(until - now), actor: Self.facilitator, wallNow: wallNow())
                    let fired = r.records.filter { $0.type == .timer }.count
                    if fired > 0 { progress(.timers(count: fired, at: until)) }
                    continue  // look again: the players may have acted while the clock ran
                }
            }
            guard let next else { continue }
            if now < next.0 {
                _ = try catchUp(next.0)
                let r = try service.tick(incident: id, advance: .by(next.0 - now), actor: Self.facilitator, wallNow: wallNow())
                let fired = r.records.filter { $0.type == .timer }.count
                if fired > 0 {
                    progress(.timers(count: fired, at: next.0))
                    continue  // the timers may have changed what is possible: look again at the new present
                }
            }
            switch next.2 {
            case .timer:
                let r = try service.tick(incident: id, advance: .none, actor: Self.facilitator, wallNow: wallNow())
                let fired = r.records.filter { $0.type == .timer }.count
                if fired > 0 { progress(.timers(count: fired, at: next.0)) }
            case .inject(let inject):
                injected.insert(inject.id)
                if let condition = inject.unless, try reached(id, step: condition.step, state: condition.reached) != nil {
                    progress(.skippedInject(inject, because: "\(condition.step) reached \(condition.reached)"))
                    continue
                }
                var text = Self.injectText(inject)
                if let path = inject.opens {
                    // A second incident arrives: its own drill incident from now, played alongside this one.
                    let (runner, other) = try open(path, at: next.0, wallNow: wallNow())
                    seconds.append((runner, other, Memory()))
                    text += Self.opensMark + other + "]"
                    progress(.opened(id: other, scenario: runner.scenario.id, at: next.0))
                }
                _ = try service.note(incident: id, text: text, actor: Self.injectActor, expectSeq: nil,
                                     idempotencyKey: "inject/\(inject.id)", wallNow: wallNow())
                progress(.inject(inject, at: next.0))
            case .expect(let instance, let cursor, _):
                switch proceed(Pending(at: next.0, what: describe(next.2, in: incident), waiting: true)) {
                case .pause:
                    return try outcome(id, stopped: "paused by the facilitator", refusals: refusals)
                case .skip:
                    skipped.insert("\(instance)#\(cursor)")
                case .go:
                    break  // look again: the players may have done it
                }
            case .act(let instance, let cursor, let scripted):
                cursors[instance] = cursor + 1
                memory.availableSince["\(instance)#\(cursor)"] = nil
                let person = scripted.person ?? defaultPerson(for: scripted, instance: instance, in: incident) ?? "drill-player"
                // As a player at the board: a field the script leaves out takes the default the board shows
                // (a language, the notice's prefilled elements), recorded as given.
                var fields = scripted.fields
                let spec = Engine.availableActions(for: instance, in: incident.state).first { $0.name == scripted.action }
                for f in spec?.fields ?? [] where fields[f.name] == nil {
                    if let value = f.defaultValue { fields[f.name] = value }
                }
                do {
                    _ = try service.act(.init(
                        incident: id, step: instance, action: scripted.action,
                        fields: fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                        actor: Actor(name: person, role: scripted.role), wallNow: wallNow()))
                    progress(.acted(scripted, instance: instance, person: person, at: next.0))
                } catch RuntimeError.refused(_, let message, _) {
                    refusals += 1
                    progress(.refused(scripted, instance: instance, message: message, at: next.0))
                }
            }
        }
        var result = try outcome(id, stopped: stopped, refusals: refusals)
        // Unattended, the second incidents are played to their own end once the first has ended; in a facilitated
        // drill the players go on with them (`crisis drill resume ID` for each).
        if until == nil { result.opened = mode == .auto ? try catchUp(nil) : try seconds.map { try outcome($0.1, stopped: nil, refusals: 0) } }
        return result
    }

    /// What an inject's `at` counts from: the start, or the event of its `after:` once it has happened (nil
    /// before). Read from the trail, so a resumed drill computes the same.
    func origin(of inject: Scenario.Inject, in id: String) throws -> Instant? {
        switch inject.relativeTo {
        case nil: return scenario.start
        case .reached(let c)?: return try reached(id, step: c.step, state: c.reached)?.at
        case .inject(let other)?:
            var at: Instant?
            try service.store.forEachEvent(incident: id) { stored in
                guard at == nil, stored.type == .note, case .note(let n) = try TrailRecord.decode(stored),
                    n.actor.name == Self.injectActor.name, n.text.hasPrefix("INJECT \(other) ") || n.text.hasPrefix("INJECT \(other):")
                else { return }
                at = n.now
            }
            return at
        }
    }

    func outcome(_ id: String, stopped: String?, refusals: Int) throws -> Outcome {
        let final = try service.load(id)
        var closed: String?
        if case .closed(let outcome) = final.state.status { closed = outcome }
        return Outcome(incident: id, closed: closed, span: final.now - scenario.start, stoppedBecause: stopped,
                       refusals: refusals)
    }

    private func describe(_ event: Event, in incident: LoadedIncident) -> String {
        switch event {
        case .inject(let inject): "inject \(inject.id)" + (inject.from.map { " from \($0)" } ?? "")
        case .act(let instance, _, let s): "\(s.world ? "the world: " : "")\(instance) \(s.action)" + (s.person.map { " (\($0))" } ?? "")
        case .expect(let instance, _, let s):
            "players: \(s.person ?? defaultPerson(for: s, instance: instance, in: incident) ?? "a player") \(instance) \(s.action)"
        case .timer: "a timer (a timeout, an escalation, a clock)"
        }
    }

    /// The first person in the directory who holds a role the action needs.
    func defaultPerson(for scripted: Scenario.ScriptedAction, instance: String, in incident: LoadedIncident) -> String? {
        guard let spec = Engine.availableActions(for: instance, in: incident.state).first(where: { $0.name == scripted.action }),
            let contacts = incident.definition.contacts
        else { return nil }
        let roles = scripted.role.map { [$0] } ?? spec.roles
        return contacts.people.first { p in roles.isEmpty || roles.contains(where: p.roles.contains) }?.id
    }

    /// An inject as its timeline entry reads: `INJECT journalist_call (phone, from Aftenposten): …`.
    public static func injectText(_ inject: Scenario.Inject) -> String {
        let via = [inject.channel, inject.from.map { "from \($0)" }].compactMap { $0 }.joined(separator: ", ")
        var text = "INJECT \(inject.id)" + (via.isEmpty ? "" : " (\(via))") + ": \(inject.content)"
        if let expect = inject.expect { text += " (expected: \(expect))" }
        return text
    }

    /// When (and at which record) a step first reached a state: an exit with that outcome, or an action of that
    /// name or its past tense (`publish`/`published`, `submit`/`submitted`). Read from the trail alone.
    public func reached(_ id: String, step: String, state: String) throws -> (at: Instant, seq: Int)? {
        try DrillScore.reached(service.store, id, step: step, state: state)
    }
}

extension Scenario {
    /// The scenario's outages on the drill's clock, as the sandbox plays them.
    public var sandboxOutages: [SandboxTransport.Outage] {
        outages.map { .init(channel: $0.channel, from: start + $0.from, until: start + $0.until, detail: $0.detail) }
    }
}
