import CrisisCore

/// A recorded measure for people, as `lengthText` writes a live one: `x 231 of 240`, `sms UCS-2, 3 messages`,
/// `website 231 characters`.
func lengthText(_ m: DraftMeasure) -> String {
    if let encoding = m.encoding, let segments = m.segments {
        return "\(m.channel) \(encoding), \(segments) message\(segments == 1 ? "" : "s")"
    }
    guard let limit = m.limit else { return "\(m.channel) \(m.count) characters" }
    return "\(m.channel) \(m.count) of \(limit)" + (m.count > limit ? " (OVER by \(m.count - limit))" : "")
}

/// `; 2 checks fail: …; approval needs an override reason`, or empty: what a draft's line adds in the command's
/// output, `log` and the board.
func failedChecksText(_ checks: DraftChecks) -> String {
    guard let failures = checks.failureSummary else { return "" }
    return "; " + TerminalText.escape(failures) + "; approval needs an override reason"
}
