import Foundation
import Testing

/// A program the tests leave running (a local server): posix_spawn'd, its output to a file, killed on `stop`.
final class Background: @unchecked Sendable {
    let pid: pid_t
    let dir: URL

    init(_ argv: [String], dir: URL, environment extra: [String: String] = [:]) throws {
        self.dir = dir
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, dir.appendingPathComponent("server.log").path,
                                         O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var env = ProcessInfo.processInfo.environment
        for (k, v) in extra { env[k] = v }
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        let args: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer {
            for a in envp { free(a) }
            for a in args { free(a) }
        }
        var pid: pid_t = 0
        guard posix_spawn(&pid, argv[0], &actions, nil, args, envp) == 0 else {
            throw HarnessError("cannot start \(argv[0])")
        }
        self.pid = pid
    }

    /// The port the server wrote to DIR/port, waiting up to 20 s for it.
    func port() throws -> Int {
        let path = dir.appendingPathComponent("port").path
        _ = CLI.wait(20) { FileManager.default.fileExists(atPath: path) }
        guard let s = try? String(contentsOfFile: path, encoding: .utf8), let p = Int(s) else {
            let log = (try? String(contentsOf: dir.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
            throw HarnessError("the test server did not start: \(log)")
        }
        return p
    }

    private var stopped = false

    /// Kills it (once) and reaps it.
    func stop() {
        guard !stopped else { return }
        stopped = true
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }

    /// The JSON lines the server logged in `file`.
    func lines(_ file: String) -> [[String: Any]] {
        let text = (try? String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}

/// Live deliveries through `crisis-transports/v1` against real local servers: an HTTP server that checks payloads
/// and signatures and misbehaves on request, an SMTP server (aiosmtpd) that accepts or refuses, and a program for
/// the exec transport. Drills reach none of them.
@Suite(.serialized)
struct TransportTests {
    static let fixtures = CLI.root.appendingPathComponent("Tests/CrisisCLITests/Fixtures/transports")
    static let text = "Server room on fire & <everyone> out: \"call\" Kari"

    /// A one-step playbook that pages the lead on `channel` as it starts, and its contacts.
    func writePlaybook(_ cli: CLI, channel: String) throws -> (playbook: String, contacts: String) {
        let playbook = cli.dir.appendingPathComponent("page-\(channel).yaml").path
        try """
            schema: crisis-playbook/v1
            id: tx-test
            version: "1"
            title: Transport test
            timezone: Europe/Oslo
            languages: [en]
            roles:
              lead: {title: Lead, lead: true}
            steps:
              page:
                type: escalate
                title: Page the lead
                levels:
                  - {targets: ["role:lead"], ack_timeout: "1h", channels: [\(channel)]}
                message: '\(Self.text)'
                next: {acknowledged: done, exhausted: done}
              done: {type: end, title: Done, outcome: resolved}
            start: page

            """.write(toFile: playbook, atomically: true, encoding: .utf8)
        let contacts = cli.dir.appendingPathComponent("contacts.yaml").path
        try """
            schema: crisis-contacts/v1
            timezone: Europe/Oslo
            people:
              kari.lead:
                name: Kari Lead
                roles: [lead]
                channels:
                  - {type: sms, address: "+47 900 00 001"}
                  - {type: email, address: "\(emailAddress)"}
                  - {type: phone, address: "+47 900 00 009"}
                  - {type: slack, address: "@kari"}

            """.write(toFile: contacts, atomically: true, encoding: .utf8)
        return (playbook, contacts)
    }

    var emailAddress = "kari@example.test"

    func writeTransports(_ cli: CLI, _ yaml: String) throws -> String {
        let path = cli.dir.appendingPathComponent("transports.yaml").path
        try ("schema: crisis-transports/v1\n" + yaml).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func startHTTP(_ cli: CLI, secret: String = "") throws -> (Background, Int) {
        let dir = cli.dir.appendingPathComponent("http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let server = try Background(
            ["/usr/bin/env", "python3", Self.fixtures.appendingPathComponent("http_server.py").path, dir.path, "120"],
            dir: dir, environment: ["HOOK_SECRET": secret])
        return (server, try server.port())
    }

    /// Starts a live incident of the one-step playbook; returns its id and the run's result.
    func startLive(_ cli: CLI, channel: String, transports: String, env: [String: String] = [:]) throws
        -> (id: String, result: CLI.Result)
    {
        let (playbook, contacts) = try writePlaybook(cli, channel: channel)
        let r = try cli.run(["start", playbook, "--contacts", contacts, "--transports", transports], env: env)
        #expect(r.status == 0, "start failed: \(r.stderr)")
        return (r.lastLine, r)
    }

    /// The bodies of the incident's `action.outcome` records.
    func outcomes(_ cli: CLI) throws -> [[String: Any]] {
        let r = Spawn.run("/usr/bin/sqlite3", [cli.db, "SELECT CAST(record AS TEXT) FROM audit_event WHERE "
                                                + "event_type = 'action.outcome' ORDER BY seq"], capture: true)
        return r.stdout.split(separator: "\n").compactMap { line -> [String: Any]? in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return (o["body"] as? [String: Any]) ?? o
        }
    }

    func attempts(_ outcome: [String: Any]) -> [[String: Any]] { outcome["attempts"] as? [[String: Any]] ?? [] }

    // MARK: webhooks

    @Test("a Slack webhook gets the golden payload once, with the delivery key as Idempotency-Key; one attempt recorded")
    func slackGolden() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (server, port) = try startHTTP(cli)
        defer { server.stop() }
        let t = try writeTransports(cli, """
            transports:
              chat: {type: webhook, url: "http://127.0.0.1:\(port)/ok", format: slack}
            channels: {slack: chat}
            """)
        _ = try startLive(cli, channel: "slack", transports: t)
        let requests = server.lines("requests.jsonl")
        #expect(requests.count == 1)
        let body = try #require(requests.first?["body"] as? String)
        let golden = try String(contentsOf: Self.fixtures.appendingPathComponent("slack.golden.json"), encoding: .utf8)
        #expect(body == golden.trimmingCharacters(in: .newlines))
        let headers = requests.first?["headers"] as? [String: String] ?? [:]
        let outcome = try #require(try outcomes(cli).first)
        #expect(outcome["result"] as? String == "sent")
        #expect(headers["Idempotency-Key"] == outcome["key"] as? String)
        #expect(headers["Content-Type"] == "application/json")
        let a = attempts(outcome)
        #expect(a.count == 1)
        #expect(a.first?["status"] as? Int == 200)
        #expect(a.first?["n"] as? Int == 1)
    }

    @Test("a Teams webhook gets the golden Adaptive Card payload")
    func teamsGolden() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (server, port) = try startHTTP(cli)
        defer { server.stop() }
        let t = try writeTransports(cli, """
            transports:
              teams: {type: webhook, url: "http://127.0.0.1:\(port)/ok", format: teams}
            channels: {sms: teams}
            """)
        _ = try startLive(cli, channel: "sms", transports: t)
        let body = try #require(server.lines("requests.jsonl").first?["body"] as? String)
        let golden = try String(contentsOf: Self.fixtures.appendingPathComponent("teams.golden.json"), encoding: .utf8)
        #expect(body == golden.trimmingCharacters(in: .newlines))
    }

    @Test("a json webhook is signed with HMAC-SHA256 over the body; a wrong secret is refused (401) and not retried")
    func jsonSigned() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (server, port) = try startHTTP(cli, secret: "s3cret-shared-key")
        defer { server.stop() }
        let t = try writeTransports(cli, """
            secrets:
              HOOK: {env: TEST_HOOK_SECRET}
            transports:
              hook: {type: webhook, url: "http://127.0.0.1:\(port)/signed", format: json, secret: "{{secret:HOOK}}",
                     backoff: 50ms, deadline: 2s}
            channels: {sms: hook}
            """)
        _ = try startLive(cli, channel: "sms", transports: t, env: ["TEST_HOOK_SECRET": "s3cret-shared-key"])
        var requests = server.lines("requests.jsonl")
        #expect(requests.count == 1)
        #expect(requests.first?["signature_ok"] as? Bool == true)
        let payload = try #require(try JSONSerialization.jsonObject(
            with: Data((requests.first?["body"] as? String ?? "").utf8)) as? [String: Any])
        #expect(payload["text"] as? String == Self.text)
        #expect(payload["schema"] as? String == "crisis-delivery/v1")
        #expect(try outcomes(cli).first?["result"] as? String == "sent")

        // The same file with the wrong secret: 401, a client error, so one attempt and failed.
        let cli2 = try CLI()
        defer { cli2.remove() }
        let t2 = try writeTransports(cli2, try String(contentsOfFile: t, encoding: .utf8)
            .replacingOccurrences(of: "schema: crisis-transports/v1\n", with: ""))
        _ = try startLive(cli2, channel: "sms", transports: t2, env: ["TEST_HOOK_SECRET": "wrong-key"])
        requests = server.lines("requests.jsonl")
        #expect(requests.count == 2)
        #expect(requests.last?["signature_ok"] as? Bool == false)
        let outcome = try #require(try outcomes(cli2).first)
        #expect(outcome["result"] as? String == "failed")
        #expect(attempts(outcome).count == 1)
        #expect(attempts(outcome).first?["status"] as? Int == 401)
        // The secret is nowhere in the trail.
        let trail = Spawn.run("/usr/bin/sqlite3", [cli2.db, "SELECT CAST(record AS TEXT) FROM audit_event"],
                              capture: true).stdout
        #expect(!trail.contains("wrong-key"))
    }

