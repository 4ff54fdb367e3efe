/// An absolute instant: milliseconds since 1970-01-01T00:00:00Z (UTC).
///
/// The engine never reads a clock; every instant it sees comes in as data (the `now` of an event).
public struct Instant: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    public static func < (lhs: Instant, rhs: Instant) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    public static func + (lhs: Instant, rhs: PlaybookDuration) -> Instant {
        Instant(millisecondsSinceEpoch: lhs.millisecondsSinceEpoch &+ rhs.milliseconds)
    }

    public static func - (lhs: Instant, rhs: Instant) -> PlaybookDuration {
        PlaybookDuration(milliseconds: lhs.millisecondsSinceEpoch &- rhs.millisecondsSinceEpoch)
    }

    public var description: String { ISO8601.format(self) }

    public init(from decoder: any Decoder) throws {
        millisecondsSinceEpoch = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(millisecondsSinceEpoch)
    }
}

/// A length of time, as written in playbooks: `"90s"`, `"10m"`, `"72h"`, `"3d"`, or combined (`"1h30m"`).
///
/// Durations are always strings with units: a bare number is refused, so YAML's sexagesimal `1:30` can never
/// silently become 90.
public struct PlaybookDuration: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public static func seconds(_ s: Int64) -> PlaybookDuration { .init(milliseconds: s * 1000) }
    public static func minutes(_ m: Int64) -> PlaybookDuration { .init(milliseconds: m * 60_000) }
    public static func hours(_ h: Int64) -> PlaybookDuration { .init(milliseconds: h * 3_600_000) }
    public static func days(_ d: Int64) -> PlaybookDuration { .init(milliseconds: d * 86_400_000) }
    public static let zero = PlaybookDuration(milliseconds: 0)

    public static func < (lhs: PlaybookDuration, rhs: PlaybookDuration) -> Bool { lhs.milliseconds < rhs.milliseconds }
    public static func + (lhs: PlaybookDuration, rhs: PlaybookDuration) -> PlaybookDuration {
        .init(milliseconds: lhs.milliseconds &+ rhs.milliseconds)
    }
    public static func * (lhs: PlaybookDuration, rhs: Int) -> PlaybookDuration {
        .init(milliseconds: lhs.milliseconds &* Int64(rhs))
    }

    /// Largest duration a playbook may name: 366 days.
    public static let maximum = PlaybookDuration.days(366)

    /// Parses `"90s"`, `"10m"`, `"72h"`, `"3d"`, `"1h30m"`, `"2w"`. Returns nil for anything else, including a
    /// bare number, a negative value, an empty string, or more than 366 days.
    public init?(parsing text: String) {
        let scalars = Array(text.unicodeScalars)
        guard !scalars.isEmpty, scalars.count <= 32 else { return nil }
        var total: Int64 = 0
        var i = 0
        var sawUnit = false
        var lastUnitRank = Int.max
        while i < scalars.count {
            var number: Int64 = 0
            var digits = 0
            while i < scalars.count, let d = scalars[i].properties.numericType == .decimal ? Int64(String(scalars[i])) : nil,
                scalars[i].isASCII
            {
                number = number * 10 + d
                digits += 1
                i += 1
                if digits > 9 { return nil }
            }
            guard digits > 0, i < scalars.count else { return nil }
            let unit: Int64
            let rank: Int
            switch scalars[i] {
            case "w": unit = 604_800_000; rank = 5
            case "d": unit = 86_400_000; rank = 4
            case "h": unit = 3_600_000; rank = 3
            case "m": unit = 60_000; rank = 2
            case "s": unit = 1_000; rank = 1
            default: return nil
            }
            // Units must appear at most once, largest first: "1h30m", not "30m1h" or "1h1h".
            guard rank < lastUnitRank else { return nil }
            lastUnitRank = rank
            i += 1
            total += number * unit
            sawUnit = true
            if total > PlaybookDuration.maximum.milliseconds { return nil }
        }
        guard sawUnit else { return nil }
        self.milliseconds = total
    }

    /// The shortest spelling in playbook syntax: `"1h30m"`, `"72h"`, `"45s"`, `"5d"` (days from 100 hours up).
    public var description: String {
        if milliseconds == 0 { return "0s" }
        if milliseconds % 1000 != 0 { return "\(milliseconds)ms" }
        var rest = abs(milliseconds / 1000)
        var out = milliseconds < 0 ? "-" : ""
        if rest / 3600 >= 100 {
            out += "\(rest / 86_400)d"
            rest %= 86_400
        }
        if rest / 3600 > 0 { out += "\(rest / 3600)h" }
        if rest / 60 % 60 > 0 { out += "\(rest / 60 % 60)m" }
        if rest % 60 > 0 { out += "\(rest % 60)s" }
        return out
    }

    public init(from decoder: any Decoder) throws {
        milliseconds = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(milliseconds)
    }
}

