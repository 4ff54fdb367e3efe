import CrisisCore
import Foundation
import Testing

@testable import CrisisPlaybook

@Suite("Statement limits and content checks: loading and validation")
struct StatementChecksLoaderTests {
    func validate(_ yaml: String) -> [Diagnostic] {
        let result = loadYAML(yaml)
        guard let p = result.partial else { return result.diagnostics }
        return result.diagnostics
            + PlaybookValidator.validate(p, baseDirectory: ".", contacts: nil, skipping: result.brokenSteps)
    }

    static func statement(channels: String = "[x, sms, website]", extra: String = "") -> String {
        """
          a:
            type: holding_statement
            title: Statement
            role: lead
            template: templates/post
            channels: \(channels)
        \(extra)
            approval: {roles: [lead]}
            timeout: "1h"
            next: done
          done: {type: end, title: Done, outcome: resolved}
        """
    }

    static func yaml(top: String = "languages: [nb, en]", channels: String = "[x, sms, website]", extra: String = "")
        -> String
    {
        playbookYAML(top: top, steps: statement(channels: channels, extra: extra))
    }

    @Test("Top-level channels, max_length, limits and per-language content checks load into the model")
    func loads() throws {
        let text = Self.yaml(
            top: """
                languages: [nb, en]
                channels:
                  sms: {sms: {encoding: gsm7, max_segments: 1}}
                  kundeportal: {max_length: 500}
                  oppslagstavle:
                """,
            channels: "[x, sms, kundeportal]",
            extra: """
                    max_length: 1200
                    limits:
                      x: {max_length: 240}
                    must_include: {nb: ["Dette vet vi"], en: ["What we know"]}
                    must_not_include: ["/skyld(ig)?/", lawsuit]
                """)
        let result = loadYAML(text)
        let book = try #require(result.playbook, "\(result.diagnostics)")
        #expect(book.channels["sms"]?.sms == SMSLimit(encoding: .gsm7, maxSegments: 1))
        #expect(book.channels["kundeportal"]?.maxLength == 500)
        #expect(book.channels["oppslagstavle"] != nil)
        guard case .holdingStatement(let s)? = book.step("a")?.kind else { Issue.record("no statement"); return }
        #expect(s.checks.maxLength?.value == 1200)
        #expect(s.checks.limits["x"]?.maxLength == 240)
        #expect(s.checks.mustInclude.patterns(for: "nb").map(\.written) == ["Dette vet vi"])
        #expect(s.checks.mustInclude.patterns(for: "en").map(\.written) == ["What we know"])
        #expect(s.checks.mustNotInclude.patterns(for: "en").map(\.written) == ["/skyld(ig)?/", "lawsuit"])
        #expect(s.checks.mustNotInclude.everyLanguage[0].isRegex)
        // A declared channel is known: no unknown-channel.
        let diagnostics = PlaybookValidator.validate(book, baseDirectory: ".")
        #expect(!diagnostics.contains { $0.code == DiagnosticCode.unknownChannel })
    }

