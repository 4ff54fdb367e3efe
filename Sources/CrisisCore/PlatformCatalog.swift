/// The platforms crisis knows how to send a takedown notice to: where each takes reports (web form, e-mail,
/// in-app), which legal bases it accepts, who may submit, and how long it typically takes to answer. A playbook's
/// own `reporting_route` overrides the catalog; a platform the catalog does not know is allowed (validate warns,
/// and no route is shown). Platforms move their forms: docs/platforms.md asks for the routes to be checked when a
/// playbook is reviewed and before a real incident.

/// How a route takes a notice.
public enum RouteKind: String, Sendable, Hashable, Codable {
    /// A web form at `address` (paste the notice into its fields).
    case webForm = "web_form"
    /// An e-mail address (send the notice as the message).
    case email
    /// A reporting flow inside the app or on the post itself (`address` says where).
    case inApp = "in_app"
}

/// One way to report to a platform.
public struct PlatformRoute: Sendable, Hashable, Codable {
    public var kind: RouteKind
    /// A URL, an e-mail address, or where to find the in-app report.
    public var address: String
    /// The bases this route is for (empty: any basis the platform accepts).
    public var bases: [LegalBasis]
    public init(_ kind: RouteKind, _ address: String, for bases: [LegalBasis] = []) {
        self.kind = kind
        self.address = address
        self.bases = bases
    }

    /// For people: `web form https://…`, `e-mail abuse@…`, `in the app: …`.
    public var description: String {
        switch kind {
        case .webForm: "web form \(address)"
        case .email: "e-mail \(address)"
        case .inApp: "in the app: \(address)"
        }
    }
}

/// What crisis knows about one platform.
public struct PlatformEntry: Sendable, Hashable, Codable {
    /// The platform value a playbook uses (`x`, `facebook`, `google_search`).
    public var id: String
    /// Other values that name it (`twitter`).
    public var aliases: [String]
    public var name: String
    /// Its reporting routes, most specific first.
    public var routes: [PlatformRoute]
    /// The legal bases it takes reports under.
    public var bases: [LegalBasis]
    /// Who may submit (some reports only from the person concerned or their authorised representative).
    public var whoMaySubmit: String
    /// How long it typically takes to answer, as published or commonly seen.
    public var typicalResponse: String

    /// The route for `basis`: the first one made for it, else the first one for any basis.
    public func route(for basis: LegalBasis) -> PlatformRoute? {
        routes.first { $0.bases.contains(basis) } ?? routes.first { $0.bases.isEmpty }
    }
}

/// The built-in platform catalog (docs/platforms.md).
public enum PlatformCatalog {
    /// Looks `platform` up by id or alias, in any case. Nil for a platform crisis does not know.
    public static func entry(_ platform: String) -> PlatformEntry? {
        let key = platform.lowercased()
        return all.first { $0.id == key || $0.aliases.contains(key) }
    }

    /// Every platform id and alias (for did-you-mean).
    public static var names: [String] { all.flatMap { [$0.id] + $0.aliases } }

