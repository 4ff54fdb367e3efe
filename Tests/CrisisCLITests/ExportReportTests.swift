@testable import CrisisCLI
import Foundation
import Testing

/// `crisis export --format md|html`: the report for people, from real incidents (a drill driven through every
/// kind of step with hostile text in notes and fields, and the golden trails), and the HTML page opened in real
/// headless Chromium with no network.
@Suite(.serialized)
struct ExportReportTests {
    static let show = "Tests/CrisisCLITests/Fixtures/show.yaml"
    static let contacts = "Tests/CrisisCLITests/Fixtures/show-contacts.yaml"
    static let trails = CLI.root.appendingPathComponent("Tests/CrisisCLITests/Fixtures/trails")

    /// Text no report may let through as markup: a bidi override, a script end tag, an image tag, NUL, an
    /// ampersand, quotes, a Markdown table pipe, link and emphasis.
    static let hostile = "A\u{202E}evil\u{202C} </script><script>alert(1)</script> <img src=x onerror=alert(2)> "
        + "nul\u{0}byte & \"dq\" 'sq' | [link](http://evil.example/) **bold**"

    /// The hostile text without NUL, which crisis refuses in any text it records (`invalid-text`).
    static let hostileArg = hostile.replacingOccurrences(of: "\u{0}", with: "")

    /// A drill of Fixtures/show.yaml from page to end: an acknowledged page, a choice, a task, a statement
    /// drafted, rejected, redrafted, approved twice and published on three channels, a takedown drafted,
    /// submitted and removed; hostile text in a note (from standard input, NUL included), in an input and in
    /// fields of a draft, a notice and a ticket.
    static func incident(_ cli: CLI) throws -> String {
        let start = try cli.run([
            "start", show, "--drill", "--contacts", contacts, "--clock", "2026-03-02T09:00:00+01:00",
            "--set", "post_url=https://x.com/someone/status/1790", "--set", "platform=X \(hostileArg)",
        ])
        try #require(start.status == 0, "\(start.stderr)")
        let id = start.lastLine
        func act(_ args: [String], as person: String, role: String) throws {
            let r = try cli.run(["act", id] + args + ["--as", person, "--role", role])
            try #require(r.status == 0, "act \(args): \(r.stderr)")
        }
        func tick(_ by: String) throws {
            let r = try cli.run(["tick", id, "--advance", by])
            try #require(r.status == 0, "tick: \(r.stderr)")
        }
        try tick("3m")
        try act(["page_comms", "ack", "--set", "via=sms"], as: "jonas.comms", role: "comms")
        try tick("2m")
        try act(["triage", "choose", "--set", "option=serious"], as: "jonas.comms", role: "comms")
        try act(["check_facts", "done"], as: "jonas.comms", role: "comms")
        // (A NUL is refused at the door, `invalid-text`; the writers' own handling of one is tested directly.)
        let note = try cli.run(["note", id, "-"], stdin: Data("note one \(hostileArg)".utf8))
        try #require(note.status == 0, "\(note.stderr)")
        try tick("5m")
        try act(["statement", "draft", "--set", "what_we_know.nb=First version \(hostileArg)", "--set", "what_we_know.en=First version \(hostileArg)",
                 "--set", "next_update_at.nb=12:00", "--set", "next_update_at.en=12:00"], as: "jonas.comms", role: "comms")
        try act(["statement", "reject", "--set", "reason=Too vague"], as: "lars.legal", role: "legal")
        try tick("4m")
        try act(["statement", "draft", "--set", "what_we_know.nb=Second version, confirmed.", "--set", "what_we_know.en=Second version, confirmed.",
                 "--set", "next_update_at.nb=12:00", "--set", "next_update_at.en=12:00"], as: "jonas.comms", role: "comms")
        try act(["statement", "approve"], as: "lars.legal", role: "legal")
        try act(["statement", "approve"], as: "hanne.hr", role: "hr")
        try act(["statement", "publish"], as: "jonas.comms", role: "comms")
        try tick("10m")
        try act(["removal", "draft", "--set", "explanation=element \(hostileArg)", "--set", "affected_person=Jonas",
                 "--set", "authorisation=yes"], as: "lars.legal", role: "legal")
        try act(["removal", "submit", "--set", "ticket=T-1 \(hostileArg)"], as: "lars.legal", role: "legal")
        try tick("1h")
        try act(["removal", "removed"], as: "lars.legal", role: "legal")
        return id
    }

