import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks that a database path is a safe place for evidence before SQLite opens it ("How To Corrupt An SQLite
/// Database File": links, network filesystems, a lost `-wal`).
enum DatabaseLocation {
    /// Linux filesystem types (as in /proc/self/mountinfo) where SQLite's locking or durability cannot be
    /// trusted: network filesystems and FUSE. A type matches if it equals an entry or starts with `entry.`.
    static let unsafeFilesystemTypes: Set<String> = [
        "nfs", "nfs4", "cifs", "smb", "smb3", "smbfs", "fuse", "fuseblk", "9p", "afs", "coda", "ncp", "ncpfs",
        "ceph", "gfs2", "ocfs2", "lustre", "glusterfs", "sshfs", "davfs", "vboxsf",
    ]

    static func isUnsafeFilesystemType(_ type: String) -> Bool {
        if unsafeFilesystemTypes.contains(type) { return true }
        guard let dot = type.firstIndex(of: ".") else { return false }
        return unsafeFilesystemTypes.contains(String(type[..<dot]))   // fuse.sshfs, fuse.rclone...
    }

    /// Darwin `f_fstypename` values for network and FUSE filesystems.
    static let unsafeFilesystemNames: Set<String> = [
        "nfs", "smbfs", "afpfs", "webdav", "cifs", "macfuse", "osxfuse", "fusefs", "ftp",
    ]

    enum FileKind { case missing, regular, symlink, other }

    struct FileFacts {
        var kind: FileKind
        var links: UInt64
    }

    static func facts(_ path: String) -> FileFacts {
        var st = stat()
        guard lstat(path, &st) == 0 else { return FileFacts(kind: .missing, links: 0) }
        let type = st.st_mode & S_IFMT
        let kind: FileKind = type == S_IFLNK ? .symlink : (type == S_IFREG ? .regular : .other)
        return FileFacts(kind: kind, links: UInt64(st.st_nlink))
    }

    /// Whether the database file and its folder can be written (access(2): false on a read-only mount, and for
    /// a user without write permission; root passes permission bits but not a read-only mount).
    static func isWritable(_ path: String) -> Bool {
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return access(path, W_OK) == 0 && access(parent, W_OK) == 0
    }

    /// `path` as the path part of an SQLite URI file name: absolute, with `%`, `?` and `#` percent-encoded.
    static func uriPath(_ path: String) -> String {
        var out = ""
        for byte in URL(fileURLWithPath: path).standardizedFileURL.path.utf8 {
            switch byte {
            case UInt8(ascii: "%"), UInt8(ascii: "?"), UInt8(ascii: "#"), 0..<0x21, 0x7F...:
                out += String(format: "%%%02X", byte)
            default:
                out += String(UnicodeScalar(byte))
            }
        }
        return "//" + out
    }

    /// Throws `AuditError.unsafeLocation` naming the problem, after creating the parent directory if missing.
    static func check(_ path: String) throws {
        guard !path.isEmpty, path != ":memory:", !path.hasPrefix("file:") else {
            throw AuditError.unsafeLocation("'\(path)' is not a file path")
        }
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if facts(parent).kind == .missing {
            do {
                try FileManager.default.createDirectory(
                    atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw AuditError.io(operation: "create directory \(parent)", underlying: "\(error)")
            }
        }
        for (file, what) in [(path, "database"), (path + "-wal", "WAL file"), (path + "-shm", "shared-memory file"),
                             (path + "-journal", "journal")]
        {
            let f = facts(file)
            switch f.kind {
            case .missing, .regular: break
            case .symlink:
                throw AuditError.unsafeLocation("\(file) is a symbolic link; open the real file instead "
                    + "(SQLite cannot keep the \(what) and its locks consistent through links)")
            case .other:
                throw AuditError.unsafeLocation("\(file) is not a regular file")
            }
            if f.links > 1 {
                throw AuditError.unsafeLocation("\(file) has \(f.links) hard links; an evidence database must have "
                    + "exactly one name (a write through another name would miss the \(what == "database" ? "WAL" : what))")
            }
        }
        if let fs = unsafeFilesystem(parent) {
            throw AuditError.unsafeLocation("\(parent) is on a \(fs) filesystem; SQLite's WAL locking is not "
                + "reliable there: keep the database on a local disk")
        }
        try checkWAL(path)
    }

    /// Name of the filesystem type if it is a network or FUSE filesystem, else nil.
    static func unsafeFilesystem(_ directory: String) -> String? {
        #if os(Linux)
        // Glibc's module does not export statfs(2); find the directory's device in /proc/self/mountinfo instead.
        var st = stat()
        guard stat(directory, &st) == 0 else { return nil }
        let dev = UInt64(st.st_dev)
        let major = ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~UInt64(0xFFF))
        let minor = (dev & 0xFF) | ((dev >> 12) & ~UInt64(0xFF))
        guard let type = filesystemType(device: "\(major):\(minor)") else { return nil }
        return isUnsafeFilesystemType(type) ? type : nil
        #elseif canImport(Darwin)
        var s = statfs()
        guard statfs(directory, &s) == 0 else { return nil }
        let name = withUnsafeBytes(of: s.f_fstypename) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return unsafeFilesystemNames.contains(name) ? name : nil
        #else
        return nil
        #endif
    }

    /// The filesystem type of device `major:minor` from /proc/self/mountinfo (field 3 is the device; the type
    /// follows the " - " separator).
    static func filesystemType(device: String, mountinfo: String? = nil) -> String? {
        let text: String
        if let mountinfo {
            text = mountinfo
        } else {
            guard let data = FileManager.default.contents(atPath: "/proc/self/mountinfo") else { return nil }
            text = String(decoding: data, as: UTF8.self)
        }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 4, fields[2] == device, let dash = fields.firstIndex(of: "-"),
                dash + 1 < fields.count
            else { continue }
            return String(fields[dash + 1])
        }
        return nil
    }

    /// A WAL-mode database whose `-shm` exists but whose `-wal` is gone was not shut down cleanly and lost its
    /// WAL (SQLite deletes `-shm` before `-wal` on a clean close, and creates `-wal` before `-shm` on open), so
    /// committed transactions may be missing: refuse rather than silently open an older state.
    static func checkWAL(_ path: String) throws {
        guard facts(path).kind == .regular, let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 20)) ?? Data()
        guard header.count == 20, header.starts(with: Array("SQLite format 3".utf8)) else { return }
        let walMode = header[header.startIndex + 18] == 2 && header[header.startIndex + 19] == 2
        guard walMode else { return }
        // Another process opening or closing the database creates and removes these files: only a state that
        // persists across a few looks, checking -wal before -shm each time, is a lost WAL.
        var suspicious = true
        for attempt in 0..<5 where suspicious {
            if attempt > 0 { usleep(20_000) }
            suspicious = facts(path + "-wal").kind == .missing && facts(path + "-shm").kind != .missing
        }
        if suspicious {
            throw AuditError.unsafeLocation("\(path) is in WAL mode and its -shm file exists but its -wal file is "
                + "missing: the database was copied or moved without its WAL, or the WAL was deleted after a crash; "
                + "committed events may be lost. Restore the -wal file, or remove the stale -shm only if you are "
                + "sure no WAL existed")
        }
    }
}
