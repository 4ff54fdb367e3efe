import CrisisCore
import Testing

@Suite("Engine: holding_statement")
struct EngineStatementTests {
    static func pb(quorum: Int = 1, maxRevisions: Int = 2, channels: [String] = ["x", "website"]) -> Playbook {
        let spec = StatementSpec(
            template: loc("templates/post"), channels: channels.map { ChannelSpec(id: $0) },
            facts: [
                FactSpec(name: "what_we_know", prompt: "Known"),
                FactSpec(name: "next_update_at", prompt: "Next update", type: .string, required: false),
            ],
            approval: ApprovalSpec(
                roles: [loc("legal")], quorum: quorum, timeout: dur("30m"), fallbackRoles: [loc("lead")],
                excludeInput: loc("conflicted")),
            maxRevisions: maxRevisions)
        return playbook(
            [
                step(
                    "statement", .holdingStatement(spec), role: "comms", timeout: "60m",
                    next: ["published": "fin", "rejected": "gave_up", "timeout": "gave_up"]),
                end("fin", "resolved"), end("gave_up", "unresolved"),
            ], languages: ["nb", "en"])
    }

    static let inputs = ["conflicted": "Ola Nordmann, PER\r\n  erik "]
    static let facts = ["what_we_know": "A fake account posted a statement."]
    static let rendered = RenderedStatement(texts: ["nb": "Hei", "en": "Hi"], sha256: "aaa")
    static let lars2 = Actor(name: "liv", role: "legal")

    func statement(_ d: Driver) -> StatementRun? {
        guard case .statement(let s) = d.state.run("statement")?.detail else { return nil }
        return s
    }

    func drafted(quorum: Int = 1, maxRevisions: Int = 2) -> Driver {
        var d = Driver(definition(Self.pb(quorum: quorum, maxRevisions: maxRevisions), inputs: Self.inputs))
        d.draft("statement", Self.facts, Self.rendered)
        return d
    }

    @Test("Draft offers the facts only; the texts come rendered with drafted; only draft is possible at first")
    func draftSpec() {
        let d = Driver(definition(Self.pb(), inputs: Self.inputs))
        let specs = Engine.availableActions(for: "statement", in: d.state)
        #expect(specs.map(\.name) == ["draft"])
        // Text facts of a bilingual statement are asked once per language.
        #expect(specs[0].fields.map(\.name) == ["what_we_know.nb", "what_we_know.en", "next_update_at.nb", "next_update_at.en"])
        #expect(specs[0].fields.map(\.required) == [true, true, false, false])
        #expect(specs[0].roles == ["comms", "lead"])
        let noEnglish = RenderedStatement(texts: ["nb": "Hei"], sha256: "aaa")
        let incomplete = d.refuse(.drafted(step: "statement", facts: Self.facts, statement: noEnglish, actor: kari))
        #expect(incomplete.code == .incompleteStatement)
        #expect(incomplete.message == "the draft of 'statement' lacks the text in en")
        let noHash = RenderedStatement(texts: ["nb": "Hei", "en": "Hi"], sha256: "")
        #expect(d.refuse(.drafted(step: "statement", facts: Self.facts, statement: noHash, actor: kari)).code == .incompleteStatement)
        // The shell must render first: a plain draft action on a statement is refused, whatever its fields.
        #expect(d.refuseAct("statement", "draft", Self.facts).code == .unrenderedDraft)
        let noFact = d.refuse(.drafted(step: "statement", facts: [:], statement: Self.rendered, actor: kari))
        #expect(noFact.code == .missingField)
        #expect(noFact.hint == .fieldMissing(name: "what_we_know.nb", type: .text, allowed: []))
        let early = d.refuseAct("statement", "approve", as: lars)
        #expect(early.code == .actionUnavailable)
        #expect(early.message == "action 'approve' is not possible on 'statement' now (statement is drafting); available now: draft")
    }

