import CrisisCore
import Crypto
import Foundation

/// Live deliveries through the installation's transports (`crisis-transports/v1`): for each delivery, the
/// recipients' addresses on its channel from the contacts directory, the message rendered for the transport, then
/// attempts (each bounded in time, carrying the delivery key as `Idempotency-Key`) with exponential backoff and
/// jitter until the channel's deadline. Every attempt comes back in the result, for the `action.outcome` record;
/// secrets never do. A channel with no transport is handed to a person, as `ManualTransport` does.
///
/// Drills never get here: the effect runner sends every drill delivery to the sandbox.
public struct OutboxTransport: DeliveryTransport {
    public let config: TransportsConfig
    /// The wall clock (attempt instants).
    var now: @Sendable () -> Instant = { .wallClock() }
    /// Waits between attempts.
    var sleep: @Sendable (Int64) -> Void = { ms in if ms > 0 { usleep(UInt32(min(ms, 4_000_000)) * 1000) } }
    /// The jittered wait for a nominal backoff: uniformly between half and all of it.
    var jitter: @Sendable (Int64) -> Int64 = { d in d <= 1 ? d : d / 2 + Int64.random(in: 0...(d - d / 2)) }

    public init(config: TransportsConfig) { self.config = config }

    public func send(_ delivery: Delivery) -> TransportResult {
        send(delivery, context: DeliveryContext(incident: "", contacts: nil))
    }

    public func send(_ delivery: Delivery, context: DeliveryContext) -> TransportResult {
        guard let (route, spec) = config.route(for: delivery.channel) else {
            return ManualTransport().send(delivery)
        }
        let via = "\(route.transport) (\(spec.kind.name))"
        let people = Self.recipients(delivery, contacts: context.contacts)
        var targets: [Target] = []
        var problems: [String] = []
        if case .webhook = spec.kind {
            // One post to the channel's hook, whoever the recipients are.
            let names = people.compactMap { $0.person?.name ?? $0.id }
            targets = [Target(id: nil, name: names.joined(separator: ", "), address: "")]
        } else {
            for r in people {
                guard let p = r.person else {
                    problems.append("recipient '\(r.id)' is not in the contacts directory")
                    continue
                }
                guard let address = p.channels.first(where: { $0.type == delivery.channel })?.address,
                      !address.isEmpty else {
                    problems.append("\(p.name) (\(p.id)) has no address on channel '\(delivery.channel)' in the "
                                    + "contacts directory")
                    continue
                }
                targets.append(Target(id: p.id, name: p.name, address: address))
            }
            if people.isEmpty { problems.append("the delivery names no recipient") }
        }
        var attempts: [DeliveryAttempt] = []
        var sentTo: [String] = []
        var failedTo: [String] = []
        for target in targets {
            let key = targets.count > 1 ? "\(delivery.key)/\(target.id ?? "")" : delivery.key
            let r = deliver(delivery, to: target, key: key, spec: spec, route: route, context: context,
                            attempts: &attempts)
            let line = target.id.map { "\(target.name) (\($0)): \(r.summary)" } ?? r.summary
            if r.ok { sentTo.append(line) } else { failedTo.append(line) }
        }
        let ok = failedTo.isEmpty && problems.isEmpty && !sentTo.isEmpty
        var detail = ok ? "sent by \(via)" : "failed by \(via)"
        if targets.count + problems.count > 1 {
            detail += ": \(sentTo.count) of \(targets.count + problems.count) sent"
        }
        let parts = sentTo + failedTo + problems
        if !parts.isEmpty { detail += ": " + parts.joined(separator: "; ") }
        if attempts.count > Self.attemptsKept {
            // A record has a size limit: the first and the last attempts are kept.
            detail += " (\(attempts.count) attempts: the first and last \(Self.attemptsKept / 2) recorded)"
            attempts = Array(attempts.prefix(Self.attemptsKept / 2) + attempts.suffix(Self.attemptsKept / 2))
        }
        return TransportResult(ok ? .sent : .failed, config.scrub(detail), attempts: attempts)
    }

    /// Most attempts one outcome record keeps.
    static let attemptsKept = 100

