import CrisisAudit
import CrisisCore
import Foundation

/// What `BundleExporter.export` wrote.
public struct BundleExportSummary: Sendable, Hashable {
    /// The bundle folder.
    public var path: String
    /// The incident exported.
    public var incidentID: String
    /// Records written.
    public var records: Int
    /// Pinned files written.
    public var pinnedFiles: Int
    /// Checkpoint notes written.
    public var checkpoints: Int
    /// Entry hash of the last record (hex).
    public var chainHead: String?
    /// RFC 9162 Merkle root of all records (hex).
    public var merkleRoot: String
}

/// Writes one incident as a verifiable bundle folder (docs/audit-format.md, "Bundles"). Reads the store only:
/// nothing is written to the database. Records are streamed, so memory does not grow with the trail.
public enum BundleExporter {
    /// Exports `incident` from `store` to the folder `path`. An existing `path` is refused unless `force`, and
    /// even then only a previous bundle, a regular file or an empty folder is replaced. The bundle is written
    /// next to `path` first and moved into place when complete.
    public static func export(store: any AuditLog, incident: String, to path: String, force: Bool,
                              exportedBy: String) throws -> BundleExportSummary
    {
        guard let header = try store.incident(id: incident) else { throw AuditError.unknownIncident(incident) }
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let exists = fm.fileExists(atPath: path, isDirectory: &isDir)
        if exists {
            guard force else { throw RuntimeError.invalid("\(path) already exists; pass --force to replace it") }
            if isDir.boolValue && !BundleVerifier.isBundle(path) && !((try? fm.contentsOfDirectory(atPath: path))?.isEmpty ?? false) {
                throw RuntimeError.invalid("\(path) is a folder that is not a crisis bundle; not replacing it, even with --force")
            }
        }
        let partial = path + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        try? fm.removeItem(atPath: partial)
        do {
            try fm.createDirectory(atPath: partial + "/" + BundleFormat.filesFolder, withIntermediateDirectories: true)
            try fm.createDirectory(atPath: partial + "/" + BundleFormat.checkpointsFolder, withIntermediateDirectories: false)
        } catch {
            throw RuntimeError.invalid("cannot write \(path): \(Self.reason(error))")
        }
        do {
            let summary = try write(store: store, header: header, root: partial, exportedBy: exportedBy)
            if exists { try fm.removeItem(atPath: path) }
            try fm.moveItem(atPath: partial, toPath: path)
            return BundleExportSummary(path: path, incidentID: summary.incidentID, records: summary.records,
                                       pinnedFiles: summary.pinnedFiles, checkpoints: summary.checkpoints,
                                       chainHead: summary.chainHead, merkleRoot: summary.merkleRoot)
        } catch {
            try? fm.removeItem(atPath: partial)
            if error is RuntimeError || error is AuditError { throw error }
            throw RuntimeError.invalid("cannot write \(path): \(Self.reason(error))")
        }
    }

    static func reason(_ error: any Error) -> String {
        if let e = error as? CocoaError, let u = e.userInfo[NSUnderlyingErrorKey] as? NSError {
            return String(cString: strerror(Int32(u.code)))
        }
        return (error as NSError).localizedDescription
    }

