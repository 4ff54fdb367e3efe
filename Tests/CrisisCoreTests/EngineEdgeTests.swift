import CrisisCore
import Testing

@Suite("Engine: edges")
struct EngineEdgeTests {
    @Test("availableActions: unknown and inactive instances have none; incident offers close to lead roles")
    func available() {
        let d = Driver(definition(playbook([task("a", next: ["done": "b"]), task("b", next: ["done": "fin"]), end("fin", "x")])))
        #expect(Engine.availableActions(for: "zzz", in: d.state).isEmpty)
        #expect(Engine.availableActions(for: "b", in: d.state).isEmpty)
        let close = Engine.availableActions(for: "incident", in: d.state)
        #expect(close.map(\.name) == ["close"])
        #expect(close.first?.roles == ["lead"])
        #expect(close.first?.fields.map(\.name) == ["outcome", "reason"])
        #expect(d.refuseAct("incident", "reopen", as: lena).code == .unknownAction)
    }

    @Test("Without lead roles anyone may close the incident")
    func closeWithoutLead() {
        var d = Driver(definition(playbook([task("a")], roles: [Role(id: "comms", title: "Comms")])))
        let actions = d.act("incident", "close", ["outcome": "resolved", "reason": "done"], as: Actor(name: "x"))
        #expect(actions == [.cancelStep(step: "a", reason: "incident closed"), .close(outcome: "resolved")])
    }

    @Test("A route to a step the playbook lacks closes the incident as unrouted")
    func missingTarget() {
        var d = Driver(definition(playbook([task("a", next: ["done": "ghost"])])))
        let actions = d.act("a", "done")
        #expect(
            actions == [
                .exitStep(step: "a", outcome: "done"),
                .remind(step: "ghost", message: "step 'ghost' does not exist in the playbook; the incident was closed as unrouted"),
                .close(outcome: "unrouted"),
            ])
    }

    @Test("Clock stop and check on a clock never started only remind")
    func clockNotStarted() {
        let gdpr = ClockSpec(id: "gdpr", title: "GDPR", duration: dur("72h"))
        let pb = playbook(
            [
                step("stop", .clock(ClockStepSpec(clock: loc("gdpr"), operation: .stop)), next: ["done": "check"]),
                step("check", .clock(ClockStepSpec(clock: loc("gdpr"), operation: .check)), next: ["done": "wait"]),
                task("wait"),
            ], clocks: [gdpr])
        let d = Driver(definition(pb))
        #expect(
            d.startActions == [
                .enterStep(step: "stop", type: .clock),
                .remind(step: "stop", message: "clock 'gdpr' is not running; nothing to stop"),
                .exitStep(step: "stop", outcome: "done"), .enterStep(step: "check", type: .clock),
                .remind(step: "check", message: "clock 'gdpr' (GDPR) has not been started"),
                .exitStep(step: "check", outcome: "done"), .enterStep(step: "wait", type: .task),
            ])
        #expect(d.state.clocks.isEmpty)
    }

    @Test("Escalation pages can be confirmed by hand; the escalation keeps waiting for an ack")
    func confirmPage() {
        let spec = EscalateSpec(levels: [EscalationLevel(targets: [loc(.role("legal"))], ackTimeout: dur("5m"))], message: "m")
        var d = Driver(definition(playbook([step("page", .escalate(spec), next: ["acknowledged": "fin", "exhausted": "fin"]), end("fin", "x")])))
        let key = "INC-1/page/page/0"
        #expect(d.available("page") == ["ack", "confirm_delivery"])
        #expect(d.act("page", "confirm_delivery", ["key": key, "result": "sent", "detail": "called"]).isEmpty)
        #expect(d.available("page") == ["ack"])
        #expect(d.activeIDs == ["page"])
    }

    @Test("A delivery handed to a watcher: pending, queued, claimed (sending), then its end; no hand settling while queued, no second claim")
    func queuedThenClaimed() {
        let spec = EscalateSpec(levels: [EscalationLevel(targets: [loc(.role("legal"))], ackTimeout: dur("5m"))], message: "m")
        var d = Driver(definition(playbook([step("page", .escalate(spec), next: ["acknowledged": "fin", "exhausted": "fin"]), end("fin", "x")])))
        let key = "INC-1/page/page/0"
        let status = { (d: Driver) in d.state.deliveries.first { $0.delivery.key == key }?.status }
        #expect(status(d) == .pending)
        // A claim needs a queued delivery: an intent with no result may have gone out (in doubt).
        #expect(d.refuse(.deliveryCompleted(key: key, result: .sending, detail: "claimed", actor: .system)).code == .deliveryQueued)
        #expect(d.send(.deliveryCompleted(key: key, result: .queued, detail: "queued for crisis watch (pid 7)", actor: .system)).isEmpty)
        #expect(status(d) == .queued)
        #expect(d.refuse(.deliveryCompleted(key: key, result: .queued, detail: nil, actor: .system)).code == .deliveryQueued)
        // A person may not settle what the watcher is about to send.
        let byHand = d.refuseAct("page", "confirm_delivery", ["key": key, "result": "sent"])
        #expect(byHand.code == .deliveryQueued)
        #expect(byHand.message.contains("queued for crisis watch (pid 7)"))
        #expect(d.send(.deliveryCompleted(key: key, result: .sending, detail: "claimed by crisis watch (pid 7 on h)", actor: .system)).isEmpty)
        #expect(status(d) == .sending)
        #expect(d.refuse(.deliveryCompleted(key: key, result: .sending, detail: nil, actor: .system)).code == .deliveryQueued)
        // Claimed and not ended is in doubt once its sender is gone: a person may settle it.
        #expect(d.act("page", "confirm_delivery", ["key": key, "result": "failed", "detail": "never answered"]).isEmpty)
        #expect(status(d) == .failed)
        #expect(d.refuse(.deliveryCompleted(key: key, result: .sent, detail: nil, actor: .system)).code == .deliveryFinal)
    }

    @Test("A late ack after the incident closed is refused as closed")
    func lateAckClosed() {
        let spec = EscalateSpec(levels: [EscalationLevel(targets: [loc(.person("kari"))], ackTimeout: dur("5m"))], message: "m")
        var d = Driver(definition(playbook([step("page", .escalate(spec), next: ["acknowledged": "fin", "exhausted": "fin"]), end("fin", "x")])))
        d.fireNext()
        #expect(d.state.status == .closed(outcome: "x"))
        #expect(d.refuseAct("page", "ack", ["by": "kari"]).code == .closed)
        #expect(d.send(.deliveryCompleted(key: "INC-1/page/page/0", result: .manual, detail: nil, actor: .system)).isEmpty)
        #expect(d.state.deliveries.first?.status == .manual)
    }

    @Test("Drafting a takedown notice may replace the URLs")
    func takedownURLs() {
        let spec = TakedownSpec(platform: .literal("facebook"), urls: .literal("https://fb.com/1"), basis: .termsOfService)
        var d = Driver(definition(playbook([step("t", .takedown(spec), next: ["removed": "fin"]), end("fin", "x")])))
        d.act("t", "draft", ["urls": "https://fb.com/1 https://fb.com/2", "explanation": "fake", "policy_reference": "4.2"])
        guard case .takedown(let t) = d.state.run("t")?.detail else {
            Issue.record("takedown detail")
            return
        }
        #expect(t.urls == ["https://fb.com/1", "https://fb.com/2"])
        #expect(t.status == .drafted)
        #expect(d.refuseAct("t", "draft", ["urls": "not a url"]).code == .invalidField)
        #expect(d.refuseAct("t", "removed").code == .actionUnavailable)
    }
}
