import Foundation  // Only for NFC normalisation (`precomposedStringWithCanonicalMapping`).

/// How long a text is on a channel, in that channel's own unit, and whether it fits.
public struct ChannelMeasure: Sendable, Hashable, Codable {
    /// The channel measured (`x`, `sms`, `facebook`, ...).
    public var channel: String
    /// The length in `unit`.
    public var count: Int
    /// The channel's limit in `unit`, or nil when the channel has none (`website`, `email`, unknown channels).
    /// For SMS: what `ChannelLength.maxSMSSegments` concatenated messages hold (1,530 GSM-7 septets or 670
    /// UCS-2 units); `segments` tells what a text costs below that.
    public var limit: Int?
    /// `weighted-characters` (X), `gsm7-septets` or `utf16-units` (SMS), `characters` (others).
    public var unit: String
    /// SMS only: `GSM-7` or `UCS-2`.
    public var encoding: String?
    /// SMS only: how many messages the text is sent as (one of 160/70, or concatenated segments of 153/67).
    public var segments: Int?
    /// Whether the text does not fit the channel: `count` exceeds `limit`; for SMS, more than
    /// `ChannelLength.maxSMSSegments` messages.
    public var overLimit: Bool

    /// A measure; `overLimit` is derived (from `segments` for SMS, else from `count` and `limit`).
    public init(channel: String, count: Int, limit: Int?, unit: String, encoding: String? = nil,
                segments: Int? = nil) {
        self.channel = channel
        self.count = count
        self.limit = limit
        self.unit = unit
        self.encoding = encoding
        self.segments = segments
        if let segments {
            self.overLimit = segments > ChannelLength.maxSMSSegments
        } else {
            self.overLimit = limit.map { count > $0 } ?? false
        }
    }
}

/// Length rules of publication channels, as each platform counts them. Every text is NFC-normalised first, so a
/// decomposed "café" (as macOS often pastes it) counts the same as a precomposed one.
public enum ChannelLength {
    /// Plain character limits of platforms without special counting. Platform limits change: these are the
    /// values verified for this release.
    public static let plainLimits: [String: Int] = [
        "facebook": 63_206, "instagram": 2_200, "linkedin": 3_000, "threads": 500, "tiktok": 2_200,
        "youtube": 5_000,
    ]
    /// X (twitter-text v3): weighted characters per post.
    public static let xLimit = 280
    /// X: every URL counts as this many characters, whatever its length.
    public static let xURLLength = 23
    /// Most concatenated SMS messages a text may need before it counts as too long (carriers and gateways
    /// commonly stop at 10).
    public static let maxSMSSegments = 10

    /// Channel names `crisis` knows: those with length rules (X, SMS, the plain limits) and those without a limit
    /// (a website, e-mail, an intranet, the press, a phone call, chat tools). A statement on any other channel has
    /// no length rule, which `validate` says.
    public static var knownChannels: Set<String> {
        Set(plainLimits.keys).union(["x", "twitter", "sms", "website", "email", "intranet", "press", "phone", "teams",
                                     "slack", "chat", "blog", "newsletter", "status_page", "app"])
    }

    /// Measures `text` for `channel`. Unknown channels get a count in characters and no limit.
    public static func measure(_ text: String, channel: String) -> ChannelMeasure {
        let nfc = text.precomposedStringWithCanonicalMapping
        switch channel.lowercased() {
        case "x", "twitter":
            return ChannelMeasure(channel: channel, count: xWeightedLength(nfc), limit: xLimit, unit: "weighted-characters")
        case "sms":
            return sms(nfc, channel: channel)
        default:
            let limit = plainLimits[channel.lowercased()]
            return ChannelMeasure(channel: channel, count: nfc.utf16.count, limit: limit, unit: "characters")
        }
    }

    // MARK: X

