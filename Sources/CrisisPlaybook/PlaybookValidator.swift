import CrisisCore
import Foundation

/// Graph, semantic and template rules over a loaded playbook (docs/playbook-format.md).
public enum PlaybookValidator {
    /// Every rule, with the contacts directory's rules when `contacts` is given. Template files are read from
    /// `baseDirectory` (the playbook's directory). Returns diagnostics sorted by file, line and column.
    public static func validate(_ playbook: Playbook, baseDirectory: String, contacts: ContactsDirectory? = nil)
        -> [Diagnostic]
    {
        validate(playbook, baseDirectory: baseDirectory, contacts: contacts, skipping: [])
    }

    /// `skipping`: steps whose definition already failed to load; their own rules are not checked again.
    static func validate(
        _ playbook: Playbook, baseDirectory: String, contacts: ContactsDirectory?, skipping: Set<String>
    ) -> [Diagnostic] {
        var v = Validation(playbook: playbook, baseDirectory: baseDirectory, contacts: contacts, broken: skipping)
        v.run()
        return Diagnostic.sorted(v.diagnostics)
    }
}

/// Sample values used to estimate how long a rendered template gets (about 20 characters each).
enum SampleValues {
    static let text = "Lorem ipsum dolor si"
    static let url = "https://example.com/posts/1234567890"
    static let time = "2025-10-24T10:00:00+02:00"
    static let incidentID = "INC-20251024-0001"

    static func value(for type: ValueType, values: [String] = []) -> String {
        switch type {
        case .url, .urls: url
        case .time: time
        case .integer: "12345"
        case .boolean: "false"
        case .enum: values.max { $0.count < $1.count } ?? text
        case .string, .text: text
        }
    }
}

struct Validation {
    let playbook: Playbook
    let baseDirectory: String
    let contacts: ContactsDirectory?
    let broken: Set<String>
    var diagnostics: [Diagnostic] = []

    /// Where each step lives: "" for top level, "parallel/branch" inside a branch, "foreach.do" for a body.
    var scopeOf: [String: String] = [:]
    var stepByID: [String: Step] = [:]
    var bodies: Set<String> = []
    /// Every scope with its steps (file order) and entry points.
    var scopes: [(key: String, steps: [Step], roots: [Located<String>], owner: String?)] = []

    init(playbook: Playbook, baseDirectory: String, contacts: ContactsDirectory?, broken: Set<String>) {
        self.playbook = playbook
        self.baseDirectory = baseDirectory
        self.contacts = contacts
        self.broken = broken
    }

    mutating func error(_ code: DiagnosticCode, _ message: String, _ at: SourceLocation) {
        diagnostics.append(.error(code, message, at: at))
    }

    mutating func warning(_ code: DiagnosticCode, _ message: String, _ at: SourceLocation) {
        diagnostics.append(.warning(code, message, at: at))
    }

    mutating func run() {
        indexSteps()
        checkStarts()
        for step in playbook.allSteps { checkRoutes(step) }
        checkDeadline()
        checkClockRoutes()
        for step in playbook.allSteps where !broken.contains(step.id) { checkStep(step) }
        checkTargets()
        checkCadences()
        checkDeclaredChannels()
        checkGraph()
        checkRoles()
        checkObligations()
        if let conflicted = playbook.conflicted { _ = checkInput(conflicted, types: [.string, .text], what: "'conflicted'") }
        if contacts != nil { checkContacts() }
    }

    // MARK: Index

    mutating func indexSteps() {
        var roots: [Located<String>] = [playbook.start]
        if let next = playbook.deadline?.next { roots.append(next) }
        for clock in playbook.clocks {
            roots += clock.onWarning.map(\.next)
            if let next = clock.onExpiry { roots.append(next) }
        }
        for step in playbook.allSteps {
            if case .choice(let c) = step.kind, case .escalate(let target)? = c.onTimeout { roots.append(target) }
        }
        scopes.append(("", playbook.steps, roots, nil))
        func walk(_ steps: [Step], scope: String) {
            for s in steps {
                if let first = stepByID[s.id] {
                    let l = first.location
                    diagnostics.append(.error(
                        DiagnosticCode.duplicateStepID,
                        "step id '\(s.id)' is already used at line \(l.line), column \(l.column); step ids are unique in the whole playbook",
                        at: s.location))
                    continue
                }
                stepByID[s.id] = s
                scopeOf[s.id] = scope
                switch s.kind {
                case .parallel(let p):
                    for b in p.branches {
                        let key = "\(s.id)/\(b.id)"
                        scopes.append((key, b.steps, [b.start], s.id))
                        walk(b.steps, scope: key)
                    }
                case .foreach(let f):
                    bodies.insert(f.body.id)
                    walk([f.body], scope: f.body.id)
                case .choice, .task, .holdingStatement, .takedown, .escalate, .notify, .clock, .wait, .end, .submission:
                    break
                }
            }
        }
        walk(playbook.steps, scope: "")
    }

    func describeScope(_ key: String) -> String {
        if key.isEmpty { return "the top level" }
        let parts = key.split(separator: "/")
        if parts.count == 2 { return "branch '\(parts[1])' of parallel step '\(parts[0])'" }
        return "the body of '\(key)'"
    }

    // MARK: Starts and routes

