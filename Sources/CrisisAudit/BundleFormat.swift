import Crypto
import Foundation

/// The layout of an exported incident bundle (docs/audit-format.md, "Bundles"): one folder that holds one
/// incident's records in their canonical bytes exactly as hashed, with everything needed to check them offline.
public enum BundleFormat {
    /// The value of `format` in `manifest.json` and `incident.json`.
    public static let version = "crisis-bundle/1"
    /// SHA-256, size and path of every other file, as canonical JSON.
    public static let manifest = "manifest.json"
    /// The incident header, the pinned files, the checkpoints and the recomputed tree head, as canonical JSON.
    public static let incident = "incident.json"
    /// One canonical record per line, each line the exact hashed bytes followed by `\n`.
    public static let records = "records.jsonl"
    /// `<seq> <prev_hash> <entry_hash>\n` per record, as the database stored them.
    public static let hashes = "hashes.txt"
    /// The verifier keys recorded in the trail's `checkpoint.issued` records, sorted, one per line.
    public static let keys = "keys.txt"
    /// How to verify the bundle without `crisis`.
    public static let readme = "README.txt"
    /// Folder of the pinned files (playbook, templates, contacts).
    public static let filesFolder = "files"
    /// Folder of the signed checkpoint notes.
    public static let checkpointsFolder = "checkpoints"
    /// The top-level member that marks a line of `records.jsonl` as a redacted stub: `{entry_hash, leaf_hash}` of
    /// the original record, whose bytes the bundle does not hold. A stored record never has this member.
    public static let redactedMember = "redacted"

    /// The name a pinned file gets inside `files/`: its position and its base name reduced to `[A-Za-z0-9._-]`.
    public static func pinnedPath(position: Int, fileName: String) -> String {
        let base = fileName.split(separator: "/").last.map(String.init) ?? "file"
        var safe = String(base.unicodeScalars.map { s -> Character in
            let ok = (s.value >= 0x30 && s.value <= 0x39) || (s.value >= 0x41 && s.value <= 0x5A)
                || (s.value >= 0x61 && s.value <= 0x7A) || s == "." || s == "_" || s == "-"
            return ok ? Character(s) : "_"
        })
        if safe.isEmpty || safe.hasPrefix(".") { safe = "_" + safe }
        let index = position < 10 ? "0\(position)" : "\(position)"
        return "\(filesFolder)/\(index)-\(String(safe.prefix(100)))"
    }

    /// The name of the checkpoint recorded at `eventSeq` covering `treeSize` records.
    public static func checkpointPath(treeSize: Int, eventSeq: Int) -> String {
        "\(checkpointsFolder)/tree-\(treeSize)-seq-\(eventSeq).note"
    }
}

/// Incremental SHA-256, so files are hashed while they are streamed.
public struct SHA256Stream: Sendable {
    private var hasher = SHA256()

    public init() {}

    /// Adds `bytes` to the hash.
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        if done == nil { hasher.update(data: Array(bytes)) }
    }

    /// Adds `data` to the hash.
    public mutating func update(data: Data) {
        hasher.update(data: data)
    }

    /// The digest of everything added (the stream can no longer be used).
    public func finalize() -> [UInt8] {
        hasher.finalize().withUnsafeBytes { Array($0) }
    }
}

/// Checks a checkpoint note's signature; `nil` when the note cannot be parsed.
extension CheckpointVerifier {
    /// True when the note carries a signature line by this key (name and key id) that verifies.
    public func signs(note: String) -> Bool? {
        guard let parsed = try? CheckpointNote.parse(note) else { return nil }
        return parsed.signatures.contains {
            $0.name == name && $0.keyID == keyID && isValidSignature($0.signature, for: parsed.text)
        }
    }

    /// True when the note has a signature line with this key's name and key id (valid or not).
    public func isNamed(in note: String) -> Bool {
        guard let parsed = try? CheckpointNote.parse(note) else { return false }
        return parsed.signatures.contains { $0.name == name && $0.keyID == keyID }
    }

    /// A verifier key given on the command line: the key text itself, or a file holding it or holding the
    /// `PRIVATE+KEY+…` signing key (whose public half is taken). Never creates a file.
    public static func load(_ argument: String) throws -> CheckpointVerifier {
        if let key = try? CheckpointVerifier(verifierKey: argument) { return key }
        guard let data = FileManager.default.contents(atPath: argument) else {
            throw CheckpointError.malformed("'\(argument)' is neither a verifier key (name+id+base64) nor a readable file")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("PRIVATE+KEY+") {
            let signer = try CheckpointSigner.parse(text, file: argument)
            return try CheckpointVerifier(verifierKey: signer.verifierKey)
        }
        return try CheckpointVerifier(verifierKey: text)
    }
}