    /// Every platform the catalog knows, in the order docs/platforms.md lists them.
    public static let all: [PlatformEntry] = [
        PlatformEntry(
            id: "x", aliases: ["twitter"], name: "X (Twitter)",
            routes: [
                PlatformRoute(.webForm, "https://help.x.com/forms/impersonation", for: [.impersonation]),
                PlatformRoute(.webForm, "https://help.x.com/forms/ipi", for: [.dmca512c3, .trademark]),
                PlatformRoute(.webForm, "https://help.x.com/forms/dsa", for: [.dsaArt16, .defamation, .nationalLaw]),
                PlatformRoute(.webForm, "https://help.x.com/forms/privacy", for: [.privacy]),
                PlatformRoute(.inApp, "the post's ⋯ menu, Report post", for: [.termsOfService]),
            ],
            bases: [.dsaArt16, .dmca512c3, .privacy, .impersonation, .defamation, .termsOfService, .trademark,
                    .nationalLaw],
            whoMaySubmit: "impersonation: only the impersonated person or an authorised representative; "
                + "copyright and trademark: the rights holder or its agent",
            typicalResponse: "an e-mail receipt at once; a decision in 1 to 7 days"),
        PlatformEntry(
            id: "facebook", aliases: ["meta"], name: "Facebook (Meta)",
            routes: [
                PlatformRoute(.webForm, "https://www.facebook.com/help/contact/295309487309948", for: [.impersonation]),
                PlatformRoute(.webForm, "https://www.facebook.com/help/contact/1758255661104383", for: [.dmca512c3]),
                PlatformRoute(.webForm, "https://www.facebook.com/help/contact/1057530541005427", for: [.trademark]),
                PlatformRoute(.webForm, "https://www.facebook.com/help/contact/144059062408922", for: [.privacy]),
                PlatformRoute(.webForm, "https://www.facebook.com/help/contact/1561472897490627",
                              for: [.dsaArt16, .defamation, .nationalLaw]),
                PlatformRoute(.inApp, "the post's ⋯ menu, Report post", for: [.termsOfService]),
            ],
            bases: [.dsaArt16, .dmca512c3, .privacy, .impersonation, .defamation, .termsOfService, .trademark,
                    .nationalLaw],
            whoMaySubmit: "impersonation: the impersonated person (or, for a public figure, an authorised "
                + "representative); intellectual property: the rights holder or its agent",
            typicalResponse: "1 to 3 days for intellectual property; longer for legal (DSA) reports"),
        PlatformEntry(
            id: "instagram", aliases: [], name: "Instagram (Meta)",
            routes: [
                PlatformRoute(.webForm, "https://help.instagram.com/contact/636276399721841", for: [.impersonation]),
                PlatformRoute(.webForm, "https://help.instagram.com/contact/552695131608132", for: [.dmca512c3]),
                PlatformRoute(.webForm, "https://help.instagram.com/contact/230197320740525", for: [.trademark]),
                PlatformRoute(.webForm, "https://help.instagram.com/contact/504521742987441", for: [.privacy]),
                PlatformRoute(.webForm, "https://help.instagram.com/contact/406206379945942",
                              for: [.dsaArt16, .defamation, .nationalLaw]),
                PlatformRoute(.inApp, "the post's ⋯ menu, Report", for: [.termsOfService]),
            ],
            bases: [.dsaArt16, .dmca512c3, .privacy, .impersonation, .defamation, .termsOfService, .trademark,
                    .nationalLaw],
            whoMaySubmit: "impersonation: the impersonated person or an authorised representative (with ID); "
                + "intellectual property: the rights holder or its agent",
            typicalResponse: "1 to 3 days for intellectual property; longer for legal (DSA) reports"),
        PlatformEntry(
            id: "youtube", aliases: [], name: "YouTube (Google)",
            routes: [
                PlatformRoute(.webForm, "https://support.google.com/youtube/answer/2807622", for: [.dmca512c3]),
                PlatformRoute(.webForm, "https://support.google.com/youtube/answer/142443", for: [.privacy]),
                PlatformRoute(.webForm, "https://support.google.com/youtube/answer/2801947", for: [.impersonation]),
                PlatformRoute(.webForm, "https://support.google.com/legal/answer/3110420",
                              for: [.dsaArt16, .defamation, .trademark, .nationalLaw]),
                PlatformRoute(.inApp, "the video's ⋯ menu, Report", for: [.termsOfService]),
            ],
            bases: [.dsaArt16, .dmca512c3, .privacy, .impersonation, .defamation, .termsOfService, .trademark,
                    .nationalLaw],
            whoMaySubmit: "privacy: the person concerned (or a parent or legal guardian); copyright: the rights "
                + "holder or its agent",
            typicalResponse: "copyright: within days; privacy: the uploader gets 48 hours first"),
        PlatformEntry(
            id: "tiktok", aliases: [], name: "TikTok",
            routes: [
                PlatformRoute(.webForm, "https://www.tiktok.com/legal/report/Copyright", for: [.dmca512c3]),
                PlatformRoute(.webForm, "https://www.tiktok.com/legal/report/Trademark", for: [.trademark]),
                PlatformRoute(.webForm, "https://www.tiktok.com/legal/report/privacy", for: [.privacy]),
                PlatformRoute(.webForm, "https://www.tiktok.com/legal/report/DSA",
                              for: [.dsaArt16, .defamation, .nationalLaw]),
                PlatformRoute(.inApp, "the profile's Share menu, Report, Pretending to be someone",
                              for: [.impersonation, .termsOfService]),
            ],
            bases: [.dsaArt16, .dmca512c3, .privacy, .impersonation, .defamation, .termsOfService, .trademark,
                    .nationalLaw],
            whoMaySubmit: "impersonation: the impersonated person or an authorised representative; intellectual "
                + "property: the rights holder or its agent",
            typicalResponse: "1 to 7 days"),
        PlatformEntry(
            id: "linkedin", aliases: [], name: "LinkedIn",
            routes: [
                PlatformRoute(.webForm, "https://www.linkedin.com/help/linkedin/ask/TS-NFPI", for: [.impersonation]),
                PlatformRoute(.webForm, "https://www.linkedin.com/help/linkedin/ask/ipq",
                              for: [.dmca512c3, .trademark]),
                PlatformRoute(.webForm, "https://www.linkedin.com/help/linkedin/ask/TS-RDMLP", for: [.privacy]),
                PlatformRoute(.webForm, "https://www.linkedin.com/help/linkedin/ask/DSA-report",
                              for: [.dsaArt16, .defamation, .nationalLaw]),
                PlatformRoute(.inApp, "the profile's More menu, Report / Block", for: [.termsOfService]),
            ],
            bases: [.dsaArt16, .dmca512c3, .privacy, .impersonation, .defamation, .termsOfService, .trademark,
                    .nationalLaw],
            whoMaySubmit: "impersonation: the impersonated member or an authorised representative",
            typicalResponse: "2 to 5 business days"),
        PlatformEntry(
            id: "hosting", aliases: ["host", "hosting_provider"], name: "Hosting provider's abuse desk",
            routes: [
                PlatformRoute(.email, "the abuse contact in the IP address's RDAP/WHOIS record (abuse@ the host)"),
            ],
            bases: [.abuseReport, .dmca512c3, .dsaArt16, .trademark, .nationalLaw, .termsOfService, .defamation,
                    .privacy],
            whoMaySubmit: "anyone; intellectual property: the rights holder or its agent",
            typicalResponse: "phishing and malware: hours to a day; other reports: days"),
        PlatformEntry(
            id: "registrar", aliases: ["domain_registrar"], name: "Domain registrar",
            routes: [
                PlatformRoute(.email, "the registrar abuse contact in the domain's RDAP record (ICANN RAA 3.18)"),
            ],
            bases: [.abuseReport, .trademark, .termsOfService, .nationalLaw],
            whoMaySubmit: "anyone for abuse (phishing, malware, fraud); trademark disputes over the name itself go "
                + "to UDRP, not the registrar",
            typicalResponse: "ICANN-accredited registrars must act on abuse reports; typically 1 to 2 business days"),
        PlatformEntry(
            id: "google_search", aliases: ["google"], name: "Google Search (delisting)",
            routes: [
                PlatformRoute(.webForm, "https://reportcontent.google.com/forms/rtbf", for: [.delisting]),
                PlatformRoute(.webForm, "https://support.google.com/legal/answer/3110420",
                              for: [.dmca512c3, .dsaArt16, .defamation, .trademark, .nationalLaw]),
                PlatformRoute(.webForm, "https://support.google.com/websearch/answer/9673730", for: [.privacy]),
            ],
            bases: [.delisting, .dmca512c3, .dsaArt16, .defamation, .trademark, .nationalLaw, .privacy],
            whoMaySubmit: "delisting: the person concerned or someone authorised to act for them (with a copy of "
                + "ID or the authority)",
            typicalResponse: "delisting: weeks (GDPR: within a month, Art. 12(3)); copyright: days"),
        PlatformEntry(
            id: "bing", aliases: ["bing_search", "microsoft"], name: "Bing (delisting)",
            routes: [
                PlatformRoute(.webForm, "https://www.bing.com/webmaster/tools/eu-privacy-request", for: [.delisting]),
                PlatformRoute(.webForm, "https://www.microsoft.com/en-us/concern/dmca", for: [.dmca512c3]),
                PlatformRoute(.webForm, "https://www.microsoft.com/en-us/concern/",
                              for: [.dsaArt16, .defamation, .trademark, .nationalLaw, .privacy]),
            ],
            bases: [.delisting, .dmca512c3, .dsaArt16, .defamation, .trademark, .nationalLaw, .privacy],
            whoMaySubmit: "delisting: the person concerned, or a representative (lawyer, parent) with proof",
            typicalResponse: "delisting: weeks (GDPR: within a month, Art. 12(3))"),
    ]
}

