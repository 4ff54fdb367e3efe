import CrisisAudit
import CrisisCore
import Foundation

/// `export --format lumen`: the incident's submitted takedown requests as notices in the fields of the Lumen
/// database's notice API (https://lumendatabase.org, "Lumen API Documentation", Create notice; the permitted
/// parameters of berkmancenter/lumendatabase's NoticesController): `title`, `type`, `subject`, `body`,
/// `date_sent`, `date_received`, `language`, `jurisdiction_list`, `action_taken` (Yes, No, Partial, Unspecified),
/// `works_attributes` (`description`, `infringing_urls_attributes`, `copyrighted_urls_attributes`) and
/// `entity_notice_roles_attributes` (`sender`, `principal`, `recipient`, each with `entity_attributes`). Each notice
/// also carries a `crisis` member saying where in the trail it comes from (not a Lumen field: drop it before
/// posting). Built from the replayed state: a request that was never submitted is left out and counted.
public enum LumenExporter {
    /// The notices and how many takedown requests were left out as unsubmitted drafts.
    public struct Result: Sendable {
        /// One Lumen notice per submitted request, in the order they were submitted.
        public var notices: [CanonicalValue]
        /// Takedown requests drafted but never submitted.
        public var draftsLeftOut: Int
        /// `{"notices":[...]}` as canonical JSON, with a final newline.
        public func json() throws -> [UInt8] {
            try CanonicalJSON.encode(.object([("notices", .array(notices))])) + [0x0A]
        }
    }

    /// The Lumen notice type for a legal basis: `DMCA`, `Defamation`, `PrivateInformation`, `Trademark`,
    /// `DataProtection` (a GDPR delisting request), else `Other` (Lumen has no type for DSA Art. 16 notices,
    /// impersonation, terms-of-service or abuse reports, or requests under a national law).
    public static func lumenType(_ basis: LegalBasis) -> String {
        switch basis {
        case .dmca512c3: "DMCA"
        case .defamation: "Defamation"
        case .privacy: "PrivateInformation"
        case .trademark: "Trademark"
        case .delisting: "DataProtection"
        case .dsaArt16, .impersonation, .termsOfService, .abuseReport, .nationalLaw: "Other"
        }
    }

    /// Lumen's `action_taken` for a request's status: removed `Yes`, partially removed or restricted (withheld
    /// in some countries) `Partial`, refused, appealed, labelled (left up) or restored after a counter-notice
    /// `No`, anything else (submitted, acknowledged, pending, counter-noticed, edit requested, no response)
    /// `Unspecified`.
    public static func actionTaken(_ status: TakedownStatus) -> String {
        switch status {
        case .removed: "Yes"
        case .partiallyRemoved, .restricted: "Partial"
        case .refused, .appealed, .labelled, .restored: "No"
        case .drafting, .drafted, .submitted, .acknowledged, .noResponse, .editRequested, .pending, .counterNoticed:
            "Unspecified"
        }
    }

    /// The notices of `incident`, from its replayed state.
    public static func notices(_ incident: LoadedIncident) -> Result {
        struct Found {
            var instance: String
            var stepID: String
            var run: TakedownRun
        }
        var found: [Found] = []
        for record in incident.state.history {
            if case .takedown(let t) = record.detail {
                found.append(Found(instance: record.instance, stepID: record.stepID, run: t))
            }
        }
        for run in incident.state.active {
            if case .takedown(_, let t) = run.progress {
                found.append(Found(instance: run.instance, stepID: run.stepID, run: t))
            }
        }
        let submitted = found.filter { $0.run.submission != nil }
            .sorted { ($0.run.submission!.at, $0.instance) < ($1.run.submission!.at, $1.instance) }
        let playbook = incident.definition.playbook
        let notices = submitted.map { f -> CanonicalValue in
            var basis: LegalBasis?
            var title = "Takedown request"
            if let step = playbook.step(f.stepID) {
                if case .takedown(let spec) = step.kind { basis = spec.basis }
                if let t = step.title, !t.isEmpty { title = t }
            }
            return notice(f.run, basis: basis, title: title, incident: incident, instance: f.instance, stepID: f.stepID)
        }
        return Result(notices: notices, draftsLeftOut: found.count - submitted.count)
    }

