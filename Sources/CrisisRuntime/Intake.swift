import CrisisAudit
import CrisisCore
import Foundation

/// Turns an operator's request into the event the engine judges: checks what only the shell can check (the
/// operator's name, sizes, repeated or reserved fields, the role against the contacts directory), renders a
/// statement draft, and reads `confirm_delivery` as the delivery outcome it is. A problem is a `Rejection`,
/// recorded by the caller as `input.rejected`.
enum Intake {
    /// What the operator asked for, ready for the engine.
    struct Accepted {
        var event: EngineEvent
        var actor: Actor
        /// The typed record the event is written as, given the engine's instant and effects.
        var record: (Instant, [RecordedEffect]) -> TrailRecord
    }

    /// Largest note, and largest sum of `--set` values, in bytes (records are capped at 256 KiB).
    static let maximumTextBytes = 100_000

    /// Field names starting with this are refused: older trails used them for a draft's rendered texts.
    static let reservedFieldPrefix = "_"

    static func action(_ request: IncidentService.ActRequest, incident: LoadedIncident, wallNow: Instant)
        -> Result<Accepted, Rejection>
    {
        if let problem = operatorProblem(request.actor) {
            return .failure(Rejection(.invalidOperator, problem))
        }
        let size = request.fields.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count }
        if size > maximumTextBytes {
            return .failure(Rejection(
                .tooLarge, "the field values are \(size) bytes together; at most \(maximumTextBytes)"))
        }
        var fields: [String: String] = [:]
        for (k, v) in request.fields {
            if k.hasPrefix(reservedFieldPrefix) {
                return .failure(Rejection(
                    .reservedField, "field '\(k)' is reserved; field names starting with '_' are set by crisis"))
            }
            if fields[k] != nil { return .failure(Rejection(.duplicateField, "field '\(k)' was given twice")) }
            if isPlaceholder(v) {
                let shown = v.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "is empty"
                    : "is only the placeholder '\(v.trimmingCharacters(in: .whitespacesAndNewlines))'"
                return .failure(Rejection(
                    .invalidField, "field '\(k)' \(shown); give its real value (or leave the field out if it is optional)",
                    hint: .fieldInvalid(name: k, allowed: [])))
            }
            fields[k] = v
        }
        resolveTimes(&fields, step: request.step, action: request.action, incident: incident, wallNow: wallNow)
        if request.action == "ack", let contacts = incident.definition.contacts {
            // With a directory, `by` defaults to the operator and must name a directory person.
            let by = fields["by"] ?? request.actor.name
            guard let person = contacts.person(named: by) else {
                let suggestions = contacts.suggestions(for: by)
                let mean = suggestions.isEmpty ? "" : "; did you mean \(suggestions.map { "'\($0)'" }.joined(separator: ", "))?"
                return .failure(Rejection(
                    .unknownPerson,
                    "'\(by)' is not in the incident's contacts directory, so cannot be recorded as acknowledging\(mean)",
                    hint: .didYouMean(suggestions)))
            }
            fields["by"] = person.id
            // The log says how they were reached: the channel of the last page to them, unless told otherwise.
            if fields["via"] == nil, let run = incident.state.run(request.step),
                case .escalation(_, let e) = run.progress,
                let channel = e.attempts.reversed().lazy.compactMap({ a -> String? in
                    guard let i = a.recipients.lastIndex(of: person.id), i < a.channels.count else { return nil }
                    return a.channels[i]
                }).first
            {
                fields["via"] = channel
            }
            if let problem = Engine.acknowledgerProblem(by: person.id, step: request.step, in: incident.state) {
                return .failure(problem)
            }
        }
        let actor: Actor
        switch resolveRole(request.actor, step: request.step, action: request.action, in: incident) {
        case .success(let a): actor = a
        case .failure(let r): return .failure(r)
        }
        let anomaly = Committer.clockAnomaly(incident, wallNow: wallNow)
        let note = request.note

        if request.action == "confirm_delivery" {
            // Settling a delivery by hand is its outcome, whether or not its step is still active.
            guard let given = fields["key"], let text = fields["result"],
                let result = DeliveryResult(rawValue: text), result == .sent || result == .failed
            else {
                return .failure(Rejection(
                    .missingField, "confirm_delivery needs the fields key (the delivery's key) and result (sent or failed)"))
            }
            if let unknown = fields.keys.first(where: { !["key", "result", "detail"].contains($0) }) {
                return .failure(Rejection(
                    .unknownField, "confirm_delivery takes the fields key, result and detail, not '\(unknown)'"))
            }
            let key: String
            switch deliveryKey(given, step: request.step, in: incident.state) {
            case .success(let k): key = k
            case .failure(let r): return .failure(r)
            }
            guard let record = incident.state.deliveries.first(where: { $0.delivery.key == key }),
                record.delivery.step == request.step
            else {
                return .failure(Rejection(.unknownDelivery, "step '\(request.step)' has no delivery with key '\(given)'"))
            }
            let detail = fields["detail"]
            return .success(Accepted(
                event: .deliveryCompleted(key: key, result: result, detail: detail, actor: actor), actor: actor
            ) { now, effects in
                .outcome(.init(now: now, key: key, result: result, detail: detail, actor: actor, note: note,
                               effects: effects, clockAnomaly: anomaly))
            })
        }