    /// At most 200 characters, without control characters (a reply may hold anything; a tab or line break
    /// becomes a space).
    static func clip(_ s: String) -> String {
        var t = String(String.UnicodeScalarView(s.unicodeScalars.compactMap { u -> Unicode.Scalar? in
            if u == "\t" || u == "\n" || u == "\r" { return " " }
            return u.properties.generalCategory == .control ? nil : u
        }))
        t = t.trimmingCharacters(in: .whitespaces)
        return t.count > 200 ? String(t.prefix(199)) + "…" : t
    }

    struct Target {
        var id: String?
        var name: String
        var address: String
    }

    /// The delivery's recipients as people of the directory (`role:NAME` is every holder of the role).
    static func recipients(_ delivery: Delivery, contacts: ContactsDirectory?) -> [(id: String, person: Person?)] {
        var out: [(id: String, person: Person?)] = []
        var seen = Set<String>()
        for r in delivery.recipients {
            if r.hasPrefix("role:"), let c = contacts {
                for p in c.holders(of: String(r.dropFirst(5))) where seen.insert(p.id).inserted { out.append((p.id, p)) }
            } else if seen.insert(r).inserted {
                out.append((r, contacts?.person(r)))
            }
        }
        return out
    }

    // MARK: attempts

    /// One attempt's verdict.
    struct Verdict {
        var ok: Bool
        /// Worth trying again (a timeout, a 5xx, a 4xx SMTP reply).
        var retry: Bool
        var attempt: DeliveryAttempt
        var summary: String
        /// How long the server asked to be left alone (`Retry-After` on a 429 or 503), in milliseconds.
        var retryAfterMs: Int64?
    }

