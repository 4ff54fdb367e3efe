import CrisisCore
import Foundation
internal import Yams

/// What loading a playbook gave.
public struct LoadResult: Sendable {
    /// The playbook, only when there was no error (warnings allowed).
    public var playbook: Playbook?
    /// A best-effort model even when there were errors, so validation and `graph` can still say more. Never run
    /// a partial playbook.
    public var partial: Playbook?
    /// Every problem found, sorted by file, line and column.
    public var diagnostics: [Diagnostic]
    /// Steps whose own definition had errors: the validator does not lint them again, so one mistake gives one
    /// diagnostic.
    var brokenSteps: Set<String>

    /// Whether any diagnostic is an error.
    public var hasErrors: Bool { diagnostics.hasErrors }

    init(partial: Playbook?, diagnostics: [Diagnostic], brokenSteps: Set<String> = []) {
        let sorted = Diagnostic.sorted(diagnostics)
        self.partial = partial
        self.playbook = sorted.hasErrors ? nil : partial
        self.diagnostics = sorted
        self.brokenSteps = brokenSteps
    }
}

/// Reads playbook files (format v1, docs/playbook-format.md) into the core model.
public enum PlaybookLoader {
    /// Loads and shape-checks the file at `path` (YAML subset, keys, types, durations, identifiers). Graph and
    /// semantic rules are `PlaybookValidator`'s; `loadValidated` runs both.
    public static func load(path: String) -> LoadResult {
        let read = YAMLReader.read(path: path)
        guard let bytes = read.bytes else { return LoadResult(partial: nil, diagnostics: read.diagnostics) }
        return load(bytes: bytes, path: path)
    }

    /// Loads a playbook from bytes; `path` is used in diagnostics.
    public static func load(bytes: [UInt8], path: String) -> LoadResult {
        let document = YAMLReader.parse(bytes: bytes, path: path)
        guard let root = document.root else {
            var diagnostics = document.diagnostics
            if !diagnostics.hasErrors {
                diagnostics.append(.error(
                    DiagnosticCode.wrongType, "the file is empty; a playbook is a mapping starting with 'schema:'",
                    at: SourceLocation(file: path, line: 1, column: 1)))
            }
            return LoadResult(partial: nil, diagnostics: diagnostics)
        }
        let builder = PlaybookBuilder(file: path)
        let playbook = builder.playbook(root)
        return LoadResult(
            partial: playbook, diagnostics: document.diagnostics + builder.r.diagnostics,
            brokenSteps: builder.brokenSteps)
    }

    /// Loads the file and runs every validation rule (with the contacts directory when given). `playbook` is set
    /// only when there is no error: this is what `crisis start` and `crisis validate` use.
    public static func loadValidated(path: String, contacts: ContactsDirectory? = nil) -> LoadResult {
        let loaded = load(path: path)
        guard let partial = loaded.partial else { return loaded }
        let base = (path as NSString).deletingLastPathComponent
        let more = PlaybookValidator.validate(
            partial, baseDirectory: base.isEmpty ? "." : base, contacts: contacts, skipping: loaded.brokenSteps)
        return LoadResult(partial: partial, diagnostics: loaded.diagnostics + more, brokenSteps: loaded.brokenSteps)
    }
}

/// Where a step sits, which decides what it may do.
enum StepScope {
    case topLevel
    /// Inside a parallel branch: `end` finishes the branch (`done` or `failed`).
    case branch
    /// The `do` of a foreach: no `next`, no `max_visits`; the item is available under this name.
    case body(itemName: String)
}

/// Builds the model from the node tree. Every problem is reported; construction goes on with defaults so the
/// next problem can be found too.
final class PlaybookBuilder {
    let r: NodeReader
    var brokenSteps: Set<String> = []

    init(file: String) { r = NodeReader(file: file) }

    static let topKeys = [
        "schema", "id", "version", "title", "summary", "timezone", "languages", "roles", "inputs", "targets",
        "cadences", "clocks", "deadline", "start", "steps", "conflicted", "obligations", "channels",
    ]
    /// "'checklist' belongs to task steps" hints for keys of other step types.
    static func foreignKeys(for type: StepType) -> [String: String] {
        var out: [String: String] = [:]
        let own = Set(StepType.commonKeys + type.keys)
        for other in StepType.allCases where other != type {
            for k in other.keys where !own.contains(k) && out[k] == nil {
                out[k] = "'\(k)' belongs to \(other.yamlName) steps, and this is a \(type.yamlName) step"
            }
        }
        return out
    }

    // MARK: Top level

    func playbook(_ root: Node) -> Playbook? {
        guard let m = r.mapping(root, what: "the playbook", allowed: Self.topKeys) else { return nil }
        let what = "the playbook"

        let schema = r.string(m, "schema", what: what, required: true) ?? ""
        if !schema.isEmpty, schema != Playbook.schemaV1, let node = m["schema"] {
            r.error(
                DiagnosticCode.unknownSchema,
                "schema '\(schema)' is not supported; this build reads '\(Playbook.schemaV1)'", at: r.location(node))
        }
        let id = r.string(m, "id", what: what, required: true) ?? ""
        if !id.isEmpty, let node = m["id"], !Self.isPlaybookID(id) {
            r.error(
                DiagnosticCode.badIdentifier,
                "playbook id '\(id)' must use lower-case letters, digits and '-' only", at: r.location(node))
        }
        var version = ""
        if let node = r.require(m, "version", what: what) { version = r.scalar(node, what: "'version'") ?? "" }
        let title = r.string(m, "title", what: what, required: true) ?? ""
        let summary = m["summary"].flatMap { NodeReader.isEmpty($0) ? nil : r.string($0, what: "'summary'") }

        var timeZone = "UTC"
        if let node = m["timezone"], let tz = r.string(node, what: "'timezone'") {
            if TimeZone(identifier: tz) == nil {
                r.error(DiagnosticCode.badTimezone, "unknown time zone '\(tz)'; use an IANA name such as Europe/Oslo",
                        at: r.location(node))
            } else {
                timeZone = tz
            }
        }

        var languages = ["en"]
        if let node = m["languages"], let list = r.stringList(node, what: "'languages'") {
            if list.isEmpty {
                r.error(DiagnosticCode.badValue, "'languages' needs at least one language", at: r.location(node))
            }
            var seen = Set<String>()
            for l in list {
                if !Self.isLanguageTag(l.value) {
                    r.error(DiagnosticCode.badValue, "'\(l.value)' is not a language tag such as nb, nn or en",
                            at: l.location)
                } else if !seen.insert(l.value).inserted {
                    r.error(DiagnosticCode.badValue, "language '\(l.value)' is listed twice", at: l.location)
                }
            }
            if !list.isEmpty { languages = list.map(\.value) }
        }

        var roles: [Role] = []
        if let node = r.require(m, "roles", what: what), let rm = r.mapping(node, what: "'roles'") {
            if rm.entries.isEmpty {
                r.error(DiagnosticCode.missingKey, "'roles' needs at least one role", at: rm.location)
            }
            for e in rm.entries {
                r.checkIdentifier(e.key, what: "role id", at: e.keyLocation)
                let w = "role '\(e.key)'"
                guard let vm = r.mapping(e.value, what: w, allowed: ["title", "lead"]) else { continue }
                let title = r.string(vm, "title", what: w, required: true) ?? e.key
                let lead = r.bool(vm, "lead", what: w) ?? false
                roles.append(Role(id: e.key, title: title, lead: lead, location: e.keyLocation))
            }
        }

        var inputs: [InputSpec] = []
        if let node = m["inputs"], !NodeReader.isEmpty(node), let im = r.mapping(node, what: "'inputs'") {
            for e in im.entries {
                if let spec = input(e) { inputs.append(spec) }
            }
        }

        var targets: [TargetSpec] = []
        if let node = m["targets"], !NodeReader.isEmpty(node), let tm = r.mapping(node, what: "'targets'") {
            for e in tm.entries {
                if let t = target(e) { targets.append(t) }
            }
        }

        var cadences: [CadenceSpec] = []
        if let node = m["cadences"], !NodeReader.isEmpty(node), let cm = r.mapping(node, what: "'cadences'") {
            for e in cm.entries {
                if let c = cadence(e) { cadences.append(c) }
            }
        }

        var clocks: [ClockSpec] = []
        if let node = m["clocks"], !NodeReader.isEmpty(node), let cm = r.mapping(node, what: "'clocks'") {
            for e in cm.entries {
                r.checkIdentifier(e.key, what: "clock id", at: e.keyLocation)
                let w = "clock '\(e.key)'"
                guard let vm = r.mapping(
                    e.value, what: w,
                    allowed: [
                        "title", "clock", "duration", "business_days", "calendar", "zone", "cutoff", "warn_before",
                        "reference", "on_warning", "on_expiry",
                    ])
                else { continue }
                let catalog = catalogClock(vm, w)
                let named = vm["clock"] != nil
                let own = businessDayRule(vm, w, named: named)
                let title = r.string(vm, "title", what: w, required: !named) ?? catalog?.title ?? e.key
                let duration: PlaybookDuration?
                if named {
                    duration = catalog?.rule.nominal
                } else if BusinessDayKeys.any(vm) {
                    duration = own?.rule.nominal
                } else {
                    duration = r.duration(vm, "duration", what: w, required: true)
                }
                var warn: [PlaybookDuration] = vm["warn_before"] == nil ? catalog?.warnBefore ?? [] : []
                if let wn = vm["warn_before"], let items = r.sequence(wn, what: "'warn_before' of \(w)") {
                    for item in items {
                        guard let d = r.duration(item, what: "an item of 'warn_before' of \(w)") else { continue }
                        if let duration, d >= duration {
                            r.error(DiagnosticCode.badDuration,
                                    "warn_before \(d) is not shorter than the clock's duration \(duration)",
                                    at: r.location(item))
                        }
                        warn.append(d)
                    }
                }
                let reference = r.string(vm, "reference", what: w) ?? catalog.map { "\($0.legalBasis) (\($0.source))" }
                let onWarning = clockRoutes(vm, w, duration: duration)
                let onExpiry = vm["on_expiry"].flatMap { r.identifier($0, what: "'on_expiry' of \(w)") }
                var rule: DeadlineRule?
                var countingZone: String?
                if let catalog, case .elapsed = catalog.rule {} else {
                    rule = catalog?.rule
                    countingZone = catalog?.countingZone
                }
                if let own {
                    rule = own.rule
                    countingZone = own.zone
                }
                clocks.append(ClockSpec(
                    id: e.key, title: title, duration: duration ?? .zero, warnBefore: warn, reference: reference,
                    onWarning: onWarning, onExpiry: onExpiry, catalog: catalog?.name, rule: rule,
                    countingZone: countingZone, location: e.keyLocation))
            }
        }

        var deadline: DeadlineSpec?
        if let node = m["deadline"], let dm = r.mapping(node, what: "'deadline'", allowed: ["after", "next"]) {
            let after = r.duration(dm, "after", what: "'deadline'", required: true)
            let next = dm["next"].flatMap { r.located($0, what: "'next' of 'deadline'") }
            if let after { deadline = DeadlineSpec(after: after, next: next, location: dm.location) }
        }

        var start = Located("", at: m.location)
        if let node = r.require(m, "start", what: what, code: DiagnosticCode.missingStart),
            let s = r.located(node, what: "'start'")
        {
            start = s
        }

        var steps: [Step] = []
        if let node = r.require(m, "steps", what: what) {
            steps = self.steps(node, what: "'steps'", scope: .topLevel)
            if steps.isEmpty, case .mapping = node {
                r.error(DiagnosticCode.missingKey, "'steps' needs at least one step", at: r.location(node))
            }
        }

        var book = Playbook(
            schema: schema, id: id, version: version, title: title, summary: summary, timeZone: timeZone,
            languages: languages, roles: roles, inputs: inputs, targets: targets, clocks: clocks, deadline: deadline,
            start: start, steps: steps, location: m.location)
        book.cadences = cadences
        book.conflicted = m["conflicted"].flatMap { r.identifier($0, what: "'conflicted'") }
        book.obligations = obligations(m)
        book.channels = declaredChannels(m)
        return book
    }

