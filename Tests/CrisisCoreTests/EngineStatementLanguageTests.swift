import CrisisCore
import Testing

/// Statements in several languages: facts per language, one publication per channel and language, channel variants.
@Suite("Engine: holding_statement languages and variants")
struct EngineStatementLanguageTests {
    /// A bilingual statement on `website` and `x`; x has its own (short) variant. `xLanguages` narrows x.
    static func pb(xLanguages: [String] = [], neutral: Bool? = nil, statementLanguages: [String] = []) -> Playbook {
        let spec = StatementSpec(
            template: loc("templates/post"),
            channels: [ChannelSpec(id: "website"), ChannelSpec(id: "x", languages: xLanguages.map { loc($0) })],
            facts: [
                FactSpec(name: "what_we_know", prompt: "Known", languageNeutral: neutral, prompts: ["nb": "Hva vi vet"]),
                FactSpec(name: "next_update_at", prompt: "Next update", type: .time, required: false),
            ],
            approval: ApprovalSpec(roles: [loc("legal")]),
            languages: statementLanguages.map { loc($0) },
            variants: ["x": loc("templates/post.x")])
        return playbook(
            [
                step("statement", .holdingStatement(spec), role: "comms", timeout: "60m",
                     next: ["published": "fin", "rejected": "fin", "timeout": "fin"]),
                end("fin", "resolved"),
            ], languages: ["nb", "en"])
    }

    static let facts = ["what_we_know.nb": "Vi vet lite.", "what_we_know.en": "We know little."]
    static let rendered = RenderedStatement(
        texts: ["nb": "Lang norsk tekst", "en": "Long English text"], sha256: "bbb",
        variants: ["x": ["nb": "Kort", "en": "Short"]], languages: ["nb", "en"])

    func statement(_ d: Driver) -> StatementRun? {
        guard case .statement(let s) = (d.state.run("statement")?.detail ?? d.state.history.last?.detail) else { return nil }
        return s
    }

    func deliveries(_ actions: [EngineAction]) -> [Delivery] {
        actions.compactMap { if case .deliver(let d) = $0 { d } else { nil } }
    }

