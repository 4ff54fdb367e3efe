import Foundation
import Testing

/// Golden output of `validate` and `graph` on a shipped playbook. Re-record with RECORD_GOLDEN=1 (the test then
/// fails once, so a recording is never mistaken for a pass).
struct ShippedGoldenTests {
    static let playbook = "Playbooks/service-outage.yaml"
    static let goldenDir = CLI.root.appendingPathComponent("Tests/CrisisCLITests/Fixtures/golden")

    func check(_ output: String, against name: String) throws {
        let url = Self.goldenDir.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["RECORD_GOLDEN"] != nil {
            try Data(output.utf8).write(to: url)
            Issue.record("recorded \(name); run again without RECORD_GOLDEN")
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(output == expected, "\(name) differs from the golden file; RECORD_GOLDEN=1 re-records it")
    }

    @Test("crisis graph of a shipped playbook, Mermaid and DOT, matches the golden files")
    func graph() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let mermaid = try cli.run(["graph", Self.playbook], withDB: false)
        #expect(mermaid.status == 0)
        #expect(mermaid.stdout.hasPrefix("flowchart TD"))
        try check(mermaid.stdout, against: "service-outage.mmd")
        let dot = try cli.run(["graph", Self.playbook, "--format", "dot"], withDB: false)
        #expect(dot.status == 0)
        try check(dot.stdout, against: "service-outage.dot")
    }

    @Test("crisis validate of a shipped playbook with the example contacts matches the golden files")
    func validate() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let text = try cli.run(["validate", Self.playbook, "--contacts", "Examples/contacts.yaml"], withDB: false)
        #expect(text.status == 0)
        try check(text.stdout + text.stderr, against: "service-outage.validate.txt")
        let json = try cli.run(["validate", Self.playbook, "--contacts", "Examples/contacts.yaml", "--format", "json"],
                               withDB: false)
        #expect(json.status == 0)
        try check(json.stdout, against: "service-outage.validate.json")
    }
}
