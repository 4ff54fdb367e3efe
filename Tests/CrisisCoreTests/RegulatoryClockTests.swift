import CrisisCore
import Foundation
import Testing

/// The clock catalog, business-day calendars and deadline rules: golden dates checked against published
/// tables, across holidays, month ends and DST changes.
@Suite("Regulatory clocks and business-day calendars")
struct RegulatoryClockTests {
    static func day(_ text: String) -> CivilDate {
        let p = text.split(separator: "-").map { Int($0)! }
        return CivilDate(p[0], p[1], p[2])
    }

    static func due(_ name: String, from: String, zone: String = "Europe/Oslo") throws -> ClockDeadline {
        let clock = try #require(ClockCatalog.clock(named: name))
        return try #require(clock.deadline(from: at(from), zone: zone))
    }

    // MARK: Easter and holidays

    /// Easter Sunday 2000-2030 (Western churches): the table of the US Census Bureau / Astronomical Society of
    /// South Australia, as also given by python-dateutil's `easter()`.
    static let easter: [String] = [
        "2000-04-23", "2001-04-15", "2002-03-31", "2003-04-20", "2004-04-11", "2005-03-27", "2006-04-16",
        "2007-04-08", "2008-03-23", "2009-04-12", "2010-04-04", "2011-04-24", "2012-04-08", "2013-03-31",
        "2014-04-20", "2015-04-05", "2016-03-27", "2017-04-16", "2018-04-01", "2019-04-21", "2020-04-12",
        "2021-04-04", "2022-04-17", "2023-04-09", "2024-03-31", "2025-04-20", "2026-04-05", "2027-03-28",
        "2028-04-16", "2029-04-01", "2030-04-21",
    ]

    @Test("Easter Sunday 2000-2030 matches the published table, and 2038 and 2100 too")
    func easterTable() {
        for (i, expected) in Self.easter.enumerated() {
            #expect(CivilDate.easterSunday(2000 + i).description == expected)
        }
        #expect(CivilDate.easterSunday(2038).description == "2038-04-25")
        #expect(CivilDate.easterSunday(2100).description == "2100-03-28")
    }

    @Test("Every Easter 2000-2100 is a Sunday between 22 March and 25 April")
    func easterBounds() {
        for year in 2000...2100 {
            let e = CivilDate.easterSunday(year)
            #expect(e.weekday == 7)
            #expect(e >= CivilDate(year, 3, 22) && e <= CivilDate(year, 4, 25))
        }
    }

