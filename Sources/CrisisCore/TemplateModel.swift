import Mustache

/// The one template model: which variables a playbook text may use, what each one is worth during a run, and
/// how a text is rendered. The validator (what `validate` accepts), the engine (escalate and notify messages,
/// takedown prefills, platform and urls) and the runtime's statement renderer all go through it, so what
/// `validate` accepts is exactly what renders.
///
/// Every text is Mustache, rendered by swift-mustache as plain text (`{{% CONTENT_TYPE: TEXT}}`: nothing is
/// HTML-escaped, `{{x}}`, `{{{x}}}` and `{{&x}}` render the same). Every value is a string; an empty or unset value
/// is absent, so it renders as nothing and is false in a section: `{{#inputs.x}}...{{/inputs.x}}` shows only when
/// `inputs.x` has a value, `{{^inputs.x}}...{{/inputs.x}}` only when it has none. Inside a section `{{.}}` is the
/// section's value; every other name inside a section is one of the table's. Partials are not supported.
///
/// The table (`TemplateVariable.allCases`):
///
///     written as          value                                             where
///     inputs.NAME         the start input (unset optional input: empty)     everywhere
///     incident.id         the incident id                                   everywhere
///     incident.title      the incident title                                everywhere
///     incident.mode       live or drill                                     everywhere
///     item                the current item                                  the body step of a foreach
///     AS                  the current item, under the foreach's `as` name   the body step of a foreach
///     steps.STEP.FIELD    the last value an operator recorded with --set    everywhere; STEP exists and one of
///                         for FIELD on an action of STEP (empty until then)  its actions takes FIELD
///     facts.NAME          the fact of the draft being rendered              holding-statement templates
public enum TemplateVariable: String, Sendable, Hashable, CaseIterable {
    case input = "inputs.NAME"
    case incidentID = "incident.id"
    case incidentTitle = "incident.title"
    case incidentMode = "incident.mode"
    case item = "item"
    case itemAlias = "AS"
    case recordedField = "steps.STEP.FIELD"
    case fact = "facts.NAME"

    /// How the variable is written, with placeholders in capitals.
    public var pattern: String { rawValue }

    /// What the variable holds, for documentation and diagnostics.
    public var summary: String {
        switch self {
        case .input: "a start input; an optional input left unset renders empty"
        case .incidentID: "the incident id"
        case .incidentTitle: "the incident title"
        case .incidentMode: "live or drill"
        case .item: "the current item, in the body step of a foreach"
        case .itemAlias: "the current item under the foreach's 'as' name, in the body step of a foreach"
        case .recordedField: "the last value recorded with --set for FIELD on an action of step STEP (empty until then)"
        case .fact: "a fact of the draft, in holding-statement templates"
        }
    }

    /// Every concrete name of this variable that a text at `place` of `playbook` may use, in playbook order.
    public func names(in playbook: Playbook, for place: TemplatePlace) -> [String] {
        switch self {
        case .input:
            return playbook.inputs.map { "inputs.\($0.name)" }
        case .incidentID, .incidentTitle, .incidentMode:
            return [rawValue]
        case .item:
            return TemplateModel.itemName(for: place, in: playbook) == nil ? [] : ["item"]
        case .itemAlias:
            guard let name = TemplateModel.itemName(for: place, in: playbook), name != "item",
                !TemplateModel.reservedRoots.contains(name)
            else { return [] }
            return [name]
        case .recordedField:
            return playbook.allSteps.flatMap { step in
                TemplateModel.recordableFields(of: step).map { "steps.\(step.id).\($0)" }
            }
        case .fact:
            guard case .statement(let id) = place, let step = playbook.step(id),
                case .holdingStatement(let spec) = step.kind
            else { return [] }
            return spec.facts.map { "facts.\($0.name)" }
        }
    }
}

/// Where a text sits in a playbook, which decides the variables it may use.
public enum TemplatePlace: Sendable, Hashable {
    /// A text of step `step` that the engine fills: an escalate or notify message, a takedown prefill, a takedown's
    /// literal `platform` or `urls`.
    case message(step: String)
    /// A holding-statement template of step `step`, rendered by the runtime with the draft's facts.
    case statement(step: String)

    /// The step the text belongs to.
    public var stepID: String {
        switch self {
        case .message(let id), .statement(let id): id
        }
    }
}

/// The values of every variable at one moment of a run: what a text is rendered with.
public struct TemplateValues: Sendable, Hashable {
    public var incidentID: String
    public var incidentTitle: String
    public var incidentMode: IncidentMode
    /// Input name to value; declared inputs left unset are empty.
    public var inputs: [String: String]
    /// The current foreach item, in a foreach body; nil elsewhere.
    public var item: String?
    /// The foreach's `as` name (`item` unless the playbook says otherwise).
    public var itemName: String
    /// Step id to field name to the last value recorded (`IncidentState.recordedFields`).
    public var steps: [String: [String: String]]
    /// The facts of the draft being rendered; nil outside holding-statement templates.
    public var facts: [String: String]?

    public init(
        incidentID: String, incidentTitle: String, incidentMode: IncidentMode, inputs: [String: String],
        item: String? = nil, itemName: String = "item", steps: [String: [String: String]] = [:],
        facts: [String: String]? = nil
    ) {
        self.incidentID = incidentID
        self.incidentTitle = incidentTitle
        self.incidentMode = incidentMode
        self.inputs = inputs
        self.item = item
        self.itemName = itemName
        self.steps = steps
        self.facts = facts
    }

