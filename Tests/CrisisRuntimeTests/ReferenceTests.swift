import CrisisAudit
import CrisisCore
@testable import CrisisRuntime
import Foundation
import Testing

/// What the shell resolves before the engine sees it: short incident references, relative times, short
/// delivery keys. The records always hold the full, absolute values.
struct ReferenceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let mini = root.appendingPathComponent("Tests/CrisisCLITests/Fixtures/mini.yaml").path
    static let clocks = root.appendingPathComponent("Tests/CrisisCLITests/Fixtures/clocks.yaml").path
    static let t0 = ISO8601.parse("2025-10-24T10:00:00+02:00")!

    struct Fixture {
        let dir: URL
        let service: IncidentService
        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("crisis-ref-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            service = IncidentService(store: try AuditStore(path: dir.appendingPathComponent("a.sqlite").path))
        }
        func remove() { try? FileManager.default.removeItem(at: dir) }
    }

    let comms = Actor(name: "kari", role: "comms")
    let legal = Actor(name: "ola", role: "legal")
    let lead = Actor(name: "kari", role: "lead")

    func start(_ f: Fixture, _ playbook: String = mini, mode: IncidentMode = .drill, at: Instant = t0,
               inputs: [(String, String)] = [("post_url", "https://x.com/a/status/1")]) throws -> String {
        try f.service.start(.init(playbookPath: playbook, inputs: inputs, mode: mode, actor: comms, wallNow: at,
                                  simulatedStart: at)).incident.header.id
    }

    // MARK: relative times

    @Test("now, now±D and ±D are relative times; a bare duration and anything else are not")
    func relativeTimeParsing() {
        #expect(RelativeTime.offset("now") == .zero)
        #expect(RelativeTime.offset(" NOW ") == .zero)
        #expect(RelativeTime.offset("now-15m") == PlaybookDuration(milliseconds: -900_000))
        #expect(RelativeTime.offset("now + 2h") == .hours(2))
        #expect(RelativeTime.offset("-1h30m") == PlaybookDuration(milliseconds: -5_400_000))
        #expect(RelativeTime.offset("+90s") == .seconds(90))
        for text in ["15m", "now15m", "-", "now-", "yesterday", "", "--15m", "-15", "now-15x", "2025-10-24T10:00:00Z"] {
            #expect(RelativeTime.offset(text) == nil, "\(text)")
        }
        #expect(RelativeTime.resolve("-15m", now: Self.t0) == ISO8601.parse("2025-10-24T09:45:00+02:00"))
        #expect(RelativeTime.resolve("2025-10-24T08:00:00Z", now: Self.t0) == ISO8601.parse("2025-10-24T10:00:00+02:00"))
        #expect(RelativeTime.resolve("soon", now: Self.t0) == nil)
        // The engine stays strict: only the shell reads relative times.
        #expect(ValueType.time.problem(with: "now") != nil)
        #expect(ValueType.time.problem(with: "now")?.contains("now, -15m") == true)
    }

    @Test("start records a relative time input as the absolute time from the start instant, in the playbook's zone")
    func startInputs() throws {
        let f = try Fixture()
        defer { f.remove() }
        let id = try start(f, inputs: [("post_url", "https://x.com/a/status/1"), ("detected_at", "now-2h")])
        let incident = try f.service.load(id)
        #expect(incident.opened.inputs["detected_at"] == "2025-10-24T08:00:00+02:00")
        #expect(incident.definition.inputs["detected_at"] == "2025-10-24T08:00:00+02:00")
        // Winter: the zone's offset at that instant.
        let winter = ISO8601.parse("2025-12-01T12:00:00Z")!
        let w = try start(f, at: winter, inputs: [("post_url", "https://x.com/a/status/1"), ("detected_at", "now")])
        #expect(try f.service.load(w).opened.inputs["detected_at"] == "2025-12-01T13:00:00+01:00")
    }

    @Test("an action's time field given relative is recorded as the absolute time at the incident's clock")
    func actionTimeFields() throws {
        let f = try Fixture()
        defer { f.remove() }
        // A drill: the simulated clock, moved an hour on.
        let drill = try start(f, Self.clocks, inputs: [])
        _ = try f.service.tick(incident: drill, advance: .by(.hours(1)), actor: lead, wallNow: Self.t0)
        _ = try f.service.act(.init(incident: drill, step: "confirm", action: "done",
                                    fields: [("aware_at", "now-15m")], actor: lead, wallNow: Self.t0))
        #expect(try fields(f, drill, step: "confirm")["aware_at"] == "2025-10-24T10:45:00+02:00")
        // Live: the wall clock the command runs at.
        let live = try start(f, Self.clocks, mode: .live, inputs: [])
        let wall = ISO8601.parse("2025-10-24T10:20:30.750+02:00")!
        _ = try f.service.act(.init(incident: live, step: "confirm", action: "done",
                                    fields: [("aware_at", "-5m")], actor: lead, wallNow: wall))
        #expect(try fields(f, live, step: "confirm")["aware_at"] == "2025-10-24T10:15:30+02:00")
        // set_deadline's `at` too.
        let other = try start(f, Self.clocks, inputs: [])
        _ = try f.service.act(.init(incident: other, step: "incident", action: "set_deadline",
                                    fields: [("clock", "report"), ("at", "+48h"), ("reason", "the regulator said so")],
                                    actor: lead, wallNow: Self.t0))
        #expect(try fields(f, other, step: "incident")["at"] == "2025-10-26T09:00:00+01:00")
    }

    func fields(_ f: Fixture, _ id: String, step: String) throws -> [String: String] {
        let actions = try f.service.timeline(id).compactMap { entry -> TrailRecord.ActionTaken? in
            if case .action(let a)? = entry.record, a.step == step { a } else { nil }
        }
        return try #require(actions.last).fields
    }

    // MARK: incidents

    @Test("an incident reference: the exact id, a unique beginning or end, or the latest open one; else refused")
    func incidentReferences() throws {
        let f = try Fixture()
        defer { f.remove() }
        let a = try start(f)
        var b = try start(f, at: Self.t0 + .minutes(1))
        while b.suffix(4) == a.suffix(4) { b = try start(f, at: Self.t0 + .minutes(1)) }
        #expect(try f.service.resolveIncident(a) == a)
        #expect(try f.service.resolveIncident(String(a.suffix(4))) == a)
        #expect(try f.service.resolveIncident(String(a.suffix(4)).uppercased()) == a)
        #expect(try f.service.resolveIncident(String(b.suffix(4))) == b)
        #expect(throws: IncidentReferenceError.self) { try f.service.resolveIncident("mini") }
        do {
            _ = try f.service.resolveIncident("mini-")
            Issue.record("an ambiguous reference resolved")
        } catch let e as IncidentReferenceError {
            #expect(e.code == "ambiguous-incident")
            #expect(Set(e.candidates) == [a, b])
        }
        do {
            _ = try f.service.resolveIncident("zzzz")
            Issue.record("an unknown reference resolved")
        } catch let e as IncidentReferenceError {
            #expect(e.code == "unknown-incident")
            #expect(e.description.contains("no incident 'zzzz'"))
        }
        #expect(throws: IncidentReferenceError.self) { try f.service.resolveIncident("") }
        // Without a reference: the latest open incident; a closed one is never the default.
        #expect(try f.service.resolveIncident(nil) == b)
        _ = try f.service.act(.init(incident: b, step: "triage", action: "choose", fields: [("option", "minor")],
                                    actor: comms, wallNow: Self.t0 + .minutes(2)))
        #expect(try f.service.resolveIncident(nil) == a)
    }

    // MARK: deliveries

    @Test("confirm_delivery takes a delivery key's last segments; the outcome records the full key")
    func shortDeliveryKey() throws {
        let f = try Fixture()
        defer { f.remove() }
        let id = try start(f, mode: .live)
        _ = try f.service.act(.init(incident: id, step: "triage", action: "choose", fields: [("option", "serious")],
                                    actor: comms, wallNow: Self.t0))
        _ = try f.service.act(.init(incident: id, step: "statement", action: "draft",
                                    fields: [("what_we_know.nb", "Facts."), ("what_we_know.en", "Facts.")], actor: comms, wallNow: Self.t0))
        _ = try f.service.act(.init(incident: id, step: "statement", action: "approve", actor: legal, wallNow: Self.t0))
        // In Norwegian only: one publication per channel (issue 13: per channel and language).
        _ = try f.service.act(.init(incident: id, step: "statement", action: "publish", fields: [("language", "nb")],
                                    actor: comms, wallNow: Self.t0))
        let keys = try f.service.load(id).state.openDeliveries.map(\.delivery.key)
        #expect(keys.count == 2)
        let parts = keys[1].split(separator: "/")
        let short = parts.suffix(2).joined(separator: "/")
        _ = try f.service.act(.init(incident: id, step: "statement", action: "confirm_delivery",
                                    fields: [("key", short), ("result", "sent")], actor: comms, wallNow: Self.t0))
        let outcomes = try f.service.timeline(id).compactMap { e -> String? in
            if case .outcome(let o)? = e.record, o.result == .sent { o.key } else { nil }
        }
        #expect(outcomes == [keys[1]])
        #expect(try f.service.load(id).state.openDeliveries.map(\.delivery.key) == [keys[0]])
        // A part that ends no waiting delivery's key is refused, naming what was typed.
        #expect(throws: RuntimeError.self) {
            try f.service.act(.init(incident: id, step: "statement", action: "confirm_delivery",
                                    fields: [("key", "publish"), ("result", "sent")], actor: comms, wallNow: Self.t0))
        }
    }
}