        if request.action == "draft", let run = incident.state.run(request.step),
            let step = incident.definition.playbook.step(run.stepID), case .holdingStatement(let spec) = step.kind
        {
            // A fact written per language, given once for every language: refused for a new draft (never on
            // replay, where drafts recorded before this rule keep their single values).
            let playbook = incident.definition.playbook
            let problems = spec.facts.filter { fields[$0.name] != nil }
                .compactMap { spec.singleValueProblem($0, in: playbook) }
            if !problems.isEmpty {
                let problem = problems.joined(separator: "; ")
                let accepted = spec.facts.flatMap { fact in
                    spec.isPerLanguage(fact, in: playbook)
                        ? spec.languages(in: playbook).map { "\(fact.name).\($0)" } : [fact.name]
                }
                return .failure(Rejection(.unknownField, problem, hint: .fieldsAccepted(accepted)))
            }
            switch StatementRenderer.render(spec, facts: fields, incident: incident) {
            case .success(let rendered):
                var statement = rendered.statement
                // Declared limits and content checks, evaluated here and recorded with the draft (never on replay),
                // on the text each channel publishes (its variant, else the default text).
                statement.checks = StatementChecks.evaluate(
                    spec, in: incident.definition.playbook, texts: rendered.texts, variants: rendered.variants)
                let facts = fields
                // A draft that reuses a related incident's approved text says so, with that text's hash.
                var subject = request.reuse.map {
                    ["reused_from": $0.incident, "reused_step": $0.step, "reused_revision": String($0.revision),
                     "reused_sha256": $0.sha256]
                } ?? [:]
                // Each text's length on each channel, as measured when it was drafted (what the approvers saw):
                // `length.CHANNEL.LANGUAGE` = `231 weighted-characters of 280`, for SMS with its encoding and parts.
                // A channel with a variant is measured on its own text, in the languages it publishes.
                for channel in spec.channels {
                    for language in spec.languages(of: channel, in: incident.definition.playbook) {
                        guard let text = rendered.variants[channel.id]?[language] ?? rendered.texts[language] else {
                            continue
                        }
                        let m = ChannelLength.measure(text, channel: channel.id)
                        var value = "\(m.count) \(m.unit)" + (m.limit.map { " of \($0)" } ?? "")
                        if let encoding = m.encoding, let segments = m.segments { value += ", \(encoding), \(segments) part(s)" }
                        subject["length.\(channel.id).\(language)"] = value
                    }
                }
                return .success(Accepted(
                    event: .drafted(step: request.step, facts: facts, statement: statement, actor: actor), actor: actor
                ) { now, effects in
                    .action(.init(now: now, step: request.step, action: request.action, fields: facts,
                                  statement: statement, subject: subject, actor: actor, note: note, effects: effects,
                                  clockAnomaly: anomaly))
                })
            case .failure(let r):
                return .failure(r)
            }
        }