    /// X's weighted length (twitter-text v3 config): code points in U+0000–U+10FF, U+2000–U+200D,
    /// U+2010–U+201F and U+2032–U+2037 weigh 1, everything else 2; an emoji, including a ZWJ sequence, a flag or
    /// a keycap, weighs 2 in total; every URL weighs 23 (a host label longer than 63 characters, in punycode when it
    /// is not ASCII, makes it no URL, as in twitter-text: such a link counts character by character).
    public static func xWeightedLength(_ nfcText: String) -> Int {
        var total = 0
        for segment in splitURLs(nfcText) {
            switch segment {
            case .url: total += xURLLength
            case .text(let t):
                for character in t {
                    if isEmoji(character) {
                        total += 2
                    } else {
                        for s in character.unicodeScalars { total += xWeight(s) }
                    }
                }
            }
        }
        return total
    }

    static func xWeight(_ s: Unicode.Scalar) -> Int {
        switch s.value {
        case 0x0000...0x10FF, 0x2000...0x200D, 0x2010...0x201F, 0x2032...0x2037: 1
        default: 2
        }
    }

    /// Whether a grapheme cluster is displayed as an emoji.
    static func isEmoji(_ c: Character) -> Bool {
        let scalars = Array(c.unicodeScalars)
        guard let first = scalars.first else { return false }
        if first.properties.isEmojiPresentation { return true }
        if (0x1F1E6...0x1F1FF).contains(first.value) { return true }  // regional indicators (flags)
        if first.properties.isEmoji, scalars.count > 1,
            scalars.contains(where: { $0.value == 0xFE0F || $0.value == 0x20E3 || $0.value == 0x200D })
        {
            return true
        }
        return false
    }

    enum Segment: Equatable {
        case text(Substring)
        case url(Substring)
    }

    /// Splits text into URLs (`http://…`, `https://…`, `www.…`, up to whitespace, without trailing
    /// punctuation) and the text between them.
    static func splitURLs(_ text: String) -> [Segment] {
        var out: [Segment] = []
        var textStart = text.startIndex
        var i = text.startIndex
        while i < text.endIndex {
            let atWordStart = i == text.startIndex || text[text.index(before: i)].isWhitespace
                || "([<\"'«“".contains(text[text.index(before: i)])
            if atWordStart, let end = urlEnd(in: text, from: i) {
                if textStart < i { out.append(.text(text[textStart..<i])) }
                out.append(.url(text[i..<end]))
                i = end
                textStart = end
                continue
            }
            i = text.index(after: i)
        }
        if textStart < text.endIndex { out.append(.text(text[textStart..<text.endIndex])) }
        return out
    }

    private static func urlEnd(in text: String, from i: String.Index) -> String.Index? {
        let rest = text[i...]
        let lower = rest.prefix(8).lowercased()
        let prefixLength: Int
        if lower.hasPrefix("https://") {
            prefixLength = 8
        } else if lower.hasPrefix("http://") {
            prefixLength = 7
        } else if lower.hasPrefix("www.") {
            prefixLength = 4
        } else {
            return nil
        }
        var end = rest.firstIndex(where: { $0.isWhitespace }) ?? text.endIndex
        // Trailing punctuation ends a sentence, not the URL.
        while end > i, ".,;:!?)]}'\"»”’".contains(text[text.index(before: end)]) {
            end = text.index(before: end)
        }
        guard text.distance(from: i, to: end) > prefixLength else { return nil }
        // A host needs at least one dot after the scheme.
        let host = text[text.index(i, offsetBy: prefixLength)..<end]
        guard host.contains(".") || lower.hasPrefix("www.") || host.contains("localhost") else { return nil }
        // X's rule (twitter-text): a domain label longer than 63 characters, in its punycode form when it is not
        // ASCII, makes it no domain: the whole text then counts character by character.
        let domain = host.prefix { !"/?#:".contains($0) }
        guard domain.split(separator: ".").allSatisfy(isDomainLabel) else { return nil }
        return end
    }