    // MARK: faults

    /// Runs one delivery through an http transport at `path` and returns the server's requests and the outcome.
    /// `check` runs on the incident before its folder goes.
    func fault(_ path: String, retry: String, check: ((CLI, String) throws -> Void)? = nil) throws
        -> (requests: [[String: Any]], outcome: [String: Any])
    {
        let cli = try CLI()
        defer { cli.remove() }
        let (server, port) = try startHTTP(cli)
        defer { server.stop() }
        let t = try writeTransports(cli, """
            secrets:
              SMS_TOKEN: {env: TEST_SMS_TOKEN}
            transports:
              sms:
                type: http
                method: POST
                url: "http://127.0.0.1:\(port)\(path)"
                form: {to: "{{to}}", text: "{{text}}"}
                headers: {Authorization: "Bearer {{secret:SMS_TOKEN}}"}
                \(retry)
            channels: {sms: sms}
            """)
        let (id, _) = try startLive(cli, channel: "sms", transports: t, env: ["TEST_SMS_TOKEN": "tok-123456"])
        try check?(cli, id)
        let outcome = try #require(try outcomes(cli).first)
        let trail = Spawn.run("/usr/bin/sqlite3", [cli.db, "SELECT CAST(record AS TEXT) FROM audit_event"],
                              capture: true).stdout
        #expect(!trail.contains("tok-123456"), "the secret leaked into the trail")
        return (server.lines("requests.jsonl"), outcome)
    }

    @Test("http form with the recipient's address, a secret header and Idempotency-Key; 200 is sent at once")
    func httpForm() throws {
        let (requests, outcome) = try fault("/ok", retry: "deadline: 5s")
        #expect(requests.count == 1)
        let r = try #require(requests.first)
        #expect(r["body"] as? String == "to=%2B47+900+00+001&text=Server+room+on+fire+%26+%3Ceveryone%3E+out%3A+%22call%22+Kari")
        let headers = r["headers"] as? [String: String] ?? [:]
        #expect(headers["Authorization"] == "Bearer tok-123456")
        #expect(headers["Content-Type"] == "application/x-www-form-urlencoded")
        #expect(headers["Idempotency-Key"] == outcome["key"] as? String)
        #expect(outcome["result"] as? String == "sent")
        #expect(attempts(outcome).first?["to"] as? String == "kari.lead")
    }

