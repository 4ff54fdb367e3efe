import Foundation  // Only for NFC normalisation (`precomposedStringWithCanonicalMapping`).

// Limits a playbook declares (`max_length`, `sms: {encoding, max_segments}`) and content checks (`must_include`,
// `must_not_include`) of holding statements.
//
// Where they are evaluated: in the shell, when a draft is rendered (`StatementChecks.evaluate`). The results (each
// text's measure on each channel, and every failed check) travel into the engine with the `drafted` event and are
// recorded with the draft in the trail, so replay never evaluates a regular expression or measures a text again:
// a later Swift (its regex engine, its Unicode tables) or a corrected counting rule cannot change what an old
// trail replays to. The engine only reads the recorded findings: approval of a draft with findings is refused
// (`unmet-checks`) unless the approver gives an override reason, recorded with the approval.

/// The SMS encodings a playbook may require.
public enum SMSEncoding: String, Sendable, Hashable, Codable, CaseIterable {
    /// GSM 03.38 7-bit: 160 characters in one message, 153 per part. A text with any other character is sent as
    /// UCS-2, so requiring `gsm7` flags it.
    case gsm7
    /// UCS-2 (UTF-16): 70 characters in one message, 67 per part. Any text fits; the same as no requirement.
    case ucs2
}

/// SMS limits: the encoding the text must fit and how many messages it may take.
public struct SMSLimit: Sendable, Hashable, Codable {
    public var encoding: SMSEncoding?
    public var maxSegments: Int?
    public init(encoding: SMSEncoding? = nil, maxSegments: Int? = nil) {
        self.encoding = encoding
        self.maxSegments = maxSegments
    }
}

/// Limits declared for one channel (top-level `channels:`, or a statement's `limits:`).
public struct ChannelLimits: Sendable, Hashable, Codable {
    /// Longest text, in the channel's own unit (X: weighted characters; SMS: GSM-7 septets or UTF-16 units;
    /// others: UTF-16 units, as Facebook, Instagram and LinkedIn count).
    public var maxLength: Int?
    /// SMS only.
    public var sms: SMSLimit?
    public var location: SourceLocation
    public init(maxLength: Int? = nil, sms: SMSLimit? = nil, location: SourceLocation = .unknown) {
        self.maxLength = maxLength
        self.sms = sms
        self.location = location
    }

    /// These limits with `other`'s set fields taking precedence (a statement's over the playbook's).
    public func overridden(by other: ChannelLimits?) -> ChannelLimits {
        guard let other else { return self }
        var out = self
        if let m = other.maxLength { out.maxLength = m }
        if let s = other.sms {
            var merged = out.sms ?? SMSLimit()
            if let e = s.encoding { merged.encoding = e }
            if let n = s.maxSegments { merged.maxSegments = n }
            out.sms = merged
        }
        out.location = other.location
        return out
    }
}

/// One `must_include` / `must_not_include` entry: a word or phrase, or a regular expression written `/…/`.
public struct ContentPattern: Sendable, Hashable, Codable {
    /// As written in the playbook (`Dette vet vi`, `/skyld(ig)?/`).
    public var written: String
    public var location: SourceLocation
    public init(_ written: String, location: SourceLocation = .unknown) {
        self.written = written
        self.location = location
    }
    /// Whether it is a regular expression (`/…/`, at least one character between the slashes).
    public var isRegex: Bool { written.count >= 3 && written.hasPrefix("/") && written.hasSuffix("/") }
    /// The regular expression's source (between the slashes), or the phrase.
    public var body: String { isRegex ? String(written.dropFirst().dropLast()) : written }
}

/// Content patterns for every language and per language.
public struct ContentRules: Sendable, Hashable, Codable {
    /// A plain list in the playbook: for every language.
    public var everyLanguage: [ContentPattern]
    /// A mapping language to list.
    public var byLanguage: [String: [ContentPattern]]
    public init(everyLanguage: [ContentPattern] = [], byLanguage: [String: [ContentPattern]] = [:]) {
        self.everyLanguage = everyLanguage
        self.byLanguage = byLanguage
    }
    public var isEmpty: Bool { everyLanguage.isEmpty && byLanguage.values.allSatisfy(\.isEmpty) }
    /// The patterns that apply to `language`.
    public func patterns(for language: String) -> [ContentPattern] { everyLanguage + (byLanguage[language] ?? []) }
    /// Every pattern, for validation.
    public var all: [ContentPattern] {
        everyLanguage + byLanguage.sorted { $0.key < $1.key }.flatMap(\.value)
    }
}