    @Test("Norwegian public holidays 2026 (lov om helligdager; 1 and 17 May)")
    func norway2026() {
        let days = BusinessCalendar.norway.holidays(in: 2026).map(\.date.description)
        #expect(days == [
            "2026-01-01", "2026-04-02", "2026-04-03", "2026-04-05", "2026-04-06", "2026-05-01", "2026-05-14",
            "2026-05-17", "2026-05-24", "2026-05-25", "2026-12-25", "2026-12-26",
        ])
    }

    /// Skjærtorsdag, langfredag, 2. påskedag, Kristi himmelfartsdag and 2. pinsedag as published (Norwegian
    /// almanac), 2016-2027.
    @Test(
        "Norway's moving holidays 2016-2027",
        arguments: [
            (2016, ["03-24", "03-25", "03-28", "05-05", "05-16"]), (2017, ["04-13", "04-14", "04-17", "05-25", "06-05"]),
            (2018, ["03-29", "03-30", "04-02", "05-10", "05-21"]), (2019, ["04-18", "04-19", "04-22", "05-30", "06-10"]),
            (2020, ["04-09", "04-10", "04-13", "05-21", "06-01"]), (2021, ["04-01", "04-02", "04-05", "05-13", "05-24"]),
            (2022, ["04-14", "04-15", "04-18", "05-26", "06-06"]), (2023, ["04-06", "04-07", "04-10", "05-18", "05-29"]),
            (2024, ["03-28", "03-29", "04-01", "05-09", "05-20"]), (2025, ["04-17", "04-18", "04-21", "05-29", "06-09"]),
            (2026, ["04-02", "04-03", "04-06", "05-14", "05-25"]), (2027, ["03-25", "03-26", "03-29", "05-06", "05-17"]),
        ] as [(Int, [String])])
    func norwayMoving(year: Int, expected: [String]) {
        let names = ["Skjærtorsdag", "Langfredag", "2. påskedag", "Kristi himmelfartsdag", "2. pinsedag"]
        let list = BusinessCalendar.norway.holidays(in: year)
        for (name, date) in zip(names, expected) {
            #expect(list.first { $0.name == name }?.date.description == "\(year)-\(date)")
        }
    }

    @Test("US federal holidays 2026 (OPM), Thanksgiving on 26 November, Independence Day kept on Friday 3 July")
    func us2026() {
        let days = BusinessCalendar.usFederal.holidays(in: 2026).map(\.date.description)
        #expect(days == [
            "2026-01-01", "2026-01-19", "2026-02-16", "2026-05-25", "2026-06-19", "2026-07-03", "2026-09-07",
            "2026-10-12", "2026-11-11", "2026-11-26", "2026-12-25",
        ])
        #expect(BusinessCalendar.usFederal.holiday(on: Self.day("2026-11-26"))?.name == "Thanksgiving Day")
    }

    /// Thanksgiving (fourth Thursday of November) 2016-2027, and observed days that moved (OPM's lists).
    @Test("US Thanksgiving 2016-2027 and observed-day shifts")
    func usObserved() {
        let thanksgiving = [24, 23, 22, 28, 26, 25, 24, 23, 28, 27, 26, 25]
        for (i, d) in thanksgiving.enumerated() {
            #expect(BusinessCalendar.usFederal.holiday(on: CivilDate(2016 + i, 11, d))?.name == "Thanksgiving Day")
        }
        let observed: [(String, String)] = [
            ("2020-07-03", "Independence Day"), ("2021-06-18", "Juneteenth National Independence Day"),
            ("2021-07-05", "Independence Day"), ("2021-12-24", "Christmas Day"), ("2021-12-31", "New Year's Day"),
            ("2022-06-20", "Juneteenth National Independence Day"), ("2022-12-26", "Christmas Day"),
            ("2023-01-02", "New Year's Day"), ("2023-11-10", "Veterans Day"), ("2027-07-05", "Independence Day"),
            ("2027-12-24", "Christmas Day"), ("2027-12-31", "New Year's Day"),
        ]
        for (date, name) in observed {
            #expect(BusinessCalendar.usFederal.holiday(on: Self.day(date))?.name == name, "\(date)")
        }
        // No Juneteenth before 2021; the Saturday itself is not a holiday when it is kept on the Friday.
        #expect(BusinessCalendar.usFederal.holiday(on: Self.day("2020-06-19")) == nil)
        #expect(BusinessCalendar.usFederal.holiday(on: Self.day("2026-07-04")) == nil)
        #expect(BusinessCalendar.usFederal.holidays(in: 2022).first?.date.description == "2022-01-17")
    }

    @Test("Every year 2000-2100 has 10 US federal holidays (11 from 2021) on weekdays, and 12 Norwegian ones")
    func everyYear() {
        for year in 2000...2100 {
            let us = BusinessCalendar.usFederal.holidays(in: year)
            // A year can lose New Year's Day to the year before (kept on 31 December) or gain next year's.
            let expected = year >= 2021 ? 11 : 10
            #expect((expected - 1...expected + 1).contains(us.count), "\(year)")
            #expect(us.allSatisfy { !$0.date.isWeekend && $0.date.year == year })
            #expect(BusinessCalendar.norway.holidays(in: year).count == 12)
        }
    }

    // MARK: Business days

    @Test("Norwegian working days skip Easter, and 17 May with Whit Monday")
    func norwayBusinessDays() {
        let no = BusinessCalendar.norway
        // Wednesday 1 April 2026: Thu, Fri, Sat, Sun, Easter Monday are off.
        #expect(no.businessDay(1, after: Self.day("2026-04-01")).description == "2026-04-07")
        #expect(no.businessDay(3, after: Self.day("2026-04-01")).description == "2026-04-09")
        // Wednesday 16 May 2029: 17 May (Thursday) off, Friday 18, then Whit Monday 21 off.
        #expect(no.businessDay(2, after: Self.day("2029-05-16")).description == "2029-05-22")
        #expect(!no.isBusinessDay(Self.day("2026-05-01")))
        #expect(no.isBusinessDay(Self.day("2026-12-24")))  // Christmas Eve is not a public holiday
    }

    // MARK: Catalog deadlines

    @Test("GDPR Art. 33 across both DST changes: 72 h elapsed, shown at the new offset")
    func gdprDST() throws {
        // Spring: 27 March 2026 16:40 CET -> 30 March 17:40 CEST.
        let spring = try Self.due("gdpr-art33", from: "2026-03-27T16:40+01:00")
        #expect(spring.due == at("2026-03-30T15:40:00Z"))
        #expect(Engine.localTime(spring.due, timeZone: "Europe/Oslo") == "2026-03-30 17:40 +02:00")
        // Autumn (domain.md): Fri 24 Oct 2025 10:00 CEST -> Mon 27 Oct 09:00 CET.
        let autumn = try Self.due("gdpr-art33", from: "2025-10-24T10:00+02:00")
        #expect(Engine.localTime(autumn.due, timeZone: "Europe/Oslo") == "2025-10-27 09:00 +01:00")
        #expect(autumn.warnings.map(\.before) == [.hours(24), .hours(12), .hours(4)])
        #expect(autumn.warnings.first?.at == at("2025-10-26T08:00:00Z"))
        #expect(autumn.calendar == nil && autumn.notBefore == nil)
    }

    @Test("NIS2 and NSM elapsed clocks: 24 h and 72 h; EU TCO one hour")
    func elapsed() throws {
        #expect(try Self.due("nis2-early-warning", from: "2026-06-05T23:30+02:00").due == at("2026-06-06T21:30:00Z"))
        #expect(try Self.due("nis2-notification", from: "2026-06-05T23:30+02:00").due == at("2026-06-08T21:30:00Z"))
        #expect(try Self.due("no-nsm-report", from: "2026-12-24T18:00+01:00").due == at("2026-12-25T17:00:00Z"))
        #expect(try Self.due("eu-tco-removal", from: "2026-01-01T00:30Z").due == at("2026-01-01T01:30:00Z"))
    }

    @Test("NIS2 final report: one calendar month, end of the day; a month end clamps; a DST change in between")
    func nis2Final() throws {
        let jan = try Self.due("nis2-final-report", from: "2026-01-31T12:00+01:00")
        #expect(Engine.localTime(jan.due, timeZone: "Europe/Oslo") == "2026-02-28 23:59 +01:00")
        #expect(jan.due == at("2026-02-28T22:59:59Z"))
        let leap = try Self.due("nis2-final-report", from: "2028-01-30T08:00+01:00")
        #expect(leap.due == at("2028-02-29T22:59:59Z"))
        let spring = try Self.due("nis2-final-report", from: "2026-03-15T10:00+01:00")
        #expect(spring.due == at("2026-04-15T21:59:59Z"))
        // Counted in the incident's zone: late on 31 March in New York is already 1 April in Oslo.
        let ny = try Self.due("nis2-final-report", from: "2026-03-31T23:00-04:00", zone: "America/New_York")
        #expect(ny.due == at("2026-05-01T03:59:59Z"))
        let oslo = try Self.due("nis2-final-report", from: "2026-03-31T23:00-04:00", zone: "Europe/Oslo")
        #expect(oslo.due == at("2026-05-01T21:59:59Z"))
    }

    @Test("SEC 8-K: four US business days, 17:30 New York, over a Monday holiday and over Independence Day")
    func sec8k() throws {
        // Determined Friday 16 Jan 2026; Monday 19 Jan is Martin Luther King Day: Tue, Wed, Thu, Fri.
        let mlk = try Self.due("sec-8k", from: "2026-01-16T11:00-05:00")
        #expect(mlk.due == at("2026-01-23T22:30:00Z"))
        #expect(mlk.countingZone == "America/New_York" && mlk.calendar == .usFederal)
        // Determined Wednesday 1 July 2026; Friday 3 July is Independence Day observed.
        #expect(try Self.due("sec-8k", from: "2026-07-01T09:00-04:00").due == at("2026-07-08T21:30:00Z"))
        // Determined on a Saturday: the count starts on Monday.
        #expect(try Self.due("sec-8k", from: "2026-02-07T12:00-05:00").due == at("2026-02-12T22:30:00Z"))
        // Across the US spring DST change (8 March 2026): 17:30 EDT is 21:30 UTC, not 22:30.
        #expect(try Self.due("sec-8k", from: "2026-03-06T16:00-05:00").due == at("2026-03-12T21:30:00Z"))
        // The days are New York's whatever the incident's zone: 23:30 Friday in Oslo is still Friday there.
        #expect(try Self.due("sec-8k", from: "2026-01-16T23:30+01:00").due == at("2026-01-23T22:30:00Z"))
    }

    @Test("DMCA restore window over Thanksgiving: 10 to 14 US business days, not 10 and 14 calendar days")
    func dmcaThanksgiving() throws {
        let w = try Self.due("dmca-counter-notice-restore", from: "2026-11-16T10:00-05:00")
        // Ten business days after Monday 16 Nov (Thanksgiving 26 Nov skipped) end on Tuesday 1 Dec.
        #expect(w.notBefore == at("2026-12-02T05:00:00Z"))
        #expect(w.due == at("2026-12-08T04:59:59Z"))
        #expect(Engine.localTime(w.due, timeZone: "America/New_York") == "2026-12-07 23:59 -05:00")
        // "10d" and "14d" would have said 26 and 30 November.
        #expect(w.notBefore! > at("2026-11-16T15:00:00Z") + .days(14))
    }

    @Test("GDPR Art. 34 has no legal deadline: reminders every 12 h and a policy escalation at 72 h")
    func art34() throws {
        let d = try Self.due("gdpr-art34", from: "2026-05-01T09:00Z")
        #expect(d.due == at("2026-05-04T09:00:00Z"))
        #expect(d.warnings.map(\.at) == [12, 24, 36, 48, 60].map { at("2026-05-01T09:00:00Z") + .hours($0) })
    }

    @Test("Internal post-incident review: ten Norwegian working days, 16:00 Oslo, over Christmas")
    func internalReview() throws {
        // Closed Friday 18 Dec 2026: 21, 22, 23, 24, 28, 29, 30, 31 Dec, 4, 5 Jan (25, 26 Dec and 1 Jan off).
        let d = try Self.due("internal-post-incident-review", from: "2026-12-18T15:00+01:00", zone: "UTC")
        #expect(d.due == at("2027-01-05T15:00:00Z"))
    }

    @Test("The catalog: unique names, every clock computes in any zone, warnings before the deadline")
    func catalog() throws {
        #expect(Set(ClockCatalog.names).count == ClockCatalog.all.count)
        for name in [
            "gdpr-art33", "gdpr-art34", "nis2-early-warning", "nis2-notification", "nis2-final-report", "no-nsm-report",
            "sec-8k", "dmca-counter-notice-restore",
        ] {
            #expect(ClockCatalog.clock(named: name) != nil, "\(name)")
        }
        for clock in ClockCatalog.all {
            #expect(!clock.notice.isEmpty && !clock.starts.isEmpty && !clock.source.isEmpty)
            for zone in ["UTC", "Europe/Oslo", "Pacific/Chatham", "America/St_Johns"] {
                let d = try #require(clock.deadline(from: at("2026-10-25T00:30:00Z"), zone: zone))
                #expect(d.due > d.from)
                #expect(d.warnings.allSatisfy { $0.at < d.due && $0.at > d.from })
            }
        }
        #expect(ClockCatalog.clock(named: "gdpr-art33")?.deadline(from: at("2026-01-01T00:00Z"), zone: "Mars/Olympus") == nil)
        #expect(ClockCatalog.suggestion(for: "gdpr-art-33") == "gdpr-art33")
        #expect(ClockCatalog.suggestion(for: "sec8k") == "sec-8k")
        #expect(ClockCatalog.suggestion(for: "weather") == nil)
    }

    @Test("Months are added with the day clamped to the month's end, across years, both ways")
    func addingMonths() {
        #expect(CivilDate(2026, 1, 31).adding(months: 1).description == "2026-02-28")
        #expect(CivilDate(2026, 12, 15).adding(months: 1).description == "2027-01-15")
        #expect(CivilDate(2026, 1, 15).adding(months: -1).description == "2025-12-15")
        #expect(CivilDate(2024, 3, 31).adding(months: -1).description == "2024-02-29")
    }

    @Test("Local wall times map to instants in gaps and overlaps without the process's zone")
    func wallTimes() throws {
        let oslo = try #require(ZonedTime.zone("Europe/Oslo"))
        // 02:30 on 29 March 2026 does not exist in Oslo: it lands after the gap, 03:30 CEST.
        #expect(ZonedTime.instant(Self.day("2026-03-29"), seconds: 9000, in: oslo) == at("2026-03-29T01:30:00Z"))
        // 02:30 on 25 October 2026 happens twice: the first one (CEST).
        #expect(ZonedTime.instant(Self.day("2026-10-25"), seconds: 9000, in: oslo) == at("2026-10-25T00:30:00Z"))
        #expect(ZonedTime.local(at("2026-10-24T22:30:00Z"), in: oslo).date.description == "2026-10-25")
    }

    // MARK: The engine

    @Test("A business-day clock in a playbook: the engine arms its deadline and warnings on the computed instant")
    func engineBusinessDays() throws {
        let sec = try #require(ClockCatalog.clock(named: "sec-8k"))
        let spec = ClockSpec(
            id: "form_8k", title: sec.title, duration: sec.rule.nominal, warnBefore: [.hours(24)], catalog: sec.name,
            rule: sec.rule, countingZone: sec.countingZone)
        let start = step("start_clock", .clock(ClockStepSpec(clock: loc("form_8k"), operation: .start)), next: ["done": "notify"])
        var pb = playbook(
            [start, task("notify", role: "comms", timeout: "30d", next: ["done": "fin", "skipped": "fin", "timeout": "fin"]),
             end("fin", "resolved")], clocks: [spec])
        pb.timeZone = "Europe/Oslo"
        // Started Friday 16 Jan 2026 17:00 UTC (12:00 in New York): due Friday 23 Jan 17:30 New York.
        let d = Driver(definition(pb), at: at("2026-01-16T17:00:00Z"))
        let due = at("2026-01-23T22:30:00Z")
        #expect(d.startActions.contains(.startClock(id: "form_8k", deadline: due)))
        #expect(d.state.clocks.first?.deadline == due)
        #expect(d.timer(.clockDeadline(clock: "form_8k"))?.due == due)
        #expect(d.timer(.clockWarning(clock: "form_8k", before: .hours(24)))?.due == at("2026-01-22T22:30:00Z"))
    }
}
