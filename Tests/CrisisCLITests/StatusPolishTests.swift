import Foundation
import Testing

/// The finishing touches of a person's command line (issue 9): the LIVE banner, placeholders refused, plain
/// ASCII off a terminal, short delivery keys in suggestions, a takedown's reporting route, one paste-safe advice
/// line per value, and what an ack really requires.
@Suite(.serialized)
struct StatusPolishTests {
    static let mini = "Tests/CrisisCLITests/Fixtures/mini.yaml"

    @Test("a live incident's status starts with a LIVE banner naming its short id and how long it has been open")
    func liveBanner() throws {
        var cli = try CLI()
        defer { cli.remove() }
        cli.env["COLUMNS"] = "80"
        let start = try cli.run(["start", Self.mini, "--set", "post_url=https://example.com/p"])
        #expect(start.status == 0, "\(start.stderr)")
        let id = start.lastLine
        let short = String(id.split(separator: "-").last ?? "")
        let out = try cli.run(["status", id]).stdout
        let lines = out.split(separator: "\n").map(String.init)
        let first = try #require(lines.first)
        #expect(first.hasPrefix("LIVE — REAL INCIDENT — \(short) — open "), "\(out)")
        #expect(lines.dropFirst().first?.contains("Mini incident") == true, "\(out)")
        for line in lines { #expect(line.count <= 80, "wider than 80 columns: \(line)") }
        let json = try cli.run(["status", id, "--json"]).json()
        #expect(json["opened_at"] is String && json["elapsed"] is String)

        // A drill keeps its DRILL banner and has no LIVE one.
        let drill = try cli.run(["start", Self.mini, "--drill", "--set", "post_url=https://example.com/p"]).lastLine
        let drillOut = try cli.run(["status", drill]).stdout
        #expect(drillOut.hasPrefix("DRILL — EXERCISE ONLY"), "\(drillOut)")
        #expect(!drillOut.contains("LIVE"), "\(drillOut)")
    }

    @Test("a field value that is only a placeholder is refused, naming the field, and recorded as a refusal",
          arguments: ["…", "...", "<url>", "<your name>", "TODO", "tbd", "   ", ""])
    func placeholderRefused(_ value: String) throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try cli.run(["start", Self.mini, "--drill", "--set", "post_url=https://example.com/p"]).lastLine
        #expect(try cli.run(["act", id, "triage", "choose", "--set", "option=serious", "--role", "comms"]).status == 0)
        let before = try cli.run(["status", id, "--json"]).json()["seq"] as? Int
        let r = try cli.run(["act", id, "statement", "draft", "--set", "what_we_know.nb=\(value)", "--set", "what_we_know.en=\(value)", "--role", "comms"])
        #expect(r.status == 1, "\(value): \(r.stdout)")
        #expect(r.stderr.contains("field 'what_we_know.nb'"), "\(r.stderr)")
        #expect(r.stderr.contains("[invalid-field]"), "\(r.stderr)")
        let status = try cli.run(["status", id, "--json"]).json()
        // Only the refusal was recorded; the statement is still waiting for its first draft.
        #expect(status["seq"] as? Int == before.map { $0 + 1 })
        let active = status["active"] as? [[String: Any]] ?? []
        let statement = active.first { $0["step"] as? String == "statement" }
        #expect((statement?["detail"] as? [String: String])?["revision"] ?? "0" == "0")
        #expect(try cli.run(["log", id]).stdout.contains("REFUSED statement draft"))
        // A real value that merely contains such words is accepted.
        let ok = try cli.run(["act", id, "statement", "draft", "--set", "what_we_know.nb=TODO list leaked <b>", "--set", "what_we_know.en=TODO list leaked <b>", "--role", "comms"])
        #expect(ok.status == 0, "\(ok.stderr)")
    }

