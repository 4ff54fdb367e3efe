import CrisisAudit
import CrisisCore
@testable import CrisisRuntime
import Foundation
import Testing

/// The runtime on a real SQLite file in a temporary folder, with a fixed clock.
struct IncidentServiceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let mini = root.appendingPathComponent("Tests/CrisisCLITests/Fixtures/mini.yaml").path
    static let t0 = ISO8601.parse("2025-10-24T10:05:00+02:00")!

    struct Fixture {
        let dir: URL
        let service: IncidentService
        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("crisis-rt-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            service = IncidentService(store: try AuditStore(path: dir.appendingPathComponent("a.sqlite").path))
        }
        func remove() { try? FileManager.default.removeItem(at: dir) }
    }

    let comms = Actor(name: "kari", role: "comms")
    let legal = Actor(name: "ola", role: "legal")

    func start(_ f: Fixture, mode: IncidentMode = .drill) throws -> String {
        try f.service.start(.init(
            playbookPath: Self.mini, inputs: [("post_url", "https://x.com/a/status/1")], mode: mode,
            actor: comms, wallNow: Self.t0, simulatedStart: Self.t0)).incident.header.id
    }

    @Test("state after a series of commands equals the state replayed from the trail")
    func replayEqualsLive() throws {
        let f = try Fixture()
        defer { f.remove() }
        let id = try start(f)
        var live = try f.service.act(.init(incident: id, step: "triage", action: "choose",
                                           fields: [("option", "serious")], actor: comms, wallNow: Self.t0))
        live = try f.service.act(.init(incident: id, step: "statement", action: "draft",
                                       fields: [("what_we_know.nb", "Facts."), ("what_we_know.en", "Facts.")], actor: comms, wallNow: Self.t0))
        live = try f.service.tick(incident: id, advance: .by(.minutes(31)), actor: comms, wallNow: Self.t0)
        live = try f.service.act(.init(incident: id, step: "statement", action: "approve", actor: legal,
                                       wallNow: Self.t0))
        let replayed = try f.service.load(id)
        #expect(replayed.state == live.incident.state)
        #expect(replayed.seq == live.incident.seq)
        // The approval fallback timer fired during the advance (30m window), so it is gone from the timers.
        #expect(!replayed.state.timers.contains { $0.purpose == .approvalFallback })
    }

    @Test("loading never writes: resuming an incident re-runs nothing that already has an outcome")
    func loadIsReadOnly() throws {
        let f = try Fixture()
        defer { f.remove() }
        let id = try start(f)
        _ = try f.service.act(.init(incident: id, step: "triage", action: "choose", fields: [("option", "serious")],
                                    actor: comms, wallNow: Self.t0))
        let before = try f.service.store.events(incident: id).count
        for _ in 0..<3 { _ = try f.service.load(id) }
        #expect(try f.service.store.events(incident: id).count == before)
    }

    @Test("a delivery intent with no outcome is in doubt after reload, and settling it records one outcome")
    func inDoubt() throws {
        let f = try Fixture()
        defer { f.remove() }
        let id = try start(f)
        _ = try f.service.act(.init(incident: id, step: "triage", action: "choose", fields: [("option", "serious")],
                                    actor: comms, wallNow: Self.t0))
        _ = try f.service.act(.init(incident: id, step: "statement", action: "draft",
                                    fields: [("what_we_know.nb", "Facts."), ("what_we_know.en", "Facts.")], actor: comms, wallNow: Self.t0))
        _ = try f.service.act(.init(incident: id, step: "statement", action: "approve", actor: legal, wallNow: Self.t0))
        // Simulate a crash after the intents: the engine's publish, written by hand as the runtime would,
        // without the outcomes.
        let loaded = try f.service.load(id)
        // In Norwegian only: one publication per channel (issue 13: per channel and language).
        let event = EngineEvent.acted(step: "statement", action: "publish", fields: ["language": "nb"], actor: comms)
        guard case .success(let (_, actions)) = Engine.handle(event, in: loaded.state, at: loaded.now) else {
            Issue.record("publish refused")
            return
        }
        let deliveries = actions.compactMap { if case .deliver(let d) = $0 { d } else { nil } }
        #expect(deliveries.map(\.channel) == ["x", "website"])
        var drafts = [EventDraft(
            type: RecordType.action, idempotencyKey: "crash-publish", actor: AuditActor(id: "kari", role: "comms"),
            recordedAt: Self.t0,
            body: .object([
                ("action", .string("publish")), ("actor", .object([("name", .string("kari")), ("role", .string("comms"))])),
                ("fields", .array([.object([("name", .string("language")), ("value", .string("nb"))])])),
                ("now", .integer(loaded.now.millisecondsSinceEpoch)), ("step", .string("statement")),
            ]))]
        for d in deliveries {
            drafts.append(EventDraft(type: RecordType.intent, idempotencyKey: "intent/\(d.key)",
                                     actor: AuditActor(id: "kari"), recordedAt: Self.t0,
                                     body: TrailRecord.intent(.init(now: loaded.now, delivery: d)).body))
        }
        _ = try f.service.store.append(incident: id, expectedSeq: loaded.seq, events: drafts)
        let resumed = try f.service.load(id)
        let report = StatusReport(resumed)
        #expect(report.deliveries.count == 2)
        #expect(report.deliveries.allSatisfy { $0.in_doubt })
        // Settle one as sent, one as failed: the statement is not published; the failed channel may be retried.
        let r1 = try f.service.act(.init(incident: id, step: "statement", action: "confirm_delivery",
                                         fields: [("key", deliveries[0].key), ("result", "sent")], actor: comms,
                                         wallNow: Self.t0))
        #expect(StatusReport(r1.incident).deliveries.count == 1)
        _ = try f.service.act(.init(incident: id, step: "statement", action: "confirm_delivery",
                                    fields: [("key", deliveries[1].key), ("result", "failed")], actor: comms,
                                    wallNow: Self.t0))
        let after = try f.service.load(id)
        #expect(after.state.run("statement") != nil)
        // Settled by a person, step active or not: two outcomes, each naming its delivery, its result and who
        // settled it; no new intent was written.
        let trail = try f.service.timeline(id).compactMap(\.record)
        let settled = trail.compactMap { if case .outcome(let o) = $0, o.actor == comms { o } else { nil } }
        #expect(settled.map(\.key) == [deliveries[0].key, deliveries[1].key])
        #expect(settled.map(\.result) == [.sent, .failed])
        #expect(trail.filter { if case .intent = $0 { true } else { false } }.count == 2)
        #expect(after.seq == resumed.seq + 2)
        // A delivery already settled cannot be changed.
        #expect(throws: RuntimeError.self) {
            try f.service.act(.init(incident: id, step: "statement", action: "confirm_delivery",
                                    fields: [("key", deliveries[0].key), ("result", "failed")], actor: comms,
                                    wallNow: Self.t0))
        }
    }

    @Test("the pinned playbook is what runs: editing the file after start changes nothing")
    func pinnedPlaybook() throws {
        let f = try Fixture()
        defer { f.remove() }
        let dir = f.dir.appendingPathComponent("pb")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("templates"), withIntermediateDirectories: true)
        let source = try String(contentsOfFile: Self.mini, encoding: .utf8)
        let copy = dir.appendingPathComponent("mini.yaml").path
        try source.write(toFile: copy, atomically: true, encoding: .utf8)
        for lang in ["nb", "en"] {
            try FileManager.default.copyItem(
                atPath: Self.root.appendingPathComponent("Tests/CrisisCLITests/Fixtures/templates/mini.\(lang).mustache").path,
                toPath: dir.appendingPathComponent("templates/mini.\(lang).mustache").path)
        }
        let id = try f.service.start(.init(playbookPath: copy, inputs: [("post_url", "https://x.com/a/1")],
                                           mode: .drill, actor: comms, wallNow: Self.t0)).incident.header.id
        try source.replacingOccurrences(of: "title: Is it serious?", with: "title: EDITED")
            .replacingOccurrences(of: "minor: {label: \"No\", next: closed_minor}", with: "")
            .write(toFile: copy, atomically: true, encoding: .utf8)
        try "EDITED TEMPLATE {{facts.what_we_know}}".write(
            toFile: dir.appendingPathComponent("templates/mini.en.mustache").path, atomically: true, encoding: .utf8)
        let loaded = try f.service.load(id)
        #expect(loaded.definition.playbook.step("triage")?.title == "Is it serious?")
        _ = try f.service.act(.init(incident: id, step: "triage", action: "choose", fields: [("option", "serious")],
                                    actor: comms, wallNow: Self.t0))
        let drafted = try f.service.act(.init(incident: id, step: "statement", action: "draft",
                                              fields: [("what_we_know.nb", "Facts."), ("what_we_know.en", "Facts.")], actor: comms, wallNow: Self.t0))
        guard case .statement(let s)? = drafted.incident.state.run("statement")?.detail else {
            Issue.record("statement not active")
            return
        }
        #expect(s.current?.texts["en"] == "We are aware of the post. Facts. Next update within the hour.")
    }

    @Test("a draft over a channel's limit is refused with the channel, count and limit named")
    func channelLimit() throws {
        let f = try Fixture()
        defer { f.remove() }
        let id = try start(f)
        _ = try f.service.act(.init(incident: id, step: "triage", action: "choose", fields: [("option", "serious")],
                                    actor: comms, wallNow: Self.t0))
        do {
            _ = try f.service.act(.init(incident: id, step: "statement", action: "draft",
                                        fields: [("what_we_know.nb", String(repeating: "ø", count: 300)), ("what_we_know.en", String(repeating: "ø", count: 300))],
                                        actor: comms, wallNow: Self.t0))
            Issue.record("an over-long draft was accepted")
        } catch RuntimeError.refused(let code, let message, _) {
            #expect(code == "over-channel-limit")
            #expect(message.contains("on x"))
            #expect(message.contains("280"))
        }
        let events = try f.service.store.events(incident: id)
        #expect(events.last?.type == RecordType.rejected)
    }

    @Test("a live incident's engine time never goes backwards; a backwards wall clock is flagged")
    func clockAnomaly() throws {
        let f = try Fixture()
        defer { f.remove() }
        let id = try start(f, mode: .live)
        let earlier = Self.t0 + PlaybookDuration(milliseconds: -3_600_000)
        let r = try f.service.note(incident: id, text: "clock went back", actor: comms, expectSeq: nil,
                                   idempotencyKey: nil, wallNow: earlier)
        let record = try #require(r.records.last)
        #expect(record.body["clock_anomaly"] != nil)
        #expect(record.body["now"]?.intValue == Int(Self.t0.millisecondsSinceEpoch))
    }
}