    mutating func checkStarts() {
        for scope in scopes {
            guard let start = scope.roots.first, !start.value.isEmpty else { continue }
            let ids = Set(scope.steps.map(\.id))
            if ids.contains(start.value) { continue }
            var message = "start '\(start.value)' is not a step of \(describeScope(scope.key))"
            if let elsewhere = scopeOf[start.value] {
                message += "; it is in \(describeScope(elsewhere))"
            } else if let s = EditDistance.suggestion(for: start.value, among: scope.steps.map(\.id)) {
                message += "; did you mean '\(s)'?"
            }
            error(DiagnosticCode.unknownStart, message, start.location)
        }
    }

    mutating func checkTarget(_ target: Located<String>, from scope: String, what: String) {
        guard !target.value.isEmpty else { return }
        guard let targetScope = scopeOf[target.value], !bodies.contains(target.value) else {
            var message = "\(what) goes to '\(target.value)', which is not a step"
            let candidates = stepByID.keys.filter { scopeOf[$0] == scope && !bodies.contains($0) }.sorted()
            if let s = EditDistance.suggestion(for: target.value, among: candidates) { message += "; did you mean '\(s)'?" }
            error(DiagnosticCode.missingTransitionTarget, message, target.location)
            return
        }
        if targetScope != scope {
            error(DiagnosticCode.branchOutboundTarget,
                  "\(what) goes to '\(target.value)' in \(describeScope(targetScope)), but it is in \(describeScope(scope)); steps may only route within their own branch",
                  target.location)
        }
    }

    mutating func checkRoutes(_ step: Step) {
        let scope = scopeOf[step.id] ?? ""
        let order = step.outcomes
        let keys = step.next.keys.sorted { (order.firstIndex(of: $0) ?? .max, $0) < (order.firstIndex(of: $1) ?? .max, $1) }
        var checked = Set<SourceLocation>()
        for outcome in keys {
            guard let target = step.next[outcome], checked.insert(target.location).inserted else { continue }
            let what = outcome == "*" ? "step '\(step.id)'" : "outcome '\(outcome)' of step '\(step.id)'"
            checkTarget(target, from: scope, what: what)
        }
    }

    mutating func checkDeadline() {
        guard let deadline = playbook.deadline else { return }
        if let next = deadline.next { checkTarget(next, from: "", what: "the run deadline") }
        for step in playbook.allSteps where !broken.contains(step.id) {
            if let t = step.timeout, t > deadline.after {
                warning(DiagnosticCode.timeoutExceedsDeadline,
                        "step '\(step.id)' has timeout \(t), longer than the run deadline \(deadline.after)",
                        step.location)
            }
        }
    }

    // MARK: Per step

    mutating func checkStep(_ step: Step) {
        let isBody = bodies.contains(step.id)
        if step.title == nil, !isBody {
            warning(DiagnosticCode.stepWithoutTitle, "step '\(step.id)' has no title", step.location)
        }
        // Timeouts and routing.
        if step.isWaiting, step.timeout == nil {
            error(DiagnosticCode.waitWithoutTimeout,
                  "step '\(step.id)' (\(step.typeName)) waits on people or the world and needs a 'timeout'",
                  step.location)
        }
        if !isBody {
            for outcome in step.outcomes where !isRouted(step, outcome) {
                if outcome == Outcome.timeout, step.isWaiting {
                    error(DiagnosticCode.waitWithoutTimeout,
                          "the timeout of step '\(step.id)' is not routed; add 'next.timeout'", step.location)
                } else {
                    error(DiagnosticCode.unroutedOutcome,
                          "outcome '\(outcome)' of step '\(step.id)' is not routed; add 'next.\(outcome)'",
                          step.location)
                }
            }
        }
        switch step.kind {
        case .choice(let c): checkChoice(step, c)
        case .holdingStatement(let s): checkStatement(step, s)
        case .takedown(let t): checkTakedown(step, t)
        case .escalate(let e): checkEscalate(step, e)
        case .notify(let n): checkMessage(n.message, step: step, what: "the message of step '\(step.id)'")
        case .clock(let c): checkClock(step, c)
        case .foreach(let f): checkForeach(step, f)
        case .submission(let s): checkSubmission(step, s)
        case .task, .wait, .parallel, .end: break
        }
    }

    func isRouted(_ step: Step, _ outcome: String) -> Bool {
        if step.next[outcome] != nil { return true }
        if case .takedown = step.kind, let fallback = TakedownStatus(rawValue: outcome)?.routeFallback,
            step.next[fallback.rawValue] != nil
        {
            return true
        }
        if outcome == Outcome.timeout, case .choice(let c) = step.kind, c.onTimeout != nil { return true }
        if outcome == Outcome.timeout, case .choice(let c) = step.kind, let d = c.defaultOption,
            step.next[d.value] != nil
        {
            return true
        }
        return false
    }

    mutating func checkChoice(_ step: Step, _ c: ChoiceSpec) {
        if let onTimeout = c.onTimeout {
            if let t = step.next[Outcome.timeout] {
                error(DiagnosticCode.conflictingKeys,
                      "step '\(step.id)' has 'on_timeout' and 'next.timeout'; its timeout goes to one of them", t.location)
            }
            if case .escalate(let target) = onTimeout {
                checkTarget(target, from: "", what: "the timeout escalation of step '\(step.id)'")
                if target.value == step.id {
                    error(DiagnosticCode.badValue, "step '\(step.id)' cannot escalate its timeout to itself",
                          target.location)
                }
            }
        }
        for option in c.options {
            if let clock = option.startsClock { checkClockName(clock, "option '\(option.id)' of step '\(step.id)' starts") }
        }
        for option in c.options {
            guard let g = option.when else { continue }
            guard let input = checkInput(g.input, types: [.enum, .string, .boolean, .integer, .url],
                                         what: "the guard of option '\(option.id)'") else { continue }
            if input.type == .enum {
                for v in g.anyOf where !input.values.contains(v) {
                    error(DiagnosticCode.badValue,
                          "input '\(input.name)' can never be '\(v)'; its values are \(input.values.joined(separator: ", "))",
                          g.location)
                }
            } else if input.type == .boolean {
                for v in g.anyOf where v != "true" && v != "false" {
                    error(DiagnosticCode.badValue, "input '\(input.name)' is true or false, never '\(v)'", g.location)
                }
            }
        }
    }

