import Foundation

/// How a clock counts from its start to its deadline. Part of a clock's definition, with the calendar and the
/// zone it counts in; docs/clocks.md explains each.
public enum DeadlineRule: Sendable, Hashable, Codable {
    /// Elapsed time: nights, weekends, holidays and DST changes count as the hours they are (GDPR Art. 33's 72 h).
    case elapsed(PlaybookDuration)
    /// Calendar months in the counting zone, ending at the end (23:59:59) of the day with the same date, or of
    /// the month's last day when it has no such date (Reg. (EEC, Euratom) No 1182/71 Art. 3(2)(c)).
    case months(Int)
    /// Business days of `calendar` after the day the clock starts on (that day is day 0, business day or not),
    /// ending at `cutoff` (seconds after local midnight; 86 399 is the end of the day) on the last one.
    case businessDays(Int, calendar: BusinessCalendar, cutoff: Int)
    /// A window of business days after the start's day: not before the end of the `from`th (00:00 the next
    /// calendar day), not after the end of the `to`th (DMCA: 10 to 14).
    case businessDayWindow(from: Int, to: Int, calendar: BusinessCalendar)
    /// No deadline in law ("without undue delay", "as soon as possible"): reminders, and a policy point after
    /// `policy` at which the clock expires and escalates.
    case withoutUndueDelay(policy: PlaybookDuration)

    /// The calendar the rule counts in, if it counts business days.
    public var calendar: BusinessCalendar? {
        switch self {
        case .businessDays(_, let c, _), .businessDayWindow(_, _, let c): c
        case .elapsed, .months, .withoutUndueDelay: nil
        }
    }

    /// A lower bound of the time to the deadline (for checking warnings are shorter than the clock).
    public var nominal: PlaybookDuration {
        switch self {
        case .elapsed(let d), .withoutUndueDelay(let d): d
        case .months(let n): .days(Int64(28 * n))
        case .businessDays(let n, _, _): .days(Int64(n))
        case .businessDayWindow(_, let to, _): .days(Int64(to))
        }
    }

    /// How it counts, for people: `72h elapsed`, `4 business days (us-federal), 17:30 local`.
    public var summary: String {
        switch self {
        case .elapsed(let d): return "\(d) elapsed"
        case .months(let n): return "\(n) calendar month\(n == 1 ? "" : "s"), end of day"
        case .businessDays(let n, let c, let cutoff):
            let at = cutoff >= 86_399 ? "end of day" : Self.clock(cutoff)
            return "\(n) business days (\(c.rawValue)), \(at)"
        case .businessDayWindow(let from, let to, let c): return "\(from) to \(to) business days (\(c.rawValue))"
        case .withoutUndueDelay(let p): return "without undue delay (policy \(p))"
        }
    }

    static func clock(_ seconds: Int) -> String {
        let h = seconds / 3600
        let m = seconds / 60 % 60
        return (h < 10 ? "0" : "") + "\(h):" + (m < 10 ? "0" : "") + "\(m)"
    }

    /// The deadline of a clock started at `start`, counting days in `zone` (an IANA zone). Deterministic: the
    /// same arguments give the same instants whatever the process's clock or zone.
    public func deadline(from start: Instant, zone: TimeZone) -> (notBefore: Instant?, due: Instant) {
        switch self {
        case .elapsed(let d), .withoutUndueDelay(let d):
            return (nil, start + d)
        case .months(let n):
            let (day, _) = ZonedTime.local(start, in: zone)
            return (nil, ZonedTime.instant(day.adding(months: n), seconds: 86_399, in: zone))
        case .businessDays(let n, let calendar, let cutoff):
            let (day, _) = ZonedTime.local(start, in: zone)
            return (nil, ZonedTime.instant(calendar.businessDay(n, after: day), seconds: cutoff, in: zone))
        case .businessDayWindow(let from, let to, let calendar):
            let (day, _) = ZonedTime.local(start, in: zone)
            let first = calendar.businessDay(from, after: day).adding(days: 1)
            let last = calendar.businessDay(to, after: day)
            return (ZonedTime.instant(first, seconds: 0, in: zone), ZonedTime.instant(last, seconds: 86_399, in: zone))
        }
    }
}

