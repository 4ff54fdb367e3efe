import CrisisCore

// Temporary bridge until the engine takes typed statement drafts (merged from the engine branch).
public struct RenderedStatement: Sendable, Hashable, Codable {
    public var texts: [String: String]
    public var sha256: String
    public init(texts: [String: String], sha256: String) {
        self.texts = texts
        self.sha256 = sha256
    }
}

extension EngineEvent {
    static func drafted(step: String, facts: [String: String], statement: RenderedStatement, actor: Actor) -> EngineEvent {
        var fields = facts
        for (lang, text) in statement.texts { fields[Engine.statementTextField(lang)] = text }
        fields[Engine.statementHashField] = statement.sha256
        return .acted(step: step, action: "draft", fields: fields, actor: actor)
    }
}
