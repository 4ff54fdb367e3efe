import Foundation
import GRDB
import Testing

@testable import CrisisAudit

/// Keeps docs/audit-format.md honest: its examples are recomputed and its verifier script is run for real.
enum Docs {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/audit-format.md").path

    static func text() throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// The fenced block that follows `<!-- marker -->`.
    static func block(after marker: String) throws -> String {
        let doc = try text()
        guard let m = doc.range(of: "<!-- \(marker) -->"),
            let open = doc.range(of: "```", range: m.upperBound..<doc.endIndex),
            let lineEnd = doc.range(of: "\n", range: open.upperBound..<doc.endIndex),
            let close = doc.range(of: "\n```", range: lineEnd.upperBound..<doc.endIndex)
        else { throw PythonRunner.PythonFailure(message: "no block after \(marker) in \(path)") }
        return String(doc[lineEnd.upperBound..<close.lowerBound]) + "\n"
    }
}

@Suite("Documentation")
struct DocsTests {
    struct ScriptResult {
        var status: Int32
        var out: String
        var err: String
    }

    static func runScript(_ db: String, _ incident: String) throws -> ScriptResult? {
        guard let python = PythonRunner.find() else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", try Docs.block(after: "verify-trail.py"), db, incident]
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return ScriptResult(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self),
                            err: String(decoding: e, as: UTF8.self))
    }

    @Test("The Python verifier in the docs agrees with verify on a clean trail",
          .enabled(if: PythonRunner.find() != nil, "needs python3"))
    func pythonVerifierClean() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 20)
        let signer = try CheckpointSigner(name: "ops.example", seed: Array(repeating: 0x42, count: 32))
        try store.issueCheckpoint(incident: "INC-1", signer: signer, at: Fixture.t0)
        _ = try store.append(incident: "INC-1", expectedSeq: nil, events: [Fixture.note(99, text: "caf\u{E9} \u{1} \"x\"\n")])
        let report = try store.verify(incident: "INC-1")
        #expect(report.ok)
        let result = try #require(try Self.runScript(dir.file("audit.sqlite"), "INC-1"))
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out == "ok INC-1: \(report.recordCount) records, chain head \(report.chainHead ?? ""), "
            + "merkle root \(report.merkleRoot)\n")
    }

    @Test("The Python verifier in the docs names the first bad seq of a tampered trail",
          .enabled(if: PythonRunner.find() != nil, "needs python3"))
    func pythonVerifierTampered() throws {
        let dir = try TempDir()
        let store = try Fixture.store(in: dir, notes: 5)
        let raw = try Fixture.raw(dir.file("audit.sqlite"))
        _ = try Tamper.dropTriggers(raw)
        let original = try Tamper.record(raw, seq: 3)
        try Tamper.setRecord(raw, seq: 3, Tamper.replacing(original, "note 2", "note 7"))
        #expect(try store.verify(incident: "INC-1").firstBadSeq == 3)
        let edited = try #require(try Self.runScript(dir.file("audit.sqlite"), "INC-1"))
        #expect(edited.status != 0)
        #expect(edited.err.contains("FAIL seq 3: entry_hash"), "\(edited.err)")
        // A non-canonical record whose hash was recomputed: the canonical check catches it.
        try Tamper.setRecord(raw, seq: 3, original, rehash: true)
        let spaced = Tamper.replacing(try Tamper.record(raw, seq: 2), "\"note 1\"", " \"note 1\"")
        try Tamper.setRecord(raw, seq: 2, spaced, rehash: true)
        #expect(try store.verify(incident: "INC-1").firstBadSeq == 2)
        let nonCanonical = try #require(try Self.runScript(dir.file("audit.sqlite"), "INC-1"))
        #expect(nonCanonical.err.contains("FAIL seq 2: record is not canonical"), "\(nonCanonical.err)")
        // A float sneaked into a record, hash recomputed.
        try Tamper.setRecord(raw, seq: 2, Tamper.replacing(spaced, " \"note 1\"", "1.5"), rehash: true)
        let float = try #require(try Self.runScript(dir.file("audit.sqlite"), "INC-1"))
        #expect(float.err.contains("FAIL seq 2: record is not canonical"), "\(float.err)")
    }

    @Test("The shell one-liner in the docs computes entry_hash(1)")
    func shellEntryHash() throws {
        for tool in ["/usr/bin/sqlite3", "/usr/bin/xxd", "/usr/bin/sha256sum", "/bin/bash"]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            return
        }
        let dir = try TempDir()
        let store = try Golden.exampleStore(in: dir)
        let command = try Docs.block(after: "shell-entry-hash")
            .replacingOccurrences(of: "audit.sqlite", with: dir.file("example.sqlite"))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", command]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(String(decoding: data, as: UTF8.self) == "\(Golden.entry1)  -\n")
        #expect(try store.events(incident: "INC-1")[0].entryHashHex == Golden.entry1)
    }

    @Test("The worked example and the example checkpoint in the docs are what the code computes")
    func examples() throws {
        let doc = try Docs.text()
        for value in [Golden.playbookSHA256, Golden.genesis, Golden.record1, Golden.record2, Golden.entry1,
                      Golden.entry2, Golden.leaf1, Golden.leaf2, Golden.root2]
        {
            #expect(doc.contains(value), "docs lack \(value)")
        }
        let dir = try TempDir()
        let store = try Golden.exampleStore(in: dir)
        let signer = try CheckpointSigner(name: "ops.example", seed: Array(repeating: 0x42, count: 32))
        let cp = try store.issueCheckpoint(incident: "INC-1", signer: signer, at: Fixture.t0)
        #expect(try Docs.block(after: "example-checkpoint") == cp.note)
        #expect(doc.contains("Verifier key: `\(signer.verifierKey)`"))
        let verifier = try CheckpointVerifier(verifierKey: signer.verifierKey)
        #expect(try store.verifyCheckpoint(note: Docs.block(after: "example-checkpoint"), verifier: verifier,
                                           incident: "INC-1").treeSize == 2)
        // The documented decoding error.
        do {
            _ = try CanonicalJSON.decode(Array(#"{"a":{"b":[1,01]}}"#.utf8))
            Issue.record("accepted a leading zero")
        } catch {
            #expect(doc.contains("`\(error)`"), "\(error)")
        }
    }
}