/// Where the notice goes, and whether the playbook or the catalog said so.
public struct ResolvedRoute: Sendable, Hashable, Codable {
    /// The route for people (a URL, an address, `in the app: …`).
    public var text: String
    /// `playbook` (its `reporting_route`) or `catalog`.
    public var source: String
    public init(text: String, source: String) {
        self.text = text
        self.source = source
    }
}

extension TakedownSpec {
    /// Where to send the notice for `platform`: the playbook's `reporting_route` when it names one for the
    /// platform (or under `*`), else the catalog's route for the platform and basis, else the playbook's route
    /// under `other`. Nil for a platform the catalog does not know and the playbook gives no route for.
    public func route(for platform: String) -> ResolvedRoute? {
        // The playbook's route for this platform, or for every platform (`*`), comes first; its `other` route
        // only stands in where the catalog has none (it would otherwise hide the catalog's own form).
        if let routes = reportingRoutes,
            let own = routes[platform] ?? routes.first(where: { $0.key.lowercased() == platform.lowercased() })?.value
                ?? routes["*"]
        {
            return ResolvedRoute(text: own, source: "playbook")
        }
        if let route = PlatformCatalog.entry(platform)?.route(for: basis) {
            let text = route.kind == .inApp ? "in the app: \(route.address)" : route.address
            return ResolvedRoute(text: text, source: "catalog")
        }
        return reportingRoute(for: platform).map { ResolvedRoute(text: $0, source: "playbook") }
    }
}
