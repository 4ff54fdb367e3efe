import CrisisCore
import Foundation
import Testing

@testable import CrisisPlaybook

/// Every file under Fixtures/broken/ declares the diagnostics it must produce (`# expect: line:column code`).
/// The run must produce each of them exactly (line, column and code), and no error that is not expected.
@Suite("Broken playbook corpus")
struct FixtureTests {
    static let playbookFixtures: [String] = (try? Fixtures.files(in: "broken")) ?? []
    static let contactsFixtures: [String] = (try? Fixtures.files(in: "broken/contacts")) ?? []

    @Test("The corpus is there")
    func corpusExists() {
        #expect(Self.playbookFixtures.count >= 40)
        #expect(Self.contactsFixtures.count >= 2)
    }

    @Test("Each broken playbook gives exactly its expected diagnostics", arguments: playbookFixtures)
    func brokenPlaybook(_ name: String) throws {
        let base = try Fixtures.path("broken")
        let path = base + "/" + name
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let (expected, contactsFile) = expectations(of: bytes)
        #expect(!expected.isEmpty, "fixture \(name) declares no '# expect:' line")
        var contacts: ContactsDirectory?
        if let contactsFile {
            let (directory, diagnostics) = ContactsLoader.load(path: base + "/" + contactsFile)
            #expect(!diagnostics.hasErrors)
            contacts = directory
        }
        let result = PlaybookLoader.loadValidated(path: path, contacts: contacts)
        let actual = result.diagnostics.map { key($0, relativeTo: base, primary: path) }
        for e in expected {
            #expect(actual.contains(e), "\(name): expected \(e), got \(result.diagnostics.map(\.description))")
        }
        for d in result.diagnostics where d.isError {
            let k = key(d, relativeTo: base, primary: path)
            #expect(expected.contains(k), "\(name): unexpected \(d)")
        }
        #expect((result.playbook == nil) == result.hasErrors)
    }

    @Test("Each broken contacts directory gives exactly its expected diagnostics", arguments: contactsFixtures)
    func brokenContacts(_ name: String) throws {
        let base = try Fixtures.path("broken/contacts")
        let path = base + "/" + name
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let (expected, _) = expectations(of: bytes)
        let (directory, diagnostics) = ContactsLoader.load(path: path)
        let actual = diagnostics.map { key($0, relativeTo: base, primary: path) }
        for e in expected { #expect(actual.contains(e), "\(name): expected \(e), got \(diagnostics)") }
        for d in diagnostics where d.isError {
            #expect(expected.contains(key(d, relativeTo: base, primary: path)), "\(name): unexpected \(d)")
        }
        #expect((directory == nil) == diagnostics.hasErrors)
    }

    /// One fixture at least for every rule the loader, validator and contacts loader implement.
    @Test("Every diagnostic code has a fixture")
    func everyCodeCovered() throws {
        var covered = Set<String>()
        for dir in ["broken", "broken/contacts"] {
            for name in try Fixtures.files(in: dir) {
                let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try Fixtures.path(dir + "/" + name))))
                for e in expectations(of: bytes).expected {
                    if let code = e.split(separator: " ").last { covered.insert(String(code)) }
                }
            }
        }
        // Checked by generated tests instead (AttackTests): too large to commit, or not about file content.
        let generated: Set<DiagnosticCode> = [.fileTooLarge, .unreadableFile, .tooWide]
        // Every code of the enum: a new code without a fixture fails here.
        for code in DiagnosticCode.allCases where !generated.contains(code) {
            #expect(covered.contains(code.rawValue), "no fixture under Fixtures/broken expects \(code.rawValue)")
        }
    }
}
