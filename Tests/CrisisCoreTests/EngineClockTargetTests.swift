import CrisisCore
import Testing

/// Clocks and targets that count from moments recorded during the run, deadlines set by an operator, targets met
/// by intermediate states, warnings and expiry that enter steps, and how clocks end.
@Suite("Engine: anchors, set_deadline, clock routes")
struct EngineClockTargetTests {
    static let gdpr = ClockSpec(id: "gdpr", title: "GDPR Art. 33", duration: dur("72h"), warnBefore: [dur("24h")])

    /// confirm (task with a time field) -> notify (task) -> fin.
    static func breach(targets: [TargetSpec] = [], clocks: [ClockSpec] = [gdpr], middle: [Step] = []) -> Playbook {
        let confirm = step(
            "confirm", .task(TaskSpec(fields: [FactSpec(name: "aware_at", prompt: "Aware at", type: .time, required: true)])),
            role: "comms", timeout: "4h", next: ["done": middle.first?.id ?? "notify", "skipped": "fin", "timeout": "fin"])
        var pb = playbook(
            [confirm] + middle + [task("notify", role: "comms", timeout: "72h", next: ["done": "fin", "skipped": "fin", "timeout": "fin"]), end("fin", "resolved")],
            targets: targets, clocks: clocks)
        pb.timeZone = "Europe/Oslo"
        return pb
    }

    static let fromField = TargetOrigin.run(.field(step: loc("confirm"), field: loc("aware_at")))
    static let fromOutcome = TargetOrigin.run(.outcome(step: loc("confirm"), outcome: loc("done")))

    @Test("A target counting from a recorded time field is not started until the field is recorded, then armed from it")
    func targetFromField() {
        let target = TargetSpec(
            id: "notified", title: "DPA told", step: loc("notify"), outcome: loc("done"), within: dur("72h"),
            from: Self.fromField)
        var d = Driver(definition(Self.breach(targets: [target])))
        #expect(d.state.targets.isEmpty)
        #expect(d.timer(.targetDeadline(target: "notified")) == nil)
        #expect(Engine.availableActions(for: "confirm", in: d.state).first?.fields.map(\.name) == ["aware_at", "note"])
        #expect(d.refuseAct("confirm", "done").code == .missingField)
        d.advance("30m")
        let before = d.state
        // Aware two hours before the incident was opened, in Oslo summer time.
        let actions = d.act("confirm", "done", ["aware_at": "2025-10-24T08:00+02:00"])
        #expect(actions == [.exitStep(step: "confirm", outcome: "done"), .enterStep(step: "notify", type: .task)])
        let aware = at("2025-10-24T06:00:00Z")
        #expect(d.state.targets.map(\.id) == ["notified"])
        #expect(d.state.targets.first?.origin == aware)
        #expect(d.state.targets.first?.due == aware + dur("72h"))
        #expect(d.timer(.targetDeadline(target: "notified"))?.due == aware + dur("72h"))
        expectChanges(
            from: before, to: d.state,
            only: ["active", "timers", "targets", "history[0]", "visits[notify]", "recordedFields[confirm]", "serial"])
        d.advance("1h")
        #expect(d.act("notify", "done").contains(.meetTarget(id: "notified", after: dur("3h30m"))))
    }

