import CrisisCore
import Testing

@Suite("Engine: start, choice, task, end, timers")
struct EngineBasicsTests {
    static let triage = choice(
        "triage", [("escalate", nil), ("monitor", nil)], default: "escalate", role: "comms", timeout: "15m",
        next: ["escalate": "capture", "monitor": "closed"])
    static let capture = task(
        "capture", role: "comms", timeout: "20m", next: ["done": "closed", "skipped": "closed", "timeout": "closed"])
    static let pb = playbook([triage, capture, end("closed", "resolved")])

    @Test("Start enters the start step and arms its timeout")
    func startEntersStartStep() {
        let d = Driver(definition(Self.pb))
        #expect(d.startActions == [.enterStep(step: "triage", type: .choice)])
        #expect(d.activeIDs == ["triage"])
        #expect(d.state.timers == [TimerEntry(id: "t0", due: t0 + dur("15m"), step: "triage", purpose: .stepTimeout)])
        #expect(d.state.run("triage")?.dueAt == t0 + dur("15m"))
        #expect(d.state.visits == ["triage": 1])
        #expect(d.state.status == .open)
    }

    @Test("Choosing an option routes to its next step and cancels the step timer")
    func chooseRoutes() {
        var d = Driver(definition(Self.pb))
        d.advance("1m")
        let actions = d.act("triage", "choose", ["option": "escalate"])
        #expect(actions == [.exitStep(step: "triage", outcome: "escalate"), .enterStep(step: "capture", type: .task)])
        #expect(d.state.timers.map(\.id) == ["t1"])
        #expect(d.state.timers.first?.purpose == .stepTimeout)
        #expect(d.state.history.map(\.outcome) == ["escalate"])
        #expect(d.available("capture") == ["done", "skip"])
    }

    @Test("An invalid option is refused naming the field")
    func invalidOption() {
        let d = Driver(definition(Self.pb))
        let r = d.refuseAct("triage", "choose", ["option": "panic"])
        #expect(r.code == .invalidField)
        #expect(r.message == "field 'option' must be one of: escalate, monitor")
        #expect(d.refuseAct("triage", "choose").code == .missingField)
        let unknown = d.refuseAct("triage", "choose", ["option": "monitor", "colour": "red"])
        #expect(unknown.code == .unknownField)
        #expect(unknown.message.contains("accepted fields: option"))
        #expect(d.refuseAct("triage", "choose", ["option": "monitor", "_sha256": "x"]).code == .unknownField)
    }

    @Test("Choice timeout takes the default option's route")
    func choiceTimeout() {
        var d = Driver(definition(Self.pb))
        let actions = d.fireNext()
        #expect(d.now == t0 + dur("15m"))
        #expect(actions == [.exitStep(step: "triage", outcome: "timeout"), .enterStep(step: "capture", type: .task)])
    }

