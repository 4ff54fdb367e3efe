import CrisisRuntime
import Foundation

/// `crisis export --format md`: the report as CommonMark with GitHub tables. Every recorded text is inert: controls
/// and bidi characters are shown as `\u{...}` (as `log` shows them), and Markdown's own characters (table pipes,
/// emphasis, links, HTML) are backslash-escaped. A drill's marking heads and ends the file and every section.
enum MarkdownReport: ReportLayout {
    static func layOut<T>(
        _ out: @escaping (String) throws -> Void,
        _ produce: (_ begin: (IncidentReport) throws -> Void, _ emit: (ReportBlock) throws -> Void) throws -> T
    ) throws -> T {
        var drill = false
        var mark = ""
        var number = 0
        var header: [String] = []
        // Text set aside (the notes and the timeline, laid out while the trail is read), and each part's table
        // header.
        let sides: [ReportBlock.Channel: SideText] = [.notes: SideText(), .timeline: SideText()]
        var channel: ReportBlock.Channel?
        var sideHeaders: [ReportBlock.Channel: [String]] = [:]
        func put(_ text: String) throws {
            if let channel, let side = sides[channel] { try side.write(text) } else { try out(text) }
        }
        func begin(_ report: IncidentReport) throws {
            drill = report.summary.isDrill
            mark = "**\(escape(ReportDocument.drillMarking))**"
            if drill { try out("> \(mark)\n\n") }
        }
        func emit(_ block: ReportBlock) throws {
            switch block {
            case .title(let title, let subtitle):
                try put("# \(escape(title))\n\n\(escape(subtitle))\n\n")
            case .section(let title, _):
                number += 1
                try put("## \(number). \(escape(title))" + (drill ? " — DRILL" : "") + "\n\n")
            case .subsection(let title): try put("### \(escape(title))\n\n")
            case .minor(let title): try put("#### \(escape(title))\n\n")
            case .facts(let rows):
                try put("| | |\n|---|---|\n")
                for (name, cell) in rows { try put("| **\(escape(name))** | \(self.cell(cell)) |\n") }
                try put("\n")
            case .tableStart(let columns):
                if let channel { sideHeaders[channel] = columns } else { header = columns }
                try put("| " + columns.map(escape).joined(separator: " | ") + " |\n")
                try put("|" + columns.map { _ in "---|" }.joined() + "\n")
            case .row(let cells):
                // Padded to the table's columns with empty cells.
                let width = channel.map { sideHeaders[$0] ?? [] } ?? header
                var line = "| "
                var n = 0
                for c in cells {
                    if n > 0 { line += " | " }
                    line += self.cell(c)
                    n += 1
                }
                while n < width.count {
                    if n > 0 { line += " | " }
                    n += 1
                }
                try put(line + " |\n")
            case .tableEnd: try put("\n")
            case .paragraph(let text, let tone):
                try put((tone == .muted ? "_\(escape(text))_" : tone == .bad ? "**\(escape(text))**" : escape(text)) + "\n\n")
            case .quote(let label, let text):
                try put("\(escape(label)):\n\n")
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                try put(lines.map { $0.isEmpty ? ">" : "> " + lineStart(escape(String($0))) }.joined(separator: "\\\n")
                    + "\n\n")
            case .chart: break
            case .footer(let text): try put("---\n\n_\(escape(text))_\n\n")
            case .divert(let to): channel = to
            case .undivert(let from): if let side = sides[from] { try side.drain(out) }
            }
        }
        let result = try produce(begin, emit)
        if drill { try out("> \(mark)\n") }
        return result
    }

    static func cell(_ c: ReportBlock.Cell) -> String {
        var text = escape(c.text)
        if FastText.contains(text, byte: 0x0A) { text = FastText.replacing(text, "\n", with: " ↵ ") }
        if text.isEmpty { return "" }
        switch c.tone {
        case .plain, .muted: return text
        case .code: return text  // escaped text in a code span would show its backslashes
        case .good: return text
        case .bad: return "**\(text)**"
        }
    }

