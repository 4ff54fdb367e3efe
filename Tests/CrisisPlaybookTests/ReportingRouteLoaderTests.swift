import CrisisCore
import Testing

@testable import CrisisPlaybook

/// A takedown's optional `reporting_route`: one route for every platform, or one per platform value.
@Suite("Loader: takedown reporting routes")
struct ReportingRouteLoaderTests {
    static func yaml(_ route: String) -> String {
        """
        schema: crisis-playbook/v1
        id: routes
        version: "1"
        title: Routes
        roles:
          legal: {title: Legal, lead: true}
        inputs:
          platform: {type: enum, values: [x, facebook, other], default: "x", prompt: "Platform"}
          post_url: {type: url, prompt: "Post", required: true}
        start: removal
        steps:
          removal:
            type: takedown
            title: Remove it
            role: legal
            platform: {input: platform}
            urls: {input: post_url}
            basis: privacy
        \(route)
            timeout: "4h"
            next: {removed: done, partially_removed: done, refused: done, appealed: done, no_response: done, timeout: done}
          done: {type: end, title: Done, outcome: done}
        """
    }

    static func spec(_ route: String) throws -> TakedownSpec? {
        let result = PlaybookLoader.load(bytes: Array(yaml(route).utf8), path: "routes.yaml")
        #expect(!result.hasErrors, "\(result.diagnostics)")
        guard case .takedown(let spec)? = result.playbook?.step("removal")?.kind else { return nil }
        return spec
    }

    @Test("a mapping gives each platform its route, matched in any case; others take other's")
    func perPlatform() throws {
        let spec = try #require(try Self.spec(
            "    reporting_route:\n      x: https://help.x.com/en/forms\n      other: \"the platform's own form\""))
        #expect(spec.reportingRoute(for: "x") == "https://help.x.com/en/forms")
        #expect(spec.reportingRoute(for: "X") == "https://help.x.com/en/forms")
        #expect(spec.reportingRoute(for: "facebook") == "the platform's own form")
    }

    @Test("one string is the route for every platform; without the key there is none")
    func oneRouteOrNone() throws {
        let one = try #require(try Self.spec("    reporting_route: legal@example.com"))
        #expect(one.reportingRoute(for: "facebook") == "legal@example.com")
        let none = try #require(try Self.spec(""))
        #expect(none.reportingRoutes == nil && none.reportingRoute(for: "x") == nil)
    }

    @Test("a route that is not text is an error where it is written")
    func notText() throws {
        let result = PlaybookLoader.load(
            bytes: Array(Self.yaml("    reporting_route: {x: [a, b]}").utf8), path: "routes.yaml")
        #expect(result.hasErrors)
        #expect(result.diagnostics.contains { $0.message.contains("reporting_route.x") }, "\(result.diagnostics)")
    }
}
