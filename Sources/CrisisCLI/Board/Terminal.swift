import Foundation

/// The terminal the board runs in: raw keys, the alternate screen, the size, and restoring everything on the way
/// out (also after Ctrl-C). Only `crisis run` uses it.
final class Terminal {
    private var saved = termios()
    private var raw = false

    /// Whether standard input and output are both a terminal (else the board runs in line mode).
    static var isInteractive: Bool { isatty(0) == 1 && isatty(1) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb" }

    /// Rows and columns (80x24 when it cannot tell).
    static func size() -> (width: Int, height: Int) {
        var ws = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0, ws.ws_row > 0 { return (Int(ws.ws_col), Int(ws.ws_row)) }
        return (80, 24)
    }

    /// Keys one at a time, no echo; signals (Ctrl-C) still arrive as signals. Switches to the alternate screen.
    func enterBoard() {
        tcgetattr(0, &saved)
        raw = true
        write("\u{1B}[?1049h")
        keyMode()
    }

    /// Back to lines with echo, for typing a field's value; the cursor shows.
    func lineMode() {
        tcsetattr(0, TCSANOW, &saved)
        write("\u{1B}[?25h")
    }

    /// Back to keys after `lineMode`.
    func keyMode() {
        var t = saved
        t.c_lflag &= ~tcflag_t(ICANON | ECHO)
        withUnsafeMutableBytes(of: &t.c_cc) { cc in
            cc[Int(VMIN)] = 0
            cc[Int(VTIME)] = 0
        }
        tcsetattr(0, TCSANOW, &t)
        write("\u{1B}[?25l")
    }

    /// Leaves the board: the terminal as it was, the normal screen back.
    func leave() {
        guard raw else { return }
        tcsetattr(0, TCSANOW, &saved)
        write("\u{1B}[?25h\u{1B}[?1049l")
        raw = false
    }

    /// Paints a whole frame from the top-left corner.
    func paint(_ lines: [String]) {
        var out = "\u{1B}[H"
        for (i, line) in lines.enumerated() {
            out += line + "\u{1B}[K" + (i + 1 < lines.count ? "\r\n" : "")
        }
        out += "\u{1B}[J"
        write(out)
    }

    /// Moves to the start of row `row` (1-based) and clears it.
    func at(row: Int, _ text: String) {
        write("\u{1B}[\(row);1H\u{1B}[K" + text)
    }

    /// Waits up to `timeoutMs` for a key. Nil on timeout; `\u{4}` when standard input closed or the terminal hung up.
    func key(timeoutMs: Int32) -> UInt8? {
        var fds = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        let n = poll(&fds, 1, timeoutMs)
        guard n > 0 else { return nil }
        var byte: UInt8 = 0
        let r = read(0, &byte, 1)
        if r == 1 { return byte }
        // The terminal went away (hang-up, closed): as the end of input, so the board leaves.
        if r == 0 || (errno != EINTR && errno != EAGAIN) || fds.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 {
            return 4
        }
        return nil
    }

    /// A line typed at a prompt (after `lineMode`), or nil at the end of input (Ctrl-D on an empty line). Read
    /// from the descriptor, not through stdio: the end of input on a terminal is not for ever, and the next
    /// prompt (or key) reads again.
    static func readLine() -> String? {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            // Ctrl-C at a prompt cancels it: nothing half-typed is recorded, and the board then leaves.
            var fds = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            let ready = poll(&fds, 1, 100)
            if StopSignals.requested { return nil }
            if ready == 0 || (ready < 0 && errno == EINTR) { continue }
            let r = read(0, &byte, 1)
            if r < 0 && errno == EINTR { continue }
            if r <= 0 { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }

    func write(_ s: String) {
        FileHandle.standardOutput.write(Data(s.utf8))
    }
}
