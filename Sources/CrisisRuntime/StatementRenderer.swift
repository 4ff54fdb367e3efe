import CrisisAudit
import CrisisCore

/// Renders holding statements from the incident's pinned Mustache templates, one text per playbook language,
/// and checks every text against every channel's length rule before a draft is accepted.
public enum StatementRenderer {
    public struct Rendered: Sendable, Hashable {
        /// Language tag to text.
        public var texts: [String: String]
        /// SHA-256 (hex) of the canonical JSON object `{lang: text}`: what approvals bind to.
        public var sha256: String
    }

    /// Renders `spec` with the drafter's facts. Refuses when a template is missing or does not parse, or when a
    /// text is over a channel's limit (the message names language, channel, count and limit).
    ///
    /// The text sees the same variables as the engine's messages (`TemplateValues(state:)`: inputs, incident,
    /// the fields recorded on earlier steps) plus `facts`, and is rendered by the same `TemplateModel.render`.
    public static func render(_ spec: StatementSpec, facts: [String: String], incident: LoadedIncident)
        -> Result<Rendered, Rejection>
    {
        let definition = incident.definition
        let values = TemplateValues(state: incident.state, facts: facts)
        var texts: [String: String] = [:]
        for lang in definition.playbook.languages {
            let path = "\(spec.template.value).\(lang).mustache"
            guard let bytes = incident.templates[path], let source = String(validating: bytes, as: UTF8.self) else {
                return .failure(Rejection(.missingTemplate, "template \(path) is not pinned with this incident"))
            }
            var text: String
            do {
                text = try TemplateModel.render(source, values)
            } catch {
                return .failure(Rejection(.templateError, "template \(path) does not parse: \(error)"))
            }
            while text.hasSuffix("\n") { text.removeLast() }
            texts[lang] = text
        }
        for channel in spec.channels {
            for lang in definition.playbook.languages {
                guard let text = texts[lang] else { continue }
                let m = ChannelLength.measure(text, channel: channel.id)
                if m.overLimit, let limit = m.limit {
                    return .failure(Rejection(
                        .overChannelLimit,
                        "the \(lang) text is \(m.count) \(m.unit) on \(channel.id), over its limit of \(limit); "
                            + "shorten the facts and draft again"))
                }
            }
        }
        let object = CanonicalValue.object(texts.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        let bytes = (try? CanonicalJSON.encode(object)) ?? Array(texts.sorted { $0.key < $1.key }.map { $0.value }.joined().utf8)
        return .success(Rendered(texts: texts, sha256: sha256Hex(bytes)))
    }
}