    /// Looks an input up; reports `unknown-input` or `wrong-input-type`. Returns it when it exists.
    @discardableResult
    mutating func checkInput(_ name: Located<String>, types: [ValueType], what: String) -> InputSpec? {
        guard let input = playbook.input(name.value) else {
            var message = "\(what) reads input '\(name.value)', which is not declared under 'inputs'"
            if let s = EditDistance.suggestion(for: name.value, among: playbook.inputs.map(\.name)) {
                message += "; did you mean '\(s)'?"
            }
            error(DiagnosticCode.unknownInput, message, name.location)
            return nil
        }
        if !types.contains(input.type) {
            error(DiagnosticCode.wrongInputType,
                  "\(what) needs a \(types.map(\.rawValue).joined(separator: " or ")) input, but '\(input.name)' is \(input.type.rawValue)",
                  name.location)
        }
        return input
    }

    mutating func checkRoleExists(_ role: Located<String>, what: String) {
        guard !role.value.isEmpty, playbook.role(role.value) == nil else { return }
        var message = "\(what) names role '\(role.value)', which is not declared under 'roles'"
        if let s = EditDistance.suggestion(for: role.value, among: playbook.roles.map(\.id)) {
            message += "; did you mean '\(s)'?"
        }
        error(DiagnosticCode.unknownRole, message, role.location)
    }

    mutating func checkRoles() {
        for step in playbook.allSteps where !broken.contains(step.id) {
            if let r = step.role { checkRoleExists(r, what: "step '\(step.id)'") }
            switch step.kind {
            case .holdingStatement(let s):
                for r in s.approval.roles { checkRoleExists(r, what: "the approval of step '\(step.id)'") }
                for r in s.approval.fallbackRoles { checkRoleExists(r, what: "the approval fallback of step '\(step.id)'") }
                for r in s.approval.allOf { checkRoleExists(r, what: "'all_of' of the approval of step '\(step.id)'") }
                if let r = s.approval.finalRole { checkRoleExists(r, what: "'final' of the approval of step '\(step.id)'") }
                for r in s.approval.inform { checkRoleExists(r, what: "'inform' of the approval of step '\(step.id)'") }
                if let r = s.spokesperson { checkRoleExists(r, what: "the spokesperson of step '\(step.id)'") }
            case .takedown(let t):
                for r in t.submitterRoles { checkRoleExists(r, what: "the submitters of step '\(step.id)'") }
            case .submission(let s):
                for r in s.submitterRoles { checkRoleExists(r, what: "the submitters of step '\(step.id)'") }
            case .escalate(let e):
                for level in e.levels {
                    for t in level.targets {
                        guard case .role(let role) = t.value else { continue }
                        checkRoleExists(Located(role, at: t.location), what: "escalation step '\(step.id)'")
                    }
                }
            case .choice, .task, .notify, .clock, .wait, .parallel, .foreach, .end:
                break
            }
        }
    }

    mutating func checkStatement(_ step: Step, _ s: StatementSpec) {
        checkStatementChecks(step, s)
        let a = s.approval
        if let exclude = a.excludeInput {
            checkInput(exclude, types: [.string, .text], what: "'exclude_input' of step '\(step.id)'")
        }
        if let contacts {
            if let problem = ApprovalRoster.problem(a, drafterRoles: step.role.map { [$0.value] } ?? [],
                                                    contacts: contacts) {
                error(DiagnosticCode.unsatisfiableApproval,
                      "the approval of step '\(step.id)' cannot be met by the contacts directory: \(problem)", a.location)
            }
        } else if !a.roles.isEmpty, a.quorum > Set(a.roles.map(\.value)).count {
            warning(DiagnosticCode.implausibleQuorum,
                    "quorum \(a.quorum) of step '\(step.id)' is more than its \(Set(a.roles.map(\.value)).count) approver role(s); make sure enough people hold them",
                    a.location)
        }
        if let t = a.timeout, let st = step.timeout, t >= st {
            warning(DiagnosticCode.timeoutExceedsDeadline,
                    "the approval timeout \(t) of step '\(step.id)' is not shorter than the step's timeout \(st), so the fallback roles never get a chance",
                    a.location)
        }
        checkStatementLanguages(step, s)
        checkTemplate(step, s)
    }

