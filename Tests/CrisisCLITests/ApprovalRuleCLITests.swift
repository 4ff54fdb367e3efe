import Foundation
import Testing

/// Approval rules with the real binary: all_of roles and a final authority, the informed board liaison, the
/// spokesperson's handover, a misspelt conflicted name refused at start, and `log` showing each decision's
/// revision and hash and a rejection's reason.
struct ApprovalRuleCLITests {
    static let playbook = "Tests/CrisisCLITests/Fixtures/approval.yaml"
    static let contacts = "Tests/CrisisCLITests/Fixtures/approval-contacts.yaml"

    func start(_ cli: CLI, _ sets: [String] = []) throws -> CLI.Result {
        try cli.run(["start", Self.playbook, "--drill", "--contacts", Self.contacts, "--clock", "2026-03-02T09:00:00+01:00"]
                    + sets.flatMap { ["--set", $0] })
    }

    @Test("all_of and final: two lawyers are not enough, the CEO signs last; log shows hashes and the reason")
    func allOfApproval() throws {
        var cli = try CLI()
        cli.env["COLUMNS"] = "300"
        defer { cli.remove() }
        let started = try start(cli, ["conflicted_people=Liv Legal"])
        #expect(started.status == 0, "\(started.stderr)")
        let id = started.lastLine
        func act(_ action: String, as person: String, role: String? = nil, _ sets: [String] = []) throws -> CLI.Result {
            try cli.run(["act", id, "statement", action, "--as", person] + (role.map { ["--role", $0] } ?? [])
                        + sets.flatMap { ["--set", $0] })
        }
        #expect(try act("draft", as: "jonas.comms", ["what_we_know.nb=A post names a colleague.", "what_we_know.en=A post names a colleague."]).status == 0)
        let rejected = try act("reject", as: "lars.legal", ["reason=Name the time we learnt of it"])
        #expect(rejected.status == 0, "\(rejected.stderr)")
        #expect(try act("draft", as: "jonas.comms", ["what_we_know.nb=A post named a colleague at 08:15.", "what_we_know.en=A post named a colleague at 08:15."]).status == 0)
        // The conflicted lawyer is refused; the CEO may not sign before legal and the head of communications.
        #expect(try act("approve", as: "liv.legal").status != 0)
        let early = try act("approve", as: "cato.ceo")
        #expect(early.status != 0)
        #expect(early.stderr.contains("still needs an approval as 'head_of_comms', an approval as 'legal'"), "\(early.stderr)")
        #expect(try act("approve", as: "lars.legal").status == 0)
        let show = try cli.run(["show", id, "statement"])
        #expect(show.stdout.contains("1 approval so far: approved by lars.legal; still needed: an approval as 'head_of_comms', the final sign-off of 'ceo'"), "\(show.stdout)")
        #expect(show.stdout.contains("spokesperson: hanne.head"))
        // What revision 2 changed against revision 1, word by word.
        #expect(show.stdout.contains("revision 2 (en) changed: We are aware of the post. A post [-names-]{+named+} a"), "\(show.stdout)")
        #expect(show.stdout.contains("{+colleague at 08:15.+}"), "\(show.stdout)")
        let status = try cli.run(["status", id]).stdout
        #expect(status.contains("still needed: an approval as 'head_of_comms', the final sign-off of 'ceo'"), "\(status)")
        #expect(status.contains("spokesperson: hanne.head"), "\(status)")
        #expect(try act("approve", as: "hanne.head").status == 0)
        let final = try act("approve", as: "cato.ceo")
        #expect(final.status == 0, "\(final.stderr)")

        let json = try cli.run(["show", id, "statement", "--json"]).json()
        let statement = try #require(json["statement"] as? [String: Any])
        #expect(statement["phase"] as? String == "approved")
        let informed = statement["informed"] as? [[String: Any]] ?? []
        #expect(informed.map { $0["channel"] as? String } == ["bo.board via email"])
        let sha = try #require(statement["sha256"] as? String)

        let handover = try act("handover", as: "jonas.comms", ["to=Cato CEO", "reason=It reached the CEO"])
        #expect(handover.status == 0, "\(handover.stderr)")
        let afterHandover = try cli.run(["show", id, "statement"]).stdout
        #expect(afterHandover.contains("spokesperson: cato.ceo"))
        #expect(afterHandover.contains("spokesperson handed over from hanne.head to cato.ceo by jonas.comms"))

        let log = TimelineTests.entries(try cli.run(["log", id]).stdout)
        let reject = try #require(log.first { $0.contains("statement reject") })
        #expect(reject.contains("reason=Name the time we learnt of it"), "\(reject)")
        #expect(reject.contains("(revision 1, sha256 "))
        let approvals = log.filter { $0.contains("statement approve") && !$0.contains("REFUSED") }
        #expect(approvals.count == 3)
        for a in approvals { #expect(a.contains("(revision 2, sha256 \(sha.prefix(12))"), "\(a)") }
        #expect(log.contains { $0.contains("REFUSED statement approve") && $0.contains("[final-too-early]") })
        #expect(log.contains { $0.contains("statement handover") && $0.contains("to=Cato CEO") })

        // The report lists every revision with what it changed, and each decision with its hash.
        let report = try cli.run(["export", id, "--format", "md"])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains("Changes from revision 1 (en)"), "\(report.stdout)")
        #expect(report.stdout.contains("[-names-]{+named+}"))
        #expect(report.stdout.contains(String(sha.prefix(16))))
        #expect(report.stdout.contains("Informed of the approved text"))
        #expect(report.stdout.contains("It reached the CEO"))
    }

    @Test("A misspelt conflicted name is refused at start with the nearest name")
    func unknownConflicted() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let r = try start(cli, ["conflicted_people=Liv Lgal"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("input 'conflicted_people' names 'Liv Lgal', who is not in the contacts directory; did you mean 'liv.legal'?"), "\(r.stderr)")
    }
}
