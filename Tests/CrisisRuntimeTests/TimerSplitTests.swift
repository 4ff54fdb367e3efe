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

    /// A random playbook made of timed steps only (escalations with repeats, waits, tasks and choices that time
    /// out, a clock with warnings started and stopped, a parallel of two timed branches, a target), written as
    /// YAML so it goes through the real loader.
    static func randomPlaybook(seed: UInt64) -> String {
        var rng = SplitMix64(seed: seed)
        func minutes() -> String { "\(Int.random(in: 1...95, using: &rng))m" }
        let count = Int.random(in: 4...9, using: &rng)
        var steps: [String] = []
        for i in 0..<count {
            let next = i + 1 < count ? "s\(i + 1)" : "fin"
            switch Int.random(in: 0...5, using: &rng) {
            case 0:
                let levels = (0..<Int.random(in: 1...3, using: &rng)).map { _ in
                    "      - {targets: [\"role:lead\"], ack_timeout: \"\(minutes())\", channels: [sms]}"
                }
                steps.append("""
                  s\(i):
                    type: escalate
                    title: Page \(i)
                    levels:
                \(levels.joined(separator: "\n"))
                    repeat: \(Int.random(in: 0...2, using: &rng))
                    message: "Page \(i)"
                    next: {acknowledged: \(next), exhausted: \(next)}
                """)
            case 1:
                steps.append("  s\(i):\n    type: wait\n    title: Wait \(i)\n    for: \"\(minutes())\"\n    next: {elapsed: \(next)}")
            case 2:
                steps.append("""
                  s\(i):
                    type: task
                    title: Task \(i)
                    role: lead
                    timeout: "\(minutes())"
                    next: \(next)
                """)
            case 3:
                steps.append("""
                  s\(i):
                    type: choice
                    title: Choice \(i)
                    role: lead
                    timeout: "\(minutes())"
                    options:
                      a: {label: A, next: \(next)}
                      b: {label: B, next: \(next)}
                    default: a
                """)
            case 4:
                let op = i % 2 == 0 ? "start" : "stop"
                steps.append("  s\(i):\n    type: clock\n    title: Clock \(i)\n    clock: c\n    op: \(op)\n    next: {done: \(next)}")
            default:
                steps.append("""
                  s\(i):
                    type: parallel
                    title: Both \(i)
                    branches:
                      one:
                        start: w\(i)a
                        steps:
                          w\(i)a: {type: wait, title: W, for: "\(minutes())", next: {elapsed: e\(i)a}}
                          e\(i)a: {type: end, title: E, outcome: done}
                      two:
                        start: w\(i)b
                        steps:
                          w\(i)b: {type: wait, title: W, for: "\(minutes())", next: {elapsed: e\(i)b}}
                          e\(i)b: {type: end, title: E, outcome: done}
                    timeout: "\(minutes())"
                    next: {done: \(next), failed: \(next), timeout: \(next)}
                """)
            }
        }
        return """
            schema: crisis-playbook/v1
            id: random-\(seed)
            version: "1"
            title: Random timed playbook \(seed)
            timezone: Europe/Oslo
            languages: [en]
            roles:
              lead: {title: Lead, lead: true}
            clocks:
              c: {title: Clock, duration: "\(minutes())", warn_before: ["\(Int.random(in: 1...20, using: &rng))m"]}
            targets:
              triaged: {title: Triaged, step: t0, outcome: done, within: "\(Int.random(in: 1...8, using: &rng))h"}
            start: t0
            steps:
              t0: {type: task, title: Triage, role: lead, timeout: "\(minutes())", next: s0}
            \(steps.joined(separator: "\n"))
              fin: {type: end, title: Done, outcome: resolved}

            """
    }

    @Test("random playbooks: any split of the same span gives the same state and recorded times",
          arguments: UInt64(1)...8)
    func randomPlaybooks(_ seed: UInt64) throws {
        let f = try IncidentServiceTests.Fixture()
        defer { f.remove() }
        let path = f.dir.appendingPathComponent("random.yaml").path
        try Self.randomPlaybook(seed: seed).write(toFile: path, atomically: true, encoding: .utf8)
        let start = { try f.service.start(.init(playbookPath: path, mode: .drill, actor: self.op, wallNow: Self.t0,
                                               simulatedStart: Self.t0)).incident.header.id }
        let span: Int64 = 10 * 3_600_000
        let whole = try start()
        _ = try f.service.tick(incident: whole, advance: .by(PlaybookDuration(milliseconds: span)), actor: op,
                               wallNow: Self.t0)
        let reference = try f.service.load(whole)
        var rng = SplitMix64(seed: seed &+ 1000)
        let id = try start()
        var left = span
        while left > 0, try f.service.load(id).state.status.isOpen {
            let step = min(left, Int64.random(in: 1...(40 * 60_000), using: &rng))
            _ = try f.service.tick(incident: id, advance: .by(PlaybookDuration(milliseconds: step)), actor: op,
                                   wallNow: Self.t0)
            left -= step
        }
        #expect(try Self.normalized(try f.service.load(id).state, id: id) == Self.normalized(reference.state, id: whole))
        #expect(try Self.timerTimes(f.service, id) == Self.timerTimes(f.service, whole))
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