    /// A statement's languages, the languages of its channels, its variants and its facts' per-language prompts
    /// against each other.
    mutating func checkStatementLanguages(_ step: Step, _ s: StatementSpec) {
        let languages = s.languages(in: playbook)
        let listed = "the statement's languages: \(languages.joined(separator: ", "))"
        for channel in s.channels {
            for l in channel.languages where !languages.contains(l.value) {
                error(DiagnosticCode.badValue,
                      "channel '\(channel.id)' of step '\(step.id)' publishes in '\(l.value)', which is not one of \(listed)",
                      l.location)
            }
        }
        for (channel, base) in s.variants.sorted(by: { $0.key < $1.key }) where !s.channels.contains(where: { $0.id == channel }) {
            var message = "step '\(step.id)' has a variant for channel '\(channel)', which it does not publish to"
            if let near = EditDistance.suggestion(for: channel, among: s.channels.map(\.id)) {
                message += "; did you mean '\(near)'?"
            }
            error(DiagnosticCode.badValue, message, base.location)
        }
        for fact in s.facts {
            for (language, location) in fact.promptLocations.sorted(by: { $0.key < $1.key }) where !languages.contains(language) {
                error(DiagnosticCode.badValue,
                      "fact '\(fact.name)' of step '\(step.id)' has a prompt in '\(language)', which is not one of \(listed)",
                      location)
            }
            if !fact.prompts.isEmpty, !s.isPerLanguage(fact, in: playbook) {
                warning(DiagnosticCode.badValue,
                        "fact '\(fact.name)' of step '\(step.id)' is given once for every language, so only its first prompt is asked",
                        fact.location)
            }
        }
    }

    mutating func checkTakedown(_ step: Step, _ t: TakedownSpec) {
        if case .input(let name) = t.platform,
            let input = checkInput(name, types: [.enum, .string], what: "'platform' of step '\(step.id)'")
        {
            // Each value of a platform list against the catalog (a literal platform is checked by the loader).
            for value in input.values where value.lowercased() != "other" {
                if let entry = PlatformCatalog.entry(value) {
                    if !entry.bases.contains(t.basis) {
                        warning(DiagnosticCode.basisNotAccepted,
                                "\(entry.name) (input '\(input.name)' value '\(value)') does not take \(t.basis.rawValue) reports (it takes \(entry.bases.map(\.rawValue).joined(separator: ", "))); check the basis of step '\(step.id)'",
                                t.basisLocation)
                    }
                } else if t.reportingRoute(for: value) == nil {
                    warning(DiagnosticCode.unknownPlatform,
                            "platform '\(value)' (input '\(input.name)') is not in the platform catalog (docs/platforms.md): step '\(step.id)' shows no reporting route for it; give one with 'reporting_route'",
                            input.location)
                }
            }
        }
        if let record = t.authorisationRecord, playbook.step(record.value) == nil {
            var message = "the authorisation of step '\(step.id)' comes from step '\(record.value)', which does not exist"
            if let s = EditDistance.suggestion(for: record.value, among: playbook.steps.map(\.id)) {
                message += "; did you mean '\(s)'?"
            }
            error(DiagnosticCode.badPrefill, message, record.location)
        }
        if case .input(let name) = t.urls {
            checkInput(name, types: [.url, .urls], what: "'urls' of step '\(step.id)'")
        }
        if case .literal(let text) = t.platform { checkMessage(text, step: step, what: "'platform' of step '\(step.id)'") }
        if case .literal(let text) = t.urls { checkMessage(text, step: step, what: "'urls' of step '\(step.id)'") }
        for (key, value) in t.prefill.sorted(by: { $0.key < $1.key }) {
            checkMessage(value, step: step, what: "prefill '\(key)' of step '\(step.id)'")
        }
    }

    mutating func checkEscalate(_ step: Step, _ e: EscalateSpec) {
        checkMessage(e.message, step: step, what: "the message of step '\(step.id)'")
    }

    /// A submission's `stops_clock` names a declared clock; an input authority names a declared input.
    mutating func checkSubmission(_ step: Step, _ s: SubmissionSpec) {
        if let id = s.stopsClock { checkClockName(id, "step '\(step.id)' stops") }
        if case .input(let name) = s.authority { checkInput(name, types: [.string], what: "'authority' of step '\(step.id)'") }
    }

    mutating func checkClock(_ step: Step, _ c: ClockStepSpec) {
        checkClockName(c.clock, "step '\(step.id)' uses")
        if let from = c.from { checkInput(from, types: [.time], what: "'from' of step '\(step.id)'") }
        if let anchor = c.anchor { checkAnchor(anchor, what: "'from' of step '\(step.id)'") }
    }

    /// Reports `unknown-clock` for a clock name that is not declared under `clocks`: "`who` clock 'x', which is
    /// not declared" (`who`: "step 'a' stops", "obligation 'b' names").
    mutating func checkClockName(_ clock: Located<String>, _ who: String) {
        guard !clock.value.isEmpty, playbook.clock(clock.value) == nil else { return }
        var message = "\(who) clock '\(clock.value)', which is not declared under 'clocks'"
        if let s = EditDistance.suggestion(for: clock.value, among: playbook.clocks.map(\.id)) {
            message += "; did you mean '\(s)'?"
        }
        error(DiagnosticCode.unknownClock, message, clock.location)
    }

    /// Each obligation's clock is a declared clock.
    mutating func checkObligations() {
        for obligation in playbook.obligations {
            if let clock = obligation.clock { checkClockName(clock, "obligation '\(obligation.id)' names") }
        }
    }

    /// A clock's `on_warning` and `on_expiry` enter top-level steps.
    mutating func checkClockRoutes() {
        for clock in playbook.clocks {
            for route in clock.onWarning {
                checkTarget(route.next, from: "", what: "the warning \(route.before) before clock '\(clock.id)'s deadline")
            }
            if let next = clock.onExpiry { checkTarget(next, from: "", what: "the expiry of clock '\(clock.id)'") }
        }
    }

