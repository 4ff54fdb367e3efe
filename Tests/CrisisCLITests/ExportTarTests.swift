import Foundation
import Testing

/// `crisis export --format bundle -o NAME.tar`: the bundle as one POSIX ustar file, verified directly by
/// `crisis verify NAME.tar` and `scripts/verify-bundle NAME.tar`; single-byte mutations anywhere in it caught by
/// both; archives with links or names leaving the folder refused by both.
@Suite(.serialized)
struct ExportTarTests {
    static func runTool(_ args: [String]) throws -> CLI.Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.currentDirectoryURL = CLI.root
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        return CLI.collect(p, out, err)
    }

    @Test("a .tar bundle holds the bundle folder byte for byte and verifies with crisis and the Python script")
    func roundTrip() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (id, key, n) = try ExportBundleTests.incident(cli)
        let folder = cli.dir.appendingPathComponent("evidence.bundle").path
        #expect(try cli.run(["export", id, "-o", folder]).status == 0)
        let tar = cli.dir.appendingPathComponent("evidence.tar").path
        let export = try cli.run(["export", id, "--format", "bundle", "-o", tar])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.lastLine == tar)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: tar)[.size] as? Int)
        #expect(size % 10240 == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cli.dir.path).filter { $0.contains("partial") }.isEmpty)

        // GNU tar reads it as a plain ustar archive: the folder evidence/ with the same files, same bytes
        // (incident.json and manifest.json differ from the folder export only by nothing: same trail, same version).
        let listing = try Self.runTool(["tar", "-tvf", tar])
        #expect(listing.status == 0, "\(listing.stderr)")
        let names = listing.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
        #expect(names.first == "evidence/")
        let files = try ExportBundleTests.files(folder)
        #expect(names.filter { !$0.hasSuffix("/") }.sorted() == files.map { "evidence/" + $0 }.sorted())
        let unpacked = cli.dir.appendingPathComponent("unpacked").path
        try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: false)
        #expect(try Self.runTool(["tar", "-xf", tar, "-C", unpacked]).status == 0)
        for file in files {
            let a = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + file))
            let b = try Data(contentsOf: URL(fileURLWithPath: unpacked + "/evidence/" + file))
            #expect(a == b, "\(file)")
        }

        // Both verifiers read the archive directly, with the same verdict as for the folder.
        let plain = try cli.run(["verify", tar])
        #expect(plain.status == 0, "\(plain.stdout)\(plain.stderr)")
        #expect(plain.stdout.contains("ok: \(n + 4) records"))
        let trusted = try cli.run(["verify", tar, "--verifier-key", key])
        #expect(trusted.stdout.contains("records 1..\(n) are anchored"), "\(trusted.stdout)")
        let py = try ExportBundleTests.python(tar, key: key)
        #expect(py.status == 0, "\(py.stdout)\(py.stderr)")
        #expect(py.stdout.contains("records 1..\(n) are anchored"))
        let json = try cli.run(["verify", tar, "--json"]).json()
        #expect(json["ok"] as? Bool == true)
        #expect(json["records"] as? Int == n + 4)
        // Verifying leaves no scratch folder behind.
        let scratch = try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)
            .filter { $0.hasPrefix("crisis-verify-") }
        #expect(scratch.isEmpty, "\(scratch)")

        // Existing archive: refused unless --force; a folder named .tar never replaced.
        let again = try cli.run(["export", id, "-o", tar])
        #expect(again.status == 1 && again.stderr.contains("already exists"))
        #expect(try cli.run(["export", id, "-o", tar, "--force"]).status == 0)
        let dirTar = cli.dir.appendingPathComponent("folder.tar").path
        try FileManager.default.createDirectory(atPath: dirTar, withIntermediateDirectories: false)
        let refused = try cli.run(["export", id, "-o", dirTar, "--force"])
        #expect(refused.status == 1 && refused.stderr.contains("is a folder"), "\(refused.stderr)")

        // A file that is no archive is not a bundle (exit 1) for both.
        let junk = cli.dir.appendingPathComponent("junk.tar").path
        try Data("not a tar at all\n".utf8).write(to: URL(fileURLWithPath: junk))
        let notTar = try cli.run(["verify", junk])
        #expect(notTar.status == 1 && notTar.stderr.contains("not a crisis bundle"), "\(notTar.stdout)\(notTar.stderr)")
        #expect(try ExportBundleTests.python(junk).status == 1)
    }

    @Test("single-byte changes anywhere in a .tar bundle (headers, data, padding, end blocks) are caught by both verifiers")
    func mutations() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (id, _, _) = try ExportBundleTests.incident(cli)
        let tar = cli.dir.appendingPathComponent("m.tar").path
        #expect(try cli.run(["export", id, "-o", tar]).status == 0)
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: tar)))
        // Header offsets: name, mode, size, mtime, checksum digits and its NUL and space, type, magic, version,
        // uname, prefix, padding; for the first five headers. Then data bytes, padding and end-of-archive bytes.
        var headers: [Int] = []
        var at = 0
        while at + 512 <= original.count, headers.count < 5, original[at..<(at + 512)].contains(where: { $0 != 0 }) {
            headers.append(at)
            let size = Int(String(decoding: original[(at + 124)..<(at + 135)], as: UTF8.self), radix: 8) ?? 0
            at += 512 + (size + 511) / 512 * 512
        }
        #expect(headers.count == 5)
        var offsets: [Int] = []
        for h in headers { offsets += [0, 3, 101, 125, 137, 148, 153, 154, 155, 156, 258, 263, 270, 350, 505].map { h + $0 } }
        // Data: the first byte after each of the first five headers that carry data, and their last padding byte.
        for h in headers where original[h + 156] == 0x30 {
            offsets.append(h + 512)
            let size = Int(String(decoding: original[(h + 124)..<(h + 135)], as: UTF8.self), radix: 8) ?? 0
            if size % 512 != 0 { offsets.append(h + 512 + (size + 511) / 512 * 512 - 1) }
        }
        offsets += [original.count - 1, original.count - 512, original.count - 1024]
        var caught = 0
        for offset in offsets {
            var bytes = original
            bytes[offset] ^= offset % 2 == 0 ? 0x01 : 0x20
            try Data(bytes).write(to: URL(fileURLWithPath: tar))
            let ours = try cli.run(["verify", tar])
            let theirs = try ExportBundleTests.python(tar)
            #expect(ours.status != 0 && !ours.stdout.contains(": ok: "), "crisis missed a change at byte \(offset): \(ours.stdout)")
            #expect(theirs.status != 0 && !theirs.stdout.contains(": ok: "), "python missed a change at byte \(offset): \(theirs.stdout)")
            if ours.status == 3 && theirs.status == 3 { caught += 1 }
        }
        // All but a change to the first header's magic (then it is no ustar file: exit 1) are reported as tampering.
        #expect(caught >= offsets.count - 2, "\(caught) of \(offsets.count)")
        try Data(original).write(to: URL(fileURLWithPath: tar))
        #expect(try cli.run(["verify", tar]).status == 0)
    }

    @Test("archives with a name leaving the folder, an absolute name or a symbolic link are refused by both verifiers")
    func hostileArchives() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let (id, _, _) = try ExportBundleTests.incident(cli)
        let folder = cli.dir.appendingPathComponent("b").path
        #expect(try cli.run(["export", id, "-o", folder]).status == 0)
        let outside = cli.dir.appendingPathComponent("escaped.txt").path
        for (name, extra, expected) in [
            ("dots", "t.addfile(info('b/../escaped.txt', b'x'), io.BytesIO(b'x'))", "'..'"),
            ("absolute", "t.addfile(info('\(outside)', b'x'), io.BytesIO(b'x'))", "absolute"),
            ("link", "i = tarfile.TarInfo('b/link'); i.type = tarfile.SYMTYPE; i.linkname = '/etc/passwd'; t.addfile(i)",
             "symbolic link"),
            ("other-top", "t.addfile(info('c/x', b'x'), io.BytesIO(b'x'))", "outside the archive's top folder"),
        ] {
            let tar = cli.dir.appendingPathComponent("\(name).tar").path
            let make = try Self.runTool(["python3", "-c", """
                import io, os, sys, tarfile
                def info(n, data):
                    i = tarfile.TarInfo(n); i.size = len(data); return i
                with tarfile.open(sys.argv[1], "w", format=tarfile.USTAR_FORMAT) as t:
                    t.add(sys.argv[2], arcname="b")
                    \(extra)
                """, tar, folder])
            #expect(make.status == 0, "\(make.stderr)")
            let ours = try cli.run(["verify", tar])
            #expect(ours.status == 3 && ours.stdout.contains(expected), "\(name): \(ours.stdout)\(ours.stderr)")
            let theirs = try ExportBundleTests.python(tar)
            #expect(theirs.status == 3 && theirs.stdout.contains(expected), "\(name): \(theirs.stdout)\(theirs.stderr)")
            #expect(!FileManager.default.fileExists(atPath: outside))
        }
    }
}
