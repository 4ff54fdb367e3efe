import CrisisAudit
import CrisisCore
import Foundation
import Testing

/// Reading commands on evidence: they never create a key or any other file, and read a database on read-only
/// media.
@Suite(.serialized)
struct ReadOnlyTests {
    static let mini = "Tests/CrisisCLITests/Fixtures/mini.yaml"

    func startMini(_ cli: CLI) throws -> String {
        let r = try cli.run(["start", Self.mini, "--set", "post_url=https://x.com/someone/status/1", "--drill",
                             "--clock", "2025-10-24T10:05:00+02:00"])
        #expect(r.status == 0, "start failed: \(r.stderr)")
        return r.lastLine
    }

    func listing(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
    }

    /// An incident with a checkpoint note, and a copy of its database alone in a new folder (no key there).
    func evidenceCopy(_ cli: CLI) throws -> (id: String, note: String, verifier: String, folder: String, db: String) {
        let id = try startMini(cli)
        _ = try cli.run(["note", id, "before the checkpoint"])
        let cp = try cli.run(["checkpoint", id])
        #expect(cp.status == 0, "\(cp.stderr)")
        let verifier = try #require(cp.stderr.split(separator: " ").last)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let note = cli.dir.appendingPathComponent("cp.note").path
        try Data(cp.stdout.utf8).write(to: URL(fileURLWithPath: note))
        let folder = cli.dir.appendingPathComponent("evidence").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let db = folder + "/copy.sqlite"
        try FileManager.default.copyItem(atPath: cli.db, toPath: db)
        return (id, note, verifier, folder, db)
    }

