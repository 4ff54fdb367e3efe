/// Message substitution for notify and escalate messages and takedown prefills. (The code of each step kind is
/// in its own file: EngineTakedown.swift, EngineEscalate.swift, EngineNotify.swift, EngineClock.swift, ...)
extension Machine {
    // MARK: Substitution

    /// Fills `{{inputs.NAME}}`, `{{incident.id}}`, `{{incident.title}}` and, inside a foreach body, `{{item}}`,
    /// `{{<as>}}` and `{{item.<as>}}`. A declared input that was not given renders empty; unknown variables (which
    /// `validate` reports) stay as written.
    func substitute(_ text: String, scope: Scope?) -> String {
        var variables: [String: String] = [
            "incident.id": definition.incidentID, "incident.title": definition.title,
        ]
        // An optional input left unset renders as nothing, never as its placeholder (the text may go into a
        // takedown notice or a page).
        for input in playbook.inputs { variables["inputs.\(input.name)"] = "" }
        for (name, value) in definition.inputs { variables["inputs.\(name)"] = value }
        if case .item(let foreach, _, let value) = scope {
            variables["item"] = value
            if let run = state.run(foreach), let step = playbook.step(run.stepID), case .foreach(let f) = step.kind {
                variables[f.itemName] = value
                variables["item.\(f.itemName)"] = value
            }
        }
        var out = ""
        var rest = Substring(text)
        while let open = rest.firstRange(of: "{{") {
            out += rest[..<open.lowerBound]
            let after = rest[open.upperBound...]
            guard let close = after.firstRange(of: "}}") else {
                out += rest[open.lowerBound...]
                return out
            }
            let name = after[..<close.lowerBound].trimmingSpaces()
            if let value = variables[name] {
                out += value
            } else {
                out += rest[open.lowerBound..<close.upperBound]
            }
            rest = after[close.upperBound...]
        }
        out += rest
        return out
    }
}
