import CrisisAudit
import Foundation
import Testing

/// `crisis export --format bundle|jsonl` and `crisis verify BUNDLE`, checked against the independent Python
/// verifier (scripts/verify-bundle) on round trips and on single-byte mutations of every bundle file.
@Suite(.serialized)
struct ExportBundleTests {
    static let show = "Tests/CrisisCLITests/Fixtures/show.yaml"
    static let contacts = "Tests/CrisisCLITests/Fixtures/show-contacts.yaml"
    static let script = CLI.root.appendingPathComponent("scripts/verify-bundle").path

    /// A drill with pinned templates and contacts, notes with hostile text, a checkpoint, then three more notes.
    /// Returns the incident id and the verifier key of the checkpoint.
    static func incident(_ cli: CLI) throws -> (id: String, key: String, anchored: Int) {
        let start = try cli.run([
            "start", show, "--drill", "--contacts", contacts, "--clock", "2026-03-02T09:00:00+01:00",
            "--set", "post_url=https://x.com/someone/status/1790",
        ])
        #expect(start.status == 0, "\(start.stderr)")
        let id = start.lastLine
        for text in ["first note", "bidi \u{202E}evil\u{202C} </script> \"q\" \\ tab\tend", "café — ok\nline 2"] {
            #expect(try cli.run(["note", id, text]).status == 0)
        }
        let cp = try cli.run(["checkpoint", id])
        #expect(cp.status == 0, "\(cp.stderr)")
        let key = try #require(cp.stderr.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines))
        let anchored = try #require(Int(cp.stdout.split(separator: "\n")[1]))
        for i in 0..<3 { #expect(try cli.run(["note", id, "after \(i)"]).status == 0) }
        return (id, key, anchored)
    }

    /// Runs the Python verifier.
    static func python(_ bundle: String, key: String? = nil) throws -> CLI.Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, bundle, "--quiet"] + (key.map { ["--key", $0] } ?? [])
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        return CLI.collect(p, out, err)
    }

    static func files(_ bundle: String) throws -> [String] {
        let walker = try #require(FileManager.default.enumerator(atPath: bundle))
        var out: [String] = []
        while let item = walker.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: bundle + "/" + item, isDirectory: &isDir), !isDir.boolValue {
                out.append(item)
            }
        }
        return out.sorted()
    }

    @Test("a bundle holds the records exactly as hashed and verifies with crisis and with the Python script")
    func roundTrip() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (id, key, n) = try Self.incident(cli)
        let before = try cli.run(["log", id, "--json"]).stdout
        let bundle = cli.dir.appendingPathComponent("out.bundle").path
        let export = try cli.run(["export", id, "--format", "bundle", "-o", bundle])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.lastLine == bundle)

        // The records are the bytes `log --json` prints (the stored canonical bytes), one per line.
        let logged = before.split(separator: "\n").dropFirst().dropLast().map { $0.hasSuffix(",") ? String($0.dropLast()) : String($0) }
        let lines = try String(contentsOfFile: bundle + "/records.jsonl", encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(lines == logged)
        let total = n + 4
        #expect(lines.count == total)
        let files = try Self.files(bundle)
        #expect(files.contains("manifest.json") && files.contains("README.txt") && files.contains("keys.txt"))
        #expect(files.filter { $0.hasPrefix("files/") }.count >= 3, "playbook, templates, contacts: \(files)")
        #expect(files.contains("checkpoints/tree-\(n)-seq-\(n + 1).note"))
        #expect(try String(contentsOfFile: bundle + "/keys.txt", encoding: .utf8) == key + "\n")
        // Export writes nothing to the database.
        #expect(try cli.run(["log", id, "--json"]).stdout == before)

        // Our verifier: intact; with the trusted key, records 1..5 anchored and 6..9 not.
        let plain = try cli.run(["verify", bundle])
        #expect(plain.status == 0, "\(plain.stdout)\(plain.stderr)")
        #expect(plain.stdout.contains("ok: \(total) records"))
        #expect(plain.stdout.contains("not checked: no trusted key"))
        let trusted = try cli.run(["verify", bundle, "--verifier-key", key])
        #expect(trusted.status == 0, "\(trusted.stdout)\(trusted.stderr)")
        #expect(trusted.stdout.contains("records 1..\(n) are anchored"))
        #expect(trusted.stdout.contains("records \(n + 1)..\(total) (4) are not externally anchored"))
        let json = try cli.run(["verify", bundle, "--verifier-key", key, "--json"]).json()
        #expect(json["anchored_up_to"] as? Int == n)
        #expect(json["unanchored_records"] as? Int == 4)
        // The key file that signed it works too, and is read, never created.
        let keyFile = cli.dir.appendingPathComponent("crisis-checkpoint.key").path
        #expect(try cli.run(["verify", bundle, "--key", keyFile]).stdout.contains("records 1..\(n) are anchored"))
        let missing = cli.dir.appendingPathComponent("nokey/none.key").path
        let noKey = try cli.run(["verify", bundle, "--key", missing])
        #expect(noKey.status == 1)
        #expect(!FileManager.default.fileExists(atPath: missing))

        // The independent verifier agrees, head and root included.
        let py = try Self.python(bundle, key: key)
        #expect(py.status == 0, "\(py.stdout)\(py.stderr)")
        #expect(py.stdout.contains("records 1..\(n) are anchored"))
        let head = try #require(json["head"] as? String)
        let root = try #require(json["merkle_root"] as? String)
        #expect(py.stdout.contains("head \(head), merkle root \(root)"))
        let verified = try cli.run(["verify", id, "--json"])
        #expect(verified.stdout.contains(head))

        // Another key anchors nothing; both say so and exit 0.
        let other = try CheckpointSigner(name: "other", seed: Array(repeating: 7, count: 32)).verifierKey
        #expect(try cli.run(["verify", bundle, "--verifier-key", other]).stdout.contains("no record is anchored"))
        #expect(try Self.python(bundle, key: other).stdout.contains("no record is anchored"))

        // Exporting again with --force gives the same bytes.
        let manifest = try Data(contentsOf: URL(fileURLWithPath: bundle + "/manifest.json"))
        #expect(try cli.run(["export", id, "-o", bundle, "--force"]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: bundle + "/manifest.json")) == manifest)
    }

    @Test("every incident of every golden trail exports to a bundle that both verifiers accept, with the same head")
    func goldenTrails() throws {
        let dir = CLI.root.appendingPathComponent("Tests/CrisisCLITests/Fixtures/trails")
        let databases = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".db") }.sorted()
        #expect(databases.count >= 6)
        for name in databases {
            let cli = try CLI()
            defer { cli.remove() }
            try FileManager.default.copyItem(atPath: dir.appendingPathComponent(name).path, toPath: cli.db)
            let list = try JSONSerialization.jsonObject(with: Data(try cli.run(["list", "--json"]).stdout.utf8))
            let ids = try #require(list as? [[String: Any]]).compactMap { $0["id"] as? String }
            #expect(!ids.isEmpty)
            for id in ids {
                let bundle = cli.dir.appendingPathComponent("\(id).bundle").path
                let export = try cli.run(["export", id, "-o", bundle])
                #expect(export.status == 0, "\(name) \(id): \(export.stderr)")
                let ours = try cli.run(["verify", bundle, "--json"]).json()
                #expect(ours["ok"] as? Bool == true, "\(name) \(id): \(ours)")
                let db = try cli.run(["verify", id, "--json"]).stdout
                #expect(db.contains(try #require(ours["head"] as? String)), "\(name) \(id)")
                let py = try Self.python(bundle)
                #expect(py.status == 0, "\(name) \(id): \(py.stdout)\(py.stderr)")
            }
        }
    }

    @Test("export refuses an existing path without --force, an unknown incident, an unwritable path and a foreign folder")
    func refusals() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (id, _, _) = try Self.incident(cli)
        let bundle = cli.dir.appendingPathComponent("b").path
        #expect(try cli.run(["export", id, "-o", bundle]).status == 0)
        let again = try cli.run(["export", id, "-o", bundle])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists; pass --force"))
        let unknown = try cli.run(["export", "no-such-incident", "-o", cli.dir.appendingPathComponent("u").path])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no-such-incident"))
        #expect(!FileManager.default.fileExists(atPath: cli.dir.appendingPathComponent("u").path))
        let blocker = cli.dir.appendingPathComponent("file").path
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        let unwritable = try cli.run(["export", id, "-o", blocker + "/inside"])
        #expect(unwritable.status == 1)
        #expect(unwritable.stderr.contains("cannot write"), "\(unwritable.stderr)")
        // A folder that is not a bundle is never replaced, even with --force.
        let home = cli.dir.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: home.appendingPathComponent("precious.txt"))
        let foreign = try cli.run(["export", id, "-o", home.path, "--force"])
        #expect(foreign.status == 1)
        #expect(foreign.stderr.contains("not a crisis bundle"))
        #expect(FileManager.default.fileExists(atPath: home.appendingPathComponent("precious.txt").path))
        // verify: a folder that is not a bundle, and a bundle missing a file.
        let notBundle = try cli.run(["verify", home.path])
        #expect(notBundle.status == 1)
        #expect(notBundle.stderr.contains("not a crisis bundle"))
        #expect(try Self.python(home.path).status == 1)
        try FileManager.default.removeItem(atPath: bundle + "/hashes.txt")
        let gone = try cli.run(["verify", bundle])
        #expect(gone.status == 3)
        #expect(gone.stdout.contains("hashes.txt: missing"), "\(gone.stdout)")
        let pyGone = try Self.python(bundle)
        #expect(pyGone.status == 3)
        #expect(pyGone.stdout.contains("hashes.txt: missing"), "\(pyGone.stdout)")
    }

    @Test("jsonl: one decoded record per line, to standard output or a file")
    func jsonl() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (id, _, n) = try Self.incident(cli)
        let r = try cli.run(["export", id, "--format", "jsonl"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == n + 4)
        for (i, line) in lines.enumerated() {
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(obj["seq"] as? Int == i + 1)
            #expect(obj["type"] is String && obj["recorded_at"] is String && obj["body"] is [String: Any])
            #expect((obj["actor"] as? [String: Any])?["id"] is String)
            #expect((obj["entry_hash"] as? String)?.count == 64)
        }
        let texts = try lines.compactMap {
            ((try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["body"] as? [String: Any])?["text"]
                as? String
        }
        #expect(texts.contains("bidi \u{202E}evil\u{202C} </script> \"q\" \\ tab\tend"))
        let file = cli.dir.appendingPathComponent("out.jsonl").path
        #expect(try cli.run(["export", id, "--format", "jsonl", "-o", file]).status == 0)
        #expect(try String(contentsOfFile: file, encoding: .utf8) == r.stdout)
        #expect(try cli.run(["export", id, "--format", "jsonl", "-o", file]).status == 1)
        #expect(try cli.run(["export", id, "--format", "jsonl", "-o", file, "--force"]).status == 0)
    }

    @Test("every single-byte mutation of every bundle file is caught by both verifiers")
    func mutations() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (id, key, _) = try Self.incident(cli)
        let bundle = cli.dir.appendingPathComponent("m.bundle").path
        #expect(try cli.run(["export", id, "-o", bundle]).status == 0)
        let trusted = try CheckpointVerifier(verifierKey: key)
        #expect(try BundleVerifier.verify(bundle: bundle, trustedKey: trusted).ok)
        var generator = ExportSplitMix(seed: 0x10_2026)
        var mutations = 0
        var python = 0
        for file in try Self.files(bundle) {
            let url = URL(fileURLWithPath: bundle + "/" + file)
            let original = try Data(contentsOf: url)
            // Every file gets at least 12 mutations, larger ones more: about 300 in all.
            let count = max(12, min(60, original.count / 40))
            for n in 0..<count {
                var bytes = [UInt8](original)
                let at = Int(generator.next() % UInt64(bytes.count))
                let delta = UInt8(1 + generator.next() % 255)
                bytes[at] = bytes[at] &+ delta
                try Data(bytes).write(to: url)
                let report = try BundleVerifier.verify(bundle: bundle, trustedKey: trusted)
                #expect(!report.ok, "\(file) byte \(at) +\(delta) was not caught by crisis")
                // The Python verifier on every third mutation and on the first two of each file.
                if n < 2 || n % 3 == 0 {
                    let py = try Self.python(bundle, key: key)
                    #expect(py.status == 3, "\(file) byte \(at) +\(delta) not caught by Python: \(py.stdout)\(py.stderr)")
                    python += 1
                }
                mutations += 1
            }
            try original.write(to: url)
        }
        // The binary on a few: it names the file.
        let records = URL(fileURLWithPath: bundle + "/records.jsonl")
        var bytes = [UInt8](try Data(contentsOf: records))
        bytes[40] ^= 0x01
        try Data(bytes).write(to: records)
        let bad = try cli.run(["verify", bundle])
        #expect(bad.status == 3)
        #expect(bad.stdout.contains("TAMPERED: records.jsonl"), "\(bad.stdout)")
        #expect(mutations >= 250, "only \(mutations) mutations")
        #expect(python >= 100)
    }

    /// Rewrites `manifest.json` so that it matches the files as they are now (what a forger would do).
    static func rewriteManifest(_ bundle: String) throws {
        var entries: [CanonicalValue] = []
        for file in try files(bundle) where file != "manifest.json" {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: bundle + "/" + file)))
            entries.append(.object([("path", .string(file)), ("sha256", .string(sha256Hex(bytes))),
                                    ("size", .integer(Int64(bytes.count)))]))
        }
        let manifest: CanonicalValue = .object([("files", .array(entries)), ("format", .string("crisis-bundle/1"))])
        try Data(try CanonicalJSON.encode(manifest)).write(to: URL(fileURLWithPath: bundle + "/manifest.json"))
    }

    @Test("beneath the manifest: a mutated file with a recomputed manifest is still caught, except README and exported_by")
    func mutationsWithRecomputedManifest() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (id, key, _) = try Self.incident(cli)
        let bundle = cli.dir.appendingPathComponent("r.bundle").path
        #expect(try cli.run(["export", id, "-o", bundle]).status == 0)
        let trusted = try CheckpointVerifier(verifierKey: key)
        var generator = ExportSplitMix(seed: 0x2026_1130)
        var caught = 0
        var python = 0
        for file in try Self.files(bundle) where file != "manifest.json" && file != "README.txt" {
            let url = URL(fileURLWithPath: bundle + "/" + file)
            let original = try Data(contentsOf: url)
            // exported_by is descriptive (who exported it), outside the evidence: its value is not checked.
            var skip = 0..<0
            if file == "incident.json", let r = String(decoding: original, as: UTF8.self).range(of: #""exported_by":"crisis [^"]*""#, options: .regularExpression) {
                let text = String(decoding: original, as: UTF8.self)
                let start = text.utf8.distance(from: text.startIndex, to: r.lowerBound) + #""exported_by":""#.utf8.count
                skip = start..<(text.utf8.distance(from: text.startIndex, to: r.upperBound) - 1)
            }
            for n in 0..<12 {
                var bytes = [UInt8](original)
                var at = Int(generator.next() % UInt64(bytes.count))
                while skip.contains(at) { at = Int(generator.next() % UInt64(bytes.count)) }
                let delta = UInt8(1 + generator.next() % 255)
                bytes[at] = bytes[at] &+ delta
                try Data(bytes).write(to: url)
                try Self.rewriteManifest(bundle)
                let report = try BundleVerifier.verify(bundle: bundle, trustedKey: trusted)
                #expect(!report.ok, "\(file) byte \(at) +\(delta) with a recomputed manifest was not caught by crisis")
                if n < 3 {
                    let py = try Self.python(bundle, key: key)
                    #expect(py.status == 3, "\(file) byte \(at) +\(delta) not caught by Python: \(py.stdout)\(py.stderr)")
                    python += 1
                }
                caught += 1
            }
            try original.write(to: url)
        }
        // What the manifest alone protects: README.txt. With a recomputed manifest an edit there passes.
        let readme = URL(fileURLWithPath: bundle + "/README.txt")
        try (try Data(contentsOf: readme) + Data("edited\n".utf8)).write(to: readme)
        try Self.rewriteManifest(bundle)
        #expect(try BundleVerifier.verify(bundle: bundle, trustedKey: trusted).ok)
        #expect(try Self.python(bundle, key: key).status == 0)
        #expect(caught >= 100 && python >= 25)
    }

    @Test("a record edited and re-chained with a new manifest is caught by the checkpoint, and by the trusted key")
    func coherentForgery() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (id, key, n) = try Self.incident(cli)
        let bundle = cli.dir.appendingPathComponent("f.bundle").path
        #expect(try cli.run(["export", id, "-o", bundle]).status == 0)
        // Rewrite note 2 (seq 3) and re-chain everything after it, then rebuild hashes, header and manifest:
        // only the checkpoint at seq 6 (whose signature covers the old tree head) exposes it.
        let forge = """
            import hashlib, json, os, sys
            b = sys.argv[1]
            lines = open(b + "/records.jsonl", "rb").read().split(b"\\n")[:-1]
            recs = [json.loads(l) for l in lines]
            inc = json.load(open(b + "/incident.json"))
            [r for r in recs if r["type"] == "operator.note"][1]["body"]["text"] = "forged"
            prev = bytes.fromhex(inc["genesis_hash"]); out = []; hashes = []
            for r in recs:
                r["prev"] = prev.hex()
                raw = json.dumps(r, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
                e = hashlib.sha256(b"crisis-audit:v1:entry\\x00" + raw).digest()
                hashes.append("%d %s %s\\n" % (r["seq"], prev.hex(), e.hex())); prev = e; out.append(raw)
            open(b + "/records.jsonl", "wb").write(b"".join(l + b"\\n" for l in out))
            open(b + "/hashes.txt", "w").write("".join(hashes))
            m = json.load(open(b + "/manifest.json"))
            for f in m["files"]:
                d = open(b + "/" + f["path"], "rb").read()
                f["sha256"] = hashlib.sha256(d).hexdigest(); f["size"] = len(d)
            open(b + "/manifest.json", "wb").write(json.dumps(m, sort_keys=True, separators=(",", ":")).encode())
            """
        let script = cli.dir.appendingPathComponent("forge.py").path
        try Data(forge.utf8).write(to: URL(fileURLWithPath: script))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, bundle]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let ours = try cli.run(["verify", bundle, "--verifier-key", key])
        #expect(ours.status == 3)
        #expect(ours.stdout.contains("record \(n + 1): checkpoint does not match records 1..\(n)"), "\(ours.stdout)")
        let py = try Self.python(bundle, key: key)
        #expect(py.status == 3)
        #expect(py.stdout.contains("record \(n + 1): checkpoint does not match records 1..\(n)"), "\(py.stdout)")
    }
}

/// A small deterministic generator (ExportSplitMix64), so a failing mutation can be reproduced.
struct ExportSplitMix {
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
