import CrisisCore
import Foundation
internal import Yams

/// A drill scenario (`schema: crisis-scenario/v1`, docs/drill-format.md): a playbook run on a simulated clock with
/// scripted injects, the team's expected actions and the outside world's behaviour, and the objectives the team is
/// scored against. Modelled on an exercise's master scenario events list (MSEL).
public struct Scenario: Sendable {
    /// A condition a contingency inject checks when it comes due.
    public struct Condition: Sendable, Hashable {
        /// The playbook step.
        public var step: String
        /// An outcome of the step, or an action taken on it (`published`, `publish`, `submitted`).
        public var reached: String
    }

    /// Something that happens to the players at a simulated time: a call, a message, a news item.
    public struct Inject: Sendable, Hashable {
        public var id: String
        /// Offset from the drill's start.
        public var at: PlaybookDuration
        public var from: String?
        public var channel: String?
        public var content: String
        /// What the players are expected to do about it (for the facilitator and the after-action report).
        public var expect: String?
        /// A contingency inject fires only if this step has NOT reached this state by `at`.
        public var unless: Condition?
        /// `opens:`: a second incident arrives with this inject: the path (resolved against this scenario's folder)
        /// of another scenario, started as its own drill incident at the inject's moment and played alongside.
        public var opens: String? = nil
        /// `answer:`: what shows the players answered it (a step reaching a state after the inject was played),
        /// and optionally how soon; the score says answered or not, and after how long.
        public var answer: Answer? = nil
        /// `after:`: `at` counts from this event instead of the start (another inject, or a step reaching a state);
        /// the inject waits until the event has happened.
        public var relativeTo: Anchor? = nil
    }

    /// What answers an inject: a step reaching a state after it was played, within a time if given.
    public struct Answer: Sendable, Hashable {
        public var condition: Condition
        public var within: PlaybookDuration?
    }

    /// An event an inject's time can count from.
    public enum Anchor: Sendable, Hashable {
        case inject(String)
        case reached(Condition)
    }

    /// One scripted action on a step: a player's expected action, or the outside world's (an approver, a
    /// platform). Each is done `after` the moment it became possible: when the step (or the previous scripted
    /// action on it) made it available.
    public struct ScriptedAction: Sendable, Hashable {
        public var step: String
        public var action: String
        public var after: PlaybookDuration
        /// Who acts (a person id from the contacts directory); nil: the first person the action's role lists.
        public var person: String?
        public var role: String?
        public var fields: [String: String]
        /// The outside world's behaviour, not the team's: not counted in the team's score.
        public var world: Bool
        public var location: SourceLocation
    }

    /// A channel the sandbox fails from one offset to another (deliveries in the window come back `failed`).
    public struct Outage: Sendable, Hashable {
        public var channel: String
        public var from: PlaybookDuration
        public var until: PlaybookDuration
        public var detail: String
    }

    /// Who plays what in this drill: roles a person plays beyond their directory roles (a stand-in), and when they
    /// cannot be reached (on a flight until T+3h). Applied to the contacts directory for this drill only.
    public struct RosterEntry: Sendable, Hashable {
        public var person: String
        public var plays: [String]
        public var unreachableUntil: PlaybookDuration?
        public var note: String?
    }

    /// An objective with its measure: a step reaching a state within a time of the start.
    public struct Objective: Sendable, Hashable {
        public var id: String
        public var title: String
        public var step: String
        public var reaches: String
        public var within: PlaybookDuration
    }

    /// A tabletop exercise's question: discussed by the room, its answer recorded; a question at a playbook
    /// decision point (`decision: STEP`, a choice step) takes one of the step's options.
    public struct Question: Sendable, Hashable {
        public var ask: String
        public var decision: String?
        public var options: [String]
    }

    /// A tabletop module: a phase of the scenario, with the injects shown to the room and its questions.
    public struct Module: Sendable, Hashable {
        public var id: String
        public var title: String
        public var injects: [String]
        public var questions: [Question]
    }

