import CrisisAudit
import CrisisCore
import CrisisPlaybook
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
    /// Records written as redacted stubs (`--redact`).
    public var redactedRecords = 0
    /// Pinned files written as redacted copies (bundle paths).
    public var redactedFiles: [String] = []
}

/// Writes one incident as a verifiable bundle folder (docs/audit-format.md, "Bundles"). Reads the store only:
/// nothing is written to the database. Records are streamed, so memory does not grow with the trail.
public enum BundleExporter {
    /// Exports `incident` from `store` to the folder `path`. An existing `path` is refused unless `force`, and
    /// even then only a previous bundle, a regular file or an empty folder is replaced. The bundle is written
    /// next to `path` first and moved into place when complete.
    ///
    /// With `redact`, the records and pinned files that hold a contact address are written redacted
    /// (docs/audit-format.md, "Redacted bundles").
    public static func export(store: any AuditLog, incident: String, to path: String, force: Bool,
                              exportedBy: String, redact: BundleRedaction? = nil) throws -> BundleExportSummary
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
            var summary = try write(store: store, header: header, root: partial, exportedBy: exportedBy,
                                    redact: redact)
            if exists { try fm.removeItem(atPath: path) }
            try fm.moveItem(atPath: partial, toPath: path)
            summary.path = path
            return summary
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

    /// The SHA-256 of the contacts file record 1 pins, if any.
    static func pinnedContacts(store: any AuditLog, incident: String) throws -> String? {
        var first: CanonicalValue?
        do {
            try store.forEachEvent(incident: incident) {
                first = $0.body
                throw StopWalk()
            }
        } catch {
            if first == nil { throw error }
        }
        return first?["contacts"]?["sha256"]?.stringValue
    }

    static func write(store: any AuditLog, header: IncidentHeader, root: String, exportedBy: String,
                      redact: BundleRedaction?) throws -> BundleExportSummary
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
        var redactor: ContactRedactor?
        var contactsSHA: String?
        if redact == .contacts {
            contactsSHA = try pinnedContacts(store: store, incident: header.id)
            redactor = ContactRedactor(contactsFiles: pinned.filter { $0.sha256 == contactsSHA }.map(\.bytes))
        }
        var redactedFiles: [String] = []
        var fileEntries: [CanonicalValue] = []
        var used = Set<String>()
        for (position, file) in pinned.enumerated() {
            var relative = BundleFormat.pinnedPath(position: position, fileName: file.fileName)
            if used.contains(relative) { relative += "-\(position)" }
            used.insert(relative)
            var entry: [(String, CanonicalValue)] = [
                ("position", .integer(Int64(position))), ("name", .string(file.fileName)),
                ("sha256", .string(file.sha256)), ("path", .string(relative)),
            ]
            // The contacts file is replaced by a redacted copy; the playbook and templates stay intact (the
            // playbook is an input of the genesis hash).
            if let redactor, file.sha256 == contactsSHA, file.sha256 != header.playbookSHA256 {
                try put(relative, Array(redactor.redact(String(decoding: file.bytes, as: UTF8.self)).utf8))
                entry.append(("redacted", true))
                redactedFiles.append(relative)
            } else {
                try put(relative, file.bytes)
            }
            fileEntries.append(.object(entry))
        }