/// A named clock of the catalog (`gdpr-art33`): what starts it, how it counts, its warnings, what the notice
/// must contain and where the rule comes from. Playbooks use one with `clock: NAME` under `clocks`.
///
/// A catalog entry's counting, zone and warnings never change once shipped (trails replay against the
/// catalog of the binary that reads them); a changed rule gets a new name.
public struct CatalogClock: Sendable, Hashable {
    /// `gdpr-art33`
    public var name: String
    public var title: String
    /// `GDPR Art. 33(1)`
    public var legalBasis: String
    /// Where the rule is published.
    public var source: String
    /// What starts the clock.
    public var starts: String
    public var rule: DeadlineRule
    /// The zone days are counted in when the rule fixes it (EDGAR's New York); nil: the incident's zone.
    public var countingZone: String?
    /// Reminders before the deadline.
    public var warnBefore: [PlaybookDuration]
    /// What the notice (or the action at the deadline) must contain.
    public var notice: [String]
    /// True for the organisation's own policy clocks (`internal-...`), not law.
    public var isInternal: Bool

    public init(
        name: String, title: String, legalBasis: String, source: String, starts: String, rule: DeadlineRule,
        countingZone: String? = nil, warnBefore: [PlaybookDuration], notice: [String], isInternal: Bool = false
    ) {
        self.name = name
        self.title = title
        self.legalBasis = legalBasis
        self.source = source
        self.starts = starts
        self.rule = rule
        self.countingZone = countingZone
        self.warnBefore = warnBefore
        self.notice = notice
        self.isInternal = isInternal
    }

    /// The clock's deadline (and the start of its window) when started at `start`, with its warnings;
    /// `zone` is the incident's zone, used to count days unless the clock fixes its own. Nil when `zone` (or
    /// the clock's own) is not a known IANA zone.
    public func deadline(from start: Instant, zone: String) -> ClockDeadline? {
        let counting = countingZone ?? zone
        guard let tz = ZonedTime.zone(counting) else { return nil }
        let (notBefore, due) = rule.deadline(from: start, zone: tz)
        let warnings = warnBefore.map { ClockDeadline.Warning(before: $0, at: due.minus($0)) }
        return ClockDeadline(
            clock: name, from: start, notBefore: notBefore, due: due, countingZone: counting,
            calendar: rule.calendar, warnings: warnings)
    }
}

/// A computed deadline of a catalog clock.
public struct ClockDeadline: Sendable, Hashable {
    /// A reminder `before` the deadline, at `at`.
    public struct Warning: Sendable, Hashable {
        public var before: PlaybookDuration
        public var at: Instant
    }
    public var clock: String
    public var from: Instant
    /// The earliest moment of a window (DMCA restore), if the clock is a window.
    public var notBefore: Instant?
    /// The deadline (the window's end).
    public var due: Instant
    /// The zone days were counted in.
    public var countingZone: String
    public var calendar: BusinessCalendar?
    public var warnings: [Warning]
}

