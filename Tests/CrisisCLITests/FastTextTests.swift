import Foundation
import Testing

@testable import CrisisCLI

/// The byte searches of the per-record paths agree with Foundation's on text where they could go wrong: needles
/// at either end, repeated first bytes, multi-byte characters, bidi controls, empty strings.
@Suite("FastText byte search")
struct FastTextTests {
    static let texts = [
        "", "a", "aaab", "abab", "intranet CMS down", "ab\nc", "æøå «Frida» – storm", "x\u{202E}y", "👩‍👩‍👧 family",
        "trailing needle ab", "ab leading", String(repeating: "a", count: 300) + "b",
    ]
    static let needles = ["", "a", "ab", "b", "\n", "«", "storm", "\u{202E}", "👧", "aab", "zz", "abab"]

    @Test("contains and containsAny give what String.contains gives")
    func containsAgrees() {
        for text in Self.texts {
            for needle in Self.needles {
                let expected = needle.isEmpty || text.utf8.count >= needle.utf8.count
                    && (text as NSString).range(of: needle, options: .literal).location != NSNotFound
                #expect(FastText.contains(text, needle) == expected, "\(text.debugDescription) ∋ \(needle.debugDescription)")
                #expect(FastText.containsAny(text, [Array("zz-none".utf8), Array(needle.utf8)]) == expected)
            }
            #expect(FastText.contains(text, byte: 0x0A) == text.contains("\n"))
        }
    }

    @Test("escape returns printable ASCII as it is and escapes controls and bidi characters")
    func escapeFastPath() {
        #expect(TerminalText.escape("plain text\tok") == "plain text\tok")
        #expect(TerminalText.escape("a\nb") == "a\\u{A}b")
        #expect(TerminalText.escape("a\nb", keepNewlines: true) == "a\nb")
        #expect(TerminalText.escape("x\u{202E}y") == "x\\u{202E}y")
        #expect(TerminalText.escape("DEL\u{7F}") == "DEL\\u{7F}")
    }
}
