import CrisisCore
import CrisisPlaybook
import Foundation
import Testing

@testable import CrisisCLI

/// Diagnostics as people read them: the printer and `crisis validate`'s text, which live in the CLI.
struct DiagnosticTextTests {
    @Test("The printer colours only when asked, and NO_COLOR or a non-terminal turns colour off")
    func printer() {
        let d = Diagnostic.error(.badValue, "message", at: SourceLocation(file: "f", line: 1, column: 2))
        #expect(DiagnosticPrinter(useColor: false).render(d) == "f:1:2: error: message [bad-value]")
        #expect(DiagnosticPrinter(useColor: true).render(d).contains("\u{1B}["))
        #expect(!DiagnosticPrinter.forDescriptor(1, environment: ["NO_COLOR": "1"]).useColor)
        // A pipe is not a terminal.
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        #expect(!DiagnosticPrinter.forDescriptor(fds[1], environment: [:]).useColor)
    }

    @Test("validate's text on the valid fixture matches the recorded file")
    func validateText() throws {
        let fixtures = CLI.root.appendingPathComponent("Tests/CrisisPlaybookTests/Fixtures")
        let reports = ValidationReport.check(
            files: [fixtures.appendingPathComponent("valid/small.yaml").path],
            contactsPath: fixtures.appendingPathComponent("valid/contacts.yaml").path)
        let text = ValidationText.text(reports).replacingOccurrences(of: fixtures.path + "/", with: "")
        let expected = try String(
            contentsOf: fixtures.appendingPathComponent("valid/small.validate.expected.txt"), encoding: .utf8)
        #expect(text == expected)
    }
}
