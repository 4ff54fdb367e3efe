import CrisisAudit
import CrisisCore

extension StepReport {
    /// A regulatory submission: the authority and legal basis, the phase being prepared with the content fields
    /// it still lacks, and every submission made with its snapshot hash and the authority's receipt.
    public struct Submission: Codable, Sendable {
        /// One content field the authority requires.
        public struct Field: Codable, Sendable {
            public var name: String
            /// What to write (the catalog's wording of the requirement).
            public var prompt: String
            /// The value so far (prefilled, or drafted), nil when empty.
            public var value: String?
            /// Whether the next phase requires it.
            public var required: Bool
            /// Whether it must still be filled in before the next phase is submitted.
            public var missing: Bool
        }

        /// One submission as it was sent.
        public struct Sent: Codable, Sendable {
            public var phase: String
            public var at: String
            public var by: String
            /// SHA-256 (hex) of the content snapshot (`SubmissionEntry.canonicalText`).
            public var sha256: String
            public var content: [String: String]
            /// The authority's reference number, once given.
            public var reference: String?
            public var received: String?
            /// A deadline the authority set with its receipt.
            public var deadline: String?
        }

        public var authority: String
        /// The legal basis: a catalog clock (`gdpr-art33`) or free text.
        public var legal_basis: String
        /// The citation: the catalog's, or the playbook's `citation`.
        public var citation: String?
        /// The phases the step allows, in order.
        public var phases: [String]
        /// The phase to be submitted next (nil: every phase is submitted).
        public var next_phase: String?
        public var fields: [Field]
        /// Names of the fields the next phase still lacks.
        public var missing: [String]
        public var submissions: [Sent]
    }

    static func submission(_ spec: SubmissionSpec, _ r: SubmissionRun, fmt: (Instant) -> String) -> Submission {
        let next = spec.nextPhases(after: r.submissions.map(\.phase)).first
        let missing = next.map { r.missing(spec, phase: $0) } ?? []
        let fields = spec.content.map { f in
            Submission.Field(
                name: f.name, prompt: f.prompt, value: r.content[f.name].flatMap { $0.isEmpty ? nil : $0 },
                required: next.map { f.required(in: $0) } ?? false, missing: missing.contains(f.name))
        }
        let citation = spec.citation ?? ClockCatalog.clock(named: spec.legalBasis.value)?.legalBasis
        return Submission(
            authority: r.authority, legal_basis: spec.legalBasis.value, citation: citation,
            phases: spec.phases.map(\.rawValue), next_phase: next?.rawValue, fields: fields, missing: missing,
            submissions: r.submissions.map {
                Submission.Sent(
                    phase: $0.phase.rawValue, at: fmt($0.at), by: $0.by, sha256: Self.snapshotHash($0), content: $0.content,
                    reference: $0.reference, received: $0.receivedAt.map(fmt), deadline: $0.deadline.map(fmt))
            })
    }

    /// SHA-256 (hex) of a submission's content snapshot, as recorded with the `submit` action.
    public static func snapshotHash(_ entry: SubmissionEntry) -> String { sha256Hex(Array(entry.canonicalText.utf8)) }
}
