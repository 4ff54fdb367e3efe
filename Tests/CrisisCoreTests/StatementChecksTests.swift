import CrisisCore
import Testing

/// Golden vectors for how each channel measures mixed Norwegian text, emoji sequences and URLs, and the SMS
/// encodings; then declared limits and content checks as the shell evaluates them at draft.
@Suite("Statement limits and content checks")
struct StatementChecksTests {
    /// text, channel, count, encoding (SMS), segments (SMS). Counted by hand from the platforms' rules.
    static let vectors: [(String, String, Int, String?, Int?)] = [
        // « » – are weight 1 on X (U+00AB/BB ≤ U+10FF, U+2013 in U+2010–201F); æøå too.
        ("Hei på deg – «sak»", "x", 18, nil, nil),
        ("Hei på deg – «sak»", "facebook", 18, nil, nil),
        // … but GSM-7 has no « » –: the whole text goes UCS-2.
        ("Hei på deg – «sak»", "sms", 18, "UCS-2", 1),
        // æ ø å Æ Ø Å are in the GSM-7 basic table.
        ("Blåbærsyltetøy ÆØÅ", "sms", 18, "GSM-7", 1),
        // € is in the extension table: two septets.
        ("Pris: 100 €", "sms", 12, "GSM-7", 1),
        ("[{~}]", "sms", 10, "GSM-7", 1),
        // A ZWJ family (7 scalars, 11 UTF-16 units) weighs 2 on X.
        ("👨‍👩‍👧‍👦", "x", 2, nil, nil),
        ("👨‍👩‍👧‍👦", "sms", 11, "UCS-2", 1),
        ("👨‍👩‍👧‍👦", "linkedin", 11, nil, nil),
        // A flag (two regional indicators) and a skin tone (base + modifier): 2 on X, 4 UTF-16 units.
        ("🇳🇴", "x", 2, nil, nil),
        ("🇳🇴", "sms", 4, "UCS-2", 1),
        ("👍🏽", "x", 2, nil, nil),
        ("👍🏽", "instagram", 4, nil, nil),
        ("Takk 👍🏽🇳🇴", "x", 5 + 2 + 2, nil, nil),
        // A URL weighs 23 on X whatever its length; elsewhere every character counts.
        ("Les mer: https://www.example.no/nyheter/2025/10/24/en-veldig-lang-sti", "x", 9 + 23, nil, nil),
        ("Les mer: https://www.example.no/a", "sms", 33, "GSM-7", 1),
        ("Les mer på https://blåbær.no/om «her»", "x", 11 + 23 + 6, nil, nil),
        // SMS boundaries: 160 septets in one message; then parts of 153.
        (String(repeating: "a", count: 160), "sms", 160, "GSM-7", 1),
        (String(repeating: "a", count: 161), "sms", 161, "GSM-7", 2),
        (String(repeating: "a", count: 159) + "€", "sms", 161, "GSM-7", 2),
        (String(repeating: "a", count: 306), "sms", 306, "GSM-7", 2),
        (String(repeating: "a", count: 307), "sms", 307, "GSM-7", 3),
        // UCS-2: 70 in one message, then parts of 67.
        ("«" + String(repeating: "a", count: 69), "sms", 70, "UCS-2", 1),
        ("«" + String(repeating: "a", count: 70), "sms", 71, "UCS-2", 2),
        ("«" + String(repeating: "a", count: 133), "sms", 134, "UCS-2", 2),
        ("«" + String(repeating: "a", count: 134), "sms", 135, "UCS-2", 3),
        // An emoji is never split across parts: 66 units, then 2 that do not fit the first part's 67.
        ("«" + String(repeating: "a", count: 65) + "😀" + String(repeating: "b", count: 10), "sms", 78, "UCS-2", 2),
    ]