        // Records and their stored hashes, streamed; checkpoint notes as they come.
        let records = try FileSink(path: root + "/" + BundleFormat.records)
        let hashes = try FileSink(path: root + "/" + BundleFormat.hashes)
        var tree = MerkleTree()
        var count = 0
        var head: [UInt8]?
        let newline: [UInt8] = [0x0A]
        var checkpointEntries: [CanonicalValue] = []
        var keys = Set<String>()
        var line: [UInt8] = []
        line.reserveCapacity(160)
        // Only checkpoint records are decoded: every other record is copied as the bytes it is stored as.
        var redactedRecords = 0
        try store.forEachRecord(incident: header.id) { event in
            if let redactor, event.type != .checkpoint, let stub = try redactedStub(event, redactor: redactor) {
                try records.write(stub)
                redactedRecords += 1
            } else {
                try records.write(event.record)
            }
            try records.write(newline)
            line.removeAll(keepingCapacity: true)
            CanonicalJSON.appendInteger(Int64(event.seq), into: &line)
            line.append(0x20)
            Hex.append(event.prevHash, to: &line)
            line.append(0x20)
            Hex.append(event.entryHash, to: &line)
            line.append(0x0A)
            try hashes.write(line)
            tree.append(record: event.record)
            count = event.seq
            head = event.entryHash
            if event.type == .checkpoint {
                let body: CanonicalValue
                do { body = try CanonicalJSON.decode(event.record)["body"] ?? .null } catch {
                    throw AuditError.integrity("seq \(event.seq): the stored record is not canonical JSON (\(error))")
                }
                guard let note = body["note"]?.stringValue, let size = body["tree_size"]?.intValue else { return }
                let relative = BundleFormat.checkpointPath(treeSize: size, eventSeq: event.seq)
                try put(relative, Array(note.utf8))
                checkpointEntries.append(.object([
                    ("tree_size", .integer(Int64(size))), ("event_seq", .integer(Int64(event.seq))),
                    ("key_name", .string(body["key_name"]?.stringValue ?? "")), ("path", .string(relative)),
                ]))
                if let key = body["verifier_key"]?.stringValue { keys.insert(key) }
            }
        }
        for (name, sink) in [(BundleFormat.records, records), (BundleFormat.hashes, hashes)] {
            let done = try sink.close()
            manifest.append((name, done.sha, done.size))
        }
        try put(BundleFormat.keys, Array(keys.sorted().map { $0 + "\n" }.joined().utf8))
        let root_ = Hex.encode(tree.root)
        let headHex = head.map { Hex.encode($0) }
        let incident: CanonicalValue = .object([
            ("format", .string(BundleFormat.version)), ("incident", .string(header.id)),
            ("origin", .string(header.origin)), ("title", .string(redactor?.redact(header.title) ?? header.title)),
            ("mode", .string(header.mode.rawValue)), ("playbook_id", .string(header.playbookID)),
            ("playbook_version", .string(header.playbookVersion)),
            ("playbook_sha256", .string(header.playbookSHA256)),
            ("created_utc_ms", .integer(header.createdAt.millisecondsSinceEpoch)),
            ("genesis_hash", .string(Hex.encode(header.genesisHash))),
            ("files", .array(fileEntries)), ("checkpoints", .array(checkpointEntries)),
            ("record_count", .integer(Int64(count))), ("chain_head", .string(headHex ?? "")),
            ("merkle_root", .string(root_)), ("exported_by", .string(exportedBy)),
        ])
        try put(BundleFormat.incident, try CanonicalJSON.encode(incident))
        var text = readme(header: header, records: count, head: headHex, root: root_)
        if let redact {
            text += """
                Redacted (\(redact.rawValue)): \(redactedRecords) records are hash-only stubs and \(redactedFiles.count) pinned
                file(s) redacted copies (manifest.json "redaction"). A stub is the record with every phone number and
                e-mail address replaced by [redacted], plus "redacted": {entry_hash, leaf_hash} of the original record:
                use those hashes for the chain and the Merkle tree instead of hashing the line. A stub's contents are not
                proven by anything; the records that are not stubs are (docs/audit-format.md, "Redacted bundles").


                """
        }
        try put(BundleFormat.readme, Array(text.utf8))
        manifest.sort { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
        var manifestMembers: [(String, CanonicalValue)] = [
            ("format", .string(BundleFormat.version)),
            ("files", .array(manifest.map {
                .object([("path", .string($0.path)), ("sha256", .string(Hex.encode($0.sha))),
                         ("size", .integer(Int64($0.size)))])
            })),
        ]
        if let redact {
            manifestMembers.append(("redaction", .object([
                ("kind", .string(redact.rawValue)), ("records", .integer(Int64(redactedRecords))),
                ("files", .array(redactedFiles.map { .string($0) })),
            ])))
        }
        let manifestValue: CanonicalValue = .object(manifestMembers)
        let sink = try FileSink(path: root + "/" + BundleFormat.manifest)
        try sink.write(try CanonicalJSON.encode(manifestValue))
        _ = try sink.close()
        return BundleExportSummary(path: root, incidentID: header.id, records: count, pinnedFiles: pinned.count,
                                   checkpoints: checkpointEntries.count, chainHead: headHex, merkleRoot: root_,
                                   redactedRecords: redactedRecords, redactedFiles: redactedFiles)
    }

    /// The stub that stands for `event` in a redacted bundle, or nil when the record holds no address: the
    /// record's canonical object with every address replaced, plus `redacted {entry_hash, leaf_hash}` (the
    /// hashes of the original bytes, which the chain and the checkpoints take on trust).
    static let envelope: Set<String> = ["v", "incident", "seq", "prev", "type", "at", "event_id"]