    /// The fields of `step` an operator records as times, which clocks and targets may count from.
    static func timeFields(of step: Step) -> [String] {
        switch step.kind {
        case .task(let t): t.fields.filter { $0.type == .time }.map(\.name)
        case .holdingStatement(let s): s.facts.filter { $0.type == .time }.map(\.name)
        case .choice, .takedown, .escalate, .notify, .clock, .wait, .parallel, .foreach, .end, .submission: []
        }
    }

    /// `from: {step, field}` names a `time` field of an existing step; `from: {step, outcome}` an outcome it can
    /// take.
    mutating func checkAnchor(_ anchor: RunAnchor, what: String) {
        let stepName = anchor.step
        guard let step = stepByID[stepName.value] else {
            var message = "\(what) counts from step '\(stepName.value)', which does not exist"
            if let s = EditDistance.suggestion(for: stepName.value, among: stepByID.keys.sorted()) {
                message += "; did you mean '\(s)'?"
            }
            error(DiagnosticCode.unknownAnchor, message, stepName.location)
            return
        }
        guard !broken.contains(step.id) else { return }
        switch anchor {
        case .field(_, let field):
            let times = Self.timeFields(of: step)
            guard !times.contains(field.value) else { return }
            var message: String
            if TemplateModel.recordableFields(of: step).contains(field.value) {
                message = "\(what) counts from field '\(field.value)' of step '\(step.id)', which is not a time field"
            } else {
                message = "\(what) counts from field '\(field.value)', which step '\(step.id)' does not record"
            }
            if times.isEmpty {
                message += "; the step records no time (declare one, e.g. fields: {\(field.value): {type: time, prompt: ...}} on a task)"
            } else if let s = EditDistance.suggestion(for: field.value, among: times) {
                message += "; did you mean '\(s)'?"
            } else {
                message += "; its time fields: \(times.joined(separator: ", "))"
            }
            error(DiagnosticCode.unknownAnchor, message, field.location)
        case .outcome(_, let outcome):
            guard !step.outcomes.contains(outcome.value) else { return }
            error(DiagnosticCode.unknownAnchor,
                  "\(what) counts from outcome '\(outcome.value)' of step '\(step.id)', which can only end \(step.outcomes.joined(separator: ", "))",
                  outcome.location)
        }
    }

    mutating func checkForeach(_ step: Step, _ f: ForeachSpec) {
        checkInput(f.items, types: [.urls], what: "'items' of step '\(step.id)'")
    }

    mutating func checkTargets() {
        for t in playbook.targets {
            checkMeasure("target '\(t.id)'", from: t.from, at: t.location, step: t.step, reaches: t.reaches,
                         outcome: t.outcome)
        }
    }

    /// A cadence's `from` and `until` as a target's `from`; its step and outcome (or state) as a target's.
    mutating func checkCadences() {
        for c in playbook.cadences {
            if let until = c.until { checkAnchor(until, what: "'until' of cadence '\(c.id)'") }
            checkMeasure("cadence '\(c.id)'", from: c.from, at: c.location, step: c.step, reaches: c.reaches,
                         outcome: c.outcome)
        }
    }

    /// What a target or a cadence (`what`) counts from, and the step and the outcome or intermediate state that
    /// meet it.
    mutating func checkMeasure(
        _ what: String, from: TargetOrigin, at location: SourceLocation, step stepRef: Located<String>,
        reaches: Located<String>?, outcome: Located<String>
    ) {
        switch from {
        case .input(let name):
            checkInput(Located(name, at: location), types: [.time], what: "'from' of \(what)")
        case .run(let anchor):
            checkAnchor(anchor, what: what)
        case .incidentStart:
            break
        }
        guard !stepRef.value.isEmpty else { return }
        guard let step = stepByID[stepRef.value] else {
            var message = "\(what) names step '\(stepRef.value)', which does not exist"
            if let s = EditDistance.suggestion(for: stepRef.value, among: stepByID.keys.sorted()) {
                message += "; did you mean '\(s)'?"
            }
            error(DiagnosticCode.unknownTargetStep, message, stepRef.location)
            return
        }
        guard !broken.contains(step.id) else { return }
        if let reaches {
            let states = TargetSpec.intermediateStates(of: step.stepType)
            if !states.contains(reaches.value) {
                let passes = states.isEmpty
                    ? "a \(step.typeName) step has no intermediate states; name an 'outcome' instead"
                    : "it passes through \(states.joined(separator: ", "))"
                error(DiagnosticCode.unknownTargetOutcome,
                      "\(what) waits for step '\(step.id)' to reach '\(reaches.value)'; \(passes)", reaches.location)
            }
        }
        if !outcome.value.isEmpty, !step.outcomes.contains(outcome.value) {
            error(DiagnosticCode.unknownTargetOutcome,
                  "\(what) waits for outcome '\(outcome.value)' of step '\(step.id)', which can only end \(step.outcomes.joined(separator: ", "))",
                  outcome.location)
        }
    }

    // MARK: Templates and messages

