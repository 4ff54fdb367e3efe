import CrisisCore
import Foundation
import Testing

/// Cadences (Cadence.swift): occurrences met and missed, the next one counted from the previous, `between` windows
/// in the playbook's zone (across midnight and DST changes), `until`, and replay.
struct EngineCadenceTests {
    /// `post` (the update) loops through `check` until `check` is done (the service is back).
    static func pb(
        every: String = "30m", between: CadenceWindow? = nil, from: TargetOrigin = .incidentStart,
        zone: String = "Europe/Oslo"
    ) -> Playbook {
        let cadence = CadenceSpec(
            id: "updates", title: "Update every 30 minutes", every: dur(every), between: between, from: from,
            step: loc("post"), outcome: loc("done"), until: .outcome(step: loc("check"), outcome: loc("done")))
        var book = playbook([
            task("first", role: "comms", next: ["done": "post", "skipped": "post"]),
            task("post", role: "comms", next: ["done": "check", "skipped": "check"]),
            task("check", role: "comms", next: ["done": "fin", "skipped": "post"]),
            end("fin", "resolved"),
        ])
        book.cadences = [cadence]
        book.timeZone = zone
        return book
    }

    static func due(_ n: Int) -> TimerPurpose { .cadenceDue(cadence: "updates", occurrence: n) }

