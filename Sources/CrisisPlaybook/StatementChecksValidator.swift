import CrisisCore
import Foundation

/// Channel names, declared limits and content checks of holding statements (docs/playbook-format.md, "Limits and
/// content checks"): an unknown channel is an error with the nearest name, a limit or check no text can meet is an
/// error.
extension Validation {
    /// Channels crisis knows, and those the playbook declares under `channels:`.
    var knownChannels: Set<String> { ChannelLength.knownChannels.union(playbook.channels.keys) }

    /// `; did you mean 'x' (or 'twitter')?`, or empty.
    static func didYouMean(_ name: String, among candidates: [String]) -> String {
        guard let near = EditDistance.suggestion(for: name.lowercased(), among: candidates.sorted()) else { return "" }
        if near == "x" || near == "twitter" { return "; did you mean 'x' (or 'twitter')?" }
        return "; did you mean '\(near)'?"
    }

    /// The top-level `channels:`: a declared name close to a known channel is probably a typo (a warning: it may
    /// be a channel of the playbook's own); SMS limits only on `sms`.
    mutating func checkDeclaredChannels() {
        for (name, limits) in playbook.channels.sorted(by: { $0.key < $1.key }) {
            if !ChannelLength.knownChannels.contains(name) {
                let near = Self.didYouMean(name, among: Array(ChannelLength.knownChannels))
                if !near.isEmpty {
                    warning(DiagnosticCode.unknownChannel,
                            "channel '\(name)' is declared as a channel of the playbook's own\(near)", limits.location)
                }
            }
            checkSMSPlacement(name, limits, what: "channel '\(name)'")
        }
    }

    mutating func checkSMSPlacement(_ name: String, _ limits: ChannelLimits, what: String) {
        guard limits.sms != nil, name != "sms" else { return }
        error(DiagnosticCode.badValue, "'sms' limits of \(what) hold only on the sms channel", limits.location)
    }

    mutating func checkStatementChecks(_ step: Step, _ s: StatementSpec) {
        // A misspelt channel (twiter) would silently lose every length rule.
        let known = knownChannels
        for channel in s.channels where !known.contains(channel.id.lowercased()) {
            error(DiagnosticCode.unknownChannel,
                  "step '\(step.id)' publishes on channel '\(channel.id)', which crisis does not know and the playbook "
                      + "does not declare under 'channels:'" + Self.didYouMean(channel.id, among: Array(known)),
                  channel.location)
        }
        let ids = s.channels.map { $0.id.lowercased() }
        for (name, limits) in s.checks.limits.sorted(by: { $0.key < $1.key }) {
            if !ids.contains(name) {
                error(DiagnosticCode.unknownChannel,
                      "'limits' of step '\(step.id)' name channel '\(name)', which the step does not publish on"
                          + Self.didYouMean(name, among: ids),
                      limits.location)
            }
            checkSMSPlacement(name, limits, what: "'limits' of step '\(step.id)'")
        }
        let languages = playbook.languages
        for (key, rules) in [("must_include", s.checks.mustInclude), ("must_not_include", s.checks.mustNotInclude)] {
            for (language, patterns) in rules.byLanguage.sorted(by: { $0.key < $1.key }) where !languages.contains(language) {
                error(DiagnosticCode.badValue,
                      "'\(key)' of step '\(step.id)' names language '\(language)', which the playbook does not have "
                          + "(languages: \(languages.joined(separator: ", ")))" + Self.didYouMean(language, among: languages),
                      patterns.first?.location ?? step.location)
            }
        }
        checkImpossible(step, s)
    }

