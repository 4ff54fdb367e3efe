import CrisisAudit
import CrisisCore
import CrisisPlaybook
import Foundation

/// A drill's score, read from its trail alone (the scenario is pinned in it): times to the moments that matter,
/// each objective rated in the exercise-evaluation style with the records behind the rating, targets met or
/// missed, decisions against the expected ones, injects delivered or not. `crisis drill score ID`.
public struct DrillScore: Codable, Sendable {
    /// Exercise-evaluation ratings (as in HSEEP's exercise evaluation guides).
    public enum Rating: String, Codable, Sendable {
        case performed = "performed without challenges"
        case someChallenges = "performed with some challenges"
        case majorChallenges = "performed with major challenges"
        case unable = "unable to be performed"

        /// Within the time: without challenges; up to half as long again: some; later: major; never: unable.
        static func of(after: PlaybookDuration?, within: PlaybookDuration) -> Rating {
            guard let after else { return .unable }
            if !(within < after) { return .performed }
            if !(within * 3 < after * 2) { return .someChallenges }
            return .majorChallenges
        }
    }

    public struct Measure: Codable, Sendable {
        public var name: String
        /// Time from the drill's start, in words; nil if it never happened.
        public var after: String?
        public var after_ms: Int64?
        public var record: Int?
    }

    public struct ObjectiveScore: Codable, Sendable {
        public var id: String
        public var title: String
        public var step: String
        public var reaches: String
        public var within: String
        public var rating: String
        public var after: String?
        /// The record that shows it (absent when it never happened).
        public var evidence: [Int]
    }

    public struct TargetScore: Codable, Sendable {
        public var id: String
        public var title: String
        public var state: String
        public var met_after: String?
        /// A missed target whose moment came late: when, from the time it counts from.
        public var reached_after: String?
        /// `met`, `missed`, `not_met` (closed before it was met), `running` or `not_started`.
        public var result: String
        /// Met: the time to spare; missed: by how much; running: what is left. In words, and in milliseconds.
        public var margin: String?
        public var margin_ms: Int64?
    }

    /// A cadence of the playbook (an update promised every 30 minutes): how many of its occurrences were met.
    public struct CadenceScore: Codable, Sendable {
        public var id: String
        public var title: String
        public var every: String
        public var occurrences: Int
        public var met: Int
        public var missed: Int
    }

    /// A clock of the playbook (a regulatory deadline, an internal one) as the drill left it.
    public struct ClockScore: Codable, Sendable {
        public var id: String
        public var title: String
        /// The rule it stands for (`GDPR Art. 33`), when the playbook or the catalog says.
        public var reference: String?
        /// From the drill's start: when it started, when it was due, when it was stopped.
        public var started: String
        public var due: String
        public var stopped: String?
        public var result: String
        public var margin: String?
        public var margin_ms: Int64?
    }

    public struct InjectScore: Codable, Sendable {
        public var id: String
        public var at: String
        /// False for a contingency inject whose condition did not hold (or one the drill never reached).
        public var delivered: Bool
        public var record: Int?
        /// For an inject with an `answer`: whether the players answered it (absent when the scenario does not say
        /// what answers it), how long after it was played, the record that shows it, and a rating when the answer
        /// has a time (`within`).
        public var answered: Bool?
        public var answered_after: String?
        public var answer_record: Int?
        public var rating: String?
    }

    public struct Decision: Codable, Sendable {
        public var step: String
        public var expected: String
        public var chosen: String?
        public var record: Int?
        public var matches: Bool
    }

    public var incident: String
    public var scenario: String
    public var title: String
    public var outcome: String?
    public var expected_outcome: String?
    public var span: String
    public var measures: [Measure]
    public var objectives: [ObjectiveScore]
    public var targets: [TargetScore]
    /// The playbook's cadences that started (absent when none did).
    public var cadences: [CadenceScore]?
    public var clocks: [ClockScore]
    public var injects: [InjectScore]
    public var decisions: [Decision]
    /// Actions the drill refused (each a record in the trail).
    public var refusals: Int
    /// The debrief's tagged notes: strengths, and areas for improvement with owners and dates (HotWashItem).
    public var hot_wash: [HotWashItem]

    /// When an inject is due, for people: `T+35m`, `10m after journalist_call`, `1h after statement published`.
    public static func when(_ inject: Scenario.Inject) -> String {
        let offset = inject.at.milliseconds == 0 ? "0" : humanDuration(inject.at)
        switch inject.relativeTo {
        case nil: return "T+" + offset
        case .inject(let other)?: return "\(offset) after \(other)"
        case .reached(let c)?: return "\(offset) after \(c.step) \(c.reached)"
        }
    }

    /// How a tabletop's decision is recorded: a note `#decision STEP=OPTION (module/qN) the question`.
    public static let decisionTag = "#decision "

