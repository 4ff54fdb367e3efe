import CrisisAudit
import CrisisCore

/// Renders holding statements from the incident's pinned Mustache templates, one text per playbook language,
/// and checks every text against every channel's length rule before a draft is accepted.
public enum StatementRenderer {
    public struct Rendered: Sendable, Hashable {
        /// Language tag to the default text.
        public var texts: [String: String]
        /// Channel to its variant's text per language (only the languages the channel publishes).
        public var variants: [String: [String: String]]
        /// The statement's languages, in order.
        public var languages: [String]
        /// SHA-256 (hex) of what approvals bind to. Without variants: the canonical JSON object `{lang: text}`.
        /// With variants: the canonical JSON object `{"texts": {lang: text}, "variants": {channel: {lang: text}}}`
        /// (canonical JSON sorts every object's members by their UTF-8 bytes, so the order is fixed).
        public var sha256: String

        /// The texts as `drafted` carries them to the engine.
        public var statement: RenderedStatement {
            RenderedStatement(texts: texts, sha256: sha256, variants: variants, languages: languages)
        }
    }

    /// Renders `spec` with the drafter's facts, in every language of the statement, and each channel's variant
    /// in every language that channel publishes. Refuses when a template is missing or does not parse, or when a
    /// text is over the limit of the channel it goes to (the message names language, channel, count and limit).
    ///
    /// The text sees the same variables as the engine's messages (`TemplateValues(state:)`: inputs, incident,
    /// the fields recorded on earlier steps) plus the facts of its language (`NAME.<lang>`, else `NAME`: see
    /// `StatementSpec.facts(_:for:)`), and is rendered by the same `TemplateModel.render`.
    public static func render(_ spec: StatementSpec, facts: [String: String], incident: LoadedIncident)
        -> Result<Rendered, Rejection>
    {
        let playbook = incident.definition.playbook
        let languages = spec.languages(in: playbook)
        func render(_ base: String, _ lang: String) -> Result<String, Rejection> {
            let path = "\(base).\(lang).mustache"
            guard let bytes = incident.templates[path], let source = String(validating: bytes, as: UTF8.self) else {
                return .failure(Rejection(.missingTemplate, "template \(path) is not pinned with this incident"))
            }
            let values = TemplateValues(state: incident.state, facts: spec.facts(facts, for: lang))
            var text: String
            do {
                text = try TemplateModel.render(source, values)
            } catch {
                return .failure(Rejection(.templateError, "template \(path) does not parse: \(error)"))
            }
            while text.hasSuffix("\n") { text.removeLast() }
            return .success(text)
        }
        var texts: [String: String] = [:]
        for lang in languages {
            switch render(spec.template.value, lang) {
            case .success(let text): texts[lang] = text
            case .failure(let r): return .failure(r)
            }
        }
        var variants: [String: [String: String]] = [:]
        for channel in spec.channels {
            guard let base = spec.variants[channel.id]?.value else { continue }
            for lang in spec.languages(of: channel, in: playbook) {
                switch render(base, lang) {
                case .success(let text): variants[channel.id, default: [:]][lang] = text
                case .failure(let r): return .failure(r)
                }
            }
        }
        for channel in spec.channels {
            for lang in spec.languages(of: channel, in: playbook) {
                guard let text = variants[channel.id]?[lang] ?? texts[lang] else { continue }
                let m = ChannelLength.measure(text, channel: channel.id)
                if m.overLimit, let limit = m.limit {
                    let which = variants[channel.id] == nil ? "the \(lang) text" : "the \(lang) \(channel.id) variant"
                    return .failure(Rejection(
                        .overChannelLimit,
                        "\(which) is \(m.count) \(m.unit) on \(channel.id), over its limit of \(limit); "
                            + "shorten the facts and draft again"))
                }
            }
        }
        return .success(Rendered(texts: texts, variants: variants, languages: languages,
                                 sha256: hash(texts: texts, variants: variants)))
    }

    /// The hash approvals bind to (see `Rendered.sha256`).
    public static func hash(texts: [String: String], variants: [String: [String: String]]) -> String {
        func object(_ m: [String: String]) -> CanonicalValue {
            .object(m.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        }
        let value: CanonicalValue = variants.isEmpty
            ? object(texts)
            : .object([("texts", object(texts)),
                       ("variants", .object(variants.sorted { $0.key < $1.key }.map { ($0.key, object($0.value)) }))])
        let bytes = (try? CanonicalJSON.encode(value))
            ?? Array(texts.sorted { $0.key < $1.key }.map { $0.value }.joined().utf8)
        return sha256Hex(bytes)
    }
}
