/// Declared limits and content checks at approval: a revision whose draft recorded failed checks
/// (`StatementDraft.checks.findings`, evaluated by the shell at draft) is approved only with an `override` reason,
/// recorded with the approval. The engine never evaluates a check itself (StatementChecks.swift says why).
extension Machine {
    /// ` (2 checks fail: an override reason is needed)` for the approve action's title, or empty.
    func checksNote(_ s: StatementRun) -> String {
        guard let n = s.current?.checks.findings.count, n > 0 else { return "" }
        return " (\(n) check\(n == 1 ? "" : "s") fail\(n == 1 ? "s" : ""): an override reason is needed)"
    }

    /// The approve action's `override` field, offered while the current revision fails checks.
    func overrideFields(_ s: StatementRun) -> [FieldSpec] {
        guard let draft = s.current, !draft.checks.findings.isEmpty else { return [] }
        return [FieldSpec(
            name: StatementChecks.overrideField, type: .text, required: false,
            prompt: "Why approve although it fails \(draft.checks.findings.count) check"
                + (draft.checks.findings.count == 1 ? "" : "s") + " (recorded with the approval)")]
    }

    /// The override reason of an approval, or nil when the revision fails no check. Refuses (`unmet-checks`) an
    /// approval of a failing revision without one.
    func checkOverride(_ draft: StatementDraft, fields: [String: String]) throws(Rejection) -> String? {
        guard let failures = draft.checks.failureSummary else { return nil }
        let reason = fields[StatementChecks.overrideField]?.trimmingSpaces() ?? ""
        guard !reason.isEmpty else {
            throw Rejection(
                .unmetChecks,
                "revision \(draft.revision): \(failures); approve it with an override reason, or have it drafted again",
                hint: .fieldMissing(name: StatementChecks.overrideField, type: .text, allowed: []))
        }
        return reason
    }
}

extension StatementChecks {
    /// The approve field that accepts a revision failing checks: the reason, recorded with the approval.
    public static let overrideField = "override"
}