    /// A required phrase no text can carry: longer than a limit, outside the required SMS encoding, or holding a
    /// forbidden phrase.
    mutating func checkImpossible(_ step: Step, _ s: StatementSpec) {
        var said = Set<String>()
        for language in playbook.languages {
            let forbidden = s.checks.mustNotInclude.patterns(for: language).filter { !$0.isRegex }
            for p in s.checks.mustInclude.patterns(for: language) where !p.isRegex {
                var problems: [String] = []
                for f in forbidden where StatementChecks.match(f, in: p.body) != nil {
                    problems.append("it holds \"\(f.written)\", which 'must_not_include' forbids")
                }
                for channel in s.channels {
                    let l = StatementChecks.limits(s.checks, declared: playbook.channels, channel: channel.id)
                    let m = ChannelLength.measure(p.body, channel: channel.id)
                    if let max = l.maxLength, m.count > max {
                        problems.append("it alone is \(m.count) \(m.unit.replacingOccurrences(of: "-", with: " ")) on \(channel.id), over max_length \(max)")
                    }
                    if l.sms?.encoding == .gsm7, m.encoding == "UCS-2" {
                        let c = StatementChecks.firstNonGSM7(p.body.precomposedStringWithCanonicalMapping).map { " (\($0))" } ?? ""
                        problems.append("it is not GSM-7\(c), which 'sms' of \(channel.id) requires")
                    }
                    if let max = l.sms?.maxSegments, let segments = m.segments, segments > max {
                        problems.append("it alone needs \(segments) SMS messages, over max_segments \(max)")
                    }
                }
                for problem in problems where said.insert("\(p.location)|\(problem)").inserted {
                    error(DiagnosticCode.impossibleCheck,
                          "step '\(step.id)' requires \"\(p.written)\" (\(language)), but \(problem): no text can meet both",
                          p.location)
                }
            }
        }
    }
}

extension Validation {
    /// A template against the declared limits of each channel: the text every rendering holds (outside sections,
    /// facts empty) over `max_length` on a plain channel, or outside GSM-7 where `gsm7` is required, is an error
    /// (`impossible-check`); filled with sample facts over a declared limit, a warning (`template-too-long`).
    mutating func checkTemplateLimits(
        _ step: Step, _ s: StatementSpec, channels: [ChannelSpec], tokens: [TemplateScanner.Token], rendered: String,
        relative: String
    ) {
        var floor = Self.fixedText(tokens)
        while floor.hasSuffix("\n") { floor.removeLast() }
        var sample = rendered
        while sample.hasSuffix("\n") { sample.removeLast() }
        for channel in channels {
            let l = StatementChecks.limits(s.checks, declared: playbook.channels, channel: channel.id)
            let lowest = ChannelLength.measure(floor, channel: channel.id)
            let unit = { (m: ChannelMeasure) in m.unit.replacingOccurrences(of: "-", with: " ") }
            let plain = lowest.segments == nil && !["x", "twitter"].contains(channel.id.lowercased())
            if let max = l.maxLength, plain, lowest.count > max {
                error(DiagnosticCode.impossibleCheck,
                      "template '\(relative)' of step '\(step.id)' is \(lowest.count) \(unit(lowest)) on \(channel.id) "
                          + "before any fact is filled in, over max_length \(max): no draft can meet it",
                      channel.location)
                continue
            }
            if l.sms?.encoding == .gsm7, let c = StatementChecks.firstNonGSM7(floor.precomposedStringWithCanonicalMapping) {
                error(DiagnosticCode.impossibleCheck,
                      "template '\(relative)' of step '\(step.id)' holds \(c), which is not GSM-7, but 'sms' of "
                          + "\(channel.id) requires gsm7: no draft can meet it",
                      channel.location)
                continue
            }
            let m = ChannelLength.measure(sample, channel: channel.id)
            let filled = "template '\(relative)' of step '\(step.id)', filled with 20-character sample facts,"
            if let max = l.maxLength, m.count > max {
                warning(DiagnosticCode.templateTooLong,
                        "\(filled) is \(m.count) \(unit(m)) on \(channel.id), over its max_length \(max)", channel.location)
            } else if let max = l.sms?.maxSegments, max > 1, let segments = m.segments, segments > max {
                // (More than one message is already a warning of its own.)
                warning(DiagnosticCode.templateTooLong,
                        "\(filled) needs \(segments) SMS messages, over its max_segments \(max)", channel.location)
            }
        }
    }

    /// The text every rendering of a template holds: what is outside every section, variables empty.
    static func fixedText(_ tokens: [TemplateScanner.Token]) -> String {
        var out = ""
        var depth = 0
        for t in tokens {
            switch t {
            case .text(let s): if depth == 0 { out += s }
            case .tag(let kind, _, _, _):
                switch kind {
                case .section, .inverted: depth += 1
                case .close: depth = max(0, depth - 1)
                case .variable, .partial: break
                }
            }
        }
        return out
    }
}
