import Foundation

/// A problem found in a bundle: the file concerned, and the record when it is one.
public struct BundleProblem: Sendable, Hashable, CustomStringConvertible {
    /// The bundle file (relative path).
    public var file: String
    /// The record concerned, if any.
    public var seq: Int?
    /// What is wrong.
    public var message: String

    public var description: String {
        if let seq { return "\(file): record \(seq): \(message)" }
        return "\(file): \(message)"
    }
}

/// A checkpoint found in a bundle's records.
public struct BundleCheckpoint: Sendable, Hashable {
    /// Records 1..treeSize are covered.
    public var treeSize: Int
    /// The signing key's name.
    public var keyName: String
    /// The verifier key recorded with it in the trail (not trusted by itself).
    public var recordedKey: String
    /// True when the trusted key signed it, false when it did not, nil when no trusted key was given.
    public var signedByTrustedKey: Bool?
}

/// What `BundleVerifier.verify` found.
public struct BundleReport: Sendable, Hashable {
    /// The incident, from `incident.json`.
    public var incidentID: String?
    /// Records read.
    public var recordCount = 0
    /// Recomputed entry hash of the last record (hex).
    public var chainHead: String?
    /// RFC 9162 Merkle root of all records (hex).
    public var merkleRoot = ""
    /// Files whose SHA-256 was checked against the manifest.
    public var filesChecked = 0
    /// The checkpoints recorded in the trail, in order.
    public var checkpoints: [BundleCheckpoint] = []
    /// The trusted key, when one was given.
    public var trustedKey: String?
    /// The largest tree size signed by the trusted key: records 1..anchoredUpTo are anchored.
    public var anchoredUpTo: Int?
    /// Everything found, in the order found. Capped at 100.
    public var problems: [BundleProblem] = []
    /// What could not be checked (no trusted key, no checkpoint, redacted records and files).
    public var unchecked: [String] = []
    /// What the manifest says was redacted (`redaction.kind`), nil for a bundle that is not redacted.
    public var redaction: String?
    /// Records held as redacted stubs: their contents are not checked, their hashes are taken from the stubs.
    public var redactedRecords = 0
    /// Pinned files held as redacted copies (bundle paths): not checked against their pinned SHA-256.
    public var redactedFiles: [String] = []

    /// True when nothing is wrong.
    public var ok: Bool { problems.isEmpty }
    /// The first problem found.
    public var firstProblem: BundleProblem? { problems.first }
}

/// Why a folder could not be verified as a bundle at all (it is not one).
public struct NotABundleError: Error, Sendable, CustomStringConvertible {
    /// The folder.
    public var path: String
    public var description: String {
        "\(path) is not a crisis bundle (no \(BundleFormat.manifest) or \(BundleFormat.records)); "
            + "'crisis export ID --format bundle' writes one"
    }
}

/// Verifies an exported bundle offline (docs/audit-format.md, "Bundles"): the manifest, every pinned file, every
/// record's canonical form, hash and link, the stored hashes, the checkpoints against their records and their
/// signatures. It streams `records.jsonl`: memory does not grow with the number of records.
public enum BundleVerifier {
    /// True when `path` is a folder that looks like a bundle (it holds a manifest or a records file).
    public static func isBundle(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else { return false }
        return FileManager.default.fileExists(atPath: path + "/" + BundleFormat.manifest)
            || FileManager.default.fileExists(atPath: path + "/" + BundleFormat.records)
    }

    /// Verifies the bundle at `path`; with `trustedKey`, the checkpoints must be signed by it to anchor records.
    /// Throws `NotABundleError` only when the folder is not a bundle at all; everything else is a problem in the
    /// report.
    public static func verify(bundle path: String, trustedKey: CheckpointVerifier?) throws -> BundleReport {
        guard isBundle(path) else { throw NotABundleError(path: path) }
        var run = Run(root: path, trusted: trustedKey)
        run.report.trustedKey = trustedKey.map { "\($0.name)+\(Hex.encode($0.keyID))" }
        run.checkManifest()
        run.checkIncidentAndRecords()
        run.checkRedaction()
        run.finishManifest()
        if trustedKey == nil {
            run.report.unchecked.append(
                "no trusted key given (--key): checkpoint signatures were checked only against the keys recorded in "
                    + "the bundle itself, which whoever rewrote the bundle could also replace")
        }
        if run.report.checkpoints.isEmpty {
            run.report.unchecked.append("the bundle holds no checkpoint: no record is anchored outside it")
        }
        return run.report
    }

