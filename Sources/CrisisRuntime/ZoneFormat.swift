import CrisisCore
import Foundation

/// Shows instants in the incident's time zone. Deadlines are computed on absolute instants (UTC); only display
/// uses the zone, so a 72-hour clock across a DST change is right (Fri 10:00 CEST + 72h = Mon 09:00 CET).
public struct ZoneFormat: Sendable {
    public let zone: TimeZone

    public init(identifier: String) {
        zone = TimeZone(identifier: identifier) ?? TimeZone(secondsFromGMT: 0) ?? .current
    }

    public func offsetSeconds(at instant: Instant) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant.millisecondsSinceEpoch) / 1000))
    }

    /// RFC 3339 with the zone's offset at that instant: `2025-10-27T09:00:00+01:00`.
    public func rfc3339(_ instant: Instant) -> String {
        ISO8601.format(instant, offsetSeconds: offsetSeconds(at: instant), milliseconds: false)
            .replacingOccurrences(of: "+00:00", with: "Z")
    }

    /// For people, to the second: `2025-10-27 09:00:05 +01:00`.
    public func humanSeconds(_ instant: Instant) -> String {
        let offset = offsetSeconds(at: instant)
        let text = ISO8601.format(instant, offsetSeconds: offset, milliseconds: false)
        let zoneText = offset == 0 ? "UTC" : String(text.suffix(6))
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(8)) + " " + zoneText
    }

    /// For people: `2025-10-27 09:00 +01:00` (the offset, not an abbreviation: Linux has none for most zones).
    public func human(_ instant: Instant) -> String {
        let offset = offsetSeconds(at: instant)
        let text = ISO8601.format(instant, offsetSeconds: offset, milliseconds: false)
        let zoneText = offset == 0 ? "UTC" : String(text.suffix(6))
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(5)) + " " + zoneText
    }
}

extension Instant {
    /// The wall clock. Only the shell calls this; the engine receives instants as data.
    public static func wallClock() -> Instant {
        Instant(millisecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }
}

/// A time relative to now, for people: `in 4m`, `overdue 3m`, `now` (within a second either way).
public func relativeTime(_ untilThen: PlaybookDuration) -> String {
    if abs(untilThen.milliseconds) < 1000 { return "now" }
    if untilThen.milliseconds > 0 { return "in " + humanDuration(untilThen) }
    return "overdue " + humanDuration(PlaybookDuration(milliseconds: -untilThen.milliseconds))
}

extension ZoneFormat {
    /// For people, short: `10:05 +02:00` on the same local day as `reference`, else `human`.
    public func short(_ instant: Instant, sameDayAs reference: Instant) -> String {
        let a = human(instant), b = human(reference)
        return a.prefix(10) == b.prefix(10) ? String(a.dropFirst(11)) : a
    }
}

/// A duration for people: `2h 05m`, `45m`, `3d 4h`, `-12m` (overdue).
public func humanDuration(_ d: PlaybookDuration) -> String {
    let negative = d.milliseconds < 0
    var s = abs(d.milliseconds) / 1000
    let days = s / 86_400
    s %= 86_400
    let h = s / 3600
    let m = (s % 3600) / 60
    let sec = s % 60
    var out: String
    if days > 0 {
        out = "\(days)d \(h)h"
    } else if h > 0 {
        out = "\(h)h \(m < 10 ? "0" : "")\(m)m"
    } else if m > 0 {
        out = "\(m)m"
    } else {
        out = "\(sec)s"
    }
    if negative { out = "-" + out }
    return out
}