    @Test("500 every time: retried with growing jittered backoff until the deadline, then failed; same key each time")
    func always500() throws {
        let (requests, outcome) = try fault("/status/500", retry: "backoff: 100ms\n    deadline: 2s")
        let a = attempts(outcome)
        #expect(outcome["result"] as? String == "failed")
        #expect(a.count >= 3 && a.count <= 6, "attempts: \(a.count)")
        #expect(requests.count == a.count)
        #expect(Set(requests.compactMap { ($0["headers"] as? [String: String])?["Idempotency-Key"] }).count == 1)
        for (i, x) in a.enumerated() {
            #expect(x["status"] as? Int == 500)
            #expect(x["n"] as? Int == i + 1)
            #expect(x["reply"] as? String == "error from the test server")
            if i < a.count - 1 {
                // Nominal 100 ms doubling each time, jittered between half and all of it.
                let nominal = 100 << i
                let b = try #require(x["backoff_ms"] as? Int)
                #expect(b >= nominal / 2 && b <= nominal, "backoff \(i + 1): \(b) ms")
            } else {
                #expect(x["backoff_ms"] == nil)
            }
        }
        #expect((outcome["detail"] as? String ?? "").contains("gave up at the channel's deadline (2s)"))
    }

    @Test("500 twice then 200: sent on the third attempt")
    func flaky() throws {
        let (requests, outcome) = try fault("/flaky/2", retry: "backoff: 50ms\n    deadline: 10s")
        #expect(requests.count == 3)
        #expect(outcome["result"] as? String == "sent")
        #expect(attempts(outcome).map { $0["status"] as? Int } == [500, 500, 200])
    }

    @Test("400: a client error is not retried")
    func clientError() throws {
        let (requests, outcome) = try fault("/status/400", retry: "backoff: 50ms\n    deadline: 5s")
        #expect(requests.count == 1)
        #expect(outcome["result"] as? String == "failed")
        #expect((outcome["detail"] as? String ?? "").contains("HTTP 400 after 1 attempt: not retried"))
    }

