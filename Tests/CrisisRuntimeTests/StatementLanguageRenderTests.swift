import CrisisAudit
import CrisisCore
import CrisisRuntime
import Foundation
import Testing

/// A bilingual statement with an X variant, rendered by the runtime: each language sees its own facts, each
/// variant is rendered in its channel's languages, one hash covers every text, and the trail replays to it.
struct StatementLanguageRenderTests {
    static let t0 = ISO8601.parse("2025-10-24T10:05:00+02:00")!

    static let playbook = """
        schema: crisis-playbook/v1
        id: bilingual
        version: "1"
        title: Bilingual
        languages: [nb, en]
        roles:
          lead: {title: Lead, lead: true}
          comms: {title: Comms}
        start: statement
        steps:
          statement:
            type: holding_statement
            title: Statement
            role: comms
            template: t/s
            channels: [website, {id: x, languages: [en]}]
            variants: {x: t/short}
            facts:
              known: {prompt: {nb: "Hva vi vet", en: "What we know"}}
              ticket: {prompt: "Ticket", type: integer}
            approval: {roles: [lead]}
            timeout: "2h"
            next: {published: fin, rejected: fin, timeout: fin}
          fin: {type: end, title: Done, outcome: resolved}
        """

    struct Fixture {
        let dir: URL
        let service: IncidentService
        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("crisis-lang-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("t"), withIntermediateDirectories: true)
            try Data(StatementLanguageRenderTests.playbook.utf8).write(to: dir.appendingPathComponent("p.yaml"))
            for (name, text) in [("s.nb", "Dette vet vi: {{facts.known}} (sak {{facts.ticket}})\n"),
                                 ("s.en", "What we know: {{facts.known}} (case {{facts.ticket}})\n"),
                                 ("short.en", "Short: {{facts.known}}\n")] {
                try Data(text.utf8).write(to: dir.appendingPathComponent("t/\(name).mustache"))
            }
            service = IncidentService(store: try AuditStore(path: dir.appendingPathComponent("a.sqlite").path))
        }
        var playbookPath: String { dir.appendingPathComponent("p.yaml").path }
        func remove() { try? FileManager.default.removeItem(at: dir) }

        func start() throws -> String {
            try service.start(.init(
                playbookPath: playbookPath, inputs: [], mode: .drill, title: "Bilingual",
                actor: Actor(name: "kari", role: "comms"), wallNow: StatementLanguageRenderTests.t0,
                simulatedStart: StatementLanguageRenderTests.t0)).incident.header.id
        }
    }

    let comms = Actor(name: "kari", role: "comms")
    let lead = Actor(name: "lena", role: "lead")

    @Test("Each language's text reads its own facts; a neutral fact fills both; the X variant only in English")
    func perLanguageFacts() throws {
        let f = try Fixture()
        defer { f.remove() }
        let id = try f.start()
        let drafted = try f.service.act(.init(
            incident: id, step: "statement", action: "draft",
            fields: [("known.nb", "Ingen data er tapt."), ("known.en", "No data was lost."), ("ticket", "42")],
            actor: comms, wallNow: Self.t0))
        guard case .statement(let s)? = drafted.incident.state.run("statement")?.detail, let draft = s.current else {
            Issue.record("no draft")
            return
        }
        #expect(draft.texts == ["nb": "Dette vet vi: Ingen data er tapt. (sak 42)",
                                "en": "What we know: No data was lost. (case 42)"])
        #expect(draft.variants == ["x": ["en": "Short: No data was lost."]])
        #expect(draft.languages == ["nb", "en"])
        #expect(draft.sha256 == StatementRenderer.hash(texts: draft.texts, variants: draft.variants))
        // The hash covers the variant: another short text is another hash.
        #expect(draft.sha256 != StatementRenderer.hash(texts: draft.texts, variants: ["x": ["en": "Short: other"]]))
        // Without variants the hash is the one drafts always had: the canonical object {lang: text}.
        let plain = try CanonicalJSON.encode(.object([("en", .string("A")), ("nb", .string("B"))]))
        #expect(StatementRenderer.hash(texts: ["nb": "B", "en": "A"], variants: [:]) == sha256Hex(plain))

        _ = try f.service.act(.init(incident: id, step: "statement", action: "approve", actor: lead, wallNow: Self.t0))
        let published = try f.service.act(.init(incident: id, step: "statement", action: "publish", actor: comms,
                                                 wallNow: Self.t0))
        let out = published.incident.state.deliveries.map { "\($0.delivery.channel)/\($0.delivery.language ?? "-"): \($0.delivery.text)" }
        #expect(out == ["website/nb: Dette vet vi: Ingen data er tapt. (sak 42)",
                        "website/en: What we know: No data was lost. (case 42)",
                        "x/en: Short: No data was lost."])
        #expect(published.incident.state.status == .closed(outcome: "resolved"))
        // The trail (variants and languages in the draft record) replays to the same state.
        #expect(try f.service.load(id).state == published.incident.state)
    }

    @Test("A fact for a language the statement lacks, or per language for a neutral fact, is refused at draft")
    func refusals() throws {
        let f = try Fixture()
        defer { f.remove() }
        let id = try f.start()
        let german = #expect(throws: (any Error).self) {
            try f.service.act(.init(incident: id, step: "statement", action: "draft",
                                    fields: [("known.nb", "a"), ("known.en", "b"), ("known.de", "c"), ("ticket", "1")],
                                    actor: comms, wallNow: Self.t0))
        }
        #expect("\(german.map { "\($0)" } ?? "")".contains("the statement has no language 'de' (its languages: nb, en)"))
        let neutral = #expect(throws: (any Error).self) {
            try f.service.act(.init(incident: id, step: "statement", action: "draft",
                                    fields: [("known.nb", "a"), ("known.en", "b"), ("ticket.nb", "1")], actor: comms, wallNow: Self.t0))
        }
        #expect("\(neutral.map { "\($0)" } ?? "")".contains("fact 'ticket' is the same in every language"))
    }
}
