import CrisisAudit
import CrisisCore
import CrisisPlaybook
@testable import CrisisRuntime
import Foundation
import Synchronization
import Testing

/// The world never leaks: a drill played from a scenario, with a transport configured, sends nothing through it;
/// the same service sends a live incident's deliveries through it (so the count below can fail).
struct DrillSandboxTests {
    /// Counts what reaches it; answers `sent`.
    final class CountingTransport: DeliveryTransport, Sendable {
        let count = Atomic<Int>(0)
        func send(_ delivery: Delivery) -> TransportResult {
            count.add(1, ordering: .sequentiallyConsistent)
            return TransportResult(.sent, "counted")
        }
    }

    @Test("a scenario drill with a transport configured makes zero sends; a live incident on the same service does")
    func drillNeverReachesTransport() throws {
        let root = IncidentServiceTests.root
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crisis-sandbox-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let transport = CountingTransport()
        let service = IncidentService(store: try AuditStore(path: dir.appendingPathComponent("a.sqlite").path),
                                      transport: transport)
        let path = root.appendingPathComponent("Tests/CrisisCLITests/Fixtures/drills/show-quick.yaml").path
        let loaded = ScenarioLoader.load(path: path)
        let scenario = try #require(loaded.scenario, "\(loaded.diagnostics)")
        let runner = DrillRunner(service: service, scenario: scenario,
                                 scenarioFile: ("show-quick.yaml", [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))))
        let id = try runner.start(wallNow: IncidentServiceTests.t0)
        let outcome = try runner.play(id, wallNow: { IncidentServiceTests.t0 }) { _ in }
        #expect(outcome.closed == "resolved")
        var deliveries = 0
        try service.store.forEachEvent(incident: id) { stored in if stored.type == .intent { deliveries += 1 } }
        #expect(deliveries > 3, "the drill made \(deliveries) deliveries")
        #expect(transport.count.load(ordering: .sequentiallyConsistent) == 0)

        // The same service, live: its pages go to the transport.
        _ = try service.start(.init(
            playbookPath: root.appendingPathComponent("Tests/CrisisCLITests/Fixtures/show.yaml").path,
            contactsPath: root.appendingPathComponent("Tests/CrisisCLITests/Fixtures/show-contacts.yaml").path,
            inputs: [("post_url", "https://x.com/a/status/1")], mode: .live, actor: Actor(name: "kari.lead", role: nil),
            wallNow: IncidentServiceTests.t0))
        #expect(transport.count.load(ordering: .sequentiallyConsistent) > 0)
    }
}
