import CrisisCore
import Foundation
import Testing

@testable import CrisisPlaybook

/// Locates the fixtures copied into the test bundle, and the source copy used when recording golden files.
enum Fixtures {
    static func root() throws -> URL {
        try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    }

    static func path(_ relative: String) throws -> String {
        try root().appendingPathComponent(relative).path
    }

    /// The fixtures directory in the source tree (golden files are recorded there).
    static var sourceRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    static func files(in directory: String, ext: String = "yaml") throws -> [String] {
        let dir = try root().appendingPathComponent(directory)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        return names.filter { $0.hasSuffix("." + ext) }.sorted()
    }
}

/// `path:line:column code` keys for comparing diagnostics with `# expect:` lines.
func key(_ d: Diagnostic, relativeTo base: String, primary: String) -> String {
    var file = d.location.file
    if file == primary { return "\(d.location.line):\(d.location.column) \(d.code.rawValue)" }
    if file.hasPrefix(base + "/") { file = String(file.dropFirst(base.count + 1)) }
    return "\(file):\(d.location.line):\(d.location.column) \(d.code.rawValue)"
}

/// The `# expect: [file:]line:column code` lines of a fixture, and its `# contacts: FILE` directive.
func expectations(of bytes: [UInt8]) -> (expected: [String], contacts: String?) {
    let text = String(decoding: bytes, as: UTF8.self)
    var expected: [String] = []
    var contacts: String?
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("# expect: ") { expected.append(String(line.dropFirst("# expect: ".count))) }
        if line.hasPrefix("# contacts: ") { contacts = String(line.dropFirst("# contacts: ".count)) }
    }
    return (expected, contacts)
}

func loadYAML(_ text: String, path: String = "test.yaml") -> LoadResult {
    PlaybookLoader.load(bytes: Array(text.utf8), path: path)
}

/// A minimal valid playbook around the given steps (and extra top-level YAML).
func playbookYAML(top: String = "", start: String = "a", steps: String) -> String {
    """
    schema: crisis-playbook/v1
    id: test
    version: "1"
    title: Test
    roles:
      lead: {title: Lead, lead: true}
    \(top)
    start: \(start)
    steps:
    \(steps)
    """
}