    @Test("Choice timeout prefers next.timeout over the default")
    func choiceTimeoutRoute() {
        let c = choice(
            "triage", [("a", nil), ("b", nil)], default: "a", timeout: "5m",
            next: ["a": "x", "b": "x", "timeout": "y"])
        var d = Driver(definition(playbook([c, end("x", "xx"), end("y", "yy")])))
        let actions = d.fireNext()
        #expect(
            actions == [
                .exitStep(step: "triage", outcome: "timeout"), .enterStep(step: "y", type: .end),
                .exitStep(step: "y", outcome: "yy"), .close(outcome: "yy"),
            ])
        #expect(d.state.status == .closed(outcome: "yy"))
    }

    @Test("Automatic choice: first matching guard wins, else the default")
    func automaticChoice() {
        let c = choice(
            "route", [("severe", guardIn("severity", ["sev1", "sev2"])), ("other", nil)], default: "other",
            next: ["severe": "s", "other": "o"])
        let pb = playbook([c, end("s", "severe"), end("o", "normal")])
        let severe = Driver(definition(pb, inputs: ["severity": "sev2"]))
        #expect(
            severe.startActions == [
                .enterStep(step: "route", type: .choice), .exitStep(step: "route", outcome: "severe"),
                .enterStep(step: "s", type: .end), .exitStep(step: "s", outcome: "severe"), .close(outcome: "severe"),
            ])
        let normal = Driver(definition(pb, inputs: ["severity": "sev3"]))
        #expect(normal.state.status == .closed(outcome: "normal"))
        #expect(normal.state.timers.isEmpty)
    }

    @Test("Task done, skip (reason required) and timeout")
    func taskOutcomes() {
        var d = Driver(definition(Self.pb))
        d.act("triage", "choose", ["option": "escalate"])
        #expect(d.refuseAct("capture", "skip").code == .missingField)
        var skipped = d
        let s = skipped.act("capture", "skip", ["reason": "already archived"])
        #expect(
            s == [
                .exitStep(step: "capture", outcome: "skipped"), .enterStep(step: "closed", type: .end),
                .exitStep(step: "closed", outcome: "resolved"), .close(outcome: "resolved"),
            ])
        expectChanges(
            from: d.state, to: skipped.state,
            only: ["status", "closedAt", "active", "timers", "history[1]", "history[2]", "visits[closed]",
                   "recordedFields[capture]"])
        var done = d
        #expect(done.act("capture", "done").first == .exitStep(step: "capture", outcome: "done"))
        var timedOut = d
        timedOut.fireNext()
        #expect(timedOut.outcome(of: "capture") == "timeout")
        #expect(timedOut.state.status == .closed(outcome: "resolved"))
    }

    @Test("Role checks: role required, wrong role refused, lead may act")
    func roles() {
        var d = Driver(definition(Self.pb))
        let none = d.refuseAct("triage", "choose", ["option": "monitor"], as: Actor(name: "ola"))
        #expect(none.code == .roleRequired)
        #expect(none.message == "this step belongs to role 'comms' (or a lead role: lead); no role was given")
        #expect(none.hint == .roleNeeded(["comms", "lead"]))
        let wrong = d.refuseAct("triage", "choose", ["option": "monitor"], as: lars)
        #expect(wrong.code == .wrongRole)
        #expect(wrong.message == "this step belongs to role 'comms' (or a lead role: lead), and you act as 'legal'")
        #expect(wrong.hint == .roleNeeded(["comms", "lead"]))
        #expect(d.act("triage", "choose", ["option": "monitor"], as: lena).first == .exitStep(step: "triage", outcome: "monitor"))
    }

    @Test("Unknown step, inactive step and unknown action are refused with what is active")
    func refusals() {
        let d = Driver(definition(Self.pb))
        let inactive = d.refuseAct("capture", "done")
        #expect(inactive.code == .notActive)
        #expect(inactive.message == "step 'capture' is not active; active steps: triage")
        #expect(inactive.hint == .stepsActive(["triage"]))
        #expect(d.refuseAct("nope", "done").code == .unknownStep)
        let unknown = d.refuseAct("triage", "publish")
        #expect(unknown.code == .unknownAction)
        #expect(unknown.message.contains("available now: choose"))
        #expect(unknown.hint == .actionsAvailable(["choose", "object"]))
    }

    @Test("Timers: stale and early firing refused")
    func timers() {
        var d = Driver(definition(Self.pb))
        let early = d.refuse(.timerFired(id: "t0"))
        #expect(early.code == .timerNotDue)
        d.act("triage", "choose", ["option": "escalate"])
        d.advance("1h")
        let stale = d.refuse(.timerFired(id: "t0"))
        #expect(stale.code == .unknownTimer)
        #expect(d.refuse(.timerFired(id: "t99")).code == .unknownTimer)
    }

    @Test("Notes are accepted and change nothing")
    func notes() {
        let d = Driver(definition(Self.pb))
        let result = Engine.handle(.noted(text: "journalist called", actor: kari), in: d.state, at: d.now + dur("1m"))
        guard case .success(let (state, actions)) = result else {
            Issue.record("note refused")
            return
        }
        #expect(state == d.state)
        expectChanges(from: d.state, to: state, only: [])
        #expect(actions.isEmpty)
    }

    @Test("Incident close: lead role only; then acts and timers are refused, notes accepted")
    func incidentClose() {
        var d = Driver(definition(Self.pb))
        #expect(d.available("incident") == ["close"])
        #expect(d.refuseAct("incident", "close", ["outcome": "resolved", "reason": "done"]).code == .wrongRole)
        #expect(d.refuseAct("incident", "close", ["outcome": "resolved"], as: lena).code == .missingField)
        let actions = d.act("incident", "close", ["outcome": "false_alarm", "reason": "satire account"], as: lena)
        #expect(actions == [.cancelStep(step: "triage", reason: "incident closed"), .close(outcome: "false_alarm")])
        #expect(d.state.status == .closed(outcome: "false_alarm"))
        #expect(d.state.timers.isEmpty && d.state.active.isEmpty)
        #expect(d.refuseAct("triage", "choose", ["option": "monitor"]).code == .closed)
        #expect(d.refuse(.timerFired(id: "t0")).code == .closed)
        #expect(d.available("incident").isEmpty)
        #expect(d.send(.noted(text: "hot wash at 14:00", actor: kari)).isEmpty)
    }

    @Test("Unrouted outcome at top level closes the incident as unrouted with a reminder")
    func unrouted() {
        var d = Driver(definition(playbook([task("t", next: ["done": "x"]), end("x", "ok")])))
        let actions = d.act("t", "skip", ["reason": "n/a"])
        #expect(
            actions == [
                .exitStep(step: "t", outcome: "skipped"),
                .remind(step: "t", message: "outcome 'skipped' of step 't' has no route; the incident was closed as unrouted"),
                .close(outcome: "unrouted"),
            ])
    }

    @Test("max_visits bounds a loop: the extra entry exits at once with max_visits")
    func maxVisits() {
        let loop = task("retry", maxVisits: 2, next: ["done": "retry", "skipped": "out", "max_visits": "out"])
        var d = Driver(definition(playbook([loop, end("out", "gave_up")])))
        #expect(d.act("retry", "done") == [.exitStep(step: "retry", outcome: "done"), .enterStep(step: "retry", type: .task)])
        let actions = d.act("retry", "done")
        #expect(
            actions == [
                .exitStep(step: "retry", outcome: "done"), .exitStep(step: "retry", outcome: "max_visits"),
                .enterStep(step: "out", type: .end), .exitStep(step: "out", outcome: "gave_up"),
                .close(outcome: "gave_up"),
            ])
        #expect(d.state.visits["retry"] == 3)
    }

    @Test("An eventless loop without a bound is stopped by the entry cap")
    func runawayLoop() {
        let a = choice("a", [("go", guardIn("x", ["1"]))], default: "go", next: ["go": "b"])
        let b = choice("b", [("go", guardIn("x", ["1"]))], default: "go", next: ["go": "a"])
        let d = Driver(definition(playbook([a, b]), inputs: ["x": "1"]))
        #expect(d.state.status == .closed(outcome: "runaway_loop"))
        #expect(d.startActions.last == .close(outcome: "runaway_loop"))
        #expect(d.state.visits["a", default: 0] + d.state.visits["b", default: 0] == Engine.entryCap)
    }
}

