import CrisisAudit
import Foundation
import Testing

/// `crisis export --format bundle --redact contacts`: no phone number or e-mail address of the contacts file is
/// left anywhere in the bundle, both verifiers accept it and say what they could not check, and a mutation of
/// what is not redacted is still caught.
@Suite(.serialized)
struct ExportRedactTests {
    /// Every address in the fixture's contacts file (show-contacts.yaml).
    static let addresses = [
        "+47 900 00 001", "+47 900 00 002", "+47 900 00 003", "lars@example.no", "hanne@example.no", "per@example.no",
    ]

    /// A drill of the show playbook (its escalation pages by SMS at the start: the delivery records name people,
    /// not addresses), notes that name phone numbers and e-mail addresses, and a checkpoint. Returns the incident id and the checkpoint's verifier key.
    static func incident(_ cli: CLI) throws -> (id: String, key: String) {
        let start = try cli.run([
            "start", ExportBundleTests.show, "--drill", "--contacts", ExportBundleTests.contacts,
            "--clock", "2026-03-02T09:00:00+01:00", "--set", "post_url=https://x.com/someone/status/1790",
        ])
        #expect(start.status == 0, "\(start.stderr)")
        let id = start.lastLine
        for text in ["Call Jonas on +47 900 00 002 or mail lars@example.no and hanne@example.no",
                     "no address here", "reached per@example.no; stranger at +1 (555) 010-9999 and x.y@corp.example"]
        {
            #expect(try cli.run(["note", id, text]).status == 0)
        }
        let cp = try cli.run(["checkpoint", id])
        #expect(cp.status == 0, "\(cp.stderr)")
        let key = try #require(cp.stderr.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(try cli.run(["note", id, "after the checkpoint: per@example.no"]).status == 0)
        return (id, key)
    }

