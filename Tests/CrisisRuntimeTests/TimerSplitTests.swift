import CrisisAudit
import CrisisCore
@testable import CrisisRuntime
import Foundation
import Testing

/// Timers fire at their own due instants, so how a span of time is cut into advances changes nothing: one
/// `--advance 30h` and a hundred random small advances give the same state and the same recorded engine times.
struct TimerSplitTests {
    static let root = IncidentServiceTests.root
    static let playbooks = ["customer-data-breach", "employee-post-viral", "executive-impersonation",
                            "news-tip-removal", "service-outage", "travel-disruption"]
    static let contacts = root.appendingPathComponent("Examples/contacts.yaml").path
    static let t0 = ISO8601.parse("2026-03-27T16:40:00+01:00")!
    let op = Actor(name: "kari.nordmann")

    /// A value for a required input of `kind` (a time input: the drill's start).
    static func value(_ kind: String) -> String {
        switch kind {
        case "time": "2026-03-27T16:40:00+01:00"
        case "url": "https://x.com/example/status/1"
        case "urls": "https://x.com/a/status/1 https://x.com/b/status/2"
        case "number", "integer": "3"
        case "boolean", "bool": "true"
        default: "Example"
        }
    }

    /// Starts a drill of a shipped playbook, learning its required inputs from the refusal as a user would.
    static func startDrill(_ service: IncidentService, playbook: String) throws -> String {
        let path = root.appendingPathComponent("Playbooks/\(playbook).yaml").path
        var inputs: [(String, String)] = []
        for _ in 0..<2 {
            do {
                return try service.start(.init(
                    playbookPath: path, contactsPath: contacts, inputs: inputs, mode: .drill,
                    actor: Actor(name: "kari.nordmann"), wallNow: t0, simulatedStart: t0)).incident.header.id
            } catch RuntimeError.invalidInputs(_, let missing) {
                inputs += missing.map { m in
                    let kind = m.kind.hasPrefix("enum: ")
                        ? String(m.kind.dropFirst(6).split(separator: "|").first ?? "") : value(m.kind)
                    return (m.name, kind)
                }
            }
        }
        throw RuntimeError.invalid("could not start \(playbook)")
    }