@Suite("Engine: targets and the run deadline")
struct EngineTargetTests {
    static let pb = playbook(
        [task("work", next: ["done": "fin", "skipped": "fin"]), end("fin", "resolved"), end("overdue", "overdue")],
        inputs: [InputSpec(name: "detected_at", type: .time, prompt: "when")],
        targets: [
            TargetSpec(id: "fast", title: "Fast", step: loc("work"), outcome: loc("done"), within: dur("30m")),
            TargetSpec(
                id: "from_detection", title: "From detection", step: loc("work"), outcome: loc("done"),
                within: dur("60m"), from: .input("detected_at")),
        ],
        deadline: DeadlineSpec(after: dur("2h"), next: loc("overdue")))

    @Test("Start arms run deadline and target timers; origin from a time input")
    func startArms() {
        let d = Driver(definition(Self.pb, inputs: ["detected_at": "2025-10-24T09:30:00+02:00"]))
        #expect(d.state.deadline == t0 + dur("2h"))
        #expect(
            d.state.timers == [
                TimerEntry(id: "t0", due: t0 + dur("2h"), step: nil, purpose: .runDeadline),
                TimerEntry(id: "t1", due: t0 + dur("30m"), step: nil, purpose: .targetDeadline(target: "fast")),
                TimerEntry(
                    id: "t2", due: at("2025-10-24T07:30:00Z") + dur("60m"), step: nil,
                    purpose: .targetDeadline(target: "from_detection")),
            ])
        #expect(d.state.targets.map(\.origin) == [t0, at("2025-10-24T07:30:00Z")])
    }

    @Test("Targets met report the elapsed time from their origin and disarm their timers")
    func met() {
        var d = Driver(definition(Self.pb, inputs: ["detected_at": "2025-10-24T09:30:00+02:00"]))
        d.advance("20m")
        let actions = d.act("work", "done")
        #expect(
            actions == [
                .exitStep(step: "work", outcome: "done"), .meetTarget(id: "fast", after: dur("20m")),
                .meetTarget(id: "from_detection", after: dur("50m")), .enterStep(step: "fin", type: .end),
                .exitStep(step: "fin", outcome: "resolved"), .close(outcome: "resolved"),
            ])
        #expect(d.state.targets.map(\.metAt) == [d.now, d.now])
    }

    @Test("Targets missed when their timer fires; a later outcome does not meet them")
    func missed() {
        var d = Driver(definition(Self.pb))
        #expect(d.fireNext() == [.missTarget(id: "fast")])
        #expect(d.state.targets.first?.missed == true)
        d.advance("5m")
        let actions = d.act("work", "done")
        #expect(actions.contains(.meetTarget(id: "from_detection", after: dur("35m"))))
        #expect(!actions.contains { if case .meetTarget(id: "fast", _) = $0 { true } else { false } })
    }

    @Test("A target past due at start stays armed and fires at the first tick")
    func pastDueAtStart() {
        var d = Driver(definition(Self.pb, inputs: ["detected_at": "2025-10-24T05:00:00Z"]))
        let timer = d.timer(.targetDeadline(target: "from_detection"))
        #expect(timer?.due == at("2025-10-24T06:00:00Z"))
        #expect(d.fireNext() == [.missTarget(id: "from_detection")])
    }

    @Test("Run deadline with next cancels active steps and enters next")
    func deadlineNext() {
        var d = Driver(definition(Self.pb))
        d.fireNext()
        d.fireNext()
        let actions = d.fireNext()
        #expect(
            actions == [
                .exceedDeadline, .cancelStep(step: "work", reason: "run deadline passed"),
                .enterStep(step: "overdue", type: .end), .exitStep(step: "overdue", outcome: "overdue"),
                .close(outcome: "overdue"),
            ])
        #expect(d.state.deadlineExceeded)
        #expect(d.outcome(of: "work") == "cancelled")
    }

    @Test("Run deadline without next only flags the overrun")
    func deadlineFlag() {
        var pb = Self.pb
        pb.deadline = DeadlineSpec(after: dur("10m"))
        var d = Driver(definition(pb))
        #expect(d.fireNext() == [.exceedDeadline])
        #expect(d.activeIDs == ["work"])
        #expect(d.state.deadlineExceeded)
    }
}
