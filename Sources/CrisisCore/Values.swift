extension ValueType {
    /// Checks an operator-supplied value against this type. Returns nil when valid, else why not.
    ///
    /// Values stay the exact strings the operator typed (never normalised); this only decides whether they are
    /// acceptable. `urls` values are separated by whitespace or newlines.
    public func problem(with value: String, allowed: [String] = []) -> String? {
        if value.utf8.contains(0) { return "contains a NUL character" }
        switch self {
        case .string:
            if value.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) { return "must be a single line" }
            return nil
        case .text:
            return nil
        case .url:
            return Self.urlProblem(value)
        case .urls:
            let items = Self.splitList(value)
            if items.isEmpty { return "needs at least one URL" }
            for item in items { if let p = Self.urlProblem(item) { return "\(item): \(p)" } }
            return nil
        case .enum:
            return allowed.contains(value) ? nil : "must be one of: \(allowed.joined(separator: ", "))"
        case .integer:
            return Int64(value) == nil ? "must be a whole number" : nil
        case .boolean:
            return ["true", "false"].contains(value) ? nil : "must be true or false"
        case .time:
            return ISO8601.parse(value) == nil
                ? "must be an RFC 3339 time with a zone, such as 2025-10-24T10:00:00+02:00 (or now, -15m, now+2h)" : nil
        }
    }

    /// Splits a `urls` value on whitespace (spaces, tabs, newlines).
    public static func splitList(_ value: String) -> [String] {
        // "\r\n" is one Character (grapheme cluster) in Swift, so it is listed on its own.
        value.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" || $0 == "\r\n" })
            .map(String.init)
    }

    private static func urlProblem(_ value: String) -> String? {
        let lower = value.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else {
            return "must be an http:// or https:// URL"
        }
        let rest = value.drop(while: { $0 != ":" }).dropFirst(3)
        if rest.isEmpty || rest.first == "/" { return "has no host" }
        if value.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }) {
            return "contains spaces or control characters"
        }
        return nil
    }
}

/// What an operator may type for a `time` value besides RFC 3339: `now`, `now-15m`, `now+2h`, `-15m`, `+2h`
/// (any duration `PlaybookDuration` reads, such as `1h30m`). The shell resolves these against the incident's
/// present and records the absolute time, so replay never depends on a clock; the engine only ever sees
/// RFC 3339.
public enum RelativeTime {
    /// The signed offset from now that `text` names, or nil when it is not a relative time. A bare duration
    /// (`15m`) is not one: ago or ahead must be said.
    public static func offset(_ text: String) -> PlaybookDuration? {
        var rest = Substring(text.trimmingSpaces.lowercased())
        if rest.hasPrefix("now") {
            rest = Substring(String(rest.dropFirst(3)).trimmingSpaces)
            if rest.isEmpty { return .zero }
        }
        guard let sign = rest.first, sign == "-" || sign == "+" else { return nil }
        guard let d = PlaybookDuration(parsing: String(rest.dropFirst()).trimmingSpaces) else { return nil }
        return sign == "-" ? PlaybookDuration(milliseconds: -d.milliseconds) : d
    }

    /// Whether `text` is a relative time (and so must be resolved before it is recorded).
    public static func isRelative(_ text: String) -> Bool { offset(text) != nil }

    /// `text` as an instant: an RFC 3339 time as written, a relative time against `now`. Nil when neither.
    public static func resolve(_ text: String, now: Instant) -> Instant? {
        if let instant = ISO8601.parse(text) { return instant }
        return offset(text).map { now + $0 }
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (Foundation-free).
    fileprivate var trimmingSpaces: String {
        let isSpace = { (c: Character) in c == " " || c == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