    @Test("through a pipe, status, show and act print no symbols, only their ASCII stand-ins")
    func plainOffTerminal() throws {
        let drill = try ShowGoldenTests.Drill()
        defer { drill.cli.remove() }
        var outputs = [try drill.run(["status", drill.id]), try drill.run(["show", drill.id, "page_comms"])]
        outputs.append(try drill.act("page_comms", "ack", as: "jonas.comms", ["by=jonas.comms"]))
        outputs.append(try drill.run(["status", drill.id]))
        outputs.append(try drill.run(["log", drill.id]))
        for symbol in ["✓", "✗", "▸", "⏱", "✉", "…"] {
            for out in outputs { #expect(!out.contains(symbol), "\(symbol) in:\n\(out)") }
        }
        #expect(outputs[0].contains("...)  status open"), "a shortened hash ends in ... off a terminal:\n\(outputs[0])")
        #expect(outputs[1].contains(" >level 1"), "the current level is marked > off a terminal:\n\(outputs[1])")
    }

    @Test("status and show suggest confirming a delivery by its short key, which act accepts")
    func shortDeliveryKeys() throws {
        var cli = try CLI()
        defer { cli.remove() }
        cli.env["COLUMNS"] = "80"
        let id = try cli.run(["start", Self.mini, "--set", "post_url=https://example.com/p"]).lastLine
        for (step, action, sets) in [("triage", "choose", ["option=serious"]), ("statement", "draft", ["what_we_know.nb=x", "what_we_know.en=x"])] {
            let r = try cli.run(["act", id, step, action, "--role", "comms"] + sets.flatMap { ["--set", $0] })
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(try cli.run(["act", id, "statement", "approve", "--role", "legal", "--as", "lee"]).status == 0)
        #expect(try cli.run(["act", id, "statement", "publish", "--role", "comms"]).status == 0)
        let json = try cli.run(["status", id, "--json"]).json()
        let deliveries = json["deliveries"] as? [[String: Any]] ?? []
        #expect(!deliveries.isEmpty, "\(json)")
        var shortKeys: [String: String] = [:]
        for d in deliveries {
            let key = try #require(d["key"] as? String)
            let short = try #require(d["short_key"] as? String)
            #expect(short.count < key.count && key.hasSuffix("/" + short), "\(short) of \(key)")
            shortKeys[short] = key
        }
        let status = try cli.run(["status", id]).stdout
        let confirms = SuggestedCommandTests.commands(in: status).filter { $0.contains("confirm_delivery") }
        #expect(confirms.count == 2 * deliveries.count, "\(status)")
        let show = try cli.run(["show", id, "statement"]).stdout
        for c in confirms + SuggestedCommandTests.commands(in: show).filter({ $0.contains("confirm_delivery") }) {
            #expect(!shortKeys.values.contains { c.contains($0) }, "the full key is suggested: \(c)")
            let words = c.split(whereSeparator: { $0 == " " || $0 == "\n" }).filter { $0 != "\\" }
            #expect(words.contains { $0.hasPrefix("key=") && shortKeys[String($0.dropFirst(4))] != nil }, "\(c)")
        }
        let sent = try #require(confirms.first { $0.hasSuffix("--set result=sent") })
        let r = try cli.runShell("\"$CRISIS\"" + sent.dropFirst("crisis".count) + " --db \"$DB\"")
        #expect(r.status == 0, "\(sent)\n\(r.stderr)")
        let words = sent.split(whereSeparator: { $0 == " " || $0 == "\n" })
        let given = try #require(words.first { $0.hasPrefix("key=") }.map { String($0.dropFirst(4)) })
        // The record holds the full key the short one stands for.
        let records = try #require(try JSONSerialization.jsonObject(
            with: Data(try cli.run(["log", id, "--json"]).stdout.utf8)) as? [[String: Any]])
        let outcome = records.last { $0["type"] as? String == "action.outcome" }?["body"] as? [String: Any]
        #expect(outcome?["key"] as? String == shortKeys[given], "\(outcome ?? [:])")
    }

