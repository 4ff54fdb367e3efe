import Foundation
import Testing

/// Every command `status` and `show` suggest is safe to paste as printed: the shell runs exactly one `crisis`
/// command (no `a|b` it would read as a pipe, no glob, no comment), continuation lines included, and `crisis`
/// reads it (never a usage error); one with nothing left to fill in (`…`) is accepted unless the incident lacks
/// something (a notice with elements missing). Each runs on its own copy of the database, so one alternative
/// never hides another.
@Suite(.serialized)
struct SuggestedCommandTests {
    /// Who pastes a command that names a role (the fixture directory has one holder per role at least).
    static let holder = ["comms": "jonas.comms", "lead": "kari.lead", "legal": "lars.legal", "hr": "hanne.hr"]

    /// The suggested commands in `output`: each `→ crisis …` line with its ` \` continuations, from `crisis` on.
    static func commands(in output: String) -> [String] {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var out: [String] = []
        var i = 0
        while i < lines.count {
            guard let arrow = lines[i].range(of: "→ crisis ") else {
                i += 1
                continue
            }
            var command = "crisis " + lines[i][arrow.upperBound...]
            while lines[i].hasSuffix(" \\"), i + 1 < lines.count {
                i += 1
                command += "\n" + lines[i]
            }
            out.append(command)
            i += 1
        }
        return out
    }