    @Test("A draft records revision 1 awaiting approval and arms the fallback timer once")
    func draft() {
        var d = Driver(definition(Self.pb(), inputs: Self.inputs))
        #expect(d.draft("statement", Self.facts, Self.rendered).isEmpty)
        let s = statement(d)
        #expect(s?.phase == .awaitingApproval)
        #expect(
            s?.current
                == StatementDraft(
                    revision: 1, facts: ["what_we_know": "A fake account posted a statement."],
                    texts: ["nb": "Hei", "en": "Hi"], sha256: "aaa", drafter: "kari", at: t0))
        #expect(d.timer(.approvalFallback)?.due == t0 + dur("30m"))
        d.draft("statement", Self.facts, Self.rendered)
        #expect(d.state.timers.filter { $0.purpose == .approvalFallback }.count == 1)
        #expect(statement(d)?.current?.revision == 2)
        let specs = Engine.availableActions(for: "statement", in: d.state)
        #expect(specs.map(\.name) == ["draft", "approve", "reject"])
        #expect(specs[1].roles == ["legal"])
        #expect(specs[0].fields[0].defaultValue == "A fake account posted a statement.")
    }

    @Test("Approval: drafter, conflicted people, wrong roles and double decisions are refused")
    func approvalRefusals() {
        let d = drafted()
        let own = d.refuseAct("statement", "approve", as: Actor(name: "Kari", role: "legal"))
        #expect(own.code == .ownDraft)
        #expect(own.message == "Kari drafted revision 1 and may not approve it; another approver must decide")
        let conflicted = d.refuseAct("statement", "approve", as: Actor(name: "per", role: "legal"))
        #expect(conflicted.code == .conflictedApprover)
        #expect(conflicted.message == "per is listed in 'conflicted' as conflicted and may not decide on this statement")
        #expect(d.refuseAct("statement", "approve", as: Actor(name: "Erik", role: "legal")).code == .conflictedApprover)
        #expect(d.refuseAct("statement", "approve", as: Actor(name: "ola nordmann", role: "legal")).code == .conflictedApprover)
        let lead = d.refuseAct("statement", "approve", as: lena)
        #expect(lead.code == .wrongRole)
        #expect(d.refuseAct("statement", "approve", as: Actor(name: "x")).code == .roleRequired)
        #expect(d.refuseAct("statement", "approve", ["_sha256": "bbb"], as: lars).code == .unknownField)
    }

    @Test("Quorum 2 needs two distinct approvers of the same revision")
    func quorum() {
        var d = drafted(quorum: 2)
        let before = d.state
        d.act("statement", "approve", ["comment": "fine"], as: lars)
        // One decision recorded (and its comment, for later texts), nothing else: no phase change, no timer, no
        // delivery.
        expectChanges(from: before, to: d.state,
                      only: ["active[0].progress.statement.1.decisions[0]", "recordedFields[statement]"])
        #expect(statement(d)?.phase == .awaitingApproval)
        #expect(d.refuseAct("statement", "approve", as: lars).code == .alreadyDecided)
        d.act("statement", "approve", as: Self.lars2)
        #expect(statement(d)?.phase == .approved)
        #expect(
            statement(d)?.decisions
                == [
                    ApprovalRecord(
                        person: "lars", role: "legal", revision: 1, sha256: "aaa", approved: true, reason: "fine", at: t0),
                    ApprovalRecord(person: "liv", role: "legal", revision: 1, sha256: "aaa", approved: true, reason: nil, at: t0),
                ])
        #expect(d.available("statement") == ["draft", "publish"])
    }

    @Test("A new draft voids earlier approvals")
    func newDraftVoids() {
        var d = drafted(quorum: 2)
        d.act("statement", "approve", as: lars)
        d.draft("statement", Self.facts, RenderedStatement(texts: ["nb": "Hei", "en": "Hi"], sha256: "bbb"))
        d.act("statement", "approve", as: Self.lars2)
        #expect(statement(d)?.phase == .awaitingApproval)
        d.act("statement", "approve", as: lars)
        #expect(statement(d)?.phase == .approved)
        #expect(statement(d)?.decisions.last?.sha256 == "bbb")
    }

    @Test("Fallback roles may approve once the approval window has passed")
    func fallback() {
        var d = drafted()
        #expect(d.refuseAct("statement", "approve", as: lena).code == .wrongRole)
        let actions = d.fireNext()
        #expect(
            actions == [
                .remind(
                    step: "statement",
                    message: "the statement on 'statement' has waited 30m for approval; fallback roles may now approve too: lead")
            ])
        #expect(statement(d)?.fallbackOpen == true)
        d.act("statement", "approve", as: lena)
        #expect(statement(d)?.phase == .approved)
    }

    @Test("Reject needs a reason, returns to drafting, and max_revisions rejections exit rejected")
    func reject() {
        var d = drafted(maxRevisions: 2)
        #expect(d.refuseAct("statement", "reject", as: lars).code == .missingField)
        #expect(d.act("statement", "reject", ["reason": "too vague"], as: lars).isEmpty)
        #expect(statement(d)?.phase == .drafting)
        #expect(statement(d)?.decisions.last?.approved == false)
        #expect(d.available("statement") == ["draft"])
        d.draft("statement", Self.facts, Self.rendered)
        let actions = d.act("statement", "reject", ["reason": "still vague"], as: lars)
        #expect(
            actions == [
                .exitStep(step: "statement", outcome: "rejected"), .enterStep(step: "gave_up", type: .end),
                .exitStep(step: "gave_up", outcome: "unresolved"), .close(outcome: "unresolved"),
            ])
        guard case .statement(let s) = d.state.history.first?.detail else {
            Issue.record("history keeps the statement detail")
            return
        }
        #expect(s.decisions.count == 2)
    }

    @Test("Publish delivers per channel; all sent -> published")
    func publish() {
        var d = drafted()
        d.act("statement", "approve", as: lars)
        let actions = d.act("statement", "publish", ["language": "en"])
        let x = Delivery(
            key: "INC-1/statement/publish/2", step: "statement", purpose: .publish, channel: "x", recipients: ["x"],
            text: "Hi")
        let web = Delivery(
            key: "INC-1/statement/publish/3", step: "statement", purpose: .publish, channel: "website",
            recipients: ["website"], text: "Hi")
        #expect(actions == [.deliver(x), .deliver(web)])
        #expect(statement(d)?.phase == .publishing)
        #expect(statement(d)?.publications == [
            StatementPublication(channel: "x", language: nil, key: x.key),
            StatementPublication(channel: "website", language: nil, key: web.key),
        ])
        #expect(d.state.deliveries.map(\.status) == [.pending, .pending])
        #expect(d.available("statement") == ["confirm_delivery"])
        #expect(d.send(.deliveryCompleted(key: x.key, result: .sent, detail: nil, actor: .system)).isEmpty)
        let done = d.send(.deliveryCompleted(key: web.key, result: .sandboxed, detail: "sandbox/1", actor: .system))
        #expect(done.prefix(1) == [.exitStep(step: "statement", outcome: "published")])
        #expect(d.state.status == .closed(outcome: "resolved"))
    }

    @Test("Publishing one channel at a time in the default language; a failed channel may be published again")
    func publishRetry() {
        var d = drafted()
        d.act("statement", "approve", as: lars)
        let first = d.act("statement", "publish", ["channel": "x"])
        guard case .deliver(let x) = first.first else {
            Issue.record("expected a delivery")
            return
        }
        #expect(x.text == "Hei")
        #expect(first.count == 1)
        #expect(Engine.availableActions(for: "statement", in: d.state).first?.fields.first?.values == ["website"])
        #expect(d.refuseAct("statement", "publish", ["channel": "x"]).code == .invalidField)
        let failed = d.send(.deliveryCompleted(key: x.key, result: .failed, detail: "HTTP 503", actor: .system))
        #expect(
            failed == [
                .remind(step: "statement", message: "publication on x failed; publish that channel (x) again")
            ])
        #expect(d.refuse(.deliveryCompleted(key: x.key, result: .sent, detail: nil, actor: .system)).code == .deliveryFinal)
        let again = d.act("statement", "publish")
        #expect(again.map { if case .deliver(let del) = $0 { del.channel } else { "" } } == ["x", "website"])
        #expect(statement(d)?.publication(channel: "x", language: nil)?.key != x.key)
    }

    @Test("Publishing by hand: manual -> confirm_delivery")
    func manualPublication() {
        var d = drafted()
        d.act("statement", "approve", as: lars)
        d.act("statement", "publish")
        let keys = d.state.deliveries.map(\.delivery.key)
        d.send(.deliveryCompleted(key: keys[0], result: .manual, detail: "no transport for x", actor: .system))
        #expect(d.state.deliveries[0].status == .manual)
        let confirm = Engine.availableActions(for: "statement", in: d.state).first { $0.name == "confirm_delivery" }
        #expect(confirm?.fields.first?.values == keys)
        #expect(confirm?.roles == [])
        d.act("statement", "confirm_delivery", ["key": keys[0], "result": "sent", "detail": "posted by Kari"], as: lars)
        #expect(d.state.deliveries[0].status == .sent)
        #expect(d.state.deliveries[0].detail == "posted by Kari")
        let actions = d.act("statement", "confirm_delivery", ["key": keys[1], "result": "sent"])
        #expect(actions.first == .exitStep(step: "statement", outcome: "published"))
        #expect(d.refuse(.deliveryCompleted(key: "nope", result: .sent, detail: nil, actor: .system)).code == .unknownDelivery)
    }
}
