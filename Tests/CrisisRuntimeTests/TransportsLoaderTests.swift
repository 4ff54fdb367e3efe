import CrisisCore
import CrisisPlaybook
@testable import CrisisRuntime
import Foundation
import Testing

/// `crisis-transports/v1` files: what is read, and every problem at its line and column.
struct TransportsLoaderTests {
    func load(_ yaml: String, env: [String: String] = [:]) -> (TransportsConfig?, [String]) {
        let r = TransportsLoader.load(bytes: Array(yaml.utf8), path: "t.yaml", environment: env)
        return (r.config, r.diagnostics.map(\.description))
    }

    @Test("the issue's example file reads: four types, channels, secrets from the environment and a file")
    func example() throws {
        let secretFile = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString)")
        try "from-a-file\n".write(to: secretFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: secretFile) }
        let (config, problems) = load("""
            schema: crisis-transports/v1
            secrets:
              SMTP_PASSWORD: {file: \(secretFile.path)}
            transports:
              chat:  {type: webhook, url: "https://hooks.example/T000/B000", format: slack}
              sms:   {type: http, method: POST, url: "https://sms.example/send", form: {to: "{{to}}", text: "{{text}}"},
                      headers: {Authorization: "Bearer {{secret:SMS_TOKEN}}"}, deadline: 5m, backoff: 250ms}
              mail:  {type: smtp, host: "smtp.example", port: 587, starttls: true, from: "crisis@example.com",
                      user: "{{secret:SMTP_USER}}", password: "{{secret:SMTP_PASSWORD}}"}
              pager: {type: exec, command: ["/usr/local/bin/page-someone"]}
            channels: {slack: chat, sms: sms, email: {transport: mail, deadline: 30m}, phone: pager}
            """, env: ["SMS_TOKEN": "tok-abc", "SMTP_USER": "robot"])
        #expect(problems.isEmpty)
        let c = try #require(config)
        #expect(c.transports.count == 4)
        #expect(c.channels["sms"]?.deadlineMs == 300_000)
        #expect(c.channels["email"]?.deadlineMs == 1_800_000)
        #expect(c.channels["phone"]?.deadlineMs == RetryPolicy().deadlineMs)
        #expect(c.transports["sms"]?.retry.backoffMs == 250)
        #expect(c.transports["mail"]?.secrets["SMTP_PASSWORD"] == "from-a-file")
        #expect(c.route(for: "teams") == nil)
        #expect(c.scrub("Bearer tok-abc and from-a-file") == "Bearer [secret] and [secret]")
    }

    @Test("bad input: each problem at its file, line and column, all at once")
    func problems() {
        let (config, problems) = load("""
            schema: crisis-transports/v1
            transports:
              a: {type: smtpp, host: x}
              b: {type: http, url: "ftp://files.example/x"}
              c: {type: webhook, url: "https://h.example/{{secret:MISSING}}", format: slack}
              d: {type: webhook, url: "https://h.example/x", format: json}
              e: {type: exec, command: [page-someone]}
              f: {type: http, url: "https://h.example/{{nope}}", deadline: soon}
            channels: {sms: zz, slack: c}
            """)
        #expect(config == nil)
        let expected = [
            "t.yaml:3:13: error: unknown transport type 'smtpp' (did you mean 'smtp'?): webhook, http, smtp or exec [bad-value]",
            "t.yaml:4:24: error: invalid URL 'ftp://files.example/x': it needs http or https://HOST/... [bad-url]",
            "t.yaml:5:27: error: secret 'MISSING' is missing: set the environment variable MISSING, or name its source under 'secrets:' ({env: VARIABLE} or {file: PATH}) [missing-key]",
            "t.yaml:6:6: error: transport 'd': a json webhook needs 'secret:' (\"{{secret:NAME}}\"), the shared key its HMAC-SHA256 signature is made with [missing-key]",
            "t.yaml:7:29: error: the program 'page-someone' must be an absolute path [bad-value]",
            "t.yaml:8:24: error: unknown placeholder '{{nope}}' here: {{to}}, {{name}}, {{text}}, {{subject}}, {{key}}, {{channel}}, {{incident}}, {{step}}, {{purpose}} or {{secret:NAME}} [unknown-template-variable]",
            "t.yaml:8:64: error: deadline 'soon' is not a duration (500ms, 10s, 2m, 1h) [bad-duration]",
            "t.yaml:9:28: error: channel 'slack' is mapped to 'c', whose definition has errors (see above) [bad-value]",
            "t.yaml:9:17: error: channel 'sms' is mapped to 'zz', which is no transport in this file (transports: a, b, c, d, e, f) [bad-value]",
        ]
        for e in expected { #expect(problems.contains(e), "missing: \(e)\n got: \(problems.joined(separator: "\n"))") }
    }

    @Test("wrong schema, unknown keys and YAML errors are reported with positions")
    func shape() {
        #expect(load("schema: crisis-transports/v2\ntransports: {}\n").1
            == ["t.yaml:1:9: error: unknown schema 'crisis-transports/v2': this crisis reads 'crisis-transports/v1' [unknown-schema]"])
        #expect(load("schema: crisis-transports/v1\ntransports: {}\nchanels: {}\n").1.first?
            .hasPrefix("t.yaml:3:1: error: unknown key 'chanels'") == true)
        #expect(load("schema: crisis-transports/v1\ntransports: {a: [\n").1.first?.hasPrefix("t.yaml:") == true)
    }

    @Test("where the file is: option, then CRISIS_TRANSPORTS, then XDG_CONFIG_HOME (not required to exist)")
    func locate() {
        #expect(TransportsConfig.locate(option: "a.yaml", environment: ["CRISIS_TRANSPORTS": "b.yaml"])! == ("a.yaml", true))
        #expect(TransportsConfig.locate(option: nil, environment: ["CRISIS_TRANSPORTS": "b.yaml"])! == ("b.yaml", true))
        #expect(TransportsConfig.locate(option: nil, environment: ["XDG_CONFIG_HOME": "/x"])!
            == ("/x/crisis/transports.yaml", false))
        #expect(TransportsConfig.locate(option: nil, environment: ["HOME": "/home/k"])!
            == ("/home/k/.config/crisis/transports.yaml", false))
    }

    @Test("the json webhook signature is HMAC-SHA256 over the exact body (RFC 4231 test case 2)")
    func signature() {
        #expect(WebhookPayload.signature(Array("what do ya want for nothing?".utf8), secret: "Jefe")
            == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test("form encoding: unreserved as is, space as +, everything else escaped")
    func formEncoding() {
        #expect(OutboxTransport.formEncode("+47 900 & ø=1") == "%2B47+900+%26+%C3%B8%3D1")
    }
}