    /// The scenario pinned in a drill's trail.
    public static func scenario(_ store: any AuditLog, _ id: String) throws -> Scenario {
        var opened: TrailRecord.Opened?
        try store.forEachEvent(incident: id) { stored in
            guard opened == nil, case .opened(let o) = try TrailRecord.decode(stored) else { return }
            opened = o
        }
        guard let ref = opened?.scenario else {
            throw RuntimeError.invalid("\(id) was not started from a scenario ('crisis drill SCENARIO' starts one)")
        }
        guard let file = try store.pinnedFile(sha256: ref.sha256) else {
            throw RuntimeError.corruptRecord("pinned scenario \(ref.sha256) missing")
        }
        // The drill clock started at the incident's opening: the scenario's own start, or for a second incident
        // the moment the first one's inject opened it.
        let loaded = ScenarioLoader.load(bytes: file.bytes, path: ref.path, checkReferences: false, start: opened?.now)
        guard let s = loaded.scenario else { throw RuntimeError.diagnostics(loaded.diagnostics.filter { $0.severity == .error }) }
        return s
    }

    static func stepID(_ instance: String) -> String {
        instance.firstIndex(of: "[").map { String(instance[..<$0]) } ?? instance
    }

    /// Actions whose past tense names a state the step is in afterwards (a takedown's statuses, a statement's
    /// revisions). `publish` is not here: a statement is published when every channel is (its `published` exit).
    static let pastTense = ["submit": "submitted", "acknowledge": "acknowledged", "approve": "approved",
                            "draft": "drafted", "reject": "rejected"]

    /// When a step first reached a state: an exit with that outcome, or an action of that name or (for the actions
    /// above) its past tense.
    static func reached(_ store: any AuditLog, _ id: String, step: String, state: String, after: Int = 0) throws
        -> (at: Instant, seq: Int)?
    {
        var found: (Instant, Int)?
        try store.forEachEvent(incident: id) { stored in
            guard found == nil, stored.seq > after else { return }
            let record = try TrailRecord.decode(stored)
            if let now = record.now, reaches(record, step: step, state: state) { found = (now, stored.seq) }
        }
        return found
    }

    /// Whether `record` is the moment step `step` reaches `state`: an action of that name or past tense on it, or
    /// its exit with that outcome. The one rule for objectives, answers, and targets reached late.
    static func reaches(_ record: TrailRecord, step: String, state: String) -> Bool {
        if case .action(let a) = record, stepID(a.step) == step, a.action == state || pastTense[a.action] == state {
            return true
        }
        return record.effects.contains {
            if case .exit(let s, let outcome) = $0 { stepID(s) == step && outcome == state } else { false }
        }
    }

