import CrisisCore
internal import Yams

/// A mapping node with its keys read as raw strings, in file order.
struct MapView {
    struct Entry {
        var key: String
        var keyLocation: SourceLocation
        var value: Node
    }
    var entries: [Entry]
    var location: SourceLocation

    subscript(_ key: String) -> Node? { entries.first { $0.key == key }?.value }
    func has(_ key: String) -> Bool { entries.contains { $0.key == key } }
    func keyLocation(_ key: String) -> SourceLocation? { entries.first { $0.key == key }?.keyLocation }
}

/// Walks Yams nodes, reading every scalar as the text written (no YAML 1.1 resolution), and collects
/// diagnostics. Every accessor reports a problem at the node it concerns and returns nil (or a default) so the
/// caller can go on and find the next problem.
final class NodeReader {
    let file: String
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String) { self.file = file }

    func location(_ node: Node) -> SourceLocation {
        guard let mark = node.mark else { return SourceLocation(file: file, line: 1, column: 1) }
        return SourceLocation(file: file, line: mark.line, column: mark.column)
    }

    func error(_ code: DiagnosticCode, _ message: String, at location: SourceLocation) {
        diagnostics.append(.error(code, message, at: location))
    }

    func warning(_ code: DiagnosticCode, _ message: String, at location: SourceLocation) {
        diagnostics.append(.warning(code, message, at: location))
    }

    /// Problems found in another file this one names (a scenario opened by an inject), reported with this file's.
    func include(_ other: [Diagnostic]) { diagnostics.append(contentsOf: other) }

    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let s): s.string.isEmpty && s.style == .plain ? "nothing" : "a string"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    /// Whether the node is an empty plain scalar (`key:` with no value, or `~`/`null` are NOT special: only
    /// nothing at all is nothing).
    static func isEmpty(_ node: Node) -> Bool {
        if case .scalar(let s) = node, s.style == .plain, s.string.isEmpty { return true }
        return false
    }

    // MARK: Mappings

    /// Reads a mapping and reports keys not in `allowed` (with a "did you mean" hint). `what` names the mapping
    /// in messages ("step 'triage'"). `foreignKeys` maps keys that belong elsewhere to an explanation.
    func mapping(
        _ node: Node, what: String, allowed: [String]? = nil, foreignKeys: [String: String] = [:]
    ) -> MapView? {
        guard case .mapping(let m) = node else {
            error(DiagnosticCode.wrongType, "\(what) must be a mapping, not \(Self.describe(node))", at: location(node))
            return nil
        }
        var entries: [MapView.Entry] = []
        for (k, v) in m {
            guard case .scalar(let ks) = k else {
                error(DiagnosticCode.wrongType, "keys must be plain strings, not \(Self.describe(k))", at: location(k))
                continue
            }
            entries.append(MapView.Entry(key: ks.string, keyLocation: location(k), value: v))
        }
        let view = MapView(entries: entries, location: location(node))
        guard let allowed else { return view }
        return checkKeys(view, allowed: allowed, what: what, foreignKeys: foreignKeys)
    }

    /// Reports keys not in `allowed` as `unknown-key` (with a hint) and drops them.
    func checkKeys(
        _ view: MapView, allowed: [String], what: String, foreignKeys: [String: String] = [:]
    ) -> MapView {
        var kept = view
        kept.entries = view.entries.filter { e in
            if allowed.contains(e.key) { return true }
            if let why = foreignKeys[e.key] {
                error(DiagnosticCode.unknownKey, "unknown key '\(e.key)' in \(what): \(why)", at: e.keyLocation)
            } else {
                var message = "unknown key '\(e.key)' in \(what)"
                if let s = EditDistance.suggestion(for: e.key, among: allowed) { message += "; did you mean '\(s)'?" }
                error(DiagnosticCode.unknownKey, message, at: e.keyLocation)
            }
            return false
        }
        return kept
    }

    /// Reports `missing-key` (or `code`) at the mapping when `key` is absent.
    @discardableResult
    func require(_ m: MapView, _ key: String, what: String, code: DiagnosticCode = .missingKey) -> Node? {
        if let v = m[key] { return v }
        error(code, "\(what) needs '\(key)'", at: m.location)
        return nil
    }

    // MARK: Scalars

    /// The raw text of a scalar. Reports `wrong-type` for mappings and lists. `allowEmpty` accepts `key:`.
    func scalar(_ node: Node, what: String, allowEmpty: Bool = false) -> String? {
        guard case .scalar(let s) = node else {
            error(DiagnosticCode.wrongType, "\(what) must be a string, not \(Self.describe(node))", at: location(node))
            return nil
        }
        if !allowEmpty, s.style == .plain, s.string.isEmpty {
            error(DiagnosticCode.wrongType, "\(what) must not be empty", at: location(node))
            return nil
        }
        return s.string
    }

    /// A string field. Adds the `yaml-truthy` hint when it is an unquoted yes/no/on/off (which YAML 1.1 tools
    /// would read as a boolean, though `crisis` keeps the text).
    func string(_ node: Node, what: String, allowEmpty: Bool = false) -> String? {
        guard let text = scalar(node, what: what, allowEmpty: allowEmpty) else { return nil }
        truthyHint(node, what: what)
        return text
    }

    func truthyHint(_ node: Node, what: String) {
        guard case .scalar(let s) = node, s.style == .plain else { return }
        let truthy: Set<String> = ["yes", "no", "on", "off"]
        if truthy.contains(s.string.lowercased()) {
            warning(
                DiagnosticCode.yamlTruthy,
                "\(what) is the string '\(s.string)'; other YAML tools read it as a boolean, so quote it: \"\(s.string)\"",
                at: location(node))
        }
    }

    func located(_ node: Node, what: String) -> Located<String>? {
        guard let s = string(node, what: what) else { return nil }
        return Located(s, at: location(node))
    }

    /// A single-line string field of a mapping; reports `missing-key` when required and absent.
    func string(_ m: MapView, _ key: String, what: String, required: Bool = false) -> String? {
        guard let node = m[key] else {
            if required { error(DiagnosticCode.missingKey, "\(what) needs '\(key)'", at: m.location) }
            return nil
        }
        if !required, Self.isEmpty(node) { return nil }
        return string(node, what: "'\(key)' of \(what)")
    }

    /// Identifiers: `[a-z][a-z0-9_]*`, at most 64 bytes.
    static func isIdentifier(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard let first = b.first, b.count <= 64, first >= 0x61, first <= 0x7A else { return false }
        return b.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }

    /// Reports `bad-identifier` and returns false when `s` is not an identifier.
    @discardableResult
    func checkIdentifier(_ s: String, what: String, at loc: SourceLocation) -> Bool {
        if Self.isIdentifier(s) { return true }
        let hint = s.utf8.count > 64
            ? "at most 64 bytes"
            : "lower-case letters, digits and _, starting with a letter"
        error(DiagnosticCode.badIdentifier, "\(what) '\(s)' is not a valid identifier (\(hint))", at: loc)
        return false
    }

    func identifier(_ node: Node, what: String) -> Located<String>? {
        guard let s = scalar(node, what: what) else { return nil }
        let loc = location(node)
        guard checkIdentifier(s, what: what, at: loc) else { return nil }
        return Located(s, at: loc)
    }

    /// `true` or `false`, nothing else (no yes/no/on/off).
    func bool(_ m: MapView, _ key: String, what: String) -> Bool? {
        guard let node = m[key] else { return nil }
        guard let s = scalar(node, what: "'\(key)' of \(what)") else { return nil }
        switch s {
        case "true": return true
        case "false": return false
        default:
            error(DiagnosticCode.wrongType, "'\(key)' of \(what) must be true or false, not '\(s)'", at: location(node))
            return nil
        }
    }

    /// A plain decimal integer (no sign unless `allowNegative`, no leading zeros, no octal/hex/sexagesimal).
    func integer(_ node: Node, what: String, range: ClosedRange<Int>) -> Int? {
        guard let s = scalar(node, what: what) else { return nil }
        let digits = s.hasPrefix("-") ? s.dropFirst() : Substring(s)
        let plain = !digits.isEmpty && digits.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
            && (digits.count == 1 || digits.first != "0")
        guard plain, digits.count <= 18, let v = Int(s) else {
            error(DiagnosticCode.wrongType, "\(what) must be a whole number written in decimal, not '\(s)'",
                  at: location(node))
            return nil
        }
        guard range.contains(v) else {
            error(DiagnosticCode.badValue, "\(what) must be between \(range.lowerBound) and \(range.upperBound), not \(v)",
                  at: location(node))
            return nil
        }
        return v
    }

    func integer(_ m: MapView, _ key: String, what: String, range: ClosedRange<Int>) -> Int? {
        guard let node = m[key] else { return nil }
        return integer(node, what: "'\(key)' of \(what)", range: range)
    }

    /// A duration string with units (`"90s"`, `"1h30m"`); a bare number or `1:30` is `bad-duration`.
    func duration(_ node: Node, what: String) -> PlaybookDuration? {
        guard let s = scalar(node, what: what) else { return nil }
        guard let d = PlaybookDuration(parsing: s), d.milliseconds > 0 else {
            var hint = "write it with units, largest first: \"90s\", \"10m\", \"1h30m\", \"3d\"; at most 366 days"
            if s.contains(":") { hint = "'\(s)' is not a duration (YAML 1.1 would read it as a number); " + hint }
            error(DiagnosticCode.badDuration, "\(what) is not a valid duration: \(hint)", at: location(node))
            return nil
        }
        return d
    }

    func duration(_ m: MapView, _ key: String, what: String, required: Bool = false) -> PlaybookDuration? {
        guard let node = m[key] else {
            if required { error(DiagnosticCode.missingKey, "\(what) needs '\(key)'", at: m.location) }
            return nil
        }
        return duration(node, what: "'\(key)' of \(what)")
    }

    // MARK: Lists

    func sequence(_ node: Node, what: String) -> [Node]? {
        guard case .sequence(let s) = node else {
            error(DiagnosticCode.wrongType, "\(what) must be a list, not \(Self.describe(node))", at: location(node))
            return nil
        }
        return Array(s)
    }

    func stringList(_ node: Node, what: String) -> [Located<String>]? {
        guard let items = sequence(node, what: what) else { return nil }
        return items.compactMap { located($0, what: "an item of \(what)") }
    }

    func identifierList(_ node: Node, what: String) -> [Located<String>]? {
        guard let items = sequence(node, what: what) else { return nil }
        return items.compactMap { identifier($0, what: "an item of \(what)") }
    }

    /// One of `allowed`, with a "did you mean" hint otherwise (`bad-value`).
    func oneOf(_ node: Node, _ allowed: [String], what: String) -> String? {
        guard let s = scalar(node, what: what) else { return nil }
        guard allowed.contains(s) else {
            var message = "\(what) must be one of \(allowed.joined(separator: ", ")), not '\(s)'"
            if let sug = EditDistance.suggestion(for: s, among: allowed) { message += "; did you mean '\(sug)'?" }
            error(DiagnosticCode.badValue, message, at: location(node))
            return nil
        }
        return s
    }
}

/// Levenshtein distance for "did you mean" hints.
package enum EditDistance {
    /// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of neighbours
    /// ("titel" is one edit from "title").
    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars)
        let y = Array(b.unicodeScalars)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in 0...x.count { d[i][0] = i }
        for j in 0...y.count { d[0][j] = j }
        for i in 1...x.count {
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[x.count][y.count]
    }

    /// The closest candidate within a distance that scales with the word's length, or nil.
    package static func suggestion(for word: String, among candidates: [String]) -> String? {
        guard word.count <= 64 else { return nil }
        let limit = word.count <= 3 ? 1 : (word.count <= 6 ? 2 : 3)
        var best: (String, Int)?
        for c in candidates {
            let d = distance(word.lowercased(), c)
            if d <= limit, d < (best?.1 ?? Int.max) { best = (c, d) }
        }
        return best?.0
    }
}