    public var id: String
    public var title: String
    /// Tabletop modules, in order (`crisis drill SCENARIO --tabletop`).
    public var modules: [Module] = []
    /// The drill's roster (`roster:`).
    public var roster: [RosterEntry] = []
    /// Paths as resolved against the scenario file's folder.
    public var playbookPath: String
    public var contactsPath: String?
    /// The drill clock at T+0.
    public var start: Instant
    /// Playbook inputs; `T+…` values are the start plus the offset, written as RFC 3339.
    public var inputs: [(String, String)]
    public var injects: [Inject]
    /// Scripted actions per playbook step id, in the order they are done.
    public var script: [String: [ScriptedAction]]
    public var outages: [Outage]
    /// How the incident is expected to end (its close outcome), for `--auto`.
    public var expectedOutcome: String?
    public var objectives: [Objective]
    /// The longest simulated span `--auto` runs before giving up.
    public var limit: PlaybookDuration
}

/// Reads scenarios, checking them against their playbook and contacts: every problem at once, as
/// `file:line:column: error: message`.
public enum ScenarioLoader {
    public static let schemaV1 = "crisis-scenario/v1"

    public static func load(path: String) -> (scenario: Scenario?, diagnostics: [Diagnostic]) {
        let read = YAMLReader.read(path: path)
        guard let bytes = read.bytes else { return (nil, read.diagnostics) }
        return load(bytes: bytes, path: path, checkReferences: true)
    }

    /// Reads a scenario from bytes. With `checkReferences`, its playbook and contacts are loaded (paths relative to
    /// `path`'s folder) and every step, person and input it names is checked against them; without, as when a
    /// pinned copy is read back from the trail for scoring, only the file itself is checked.
    ///
    /// `start` replaces the file's own start (a scenario opened by another's inject starts at that moment; its
    /// `T+` inputs count from there). `opened` marks a scenario read as the second incident of another: it may
    /// not open one itself.
    public static func load(bytes: [UInt8], path: String, checkReferences: Bool, start: Instant? = nil,
                            opened: Bool = false)
        -> (scenario: Scenario?, diagnostics: [Diagnostic])
    {
        let document = YAMLReader.parse(bytes: bytes, path: path)
        guard let root = document.root else {
            var d = document.diagnostics
            if !d.hasErrors {
                d.append(.error(DiagnosticCode.wrongType, "the file is empty; a scenario starts with 'schema: \(schemaV1)'",
                                at: SourceLocation(file: path, line: 1, column: 1)))
            }
            return (nil, Diagnostic.sorted(d))
        }
        let r = NodeReader(file: path)
        let scenario = build(root, path: path, checkReferences: checkReferences, startOverride: start, opened: opened, r: r)
        let all = Diagnostic.sorted(document.diagnostics + r.diagnostics)
        return (all.hasErrors ? nil : scenario, all)
    }

    /// `T+35m`, `35m`, `T+0`: an offset from the drill's start.
    static func offset(_ text: String) -> PlaybookDuration? {
        var t = Substring(text.trimmingCharacters(in: .whitespaces))
        if t.hasPrefix("T+") { t = t.dropFirst(2) } else if t.hasPrefix("T") && t.count == 1 { return .init(milliseconds: 0) }
        if t == "0" { return .init(milliseconds: 0) }
        return PlaybookDuration(parsing: String(t))
    }

    static func offset(_ node: Node, what: String, r: NodeReader) -> PlaybookDuration? {
        guard let s = r.scalar(node, what: what) else { return nil }
        if s.trimmingCharacters(in: .whitespaces).hasPrefix("-") || s.hasPrefix("T-") {
            r.error(.badDuration, "\(what) '\(s)' is before the drill starts; offsets count from T+0", at: r.location(node))
            return nil
        }
        guard let d = offset(s) else {
            r.error(.badDuration, "\(what) '\(s)' is not an offset (T+35m, 90m, 2h, 3d)", at: r.location(node))
            return nil
        }
        return d
    }