    /// Tries one target until it is sent, refused for good, or the channel's deadline comes.
    func deliver(_ delivery: Delivery, to target: Target, key: String, spec: TransportSpec, route: ChannelRoute,
                 context: DeliveryContext, attempts: inout [DeliveryAttempt]) -> (ok: Bool, summary: String)
    {
        let started = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Int64 { Int64((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000) }
        var n = 0
        while true {
            n += 1
            let remaining = route.deadlineMs - elapsed()
            let timeout = max(100, min(spec.retry.attemptTimeoutMs, remaining))
            var v = attempt(delivery, to: target, key: key, spec: spec, context: context, timeoutMs: timeout)
            v.attempt.number = n
            v.attempt.to = target.id
            v.attempt.error = v.attempt.error.map { Self.clip(config.scrub($0)) }
            v.attempt.reply = v.attempt.reply.map { Self.clip(config.scrub($0)) }
            let plural = n == 1 ? "1 attempt" : "\(n) attempts"
            if v.ok {
                attempts.append(v.attempt)
                return (true, "\(v.summary) after \(plural)")
            }
            guard v.retry else {
                attempts.append(v.attempt)
                return (false, "\(v.summary) after \(plural): not retried")
            }
            if let asked = v.retryAfterMs, asked > 0 {
                // The server said when to come back (429/503 with Retry-After): that wait, not the backoff, as
                // long as the next attempt would still start before the channel's deadline.
                if elapsed() + asked >= route.deadlineMs {
                    attempts.append(v.attempt)
                    return (false, "\(v.summary) after \(plural) in \(Self.seconds(elapsed())): the server asked to "
                            + "wait \(Self.seconds(asked)) (Retry-After), past the channel's deadline "
                            + "(\(Self.duration(route.deadlineMs))): gave up")
                }
                v.attempt.backoffMs = asked
                attempts.append(v.attempt)
                sleep(asked)
                continue
            }
            let wait = jitter(min(spec.retry.maxBackoffMs, spec.retry.backoffMs << min(n - 1, 20)))
            if elapsed() + wait >= route.deadlineMs {
                attempts.append(v.attempt)
                return (false, "\(v.summary) after \(plural) in \(Self.seconds(elapsed())): gave up at the "
                        + "channel's deadline (\(Self.duration(route.deadlineMs)))")
            }
            v.attempt.backoffMs = wait
            attempts.append(v.attempt)
            sleep(wait)
        }
    }

    /// A configured duration as written: `2m`, `1h30m`, `500ms`.
    public static func duration(_ ms: Int64) -> String {
        ms % 1000 == 0 ? PlaybookDuration(milliseconds: ms).description : "\(ms)ms"
    }

    static func seconds(_ ms: Int64) -> String {
        ms < 1000 ? "\(ms) ms" : String(format: "%.1f s", Double(ms) / 1000)
    }

    /// The template variables of one message to one target.
    func values(_ delivery: Delivery, _ target: Target, key: String, context: DeliveryContext) -> [String: String] {
        ["to": target.address, "name": target.name, "text": delivery.text, "subject": Self.subject(delivery),
         "key": key, "channel": delivery.channel, "incident": context.incident, "step": delivery.step,
         "purpose": delivery.purpose.rawValue]
    }

    /// A subject line: the text's first line, at most 120 characters.
    static func subject(_ delivery: Delivery) -> String {
        let first = delivery.text.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? ""
        let line = first.isEmpty ? "\(delivery.purpose.rawValue): \(delivery.step)" : first
        return line.count > 120 ? String(line.prefix(119)) + "…" : line
    }

    func attempt(_ delivery: Delivery, to target: Target, key: String, spec: TransportSpec, context: DeliveryContext,
                 timeoutMs: Int64) -> Verdict
    {
        let at = now()
        let vals = values(delivery, target, key: key, context: context)
        switch spec.kind {
        case .webhook(let w):
            let body = WebhookPayload.body(w.format, delivery: delivery, incident: context.incident,
                                           recipients: Self.recipients(delivery, contacts: context.contacts))
            var headers = ["Content-Type: application/json", "Idempotency-Key: \(key)"]
            if let secret = w.secret?.render([:], secrets: spec.secrets) {
                headers.append("\(w.signatureHeader): \(WebhookPayload.signature(body, secret: secret))")
            }
            let url = w.url.render([:], secrets: spec.secrets)
            return httpVerdict(Curl.http(method: "POST", url: url, headers: headers, body: body, timeoutMs: timeoutMs),
                               at: at)
        case .http(let h):
            let url = h.url.render(vals, secrets: spec.secrets, encode: Self.urlEncode)
            var headers = ["Idempotency-Key: \(key)"]
            for (name, value) in h.headers {
                headers.append("\(name): \(value.render(vals, secrets: spec.secrets).filter { $0 != "\r" && $0 != "\n" })")
            }
            var body: [UInt8]?
            if let form = h.form {
                headers.append("Content-Type: application/x-www-form-urlencoded")
                body = Array(form.map { "\(Self.formEncode($0.name))=\(Self.formEncode($0.value.render(vals, secrets: spec.secrets)))" }
                    .joined(separator: "&").utf8)
            } else if let json = h.json {
                headers.append("Content-Type: application/json")
                var object: [String: String] = [:]
                for (name, value) in json { object[name] = value.render(vals, secrets: spec.secrets) }
                body = WebhookPayload.encode(object)
            } else if h.method != "GET" {
                headers.append("Content-Type: text/plain; charset=utf-8")
                body = Array(delivery.text.utf8)
            }
            return httpVerdict(Curl.http(method: h.method, url: url, headers: headers, body: body, timeoutMs: timeoutMs),
                               at: at)
        case .smtp(let s):
            let scheme = s.tls ? "smtps" : "smtp"
            let host = s.host.contains(":") ? "[\(s.host)]" : s.host
            let message = MailMessage.render(from: s.from, to: target.address, name: target.name,
                                             subject: s.subject.render(vals, secrets: spec.secrets),
                                             text: delivery.text, key: key, date: at)
            let r = Curl.smtp(url: "\(scheme)://\(host):\(s.port)", starttls: s.starttls && !s.tls, from: s.from,
                              recipients: [target.address], user: s.user?.render([:], secrets: spec.secrets),
                              password: s.password?.render([:], secrets: spec.secrets), caFile: s.caFile,
                              message: message, timeoutMs: timeoutMs)
            var a = DeliveryAttempt(at: at, latencyMs: r.latencyMs, status: r.status, error: r.error)
            if r.error == nil {
                a.reply = "SMTP \(r.status ?? 250)"
                return Verdict(ok: true, retry: false, attempt: a, summary: "SMTP \(r.status ?? 250)")
            }
            let code = r.status ?? 0
            let summary = code > 0 ? "SMTP \(code)" : (r.timedOut ? "timed out" : "no answer")
            // 5xx: refused for good; 4xx, timeouts, lost connections: try again.
            return Verdict(ok: false, retry: !(500..<600).contains(code), attempt: a, summary: summary)
        case .exec(let e):
            let argv = e.command.map { $0.render(vals, secrets: spec.secrets) }
            let env = ["CRISIS_TO": target.address, "CRISIS_NAME": target.name, "CRISIS_CHANNEL": delivery.channel,
                       "CRISIS_DELIVERY_KEY": key, "CRISIS_INCIDENT": context.incident,
                       "CRISIS_PURPOSE": delivery.purpose.rawValue, "CRISIS_STEP": delivery.step]
            var named: [String: String] = [:]
            for (name, value) in e.environment { named[name] = value.render(vals, secrets: spec.secrets) }
            let r = ExecRunner.run(argv, stdin: Array(delivery.text.utf8),
                                   environment: ExecRunner.environment(message: env, named: named), timeoutMs: timeoutMs)
            let output = r.output.trimmingCharacters(in: .whitespacesAndNewlines)
            var a = DeliveryAttempt(at: at, latencyMs: r.latencyMs, status: r.status.map(Int.init), error: r.error)
            if !output.isEmpty { a.reply = String(output.prefix(200)) }
            switch r.status {
            case 0?: return Verdict(ok: true, retry: false, attempt: a, summary: "exit 0")
            case 75?:
                a.error = a.error ?? "temporary failure (exit 75)"
                return Verdict(ok: false, retry: true, attempt: a, summary: "exit 75")
            case let s?:
                a.error = a.error ?? "exit \(s)"
                return Verdict(ok: false, retry: false, attempt: a, summary: "exit \(s)")
            case nil:
                return Verdict(ok: false, retry: r.timedOut || r.error?.hasPrefix("killed") == true, attempt: a,
                               summary: r.timedOut ? "timed out" : (r.error ?? "did not run"))
            }
        }
    }

    func httpVerdict(_ r: CurlReply, at: Instant) -> Verdict {
        var a = DeliveryAttempt(at: at, latencyMs: r.latencyMs, status: r.status, error: r.error)
        let status = r.status ?? 0
        if r.error == nil, (200..<300).contains(status) {
            return Verdict(ok: true, retry: false, attempt: a, summary: "HTTP \(status)")
        }
        if r.error == nil, status > 0 {
            a.reply = Self.replyLine(r.body)
            a.error = "HTTP \(status)"
        }
        let retry = r.error != nil || status >= 500 || status == 408 || status == 425 || status == 429
        let summary = status > 0 && r.error == nil ? "HTTP \(status)"
            : (r.timedOut ? "timed out" : "no answer (\(r.error ?? "?"))")
        var v = Verdict(ok: false, retry: retry, attempt: a, summary: summary)
        if r.error == nil, status == 429 || status == 503, let header = r.retryAfter {
            v.retryAfterMs = Self.retryAfter(header, now: now())
        }
        return v
    }

    /// What the record keeps of an error response's body (it may echo anything, be huge or not be text): its
    /// first line, at most 120 characters of the first 512 bytes (a character cut at that limit is dropped), or
    /// a note that it is not UTF-8 text. Nil for an empty body.
    static func replyLine(_ body: [UInt8]) -> String? {
        var line = Array(body.prefix(512).prefix { $0 != 10 && $0 != 13 })
        if line.count == 512 {
            // Drop a multi-byte character cut in two by the limit (at most 3 continuation bytes back).
            var i = line.count - 1
            while i > line.count - 4, line[i] & 0xC0 == 0x80 { i -= 1 }
            let lead = line[i]
            let needed = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
            if lead >= 0xC0, line.count - i < needed { line.removeSubrange(i...) }
        }
        guard let text = String(validating: line, as: UTF8.self) else {
            return "(a body of \(body.count < Curl.bodyLimit ? "\(body.count)" : "at least \(Curl.bodyLimit)") bytes that "
                + "is not UTF-8 text)"
        }
        let clipped = clip(text)
        guard !clipped.isEmpty else { return nil }
        return clipped.count > 120 ? String(clipped.prefix(119)) + "…" : clipped
    }

    /// A `Retry-After` value (RFC 9110 10.2.3) as a wait from `now` in milliseconds: delay-seconds, or an HTTP date
    /// (IMF-fixdate, or the obsolete RFC 850 and asctime forms). A date already past is 0; anything else is nil.
    static func retryAfter(_ value: String, now: Instant) -> Int64? {
        let v = value.trimmingCharacters(in: .whitespaces)
        if !v.isEmpty, v.utf8.allSatisfy({ (48...57).contains($0) }) {
            // Digits only; anything beyond a day is a day (the channel's deadline decides anyway).
            return min(Int64(v.prefix(9)) ?? 0, 86_400) * 1000
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss 'GMT'", "EEEE, dd-MMM-yy HH:mm:ss 'GMT'", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: v.split(separator: " ", omittingEmptySubsequences: true)
                                            .joined(separator: " ")) {
                let ms = Int64((date.timeIntervalSince1970 * 1000).rounded()) - now.millisecondsSinceEpoch
                return min(max(0, ms), 86_400_000)
            }
        }
        return nil
    }