    @Test("verify of an evidence copy with no key beside it creates no key and exits 0 for an intact chain")
    func verifyCreatesNoKey() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let e = try evidenceCopy(cli)
        let before = try listing(e.folder)
        let v = try cli.run(["verify", e.id, "--db", e.db], withDB: false)
        #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
        #expect(v.stdout.contains("chain intact"))
        #expect(v.stdout.contains("not checked against an external checkpoint"))
        #expect(try listing(e.folder) == before)
        #expect(!FileManager.default.fileExists(atPath: e.folder + "/crisis-checkpoint.key"))
    }

    @Test("verify --checkpoint with no key available is a usage error (exit 2) that names the fix, not a tamper alarm")
    func checkpointWithoutKeyIsUsage() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let e = try evidenceCopy(cli)
        let before = try listing(e.folder)
        let v = try cli.run(["verify", e.id, "--db", e.db, "--checkpoint", e.note], withDB: false)
        #expect(v.status == 2, "\(v.stdout)\(v.stderr)")
        #expect(v.stderr.contains("--verifier-key"))
        #expect(!v.stdout.contains("TAMPERED") && !v.stdout.contains("FAILED"))
        #expect(try listing(e.folder) == before, "verify created a file")
        let j = try cli.run(["verify", e.id, "--db", e.db, "--checkpoint", e.note, "--json"], withDB: false)
        #expect(j.status == 2)
        #expect(j.stdout.contains("\"usage\""))

        // With the published verifier key, or the original key file, the same note checks out.
        let ok = try cli.run(["verify", e.id, "--db", e.db, "--checkpoint", e.note, "--verifier-key", e.verifier],
                             withDB: false)
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        let withKey = try cli.run(["verify", e.id, "--db", e.db, "--checkpoint", e.note,
                                   "--key", cli.dir.appendingPathComponent("crisis-checkpoint.key").path], withDB: false)
        #expect(withKey.status == 0, "\(withKey.stdout)\(withKey.stderr)")
        #expect(try listing(e.folder) == before, "verify created a file")

        // A malformed verifier key is a usage error too.
        let bad = try cli.run(["verify", e.id, "--db", e.db, "--checkpoint", e.note, "--verifier-key", "nonsense"],
                              withDB: false)
        #expect(bad.status == 2, "\(bad.stdout)\(bad.stderr)")
    }

    @Test("status, show, log and list of an evidence copy create no file")
    func readersCreateNothing() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let e = try evidenceCopy(cli)
        let before = try listing(e.folder)
        for args in [["status", e.id], ["show", e.id, "triage"], ["log", e.id], ["log", e.id, "--json"], ["list"]] {
            let r = try cli.run(args + ["--db", e.db], withDB: false)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            #expect(try listing(e.folder) == before, "\(args) created a file")
        }
    }

    static let readers: [[String]] = [["status"], ["show", "triage"], ["log"], ["log", "--raw"], ["list"], ["verify"]]

    /// Runs every reader on `db` with the incident id (list takes none) and expects each to succeed.
    func readAll(_ cli: CLI, id: String, db: String, env: [String: String] = [:]) throws {
        for args in Self.readers {
            let full = args.first == "list" ? args : [args[0], id] + args.dropFirst()
            let r = try cli.run(full + ["--db", db], withDB: false, env: env)
            #expect(r.status == 0, "\(full): \(r.stdout)\(r.stderr)")
            #expect(!r.stderr.contains("readonly"), "\(full): \(r.stderr)")
        }
    }

    @Test("CRISIS_READ_ONLY=1: every reader opens the database read-only (immutable), and creates no file at all")
    func forcedReadOnly() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let e = try evidenceCopy(cli)
        let before = try listing(e.folder)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: e.db))
        try readAll(cli, id: e.id, db: e.db, env: ["CRISIS_READ_ONLY": "1"])
        // A read-write open would create the -wal and -shm while open (and remove them at close); a read-only
        // one never writes the file either.
        #expect(try listing(e.folder) == before)
        #expect(try Data(contentsOf: URL(fileURLWithPath: e.db)) == bytes)
    }

    @Test("the read-only store: reads everything, refuses writes before SQLite, creates no -wal or -shm")
    func readOnlyStore() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let e = try evidenceCopy(cli)
        let before = try listing(e.folder)
        let store = try SQLiteAuditLog(path: e.db, mode: .readOnly)
        #expect(store.isReadOnly)
        #expect(try store.incidents().map(\.id) == [e.id])
        let raw = try store.rawRecords(incident: e.id)
        #expect(raw.count == (try store.events(incident: e.id)).count)
        #expect(raw.allSatisfy { $0.problems.isEmpty })
        #expect(try store.verify(incident: e.id).firstBadSeq == nil)
        let signer = try CheckpointSigner(name: "test", seed: Array(repeating: 7, count: 32))
        #expect(throws: AuditError.self) {
            try store.issueCheckpoint(incident: e.id, signer: signer, at: Instant(millisecondsSinceEpoch: 1_800_000_000_000))
        }
        #expect(try listing(e.folder) == before)
        // A writable copy opened as existing stays an ordinary read-write store.
        #expect(!(try SQLiteAuditLog(path: cli.db, mode: .existing)).isReadOnly)
    }

    @Test("a copy whose -wal still holds records is read through its -shm (mode=ro), never from the main file alone")
    func walCopy() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let id = try startMini(cli)
        // An open connection keeps the WAL from being checkpointed into the main file when the CLI exits.
        let holder = try SQLiteAuditLog(path: cli.db, mode: .existing)
        _ = try cli.run(["note", id, "only in the wal"])
        let folder = cli.dir.appendingPathComponent("walcopy").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        for suffix in ["", "-wal", "-shm"] {
            try FileManager.default.copyItem(atPath: cli.db + suffix, toPath: folder + "/copy.sqlite" + suffix)
        }
        let walSize = try FileManager.default.attributesOfItem(atPath: folder + "/copy.sqlite-wal")[.size] as? Int
        #expect((walSize ?? 0) > 0, "the test needs records in the WAL")
        let expected = try holder.events(incident: id).count
        let store = try SQLiteAuditLog(path: folder + "/copy.sqlite", mode: .readOnly)
        #expect(try store.events(incident: id).count == expected)
        let log = try cli.run(["log", id, "--db", folder + "/copy.sqlite"], withDB: false, env: ["CRISIS_READ_ONLY": "1"])
        #expect(log.status == 0, "\(log.stderr)")
        #expect(log.stdout.contains("only in the wal"))
    }

    /// Whether this process may make a private mount namespace with a read-only tmpfs (root with
    /// CAP_SYS_ADMIN, as in CI containers run privileged, and on this development machine).
    static let canMountReadOnly: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "command -v unshare >/dev/null && d=$(mktemp -d) && unshare -m sh -c "
                       + "\"mount -t tmpfs tmpfs $d && mount -o remount,ro $d\" >/dev/null 2>&1; r=$?; rmdir $d; exit $r"]
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    @Test("a database on a read-only mount (a private read-only tmpfs): every reader works, as root too",
          .enabled(if: canMountReadOnly))
    func readOnlyMount() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let e = try evidenceCopy(cli)
        let mountPoint = cli.dir.appendingPathComponent("ro").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        // Inside a private mount namespace (gone when the shell exits): copy the database onto a tmpfs, remount
        // it read-only, check that writing really fails, then run every reader and the writer that must refuse.
        var script = "set -e; mount -t tmpfs tmpfs '\(mountPoint)'; cp '\(e.db)' '\(mountPoint)/db.sqlite'; "
            + "mount -o remount,ro '\(mountPoint)'; if touch '\(mountPoint)/x' 2>/dev/null; then echo WRITABLE; exit 9; fi; "
        for args in Self.readers {
            let full = args.first == "list" ? args : [args[0], e.id] + args.dropFirst()
            script += "\"$CRISIS\" \(full.joined(separator: " ")) --db '\(mountPoint)/db.sqlite' >/dev/null "
                + "|| { echo \"FAILED: \(full.joined(separator: " "))\"; \"$CRISIS\" \(full.joined(separator: " ")) "
                + "--db '\(mountPoint)/db.sqlite'; exit 8; }; "
        }
        script += "if \"$CRISIS\" note \(e.id) hi --db '\(mountPoint)/db.sqlite' >/dev/null 2>&1; then echo WROTE; exit 7; fi; "
            + "ls -a '\(mountPoint)'"
        let r = try cli.runShell("unshare -m sh -c \(shellQuote(script))")
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("db.sqlite") && !r.stdout.contains("db.sqlite-wal"), "\(r.stdout)")
    }

    @Test("as an ordinary user: a 0444 file in a 0555 folder is read by every reader",
          .enabled(if: getuid() != 0))
    func chmodReadOnly() throws {
        let cli = try CLI()
        defer {
            chmod(cli.dir.appendingPathComponent("evidence").path, 0o755)
            cli.remove()
        }
        let e = try evidenceCopy(cli)
        chmod(e.db, 0o444)
        chmod(e.folder, 0o555)
        try readAll(cli, id: e.id, db: e.db)
        #expect(try listing(e.folder) == ["copy.sqlite"])
    }

    func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