/// A holding statement's declared limits and content checks (docs/playbook-format.md, "Limits and content
/// checks").
public struct StatementChecksSpec: Sendable, Hashable, Codable {
    /// `max_length`: every text on every channel, in the channel's unit.
    public var maxLength: Located<Int>?
    /// `limits:` channel to limits, over the playbook's top-level `channels:`.
    public var limits: [String: ChannelLimits]
    public var mustInclude: ContentRules
    public var mustNotInclude: ContentRules
    public init(maxLength: Located<Int>? = nil, limits: [String: ChannelLimits] = [:],
                mustInclude: ContentRules = ContentRules(), mustNotInclude: ContentRules = ContentRules()) {
        self.maxLength = maxLength
        self.limits = limits
        self.mustInclude = mustInclude
        self.mustNotInclude = mustNotInclude
    }
}

/// One text's measure on one channel, as recorded with the draft.
public struct DraftMeasure: Sendable, Hashable, Codable {
    public var channel: String
    public var language: String
    /// The length in `unit`.
    public var count: Int
    /// `weighted-characters`, `gsm7-septets`, `utf16-units` or `characters`.
    public var unit: String
    /// The limit in `unit` that holds: the declared `max_length`, else the platform's; nil when none.
    public var limit: Int?
    /// SMS: `GSM-7` or `UCS-2`.
    public var encoding: String?
    /// SMS: how many messages.
    public var segments: Int?
    public init(channel: String, language: String, count: Int, unit: String, limit: Int? = nil,
                encoding: String? = nil, segments: Int? = nil) {
        self.channel = channel
        self.language = language
        self.count = count
        self.unit = unit
        self.limit = limit
        self.encoding = encoding
        self.segments = segments
    }

    /// `231 of 280 weighted characters`, `2 SMS messages (UCS-2, 140 UTF-16 units)`.
    public var summary: String {
        let unitWords = unit.replacingOccurrences(of: "-", with: " ")
        if let encoding, let segments {
            return "\(segments) SMS message\(segments == 1 ? "" : "s") (\(encoding), \(count) \(unitWords))"
        }
        return "\(count)" + (limit.map { " of \($0)" } ?? "") + " \(unitWords)"
    }
}

/// A check a draft fails: a declared limit it is over, or a content check it does not meet.
public struct CheckFinding: Sendable, Hashable, Codable {
    /// Which check.
    public enum Check: String, Sendable, Hashable, Codable, CaseIterable {
        case maxLength = "max_length"
        case smsEncoding = "sms_encoding"
        case maxSegments = "max_segments"
        case mustInclude = "must_include"
        case mustNotInclude = "must_not_include"
        /// Whether the check is a limit (else a content check).
        public var isLimit: Bool { self == .maxLength || self == .smsEncoding || self == .maxSegments }
    }
    public var check: Check
    public var language: String
    /// The channel, for limits; nil for content checks (they hold for the language's text on every channel).
    public var channel: String?
    /// The rule as declared: the limit (`240`, `gsm7`, `1`) or the pattern as written.
    public var rule: String
    /// What was found: the measure (`251 weighted-characters`, `UCS-2 (« is not GSM-7)`, `3 messages`) or the
    /// text a `must_not_include` matched; empty for a missing `must_include`.
    public var found: String
    public init(check: Check, language: String, channel: String? = nil, rule: String, found: String = "") {
        self.check = check
        self.language = language
        self.channel = channel
        self.rule = rule
        self.found = found
    }

    /// One line for people: `nb on sms: 3 messages, over max_segments 1`, `en: lacks "What we know"`.
    public var summary: String {
        let place = language + (channel.map { " on \($0)" } ?? "")
        switch check {
        case .maxLength: return "\(place): \(found.replacingOccurrences(of: "-", with: " ")), over max_length \(rule)"
        case .smsEncoding: return "\(place): \(found), but encoding \(rule) is required"
        case .maxSegments: return "\(place): \(found), over max_segments \(rule)"
        case .mustInclude: return "\(place): lacks must_include \(Self.quoted(rule))"
        case .mustNotInclude: return "\(place): holds must_not_include \(Self.quoted(rule))"
            + (found.isEmpty || found == rule ? "" : " (\(Self.quoted(found)))")
        }
    }

