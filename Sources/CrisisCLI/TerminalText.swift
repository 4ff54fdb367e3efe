/// Makes untrusted text safe to print on a terminal: control characters, bidi overrides and other invisible
/// format characters are shown as `\u{…}` escapes, never emitted raw (an ANSI escape in an operator's note must
/// not recolour or rewrite the screen; a bidi override must not reorder what a reviewer reads, CVE-2021-42574).
public enum TerminalText {
    /// Escapes everything except printable characters. With `keepNewlines`, `\n` passes through (multi-line
    /// notes); tabs always pass.
    public static func escape(_ text: String, keepNewlines: Bool = false) -> String {
        // Printable ASCII (and tab, and newline when kept) is returned as it is: nothing in it is unsafe.
        var copy = text  // withUTF8 needs a var; a native string is not copied
        let printable = copy.withUTF8 { b in
            for c in b where !((c >= 0x20 && c < 0x7F) || c == 0x09 || (c == 0x0A && keepNewlines)) { return false }
            return true
        }
        if printable { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if scalar == "\n" && keepNewlines || scalar == "\t" {
                out.unicodeScalars.append(scalar)
            } else if isUnsafe(scalar) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// C0 and C1 controls, DEL, bidi embeddings/overrides/isolates, zero-width and other format characters,
    /// line and paragraph separators, and U+FFFD's siblings that hide content.
    public static func isUnsafe(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x200B...0x200F, 0x2028...0x202E, 0x2060...0x2069, 0xFEFF, 0xFFF9...0xFFFB: return true
        case 0x061C, 0x180E: return true
        default: return false
        }
    }
}
