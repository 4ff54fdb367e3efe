/// A word diff of two texts (longest common subsequence over words and the spaces between them), for showing
/// what a statement revision changed: `[-removed-]{+added+}` inline, the way `git diff --word-diff` writes it.
public enum TextDiff {
    /// One run of the diff: kept, removed or added text.
    public enum Part: Sendable, Hashable {
        case same(String)
        case removed(String)
        case added(String)
    }

    /// The parts that turn `old` into `new`, adjacent runs of one kind merged.
    public static func parts(_ old: String, _ new: String) -> [Part] {
        let a = tokens(old)
        let b = tokens(new)
        // Common prefix and suffix first: most revisions change a few words.
        var start = 0
        while start < a.count, start < b.count, a[start] == b[start] { start += 1 }
        var endA = a.count
        var endB = b.count
        while endA > start, endB > start, a[endA - 1] == b[endB - 1] {
            endA -= 1
            endB -= 1
        }
        let x = Array(a[start..<endA])
        let y = Array(b[start..<endB])
        var out: [Part] = a[..<start].map { .same($0) }
        if x.count * y.count > 4_000_000 {
            // Too long to compare word by word: the whole middle replaced.
            out += x.map { .removed($0) } + y.map { .added($0) }
        } else {
            out += middle(x, y)
        }
        out += a[endA...].map { .same($0) }
        return merged(out)
    }

    /// The diff for people: `[-old words-]{+new words+}` inline; nil when the texts are equal. With `context`,
    /// unchanged text keeps only that many words on each side of a change (`…` for the rest) and line breaks
    /// read as spaces: what a revision changed, on a line or two of a terminal.
    public static func inline(_ old: String, _ new: String, context: Int? = nil) -> String? {
        guard old != new else { return nil }
        let all = parts(old, new)
        return all.enumerated().map { index, part -> String in
            switch part {
            case .same(let s):
                guard let context else { return s }
                return trimmed(s, context: context, before: index > 0, after: index < all.count - 1)
            case .removed(let s): return "[-\(context == nil ? s : flat(s))-]"
            case .added(let s): return "{+\(context == nil ? s : flat(s))+}"
            }
        }.joined()
    }

    /// Unchanged text between changes: its first `context` words after a change (`before`), its last before
    /// one (`after`), `…` for what lies between.
    static func trimmed(_ s: String, context: Int, before: Bool, after: Bool) -> String {
        let words = flat(s).split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        let lead = words.first == "" ? " " : ""
        let trail = words.count > 1 && words.last == "" ? " " : ""
        let inner = words.filter { !$0.isEmpty }
        let keep = (before ? context : 0) + (after ? context : 0)
        guard inner.count > keep else { return flat(s) }
        let head = before ? inner.prefix(context).joined(separator: " ") : ""
        let tail = after ? inner.suffix(context).joined(separator: " ") : ""
        return lead + [head, "…", tail].filter { !$0.isEmpty }.joined(separator: " ") + trail
    }

    /// `s` with every run of white space (line breaks included) as one space.
    static func flat(_ s: String) -> String {
        var out = ""
        var space = false
        for ch in s {
            if ch.isWhitespace {
                if !space { out.append(" ") }
                space = true
            } else {
                out.append(ch)
                space = false
            }
        }
        return out
    }

    /// Words and the runs of white space between them, in order.
    static func tokens(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        var inSpace = false
        for ch in text {
            let space = ch.isWhitespace
            if !current.isEmpty, space != inSpace {
                out.append(current)
                current = ""
            }
            inSpace = space
            current.append(ch)
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    static func middle(_ x: [String], _ y: [String]) -> [Part] {
        let n = x.count
        let m = y.count
        // lcs[i][j]: length of the LCS of x[i...] and y[j...].
        var lcs = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        if n > 0, m > 0 {
            for i in stride(from: n - 1, through: 0, by: -1) {
                for j in stride(from: m - 1, through: 0, by: -1) {
                    lcs[i][j] = x[i] == y[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
                }
            }
        }
        var out: [Part] = []
        var i = 0
        var j = 0
        while i < n || j < m {
            if i < n, j < m, x[i] == y[j] {
                out.append(.same(x[i]))
                i += 1
                j += 1
            } else if j < m, i == n || lcs[i][j + 1] >= lcs[i + 1][j] {
                out.append(.added(y[j]))
                j += 1
            } else {
                out.append(.removed(x[i]))
                i += 1
            }
        }
        // Removals before additions within a changed run reads better: [-old-]{+new+}.
        var ordered: [Part] = []
        var removed: [Part] = []
        var added: [Part] = []
        for p in out {
            switch p {
            case .same:
                ordered += removed + added
                removed = []
                added = []
                ordered.append(p)
            case .removed: removed.append(p)
            case .added: added.append(p)
            }
        }
        return ordered + removed + added
    }

    static func merged(_ parts: [Part]) -> [Part] {
        var out: [Part] = []
        for p in parts {
            switch (out.last, p) {
            case (.same(let a)?, .same(let b)): out[out.count - 1] = .same(a + b)
            case (.removed(let a)?, .removed(let b)): out[out.count - 1] = .removed(a + b)
            case (.added(let a)?, .added(let b)): out[out.count - 1] = .added(a + b)
            default: out.append(p)
            }
        }
        return out
    }
}