    static func quoted(_ s: String) -> String { s.hasPrefix("/") ? s : "\"\(s)\"" }
}

/// What a draft's checks found, recorded with the draft (`statement.measures`, `statement.findings` in the trail).
public struct DraftChecks: Sendable, Hashable, Codable {
    /// Every text's measure on every channel of the statement.
    public var measures: [DraftMeasure]
    /// Every check the draft fails (empty: none).
    public var findings: [CheckFinding]
    public init(measures: [DraftMeasure] = [], findings: [CheckFinding] = []) {
        self.measures = measures
        self.findings = findings
    }
    public var isEmpty: Bool { measures.isEmpty && findings.isEmpty }
    /// `2 checks fail: nb on sms: …; en: lacks …`, or nil when none fails.
    public var failureSummary: String? {
        guard !findings.isEmpty else { return nil }
        let n = findings.count
        return "\(n) check\(n == 1 ? "" : "s") fail\(n == 1 ? "s" : ""): " + findings.map(\.summary).joined(separator: "; ")
    }
}

/// A text to check: one language's text, and the channels it goes to.
public struct CheckedText: Sendable, Hashable {
    public var language: String
    public var channels: [String]
    public var text: String
    public init(language: String, channels: [String], text: String) {
        self.language = language
        self.channels = channels
        self.text = text
    }
}

/// Evaluates declared limits and content checks (in the shell, at draft; see the top of this file).
public enum StatementChecks {
    /// The limits that hold on `channel`: the playbook's `channels:` entry, then the statement's `limits:` entry,
    /// with the statement's `max_length` as a ceiling over both.
    public static func limits(_ spec: StatementChecksSpec, declared: [String: ChannelLimits], channel: String)
        -> ChannelLimits
    {
        let key = channel.lowercased()
        var out = (declared[key] ?? declared[channel] ?? ChannelLimits())
            .overridden(by: spec.limits[key] ?? spec.limits[channel])
        if let ceiling = spec.maxLength?.value { out.maxLength = min(out.maxLength ?? ceiling, ceiling) }
        return out
    }

    /// A statement's checks on its rendered texts (language to text; each goes to every channel of the statement).
    public static func evaluate(
        _ spec: StatementSpec, in playbook: Playbook, texts: [String: String], variants: [String: [String: String]] = [:]
    ) -> DraftChecks {
        let languages = spec.languages(in: playbook)
        let ordered = languages.filter { texts[$0] != nil } + texts.keys.filter { !languages.contains($0) }.sorted()
        // Each language's default text on the channels that publish it and have no variant of their own; then
        // each variant on its own channel, in the languages that channel publishes.
        var checked: [CheckedText] = ordered.map { language in
            let channels = spec.channels.filter { c in
                variants[c.id] == nil
                    && (c.languages.isEmpty || c.languages.contains { $0.value == language })
            }.map(\.id)
            return CheckedText(language: language, channels: channels, text: texts[language] ?? "")
        }
        for channel in spec.channels {
            guard let texts = variants[channel.id] else { continue }
            for language in spec.languages(of: channel, in: playbook) {
                guard let text = texts[language] else { continue }
                checked.append(CheckedText(language: language, channels: [channel.id], text: text))
            }
        }
        return evaluate(spec.checks, declared: playbook.channels, texts: checked)
    }

