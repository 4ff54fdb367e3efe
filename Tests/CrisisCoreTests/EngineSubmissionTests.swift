import CrisisCore
import Testing

@Suite("Engine: regulatory submission")
struct EngineSubmissionTests {
    static let dpo = Actor(name: "dina", role: "dpo")
    static let spec = SubmissionSpec(
        authority: .literal("Datatilsynet"), legalBasis: loc("gdpr-art33"), phases: [.initial, .update, .final],
        content: SubmissionSpec.catalogContent("gdpr-art33") ?? [], stopsClock: loc("gdpr"))
    static let pb = playbook(
        [
            step("start_clock", .clock(ClockStepSpec(clock: loc("gdpr"), operation: .start)), next: ["done": "notify"]),
            step("notify", .submission(spec), role: "dpo", timeout: "72h", next: ["submitted": "fin", "timeout": "late"]),
            end("fin", "resolved"),
            end("late", "late"),
        ],
        roles: standardRoles + [Role(id: "dpo", title: "DPO")],
        targets: [TargetSpec(id: "notified", title: "Notified", step: loc("notify"), outcome: loc(""),
                             within: dur("72h"), reaches: loc("initial"))],
        clocks: [ClockSpec(id: "gdpr", title: "GDPR Art. 33", duration: dur("72h"), warnBefore: [dur("24h")])])

    static let facts = [
        "nature": "Names and e-mails of about 38 000 members", "contact_point": "dpo@example.no",
        "consequences": "Phishing", "measures": "File removed",
    ]

    func run(_ d: Driver) -> SubmissionRun? {
        if case .submission(let r)? = d.state.run("notify")?.detail { return r }
        if case .submission(let r)? = d.state.history.last(where: { $0.instance == "notify" })?.detail { return r }
        return nil
    }

    @Test("The catalog's GDPR Art. 33(3) list is the default content: (a)-(d) required, the delay reasons optional")
    func catalogContent() {
        let fields = Self.spec.content
        #expect(fields.map(\.name) == ["nature", "contact_point", "consequences", "measures", "delay_reasons"])
        #expect(fields.map(\.required) == [true, true, true, true, false])
        #expect(fields[0].prompt.hasPrefix("(a) nature of the breach"))
        #expect(SubmissionSpec.catalogContent("no-such-clock") == nil)
    }

    @Test("Submit is refused with the missing elements named, and the refusal changes nothing")
    func refusedWithMissingElement() {
        var d = Driver(definition(Self.pb))
        var partial = Self.facts
        partial["measures"] = nil
        d.act("notify", "draft", partial, as: Self.dpo)
        let before = d.state
        let r = d.refuseAct("notify", "submit", as: Self.dpo)
        #expect(r.code == .missingElements)
        #expect(r.hint == .elementsMissing(["measures"]))
        #expect(r.message.contains("the initial notice to Datatilsynet (gdpr-art33) cannot be submitted without: measures"))
        #expect(d.state == before)
        #expect(run(d)?.submissions.isEmpty == true)
        #expect(d.state.clocks.first?.status == .running)
    }

    @Test("Phases in order: initial stops the clock and meets the target, update, final finishes the step")
    func phasesInOrder() {
        var d = Driver(definition(Self.pb))
        #expect(d.available("notify") == ["draft", "submit"])
        d.act("notify", "draft", Self.facts, as: Self.dpo)
        d.advance("5h")
        d.act("notify", "submit", ["reference": "DT-2026-123"], as: Self.dpo)
        var r = run(d)
        #expect(r?.submissions.map(\.phase) == [.initial])
        #expect(r?.submissions.first?.content == Self.facts)
        #expect(r?.submissions.first?.reference == "DT-2026-123")
        #expect(d.state.clocks.first?.stoppedAt == d.now)
        #expect(d.state.targets.first?.status == .met(at: d.now))
        #expect(d.activeIDs == ["notify"])
        // After the initial notice: an update or the final one.
        let submit = Engine.availableActions(for: "notify", in: d.state).first { $0.name == "submit" }
        #expect(submit?.fields.first?.values == ["update", "final"])
        #expect(d.available("notify") == ["draft", "submit", "receipt"])
        // A phase not allowed now is refused.
        let initialAgain = d.refuseAct("notify", "submit", ["phase": "initial"], as: Self.dpo)
        #expect(initialAgain.code == .invalidField)
        d.act("notify", "draft", ["measures": "File removed; supplier access revoked"], as: Self.dpo)
        d.act("notify", "submit", ["phase": "update"], as: Self.dpo)
        d.act("notify", "submit", ["phase": "final"], as: Self.dpo)
        r = run(d)
        #expect(r?.submissions.map(\.phase) == [.initial, .update, .final])
        #expect(r?.submissions[1].content["measures"] == "File removed; supplier access revoked")
        #expect(r?.submissions[0].content["measures"] == "File removed")
        #expect(d.outcome(of: "notify") == "submitted")
        #expect(d.state.status == .closed(outcome: "resolved") || !d.state.status.isOpen)
    }

    @Test("The snapshot's canonical text is stable: sorted keys, escaped newlines")
    func snapshot() {
        let text = SubmissionEntry.canonicalText(
            authority: "Datatilsynet", legalBasis: "gdpr-art33", phase: .initial,
            content: ["nature": "two\nlines", "contact_point": "a\\b"])
        #expect(text == "authority: Datatilsynet\nlegal_basis: gdpr-art33\nphase: initial\ncontent.contact_point: a\\\\b\ncontent.nature: two\\nlines\n")
    }

    @Test("A receipt records the reference and the authority's deadline, which becomes the step's timeout")
    func receiptWithDeadline() {
        var d = Driver(definition(Self.pb))
        d.act("notify", "draft", Self.facts, as: Self.dpo)
        d.act("notify", "submit", as: Self.dpo)
        #expect(d.refuseAct("notify", "receipt", as: Self.dpo).code == .missingField)
        let deadline = at("2025-11-07T12:00:00+01:00")
        d.advance("1h")
        d.act("notify", "receipt", ["reference": "DT-2026-123", "deadline": "2025-11-07T12:00:00+01:00"], as: Self.dpo)
        let r = run(d)
        #expect(r?.submissions.last?.reference == "DT-2026-123")
        #expect(r?.submissions.last?.receivedAt == d.now)
        #expect(r?.submissions.last?.deadline == deadline)
        #expect(d.state.run("notify")?.dueAt == deadline)
        #expect(d.state.timers.filter { $0.step == "notify" && $0.purpose == .stepTimeout }.map(\.due) == [deadline])
        d.fireNext()
        #expect(d.now == deadline)
        #expect(d.outcome(of: "notify") == "timeout")
    }
}