    @Test("show of a takedown names where to send the notice: the playbook's route for the platform")
    func reportingRoute() throws {
        let drill = try ShowGoldenTests.Drill()
        defer { drill.cli.remove() }
        try drill.act("page_comms", "ack", as: "jonas.comms", ["by=jonas.comms"])
        try drill.act("triage", "choose", as: "jonas.comms", ["option=serious"])
        try drill.act("check_facts", "done", as: "jonas.comms")
        try drill.act("statement", "draft", as: "jonas.comms", ["what_we_know.nb=A post names a colleague.", "what_we_know.en=A post names a colleague.", "next_update_at.nb=at 11:00", "next_update_at.en=at 11:00"])
        try drill.act("statement", "approve", as: "lars.legal")
        try drill.act("statement", "approve", as: "hanne.hr")
        try drill.act("statement", "publish", as: "jonas.comms")
        let show = try drill.run(["show", drill.id, "removal"])
        let lines = show.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let at = try #require(lines.firstIndex { $0.hasPrefix("send it to:") }, "\(show)")
        let route = "https://help.x.com/en/forms/safety-and-sensitive-content/private-information"
        #expect(lines[at] == "send it to: \(route)" || lines[at] == "send it to:" && lines[at + 1] == route, "\(show)")
        let json = try drill.cli.run(["show", drill.id, "removal", "--json"]).json()
        #expect((json["takedown"] as? [String: Any])?["reporting_route"] as? String
                == "https://help.x.com/en/forms/safety-and-sensitive-content/private-information")
    }

    @Test("an act refused for a missing field with values is answered with one paste-safe command per value")
    func missingFieldAdvice() throws {
        var cli = try CLI()
        defer { cli.remove() }
        cli.env["COLUMNS"] = "80"
        let id = try cli.run(["start", Self.mini, "--drill", "--set", "post_url=https://example.com/p"]).lastLine
        let r = try cli.run(["act", id, "triage", "choose", "--role", "comms", "--json"])
        #expect(r.status == 1)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        // Every line fits but the one a temporary folder's long path stays whole on.
        for line in lines where !line.contains("/tmp") { #expect(line.count <= 80, "wider than 80 columns: \(line)") }
        #expect(r.stderr.contains("[missing-field]"))
        #expect(!r.stderr.contains("|"), "\(r.stderr)")
        let commands = SuggestedCommandTests.commands(in: r.stderr)
        #expect(commands.count == 2, "\(r.stderr)")
        #expect(commands.contains { $0.hasSuffix("--set option=serious") } && commands.contains { $0.hasSuffix("--set option=minor") })
        // Options stay options; --json is left out. Pasted as printed (the harness's --db included), it is accepted.
        #expect(!commands.contains { $0.contains("--json") || $0.contains("'--") })
        #expect(commands.allSatisfy { $0.contains(" --role comms ") })
        let minor = try #require(commands.first { $0.hasSuffix("option=minor") })
        let pasted = try cli.runShell("\"$CRISIS\"" + minor.dropFirst("crisis".count))
        #expect(pasted.status == 0, "\(minor)\n\(pasted.stderr)")
        #expect(try cli.run(["status", id, "--json"]).json()["status"] as? String == "closed")
    }

    @Test("with a contacts directory an ack's by is optional (it defaults to the operator), without one required")
    func ackByRequired() throws {
        let drill = try ShowGoldenTests.Drill()
        defer { drill.cli.remove() }
        let json = try drill.cli.run(["status", drill.id, "--json"]).json()
        let page = (json["active"] as? [[String: Any]])?.first { $0["step"] as? String == "page_comms" }
        let ack = (page?["actions"] as? [[String: Any]])?.first { $0["name"] as? String == "ack" }
        let by = (ack?["fields"] as? [[String: Any]])?.first { $0["name"] as? String == "by" }
        #expect(by?["required"] as? Bool == false, "\(String(describing: by))")
        // What status says is what act does: an ack without by is accepted, as the operator.
        let r = try drill.cli.run(["act", drill.id, "page_comms", "ack", "--as", "jonas.comms"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try drill.cli.run(["log", drill.id]).stdout.contains("acknowledged by jonas.comms"))

        // Without a directory nothing fills it in: it stays required, and status asks for it.
        let cli = try CLI()
        defer { cli.remove() }
        let id = try cli.run(["start", "Tests/CrisisCLITests/Fixtures/watch.yaml", "--drill"]).lastLine
        let plain = try cli.run(["status", id, "--json"]).json()
        let step = (plain["active"] as? [[String: Any]])?.first
        let plainAck = (step?["actions"] as? [[String: Any]])?.first { $0["name"] as? String == "ack" }
        let plainBy = (plainAck?["fields"] as? [[String: Any]])?.first { $0["name"] as? String == "by" }
        #expect(plainBy?["required"] as? Bool == true, "\(String(describing: plainBy))")
        #expect(try cli.run(["act", id, "page", "ack"]).status == 1)
    }
}
