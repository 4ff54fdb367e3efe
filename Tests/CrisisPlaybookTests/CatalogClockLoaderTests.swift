import CrisisCore
import Foundation
import Testing

@testable import CrisisPlaybook

/// `clock: NAME` under `clocks`: a playbook follows a clock of the catalog (docs/clocks.md) by name.
@Suite("Loader: catalog clocks")
struct CatalogClockLoaderTests {
    static func yaml(_ clocks: String) -> String {
        playbookYAML(
            top: "clocks:\n" + clocks,
            steps: """
                  a: {type: clock, title: Start, clock: c, op: start, next: z}
                  z: {type: end, title: Done, outcome: resolved}
                """)
    }

    @Test("clock: NAME takes the catalog's deadline, warnings and reference; title and warn_before may be given")
    func model() throws {
        let r = loadYAML(Self.yaml("  c: {clock: gdpr-art33}\n"))
        let c = try #require(r.playbook?.clock("c"))
        #expect(!r.diagnostics.hasErrors)
        #expect(c.catalog == "gdpr-art33")
        #expect(c.title == "GDPR Art. 33 notification to the supervisory authority")
        #expect(c.duration == .hours(72) && c.rule == nil)
        #expect(c.warnBefore == [.hours(24), .hours(12), .hours(4)])
        #expect(c.reference?.contains("eur-lex.europa.eu") == true)

        let own = loadYAML(Self.yaml("  c: {clock: sec-8k, title: Form 8-K, warn_before: [\"2h\"]}\n"))
        let s = try #require(own.playbook?.clock("c"))
        #expect(s.title == "Form 8-K" && s.warnBefore == [.hours(2)])
        #expect(s.rule == .businessDays(4, calendar: .usFederal, cutoff: 63_000))
        #expect(s.countingZone == "America/New_York")
        // Friday 16 Jan 2026 noon in New York; Monday is a federal holiday: due Friday 23 Jan 17:30 there.
        #expect(s.deadline(from: at("2026-01-16T17:00:00Z"), zone: "UTC") == at("2026-01-23T22:30:00Z"))
    }

    @Test("An unknown catalog name is an error at the name, naming the catalog and the nearest clock")
    func unknown() throws {
        let r = loadYAML(Self.yaml("  c:\n    clock: gdpr-art-33\n"), path: "pb.yaml")
        let d = try #require(r.diagnostics.first { $0.code == .unknownClock })
        #expect(d.isError)
        #expect(d.location.line == 9 && d.location.column == 12)
        #expect(d.message.contains("unknown clock 'gdpr-art-33' in the catalog of regulatory clocks"))
        #expect(d.message.contains("did you mean 'gdpr-art33'?"))
        #expect(d.message.contains("dmca-counter-notice-restore"))
        #expect(d.description.hasPrefix("pb.yaml:9:12: error: "))
    }

    @Test("duration beside clock is refused; a clock without either needs title and duration")
    func conflicts() throws {
        let both = loadYAML(Self.yaml("  c: {clock: gdpr-art33, duration: \"48h\"}\n"))
        #expect(both.diagnostics.contains { $0.code == .conflictingKeys && $0.message.contains("remove 'duration'") })
        let neither = loadYAML(Self.yaml("  c: {warn_before: [\"1h\"]}\n"))
        #expect(neither.diagnostics.filter { $0.code == .missingKey }.count == 2)
    }

    @Test("A playbook's own clock may count business days of a calendar, in a zone, to a cut-off")
    func ownBusinessDays() throws {
        let r = loadYAML(Self.yaml(
            "  c: {title: Reply to Datatilsynet, business_days: 3, calendar: \"no\", zone: Europe/Oslo, cutoff: \"16:00\"}\n"))
        #expect(!r.diagnostics.hasErrors, "\(r.diagnostics)")
        let c = try #require(r.playbook?.clock("c"))
        #expect(c.rule == .businessDays(3, calendar: .norway, cutoff: 57_600))
        #expect(c.countingZone == "Europe/Oslo" && c.catalog == nil)
        // Wednesday 1 April 2026 (Easter week): 7, 8, 9 April; 16:00 CEST.
        #expect(c.deadline(from: at("2026-04-01T10:00:00Z"), zone: "UTC") == at("2026-04-09T14:00:00Z"))
    }

    @Test("Bad business-day clocks: an unknown calendar, no calendar, a bad cut-off, a zone that does not exist, with duration")
    func ownBusinessDaysBad() throws {
        func codes(_ clock: String) -> [String] {
            loadYAML(Self.yaml("  c: \(clock)\n")).diagnostics.filter(\.isError).map { "\($0.code.rawValue): \($0.message)" }
        }
        let unknown = codes("{title: T, business_days: 3, calendar: se}")
        #expect(unknown.contains { $0.hasPrefix("bad-value") && $0.contains("unknown calendar 'se'; known calendars: no, us-federal") })
        #expect(codes("{title: T, business_days: 3}").contains { $0.hasPrefix("missing-key") && $0.contains("'calendar'") })
        #expect(codes("{title: T, calendar: us-federal}").contains { $0.hasPrefix("missing-key") && $0.contains("business_days") })
        #expect(codes("{title: T, business_days: 3, calendar: us-federal, cutoff: \"5pm\"}").contains { $0.hasPrefix("bad-value") })
        #expect(codes("{title: T, business_days: 3, calendar: us-federal, zone: Mars/Olympus}").contains { $0.hasPrefix("bad-timezone") })
        #expect(codes("{title: T, business_days: 3, calendar: us-federal, duration: \"3d\"}").contains { $0.hasPrefix("conflicting-keys") })
        #expect(codes("{clock: sec-8k, calendar: \"no\"}").contains { $0.hasPrefix("conflicting-keys") })
        #expect(codes("{title: T, business_days: 0, calendar: us-federal}").contains { $0.hasPrefix("bad-value") })
    }

    @Test("The shipped customer-data-breach playbook uses catalog clocks and keeps its Art. 33 clock as it was")
    func shipped() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Playbooks/customer-data-breach.yaml").path
        let r = PlaybookLoader.load(path: path)
        let p = try #require(r.playbook)
        #expect(!r.diagnostics.hasErrors)
        let gdpr = try #require(p.clock("gdpr_art33"))
        #expect(gdpr.catalog == "gdpr-art33" && gdpr.rule == nil)
        #expect(gdpr.duration == .hours(72) && gdpr.warnings == [.hours(24), .hours(12), .hours(4)])
        #expect(p.clock("nis2_early_warning")?.duration == .hours(24))
        #expect(p.clock("nis2_early_warning")?.warnBefore == [.hours(6), .hours(2)])
        let final = try #require(p.clock("nis2_final_report"))
        #expect(final.rule == .months(1))
        // Notified 31 January 2026 at noon in Oslo: due at the end of 28 February, Oslo time.
        #expect(final.deadline(from: at("2026-01-31T11:00:00Z"), zone: p.timeZone) == at("2026-02-28T22:59:59Z"))
    }
}

private func at(_ text: String) -> Instant { ISO8601.parse(text)! }