/// The catalog of named regulatory and internal clocks (docs/clocks.md has the same list with its sources).
public enum ClockCatalog {
    /// Every clock, in the order `crisis deadline --list` shows them.
    public static let all: [CatalogClock] = [
        CatalogClock(
            name: "gdpr-art33", title: "GDPR Art. 33 notification to the supervisory authority",
            legalBasis: "GDPR Art. 33(1); EDPB Guidelines 9/2022",
            source: "https://eur-lex.europa.eu/eli/reg/2016/679/oj",
            starts: "the controller becomes aware: reasonably certain that personal data were compromised",
            rule: .elapsed(.hours(72)), warnBefore: [.hours(24), .hours(12), .hours(4)],
            notice: [
                "(a) nature of the breach: categories and approximate numbers of people and records",
                "(b) name and contact details of the DPO or other contact point",
                "(c) likely consequences", "(d) measures taken or proposed, including mitigation",
                "reasons for any delay beyond 72 hours; information may be given in phases (33(4))",
            ]),
        CatalogClock(
            name: "gdpr-art34", title: "GDPR Art. 34 communication to the people affected",
            legalBasis: "GDPR Art. 34(1)", source: "https://eur-lex.europa.eu/eli/reg/2016/679/oj",
            starts: "the breach is assessed as likely to result in a high risk to people's rights and freedoms",
            rule: .withoutUndueDelay(policy: .hours(72)),
            warnBefore: [.hours(60), .hours(48), .hours(36), .hours(24), .hours(12)],
            notice: [
                "clear and plain language: the nature of the breach",
                "the DPO or contact point (33(3)(b))", "likely consequences (33(3)(c))",
                "measures taken or proposed (33(3)(d))",
                "exempt if data unintelligible, risk removed, or disproportionate effort (then a public notice)",
            ]),
        CatalogClock(
            name: "nis2-early-warning", title: "NIS2 early warning to the CSIRT or competent authority",
            legalBasis: "Directive (EU) 2022/2555 (NIS2) Art. 23(4)(a)",
            source: "https://eur-lex.europa.eu/eli/dir/2022/2555/oj",
            starts: "the entity becomes aware of a significant incident",
            rule: .elapsed(.hours(24)), warnBefore: [.hours(12), .hours(4), .hours(1)],
            notice: [
                "whether the incident is suspected of being caused by unlawful or malicious acts",
                "whether it could have a cross-border impact",
            ]),
        CatalogClock(
            name: "nis2-notification", title: "NIS2 incident notification",
            legalBasis: "Directive (EU) 2022/2555 (NIS2) Art. 23(4)(b)",
            source: "https://eur-lex.europa.eu/eli/dir/2022/2555/oj",
            starts: "the entity becomes aware of a significant incident",
            rule: .elapsed(.hours(72)), warnBefore: [.hours(24), .hours(12), .hours(4)],
            notice: [
                "an update of the early warning", "an initial assessment: severity and impact",
                "indicators of compromise, where available",
            ]),
        CatalogClock(
            name: "nis2-final-report", title: "NIS2 final report",
            legalBasis: "Directive (EU) 2022/2555 (NIS2) Art. 23(4)(d); Reg. 1182/71 Art. 3",
            source: "https://eur-lex.europa.eu/eli/dir/2022/2555/oj",
            starts: "the incident notification (nis2-notification) is submitted",
            rule: .months(1), warnBefore: [.days(7), .days(2), .days(1)],
            notice: [
                "a detailed description: severity and impact", "the type of threat or root cause",
                "mitigation measures applied and ongoing", "the cross-border impact, where applicable",
            ]),
        CatalogClock(
            name: "no-nsm-report", title: "Digitalsikkerhetsloven: notify NSM or the sector authority",
            legalBasis: "digitalsikkerhetsloven (in force 1 Oct 2025) and digitalsikkerhetsforskriften: varsling",
            source: "https://nsm.no/aktuelt/ny-digitalsikkerhetslov-i-norge",
            starts: "an incident with significant impact on the delivery of an essential service (samfunnsviktig tjeneste)",
            rule: .elapsed(.hours(24)), warnBefore: [.hours(12), .hours(4), .hours(1)],
            notice: [
                "the service affected and the impact on its delivery", "what is known of the cause",
                "contact point", "sectors: energy, transport, health, water, banking, financial market "
                    + "infrastructure, digital infrastructure",
            ]),
        CatalogClock(
            name: "sec-8k", title: "SEC Form 8-K Item 1.05 (material cybersecurity incident)",
            legalBasis: "Form 8-K General Instruction B.1, Item 1.05; SEC Release 33-11216; Reg. S-T Rule 13",
            source: "https://www.sec.gov/files/rules/final/2023/33-11216.pdf",
            starts: "the registrant determines the incident is material (without unreasonable delay after discovery)",
            rule: .businessDays(4, calendar: .usFederal, cutoff: 17 * 3600 + 30 * 60),
            countingZone: "America/New_York", warnBefore: [.hours(48), .hours(24), .hours(4)],
            notice: [
                "the material aspects of the nature, scope and timing of the incident",
                "its material impact or reasonably likely material impact, including on finances and operations",
                "delay only when the Attorney General notifies the SEC in writing (Item 1.05(c)) or under the FCC's CPNI rule (Item 1.05(d)); amend within 4 business days of new information",
            ]),
        CatalogClock(
            name: "dmca-counter-notice-restore", title: "DMCA: restore material after a counter-notice",
            legalBasis: "17 U.S.C. § 512(g)(2)(B)-(C)", source: "https://www.law.cornell.edu/uscode/text/17/512",
            starts: "a valid counter-notification is received",
            rule: .businessDayWindow(from: 10, to: 14, calendar: .usFederal), countingZone: "America/New_York",
            warnBefore: [.hours(48), .hours(24)],
            notice: [
                "promptly: a copy of the counter-notification to the person who sent the original notice",
                "tell them the material will be replaced in 10 business days",
                "restore within the window unless they report that they filed an action seeking a court order",
            ]),
        CatalogClock(
            name: "eu-tco-removal", title: "EU terrorist content: remove or disable after a removal order",
            legalBasis: "Regulation (EU) 2021/784 Art. 3(3)", source: "https://eur-lex.europa.eu/eli/reg/2021/784/oj",
            starts: "a removal order is received", rule: .elapsed(.hours(1)),
            warnBefore: [.minutes(30), .minutes(15)],
            notice: ["inform the issuing authority of the removal and its time (Art. 3(6))"]),
        CatalogClock(
            name: "internal-holding-statement", title: "Holding statement out (internal policy)",
            legalBasis: "internal policy (the golden hour; CDC CERC 'Be First')", source: "docs/clocks.md",
            starts: "detection: the first credible signal, not the start of the run", rule: .elapsed(.minutes(60)),
            warnBefore: [.minutes(30), .minutes(15)],
            notice: [
                "what we know", "what we do not know", "actions", "empathy", "when the next update comes",
                "where to get information",
            ], isInternal: true),
        CatalogClock(
            name: "internal-post-incident-review", title: "Post-incident review held (internal policy)",
            legalBasis: "internal policy", source: "docs/clocks.md",
            starts: "the incident is closed",
            rule: .businessDays(10, calendar: .norway, cutoff: 16 * 3600), countingZone: "Europe/Oslo",
            warnBefore: [.days(3), .days(1)],
            notice: ["timeline", "what worked and what did not", "actions with owners and dates"], isInternal: true),
    ]

