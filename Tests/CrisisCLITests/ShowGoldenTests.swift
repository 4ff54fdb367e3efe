import Foundation
import Testing

/// Golden output of `show` and `status` at 80 columns, and of what `act` says it did, along a drill of
/// Fixtures/show.yaml on a simulated clock: an escalation part-way, a choice, a task's checklist, a statement
/// with one of its two approvals (per language as it will be published, with its length on X and SMS), and a
/// takedown notice with elements missing. Re-record with RECORD_GOLDEN=1 (the test then fails once, so a
/// recording is never mistaken for a pass).
@Suite(.serialized)
struct ShowGoldenTests {
    static let playbook = "Tests/CrisisCLITests/Fixtures/show.yaml"
    static let contacts = "Tests/CrisisCLITests/Fixtures/show-contacts.yaml"
    static let goldenDir = CLI.root.appendingPathComponent("Tests/CrisisCLITests/Fixtures/show")
    /// What the incident id (its suffix is random) is replaced with in the golden files: as long as the real one.
    static let placeholderID = "show-20260302-XXXX"

    /// A drill of the fixture playbook, driven step by step.
    struct Drill {
        var cli: CLI
        var id: String

        init() throws {
            cli = try CLI()
            cli.env["COLUMNS"] = "80"
            let start = try cli.run([
                "start", ShowGoldenTests.playbook, "--drill", "--contacts", ShowGoldenTests.contacts,
                "--clock", "2026-03-02T09:00:00+01:00", "--set", "post_url=https://x.com/someone/status/1790",
            ])
            #expect(start.status == 0, "\(start.stderr)")
            id = start.lastLine
        }

        /// Runs a command that must succeed; its output with the incident id replaced.
        @discardableResult
        func run(_ args: [String]) throws -> String {
            let r = try cli.run(args)
            #expect(r.status == 0, "\(args): \(r.stdout)\(r.stderr)")
            return r.stdout.replacingOccurrences(of: id, with: ShowGoldenTests.placeholderID)
        }

        @discardableResult
        func act(_ step: String, _ action: String, as person: String, _ sets: [String] = []) throws -> String {
            try run(["act", id, step, action, "--as", person] + sets.flatMap { ["--set", $0] })
        }
    }