    @Test("An unknown channel is an error with the nearest name; 'twiter' suggests x (or twitter)")
    func unknownChannel() {
        let d = validate(Self.yaml(channels: "[twiter, websit]"))
        let unknown = d.filter { $0.code == DiagnosticCode.unknownChannel }
        #expect(unknown.count == 2)
        #expect(unknown.filter { $0.isError }.count == 2)
        #expect(unknown[0].message
            == "step 'a' publishes on channel 'twiter', which crisis does not know and the playbook does not declare "
            + "under 'channels:'; did you mean 'x' (or 'twitter')?")
        #expect(unknown[0].location.line == 15 && unknown[0].location.column == 16)
        #expect(unknown[1].message.hasSuffix("did you mean 'website'?"))
        // Declaring it makes it a channel of the playbook's own; a name close to a known one is still flagged.
        let declared = validate(Self.yaml(top: "languages: [nb, en]\nchannels: {twiter: }", channels: "[twiter]"))
        #expect(!declared.contains { $0.code == DiagnosticCode.unknownChannel && $0.isError })
        #expect(declared.contains { $0.code == DiagnosticCode.unknownChannel && !$0.isError
            && $0.message == "channel 'twiter' is declared as a channel of the playbook's own; did you mean 'x' (or 'twitter')?" })
        // Limits for a channel the step does not publish on.
        let limits = validate(Self.yaml(extra: "    limits: {smss: {max_length: 100}}"))
        #expect(limits.contains { $0.code == DiagnosticCode.unknownChannel && $0.isError
            && $0.message == "'limits' of step 'a' name channel 'smss', which the step does not publish on; did you mean 'sms'?" })
    }

    @Test("A regular expression that does not compile is an error at its line and column")
    func badRegex() {
        let d = validate(Self.yaml(extra: "    must_not_include: {nb: [ok, \"/(skyld/\"]}"))
        let bad = d.filter { $0.code == DiagnosticCode.badPattern }
        #expect(bad.count == 1)
        #expect(bad.first?.location.line == 16)
        #expect(bad.first?.location.column == 33)
        #expect(bad.first?.message.hasPrefix("the regular expression /(skyld/ in 'nb' of 'must_not_include' of step 'a' does not compile: ") == true)
        let slash = validate(Self.yaml(extra: "    must_include: [\"/half\"]"))
        #expect(slash.contains { $0.code == DiagnosticCode.badPattern && $0.message.contains("does not end with one") })
        let language = validate(Self.yaml(extra: "    must_include: {de: [Hallo]}"))
        #expect(language.contains { $0.code == DiagnosticCode.badValue
            && $0.message == "'must_include' of step 'a' names language 'de', which the playbook does not have (languages: nb, en)" })
    }

    @Test("A limit no text can meet is an error")
    func impossible() {
        for extra in ["    max_length: 0", "    limits: {sms: {sms: {max_segments: 0}}}"] {
            let d = validate(Self.yaml(extra: extra))
            #expect(d.contains { $0.code == DiagnosticCode.impossibleCheck && $0.isError && $0.message.contains("a limit no text can meet") },
                    "\(extra): \(d)")
        }
        let top = validate(Self.yaml(top: "languages: [nb, en]\nchannels: {sms: {sms: {max_segments: 0}}}"))
        #expect(top.contains { $0.code == DiagnosticCode.impossibleCheck })
        // A required phrase longer than the limit, outside GSM-7, or holding a forbidden word.
        let long = validate(Self.yaml(extra: "    limits: {x: {max_length: 5}}\n    must_include: [\"Dette vet vi\"]"))
        #expect(long.contains { $0.code == DiagnosticCode.impossibleCheck
            && $0.message == "step 'a' requires \"Dette vet vi\" (nb), but it alone is 12 weighted characters on x, over max_length 5: no text can meet both" })
        let gsm = validate(Self.yaml(extra: "    limits: {sms: {sms: {encoding: gsm7}}}\n    must_include: {nb: [\"«Dette»\"]}"))
        #expect(gsm.contains { $0.code == DiagnosticCode.impossibleCheck && $0.message.contains("it is not GSM-7 («)") })
        let both = validate(Self.yaml(extra: "    must_include: [\"ikke skyldig\"]\n    must_not_include: [Skyldig]"))
        #expect(both.filter { $0.code == DiagnosticCode.impossibleCheck }.map(\.message) == [
            "step 'a' requires \"ikke skyldig\" (nb), but it holds \"Skyldig\", which 'must_not_include' forbids: no text can meet both"])
        // SMS limits hold on the sms channel only; the encoding is gsm7 or ucs2.
        let misplaced = validate(Self.yaml(extra: "    limits: {x: {sms: {max_segments: 1}}}"))
        #expect(misplaced.contains { $0.code == DiagnosticCode.badValue && $0.message == "'sms' limits of 'limits' of step 'a' hold only on the sms channel" })
        let encoding = validate(Self.yaml(extra: "    limits: {sms: {sms: {encoding: gsm8}}}"))
        #expect(encoding.contains { $0.code == DiagnosticCode.badValue && $0.message.contains("did you mean 'gsm7'?") })
    }

    @Test("A template against declared limits: fixed text no draft can fit is an error, sample facts over a limit a warning")
    func templateLimits() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("checks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("templates"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("«Dette vet vi»{{#facts.what_we_know}}: {{facts.what_we_know}}{{/facts.what_we_know}}\n".utf8)
            .write(to: dir.appendingPathComponent("templates/post.nb.mustache"))
        try Data("What we know: {{facts.what_we_know}}\n".utf8).write(to: dir.appendingPathComponent("templates/post.en.mustache"))
        func diagnostics(_ top: String) throws -> [Diagnostic] {
            let result = loadYAML(Self.yaml(top: "languages: [nb, en]\n" + top, channels: "[sms, website]",
                                            extra: "    facts: {what_we_know: {prompt: Known}}"))
            let book = try #require(result.playbook, "\(result.diagnostics)")
            return PlaybookValidator.validate(book, baseDirectory: dir.path)
        }
        let strict = try diagnostics("channels: {sms: {sms: {encoding: gsm7}}, website: {max_length: 10}}")
        let impossible = strict.filter { $0.code == DiagnosticCode.impossibleCheck }.map(\.message).sorted()
        #expect(impossible == [
            "template 'templates/post.nb.mustache' of step 'a' holds «, which is not GSM-7, but 'sms' of sms requires gsm7: no draft can meet it",
            "template 'templates/post.en.mustache' of step 'a' is 14 characters on website before any fact is filled in, over max_length 10: no draft can meet it",
            "template 'templates/post.nb.mustache' of step 'a' is 14 characters on website before any fact is filled in, over max_length 10: no draft can meet it",
        ].sorted(), "\(strict)")
        let loose = try diagnostics("channels: {website: {max_length: 30}}")
        #expect(!loose.contains { $0.code == DiagnosticCode.impossibleCheck })
        #expect(loose.contains { $0.code == DiagnosticCode.templateTooLong && !$0.isError
            && $0.message.hasSuffix("is 34 characters on website, over its max_length 30") }, "\(loose)")
    }
}
