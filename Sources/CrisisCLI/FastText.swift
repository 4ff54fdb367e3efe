import Foundation
import CrisisCore
import CrisisRuntime

/// Substring search and replacement on UTF-8 bytes, for the per-record paths of exports and `log`: Foundation's
/// `contains`, `replacingOccurrences` and `components(separatedBy:)` bridge through NSString for every call, and
/// made an export of 100,000 records ten times slower than reading them (perf: CFStringFindWithOptionsAndLocale).
enum FastText {
    /// Whether `needle` occurs in `text`.
    static func contains(_ text: String, _ needle: String) -> Bool {
        var needle = needle
        return needle.withUTF8 { n in occurs(text, n) }
    }

    /// Whether byte `byte` occurs in `text` (memchr over its UTF-8, no copy).
    static func contains(_ text: String, byte: UInt8) -> Bool {
        var text = text
        return text.withUTF8 { b in b.count > 0 && memchr(b.baseAddress!, Int32(byte), b.count) != nil }
    }

    /// Whether the bytes `needle` occur in `text` (memmem over its UTF-8, no copy).
    private static func occurs(_ text: String, _ needle: UnsafeBufferPointer<UInt8>) -> Bool {
        if needle.isEmpty { return true }
        var text = text
        return text.withUTF8 { b in
            guard b.count >= needle.count else { return false }
            // memchr to each candidate first byte, memcmp for the rest.
            let base = b.baseAddress!, first = Int32(needle[0]), last = b.count - needle.count
            var i = 0
            while i <= last, let hit = memchr(base + i, first, last - i + 1) {
                i = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                if memcmp(base + i, needle.baseAddress!, needle.count) == 0 { return true }
                i += 1
            }
            return false
        }
    }

    /// Whether any of `needles` (UTF-8 bytes) occurs in `text`.
    static func containsAny(_ text: String, _ needles: [[UInt8]]) -> Bool {
        needles.contains { needle in needle.withUnsafeBufferPointer { occurs(text, $0) } }
    }

    /// `text` with every occurrence of `target` replaced by `replacement` (left to right, not overlapping).
    static func replacing(_ text: String, _ target: String, with replacement: String) -> String {
        let bytes = Array(text.utf8)
        let t = Array(target.utf8)
        guard !t.isEmpty, var hit = firstIndex(bytes, of: t, from: 0) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var start = 0
        while true {
            out += bytes[start..<hit]
            out += replacement.utf8
            start = hit + t.count
            guard let next = firstIndex(bytes, of: t, from: start) else { break }
            hit = next
        }
        out += bytes[start...]
        return String(decoding: out, as: UTF8.self)
    }