    /// Whether a template or message at `place` may use `name`: exactly the names of the template model's table
    /// (`TemplateModel.names`), and `.` inside a section. `accepted` is that list for `place`. Returns why a name is
    /// not allowed, or nil.
    func variableProblem(_ name: String, place: TemplatePlace, accepted: [String], insideSection: Bool) -> String? {
        if name == "." { return insideSection ? nil : "'.' is only meaningful inside a {{#section}}" }
        if accepted.contains(name) { return nil }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let root = parts[0]
        switch root {
        case "facts":
            guard case .statement(let id) = place, let step = stepByID[id], case .holdingStatement(let s) = step.kind
            else { return "facts are only available in holding-statement templates" }
            guard parts.count == 2 else { return "write {{facts.NAME}}" }
            var message = "fact '\(parts[1])' is not declared in the step's 'facts'"
            if let f = EditDistance.suggestion(for: parts[1], among: s.facts.map(\.name)) {
                message += "; did you mean 'facts.\(f)'?"
            }
            return message
        case "inputs":
            guard parts.count == 2 else { return "write {{inputs.NAME}}" }
            var message = "input '\(parts[1])' is not declared under 'inputs'"
            if let s = EditDistance.suggestion(for: parts[1], among: playbook.inputs.map(\.name)) {
                message += "; did you mean 'inputs.\(s)'?"
            }
            return message
        case "incident":
            let known = TemplateVariable.allCases.flatMap { $0.names(in: playbook, for: place) }
                .filter { $0.hasPrefix("incident.") }
            return "the incident offers \(known.joined(separator: ", "))"
        case "steps":
            guard parts.count == 3 else { return "write {{steps.STEP.FIELD}}" }
            guard let step = stepByID[parts[1]] else {
                var message = "the playbook has no step '\(parts[1])'"
                if let s = EditDistance.suggestion(for: parts[1], among: stepByID.keys.sorted()) {
                    message += "; did you mean 'steps.\(s).\(parts[2])'?"
                }
                return message
            }
            let fields = TemplateModel.recordableFields(of: step)
            guard !fields.isEmpty else { return "step '\(step.id)' (\(step.typeName)) records no fields" }
            var message = "no action of step '\(step.id)' takes a field '\(parts[2])'; it records \(fields.joined(separator: ", "))"
            if let s = EditDistance.suggestion(for: parts[2], among: fields) {
                message += "; did you mean 'steps.\(step.id).\(s)'?"
            }
            return message
        default:
            var roots = ["inputs.NAME", "incident.id", "incident.title", "incident.mode", "steps.STEP.FIELD"]
            if case .statement = place { roots.insert("facts.NAME", at: 0) }
            roots += accepted.filter { !$0.contains(".") }
            if insideSection { return "inside a section too, use \(roots.joined(separator: ", ")) or '.'" }
            return "use one of \(roots.joined(separator: ", "))"
        }
    }

    /// Checks the tags and variables of a Mustache text at `place`: syntax (the scanner's checks, then the real
    /// parser's, so nothing passes here that cannot render), no partials, and only the model's variables.
    /// `report` places each problem (a line and column inside a template file, or the step for a one-line text).
    /// `syntax` and `variable` word the messages.
    mutating func checkVariables(
        _ text: String, place: TemplatePlace, syntax: (String) -> String, variable: (String, String) -> String,
        report: (_ line: Int, _ column: Int) -> SourceLocation
    ) -> Bool {
        let scanned = TemplateScanner.scan(text)
        var clean = true
        for p in scanned.problems {
            clean = false
            error(DiagnosticCode.templateSyntax, syntax(p.message), report(p.line, p.column))
        }
        if scanned.problems.isEmpty, let e = TemplateModel.syntaxError(in: text) {
            clean = false
            error(DiagnosticCode.templateSyntax, syntax("it does not parse: \(e.message)"), report(1, 1))
        }
        for token in scanned.tokens {
            if case .tag(.partial, let name, let line, let column) = token {
                clean = false
                error(DiagnosticCode.templateSyntax, syntax("partials ('{{> \(name)}}') are not supported"),
                      report(line, column))
            }
        }
        let accepted = TemplateModel.names(in: playbook, for: place)
        for use in TemplateScanner.uses(scanned.tokens) {
            if let why = variableProblem(use.name, place: place, accepted: accepted, insideSection: use.insideSection) {
                clean = false
                error(DiagnosticCode.unknownTemplateVariable, variable(use.name, why), report(use.line, use.column))
            }
        }
        return clean
    }

    /// Checks the variables of a one-line templated string of the playbook (message, prefill, platform, urls).
    mutating func checkMessage(_ text: String, step: Step, what: String) {
        guard text.contains("{{") || text.contains("}}") else { return }
        _ = checkVariables(
            text, place: .message(step: step.id), syntax: { "\(what): \($0)" },
            variable: { "\(what) uses '{{\($0)}}': \($1)" }, report: { _, _ in step.location })
    }