    @Test("Occurrences met in time, one missed by its timer, the next counted from the missed due; until ends it")
    func metMissedUntil() {
        var d = Driver(definition(Self.pb()))
        #expect(d.state.cadences.map(\.id) == ["updates"])
        #expect(d.timer(Self.due(1))?.due == t0 + dur("30m"))
        d.act("first", "done")
        d.advance("20m")
        #expect(d.act("post", "done").contains(.meetTarget(id: "updates#1", after: dur("20m"))))
        // Occurrence 2 counts from when 1 was met.
        #expect(d.state.cadences[0].pending?.due == t0 + dur("50m"))
        #expect(d.timer(Self.due(1)) == nil)
        d.act("check", "skip", ["reason": "not yet"])
        // Nobody posts: occurrence 2's timer fires.
        let missed = d.fireNext()
        #expect(d.now == t0 + dur("50m"))
        #expect(missed == [
            .missTarget(id: "updates#2"),
            .remind(step: nil, message: "cadence 'updates' (Update every 30 minutes): occurrence 2 due 2025-10-24 10:50 +02:00 was missed; next due 2025-10-24 11:20 +02:00"),
        ])
        #expect(d.timer(Self.due(3))?.due == t0 + dur("1h20m"))
        d.advance("10m")
        #expect(d.act("post", "done").contains(.meetTarget(id: "updates#3", after: dur("10m"))))
        #expect(d.state.cadences[0].met == 2)
        #expect(d.state.cadences[0].missed == 1)
        // The service is back: occurrence 4 (pending, not yet due) is dropped and its timer removed.
        d.advance("5m")
        let ended = d.act("check", "done")
        #expect(ended.contains(.remind(step: nil, message: "cadence 'updates' (Update every 30 minutes) ended: outcome done of check was recorded; 2 met, 1 missed")))
        let run = d.state.cadences[0]
        #expect(run.endedAt == t0 + dur("1h") + dur("5m"))
        #expect(run.occurrences.map(\.number) == [1, 2, 3])
        #expect(run.pending == nil)
        #expect(!d.state.timers.contains { if case .cadenceDue = $0.purpose { true } else { false } })
    }

    @Test("An update done after its due instant, before the timer fired, is missed; the next counts from it")
    func doneLate() {
        var d = Driver(definition(Self.pb()))
        d.act("first", "done")
        d.advance("45m")
        #expect(d.act("post", "done").contains(.missTarget(id: "updates#1")))
        let first = d.state.cadences[0].occurrences[0]
        #expect(first.missed)
        #expect(first.doneLateAt == t0 + dur("45m"))
        #expect(d.state.cadences[0].pending?.due == t0 + dur("1h15m"))
        // The first occurrence's timer is gone: nothing fires for it later.
        #expect(d.timer(Self.due(1)) == nil)
    }

    @Test("A due instant outside the window moves to its next start, in local time across midnight and DST")
    func windows() throws {
        let oslo = try #require(TimeZone(identifier: "Europe/Oslo"))
        let day = CadenceWindow(startMinute: 6 * 60, endMinute: 24 * 60)
        // 24:00 is inside: due at midnight stays at midnight.
        #expect(day.earliest(atOrAfter: at("2025-10-24T00:00:00+02:00"), in: oslo) == at("2025-10-24T00:00:00+02:00"))
        // 01:00 summer time on the night the clocks go back: 06:00 winter time the same morning.
        #expect(day.earliest(atOrAfter: at("2025-10-26T01:00:00+02:00"), in: oslo) == at("2025-10-26T06:00:00+01:00"))
        // Before the start on an ordinary day: that day's start.
        #expect(day.earliest(atOrAfter: at("2025-10-24T05:59:00+02:00"), in: oslo) == at("2025-10-24T06:00:00+02:00"))
        // A window across midnight: outside it (midday), the same evening's start.
        let night = CadenceWindow(startMinute: 22 * 60, endMinute: 6 * 60)
        #expect(night.contains(at("2025-10-24T23:30:00+02:00"), in: oslo))
        #expect(night.contains(at("2025-10-25T05:00:00+02:00"), in: oslo))
        #expect(night.earliest(atOrAfter: at("2025-10-24T12:00:00+02:00"), in: oslo) == at("2025-10-24T22:00:00+02:00"))
        // A start inside the hour skipped in spring (02:30 on 29 March 2026): the instant after the gap.
        let early = CadenceWindow(startMinute: 2 * 60 + 30, endMinute: 5 * 60)
        #expect(early.earliest(atOrAfter: at("2026-03-29T01:00:00+01:00"), in: oslo) == at("2026-03-29T03:30:00+02:00"))
        #expect(CadenceWindow.minute("24:00") == 1440)
        #expect(CadenceWindow.minute("24:30") == nil)
        #expect(CadenceWindow.minute("6:00") == nil)
        #expect(day.description == "06:00-24:00")
    }

    @Test("In the engine: an update due in the night is due at 06:00 winter time after the clocks went back")
    func windowInEngine() {
        let day = CadenceWindow(startMinute: 6 * 60, endMinute: 24 * 60)
        // Started 22:00 summer time on Saturday 25 October 2025; every 3 hours.
        let start = at("2025-10-25T22:00:00+02:00")
        var d = Driver(definition(Self.pb(every: "3h", between: day)), at: start)
        #expect(d.state.cadences[0].pending?.due == at("2025-10-26T06:00:00+01:00"))
        #expect(d.fireNext().contains(.missTarget(id: "updates#1")))
        // The next counts from the missed due instant: 09:00, inside the window.
        #expect(d.state.cadences[0].pending?.due == at("2025-10-26T09:00:00+01:00"))
    }

    @Test("A cadence counting from a step's outcome has not started until it is taken")
    func anchored() {
        var d = Driver(definition(Self.pb(from: .run(.outcome(step: loc("first"), outcome: loc("done"))))))
        #expect(d.state.cadences.isEmpty)
        #expect(d.state.timers.allSatisfy { if case .cadenceDue = $0.purpose { false } else { true } })
        d.advance("1h")
        d.act("first", "done")
        #expect(d.state.cadences.first?.origin == t0 + dur("1h"))
        #expect(d.timer(Self.due(1))?.due == t0 + dur("1h30m"))
    }

    @Test("The same events at the same instants fold to the same state; the state survives encoding")
    func replay() throws {
        let def = definition(Self.pb())
        var d = Driver(def)
        var log: [(EngineEvent, Instant)] = []
        func send(_ event: EngineEvent) {
            d.send(event)
            log.append((event, d.now))
        }
        send(.acted(step: "first", action: "done", fields: [:], actor: kari))
        d.advance("20m")
        send(.acted(step: "post", action: "done", fields: [:], actor: kari))
        send(.acted(step: "check", action: "skip", fields: ["reason": "not yet"], actor: kari))
        let timer = try #require(d.state.nextTimer)
        d.now = timer.due
        send(.timerFired(id: timer.id))
        d.advance("40m")
        send(.acted(step: "post", action: "done", fields: [:], actor: kari))
        #expect(d.state.cadences[0].missed == 2)

        var (state, _) = Engine.start(def, at: t0)
        for (event, instant) in log {
            guard case .success(let (next, _)) = Engine.handle(event, in: state, at: instant) else {
                Issue.record("replay refused \(event)")
                return
            }
            state = next
        }
        #expect(state == d.state)
        let bytes = try JSONEncoder().encode(state)
        let decoder = JSONDecoder()
        decoder.userInfo[IncidentState.definitionKey] = def
        #expect(try decoder.decode(IncidentState.self, from: bytes) == state)
    }
}
