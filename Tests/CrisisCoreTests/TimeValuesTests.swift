import CrisisCore
import Testing

@Suite("Durations")
struct DurationTests {
    @Test(
        "Durations with units parse",
        arguments: [
            ("90s", 90_000), ("10m", 600_000), ("72h", 259_200_000), ("3d", 259_200_000), ("2w", 1_209_600_000),
            ("1h30m", 5_400_000), ("1d2h3m4s", 93_784_000), ("0s", 0),
        ] as [(String, Int64)])
    func parses(text: String, ms: Int64) {
        #expect(PlaybookDuration(parsing: text)?.milliseconds == ms)
    }

    @Test(
        "Bare numbers, sexagesimal, octal-looking, negative and malformed durations are refused",
        arguments: ["1:30", "010", "90", "-5m", "", "m", "5", "1.5h", "30m1h", "1h1h", "5 m", "5M", "367d", "１0m", "10mm"])
    func refuses(text: String) {
        #expect(PlaybookDuration(parsing: text) == nil)
    }

    @Test("The maximum is 366 days")
    func maximum() {
        #expect(PlaybookDuration(parsing: "366d") == .days(366))
        #expect(PlaybookDuration(parsing: "53w") == nil)
    }

    @Test("Descriptions are the shortest playbook spelling and parse back")
    func descriptions() {
        for text in ["90s", "10m", "72h", "1h30m", "5d", "99h", "45s"] {
            let d = PlaybookDuration(parsing: text)
            #expect(d.map { PlaybookDuration(parsing: $0.description) } == d)
        }
        #expect(PlaybookDuration.minutes(90).description == "1h30m")
        #expect(PlaybookDuration.hours(100).description == "4d4h")
        #expect(PlaybookDuration(milliseconds: 1500).description == "1500ms")
        #expect(PlaybookDuration(milliseconds: -60_000).description == "-1m")
    }
}

@Suite("ISO 8601 instants")
struct ISO8601Tests {
    @Test("GDPR 72h across the end of DST: 2025-10-24T10:00:00+02:00 + 72h = 2025-10-27T08:00:00Z (09:00 CET)")
    func dst() {
        guard let aware = ISO8601.parse("2025-10-24T10:00:00+02:00") else {
            Issue.record("parse failed")
            return
        }
        let deadline = aware + .hours(72)
        #expect(ISO8601.format(deadline) == "2025-10-27T08:00:00.000Z")
        #expect(ISO8601.format(deadline, offsetSeconds: 3600, milliseconds: false) == "2025-10-27T09:00:00+01:00")
        #expect(deadline - aware == .hours(72))
    }

    @Test(
        "Round trips",
        arguments: [
            "2025-10-24T08:00:00.000Z", "1970-01-01T00:00:00.000Z", "2024-02-29T23:59:59.999Z", "1969-12-31T23:59:59.500Z",
            "2100-03-01T12:30:00.000Z",
        ])
    func roundTrip(text: String) {
        let parsed = ISO8601.parse(text)
        #expect(parsed.map { ISO8601.format($0) } == text)
    }

    @Test("Offsets, lower-case separators, a space for T, and fractions")
    func variants() {
        let utc = ISO8601.parse("2025-10-24T08:00:00Z")
        #expect(utc?.millisecondsSinceEpoch == 1_761_292_800_000)
        #expect(ISO8601.parse("2025-10-24 10:00+02:00") == utc)
        #expect(ISO8601.parse("2025-10-24t03:30:00-04:30") == utc)
        #expect(ISO8601.parse("2025-10-24T08:00:00z") == utc)
        #expect(ISO8601.parse("2025-10-24T08:00:00.5Z")?.millisecondsSinceEpoch == 1_761_292_800_500)
        let offset = ISO8601.parse("2025-10-24T10:00:00+02:00")
        #expect(offset.map { ISO8601.format($0, offsetSeconds: 7200) } == "2025-10-24T10:00:00.000+02:00")
    }

    @Test(
        "Invalid times are refused",
        arguments: [
            "2025-10-24T08:00:00", "2025-02-29T08:00:00Z", "2025-13-01T00:00:00Z", "2025-10-24T24:00:00Z",
            "2025-10-24T08:60:00Z", "2025-10-24", "24.10.2025 08:00", "2025-10-24T08:00:00+0200", "2025-10-24T08:00:00Z ",
            "2025-10-24T08:00:00.Z", "",
        ])
    func invalid(text: String) {
        #expect(ISO8601.parse(text) == nil)
    }
}

@Suite("Value types")
struct ValueTests {
    @Test("Each type accepts its values and explains refusals")
    func problems() {
        #expect(ValueType.string.problem(with: "NO") == nil)
        #expect(ValueType.string.problem(with: "a\nb") == "must be a single line")
        #expect(ValueType.string.problem(with: "a\r\nb") == "must be a single line")
        #expect(ValueType.text.problem(with: "a\nb") == nil)
        #expect(ValueType.text.problem(with: "a\u{0}b") == "contains a NUL character")
        #expect(ValueType.url.problem(with: "https://x.com/a") == nil)
        #expect(ValueType.url.problem(with: "ftp://x.com") == "must be an http:// or https:// URL")
        #expect(ValueType.url.problem(with: "https:///path") == "has no host")
        #expect(ValueType.url.problem(with: "https://x.com/a b") == "contains spaces or control characters")
        #expect(ValueType.urls.problem(with: "https://a.no\n https://b.no") == nil)
        #expect(ValueType.urls.problem(with: "  ") == "needs at least one URL")
        #expect(ValueType.urls.problem(with: "https://a.no nope") == "nope: must be an http:// or https:// URL")
        #expect(ValueType.enum.problem(with: "x", allowed: ["x", "facebook"]) == nil)
        #expect(ValueType.enum.problem(with: "X", allowed: ["x", "facebook"]) == "must be one of: x, facebook")
        #expect(ValueType.integer.problem(with: "010") == nil)
        #expect(ValueType.integer.problem(with: "1:30") == "must be a whole number")
        #expect(ValueType.boolean.problem(with: "true") == nil)
        #expect(ValueType.boolean.problem(with: "yes") == "must be true or false")
        #expect(ValueType.time.problem(with: "2025-10-24T10:00:00+02:00") == nil)
        #expect(ValueType.time.problem(with: "2025-10-24T10:00:00")?.hasPrefix("must be an RFC 3339 time") == true)
    }

    @Test("Lists split on any whitespace and keep values as typed")
    func splitList() {
        #expect(ValueType.splitList("https://a.no\n\thttps://b.no  https://c.no\r\n") == ["https://a.no", "https://b.no", "https://c.no"])
        #expect(ValueType.splitList("") == [])
    }
}