    func check(_ output: String, against name: String) throws {
        for line in output.split(separator: "\n") {
            #expect(line.count <= 80, "\(name): wider than 80 columns: \(line)")
        }
        let url = Self.goldenDir.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["RECORD_GOLDEN"] != nil {
            try FileManager.default.createDirectory(at: Self.goldenDir, withIntermediateDirectories: true)
            try Data(output.utf8).write(to: url)
            Issue.record("recorded \(name); run again without RECORD_GOLDEN")
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(output == expected, "\(name) differs from the golden file; RECORD_GOLDEN=1 re-records it:\n\(output)")
    }

    @Test("an escalation part-way: status and show name who was paged on which channel and what comes next")
    func escalation() throws {
        let drill = try Drill()
        defer { drill.cli.remove() }
        try drill.run(["tick", drill.id, "--advance", "10m"])
        try check(try drill.run(["status", drill.id]), against: "escalation.status.txt")
        try check(try drill.run(["show", drill.id, "page_comms"]), against: "escalation.show.txt")
        try check(try drill.act("page_comms", "ack", as: "jonas.comms", ["by=jonas.comms"]), against: "escalation.ack.txt")
    }

    @Test("a choice and a task: option labels, the default, one pasteable command per option, the checklist")
    func choiceAndTask() throws {
        let drill = try Drill()
        defer { drill.cli.remove() }
        try drill.act("page_comms", "ack", as: "jonas.comms", ["by=jonas.comms"])
        try check(try drill.run(["status", drill.id]), against: "choice.status.txt")
        try check(try drill.run(["show", drill.id, "triage"]), against: "choice.show.txt")
        try check(try drill.act("triage", "choose", as: "jonas.comms", ["option=serious"]), against: "choice.act.txt")
        try check(try drill.run(["show", drill.id, "check_facts"]), against: "task.show.txt")
    }

    @Test("a statement with one of two approvals: texts per language as published, lengths on X and SMS, who may still approve")
    func statement() throws {
        let drill = try Drill()
        defer { drill.cli.remove() }
        try drill.act("page_comms", "ack", as: "jonas.comms", ["by=jonas.comms"])
        try drill.act("triage", "choose", as: "jonas.comms", ["option=serious"])
        try drill.act("check_facts", "done", as: "jonas.comms")
        let draft = try drill.act("statement", "draft", as: "jonas.comms", [
            "what_we_know.nb=Et innlegg om en kollega er delt rundt 400 ganger siden kl. 08.15; vi har bedt plattformen se på det.",
            "what_we_know.en=A post about a colleague has been shared about 400 times since 08:15; we have asked the platform to look at it.",
            "next_update_at.nb=i dag innen kl. 11.00",
            "next_update_at.en=today by 11:00",
        ])
        try check(draft, against: "statement.draft.txt")
        try check(try drill.act("statement", "approve", as: "lars.legal"), against: "statement.approve.txt")
        try check(try drill.run(["status", drill.id]), against: "statement.status.txt")
        try check(try drill.run(["show", drill.id, "statement"]), against: "statement.show.txt")
        // The JSON carries the exact texts and the same progress.
        let json = try JSONSerialization.jsonObject(with: Data(try drill.run(["show", drill.id, "statement", "--json"]).utf8))
        let statement = try #require((json as? [String: Any])?["statement"] as? [String: Any])
        #expect(statement["progress"] as? String == "1 of 2 approvals")
        #expect(statement["may_approve"] as? [String] == ["hanne.hr", "per.hr"])
        let texts = try #require(statement["texts"] as? [[String: Any]])
        #expect((texts.first?["text"] as? String)?.hasPrefix("Vi kjenner til innlegget som deles nå.\nEt innlegg") == true)
        // With one argument, show reads the latest open incident.
        #expect(try drill.run(["show", "statement"]) == drill.run(["show", drill.id, "statement"]))
    }

    @Test("a takedown: the notice assembled for pasting, missing elements marked")
    func takedown() throws {
        let drill = try Drill()
        defer { drill.cli.remove() }
        try drill.act("page_comms", "ack", as: "jonas.comms", ["by=jonas.comms"])
        try drill.act("triage", "choose", as: "jonas.comms", ["option=serious"])
        try drill.act("check_facts", "done", as: "jonas.comms")
        try drill.act("statement", "draft", as: "jonas.comms", ["what_we_know.nb=A post names a colleague.", "what_we_know.en=A post names a colleague.", "next_update_at.nb=at 11:00", "next_update_at.en=at 11:00"])
        try drill.act("statement", "approve", as: "lars.legal")
        try drill.act("statement", "approve", as: "hanne.hr")
        try drill.act("statement", "publish", as: "jonas.comms")
        try check(try drill.run(["show", drill.id, "removal"]), against: "takedown.show.txt")
        try check(try drill.act("removal", "draft", as: "lars.legal", [
            "explanation=The post names an employee and gives her home address.",
        ]), against: "takedown.draft.txt")
        try check(try drill.run(["show", drill.id, "removal"]), against: "takedown.drafted.show.txt")
    }

    @Test("show refuses a step the playbook does not have, naming the active ones")
    func unknownStep() throws {
        let drill = try Drill()
        defer { drill.cli.remove() }
        let r = try drill.cli.run(["show", drill.id, "no_such_step"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("no step 'no_such_step'"))
        #expect(r.stderr.contains("active now: page_comms"))
        // A step not entered yet is shown from the playbook.
        let ahead = try drill.run(["show", drill.id, "triage"])
        #expect(ahead.contains("not entered yet"))
        #expect(ahead.contains("Serious: it names people or spreads fast"))
    }
}
