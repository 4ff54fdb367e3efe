/// `submission`: a notification to an authority (Datatilsynet, a CSIRT, the SEC) under a legal basis, in phases
/// (initial, update, final), each refused while a content field the phase requires is empty. Every submission
/// keeps the content as it was sent (its snapshot: `SubmissionEntry.canonicalText`, hashed by the shell); a
/// receipt records the authority's reference number and any deadline it set.
///
///     preparing --draft--> preparing --submit(phase)--> preparing (next phase) ... --submit(final)--> submitted
///         ^                                   |
///         +--------- receipt (reference, deadline: re-arms the step's timeout) on the last submission
///
/// The step's `timeout` is for the initial submission: it is disarmed once the initial notice is in (unless that
/// is the last phase); a deadline the authority sets with a receipt arms it again at that instant.
/// The step finishes with `submitted` when the last phase (`final`, or the last listed phase when `final` is not
/// listed) is submitted. Targets may name a phase with `reaches` (`reaches: initial`): met when that phase is
/// submitted. `stops_clock` stops a clock at the initial submission.
extension SubmissionSpec: StepKindSpec {
    public static var stepType: StepType { .submission }
    public var ownOutcomes: [String] { [SubmissionSpec.submittedOutcome] }
    public var canTimeOut: Bool { true }
    public var isWaiting: Bool { true }
}

extension SubmissionSpec {
    /// The outcome taken when the last phase is submitted.
    public static let submittedOutcome = "submitted"

    /// The phase that finishes the step: `final` when listed, else the last listed one.
    public var lastPhase: SubmissionPhase { phases.contains(.final) ? .final : (phases.last ?? .initial) }

    /// The phases that may be submitted next, after `done` (the phases already submitted, in order).
    public func nextPhases(after done: [SubmissionPhase]) -> [SubmissionPhase] {
        guard !done.isEmpty else { return [phases.first ?? .initial] }
        if done.last == lastPhase { return [] }
        return phases.filter { $0 != .initial }
    }

    /// The content fields `phase` requires.
    public func requiredFields(in phase: SubmissionPhase) -> [SubmissionField] {
        content.filter { $0.required(in: phase) }
    }
}

extension SubmissionField {
    /// Whether the field must be filled in before `phase` is submitted.
    public func required(in phase: SubmissionPhase) -> Bool {
        guard required else { return false }
        return requiredIn.map { $0.contains(phase) } ?? true
    }
}

extension SubmissionEntry {
    /// The snapshot's bytes as they are hashed: one `key: value` line per header (`authority`, `legal_basis`,
    /// `phase`) then per content field (`content.NAME`), keys sorted, newlines in values escaped as `\n` and
    /// backslashes as `\\`. The shell hashes this with SHA-256 (`sha256`, recorded as the submit's subject).
    public static func canonicalText(authority: String, legalBasis: String, phase: SubmissionPhase,
                                     content: [String: String]) -> String {
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
        }
        var lines = ["authority: \(escape(authority))", "legal_basis: \(escape(legalBasis))", "phase: \(phase.rawValue)"]
        for key in content.keys.sorted() { lines.append("content.\(key): \(escape(content[key] ?? ""))") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// This submission's snapshot bytes (`canonicalText`).
    public var canonicalText: String {
        Self.canonicalText(authority: authority, legalBasis: legalBasis, phase: phase, content: content)
    }
}

extension SubmissionRun {
    /// The content fields `phase` requires that are still empty.
    public func missing(_ spec: SubmissionSpec, phase: SubmissionPhase) -> [String] {
        spec.requiredFields(in: phase).filter { (content[$0.name] ?? "").trimmingSpaces().isEmpty }.map(\.name)
    }
}

extension Machine {
    func initialSubmission(_ spec: SubmissionSpec, scope: Scope?) -> SubmissionRun {
        var content: [String: String] = [:]
        for field in spec.content {
            if let value = field.prefill.map({ substitute($0, scope: scope) }), !value.isEmpty { content[field.name] = value }
        }
        return SubmissionRun(authority: resolve(spec.authority, scope: scope), content: content)
    }

