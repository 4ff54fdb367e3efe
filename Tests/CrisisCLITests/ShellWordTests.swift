import Foundation
import Testing

@testable import CrisisCLI

/// Suggested commands are built from playbook words (steps, enum values) that may hold spaces, globs or quotes:
/// each is quoted so the shell reads it as itself, and a command wrapped to fit never breaks inside quotes.
struct ShellWordTests {
    /// The words `sh` reads from `line` (printed one per line by printf).
    func words(_ line: String) throws -> [String] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "printf '%s\\n' " + line]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast().map(String.init)
    }

    @Test("a word with spaces, a glob, a quote or a leading dash reaches the command as itself",
          arguments: ["plain_step", "takedown_each[1]", "sev2 or sev3", "it's", "a|b", "#hash", "-x", "bjørn", "*", ""])
    func quoting(_ word: String) throws {
        #expect(try words(shellWord(word)) == [word])
    }

    @Test("plain words are printed as they are")
    func plain() {
        #expect(shellWord("option=serious") == "option=serious")
        #expect(shellWord("show-20260302-ab12") == "show-20260302-ab12")
        #expect(shellWord("takedown_each[1]") == "'takedown_each[1]'")
    }

    @Test("a wrapped command keeps quoted words and --set pairs whole, and the shell reads the same words")
    func wrapping() throws {
        let command = "    → crisis act show-20260302-ab12 'takedown_each[12]' choose "
            + "--set 'option=a very long option value with spaces in it' --set reason=… --role comms_on_duty"
        let lines = Fit.lines(command, width: 72)
        #expect(lines.count > 1)
        for line in lines { #expect(line.count <= 72, "\(line)") }
        for line in lines.dropLast() { #expect(line.hasSuffix(" \\")) }
        #expect(lines.contains { $0.contains("--role comms_on_duty") })
        #expect(lines.contains { $0.contains("--set 'option=a very long option value with spaces in it'") })
        let pasted = lines.joined(separator: "\n").replacingOccurrences(of: "    → crisis ", with: "")
        let expected = ["act", "show-20260302-ab12", "takedown_each[12]", "choose", "--set",
                        "option=a very long option value with spaces in it", "--set", "reason=…", "--role",
                        "comms_on_duty"]
        #expect(try words(pasted) == expected)
    }

    @Test("local times for people: the date only when it is not today, the offset always")
    func humanTime() {
        #expect(HumanTime.show("2026-03-02T09:15:00+01:00") == "2026-03-02 09:15 +01:00")
        #expect(HumanTime.show("2026-03-02T09:15:00+01:00", today: "2026-03-02T08:00:00+01:00") == "09:15 +01:00")
        #expect(HumanTime.show("2026-03-03T09:15:00Z", today: "2026-03-02T08:00:00Z") == "2026-03-03 09:15 UTC")
        #expect(HumanTime.show("(in") == "(in")
    }
}