    struct Run {
        let root: String
        let trusted: CheckpointVerifier?
        var report = BundleReport()
        /// The body of record 1, to compare with the header's descriptive fields.
        var openingBody: CanonicalValue?
        /// The key name of each checkpoint.issued record, by seq.
        var keyNames: [Int: String] = [:]
        /// The manifest's `redaction` member: kind, record count and files.
        var declaredRedaction: (kind: String, records: Int, files: [String])?
        /// The SHA-256 of the pinned files held as redacted copies.
        var redactedPins = Set<String>()

        /// The manifest's files being hashed: where their problems go in `report.problems`, and what is listed.
        var pendingFiles: [(index: Int, path: String, sha: String, size: Int)] = []
        var manifestHashes: ManifestHashes?

        init(root: String, trusted: CheckpointVerifier?) {
            self.root = root
            self.trusted = trusted
        }

        mutating func add(_ file: String, _ seq: Int?, _ message: String) {
            if report.problems.count < 100 { report.problems.append(BundleProblem(file: file, seq: seq, message: message)) }
        }

        mutating func add(_ file: String, _ message: String) {
            add(file, nil, message)
        }

        func full(_ relative: String) -> String { root + "/" + relative }

        func read(_ relative: String) -> [UInt8]? {
            var st = stat()
            guard lstat(full(relative), &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
            return FileManager.default.contents(atPath: full(relative)).map { Array($0) }
        }

        // MARK: Manifest

        mutating func checkManifest() {
            let name = BundleFormat.manifest
            guard let bytes = read(name) else {
                add(name, "missing: the files cannot be checked against their hashes")
                return
            }
            let manifest: CanonicalValue
            do { manifest = try CanonicalJSON.decode(bytes) } catch {
                add(name, "not canonical JSON: \(error)")
                return
            }
            let members = manifest.objectMembers?.map(\.0)
            guard members == ["files", "format"] || members == ["files", "format", "redaction"],
                manifest["format"]?.stringValue == BundleFormat.version, let files = manifest["files"]?.arrayValue
            else {
                add(name, "not a \(BundleFormat.version) manifest (members files and format, and redaction)")
                return
            }
            if let redaction = manifest["redaction"] {
                guard redaction.objectMembers?.map(\.0) == ["files", "kind", "records"],
                    let kind = redaction["kind"]?.stringValue, let records = redaction["records"]?.intValue,
                    let paths = redaction["files"]?.arrayValue?.compactMap(\.stringValue),
                    paths.count == redaction["files"]?.arrayValue?.count
                else {
                    add(name, "redaction is not {files, kind, records}")
                    return
                }
                declaredRedaction = (kind, records, paths)
                report.redaction = kind
            }
            var listed = Set<String>()
            var previous: [UInt8] = []
            for entry in files {
                guard entry.objectMembers?.map(\.0) == ["path", "sha256", "size"], let path = entry["path"]?.stringValue,
                    let sha = entry["sha256"]?.stringValue, let size = entry["size"]?.intValue
                else {
                    add(name, "an entry is not {path, sha256, size}")
                    continue
                }
                let key = Array(path.utf8)
                if !previous.isEmpty && !previous.lexicographicallyPrecedes(key) {
                    add(name, "entries are not sorted by path, or listed twice, at \(path)")
                }
                previous = key
                guard Self.isSafe(path), path != BundleFormat.manifest else {
                    add(name, "unsafe path \(path)")
                    continue
                }
                listed.insert(path)
                // Hashed on a second thread while the records are checked; its problems are put where they would
                // have been (`finishManifest`).
                pendingFiles.append((report.problems.count, path, sha, size))
            }
            manifestHashes = ManifestHashes(root: root, paths: pendingFiles.map(\.path))
            for path in allFiles() where path != BundleFormat.manifest && !listed.contains(path) {
                add(path, "not listed in the manifest")
            }
        }

        /// The members of `incident.json`, in canonical order.
        static let headerMembers = [
            "chain_head", "checkpoints", "created_utc_ms", "exported_by", "files", "format", "genesis_hash", "incident",
            "merkle_root", "mode", "origin", "playbook_id", "playbook_sha256", "playbook_version", "record_count",
            "title",
        ]

        static func isSafe(_ path: String) -> Bool {
            !path.isEmpty && !path.hasPrefix("/") && !path.split(separator: "/", omittingEmptySubsequences: false)
                .contains { $0.isEmpty || $0 == "." || $0 == ".." }
        }

        /// The manifest's files compared with their hashes, in manifest order; each problem inserted at the place
        /// `checkManifest` reached the file (the later ones first, so earlier places stay put), and the list cut
        /// to its cap as `add` would have cut it.
        mutating func finishManifest() {
            guard let hashes = manifestHashes?.wait() else { return }
            manifestHashes = nil
            for (item, actual) in zip(pendingFiles, hashes).reversed() {
                guard let actual else {
                    report.problems.insert(BundleProblem(file: item.path, seq: nil,
                                                         message: "missing (listed in the manifest)"), at: item.index)
                    continue
                }
                report.filesChecked += 1
                if actual.size != item.size || Hex.encode(actual.sha) != item.sha {
                    report.problems.insert(BundleProblem(file: item.path, seq: nil, message:
                        "SHA-256 or size differs from the manifest: the file was altered"), at: item.index)
                }
            }
            pendingFiles = []
            if report.problems.count > 100 { report.problems.removeLast(report.problems.count - 100) }
        }

        func hashFile(_ relative: String) -> (sha: [UInt8], size: Int)? {
            Self.hashFile(full(relative))
        }

        static func hashFile(_ path: String) -> (sha: [UInt8], size: Int)? {
            var st = stat()
            guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG,
                let handle = FileHandle(forReadingAtPath: path)
            else { return nil }
            defer { try? handle.close() }
            var hasher = SHA256Stream()
            var size = 0
            while let chunk = try? handle.read(upToCount: 1 << 16), !chunk.isEmpty {
                hasher.update(data: chunk)
                size += chunk.count
            }
            return (hasher.finalize(), size)
        }

        /// Every entry under the root (relative paths); anything that is not a regular file or folder is listed
        /// too, so it is reported.
        func allFiles() -> [String] {
            guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
            var out: [String] = []
            while let item = walker.nextObject() as? String {
                var st = stat()
                guard lstat(full(item), &st) == 0 else { continue }
                if st.st_mode & S_IFMT == S_IFDIR { continue }
                out.append(item)
            }
            return out.sorted()
        }

        // MARK: Incident, files, records

        mutating func checkIncidentAndRecords() {
            let name = BundleFormat.incident
            guard let bytes = read(name) else {
                add(name, "missing")
                return
            }
            let header: CanonicalValue
            do { header = try CanonicalJSON.decode(bytes) } catch {
                add(name, "not canonical JSON: \(error)")
                return
            }
            guard header["format"]?.stringValue == BundleFormat.version, let id = header["incident"]?.stringValue,
                let origin = header["origin"]?.stringValue, let created = header["created_utc_ms"]?.int64Value,
                let playbookHex = header["playbook_sha256"]?.stringValue, let playbook = Hex.decode(playbookHex),
                playbook.count == 32, let genesisHex = header["genesis_hash"]?.stringValue,
                let files = header["files"]?.arrayValue, let checkpoints = header["checkpoints"]?.arrayValue
            else {
                add(name, "not a \(BundleFormat.version) incident header")
                return
            }
            report.incidentID = id
            if header.objectMembers?.map(\.0) != Self.headerMembers {
                add(name, "members differ from \(Self.headerMembers.joined(separator: ", "))")
            }
            for f in files {
                let members = f.objectMembers?.map(\.0)
                let plain = members == ["name", "path", "position", "sha256"]
                let redacted = members == ["name", "path", "position", "redacted", "sha256"] && f["redacted"] == true
                if !plain && !redacted {
                    add(name, "a pinned file entry is not {name, path, position, sha256} (or redacted: true)")
                }
            }
            for c in checkpoints where c.objectMembers?.map(\.0) != ["event_seq", "key_name", "path", "tree_size"] {
                add(name, "a checkpoint entry is not {event_seq, key_name, path, tree_size}")
            }
            let genesis = AuditHash.genesis(incidentID: id, origin: origin, createdUTCMilliseconds: created,
                                            playbookSHA256: playbook)
            if Hex.encode(genesis) != genesisHex {
                add(name, "genesis_hash does not match the incident header (id, origin, created_utc_ms, playbook)")
            }
            // Pinned files: each must hash to its recorded SHA-256.
            var pinned = Set<String>()
            for f in files {
                guard let path = f["path"]?.stringValue, let sha = f["sha256"]?.stringValue, Self.isSafe(path) else {
                    add(name, "a pinned file entry has no safe path or sha256")
                    continue
                }
                guard let actual = hashFile(path) else {
                    add(path, "missing pinned file")
                    continue
                }
                if f["redacted"] == true {
                    // A redacted copy cannot hash to the pin; the manifest covers its bytes. The playbook is an
                    // input of the genesis hash and is never redacted.
                    if sha == playbookHex { add(path, "the pinned playbook is marked redacted: it must be intact") }
                    redactedPins.insert(sha)
                    report.redactedFiles.append(path)
                } else if Hex.encode(actual.sha) != sha {
                    add(path, "does not hash to the pinned SHA-256 \(sha)")
                } else {
                    pinned.insert(sha)
                }
            }
            if !pinned.contains(playbookHex) { add(name, "the pinned playbook \(playbookHex) is not in the bundle") }
            var notes: [Int: String] = [:]
            checkRecords(id: id, origin: origin, genesis: genesis, pinned: pinned, notes: &notes)
            if header["record_count"]?.intValue != report.recordCount
                || header["chain_head"]?.stringValue != (report.chainHead ?? "")
                || header["merkle_root"]?.stringValue != report.merkleRoot
            {
                add(name, "record_count, chain_head or merkle_root differ from the records")
            }
            checkHeaderAgainstOpening(header, files: files)
            // Checkpoint files: exactly the notes of the checkpoint.issued records.
            var seen = Set<Int>()
            for c in checkpoints {
                guard let path = c["path"]?.stringValue, let seq = c["event_seq"]?.intValue, Self.isSafe(path) else {
                    add(name, "a checkpoint entry has no safe path or event_seq")
                    continue
                }
                if c["tree_size"]?.intValue != seq - 1 || c["key_name"]?.stringValue != keyNames[seq] {
                    add(name, "the checkpoint entry for record \(seq) differs from that record")
                }
                seen.insert(seq)
                guard let note = notes[seq] else {
                    add(path, "names record \(seq), which is not a checkpoint.issued record")
                    continue
                }
                guard let file = read(path) else {
                    add(path, "missing checkpoint note")
                    continue
                }
                if file != Array(note.utf8) { add(path, "differs from the note in record \(seq)") }
            }
            for seq in notes.keys.sorted() where !seen.contains(seq) {
                add(name, "the checkpoint of record \(seq) is not listed")
            }
            let keys = Set(report.checkpoints.map(\.recordedKey)).sorted().map { $0 + "\n" }.joined()
            if read(BundleFormat.keys) != Array(keys.utf8) {
                add(BundleFormat.keys, "is not the list of verifier keys recorded in the trail")
            }
        }

        mutating func checkRecords(id: String, origin: String, genesis: [UInt8], pinned: Set<String>,
                                   notes: inout [Int: String])
        {
            let recordsName = BundleFormat.records
            guard let records = LineReader(path: full(recordsName)) else {
                add(recordsName, "missing")
                return
            }
            let hashes = LineReader(path: full(BundleFormat.hashes))
            if hashes == nil { add(BundleFormat.hashes, "missing") }
            var tree = MerkleTree()
            var prev = genesis
            var seq = 0
            var hashesOK = hashes != nil
            var expected: [UInt8] = []
            // Each line's own checks (the canonical check, both hashes) run on worker threads, a batch at a
            // time; the judgement below takes them in order.
            let map = OrderedBatchMap<[UInt8], PreparedLine>(workers: ChainWalk.workerCount) { lines in
                lines.map(PreparedLine.init)
            }
            defer { map.cancel() }
            var readError: (any Error)?
            var batch: [[UInt8]] = []
            var ended = false
            func fill() {
                while !ended && map.inFlight < map.window {
                    batch.removeAll(keepingCapacity: true)
                    while batch.count < RowPipe.batchSize {
                        do {
                            guard let line = try records.next() else {
                                ended = true
                                break
                            }
                            batch.append(line)
                        } catch {
                            readError = error
                            ended = true
                            break
                        }
                    }
                    // Never waits: the loop leaves room for it.
                    if !batch.isEmpty { try? map.submit(batch) }
                    if ended { map.close() }
                }
            }
            fill()
            var pending: [PreparedLine] = []
            var pendingIndex = 0
            while true {
                if pendingIndex == pending.count {
                    guard let next = try? map.next() else {
                        if let readError { add(recordsName, seq + 1, "\(readError)") }
                        break
                    }
                    fill()
                    pending = next
                    pendingIndex = 0
                }
                let p = pending[pendingIndex]
                pendingIndex += 1
                seq += 1
                // Checked in full as canonical JSON; only the members read below are decoded.
                let decoded = p.members
                let decodeError = p.decodeError
                // A redacted stub carries the hashes of the record it stands for; any other line is hashed.
                let entry: [UInt8]
                var leaf: [UInt8]? = nil
                let isCheckpoint = decoded?.string("type", is: RecordType.checkpoint.rawValue) ?? false
                if decoded?.range(BundleFormat.redactedMember) != nil, let stub = decoded?[BundleFormat.redactedMember] {
                    report.redactedRecords += 1
                    if let e = stub["entry_hash"]?.stringValue.flatMap(Hex.decode), e.count == 32,
                        let l = stub["leaf_hash"]?.stringValue.flatMap(Hex.decode), l.count == 32,
                        stub.objectMembers?.map(\.0) == ["entry_hash", "leaf_hash"],
                        Hex.encode(e) == stub["entry_hash"]?.stringValue, Hex.encode(l) == stub["leaf_hash"]?.stringValue
                    {
                        entry = e
                        leaf = l
                    } else {
                        add(recordsName, seq, "redacted stub without a lower-case hex entry_hash and leaf_hash")
                        entry = p.entry
                    }
                    if isCheckpoint { add(recordsName, seq, "a checkpoint record cannot be redacted") }
                } else {
                    entry = p.entry
                }
                if hashesOK, let hashes {
                    expected.removeAll(keepingCapacity: true)
                    CanonicalJSON.appendInteger(Int64(seq), into: &expected)
                    expected.append(0x20)
                    let prefix = expected.count
                    Hex.append(prev, to: &expected)
                    expected.append(0x20)
                    Hex.append(entry, to: &expected)
                    let stored = (try? hashes.next()) ?? nil
                    if let stored, stored.count == expected.count, stored.starts(with: expected[..<prefix]) {
                        if stored != expected {
                            add(BundleFormat.hashes, seq, "stored prev/entry hash differs from the recomputed chain")
                            hashesOK = false
                        }
                    } else {
                        add(BundleFormat.hashes, seq, "line is missing or malformed")
                        hashesOK = false
                    }
                }
                guard let value = decoded else {
                    add(recordsName, seq, "not canonical JSON: \(decodeError)")
                    prev = entry
                    tree.append(leafHash: p.leaf)
                    continue
                }
                if value.integer("seq") != Int64(seq) {
                    add(recordsName, seq, "its seq is \(value["seq"]?.description ?? "missing"): missing or out of order")
                }
                if !value.string("incident", is: id) { add(recordsName, seq, "belongs to another incident") }
                if !(value.plainString("prev").map { Hex.matches($0, prev) } ?? false) {
                    add(recordsName, seq, "does not link to the previous record (prev differs)")
                }
                if value.integer("v") != 1 { add(recordsName, seq, "is not a v1 record") }
                if seq == 1 {
                    openingBody = value["body"]
                    checkPinnedInOpening(value["body"], pinned: pinned)
                }
                if isCheckpoint, let body = value["body"] {
                    checkCheckpoint(body, seq: seq, origin: origin, root: tree.root, head: prev, notes: &notes)
                }
                tree.append(leafHash: leaf ?? p.leaf)
                prev = entry
            }
            if hashesOK, let hashes, ((try? hashes.next()) ?? nil) != nil {
                add(BundleFormat.hashes, seq + 1, "has more lines than there are records")
            }
            report.recordCount = seq
            report.chainHead = seq > 0 ? Hex.encode(prev) : nil
            report.merkleRoot = Hex.encode(tree.root)
            if seq == 0 { add(recordsName, "holds no record") }
        }

        /// The manifest's redaction against what the bundle holds, and what that leaves unchecked.
        mutating func checkRedaction() {
            let name = BundleFormat.manifest
            if let declared = declaredRedaction {
                if declared.records != report.redactedRecords {
                    add(name, "redaction says \(declared.records) redacted records; records.jsonl holds "
                        + "\(report.redactedRecords)")
                }
                if declared.files.sorted() != report.redactedFiles.sorted() {
                    add(name, "redaction files differ from the pinned files marked redacted in incident.json")
                }
            } else if report.redactedRecords > 0 || !report.redactedFiles.isEmpty {
                add(name, "the bundle holds redacted records or files but the manifest declares no redaction")
            }
            let kind = report.redaction ?? "?"
            if report.redactedRecords > 0 {
                report.unchecked.append(
                    "\(report.redactedRecords) records are redacted (\(kind)): their contents are not checked; their "
                        + "entry and leaf hashes are taken from the stubs, bound only by the next record's link and "
                        + "the checkpoints")
            }
            for file in report.redactedFiles {
                report.unchecked.append("\(file) is a redacted copy (\(kind)): not checked against its pinned SHA-256")
            }
        }

        /// The header's title, mode, playbook id and version, and each pinned file's name and position, must agree
        /// with record 1 wherever record 1 states them (older records state less).
        mutating func checkHeaderAgainstOpening(_ header: CanonicalValue, files: [CanonicalValue]) {
            let name = BundleFormat.incident
            guard let body = openingBody else { return }
            let pairs: [(String, CanonicalValue?)] = [
                ("title", body["title"]), ("mode", body["mode"]), ("playbook_id", body["playbook"]?["id"]),
                ("playbook_version", body["playbook"]?["version"]),
            ]
            for (member, stated) in pairs where stated != nil && header[member] != stated {
                add(name, "\(member) differs from record 1")
            }
            var named: [String: String] = [:]
            if let s = body["playbook"]?["sha256"]?.stringValue, let f = body["playbook"]?["file"]?.stringValue { named[s] = f }
            for t in body["templates"]?.arrayValue ?? [] {
                if let s = t["sha256"]?.stringValue, let f = t["path"]?.stringValue { named[s] = f }
            }
            if let s = body["contacts"]?["sha256"]?.stringValue, let f = body["contacts"]?["file"]?.stringValue { named[s] = f }
            for (i, f) in files.enumerated() {
                if f["position"]?.intValue != i { add(name, "pinned file positions are not 0, 1, 2…") }
                if let sha = f["sha256"]?.stringValue, let stated = named[sha], f["name"]?.stringValue != stated {
                    add(name, "the name of pinned file \(sha) differs from record 1")
                }
            }
        }

        mutating func checkPinnedInOpening(_ body: CanonicalValue?, pinned: Set<String>) {
            var wanted: [String] = []
            if let s = body?["playbook"]?["sha256"]?.stringValue { wanted.append(s) }
            for t in body?["templates"]?.arrayValue ?? [] { if let s = t["sha256"]?.stringValue { wanted.append(s) } }
            if let s = body?["contacts"]?["sha256"]?.stringValue { wanted.append(s) }
            for s in wanted where !pinned.contains(s) && !redactedPins.contains(s) {
                add(BundleFormat.records, 1, "pins file \(s), which the bundle does not hold intact")
            }
        }

        mutating func checkCheckpoint(_ body: CanonicalValue, seq: Int, origin: String, root: [UInt8], head: [UInt8],
                                      notes: inout [Int: String])
        {
            let file = BundleFormat.records
            guard let size = body["tree_size"]?.intValue, let note = body["note"]?.stringValue,
                let key = body["verifier_key"]?.stringValue
            else {
                add(file, seq, "checkpoint.issued without tree_size, note or verifier_key")
                return
            }
            notes[seq] = note
            keyNames[seq] = body["key_name"]?.stringValue
            guard size == seq - 1, body["merkle_root"]?.stringValue == Hex.encode(root),
                body["chain_head"]?.stringValue == Hex.encode(head)
            else {
                add(file, seq, "checkpoint does not match records 1..\(seq - 1)")
                return
            }
            guard let parsed = try? CheckpointNote.parse(note), parsed.origin == origin, parsed.treeSize == size,
                parsed.root == root, parsed.chainHead == nil || parsed.chainHead == head
            else {
                add(file, seq, "the checkpoint note does not state this incident's tree head at \(size)")
                return
            }
            guard let recorded = try? CheckpointVerifier(verifierKey: key), recorded.signs(note: note) == true else {
                add(file, seq, "the checkpoint note is not signed by the key recorded with it")
                return
            }
            var entry = BundleCheckpoint(treeSize: size, keyName: recorded.name, recordedKey: key)
            if let trusted {
                let signed = trusted.signs(note: note) == true
                entry.signedByTrustedKey = signed
                if !signed && trusted.isNamed(in: note) {
                    add(file, seq, "the trusted key's signature on the checkpoint is invalid: forged or altered")
                }
                if signed { report.anchoredUpTo = max(report.anchoredUpTo ?? 0, size) }
            }
            report.checkpoints.append(entry)
        }
    }
}

/// Reads a file line by line (lines end with `\n`; the last line must too), in 64 KiB chunks.
final class LineReader {
    struct Unterminated: Error, CustomStringConvertible {
        var description: String { "the last line does not end with a newline (truncated?)" }
    }