    /// Recorded text made inert in Markdown: every character that can start Markdown inside a line is
    /// backslash-escaped (`\\`, code, emphasis, a link's `[`, HTML's `<`, a table pipe, `&` for entities,
    /// strikethrough; an underscore inside a word is left alone, it means nothing there). Controls
    /// and bidi characters are already shown as `\u{...}` by `TerminalText.escape`; any left are made visible.
    static func escape(_ text: String) -> String {
        // Most texts are plain ASCII with nothing to escape: returned as they are.
        // Printable ASCII (and newlines) with something to escape: byte by byte, as the loop below would.
        switch scan(text) {
        case .plain: return text
        case .ascii: return escapeASCII(text)
        case .other: break
        }
        // Gathered as UTF-8 bytes (appending scalars to a String one by one is slow).
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 8)
        let scalars = Array(text.unicodeScalars)
        for (i, s) in scalars.enumerated() {
            switch s {
            case "\n":
                out.append(0x0A)
            case _ where TerminalText.isUnsafe(s):
                out.append(contentsOf: ("\\u{" + String(s.value, radix: 16, uppercase: true) + "}").utf8)
            case "_":
                let inWord = i > 0 && i + 1 < scalars.count && isWord(scalars[i - 1]) && isWord(scalars[i + 1])
                if !inWord { out.append(0x5C) }
                out.append(0x5F)
            case "\\", "`", "*", "[", "<", "|", "&", "~":
                out.append(0x5C)
                out.append(UInt8(s.value))
            default:
                out.append(contentsOf: s.utf8)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private enum Kind { case plain, ascii, other }

    /// Whether `text` is printable ASCII and newlines with nothing to escape (`plain`), printable ASCII and
    /// newlines (`ascii`), or anything else.
    private static func scan(_ text: String) -> Kind {
        let table = plainUnsafe
        var text = text
        return text.withUTF8 { b in
            var kind = Kind.plain
            for c in b {
                if c == 0x0A { continue }
                if c < 0x20 || c >= 0x7F { return .other }
                if table[Int(c)] { kind = .ascii }
            }
            return kind
        }
    }

    /// `escape` of printable ASCII and newlines: the same characters escaped, an underscore between two
    /// letters or digits left alone.
    private static func escapeASCII(_ text: String) -> String {
        let table = plainUnsafe
        var text = text
        return text.withUTF8 { b in
            var out: [UInt8] = []
            out.reserveCapacity(b.count + 8)
            func isWord(_ c: UInt8) -> Bool {
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
            }
            for i in 0..<b.count {
                let c = b[i]
                if c == 0x5F {
                    let inWord = i > 0 && i + 1 < b.count && isWord(b[i - 1]) && isWord(b[i + 1])
                    if !inWord { out.append(0x5C) }
                } else if c != 0x0A && table[Int(c)] {
                    out.append(0x5C)
                }
                out.append(c)
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// A line that begins like a list item (`- `, `+ `, `1. `), a heading, a quote or a setext underline would
    /// change the layout:
    /// its first character is escaped.
    static func lineStart(_ line: String) -> String {
        guard let first = line.unicodeScalars.first else { return line }
        if "-+=#>".unicodeScalars.contains(first) { return "\\" + line }
        let digits = line.prefix { $0.isASCII && $0.isNumber }
        if !digits.isEmpty, let next = line.dropFirst(digits.count).first, next == "." || next == ")" {
            return digits + "\\" + line.dropFirst(digits.count)
        }
        return line
    }

    /// The ASCII bytes `escape` changes: `\\`, `` ` ``, `*`, `[`, `<`, `|`, `&`, `~` and `_`.
    private static let plainUnsafe: [Bool] = (0..<128).map { "\\`*[<|&~_".utf8.contains(UInt8($0)) }

    private static func isWord(_ s: Unicode.Scalar) -> Bool {
        s.properties.isAlphabetic || ("0"..."9").contains(s)
    }
}
