import CrisisCore
@testable import CrisisRuntime
import Foundation
import Testing

/// The outbox's pieces that need no server: `Retry-After`, what a record keeps of a reply, the exec program's
/// environment. (The transports against real local servers are in CrisisCLITests/TransportTests.)
struct TransportOutboxTests {
    static let now = Instant(millisecondsSinceEpoch: 784_111_777_000)  // Sun, 06 Nov 1994 08:49:37 GMT

    @Test("Retry-After: delay-seconds and the three HTTP date forms, as a wait from now")
    func retryAfterForms() {
        #expect(OutboxTransport.retryAfter("1", now: Self.now) == 1_000)
        #expect(OutboxTransport.retryAfter(" 120 ", now: Self.now) == 120_000)
        #expect(OutboxTransport.retryAfter("0", now: Self.now) == 0)
        #expect(OutboxTransport.retryAfter("99999999999999", now: Self.now) == 86_400_000)
        #expect(OutboxTransport.retryAfter("Sun, 06 Nov 1994 08:50:07 GMT", now: Self.now) == 30_000)
        #expect(OutboxTransport.retryAfter("Sunday, 06-Nov-94 08:49:47 GMT", now: Self.now) == 10_000)
        #expect(OutboxTransport.retryAfter("Sun Nov  6 08:49:39 1994", now: Self.now) == 2_000)
        // A date already past: no wait (the computed backoff applies).
        #expect(OutboxTransport.retryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now: Self.now) == 0)
    }

    @Test("Retry-After that is neither: ignored")
    func retryAfterNonsense() {
        for v in ["", "soon", "-5", "1.5", "+3", "Sun, 06 Nov 1994", "Sun, 06 Nov 1994 08:50:07 CET"] {
            #expect(OutboxTransport.retryAfter(v, now: Self.now) == nil, "\(v)")
        }
    }

    @Test("the Retry-After header is read case-insensitively, and only the final response's counts")
    func retryAfterHeader() {
        let b = Curl.Buffers(upload: [])
        Curl.header(Array("HTTP/1.1 100 Continue\r\n".utf8), into: b)
        Curl.header(Array("retry-after: 7\r\n".utf8), into: b)
        #expect(b.retryAfter == "7")
        Curl.header(Array("HTTP/1.1 503 Service Unavailable\r\n".utf8), into: b)
        #expect(b.retryAfter == nil)
        Curl.header(Array("Content-Length: 3\r\n".utf8), into: b)
        Curl.header(Array("Retry-After:   Sun, 06 Nov 1994 08:50:07 GMT  \r\n".utf8), into: b)
        #expect(b.retryAfter == "Sun, 06 Nov 1994 08:50:07 GMT")
        Curl.header(Array("Retry-Afterwards: 9\r\n".utf8), into: b)
        #expect(b.retryAfter == "Sun, 06 Nov 1994 08:50:07 GMT")
    }

    @Test("a reply body: its first line, clean and short; not UTF-8 is said, never stored")
    func replyLine() {
        #expect(OutboxTransport.replyLine(Array("error from the server\nsecond line\n".utf8)) == "error from the server")
        #expect(OutboxTransport.replyLine([]) == nil)
        #expect(OutboxTransport.replyLine(Array("\u{1B}[31mred\u{07}".utf8)) == "[31mred")
        #expect(OutboxTransport.replyLine([0xFF, 0xFE, 0x41]) == "(a body of 3 bytes that is not UTF-8 text)")
        let long = OutboxTransport.replyLine(Array(String(repeating: "x", count: 5000).utf8))
        #expect(long?.count == 120)
        // 512 bytes of 'ø' (2 bytes each) preceded by one ASCII byte: the character cut at the limit is dropped,
        // the rest is text.
        let cut = OutboxTransport.replyLine(Array(("a" + String(repeating: "ø", count: 400)).utf8))
        #expect(cut?.hasPrefix("aøø") == true)
        #expect(cut?.count == 120)
    }

    @Test("the exec program's environment: PATH, HOME, LANG, LC_ALL, TZ when set, the named ones, the message's")
    func execEnvironment() {
        let parent = ["PATH": "/opt/bin:/usr/bin", "HOME": "/home/ops", "LANG": "nb_NO.UTF-8", "TZ": "UTC",
                      "AWS_SECRET_ACCESS_KEY": "leak", "CRISIS_OPERATOR": "kari", "LC_ALL": ""]
        let env = ExecRunner.environment(message: ["CRISIS_TO": "+47 1"], named: ["PAGER_TOKEN": "t"], parent: parent)
        #expect(env == ["PATH": "/opt/bin:/usr/bin", "HOME": "/home/ops", "LANG": "nb_NO.UTF-8", "TZ": "UTC",
                        "PAGER_TOKEN": "t", "CRISIS_TO": "+47 1"])
        // No PATH at all: a safe default, so the program can still run its own tools.
        #expect(ExecRunner.environment(message: [:], named: [:], parent: [:]) == ["PATH": "/usr/local/bin:/usr/bin:/bin"])
    }
}