    static func build(_ root: Node, path: String, checkReferences: Bool, startOverride: Instant? = nil, opened: Bool = false,
                      r: NodeReader) -> Scenario? {
        let top = ["schema", "id", "title", "playbook", "contacts", "start", "inputs", "injects", "script", "outages",
                   "end", "objectives", "limit", "description", "modules", "roster"]
        guard let m = r.mapping(root, what: "the scenario", allowed: top) else { return nil }
        if let s = m["schema"].flatMap({ r.scalar($0, what: "schema") }), s != schemaV1 {
            r.error(.unknownSchema, "schema '\(s)' is not '\(schemaV1)'", at: r.location(m["schema"]!))
        } else if m["schema"] == nil {
            r.error(.missingKey, "the scenario needs 'schema: \(schemaV1)'", at: m.location)
        }
        let folder = (path as NSString).deletingLastPathComponent
        func resolve(_ p: String) -> String { p.hasPrefix("/") || folder.isEmpty ? p : (folder as NSString).appendingPathComponent(p) }

        let id = r.string(m, "id", what: "the scenario", required: true) ?? ""
        let title = r.string(m, "title", what: "the scenario", required: true) ?? ""
        let playbookNode = r.require(m, "playbook", what: "the scenario")
        let playbookPath = playbookNode.flatMap { r.scalar($0, what: "playbook") }.map(resolve)
        let contactsPath = m["contacts"].flatMap { r.scalar($0, what: "contacts") }.map(resolve)
        var start = Instant(millisecondsSinceEpoch: 0)
        if let node = r.require(m, "start", what: "the scenario"), let s = r.scalar(node, what: "start") {
            if let i = ISO8601.parse(s) { start = i } else {
                r.error(.badValue, "start '\(s)' is not an RFC 3339 time with its offset (2026-03-02T08:40:00+01:00)",
                        at: r.location(node))
            }
        }
        if let startOverride { start = startOverride }

        // The playbook and contacts the scenario names: loaded to check names against.
        var playbook: Playbook?
        if checkReferences, let playbookPath, let node = playbookNode {
            let loaded = PlaybookLoader.load(path: playbookPath)
            if let p = loaded.playbook { playbook = p } else {
                let first = loaded.diagnostics.first { $0.severity == .error }
                r.error(.badValue, "playbook \(playbookPath) does not load"
                        + (first.map { ": \($0.location.file):\($0.location.line):\($0.location.column): \($0.message)" } ?? ""),
                        at: r.location(node))
            }
        }
        var contacts: ContactsDirectory?
        if checkReferences, let contactsPath, let node = m["contacts"] {
            let loaded = ContactsLoader.load(path: contactsPath)
            if let c = loaded.directory { contacts = c } else {
                r.error(.badValue, "contacts \(contactsPath) do not load", at: r.location(node))
            }
        }
        func checkStep(_ step: String, at loc: SourceLocation) -> Bool {
            guard let playbook, step != Engine.incidentStep, playbook.step(step) == nil else { return true }
            var message = "the playbook has no step '\(step)'"
            if let s = EditDistance.suggestion(for: step, among: playbook.allSteps.map(\.id)) { message += "; did you mean '\(s)'?" }
            r.error(.unknownTargetStep, message, at: loc)
            return false
        }
        func checkPerson(_ person: String, at loc: SourceLocation) {
            guard let contacts, contacts.person(named: person) == nil else { return }
            var message = "the contacts directory has no person '\(person)'"
            if let s = EditDistance.suggestion(for: person, among: contacts.people.map(\.id)) { message += "; did you mean '\(s)'?" }
            r.error(.unknownContact, message, at: loc)
        }

        var inputs: [(String, String)] = []
        if let node = m["inputs"], let im = r.mapping(node, what: "inputs") {
            for e in im.entries {
                guard let v = r.scalar(e.value, what: "input '\(e.key)'") else { continue }
                if v.hasPrefix("T+") || v == "T" {
                    guard let d = offset(v) else {
                        r.error(.badDuration, "input '\(e.key)': '\(v)' is not an offset", at: r.location(e.value))
                        continue
                    }
                    inputs.append((e.key, ISO8601.format(start + d, milliseconds: false)))
                } else {
                    inputs.append((e.key, v))
                }
                if let playbook, !playbook.inputs.contains(where: { $0.name == e.key }) {
                    r.error(.unknownInput, "the playbook has no input '\(e.key)'", at: e.keyLocation)
                }
            }
        }

        var injects: [Scenario.Inject] = []
        var anchorChecks: [(String, SourceLocation)] = []
        if let node = m["injects"], let list = r.sequence(node, what: "injects") {
            for item in list {
                guard let im = r.mapping(item, what: "an inject",
                                         allowed: ["id", "at", "from", "channel", "content", "expect", "unless", "after", "answer", "opens"]) else { continue }
                let iid = r.require(im, "id", what: "an inject").flatMap { r.identifier($0, what: "inject id")?.value } ?? ""
                let at = r.require(im, "at", what: "inject '\(iid)'").flatMap { offset($0, what: "'at' of inject '\(iid)'", r: r) }
                let content = r.string(im, "content", what: "inject '\(iid)'", required: true) ?? ""
                var unless: Scenario.Condition?
                if let u = im["unless"], let um = r.mapping(u, what: "'unless' of inject '\(iid)'", allowed: ["step", "reached"]) {
                    let step = r.string(um, "step", what: "'unless'", required: true) ?? ""
                    let reached = r.string(um, "reached", what: "'unless'", required: true) ?? ""
                    if checkStep(step, at: um.keyLocation("step") ?? um.location) {
                        unless = .init(step: step, reached: reached)
                    }
                }
                var opens: String?
                if let node = im["opens"], let file = r.scalar(node, what: "'opens' of inject '\(iid)'") {
                    if opened {
                        r.error(.badValue, "a scenario opened by another's inject cannot open a third incident", at: r.location(node))
                    } else {
                        opens = resolve(file)
                        if checkReferences {
                            // The second scenario is checked now, with its own file:line:column, before anything starts.
                            let read = YAMLReader.read(path: resolve(file))
                            if let bytes = read.bytes {
                                let other = load(bytes: bytes, path: resolve(file), checkReferences: true, start: start, opened: true)
                                r.include(other.diagnostics)
                            } else {
                                r.error(.badValue, "inject '\(iid)' opens \(resolve(file)), which cannot be read", at: r.location(node))
                            }
                        }
                    }
                }
                var answer: Scenario.Answer?
                if let a = im["answer"], let am = r.mapping(a, what: "'answer' of inject '\(iid)'", allowed: ["step", "reached", "within"]) {
                    let step = r.string(am, "step", what: "'answer'", required: true) ?? ""
                    let reached = r.string(am, "reached", what: "'answer'", required: true) ?? ""
                    let within = am["within"].flatMap { offset($0, what: "'within' of the answer to inject '\(iid)'", r: r) }
                    if checkStep(step, at: am.keyLocation("step") ?? am.location) {
                        answer = .init(condition: .init(step: step, reached: reached), within: within)
                    }
                }
                var anchor: Scenario.Anchor?
                if let a = im["after"], let am = r.mapping(a, what: "'after' of inject '\(iid)'", allowed: ["inject", "step", "reached"]) {
                    if let other = r.string(am, "inject", what: "'after'") {
                        anchor = .inject(other)
                        anchorChecks.append((other, am.keyLocation("inject") ?? am.location))
                    } else if let step = r.string(am, "step", what: "'after'"),
                        let reached = r.string(am, "reached", what: "'after'", required: true)
                    {
                        if checkStep(step, at: am.keyLocation("step") ?? am.location) { anchor = .reached(.init(step: step, reached: reached)) }
                    } else {
                        r.error(.missingKey, "'after' of inject '\(iid)' needs 'inject: ID' or 'step:' with 'reached:'", at: am.location)
                    }
                }
                if injects.contains(where: { $0.id == iid }) {
                    r.error(.duplicateStepID, "two injects are called '\(iid)'", at: r.location(item))
                }
                injects.append(.init(id: iid, at: at ?? .init(milliseconds: 0), from: r.string(im, "from", what: "inject"),
                                     channel: r.string(im, "channel", what: "inject"), content: content,
                                     expect: r.string(im, "expect", what: "inject"), unless: unless, opens: opens, answer: answer,
                                     relativeTo: anchor))
            }
            for (other, loc) in anchorChecks where !injects.contains(where: { $0.id == other }) {
                r.error(.badValue, "an inject counts from inject '\(other)', which the scenario does not have", at: loc)
            }
        }

        var script: [String: [Scenario.ScriptedAction]] = [:]
        if let node = m["script"], let sm = r.mapping(node, what: "script") {
            for e in sm.entries {
                let known = checkStep(e.key, at: e.keyLocation)
                guard let list = r.sequence(e.value, what: "the script of step '\(e.key)'") else { continue }
                var actions: [Scenario.ScriptedAction] = []
                for item in list {
                    guard let am = r.mapping(item, what: "a scripted action of '\(e.key)'",
                                             allowed: ["do", "after", "as", "role", "set", "world"]) else { continue }
                    let what = "a scripted action of '\(e.key)'"
                    guard let action = r.string(am, "do", what: what, required: true) else { continue }
                    if known, let playbook, let step = playbook.step(e.key),
                        !step.kind.stepType.actions.contains(where: { $0.rawValue == action })
                    {
                        r.error(.badValue, "step '\(e.key)' (\(step.kind.stepType.rawValue)) has no action '\(action)'",
                                at: am.keyLocation("do") ?? am.location)
                    }
                    let after = am["after"].flatMap { offset($0, what: "'after' of \(what)", r: r) } ?? .init(milliseconds: 0)
                    let person = r.string(am, "as", what: what)
                    if let person { checkPerson(person, at: am.keyLocation("as") ?? am.location) }
                    var fields: [String: String] = [:]
                    if let s = am["set"], let fm = r.mapping(s, what: "'set' of \(what)") {
                        for f in fm.entries { fields[f.key] = r.scalar(f.value, what: "field '\(f.key)'", allowEmpty: true) ?? "" }
                        // A statement's fact per language (`what_we_know.nb`): a language the statement has, of a
                        // fact written per language.
                        if action == "draft", let playbook, case .holdingStatement(let spec)? = playbook.step(e.key)?.kind {
                            let languages = spec.languages(in: playbook)
                            for f in fm.entries {
                                if let fact = spec.facts.first(where: { $0.name == f.key }),
                                    let problem = spec.singleValueProblem(fact, in: playbook)
                                {
                                    r.error(.badValue, "statement '\(e.key)': \(problem)", at: f.keyLocation)
                                    continue
                                }
                                guard let dot = f.key.lastIndex(of: "."),
                                    let fact = spec.facts.first(where: { $0.name == String(f.key[..<dot]) })
                                else { continue }
                                let language = String(f.key[f.key.index(after: dot)...])
                                if !languages.contains(language) {
                                    r.error(.badValue, "fact '\(f.key)' is for language '\(language)', which statement '\(e.key)' "
                                            + "does not have (its languages: \(languages.joined(separator: ", ")))", at: f.keyLocation)
                                } else if !spec.isPerLanguage(fact, in: playbook) {
                                    let why = languages.count == 1 ? "statement '\(e.key)' has one language (\(language))"
                                        : "fact '\(fact.name)' of statement '\(e.key)' is the same in every language"
                                    r.error(.badValue, "\(why); give it once as '\(fact.name)'", at: f.keyLocation)
                                }
                            }
                        }
                    }
                    let role = r.string(am, "role", what: what)
                    if let role, let playbook, !playbook.roles.contains(where: { $0.id == role }) {
                        var message = "the playbook has no role '\(role)'"
                        if let s = EditDistance.suggestion(for: role, among: playbook.roles.map(\.id)) { message += "; did you mean '\(s)'?" }
                        r.error(.unknownRole, message, at: am.keyLocation("role") ?? am.location)
                    }
                    actions.append(.init(step: e.key, action: action, after: after, person: person,
                                         role: role, fields: fields,
                                         world: r.bool(am, "world", what: what) ?? false,
                                         location: r.location(item)))
                }
                // Two answers that each end a takedown (removed, then refused) cannot both happen.
                let finals = actions.filter { ["removed", "partially_removed", "refused", "restricted", "labelled"].contains($0.action) }
                if finals.count > 1, let second = finals.dropFirst().first {
                    r.error(.conflictingKeys, "step '\(e.key)' is scripted to end twice ('\(finals[0].action)' and "
                            + "'\(second.action)'): a takedown gets one answer; the second never plays", at: second.location)
                }
                script[e.key] = actions
            }
        }

        var outages: [Scenario.Outage] = []
        if let node = m["outages"], let list = r.sequence(node, what: "outages") {
            for item in list {
                guard let om = r.mapping(item, what: "an outage", allowed: ["channel", "from", "until", "detail"]) else { continue }
                let channel = r.string(om, "channel", what: "an outage", required: true) ?? ""
                if let playbook, !channel.isEmpty {
                    var known = Set<String>()
                    for step in playbook.allSteps {
                        switch step.kind {
                        case .holdingStatement(let spec): known.formUnion(spec.channels.map(\.id))
                        case .notify(let spec): known.formUnion(spec.channels)
                        case .escalate(let spec): for level in spec.levels { known.formUnion(level.channels) }
                        default: break
                        }
                    }
                    for person in contacts?.people ?? [] { known.formUnion(person.channels.map(\.type)) }
                    if !known.contains(channel) {
                        var message = "no step of the playbook uses channel '\(channel)' (it uses: \(known.sorted().joined(separator: ", ")))"
                        if let s = EditDistance.suggestion(for: channel, among: Array(known)) { message += "; did you mean '\(s)'?" }
                        r.error(.badValue, message, at: om.keyLocation("channel") ?? om.location)
                    }
                }
                let from = r.require(om, "from", what: "an outage").flatMap { offset($0, what: "'from' of the outage", r: r) }
                let until = r.require(om, "until", what: "an outage").flatMap { offset($0, what: "'until' of the outage", r: r) }
                if let from, let until, !(from < until) {
                    r.error(.badValue, "the \(channel) outage ends before it begins", at: om.location)
                }
                outages.append(.init(channel: channel, from: from ?? .init(milliseconds: 0), until: until ?? .init(milliseconds: 0),
                                     detail: r.string(om, "detail", what: "an outage") ?? "\(channel) is down (scripted)"))
            }
        }

        var expectedOutcome: String?
        if let node = m["end"], let em = r.mapping(node, what: "end", allowed: ["outcome"]) {
            expectedOutcome = r.string(em, "outcome", what: "end", required: true)
        }

        var objectives: [Scenario.Objective] = []
        if let node = m["objectives"], let list = r.sequence(node, what: "objectives") {
            for item in list {
                guard let om = r.mapping(item, what: "an objective", allowed: ["id", "title", "step", "reaches", "within"]) else { continue }
                let oid = r.require(om, "id", what: "an objective").flatMap { r.identifier($0, what: "objective id")?.value } ?? ""
                let step = r.string(om, "step", what: "objective '\(oid)'", required: true) ?? ""
                _ = checkStep(step, at: om.keyLocation("step") ?? om.location)
                let within = r.require(om, "within", what: "objective '\(oid)'").flatMap {
                    offset($0, what: "'within' of objective '\(oid)'", r: r)
                }
                objectives.append(.init(id: oid, title: r.string(om, "title", what: "objective '\(oid)'", required: true) ?? oid,
                                        step: step, reaches: r.string(om, "reaches", what: "objective '\(oid)'", required: true) ?? "",
                                        within: within ?? .init(milliseconds: 0)))
            }
        }
        var modules: [Scenario.Module] = []
        if let node = m["modules"], let list = r.sequence(node, what: "modules") {
            for item in list {
                guard let mm = r.mapping(item, what: "a module", allowed: ["id", "title", "injects", "questions"]) else { continue }
                let mid = r.require(mm, "id", what: "a module").flatMap { r.identifier($0, what: "module id")?.value } ?? ""
                let what = "module '\(mid)'"
                var injectIDs: [String] = []
                if let n = mm["injects"], let ids = r.stringList(n, what: "'injects' of \(what)") {
                    for i in ids {
                        if !injects.contains(where: { $0.id == i.value }) {
                            r.error(.badValue, "\(what) shows inject '\(i.value)', which the scenario does not have", at: i.location)
                        }
                        injectIDs.append(i.value)
                    }
                }
                var questions: [Scenario.Question] = []
                if let n = mm["questions"], let qs = r.sequence(n, what: "'questions' of \(what)") {
                    for q in qs {
                        if case .scalar = q, let text = r.scalar(q, what: "a question") {
                            questions.append(.init(ask: text, decision: nil, options: []))
                            continue
                        }
                        guard let qm = r.mapping(q, what: "a question", allowed: ["ask", "decision"]) else { continue }
                        let ask = r.string(qm, "ask", what: "a question", required: true) ?? ""
                        var options: [String] = []
                        let decision = r.string(qm, "decision", what: "a question")
                        if let decision, let playbook {
                            if let step = playbook.step(decision), case .choice(let spec) = step.kind {
                                options = spec.options.map(\.id)
                            } else {
                                r.error(.unknownTargetStep, "decision '\(decision)' is not a choice step of the playbook",
                                        at: qm.keyLocation("decision") ?? qm.location)
                            }
                        }
                        questions.append(.init(ask: ask, decision: decision, options: options))
                    }
                }
                modules.append(.init(id: mid, title: r.string(mm, "title", what: what, required: true) ?? mid,
                                     injects: injectIDs, questions: questions))
            }
        }
        var roster: [Scenario.RosterEntry] = []
        if let node = m["roster"], let rm = r.mapping(node, what: "roster") {
            for e in rm.entries {
                checkPerson(e.key, at: e.keyLocation)
                guard let pm = r.mapping(e.value, what: "roster entry '\(e.key)'", allowed: ["plays", "unreachable_until", "note"])
                else { continue }
                var plays: [String] = []
                if let n = pm["plays"], let list = r.stringList(n, what: "'plays' of '\(e.key)'") {
                    for role in list {
                        if let playbook, !playbook.roles.contains(where: { $0.id == role.value }) {
                            r.error(.unknownRole, "the playbook has no role '\(role.value)'", at: role.location)
                        }
                        plays.append(role.value)
                    }
                }
                let until = pm["unreachable_until"].flatMap { offset($0, what: "'unreachable_until' of '\(e.key)'", r: r) }
                roster.append(.init(person: e.key, plays: plays, unreachableUntil: until,
                                    note: r.string(pm, "note", what: "roster entry '\(e.key)'")))
            }
        }
        let limit = m["limit"].flatMap { offset($0, what: "limit", r: r) } ?? .days(14)
        guard let playbookPath else { return nil }
        return Scenario(id: id, title: title, modules: modules, roster: roster, playbookPath: playbookPath, contactsPath: contactsPath, start: start,
                        inputs: inputs, injects: injects.sorted { $0.at < $1.at }, script: script, outages: outages,
                        expectedOutcome: expectedOutcome, objectives: objectives, limit: limit)
    }
}

extension Scenario {
    /// The contacts directory as this drill has it: each roster entry's extra roles added, and the person
    /// unavailable from the start until `unreachable_until` (so escalations page their deputy). Applied when the
    /// drill starts and on every replay, from the scenario pinned in the trail.
    public func applyRoster(to directory: ContactsDirectory) -> ContactsDirectory {
        var d = directory
        for entry in roster {
            guard let i = d.people.firstIndex(where: { $0.id == entry.person }) else { continue }
            for role in entry.plays where !d.people[i].roles.contains(role) { d.people[i].roles.append(role) }
            if let until = entry.unreachableUntil {
                d.people[i].unavailable.append(Unavailability(from: start, until: start + until,
                                                              reason: entry.note ?? "unreachable in this drill"))
            }
        }
        return d
    }
}
