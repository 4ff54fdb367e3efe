import CrisisCore
import Testing

/// The takedown's later outcomes (restricted, labelled, pending, per-URL results, the DMCA counter-notice), the
/// give-up timer once the platform has answered, the authorisation record, and every basis refusing a notice
/// with an element missing.
@Suite("Engine: takedown outcomes")
struct EngineTakedownOutcomeTests {
    static let next = [
        "removed": "fin", "partially_removed": "fin", "refused": "fin", "appealed": "fin", "no_response": "fin",
        "restricted": "fin", "labelled": "fin", "restored": "fin", "timeout": "fin",
    ]
    static let filled: [String: String] = [
        "explanation": "It is ours", "notifier_name": "Example AS", "notifier_email": "legal@example.no",
        "notifier_address": "Storgata 1, Oslo", "notifier_phone": "+47 22 00 00 00", "signature": "/Kari Nordmann/",
        "copyrighted_work": "Our photo", "good_faith_statement": "true", "accuracy_under_perjury": "true",
        "affected_person": "Kari Nordmann", "authorisation": "Signed power of attorney",
        "impersonated_account": "@real", "policy_reference": "Rule 3", "trademark_registration": "EXAMPLE, EUTM 1",
        "abuse_type": "phishing", "evidence": "Headers attached", "search_terms": "Kari Nordmann",
        "citation": "åndsverkloven § 104",
    ]

    static func pb(_ basis: LegalBasis = .dmca512c3, authorisation: String? = nil, urls: String = "https://x.com/a/1")
        -> Playbook
    {
        let spec = TakedownSpec(
            platform: .literal("x"), urls: .literal(urls), basis: basis, submitterRoles: [loc("legal")],
            followUp: dur("24h"), giveUpAfter: dur("72h"), authorisationRecord: authorisation.map { loc($0) })
        var steps = [step("takedown", .takedown(spec), role: "legal", timeout: "2h", next: next), end("fin", "resolved")]
        if let authorisation {
            steps.insert(task(authorisation, role: "legal", timeout: "1h", next: ["done": "takedown", "timeout": "takedown"]), at: 0)
        }
        return playbook(steps)
    }

    /// The filled values of `basis`'s elements (a draft refuses fields its basis does not have).
    static func fields(_ basis: LegalBasis) -> [String: String] {
        filled.filter { key, _ in basis.requiredElements.contains { $0.rawValue == key } }
    }

    func run(_ d: Driver) -> TakedownRun? {
        guard case .takedown(let t) = d.state.run("takedown")?.detail else { return nil }
        return t
    }

    func submitted(_ basis: LegalBasis = .dmca512c3, urls: String = "https://x.com/a/1") -> Driver {
        var d = Driver(definition(Self.pb(basis, urls: urls)))
        d.act("takedown", "draft", Self.fields(basis), as: lars)
        d.act("takedown", "submit", as: lars)
        return d
    }

    @Test("Each basis refuses a notice with one element missing, naming it", arguments: LegalBasis.allCases)
    func missingElement(_ basis: LegalBasis) {
        for element in basis.requiredElements where element != .urls {
            var d = Driver(definition(Self.pb(basis)))
            var fields = Self.filled.filter { basis.requiredElements.map(\.rawValue).contains($0.key) }
            fields[element.rawValue] = nil
            d.act("takedown", "draft", fields, as: lars)
            let r = d.refuseAct("takedown", "submit", as: lars)
            #expect(r.code == .missingElements, "\(basis) without \(element)")
            #expect(r.message.contains("without: \(element.rawValue);"), "\(r.message)")
            // With it, the notice goes.
            d.act("takedown", "draft", [element.rawValue: Self.filled[element.rawValue] ?? "x"], as: lars)
            d.act("takedown", "submit", as: lars)
            #expect(run(d)?.status == .submitted)
        }
    }

    @Test("A statement is stored verbatim; `true` from older trails still counts; `false` does not")
    func statements() {
        var d = Driver(definition(Self.pb(.dmca512c3)))
        let text = "I have a good faith belief that this use is not authorised."
        d.act("takedown", "draft", Self.fields(.dmca512c3).merging(["good_faith_statement": text]) { $1 }, as: lars)
        #expect(run(d)?.notice["good_faith_statement"] == text)
        #expect(TakedownNotice.text(Self.pb().steps[0].kind.takedownSpec!, run(d)!).contains("\n\(text)"))
        d.act("takedown", "draft", ["accuracy_under_perjury": "false"], as: lars)
        #expect(d.refuseAct("takedown", "submit", as: lars).message.contains("without: accuracy_under_perjury;"))
        let field = Engine.availableActions(for: "takedown", in: d.state)[0].fields.first { $0.name == "accuracy_under_perjury" }
        #expect(field?.type == .text)
    }

