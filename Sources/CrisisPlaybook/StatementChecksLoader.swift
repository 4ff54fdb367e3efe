import Foundation
import CrisisCore
internal import Yams

/// Reads declared channels (top-level `channels:`), a statement's limits (`max_length`, `limits:`) and content
/// checks (`must_include`, `must_not_include`). Problems a single node shows (a limit of 0, a regular expression
/// that does not compile) are reported here; those that need the whole playbook (unknown channels, languages,
/// contradictions) by the validator.
extension PlaybookBuilder {
    static let channelLimitKeys = ["max_length", "sms"]
    static let smsLimitKeys = ["encoding", "max_segments"]

    /// Top-level `channels:`: name to limits (or nothing: a channel of the playbook's own, without limits).
    func declaredChannels(_ m: MapView) -> [String: ChannelLimits] {
        guard let node = m["channels"], !NodeReader.isEmpty(node), let cm = r.mapping(node, what: "'channels'")
        else { return [:] }
        var out: [String: ChannelLimits] = [:]
        for e in cm.entries {
            let name = e.key.lowercased()
            guard r.checkIdentifier(name, what: "channel name", at: e.keyLocation) else { continue }
            if out[name] != nil {
                r.error(DiagnosticCode.badValue, "channel '\(e.key)' is declared twice", at: e.keyLocation)
                continue
            }
            if NodeReader.isEmpty(e.value) {
                out[name] = ChannelLimits(location: e.keyLocation)
            } else if var limits = channelLimits(e.value, what: "channel '\(e.key)'") {
                limits.location = e.keyLocation
                out[name] = limits
            }
        }
        return out
    }

    /// `{max_length: N, sms: {encoding: gsm7|ucs2, max_segments: N}}`.
    func channelLimits(_ node: Node, what: String) -> ChannelLimits? {
        guard let m = r.mapping(node, what: what, allowed: Self.channelLimitKeys) else { return nil }
        var limits = ChannelLimits(location: m.location)
        limits.maxLength = positiveLimit(m, "max_length", what: what)
        if let sn = m["sms"] {
            let sw = "'sms' of \(what)"
            if let sm = r.mapping(sn, what: sw, allowed: Self.smsLimitKeys) {
                var sms = SMSLimit()
                sms.encoding = sm["encoding"].flatMap { r.oneOf($0, SMSEncoding.allCases.map(\.rawValue), what: "'encoding' of \(sw)") }
                    .flatMap(SMSEncoding.init(rawValue:))
                sms.maxSegments = positiveLimit(sm, "max_segments", what: sw)
                limits.sms = sms
            }
        }
        return limits
    }

    /// A limit that some text can meet: 1 or more (0 is `impossible-check`).
    func positiveLimit(_ m: MapView, _ key: String, what: String) -> Int? {
        guard let node = m[key], let n = r.integer(node, what: "'\(key)' of \(what)", range: 0...1_000_000) else {
            return nil
        }
        guard n > 0 else {
            r.error(DiagnosticCode.impossibleCheck, "'\(key)' of \(what) is 0: a limit no text can meet",
                    at: r.location(node))
            return nil
        }
        return n
    }

    /// A statement's `max_length`, `limits`, `must_include` and `must_not_include`.
    func statementChecks(_ m: MapView, _ w: String) -> StatementChecksSpec {
        var spec = StatementChecksSpec()
        if let node = m["max_length"], let n = positiveLimit(m, "max_length", what: w) {
            spec.maxLength = Located(n, at: r.location(node))
        }
        if let node = m["limits"], !NodeReader.isEmpty(node), let lm = r.mapping(node, what: "'limits' of \(w)") {
            for e in lm.entries {
                let name = e.key.lowercased()
                if var limits = channelLimits(e.value, what: "'limits' of channel '\(e.key)' of \(w)") {
                    limits.location = e.keyLocation
                    spec.limits[name] = limits
                }
            }
        }
        spec.mustInclude = contentRules(m, "must_include", w)
        spec.mustNotInclude = contentRules(m, "must_not_include", w)
        return spec
    }

    /// A list (every language) or a mapping language to list; each item a phrase or `/regex/`.
    func contentRules(_ m: MapView, _ key: String, _ w: String) -> ContentRules {
        guard let node = m[key], !NodeReader.isEmpty(node) else { return ContentRules() }
        let what = "'\(key)' of \(w)"
        var rules = ContentRules()
        switch node {
        case .sequence:
            rules.everyLanguage = patterns(node, what: what)
        case .mapping:
            guard let lm = r.mapping(node, what: what) else { break }
            for e in lm.entries {
                rules.byLanguage[e.key, default: []] += patterns(e.value, what: "'\(e.key)' of \(what)")
            }
        default:
            r.error(DiagnosticCode.wrongType,
                    "\(what) must be a list (for every language) or a mapping from language to list, not \(NodeReader.describe(node))",
                    at: r.location(node))
        }
        return rules
    }

    func patterns(_ node: Node, what: String) -> [ContentPattern] {
        guard let items = r.stringList(node, what: what) else { return [] }
        var out: [ContentPattern] = []
        for item in items {
            let p = ContentPattern(item.value, location: item.location)
            if p.body.trimmingCharacters(in: .whitespaces).isEmpty {
                r.error(DiagnosticCode.badPattern, "an item of \(what) is empty", at: item.location)
                continue
            }
            if !p.isRegex, p.written.hasPrefix("/"), p.written.count > 1 {
                r.error(DiagnosticCode.badPattern,
                        "'\(p.written)' in \(what) starts with '/' but does not end with one: write /…/ for a regular expression",
                        at: item.location)
                continue
            }
            if let why = StatementChecks.compileError(p) {
                r.error(DiagnosticCode.badPattern,
                        "the regular expression \(p.written) in \(what) does not compile: \(why)", at: item.location)
                continue
            }
            out.append(p)
        }
        return out
    }
}