    /// The addresses found in any file of `bundle`, with the file.
    static func leaks(_ bundle: String, of addresses: [String]) throws -> [String] {
        var found: [String] = []
        for file in try ExportBundleTests.files(bundle) {
            let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: bundle + "/" + file)), as: UTF8.self)
            for a in addresses where text.contains(a) { found.append("\(file): \(a)") }
        }
        return found
    }

    @Test("a redacted bundle holds no address of the contacts file, and both verifiers accept it")
    func redactedRoundTrip() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (id, key) = try Self.incident(cli)
        // Without --redact the addresses are there (in the notes, the delivery records and the contacts file).
        let plain = cli.dir.appendingPathComponent("plain.bundle").path
        #expect(try cli.run(["export", id, "-o", plain]).status == 0)
        #expect(Set(try Self.leaks(plain, of: Self.addresses).map { $0.split(separator: ":").last! }).count
            == Self.addresses.count, "the fixture should name every address somewhere")

        let bundle = cli.dir.appendingPathComponent("redacted.bundle").path
        let export = try cli.run(["export", id, "--redact", "contacts", "-o", bundle])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stderr.contains("redacted (contacts):"), "\(export.stderr)")
        let leaks = try Self.leaks(bundle, of: Self.addresses)
        #expect(leaks.isEmpty, "\(leaks)")
        // Addresses that are not in the contacts file are left out too (a `+` phone number, an e-mail address).
        #expect(try Self.leaks(bundle, of: ["+1 (555) 010-9999", "x.y@corp.example"]).isEmpty)
        let records = try String(contentsOfFile: bundle + "/records.jsonl", encoding: .utf8)
        #expect(records.contains("Call Jonas on [redacted] or mail [redacted] and [redacted]"))
        #expect(records.contains("no address here"))

        // The manifest says so; the contacts file is a redacted copy, marked in incident.json.
        let manifest = try CanonicalJSON.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: bundle + "/manifest.json"))))
        let redaction = try #require(manifest["redaction"])
        #expect(redaction["kind"]?.stringValue == "contacts")
        let stubs = try #require(redaction["records"]?.intValue)
        #expect(stubs == 3, "the three notes that name an address: \(stubs)")
        let files = try #require(redaction["files"]?.arrayValue?.compactMap { $0.stringValue })
        #expect(files.count == 1 && files[0].hasSuffix("show-contacts.yaml"))
        let contacts = try String(contentsOfFile: bundle + "/" + files[0], encoding: .utf8)
        #expect(contacts.contains("address: \"[redacted]\"") && contacts.contains("kari.lead"))

        // Same chain head and root as the database: the stubs carry the original hashes.
        let db = try cli.run(["verify", id, "--json"]).stdout
        let ours = try cli.run(["verify", bundle, "--verifier-key", key])
        #expect(ours.status == 0, "\(ours.stdout)\(ours.stderr)")
        #expect(ours.stdout.contains("not checked: \(stubs) records are redacted (contacts): their contents are not checked"))
        #expect(ours.stdout.contains("is a redacted copy (contacts)"))
        let json = try cli.run(["verify", bundle, "--verifier-key", key, "--json"]).json()
        let head = try #require(json["head"] as? String)
        let root = try #require(json["merkle_root"] as? String)
        #expect(db.contains(head) && db.contains(root))
        let anchored = try #require(json["anchored_up_to"] as? Int)
        #expect(anchored > 1)
        let py = try ExportBundleTests.python(bundle, key: key)
        #expect(py.status == 0, "\(py.stdout)\(py.stderr)")
        #expect(py.stdout.contains("head \(head), merkle root \(root)"))
        #expect(py.stdout.contains("\(stubs) records are redacted (contacts)"))
        #expect(py.stdout.contains("records 1..\(anchored) are anchored"))
    }

    @Test("a mutation of a redacted bundle is caught: an unredacted record, a stub's hashes, its redaction count")
    func mutations() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (id, key) = try Self.incident(cli)
        let bundle = cli.dir.appendingPathComponent("m.bundle").path
        #expect(try cli.run(["export", id, "--redact", "contacts", "-o", bundle]).status == 0)
        let trusted = try CheckpointVerifier(verifierKey: key)
        #expect(try BundleVerifier.verify(bundle: bundle, trustedKey: trusted).ok)
        let url = URL(fileURLWithPath: bundle + "/records.jsonl")
        let original = try String(contentsOf: url, encoding: .utf8)
        var lines = original.split(separator: "\n").map(String.init)

        func caught(_ what: String, rewriteManifest: Bool) throws {
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
            if rewriteManifest { try Self.rewriteManifest(bundle) }
            let report = try BundleVerifier.verify(bundle: bundle, trustedKey: trusted)
            #expect(!report.ok, "\(what) was not caught by crisis")
            let py = try ExportBundleTests.python(bundle, key: key)
            #expect(py.status == 3, "\(what) was not caught by Python: \(py.stdout)\(py.stderr)")
            let cliVerdict = try cli.run(["verify", bundle])
            #expect(cliVerdict.status == 3, "\(what): \(cliVerdict.stdout)")
            lines = original.split(separator: "\n").map(String.init)
            try Data(original.utf8).write(to: url)
            try Self.rewriteManifest(bundle)
        }

        // An unredacted note, edited, with and without a recomputed manifest.
        let plain = try #require(lines.firstIndex { $0.contains("no address here") })
        lines[plain] = lines[plain].replacingOccurrences(of: "no address here", with: "no adress here")
        try caught("an edited unredacted record", rewriteManifest: false)
        lines[plain] = lines[plain].replacingOccurrences(of: "no address here", with: "no adress here")
        try caught("an edited unredacted record under a recomputed manifest", rewriteManifest: true)
        // A stub's entry hash: the next record no longer links to it.
        let stub = try #require(lines.firstIndex { $0.contains(#""redacted":{"entry_hash":""#) })
        let hashAt = try #require(lines[stub].range(of: #""entry_hash":""#)).upperBound
        var chars = Array(lines[stub])
        let i = lines[stub].distance(from: lines[stub].startIndex, to: hashAt)
        chars[i] = chars[i] == "0" ? "1" : "0"
        lines[stub] = String(chars)
        try caught("a stub's entry hash", rewriteManifest: true)
        // A stub's leaf hash: the checkpoint's Merkle root no longer matches.
        let leafAt = try #require(lines[stub].range(of: #""leaf_hash":""#)).upperBound
        chars = Array(lines[stub])
        let j = lines[stub].distance(from: lines[stub].startIndex, to: leafAt)
        chars[j] = chars[j] == "0" ? "1" : "0"
        lines[stub] = String(chars)
        try caught("a stub's leaf hash", rewriteManifest: true)
        // An unredacted record turned into a stub behind a manifest that still declares the old count.
        let turned = try #require(lines.firstIndex { $0.contains("no address here") })
        let hashes = try String(contentsOfFile: bundle + "/hashes.txt", encoding: .utf8).split(separator: "\n")
        let entry = String(hashes[turned].split(separator: " ")[2])
        lines[turned] = lines[turned].replacingOccurrences(
            of: #","seq":"#, with: #","redacted":{"entry_hash":"\#(entry)","leaf_hash":"\#(String(repeating: "0", count: 64))"},"seq":"#)
        try caught("a record turned into a stub", rewriteManifest: true)
        // Still intact after all that.
        #expect(try BundleVerifier.verify(bundle: bundle, trustedKey: trusted).ok)
        #expect(try ExportBundleTests.python(bundle, key: key).status == 0)
    }

    /// Rewrites `manifest.json` to match the files as they are now, keeping its `redaction` member.
    static func rewriteManifest(_ bundle: String) throws {
        let url = URL(fileURLWithPath: bundle + "/manifest.json")
        let old = try CanonicalJSON.decode([UInt8](try Data(contentsOf: url)))
        var entries: [CanonicalValue] = []
        for file in try ExportBundleTests.files(bundle) where file != "manifest.json" {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: bundle + "/" + file)))
            entries.append(.object([("path", .string(file)), ("sha256", .string(sha256Hex(bytes))),
                                    ("size", .integer(Int64(bytes.count)))]))
        }
        var members: [(String, CanonicalValue)] = [("files", .array(entries)), ("format", .string("crisis-bundle/1"))]
        if let redaction = old["redaction"] { members.append(("redaction", redaction)) }
        try Data(try CanonicalJSON.encode(.object(members))).write(to: url)
    }

    @Test("--redact is refused for other formats and unknown kinds")
    func refusals() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (id, _) = try Self.incident(cli)
        #expect(try cli.run(["export", id, "--format", "jsonl", "--redact", "contacts"]).status != 0)
        #expect(try cli.run(["export", id, "--redact", "everything"]).status != 0)
    }
}