    func submissionSpecs(_ spec: SubmissionSpec, _ r: SubmissionRun, owners: [String]) -> [ActionSpec] {
        let next = spec.nextPhases(after: r.submissions.map(\.phase))
        var specs: [ActionSpec] = []
        if !next.isEmpty {
            let fields = spec.content.map {
                FieldSpec(name: $0.name, type: .text, required: false, prompt: $0.prompt, defaultValue: r.content[$0.name])
            }
            specs.append(ActionSpec(.draft, title: "Fill in the \(next[0].rawValue) notice to \(r.authority)",
                                    fields: fields, roles: owners))
            let phase = FieldSpec(name: "phase", type: .enum, required: next.count > 1, values: next.map(\.rawValue),
                                  prompt: "Which phase this submission is")
            let reference = FieldSpec(name: "reference", type: .string, required: false,
                                      prompt: "The authority's reference number, if it gave one at once")
            specs.append(ActionSpec(.submit, title: "Record that the notice was submitted to \(r.authority)",
                                    fields: [phase, reference],
                                    roles: spec.submitterRoles.isEmpty ? owners : spec.submitterRoles.map(\.value)))
        }
        if !r.submissions.isEmpty {
            specs.append(
                ActionSpec(
                    .receipt, title: "Record the authority's receipt of the \(r.submissions.last!.phase.rawValue) notice",
                    fields: [
                        FieldSpec(name: "reference", type: .string, required: true, prompt: "The authority's reference number"),
                        FieldSpec(name: "deadline", type: .time, required: false,
                                  prompt: "A deadline the authority set (for the next phase), with its offset"),
                    ], roles: owners))
        }
        return specs
    }

    mutating func submissionAct(
        _ spec: SubmissionSpec, _ r: SubmissionRun, instance: String, action: StepAction, fields: [String: String],
        actor: Actor
    ) throws(Rejection) {
        var r = r
        var stepID = instance
        if let run = state.run(instance) { stepID = run.stepID }
        switch action {
        case .draft:
            for field in spec.content {
                if let value = fields[field.name], !value.isEmpty { r.content[field.name] = value }
            }
            setProgress(instance, .submission(spec, r))
        case .submit:
            let next = spec.nextPhases(after: r.submissions.map(\.phase))
            let phase = fields["phase"].flatMap(SubmissionPhase.init(rawValue:)) ?? next.first ?? .initial
            let missing = r.missing(spec, phase: phase)
            guard missing.isEmpty else {
                throw Rejection(
                    .missingElements,
                    "the \(phase.rawValue) notice to \(r.authority) (\(spec.legalBasis.value)) cannot be submitted without: \(missing.joined(separator: ", ")); fill them in with the draft action",
                    hint: .elementsMissing(missing))
            }
            let reference = fields["reference"].flatMap { $0.isEmpty ? nil : $0 }
            let entry = SubmissionEntry(
                phase: phase, authority: r.authority, legalBasis: spec.legalBasis.value, content: r.content, at: now,
                by: actor.name, reference: reference)
            r.submissions.append(entry)
            setProgress(instance, .submission(spec, r))
            reachTargets(stepID: stepID, reached: phase.rawValue)
            if phase == .initial, let id = spec.stopsClock?.value,
                let i = state.clocks.firstIndex(where: { $0.id == id }), state.clocks[i].status.isRunning
            {
                state.clocks[i].status = .stopped(at: now)
                state.timers.removeAll { Machine.clockID(of: $0.purpose) == id }
                actions.append(.stopClock(id: id))
            }
            if phase == spec.lastPhase {
                exit(instance, outcome: SubmissionSpec.submittedOutcome)
            } else if phase == .initial {
                // The step's timeout is for getting the initial notice in; later phases wait for the deadline the
                // authority sets (`receipt`).
                state.timers.removeAll { $0.step == instance && $0.purpose == .stepTimeout }
                if let i = state.active.firstIndex(where: { $0.instance == instance }) { state.active[i].dueAt = nil }
            }
        case .receipt:
            guard !r.submissions.isEmpty else { return }
            let last = r.submissions.count - 1
            r.submissions[last].reference = fields["reference"] ?? r.submissions[last].reference
            r.submissions[last].receivedAt = now
            if let deadline = fields["deadline"].flatMap(ISO8601.parse) {
                r.submissions[last].deadline = deadline
                // The authority's deadline is the step's: its timeout moves there.
                state.timers.removeAll { $0.step == instance && $0.purpose == .stepTimeout }
                if let i = state.active.firstIndex(where: { $0.instance == instance }) { state.active[i].dueAt = deadline }
                arm(deadline, step: instance, .stepTimeout)
                actions.append(
                    .remind(
                        step: instance,
                        message: "\(r.authority) set a deadline: \(local(deadline)) (receipt \(r.submissions[last].reference ?? ""))"))
            }
            setProgress(instance, .submission(spec, r))
        default:
            return
        }
    }
}

/// A phase of a regulatory submission (GDPR Art. 33(4): information may be given in phases).
public enum SubmissionPhase: String, Sendable, Hashable, Codable, CaseIterable {
    case initial, update, final
}

/// One content field an authority requires in a submission.
public struct SubmissionField: Sendable, Hashable, Codable {
    /// The field name the operator fills in with `draft` (`nature`, `contact_point`).
    public var name: String
    /// What to write, for people (the catalog's wording of the legal requirement).
    public var prompt: String
    /// Whether a submission is refused while the field is empty.
    public var required: Bool
    /// The phases that require it (nil: every phase, when `required`).
    public var requiredIn: [SubmissionPhase]?
    /// A prefilled value (templated text with `{{inputs.x}}`).
    public var prefill: String?
    public init(name: String, prompt: String, required: Bool = true, requiredIn: [SubmissionPhase]? = nil,
                prefill: String? = nil) {
        self.name = name
        self.prompt = prompt
        self.required = required
        self.requiredIn = requiredIn
        self.prefill = prefill
    }
}

/// A regulatory submission step: the authority, the legal basis, the phases allowed and the content each requires.
public struct SubmissionSpec: Sendable, Hashable, Codable {
    /// The authority notified (`Datatilsynet`), or an input naming it.
    public var authority: ValueSource
    /// A catalog clock name (`gdpr-art33`, `ClockCatalog`) or, with `citation`, free text.
    public var legalBasis: Located<String>
    /// The citation of a legal basis that is not in the catalog.
    public var citation: String?
    /// The phases that may be submitted, initial first.
    public var phases: [SubmissionPhase]
    /// The content fields (the catalog's notice list for `legalBasis` when the playbook does not say).
    public var content: [SubmissionField]
    /// A clock the initial submission stops.
    public var stopsClock: Located<String>?
    /// Roles whose holders may submit (empty: the step's owners).
    public var submitterRoles: [Located<String>]
    public init(
        authority: ValueSource, legalBasis: Located<String>, citation: String? = nil,
        phases: [SubmissionPhase] = [.initial], content: [SubmissionField] = [], stopsClock: Located<String>? = nil,
        submitterRoles: [Located<String>] = []
    ) {
        self.authority = authority
        self.legalBasis = legalBasis
        self.citation = citation
        self.phases = phases
        self.content = content
        self.stopsClock = stopsClock
        self.submitterRoles = submitterRoles
    }

