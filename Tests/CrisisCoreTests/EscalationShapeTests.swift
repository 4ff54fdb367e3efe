import CrisisCore
import Foundation
import Testing

/// Escalation shapes (ack all, channel attempts, inform-only levels, stop_at_ack, re-escalation), deputy chains
/// and availability, and who may act, with the engine's exact actions.
@Suite("Engine: escalation shapes")
struct EscalationShapeTests {
    static func person(_ id: String, roles: [String] = [], channels: [String] = ["phone"], deputy: String? = nil,
                       availability: [AvailabilityWindow] = [], unavailable: [Unavailability] = [],
                       holds: Bool = false) -> Person {
        Person(id: id, name: id.capitalized, roles: roles,
               channels: channels.map { ContactChannel(type: $0, address: "\(id)@\($0)") }, deputy: deputy,
               availability: availability, unavailable: unavailable, deputyHoldsRoles: holds)
    }

    static let contacts = ContactsDirectory(
        people: [
            person("marte", roles: ["legal"]), person("thea", roles: ["hr"]), person("per"),
            person("kari", roles: ["comms"], channels: ["phone", "sms", "email"]),
            person("lena", roles: ["lead"]), person("board", channels: ["email"]),
        ], timeZone: "Europe/Oslo")

    static func level(_ targets: [String], _ timeout: String = "10m", channels: [String] = [], ack: AckMode = .any,
                      attempts: AttemptMode = .first, every: String? = nil, inform: Bool = false) -> EscalationLevel {
        EscalationLevel(targets: targets.map { loc(PageTarget(parsing: $0)) }, ackTimeout: dur(timeout),
                        channels: channels, ack: ack, attempts: attempts, every: every.map(dur), inform: inform)
    }

    static func book(_ levels: [EscalationLevel], repeats: Int = 0, stopAtAck: Bool = true,
                     reescalate: String? = nil, conflicted: String? = nil, inputs: [InputSpec] = []) -> Playbook {
        var pb = playbook(
            [
                step("page", .escalate(EscalateSpec(levels: levels, repeats: repeats, message: "M", stopAtAck: stopAtAck,
                                                    reescalateAfter: reescalate.map(dur))),
                     next: ["acknowledged": "work", "exhausted": "work"]),
                task("work", next: ["done": "fin", "skipped": "fin"]), end("fin", "ok"),
            ], inputs: inputs)
        pb.conflicted = conflicted.map(loc)
        return pb
    }

    static func page(_ n: Int, _ to: String, _ channel: String, step: String = "page") -> EngineAction {
        .deliver(Delivery(key: "INC-1/\(step)/page/\(n)", step: step, purpose: .page, channel: channel,
                          recipients: [to], text: "M"))
    }

    func run(_ d: Driver) -> EscalationRun? {
        if case .escalation(let e) = d.state.run("page")?.detail { return e }
        if case .escalation(let e) = d.state.history.last(where: { $0.instance == "page" })?.detail { return e }
        return nil
    }

    static let enter = EngineAction.enterStep(step: "page", type: .escalate)
    static let acknowledged: [EngineAction] = [
        .exitStep(step: "page", outcome: "acknowledged"), .enterStep(step: "work", type: .task),
    ]

    // MARK: ack: all

