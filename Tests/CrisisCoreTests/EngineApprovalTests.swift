import CrisisCore
import Testing

@Suite("Engine: approval rules (all_of, final, inform, window per revision, spokesperson)")
struct EngineApprovalTests {
    static let roles = standardRoles + [
        Role(id: "head_of_comms", title: "Head of communications"), Role(id: "ceo", title: "CEO"),
        Role(id: "board", title: "Board liaison"),
    ]

    static let contacts = ContactsDirectory(people: [
        Person(id: "kari", name: "Kari Comms", roles: ["comms"]),
        Person(id: "hanne", name: "Hanne Head", roles: ["head_of_comms"]),
        Person(id: "lars", name: "Lars Legal", roles: ["legal"]),
        Person(id: "liv", name: "Liv Legal", roles: ["legal"]),
        Person(id: "cato", name: "Cato CEO", roles: ["ceo"]),
        Person(id: "bo", name: "Bo Board", roles: ["board"], channels: [ContactChannel(type: "email", address: "bo@example.com")],
               language: "nb"),
        Person(id: "bjorn", name: "Bjorn Board", roles: ["board"]),
    ])

    static func pb(_ approval: ApprovalSpec, spokesperson: String? = nil) -> Playbook {
        let spec = StatementSpec(
            template: loc("templates/post"), channels: [ChannelSpec(id: "website")],
            facts: [FactSpec(name: "what_we_know", prompt: "Known")], approval: approval, maxRevisions: 3,
            spokesperson: spokesperson.map { loc($0) })
        return playbook(
            [
                step(
                    "statement", .holdingStatement(spec), role: "comms", timeout: "4h",
                    next: ["published": "fin", "rejected": "fin", "timeout": "fin"]),
                end("fin", "resolved"),
            ], roles: roles, languages: ["en", "nb"])
    }

    static let facts = ["what_we_know": "A post."]
    static func text(_ n: Int) -> RenderedStatement {
        RenderedStatement(texts: ["en": "We know \(n).", "nb": "Vi vet \(n)."], sha256: "sha\(n)")
    }

    func run(_ d: Driver) -> StatementRun? {
        guard case .statement(let s) = d.state.run("statement")?.detail else { return nil }
        return s
    }

    static let hanne = Actor(name: "hanne", role: "head_of_comms")
    static let liv = Actor(name: "liv", role: "legal")
    static let cato = Actor(name: "cato", role: "ceo")

    @Test("all_of: two lawyers do not make up for the head of communications; one of each approves")
    func allOf() {
        let rule = ApprovalSpec(roles: [loc("legal"), loc("head_of_comms")], quorum: 2, allOf: [loc("head_of_comms"), loc("legal")])
        var d = Driver(definition(Self.pb(rule), contacts: Self.contacts))
        d.draft("statement", Self.facts, Self.text(1))
        d.act("statement", "approve", as: lars)
        d.act("statement", "approve", as: Self.liv)
        // Quorum 2 is met by two lawyers, but nobody approved as head of communications.
        #expect(run(d)?.phase == .awaitingApproval)
        let progress = Engine.approvalProgress(rule, decisions: run(d)?.decisions ?? [], revision: 1)
        #expect(progress.missing == ["an approval as 'head_of_comms'"])
        d.act("statement", "approve", as: Self.hanne)
        #expect(run(d)?.phase == .approved)
        // Each approval binds to the revision and the hash it approved.
        #expect(run(d)?.decisions.map(\.sha256) == ["sha1", "sha1", "sha1"])
        #expect(run(d)?.decisions.map(\.revision) == [1, 1, 1])
    }

    @Test("all_of alone: one approver per role, no quorum over a pool")
    func allOfAlone() {
        let rule = ApprovalSpec(roles: [], allOf: [loc("head_of_comms"), loc("legal")])
        var d = Driver(definition(Self.pb(rule), contacts: Self.contacts))
        d.draft("statement", Self.facts, Self.text(1))
        d.act("statement", "approve", as: Self.hanne)
        #expect(run(d)?.phase == .awaitingApproval)
        d.act("statement", "approve", as: lars)
        #expect(run(d)?.phase == .approved)
    }