    @Test("abuse_type takes phishing, malware or fraud")
    func abuseType() {
        var d = Driver(definition(Self.pb(.abuseReport)))
        #expect(d.refuseAct("takedown", "draft", ["abuse_type": "spam"], as: lars).code == .invalidField)
        d.act("takedown", "draft", ["abuse_type": "malware"], as: lars)
        #expect(run(d)?.notice["abuse_type"] == "malware")
    }

    @Test("restricted and labelled are outcomes, with what the platform said")
    func restrictedAndLabelled() {
        var d = submitted()
        #expect(d.available("takedown").contains("restricted") && d.available("takedown").contains("labelled"))
        #expect(d.act("takedown", "restricted", ["countries": "DE, FR"], as: lars).first
                == .exitStep(step: "takedown", outcome: "restricted"))
        #expect(d.outcome(of: "takedown") == "restricted")
        var e = submitted()
        e.act("takedown", "acknowledge", as: lars)
        #expect(e.act("takedown", "labelled", as: lars).first == .exitStep(step: "takedown", outcome: "labelled"))
    }

    @Test("pending: the platform's date replaces the give-up time; a reminder fires at that date")
    func pending() {
        var d = submitted()
        #expect(d.refuseAct("takedown", "pending", as: lars).code == .missingField)
        d.act("takedown", "pending", ["until": "2025-10-30T12:00:00Z"], as: lars)
        #expect(run(d)?.status == .pending)
        #expect(run(d)?.pendingUntil == at("2025-10-30T12:00:00Z"))
        #expect(d.timer(.noResponse) == nil, "the platform answered: no giving up")
        #expect(d.timer(.followUp)?.due == at("2025-10-30T12:00:00Z"))
        let fired = d.fireNext()
        #expect(fired == [.remind(step: "takedown",
                                  message: "takedown 'takedown' on x: the platform said it would decide by 2025-10-30 12:00 UTC; follow up with the platform")])
        #expect(d.timer(.followUp)?.due == at("2025-10-31T12:00:00Z"), "then every follow_up")
        #expect(d.act("takedown", "removed", as: lars).first == .exitStep(step: "takedown", outcome: "removed"))
    }

    @Test("Per-URL results: 3 of 5 removed ends partially_removed once every URL has one; all alike gives that")
    func perURL() {
        let urls = (1...5).map { "https://x.com/a/\($0)" }
        var d = submitted(urls: urls.joined(separator: " "))
        #expect(d.refuseAct("takedown", "url_result", ["url": "https://x.com/other", "result": "removed"], as: lars).code
                == .invalidField)
        for (i, url) in urls.enumerated() {
            let actions = d.act("takedown", "url_result", ["url": url, "result": i < 3 ? "removed" : "refused"], as: lars)
            if i < 4 { #expect(actions.isEmpty && run(d)?.urlResults.count == i + 1) }
            else { #expect(actions.first == .exitStep(step: "takedown", outcome: "partially_removed")) }
        }
        let record = d.state.history.last { $0.instance == "takedown" }
        guard case .takedown(let t)? = record?.detail else { Issue.record("no takedown detail"); return }
        #expect(t.history.last?.note == "per-URL results: 3 of 5 removed")
        #expect(t.resultByURL.map { $0.result?.result } == [.removed, .removed, .removed, .refused, .refused])

        var e = submitted(urls: urls[0] + " " + urls[1])
        e.act("takedown", "url_result", ["url": urls[0], "result": "refused"], as: lars)
        e.act("takedown", "url_result", ["url": urls[0], "result": "removed"], as: lars)  // corrected
        #expect(e.act("takedown", "url_result", ["url": urls[1], "result": "removed"], as: lars).first
                == .exitStep(step: "takedown", outcome: "removed"))
        #expect(TakedownStatusDerivation.derive([.labelled, .refused]) == "labelled")
    }

    @Test("DMCA counter-notice: the restore window is 10 to 14 US business days, holidays skipped")
    func counterNotice() {
        var d = submitted(.dmca512c3)
        // Received Wednesday 19 November 2025 (US Eastern): business days skip Thanksgiving (27 Nov).
        d.act("takedown", "counter_notice", ["received": "2025-11-19T15:00:00Z"], as: lars)
        let c = run(d)?.counterNotice
        #expect(run(d)?.status == .counterNoticed)
        // 10th business day after 19 Nov: 20,21,24,25,26,28 Nov,1,2,3,4 Dec -> 4 Dec; 14th -> 10 Dec (ends 11 Dec 00:00).
        #expect(c?.restoreFrom == at("2025-12-04T05:00:00Z"))
        #expect(c?.restoreBy == at("2025-12-11T05:00:00Z"))
        #expect(d.available("takedown") == ["restored", "removed"])
        #expect(d.timer(.noResponse) == nil)
        let fired = d.fireNext()
        #expect(fired.count == 1)
        if case .remind(_, let message)? = fired.first { #expect(message.contains("may restore the material from")) }
        #expect(d.act("takedown", "restored", as: lars).first == .exitStep(step: "takedown", outcome: "restored"))
        // Only under DMCA.
        let e = submitted(.dsaArt16)
        #expect(!e.available("takedown").contains("counter_notice"))
    }

    @Test("Once acknowledged, the give-up time reminds instead of ending no_response; still silent ends it")
    func acknowledgedThenGiveUp() {
        var d = submitted()
        d.act("takedown", "acknowledge", as: lars)
        // Fire the follow-ups and the give-up time (72h after submission).
        var fired: [EngineAction] = []
        while d.timer(.noResponse) != nil { fired += d.fireNext() }
        #expect(!fired.contains(.exitStep(step: "takedown", outcome: "no_response")))
        #expect(fired.contains { if case .remind(_, let m) = $0 { m.contains("acknowledged but the platform has not decided") } else { false } })
        #expect(d.state.run("takedown") != nil, "still waiting for the decision")
        #expect(run(d)?.status == .acknowledged)
        #expect(d.state.timers.contains { $0.purpose == .followUp }, "follow-ups go on")
        #expect(d.act("takedown", "refused", ["reason": "Not a violation"], as: lars).first
                == .exitStep(step: "takedown", outcome: "refused"))
        // A request never acknowledged still ends no_response.
        var e = submitted()
        var silent: [EngineAction] = []
        while e.timer(.noResponse) != nil { silent += e.fireNext() }
        #expect(silent.contains(.exitStep(step: "takedown", outcome: "no_response")))
    }

    @Test("An incident opened before crisis/0.4 replays as it ran: its give-up time ends even an acknowledged request")
    func legacyGiveUp() {
        var def = definition(Self.pb())
        def.legacyRules = true
        var d = Driver(def)
        d.act("takedown", "draft", Self.fields(.dmca512c3), as: lars)
        d.act("takedown", "submit", as: lars)
        d.act("takedown", "acknowledge", as: lars)
        var fired: [EngineAction] = []
        while d.timer(.noResponse) != nil { fired += d.fireNext() }
        #expect(fired.contains(.exitStep(step: "takedown", outcome: "no_response")))
    }

    @Test("An authorisation pointing at a step refuses submit until that step is done")
    func authorisationRecord() {
        var d = Driver(definition(Self.pb(.impersonation, authorisation: "consent")))
        d.act("consent", "done", as: lars)
        #expect(d.state.run("takedown") != nil)
        var fields = Self.fields(.impersonation)
        fields["authorisation"] = nil
        d.act("takedown", "draft", fields, as: lars)
        d.act("takedown", "submit", as: lars)
        #expect(run(d)?.status == .submitted)
        #expect(TakedownNotice.text(Self.pb(.impersonation, authorisation: "consent").steps[1].kind.takedownSpec!,
                                    run(d)!, authorisedBy: d.state.authorisationText(for: Self.pb(.impersonation, authorisation: "consent").steps[1].kind.takedownSpec!))
                .contains("Authorisation: recorded in step 'consent' (done)"))

        // Consent timed out: the takedown is entered but may not be submitted.
        var e = Driver(definition(Self.pb(.impersonation, authorisation: "consent")))
        e.fireNext()
        #expect(e.outcome(of: "consent") == "timeout")
        e.act("takedown", "draft", fields, as: lars)
        let r = e.refuseAct("takedown", "submit", as: lars)
        #expect(r.code == .authorisationMissing)
        #expect(r.message.contains("step 'consent'"))
        #expect(!Engine.availableActions(for: "takedown", in: e.state)[0].fields.contains { $0.name == "authorisation" })
    }
}

/// The derivation of per-URL results, reachable from tests through an outcome.
enum TakedownStatusDerivation {
    static func derive(_ results: [TakedownStatus]) -> String {
        let urls = results.indices.map { "https://x.com/a/\($0)" }
        let spec = TakedownSpec(platform: .literal("x"), urls: .literal(urls.joined(separator: " ")), basis: .termsOfService)
        var d = Driver(definition(playbook([
            step("takedown", .takedown(spec), role: "legal", timeout: "2h", next: EngineTakedownOutcomeTests.next),
            end("fin", "resolved"),
        ])))
        d.act("takedown", "draft", ["explanation": "x", "policy_reference": "y"], as: lars)
        d.act("takedown", "submit", as: lars)
        for (url, result) in zip(urls, results) { d.act("takedown", "url_result", ["url": url, "result": result.rawValue], as: lars) }
        return d.outcome(of: "takedown") ?? ""
    }
}

extension StepKind {
    var takedownSpec: TakedownSpec? {
        if case .takedown(let s) = self { return s }
        return nil
    }
}
