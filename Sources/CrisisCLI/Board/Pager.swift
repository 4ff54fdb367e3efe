import Foundation

/// A full-screen page of text on the board's terminal (a step in full before approving it, the log): space,
/// PgDn or j/↓ scroll on, b, PgUp or k/↑ back; Enter or any other key continues; q or Esc cancels.
enum Pager {
    /// Shows `lines` until a key ends it. Returns false when the person cancelled (q, Esc, Ctrl-C).
    /// `then` says what Enter does (the prompts, or back to the board).
    static func page(_ term: Terminal, lines: [String], startAtEnd: Bool = false,
                     then: String = "Enter goes on · q cancels") -> Bool {
        var top = -1
        var painted: [String] = []
        while !StopSignals.requested {
            let (w, h) = Terminal.size()
            let body = max(1, h - 1)
            let last = max(0, lines.count - body)
            if top < 0 { top = startAtEnd ? last : 0 }
            top = min(top, last)
            let end = min(lines.count, top + body)
            var screen = lines[top..<end].map { BoardLayout.clip($0, w) }
            while screen.count < body { screen.append("") }
            let more = end < lines.count ? "space/j more · " : ""
            screen.append(BoardLayout.clip(
                "— lines \(top + 1)-\(end) of \(lines.count) · \(more)k back · \(then) —", w))
            if screen != painted {
                term.paint(screen)
                painted = screen
            }
            guard let key = term.key(timeoutMs: 250) else { continue }
            switch key {
            case UInt8(ascii: " "), UInt8(ascii: "f"): top = min(last, top + body)
            case UInt8(ascii: "j"): top = min(last, top + 1)
            case UInt8(ascii: "k"): top = max(0, top - 1)
            case UInt8(ascii: "b"): top = max(0, top - body)
            case UInt8(ascii: "q"), 3, 4: return false
            case 27:
                // Esc alone cancels; the arrows and PgUp/PgDn arrive as ESC [ A/B, ESC [ 5~/6~.
                guard term.key(timeoutMs: 30) == UInt8(ascii: "[") else { return false }
                var seq: [UInt8] = []
                while let b = term.key(timeoutMs: 30) {
                    seq.append(b)
                    if b >= 0x40 { break }
                }
                switch seq {
                case [UInt8(ascii: "B")]: top = min(last, top + 1)
                case [UInt8(ascii: "A")]: top = max(0, top - 1)
                case [UInt8(ascii: "6"), UInt8(ascii: "~")]: top = min(last, top + body)
                case [UInt8(ascii: "5"), UInt8(ascii: "~")]: top = max(0, top - body)
                default: return true
                }
            default:
                return true
            }
        }
        return false
    }
}