    /// Whether a domain label fits the 63 characters DNS allows: as written when ASCII, else as `xn--` punycode.
    static func isDomainLabel(_ label: Substring) -> Bool {
        if label.unicodeScalars.allSatisfy(\.isASCII) { return label.utf8.count <= 63 }
        return ("xn--" + punycode(label.lowercased())).utf8.count <= 63
    }

    /// RFC 3492 punycode of one label (`bücher` → `bcher-kva`), without the `xn--` prefix.
    public static func punycode(_ input: String) -> String {
        let codes = input.unicodeScalars.map { Int($0.value) }
        var output = codes.filter { $0 < 0x80 }.map { Character(Unicode.Scalar(UInt8($0))) }
        let basic = output.count
        var handled = basic
        if basic > 0 { output.append("-") }
        let (base, tMin, tMax) = (36, 1, 26)
        func adapt(_ d: Int, _ points: Int, _ first: Bool) -> Int {
            var delta = first ? d / 700 : d / 2
            delta += delta / points
            var k = 0
            while delta > ((base - tMin) * tMax) / 2 {
                delta /= base - tMin
                k += base
            }
            return k + (base - tMin + 1) * delta / (delta + 38)
        }
        func digit(_ d: Int) -> Character { Character(Unicode.Scalar(UInt8(d < 26 ? d + 97 : d + 22))) }
        var (n, delta, bias) = (128, 0, 72)
        while handled < codes.count {
            let m = codes.filter { $0 >= n }.min() ?? n
            delta += (m - n) * (handled + 1)
            n = m
            for c in codes {
                if c < n { delta += 1 }
                guard c == n else { continue }
                var q = delta
                var k = base
                while true {
                    let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                    if q < t { break }
                    output.append(digit(t + (q - t) % (base - t)))
                    q = (q - t) / (base - t)
                    k += base
                }
                output.append(digit(q))
                bias = adapt(delta, handled + 1, handled == basic)
                delta = 0
                handled += 1
            }
            delta += 1
            n += 1
        }
        return String(output)
    }

    // MARK: SMS

    /// GSM 03.38 default alphabet (one septet each).
    static let gsm7Basic: Set<Character> = {
        var s = Set<Character>(
            "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
        s.insert("\r\n")  // a CRLF grapheme is two basic septets
        return s
    }()
    /// GSM 03.38 extension table: an escape plus one septet, so each costs 2.
    static let gsm7Extension: Set<Character> = ["^", "{", "}", "\\", "[", "~", "]", "|", "€", "\u{0C}"]

    static func sms(_ text: String, channel: String) -> ChannelMeasure {
        var septets: [Int] = []
        var gsm = true
        for c in text {
            if c == "\r\n" {
                septets.append(1)
                septets.append(1)
            } else if gsm7Basic.contains(c) {
                septets.append(1)
            } else if gsm7Extension.contains(c) {
                septets.append(2)
            } else {
                gsm = false
                break
            }
        }
        if gsm {
            let count = septets.reduce(0, +)
            let segments = count <= 160 ? 1 : pack(septets, into: 153)
            return ChannelMeasure(
                channel: channel, count: count, limit: 153 * maxSMSSegments, unit: "gsm7-septets",
                encoding: "GSM-7", segments: segments)
        }
        // UCS-2 (UTF-16): a character outside the BMP takes two units and cannot be split across segments.
        let units = text.unicodeScalars.map { $0.value > 0xFFFF ? 2 : 1 }
        let count = units.reduce(0, +)
        let segments = count <= 70 ? 1 : pack(units, into: 67)
        return ChannelMeasure(
            channel: channel, count: count, limit: 67 * maxSMSSegments, unit: "utf16-units", encoding: "UCS-2",
            segments: segments)
    }

    /// Segments needed to carry items of these sizes without splitting one, `capacity` per segment.
    static func pack(_ sizes: [Int], into capacity: Int) -> Int {
        var segments = 1
        var used = 0
        for size in sizes {
            if used + size > capacity {
                segments += 1
                used = 0
            }
            used += size
        }
        return segments
    }
}