    @Test("a server that hangs: each attempt cut at attempt_timeout, retried until the deadline, failed")
    func hang() throws {
        let (requests, outcome) = try fault("/hang", retry: "attempt_timeout: 400ms\n    backoff: 50ms\n    deadline: 1500ms")
        let a = attempts(outcome)
        #expect(outcome["result"] as? String == "failed")
        #expect(a.count >= 2 && a.count <= 4, "attempts: \(a.count)")
        #expect(requests.count == a.count)
        for x in a {
            #expect(x["status"] == nil)
            #expect((x["error"] as? String ?? "").lowercased().contains("timeout")
                    || (x["error"] as? String ?? "").lowercased().contains("timed out"))
            let latency = x["latency_ms"] as? Int ?? 0
            #expect(latency >= 100 && latency < 1_500, "latency \(latency)")
        }
    }

    @Test("a server that closes the connection: recorded as an error, retried, failed at the deadline")
    func closes() throws {
        let (requests, outcome) = try fault("/close", retry: "backoff: 100ms\n    deadline: 1s")
        let a = attempts(outcome)
        #expect(outcome["result"] as? String == "failed")
        #expect(a.count >= 2)
        #expect(requests.count == a.count)
        #expect(a.allSatisfy { $0["status"] == nil && ($0["error"] as? String) != nil })
    }

    @Test("a slow reply within the attempt timeout is sent, its latency recorded")
    func slow() throws {
        let (_, outcome) = try fault("/slow/600", retry: "attempt_timeout: 3s")
        #expect(outcome["result"] as? String == "sent")
        let latency = try #require(attempts(outcome).first?["latency_ms"] as? Int)
        #expect(latency >= 550)
    }

    @Test("a huge non-UTF-8 body does not break anything")
    func bigBody() throws {
        let (_, outcome) = try fault("/bigbody", retry: "deadline: 5s")
        #expect(outcome["result"] as? String == "sent")
    }

    @Test("an error answer with a huge body that is not UTF-8: capped and noted; the incident goes on")
    func bigErrorBody() throws {
        let (requests, outcome) = try fault("/bigerror/400", retry: "deadline: 5s") { cli, id in
            #expect(try cli.run(["verify", id]).status == 0)
            let status = try cli.run(["status", id])
            #expect(status.status == 0, "\(status.stderr)")
            let log = try cli.run(["log", id]).stdout
            #expect(log.contains("outcome failed") && log.contains("HTTP 400 after 1 attempt: not retried"), "\(log)")
        }
        #expect(requests.count == 1)
        #expect(outcome["result"] as? String == "failed")
        let a = try #require(attempts(outcome).first)
        #expect(a["status"] as? Int == 400)
        // 1 MiB was sent; 64 KiB were kept, and none of it is in the record.
        #expect(a["reply"] as? String == "(a body of at least 65536 bytes that is not UTF-8 text)")
    }

    // MARK: Retry-After

    /// One delivery through a slack webhook at `path`: the server's requests and the outcome.
    func hook(_ path: String, retry: String) throws -> (requests: [[String: Any]], outcome: [String: Any]) {
        let cli = try CLI()
        defer { cli.remove() }
        let (server, port) = try startHTTP(cli)
        defer { server.stop() }
        let t = try writeTransports(cli, """
            transports:
              chat: {type: webhook, url: "http://127.0.0.1:\(port)\(path)", format: slack, \(retry)}
            channels: {slack: chat}
            """)
        _ = try startLive(cli, channel: "slack", transports: t)
        return (server.lines("requests.jsonl"), try #require(try outcomes(cli).first))
    }

    /// Seconds between the server's first and second request.
    func gap(_ requests: [[String: Any]]) throws -> Double {
        try #require(requests.count >= 2)
        return (requests[1]["t"] as? Double ?? 0) - (requests[0]["t"] as? Double ?? 0)
    }

    @Test("http 503 with Retry-After: 1: the next attempt a second later, not after the backoff; recorded")
    func retryAfterSeconds() throws {
        let (requests, outcome) = try fault("/retry/503/1/1", retry: "backoff: 50ms\n    deadline: 10s")
        #expect(outcome["result"] as? String == "sent")
        let a = attempts(outcome)
        #expect(a.map { $0["status"] as? Int } == [503, 200])
        #expect(a.first?["backoff_ms"] as? Int == 1000)
        #expect(requests.count == 2)
        let g = try gap(requests)
        #expect(g >= 0.95, "the second attempt came \(g) s after the first")
    }

    @Test("webhook 429 with Retry-After as an HTTP date 2 s ahead: waited until then (1-2 s), then sent")
    func retryAfterDate() throws {
        let (requests, outcome) = try hook("/retry-date/429/2/1", retry: "backoff: 50ms, deadline: 10s")
        #expect(outcome["result"] as? String == "sent")
        let a = attempts(outcome)
        #expect(a.map { $0["status"] as? Int } == [429, 200])
        let b = try #require(a.first?["backoff_ms"] as? Int)
        #expect(b >= 900 && b <= 2000, "backoff \(b) ms")
        let g = try gap(requests)
        #expect(g >= 0.85, "the second attempt came \(g) s after the first")
    }

    @Test("Retry-After past the channel's deadline: failed at once after one attempt, saying why")
    func retryAfterPastDeadline() throws {
        let started = Date()
        let (requests, outcome) = try hook("/retry/503/60/99", retry: "backoff: 50ms, deadline: 5s")
        #expect(Date().timeIntervalSince(started) < 30, "it waited")
        #expect(requests.count == 1)
        #expect(outcome["result"] as? String == "failed")
        let a = attempts(outcome)
        #expect(a.count == 1)
        #expect(a.first?["backoff_ms"] == nil)
        let detail = outcome["detail"] as? String ?? ""
        #expect(detail.contains("HTTP 503 after 1 attempt"), "\(detail)")
        #expect(detail.contains("the server asked to wait 60.0 s (Retry-After), past the channel's deadline (5s): "
                                + "gave up"), "\(detail)")
    }

    @Test("Retry-After on a 500 is not the server asking to wait: the computed backoff applies")
    func retryAfterOnlyFor429And503() throws {
        let (requests, outcome) = try fault("/retry/500/5/1", retry: "backoff: 50ms\n    deadline: 10s")
        #expect(outcome["result"] as? String == "sent")
        #expect(requests.count == 2)
        let b = try #require(attempts(outcome).first?["backoff_ms"] as? Int)
        #expect(b <= 50, "backoff \(b) ms")
    }

    @Test("crisis watch drives the outbox: a page caused by a due timer reaches the server with nobody typing")
    func watchSends() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (server, port) = try startHTTP(cli)
        defer { server.stop() }
        let t = try writeTransports(cli, """
            transports:
              chat: {type: webhook, url: "http://127.0.0.1:\(port)/ok", format: slack}
            channels: {slack: chat}
            """)
        let playbook = cli.dir.appendingPathComponent("two-levels.yaml").path
        try """
            schema: crisis-playbook/v1
            id: tx-watch
            version: "1"
            title: Watch sends
            timezone: Europe/Oslo
            languages: [en]
            roles:
              lead: {title: Lead, lead: true}
            steps:
              page:
                type: escalate
                title: Page the lead
                levels:
                  - {targets: ["role:lead"], ack_timeout: "1s", channels: [slack]}
                  - {targets: ["role:lead"], ack_timeout: "1h", channels: [slack]}
                message: 'Second page'
                next: {acknowledged: done, exhausted: done}
              done: {type: end, title: Done, outcome: resolved}
            start: page

            """.write(toFile: playbook, atomically: true, encoding: .utf8)
        let (_, contacts) = try writePlaybook(cli, channel: "slack")
        let r = try cli.run(["start", playbook, "--contacts", contacts, "--transports", t])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(server.lines("requests.jsonl").count == 1)
        let watch = try Background([CLI.binary, "watch", "--db", cli.db, "--poll", "0.2", "--transports", t],
                                   dir: cli.dir, environment: ["NO_COLOR": "1"])
        defer { watch.stop() }
        // The watcher queues what its timer causes, claims it, sends it on its own thread, records the result.
        let done = try CLI.wait(20) { try outcomes(cli).count >= 4 }
        #expect(done, "the watcher did not send the second page")
        watch.stop()
        #expect(server.lines("requests.jsonl").count == 2)
        #expect(try outcomes(cli).map { $0["result"] as? String } == ["sent", "queued", "sending", "sent"])
    }

    // MARK: drills

    @Test("a drill with transports configured makes zero requests; a live incident on the same config makes one")
    func drillsNeverDeliver() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (server, port) = try startHTTP(cli)
        defer { server.stop() }
        let t = try writeTransports(cli, """
            transports:
              chat: {type: webhook, url: "http://127.0.0.1:\(port)/ok", format: slack}
              sms: {type: http, url: "http://127.0.0.1:\(port)/ok", form: {to: "{{to}}"}}
            channels: {slack: chat, sms: sms}
            """)
        for channel in ["slack", "sms"] {
            let (playbook, contacts) = try writePlaybook(cli, channel: channel)
            let r = try cli.run(["start", playbook, "--contacts", contacts, "--drill"],
                                env: ["CRISIS_TRANSPORTS": t])
            #expect(r.status == 0, "\(r.stderr)")
            _ = try cli.run(["tick", r.lastLine, "--advance", "2h"], env: ["CRISIS_TRANSPORTS": t])
        }
        #expect(server.lines("requests.jsonl").isEmpty, "a drill reached the server")
        #expect(try outcomes(cli).allSatisfy { $0["result"] as? String == "sandboxed" })
        _ = try startLive(cli, channel: "slack", transports: t)
        #expect(server.lines("requests.jsonl").count == 1)
    }

    // MARK: SMTP

    func startSMTP(_ cli: CLI, environment: [String: String] = [:]) throws -> (Background, Int)? {
        guard Spawn.run("/usr/bin/env", ["python3", "-c", "import aiosmtpd"]).status == 0 else { return nil }
        let dir = cli.dir.appendingPathComponent("smtp")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let server = try Background(
            ["/usr/bin/env", "python3", Self.fixtures.appendingPathComponent("smtp_server.py").path, dir.path, "120"],
            dir: dir, environment: environment)
        return (server, try server.port())
    }

    func smtp(_ address: String, retry: String = "backoff: 50ms\n    deadline: 2s")
        throws -> (messages: [[String: Any]], outcome: [String: Any])?
    {
        var cli = try CLI()
        defer { cli.remove() }
        guard let (server, port) = try startSMTP(cli) else { return nil }
        defer { server.stop() }
        cli.env["SMTP_PASSWORD"] = "unused"
        var test = self
        test.emailAddress = address
        let t = try writeTransports(cli, """
            transports:
              mail:
                type: smtp
                host: 127.0.0.1
                port: \(port)
                starttls: false
                from: crisis@example.test
                \(retry)
            channels: {email: mail}
            """)
        _ = try test.startLive(cli, channel: "email", transports: t)
        return (server.lines("messages.jsonl"), try #require(try outcomes(cli).first))
    }

    @Test("SMTP: the message arrives with the recipient, subject, text and delivery key")
    func smtpSent() throws {
        guard let (messages, outcome) = try smtp("kari@example.test") else { return }
        #expect(outcome["result"] as? String == "sent")
        let m = try #require(messages.first { $0["answer"] as? Int == 250 && $0["text"] != nil })
        #expect(m["rcpt_tos"] as? [String] == ["kari@example.test"])
        #expect(m["mail_from"] as? String == "crisis@example.test")
        #expect((m["to"] as? String ?? "").contains("kari@example.test"))
        #expect(m["subject"] as? String == "[\(outcome["key"].map { "\($0)" }?.split(separator: "/").first ?? "")] \(Self.text)")
        #expect((m["text"] as? String)?.trimmingCharacters(in: .newlines) == Self.text)
        #expect(m["key"] as? String == outcome["key"] as? String)
        #expect(attempts(outcome).first?["status"] as? Int == 250)
    }

    @Test("SMTP 550: refused for good after one attempt")
    func smtpRejected() throws {
        guard let (messages, outcome) = try smtp("reject@example.test") else { return }
        #expect(outcome["result"] as? String == "failed")
        #expect(attempts(outcome).count == 1)
        #expect(attempts(outcome).first?["status"] as? Int == 550)
        #expect(messages.count == 1)
    }

    @Test("SMTP 451: retried until the deadline, then failed; 451 twice then accepted: sent")
    func smtpTemporary() throws {
        guard let (messages, outcome) = try smtp("later@example.test", retry: "backoff: 100ms\n    deadline: 1s")
        else { return }
        #expect(outcome["result"] as? String == "failed")
        let a = attempts(outcome)
        #expect(a.count >= 2)
        #expect(a.allSatisfy { $0["status"] as? Int == 451 })
        #expect(messages.count == a.count)
        guard let (m2, o2) = try smtp("flaky@example.test", retry: "backoff: 50ms\n    deadline: 5s") else { return }
        #expect(o2["result"] as? String == "sent")
        #expect(attempts(o2).map { $0["status"] as? Int } == [451, 451, 250])
        #expect(m2.filter { $0["text"] != nil }.count == 1)
    }

    @Test("SMTP with STARTTLS (a certificate trusted through ca_file) and AUTH: sent; the password is not in the trail")
    func smtpStartTLS() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let cert = cli.dir.appendingPathComponent("cert.pem").path
        let key = cli.dir.appendingPathComponent("key.pem").path
        let made = Spawn.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                                                  "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                                                  "-addext", "subjectAltName=IP:127.0.0.1"])
        guard made.status == 0 else { return }
        guard let (server, port) = try startSMTP(cli, environment: [
            "SMTP_TLS_CERT": cert, "SMTP_TLS_KEY": key, "SMTP_USER": "robot", "SMTP_PASS": "pa55-word-xyz",
        ]) else { return }
        defer { server.stop() }
        let t = try writeTransports(cli, """
            transports:
              mail:
                type: smtp
                host: 127.0.0.1
                port: \(port)
                starttls: true
                ca_file: \(cert)
                from: crisis@example.test
                user: "{{secret:TEST_SMTP_USER}}"
                password: "{{secret:TEST_SMTP_PASSWORD}}"
                deadline: 3s
            channels: {email: mail}
            """)
        _ = try startLive(cli, channel: "email", transports: t,
                          env: ["TEST_SMTP_USER": "robot", "TEST_SMTP_PASSWORD": "pa55-word-xyz"])
        let outcome = try #require(try outcomes(cli).first)
        #expect(outcome["result"] as? String == "sent", "\(outcome)")
        let log = server.lines("messages.jsonl")
        #expect(log.contains { $0["auth"] != nil && $0["ok"] as? Bool == true && $0["tls"] as? Bool == true }, "\(log)")
        #expect(log.contains { ($0["text"] as? String)?.contains("Server room on fire") == true })
        let trail = Spawn.run("/usr/bin/sqlite3", [cli.db, "SELECT CAST(record AS TEXT) FROM audit_event"],
                              capture: true).stdout
        #expect(!trail.contains("pa55-word-xyz"))
    }

    // MARK: exec

    /// One page through the exec transport: the program's log, the outcome, and the program's whole environment.
    /// `env` is extra YAML in the transport's `env:` map; `parent` is set in crisis's own environment.
    func exec(_ exit: String, retry: String = "backoff: 50ms\n    deadline: 3s", env extra: String = "",
              parent: [String: String] = [:]) throws -> (log: String, outcome: [String: Any], env: [String: String])
    {
        let cli = try CLI()
        defer { cli.remove() }
        let log = cli.dir.appendingPathComponent("pages.log").path
        let t = try writeTransports(cli, """
            transports:
              pager:
                type: exec
                command: ["\(Self.fixtures.appendingPathComponent("page-someone").path)", "{{to}}"]
                env: {PAGE_LOG: "\(log)", PAGE_EXIT: "\(exit)"\(extra)}
                \(retry)
            channels: {phone: pager}
            """)
        _ = try startLive(cli, channel: "phone", transports: t, env: parent)
        let dump = (try? String(contentsOfFile: log + ".env", encoding: .utf8)) ?? ""
        var env: [String: String] = [:]
        for line in dump.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            env[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "", try #require(try outcomes(cli).first), env)
    }

    @Test("exec: the message on standard input, the address as argument and in the environment; exit 0 is sent")
    func execSent() throws {
        let (log, outcome, _) = try exec("0")
        #expect(outcome["result"] as? String == "sent")
        #expect(log.contains("call 1 to=+47 900 00 009 name=Kari Lead channel=phone key=\(outcome["key"] as? String ?? "?") arg=+47 900 00 009"))
        #expect(log.contains(Self.text))
        #expect(attempts(outcome).first?["reply"] as? String == "paged +47 900 00 009")
    }

    @Test("exec: 75 is temporary (retried: sent on the third call); any other status fails at once")
    func execStatuses() throws {
        let (log, outcome, _) = try exec("flaky")
        #expect(outcome["result"] as? String == "sent")
        #expect(attempts(outcome).map { $0["status"] as? Int } == [75, 75, 0])
        #expect(log.contains("call 3"))
        let (log2, o2, _) = try exec("3")
        #expect(o2["result"] as? String == "failed")
        #expect(attempts(o2).count == 1)
        #expect(!log2.contains("call 2"))
    }

    @Test("exec: the program gets a minimal environment, the message's CRISIS_* and only the variables it names")
    func execEnvironment() throws {
        let parent = ["AWS_SECRET_ACCESS_KEY": "aws-leak-0123456789", "PAGER_TOKEN": "pager-tok-98765",
                      "CRISIS_TRANSPORTS_LEAK": "crisis-leak-1", "LANG": "C.UTF-8", "TZ": "Europe/Oslo"]
        // PAGER_TOKEN named (a secret from the environment variable of that name), the rest not.
        let (_, outcome, env) = try exec("0", env: ", PAGER_TOKEN: \"{{secret:PAGER_TOKEN}}\", GREETING: \"hi {{name}}\"",
                                         parent: parent)
        #expect(outcome["result"] as? String == "sent")
        #expect(env["PAGER_TOKEN"] == "pager-tok-98765")
        #expect(env["GREETING"] == "hi Kari Lead")
        #expect(env["AWS_SECRET_ACCESS_KEY"] == nil, "a variable the transport does not name reached the program")
        #expect(env["CRISIS_TRANSPORTS_LEAK"] == nil)
        #expect(env["CRISIS_OPERATOR"] == nil, "crisis's own CRISIS_ variables are not the message's")
        #expect(env["CRISIS_TO"] == "+47 900 00 009")
        #expect(env["CRISIS_DELIVERY_KEY"] == outcome["key"] as? String)
        #expect(env["CRISIS_INCIDENT"]?.isEmpty == false)
        #expect(env["LANG"] == "C.UTF-8")
        #expect(env["TZ"] == "Europe/Oslo")
        #expect(env["PATH"]?.isEmpty == false)
        #expect(env["HOME"] == ProcessInfo.processInfo.environment["HOME"])
        let expected: Set<String> = ["PATH", "HOME", "LANG", "TZ", "PAGE_LOG", "PAGE_EXIT", "PAGER_TOKEN", "GREETING",
                                     "CRISIS_TO", "CRISIS_NAME", "CRISIS_CHANNEL", "CRISIS_DELIVERY_KEY",
                                     "CRISIS_INCIDENT", "CRISIS_PURPOSE", "CRISIS_STEP"]
        // The shell adds its own few (PWD, SHLVL, _); LC_ALL only when crisis has it.
        let shell: Set<String> = ["PWD", "OLDPWD", "SHLVL", "_", "LC_ALL"]
        #expect(Set(env.keys).subtracting(expected).subtracting(shell).isEmpty,
                "unexpected: \(Set(env.keys).subtracting(expected).subtracting(shell).sorted())")
        // The same page without naming it: the token stays out.
        let (_, o2, env2) = try exec("0", parent: parent)
        #expect(o2["result"] as? String == "sent")
        #expect(env2["CRISIS_TO"] == "+47 900 00 009")
        #expect(env2["PAGER_TOKEN"] == nil)
    }

    @Test("exec: env names are checked (no CRISIS_ ones, no bad names), a missing secret in env names its line")
    func execEnvBadNames() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let t = try writeTransports(cli, """
            transports:
              pager:
                type: exec
                command: ["/bin/true"]
                env: {CRISIS_TO: x, 9LIVES: y, OK_NAME: "{{secret:NO_SUCH_TOKEN}}"}
            channels: {phone: pager}
            """)
        let r = try cli.run(["transports", "check", "--transports", t], withDB: false, env: ["NO_SUCH_TOKEN": ""])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(t):6:11: error: 'CRISIS_TO' is crisis's own"), "\(r.stderr)")
        #expect(r.stderr.contains("\(t):6:25: error: '9LIVES' is not an environment variable name"), "\(r.stderr)")
        #expect(r.stderr.contains("\(t):6:45: error: secret 'NO_SUCH_TOKEN' is missing"), "\(r.stderr)")
    }

    @Test("exec: a megabyte of output that is not UTF-8, with control characters: sent, a short clean reply")
    func execNoisyOutput() throws {
        let (_, outcome, _) = try exec("noisy")
        #expect(outcome["result"] as? String == "sent")
        let reply = try #require(attempts(outcome).first?["reply"] as? String)
        #expect(reply.count <= 200)
        #expect(reply.hasPrefix("[31m"), "\(reply.debugDescription)")
        #expect(!reply.unicodeScalars.contains { $0.properties.generalCategory == .control }, "\(reply.debugDescription)")
    }

    // MARK: bad input

    @Test("transports check names the file and line of each problem")
    func checkBadFile() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let t = try writeTransports(cli, """
            transports:
              chat: {type: webhok, url: "https://hooks.example/x"}
              sms: {type: http, url: "not a url", headers: {Authorization: "Bearer {{secret:NO_SUCH_SECRET}}"}}
              mail: {type: smtp, host: smtp.example, from: a@example.test}
            channels: {slack: chat, sms: sms, email: nowhere, phone: mail}
            """)
        let r = try cli.run(["transports", "check", "--transports", t], withDB: false, env: ["NO_SUCH_SECRET": ""])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(t):3:16: error: unknown transport type 'webhok' (did you mean 'webhook'?)"), "\(r.stderr)")
        #expect(r.stderr.contains("\(t):4:26: error: invalid URL 'not a url'"), "\(r.stderr)")
        #expect(r.stderr.contains("\(t):4:64: error: secret 'NO_SUCH_SECRET' is missing"), "\(r.stderr)")
        #expect(r.stderr.contains("\(t):6:19: error: channel 'slack' is mapped to 'chat', whose definition has errors"), "\(r.stderr)")
        #expect(r.stderr.contains("\(t):6:42: error: channel 'email' is mapped to 'nowhere', which is no transport in this file (transports: chat, mail, sms)"), "\(r.stderr)")
        #expect(!r.stdout.contains("->"), "a broken file lists no routes")
    }

    @Test("transports check on a good file lists the routes; --send-test sends one message")
    func checkAndSendTest() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (server, port) = try startHTTP(cli)
        defer { server.stop() }
        let t = try writeTransports(cli, """
            transports:
              sms: {type: http, url: "http://127.0.0.1:\(port)/ok", json: {to: "{{to}}", message: "{{text}}"}}
            channels:
              sms: {transport: sms, deadline: 30s}
            """)
        var r = try cli.run(["transports", "check", "--transports", t], withDB: false)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("sms -> sms (http POST)  deadline 30s"), "\(r.stdout)")
        #expect(server.lines("requests.jsonl").isEmpty)
        r = try cli.run(["transports", "check", "--transports", t, "--send-test", "sms", "--to", "+47 123"],
                        withDB: false)
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("sent: sent by sms (http)"), "\(r.stdout)")
        let body = try #require(server.lines("requests.jsonl").first?["body"] as? String)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: String])
        #expect(json["to"] == "+47 123")
    }

    @Test("a recipient with no address on the channel: the delivery fails saying who and which channel")
    func noAddress() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (server, port) = try startHTTP(cli)
        defer { server.stop() }
        let t = try writeTransports(cli, """
            transports:
              signal: {type: http, url: "http://127.0.0.1:\(port)/ok", form: {to: "{{to}}"}}
            channels: {signal: signal}
            """)
        _ = try startLive(cli, channel: "signal", transports: t)
        let outcome = try #require(try outcomes(cli).first)
        #expect(outcome["result"] as? String == "failed")
        #expect((outcome["detail"] as? String ?? "").contains("Kari Lead (kari.lead) has no address on channel 'signal'"))
        #expect(server.lines("requests.jsonl").isEmpty)
    }

    @Test("of two people paged, one without an address on the channel: the other is sent; the incident goes on")
    func oneOfTwoWithoutAddress() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (server, port) = try startHTTP(cli)
        defer { server.stop() }
        let t = try writeTransports(cli, """
            transports:
              sms: {type: http, url: "http://127.0.0.1:\(port)/ok", form: {to: "{{to}}"}}
            channels: {sms: sms}
            """)
        let (playbook, contacts) = try writePlaybook(cli, channel: "sms")
        try String(contentsOfFile: playbook, encoding: .utf8)
            .replacingOccurrences(of: "targets: [\"role:lead\"]", with: "targets: [kari.lead, ola.deputy]")
            .write(toFile: playbook, atomically: true, encoding: .utf8)
        try """
            schema: crisis-contacts/v1
            timezone: Europe/Oslo
            people:
              kari.lead:
                name: Kari Lead
                roles: [lead]
                channels: [{type: sms, address: "+47 900 00 001"}]
              ola.deputy:
                name: Ola Deputy
                roles: [lead]
                channels: [{type: email, address: "ola@example.test"}]

            """.write(toFile: contacts, atomically: true, encoding: .utf8)
        let r = try cli.run(["start", playbook, "--contacts", contacts, "--transports", t])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(server.lines("requests.jsonl").map { $0["body"] as? String } == ["to=%2B47+900+00+001"])
        let all = try outcomes(cli)
        #expect(all.count == 2)
        let kari = try #require(all.first { ($0["detail"] as? String ?? "").contains("kari.lead") })
        #expect(kari["result"] as? String == "sent")
        let ola = try #require(all.first { ($0["detail"] as? String ?? "").contains("ola.deputy") })
        #expect(ola["result"] as? String == "failed")
        #expect((ola["detail"] as? String ?? "").contains("Ola Deputy (ola.deputy) has no address on channel 'sms' "
                                                          + "in the contacts directory"), "\(ola)")
        #expect(ola["attempts"] == nil)
        #expect(try cli.run(["status", r.lastLine]).status == 0)
        #expect(try cli.run(["verify", r.lastLine]).status == 0)
    }

    @Test("a playbook channel the file does not route is handed to a person; nothing reaches the server")
    func unroutedChannelIsManual() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (server, port) = try startHTTP(cli)
        defer { server.stop() }
        let t = try writeTransports(cli, """
            transports:
              chat: {type: webhook, url: "http://127.0.0.1:\(port)/ok", format: slack}
            channels: {slack: chat}
            """)
        let (id, _) = try startLive(cli, channel: "sms", transports: t)
        let outcome = try #require(try outcomes(cli).first)
        #expect(outcome["result"] as? String == "manual")
        #expect(outcome["attempts"] == nil)
        #expect(server.lines("requests.jsonl").isEmpty)
        let d = try cli.run(["deliveries", id])
        #expect(d.stdout.contains("+47 900 00 001"), "\(d.stdout)")
    }

    @Test("a broken transports file does not stop the incident: its deliveries are handed to a person, saying why")
    func brokenFileHandsToPerson() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let t = try writeTransports(cli, "transports:\n  chat: {type: carrier-pigeon}\nchannels: {slack: chat}\n")
        let (id, r) = try startLive(cli, channel: "slack", transports: t)
        #expect(r.stderr.contains("\(t):3:16: error: unknown transport type 'carrier-pigeon'"), "\(r.stderr)")
        let outcome = try #require(try outcomes(cli).first)
        #expect(outcome["result"] as? String == "manual")
        #expect((outcome["detail"] as? String ?? "").contains("transports file not usable"))
        let d = try cli.run(["deliveries", id])
        #expect(d.stdout.contains("send by hand"))
    }

    // MARK: the documented file

    /// The example in docs/transports.md.
    func documentedExample() throws -> String {
        let doc = try String(contentsOf: CLI.root.appendingPathComponent("docs/transports.md"), encoding: .utf8)
        let start = try #require(doc.range(of: "```yaml\nschema: crisis-transports/v1"))
        let end = try #require(doc[start.upperBound...].range(of: "```"))
        return String(doc[doc.index(start.lowerBound, offsetBy: 8)..<end.lowerBound])
    }

    @Test("the documented example passes 'transports check' (secrets set) and docs/transports.schema.json")
    func documentedFile() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let path = cli.dir.appendingPathComponent("doc.yaml").path
        try documentedExample().write(toFile: path, atomically: true, encoding: .utf8)
        let env = ["SMS_TOKEN": "t", "CRISIS_HOOK_KEY": "k", "SMTP_USER": "u", "SMTP_PASSWORD": "p", "PAGER_TOKEN": "g"]
        let r = try cli.run(["transports", "check", "--transports", path], withDB: false, env: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("email -> mail (smtp smtp.example:587, starttls)  deadline 30m"), "\(r.stdout)")
        let missing = try cli.run(["transports", "check", "--transports", path], withDB: false,
                                  env: env.merging(["SMS_TOKEN": ""]) { $1 })
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("\(path):10:"), "\(missing.stderr)")
        #expect(missing.stderr.contains("environment variable SMS_TOKEN (secrets: SMS_TOKEN) is not set"), "\(missing.stderr)")
        let script = """
            import json, sys
            try:
                import jsonschema, yaml
            except ImportError as e:
                print("SKIP", e); sys.exit(0)
            v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1] + "/docs/transports.schema.json")))
            v.check_schema(v.schema)
            doc = yaml.safe_load(open(sys.argv[2]))
            print("doc", [e.message for e in v.iter_errors(doc)] or "ok")
            env = dict(doc["transports"]["pager"]["env"])
            doc["transports"]["pager"]["env"] = {"CRISIS_TO": "x"}
            print("env", len(list(v.iter_errors(doc))) == 1 and "refused")
            doc["transports"]["pager"]["env"] = env
            doc["transports"]["pager"]["command"] = ["page-someone"]
            doc["transports"]["chat"]["type"] = "carrier"
            print("bad", len(list(v.iter_errors(doc))) >= 2 and "refused")
            """
        let py = Spawn.run("/usr/bin/env", ["python3", "-c", script, CLI.root.path, path], capture: true)
        #expect(py.status == 0, "\(py.stdout)")
        if py.stdout.hasPrefix("SKIP") { return }
        #expect(py.stdout == "doc ok\nenv refused\nbad refused\n", "\(py.stdout)")
    }

    // MARK: crash

    @Test("kill -9 during a send leaves the delivery in doubt, and nothing sends it again")
    func killDuringSend() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (server, port) = try startHTTP(cli)
        defer { server.stop() }
        let t = try writeTransports(cli, """
            transports:
              chat: {type: webhook, url: "http://127.0.0.1:\(port)/hang", format: slack, attempt_timeout: 30s}
            channels: {slack: chat}
            """)
        let (playbook, contacts) = try writePlaybook(cli, channel: "slack")
        let crisis = try Background(
            [CLI.binary, "start", playbook, "--contacts", contacts, "--transports", t, "--db", cli.db],
            dir: cli.dir, environment: ["CRISIS_OPERATOR": "test-operator", "NO_COLOR": "1"])
        #expect(CLI.wait(20) { !server.lines("requests.jsonl").isEmpty })
        crisis.stop()
        let d = try cli.run(["deliveries"])
        #expect(d.stdout.contains("IN DOUBT"), "\(d.stdout) \(d.stderr)")
        _ = try cli.run(["tick"], env: ["CRISIS_TRANSPORTS": t])
        _ = try cli.run(["status"], env: ["CRISIS_TRANSPORTS": t])
        #expect(server.lines("requests.jsonl").count == 1, "sent again after the crash")
        #expect(try outcomes(cli).isEmpty)
    }
}