    @Test("Two channels in two languages give four publications, each with its channel's text; all four -> published")
    func fourPublications() {
        var d = Driver(definition(Self.pb()))
        d.draft("statement", Self.facts, Self.rendered)
        #expect(statement(d)?.current?.variants == ["x": ["nb": "Kort", "en": "Short"]])
        #expect(statement(d)?.current?.languages == ["nb", "en"])
        d.act("statement", "approve", as: lars)
        let publish = Engine.availableActions(for: "statement", in: d.state).first { $0.name == "publish" }
        #expect(publish?.fields.map(\.name) == ["channel", "language"])
        #expect(publish?.fields[1].values == ["nb", "en"])
        #expect(publish?.fields[1].defaultValue == nil)
        // Norwegian on the website first; English there is still publishable afterwards.
        let first = deliveries(d.act("statement", "publish", ["channel": "website", "language": "nb"]))
        #expect(first.map { "\($0.channel)/\($0.language ?? "-")/\($0.text)" } == ["website/nb/Lang norsk tekst"])
        let again = d.refuseAct("statement", "publish", ["channel": "website", "language": "nb"])
        #expect(again.code == .actionUnavailable)
        #expect(again.message.contains("already published on website"))
        let rest = deliveries(d.act("statement", "publish"))
        #expect(rest.map { "\($0.channel)/\($0.language ?? "-")/\($0.text)" }
            == ["website/en/Long English text", "x/nb/Kort", "x/en/Short"])
        #expect(statement(d)?.publications.map { "\($0.channel)/\($0.language ?? "-")" }
            == ["website/nb", "website/en", "x/nb", "x/en"])
        let keys = d.state.deliveries.map(\.delivery.key)
        #expect(keys.count == 4)
        for key in keys.dropLast() {
            #expect(d.send(.deliveryCompleted(key: key, result: .sent, detail: nil, actor: .system)).isEmpty)
        }
        let done = d.send(.deliveryCompleted(key: keys[3], result: .sandboxed, detail: nil, actor: .system))
        #expect(done.first == .exitStep(step: "statement", outcome: "published"))
    }

    @Test("A channel mapped to languages gets only those; a failed pair is published again on its own")
    func channelLanguages() {
        var d = Driver(definition(Self.pb(xLanguages: ["en"])))
        let rendered = RenderedStatement(
            texts: ["nb": "Lang", "en": "Long"], sha256: "ccc", variants: ["x": ["en": "Short"]], languages: ["nb", "en"])
        d.draft("statement", Self.facts, rendered)
        d.act("statement", "approve", as: lars)
        let refused = d.refuseAct("statement", "publish", ["channel": "x", "language": "nb"])
        #expect(refused.message == "x does not publish in nb; it takes en")
        let out = deliveries(d.act("statement", "publish"))
        #expect(out.map { "\($0.channel)/\($0.language ?? "-")/\($0.text)" } == ["website/nb/Lang", "website/en/Long", "x/en/Short"])
        let failed = d.send(.deliveryCompleted(key: out[2].key, result: .failed, detail: "HTTP 503", actor: .system))
        #expect(failed == [.remind(step: "statement",
                                   message: "publication on x in en failed; publish it again (channel=x language=en)")])
        d.send(.deliveryCompleted(key: out[0].key, result: .sent, detail: nil, actor: .system))
        d.send(.deliveryCompleted(key: out[1].key, result: .sent, detail: nil, actor: .system))
        #expect(d.outcome(of: "statement") == nil)
        let publish = Engine.availableActions(for: "statement", in: d.state).first { $0.name == "publish" }
        #expect(publish?.fields[0].values == ["x"])
        #expect(publish?.fields[1].values == ["en"])
        let retry = deliveries(d.act("statement", "publish"))
        #expect(retry.map { "\($0.channel)/\($0.language ?? "-")" } == ["x/en"])
        let done = d.send(.deliveryCompleted(key: retry[0].key, result: .sent, detail: nil, actor: .system))
        #expect(done.first == .exitStep(step: "statement", outcome: "published"))
    }

    @Test("Facts: per language for text, once for a time; a language the statement lacks is refused")
    func factsPerLanguage() {
        let d = Driver(definition(Self.pb()))
        let draft = Engine.availableActions(for: "statement", in: d.state).first
        #expect(draft?.fields.map(\.name) == ["what_we_know.nb", "what_we_know.en", "next_update_at"])
        #expect(draft?.fields.map(\.prompt) == ["Hva vi vet", "Known (en)", "Next update"])
        let german = d.refuse(.drafted(step: "statement", facts: ["what_we_know.de": "x"], statement: Self.rendered, actor: kari))
        #expect(german.code == .unknownField)
        #expect(german.message.hasPrefix("the statement has no language 'de' (its languages: nb, en)"))
        let neutral = d.refuse(.drafted(
            step: "statement", facts: Self.facts.merging(["next_update_at.nb": "2026-12-01T12:00:00Z"]) { a, _ in a },
            statement: Self.rendered, actor: kari))
        #expect(neutral.message == "fact 'next_update_at' is the same in every language; give it once as 'next_update_at'")
        let onlyNorwegian = d.refuse(.drafted(
            step: "statement", facts: ["what_we_know.nb": "Vi vet lite."], statement: Self.rendered, actor: kari))
        #expect(onlyNorwegian.code == .missingField)
        #expect(onlyNorwegian.hint == .fieldMissing(name: "what_we_know.en", type: .text, allowed: []))
        // Without `language_neutral`, a plain value still fills every language (drafts recorded before per-language facts).
        var plain = d
        plain.draft("statement", ["what_we_know": "Same words"], Self.rendered)
        #expect(statement(plain)?.current?.facts == ["what_we_know": "Same words"])
    }

    @Test("language_neutral: false refuses one value for every language; true takes only one")
    func explicitNeutrality() {
        let strict = Driver(definition(Self.pb(neutral: false)))
        let r = strict.refuse(.drafted(step: "statement", facts: ["what_we_know": "x"], statement: Self.rendered, actor: kari))
        #expect(r.message == "fact 'what_we_know' is written per language; give 'what_we_know.nb' and 'what_we_know.en'")
        var neutral = Driver(definition(Self.pb(neutral: true)))
        #expect(Engine.availableActions(for: "statement", in: neutral.state).first?.fields.map(\.name)
            == ["what_we_know", "next_update_at"])
        neutral.draft("statement", ["what_we_know": "Ticket 42"], Self.rendered)
        #expect(statement(neutral)?.phase == .awaitingApproval)
    }

    @Test("A statement's own languages: one language asks each fact once, and needs only that text and variant")
    func ownLanguages() {
        var d = Driver(definition(Self.pb(statementLanguages: ["en"])))
        #expect(Engine.availableActions(for: "statement", in: d.state).first?.fields.map(\.name)
            == ["what_we_know", "next_update_at"])
        let missingVariant = RenderedStatement(texts: ["en": "Long"], sha256: "d", languages: ["en"])
        #expect(d.refuse(.drafted(step: "statement", facts: ["what_we_know": "x"], statement: missingVariant, actor: kari))
            .message == "the draft of 'statement' lacks the text in en (the x variant)")
        let english = RenderedStatement(texts: ["en": "Long"], sha256: "d", variants: ["x": ["en": "Short"]], languages: ["en"])
        #expect(d.refuse(.drafted(step: "statement", facts: ["what_we_know.en": "x"], statement: english, actor: kari))
            .message == "the statement has one language (en); give it once as 'what_we_know'")
        d.draft("statement", ["what_we_know": "x"], english)
        d.act("statement", "approve", as: lars)
        let out = deliveries(d.act("statement", "publish"))
        #expect(out.map { "\($0.channel)/\($0.language ?? "-")/\($0.text)" } == ["website/en/Long", "x/en/Short"])
    }
}
