import Foundation
import Testing

@testable import CrisisCLI

/// The report writers' byte-level paths give what the character-by-character rules give.
@Suite("Report escaping and day headings")
struct ReportFastPathTests {
    /// The Markdown escaping rules, one scalar at a time (the reference the byte paths must match).
    static func markdownReference(_ text: String) -> String {
        var out = ""
        let scalars = Array(text.unicodeScalars)
        func isWord(_ s: Unicode.Scalar) -> Bool { s.properties.isAlphabetic || ("0"..."9").contains(s) }
        for (i, s) in scalars.enumerated() {
            switch s {
            case "\n": out.unicodeScalars.append(s)
            case _ where TerminalText.isUnsafe(s): out += "\\u{" + String(s.value, radix: 16, uppercase: true) + "}"
            case "_":
                let inWord = i > 0 && i + 1 < scalars.count && isWord(scalars[i - 1]) && isWord(scalars[i + 1])
                out += inWord ? "_" : "\\_"
            case "\\", "`", "*", "[", "<", "|", "&", "~": out += "\\" + String(s)
            default: out.unicodeScalars.append(s)
            }
        }
        return out
    }

    static func htmlReference(_ text: String) -> String {
        var out = ""
        for s in text.unicodeScalars {
            switch s {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\n", "\t": out.unicodeScalars.append(s)
            case _ where TerminalText.isUnsafe(s): out += "\\u{" + String(s.value, radix: 16, uppercase: true) + "}"
            default: out.unicodeScalars.append(s)
            }
        }
        return out
    }

    static let samples: [String] = {
        var out = ["", "plain", "snake_case", "_lead", "trail_", "a_b_c", "x [crisis_lead]", "2*3", "a|b", "<tag>",
                   "it's \"quoted\" & more", "line\none", "tab\there", "café_au_lait", "é_é", "1_2", "__", "—_—",
                   "bidi \u{202E}evil\u{202C}", "nul \u{0}", "bell \u{7}", "del \u{7F}", "zero\u{200B}width"]
        // Random strings over an alphabet heavy in the characters the rules look at.
        let alphabet = Array("ab_Z09 *`[]<>|&~\\\"'\n\té—\u{202E}\u{1}".unicodeScalars)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var s = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...12, using: &rng) { s.append(alphabet.randomElement(using: &rng)!) }
            out.append(String(s))
        }
        return out
    }()

    @Test("Markdown escaping matches the reference rules")
    func markdown() {
        for s in Self.samples { #expect(MarkdownReport.escape(s) == Self.markdownReference(s), "\(s.debugDescription)") }
    }

    @Test("HTML escaping matches the reference rules")
    func html() {
        for s in Self.samples { #expect(HTMLReport.escape(s) == Self.htmlReference(s), "\(s.debugDescription)") }
    }

    @Test("Two local times share a day heading exactly when their date and offset agree")
    func sameDay() {
        #expect(ReportTimeline.sameDay("2026-03-02 09:00 +01:00", "2026-03-02 23:59 +01:00"))
        #expect(!ReportTimeline.sameDay("2026-03-02 09:00 +01:00", "2026-03-03 09:00 +01:00"))
        #expect(!ReportTimeline.sameDay("2026-03-29 01:59 +01:00", "2026-03-29 03:00 +02:00"))
        #expect(!ReportTimeline.sameDay("short", "2026-03-02 09:00 +01:00"))
    }
}