    mutating func checkTemplate(_ step: Step, _ s: StatementSpec) {
        let base = s.template.value
        guard !base.isEmpty else { return }
        // The default text in every language of the statement, measured on the channels that publish it; each
        // variant in the languages its channel publishes, measured on that channel.
        var units: [(base: String, location: SourceLocation, language: String, channels: [ChannelSpec], what: String)] = []
        for language in s.languages(in: playbook) {
            let channels = s.channels.filter {
                s.variants[$0.id] == nil && s.languages(of: $0, in: playbook).contains(language)
            }
            units.append((base, s.template.location, language, channels, "for language '\(language)'"))
        }
        for channel in s.channels {
            guard let variant = s.variants[channel.id] else { continue }
            for language in s.languages(of: channel, in: playbook) {
                units.append((variant.value, variant.location, language, [channel],
                              "of the \(channel.id) variant for language '\(language)'"))
            }
        }
        var refused = Set<String>()
        for unit in units {
            if unit.base.hasPrefix("/") || unit.base.split(separator: "/").contains("..") {
                if refused.insert(unit.base).inserted {
                    error(DiagnosticCode.badValue,
                          "template '\(unit.base)' must be a path inside the playbook's directory (no leading / and no ..)",
                          unit.location)
                }
                continue
            }
            let relative = "\(unit.base).\(unit.language).mustache"
            let path = baseDirectory == "." ? relative : (baseDirectory as NSString).appendingPathComponent(relative)
            let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
            if size > YAMLReader.maximumBytes {
                error(DiagnosticCode.fileTooLarge, "template file is larger than 1 MiB",
                      SourceLocation(file: path, line: 1, column: 1))
                continue
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                error(DiagnosticCode.missingTemplate,
                      "template file '\(path)' \(unit.what) of step '\(step.id)' does not exist",
                      unit.location)
                continue
            }
            guard let text = String(data: data, encoding: .utf8) else {
                error(DiagnosticCode.invalidUTF8, "template file is not UTF-8", SourceLocation(file: path, line: 1, column: 1))
                continue
            }
            let clean = checkVariables(
                text, place: .statement(step: step.id), syntax: { $0 },
                variable: { "'{{\($0)}}' (used by step '\(step.id)'): \($1)" },
                report: { SourceLocation(file: path, line: $0, column: $1) })
            guard clean else { continue }
            let scanned = TemplateScanner.scan(text)
            let rendered = TemplateScanner.render(scanned.tokens) { name in sample(name, facts: s.facts) }
            checkTemplateLimits(step, s, channels: unit.channels, tokens: scanned.tokens, rendered: rendered,
                                relative: relative)
            for channel in unit.channels {
                let m = ChannelLength.measure(rendered, channel: channel.id)
                let measured = m.unit.replacingOccurrences(of: "-", with: " ")
                let filled = "template '\(relative)' of step '\(step.id)', filled with 20-character sample facts,"
                if let segments = m.segments, let encoding = m.encoding {
                    // SMS: more than one message already costs double; say so before the crisis.
                    guard segments > 1 else { continue }
                    warning(DiagnosticCode.templateTooLong,
                            "\(filled) needs \(segments) SMS messages (\(m.count) \(measured), \(encoding))",
                            channel.location)
                } else if m.overLimit, let limit = m.limit {
                    warning(DiagnosticCode.templateTooLong,
                            "\(filled) is \(m.count) \(measured) on \(channel.id), over its limit of \(limit)",
                            channel.location)
                }
            }
        }
    }

    func sample(_ name: String, facts: [FactSpec]) -> String {
        let parts = name.split(separator: ".").map(String.init)
        guard parts.count == 2 else { return SampleValues.text }
        switch parts[0] {
        case "facts":
            return SampleValues.value(for: facts.first { $0.name == parts[1] }?.type ?? .text)
        case "inputs":
            guard let input = playbook.input(parts[1]) else { return SampleValues.text }
            return SampleValues.value(for: input.type, values: input.values)
        case "incident":
            switch parts[1] {
            case "id": return SampleValues.incidentID
            case "title": return playbook.title
            default: return "drill"
            }
        default: return SampleValues.text
        }
    }

    // MARK: Graph

    /// Successors of a step within its own scope, in outcome order.
    func successors(_ step: Step, in ids: Set<String>) -> [String] {
        var out: [String] = []
        let order = step.outcomes
        let keys = step.next.keys.sorted { (order.firstIndex(of: $0) ?? .max, $0) < (order.firstIndex(of: $1) ?? .max, $1) }
        for k in keys {
            if let t = step.next[k]?.value, ids.contains(t), !out.contains(t) { out.append(t) }
        }
        return out
    }

    mutating func checkGraph() {
        var reachableParallels: Set<String> = []
        for scope in scopes {
            if let owner = scope.owner, !reachableParallels.contains(owner) { continue }
            let ids = Set(scope.steps.map(\.id))
            var reached = Set<String>()
            var queue = scope.roots.map(\.value).filter { ids.contains($0) }
            while let id = queue.popLast() {
                guard reached.insert(id).inserted, let s = stepByID[id] else { continue }
                queue.append(contentsOf: successors(s, in: ids))
            }
            for s in scope.steps where scopeOf[s.id] == scope.key {
                if reached.contains(s.id) {
                    if case .parallel = s.kind { reachableParallels.insert(s.id) }
                } else if !ids.isEmpty, scope.roots.contains(where: { ids.contains($0.value) }) {
                    error(DiagnosticCode.unreachableStep,
                          "step '\(s.id)' can never be reached from \(scope.owner == nil ? "the start" : "the branch's start")",
                          s.location)
                }
            }
            // Ends reachable backwards: one walk over the reversed edges (linear in steps and routes).
            var predecessors: [String: [String]] = [:]
            for s in scope.steps {
                for t in successors(s, in: ids) { predecessors[t, default: []].append(s.id) }
            }
            var canEnd = Set(scope.steps.filter { if case .end = $0.kind { true } else { false } }.map(\.id))
            var pending = Array(canEnd)
            while let id = pending.popLast() {
                for p in predecessors[id] ?? [] where canEnd.insert(p).inserted { pending.append(p) }
            }
            for s in scope.steps where reached.contains(s.id) && !canEnd.contains(s.id) && !broken.contains(s.id) {
                guard !successors(s, in: ids).isEmpty else { continue }
                let goal = scope.owner == nil ? "an end step" : "an end step of its branch"
                error(DiagnosticCode.noPathToEnd, "no route from step '\(s.id)' leads to \(goal); the incident would never close",
                      s.location)
            }
            checkCycles(scope.steps, ids: ids)
        }
    }