    /// A drill closed by its lead with a hostile reason, after a page nobody answered.
    static func closedByLead(_ cli: CLI) throws -> String {
        let start = try cli.run([
            "start", show, "--drill", "--contacts", contacts, "--clock", "2026-03-02T09:00:00+01:00",
            "--set", "post_url=https://x.com/someone/status/1790",
        ])
        try #require(start.status == 0, "\(start.stderr)")
        let id = start.lastLine
        try #require(try cli.run(["tick", id, "--advance", "12m"]).status == 0)
        let close = try cli.run(["act", id, "incident", "close", "--set", "outcome=false_alarm",
                                 "--set", "reason=Closed: \(hostileArg)", "--as", "kari.lead", "--role", "lead"])
        try #require(close.status == 0, "\(close.stderr)")
        return id
    }

    static func export(_ cli: CLI, _ id: String, _ format: String) throws -> String {
        let r = try cli.run(["export", id, "--format", format])
        try #require(r.status == 0, "\(r.stderr)")
        return r.stdout
    }

    @Test("md: every section, the drill marking at top, bottom and on every section, every version, approval and publication")
    func markdown() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try Self.incident(cli)
        let md = try Self.export(cli, id, "md")
        let lines = md.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first?.hasPrefix("> **DRILL") == true, "\(lines.prefix(3))")
        #expect(lines.last(where: { !$0.isEmpty })?.hasPrefix("> **DRILL") == true)
        let sections = lines.filter { $0.hasPrefix("## ") }
        #expect(sections.count == 7, "\(sections)")
        for name in ["Summary", "Clocks and targets", "Statements", "Takedowns", "Escalations", "Notes", "Timeline"] {
            #expect(sections.contains { $0.contains(name) && $0.hasSuffix("— DRILL") }, "\(name): \(sections)")
        }
        // Both versions, with their hashes and the rejection and both approvals, by revision.
        #expect(md.contains("Revision 1, drafted by Jonas Comms (jonas.comms)"))
        #expect(md.contains("Revision 2, drafted by Jonas Comms (jonas.comms)"))
        #expect(md.contains("Second version, confirmed."))
        let decisions = lines.map { $0.replacingOccurrences(of: "**", with: "") }
            .filter { $0.contains("| rejected |") || $0.contains("| approved |") }
        #expect(decisions.count == 3, "\(decisions)")
        #expect(decisions.contains { $0.contains("Lars Legal (lars.legal)") && $0.contains("| rejected | 1 |") })
        #expect(decisions.contains { $0.contains("Hanne HR (hanne.hr)") && $0.contains("| approved | 2 |") })
        // Three channels published in both languages, each with when and how (issue 13: per channel and language).
        for channel in ["x", "sms", "website"] {
            for language in ["nb", "en"] {
                #expect(lines.contains {
                    $0.hasPrefix("| \(channel) (\(language)) |") && $0.contains("sandboxed") && $0.contains("2026-03-02")
                }, "\(channel) (\(language))")
            }
        }
        // The summary: who led, how it ended, the times with their offset.
        #expect(md.contains("| **Opened** | 2026-03-02 09:00 +01:00"))
        #expect(md.contains("| **How it ended** | resolved |"))
        #expect(md.contains("| **Led by** | test-operator |"), "nobody acted as lead: the opener")
        // Takedown lifecycle and the escalation's ack with who.
        #expect(lines.contains { $0.contains("| submitted | removed | Lars Legal (lars.legal)") })
        #expect(lines.contains { $0.contains("Jonas Comms (jonas.comms)") && $0.contains("| sms |") && $0.contains("level 1") })
        // The timeline holds the same lines log shows (its own words for an approval).
        let log = try cli.run(["log", id])
        #expect(log.status == 0)
        #expect(md.contains("statement approve"))
        #expect(log.stdout.contains("statement approve"))
        #expect(md.contains("drill clock advanced by 1h"))
    }

    @Test("hostile strings come out inert: escaped in html, escaped and visible in md")
    func hostileStrings() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try Self.incident(cli)
        let closed = try Self.closedByLead(cli)
        let html = try Self.export(cli, id, "html") + Self.export(cli, closed, "html")
        let md = try Self.export(cli, id, "md") + "\n" + Self.export(cli, closed, "md")
        // The close reason and who closed it are in the summary.
        #expect(md.contains("| **Close reason** | Closed: A\\\\u{202E}evil"))
        #expect(md.contains("| **How it ended** | false\\_alarm |") || md.contains("| **How it ended** | false_alarm |"))
        #expect(md.contains("by Kari Lead (kari.lead)"))
        #expect(md.contains("| **Led by** | Kari Lead (kari.lead) |"))
        #expect(html.contains("<th scope=\"row\">Close reason</th><td class=\"plain\">Closed: A\\u{202E}evil\\u{202C} &lt;/script&gt;"))
        for out in [html, md] {
            #expect(!out.contains("\u{202E}"))
            #expect(out.contains("\\u{202E}evil\\u{202C}") || out.contains("\\\\u{202E}"), "bidi made visible")
        }
        // HTML: no element from the text, every special character a reference.
        #expect(!html.contains("<img"))
        #expect(!html.lowercased().contains("<script"))
        #expect(!html.contains("</script>"))
        #expect(html.contains("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("&lt;img src=x onerror=alert(2)&gt;"))
        #expect(html.contains("&amp; &quot;dq&quot; &#39;sq&#39;"))
        #expect(!html.contains("onerror=alert(2)>"))
        // Self-contained: nothing fetched.
        let lower = html.lowercased()
        for bad in ["@import", "url(", "<link", "<iframe", "<object", "<embed", "<img", "<image", "<use", "<style "] {
            #expect(!lower.contains(bad), "\(bad)")
        }
        #expect(lower.range(of: #"(src|href)\s*=\s*["']?(https?:|//)"#, options: .regularExpression) == nil)
        // The only src= is the hostile text itself, escaped (no tag around it).
        #expect(lower.components(separatedBy: "src=").count - 1 == lower.components(separatedBy: "&lt;img src=").count - 1)
        // Markdown: no raw tag, pipes escaped, links and emphasis escaped.
        #expect(md.range(of: #"(?<!\\)<"#, options: .regularExpression) == nil, "an unescaped < in the md")
        #expect(md.contains("\\<img src=x onerror=alert(2)>"))
        #expect(md.contains("\\</script>\\<script>alert(1)\\</script>"))
        #expect(md.contains("\\| \\[link](http://evil.example/) \\*\\*bold\\*\\*"))
        #expect(md.contains("nulbyte \\& \"dq\" 'sq'"))
        // Every table row of the md has as many unescaped pipes as its header: no cell spilled.
        var columns: Int?
        for line in md.split(separator: "\n").map(String.init) {
            guard line.hasPrefix("|") else { columns = nil; continue }
            let pipes = Self.unescapedPipes(line)
            if let c = columns { #expect(pipes == c, "\(line)") } else { columns = pipes }
        }
    }

    @Test("the writers' escaping on its own: NUL and every other control or bidi character made visible")
    func escaping() {
        let text = Self.hostile + " \u{2066}iso\u{2069} zw\u{200B}j \u{7F}del"
        let html = HTMLReport.escape(text)
        let md = MarkdownReport.escape(text)
        for out in [html, md] {
            #expect(!out.unicodeScalars.contains { TerminalText.isUnsafe($0) && $0 != "\n" }, "\(out)")
            #expect(out.contains("\\u{0}byte"))
            #expect(out.contains("\\u{202E}evil\\u{202C}"))
            #expect(out.contains("\\u{2066}iso\\u{2069}"))
        }
        #expect(!html.contains("<") && !html.contains(">") && !html.contains("\"") && !html.contains("'"))
        #expect(md.range(of: #"(?<!\\)[<|\[*`]"#, options: .regularExpression) == nil, "\(md)")
        // A statement line that would start a list, a heading or a quote in Markdown starts as text.
        #expect(MarkdownReport.lineStart("- item") == "\\- item")
        #expect(MarkdownReport.lineStart("# head") == "\\# head")
        #expect(MarkdownReport.lineStart("12. x") == "12\\. x")
        #expect(MarkdownReport.lineStart("plain") == "plain")
    }

    static func unescapedPipes(_ line: String) -> Int {
        var n = 0
        var escaped = false
        for ch in line {
            if escaped { escaped = false; continue }
            if ch == "\\" { escaped = true } else if ch == "|" { n += 1 }
        }
        return n
    }

    @Test("md and html of every golden trail: each incident exports, the timeline has a line per shown log line")
    func goldenTrails() throws {
        var cli = try CLI()
        defer { cli.remove() }
        try FileManager.default.copyItem(atPath: Self.trails.appendingPathComponent("executive-impersonation.db").path,
                                         toPath: cli.db)
        cli.env["TZ"] = "America/Los_Angeles"
        let list = try cli.run(["list", "--json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count >= 3)
        for row in rows {
            let id = try #require(row["id"] as? String)
            let md = try Self.export(cli, id, "md")
            let html = try Self.export(cli, id, "html")
            #expect(md.contains("## 7. Timeline"))
            #expect(html.contains("<svg") && html.contains("</html>"))
            // One timeline row per record log shows (its lines that start with a sequence number).
            let log = try cli.run(["log", id], env: ["COLUMNS": "400"])
            let shown = log.stdout.split(separator: "\n").filter { $0.range(of: #"^ *\d+ (\d\d:\d\d|  -  )  "#, options: .regularExpression) != nil }
            let timeline = md.components(separatedBy: "## 7. Timeline").last ?? ""
            let rowsMD = timeline.split(separator: "\n").filter { $0.range(of: #"^\| \d+ \| "#, options: .regularExpression) != nil }
            #expect(rowsMD.count == shown.count, "\(id): \(rowsMD.count) rows, log shows \(shown.count)")
        }
    }

    @Test("-o writes a file; an existing file is refused without --force; stdout by default")
    func outputFile() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let start = try cli.run(["start", Self.show, "--drill", "--set", "post_url=https://x.com/a/status/1"])
        let id = start.lastLine
        let path = cli.dir.appendingPathComponent("r.html").path
        var r = try cli.run(["export", id, "--format", "html", "-o", path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect((try? String(contentsOfFile: path, encoding: .utf8))?.hasPrefix("<!DOCTYPE html>") == true)
        r = try cli.run(["export", id, "--format", "md", "-o", path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("already exists"))
        r = try cli.run(["export", id, "--format", "md", "-o", path, "--force"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect((try? String(contentsOfFile: path, encoding: .utf8))?.hasPrefix("> **DRILL") == true)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: cli.dir.path).filter { $0.contains(".partial-") }
        #expect(leftovers.isEmpty)
        r = try cli.run(["export", id, "--format", "md", "-o", cli.dir.path, "--force"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("is a folder"))
    }

    // MARK: real browser

    /// A TCP listener on 127.0.0.1 that reads the first line of each connection and closes it unanswered.
    /// Chromium is told to use it as its proxy for everything, so any request the page makes (http, https, a
    /// resolved name) arrives here.
    final class Listener: @unchecked Sendable {
        let fd: Int32
        let port: UInt16
        private let lock = NSLock()
        private var lines: [String] = []
        private var stopped = false
        private let done = DispatchSemaphore(value: 0)

        init() throws {
            let sock = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard sock >= 0 else { throw HarnessError("socket: \(errno)") }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = 0
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(sock, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0, listen(sock, 16) == 0 else {
                close(sock)
                throw HarnessError("bind/listen: \(errno)")
            }
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            var got = sockaddr_in()
            _ = withUnsafeMutablePointer(to: &got) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(sock, $0, &len) }
            }
            fd = sock
            port = UInt16(bigEndian: got.sin_port)
            let thread = Thread { [self] in serve() }
            thread.start()
        }

        private func serve() {
            defer { done.signal() }
            while !lock.withLock({ stopped }) {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&p, 1, 100) > 0 else { continue }
                let c = accept(fd, nil, nil)
                if c < 0 { continue }
                var limit = timeval(tv_sec: 2, tv_usec: 0)
                _ = setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
                var buffer = [UInt8](repeating: 0, count: 512)
                let n = read(c, &buffer, buffer.count)
                close(c)
                let text = String(decoding: buffer.prefix(max(0, n)), as: UTF8.self)
                let line = text.split(separator: "\r\n").first.map(String.init) ?? "(a connection, nothing sent)"
                lock.withLock { lines.append(line) }
            }
        }

        /// The first line of every request so far: `GET http://host/...` or `CONNECT host:443 HTTP/1.1`.
        func requests() -> [String] {
            Thread.sleep(forTimeInterval: 0.3)
            return lock.withLock { lines }
        }

        deinit {
            lock.withLock { stopped = true }
            done.wait()
            close(fd)
        }

        /// Requests the browser makes for itself whatever the page (component and extension updates, account
        /// checks, network time), to Google's service hosts. They are not the page's: the control page below
        /// shows that a request the page makes is seen and is not one of these.
        static func isBrowserOwn(_ request: String) -> Bool {
            let parts = request.split(separator: " ")
            guard parts.count >= 2 else { return false }
            var host = String(parts[1])
            if let r = host.range(of: "://") { host = String(host[r.upperBound...]) }
            host = String(host.prefix { $0 != "/" && $0 != ":" })
            return ["google.com", "googleapis.com", "gvt1.com", "gstatic.com", "googleusercontent.com"]
                .contains { host == $0 || host.hasSuffix("." + $0) }
        }
    }

    static var chromium: String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(dir)/chromium"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Runs headless Chromium on `page` through the harness's `Spawn` (posix_spawn and waitpid), under
    /// `timeout`: Chromium can hang on exit, so it is killed after 60 s.
    static func chromium(_ binary: String, _ mode: String, page: String, proxy: UInt16, profile: String) -> Int32 {
        Spawn.run("/usr/bin/timeout", [
            "-k", "5", "60", binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--disable-extensions", "--disable-domain-reliability", "--no-pings",
            "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate",
            "--user-data-dir=\(profile)", mode, "--window-size=1200,2000",
            "--proxy-server=127.0.0.1:\(proxy)", "--proxy-bypass-list=<-loopback>",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "file://\(page)",
        ]).status
    }

    @Test("the html opens in headless Chromium: screenshot and PDF made, and no network request at all")
    func chromiumRendersOffline() throws {
        guard let binary = Self.chromium else {
            print("ExportReportTests: chromium is not on PATH; skipping the real-browser test (apt package chromium)")
            return
        }
        let cli = try CLI()
        defer { cli.remove() }
        let id = try Self.incident(cli)
        let page = cli.dir.appendingPathComponent("report.html").path
        #expect(try cli.run(["export", id, "--format", "html", "-o", page]).status == 0)
        let listener = try Listener()
        let png = cli.dir.appendingPathComponent("report.png").path
        let pdf = cli.dir.appendingPathComponent("report.pdf").path
        let profile = cli.dir.appendingPathComponent("profile").path
        _ = Self.chromium(binary, "--screenshot=\(png)", page: page, proxy: listener.port, profile: profile)
        _ = Self.chromium(binary, "--print-to-pdf=\(pdf)", page: page, proxy: listener.port, profile: profile)
        let shot = try Data(contentsOf: URL(fileURLWithPath: png))
        #expect(shot.count > 20_000, "screenshot is \(shot.count) bytes")
        #expect(shot.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        let printed = try Data(contentsOf: URL(fileURLWithPath: pdf))
        #expect(printed.count > 20_000, "PDF is \(printed.count) bytes")
        #expect(printed.prefix(5) == Data("%PDF-".utf8))
        let seen = listener.requests()
        #expect(seen.allSatisfy(Listener.isBrowserOwn), "the page made a network request: \(seen)")
        if let keep = ProcessInfo.processInfo.environment["CRISIS_REPORT_SHOTS"] {
            try? FileManager.default.removeItem(atPath: keep + "/report.png")
            try? FileManager.default.removeItem(atPath: keep + "/report.pdf")
            try? FileManager.default.copyItem(atPath: png, toPath: keep + "/report.png")
            try? FileManager.default.copyItem(atPath: pdf, toPath: keep + "/report.pdf")
        }

        // The check can fail: a page that fetches an image is caught by the same listener.
        let control = cli.dir.appendingPathComponent("control.html").path
        try "<!DOCTYPE html><img src=\"http://example.invalid/x.png\">".write(toFile: control, atomically: true, encoding: .utf8)
        let probe = try Listener()
        _ = Self.chromium(binary, "--screenshot=\(cli.dir.appendingPathComponent("control.png").path)", page: control,
                          proxy: probe.port, profile: profile)
        let caught = probe.requests()
        #expect(caught.contains { $0.contains("example.invalid") && !Listener.isBrowserOwn($0) },
                "the listener did not see the control page's request: \(caught)")
    }
}