        let given = fields
        let subject = subject(of: request, in: incident.state)
        return .success(Accepted(
            event: .acted(step: request.step, action: request.action, fields: given, actor: actor), actor: actor
        ) { now, effects in
            .action(.init(now: now, step: request.step, action: request.action, fields: given, statement: nil,
                          subject: subject, actor: actor, note: note, effects: effects, clockAnomaly: anomaly))
        })
    }

    /// What an action acts on, as it stands before the action (recorded with it as `subject`): the statement
    /// revision and hash an approval or rejection binds to; the notice a takedown's `submit` sends, every element
    /// with its value (prefilled ones included), its platform and its URLs.
    static func subject(of request: IncidentService.ActRequest, in state: IncidentState) -> [String: String] {
        guard let run = state.run(request.step) else { return [:] }
        switch (run.progress, request.action) {
        case (.statement(_, let s), StepAction.approve.rawValue), (.statement(_, let s), StepAction.reject.rawValue):
            guard let current = s.current else { return [:] }
            return ["revision": String(current.revision), "sha256": current.sha256]
        case (.takedown(let spec, let t), StepAction.submit.rawValue):
            var subject = ["platform": t.platform, "basis": spec.basis.rawValue]
            if !t.urls.isEmpty { subject["urls"] = t.urls.joined(separator: "\n") }
            for (name, value) in t.notice where name != NoticeElement.urls.rawValue { subject["notice.\(name)"] = value }
            // The assembled notice as pasted, its hash, and where it went (docs/audit-format.md).
            let notice = TakedownNotice.text(spec, t, authorisedBy: state.authorisationText(for: spec))
            subject["notice_text"] = notice
            subject["notice_sha256"] = sha256Hex(Array(notice.utf8))
            if let route = spec.route(for: t.platform) { subject["route"] = route.text }
            return subject
        case (.takedown(let spec, let t), StepAction.draft.rawValue):
            // The elements the playbook prefilled, as they stand beside what the drafter types (recorded with
            // the draft, so the trail shows every value the notice will carry).
            var subject: [String: String] = [:]
            for name in spec.prefill.keys where request.fields.first(where: { $0.0 == name }) == nil {
                if let value = t.notice[name] { subject["prefill.\(name)"] = value }
            }
            return subject
        case (.submission(let spec, let r), StepAction.submit.rawValue):
            // The content snapshot as it goes to the authority, with its hash (`SubmissionEntry.canonicalText`).
            let next = spec.nextPhases(after: r.submissions.map(\.phase))
            let phase = request.fields.first { $0.0 == "phase" }.flatMap { SubmissionPhase(rawValue: $0.1) }
                ?? next.first ?? .initial
            let text = SubmissionEntry.canonicalText(
                authority: r.authority, legalBasis: spec.legalBasis.value, phase: phase, content: r.content)
            var subject = ["authority": r.authority, "legal_basis": spec.legalBasis.value, "phase": phase.rawValue,
                           "sha256": sha256Hex(Array(text.utf8))]
            for (name, value) in r.content { subject["content.\(name)"] = value }
            return subject
        default:
            return [:]
        }
    }

    /// Whether a field value is only a placeholder someone forgot to fill in: empty or blank, dots or an ellipsis
    /// (`…`, `...`), a bracketed name (`<url>`, `<your name>`), or `TODO`, `TBD`, `FIXME`, `XXX` in any case.
    /// Such a value is refused (`invalid-field`) rather than recorded as if it were the answer.
    static func isPlaceholder(_ value: String) -> Bool {
        let v = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if v.isEmpty || v.allSatisfy({ $0 == "." || $0 == "…" }) { return true }
        if v.hasPrefix("<"), v.hasSuffix(">"), v.count >= 2, !v.dropFirst().dropLast().contains(where: { "<>".contains($0) }) {
            return true
        }
        return ["todo", "tbd", "fixme", "xxx"].contains(v.lowercased())
    }

    /// Relative times (`now`, `-15m`, `now+2h`) in the action's `time` fields become the absolute time they name
    /// at the incident's present (the wall clock for live incidents, the simulated clock for drills), written as
    /// RFC 3339 with the playbook zone's offset: the record holds what they meant, so replay never reads a clock.
    static func resolveTimes(_ fields: inout [String: String], step: String, action: String,
                             incident: LoadedIncident, wallNow: Instant) {
        guard fields.values.contains(where: RelativeTime.isRelative) else { return }
        let spec = Engine.availableActions(for: step, in: incident.state).first { $0.name == action }
        let present = Committer.engineNow(incident, wallNow: wallNow)
        let zone = ZoneFormat(identifier: incident.definition.playbook.timeZone)
        for field in spec?.fields ?? [] where field.type == .time {
            guard let value = fields[field.name], let offset = RelativeTime.offset(value) else { continue }
            fields[field.name] = zone.rfc3339(present + offset)
        }
    }

    /// The delivery `confirm_delivery --set key=` means: a key as recorded, or its last segments (`7`,
    /// `publish/7`) when they name exactly one delivery still waiting (among the step's own when several of the
    /// incident's match). The record always holds the full key.
    static func deliveryKey(_ given: String, step: String, in state: IncidentState) -> Result<String, Rejection> {
        if state.deliveries.contains(where: { $0.delivery.key == given }) { return .success(given) }
        var matches = state.openDeliveries.filter { $0.delivery.key.hasSuffix("/" + given) }
        if matches.count > 1 {
            let own = matches.filter { $0.delivery.step == step }
            if !own.isEmpty { matches = own }
        }
        switch matches.count {
        case 0: return .success(given)
        case 1: return .success(matches[0].delivery.key)
        default:
            return .failure(Rejection(
                .unknownDelivery,
                "key '\(given)' matches \(matches.count) waiting deliveries (\(matches.map(\.delivery.key).joined(separator: ", "))); "
                    + "give more of the key"))
        }
    }

    /// The shortest key `confirm_delivery --set key=` reads as this delivery (`deliveryKey`): its last segments,
    /// as few as name it alone among the deliveries still waiting and are no delivery's full key. The full key
    /// when nothing shorter does, or when the delivery is no longer waiting.
    public static func shortDeliveryKey(_ key: String, in state: IncidentState) -> String {
        let open = state.openDeliveries
        guard open.contains(where: { $0.delivery.key == key }) else { return key }
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        for n in stride(from: 1, to: parts.count, by: 1) {
            let suffix = parts.suffix(n).joined(separator: "/")
            if suffix.isEmpty || state.deliveries.contains(where: { $0.delivery.key == suffix }) { continue }
            let matches = open.filter { $0.delivery.key.hasSuffix("/" + suffix) }
            if matches.count == 1 { return suffix }
        }
        return key
    }

    static func note(_ text: String, actor: Actor, incident: LoadedIncident, wallNow: Instant) -> Result<Accepted, Rejection> {
        if let problem = operatorProblem(actor) { return .failure(Rejection(.invalidOperator, problem)) }
        if text.utf8.count > maximumTextBytes {
            return .failure(Rejection(
                .tooLarge, "the note is \(text.utf8.count) bytes; at most \(maximumTextBytes) (split it)"))
        }
        if text.utf8.contains(0) { return .failure(Rejection(.invalidText, "the note contains a NUL character")) }
        let anomaly = Committer.clockAnomaly(incident, wallNow: wallNow)
        return .success(Accepted(event: .noted(text: text, actor: actor), actor: actor) { now, _ in
            .note(.init(now: now, text: text, actor: actor, clockAnomaly: anomaly))
        })
    }

    /// Picks or checks the role the operator acts in. With a contacts directory, a person listed there may only
    /// act in roles they hold; without a role given, their role that the action needs is used.
    static func resolveRole(_ actor: Actor, step: String, action: String, in incident: LoadedIncident)
        -> Result<Actor, Rejection>
    {
        guard let contacts = incident.definition.contacts else { return .success(actor) }
        guard let person = contacts.person(named: actor.name) else {
            // Someone not in the directory may still record what anyone may (an ack, a received call), but may
            // not claim a role: that would let a typo in the operator name bypass the role check.
            if let role = actor.role {
                return .failure(Rejection(
                    .notInDirectory,
                    "'\(actor.name)' is not in the incident's contacts directory, so cannot act as '\(role)'; "
                        + "act under your person id from the directory"))
            }
            return .success(actor)
        }
        let playbook = incident.definition.playbook
        if let role = actor.role, playbook.role(role) == nil {
            return .failure(Rejection(
                .unknownRole, "this playbook has no role '\(role)' (roles: \(playbook.roles.map(\.id).joined(separator: ", ")))"))
        }
        let held = person.roles + incident.state.rolesHeld(by: person.id).filter { !person.roles.contains($0) }
        if let role = actor.role {
            guard held.contains(role) else {
                return .failure(Rejection(
                    .roleNotHeld,
                    "\(person.name) does not hold role '\(role)' in the contacts directory (holds: \(held.joined(separator: ", ")))"))
            }
            return .success(actor)
        }
        let needed = Engine.availableActions(for: step, in: incident.state).first { $0.name == action }?.roles ?? []
        let leads = playbook.roles.filter(\.lead).map(\.id)
        if let role = needed.first(where: held.contains) ?? leads.first(where: held.contains) {
            return .success(Actor(name: actor.name, role: role))
        }
        return .success(Actor(name: actor.name, role: held.first))
    }

    /// Why an operator name or role cannot be recorded as an actor, or nil. Names are one line of at most 128
    /// characters with no control characters; anything else printable (accents, NFD, bidi marks, emoji) is
    /// kept byte-exact and shown escaped where it could mislead.
    static func operatorProblem(_ actor: Actor) -> String? {
        for (what, value) in [("operator name", actor.name), ("role", actor.role ?? "x")] {
            if value.isEmpty { return "the \(what) is empty" }
            if value.count > 128 { return "the \(what) is longer than 128 characters" }
            if let bad = value.unicodeScalars.first(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
                let hex = String(bad.value, radix: 16, uppercase: true)
                return "the \(what) contains the control character U+\(String(repeating: "0", count: max(0, 4 - hex.count)))\(hex); "
                    + "use one line of printable text"
            }
        }
        return nil
    }
}
