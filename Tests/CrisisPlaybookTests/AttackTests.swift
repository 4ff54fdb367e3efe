import CrisisCore
import Foundation
import Testing

@testable import CrisisPlaybook

/// Hostile input is refused quickly and cleanly, never expanded, executed or crashed on.
@Suite("Hostile YAML")
struct AttackTests {
    static func elapsed(_ body: () -> Void) -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        body()
        return clock.now - start
    }

    @Test("A billion-laughs alias bomb is refused in well under a second, at the first anchor")
    func billionLaughs() {
        var yaml = "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        for i in 1...9 {
            let refs = Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ",")
            yaml += "a\(i): &a\(i) [\(refs)]\n"
        }
        // An alias used as a mapping key would make Yams hash the expanded tree: the worst case.
        yaml += "? *a9\n: boom\n"
        var result: LoadResult?
        let time = Self.elapsed { result = loadYAML(yaml) }
        #expect(time < .seconds(1))
        let diagnostics = result?.diagnostics ?? []
        #expect(result?.partial == nil)
        #expect(diagnostics.first?.code == DiagnosticCode.yamlAlias)
        #expect(position(diagnostics.first) == "1:5")
        #expect(diagnostics.allSatisfy { $0.code == DiagnosticCode.yamlAlias })
        #expect(diagnostics.contains { $0.location.line == 11 && $0.message.contains("*a9") })
    }

    @Test("A 10 MB scalar is refused as too large, from bytes and from a file")
    func hugeScalar() throws {
        let big = "title: \"" + String(repeating: "x", count: 10_000_000) + "\"\n"
        let fromBytes = loadYAML(big)
        #expect(fromBytes.diagnostics.map(\.code) == [DiagnosticCode.fileTooLarge])
        #expect(fromBytes.diagnostics.first?.location.line == 1)

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("crisis-big-\(UUID().uuidString).yaml")
        try Data(big.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let fromFile = PlaybookLoader.load(path: url.path)
        #expect(fromFile.diagnostics.map(\.code) == [DiagnosticCode.fileTooLarge])
        #expect(fromFile.partial == nil)
    }

    @Test("Exactly 1 MiB is accepted as a size; one byte more is not")
    func sizeBoundary() {
        let filler = "# " + String(repeating: "x", count: YAMLReader.maximumBytes - 3) + "\n"
        #expect(filler.utf8.count == YAMLReader.maximumBytes)
        #expect(!loadYAML(filler).diagnostics.contains { $0.code == DiagnosticCode.fileTooLarge })
        #expect(loadYAML(filler + "\n").diagnostics.map(\.code) == [DiagnosticCode.fileTooLarge])
    }

    @Test("100,000 nested [ give one clean too-deep error, fast")
    func deepFlowNesting() {
        let yaml = String(repeating: "[", count: 100_000)
        var result: LoadResult?
        let time = Self.elapsed { result = loadYAML(yaml) }
        #expect(time < .seconds(1))
        #expect(result?.diagnostics.map(\.code) == [DiagnosticCode.tooDeep])
    }

    @Test("A mapping of 10,000 keys is read; one key more is refused at that key, before any tree is built, fast")
    func wideMapping() {
        func wide(_ keys: Int) -> String {
            "extra:\n" + (0..<keys).map { String(format: "  key%06d: v", $0) }.joined(separator: "\n") + "\n"
        }
        #expect(!loadYAML(wide(YAMLReader.maximumKeys)).diagnostics.contains { $0.code == DiagnosticCode.tooWide })
        var result: LoadResult?
        let time = Self.elapsed { result = loadYAML(wide(50_000)) }
        #expect(time < .seconds(1))
        let d = result?.diagnostics ?? []
        #expect(d.map(\.code) == [DiagnosticCode.tooWide])
        #expect(position(d.first) == "\(YAMLReader.maximumKeys + 2):3")
    }

    @Test("Nesting is refused at level 65 exactly, in block style too")
    func depthBoundary() {
        func nested(_ depth: Int) -> String {
            // depth mappings: k: / k: / ... / k: v
            (0..<depth).map { String(repeating: "  ", count: $0) + "k:" + ($0 == depth - 1 ? " v" : "") }
                .joined(separator: "\n")
        }
        #expect(!loadYAML(nested(64)).diagnostics.contains { $0.code == DiagnosticCode.tooDeep })
        let deep = loadYAML(nested(65)).diagnostics
        #expect(deep.map(\.code) == [DiagnosticCode.tooDeep])
        #expect(position(deep.first) == "65:129")
    }

    @Test("An invalid UTF-8 byte is reported at its line and column")
    func invalidUTF8() {
        var bytes = Array("schema: crisis-playbook/v1\ntitle: Blåbær ".utf8)
        bytes.append(0xC3)  // a lead byte with no continuation
        bytes.append(contentsOf: Array(" x\n".utf8))
        let result = PlaybookLoader.load(bytes: bytes, path: "p.yaml")
        #expect(result.diagnostics.count == 1)
        let d = result.diagnostics.first
        #expect(d?.code == DiagnosticCode.invalidUTF8)
        // "title: Blåbær " is 14 characters: the bad byte is the 15th.
        #expect(position(d) == "2:15")
    }

    @Test("Overlong encodings and UTF-8-encoded surrogates are invalid")
    func strictUTF8() {
        #expect(YAMLReader.firstInvalidUTF8([0x61, 0xC0, 0xAF]) == 1)
        #expect(YAMLReader.firstInvalidUTF8([0xED, 0xA0, 0x80]) == 0)
        #expect(YAMLReader.firstInvalidUTF8([0xF4, 0x90, 0x80, 0x80]) == 0)
        #expect(YAMLReader.firstInvalidUTF8(Array("æøå 😀".utf8)) == nil)
    }

    @Test("A UTF-8 byte order mark is accepted and does not shift columns")
    func byteOrderMark() {
        let yaml = playbookYAML(steps: "  a: {type: end, title: Done, outcome: resolved}")
        let result = PlaybookLoader.load(bytes: [0xEF, 0xBB, 0xBF] + Array(yaml.utf8), path: "bom.yaml")
        #expect(!result.hasErrors)
        #expect(result.playbook?.location.line == 1)
        #expect(result.playbook?.location.column == 1)
    }

    @Test("A Python tag is refused, never constructed")
    func pythonTag() {
        let result = loadYAML("title: !!python/object/apply:os.system [\"touch /tmp/pwned\"]\n")
        #expect(result.partial == nil)
        #expect(result.diagnostics.map(\.code) == [DiagnosticCode.yamlTag])
        #expect(result.diagnostics.first?.message.contains("!!python/object/apply:os.system") == true)
        #expect(position(result.diagnostics.first) == "1:8")
    }

    @Test("Custom tags and %TAG directives are refused")
    func customTags() {
        #expect(loadYAML("a: !custom x\n").diagnostics.map(\.code) == [DiagnosticCode.yamlTag])
        #expect(loadYAML("%TAG !e! tag:example.com,2000:\n---\na: 1\n").diagnostics.map(\.code) == [DiagnosticCode.yamlTag])
    }

    @Test("Thousands of anchors give a bounded number of diagnostics")
    func manyAnchors() {
        let yaml = (0..<5_000).map { "k\($0): &a\($0) v" }.joined(separator: "\n")
        let result = loadYAML(yaml)
        #expect(result.diagnostics.count == YAMLReader.maximumDiagnostics)
    }

    @Test("Duplicate keys are all reported, each at the repeated key")
    func duplicateKeys() {
        let result = loadYAML("a: 1\nb: 2\na: 3\nc:\n  x: 1\n  x: 2\n")
        let positions = result.diagnostics.map { "\($0.location.line):\($0.location.column) \($0.code.rawValue)" }
        #expect(positions == ["3:1 duplicate-key", "6:3 duplicate-key"])
    }

    @Test("Several documents in one file are refused")
    func multipleDocuments() {
        let result = loadYAML("a: 1\n---\nb: 2\n")
        #expect(result.diagnostics.map(\.code) == [DiagnosticCode.yamlSyntax])
        #expect(result.diagnostics.first?.location.line == 2)
    }

    @Test("Control characters and garbage do not crash the loader")
    func garbage() {
        var generator = SplitMix64(seed: 0x5EED)
        for _ in 0..<200 {
            let bytes = (0..<Int.random(in: 0..<200, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let result = PlaybookLoader.load(bytes: bytes, path: "g.yaml")
            #expect(result.hasErrors)
        }
        #expect(loadYAML("a: \u{0}\n").hasErrors)
        #expect(loadYAML("").diagnostics.map(\.code) == [DiagnosticCode.wrongType])
        #expect(loadYAML("- 1\n- 2\n").diagnostics.map(\.code) == [DiagnosticCode.wrongType])
    }
}

func position(_ d: Diagnostic?) -> String {
    d.map { "\($0.location.line):\($0.location.column)" } ?? "none"
}

/// A seeded generator so random tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
