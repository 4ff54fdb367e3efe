import CrisisCore
import Foundation
import Testing

@testable import CrisisPlaybook

/// The assembled notice per legal basis, compared with recorded files under Fixtures/notices (RECORD_GOLDEN=1
/// re-records them in the source tree; the test then fails, so a recording is never a pass). Also the platform
/// catalog's routes and a validate run of a statement prefilled with its text.
@Suite("Takedown notices and the platform catalog")
struct NoticeGoldenTests {
    static let values: [String: String] = [
        "explanation": "The page imitates our login page to collect customers' passwords.",
        "urls": "https://example-login.test/a\nhttps://example-login.test/b",
        "notifier_name": "Example AS, legal department", "notifier_email": "legal@example.no",
        "notifier_address": "Storgata 1, 0155 Oslo, Norway", "notifier_phone": "+47 22 00 00 00",
        "signature": "/Kari Nordmann/", "copyrighted_work": "Our product photograph, published 2025-03-01",
        "good_faith_statement": "true", "accuracy_under_perjury": "true", "affected_person": "Kari Nordmann",
        "authorisation": "Power of attorney signed by Kari Nordmann, 2025-10-24",
        "impersonated_account": "@kari_nordmann", "policy_reference": "Rule 3: impersonation",
        "trademark_registration": "EXAMPLE, EUTM 018000000 (EUIPO)", "abuse_type": "phishing",
        "evidence": "A phishing e-mail with full headers, received 2025-10-24 07:58 UTC",
        "search_terms": "Kari Nordmann", "citation": "Norwegian Copyright Act (åndsverkloven) § 104",
    ]

    @Test("The assembled notice per basis", arguments: LegalBasis.allCases)
    func notice(_ basis: LegalBasis) throws {
        let notice = basis.requiredElements.reduce(into: [String: String]()) { $0[$1.rawValue] = Self.values[$1.rawValue] }
        let text = TakedownNotice.text(basis: basis, platform: "x", notice: notice) + "\n"
        #expect(!text.contains("[MISSING"))
        let name = "notices/\(basis.rawValue).txt"
        if ProcessInfo.processInfo.environment["RECORD_GOLDEN"] == "1" {
            let url = Fixtures.sourceRoot.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            Issue.record("recorded \(url.path); run again without RECORD_GOLDEN")
            return
        }
        let expected = try String(contentsOfFile: try Fixtures.path(name), encoding: .utf8)
        #expect(text == expected)
    }

    @Test("A missing element shows where it goes")
    func missingShown() {
        let text = TakedownNotice.text(basis: .nationalLaw, platform: "x", notice: ["explanation": "e"])
        #expect(text.contains("Legal basis: [MISSING: citation]"))
    }

    @Test("The catalog gives a route per basis; the playbook's own route overrides it; unknown platforms get none")
    func routes() {
        let spec = TakedownSpec(platform: .literal("x"), urls: .literal("https://x.com/a"), basis: .impersonation)
        #expect(spec.route(for: "x") == ResolvedRoute(text: "https://help.x.com/forms/impersonation", source: "catalog"))
        #expect(spec.route(for: "Twitter")?.text == "https://help.x.com/forms/impersonation")
        #expect(spec.route(for: "mastodon.example") == nil)
        var own = spec
        own.reportingRoutes = ["x": "legal-desk@x.example"]
        #expect(own.route(for: "x") == ResolvedRoute(text: "legal-desk@x.example", source: "playbook"))
        // A route under `other` stands in only where the catalog has none; one under `*` is for every platform.
        var fallback = spec
        fallback.reportingRoutes = ["other": "the platform's own form"]
        #expect(fallback.route(for: "x")?.source == "catalog")
        #expect(fallback.route(for: "mastodon.example") == ResolvedRoute(text: "the platform's own form", source: "playbook"))
        fallback.reportingRoutes = ["*": "legal-desk@example.no"]
        #expect(fallback.route(for: "x") == ResolvedRoute(text: "legal-desk@example.no", source: "playbook"))
        let delist = TakedownSpec(platform: .literal("bing"), urls: .literal("https://x.com/a"), basis: .delisting)
        #expect(delist.route(for: "bing")?.text == "https://www.bing.com/webmaster/tools/eu-privacy-request")
        #expect(delist.route(for: "google")?.text.hasPrefix("https://reportcontent.google.com/") == true)
        for id in ["x", "facebook", "instagram", "youtube", "tiktok", "linkedin", "hosting", "registrar", "google_search", "bing"] {
            let entry = PlatformCatalog.entry(id)
            #expect(entry != nil, "\(id) is in the catalog")
            // Every basis a platform accepts has a route.
            for basis in entry?.bases ?? [] { #expect(entry?.route(for: basis) != nil, "\(id) \(basis)") }
        }
    }

    @Test("A statement prefilled with its text, and a known platform, validate without a word")
    func statementPrefill() {
        let yaml = """
            schema: crisis-playbook/v1
            id: ok
            version: "1"
            title: OK
            roles:
              legal: {title: Legal, lead: true}
            inputs:
              post_url: {type: url, prompt: "Link", required: true}
            start: a
            steps:
              a:
                type: takedown
                title: DMCA notice
                role: legal
                platform: youtube
                urls: {input: post_url}
                basis: dmca_512c3
                prefill:
                  good_faith_statement: "I have a good faith belief that the use is not authorised by us or the law."
                  accuracy_under_perjury: true
                timeout: "2h"
                next: done
              done: {type: end, title: Done, outcome: resolved}
            """
        let result = PlaybookLoader.load(bytes: Array(yaml.utf8), path: "ok.yaml")
        #expect(result.diagnostics.filter { $0.code == .badPrefill || $0.code == .unknownPlatform || $0.code == .basisNotAccepted }.isEmpty,
                "\(result.diagnostics)")
        guard case .takedown(let spec)? = result.playbook?.step("a")?.kind else { Issue.record("no step"); return }
        #expect(spec.prefill["accuracy_under_perjury"] == "true")
    }
}
