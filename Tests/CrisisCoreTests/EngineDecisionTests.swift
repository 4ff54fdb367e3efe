import CrisisCore
import Testing

/// Decisions as records: a rationale a choice requires, objections and who overrode them, a timeout that escalates
/// or reminds instead of deciding, a clock started by a decision, and the "considered / not applicable" register.
@Suite("Engine: decisions as records")
struct EngineDecisionTests {
    static let court = ClockSpec(id: "court", title: "Court filing", duration: dur("14d"))

    /// restore_or_sue (legal, 4h) -> fin; its timeout as given; `page_lead` a top-level task beside it.
    static func book(rationale: Bool = true, onTimeout: ChoiceTimeout? = .escalate(loc("page_lead")),
                     defaultOption: String? = nil, obligations: [ObligationSpec] = []) -> Playbook {
        var sue = ChoiceOption(id: "sue", label: "Go to court")
        sue.startsClock = loc("court")
        var spec = ChoiceSpec(options: [ChoiceOption(id: "restore", label: "Restore"), sue],
                              defaultOption: defaultOption.map(loc))
        spec.rationaleRequired = rationale
        spec.onTimeout = onTimeout
        let decide = step("restore_or_sue", .choice(spec), role: "legal", timeout: "4h",
                          next: ["restore": "fin", "sue": "fin"])
        let page = task("page_lead", role: "lead", timeout: "1h", next: ["done": "paged", "skipped": "paged", "timeout": "paged"])
        var pb = playbook([decide, page, end("paged", "paged"), end("fin", "decided")], clocks: [court])
        pb.obligations = obligations
        return pb
    }

    static let legal = Actor(name: "ola", role: "legal")

    @Test("A choice that requires a rationale refuses 'choose' without one and records it with the decision")
    func rationaleRequired() {
        var d = Driver(definition(Self.book()))
        let field = Engine.availableActions(for: "restore_or_sue", in: d.state).first?.fields.first { $0.name == "rationale" }
        #expect(field?.required == true)
        let refusal = d.refuseAct("restore_or_sue", "choose", ["option": "restore"], as: Self.legal)
        #expect(refusal.code == .missingField)
        #expect(refusal.message.contains("rationale"))
        #expect(d.state.decisions.isEmpty)
        d.advance("10m")
        d.act("restore_or_sue", "choose", ["option": "restore", "rationale": "The post is lawful"], as: Self.legal)
        #expect(d.state.decisions.count == 1)
        #expect(d.state.decisions.first?.option == "restore")
        #expect(d.state.decisions.first?.rationale == "The post is lawful")
        #expect(d.state.decisions.first?.by == "ola")
        #expect(d.state.decisions.first?.at == t0 + dur("10m"))
        #expect(d.state.status == .closed(outcome: "decided"))
    }

    @Test("An objection stands until a decision overrides it with a reason; who overrode which objection is recorded")
    func objectionThenOverride() {
        var d = Driver(definition(Self.book()))
        d.act("restore_or_sue", "object", ["reason": "Court brings the story back"], as: kari)
        #expect(d.activeIDs == ["restore_or_sue"])
        #expect(d.state.objections.map(\.by) == ["kari"])
        let refusal = d.refuseAct(
            "restore_or_sue", "choose", ["option": "sue", "rationale": "They refuse to restore"], as: Self.legal)
        #expect(refusal.code == .missingField)
        #expect(refusal.message.contains("override"))
        d.act("restore_or_sue", "choose",
              ["option": "sue", "rationale": "They refuse to restore", "override": "Counsel says the case is strong"],
              as: Self.legal)
        #expect(d.state.objections.first?.overriddenBy == "ola")
        #expect(d.state.objections.first?.overrideReason == "Counsel says the case is strong")
        #expect(d.state.decisions.first?.overrode == [0])
        #expect(d.state.decisions.first?.override == "Counsel says the case is strong")
    }

