import Foundation
import Testing

/// `crisis verify --help` says what the default checks and what `--deep` adds.
struct VerifyHelpTests {
    @Test("verify --help documents the default checks and --deep")
    func help() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let help = try cli.run(["verify", "--help"], withDB: false)
        #expect(help.status == 0)
        let text = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains("--deep"))
        #expect(text.contains("integrity_check"))
        #expect(text.contains("replay"))
        #expect(text.contains("every entry hash"))
    }
}