    /// The content fields of a catalog clock's notice list, named for the operator to fill in (nil: not a catalog
    /// clock). Each prompt is the catalog's wording; an item that is advice rather than content is optional.
    public static func catalogContent(_ legalBasis: String) -> [SubmissionField]? {
        guard let clock = ClockCatalog.clock(named: legalBasis) else { return nil }
        let names: [String: [String]] = [
            "gdpr-art33": ["nature", "contact_point", "consequences", "measures", "delay_reasons"],
            "gdpr-art34": ["nature", "contact_point", "consequences", "measures", "exemption"],
            "nis2-early-warning": ["malicious", "cross_border"],
            "nis2-notification": ["early_warning_update", "assessment", "indicators"],
            "nis2-final-report": ["description", "root_cause", "mitigation", "cross_border"],
        ]
        let optional: [String: Set<String>] = [
            "gdpr-art33": ["delay_reasons"], "gdpr-art34": ["exemption"], "nis2-notification": ["indicators"],
            "nis2-final-report": ["cross_border"],
        ]
        let given = names[legalBasis] ?? []
        return clock.notice.enumerated().map { i, prompt in
            let name = i < given.count ? given[i] : "item_\(i + 1)"
            return SubmissionField(name: name, prompt: prompt, required: !(optional[legalBasis]?.contains(name) ?? false))
        }
    }
}

/// A regulatory submission's progress: the content being prepared and every submission made.
public struct SubmissionRun: Sendable, Hashable, Codable {
    /// The authority, as resolved when the step was entered.
    public internal(set) var authority: String
    /// The content being prepared (field name to value); it carries over from one phase to the next.
    public internal(set) var content: [String: String]
    /// Every submission made, in order.
    public internal(set) var submissions: [SubmissionEntry]
    public init(authority: String, content: [String: String] = [:]) {
        self.authority = authority
        self.content = content
        self.submissions = []
    }
}

/// One submission as it was sent: its phase, the content snapshot, and the authority's receipt.
public struct SubmissionEntry: Sendable, Hashable, Codable {
    public var phase: SubmissionPhase
    public var authority: String
    public var legalBasis: String
    /// The content as submitted (hashed through `canonicalText`).
    public var content: [String: String]
    public var at: Instant
    public var by: String
    /// The authority's reference number (case or journal number).
    public var reference: String?
    /// When the receipt was recorded.
    public var receivedAt: Instant?
    /// A deadline the authority set with its receipt.
    public var deadline: Instant?
    public init(phase: SubmissionPhase, authority: String, legalBasis: String, content: [String: String], at: Instant,
                by: String, reference: String? = nil, receivedAt: Instant? = nil, deadline: Instant? = nil) {
        self.phase = phase
        self.authority = authority
        self.legalBasis = legalBasis
        self.content = content
        self.at = at
        self.by = by
        self.reference = reference
        self.receivedAt = receivedAt
        self.deadline = deadline
    }
}
