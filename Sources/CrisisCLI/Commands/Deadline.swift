import ArgumentParser
import CrisisCore
import Foundation

/// `crisis deadline CLOCK --from TIME [--tz ZONE] [--json]` and `crisis deadline --list [--json]`: when a named
/// clock of the catalog (`ClockCatalog`, docs/clocks.md) expires, with its warnings. Needs no database.
struct DeadlineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deadline",
        abstract: "When a named regulatory clock expires (gdpr-art33, sec-8k, ...); --list shows the catalog.",
        discussion: """
            TIME is RFC 3339 with an offset (2026-03-27T16:40+01:00, ...Z), or a local time \
            (2026-03-27T16:40) read in --tz. Times are shown in --tz, else in the clock's own zone (sec-8k: \
            America/New_York), else UTC. Business days skip weekends and the calendar's holidays (us-federal, no). \
            Exit status 1 for an unknown clock, a bad time or an unknown zone. See docs/clocks.md.
            """)

    @OptionGroup var display: DisplayOptions
    @Argument(help: "A clock of the catalog (crisis deadline --list).", completion: .list(ClockCatalog.names))
    var clock: String?
    @Option(help: ArgumentHelp("When the clock started (its trigger).", valueName: "time")) var from: String?
    @Option(help: ArgumentHelp("IANA time zone to read --from in and show times in (Europe/Oslo).", valueName: "zone"))
    var tz: String?
    @Flag(help: "Show the catalog.") var list = false
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if list {
            if clock != nil || from != nil || tz != nil {
                throw ValidationError("--list takes no clock, --from or --tz")
            }
            return
        }
        guard clock != nil else { throw ValidationError("Name a clock (crisis deadline --list shows them), or pass --list.") }
        guard from != nil else { throw ValidationError("Missing --from TIME: when the clock started.") }
    }

    func run() async throws {
        if list {
            try printList()
            return
        }
        guard let name = clock, let fromText = from else { return }
        guard let entry = ClockCatalog.clock(named: name) else {
            var message = "unknown clock '\(name)'"
            if let s = ClockCatalog.suggestion(for: name) { message += "; did you mean '\(s)'?" }
            message += " Known clocks: " + ClockCatalog.names.joined(separator: ", ")
            throw refuse(message, hint: "crisis deadline --list")
        }
        var zoneName = tz ?? entry.countingZone ?? "UTC"
        if let tz {
            guard ZonedTime.zone(tz) != nil else {
                throw refuse("unknown time zone '\(tz)'; use an IANA name such as Europe/Oslo or America/New_York")
            }
            zoneName = tz
        }
        let start = try parseTime(fromText)
        guard let result = entry.deadline(from: start, zone: zoneName) else {
            throw refuse("unknown time zone '\(entry.countingZone ?? zoneName)'")
        }
        let report = Report(entry: entry, result: result, zone: zoneName)
        if json {
            try Out.json(report)
        } else {
            Out.print(report.text)
        }
    }

    /// `--from`: RFC 3339 with an offset, or a local wall time read in `--tz`.
    func parseTime(_ text: String) throws -> Instant {
        if let instant = ISO8601.parse(text) { return instant }
        // A local time: the same shape without an offset.
        guard let wall = ISO8601.parse(text + "Z") else {
            throw refuse(
                "'\(text)' is not a time; use 2026-03-27T16:40+01:00, 2026-03-27T15:40Z or, with --tz, 2026-03-27T16:40")
        }
        guard let tz, let zone = ZonedTime.zone(tz) else {
            throw refuse("'\(text)' has no offset; add one (+01:00, Z) or pass --tz ZONE to read it in")
        }
        let (date, msOfDay) = ZonedTime.local(wall, in: TimeZone(secondsFromGMT: 0) ?? zone)
        let instant = ZonedTime.instant(date, seconds: Int(msOfDay / 1000), in: zone)
        return instant + .init(milliseconds: msOfDay % 1000)
    }

    func refuse(_ message: String, hint: String? = nil) -> ExitCode {
        Out.error("crisis: " + message)
        if json { Refusal(code: "invalid", message: message, exit: ExitStatus.refused, hint: hint).print() }
        return ExitCode(ExitStatus.refused)
    }

    func printList() throws {
        if json {
            try Out.json(ClockCatalog.all.map(ListEntry.init))
            return
        }
        let width = ClockCatalog.names.map(\.count).max() ?? 0
        Out.print("CLOCK".padding(toLength: width + 2, withPad: " ", startingAt: 0) + "COUNTS")
        for c in ClockCatalog.all {
            Out.print(Self.fit(c.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + c.rule.summary, 80))
            Out.print(Self.fit("    " + c.title, 80))
            if !c.isInternal { Out.print(Self.fit("    " + c.legalBasis, 80)) }
            if let zone = c.countingZone { Out.print("    days counted in " + zone) }
        }
    }

    /// `text` cut to `width` characters, with an ellipsis when cut.
    static func fit(_ text: String, _ width: Int) -> String {
        text.count <= width ? text : String(text.prefix(width - 1)) + "…"
    }

    /// A catalog clock as `--list --json` prints it.
    struct ListEntry: Encodable {
        var name: String
        var title: String
        var counts: String
        var calendar: String?
        var counting_zone: String?
        var warn_before: [String]
        var starts: String
        var notice: [String]
        var legal_basis: String
        var source: String
        var `internal`: Bool

        init(_ c: CatalogClock) {
            name = c.name
            title = c.title
            counts = c.rule.summary
            calendar = c.rule.calendar?.rawValue
            counting_zone = c.countingZone
            warn_before = c.warnBefore.map(\.description)
            starts = c.starts
            notice = c.notice
            legal_basis = c.legalBasis
            source = c.source
            self.internal = c.isInternal
        }
    }

    /// A computed deadline as `--json` prints it (times in UTC, `*_local` in `zone`).
    struct Report: Encodable {
        struct Warning: Encodable {
            var before: String
            var at: String
            var at_local: String
        }
        struct Day: Encodable {
            var date: String
            var name: String
        }
        var clock: String
        var title: String
        var from: String
        var from_local: String
        var due: String
        var due_local: String
        var not_before: String?
        var not_before_local: String?
        var not_after: String?
        var not_after_local: String?
        var zone: String
        var counting_zone: String
        var counts: String
        /// The business-day calendar (`us-federal`, `no`), or `none` for a clock that does not count days off.
        var calendar: String
        /// Holidays of the calendar between the start and the deadline, which the count skipped.
        var holidays_skipped: [Day]
        /// True when the law sets no deadline ("without undue delay"): `due` is the policy's escalation point.
        var policy_deadline: Bool
        var warnings: [Warning]
        var starts: String
        var notice: [String]
        var legal_basis: String
        var source: String

        init(entry: CatalogClock, result: ClockDeadline, zone: String) {
            func utc(_ i: Instant) -> String { ISO8601.format(i, milliseconds: false) }
            func local(_ i: Instant) -> String {
                ISO8601.format(i, offsetSeconds: AvailabilityWindow.utcOffsetSeconds(of: zone, at: i), milliseconds: false)
            }
            clock = entry.name
            title = entry.title
            from = utc(result.from)
            from_local = local(result.from)
            due = utc(result.due)
            due_local = local(result.due)
            if let nb = result.notBefore {
                not_before = utc(nb)
                not_before_local = local(nb)
                not_after = due
                not_after_local = due_local
            }
            self.zone = zone
            counting_zone = result.countingZone
            counts = entry.rule.summary
            calendar = result.calendar?.rawValue ?? "none"
            holidays_skipped = []
            if let cal = result.calendar, let cz = ZonedTime.zone(result.countingZone) {
                let first = ZonedTime.local(result.from, in: cz).date
                let last = ZonedTime.local(result.due, in: cz).date
                for year in first.year...last.year {
                    for h in cal.holidays(in: year) where h.date > first && h.date <= last && !h.date.isWeekend {
                        holidays_skipped.append(Day(date: h.date.description, name: h.name))
                    }
                }
            }
            if case .withoutUndueDelay = entry.rule { policy_deadline = true } else { policy_deadline = false }
            warnings = result.warnings.map { Warning(before: $0.before.description, at: utc($0.at), at_local: local($0.at)) }
            starts = entry.starts
            notice = entry.notice
            legal_basis = entry.legalBasis
            source = entry.source
        }

        /// The human form.
        var text: String {
            func show(_ iso: String) -> String {
                // 2026-03-30T17:40:00+02:00 -> 2026-03-30 17:40 +02:00
                guard let i = ISO8601.parse(iso) else { return iso }
                return Engine.localTime(i, timeZone: zone)
            }
            var lines = ["\(clock): \(title)"]
            func row(_ label: String, _ value: String) {
                lines.append("  " + label.padding(toLength: 11, withPad: " ", startingAt: 0) + value)
            }
            row("from", "\(show(from)) (\(zone))")
            if let nb = not_before {
                row("not before", "\(show(nb))  (\(nb))")
                row("not after", "\(show(due))  (\(due))")
            } else {
                row(policy_deadline ? "escalate" : "due", "\(show(due))  (\(due))")
            }
            if policy_deadline { row("", "no deadline in law (without undue delay); escalation point is policy") }
            row("counts", counts + (counting_zone == zone ? "" : ", days in \(counting_zone)"))
            for h in holidays_skipped { row("skipped", "\(h.date) \(h.name)") }
            for w in warnings { row("warning", "\(w.before) before: \(show(w.at))") }
            row("starts", starts)
            for n in notice { row("notice", n) }
            row("basis", legal_basis)
            row("source", source)
            return lines.joined(separator: "\n")
        }
    }
}