    static func urlEncode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+?#")))
            ?? s
    }

    /// `application/x-www-form-urlencoded`: unreserved characters as they are, space as `+`, the rest escaped.
    static func formEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            case UInt8(ascii: " "): out += "+"
            default: out += String(format: "%%%02X", b)
            }
        }
        return out
    }
}

/// The bodies webhooks get, byte for byte (golden files in the tests).
public enum WebhookPayload {
    /// The body for `format`: Slack `{"text"}`, a Teams Adaptive Card message, or crisis's own JSON.
    public static func body(_ format: TransportSpec.WebhookFormat, delivery: Delivery, incident: String,
                            recipients: [(id: String, person: Person?)]) -> [UInt8]
    {
        switch format {
        case .slack:
            // Slack reads &, < and > as markup: escaped, so a message cannot @-mention or link by accident.
            let text = delivery.text.replacingOccurrences(of: "&", with: "&amp;")
                .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            return encode(["text": text])
        case .teams:
            let card: [String: Any] = [
                "type": "message",
                "attachments": [[
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": [
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard", "version": "1.4",
                        "body": [["type": "TextBlock", "text": delivery.text, "wrap": true]],
                    ] as [String: Any],
                ] as [String: Any]],
            ]
            return encode(card)
        case .json:
            let people: [[String: Any]] = recipients.map { r in
                var o: [String: Any] = ["id": r.id]
                if let p = r.person {
                    o["name"] = p.name
                    if let a = p.channels.first(where: { $0.type == delivery.channel })?.address { o["address"] = a }
                }
                return o
            }
            return encode([
                "schema": "crisis-delivery/v1", "incident": incident, "key": delivery.key, "step": delivery.step,
                "purpose": delivery.purpose.rawValue, "channel": delivery.channel, "recipients": people,
                "text": delivery.text,
            ])
        }
    }

    /// `sha256=<lower-case hex HMAC-SHA256 of the body with the shared secret>`.
    public static func signature(_ body: [UInt8], secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    static func encode(_ object: Any) -> [UInt8] {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        return [UInt8](data)
    }
}