    static func firstIndex(_ bytes: [UInt8], of needle: [UInt8], from: Int) -> Int? {
        guard let first = needle.first, bytes.count - from >= needle.count else { return needle.isEmpty ? from : nil }
        var i = from
        let last = bytes.count - needle.count
        while i <= last {
            if bytes[i] == first {
                var j = 1
                while j < needle.count, bytes[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}

/// `ZoneFormat` and `ISO8601.format` for instants read in order, with the same bytes: Foundation's
/// `secondsFromGMT(for:)` and `Calendar` cost microseconds per call, and every record of an export asked them
/// again. An offset is looked up once per minute (a minute whose two ends have the same offset has it
/// throughout), and the text of a minute is reused for every instant in it.
final class ZoneClock {
    let format: ZoneFormat
    private var offsetMinute = Int64.min
    private var offset = 0
    private var human: (minute: Int64, offset: Int, text: String) = (.min, 0, "")
    private var local: (minute: Int64, offset: Int, prefix: [UInt8], suffix: [UInt8]) = (.min, 0, [], [])
    private var utc: (minute: Int64, prefix: [UInt8]) = (.min, [])
    private var heading: (key: String, text: String) = ("", "")

    init(_ format: ZoneFormat) { self.format = format }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// The zone's offset at `instant`, in seconds.
    func offsetSeconds(at instant: Instant) -> Int {
        let minute = Self.floorDiv(instant.millisecondsSinceEpoch, 60_000)
        if minute == offsetMinute { return offset }
        let start = format.offsetSeconds(at: Instant(millisecondsSinceEpoch: minute * 60_000))
        let end = format.offsetSeconds(at: Instant(millisecondsSinceEpoch: minute * 60_000 + 59_999))
        guard start == end else { return format.offsetSeconds(at: instant) }  // a change inside this minute
        offsetMinute = minute
        offset = start
        return start
    }

    /// `ZoneFormat.human`: `2025-10-27 09:00 +01:00` (the same for every instant of a local minute).
    func human(_ instant: Instant) -> String {
        let off = offsetSeconds(at: instant)
        let minute = Self.floorDiv(instant.millisecondsSinceEpoch + Int64(off) * 1000, 60_000)
        if minute != human.minute || off != human.offset { human = (minute, off, format.human(instant)) }
        return human.text
    }

    /// `ZoneFormat.rfc3339`: `2025-10-27T09:00:05+01:00` (`Z` for UTC).
    func rfc3339(_ instant: Instant) -> String {
        let off = offsetSeconds(at: instant)
        let ms = instant.millisecondsSinceEpoch + Int64(off) * 1000
        let minute = Self.floorDiv(ms, 60_000)
        if minute != local.minute || off != local.offset {
            // `YYYY-MM-DDTHH:MM:`, the seconds, then the offset (`Z` or `+01:00`).
            let text = Array(format.rfc3339(instant).utf8)
            guard text.count >= 20, text[16] == UInt8(ascii: ":") else { return String(decoding: text, as: UTF8.self) }
            local = (minute, off, Array(text[0..<17]), Array(text[19...]))
        }
        let second = Int((ms - minute * 60_000) / 1000)
        let (prefix, suffix) = (local.prefix, local.suffix)
        return String(unsafeUninitializedCapacity: prefix.count + 2 + suffix.count) { buffer in
            var i = 0
            for b in prefix { buffer[i] = b; i += 1 }
            buffer[i] = UInt8(48 + second / 10)
            buffer[i + 1] = UInt8(48 + second % 10)
            i += 2
            for b in suffix { buffer[i] = b; i += 1 }
            return i
        }
    }

    /// `ISO8601.format(instant, milliseconds: true)`: `2025-10-27T08:00:05.123Z`.
    func utcMilliseconds(_ instant: Instant) -> String {
        let ms = instant.millisecondsSinceEpoch
        let minute = Self.floorDiv(ms, 60_000)
        if minute != utc.minute {
            let text = Array(ISO8601.format(Instant(millisecondsSinceEpoch: minute * 60_000), milliseconds: true).utf8)
            guard text.count == 24 else { return ISO8601.format(instant, milliseconds: true) }
            utc = (minute, Array(text[0..<17]))
        }
        let within = Int(ms - minute * 60_000)
        let prefix = utc.prefix
        return String(unsafeUninitializedCapacity: 24) { buffer in
            for i in 0..<17 { buffer[i] = prefix[i] }
            let second = within / 1000, frac = within % 1000
            buffer[17] = UInt8(48 + second / 10)
            buffer[18] = UInt8(48 + second % 10)
            buffer[19] = UInt8(ascii: ".")
            buffer[20] = UInt8(48 + frac / 100)
            buffer[21] = UInt8(48 + frac / 10 % 10)
            buffer[22] = UInt8(48 + frac % 10)
            buffer[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    /// `TimelineText.dayHeading`: the same for every instant of one local day at one offset.
    func dayHeading(_ instant: Instant) -> String {
        let stamp = human(instant)
        let key = String(stamp.prefix(10)) + " " + String(stamp.split(separator: " ").last ?? "")
        if key != heading.key { heading = (key, TimelineText.dayHeading(instant, zone: format)) }
        return heading.text
    }

}
