/// Message substitution for notify and escalate messages and takedown prefills. (The code of each step kind is
/// in its own file: EngineTakedown.swift, EngineEscalate.swift, EngineNotify.swift, EngineClock.swift, ...)
extension Machine {
    // MARK: Substitution

    /// Fills a message, prefill, platform or urls text through the template model (TemplateModel: the same
    /// variables `validate` accepts, rendered by Mustache), with the values of this state inside `scope`. A text
    /// that does not parse (which `validate` refuses) stays as written.
    func substitute(_ text: String, scope: Scope?) -> String {
        (try? TemplateModel.render(text, TemplateValues(state: state, scope: scope))) ?? text
    }
}
