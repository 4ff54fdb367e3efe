import CrisisAudit
import CrisisCore
import Foundation

extension BundleExporter {
    /// Exports `incident` as one POSIX ustar archive at `path` (which ends in `.tar`) holding the bundle folder
    /// `NAME/` (NAME is the file name without `.tar`) with exactly the files `export(store:incident:to:...)` writes.
    /// An existing `path` is refused unless `force`, and a folder is never replaced. The bundle is written to a
    /// scratch folder next to `path`, packed into `path` plus a `.partial-PID` suffix, moved into place, and the
    /// scratch folder removed; files are streamed, so memory does not grow with the trail. The summary's `path` is
    /// the archive.
    public static func exportTar(store: any AuditLog, incident: String, to path: String, force: Bool,
                                 exportedBy: String, mtime: Instant, redact: BundleRedaction? = nil)
        throws -> BundleExportSummary
    {
        let fm = FileManager.default
        let name = String((path as NSString).lastPathComponent.dropLast(4))
        guard path.hasSuffix(".tar"), !name.isEmpty, name != ".", name != ".." else {
            throw RuntimeError.invalid("\(path): a bundle archive is named NAME.tar")
        }
        var isDir: ObjCBool = false
        let exists = fm.fileExists(atPath: path, isDirectory: &isDir)
        if exists {
            guard !isDir.boolValue else {
                throw RuntimeError.invalid("\(path) is a folder; not replacing it, even with --force")
            }
            guard force else { throw RuntimeError.invalid("\(path) already exists; pass --force to replace it") }
        }
        let pid = ProcessInfo.processInfo.processIdentifier
        let scratch = path + ".partial-\(pid).d"
        let partial = path + ".partial-\(pid)"
        try? fm.removeItem(atPath: scratch)
        defer { try? fm.removeItem(atPath: scratch) }
        do { try fm.createDirectory(atPath: scratch, withIntermediateDirectories: false) } catch {
            throw RuntimeError.invalid("cannot write \(path): \(reason(error))")
        }
        var summary = try export(store: store, incident: incident, to: scratch + "/" + name, force: false,
                                 exportedBy: exportedBy, redact: redact)
        do {
            try TarPacker.pack(folder: scratch + "/" + name, as: name, to: partial,
                               mtime: mtime.millisecondsSinceEpoch / 1000)
            if exists { try fm.removeItem(atPath: path) }
            try fm.moveItem(atPath: partial, toPath: path)
        } catch {
            try? fm.removeItem(atPath: partial)
            if error is RuntimeError { throw error }
            throw RuntimeError.invalid("cannot write \(path): \(reason(error))")
        }
        summary.path = path
        return summary
    }
}

/// Packs a folder into a POSIX ustar archive (`TarFormat`): the folder itself as `NAME/`, then its folders and
/// regular files in byte order of their paths, each folder before what it holds. Anything else (a link, a
/// device) is refused.
enum TarPacker {
    static func pack(folder: String, as name: String, to path: String, mtime: Int64) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let out = FileHandle(forWritingAtPath: path)
        else { throw RuntimeError.invalid("cannot create \(path): \(String(cString: strerror(errno)))") }
        var written = 0
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 17)
        func emit(_ bytes: [UInt8]) throws {
            buffer += bytes
            written += bytes.count
            if buffer.count >= 1 << 16 {
                try out.write(contentsOf: Data(buffer))
                buffer.removeAll(keepingCapacity: true)
            }
        }
        do {
            try emit(TarFormat.header(name: name, size: 0, isFolder: true, mtime: mtime))
            for relative in try entries(folder) {
                let full = folder + "/" + relative
                var st = stat()
                guard lstat(full, &st) == 0 else { throw RuntimeError.invalid("cannot read \(full)") }
                switch st.st_mode & S_IFMT {
                case S_IFDIR:
                    try emit(TarFormat.header(name: name + "/" + relative, size: 0, isFolder: true, mtime: mtime))
                case S_IFREG:
                    let size = Int(st.st_size)
                    try emit(TarFormat.header(name: name + "/" + relative, size: size, isFolder: false, mtime: mtime))
                    guard let input = FileHandle(forReadingAtPath: full) else {
                        throw RuntimeError.invalid("cannot read \(full)")
                    }
                    defer { try? input.close() }
                    var copied = 0
                    while let chunk = try input.read(upToCount: 1 << 16), !chunk.isEmpty {
                        try emit(Array(chunk))
                        copied += chunk.count
                    }
                    guard copied == size else { throw RuntimeError.invalid("\(full) changed while it was packed") }
                    try emit([UInt8](repeating: 0, count: TarFormat.padding(size)))
                default:
                    throw RuntimeError.invalid("\(full) is neither a file nor a folder; not packing it")
                }
            }
            // Two zero blocks end the archive; pad to a whole record as tar does.
            var end = written + 2 * TarFormat.block
            end += (TarFormat.record - end % TarFormat.record) % TarFormat.record
            try emit([UInt8](repeating: 0, count: end - written))
            try out.write(contentsOf: Data(buffer))
            try out.synchronize()
            try out.close()
        } catch let error as TarFormat.NameTooLong {
            try? out.close()
            throw RuntimeError.invalid(error.description)
        } catch {
            try? out.close()
            throw error
        }
    }

    /// Every path under `folder`, relative, sorted by bytes; a folder's own path sorts before its contents.
    static func entries(_ folder: String) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else {
            throw RuntimeError.invalid("cannot read \(folder)")
        }
        var out: [String] = []
        while let item = walker.nextObject() as? String { out.append(item) }
        return out.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }
}
