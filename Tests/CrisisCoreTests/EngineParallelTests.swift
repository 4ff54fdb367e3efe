import CrisisCore
import Testing

@Suite("Engine: parallel")
struct EngineParallelTests {
    static func branch(_ id: String, unroutedSkip: Bool = false) -> Branch {
        let next = unroutedSkip ? ["done": "\(id)_ok"] : ["done": "\(id)_ok", "skipped": "\(id)_fail"]
        return Branch(
            id: id, start: loc("\(id)1"),
            steps: [task("\(id)1", next: next), end("\(id)_ok", "done"), end("\(id)_fail", "failed")])
    }

    static func pb(_ join: JoinPolicy, _ failure: BranchFailurePolicy = .waitAll, unroutedC: Bool = false) -> Playbook {
        let spec = ParallelSpec(
            branches: [branch("a"), branch("b"), branch("c", unroutedSkip: unroutedC)], join: join,
            onBranchFailure: failure)
        return playbook([
            step("respond", .parallel(spec), timeout: "4h", next: ["done": "fin", "failed": "bad", "timeout": "late"]),
            end("fin", "resolved"), end("bad", "failed_response"), end("late", "late"),
        ])
    }

    func branches(_ d: Driver) -> [String: BranchStatus] {
        guard case .parallel(let p) = d.state.run("respond")?.detail else { return [:] }
        return p.branches
    }