    static func write(store: any AuditLog, header: IncidentHeader, root: String, exportedBy: String) throws
        -> BundleExportSummary
    {
        var manifest: [(path: String, sha: [UInt8], size: Int)] = []
        func put(_ relative: String, _ bytes: [UInt8]) throws {
            let sink = try FileSink(path: root + "/" + relative)
            try sink.write(bytes)
            let done = try sink.close()
            manifest.append((relative, done.sha, done.size))
        }

        // Pinned files, in the order the incident was started with; the playbook is always among them.
        var pinned = try store.pinnedFiles(incident: header.id)
        if !pinned.contains(where: { $0.sha256 == header.playbookSHA256 }),
            let playbook = try store.pinnedFile(sha256: header.playbookSHA256)
        {
            pinned.insert(playbook, at: 0)
        }
        var fileEntries: [CanonicalValue] = []
        var used = Set<String>()
        for (position, file) in pinned.enumerated() {
            var relative = BundleFormat.pinnedPath(position: position, fileName: file.fileName)
            if used.contains(relative) { relative += "-\(position)" }
            used.insert(relative)
            try put(relative, file.bytes)
            fileEntries.append(.object([
                ("position", .integer(Int64(position))), ("name", .string(file.fileName)),
                ("sha256", .string(file.sha256)), ("path", .string(relative)),
            ]))
        }

        // Records and their stored hashes, streamed; checkpoint notes as they come.
        let records = try FileSink(path: root + "/" + BundleFormat.records)
        let hashes = try FileSink(path: root + "/" + BundleFormat.hashes)
        var tree = MerkleTree()
        var count = 0
        var head: String?
        var checkpointEntries: [CanonicalValue] = []
        var keys = Set<String>()
        try store.forEachEvent(incident: header.id) { event in
            try records.write(event.record)
            try records.write([0x0A])
            try hashes.write(Array("\(event.seq) \(event.prevHashHex) \(event.entryHashHex)\n".utf8))
            tree.append(record: event.record)
            count = event.seq
            head = event.entryHashHex
            if event.type.rawValue == "checkpoint.issued", let note = event.body["note"]?.stringValue,
                let size = event.body["tree_size"]?.intValue
            {
                let relative = BundleFormat.checkpointPath(treeSize: size, eventSeq: event.seq)
                try put(relative, Array(note.utf8))
                checkpointEntries.append(.object([
                    ("tree_size", .integer(Int64(size))), ("event_seq", .integer(Int64(event.seq))),
                    ("key_name", .string(event.body["key_name"]?.stringValue ?? "")), ("path", .string(relative)),
                ]))
                if let key = event.body["verifier_key"]?.stringValue { keys.insert(key) }
            }
        }
        for (name, sink) in [(BundleFormat.records, records), (BundleFormat.hashes, hashes)] {
            let done = try sink.close()
            manifest.append((name, done.sha, done.size))
        }
        try put(BundleFormat.keys, Array(keys.sorted().map { $0 + "\n" }.joined().utf8))
        let root_ = Hex.encode(tree.root)
        let incident: CanonicalValue = .object([
            ("format", .string(BundleFormat.version)), ("incident", .string(header.id)),
            ("origin", .string(header.origin)), ("title", .string(header.title)),
            ("mode", .string(header.mode.rawValue)), ("playbook_id", .string(header.playbookID)),
            ("playbook_version", .string(header.playbookVersion)),
            ("playbook_sha256", .string(header.playbookSHA256)),
            ("created_utc_ms", .integer(header.createdAt.millisecondsSinceEpoch)),
            ("genesis_hash", .string(Hex.encode(header.genesisHash))),
            ("files", .array(fileEntries)), ("checkpoints", .array(checkpointEntries)),
            ("record_count", .integer(Int64(count))), ("chain_head", .string(head ?? "")),
            ("merkle_root", .string(root_)), ("exported_by", .string(exportedBy)),
        ])
        try put(BundleFormat.incident, try CanonicalJSON.encode(incident))
        try put(BundleFormat.readme, Array(readme(header: header, records: count, head: head, root: root_).utf8))
        manifest.sort { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
        let manifestValue: CanonicalValue = .object([
            ("format", .string(BundleFormat.version)),
            ("files", .array(manifest.map {
                .object([("path", .string($0.path)), ("sha256", .string(Hex.encode($0.sha))),
                         ("size", .integer(Int64($0.size)))])
            })),
        ])
        let sink = try FileSink(path: root + "/" + BundleFormat.manifest)
        try sink.write(try CanonicalJSON.encode(manifestValue))
        _ = try sink.close()
        return BundleExportSummary(path: root, incidentID: header.id, records: count, pinnedFiles: pinned.count,
                                   checkpoints: checkpointEntries.count, chainHead: head, merkleRoot: root_)
    }

    static func readme(header: IncidentHeader, records: Int, head: String?, root: String) -> String {
        """
        crisis audit bundle (\(BundleFormat.version))
        Incident \(header.id) (\(header.mode.rawValue)): \(records) records
        chain head  \(head ?? "-")
        merkle root \(root)

        What is here
          records.jsonl   one record per line: the canonical JSON bytes exactly as hashed, then a newline
          hashes.txt      "<seq> <prev_hash> <entry_hash>" per record, as the database stored them
          incident.json   the incident header (the genesis hash inputs), the pinned files, the checkpoints
          files/          the pinned playbook, templates and contacts file, byte for byte
          checkpoints/    the signed checkpoint notes (C2SP signed-note), one per checkpoint.issued record
          keys.txt        the verifier keys recorded in the trail (NOT trusted by themselves)
          manifest.json   SHA-256 and size of every other file (this README included)

        How to verify without crisis
          1. Every file against the manifest:
               python3 -c 'import json,hashlib;[print(hashlib.sha256(open(f["path"],"rb").read()).hexdigest()==f["sha256"],f["path"]) for f in json.load(open("manifest.json"))["files"]]'
          2. The chain. For each line n of records.jsonl (without its newline):
               entry_hash(n) = SHA256("crisis-audit:v1:entry" || 0x00 || line)
               the record's "prev" = hex(entry_hash(n-1)); for n = 1 the genesis hash:
               SHA256("crisis-audit:v1:genesis" || 0x00 || incident || 0x00 || origin || u64be(created_utc_ms)
                      || playbook_sha256 as 32 raw bytes)  -- values from incident.json
             A record's bytes must be canonical JSON: json.dumps(json.loads(line), ensure_ascii=False,
             sort_keys=True, separators=(",", ":")).encode() == line.
          3. Checkpoints: a checkpoint.issued record at seq N+1 signs records 1..N:
               merkle_root = RFC 9162 MTH of leaves SHA256(0x00 || line), chain_head = entry_hash(N).
             Check its Ed25519 signature with a verifier key you obtained elsewhere (published, in the ticket),
             never only with keys.txt: whoever rewrote the bundle could replace that file too.
          The script scripts/verify-bundle in the crisis repository does all of this with the Python 3
          standard library only:  python3 verify-bundle THIS_FOLDER --key 'NAME+ID+KEY'
          With crisis:  crisis verify THIS_FOLDER --verifier-key 'NAME+ID+KEY'
          The formats are documented in docs/audit-format.md ("Bundles").

        """
    }
}

/// A file written in 64 KiB blocks while its SHA-256 and size are computed.
final class FileSink {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var hasher = SHA256Stream()
    private var size = 0

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let h = FileHandle(forWritingAtPath: path)
        else { throw RuntimeError.invalid("cannot create \(path)") }
        handle = h
        buffer.reserveCapacity(1 << 16)
    }

    func write(_ bytes: [UInt8]) throws {
        buffer.append(contentsOf: bytes)
        hasher.update(bytes)
        size += bytes.count
        if buffer.count >= 1 << 16 { try flush() }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, syncs and closes the file; returns its SHA-256 and size.
    func close() throws -> (sha: [UInt8], size: Int) {
        try flush()
        try handle.synchronize()
        try handle.close()
        return (hasher.finalize(), size)
    }
}
