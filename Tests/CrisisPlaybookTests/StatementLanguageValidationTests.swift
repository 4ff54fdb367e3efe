import CrisisCore
import CrisisPlaybook
import Foundation
import Testing

/// `validate` on a statement's languages, channel languages, variants and per-language prompts: each problem an
/// error at its file, line and column.
struct StatementLanguageValidationTests {
    /// Writes the playbook and the templates named (each `t/NAME.mustache`, one line) and validates it.
    func validate(_ statement: String, templates: [String]) throws -> (LoadResult, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crisis-langv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("t"), withIntermediateDirectories: true)
        for name in templates {
            try Data("Text {{facts.known}}\n".utf8).write(to: dir.appendingPathComponent("t/\(name).mustache"))
        }
        let yaml = playbookYAML(
            top: "languages: [nb, en]",
            steps: """
                  a:
                    type: holding_statement
                    title: S
                    template: t/s
                \(statement)
                    approval: {roles: [lead]}
                    timeout: "1h"
                    next: done
                  done: {type: end, title: Done, outcome: resolved}
                """)
        let path = dir.appendingPathComponent("p.yaml").path
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
        return (PlaybookLoader.loadValidated(path: path), dir.path)
    }

    func errors(_ r: LoadResult) -> [String] {
        r.diagnostics.filter { $0.severity == .error }.map { "\($0.location.line):\($0.location.column) \($0.message)" }
    }

    @Test("A valid bilingual statement with a channel mapped to English and an X variant loads with its model")
    func valid() throws {
        let (r, dir) = try validate("""
                    channels: [website, {id: x, languages: [en]}]
                    variants: [x]
                    facts:
                      known: {prompt: {nb: Hva vi vet, en: What we know}}
                      ticket: {prompt: Ticket, type: integer}
                      contact: {prompt: Contact, language_neutral: true}
                """, templates: ["s.nb", "s.en", "s.x.en"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(errors(r) == [])
        guard case .holdingStatement(let s)? = r.playbook?.step("a")?.kind, let pb = r.playbook else {
            Issue.record("no statement")
            return
        }
        #expect(s.variants.mapValues(\.value) == ["x": "t/s.x"])
        #expect(s.languages(of: s.channels[1], in: pb) == ["en"])
        #expect(s.facts.map { s.isPerLanguage($0, in: pb) } == [true, false, false])
        #expect(s.facts[0].prompts == ["nb": "Hva vi vet", "en": "What we know"])
    }

    @Test("A prompt in, or a channel publishing in, a language the statement lacks; a variant for a channel not published to")
    func languageErrors() throws {
        let (r, dir) = try validate("""
                    languages: [nb]
                    channels: [website, {id: x, languages: [en]}]
                    variants: {sms: t/short}
                    facts:
                      known: {prompt: {nb: Hva vi vet, de: Was wir wissen}}
                """, templates: ["s.nb", "short.nb"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let e = errors(r)
        #expect(e.contains("15:45 channel 'x' of step 'a' publishes in 'en', which is not one of the statement's languages: nb"))
        #expect(e.contains("16:16 step 'a' has a variant for channel 'sms', which it does not publish to"))
        #expect(e.contains("18:40 fact 'known' of step 'a' has a prompt in 'de', which is not one of the statement's languages: nb"))
        #expect(r.diagnostics.allSatisfy { $0.location.file.hasSuffix("p.yaml") })
    }

    @Test("A missing variant template file is an error at the variant, naming the language")
    func missingVariantTemplate() throws {
        let (r, dir) = try validate("""
                    channels: [website, x]
                    variants: {x: t/short}
                    facts: {known: {prompt: Known}}
                """, templates: ["s.nb", "s.en", "short.nb"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let missing = r.diagnostics.filter { $0.code == DiagnosticCode.missingTemplate }
        #expect(missing.count == 1)
        #expect(missing.first?.message.hasSuffix("t/short.en.mustache' of the x variant for language 'en' of step 'a' does not exist") == true)
        #expect(missing.first.map { "\($0.location.line):\($0.location.column)" } == "15:16")
    }

    @Test("A drill scenario's fact for a language the statement lacks, or per language for a neutral fact, is an error")
    func scenarioFacts() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crisis-langs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("CrisisCLITests/Fixtures")
        let scenario = """
            schema: crisis-scenario/v1
            id: langs
            title: Languages
            playbook: \(fixtures.appendingPathComponent("bilingual.yaml").path)
            start: "2026-03-02T09:00:00+01:00"
            script:
              statement:
                - {do: draft, as: kari, set: {what_we_know.nb: "Vi vet.", what_we_know.de: "Wir wissen.", next_update_at.en: "2026-03-02T10:00:00+01:00"}}
            """
        let path = dir.appendingPathComponent("s.yaml").path
        try Data(scenario.utf8).write(to: URL(fileURLWithPath: path))
        let errors = ScenarioLoader.load(path: path).diagnostics.filter { $0.severity == .error }
            .map { "\($0.location.line):\($0.location.column) \($0.message)" }
        #expect(errors.contains("8:63 fact 'what_we_know.de' is for language 'de', which statement 'statement' does not have (its languages: nb, en)"), "\(errors)")
        #expect(errors.contains("8:95 fact 'next_update_at' of statement 'statement' is the same in every language; give it once as 'next_update_at'"), "\(errors)")
    }
}