    /// `obligations:`: id to `{title, reference, clock}`.
    func obligations(_ m: MapView) -> [ObligationSpec] {
        guard let node = m["obligations"], !NodeReader.isEmpty(node), let om = r.mapping(node, what: "'obligations'")
        else { return [] }
        var out: [ObligationSpec] = []
        for e in om.entries {
            r.checkIdentifier(e.key, what: "obligation id", at: e.keyLocation)
            let w = "obligation '\(e.key)'"
            guard let vm = r.mapping(e.value, what: w, allowed: ["title", "reference", "clock"]) else { continue }
            out.append(
                ObligationSpec(
                    id: e.key, title: r.string(vm, "title", what: w, required: true) ?? e.key,
                    reference: r.string(vm, "reference", what: w),
                    clock: vm["clock"].flatMap { r.located($0, what: "'clock' of \(w)") }, location: e.keyLocation))
        }
        return out
    }

    static func isPlaybookID(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64
            && s.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
    }

    /// `nb`, `en`, `en-GB`, `zh-Hant`.
    static func isLanguageTag(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard let first = parts.first, (2...3).contains(first.count),
            first.utf8.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A })
        else { return false }
        return parts.dropFirst().allSatisfy { p in
            (1...8).contains(p.count) && p.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic
                || ("0"..."9").contains($0)) }
        }
    }

    func input(_ e: MapView.Entry) -> InputSpec? {
        r.checkIdentifier(e.key, what: "input name", at: e.keyLocation)
        let w = "input '\(e.key)'"
        guard let m = r.mapping(e.value, what: w, allowed: ["type", "prompt", "required", "default", "values"])
        else { return nil }
        var type: ValueType?
        if let node = r.require(m, "type", what: w),
            let t = r.oneOf(node, ValueType.allCases.map(\.rawValue), what: "'type' of \(w)")
        {
            type = ValueType(rawValue: t)
        }
        let prompt = r.string(m, "prompt", what: w, required: true) ?? ""
        let required = r.bool(m, "required", what: w) ?? false
        var values: [String] = []
        if let node = m["values"] {
            if type != .enum, type != nil {
                r.error(DiagnosticCode.conflictingKeys, "'values' is only for enum inputs, and \(w) is \(type?.rawValue ?? "")",
                        at: m.keyLocation("values") ?? m.location)
            }
            let list = r.stringList(node, what: "'values' of \(w)") ?? []
            var seen = Set<String>()
            for v in list where !seen.insert(v.value).inserted {
                r.error(DiagnosticCode.badValue, "value '\(v.value)' is listed twice", at: v.location)
            }
            values = list.map(\.value)
        } else if type == .enum {
            r.error(DiagnosticCode.missingKey, "\(w) is an enum and needs 'values'", at: m.location)
        }
        if type == .enum, m["values"] != nil, values.isEmpty {
            r.error(DiagnosticCode.badValue, "'values' of \(w) needs at least one value", at: m.location)
        }
        var defaultValue: String?
        if let node = m["default"], !NodeReader.isEmpty(node),
            let d = r.string(node, what: "'default' of \(w)", allowEmpty: true)
        {
            defaultValue = d
            if let type, let problem = type.problem(with: d, allowed: values) {
                r.error(DiagnosticCode.badDefault, "default '\(d)' of \(w) is not valid: \(problem)", at: r.location(node))
            }
        }
        return InputSpec(
            name: e.key, type: type ?? .string, prompt: prompt, required: required, defaultValue: defaultValue,
            values: values, location: e.keyLocation)
    }

    func target(_ e: MapView.Entry) -> TargetSpec? {
        r.checkIdentifier(e.key, what: "target id", at: e.keyLocation)
        let w = "target '\(e.key)'"
        guard let m = r.mapping(e.value, what: w, allowed: ["title", "step", "outcome", "reaches", "within", "from"])
        else { return nil }
        let title = r.string(m, "title", what: w, required: true) ?? e.key
        let step = r.require(m, "step", what: w).flatMap { r.located($0, what: "'step' of \(w)") }
        var outcome: Located<String>?
        var reaches: Located<String>?
        if m.has("outcome"), m.has("reaches") {
            r.error(DiagnosticCode.conflictingKeys, "\(w) is met by an 'outcome' or when its step 'reaches' a state, not both",
                    at: m.keyLocation("reaches") ?? m.location)
        } else if m.has("reaches") {
            reaches = m["reaches"].flatMap { r.identifier($0, what: "'reaches' of \(w)") }
        } else {
            outcome = r.require(m, "outcome", what: w).flatMap { r.located($0, what: "'outcome' of \(w)") }
        }
        let within = r.duration(m, "within", what: w, required: true)
        var from = TargetOrigin.incidentStart
        if let node = m["from"] {
            if case .mapping = node {
                if let anchor = runAnchor(node, what: "'from' of \(w)") { from = .run(anchor) }
            } else if let f = r.identifier(node, what: "'from' of \(w)"), f.value != "start" {
                from = .input(f.value)
            }
        }
        return TargetSpec(
            id: e.key, title: title, step: step ?? Located("", at: m.location),
            outcome: outcome ?? Located("", at: m.location), within: within ?? .zero, from: from, reaches: reaches,
            location: e.keyLocation)
    }

    /// A cadence: `every`, optional `between: ["06:00", "24:00"]`, the step (and outcome or state) that meets an
    /// occurrence, `from` as a target's, optional `until` (a run anchor).
    func cadence(_ e: MapView.Entry) -> CadenceSpec? {
        r.checkIdentifier(e.key, what: "cadence id", at: e.keyLocation)
        let w = "cadence '\(e.key)'"
        guard let m = r.mapping(
            e.value, what: w, allowed: ["title", "every", "between", "from", "step", "outcome", "reaches", "until"])
        else { return nil }
        let title = r.string(m, "title", what: w, required: true) ?? e.key
        let every = r.duration(m, "every", what: w, required: true)
        let step = r.require(m, "step", what: w).flatMap { r.located($0, what: "'step' of \(w)") }
        var outcome: Located<String>?
        var reaches: Located<String>?
        if m.has("outcome"), m.has("reaches") {
            r.error(DiagnosticCode.conflictingKeys,
                    "\(w) is met by an 'outcome' or when its step 'reaches' a state, not both",
                    at: m.keyLocation("reaches") ?? m.location)
        } else if m.has("reaches") {
            reaches = m["reaches"].flatMap { r.identifier($0, what: "'reaches' of \(w)") }
        } else {
            outcome = r.require(m, "outcome", what: w).flatMap { r.located($0, what: "'outcome' of \(w)") }
        }
        var between: CadenceWindow?
        if let node = m["between"], let list = r.stringList(node, what: "'between' of \(w)") {
            let hint = "write two local times, from and to: [\"06:00\", \"24:00\"] (quoted; 24:00 is midnight)"
            if list.count != 2 {
                r.error(DiagnosticCode.badValue, "'between' of \(w) needs exactly two times; \(hint)", at: r.location(node))
            } else {
                let minutes = list.map { item -> Int? in
                    guard let minute = CadenceWindow.minute(item.value) else {
                        r.error(DiagnosticCode.badValue,
                                "'\(item.value)' in 'between' of \(w) is not a time of day HH:MM; \(hint)", at: item.location)
                        return nil
                    }
                    return minute
                }
                if let start = minutes[0], let end = minutes[1] {
                    if start == 0 && (end == 1440 || end == 0) {
                        r.warning(DiagnosticCode.badValue,
                                  "'between' of \(w) covers the whole day; leave it out", at: r.location(node))
                    } else if start == end {
                        r.error(DiagnosticCode.badValue,
                                "'between' of \(w) starts and ends at the same time; \(hint)", at: list[1].location)
                    } else if start == 1440 {
                        r.error(DiagnosticCode.badValue,
                                "'between' of \(w) cannot start at 24:00; write 00:00", at: list[0].location)
                    } else {
                        between = CadenceWindow(startMinute: start, endMinute: end == 0 ? 1440 : end)
                    }
                }
            }
        }
        var from = TargetOrigin.incidentStart
        if let node = m["from"] {
            if case .mapping = node {
                if let anchor = runAnchor(node, what: "'from' of \(w)") { from = .run(anchor) }
            } else if let f = r.identifier(node, what: "'from' of \(w)"), f.value != "start" {
                from = .input(f.value)
            }
        }
        let until = m["until"].flatMap { runAnchor($0, what: "'until' of \(w)") }
        return CadenceSpec(
            id: e.key, title: title, every: every ?? .zero, between: between, from: from,
            step: step ?? Located("", at: m.location), outcome: outcome ?? Located("", at: m.location),
            reaches: reaches, until: until, location: e.keyLocation)
    }

    /// `{step: STEP, field: FIELD}` or `{step: STEP, outcome: OUTCOME}`: a moment recorded during the run.
    func runAnchor(_ node: Node, what: String) -> RunAnchor? {
        guard let m = r.mapping(node, what: what, allowed: ["step", "field", "outcome"]) else { return nil }
        let step = r.require(m, "step", what: what).flatMap { r.identifier($0, what: "'step' of \(what)") }
        if m.has("field"), m.has("outcome") {
            r.error(DiagnosticCode.conflictingKeys, "\(what) counts from a 'field' or an 'outcome' of its step, not both",
                    at: m.keyLocation("outcome") ?? m.location)
            return nil
        }
        if !m.has("field"), !m.has("outcome") {
            r.error(DiagnosticCode.missingKey,
                    "\(what) needs 'field' (a time recorded on the step) or 'outcome' (when the step took it)", at: m.location)
            return nil
        }
        guard let step else { return nil }
        if let f = m["field"].flatMap({ r.identifier($0, what: "'field' of \(what)") }) {
            return .field(step: step, field: f)
        }
        if let o = m["outcome"].flatMap({ r.identifier($0, what: "'outcome' of \(what)") }) {
            return .outcome(step: step, outcome: o)
        }
        return nil
    }

    /// A clock's `clock: NAME`: the catalog clock it follows (`ClockCatalog`). An unknown name is an error that
    /// names the catalog and the nearest clock; `duration` beside it is an error (the catalog sets the deadline).
    func catalogClock(_ vm: MapView, _ w: String) -> CatalogClock? {
        guard let node = vm["clock"], let name = r.string(node, what: "'clock' of \(w)") else { return nil }
        if let d = vm["duration"] {
            r.error(DiagnosticCode.conflictingKeys,
                    "\(w) follows the catalog clock '\(name)', which sets its own deadline; remove 'duration'",
                    at: r.location(d))
        }
        if let found = ClockCatalog.clock(named: name) { return found }
        var message = "\(w): unknown clock '\(name)' in the catalog of regulatory clocks (docs/clocks.md, "
            + "'crisis deadline --list')"
        if let s = ClockCatalog.suggestion(for: name) { message += "; did you mean '\(s)'?" }
        message += " Known: " + ClockCatalog.names.joined(separator: ", ")
        r.error(DiagnosticCode.unknownClock, message, at: r.location(node))
        return nil
    }

    /// A clock of the playbook's own that counts business days: `business_days: 5`, `calendar: no|us-federal`,
    /// optionally `zone` (the zone days are counted in; default the playbook's) and `cutoff` (`"16:00"` local on
    /// the last day; default the end of the day). Not with `clock` or `duration`.
    func businessDayRule(_ vm: MapView, _ w: String, named: Bool) -> (rule: DeadlineRule, zone: String?)? {
        let given = BusinessDayKeys.all.filter { vm[$0] != nil }
        guard let first = given.first, let firstNode = vm[first] else { return nil }
        if named {
            r.error(DiagnosticCode.conflictingKeys,
                    "\(w) follows a catalog clock, which sets how it counts; remove '\(first)'", at: r.location(firstNode))
            return nil
        }
        if let d = vm["duration"] {
            r.error(DiagnosticCode.conflictingKeys,
                    "\(w) counts business days or elapsed 'duration', not both; remove 'duration'", at: r.location(d))
        }
        guard let daysNode = vm["business_days"] else {
            r.error(DiagnosticCode.missingKey, "\(w) has '\(first)' but no 'business_days'", at: vm.location)
            return nil
        }
        let days = r.integer(daysNode, what: "'business_days' of \(w)", range: 1...250)
        var calendar: BusinessCalendar?
        if let node = r.require(vm, "calendar", what: "\(w) (it counts business days)"),
            let name = r.scalar(node, what: "'calendar' of \(w)")
        {
            calendar = BusinessCalendar(rawValue: name)
            if calendar == nil {
                r.error(DiagnosticCode.badValue,
                        "\(w): unknown calendar '\(name)'; known calendars: "
                            + BusinessCalendar.allCases.map(\.rawValue).joined(separator: ", ") + " (docs/clocks.md)",
                        at: r.location(node))
            }
        }
        var zone: String?
        if let node = vm["zone"], let name = r.scalar(node, what: "'zone' of \(w)") {
            if ZonedTime.zone(name) == nil {
                r.error(DiagnosticCode.badTimezone, "unknown time zone '\(name)'; use an IANA name such as Europe/Oslo",
                        at: r.location(node))
            } else {
                zone = name
            }
        }
        var cutoff = 86_399
        if let node = vm["cutoff"], let text = r.scalar(node, what: "'cutoff' of \(w)") {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            if parts.count == 2, parts.allSatisfy({ $0.count == 2 }), let h = Int(parts[0]), let m = Int(parts[1]),
                (0...23).contains(h), (0...59).contains(m)
            {
                cutoff = h * 3600 + m * 60
            } else {
                r.error(DiagnosticCode.badValue, "'cutoff' of \(w) must be a local time HH:MM (\"17:30\"), not '\(text)'",
                        at: r.location(node))
            }
        }
        guard let days, let calendar else { return nil }
        return (.businessDays(days, calendar: calendar, cutoff: cutoff), zone)
    }

    /// A clock's `on_warning`: a list of `{before: DURATION, next: STEP}`.
    func clockRoutes(_ vm: MapView, _ w: String, duration: PlaybookDuration?) -> [ClockRoute] {
        guard let node = vm["on_warning"], let items = r.sequence(node, what: "'on_warning' of \(w)") else { return [] }
        var routes: [ClockRoute] = []
        for item in items {
            let iw = "an item of 'on_warning' of \(w)"
            guard let im = r.mapping(item, what: iw, allowed: ["before", "next"]) else { continue }
            let before = r.duration(im, "before", what: iw, required: true)
            let next = r.require(im, "next", what: iw).flatMap { r.identifier($0, what: "'next' of \(iw)") }
            guard let before, let next else { continue }
            if let duration, before >= duration {
                r.error(DiagnosticCode.badDuration, "on_warning before \(before) is not shorter than the clock's duration \(duration)",
                        at: im.keyLocation("before") ?? im.location)
            } else if routes.contains(where: { $0.before == before }) {
                r.error(DiagnosticCode.badValue, "on_warning before \(before) is listed twice", at: im.keyLocation("before") ?? im.location)
            }
            routes.append(ClockRoute(before: before, next: next, location: im.location))
        }
        return routes
    }

    // MARK: Steps

    func steps(_ node: Node, what: String, scope: StepScope) -> [Step] {
        guard let m = r.mapping(node, what: what) else { return [] }
        var out: [Step] = []
        for e in m.entries {
            r.checkIdentifier(e.key, what: "step id", at: e.keyLocation)
            if let s = step(id: e.key, at: e.keyLocation, node: e.value, scope: scope) { out.append(s) }
        }
        return out
    }

    /// A stand-in for a step whose definition is too broken to build, so references to it still resolve.
    private func broken(_ id: String, _ location: SourceLocation, title: String?, next: [String: Located<String>])
        -> Step
    {
        brokenSteps.insert(id)
        return Step(id: id, title: title, next: next, kind: .task(TaskSpec()), location: location)
    }

    /// Errors found in finished child steps (branch steps, a foreach body) of the step being built, so a
    /// parent is not marked broken for its children's mistakes.
    private var childErrors = 0

    /// Builds a step; a step with an error of its own is recorded in `brokenSteps` (the validator then does not
    /// lint it again, so one mistake gives one diagnostic).
    func step(id: String, at location: SourceLocation, node: Node, scope: StepScope) -> Step? {
        let before = r.diagnostics.errorCount
        let childrenBefore = childErrors
        childErrors = 0
        let built = buildStep(id: id, at: location, node: node, scope: scope)
        let total = r.diagnostics.errorCount - before
        if total - childErrors > 0 { brokenSteps.insert(id) }
        childErrors = childrenBefore + total
        return built
    }

    private func buildStep(id: String, at location: SourceLocation, node: Node, scope: StepScope) -> Step? {
        let w = "step '\(id)'"
        guard let raw = r.mapping(node, what: w) else {
            brokenSteps.insert(id)
            return Step(id: id, kind: .task(TaskSpec()), location: location)
        }
        var type: StepType?
        if let tn = r.require(raw, "type", what: w) {
            let allNames = StepType.allCases.map(\.yamlName)
            var allowedTypes = allNames
            if case .body = scope { allowedTypes = StepType.foreachBodyTypes.map(\.yamlName) }
            if case .body = scope, let t = r.scalar(tn, what: "'type' of \(w)"), allNames.contains(t),
                !allowedTypes.contains(t)
            {
                r.error(DiagnosticCode.badBody, "a foreach body must be one of \(allowedTypes.joined(separator: ", ")), not \(t)",
                        at: r.location(tn))
            } else {
                type = r.oneOf(tn, allowedTypes, what: "'type' of \(w)").flatMap(StepType.init(rawValue:))
            }
        }
        let title = raw["title"].flatMap { NodeReader.isEmpty($0) ? nil : r.string($0, what: "'title' of \(w)") }
        guard let type else {
            // Without a type, only routes can be read.
            var next: [String: Located<String>] = [:]
            if let nm = raw["next"].flatMap({ node -> MapView? in
                if case .mapping = node { return r.mapping(node, what: "'next' of \(w)") }
                return nil
            }) {
                for e in nm.entries { if let t = r.located(e.value, what: "'next.\(e.key)'") { next[e.key] = t } }
            } else if let n = raw["next"], case .scalar = n, let t = r.located(n, what: "'next' of \(w)") {
                next["*"] = t
            }
            return broken(id, location, title: title, next: next)
        }

        var allowed = type.allowedKeys
        if case .body = scope { allowed.removeAll { $0 == "next" || $0 == "max_visits" } }
        var foreign = Self.foreignKeys(for: type)
        if case .body = scope {
            foreign["next"] = "a foreach body has no 'next'; route the foreach step's outcomes done and failed"
            foreign["max_visits"] = "a foreach body runs once per item"
        }
        for (key, why) in type.refusedCommonKeys { foreign[key] = why }
        let m = r.checkKeys(raw, allowed: allowed, what: "\(w) (\(type.yamlName))", foreignKeys: foreign)

        let instructions = m["instructions"].flatMap {
            NodeReader.isEmpty($0) ? nil : r.string($0, what: "'instructions' of \(w)", allowEmpty: true)
        }
        let role = m["role"].flatMap { r.identifier($0, what: "'role' of \(w)") }
        let timeout = r.duration(m, "timeout", what: w)
        let maxVisits = r.integer(m, "max_visits", what: w, range: 1...1000)

        var optionRoutes: [String: Located<String>] = [:]
        var kind: StepKind?
        switch type {
        case .choice: kind = choice(m, w, routes: &optionRoutes)
        case .task: kind = task(m, w)
        case .holdingStatement: kind = statement(m, w)
        case .takedown: kind = takedown(m, w, scope: scope)
        case .escalate: kind = escalate(m, w)
        case .notify: kind = notify(m, w)
        case .clock: kind = clock(m, w)
        case .wait:
            kind = wait(m, w)
            if case .wait(let ws)? = kind, ws.event == nil, let tl = m.keyLocation("timeout") {
                r.error(DiagnosticCode.conflictingKeys,
                        "\(w) is a pure delay ('for'); it has no timeout. Use 'event' to wait for something with a timeout",
                        at: tl)
            }
        case .parallel: kind = parallel(m, w, id: id)
        case .foreach: kind = foreach(m, w, id: id)
        case .end: kind = end(m, w, scope: scope)
        case .submission: kind = submission(m, w)
        }

        // Routes.
        var mapRoutes: [String: Located<String>] = [:]
        var mapRouteKeys: [String: SourceLocation] = [:]
        var everyOutcome: Located<String>?
        if let nn = m["next"] {
            if type == .end {
                r.error(DiagnosticCode.endWithNext, "\(w) is an end step and cannot have 'next'",
                        at: m.keyLocation("next") ?? m.location)
            } else {
                switch nn {
                case .scalar:
                    everyOutcome = r.located(nn, what: "'next' of \(w)")
                case .mapping:
                    if let nm = r.mapping(nn, what: "'next' of \(w)") {
                        for e in nm.entries {
                            guard let t = r.located(e.value, what: "'next.\(e.key)' of \(w)") else { continue }
                            mapRoutes[e.key] = t
                            mapRouteKeys[e.key] = e.keyLocation
                        }
                    }
                default:
                    r.error(DiagnosticCode.wrongType,
                            "'next' of \(w) must be a step id or a mapping from outcome to step id, not \(NodeReader.describe(nn))",
                            at: r.location(nn))
                }
            }
        }

        guard let kind else {
            var next = mapRoutes.merging(optionRoutes) { a, _ in a }
            if let everyOutcome { next["*"] = everyOutcome }
            return broken(id, location, title: title, next: next)
        }

        var step = Step(
            id: id, title: title, instructions: instructions, role: role, timeout: timeout, maxVisits: maxVisits,
            next: [:], kind: kind, location: location)
        let outcomes = step.outcomes
        var next = optionRoutes
        for (outcome, target) in mapRoutes.sorted(by: { $0.key < $1.key }) {
            let keyLoc = mapRouteKeys[outcome] ?? target.location
            if !outcomes.contains(outcome) {
                var why = "\(w) (\(type.yamlName)) has no outcome '\(outcome)'; its outcomes are \(outcomes.joined(separator: ", "))"
                if outcome == Outcome.timeout, step.timeout == nil, kind.canTimeOut {
                    why = "\(w) has no 'timeout', so it never takes outcome 'timeout'"
                } else if outcome == Outcome.maxVisits, step.maxVisits == nil {
                    why = "\(w) has no 'max_visits', so it never takes outcome 'max_visits'"
                } else if outcome == Outcome.timeout, case .choice(let c) = kind, c.isAutomatic, step.timeout == nil {
                    why = "\(w) is decided by its guards and has no 'timeout'"
                }
                if outcomes.isEmpty { why = "\(w) (\(type.yamlName)) has no outcomes to route" }
                r.error(DiagnosticCode.unknownOutcome, why, at: keyLoc)
                continue
            }
            if next[outcome] != nil {
                r.error(DiagnosticCode.duplicateRoute,
                        "outcome '\(outcome)' of \(w) is routed twice: by the option's 'next' and by 'next.\(outcome)'",
                        at: keyLoc)
                continue
            }
            next[outcome] = target
        }
        if let everyOutcome {
            for o in outcomes where next[o] == nil { next[o] = everyOutcome }
        }
        step.next = next
        return step
    }

    // MARK: Step kinds

    func choice(_ m: MapView, _ w: String, routes: inout [String: Located<String>]) -> StepKind? {
        var options: [ChoiceOption] = []
        if let node = r.require(m, "options", what: w), let om = r.mapping(node, what: "'options' of \(w)") {
            if om.entries.isEmpty {
                r.error(DiagnosticCode.badValue, "\(w) needs at least one option", at: om.location)
            }
            for e in om.entries {
                r.checkIdentifier(e.key, what: "option id", at: e.keyLocation)
                let ow = "option '\(e.key)' of \(w)"
                guard let vm = r.mapping(e.value, what: ow, allowed: ["label", "when", "next", "starts_clock"]) else {
                    continue
                }
                let label = r.string(vm, "label", what: ow, required: true) ?? e.key
                var guardSpec: Guard?
                if let wn = vm["when"], let gm = r.mapping(wn, what: "'when' of \(ow)", allowed: ["input", "in", "equals"]) {
                    let input = r.require(gm, "input", what: "'when' of \(ow)").flatMap {
                        r.identifier($0, what: "'input' of 'when'")
                    }
                    var anyOf: [String]?
                    if gm.has("in"), let eqNode = gm["equals"] {
                        r.error(DiagnosticCode.conflictingKeys, "'when' takes 'in' or 'equals', not both",
                                at: r.location(eqNode))
                    } else if let inNode = gm["in"] {
                        anyOf = r.stringList(inNode, what: "'in' of 'when'")?.map(\.value)
                    } else if let eqNode = gm["equals"] {
                        anyOf = r.string(eqNode, what: "'equals' of 'when'", allowEmpty: true).map { [$0] }
                    } else {
                        r.error(DiagnosticCode.missingKey, "'when' of \(ow) needs 'in' or 'equals'", at: gm.location)
                    }
                    if let input, let anyOf { guardSpec = Guard(input: input, anyOf: anyOf, location: gm.location) }
                }
                if let nn = vm["next"], let t = r.located(nn, what: "'next' of \(ow)") { routes[e.key] = t }
                var option = ChoiceOption(id: e.key, label: label, when: guardSpec, location: e.keyLocation)
                option.startsClock = vm["starts_clock"].flatMap { r.located($0, what: "'starts_clock' of \(ow)") }
                options.append(option)
            }
        }
        var defaultOption: Located<String>?
        let onTimeout = choiceTimeout(m, w)
        if onTimeout != nil, let dl = m.keyLocation("default") {
            r.error(DiagnosticCode.conflictingKeys,
                    "\(w) has both 'default' and 'on_timeout'; its timeout either takes the default or escalates, not both",
                    at: dl)
        }
        if onTimeout != nil, options.contains(where: { $0.when != nil }) {
            r.error(DiagnosticCode.conflictingKeys,
                    "\(w) is decided by its guards; 'on_timeout' is for a decision a person makes", at: m.keyLocation("on_timeout") ?? m.location)
        }
        if onTimeout == nil, let dn = r.require(m, "default", what: w, code: DiagnosticCode.choiceWithoutDefault),
            let d = r.located(dn, what: "'default' of \(w)")
        {
            defaultOption = d
            if !options.isEmpty, !options.contains(where: { $0.id == d.value }) {
                var message = "default '\(d.value)' of \(w) is not one of its options (\(options.map(\.id).joined(separator: ", ")))"
                if let s = EditDistance.suggestion(for: d.value, among: options.map(\.id)) {
                    message += "; did you mean '\(s)'?"
                }
                r.error(DiagnosticCode.unknownOption, message, at: d.location)
            }
        }
        var spec = ChoiceSpec(options: options, defaultOption: defaultOption)
        spec.onTimeout = onTimeout
        if let rn = m["rationale"], let value = r.string(rn, what: "'rationale' of \(w)") {
            if value == "required" {
                spec.rationaleRequired = true
            } else if value != "optional" {
                r.error(DiagnosticCode.badValue, "'rationale' of \(w) is 'required' or 'optional', not '\(value)'",
                        at: r.location(rn))
            }
        }
        return .choice(spec)
    }

    /// `on_timeout: {escalate: STEP}` or `{remind: TEXT}`.
    func choiceTimeout(_ m: MapView, _ w: String) -> ChoiceTimeout? {
        guard let node = m["on_timeout"],
            let tm = r.mapping(node, what: "'on_timeout' of \(w)", allowed: ["escalate", "remind"])
        else { return nil }
        if tm.has("escalate"), tm.has("remind") {
            r.error(DiagnosticCode.conflictingKeys, "'on_timeout' of \(w) takes 'escalate' or 'remind', not both",
                    at: tm.location)
            return nil
        }
        if let en = tm["escalate"] { return r.located(en, what: "'escalate' of \(w)").map(ChoiceTimeout.escalate) }
        if let rn = tm["remind"] { return r.string(rn, what: "'remind' of \(w)").map(ChoiceTimeout.remind) }
        r.error(DiagnosticCode.missingKey, "'on_timeout' of \(w) needs 'escalate' or 'remind'", at: tm.location)
        return nil
    }

    func task(_ m: MapView, _ w: String) -> StepKind? {
        var checklist: [String] = []
        if let node = m["checklist"] { checklist = r.stringList(node, what: "'checklist' of \(w)")?.map(\.value) ?? [] }
        var fields: [FactSpec] = []
        if let node = m["fields"], !NodeReader.isEmpty(node) {
            fields = taskFields(node, w)
            for f in fields where ["note", "reason"].contains(f.name) {
                r.error(DiagnosticCode.badValue, "field '\(f.name)' is the task's own; choose another name", at: f.location)
            }
        }
        return .task(TaskSpec(checklist: checklist, fields: fields))
    }

    /// A task's `fields`: values recorded when it is done (optional unless `required: true`).
    func taskFields(_ node: Node, _ w: String) -> [FactSpec] {
        factSpecs(node, of: w, kind: "field", requiredByDefault: false)
    }

    /// Named values a person records (a task's `fields`, a statement's `facts`): each with a prompt, a type and
    /// whether it is required.
    func factSpecs(_ node: Node, of w: String, kind: String, requiredByDefault: Bool) -> [FactSpec] {
        guard let fm = r.mapping(node, what: "'\(kind == "fact" ? "facts" : "fields")' of \(w)") else { return [] }
        var specs: [FactSpec] = []
        for e in fm.entries {
            r.checkIdentifier(e.key, what: "\(kind) name", at: e.keyLocation)
            let fw = "\(kind) '\(e.key)' of \(w)"
            let allowed = kind == "fact" ? ["prompt", "type", "required", "language_neutral"] : ["prompt", "type", "required"]
            guard let vm = r.mapping(e.value, what: fw, allowed: allowed) else { continue }
            // A statement fact's prompt may be given per language: `prompt: {nb: ..., en: ...}`.
            var prompts: [String: String] = [:]
            var promptLocations: [String: SourceLocation] = [:]
            var prompt = e.key
            if kind == "fact", let pn = vm["prompt"], case .mapping = pn,
                let pm = r.mapping(pn, what: "'prompt' of \(fw)")
            {
                for pe in pm.entries {
                    if !Self.isLanguageTag(pe.key) {
                        r.error(DiagnosticCode.badValue, "'\(pe.key)' is not a language tag such as nb, nn or en",
                                at: pe.keyLocation)
                    }
                    if let text = r.string(pe.value, what: "the \(pe.key) prompt of \(fw)") {
                        prompts[pe.key] = text
                        promptLocations[pe.key] = pe.keyLocation
                    }
                }
                if pm.entries.isEmpty { r.error(DiagnosticCode.badValue, "\(fw) needs a prompt", at: pm.location) }
                prompt = pm.entries.first.flatMap { prompts[$0.key] } ?? e.key
            } else {
                prompt = r.string(vm, "prompt", what: fw, required: true) ?? e.key
            }
            var type = ValueType.text
            if let tn = vm["type"], let t = r.oneOf(tn, ["string", "text", "url", "urls", "integer", "time"],
                                                    what: "'type' of \(fw)") {
                type = ValueType(rawValue: t) ?? .text
            }
            let required = r.bool(vm, "required", what: fw) ?? requiredByDefault
            let neutral = kind == "fact" ? r.bool(vm, "language_neutral", what: fw) : nil
            var spec = FactSpec(name: e.key, prompt: prompt, type: type, required: required, location: e.keyLocation,
                                languageNeutral: neutral, prompts: prompts)
            spec.promptLocations = promptLocations
            specs.append(spec)
        }
        return specs
    }

    func statement(_ m: MapView, _ w: String) -> StepKind? {
        let template = r.require(m, "template", what: w).flatMap { r.located($0, what: "'template' of \(w)") }
        if let template, template.value.hasSuffix(".mustache") {
            r.error(DiagnosticCode.badValue,
                    "'template' is the base path without language and extension (templates/x renders templates/x.<lang>.mustache)",
                    at: template.location)
        }
        var channels: [ChannelSpec] = []
        if let node = r.require(m, "channels", what: w), let items = r.sequence(node, what: "'channels' of \(w)") {
            if items.isEmpty { r.error(DiagnosticCode.badValue, "\(w) needs at least one channel", at: r.location(node)) }
            // A channel is its name, or `{id: x, languages: [en]}` for one that publishes only some languages.
            for item in items {
                if case .mapping = item {
                    let cw = "a channel of \(w)"
                    guard let cm = r.mapping(item, what: cw, allowed: ["id", "languages"]),
                        let id = r.require(cm, "id", what: cw).flatMap({ r.located($0, what: "'id' of \(cw)") })
                    else { continue }
                    var languages: [Located<String>] = []
                    if let ln = cm["languages"], let list = r.stringList(ln, what: "'languages' of channel '\(id.value)'") {
                        if list.isEmpty {
                            r.error(DiagnosticCode.badValue, "channel '\(id.value)' of \(w) needs at least one language",
                                    at: r.location(ln))
                        }
                        languages = list
                    }
                    channels.append(ChannelSpec(id: id.value, location: id.location, languages: languages))
                } else if let id = r.located(item, what: "an item of 'channels' of \(w)") {
                    channels.append(ChannelSpec(id: id.value, location: id.location))
                }
            }
        }
        var languages: [Located<String>] = []
        if let node = m["languages"], let list = r.stringList(node, what: "'languages' of \(w)") {
            if list.isEmpty { r.error(DiagnosticCode.badValue, "'languages' of \(w) needs at least one language", at: r.location(node)) }
            var seen = Set<String>()
            for l in list {
                if !Self.isLanguageTag(l.value) {
                    r.error(DiagnosticCode.badValue, "'\(l.value)' is not a language tag such as nb, nn or en", at: l.location)
                } else if !seen.insert(l.value).inserted {
                    r.error(DiagnosticCode.badValue, "language '\(l.value)' is listed twice", at: l.location)
                }
            }
            languages = list
        }
        // `variants: {x: templates/post-short}` (a template base per channel), or `variants: [x]` for the base
        // `<template>.x` beside the statement's own template.
        var variants: [String: Located<String>] = [:]
        if let node = m["variants"], !NodeReader.isEmpty(node) {
            let vw = "'variants' of \(w)"
            if case .sequence = node {
                for c in r.stringList(node, what: vw) ?? [] {
                    if variants[c.value] != nil {
                        r.error(DiagnosticCode.badValue, "channel '\(c.value)' has two variants", at: c.location)
                    }
                    variants[c.value] = Located("\(template?.value ?? "").\(c.value)", at: c.location)
                }
            } else if let vm = r.mapping(node, what: vw) {
                for e in vm.entries {
                    guard let base = r.located(e.value, what: "the \(e.key) variant of \(w)") else { continue }
                    if base.value.hasSuffix(".mustache") {
                        r.error(DiagnosticCode.badValue,
                                "a variant is a template base path without language and extension (templates/x-short renders templates/x-short.<lang>.mustache)",
                                at: base.location)
                    }
                    variants[e.key] = Located(base.value, at: e.keyLocation)
                }
            }
        }
        var facts: [FactSpec] = []
        if let node = m["facts"], !NodeReader.isEmpty(node) {
            facts = factSpecs(node, of: w, kind: "fact", requiredByDefault: true)
        }
        var approval: ApprovalSpec?
        if let node = r.require(m, "approval", what: w) {
            let aw = "'approval' of \(w)"
            if let am = r.mapping(node, what: aw, allowed: [
                "roles", "quorum", "timeout", "fallback", "exclude_input", "distinct_from_drafter", "all_of", "final",
                "inform",
            ]) {
                let allOf = am["all_of"].flatMap { r.identifierList($0, what: "'all_of' of \(aw)") } ?? []
                let final = am["final"].flatMap { r.identifier($0, what: "'final' of \(aw)") }
                let inform = am["inform"].flatMap { r.identifierList($0, what: "'inform' of \(aw)") } ?? []
                var roles: [Located<String>] = []
                if allOf.isEmpty && final == nil {
                    if let rn = r.require(am, "roles", what: aw), let list = r.identifierList(rn, what: "'roles' of \(aw)") {
                        if list.isEmpty { r.error(DiagnosticCode.badValue, "\(aw) needs at least one role", at: r.location(rn)) }
                        roles = list
                    }
                } else if let rn = am["roles"] {
                    roles = r.identifierList(rn, what: "'roles' of \(aw)") ?? []
                }
                if am["quorum"] != nil, roles.isEmpty {
                    r.error(DiagnosticCode.badValue,
                            "\(aw) has a 'quorum' but no 'roles' to count it over (all_of counts one approver per role)",
                            at: am.keyLocation("quorum") ?? am.location)
                }
                var seen: [String] = []
                for role in allOf {
                    if seen.contains(role.value) {
                        r.error(DiagnosticCode.badValue, "'all_of' of \(aw) names role '\(role.value)' twice", at: role.location)
                    }
                    seen.append(role.value)
                    if role.value == final?.value {
                        r.error(DiagnosticCode.badValue,
                                "role '\(role.value)' is both in 'all_of' and the 'final' authority of \(aw); the final authority signs off on its own",
                                at: role.location)
                    }
                }
                let quorum = r.integer(am, "quorum", what: aw, range: 1...50) ?? 1
                let timeout = r.duration(am, "timeout", what: aw)
                let fallback = am["fallback"].flatMap { r.identifierList($0, what: "'fallback' of \(aw)") } ?? []
                if !fallback.isEmpty, timeout == nil {
                    r.error(DiagnosticCode.missingKey, "\(aw) has fallback roles but no 'timeout' after which they may approve",
                            at: am.keyLocation("fallback") ?? am.location)
                }
                let exclude = am["exclude_input"].flatMap { r.identifier($0, what: "'exclude_input' of \(aw)") }
                let distinct = r.bool(am, "distinct_from_drafter", what: aw) ?? true
                approval = ApprovalSpec(
                    roles: roles, quorum: quorum, timeout: timeout, fallbackRoles: fallback, excludeInput: exclude,
                    distinctFromDrafter: distinct, location: am.location, allOf: allOf, finalRole: final, inform: inform)
            }
        }
        let maxRevisions = r.integer(m, "max_revisions", what: w, range: 1...50) ?? 3
        let checks = statementChecks(m, w)
        let spokesperson = m["spokesperson"].flatMap { r.identifier($0, what: "'spokesperson' of \(w)") }
        guard let template, let approval else { return nil }
        var spec = StatementSpec(
            template: template, channels: channels, facts: facts, approval: approval, maxRevisions: maxRevisions,
            languages: languages, variants: variants, spokesperson: spokesperson)
        spec.checks = checks
        return .holdingStatement(spec)
    }

    func valueSource(_ node: Node, what: String) -> ValueSource? {
        switch node {
        case .mapping:
            guard let m = r.mapping(node, what: what, allowed: ["input"]),
                let n = r.require(m, "input", what: what),
                let name = r.identifier(n, what: "'input' of \(what)")
            else { return nil }
            return .input(name)
        default:
            return r.string(node, what: what).map { .literal($0) }
        }
    }

    func takedown(_ m: MapView, _ w: String, scope: StepScope) -> StepKind? {
        let platform = r.require(m, "platform", what: w).flatMap { valueSource($0, what: "'platform' of \(w)") }
        var urls: ValueSource?
        if let node = m["urls"] {
            urls = valueSource(node, what: "'urls' of \(w)")
            if case .literal(let s)? = urls, !s.contains("{{") {
                for u in ValueType.splitList(s) {
                    if let p = ValueType.url.problem(with: u) {
                        r.error(DiagnosticCode.badURL, "'\(u)' in 'urls' of \(w) \(p)", at: r.location(node))
                    }
                }
            }
        } else if case .body(let item) = scope {
            urls = .literal("{{\(item)}}")
        } else {
            r.error(DiagnosticCode.missingKey, "\(w) needs 'urls'", at: m.location)
        }
        var basis: LegalBasis?
        var basisLocation = m.location
        if let node = r.require(m, "basis", what: w),
            let b = r.oneOf(node, LegalBasis.allCases.map(\.rawValue), what: "'basis' of \(w)")
        {
            basis = LegalBasis(rawValue: b)
            basisLocation = r.location(node)
        }
        let submitters = m["submitters"].flatMap { r.identifierList($0, what: "'submitters' of \(w)") } ?? []
        let followUp = r.duration(m, "follow_up", what: w)
        let giveUp = r.duration(m, "give_up_after", what: w)
        if let followUp, let giveUp, followUp >= giveUp {
            r.warning(DiagnosticCode.badDuration, "follow_up \(followUp) is not shorter than give_up_after \(giveUp)",
                      at: m.keyLocation("follow_up") ?? m.location)
        }
        var prefill: [String: String] = [:]
        var authorisationRecord: Located<String>?
        if let node = m["prefill"], !NodeReader.isEmpty(node), let pm = r.mapping(node, what: "'prefill' of \(w)") {
            let elements = basis?.requiredElements.map(\.rawValue) ?? []
            for e in pm.entries {
                if let basis, !elements.contains(e.key) {
                    var message = "'\(e.key)' is not a notice element of basis \(basis.rawValue) (\(elements.joined(separator: ", ")))"
                    if let s = EditDistance.suggestion(for: e.key, among: elements) { message += "; did you mean '\(s)'?" }
                    r.error(DiagnosticCode.badPrefill, message, at: e.keyLocation)
                    continue
                }
                // `authorisation: {record: STEP}`: the step whose record authorises the request.
                if e.key == NoticeElement.authorisation.rawValue, case .mapping = e.value {
                    if let am = r.mapping(e.value, what: "prefill 'authorisation' of \(w)", allowed: ["record"]),
                        let rn = r.require(am, "record", what: "prefill 'authorisation' of \(w)"),
                        let id = r.identifier(rn, what: "'record' of prefill 'authorisation'")
                    {
                        authorisationRecord = id
                    }
                    continue
                }
                guard let v = r.string(e.value, what: "prefill '\(e.key)'", allowEmpty: true) else { continue }
                prefill[e.key] = v
                // A value of the element's type (a template is checked when it is filled in).
                if let element = NoticeElement(rawValue: e.key), !v.contains("{{"), !v.isEmpty,
                    let problem = Self.prefillProblem(element, v)
                {
                    r.error(DiagnosticCode.badPrefill,
                            "prefill '\(e.key)' of \(w) does not fit its \(element.isStatement ? "statement" : element.valueType.rawValue) element: \(problem)",
                            at: r.location(e.value))
                }
            }
        }
        // Where the notice goes: one route (`reporting_route: https://...`), or one per platform value.
        var routes: [String: String]?
        if let node = m["reporting_route"] {
            if case .mapping = node {
                if let rm = r.mapping(node, what: "'reporting_route' of \(w)") {
                    var byPlatform: [String: String] = [:]
                    for e in rm.entries {
                        if let v = r.string(e.value, what: "'reporting_route.\(e.key)' of \(w)") { byPlatform[e.key] = v }
                    }
                    routes = byPlatform
                }
            } else if let v = r.string(node, what: "'reporting_route' of \(w)") {
                routes = ["*": v]
            }
        }
        guard let platform, let urls, let basis else { return nil }
        let spec = TakedownSpec(
            platform: platform, urls: urls, basis: basis, basisLocation: basisLocation, submitterRoles: submitters,
            followUp: followUp, giveUpAfter: giveUp, prefill: prefill, reportingRoutes: routes,
            authorisationRecord: authorisationRecord)
        if case .literal(let name) = platform, !name.contains("{{"), let node = m["platform"] {
            checkCatalog(spec, platform: name, at: r.location(node))
        }
        return .takedown(spec)
    }

    /// Why a prefilled value does not fit its element, or nil: a statement is its text (or `true` for the
    /// standard wording), never `false`; a closed list takes one of its values; a URL list takes URLs.
    static func prefillProblem(_ element: NoticeElement, _ value: String) -> String? {
        if element.isStatement {
            return value.trimmingCharacters(in: .whitespaces) == "false"
                ? "is false; give the statement's text (or true for the standard wording)" : nil
        }
        let allowed = element.allowedValues
        return (allowed.isEmpty ? element.valueType : .enum).problem(with: value, allowed: allowed)
    }

    /// Warnings against the platform catalog (docs/platforms.md): a platform it does not know (no route will be
    /// shown unless the playbook gives one), a basis the platform does not take reports under.
    func checkCatalog(_ spec: TakedownSpec, platform: String, at location: SourceLocation) {
        guard let entry = PlatformCatalog.entry(platform) else {
            guard spec.reportingRoute(for: platform) == nil, platform.lowercased() != "other" else { return }
            var message = "platform '\(platform)' is not in the platform catalog (docs/platforms.md): no reporting route will be shown; give one with 'reporting_route'"
            if let s = EditDistance.suggestion(for: platform.lowercased(), among: PlatformCatalog.names) {
                message += "; did you mean '\(s)'?"
            }
            r.warning(DiagnosticCode.unknownPlatform, message, at: location)
            return
        }
        if !entry.bases.contains(spec.basis) {
            r.warning(
                DiagnosticCode.basisNotAccepted,
                "\(entry.name) does not take \(spec.basis.rawValue) reports (it takes \(entry.bases.map(\.rawValue).joined(separator: ", "))); check the basis",
                at: spec.basisLocation)
        }
    }

    /// A regulatory submission: the authority, a catalog legal basis (or free text with `citation`), the phases
    /// allowed, and the content fields (the catalog's notice list when not given).
    func submission(_ m: MapView, _ w: String) -> StepKind? {
        let authority = r.require(m, "authority", what: w).flatMap { valueSource($0, what: "'authority' of \(w)") }
        let citation = m["citation"].flatMap { r.string($0, what: "'citation' of \(w)") }
        var legalBasis: Located<String>?
        if let node = r.require(m, "legal_basis", what: w), let basis = r.located(node, what: "'legal_basis' of \(w)") {
            legalBasis = basis
            if ClockCatalog.clock(named: basis.value) == nil, citation == nil {
                var message = "'legal_basis' of \(w) is '\(basis.value)', which is not in the clock catalog "
                    + "(\(ClockCatalog.names.joined(separator: ", "))); name one, or give the law with 'citation'"
                if let s = ClockCatalog.suggestion(for: basis.value) { message += "; did you mean '\(s)'?" }
                r.error(DiagnosticCode.badValue, message, at: basis.location)
            }
        }
        var phases: [SubmissionPhase] = [.initial]
        if let node = m["phases"], let list = r.sequence(node, what: "'phases' of \(w)") {
            var read: [SubmissionPhase] = []
            for item in list {
                guard let text = r.oneOf(item, SubmissionPhase.allCases.map(\.rawValue), what: "a phase of \(w)"),
                    let phase = SubmissionPhase(rawValue: text)
                else { continue }
                if read.contains(phase) {
                    r.error(DiagnosticCode.badValue, "phase '\(text)' of \(w) is listed twice", at: r.location(item))
                    continue
                }
                read.append(phase)
            }
            if !read.isEmpty, read.first != .initial {
                r.error(DiagnosticCode.badValue, "'phases' of \(w) must begin with 'initial'", at: r.location(node))
            }
            if !read.isEmpty { phases = read }
        }
        var content: [SubmissionField] = []
        if let node = m["content"], let cm = r.mapping(node, what: "'content' of \(w)") {
            for e in cm.entries {
                let fw = "content field '\(e.key)' of \(w)"
                guard r.checkIdentifier(e.key, what: "content field", at: e.keyLocation) else { continue }
                if case .mapping = e.value {
                    guard let fm = r.mapping(e.value, what: fw, allowed: ["prompt", "required", "required_in", "prefill"])
                    else { continue }
                    let prompt = r.string(fm, "prompt", what: fw) ?? e.key.replacingOccurrences(of: "_", with: " ")
                    let required = r.bool(fm, "required", what: fw) ?? true
                    var requiredIn: [SubmissionPhase]?
                    if let rn = fm["required_in"], let items = r.sequence(rn, what: "'required_in' of \(fw)") {
                        requiredIn = items.compactMap {
                            r.oneOf($0, phases.map(\.rawValue), what: "a phase in 'required_in' of \(fw)")
                                .flatMap(SubmissionPhase.init(rawValue:))
                        }
                    }
                    let prefill = fm["prefill"].flatMap { r.string($0, what: "'prefill' of \(fw)", allowEmpty: true) }
                    content.append(SubmissionField(name: e.key, prompt: prompt, required: required,
                                                   requiredIn: requiredIn, prefill: prefill))
                } else if let prompt = r.string(e.value, what: fw) {
                    content.append(SubmissionField(name: e.key, prompt: prompt))
                }
            }
        } else if let basis = legalBasis?.value, let catalog = SubmissionSpec.catalogContent(basis) {
            content = catalog
        }
        if content.isEmpty, legalBasis != nil {
            r.error(DiagnosticCode.missingKey,
                    "\(w) needs 'content' (the fields the authority requires): its legal basis is not a catalog clock",
                    at: m.location)
        }
        let stopsClock = m["stops_clock"].flatMap { r.identifier($0, what: "'stops_clock' of \(w)") }
        let submitters = m["submitters"].flatMap { r.identifierList($0, what: "'submitters' of \(w)") } ?? []
        guard let authority, let legalBasis else { return nil }
        return .submission(SubmissionSpec(
            authority: authority, legalBasis: legalBasis, citation: citation, phases: phases, content: content,
            stopsClock: stopsClock, submitterRoles: submitters))
    }

    func escalate(_ m: MapView, _ w: String) -> StepKind? {
        let policy = m["policy"].flatMap { r.identifier($0, what: "'policy' of \(w)") }
        var levels: [EscalationLevel] = []
        if let node = m["levels"], let items = r.sequence(node, what: "'levels' of \(w)") {
            if items.isEmpty { r.error(DiagnosticCode.badValue, "'levels' of \(w) needs at least one level", at: r.location(node)) }
            for (i, item) in items.enumerated() {
                let lw = "level \(i + 1) of \(w)"
                guard let lm = r.mapping(item, what: lw, allowed: EscalationShape.levelKeys) else { continue }
                var targets: [Located<PageTarget>] = []
                if let tn = r.require(lm, "targets", what: lw), let list = r.stringList(tn, what: "'targets' of \(lw)") {
                    if list.isEmpty { r.error(DiagnosticCode.badValue, "\(lw) needs at least one target", at: r.location(tn)) }
                    targets = list.map { Located(PageTarget(parsing: $0.value), at: $0.location) }
                    for t in targets {
                        if case .role(let role) = t.value { r.checkIdentifier(role, what: "role", at: t.location) }
                    }
                }
                let channels = lm["channels"].flatMap { r.stringList($0, what: "'channels' of \(lw)") }?.map(\.value) ?? []
                if let shape = EscalationShape.read(lm, what: lw, r: r) {
                    levels.append(EscalationLevel(
                        targets: targets, ackTimeout: shape.ackTimeout, channels: channels, location: lm.location,
                        ack: shape.ack, attempts: shape.attempts, every: shape.every, inform: shape.inform))
                }
            }
        }
        if m.has("policy"), m.has("levels") {
            r.error(DiagnosticCode.conflictingKeys, "\(w) takes 'policy' or 'levels', not both",
                    at: m.keyLocation("levels") ?? m.location)
        } else if !m.has("policy"), !m.has("levels") {
            r.error(DiagnosticCode.missingKey, "\(w) needs 'policy' (from the contacts directory) or 'levels'", at: m.location)
        }
        let repeats = r.integer(m, "repeat", what: w, range: 0...5) ?? 0
        let message = r.string(m, "message", what: w, required: true) ?? ""
        let stopAtAck = r.bool(m, "stop_at_ack", what: w) ?? true
        let reescalate = r.duration(m, "reescalate_after", what: w)
        if let reescalate, reescalate == .zero, let node = m["reescalate_after"] {
            r.error(DiagnosticCode.badDuration, "'reescalate_after' of \(w) must be longer than zero", at: r.location(node))
        }
        if reescalate != nil, !stopAtAck, let node = m["reescalate_after"] {
            r.error(DiagnosticCode.conflictingKeys,
                    "\(w) pages every level whatever the acks ('stop_at_ack: false'), so 'reescalate_after' has nothing to do",
                    at: r.location(node))
        }
        return .escalate(EscalateSpec(
            policy: policy, levels: levels, repeats: repeats, message: message, stopAtAck: stopAtAck,
            reescalateAfter: reescalate))
    }

    func notify(_ m: MapView, _ w: String) -> StepKind? {
        let audience = r.string(m, "audience", what: w, required: true) ?? ""
        var channels: [String] = []
        if let node = r.require(m, "channels", what: w), let list = r.stringList(node, what: "'channels' of \(w)") {
            if list.isEmpty { r.error(DiagnosticCode.badValue, "\(w) needs at least one channel", at: r.location(node)) }
            channels = list.map(\.value)
        }
        let message = r.string(m, "message", what: w, required: true) ?? ""
        let list = m["list"].flatMap { r.identifier($0, what: "'list' of \(w)") }
        var onFailure = NotifyFailurePolicy.fail
        if let node = m["on_failure"],
            let text = r.oneOf(node, NotifyFailurePolicy.allCases.map(\.rawValue), what: "'on_failure' of \(w)"),
            let policy = NotifyFailurePolicy(rawValue: text)
        {
            onFailure = policy
        }
        return .notify(NotifySpec(audience: audience, channels: channels, message: message, list: list,
                                  onFailure: onFailure))
    }

    func clock(_ m: MapView, _ w: String) -> StepKind? {
        let clock = r.require(m, "clock", what: w).flatMap { r.identifier($0, what: "'clock' of \(w)") }
        var op: ClockOperation?
        if let node = r.require(m, "op", what: w),
            let o = r.oneOf(node, ClockOperation.allCases.map(\.rawValue), what: "'op' of \(w)")
        {
            op = ClockOperation(rawValue: o)
        }
        var from: Located<String>?
        var anchor: RunAnchor?
        if let node = m["from"] {
            if case .mapping = node {
                anchor = runAnchor(node, what: "'from' of \(w)")
            } else {
                from = r.identifier(node, what: "'from' of \(w)")
            }
            if let op, op != .start {
                r.error(DiagnosticCode.conflictingKeys, "'from' is only for op start, and \(w) is op \(op.rawValue)",
                        at: r.location(node))
            }
        }
        guard let clock, let op else { return nil }
        return .clock(ClockStepSpec(
            clock: clock, operation: op, from: op == .start ? from : nil, anchor: op == .start ? anchor : nil))
    }

    func wait(_ m: MapView, _ w: String) -> StepKind? {
        let event = m["event"].flatMap { r.identifier($0, what: "'event' of \(w)") }
        let duration = r.duration(m, "for", what: w)
        if m.has("event"), m.has("for") {
            r.error(DiagnosticCode.conflictingKeys, "\(w) waits for an 'event' or 'for' a time, not both",
                    at: m.keyLocation("for") ?? m.location)
            return nil
        }
        if !m.has("event"), !m.has("for") {
            r.error(DiagnosticCode.missingKey, "\(w) needs 'event' (wait for something) or 'for' (a pure delay)", at: m.location)
            return nil
        }
        if let event { return .wait(WaitSpec(event: event.value)) }
        if let duration { return .wait(WaitSpec(duration: duration)) }
        return nil
    }

    func parallel(_ m: MapView, _ w: String, id: String) -> StepKind? {
        var branches: [Branch] = []
        if let node = r.require(m, "branches", what: w), let bm = r.mapping(node, what: "'branches' of \(w)") {
            if bm.entries.isEmpty { r.error(DiagnosticCode.badValue, "\(w) needs at least one branch", at: bm.location) }
            for e in bm.entries {
                r.checkIdentifier(e.key, what: "branch id", at: e.keyLocation)
                let bw = "branch '\(e.key)' of \(w)"
                guard let vm = r.mapping(e.value, what: bw, allowed: ["start", "steps"]) else { continue }
                var start = Located("", at: vm.location)
                if let sn = r.require(vm, "start", what: bw, code: DiagnosticCode.missingStart),
                    let s = r.located(sn, what: "'start' of \(bw)")
                {
                    start = s
                }
                var steps: [Step] = []
                if let sn = r.require(vm, "steps", what: bw) {
                    steps = self.steps(sn, what: "'steps' of \(bw)", scope: .branch)
                }
                branches.append(Branch(id: e.key, start: start, steps: steps, location: e.keyLocation))
            }
        }
        var join = JoinPolicy.all
        if let jn = m["join"], let j = r.scalar(jn, what: "'join' of \(w)") {
            switch j {
            case "all": join = .all
            case "any": join = .any
            default:
                if let n = r.integer(jn, what: "'join' of \(w) (all, any or a number)", range: 1...max(1, branches.count)) {
                    join = .count(n)
                }
            }
        }
        var failure = BranchFailurePolicy.waitAll
        if let fn = m["on_branch_failure"],
            let f = r.oneOf(fn, BranchFailurePolicy.allCases.map(\.rawValue), what: "'on_branch_failure' of \(w)")
        {
            failure = BranchFailurePolicy(rawValue: f) ?? .waitAll
        }
        return .parallel(ParallelSpec(branches: branches, join: join, onBranchFailure: failure))
    }

    func foreach(_ m: MapView, _ w: String, id: String) -> StepKind? {
        let items = r.require(m, "items", what: w).flatMap { r.identifier($0, what: "'items' of \(w)") }
        var itemName = "item"
        if let an = m["as"], let a = r.identifier(an, what: "'as' of \(w)") {
            itemName = a.value
            if ["inputs", "facts", "incident"].contains(a.value) {
                r.error(DiagnosticCode.badValue, "'as' of \(w) may not be '\(a.value)', which is already a template name",
                        at: a.location)
            }
        }
        let tolerate = r.integer(m, "tolerate_failures", what: w, range: 0...10_000) ?? 0
        var body: Step?
        if let dn = r.require(m, "do", what: w) {
            let bodyID = "\(id).do"
            body = step(id: bodyID, at: m.keyLocation("do") ?? r.location(dn), node: dn, scope: .body(itemName: itemName))
        }
        var failed: [String] = []
        if let body {
            failed = body.stepType.defaultFailedOutcomes.filter { body.outcomes.contains($0) }
            if let fn = m["failed_when"], let list = r.stringList(fn, what: "'failed_when' of \(w)") {
                failed = []
                for o in list {
                    if !brokenSteps.contains(body.id), !body.outcomes.contains(o.value) {
                        r.error(DiagnosticCode.unknownOutcome,
                                "the body of \(w) has no outcome '\(o.value)'; its outcomes are \(body.outcomes.joined(separator: ", "))",
                                at: o.location)
                    } else {
                        failed.append(o.value)
                    }
                }
            }
        }
        guard let items, let body else { return nil }
        return .foreach(ForeachSpec(
            items: items, itemName: itemName, body: body, failedOutcomes: failed, tolerateFailures: tolerate))
    }

    func end(_ m: MapView, _ w: String, scope: StepScope) -> StepKind? {
        guard let on = r.require(m, "outcome", what: w) else { return nil }
        let outcome: String?
        if case .branch = scope {
            outcome = r.oneOf(on, [Outcome.done, Outcome.failed], what: "'outcome' of \(w) (an end inside a branch)")
        } else {
            outcome = r.identifier(on, what: "'outcome' of \(w)")?.value
        }
        let summary = m["summary"].flatMap { NodeReader.isEmpty($0) ? nil : r.string($0, what: "'summary' of \(w)") }
        guard let outcome else { return nil }
        return .end(EndSpec(outcome: outcome, summary: summary))
    }
}