    public static func compute(_ service: IncidentService, _ id: String) throws -> DrillScore {
        let scenario = try scenario(service.store, id)
        let incident = try service.load(id)
        let start = incident.state.startedAt
        var firstAck: (Instant, Int)?, published: (Instant, Int)?, submitted: (Instant, Int)?
        var refusals = 0
        var chosen: [String: [(String, Int)]] = [:]  // step id: every choice made on it, in order
        var injectRecords: [String: Int] = [:]
        var injectTimes: [String: Instant] = [:]
        try service.store.forEachEvent(incident: id) { stored in
            let record = try TrailRecord.decode(stored)
            // A statement is published when every channel is: its step's `published` exit.
            if published == nil, let now = record.now,
                record.effects.contains(where: { if case .exit(_, "published") = $0 { true } else { false } })
            {
                published = (now, stored.seq)
            }
            switch record {
            case .action(let a):
                if a.action == StepAction.ack.rawValue, firstAck == nil { firstAck = (a.now, stored.seq) }

                // A takedown's submission, not a regulatory submission's (a notice to an authority).
                if a.action == StepAction.submit.rawValue, submitted == nil,
                    case .takedown? = incident.definition.playbook.step(stepID(a.step))?.kind
                {
                    submitted = (a.now, stored.seq)
                }
                if a.action == StepAction.choose.rawValue, let option = a.fields["option"] {
                    chosen[stepID(a.step), default: []].append((option, stored.seq))
                }
            case .rejected: refusals += 1
            case .note(let n) where n.text.hasPrefix(Self.decisionTag):
                // A tabletop's decision at a playbook decision point: `#decision STEP=OPTION …`.
                let words = n.text.dropFirst(Self.decisionTag.count).split(separator: " ", maxSplits: 1)
                let pair = words.first?.split(separator: "=", maxSplits: 1) ?? []
                if pair.count == 2 { chosen[String(pair[0]), default: []].append((String(pair[1]), stored.seq)) }
            case .note(let n) where n.actor.name == DrillRunner.injectActor.name:
                if let name = n.text.split(separator: " ").dropFirst().first {
                    let inject = String(name).trimmingCharacters(in: CharacterSet(charactersIn: ":"))
                    injectRecords[inject] = stored.seq
                    injectTimes[inject] = n.now
                }
            default: break
            }
        }
        func measure(_ name: String, _ m: (Instant, Int)?) -> Measure {
            Measure(name: name, after: m.map { humanDuration($0.0 - start) }, after_ms: m.map { ($0.0 - start).milliseconds },
                    record: m?.1)
        }
        let objectives = try scenario.objectives.map { o -> ObjectiveScore in
            let r = try reached(service.store, id, step: o.step, state: o.reaches)
            let after = r.map { $0.at - start }
            return ObjectiveScore(id: o.id, title: o.title, step: o.step, reaches: o.reaches, within: humanDuration(o.within),
                                  rating: Rating.of(after: after, within: o.within).rawValue, after: after.map(humanDuration),
                                  evidence: r.map { [$0.seq] } ?? [])
        }
        let report = StatusReport(incident, wallNow: incident.now)
        var closed = false
        if case .closed = incident.state.status { closed = true }
        let standing = IncidentReport.standing(incident, end: incident.now, closed: closed) { spec, origin in
            let state = spec.reaches?.value ?? spec.outcome.value
            guard let found = (try? reached(service.store, id, step: spec.step.value, state: state)) ?? nil else { return nil }
            return origin < found.at ? found.at : nil
        }
        let at = { (i: Instant) in i == start ? "T+0" : "T+" + humanDuration(i - start) }
        let targets = report.targets.map { t -> TargetScore in
            let r = standing.targets.first { $0.id == t.id }?.result ?? .notStarted
            let late = standing.targets.first { $0.id == t.id }.flatMap { s in s.reachedLateAt.map { ($0, s.origin) } }
            return TargetScore(id: t.id, title: t.title, state: t.state, met_after: t.met_after,
                               reached_after: late.flatMap { at, origin in origin.map { humanDuration(at - $0) } }, result: r.name,
                               margin: r.margin.map(humanDuration), margin_ms: r.margin?.milliseconds)
        }
        let cadenceScores = incident.definition.playbook.cadences.compactMap { spec -> CadenceScore? in
            guard let run = incident.state.cadences.first(where: { $0.id == spec.id }) else { return nil }
            return CadenceScore(id: spec.id, title: spec.title, every: humanDuration(spec.every),
                                occurrences: run.occurrences.count, met: run.met, missed: run.missed)
        }
        let clocks = standing.clocks.map { c in
            ClockScore(id: c.id, title: c.title, reference: c.reference, started: at(c.startedAt), due: at(c.deadline),
                       stopped: c.stoppedAt.map(at), result: c.result.name, margin: c.result.margin.map(humanDuration),
                       margin_ms: c.result.margin?.milliseconds)
        }
        // The n-th expected choice on a step against the n-th choice made on it (a choice visited again, as an
        // update loop's "still disrupted?", is scored each time).
        var decisions: [Decision] = []
        for step in scenario.script.keys.sorted() {
            let expected = (scenario.script[step] ?? []).filter { $0.action == StepAction.choose.rawValue && !$0.world }
                .compactMap { $0.fields["option"] }
            let made = chosen[step] ?? []
            for (i, option) in expected.enumerated() {
                let actual = i < made.count ? made[i] : nil
                decisions.append(Decision(step: step, expected: option, chosen: actual?.0, record: actual?.1,
                                          matches: actual?.0 == option))
            }
        }
        var outcome: String?
        if case .closed(let o) = incident.state.status { outcome = o }
        return DrillScore(
            incident: id, scenario: scenario.id, title: scenario.title, outcome: outcome,
            expected_outcome: scenario.expectedOutcome, span: humanDuration(incident.now - start),
            measures: [measure("first acknowledgement", firstAck), measure("holding statement published", published),
                       measure("takedown submitted", submitted)],
            objectives: objectives,
            targets: targets,
            cadences: cadenceScores.isEmpty ? nil : cadenceScores,
            clocks: clocks,
            injects: try scenario.injects.map { inject in
                var score = InjectScore(id: inject.id, at: Self.when(inject), delivered: injectRecords[inject.id] != nil,
                                        record: injectRecords[inject.id])
                guard let answer = inject.answer, let seq = injectRecords[inject.id] else { return score }
                let playedAt = injectTimes[inject.id]
                let found = try reached(service.store, id, step: answer.condition.step, state: answer.condition.reached, after: seq)
                let after = found.flatMap { f in playedAt.map { f.at - $0 } }
                score.answered = found != nil
                score.answered_after = after.map(humanDuration)
                score.answer_record = found?.seq
                if let within = answer.within { score.rating = Rating.of(after: found == nil ? nil : after, within: within).rawValue }
                return score
            }.enumerated().sorted { a, b in  // as they were played, then those not played
                (a.element.record ?? Int.max, a.offset) < (b.element.record ?? Int.max, b.offset)
            }.map(\.element),
            decisions: decisions, refusals: refusals, hot_wash: try HotWashItem.items(service.store, id))
    }
}

extension IncidentReport.Result {
    /// The result's name in scores and JSON: `met`, `missed`, `running`, `not_met`, `not_started`.
    public var name: String {
        switch self {
        case .met: "met"
        case .missed: "missed"
        case .running: "running"
        case .notMet: "not_met"
        case .notStarted: "not_started"
        }
    }

    /// Met: the time to spare; missed: by how much; running: what is left; nil otherwise.
    public var margin: PlaybookDuration? {
        switch self {
        case .met(let d), .missed(let d), .running(let d): d
        case .notMet, .notStarted: nil
        }
    }
}
