import Foundation
import Testing

/// Decisions as records with the real binary: `choose` refused without a rationale and over a standing objection,
/// the override recorded, the clock the decision started, and the obligations register in `status` and `--json`.
@Suite(.serialized)
struct DecisionStatusTests {
    static let playbook = "Tests/CrisisCLITests/Fixtures/decisions.yaml"

    static func unwrapped(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
    }

    @Test("rationale required, objection then override, a clock started by the decision, the register in status")
    func decisionRecords() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let started = try cli.run(["start", Self.playbook, "--drill", "--clock", "2025-10-24T10:00:00+02:00"])
        #expect(started.status == 0, "start failed: \(started.stderr)")
        let id = started.lastLine

        var s = try cli.run(["status", id, "--json"]).json()
        var obligations = try #require(s["obligations"] as? [[String: Any]])
        #expect(obligations.map { $0["decision"] as? String } == ["not_considered", "not_considered"])
        #expect(Self.unwrapped(try cli.run(["status", id]).stdout).contains("gdpr_art34 not yet considered"))

        let consider = try cli.run([
            "act", id, "incident", "consider", "--set", "obligation=nis2", "--set", "decision=not_applicable",
            "--set", "reason=Not an essential entity", "--as", "kari",
        ])
        #expect(consider.status == 0, "\(consider.stdout)\(consider.stderr)")

        let bare = try cli.run(["act", id, "restore_or_sue", "choose", "--set", "option=sue", "--as", "ola", "--role", "legal"])
        #expect(bare.status == 1)
        #expect(bare.stderr.contains("needs field 'rationale'"))
        let object = try cli.run([
            "act", id, "restore_or_sue", "object", "--set", "reason=Court brings the story back", "--as", "kari",
        ])
        #expect(object.status == 0, "\(object.stdout)\(object.stderr)")
        #expect(Self.unwrapped(try cli.run(["status", id]).stdout).contains("kari objects"))
        let noOverride = try cli.run([
            "act", id, "restore_or_sue", "choose", "--set", "option=sue", "--set", "rationale=They refuse",
            "--as", "ola", "--role", "legal",
        ])
        #expect(noOverride.status == 1)
        #expect(noOverride.stderr.contains("needs field 'override'"))
        let chosen = try cli.run([
            "act", id, "restore_or_sue", "choose", "--set", "option=sue", "--set", "rationale=They refuse",
            "--set", "override=Counsel says the case is strong", "--as", "ola", "--role", "legal",
        ])
        #expect(chosen.status == 0, "\(chosen.stdout)\(chosen.stderr)")

        s = try cli.run(["status", id, "--json"]).json()
        let decisions = try #require(s["decisions"] as? [[String: Any]])
        #expect(decisions.first?["option"] as? String == "sue")
        #expect(decisions.first?["rationale"] as? String == "They refuse")
        #expect(decisions.first?["override"] as? String == "Counsel says the case is strong")
        #expect(decisions.first?["overrode"] as? [String] == ["kari: Court brings the story back"])
        #expect(decisions.first?["started_clock"] as? String == "court")
        let objections = try #require(s["objections"] as? [[String: Any]])
        #expect(objections.first?["overridden_by"] as? String == "ola")
        let clocks = try #require(s["clocks"] as? [[String: Any]])
        #expect(clocks.first?["started_by"] as? String == "sue on restore_or_sue by ola")
        obligations = try #require(s["obligations"] as? [[String: Any]])
        let nis2 = try #require(obligations.first { $0["id"] as? String == "nis2" })
        #expect(nis2["decision"] as? String == "not_applicable")
        #expect(nis2["reason"] as? String == "Not an essential entity")
        #expect(nis2["by"] as? String == "kari")
        let text = Self.unwrapped(try cli.run(["status", id]).stdout)
        #expect(text.contains("nis2 not applicable kari"))
        #expect(text.contains("started by the decision sue on restore_or_sue by ola"))
        #expect(text.contains("overrode kari: Court brings the story back: Counsel says the case is strong"))
        #expect(try cli.run(["verify", id]).status == 0)
    }
}