/// The keys an escalation level shares between playbooks (`levels:`) and contacts policies: `ack_timeout`,
/// `ack`, `attempts`, `every`, `inform`, `wait` (docs/playbook-format.md, "Escalation shapes").
enum EscalationShape {
    static let levelKeys = ["targets", "ack_timeout", "channels", "ack", "attempts", "every", "inform", "wait"]

    struct Shape {
        var ackTimeout: PlaybookDuration
        var ack: AckMode
        var attempts: AttemptMode
        var every: PlaybookDuration?
        var inform: Bool
    }

    /// Reads the shape of a level; nil when it cannot be built (every problem reported).
    static func read(_ lm: MapView, what lw: String, r: NodeReader) -> Shape? {
        let inform = r.bool(lm, "inform", what: lw) ?? false
        var ack = AckMode.any
        if let node = lm["ack"], let text = r.scalar(node, what: "'ack' of \(lw)") {
            if let mode = AckMode(rawValue: text) {
                ack = mode
            } else {
                r.error(DiagnosticCode.badValue, "'ack' of \(lw) is '\(text)'; write any or all", at: r.location(node))
            }
        }
        var attempts = AttemptMode.first
        if let node = lm["attempts"], let text = r.scalar(node, what: "'attempts' of \(lw)") {
            if let mode = AttemptMode(rawValue: text) {
                attempts = mode
            } else {
                r.error(DiagnosticCode.badValue, "'attempts' of \(lw) is '\(text)'; write sequential or parallel",
                        at: r.location(node))
            }
        }
        let every = r.duration(lm, "every", what: lw)
        if let every, let node = lm["every"] {
            if attempts != .sequential {
                r.error(DiagnosticCode.conflictingKeys,
                        "'every' of \(lw) spaces sequential channel attempts; add 'attempts: sequential'", at: r.location(node))
            } else if every == .zero {
                r.error(DiagnosticCode.badDuration, "'every' of \(lw) must be longer than zero", at: r.location(node))
            }
        }
        if inform {
            for key in ["ack_timeout", "ack"] {
                if let at = lm.keyLocation(key) {
                    r.error(DiagnosticCode.conflictingKeys,
                            "\(lw) only informs ('inform: true') and expects no ack, so it takes no '\(key)'; use 'wait' to pause before the next level",
                            at: at)
                }
            }
            let wait = r.duration(lm, "wait", what: lw) ?? .zero
            return Shape(ackTimeout: wait, ack: .any, attempts: attempts, every: every, inform: true)
        }
        if let at = lm.keyLocation("wait") {
            r.error(DiagnosticCode.conflictingKeys,
                    "'wait' is for inform-only levels ('inform: true'); \(lw) waits 'ack_timeout' for its ack", at: at)
        }
        guard let timeout = r.duration(lm, "ack_timeout", what: lw, required: true) else { return nil }
        return Shape(ackTimeout: timeout, ack: ack, attempts: attempts, every: every, inform: false)
    }
}

/// The keys of a clock that counts business days.
enum BusinessDayKeys {
    static let all = ["business_days", "calendar", "zone", "cutoff"]
    static func any(_ vm: MapView) -> Bool { all.contains { vm[$0] != nil } }
}