    /// Measures every text on its channels and runs every check. Content checks run once per language text.
    public static func evaluate(_ spec: StatementChecksSpec, declared: [String: ChannelLimits], texts: [CheckedText])
        -> DraftChecks
    {
        var out = DraftChecks()
        for t in texts {
            for channel in t.channels {
                let m = ChannelLength.measure(t.text, channel: channel)
                let l = limits(spec, declared: declared, channel: channel)
                out.measures.append(DraftMeasure(
                    channel: channel, language: t.language, count: m.count, unit: m.unit,
                    limit: l.maxLength ?? m.limit.flatMap { m.segments == nil ? $0 : nil }, encoding: m.encoding,
                    segments: m.segments))
                if let max = l.maxLength, m.count > max {
                    out.findings.append(CheckFinding(
                        check: .maxLength, language: t.language, channel: channel, rule: String(max),
                        found: "\(m.count) \(m.unit)"))
                }
                if let sms = l.sms, let encoding = m.encoding, let segments = m.segments {
                    if sms.encoding == .gsm7, encoding != "GSM-7" {
                        let culprit = firstNonGSM7(t.text.precomposedStringWithCanonicalMapping)
                        out.findings.append(CheckFinding(
                            check: .smsEncoding, language: t.language, channel: channel, rule: SMSEncoding.gsm7.rawValue,
                            found: "UCS-2" + (culprit.map { " (\(visible($0)) is not GSM-7)" } ?? "")))
                    }
                    if let max = sms.maxSegments, segments > max {
                        out.findings.append(CheckFinding(
                            check: .maxSegments, language: t.language, channel: channel, rule: String(max),
                            found: "\(segments) messages (\(encoding))"))
                    }
                }
            }
        }
        var seen = Set<String>()
        for t in texts where seen.insert(t.language + "\u{0}" + t.text).inserted {
            for p in spec.mustInclude.patterns(for: t.language) where match(p, in: t.text) == nil {
                out.findings.append(CheckFinding(check: .mustInclude, language: t.language, rule: p.written))
            }
            for p in spec.mustNotInclude.patterns(for: t.language) {
                if let found = match(p, in: t.text) {
                    out.findings.append(CheckFinding(
                        check: .mustNotInclude, language: t.language, rule: p.written, found: found))
                }
            }
        }
        return out
    }

    /// NFC, then full case folding (`Straße` and `STRASSE` both give `strasse`).
    public static func fold(_ s: String) -> String {
        s.precomposedStringWithCanonicalMapping.uppercased().lowercased().precomposedStringWithCanonicalMapping
    }

    /// Why a regular expression does not compile (Swift `Regex` syntax), or nil when it does.
    public static func compileError(_ pattern: ContentPattern) -> String? {
        guard pattern.isRegex else { return nil }
        do {
            _ = try Regex(pattern.body)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// The text `pattern` matches in `text` (folded for a phrase), or nil. A phrase matches whole words: `skyld`
    /// is not found in `uskyldig` (a regular expression may match inside words). A regular expression is matched
    /// case-insensitively against the NFC text; one that does not compile matches nothing (`validate` refuses it).
    public static func match(_ pattern: ContentPattern, in text: String) -> String? {
        if pattern.isRegex {
            guard let regex = try? Regex(pattern.body).ignoresCase(),
                let m = text.precomposedStringWithCanonicalMapping.firstMatch(of: regex)
            else { return nil }
            return String(m.output[0].substring ?? "")
        }
        let needle = fold(pattern.body)
        guard !needle.isEmpty else { return nil }
        let haystack = fold(text)
        for r in haystack.ranges(of: needle) {
            let before = r.lowerBound > haystack.startIndex ? haystack[haystack.index(before: r.lowerBound)] : nil
            let after = r.upperBound < haystack.endIndex ? haystack[r.upperBound] : nil
            if let first = needle.first, isWordCharacter(first), let b = before, isWordCharacter(b) { continue }
            if let last = needle.last, isWordCharacter(last), let a = after, isWordCharacter(a) { continue }
            return String(haystack[r])
        }
        return nil
    }

    static func isWordCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }

    /// The first character of an NFC text that GSM-7 cannot carry.
    public static func firstNonGSM7(_ text: String) -> Character? {
        text.first { $0 != "\r\n" && !ChannelLength.gsm7Basic.contains($0) && !ChannelLength.gsm7Extension.contains($0) }
    }

    /// A character as people can read it in a message (`«`, `U+00A0`).
    static func visible(_ c: Character) -> String {
        if c.unicodeScalars.count == 1, let s = c.unicodeScalars.first,
            s.properties.generalCategory == .spaceSeparator || s.properties.generalCategory == .control
                || s.properties.generalCategory == .format
        {
            return "U+" + String(s.value, radix: 16, uppercase: true).leftPadded(to: 4)
        }
        return String(c)
    }
}

extension String {
    func leftPadded(to n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