    /// The one context builder: the values a text sees in `state`, inside `scope` (the step instance's scope; a
    /// foreach item gives `item` and the `as` name), with `facts` for a holding statement. The engine fills
    /// messages with it and the runtime renders statements with it.
    public init(state: IncidentState, scope: Scope? = nil, facts: [String: String]? = nil) {
        let definition = state.definition
        var inputs: [String: String] = [:]
        for input in definition.playbook.inputs { inputs[input.name] = "" }
        for (name, value) in definition.inputs { inputs[name] = value }
        var item: String?
        var itemName = "item"
        if case .item(let foreach, _, let value) = scope {
            item = value
            if let run = state.run(foreach), let step = definition.playbook.step(run.stepID),
                case .foreach(let f) = step.kind
            {
                itemName = f.itemName
            }
        }
        self.init(
            incidentID: definition.incidentID, incidentTitle: definition.title, incidentMode: definition.mode,
            inputs: inputs, item: item, itemName: itemName, steps: state.recordedFields, facts: facts)
    }

    /// The Mustache context: nested dictionaries of non-empty strings (an empty value is absent: it renders as
    /// nothing and is false in a section).
    var context: [String: Any] {
        func nonEmpty(_ d: [String: String]) -> [String: String] { d.filter { !$0.value.isEmpty } }
        var root: [String: Any] = [
            "inputs": nonEmpty(inputs),
            "incident": nonEmpty(["id": incidentID, "title": incidentTitle, "mode": incidentMode.rawValue]),
            "steps": steps.mapValues(nonEmpty),
        ]
        if let facts { root["facts"] = nonEmpty(facts) }
        if let value = item, !value.isEmpty {
            root["item"] = value
            if !TemplateModel.reservedRoots.contains(itemName) { root[itemName] = value }
        }
        return root
    }
}

/// A text that is not valid Mustache.
public struct TemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Lookups over the variable table, and the renderer.
public enum TemplateModel {
    /// Names that start a family of variables; a foreach `as` name equal to one of them is not offered.
    public static let reservedRoots: Set<String> = ["inputs", "incident", "steps", "facts"]

    /// Every name a text at `place` of `playbook` may use, in table order without repeats. `validate` accepts
    /// exactly these (and `.` inside a section).
    public static func names(in playbook: Playbook, for place: TemplatePlace) -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        for variable in TemplateVariable.allCases {
            for name in variable.names(in: playbook, for: place) where seen.insert(name).inserted { out.append(name) }
        }
        return out
    }

    /// The row of the table `name` belongs to, when a text at `place` of `playbook` may use it; nil otherwise.
    public static func variable(named name: String, in playbook: Playbook, for place: TemplatePlace)
        -> TemplateVariable?
    {
        TemplateVariable.allCases.first { $0.names(in: playbook, for: place).contains(name) }
    }

    /// The foreach `as` name when `place` is a message of a foreach's body step (statements have no item).
    static func itemName(for place: TemplatePlace, in playbook: Playbook) -> String? {
        guard case .message(let id) = place else { return nil }
        for step in playbook.allSteps {
            if case .foreach(let f) = step.kind, f.body.id == id { return f.itemName }
        }
        return nil
    }

    /// The fields an operator can record on the actions of `step` (`--set`), which later texts read as
    /// `steps.STEP.FIELD`: the fields of every action the step kind offers, never `confirm_delivery`'s or
    /// `retry`'s (they name deliveries, not facts) and never the runtime's reserved `_` fields.
    public static func recordableFields(of step: Step) -> [String] {
        switch step.kind {
        case .choice(let c): c.isAutomatic ? [] : ["option", "rationale", "override", "reason"]
        case .task(let t): t.fields.map(\.name) + ["note", "reason"]
        case .wait(let w): w.event == nil ? [] : ["details"]
        case .holdingStatement(let s): s.facts.map(\.name) + ["comment", "reason", "channel", "language"]
        case .takedown(let t): t.basis.requiredElements.map(\.rawValue) + ["ticket", "note", "reason", "countries", "until", "url", "result", "received"]
        case .escalate: ["by", "via"]
        case .submission(let s): s.content.map(\.name) + ["phase", "reference", "deadline"]
        case .notify, .clock, .parallel, .foreach, .end: []
        }
    }

    /// Why `template` is not valid Mustache, or nil when it parses.
    public static func syntaxError(in template: String) -> TemplateError? {
        do {
            _ = try compile(template)
            return nil
        } catch {
            return error
        }
    }

    /// Renders `template` with `values`, as plain text.
    public static func render(_ template: String, _ values: TemplateValues) throws(TemplateError) -> String {
        // Nothing to fill: the text as written (a text cannot change its delimiters without a tag).
        guard template.contains("{{") else { return template }
        return try compile(template).render(values.context)
    }

    static func compile(_ template: String) throws(TemplateError) -> MustacheTemplate {
        // The pragma is a standalone tag (removed with its line ending) when the text's first line is blank; give
        // it a line of its own then, so the text's own first line ending stays.
        let firstLine = template.prefix { $0 != "\n" && $0 != "\r\n" }
        let blankFirstLine = firstLine.allSatisfy { $0 == " " || $0 == "\t" } && firstLine.count < template.count
        let pragma = "{{% CONTENT_TYPE: TEXT}}" + (blankFirstLine ? "\n" : "")
        do {
            return try MustacheTemplate(string: pragma + template)
        } catch {
            throw TemplateError("\(error)")
        }
    }
}

extension IncidentState {
    /// Records the fields an operator set on an accepted action of `stepID`: the last value of each field wins.
    mutating func recordFields(_ fields: [String: String], of stepID: String) {
        for (name, value) in fields {
            recordedFields[stepID, default: [:]][name] = value
        }
    }
}