    static func redactedStub(_ event: StoredRecord, redactor: ContactRedactor) throws -> [UInt8]? {
        let value: CanonicalValue
        do { value = try CanonicalJSON.decode(event.record) } catch {
            throw AuditError.integrity("seq \(event.seq): the stored record is not canonical JSON (\(error))")
        }
        // The members the verifiers check on a stub (and the instant and event id) are never addresses; an
        // address-like digit string is not allowed to touch them.
        guard case .object(let original) = value else { return nil }
        var members = original.map { member -> (String, CanonicalValue) in
            Self.envelope.contains(member.0) ? member : (member.0, redactor.redact(member.1))
        }
        guard CanonicalValue.object(members) != value else { return nil }
        members.append((BundleFormat.redactedMember, .object([
            ("entry_hash", .string(Hex.encode(AuditHash.entry(record: event.record)))),
            ("leaf_hash", .string(Hex.encode(AuditHash.merkleLeaf(event.record)))),
        ])))
        return try CanonicalJSON.encode(.object(members))
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
          By default it reads most records' chain members (seq, incident, prev, v) from the end of the line
          and parses record 1, checkpoints and redacted stubs in full; add --strict to also check that every
          record is canonical JSON (step 2's last rule), as crisis verify does.
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
        size += bytes.count
        if buffer.count >= 1 << 16 { try flush() }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        hasher.update(buffer)
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

/// What `crisis export --redact` leaves out of a bundle.
public enum BundleRedaction: String, Sendable, CaseIterable {
    /// Phone numbers and e-mail addresses: those of the pinned contacts file, and any `+`-prefixed phone number or
    /// e-mail address in a record's strings.
    case contacts
}

/// Replaces contact addresses with `[redacted]` (docs/audit-format.md, "Redacted bundles").
public struct ContactRedactor: Sendable {
    /// What an address is replaced with.
    public static let placeholder = "[redacted]"
    /// The exact addresses to remove, longest first (so a longer address is never half-replaced by a shorter one).
    public private(set) var addresses: [String]

    /// A redactor for the addresses of `contactsFiles` (the pinned contacts files' bytes): every channel address
    /// the loader finds, and every phone number or e-mail address in their text.
    public init(contactsFiles: [[UInt8]]) {
        var found = Set<String>()
        for bytes in contactsFiles {
            if let directory = ContactsLoader.load(bytes: bytes, path: "contacts").directory {
                for person in directory.people {
                    for channel in person.channels where !channel.address.isEmpty { found.insert(channel.address) }
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            for m in text.matches(of: Self.email) { found.insert(String(text[m.range])) }
            for m in text.matches(of: Self.phone) { found.insert(String(text[m.range])) }
        }
        addresses = found.filter { $0.count >= 3 }.sorted { ($0.utf8.count, $0) > ($1.utf8.count, $1) }
    }

    nonisolated(unsafe) static let email = /[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}/
    nonisolated(unsafe) static let phone = /\+[0-9][0-9 ()\-]{5,}[0-9]/

    /// `text` with every known address, e-mail address and `+`-prefixed phone number replaced.
    public func redact(_ text: String) -> String {
        let at = text.utf8.contains(UInt8(ascii: "@"))
        let plus = text.utf8.contains(UInt8(ascii: "+"))
        var out = text
        // An address with '@' or '+' can only be in a text that has one (most texts have neither).
        for address in addresses {
            let a = address.utf8
            if (a.contains(UInt8(ascii: "@")) && !at) || (a.contains(UInt8(ascii: "+")) && !plus) { continue }
            if out.contains(address) { out = out.replacingOccurrences(of: address, with: Self.placeholder) }
        }
        if at { out = out.replacing(Self.email, with: Self.placeholder) }
        if plus { out = out.replacing(Self.phone, with: Self.placeholder) }
        return out
    }

    /// `value` with every string redacted (member names are never addresses: they are `[a-z0-9_]+`).
    public func redact(_ value: CanonicalValue) -> CanonicalValue {
        switch value {
        case .string(let s): return .string(redact(s))
        case .array(let items): return .array(items.map(redact))
        case .object(let members): return .object(members.map { ($0.0, redact($0.1)) })
        case .integer, .bool, .null: return value
        }
    }
}