    struct EmptyLine: Error, CustomStringConvertible {
        var description: String { "empty line" }
    }

    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var done = false

    init?(path: String) {
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, let h = FileHandle(forReadingAtPath: path)
        else { return nil }
        handle = h
    }

    deinit { try? handle.close() }

    /// The next line without its newline, nil at the end.
    func next() throws -> [UInt8]? {
        while true {
            let found = buffer.withUnsafeBufferPointer { b -> Int? in
                guard start < b.count, let p = memchr(b.baseAddress! + start, 0x0A, b.count - start) else { return nil }
                return b.baseAddress!.distance(to: p.assumingMemoryBound(to: UInt8.self))
            }
            if let nl = found {
                let line = Array(buffer[start..<nl])
                start = nl + 1
                if line.isEmpty { throw EmptyLine() }
                return line
            }
            if done {
                if start < buffer.count { throw Unterminated() }
                return nil
            }
            buffer.removeFirst(start)
            start = 0
            if let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty {
                buffer.append(contentsOf: chunk)
            } else {
                done = true
            }
        }
    }
}

/// One line of the records file with what can be worked out from it alone: its members (when it is canonical
/// JSON holding an object) or the error, its entry hash and its Merkle leaf hash.
struct PreparedLine: Sendable {
    let members: CanonicalMembers?
    let decodeError: String
    let entry: [UInt8]
    let leaf: [UInt8]

    init(_ record: [UInt8]) {
        do {
            members = try CanonicalJSON.members(record)
            decodeError = ""
        } catch {
            members = nil
            decodeError = "\(error)"
        }
        entry = AuditHash.entry(record: record)
        leaf = AuditHash.merkleLeaf(record)
    }
}

/// Files hashed on a second thread, in order (`BundleVerifier.Run.hashFile` of each; nil for a missing one).
final class ManifestHashes: @unchecked Sendable {
    private var results: [(sha: [UInt8], size: Int)?] = []
    private let done = DispatchSemaphore(value: 0)

    init(root: String, paths: [String]) {
        let thread = Thread { [self] in
            results = paths.map { BundleVerifier.Run.hashFile(root + "/" + $0) }
            done.signal()
        }
        thread.start()
    }

    /// The hashes, once all are done.
    func wait() -> [(sha: [UInt8], size: Int)?] {
        done.wait()
        return results
    }
}