    @Test("ack: all waits for every target; each ack is recorded with its channel")
    func ackAll() {
        var d = Driver(definition(Self.book([Self.level(["marte", "thea"], ack: .all)]), contacts: Self.contacts))
        #expect(d.startActions == [Self.enter, Self.page(0, "marte", "phone"), Self.page(1, "thea", "phone")])
        #expect(d.act("page", "ack", ["by": "marte"], as: Actor(name: "lena")).isEmpty)
        #expect(d.activeIDs == ["page"])
        #expect(d.act("page", "ack", ["by": "Thea", "via": "phone call"], as: Actor(name: "lena")) == Self.acknowledged)
        let e = run(d)
        #expect(e?.acknowledgedBy == "Thea")  // as written; the ack record holds the id
        #expect(e?.acks == [
            AckRecord(person: "marte", channel: "phone", standingInFor: nil, counted: true, level: 0, round: 0,
                      recordedBy: "lena", at: t0),
            AckRecord(person: "thea", channel: "phone call", standingInFor: nil, counted: true, level: 0, round: 0,
                      recordedBy: "lena", at: t0),
        ])
    }

    @Test("ack: all: the timeout moves on with only those still missing; who acked is never paged again")
    func ackAllTimeout() {
        let pb = Self.book([Self.level(["marte", "thea"], ack: .all), Self.level(["marte", "per"], "5m", ack: .all)],
                           repeats: 1)
        var d = Driver(definition(pb, contacts: Self.contacts))
        d.advance("3m")
        d.act("page", "ack", ["by": "marte"])
        #expect(d.fireNext() == [Self.page(3, "per", "phone")])
        #expect(run(d)?.attempts.last?.targets == ["per"])
        // Round 2, level 1: thea is still missing there, marte is not paged again.
        #expect(d.fireNext() == [Self.page(5, "thea", "phone")])
        #expect(d.act("page", "ack", ["by": "thea"]) == Self.acknowledged)
    }

    @Test("ack: all: a level whose targets all acknowledged earlier ends the escalation without paging")
    func ackAllAlreadyDone() {
        let pb = Self.book([Self.level(["marte", "thea"], ack: .all), Self.level(["marte"], ack: .all)])
        var d = Driver(definition(pb, contacts: Self.contacts))
        d.act("page", "ack", ["by": "marte"])
        #expect(d.fireNext() == Self.acknowledged)
        #expect(run(d)?.acknowledgedBy == "marte")
        #expect(d.state.deliveries.count == 2)
    }

    // MARK: Channel attempts

    @Test("attempts: sequential tries the channels in order every 2m, then waits for the ack timeout")
    func sequential() {
        let pb = Self.book([Self.level(["kari"], channels: ["phone", "sms", "email"], attempts: .sequential, every: "2m")])
        var d = Driver(definition(pb, contacts: Self.contacts))
        #expect(d.startActions == [Self.enter, Self.page(0, "kari", "phone")])
        #expect(d.state.timers.map(\.purpose) == [.nextChannel(level: 0, round: 0), .ackTimeout(level: 0, round: 0)])
        #expect(d.fireNext() == [Self.page(3, "kari", "sms")])
        #expect(d.now == t0 + dur("2m"))
        #expect(d.fireNext() == [Self.page(5, "kari", "email")])
        // No channel left: no more channel timer, the ack timeout decides.
        #expect(d.state.timers.map(\.purpose) == [.ackTimeout(level: 0, round: 0)])
        #expect(run(d)?.attempts.map(\.channels) == [["phone"], ["sms"], ["email"]])
        #expect(d.fireNext() == [.exitStep(step: "page", outcome: "exhausted"), .enterStep(step: "work", type: .task)])
    }

    @Test("A failed page or a recorded not_reached moves to the next channel at once")
    func notReached() {
        let pb = Self.book([Self.level(["kari"], channels: ["phone", "sms", "email"], attempts: .sequential)])
        var d = Driver(definition(pb, contacts: Self.contacts))
        #expect(d.state.timers.map(\.purpose) == [.ackTimeout(level: 0, round: 0)])
        #expect(d.available("page") == ["ack", "not_reached", "confirm_delivery"])
        let failed = d.send(.deliveryCompleted(key: "INC-1/page/page/0", result: .failed, detail: "busy", actor: .system))
        #expect(failed == [Self.page(2, "kari", "sms")])
        d.send(.deliveryCompleted(key: "INC-1/page/page/2", result: .sent, detail: nil, actor: .system))
        #expect(d.act("page", "not_reached", ["person": "kari", "detail": "no answer"], as: lena) == [Self.page(3, "kari", "email")])
        #expect(run(d)?.notReached == [
            NotReachedRecord(person: "kari", channel: "sms", detail: "no answer", recordedBy: "lena", at: t0)
        ])
        #expect(d.refuseAct("page", "not_reached", ["person": "marte"]).code == .invalidField)
        // Nothing left to try: recorded, no page.
        #expect(d.act("page", "not_reached", ["person": "kari"]).isEmpty)
    }

    @Test("attempts: parallel pages every channel at once; the default pages the first only")
    func parallel() {
        let pb = Self.book([Self.level(["kari"], channels: [], attempts: .parallel)])
        let d = Driver(definition(pb, contacts: Self.contacts))
        #expect(d.startActions == [Self.enter, Self.page(0, "kari", "phone"), Self.page(1, "kari", "sms"),
                                   Self.page(2, "kari", "email")])
        #expect(run(d)?.attempts.first?.recipients == ["kari", "kari", "kari"])
        let legacy = Driver(definition(Self.book([Self.level(["kari"])]), contacts: Self.contacts))
        #expect(legacy.startActions == [Self.enter, Self.page(0, "kari", "phone")])
        #expect(legacy.available("page") == ["ack", "confirm_delivery"])
    }

    // MARK: Inform-only, stop_at_ack

    @Test("An inform-only level is told and the next level follows at once; its people's acks do not count")
    func inform() {
        let pb = Self.book([Self.level(["board"], "0m", inform: true), Self.level(["lena", "marte"], "10m")])
        var d = Driver(definition(pb, contacts: Self.contacts))
        #expect(d.startActions == [Self.enter, Self.page(0, "board", "email"), Self.page(1, "lena", "phone"),
                                   Self.page(2, "marte", "phone")])
        #expect(d.state.timers.map(\.purpose) == [.ackTimeout(level: 1, round: 0)])
        #expect(d.act("page", "ack", ["by": "board"]).isEmpty)
        #expect(run(d)?.acks.map(\.counted) == [false])
        #expect(d.act("page", "ack", ["by": "marte"]) == Self.acknowledged)
    }

    @Test("An inform level with a wait pauses before the next level")
    func informWait() {
        let pb = Self.book([Self.level(["board"], "5m", inform: true), Self.level(["marte"])])
        var d = Driver(definition(pb, contacts: Self.contacts))
        #expect(d.startActions == [Self.enter, Self.page(0, "board", "email")])
        #expect(d.fireNext() == [Self.page(2, "marte", "phone")])
        #expect(d.now == t0 + dur("5m"))
    }

    @Test("stop_at_ack: false pages every level in turn; the step ends acknowledged after the last")
    func inSequence() {
        let pb = Self.book([Self.level(["marte"], "5m"), Self.level(["thea"], "5m")], stopAtAck: false)
        var d = Driver(definition(pb, contacts: Self.contacts))
        #expect(d.act("page", "ack", ["by": "marte"]).isEmpty)
        #expect(d.fireNext() == [Self.page(2, "thea", "phone")])
        #expect(d.fireNext() == Self.acknowledged)
        #expect(run(d)?.acknowledgedBy == "marte")
        // Without any ack: exhausted after the last level.
        var none = Driver(definition(pb, contacts: Self.contacts))
        none.fireNext()
        #expect(none.fireNext() == [.exitStep(step: "page", outcome: "exhausted"), .enterStep(step: "work", type: .task)])
    }

    // MARK: Re-escalation

    @Test("reescalate_after: no progress on the next step pages the next level, one level per interval")
    func reescalation() {
        let pb = Self.book([Self.level(["marte"]), Self.level(["thea"]), Self.level(["per"])], reescalate: "30m")
        var d = Driver(definition(pb, contacts: Self.contacts))
        d.advance("2m")
        d.act("page", "ack", ["by": "marte"])
        #expect(d.state.timers.map(\.purpose) == [.reescalate(escalation: "page", level: 1)])
        #expect(d.state.timers.first?.step == "work")
        let fired = d.fireNext()
        #expect(fired == [
            .remind(step: "work", message: "no progress on 'work' 30m after 'page' was acknowledged; paging level 2: thea"),
            Self.page(3, "thea", "phone"),
        ])
        #expect(d.now == t0 + dur("32m"))
        #expect(d.fireNext() == [
            .remind(step: "work", message: "no progress on 'work' 30m after 'page' was acknowledged; paging level 3: per"),
            Self.page(5, "per", "phone"),
        ])
        #expect(d.state.timers.isEmpty)
    }

    @Test("An accepted action on the next step is progress: the watch ends")
    func reescalationProgress() {
        let pb = Self.book([Self.level(["marte"]), Self.level(["thea"])], reescalate: "30m")
        var d = Driver(definition(pb, contacts: Self.contacts))
        d.act("page", "ack", ["by": "marte"])
        d.advance("10m")
        d.act("work", "done")
        #expect(d.state.timers.isEmpty)
        #expect(d.state.deliveries.count == 1)
    }

    // MARK: Availability and deputy chains

    /// Kari: weekdays 09:00-10:00 Europe/Oslo, deputy Ola.
    static let office = ContactsDirectory(
        people: [
            person("kari", roles: ["comms"], deputy: "ola",
                   availability: [AvailabilityWindow(days: [1, 2, 3, 4, 5], fromMinute: 540, toMinute: 600,
                                                     timeZone: "Europe/Oslo")]),
            person("ola", roles: ["comms"]),
        ], timeZone: "Europe/Oslo")

    @Test("Availability at 09:30 and 10:30 Oslo time in January (UTC+1) and April (UTC+2)",
          arguments: [
            ("2026-01-14T08:30:00Z", "kari"), ("2026-01-14T09:30:00Z", "ola"),
            ("2026-04-15T07:30:00Z", "kari"), ("2026-04-15T08:30:00Z", "ola"),
            // 09:30 UTC is 10:30 in January but 11:30 in April; 08:30 UTC is 09:30 in January, 10:30 in April.
            ("2026-04-15T09:30:00Z", "ola"),
          ])
    func availability(_ instant: String, _ paged: String) {
        let d = Driver(definition(Self.book([Self.level(["kari"])]), contacts: Self.office), at: at(instant))
        #expect(d.startActions == [Self.enter, Self.page(0, paged, "phone")])
        let substitutions = run(d)?.levels.first?.substitutions ?? []
        if paged == "kari" {
            #expect(substitutions.isEmpty)
        } else {
            #expect(substitutions == [Substitution(
                person: "kari", skipped: [SkippedPerson(person: "kari", reason: "outside availability windows")],
                standIn: "ola")])
        }
    }

    @Test("The absent person's own ack answers for the deputy standing in (ack: all too)")
    func absentPersonAcks() {
        let pb = Self.book([Self.level(["kari"], ack: .all)])
        var d = Driver(definition(pb, contacts: Self.office), at: at("2026-01-14T09:30:00Z"))
        #expect(d.startActions == [Self.enter, Self.page(0, "ola", "phone")])
        #expect(d.act("page", "ack", ["by": "kari"]) == Self.acknowledged)
        #expect(run(d)?.acks.map(\.counted) == [true])
    }

    /// Anna (on leave, holds her roles over) -> Bo (outside his windows) -> Cato (available).
    static func chain(coAvailable: Bool = true) -> ContactsDirectory {
        ContactsDirectory(
            people: [
                person("anna", roles: ["legal", "lead"], deputy: "bo",
                       unavailable: [Unavailability(from: at("2026-01-10T08:00:00+01:00"),
                                                    until: at("2026-01-20T08:00:00+01:00"), reason: "on leave")],
                       holds: true),
                person("bo", roles: ["legal"], deputy: "cato",
                       availability: [AvailabilityWindow(days: [6, 7], fromMinute: 0, toMinute: 1440, timeZone: "Europe/Oslo")]),
                person("cato", roles: ["comms"], deputy: coAvailable ? nil : "anna",
                       unavailable: coAvailable ? [] : [Unavailability(from: at("2026-01-01T00:00:00Z"), until: at("2026-02-01T00:00:00Z"))]),
                person("lena", roles: ["lead"]), person("per"),
            ], timeZone: "Europe/Oslo")
    }

    @Test("A deputy chain of three with two unavailable: the third stands in, the walk is recorded, roles held over")
    func chainOfThree() {
        var d = Driver(definition(Self.book([Self.level(["anna"])]), contacts: Self.chain()), at: at("2026-01-14T09:00:00Z"))
        #expect(d.startActions == [Self.enter, Self.page(0, "cato", "phone")])
        #expect(run(d)?.levels[0].substitutions == [Substitution(
            person: "anna",
            skipped: [SkippedPerson(person: "anna", reason: "on leave until 2026-01-20T07:00:00.000Z"),
                      SkippedPerson(person: "bo", reason: "outside availability windows")],
            standIn: "cato", heldRoles: ["legal", "lead"])])
        #expect(d.state.rolesHeld(by: "cato") == ["legal", "lead"])
        #expect(d.state.rolesHeld(by: "bo").isEmpty)
        // The absent person may still acknowledge for herself, and the ack records who stands in for whom.
        d.act("page", "ack", ["by": "cato"])
        #expect(run(d)?.acks.first?.standingInFor == "anna")
    }

    @Test("Nobody in the chain available (a cycle): the original is paged, marked outside availability")
    func nobodyAvailable() {
        let d = Driver(definition(Self.book([Self.level(["anna"])]), contacts: Self.chain(coAvailable: false)),
                       at: at("2026-01-14T09:00:00Z"))
        #expect(d.startActions == [Self.enter, Self.page(0, "anna", "phone")])
        #expect(run(d)?.levels[0].outsideAvailability == ["anna"])
        #expect(run(d)?.levels[0].substitutions.first?.skipped.map(\.person) == ["anna", "bo", "cato"])
        #expect(d.state.rolesHeld(by: "cato").isEmpty)
    }

    // MARK: Who may act

    @Test("Only a person paged, the absent person a deputy stands in for, or a lead may ack (the shell's check)")
    func whoMayAck() {
        let pb = Self.book([Self.level(["anna"]), Self.level(["per"])])
        let d = Driver(definition(pb, contacts: Self.chain()), at: at("2026-01-14T09:00:00Z"))
        let refused = Engine.acknowledgerProblem(by: "per", step: "page", in: d.state)
        #expect(refused?.code == .notPaged)
        #expect(refused?.hint == .peopleAllowed(["cato"]))
        #expect(refused?.message == "per was not paged by 'page', stands in for nobody paged and holds no lead role, so may not acknowledge; paged so far: cato")
        #expect(Engine.acknowledgerProblem(by: "bo", step: "page", in: d.state)?.code == .notPaged)
        #expect(Engine.acknowledgerProblem(by: "cato", step: "page", in: d.state) == nil)
        #expect(Engine.acknowledgerProblem(by: "anna", step: "page", in: d.state) == nil)
        #expect(Engine.acknowledgerProblem(by: "Lena", step: "page", in: d.state) == nil)
        var lead = d
        #expect(lead.act("page", "ack", ["by": "lena"]) == Self.acknowledged)
        #expect(run(lead)?.acks.first?.channel == nil)
        // Without a directory anyone may, as before; and the engine itself accepts any ack, so trails recorded
        // before the check replay unchanged.
        #expect(Engine.acknowledgerProblem(by: "somebody", step: "page", in: Driver(definition(pb)).state) == nil)
        var old = d
        #expect(old.act("page", "ack", ["by": "Drill value 1"]) == Self.acknowledged)
        #expect(run(old)?.acknowledgedBy == "Drill value 1")
    }

    @Test("A lead's ack completes an ack: all level")
    func leadOverridesAll() {
        var d = Driver(definition(Self.book([Self.level(["marte", "thea"], ack: .all)]), contacts: Self.contacts))
        #expect(d.act("page", "ack", ["by": "lena"]) == Self.acknowledged)
    }

    @Test("A conflicted person may not ack, choose, draft or close, whatever role they hold")
    func conflicted() {
        let input = InputSpec(name: "conflicted_people", type: .text, prompt: "Who", required: false)
        let pb = Self.book([Self.level(["lena", "marte"])], conflicted: "conflicted_people", inputs: [input])
        var d = Driver(definition(pb, inputs: ["conflicted_people": "Lena, someone else"], contacts: Self.contacts))
        let byLead = d.refuseAct("page", "ack", ["by": "lena"], as: Actor(name: "marte"))
        #expect(byLead.code == .conflictedPerson)
        #expect(byLead.message == "lena is named in 'conflicted_people' as conflicted in this incident and may not ack, whatever role they hold")
        #expect(d.refuseAct("page", "ack", ["by": "marte"], as: lena).code == .conflictedPerson)
        #expect(d.refuseAct("incident", "close", ["outcome": "x", "reason": "y"], as: lena).code == .conflictedPerson)
        d.act("page", "ack", ["by": "marte"], as: Actor(name: "marte"))
        #expect(d.activeIDs == ["work"])
        // Not a guarded action: a task may still be done by them.
        #expect(d.act("work", "done", as: lena).first == .exitStep(step: "work", outcome: "done"))
    }
}

