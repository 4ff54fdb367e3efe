import Foundation
import Testing

/// Declared limits and content checks with the real binary: a draft over a declared SMS limit and holding a
/// forbidden word is recorded with its measures and findings and says so; approval is refused without an override
/// reason and recorded with one; `log` and `show` tell it; `validate` refuses an unknown channel.
struct StatementChecksCLITests {
    static let playbook = """
        schema: crisis-playbook/v1
        id: checks
        version: "1"
        title: Checks
        languages: [nb, en]
        roles:
          lead: {title: Lead, lead: true}
          comms: {title: Comms}
          legal: {title: Legal}
        channels:
          sms: {sms: {encoding: gsm7, max_segments: 1}}
        start: statement
        steps:
          statement:
            type: holding_statement
            title: Statement
            role: comms
            template: templates/post
            channels: [sms, website]
            facts:
              what_we_know: {prompt: "Known"}
            must_include: {en: ["What we know"]}
            must_not_include: ["/skyld(ig)?/"]
            approval: {roles: [legal]}
            timeout: "1h"
            next: {published: done, rejected: done, timeout: done}
          done: {type: end, title: Done, outcome: resolved}
        """

    /// Output with wrapped lines joined: every run of white space one space.
    static func flat(_ s: String) -> String { s.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ") }

    func setUp(_ cli: CLI, playbook: String = playbook) throws -> String {
        let templates = cli.dir.appendingPathComponent("templates")
        try FileManager.default.createDirectory(at: templates, withIntermediateDirectories: true)
        try Data("Dette vet vi: {{facts.what_we_know}}\n".utf8).write(to: templates.appendingPathComponent("post.nb.mustache"))
        try Data("We know this: {{facts.what_we_know}}\n".utf8).write(to: templates.appendingPathComponent("post.en.mustache"))
        let path = cli.dir.appendingPathComponent("checks.yaml").path
        try Data(playbook.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("A failing draft says why; approval is refused without an override reason and recorded with one")
    func overrideEndToEnd() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let start = try cli.run(["start", try setUp(cli), "--drill"])
        try #require(start.status == 0, "\(start.stderr)")
        let id = start.lastLine

        let draft = try cli.run(["act", id, "statement", "draft", "--set", "what_we_know.nb=«Saken» – ingen er skyldig.", "--set", "what_we_know.en=«Saken» – ingen er skyldig.",
                                 "--as", "kari", "--role", "comms"])
        #expect(draft.status == 0, "\(draft.stderr)")
        let drafted = Self.flat(draft.stdout)
        #expect(drafted.contains("checks fail: nb on sms: UCS-2 (« is not GSM-7), but encoding gsm7 is required"), "\(draft.stdout)")
        #expect(drafted.contains("nb: holds must_not_include /skyld(ig)?/ (\"skyldig\")"), "\(draft.stdout)")
        #expect(drafted.contains("en: lacks must_include \"What we know\""), "\(draft.stdout)")

        let show = try cli.run(["show", id, "statement"])
        #expect(show.stdout.contains("fails 5 checks (approval needs an override reason):"), "\(show.stdout)")
        #expect(show.stdout.contains("sms UCS-2, 1 message"), "\(show.stdout)")
        let status = try cli.run(["status", id])
        #expect(status.stdout.contains("fails 5 checks"), "\(status.stdout)")

        let refused = try cli.run(["act", id, "statement", "approve", "--as", "ola", "--role", "legal"])
        #expect(refused.status != 0)
        #expect((refused.stdout + refused.stderr).contains("unmet-checks"), "\(refused.stdout)\(refused.stderr)")
        #expect((refused.stdout + refused.stderr).contains("override"), "\(refused.stdout)\(refused.stderr)")

        let reason = "UCS-2 is fine for this SMS; the English text is checked by hand"
        let approved = try cli.run(["act", id, "statement", "approve", "--set", "override=\(reason)",
                                    "--as", "ola", "--role", "legal"])
        #expect(approved.status == 0, "\(approved.stderr)")
        #expect(Self.flat(approved.stdout).contains("overriding failed checks: \(reason)"), "\(approved.stdout)")

        let log = try cli.run(["log", id])
        #expect(Self.flat(log.stdout).contains("statement approve override=\(reason)"), "\(log.stdout)")
        #expect(Self.flat(log.stdout).contains("5 checks fail: nb on sms: UCS-2"), "\(log.stdout)")
        #expect(log.stdout.contains("unmet-checks"), "\(log.stdout)")

        // The measures and findings are in the trail with the draft, so replay never evaluates them again.
        let json = try cli.run(["log", id, "--json"])
        let records = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let draftBody = try #require(records.first {
            $0["type"] as? String == "operator.action" && ($0["body"] as? [String: Any])?["action"] as? String == "draft"
        }?["body"] as? [String: Any])
        let statement = try #require(draftBody["statement"] as? [String: Any])
        let findings = try #require(statement["findings"] as? [[String: Any]])
        #expect(findings.compactMap { $0["check"] as? String }
            == ["sms_encoding", "sms_encoding", "must_not_include", "must_include", "must_not_include"])
        let measures = try #require(statement["measures"] as? [[String: Any]])
        #expect(measures.count == 4)
        #expect(try cli.run(["verify", id]).status == 0)
    }

    @Test("validate refuses an unknown channel with the nearest known name")
    func unknownChannel() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let path = try setUp(cli, playbook: Self.playbook.replacingOccurrences(of: "[sms, website]", with: "[sms, twiter]"))
        let r = try cli.run(["validate", path], withDB: false)
        #expect(r.status != 0)
        #expect((r.stdout + r.stderr).contains("channel 'twiter', which crisis does not know"), "\(r.stdout)\(r.stderr)")
        #expect((r.stdout + r.stderr).contains("did you mean 'x' (or 'twitter')?"), "\(r.stdout)\(r.stderr)")
    }
}