    @Test("The final authority signs off last: refused before the rest is met, and needed to complete")
    func finalAuthority() {
        let rule = ApprovalSpec(roles: [loc("legal")], allOf: [loc("head_of_comms")], finalRole: loc("ceo"))
        var d = Driver(definition(Self.pb(rule), contacts: Self.contacts))
        d.draft("statement", Self.facts, Self.text(1))
        #expect(Engine.availableActions(for: "statement", in: d.state).first { $0.name == "approve" }?.roles
            == ["legal", "head_of_comms", "ceo"])
        let early = d.refuseAct("statement", "approve", as: Self.cato)
        #expect(early.code == .finalTooEarly)
        #expect(early.message == "'ceo' signs off last: revision 1 still needs 1 more approval, an approval as 'head_of_comms'")
        d.act("statement", "approve", as: lars)
        #expect(d.refuseAct("statement", "approve", as: Self.cato).code == .finalTooEarly)
        d.act("statement", "approve", as: Self.hanne)
        #expect(run(d)?.phase == .awaitingApproval)
        d.act("statement", "approve", as: Self.cato)
        #expect(run(d)?.phase == .approved)
        // The final authority may reject at any time.
        var r = Driver(definition(Self.pb(rule), contacts: Self.contacts))
        r.draft("statement", Self.facts, Self.text(1))
        r.act("statement", "reject", ["reason": "Too vague"], as: Self.cato)
        #expect(run(r)?.phase == .drafting)
    }

    @Test("Informed roles get the approved text as deliveries; a holder without a channel is not sent to")
    func informed() {
        let rule = ApprovalSpec(roles: [loc("legal")], inform: [loc("board")])
        var d = Driver(definition(Self.pb(rule), contacts: Self.contacts))
        d.draft("statement", Self.facts, Self.text(1))
        let actions = d.act("statement", "approve", as: lars)
        let sent = actions.compactMap { a -> Delivery? in if case .deliver(let x) = a { x } else { nil } }
        #expect(sent.count == 1)
        #expect(sent.first?.purpose == .inform)
        #expect(sent.first?.recipients == ["bo"])
        #expect(sent.first?.address == "bo@example.com")
        #expect(sent.first?.text == "Vi vet 1.")
        #expect(run(d)?.informed == sent.map(\.key))
        // Informed people do not approve: the board role may not decide.
        let approverRoles = Engine.availableActions(for: "statement", in: d.state).first { $0.name == "approve" }?.roles ?? []
        #expect(!approverRoles.contains("board"))
        // No one reachable: a reminder instead.
        var bare = Driver(definition(Self.pb(rule)))
        bare.draft("statement", Self.facts, Self.text(1))
        let reminded = bare.act("statement", "approve", as: lars)
        #expect(reminded.contains { if case .remind(_, let m) = $0 { m.contains("inform role 'board'") } else { false } })
    }

    @Test("The approval window counts from the current revision; the earlier window's timer is gone")
    func windowPerRevision() {
        let rule = ApprovalSpec(roles: [loc("legal")], timeout: dur("30m"), fallbackRoles: [loc("lead")])
        var d = Driver(definition(Self.pb(rule), contacts: Self.contacts))
        d.draft("statement", Self.facts, Self.text(1))
        let first = d.timer(.approvalFallback)
        #expect(first?.due == t0 + dur("30m"))
        d.advance("20m")
        d.act("statement", "reject", ["reason": "Say when"], as: lars)
        d.draft("statement", Self.facts, Self.text(2))
        let second = d.timer(.approvalFallback)
        #expect(second?.due == t0 + dur("50m"))
        #expect(d.state.timers.filter { $0.purpose == .approvalFallback }.count == 1)
        #expect(run(d)?.fallbackTimer == second?.id)
        // The stale timer of revision 1 can no longer fire.
        d.advance("15m")
        #expect(d.refuse(.timerFired(id: first?.id ?? "")).code == .unknownTimer)
        d.fireNext()
        #expect(d.now == t0 + dur("50m"))
        #expect(run(d)?.fallbackOpen == true)
        // A third revision closes the fallback again until its own window passes.
        d.draft("statement", Self.facts, Self.text(3))
        #expect(run(d)?.fallbackOpen == false)
        #expect(d.timer(.approvalFallback)?.due == t0 + dur("80m"))
    }

    @Test("Incidents opened before crisis/0.4 keep the window armed once, at the first draft")
    func windowFirstDraftOnly() {
        let rule = ApprovalSpec(roles: [loc("legal")], timeout: dur("30m"), fallbackRoles: [loc("lead")])
        var def = definition(Self.pb(rule), contacts: Self.contacts)
        def.legacyRules = true
        var d = Driver(def)
        d.draft("statement", Self.facts, Self.text(1))
        let first = d.timer(.approvalFallback)
        let serial = d.state.serial
        d.advance("20m")
        d.act("statement", "reject", ["reason": "Say when"], as: lars)
        d.draft("statement", Self.facts, Self.text(2))
        #expect(d.timer(.approvalFallback) == first)
        #expect(d.state.serial == serial)
        d.fireNext()
        #expect(d.now == t0 + dur("30m"))
        #expect(run(d)?.fallbackOpen == true)
    }

    @Test("An excluded approver named by display name is matched to the directory (not in incidents before crisis/0.4)")
    func excludedByName() {
        var rule = ApprovalSpec(roles: [loc("legal")])
        rule.excludeInput = loc("conflicted")
        let inputs = ["conflicted": "Liv Legal"]
        var d = Driver(definition(Self.pb(rule), inputs: inputs, contacts: Self.contacts))
        d.draft("statement", Self.facts, Self.text(1))
        let refused = d.refuseAct("statement", "approve", as: Self.liv)
        #expect(refused.code == .conflictedApprover)
        var legacy = definition(Self.pb(rule), inputs: inputs, contacts: Self.contacts)
        legacy.legacyRules = true
        var old = Driver(legacy)
        old.draft("statement", Self.facts, Self.text(1))
        old.act("statement", "approve", as: Self.liv)
        #expect(run(old)?.phase == .approved)
    }

    @Test("The spokesperson is the role's first holder until a handover, recorded with who and why")
    func spokesperson() {
        let rule = ApprovalSpec(roles: [loc("legal")])
        var d = Driver(definition(Self.pb(rule, spokesperson: "head_of_comms"), contacts: Self.contacts))
        guard case .statement(let spec, let s)? = d.state.run("statement")?.progress else {
            Issue.record("no statement")
            return
        }
        #expect(Engine.spokesperson(spec, s, contacts: Self.contacts) == "hanne")
        #expect(d.available("statement").contains("handover"))
        let unknown = d.refuseAct("statement", "handover", ["to": "hane"], as: kari)
        #expect(unknown.code == .invalidField)
        #expect(unknown.message.contains("did you mean 'hanne'?"))
        #expect(d.refuseAct("statement", "handover", ["to": "hanne"], as: kari).code == .invalidField)
        d.advance("5m")
        d.act("statement", "handover", ["to": "Cato CEO", "reason": "It reached the CEO"], as: kari)
        #expect(run(d)?.handovers == [
            SpokespersonHandover(from: "hanne", to: "cato", by: "kari", reason: "It reached the CEO", at: t0 + dur("5m"))
        ])
        if let s = run(d) { #expect(Engine.spokesperson(spec, s, contacts: Self.contacts) == "cato") }
        // Without a spokesperson role there is no handover.
        let plain = Driver(definition(Self.pb(rule), contacts: Self.contacts))
        #expect(!plain.available("statement").contains("handover"))
    }
}