@Suite("Escalation shapes: encoding")
struct EscalationEncodingTests {
    @Test("A state with every new escalation field survives encode and decode (snapshots)")
    func roundTrip() throws {
        let s = EscalationShapeTests.self
        let pb = s.book([s.level(["anna"], ack: .all, attempts: .sequential, every: "2m"), s.level(["per"])],
                        reescalate: "30m")
        var d = Driver(definition(pb, contacts: EscalationShapeTests.chain()), at: at("2026-01-14T09:00:00Z"))
        d.act("page", "not_reached", ["person": "cato"])
        let data = try JSONEncoder().encode(d.state)
        let decoder = JSONDecoder()
        decoder.userInfo[IncidentState.definitionKey] = d.state.definition
        #expect(try decoder.decode(IncidentState.self, from: data) == d.state)
        d.act("page", "ack", ["by": "cato"])
        let after = try decoder.decode(IncidentState.self, from: try JSONEncoder().encode(d.state))
        #expect(after == d.state)
        #expect(after.timers.map(\.purpose) == [.reescalate(escalation: "page", level: 1)])
    }

    @Test("An escalation saved before the shapes existed decodes with the defaults")
    func oldEncoding() throws {
        let old = """
            {"levels":[{"targets":["kari"],"ackTimeout":600000,"channels":["sms"]}],
             "level":0,"round":0,"repeats":1,
             "attempts":[{"attempt":1,"level":0,"round":0,"targets":["kari"],"deliveryKeys":["k0"],
                          "at":0}],
             "acknowledgedBy":"kari"}
            """
        let run = try JSONDecoder().decode(EscalationRun.self, from: Data(old.utf8))
        #expect(run.levels == [ResolvedLevel(targets: ["kari"], ackTimeout: dur("10m"), channels: ["sms"])])
        #expect(run.attempts.first?.channels == [])
        #expect(run.acks.isEmpty && run.notReached.isEmpty)
        #expect(run.acknowledgedBy == "kari")
    }
}