    @Test("Golden vectors: Norwegian text, emoji sequences, URLs and SMS encodings per channel",
          arguments: vectors.indices)
    func golden(_ i: Int) {
        let (text, channel, count, encoding, segments) = Self.vectors[i]
        let m = ChannelLength.measure(text, channel: channel)
        #expect(m.count == count, "\(text) on \(channel)")
        #expect(m.encoding == encoding, "\(text) on \(channel)")
        #expect(m.segments == segments, "\(text) on \(channel)")
    }

    static let norwegian = "«Dette vet vi» – en ansatt har publisert et innlegg. Vi undersøker saken og kommer tilbake "
        + "med mer informasjon i løpet av dagen. Neste oppdatering kl. 14."

    static func spec(_ checks: StatementChecksSpec, channels: [String] = ["sms", "x"]) -> StatementSpec {
        var s = StatementSpec(
            template: loc("templates/post"), channels: channels.map { ChannelSpec(id: $0) },
            facts: [FactSpec(name: "what_we_know", prompt: "Known")],
            approval: ApprovalSpec(roles: [loc("legal")]))
        s.checks = checks
        return s
    }

    @Test("A Norwegian SMS with « » and – is flagged against gsm7 and one segment, with its measure")
    func smsLimits() {
        let checks = StatementChecksSpec(limits: ["sms": ChannelLimits(sms: SMSLimit(encoding: .gsm7, maxSegments: 1))])
        let result = StatementChecks.evaluate(
            checks, declared: [:], texts: [CheckedText(language: "nb", channels: ["sms", "x"], text: Self.norwegian)])
        let sms = result.measures.first { $0.channel == "sms" }
        #expect(sms?.encoding == "UCS-2")
        #expect(sms?.count == Self.norwegian.utf16.count)
        #expect(sms?.segments == 3)
        #expect(sms?.summary == "3 SMS messages (UCS-2, \(Self.norwegian.utf16.count) utf16 units)")
        #expect(result.measures.first { $0.channel == "x" }?.limit == 280)
        #expect(result.findings == [
            CheckFinding(check: .smsEncoding, language: "nb", channel: "sms", rule: "gsm7", found: "UCS-2 (« is not GSM-7)"),
            CheckFinding(check: .maxSegments, language: "nb", channel: "sms", rule: "1", found: "3 messages (UCS-2)"),
        ])
        #expect(result.findings.map(\.summary) == [
            "nb on sms: UCS-2 (« is not GSM-7), but encoding gsm7 is required", "nb on sms: 3 messages (UCS-2), over max_segments 1",
        ])
        // The same text in plain GSM-7 within one message passes.
        let plain = StatementChecks.evaluate(
            checks, declared: [:], texts: [CheckedText(language: "nb", channels: ["sms"], text: "Vi undersøker saken.")])
        #expect(plain.findings.isEmpty)
        #expect(plain.measures == [DraftMeasure(channel: "sms", language: "nb", count: 20, unit: "gsm7-septets",
                                                 encoding: "GSM-7", segments: 1)])
    }

    @Test("max_length: the playbook's channel limit, the statement's per-channel limit, the statement's ceiling")
    func maxLength() {
        let declared = ["x": ChannelLimits(maxLength: 200), "website": ChannelLimits(maxLength: 100)]
        let checks = StatementChecksSpec(maxLength: Located(150, at: .unknown), limits: ["x": ChannelLimits(maxLength: 250)])
        #expect(StatementChecks.limits(checks, declared: declared, channel: "x").maxLength == 150)
        #expect(StatementChecks.limits(checks, declared: declared, channel: "website").maxLength == 100)
        #expect(StatementChecks.limits(StatementChecksSpec(), declared: declared, channel: "X").maxLength == 200)
        let text = String(repeating: "ø", count: 120) + " https://example.no/" + String(repeating: "x", count: 40)
        let r = StatementChecks.evaluate(
            checks, declared: declared, texts: [CheckedText(language: "en", channels: ["x", "website"], text: text)])
        // X: 120 + 1 + 23 = 144 weighted characters, under 150; the website counts all 180 characters, over 100.
        #expect(r.measures.map(\.count) == [144, 180])
        #expect(r.findings == [CheckFinding(check: .maxLength, language: "en", channel: "website", rule: "100",
                                            found: "180 characters")])
        #expect(r.findings[0].summary == "en on website: 180 characters, over max_length 100")
    }

    @Test("Content checks: phrases as whole words after NFC and case folding, regular expressions case-insensitive")
    func content() {
        let p = { (s: String) in ContentPattern(s) }
        // NFC: a decomposed ø in the text matches a precomposed one in the pattern, and the other way round.
        #expect(StatementChecks.match(p("på"), in: "Vi kommer PA\u{030A} mandag") == "på")
        #expect(StatementChecks.match(p("pa\u{030A} mandag"), in: "Vi kommer på MANDAG") == "på mandag")
        #expect(StatementChecks.match(p("Dette vet vi"), in: "«DETTE VET VI»: noe") == "dette vet vi")
        // Full case folding: ß is ss.
        #expect(StatementChecks.match(p("Straße"), in: "STRASSE 1") != nil)
        // Whole words: 'skyld' is not in 'uskyldig'; a regular expression may match inside words.
        #expect(StatementChecks.match(p("skyld"), in: "Vi er uskyldige.") == nil)
        #expect(StatementChecks.match(p("skyld"), in: "Det er vår skyld.") == "skyld")
        #expect(StatementChecks.match(p("/skyld/"), in: "Vi er uskyldige.") == "skyld")
        #expect(StatementChecks.match(p("/neste oppdatering kl\\.? \\d{2}/"), in: Self.norwegian) == "Neste oppdatering kl. 14")
        #expect(StatementChecks.match(p("/^«dette/"), in: Self.norwegian) == "«Dette")
        #expect(StatementChecks.match(p("👍🏽"), in: "Takk 👍🏽!") == "👍🏽")
        #expect(StatementChecks.match(p("👍"), in: "Takk 👍🏽!") == nil)  // a skin tone makes another character
        #expect(StatementChecks.compileError(p("/(unclosed/")) != nil)
        #expect(StatementChecks.compileError(p("/ok+/")) == nil)
        #expect(StatementChecks.compileError(p("(not a regex")) == nil)

        let checks = StatementChecksSpec(
            mustInclude: ContentRules(byLanguage: ["nb": [p("Dette vet vi")], "en": [p("What we know")]]),
            mustNotInclude: ContentRules(everyLanguage: [p("/skyld(ig)?|guilt(y)?/"), p("lawsuit")]))
        let r = StatementChecks.evaluate(checks, declared: [:], texts: [
            CheckedText(language: "nb", channels: ["x"], text: "Dette vet vi: han er skyldig."),
            CheckedText(language: "en", channels: ["x"], text: "This is our statement. No lawsuit."),
        ])
        #expect(r.findings == [
            CheckFinding(check: .mustNotInclude, language: "nb", rule: "/skyld(ig)?|guilt(y)?/", found: "skyldig"),
            CheckFinding(check: .mustInclude, language: "en", rule: "What we know"),
            CheckFinding(check: .mustNotInclude, language: "en", rule: "lawsuit", found: "lawsuit"),
        ])
        #expect(r.failureSummary == "3 checks fail: nb: holds must_not_include /skyld(ig)?|guilt(y)?/ (\"skyldig\"); "
            + "en: lacks must_include \"What we know\"; en: holds must_not_include \"lawsuit\"")
    }

    // MARK: engine

    static let failing = { () -> RenderedStatement in
        var r = RenderedStatement(texts: ["nb": "Hei – «sak»", "en": "Hi"], sha256: "bbb")
        r.checks = DraftChecks(
            measures: [DraftMeasure(channel: "sms", language: "nb", count: 11, unit: "utf16-units", encoding: "UCS-2", segments: 1)],
            findings: [CheckFinding(check: .smsEncoding, language: "nb", channel: "sms", rule: "gsm7", found: "UCS-2 (– is not GSM-7)"),
                       CheckFinding(check: .mustInclude, language: "en", rule: "What we know")])
        return r
    }()

    func drafted() -> (Driver, [EngineAction]) {
        var d = Driver(definition(EngineStatementTests.pb(channels: ["sms", "website"]), inputs: EngineStatementTests.inputs))
        let actions = d.draft("statement", EngineStatementTests.facts, Self.failing)
        return (d, actions)
    }

    @Test("A draft failing checks records them and the measures, and offers an override on approve")
    func draftRecordsFindings() throws {
        let (d, actions) = drafted()
        guard case .statement(let s)? = d.state.run("statement")?.detail else { Issue.record("no statement"); return }
        #expect(s.current?.checks == Self.failing.checks)
        // The draft line of the command's output, `log` and the board name them (the shell renders them from the
        // draft); the engine adds no reminder of its own.
        #expect(!actions.contains { if case .remind = $0 { true } else { false } })
        let approve = try #require(Engine.availableActions(for: "statement", in: d.state).first { $0.name == "approve" })
        #expect(approve.title == "Approve revision 1 (2 checks fail: an override reason is needed)")
        #expect(approve.fields.map(\.name) == ["comment", "override"])
    }

    @Test("Approval of a failing revision is refused without an override reason; with one it is recorded")
    func overrideNeeded() {
        var (d, _) = drafted()
        let refused = d.refuseAct("statement", "approve", ["comment": "fine"], as: lars)
        #expect(refused.code == .unmetChecks)
        #expect(refused.message.hasPrefix("revision 1: 2 checks fail: nb on sms: UCS-2"))
        #expect(refused.hint == .fieldMissing(name: "override", type: .text, allowed: []))
        #expect(d.refuseAct("statement", "approve", ["override": "  "], as: lars).code == .unmetChecks)
        // A rejection needs no override.
        d.act("statement", "approve", ["override": "The SMS goes as UCS-2; English is a translation"], as: lars)
        guard case .statement(let s)? = d.state.run("statement")?.detail else { Issue.record("no statement"); return }
        #expect(s.phase == .approved)
        #expect(s.decisions.last?.override == "The SMS goes as UCS-2; English is a translation")
        #expect(s.decisions.last?.approved == true)
    }

    @Test("A clean revision needs no override, offers none, and rejections never need one")
    func cleanRevision() {
        var (d, _) = drafted()
        d.act("statement", "reject", ["reason": "fix the SMS"], as: lars)
        d.draft("statement", EngineStatementTests.facts, EngineStatementTests.rendered)
        let approve = Engine.availableActions(for: "statement", in: d.state).first { $0.name == "approve" }
        #expect(approve?.fields.map(\.name) == ["comment"])
        #expect(d.refuseAct("statement", "approve", ["override": "x"], as: lars).code == .unknownField)
        d.act("statement", "approve", as: lars)
        guard case .statement(let s)? = d.state.run("statement")?.detail else { Issue.record("no statement"); return }
        #expect(s.phase == .approved)
        #expect(s.decisions.last?.override == nil)
    }

    @Test("The shell's evaluation of a statement spec gives what the engine records")
    func evaluateSpec() {
        var pb = EngineStatementTests.pb(channels: ["sms", "x"])
        pb.channels = ["sms": ChannelLimits(sms: SMSLimit(encoding: .gsm7, maxSegments: 1))]
        guard case .holdingStatement(var spec)? = pb.step("statement")?.kind else { Issue.record("no spec"); return }
        spec.checks.mustNotInclude = ContentRules(byLanguage: ["en": [ContentPattern("/guilt/")]])
        let checks = StatementChecks.evaluate(spec, in: pb, texts: ["nb": Self.norwegian, "en": "Not guilty."])
        #expect(checks.measures.map { "\($0.channel).\($0.language)" } == ["sms.nb", "x.nb", "sms.en", "x.en"])
        #expect(checks.findings.map(\.check) == [.smsEncoding, .maxSegments, .mustNotInclude])
    }
}
