import Foundation

/// A day in the proleptic Gregorian calendar, with no time and no zone: a holiday, a business day, the day an
/// event fell on in some zone. Pure arithmetic on day numbers (days since 1970-01-01).
public struct CivilDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(_ year: Int, _ month: Int, _ day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// The date `dayNumber` days after 1970-01-01.
    public init(dayNumber: Int) {
        let (y, m, d) = ISO8601.civilFromDays(Int64(dayNumber))
        self.init(Int(y), Int(m), Int(d))
    }

    /// Days since 1970-01-01.
    public var dayNumber: Int { Int(ISO8601.daysFromCivil(Int64(year), Int64(month), Int64(day))) }

    /// 1 Monday ... 7 Sunday (ISO 8601).
    public var weekday: Int {
        // 1970-01-01 was a Thursday (4).
        let r = (dayNumber + 3) % 7
        return (r < 0 ? r + 7 : r) + 1
    }

    public var isWeekend: Bool { weekday >= 6 }

    public func adding(days: Int) -> CivilDate { CivilDate(dayNumber: dayNumber + days) }

    /// The same day of the month `months` later; the last day of that month when it has no such day
    /// (31 January + 1 month = 28 or 29 February).
    public func adding(months: Int) -> CivilDate {
        let total = year * 12 + (month - 1) + months
        let y = total >= 0 ? total / 12 : (total - 11) / 12
        let m = total - y * 12 + 1
        return CivilDate(y, m, min(day, Int(ISO8601.daysInMonth(Int64(y), Int64(m)))))
    }

    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool { lhs.dayNumber < rhs.dayNumber }

    /// `2026-11-26`
    public var description: String {
        func pad(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// The `n`th (1-based) `weekday` (1 Monday ... 7 Sunday) of a month; `n = -1` for the last one.
    public static func nth(_ n: Int, weekday: Int, of month: Int, _ year: Int) -> CivilDate {
        if n > 0 {
            let first = CivilDate(year, month, 1)
            let shift = (weekday - first.weekday + 7) % 7
            return first.adding(days: shift + 7 * (n - 1))
        }
        let last = CivilDate(year, month, Int(ISO8601.daysInMonth(Int64(year), Int64(month))))
        return last.adding(days: -((last.weekday - weekday + 7) % 7))
    }

    /// Easter Sunday (Gregorian), by the anonymous Gregorian algorithm (Meeus/Jones/Butcher).
    public static func easterSunday(_ year: Int) -> CivilDate {
        let a = year % 19
        let b = year / 100
        let c = year % 100
        let d = b / 4
        let e = b % 4
        let f = (b + 8) / 25
        let g = (b - f + 1) / 3
        let h = (19 * a + b - d - g + 15) % 30
        let i = c / 4
        let k = c % 4
        let l = (32 + 2 * e + 2 * i - h - k) % 7
        let m = (a + 11 * h + 22 * l) / 451
        let month = (h + l - 7 * m + 114) / 31
        let day = (h + l - 7 * m + 114) % 31 + 1
        return CivilDate(year, month, day)
    }
}

/// A holiday of a calendar: the date it is kept (observed) and its name.
public struct Holiday: Sendable, Hashable, Codable {
    public var date: CivilDate
    public var name: String
    public init(_ date: CivilDate, _ name: String) {
        self.date = date
        self.name = name
    }
}

/// A business-day calendar: which days are working days in a jurisdiction. Holidays are computed from rules
/// (fixed dates, Easter, "the fourth Thursday of November", observed-day shifts), never listed by hand, and are
/// right for any year from 2000 to 2100. Weekends (Saturday and Sunday) are never business days.
public enum BusinessCalendar: String, Sendable, Hashable, Codable, CaseIterable {
    /// Norway: working days Monday to Friday (*arbeidsdager*): not a Saturday, not a Sunday, not a public holiday
    /// (*helligdag*, lov om helligdager og helligdagsfred § 2) and not 1 or 17 May (lov om 1. og 17. mai som
    /// offentlige høgtidsdager). Note that a legal *virkedag* includes Saturday (ferieloven § 5(1)); statutory time
    /// limits run in calendar days and move past a closed last day (domstolloven §§ 148–149). docs/clocks.md.
    case norway = "no"
    /// US federal holidays (5 U.S.C. § 6103) with the observed-day rules for federal employees (a holiday on a
    /// Saturday is kept the Friday before, one on a Sunday the Monday after; OPM). Juneteenth from 2021.
    case usFederal = "us-federal"

    /// What the calendar is, for people.
    public var title: String {
        switch self {
        case .norway: "Norwegian working days (Sat, Sun, public holidays, 1 and 17 May off)"
        case .usFederal: "US business days (Sat, Sun and federal holidays, observed, off)"
        }
    }

    /// The holidays kept in `year` (by their observed date), in date order. A US holiday of the next year
    /// observed in this one (New Year's Day on a Saturday is kept on 31 December) is included.
    public func holidays(in year: Int) -> [Holiday] {
        let list: [Holiday]
        switch self {
        case .norway: list = Self.norwegianHolidays(year)
        case .usFederal:
            list = (Self.usFederalHolidays(year) + Self.usFederalHolidays(year + 1)).filter { $0.date.year == year }
        }
        return list.sorted { $0.date < $1.date }
    }

    /// The holiday kept on `date`, if any (weekends are not holidays, only days off).
    public func holiday(on date: CivilDate) -> Holiday? {
        holidays(in: date.year).first { $0.date == date }
    }

    /// True for a day that is neither a Saturday, a Sunday nor a holiday kept that day.
    public func isBusinessDay(_ date: CivilDate) -> Bool {
        !date.isWeekend && holiday(on: date) == nil
    }

    /// The `count`th business day after `date` (`date` itself is day 0, business day or not). `count` 0 is
    /// `date`.
    public func businessDay(_ count: Int, after date: CivilDate) -> CivilDate {
        var day = date
        var left = count
        var cache: [Int: Set<CivilDate>] = [:]
        func isHoliday(_ d: CivilDate) -> Bool {
            if cache[d.year] == nil { cache[d.year] = Set(holidays(in: d.year).map(\.date)) }
            return cache[d.year]?.contains(d) ?? false
        }
        while left > 0 {
            day = day.adding(days: 1)
            if !day.isWeekend && !isHoliday(day) { left -= 1 }
        }
        return day
    }

    static func norwegianHolidays(_ year: Int) -> [Holiday] {
        let easter = CivilDate.easterSunday(year)
        return [
            Holiday(CivilDate(year, 1, 1), "Nyttårsdag"),
            Holiday(easter.adding(days: -3), "Skjærtorsdag"),
            Holiday(easter.adding(days: -2), "Langfredag"),
            Holiday(easter, "1. påskedag"),
            Holiday(easter.adding(days: 1), "2. påskedag"),
            Holiday(CivilDate(year, 5, 1), "Offentlig høytidsdag (1. mai)"),
            Holiday(CivilDate(year, 5, 17), "Grunnlovsdag (17. mai)"),
            Holiday(easter.adding(days: 39), "Kristi himmelfartsdag"),
            Holiday(easter.adding(days: 49), "1. pinsedag"),
            Holiday(easter.adding(days: 50), "2. pinsedag"),
            Holiday(CivilDate(year, 12, 25), "1. juledag"),
            Holiday(CivilDate(year, 12, 26), "2. juledag"),
        ]
    }

    /// The federal holidays of `year` at their observed dates (New Year's Day may fall in the year before).
    static func usFederalHolidays(_ year: Int) -> [Holiday] {
        func observed(_ d: CivilDate) -> CivilDate {
            switch d.weekday {
            case 6: d.adding(days: -1)
            case 7: d.adding(days: 1)
            default: d
            }
        }
        var list = [
            Holiday(observed(CivilDate(year, 1, 1)), "New Year's Day"),
            Holiday(CivilDate.nth(3, weekday: 1, of: 1, year), "Birthday of Martin Luther King, Jr."),
            Holiday(CivilDate.nth(3, weekday: 1, of: 2, year), "Washington's Birthday"),
            Holiday(CivilDate.nth(-1, weekday: 1, of: 5, year), "Memorial Day"),
            Holiday(observed(CivilDate(year, 7, 4)), "Independence Day"),
            Holiday(CivilDate.nth(1, weekday: 1, of: 9, year), "Labor Day"),
            Holiday(CivilDate.nth(2, weekday: 1, of: 10, year), "Columbus Day"),
            Holiday(observed(CivilDate(year, 11, 11)), "Veterans Day"),
            Holiday(CivilDate.nth(4, weekday: 4, of: 11, year), "Thanksgiving Day"),
            Holiday(observed(CivilDate(year, 12, 25)), "Christmas Day"),
        ]
        // Juneteenth National Independence Day Act, 17 June 2021 (kept on Friday 18 June that year).
        if year >= 2021 { list.append(Holiday(observed(CivilDate(year, 6, 19)), "Juneteenth National Independence Day")) }
        return list
    }
}

/// Wall-clock arithmetic in a named IANA zone: the day an instant falls on, the instant a local time names.
/// Foundation's `TimeZone` with an explicit identifier only; never the process's zone or clock.
public enum ZonedTime {
    /// The zone named `identifier` (`UTC` included), or nil when there is no such zone.
    public static func zone(_ identifier: String) -> TimeZone? {
        guard !identifier.isEmpty else { return nil }
        return TimeZone(identifier: identifier)
    }

    static func date(_ instant: Instant) -> Date {
        Date(timeIntervalSince1970: Double(instant.millisecondsSinceEpoch) / 1000)
    }

    /// The UTC offset of `zone` at `instant`, in seconds.
    public static func offset(_ zone: TimeZone, at instant: Instant) -> Int {
        zone.secondsFromGMT(for: date(instant))
    }

    /// The local date of `instant` in `zone`, and the milliseconds since local midnight.
    public static func local(_ instant: Instant, in zone: TimeZone) -> (date: CivilDate, msOfDay: Int64) {
        let ms = instant.millisecondsSinceEpoch + Int64(offset(zone, at: instant)) * 1000
        var days = ms / 86_400_000
        var rest = ms % 86_400_000
        if rest < 0 {
            days -= 1
            rest += 86_400_000
        }
        return (CivilDate(dayNumber: Int(days)), rest)
    }

    /// The instant the local wall time `date` + `seconds` (since midnight) names in `zone`. In a gap (the hour
    /// skipped when clocks go forward) the offset before the gap is used, so the instant lands after it; in
    /// an overlap, the earlier of the two.
    public static func instant(_ date: CivilDate, seconds: Int, in zone: TimeZone) -> Instant {
        let wall = (Int64(date.dayNumber) * 86_400 + Int64(seconds)) * 1000
        // Try the offsets in force a day either side; the first that maps back to the same wall time wins.
        let around = [-86_400_000, 86_400_000].map {
            Int64(offset(zone, at: Instant(millisecondsSinceEpoch: wall + Int64($0)))) * 1000
        }
        for off in around.sorted(by: >) {
            let guess = Instant(millisecondsSinceEpoch: wall - off)
            if Int64(offset(zone, at: guess)) * 1000 == off { return guess }
        }
        return Instant(millisecondsSinceEpoch: wall - around[0])
    }
}
