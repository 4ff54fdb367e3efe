import Foundation
import Testing

/// Issue 13 item 1, strictly: in a statement with more than one language, a fact written per language is given per
/// language. One value for every language is refused, naming the fields to give, and only the refusal is recorded;
/// a language-neutral fact (by its `language_neutral` key, or by type) is given once and fills every language.
struct PerLanguageFactTests {
    static let playbook = """
        schema: crisis-playbook/v1
        id: per-language
        version: "1"
        title: Per-language facts
        languages: [nb, en]
        roles:
          lead: {title: Lead, lead: true}
          comms: {title: Comms}
          legal: {title: Legal}
        start: statement
        steps:
          statement:
            type: holding_statement
            title: Statement
            role: comms
            template: templates/post
            channels: [website]
            facts:
              what_we_know: {prompt: "Known"}
              contact: {prompt: "Press e-mail", type: string, language_neutral: true}
              page: {prompt: "Information page", type: url}
            approval: {roles: [legal]}
            timeout: "1h"
            next: {published: done, rejected: done, timeout: done}
          done: {type: end, title: Done, outcome: resolved}
        """

    static let scenario = """
        schema: crisis-scenario/v1
        id: per-language-once
        title: A fact written per language, given once
        playbook: per-language.yaml
        script:
          statement:
            - do: draft
              after: 5m
              as: kari
              set: {what_we_know: "One value for both", contact: "presse@example.no", page: "https://example.no/info"}
        """

    func setUp(_ cli: CLI) throws -> String {
        let templates = cli.dir.appendingPathComponent("templates")
        try FileManager.default.createDirectory(at: templates, withIntermediateDirectories: true)
        try Data("Dette vet vi: {{facts.what_we_know}} Presse: {{facts.contact}}. Mer: {{facts.page}}\n".utf8)
            .write(to: templates.appendingPathComponent("post.nb.mustache"))
        try Data("What we know: {{facts.what_we_know}} Press: {{facts.contact}}. More: {{facts.page}}\n".utf8)
            .write(to: templates.appendingPathComponent("post.en.mustache"))
        let path = cli.dir.appendingPathComponent("per-language.yaml").path
        try Data(Self.playbook.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("one value for a per-language fact is refused, naming the fields; only the refusal is recorded")
    func singleValueRefused() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let start = try cli.run(["start", try setUp(cli), "--drill"])
        try #require(start.status == 0, "\(start.stderr)")
        let id = start.lastLine
        let before = try cli.run(["status", id, "--json"]).json()["seq"] as? Int ?? 0

        let refused = try cli.run(["act", id, "statement", "draft", "--set", "what_we_know=An employee has posted.",
                                   "--set", "contact=presse@example.no", "--set", "page=https://example.no/info",
                                   "--as", "kari", "--role", "comms"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains(
            "what_we_know is written per language: give what_we_know.nb and what_we_know.en "
                + "(or mark the fact language_neutral: true in the playbook)"), "\(refused.stderr)")
        let after = try cli.run(["status", id, "--json"]).json()
        #expect(after["seq"] as? Int == before + 1, "a refusal adds exactly one record")
        let log = try cli.run(["log", id, "--json"]).stdout
        #expect(log.components(separatedBy: "\"input.rejected\"").count - 1 == 1, "\(log)")
        let show = try cli.run(["show", id, "statement"]).stdout
        #expect(!show.contains("Dette vet vi: An employee"), "\(show)")

        // Per language: accepted. The neutral facts (contact by its key, page by its type) are given
        // once and fill both texts.
        let drafted = try cli.run(["act", id, "statement", "draft", "--set", "what_we_know.nb=En ansatt har skrevet et innlegg.",
                                   "--set", "what_we_know.en=An employee has posted.", "--set", "contact=presse@example.no",
                                   "--set", "page=https://example.no/info", "--as", "kari", "--role", "comms"])
        #expect(drafted.status == 0, "\(drafted.stderr)")
        let texts = StatementChecksCLITests.flat(try cli.run(["show", id, "statement"]).stdout)
        #expect(texts.contains("Dette vet vi: En ansatt har skrevet et innlegg. Presse: presse@example.no. Mer: https://example.no/info"), "\(texts)")
        #expect(texts.contains("What we know: An employee has posted. Press: presse@example.no. More: https://example.no/info"), "\(texts)")
        #expect(try cli.run(["verify", id]).status == 0)
    }

    @Test("a drill script giving a per-language fact once is refused when it is loaded")
    func scenarioRefused() throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try setUp(cli)
        let path = cli.dir.appendingPathComponent("once.yaml")
        try Data(Self.scenario.utf8).write(to: path)
        let r = try cli.run(["drill", path.path, "--auto"])
        #expect(r.status != 0)
        #expect((r.stdout + r.stderr).contains("what_we_know is written per language: give what_we_know.nb and what_we_know.en"),
                "\(r.stdout)\(r.stderr)")
    }
}