    @Test("A choice whose timeout escalates enters the escalation step and stays open: the timeout does not decide")
    func timeoutEscalates() {
        var d = Driver(definition(Self.book()))
        d.advance("4h")
        let actions = d.fireNext()
        #expect(actions.contains(.enterStep(step: "page_lead", type: .task)))
        #expect(!actions.contains { if case .exitStep = $0 { true } else { false } })
        #expect(Set(d.activeIDs) == ["restore_or_sue", "page_lead"])
        #expect(d.state.decisions.isEmpty)
        #expect(d.timer(.stepTimeout).map { $0.step } != "restore_or_sue")
        // The escalation ends on its own path; the incident and the choice go on.
        d.act("page_lead", "done", as: Actor(name: "anne", role: "lead"))
        #expect(d.state.status.isOpen)
        #expect(d.activeIDs == ["restore_or_sue"])
        d.act("restore_or_sue", "choose", ["option": "restore", "rationale": "Lead agreed"], as: Self.legal)
        #expect(d.state.status == .closed(outcome: "decided"))
    }

    @Test("A choice whose timeout reminds stays open and reminds again after each further timeout")
    func timeoutReminds() {
        var d = Driver(definition(Self.book(onTimeout: .remind("legal must decide"))))
        d.advance("4h")
        let first = d.fireNext()
        #expect(first.contains { if case .remind(_, let m) = $0 { m.contains("legal must decide") } else { false } })
        #expect(d.activeIDs == ["restore_or_sue"])
        #expect(d.timer(.stepTimeout)?.due == t0 + dur("8h"))
        d.advance("4h")
        #expect(d.fireNext().contains { if case .remind = $0 { true } else { false } })
        #expect(d.state.decisions.isEmpty)
    }

    @Test("A default taken on timeout is recorded as a decision by the engine")
    func defaultOnTimeoutRecorded() {
        var d = Driver(definition(Self.book(rationale: false, onTimeout: nil, defaultOption: "restore")))
        d.advance("4h")
        d.fireNext()
        #expect(d.state.decisions.first?.option == "restore")
        #expect(d.state.decisions.first?.by == Actor.system.name)
        #expect(d.outcome(of: "restore_or_sue") == Outcome.timeout)
    }

    @Test("An option with starts_clock starts the clock from the decision, and the clock records which decision")
    func decisionStartsClock() {
        var d = Driver(definition(Self.book()))
        d.advance("1h")
        let actions = d.act("restore_or_sue", "choose", ["option": "sue", "rationale": "No other way"], as: Self.legal)
        #expect(actions.contains(.startClock(id: "court", deadline: t0 + dur("1h") + dur("14d"))))
        let clock = d.state.clocks.first { $0.id == "court" }
        #expect(clock?.startedAt == t0 + dur("1h"))
        #expect(clock?.startedBy == ClockDecision(choice: "restore_or_sue", option: "sue", by: "ola"))
        #expect(d.state.decisions.first?.startedClock == "court")
    }

    @Test("The register records each obligation's decision and reason; a later decision replaces it; unknown ids are refused")
    func register() {
        let obligations = [
            ObligationSpec(id: "gdpr_art34", title: "GDPR Art. 34"), ObligationSpec(id: "nis2", title: "NIS2"),
        ]
        var d = Driver(definition(Self.book(obligations: obligations)))
        #expect(d.available(Engine.incidentStep).contains("consider"))
        d.act(Engine.incidentStep, "consider",
              ["obligation": "nis2", "decision": "not_applicable", "reason": "Not an essential entity"], as: kari)
        d.advance("1h")
        d.act(Engine.incidentStep, "consider",
              ["obligation": "gdpr_art34", "decision": "applies", "reason": "High risk to the people"], as: kari)
        d.act(Engine.incidentStep, "consider",
              ["obligation": "nis2", "decision": "applies", "reason": "We are a DNS provider after all"], as: kari)
        #expect(d.state.considerations.map(\.obligation) == ["gdpr_art34", "nis2"])
        #expect(d.state.considerations.map(\.applies) == [true, true])
        #expect(d.state.considerations.last?.reason == "We are a DNS provider after all")
        #expect(d.state.considerations.last?.at == t0 + dur("1h"))
        let refusal = d.refuseAct(
            Engine.incidentStep, "consider", ["obligation": "mar_art17", "decision": "applies", "reason": "x"], as: kari)
        #expect(refusal.code == .invalidField)
        // A playbook without obligations offers no register.
        #expect(!Driver(definition(Self.book())).available(Engine.incidentStep).contains("consider"))
    }
}