    static func notice(_ t: TakedownRun, basis: LegalBasis?, title: String, incident: LoadedIncident,
                       instance: String, stepID: String) -> CanonicalValue
    {
        func element(_ e: NoticeElement) -> String? {
            let v = (t.notice[e.rawValue] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            return v.isEmpty ? nil : v
        }
        func string(_ s: String?) -> CanonicalValue { s.map { .string($0) } ?? .null }
        func date(_ i: Instant?) -> CanonicalValue { i.map { .string(ISO8601.format($0, milliseconds: false)) } ?? .null }
        let received = t.history.first { $0.to == .acknowledged }?.at

        // The body: the explanation and the other statements of the notice, without contact details (Lumen
        // publishes the body; phone numbers and e-mail addresses stay out).
        var body: [String] = []
        if let x = element(.explanation) { body.append(x) }
        let labelled: [(NoticeElement, String)] = [
            (.impersonatedAccount, "Impersonated account"), (.affectedPerson, "Affected person"),
            (.policyReference, "Policy"), (.authorisation, "Authorisation"), (.signature, "Signed"),
        ]
        for (e, label) in labelled { if let v = element(e) { body.append("\(label): \(v)") } }
        if element(.goodFaithStatement) == "true" {
            body.append("The notifier states in good faith that the use of the material is not authorised.")
        }
        if element(.accuracyUnderPerjury) == "true" {
            body.append("The notifier states under penalty of perjury that the notice is accurate.")
        }

        var roles: [CanonicalValue] = []
        func entity(_ role: String, _ members: [(String, CanonicalValue)]) {
            roles.append(.object([("entity_attributes", .object(members)), ("name", .string(role))]))
        }
        if let sender = element(.notifierName) {
            var members: [(String, CanonicalValue)] = [("name", .string(sender))]
            if let address = element(.notifierAddress) { members.append(("address_line_1", .string(address))) }
            entity("sender", members)
        }
        if let principal = element(.affectedPerson), principal != element(.notifierName) {
            entity("principal", [("name", .string(principal))])
        }
        entity("recipient", [("name", .string(t.platform))])

        let urls = t.urls.map { CanonicalValue.object([("url", .string($0))]) }
        let copyrighted = ValueType.splitList(element(.copyrightedWork) ?? "")
            .filter { $0.hasPrefix("http://") || $0.hasPrefix("https://") }
            .map { CanonicalValue.object([("url", .string($0))]) }
        let work: CanonicalValue = .object([
            ("copyrighted_urls_attributes", .array(copyrighted)),
            ("description", .string(element(.copyrightedWork) ?? element(.impersonatedAccount)
                                    ?? basis.map { "Content reported under \($0.rawValue)" } ?? "Reported content")),
            ("infringing_urls_attributes", .array(urls)),
        ])
        let jurisdictions: String? = switch basis {
        case .dmca512c3: "US"
        case .dsaArt16: "EU"
        default: nil
        }
        let kind = basis.map { lumenType($0) == "Other" ? $0.rawValue : lumenType($0) } ?? "Takedown"
        let lifecycle = t.history.map { h -> CanonicalValue in
            .object([("at", date(h.at)), ("by", .string(h.by)), ("note", string(h.note)),
                     ("status", .string(h.to.rawValue))])
        }
        let provenance: CanonicalValue = .object([
            ("basis", string(basis?.rawValue)), ("incident", .string(incident.id)), ("instance", .string(instance)),
            ("lifecycle", .array(lifecycle)), ("mode", .string(incident.definition.mode.rawValue)),
            ("status", .string(t.status.rawValue)), ("step", .string(stepID)),
            ("submitted_by", string(t.submittedBy)), ("ticket", string(t.ticket)),
        ])
        return .object([
            ("action_taken", .string(actionTaken(t.status))),
            ("body", body.isEmpty ? .null : .string(body.joined(separator: "\n\n"))),
            ("crisis", provenance),
            ("date_received", date(received)),
            ("date_sent", date(t.submittedAt)),
            ("entity_notice_roles_attributes", .array(roles)),
            ("jurisdiction_list", string(jurisdictions)),
            ("language", string(incident.definition.playbook.languages.first)),
            ("subject", .string("\(kind) request to \(t.platform)")),
            ("title", .string("\(title): \(t.platform)")),
            ("type", .string(basis.map(lumenType) ?? "Other")),
            ("works_attributes", .array([work])),
        ])
    }
}