    /// Runs `command` as pasted into sh, on a copy of the drill's database, as the holder of its `--role`.
    func paste(_ command: String, drill: ShowGoldenTests.Drill, name: String) throws -> CLI.Result {
        let copy = drill.cli.dir.appendingPathComponent("copy-\(name).sqlite").path
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: drill.cli.db + suffix) {
            try? FileManager.default.removeItem(atPath: copy + suffix)
            try FileManager.default.copyItem(atPath: drill.cli.db + suffix, toPath: copy + suffix)
        }
        let role = command.range(of: "--role ").map { String(command[$0.upperBound...].prefix { $0 != " " && $0 != "\n" }) }
        let person = role.flatMap { Self.holder[$0] } ?? "jonas.comms"
        // Only the program is swapped for the binary under test; everything the shell reads is as printed.
        let actor = command.hasPrefix("crisis act ") ? " --as \(person)" : ""
        let line = "\"$CRISIS\"" + command.dropFirst("crisis".count) + " --db '\(copy)'" + actor
        return try drill.cli.runShell(line)
    }

    func checkAll(_ output: String, drill: ShowGoldenTests.Drill, label: String, accepted: inout Int) throws -> Int {
        let commands = Self.commands(in: output)
        for (n, command) in commands.enumerated() {
            #expect(!command.contains("|") && !command.contains("#") && !command.contains(";"), "\(label): \(command)")
            let r = try paste(command, drill: drill, name: "\(label)-\(n)")
            // 127: a word ran as a command; 2: the shell or the parser could not read it.
            #expect(r.status == 0 || r.status == 1, "\(label): \(command)\n→ \(r.status) \(r.stderr)")
            #expect(!r.stderr.contains("not found") && !r.stderr.contains("syntax error"), "\(label): \(r.stderr)")
            // A value left to fill in (`…` on a terminal, `...` elsewhere) is a placeholder: pasted as printed,
            // it is refused, never recorded as if it were the answer.
            let placeholder = command.contains("=…") || command.contains("=...")
            if placeholder {
                #expect(r.status == 1 && r.stderr.contains("placeholder"), "\(label): \(command)\n\(r.stderr)")
            }
            // A command with nothing left to fill in may still be refused for what the incident lacks (a notice
            // with elements missing), never for how it was typed; a choice's options are always accepted.
            if !placeholder && (r.status == 0 || command.contains(" choose ")) {
                #expect(r.status == 0, "\(label): a complete suggested command was refused: \(command)\n\(r.stderr)")
                accepted += 1
            }
        }
        return commands.count
    }

    @Test("every command status and show suggest runs when pasted as printed at 80 columns")
    func pasteEverySuggestion() throws {
        let drill = try ShowGoldenTests.Drill()
        defer { drill.cli.remove() }
        var total = 0
        var accepted = 0
        var sawAlternatives = false
        func look(_ label: String, steps: [String]) throws {
            let status = try drill.run(["status", drill.id]).replacingOccurrences(
                of: ShowGoldenTests.placeholderID, with: drill.id)
            total += try checkAll(status, drill: drill, label: "\(label)-status", accepted: &accepted)
            for step in steps {
                let show = try drill.run(["show", drill.id, step]).replacingOccurrences(
                    of: ShowGoldenTests.placeholderID, with: drill.id)
                total += try checkAll(show, drill: drill, label: "\(label)-\(step)", accepted: &accepted)
            }
            if status.contains("--set option=serious") && status.contains("--set option=minor") { sawAlternatives = true }
        }
        try look("paging", steps: ["page_comms"])
        try drill.act("page_comms", "ack", as: "jonas.comms", ["by=jonas.comms"])
        try look("choice", steps: ["triage"])
        try drill.act("triage", "choose", as: "jonas.comms", ["option=serious"])
        try drill.act("check_facts", "done", as: "jonas.comms")
        try look("drafting", steps: ["statement"])
        try drill.act("statement", "draft", as: "jonas.comms", ["what_we_know.nb=A post names a colleague.", "what_we_know.en=A post names a colleague.", "next_update_at.nb=at 11:00", "next_update_at.en=at 11:00"])
        try look("approving", steps: ["statement"])
        try drill.act("statement", "approve", as: "lars.legal")
        try drill.act("statement", "approve", as: "hanne.hr")
        try look("approved", steps: ["statement"])
        try drill.act("statement", "publish", as: "jonas.comms")
        try look("takedown", steps: ["removal"])
        #expect(total >= 10, "only \(total) suggested commands were seen")
        #expect(sawAlternatives, "a choice's options are one command each")
        #expect(accepted >= 4, "only \(accepted) complete suggested commands were accepted")
    }

    @Test("a delivery waiting for a person gets one command per result, each recording what it says")
    func confirmDeliveryAlternatives() throws {
        var cli = try CLI()
        defer { cli.remove() }
        cli.env["COLUMNS"] = "80"
        // A live incident without a transport for e-mail: the notification waits for a person.
        let start = try cli.run(["start", "Tests/CrisisCLITests/Fixtures/mini.yaml", "--set", "post_url=https://example.com/p"])
        #expect(start.status == 0, "\(start.stderr)")
        let id = start.lastLine
        for (step, action, sets) in [("triage", "choose", ["option=serious"]), ("statement", "draft", ["what_we_know.nb=x", "what_we_know.en=x"])] {
            let r = try cli.run(["act", id, step, action, "--role", "comms"] + sets.flatMap { ["--set", $0] })
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(try cli.run(["act", id, "statement", "approve", "--role", "legal", "--as", "lee"]).status == 0)
        #expect(try cli.run(["act", id, "statement", "publish", "--role", "comms"]).status == 0)
        let status = try cli.run(["status", id]).stdout
        let confirms = Self.commands(in: status).filter { $0.contains("confirm_delivery") }
        #expect(!confirms.isEmpty, "\(status)")
        #expect(confirms.contains { $0.hasSuffix("--set result=sent") })
        #expect(confirms.contains { $0.hasSuffix("--set result=failed") })
        for line in status.split(separator: "\n") { #expect(line.count <= 80, "wider than 80 columns: \(line)") }
        // Pasting the `failed` line records a failure, and runs nothing else.
        let failed = try #require(confirms.first { $0.hasSuffix("result=failed") })
        let r = try cli.runShell("\"$CRISIS\"" + failed.dropFirst("crisis".count) + " --db \"$DB\"")
        #expect(r.status == 0, "\(failed)\n\(r.stderr)")
        let log = try cli.run(["log", id]).stdout
        #expect(log.contains("outcome failed"), "\(log)")
    }
}