    @Test("Entry starts every branch in its scope")
    func entry() {
        let d = Driver(definition(Self.pb(.all)))
        #expect(
            d.startActions == [
                .enterStep(step: "respond", type: .parallel), .enterStep(step: "a1", type: .task),
                .enterStep(step: "b1", type: .task), .enterStep(step: "c1", type: .task),
            ])
        #expect(d.state.run("b1")?.scope == .branch(parallel: "respond", branch: "b"))
        #expect(branches(d) == ["a": .running, "b": .running, "c": .running])
        #expect(d.available("respond").isEmpty)
    }

    @Test("join all waits for every branch: done if none failed, else failed")
    func joinAll() {
        var d = Driver(definition(Self.pb(.all)))
        #expect(
            d.act("a1", "done") == [
                .exitStep(step: "a1", outcome: "done"), .enterStep(step: "a_ok", type: .end),
                .exitStep(step: "a_ok", outcome: "done"),
            ])
        var failing = d
        failing.act("b1", "skip", ["reason": "x"])
        #expect(branches(failing) == ["a": .done, "b": .failed, "c": .running])
        #expect(failing.activeIDs == ["respond", "c1"])
        #expect(failing.act("c1", "done").contains(.exitStep(step: "respond", outcome: "failed")))
        d.act("b1", "done")
        let last = d.act("c1", "done")
        #expect(last.suffix(5) == [
            .exitStep(step: "c_ok", outcome: "done"), .exitStep(step: "respond", outcome: "done"),
            .enterStep(step: "fin", type: .end), .exitStep(step: "fin", outcome: "resolved"), .close(outcome: "resolved"),
        ])
    }

    @Test("join any: the first done branch wins and the others are cancelled")
    func joinAny() {
        var d = Driver(definition(Self.pb(.any)))
        d.act("a1", "skip", ["reason": "x"])
        #expect(d.activeIDs == ["respond", "b1", "c1"])
        let actions = d.act("b1", "done")
        #expect(
            actions == [
                .exitStep(step: "b1", outcome: "done"), .enterStep(step: "b_ok", type: .end),
                .exitStep(step: "b_ok", outcome: "done"),
                .cancelStep(step: "c1", reason: "'respond' finished with outcome done"),
                .exitStep(step: "respond", outcome: "done"), .enterStep(step: "fin", type: .end),
                .exitStep(step: "fin", outcome: "resolved"), .close(outcome: "resolved"),
            ])
        guard case .parallel(let p) = d.state.history.first(where: { $0.instance == "respond" })?.detail else {
            Issue.record("history keeps the parallel run")
            return
        }
        #expect(p.branches == ["a": .failed, "b": .done, "c": .cancelled])
    }

    @Test("join any fails when every branch failed")
    func joinAnyAllFailed() {
        var d = Driver(definition(Self.pb(.any)))
        d.act("a1", "skip", ["reason": "x"])
        d.act("b1", "skip", ["reason": "x"])
        #expect(d.act("c1", "skip", ["reason": "x"]).contains(.exitStep(step: "respond", outcome: "failed")))
    }

    @Test("join count(2): done at two, failed as soon as two can no longer be reached")
    func joinCount() {
        var d = Driver(definition(Self.pb(.count(2))))
        d.act("a1", "done")
        var ok = d
        let actions = ok.act("c1", "done")
        #expect(actions.contains(.cancelStep(step: "b1", reason: "'respond' finished with outcome done")))
        #expect(actions.contains(.exitStep(step: "respond", outcome: "done")))
        d.act("b1", "skip", ["reason": "x"])
        #expect(d.activeIDs == ["respond", "c1"])
        #expect(d.act("c1", "skip", ["reason": "x"]).contains(.exitStep(step: "respond", outcome: "failed")))

        var early = Driver(definition(Self.pb(.count(3))))
        let failed = early.act("a1", "skip", ["reason": "x"])
        #expect(failed.contains(.cancelStep(step: "b1", reason: "'respond' finished with outcome failed")))
        #expect(failed.contains(.exitStep(step: "respond", outcome: "failed")))
    }

    @Test("fail_fast cancels the siblings at the first failed branch")
    func failFast() {
        var d = Driver(definition(Self.pb(.all, .failFast)))
        d.act("a1", "done")
        let actions = d.act("b1", "skip", ["reason": "x"])
        #expect(
            actions.prefix(5) == [
                .exitStep(step: "b1", outcome: "skipped"), .enterStep(step: "b_fail", type: .end),
                .exitStep(step: "b_fail", outcome: "failed"),
                .cancelStep(step: "c1", reason: "'respond' finished with outcome failed"),
                .exitStep(step: "respond", outcome: "failed"),
            ])
        #expect(d.state.status == .closed(outcome: "failed_response"))
    }

    @Test("An unrouted outcome inside a branch fails the branch")
    func unroutedBranch() {
        var d = Driver(definition(Self.pb(.all, unroutedC: true)))
        #expect(d.act("c1", "skip", ["reason": "x"]) == [.exitStep(step: "c1", outcome: "skipped")])
        #expect(branches(d)["c"] == .failed)
    }

    @Test("The parallel timeout cancels every branch")
    func timeout() {
        var d = Driver(definition(Self.pb(.all)))
        d.act("a1", "done")
        let actions = d.fireNext()
        #expect(
            actions.prefix(3) == [
                .cancelStep(step: "b1", reason: "'respond' finished with outcome timeout"),
                .cancelStep(step: "c1", reason: "'respond' finished with outcome timeout"),
                .exitStep(step: "respond", outcome: "timeout"),
            ])
        #expect(d.state.status == .closed(outcome: "late"))
        #expect(d.outcome(of: "b1") == "cancelled")
    }

    @Test("Closing the incident cancels branch steps and disarms their timers")
    func closeCancelsBranches() {
        var d = Driver(definition(Self.pb(.all)))
        let actions = d.act("incident", "close", ["outcome": "x", "reason": "y"], as: lena)
        #expect(actions.map { if case .cancelStep(let s, _) = $0 { s } else { "" } } == ["respond", "a1", "b1", "c1", ""])
        #expect(d.state.timers.isEmpty)
    }
}

