import Foundation
import Testing

/// The real binary on a bilingual statement with a short X variant: per-language facts, four publications (two
/// channels, two languages) with the right texts, shown in `show`, `status` and `log`, and a trail that verifies.
struct BilingualStatementTests {
    static let playbook = CLI.root.appendingPathComponent("Tests/CrisisCLITests/Fixtures/bilingual.yaml").path

    @Test("draft per language, publish website in nb then en, then the rest: four publications, outcome published")
    func fourPublications() throws {
        let cli = try CLI()
        defer { cli.remove() }
        var r = try cli.run(["start", Self.playbook, "--drill", "--clock", "2025-10-24T10:05:00+02:00"])
        #expect(r.status == 0, "\(r.stderr)")
        let id = r.lastLine
        r = try cli.run(["act", id, "statement", "draft", "--set", "what_we_know.de=Wir wissen wenig.",
                         "--set", "what_we_know.nb=Vi vet lite.", "--set", "what_we_know.en=We know little.",
                         "--as", "kari", "--role", "comms"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("the statement has no language 'de' (its languages: nb, en)"), "\(r.stderr)")
        r = try cli.run(["act", id, "statement", "draft", "--set", "what_we_know.nb=Vi vet lite.",
                         "--set", "what_we_know.en=We know little.", "--as", "kari", "--role", "comms"])
        #expect(r.status == 0, "\(r.stderr)")
        let show = try cli.run(["show", id, "statement"])
        #expect(show.stdout.contains("Lang nettside-tekst. Dette vet vi: Vi vet lite."), "\(show.stdout)")
        #expect(show.stdout.contains("Long website text. What we know: We know little."))
        #expect(show.stdout.contains("── en, x variant ──"))
        #expect(show.stdout.contains("Short: We know little."))
        r = try cli.run(["act", id, "statement", "approve", "--as", "ola", "--role", "legal"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try cli.run(["act", id, "statement", "publish", "--set", "channel=website", "--set", "language=nb",
                         "--as", "kari", "--role", "comms"])
        #expect(r.status == 0, "\(r.stderr)")
        // The English text may follow on the same channel (issue 13: it used to be refused).
        r = try cli.run(["act", id, "statement", "publish", "--set", "channel=website", "--set", "language=en",
                         "--as", "kari", "--role", "comms"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try cli.run(["act", id, "statement", "publish", "--set", "channel=website", "--set", "language=en",
                         "--as", "kari", "--role", "comms"])
        #expect(r.status == 1)
        r = try cli.run(["act", id, "statement", "publish", "--as", "kari", "--role", "comms"])
        #expect(r.status == 0, "\(r.stderr)")
        let status = try cli.run(["status", id, "--json"]).json()
        #expect(status["status"] as? String == "closed", "\(status)")
        let step = try cli.run(["show", id, "statement", "--json"]).json()
        let deliveries = try #require(step["deliveries"] as? [[String: Any]])
        let published = deliveries.filter { $0["purpose"] as? String == "publish" }.map {
            "\($0["channel"] as? String ?? "")/\($0["language"] as? String ?? "-")/\($0["status"] as? String ?? ""): \($0["text"] as? String ?? "")"
        }
        #expect(published == [
            "website/nb/sandboxed: Lang nettside-tekst. Dette vet vi: Vi vet lite.",
            "website/en/sandboxed: Long website text. What we know: We know little.",
            "x/nb/sandboxed: Kort: Vi vet lite.",
            "x/en/sandboxed: Short: We know little.",
        ])
        let statement = try #require(step["statement"] as? [String: Any])
        let publications = try #require(statement["publications"] as? [[String: Any]])
        #expect(publications.map { "\($0["channel"] as? String ?? "")/\($0["language"] as? String ?? "-")" }
            == ["website/nb", "website/en", "x/nb", "x/en"])
        let variants = try #require(statement["variants"] as? [[String: Any]])
        #expect(variants.map { "\($0["channel"] as? String ?? "")/\($0["language"] as? String ?? "")" } == ["x/nb", "x/en"])
        let log = try cli.run(["log", id])
        #expect(log.stdout.contains("publish channel=website language=en"), "\(log.stdout)")
        let raw = try cli.run(["log", id, "--json"])
        #expect(raw.stdout.contains("Short: We know little."))
        let verify = try cli.run(["verify", id, "--deep"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }
}
