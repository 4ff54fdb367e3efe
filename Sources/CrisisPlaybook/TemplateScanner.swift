import Foundation

/// A small Mustache tokenizer for linting: it finds the variable names a template uses (with their line and
/// column) and renders a template with sample values to estimate its length. Rendering for real is the
/// runtime's job (swift-mustache); this only has to agree with it on which names a template reads.
enum TemplateScanner {
    enum TagKind: Equatable {
        /// `{{name}}` (escaped), `{{{name}}}` and `{{&name}}` (raw).
        case variable
        /// `{{#name}}`
        case section
        /// `{{^name}}`
        case inverted
        /// `{{/name}}`
        case close
        /// `{{> name}}`
        case partial
    }

    enum Token: Equatable {
        case text(String)
        case tag(TagKind, name: String, line: Int, column: Int)
    }

    struct Problem: Equatable {
        var message: String
        var line: Int
        var column: Int
    }

    /// Splits a template into text and tags. Comments (`{{! }}`) are dropped; `{{=<% %>=}}` changes the
    /// delimiters. Unclosed tags and unbalanced sections are problems.
    static func scan(_ template: String) -> (tokens: [Token], problems: [Problem]) {
        let chars = Array(template)
        var tokens: [Token] = []
        var problems: [Problem] = []
        var open: [Character] = ["{", "{"]
        var close: [Character] = ["}", "}"]
        var i = 0
        var line = 1
        var column = 1
        var text = ""
        var sections: [(name: String, line: Int, column: Int)] = []

        func advance(_ n: Int) {
            for _ in 0..<n where i < chars.count {
                if chars[i] == "\n" || chars[i] == "\r\n" {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
                i += 1
            }
        }
        func matches(_ pattern: [Character], at k: Int) -> Bool {
            guard k + pattern.count <= chars.count else { return false }
            for (j, c) in pattern.enumerated() where chars[k + j] != c { return false }
            return true
        }

        while i < chars.count {
            guard matches(open, at: i) else {
                text.append(chars[i])
                advance(1)
                continue
            }
            if !text.isEmpty { tokens.append(.text(text)); text = "" }
            let tagLine = line
            let tagColumn = column
            var start = i + open.count
            var closing = close
            var kind = TagKind.variable
            var isComment = false
            var isDelimiters = false
            if open == ["{", "{"], start < chars.count, chars[start] == "{" {
                // Triple mustache: {{{name}}}
                start += 1
                closing = ["}", "}", "}"]
            } else if start < chars.count {
                switch chars[start] {
                case "&": kind = .variable; start += 1
                case "#": kind = .section; start += 1
                case "^": kind = .inverted; start += 1
                case "/": kind = .close; start += 1
                case ">": kind = .partial; start += 1
                case "!": isComment = true; start += 1
                case "=": isDelimiters = true; start += 1
                default: break
                }
            }
            var end = start
            while end < chars.count, !matches(closing, at: end) { end += 1 }
            guard end < chars.count else {
                problems.append(Problem(message: "tag opened here is never closed", line: tagLine, column: tagColumn))
                advance(chars.count - i)
                break
            }
            var body = String(chars[start..<end]).trimmingCharacters(in: .whitespaces)
            let consumed = end + closing.count - i
            advance(consumed)
            if isComment { continue }
            if isDelimiters {
                if body.hasSuffix("=") { body.removeLast() }
                let parts = body.split(separator: " ", omittingEmptySubsequences: true)
                if parts.count == 2 {
                    open = Array(parts[0])
                    close = Array(parts[1])
                } else {
                    problems.append(Problem(message: "bad delimiter change '\(body)'", line: tagLine, column: tagColumn))
                }
                continue
            }
            if body.isEmpty {
                problems.append(Problem(message: "empty tag", line: tagLine, column: tagColumn))
                continue
            }
            switch kind {
            case .section, .inverted:
                sections.append((body, tagLine, tagColumn))
            case .close:
                if let last = sections.last, last.name == body {
                    sections.removeLast()
                } else {
                    let expected = sections.last.map { "'{{/\($0.name)}}'" } ?? "no closing tag"
                    problems.append(Problem(
                        message: "'{{/\(body)}}' closes nothing open here (expected \(expected))",
                        line: tagLine, column: tagColumn))
                    continue
                }
            default: break
            }
            tokens.append(.tag(kind, name: body, line: tagLine, column: tagColumn))
        }
        if !text.isEmpty { tokens.append(.text(text)) }
        for s in sections {
            problems.append(Problem(message: "section '\(s.name)' is never closed", line: s.line, column: s.column))
        }
        return (tokens, problems)
    }

    /// Every variable use: its name, where it is, and whether it sits inside a `{{#section}}` (where `{{.}}` is the
    /// section's value; an inverted section pushes no value, so inside one alone `{{.}}` would be the whole context).
    static func uses(_ tokens: [Token]) -> [(name: String, line: Int, column: Int, insideSection: Bool)] {
        var open: [TagKind] = []
        var out: [(String, Int, Int, Bool)] = []
        for t in tokens {
            guard case .tag(let kind, let name, let line, let column) = t else { continue }
            switch kind {
            case .variable, .section, .inverted:
                out.append((name, line, column, open.contains(.section)))
                if kind != .variable { open.append(kind) }
            case .close: if !open.isEmpty { open.removeLast() }
            case .partial: break
            }
        }
        return out
    }

    /// Renders with every variable replaced by `value(name)`; sections render once (sample values are present),
    /// inverted sections not at all, partials as nothing.
    static func render(_ tokens: [Token], value: (String) -> String) -> String {
        var out = ""
        var skipDepth = 0
        for t in tokens {
            switch t {
            case .text(let s):
                if skipDepth == 0 { out += s }
            case .tag(let kind, let name, _, _):
                switch kind {
                case .variable: if skipDepth == 0 { out += value(name) }
                case .section: if skipDepth > 0 { skipDepth += 1 }
                case .inverted: skipDepth += 1
                case .close: if skipDepth > 0 { skipDepth -= 1 }
                case .partial: break
                }
            }
        }
        return out
    }
}
