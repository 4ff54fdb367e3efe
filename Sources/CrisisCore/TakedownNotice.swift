/// The assembled takedown notice: every element its legal basis requires, in the basis's order, as text ready
/// to paste into the platform's form or an e-mail. The same text is shown by `status` and `show` and stored with
/// its SHA-256 when the request is submitted (docs/audit-format.md, `notice_sha256`).
public enum TakedownNotice {
    /// The notice for `run` under `spec`. `authorisedBy` describes the record that authorises the request when
    /// the playbook points the `authorisation` element at one (`TakedownSpec.authorisationRecord`).
    public static func text(_ spec: TakedownSpec, _ run: TakedownRun, authorisedBy: String? = nil) -> String {
        text(basis: spec.basis, platform: run.platform, notice: run.notice, authorisedBy: authorisedBy,
             recordAuthorised: spec.authorisationRecord != nil)
    }

    /// The notice under `basis` to `platform` with the element values `notice`; an element not filled in shows
    /// as `[MISSING: name]`.
    public static func text(
        basis: LegalBasis, platform: String, notice: [String: String], authorisedBy: String? = nil,
        recordAuthorised: Bool = false
    ) -> String {
        var subject = basis.title
        if basis == .abuseReport, let kind = notice[NoticeElement.abuseType.rawValue], NoticeElement.abuseType.isFilled(by: kind) {
            subject += ": \(kind)"
        }
        var lines = ["To: \(platform)", "Subject: \(subject)", ""]
        // Short elements one to a line; long ones and statements as paragraphs of their own.
        var paragraph = false
        for element in basis.requiredElements {
            let raw = notice[element.rawValue]
            let block: [String]
            if element == .authorisation, recordAuthorised, !element.isFilled(by: raw) {
                block = ["\(element.title): \(authorisedBy ?? "[MISSING: authorisation record]")"]
            } else if let value = raw, element.isFilled(by: value) {
                let shown = element.noticeText(value, basis: basis)
                if element.isStatement {
                    block = [shown]
                } else if shown.contains("\n") || shown.count > 60 {
                    block = ["\(element.title):", shown]
                } else {
                    block = ["\(element.title): \(shown)"]
                }
            } else {
                block = ["\(element.title): [MISSING: \(element.rawValue)]"]
            }
            let long = block.count > 1 || block[0].count > 80
            if (long || paragraph) && lines.last != "" { lines.append("") }
            lines += block
            paragraph = long
        }
        return lines.joined(separator: "\n")
    }
}

extension LegalBasis {
    /// The basis for people (the notice's subject line).
    public var title: String {
        switch self {
        case .dsaArt16: "Notice of illegal content (EU Digital Services Act, Art. 16)"
        case .dmca512c3: "DMCA takedown notice (17 U.S.C. 512(c)(3))"
        case .privacy: "Request to remove personal data (privacy)"
        case .impersonation: "Impersonation report"
        case .defamation: "Request to remove defamatory content"
        case .termsOfService: "Report under the platform's rules (terms of service)"
        case .trademark: "Trademark infringement report"
        case .abuseReport: "Abuse report"
        case .delisting: "Request to delist search results (GDPR Art. 17, right to erasure)"
        case .nationalLaw: "Removal request under national law"
        }
    }
}

extension NoticeElement {
    /// The element's name for people.
    public var title: String {
        switch self {
        case .explanation: "Explanation"
        case .urls: "URLs"
        case .notifierName: "Notifier name"
        case .notifierEmail: "Notifier e-mail"
        case .notifierAddress: "Notifier address"
        case .notifierPhone: "Notifier phone"
        case .goodFaithStatement: "Good-faith statement"
        case .accuracyUnderPerjury: "Accuracy under penalty of perjury"
        case .signature: "Signature"
        case .copyrightedWork: "Copyrighted work"
        case .affectedPerson: "Affected person"
        case .authorisation: "Authorisation"
        case .impersonatedAccount: "Impersonated account"
        case .policyReference: "Rule broken"
        case .trademarkRegistration: "Trademark"
        case .abuseType: "Type of abuse"
        case .evidence: "Evidence"
        case .searchTerms: "Search terms (name)"
        case .citation: "Legal basis"
        }
    }
}

extension IncidentState {
    /// The finished instance of the step that authorises a takedown under `spec`
    /// (`prefill: {authorisation: {record: STEP}}`): its latest, done or decided (not skipped, timed out or over
    /// its visits). Nil when the playbook names none or it has not finished that way yet.
    public func authorisationRecord(for spec: TakedownSpec) -> StepRecord? {
        guard let record = spec.authorisationRecord?.value else { return nil }
        return history.last {
            $0.stepID == record && $0.outcome != Outcome.timeout && $0.outcome != "skipped" && $0.outcome != Outcome.maxVisits
        }
    }

    /// The authorisation a takedown's notice cites when it comes from a record: `recorded in step 'consent'
    /// (done)`.
    public func authorisationText(for spec: TakedownSpec) -> String? {
        guard let r = authorisationRecord(for: spec) else { return nil }
        return "recorded in step '\(r.stepID)' (\(r.outcome))"
    }
}
