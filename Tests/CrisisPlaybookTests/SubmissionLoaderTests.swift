import CrisisCore
import Foundation
import Testing

@testable import CrisisPlaybook

/// The `submission` step: authority, legal basis (catalog clock or cited), phases and content fields.
@Suite("Loader: regulatory submission")
struct SubmissionLoaderTests {
    static func yaml(_ keys: String) -> String {
        """
        schema: crisis-playbook/v1
        id: sub
        version: "1"
        title: Submission
        roles:
          dpo: {title: DPO, lead: true}
        clocks:
          gdpr_art33: {clock: gdpr-art33}
        start: notify
        steps:
          notify:
            type: submission
            title: Notify Datatilsynet
            role: dpo
            authority: Datatilsynet
        \(keys)
            timeout: "72h"
            next: {submitted: done, timeout: done}
          done: {type: end, title: Done, outcome: done}
        """
    }

    /// Loads and validates the playbook from a temporary file.
    static func load(_ keys: String) throws -> LoadResult {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sub-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("p.yaml").path
        try yaml(keys).write(toFile: path, atomically: true, encoding: .utf8)
        return PlaybookLoader.loadValidated(path: path)
    }

    static func spec(_ result: LoadResult) -> SubmissionSpec? {
        guard case .submission(let s)? = result.playbook?.step("notify")?.kind else { return nil }
        return s
    }

    @Test("a catalog legal basis gives the catalog's content fields; phases and stops_clock are read")
    func catalogDefault() throws {
        let r = try Self.load("    legal_basis: gdpr-art33\n    phases: [initial, update, final]\n    stops_clock: gdpr_art33")
        #expect(!r.hasErrors, "\(r.diagnostics)")
        let s = try #require(Self.spec(r))
        #expect(s.phases == [.initial, .update, .final])
        #expect(s.content.map(\.name) == ["nature", "contact_point", "consequences", "measures", "delay_reasons"])
        #expect(s.stopsClock?.value == "gdpr_art33")
    }

    @Test("content fields: a prompt, or a mapping with required, required_in and prefill")
    func ownContent() throws {
        let r = try Self.load("""
                legal_basis: Finanstilsynet ICT incident rule
                citation: "DORA Art. 19"
                phases: [initial, final]
                content:
                  summary: "What happened"
                  root_cause: {prompt: "Root cause", required_in: [final]}
                  extra: {prompt: "Anything else", required: false, prefill: "n/a"}
            """)
        #expect(!r.hasErrors, "\(r.diagnostics)")
        let s = try #require(Self.spec(r))
        #expect(s.citation == "DORA Art. 19")
        #expect(s.content.map(\.name) == ["summary", "root_cause", "extra"])
        #expect(s.requiredFields(in: .initial).map(\.name) == ["summary"])
        #expect(s.requiredFields(in: .final).map(\.name) == ["summary", "root_cause"])
        #expect(s.content[2].prefill == "n/a")
    }

    @Test("an unknown legal basis without a citation is an error naming the catalog, with a suggestion")
    func unknownLegalBasis() throws {
        let r = try Self.load("    legal_basis: gdpr-art3")
        let d = try #require(r.diagnostics.first { $0.code == .badValue })
        #expect(d.message.contains("'gdpr-art3', which is not in the clock catalog"))
        #expect(d.message.contains("gdpr-art33"))
        #expect(r.playbook == nil)
    }

    @Test("an unknown phase, a phase list not starting with initial, and an undeclared stops_clock are errors")
    func badPhasesAndClock() throws {
        let unknown = try Self.load("    legal_basis: gdpr-art33\n    phases: [initial, interim]")
        #expect(unknown.hasErrors)
        #expect(unknown.diagnostics.contains { $0.message.contains("interim") })
        let order = try Self.load("    legal_basis: gdpr-art33\n    phases: [update, final]")
        #expect(order.diagnostics.contains { $0.message.contains("must begin with 'initial'") })
        let clock = try Self.load("    legal_basis: gdpr-art33\n    stops_clock: gdpr_art_33")
        let d = try #require(clock.diagnostics.first { $0.code == .unknownClock })
        #expect(d.message.contains("did you mean 'gdpr_art33'?"))
    }

    @Test("a target may name a submission phase with reaches")
    func targetReachesPhase() throws {
        let r = try Self.load("    legal_basis: gdpr-art33\n    phases: [initial, final]")
        #expect(!r.hasErrors)
        #expect(TargetSpec.intermediateStates(of: .submission) == ["initial", "update", "final"])
    }
}