    /// Tarjan's strongly connected components; a cycle none of whose steps has `max_visits` is refused.
    mutating func checkCycles(_ steps: [Step], ids: Set<String>) {
        var index = 0
        var indices: [String: Int] = [:]
        var low: [String: Int] = [:]
        var stack: [String] = []
        var onStack = Set<String>()
        var components: [[String]] = []
        let byID = stepByID
        func successorsOf(_ id: String) -> [String] {
            guard let s = byID[id] else { return [] }
            return successors(s, in: ids)
        }
        // Iterative Tarjan, so a long chain of steps cannot overflow the stack.
        for root in steps.map(\.id) where indices[root] == nil {
            var work: [(id: String, next: Int)] = [(root, 0)]
            indices[root] = index; low[root] = index; index += 1
            stack.append(root); onStack.insert(root)
            while !work.isEmpty {
                let (id, i) = work[work.count - 1]
                let succ = successorsOf(id)
                if i < succ.count {
                    work[work.count - 1].next = i + 1
                    let w = succ[i]
                    if indices[w] == nil {
                        indices[w] = index; low[w] = index; index += 1
                        stack.append(w); onStack.insert(w)
                        work.append((w, 0))
                    } else if onStack.contains(w) {
                        low[id] = min(low[id] ?? 0, indices[w] ?? 0)
                    }
                    continue
                }
                work.removeLast()
                if let parent = work.last?.id { low[parent] = min(low[parent] ?? 0, low[id] ?? 0) }
                if low[id] == indices[id] {
                    var component: [String] = []
                    while let top = stack.popLast() {
                        onStack.remove(top)
                        component.append(top)
                        if top == id { break }
                    }
                    components.append(component)
                }
            }
        }
        let order = Dictionary(uniqueKeysWithValues: steps.enumerated().map { ($1.id, $0) })
        for component in components {
            let isCycle = component.count > 1 || successorsOf(component[0]).contains(component[0])
            guard isCycle else { continue }
            let members = component.sorted { (order[$0] ?? 0) < (order[$1] ?? 0) }
            if members.contains(where: { byID[$0]?.maxVisits != nil }) { continue }
            guard let first = byID[members[0]] else { continue }
            error(DiagnosticCode.unboundedCycle,
                  "steps \(members.joined(separator: ", ")) form a loop with no 'max_visits'; give one of them 'max_visits' and route its 'max_visits' outcome",
                  first.location)
        }
    }

    // MARK: Contacts

    /// A notify step's `list`: in the directory, and every member reachable on every channel of the step.
    mutating func checkList(_ step: Step, _ n: NotifySpec, _ contacts: ContactsDirectory) {
        guard let listID = n.list else { return }
        guard let list = contacts.list(listID.value) else {
            var message = "step '\(step.id)' sends to list '\(listID.value)', which is not in the contacts directory"
            if let s = EditDistance.suggestion(for: listID.value, among: contacts.lists.map(\.id)) {
                message += "; did you mean '\(s)'?"
            } else if contacts.lists.isEmpty {
                message += " (it has no 'lists:')"
            }
            error(DiagnosticCode.unknownList, message, listID.location)
            return
        }
        for channel in n.channels {
            let missing = list.members.filter { contacts.person($0)?.address(on: channel) == nil }
            guard !missing.isEmpty else { continue }
            warning(DiagnosticCode.noAddress,
                    "\(missing.count) of \(list.members.count) members of list '\(list.id)' have no address on \(channel) (\(missing.joined(separator: ", "))); their deliveries must be sent by hand or fail",
                    listID.location)
        }
    }

    mutating func checkContacts() {
        guard let contacts else { return }
        for role in playbook.roles where contacts.holders(of: role.id).isEmpty {
            warning(DiagnosticCode.roleWithoutHolder, "nobody in the contacts directory holds role '\(role.id)'",
                    role.location)
        }
        for step in playbook.allSteps where !broken.contains(step.id) {
            if case .notify(let n) = step.kind { checkList(step, n, contacts) }
            guard case .escalate(let e) = step.kind else { continue }
            if let policy = e.policy {
                if let p = contacts.policy(policy.value) {
                    for level in p.levels {
                        for target in level.targets {
                            guard case .role(let role) = target else { continue }
                            if contacts.holders(of: role).isEmpty {
                                warning(DiagnosticCode.roleWithoutHolder,
                                        "policy '\(p.id)' pages role '\(role)', which nobody in the contacts directory holds",
                                        policy.location)
                            }
                        }
                    }
                } else {
                    var message = "escalation policy '\(policy.value)' is not in the contacts directory"
                    if let s = EditDistance.suggestion(for: policy.value, among: contacts.policies.map(\.id)) {
                        message += "; did you mean '\(s)'?"
                    }
                    error(DiagnosticCode.unknownPolicy, message, policy.location)
                }
            }
            for level in e.levels {
                for t in level.targets {
                    switch t.value {
                    case .role(let role):
                        if playbook.role(role) != nil, contacts.holders(of: role).isEmpty {
                            warning(DiagnosticCode.roleWithoutHolder,
                                    "step '\(step.id)' pages role '\(role)', which nobody in the contacts directory holds",
                                    t.location)
                        }
                    case .person(let id) where contacts.person(id) == nil:
                        var message = "step '\(step.id)' pages '\(id)', who is not in the contacts directory"
                        if let s = EditDistance.suggestion(for: id, among: contacts.people.map(\.id)) {
                            message += "; did you mean '\(s)'?"
                        }
                        error(DiagnosticCode.unknownContact, message, t.location)
                    case .person:
                        break
                    }
                }
            }
        }
    }
}
