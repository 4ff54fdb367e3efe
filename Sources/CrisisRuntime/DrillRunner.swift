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
        case refused(Scenario.ScriptedAction, instance: String, message: String)
        case timers(count: Int, at: Instant)
    }

    public struct Outcome: Sendable {
        public var incident: String
        public var closed: String?
        /// Simulated span from the start to the last record.
        public var span: PlaybookDuration
        /// Why the run stopped before the incident closed (nothing more happens, or the limit).
        public var stoppedBecause: String?
        public var refusals: Int
    }

    public let service: IncidentService
    public let scenario: Scenario
    public let scenarioFile: (name: String, bytes: [UInt8])

    public init(service: IncidentService, scenario: Scenario, scenarioFile: (name: String, bytes: [UInt8])) {
        var service = service
        service.sandbox = SandboxTransport(outages: scenario.outages.map {
            .init(channel: $0.channel, from: scenario.start + $0.from, until: scenario.start + $0.until, detail: $0.detail)
        })
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

    private enum Event {
        case inject(Scenario.Inject)
        case act(instance: String, cursor: Int, Scenario.ScriptedAction)
        case timer
    }

    /// Plays the scenario on incident `id` until it closes, nothing more can happen, or the scenario's limit.
    public func play(_ id: String, wallNow: @escaping () -> Instant, progress: (Step) -> Void) throws -> Outcome {
        var cursors: [String: Int] = [:]
        var availableSince: [String: Instant] = [:]
        var injected = Set<String>()
        var refusals = 0
        var stopped: String?
        var iterations = 0
        while true {
            iterations += 1
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
                candidates.append((scenario.start + inject.at, 0, .inject(inject)))
            }
            let instances = incident.state.active.map { ($0.instance, $0.stepID) } + [(Engine.incidentStep, Engine.incidentStep)]
            for (instance, stepID) in instances {
                guard let list = scenario.script[stepID] else { continue }
                let cursor = cursors[instance, default: 0]
                guard cursor < list.count else { continue }
                let scripted = list[cursor]
                let available = Engine.availableActions(for: instance, in: incident.state).contains { $0.name == scripted.action }
                let key = "\(instance)#\(cursor)"
                guard available else { availableSince[key] = nil; continue }
                let since = availableSince[key] ?? now
                availableSince[key] = since
                candidates.append((max(since + scripted.after, now), 1, .act(instance: instance, cursor: cursor, scripted)))
            }
            if let timer = incident.state.nextTimer { candidates.append((max(timer.due, now), 2, .timer)) }
            guard let next = candidates.min(by: { ($0.0, $0.1) < ($1.0, $1.1) }) else {
                let waiting = incident.state.active.map(\.instance).joined(separator: ", ")
                stopped = "nothing more happens: the script has no action for \(waiting.isEmpty ? "any step" : waiting)"
                break
            }
            if now < next.0 {
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
                _ = try service.note(incident: id, text: Self.injectText(inject), actor: Self.injectActor, expectSeq: nil,
                                     idempotencyKey: "inject/\(inject.id)", wallNow: wallNow())
                progress(.inject(inject, at: next.0))
            case .act(let instance, let cursor, let scripted):
                cursors[instance] = cursor + 1
                availableSince["\(instance)#\(cursor)"] = nil
                let person = scripted.person ?? defaultPerson(for: scripted, instance: instance, in: incident) ?? "drill-player"
                do {
                    _ = try service.act(.init(
                        incident: id, step: instance, action: scripted.action,
                        fields: scripted.fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                        actor: Actor(name: person, role: scripted.role), wallNow: wallNow()))
                    progress(.acted(scripted, instance: instance, person: person, at: next.0))
                } catch RuntimeError.refused(_, let message, _) {
                    refusals += 1
                    progress(.refused(scripted, instance: instance, message: message))
                }
            }
        }
        let final = try service.load(id)
        var closed: String?
        if case .closed(let outcome) = final.state.status { closed = outcome }
        return Outcome(incident: id, closed: closed, span: final.now - scenario.start, stoppedBecause: stopped,
                       refusals: refusals)
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