    /// The clock named `name`, if the catalog has it.
    public static func clock(named name: String) -> CatalogClock? { all.first { $0.name == name } }

    /// Every name, in catalog order.
    public static var names: [String] { all.map(\.name) }
}

extension ClockSpec {
    /// The deadline of this clock started at `origin` in a playbook whose zone is `zone`: elapsed `duration`
    /// unless the clock follows a counting rule (a catalog clock counting business days or months).
    public func deadline(from origin: Instant, zone: String) -> Instant {
        guard let rule, let tz = ZonedTime.zone(countingZone ?? zone) else { return origin + duration }
        return rule.deadline(from: origin, zone: tz).due
    }
}

extension ClockCatalog {
    /// The catalog name closest to `word` (edit distance at most half its length, and at most 4), for "did
    /// you mean" advice; nil when none is close.
    public static func suggestion(for word: String) -> String? {
        let w = Array(word.lowercased().unicodeScalars)
        guard !w.isEmpty, w.count <= 64 else { return nil }
        var best: (String, Int)?
        for name in names {
            let n = Array(name.unicodeScalars)
            var row = Array(0...n.count)
            for i in 1...w.count {
                var previous = row[0]
                row[0] = i
                for j in 1...n.count {
                    let above = row[j]
                    row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (w[i - 1] == n[j - 1] ? 0 : 1))
                    previous = above
                }
            }
            let d = row[n.count]
            if d <= min(4, max(1, w.count / 2)), d < (best?.1 ?? Int.max) { best = (name, d) }
        }
        return best?.0
    }
}