/// A plain-text e-mail (RFC 5322, MIME, base64 body so any text travels unchanged).
enum MailMessage {
    static func render(from: String, to: String, name: String, subject: String, text: String, key: String,
                       date: Instant) -> [UInt8]
    {
        let digest = SHA256.hash(data: Array(key.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
        let domain = from.split(separator: "@").last.map(String.init) ?? "crisis.invalid"
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let when = formatter.string(from: Date(timeIntervalSince1970: Double(date.millisecondsSinceEpoch) / 1000))
        let clean = { (s: String) in s.filter { $0 != "\r" && $0 != "\n" } }
        let body = Data(text.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn,
                                                                  .endLineWithLineFeed])
        let lines = [
            "From: <\(clean(from))>",
            "To: \(header(clean(name))) <\(clean(to))>",
            "Subject: \(header(clean(subject)))",
            "Date: \(when)",
            "Message-ID: <\(digest)@\(clean(domain))>",
            "X-Crisis-Delivery-Key: \(clean(key))",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
            body,
            "",
        ]
        return Array(lines.joined(separator: "\r\n").utf8)
    }

    /// An RFC 2047 encoded word when the text is not plain ASCII.
    static func header(_ s: String) -> String {
        if s.allSatisfy({ $0.isASCII && $0 != "=" && $0 != "?" && $0 != "\"" }) { return s }
        return "=?UTF-8?B?\(Data(s.utf8).base64EncodedString())?="
    }
}
