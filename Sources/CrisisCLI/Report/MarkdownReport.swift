import CrisisRuntime
import Foundation

/// `crisis export --format md`: the report as CommonMark with GitHub tables. Every recorded text is inert: controls
/// and bidi characters are shown as `\u{...}` (as `log` shows them), and Markdown's own characters (table pipes,
/// emphasis, links, HTML) are backslash-escaped. A drill's marking heads and ends the file and every section.
enum MarkdownReport {
    static func write(_ report: IncidentReport, to out: (String) throws -> Void) throws {
        let drill = report.summary.isDrill
        let mark = "**\(escape(ReportDocument.drillMarking))**"
        var number = 0
        var header: [String] = []
        if drill { try out("> \(mark)\n\n") }
        // Text set aside (the timeline while the notes are written), and each part's table header.
        let side = SideText()
        var diverted = false
        var sideHeader: [String] = []
        func put(_ text: String) throws { if diverted { try side.write(text) } else { try out(text) } }
        try ReportDocument.blocks(report) { block in
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
                if diverted { sideHeader = columns } else { header = columns }
                try put("| " + columns.map(escape).joined(separator: " | ") + " |\n")
                try put("|" + columns.map { _ in "---|" }.joined() + "\n")
            case .row(let cells):
                var cells = cells.map(self.cell)
                while cells.count < (diverted ? sideHeader : header).count { cells.append("") }
                try put("| " + cells.joined(separator: " | ") + " |\n")
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
            case .divert(let on): diverted = on
            case .undivert: try side.drain(out)
            }
        }
        if drill { try out("> \(mark)\n") }
    }

    static func cell(_ c: ReportBlock.Cell) -> String {
        var text = escape(c.text)
        if text.utf8.contains(0x0A) { text = FastText.replacing(text, "\n", with: " ↵ ") }
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
        if text.utf8.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F && !plainUnsafe[Int($0)]) || $0 == 0x0A }) { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        let scalars = Array(text.unicodeScalars)
        for (i, s) in scalars.enumerated() {
            switch s {
            case "\n":
                out.unicodeScalars.append(s)
            case _ where TerminalText.isUnsafe(s):
                out += "\\u{" + String(s.value, radix: 16, uppercase: true) + "}"
            case "_":
                let inWord = i > 0 && i + 1 < scalars.count && isWord(scalars[i - 1]) && isWord(scalars[i + 1])
                out += inWord ? "_" : "\\_"
            case "\\", "`", "*", "[", "<", "|", "&", "~":
                out += "\\"
                out.unicodeScalars.append(s)
            default:
                out.unicodeScalars.append(s)
            }
        }
        return out
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