@Suite("Engine: foreach")
struct EngineForeachTests {
    static func pb(tolerate: Int) -> Playbook {
        let body = step(
            "request",
            .takedown(
                TakedownSpec(
                    platform: .literal("x"), urls: .literal("{{item}}"), basis: .termsOfService,
                    prefill: ["explanation": "Fake account at {{url}} ({{inputs.company}})", "policy_reference": "impersonation"])),
            role: "legal", timeout: "1h")
        let spec = ForeachSpec(
            items: loc("post_urls"), itemName: "url", body: body, failedOutcomes: ["refused", "no_response", "timeout"],
            tolerateFailures: tolerate)
        return playbook([
            step("each", .foreach(spec), next: ["done": "fin", "failed": "bad"]), end("fin", "resolved"),
            end("bad", "failed"),
        ])
    }

    static let inputs = [
        "post_urls": "https://x.com/a\nhttps://x.com/b https://x.com/c", "company": "Example AS",
    ]

    func submit(_ d: inout Driver, _ n: Int) {
        d.act("each[\(n)]", "submit", as: lars)
    }

    @Test("One body instance per item, with the item substituted")
    func entry() {
        let d = Driver(definition(Self.pb(tolerate: 0), inputs: Self.inputs))
        #expect(
            d.startActions == [
                .enterStep(step: "each", type: .foreach), .enterStep(step: "each[1]", type: .takedown),
                .enterStep(step: "each[2]", type: .takedown), .enterStep(step: "each[3]", type: .takedown),
            ])
        let run = d.state.run("each[2]")
        #expect(run?.stepID == "request")
        #expect(run?.scope == .item(foreach: "each", index: 2, value: "https://x.com/b"))
        guard case .takedown(let t) = run?.detail else {
            Issue.record("takedown detail")
            return
        }
        #expect(t.urls == ["https://x.com/b"])
        #expect(t.notice["explanation"] == "Fake account at https://x.com/b (Example AS)")
        #expect(d.available("each[2]") == ["draft", "submit"])
        #expect(d.state.timers.filter { $0.purpose == .stepTimeout }.map(\.step) == ["each[1]", "each[2]", "each[3]"])
        #expect(d.refuseAct("each[4]", "submit", as: lars).code == .notActive)
    }

    @Test("Failures within tolerate_failures: done")
    func tolerated() {
        var d = Driver(definition(Self.pb(tolerate: 1), inputs: Self.inputs))
        for n in 1...3 { submit(&d, n) }
        d.act("each[1]", "refused", ["reason": "no violation"], as: lars)
        d.act("each[2]", "removed", as: lars)
        let actions = d.act("each[3]", "partially_removed", as: lars)
        #expect(
            actions == [
                .exitStep(step: "each[3]", outcome: "partially_removed"), .exitStep(step: "each", outcome: "done"),
                .enterStep(step: "fin", type: .end), .exitStep(step: "fin", outcome: "resolved"), .close(outcome: "resolved"),
            ])
        guard case .foreach(let f) = d.state.history.first(where: { $0.instance == "each" })?.detail else {
            Issue.record("history keeps the foreach")
            return
        }
        #expect(f.outcomes == [1: "refused", 2: "removed", 3: "partially_removed"])
    }

    @Test("Failures beyond tolerate_failures: failed (timeouts count)")
    func notTolerated() {
        var d = Driver(definition(Self.pb(tolerate: 1), inputs: Self.inputs))
        submit(&d, 2)
        d.act("each[2]", "removed", as: lars)
        d.fireNext()
        #expect(d.activeIDs == ["each", "each[3]"])
        let actions = d.fireNext()
        #expect(actions.prefix(2) == [.exitStep(step: "each[3]", outcome: "timeout"), .exitStep(step: "each", outcome: "failed")])
        #expect(d.state.status == .closed(outcome: "failed"))
    }

    @Test("Zero items: done at once")
    func empty() {
        let d = Driver(definition(Self.pb(tolerate: 0), inputs: ["post_urls": ""]))
        #expect(d.startActions.prefix(2) == [.enterStep(step: "each", type: .foreach), .exitStep(step: "each", outcome: "done")])
        #expect(d.state.status == .closed(outcome: "resolved"))
    }
}
