import CrisisCore
import Foundation
import Testing

@testable import CrisisPlaybook

/// `crisis validate` and `crisis graph` output on the valid fixture, compared with recorded files. Run with
/// RECORD_GOLDEN=1 to re-record them in the source tree (the test then fails, so a recording is never a pass).
@Suite("Golden output")
struct GoldenTests {
    func compare(_ actual: String, with name: String) throws {
        if ProcessInfo.processInfo.environment["RECORD_GOLDEN"] == "1" {
            let url = Fixtures.sourceRoot.appendingPathComponent("valid/" + name)
            try Data(actual.utf8).write(to: url)
            Issue.record("recorded \(url.path); run again without RECORD_GOLDEN")
            return
        }
        let expected = try String(contentsOfFile: try Fixtures.path("valid/" + name), encoding: .utf8)
        #expect(actual == expected)
    }

    /// Output with the machine-specific fixtures directory removed from paths.
    func relative(_ text: String) throws -> String {
        text.replacingOccurrences(of: try Fixtures.root().path + "/", with: "")
    }

    @Test("validate, json")
    func validateJSON() throws {
        let reports = ValidationReport.check(
            files: [try Fixtures.path("valid/small.yaml"), try Fixtures.path("broken/no-path-to-end.yaml")])
        try compare(relative(ValidationReport.json(reports)), with: "small.validate.expected.json")
    }

    @Test("graph, mermaid")
    func mermaid() throws {
        let playbook = try #require(PlaybookLoader.load(path: try Fixtures.path("valid/small.yaml")).playbook)
        try compare(PlaybookGraph.render(playbook, format: .mermaid), with: "small.mmd")
    }

    @Test("graph, dot")
    func dot() throws {
        let playbook = try #require(PlaybookLoader.load(path: try Fixtures.path("valid/small.yaml")).playbook)
        try compare(PlaybookGraph.render(playbook, format: .dot), with: "small.dot")
    }

    @Test("Graph labels escape quotes and brackets; timeout edges are dashed; same-target outcomes share an edge")
    func graphDetails() throws {
        let yaml = playbookYAML(steps: """
              a: {type: task, title: "Say \\"hi\\" [now] {x} (y) | z # 1", timeout: "5m", next: {done: end, skipped: end, timeout: b}}
              b: {type: end, title: B, outcome: resolved}
              end: {type: end, title: E, outcome: resolved}
            """)
        let playbook = try #require(loadYAML(yaml).playbook)
        let m = PlaybookGraph.mermaid(playbook)
        #expect(m.contains("a[\"task: Say #quot;hi#quot; #91;now#93; #123;x#125; #40;y#41; #124; z #35; 1\"]"))
        #expect(m.contains("a -->|\"done, skipped\"| end__"))
        #expect(m.contains("a -.->|\"timeout\"| b"))
        #expect(m.contains("end__([\"end: E\"])"))
        let d = PlaybookGraph.dot(playbook)
        #expect(d.contains("\"a\" [label=\"task: Say \\\"hi\\\" [now] {x} (y) | z # 1\"];"))
        #expect(d.contains("\"a\" -> \"b\" [label=\"timeout\", style=dashed];"))
    }
}