    @Test("A target counting from a step's outcome is armed when the step takes it; a later value does not move it")
    func targetFromOutcome() {
        let target = TargetSpec(
            id: "notified", title: "DPA told", step: loc("notify"), outcome: loc("done"), within: dur("1h"),
            from: Self.fromOutcome)
        var d = Driver(definition(Self.breach(targets: [target])))
        d.advance("20m")
        d.act("confirm", "done", ["aware_at": "2025-10-24T09:00+02:00"])
        #expect(d.state.targets.first?.origin == t0 + dur("20m"))
        #expect(d.state.targets.first?.due == t0 + dur("1h20m"))
        // The deadline passes before notify is done: missed by the timer, and not met afterwards.
        #expect(d.fireNext() == [.missTarget(id: "notified")])
        #expect(d.act("notify", "done") == [
            .exitStep(step: "notify", outcome: "done"), .enterStep(step: "fin", type: .end),
            .exitStep(step: "fin", outcome: "resolved"), .close(outcome: "resolved"),
        ])
        #expect(d.state.targets.first?.missed == true)
    }

    @Test("A clock step counts from a recorded field; without it, from now, and says so")
    func clockFromField() {
        let start = step(
            "start_clock", .clock(ClockStepSpec(clock: loc("gdpr"), operation: .start, anchor: .field(step: loc("confirm"), field: loc("aware_at")))),
            next: ["done": "notify"])
        var d = Driver(definition(Self.breach(middle: [start])))
        d.advance("1h")
        let actions = d.act("confirm", "done", ["aware_at": "2025-10-24T09:15+02:00"])
        let aware = at("2025-10-24T07:15:00Z")
        #expect(actions == [
            .exitStep(step: "confirm", outcome: "done"), .enterStep(step: "start_clock", type: .clock),
            .startClock(id: "gdpr", deadline: aware + dur("72h")), .exitStep(step: "start_clock", outcome: "done"),
            .enterStep(step: "notify", type: .task),
        ])
        #expect(d.state.clocks.first?.startedAt == aware)
        // The 24h warning speaks Oslo time (winter time by then: +01:00).
        #expect(d.fireNext() == [.remind(step: nil, message: "clock 'gdpr' (GDPR Art. 33): 24h left, deadline 2025-10-27 08:15 +01:00")])

        // The anchor's step skipped: nothing recorded, the clock counts from now.
        let skipStart = step(
            "start_clock", .clock(ClockStepSpec(clock: loc("gdpr"), operation: .start, anchor: .field(step: loc("notify"), field: loc("note")))),
            next: ["done": "notify"])
        var e = Driver(definition(Self.breach(middle: [skipStart])))
        e.advance("2h")
        let started = e.act("confirm", "done", ["aware_at": "2025-10-24T09:15+02:00"])
        #expect(started.contains(.remind(step: "start_clock", message: "clock 'gdpr' counts from field note of notify, which has not been recorded; it counts from now")))
        #expect(started.contains(.startClock(id: "gdpr", deadline: t0 + dur("2h") + dur("72h"))))
    }

    @Test("set_deadline moves a running clock's deadline, re-arms its warnings, and is recorded; lead only")
    func setDeadline() {
        let start = step("start_clock", .clock(ClockStepSpec(clock: loc("gdpr"), operation: .start)), next: ["done": "notify"])
        #expect(Driver(definition(Self.breach(clocks: []))).available("incident") == ["close"])
        var d = Driver(definition(Self.breach(middle: [start])))
        #expect(d.available("incident") == ["close", "set_deadline"])
        d.act("confirm", "done", ["aware_at": "2025-10-24T09:00+02:00"])
        let fields = ["clock": "gdpr", "at": "2025-10-31T12:00+01:00", "reason": "Datatilsynet letter 2025/17"]
        #expect(d.refuseAct("incident", "set_deadline", fields, as: kari).code == .wrongRole)
        #expect(d.refuseAct("incident", "set_deadline", ["clock": "gdpr", "at": "friday", "reason": "x"], as: lena).code == .invalidField)
        #expect(d.refuseAct("incident", "set_deadline", ["clock": "nis2", "at": "2025-10-31T12:00+01:00", "reason": "x"], as: lena).code == .invalidField)
        d.advance("1h")
        let before = d.state
        let actions = d.act("incident", "set_deadline", fields, as: lena)
        #expect(actions == [
            .remind(
                step: "incident",
                message: "clock 'gdpr' (GDPR Art. 33): deadline moved from 2025-10-27 09:00 +01:00 to 2025-10-31 12:00 +01:00 by lena: Datatilsynet letter 2025/17"),
        ])
        let deadline = at("2025-10-31T11:00:00Z")
        #expect(d.state.clocks.first?.deadline == deadline)
        #expect(d.state.clocks.first?.deadlineSet == DeadlineChange(
            at: t0 + dur("1h"), by: "lena", reason: "Datatilsynet letter 2025/17", previous: t0 + dur("72h")))
        #expect(d.state.timers.filter { if case .clockWarning = $0.purpose { true } else { false } }.map(\.due) == [deadline.minus24h])
        #expect(d.timer(.clockDeadline(clock: "gdpr"))?.due == deadline)
        expectChanges(from: before, to: d.state, only: ["clocks[0].deadline", "clocks[0].deadlineSet", "timers", "serial"])
        // Stopped clocks have ended: their deadline cannot move.
        let startThenStop = step("start_clock", .clock(ClockStepSpec(clock: loc("gdpr"), operation: .start)), next: ["done": "stop_clock"])
        let stop = step("stop_clock", .clock(ClockStepSpec(clock: loc("gdpr"), operation: .stop)), next: ["done": "notify"])
        var e = Driver(definition(Self.breach(middle: [startThenStop, stop])))
        e.act("confirm", "done", ["aware_at": "2025-10-24T09:00+02:00"])
        #expect(e.state.clocks.first?.stoppedAt == t0)
        #expect(e.refuseAct("incident", "set_deadline", fields, as: lena).code == .actionUnavailable)
    }

    @Test("set_deadline on a clock not yet started starts it now with that deadline")
    func setDeadlineStarts() {
        var d = Driver(definition(Self.breach()))
        d.act("confirm", "done", ["aware_at": "2025-10-24T09:00+02:00"])
        let actions = d.act(
            "incident", "set_deadline", ["clock": "gdpr", "at": "2025-10-26T10:00+01:00", "reason": "court order"], as: lena)
        let deadline = at("2025-10-26T09:00:00Z")
        #expect(actions == [
            .startClock(id: "gdpr", deadline: deadline),
            .remind(step: "incident", message: "clock 'gdpr' (GDPR Art. 33) started with deadline 2025-10-26 10:00 +01:00 set by lena: court order"),
        ])
        #expect(d.state.clocks.first?.startedAt == t0)
        #expect(d.fireNext() == [.remind(step: nil, message: "clock 'gdpr' (GDPR Art. 33): 24h left, deadline 2025-10-26 10:00 +01:00")])
        #expect(d.fireNext() == [.expireClock(id: "gdpr")])
    }

    @Test("Targets met by intermediate states: a takedown reaching submitted, a statement reaching approved")
    func intermediateStates() {
        let takedownPB = playbook(
            EngineTakedownTests.pb.steps,
            targets: [TargetSpec(id: "filed", title: "Filed", step: loc("takedown"), outcome: loc(""), within: dur("1h"), reaches: loc("submitted"))])
        var d = Driver(definition(takedownPB, inputs: EngineTakedownTests.inputs))
        d.act("takedown", "draft", ["explanation": "Impersonates our CEO", "good_faith_statement": "true"], as: lars)
        d.advance("10m")
        let submitted = d.act("takedown", "submit", ["ticket": "X-1"], as: lars)
        #expect(submitted == [.meetTarget(id: "filed", after: dur("10m"))])
        #expect(d.state.targets.first?.metAt == t0 + dur("10m"))
        #expect(d.timer(.targetDeadline(target: "filed")) == nil)

        var statementPB = EngineStatementTests.pb()
        statementPB.targets = [TargetSpec(id: "cleared", title: "Cleared", step: loc("statement"), outcome: loc(""), within: dur("30m"), reaches: loc("approved"))]
        var s = Driver(definition(statementPB, inputs: EngineStatementTests.inputs))
        s.draft("statement", EngineStatementTests.facts, EngineStatementTests.rendered)
        #expect(s.state.targets.first?.status == .pending)
        s.advance("40m")
        #expect(s.act("statement", "approve", as: lars) == [.missTarget(id: "cleared")])
    }

    /// A 30-minute clock that nags at 15 minutes left and escalates when it expires.
    static func routed() -> Playbook {
        let clock = ClockSpec(
            id: "ack", title: "Acknowledge", duration: dur("30m"),
            onWarning: [ClockRoute(before: dur("15m"), next: loc("nag"))], onExpiry: loc("escalate"))
        return playbook(
            [
                step("start_clock", .clock(ClockStepSpec(clock: loc("ack"), operation: .start)), next: ["done": "work"]),
                task("work", role: "comms", timeout: "2h", next: ["done": "fin", "skipped": "fin", "timeout": "fin"]),
                task("nag", role: "comms", timeout: "1h", next: ["done": "nag_done", "skipped": "nag_done", "timeout": "nag_done"]),
                task("escalate", role: "lead", timeout: "1h", next: ["done": "nag_done", "skipped": "nag_done", "timeout": "nag_done"]),
                end("nag_done", "nagged"),
                end("fin", "resolved"),
            ], clocks: [clock])
    }

    @Test("A warning enters its step beside the main flow; an end on the route does not close the incident")
    func warningRoute() {
        var d = Driver(definition(Self.routed()))
        #expect(d.state.timers.map(\.purpose) == [.clockWarning(clock: "ack", before: dur("15m")), .clockDeadline(clock: "ack"), .stepTimeout])
        let warned = d.fireNext()
        #expect(warned == [
            .remind(step: nil, message: "clock 'ack' (Acknowledge): 15m left, deadline 2025-10-24 08:30 UTC"),
            .enterStep(step: "nag", type: .task),
        ])
        #expect(d.activeIDs == ["work", "nag"])
        #expect(d.state.run("nag")?.scope == .clockRoute(clock: "ack"))
        let done = d.act("nag", "done")
        #expect(done == [.exitStep(step: "nag", outcome: "done"), .enterStep(step: "nag_done", type: .end), .exitStep(step: "nag_done", outcome: "nagged")])
        #expect(d.state.status.isOpen)
        #expect(d.activeIDs == ["work"])
        #expect(d.fireNext() == [.expireClock(id: "ack"), .enterStep(step: "escalate", type: .task)])
        #expect(d.activeIDs == ["work", "escalate"])
    }

    @Test("A route to a step that is already active leaves it alone")
    func routeToActiveStep() {
        var d = Driver(definition(Self.routed()))
        d.fireNext()
        #expect(d.activeIDs == ["work", "nag"])
        // nag is still active when the clock expires; the expiry routes to escalate, which runs.
        var pb = Self.routed()
        pb.clocks[0].onExpiry = loc("nag")
        var e = Driver(definition(pb))
        e.fireNext()
        let entered = e.state.run("nag")?.enteredAt
        let expired = e.fireNext()
        #expect(expired == [
            .expireClock(id: "ack"),
            .remind(step: "nag", message: "clock 'ack' (deadline passed) routes to 'nag', which is already active since 2025-10-24 08:15 UTC; it was not entered again"),
        ])
        #expect(e.state.run("nag")?.enteredAt == entered)
        #expect(e.state.visits["nag"] == 1)
    }

    @Test("A stopped clock has ended, met or missed, and stops counting; closing freezes clocks and records when")
    func stoppedAndClosed() {
        let stopLate = step("stop_clock", .clock(ClockStepSpec(clock: loc("gdpr"), operation: .stop)), next: ["done": "fin"])
        var pb = playbook(
            [
                step("start_clock", .clock(ClockStepSpec(clock: loc("gdpr"), operation: .start)), next: ["done": "work"]),
                task("work", role: "comms", timeout: "100h", next: ["done": "stop_clock", "skipped": "fin", "timeout": "fin"]),
                stopLate, end("fin", "resolved"),
            ], clocks: [Self.gdpr])
        pb.timeZone = "Europe/Oslo"
        var late = Driver(definition(pb))
        late.advance("74h10m")
        late.act("work", "done")
        #expect(late.state.clocks.first?.ended == .missed(by: dur("2h10m")))
        #expect(late.state.closedAt == t0 + dur("74h10m"))
        #expect(!late.state.status.isOpen)
        var early = Driver(definition(pb))
        early.advance("70h")
        early.act("work", "done")
        #expect(early.state.clocks.first?.ended == .met(left: dur("2h")))
        // Closed with a clock still running: no timers, the clock is not stopped, closedAt says when it froze.
        var closed = Driver(definition(pb))
        closed.advance("1h")
        let before = closed.state
        closed.act("incident", "close", ["outcome": "false_alarm", "reason": "test"], as: lena)
        #expect(closed.state.timers.isEmpty)
        #expect(closed.state.clocks.first?.ended == nil)
        expectChanges(from: before, to: closed.state, only: ["status", "closedAt", "active", "timers", "history[1]"])
    }
}

extension Instant {
    fileprivate var minus24h: Instant { Instant(millisecondsSinceEpoch: millisecondsSinceEpoch - 86_400_000) }
}