    /// The state as JSON with the incident id (which every delivery key holds) replaced.
    static func normalized(_ state: IncidentState, id: String) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(state), as: UTF8.self).replacingOccurrences(of: id, with: "ID")
    }

    /// The timer records of an incident as (timer, engine time, due).
    static func timerTimes(_ service: IncidentService, _ id: String) throws -> [String] {
        try service.timeline(id).compactMap { entry in
            guard case .timer(let t)? = entry.record else { return nil }
            return "\(t.timer)@\(t.now.millisecondsSinceEpoch) due \(t.due.millisecondsSinceEpoch)"
        }
    }

    @Test("any split of 30 hours into advances gives the same state and the same recorded times",
          arguments: playbooks)
    func splits(_ playbook: String) throws {
        let f = try IncidentServiceTests.Fixture()
        defer { f.remove() }
        let span: Int64 = 30 * 3_600_000
        let whole = try Self.startDrill(f.service, playbook: playbook)
        _ = try f.service.tick(incident: whole, advance: .by(PlaybookDuration(milliseconds: span)), actor: op, wallNow: Self.t0)
        let reference = try f.service.load(whole)
        let referenceTimes = try Self.timerTimes(f.service, whole)
        #expect(referenceTimes.count >= 3, "the playbook should have timers to fire in 30 hours")

        for seed in UInt64(1)...2 {
            var rng = SplitMix64(seed: seed &* 7919 &+ UInt64(playbook.utf8.count))
            let id = try Self.startDrill(f.service, playbook: playbook)
            var left = span
            while left > 0 {
                let step = min(left, Int64.random(in: 1...(150 * 60_000), using: &rng))
                _ = try f.service.tick(incident: id, advance: .by(PlaybookDuration(milliseconds: step)), actor: op,
                                       wallNow: Self.t0)
                left -= step
            }
            let split = try f.service.load(id)
            #expect(split.now == reference.now)
            #expect(try Self.normalized(split.state, id: id) == Self.normalized(reference.state, id: whole),
                    "seed \(seed): the state differs from one advance of 30h")
            #expect(try Self.timerTimes(f.service, id) == referenceTimes, "seed \(seed)")
            // And the trail replays to that state from scratch.
            #expect(try f.service.replay(id).state == split.state)
        }
    }

    @Test("a timer armed by a timer counts from the first one's due instant, not from the end of the advance")
    func armedFromDue() throws {
        let f = try IncidentServiceTests.Fixture()
        defer { f.remove() }
        let id = try Self.startDrill(f.service, playbook: "service-outage")
        _ = try f.service.tick(incident: id, advance: .by(.minutes(180)), actor: op, wallNow: Self.t0)
        for entry in try f.service.timeline(id) {
            guard case .timer(let t)? = entry.record else { continue }
            #expect(t.now == t.due, "timer \(t.timer) handled at \(t.now), due \(t.due)")
            #expect(t.firedAt == nil, "drill timers have no wall-clock firing time")
        }
    }

    @Test("a live timer is handled at its due instant and records when it really fired, and how late")
    func liveCatchUp() throws {
        let f = try IncidentServiceTests.Fixture()
        defer { f.remove() }
        let id = try f.service.start(.init(
            playbookPath: IncidentServiceTests.mini, inputs: [("post_url", "https://x.com/a/status/1")], mode: .live,
            actor: op, wallNow: Self.t0)).incident.header.id
        let first = try #require(try f.service.load(id).state.nextTimer)
        // The watcher was asleep for five hours.
        let late = Self.t0 + .minutes(300)
        let result = try f.service.tick(incident: id, advance: .none, actor: op, wallNow: late)
        var timers: [TrailRecord.TimerFired] = []
        var clock = Self.t0
        for entry in try f.service.timeline(id) {
            guard let record = entry.record else { continue }
            if case .timer(let t) = record {
                // At its due instant; a timer armed already overdue (a clock counted from an old input) at once.
                #expect(t.now == max(t.due, clock), "timer \(t.timer)")
                #expect(t.firedAt == late)
                #expect(t.lateBy == late - t.due)
                timers.append(t)
            }
            clock = max(clock, record.now ?? clock)
        }
        #expect(timers.first?.timer == first.id)
        #expect(timers.count >= 2)
        #expect(result.incident.state.nextTimer.map { $0.due > late } ?? true, "everything due by then fired")
    }

    @Test("an advance of zero, a live advance and an advance with nothing armed are refused and recorded as refusals")
    func refusals() throws {
        let f = try IncidentServiceTests.Fixture()
        defer { f.remove() }
        let drill = try Self.startDrill(f.service, playbook: "service-outage")
        let before = try f.service.store.headSeq(incident: drill)
        #expect(throws: RuntimeError.self) {
            try f.service.tick(incident: drill, advance: .by(PlaybookDuration(milliseconds: 0)), actor: op,
                               wallNow: Self.t0)
        }
        let after = try f.service.timeline(drill)
        #expect(after.count == before + 1)
        guard case .rejected(let r)? = after.last?.record else {
            Issue.record("the refusal is not recorded")
            return
        }
        #expect(r.code == RejectionCode.invalidAdvance.rawValue)
        #expect(try f.service.load(drill).now == Self.t0, "the clock did not move")

        let live = try f.service.start(.init(
            playbookPath: IncidentServiceTests.mini, inputs: [("post_url", "https://x.com/a/status/1")], mode: .live,
            actor: op, wallNow: Self.t0)).incident.header.id
        #expect(throws: RuntimeError.self) {
            try f.service.tick(incident: live, advance: .by(.minutes(5)), actor: op, wallNow: Self.t0)
        }
        guard case .rejected(let r2)? = try f.service.timeline(live).last?.record else {
            Issue.record("the live refusal is not recorded")
            return
        }
        #expect(r2.code == RejectionCode.invalidAdvance.rawValue)
    }
}

/// A small seeded generator (SplitMix64), so every split can be reproduced from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
