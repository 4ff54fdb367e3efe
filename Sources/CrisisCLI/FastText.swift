/// Substring search and replacement on UTF-8 bytes, for the per-record paths of exports and `log`: Foundation's
/// `contains`, `replacingOccurrences` and `components(separatedBy:)` bridge through NSString for every call, and
/// made an export of 100,000 records ten times slower than reading them (perf: CFStringFindWithOptionsAndLocale).
enum FastText {
    /// Whether `needle` occurs in `text`.
    static func contains(_ text: String, _ needle: String) -> Bool {
        firstIndex(Array(text.utf8), of: Array(needle.utf8), from: 0) != nil
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
