import CrisisCore
import Foundation
import Testing

@testable import CrisisPlaybook

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs `body` with the process's `TZ` set to `zone` (nil: unset), restoring it afterwards. Only the tests of
/// this file change `TZ`, and their suites are serialized.
func withProcessTZ<T>(_ zone: String?, _ body: () throws -> T) rethrows -> T {
    let saved = getenv("TZ").map { String(cString: $0) }
    if let zone { setenv("TZ", zone, 1) } else { unsetenv("TZ") }
    tzset()
    defer {
        if let saved { setenv("TZ", saved, 1) } else { unsetenv("TZ") }
        tzset()
    }
    return try body()
}

/// The directory's zone is kept by name and its offset computed for each instant (issue 7, item 1).
@Suite("Contacts: availability in the directory's zone, per instant", .serialized)
struct ContactsZoneTests {
    static func instant(_ text: String) throws -> Instant { try #require(ISO8601.parse(text)) }

    static func load(_ yaml: String) throws -> ContactsDirectory {
        let (directory, diagnostics) = ContactsLoader.load(bytes: Array(yaml.utf8), path: "c.yaml")
        #expect(!diagnostics.hasErrors, "\(diagnostics)")
        return try #require(directory)
    }

    static let oslo = """
        schema: crisis-contacts/v1
        timezone: Europe/Oslo
        people:
          kari: {name: Kari, roles: [comms], availability: [{days: [mon, tue, wed, thu, fri, sat, sun], from: "09:00", to: "10:00"}]}
          night: {name: Night, roles: [comms], availability: [{days: [sat], from: "22:00", to: "06:00"}]}
          two: {name: Two, roles: [comms], availability: [{days: [sun], from: "02:00", to: "03:00"}]}
        """

    @Test("09:00-10:00 Europe/Oslo: available at 09:30 local in July and in January, not at 10:30 local")
    func summerAndWinter() throws {
        let d = try Self.load(Self.oslo)
        #expect(d.timeZone == "Europe/Oslo")
        let window = try #require(d.person("kari")?.availability.first)
        #expect(window.timeZone == "Europe/Oslo")
        // July: CEST, UTC+2. 09:30 local is 07:30Z.
        #expect(window.contains(try Self.instant("2025-07-15T09:30:00+02:00")))
        #expect(window.contains(try Self.instant("2025-07-15T07:59:00Z")))
        #expect(!window.contains(try Self.instant("2025-07-15T10:30:00+02:00")))
        // The summer-time bug: with a winter offset, 08:30Z (10:30 CEST) was inside and 07:30Z outside.
        #expect(!window.contains(try Self.instant("2025-07-15T08:30:00Z")))
        // January: CET, UTC+1. 09:30 local is 08:30Z.
        #expect(window.contains(try Self.instant("2025-01-15T09:30:00+01:00")))
        #expect(!window.contains(try Self.instant("2025-01-15T10:30:00+01:00")))
        #expect(!window.contains(try Self.instant("2025-01-15T07:30:00Z")))
        #expect(AvailabilityWindow.utcOffsetSeconds(of: "Europe/Oslo", at: try Self.instant("2025-07-15T12:00:00Z")) == 7200)
        #expect(AvailabilityWindow.utcOffsetSeconds(of: "Europe/Oslo", at: try Self.instant("2025-01-15T12:00:00Z")) == 3600)
    }

    @Test("A window over midnight on the nights the clocks change, and the skipped and repeated hours")
    func midnightAndChangeDays() throws {
        let d = try Self.load(Self.oslo)
        let night = try #require(d.person("night")?.availability.first)
        // Saturday 2025-03-29 22:00 CET to Sunday 06:00 CEST (clocks went forward at 02:00 local, 01:00Z).
        #expect(!night.contains(try Self.instant("2025-03-29T21:30:00+01:00")))
        #expect(night.contains(try Self.instant("2025-03-29T23:30:00+01:00")))
        #expect(night.contains(try Self.instant("2025-03-30T05:30:00+02:00")))  // 03:30Z
        #expect(!night.contains(try Self.instant("2025-03-30T06:30:00+02:00")))  // 04:30Z, in CET it was 05:30
        // Saturday 2025-10-25 22:00 CEST to Sunday 06:00 CET (clocks went back at 03:00 local, 01:00Z).
        #expect(!night.contains(try Self.instant("2025-10-25T21:30:00+02:00")))
        #expect(night.contains(try Self.instant("2025-10-25T22:30:00+02:00")))
        #expect(night.contains(try Self.instant("2025-10-26T05:30:00+01:00")))  // 04:30Z
        #expect(!night.contains(try Self.instant("2025-10-26T06:30:00+01:00")))  // 05:30Z, in CEST it was 07:30
        // Sunday is not a listed day: its own evening is outside.
        #expect(!night.contains(try Self.instant("2025-10-26T22:30:00+01:00")))

        let two = try #require(d.person("two")?.availability.first)
        // 02:00-03:00 on 2025-03-30 never happens in Oslo: 01:59 CET is followed by 03:00 CEST.
        #expect(!two.contains(try Self.instant("2025-03-30T00:59:00Z")))
        #expect(!two.contains(try Self.instant("2025-03-30T01:00:00Z")))
        // 02:00-03:00 on 2025-10-26 happens twice: 00:00-01:00Z (CEST) and 01:00-02:00Z (CET).
        #expect(two.contains(try Self.instant("2025-10-26T00:30:00Z")))
        #expect(two.contains(try Self.instant("2025-10-26T01:30:00Z")))
        #expect(!two.contains(try Self.instant("2025-10-26T02:30:00Z")))
    }

    @Test("Loading reads no clock and ignores the process's TZ: identical directories and availability")
    func processZoneIrrelevant() throws {
        // The signature itself: bytes and a path in, nothing else (a clock parameter, even defaulted, would not
        // compile here).
        let load: ([UInt8], String) -> (directory: ContactsDirectory?, diagnostics: [Diagnostic]) =
            ContactsLoader.load(bytes:path:)
        let instants = try [
            "2025-07-15T07:30:00Z", "2025-07-15T08:30:00Z", "2025-01-15T08:30:00Z", "2025-01-15T07:30:00Z",
            "2025-03-30T03:30:00Z", "2025-10-26T01:30:00Z",
        ].map(Self.instant)
        func observe() throws -> (ContactsDirectory, [Bool]) {
            let d = try #require(load(Array(Self.oslo.utf8), "c.yaml").directory)
            let answers = d.people.flatMap { p in instants.map { i in p.availability.contains { $0.contains(i) } } }
            return (d, answers)
        }
        let reference = try withProcessTZ(nil) { try observe() }
        #expect(reference.1.contains(true) && reference.1.contains(false))
        for zone in ["UTC", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham", "Europe/Oslo"] {
            let seen = try withProcessTZ(zone) { try observe() }
            #expect(seen.0 == reference.0, "TZ=\(zone)")
            #expect(seen.1 == reference.1, "TZ=\(zone)")
        }
    }

    @Test("An unknown zone is a load error; a hand-built window with one counts as UTC and never crashes")
    func unknownZone() throws {
        let yaml = """
            schema: crisis-contacts/v1
            timezone: Europe/Atlantis
            people:
              a: {name: A, roles: [r]}
            """
        let (directory, diagnostics) = ContactsLoader.load(bytes: Array(yaml.utf8), path: "c.yaml")
        #expect(directory == nil)
        #expect(diagnostics.contains { $0.code == DiagnosticCode.badTimezone })
        let window = AvailabilityWindow(days: [1, 2, 3, 4, 5, 6, 7], fromMinute: 9 * 60, toMinute: 10 * 60,
                                        timeZone: "Europe/Atlantis")
        #expect(window.contains(try Self.instant("2025-07-15T09:30:00Z")))
        #expect(!window.contains(try Self.instant("2025-07-15T07:30:00Z")))
    }

    @Test("A directory without 'timezone' is in UTC")
    func defaultUTC() throws {
        let d = try Self.load("""
            schema: crisis-contacts/v1
            people:
              a: {name: A, roles: [r], availability: [{days: [tue], from: "09:00", to: "10:00"}]}
            """)
        #expect(d.timeZone == "UTC")
        let window = try #require(d.people.first?.availability.first)
        #expect(window.contains(try Self.instant("2025-07-15T09:30:00Z")))
        #expect(!window.contains(try Self.instant("2025-07-15T07:30:00Z")))
    }
}