/// RFC 3339 formatting and parsing of instants, in UTC or at a fixed offset. Pure arithmetic: no Foundation
/// calendars, so the core stays deterministic and fast.
public enum ISO8601 {
    /// `2025-10-24T08:00:00.000Z`
    public static func format(_ instant: Instant, offsetSeconds: Int = 0, milliseconds: Bool = true) -> String {
        let ms = instant.millisecondsSinceEpoch + Int64(offsetSeconds) * 1000
        let (days, msOfDay) = floorDivMod(ms, 86_400_000)
        let (y, mo, d) = civilFromDays(days)
        let secs = msOfDay / 1000
        let frac = msOfDay % 1000
        var s = "\(pad(y, 4))-\(pad(mo, 2))-\(pad(d, 2))T\(pad(secs / 3600, 2)):\(pad(secs / 60 % 60, 2)):\(pad(secs % 60, 2))"
        if milliseconds { s += ".\(pad(frac, 3))" }
        if offsetSeconds == 0 {
            s += "Z"
        } else {
            let sign = offsetSeconds < 0 ? "-" : "+"
            let a = abs(offsetSeconds)
            s += "\(sign)\(pad(Int64(a / 3600), 2)):\(pad(Int64(a / 60 % 60), 2))"
        }
        return s
    }

    /// Parses `YYYY-MM-DDTHH:MM[:SS[.fff]](Z|±HH:MM)`; a space may stand for `T`. Returns nil otherwise.
    public static func parse(_ text: String) -> Instant? {
        let b = Array(text.utf8)
        func num(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= b.count else { return nil }
            var v: Int64 = 0
            for i in from..<(from + count) {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int64(b[i] - 48)
            }
            return v
        }
        guard b.count >= 17, let y = num(0, 4), b[4] == 45, let mo = num(5, 2), b[7] == 45, let d = num(8, 2),
            b[10] == 84 || b[10] == 116 || b[10] == 32, let h = num(11, 2), b[13] == 58, let mi = num(14, 2)
        else { return nil }
        var i = 16
        var sec: Int64 = 0
        var frac: Int64 = 0
        if i < b.count, b[i] == 58 {
            guard let s = num(i + 1, 2) else { return nil }
            sec = s
            i += 3
            if i < b.count, b[i] == 46 {
                i += 1
                var digits = 0
                while i < b.count, b[i] >= 48, b[i] <= 57 {
                    if digits < 3 { frac = frac * 10 + Int64(b[i] - 48) }
                    digits += 1
                    i += 1
                }
                guard digits > 0 else { return nil }
                for _ in 0..<max(0, 3 - digits) { frac *= 10 }
            }
        }
        guard (1...12).contains(mo), (1...daysInMonth(y, mo)).contains(d), h < 24, mi < 60, sec < 60 else { return nil }
        guard i < b.count else { return nil }
        var offset: Int64 = 0
        if b[i] == 90 || b[i] == 122 {
            i += 1
        } else if b[i] == 43 || b[i] == 45 {
            guard let oh = num(i + 1, 2), i + 3 < b.count, b[i + 3] == 58, let om = num(i + 4, 2), oh < 24, om < 60
            else { return nil }
            offset = (oh * 3600 + om * 60) * (b[i] == 45 ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(y, mo, d)
        let ms = ((days * 86_400 + h * 3600 + mi * 60 + sec) - offset) * 1000 + frac
        return Instant(millisecondsSinceEpoch: ms)
    }

    static func daysInMonth(_ y: Int64, _ m: Int64) -> Int64 {
        switch m {
        case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    private static func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        var q = a / b
        var r = a % b
        if r < 0 { q -= 1; r += b }
        return (q, r)
    }

    /// Howard Hinnant's days_from_civil.
    static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
