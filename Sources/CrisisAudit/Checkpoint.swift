import CrisisCore
import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An Ed25519 key that signs checkpoints (C2SP signed-note). One per installation, kept outside the database.
///
/// Key file format (one line, the C2SP/`golang.org/x/mod/sumdb/note` signer key):
/// `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ 32-byte Ed25519 seed)>`.
public struct CheckpointSigner: Sendable {
    /// The key name printed in signature lines (no spaces, no `+`).
    public let name: String
    let privateKey: Curve25519.Signing.PrivateKey

    /// The raw 32-byte Ed25519 public key.
    public var publicKey: [UInt8] { Array(privateKey.publicKey.rawRepresentation) }
    /// SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4].
    public var keyID: [UInt8] { CheckpointNote.keyID(name: name, publicKey: publicKey) }
    /// The verifier key to publish out of band: `<name>+<hex key id>+<base64(0x01 ‖ public key)>`.
    public var verifierKey: String {
        "\(name)+\(Hex.encode(keyID))+\(Data([0x01] + publicKey).base64EncodedString())"
    }

    /// A signer from a 32-byte seed (for tests; use `loadOrCreate` otherwise).
    public init(name: String, seed: [UInt8]) throws {
        try CheckpointNote.validateKeyName(name)
        guard seed.count == 32 else { throw CheckpointError.malformed("an Ed25519 seed is 32 bytes") }
        self.name = name
        self.privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    }

    /// Loads the key at `keyFile`, or nil when there is no file there. Never creates anything (for readers such as
    /// `verify`, which must not leave a new key beside an evidence copy). Refuses what `loadOrCreate` refuses.
    public static func loadExisting(keyFile: String) throws -> CheckpointSigner? {
        var st = stat()
        guard lstat(keyFile, &st) == 0 else { return nil }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw AuditError.unsafeLocation("\(keyFile) is not a regular file (a symbolic link?)")
        }
        guard st.st_mode & 0o077 == 0 else {
            throw AuditError.unsafeLocation(
                "\(keyFile) is readable by others (mode \(String(st.st_mode & 0o777, radix: 8))); run chmod 600 on it")
        }
        guard let data = FileManager.default.contents(atPath: keyFile) else {
            throw AuditError.io(operation: "read signing key \(keyFile)", underlying: "cannot read the file")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: keyFile)
    }

    /// Loads the key at `keyFile`, or creates it there (mode 0600, parent directory 0700) with a new random
    /// key named `name`. An existing file keeps its own name. Refuses a key file that is a symbolic link or
    /// readable by group or others.
    public static func loadOrCreate(keyFile: String, name: String) throws -> CheckpointSigner {
        if let existing = try loadExisting(keyFile: keyFile) { return existing }
        try CheckpointNote.validateKeyName(name)
        let key = Curve25519.Signing.PrivateKey()
        let signer = try CheckpointSigner(name: name, seed: Array(key.rawRepresentation))
        let text = "PRIVATE+KEY+\(name)+\(Hex.encode(signer.keyID))+"
            + Data([0x01] + Array(key.rawRepresentation)).base64EncodedString() + "\n"
        let parent = URL(fileURLWithPath: keyFile).deletingLastPathComponent().path
        try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        let fd = open(keyFile, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw AuditError.io(operation: "create signing key \(keyFile)", underlying: String(cString: strerror(errno)))
        }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0 else {
            unlink(keyFile)
            throw AuditError.io(operation: "write signing key \(keyFile)", underlying: "short write or fsync failed")
        }
        return signer
    }

    static func parse(_ text: String, file: String) throws -> CheckpointSigner {
        // The base64 key may itself contain '+': split off the four leading fields only.
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines)
            .split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY",
            let raw = Data(base64Encoded: String(parts[4])), raw.count == 33, raw.first == 0x01
        else { throw CheckpointError.malformed("\(file) is not a signing key file (PRIVATE+KEY+name+id+key)") }
        let signer = try CheckpointSigner(name: String(parts[2]), seed: Array(raw.dropFirst()))
        guard Hex.encode(signer.keyID) == parts[3] else {
            throw CheckpointError.malformed("\(file): the key id does not match the key")
        }
        return signer
    }

    /// Signs `text` (the checkpoint body, ending with a newline) and returns the whole signed note.
    func signNote(_ text: String) throws -> String {
        let signature = try privateKey.signature(for: Data(text.utf8))
        return text + "\n" + "\u{2014} \(name) " + Data(keyID + Array(signature)).base64EncodedString() + "\n"
    }
}

/// A public key that checks checkpoint signatures, parsed from a verifier key string
/// `<name>+<hex key id>+<base64(0x01 ‖ 32-byte public key)>`.
public struct CheckpointVerifier: Sendable, Hashable {
    /// The key name expected in signature lines.
    public let name: String
    /// The raw 32-byte Ed25519 public key.
    public let publicKey: [UInt8]
    /// SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4].
    public var keyID: [UInt8] { CheckpointNote.keyID(name: name, publicKey: publicKey) }

    /// Parses a verifier key; throws `CheckpointError.malformed` if it is not one or its id does not match.
    public init(verifierKey: String) throws {
        let parts = verifierKey.trimmingCharacters(in: .whitespacesAndNewlines)
            .split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let raw = Data(base64Encoded: String(parts[2])), raw.count == 33, raw.first == 0x01
        else { throw CheckpointError.malformed("not a verifier key (name+id+base64 key)") }
        try CheckpointNote.validateKeyName(String(parts[0]))
        name = String(parts[0])
        publicKey = Array(raw.dropFirst())
        guard Hex.encode(keyID) == parts[1].lowercased() else {
            throw CheckpointError.malformed("verifier key id \(parts[1]) does not match its key")
        }
    }

    func isValidSignature(_ signature: [UInt8], for text: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(Data(signature), for: Data(text))
    }
}

/// A signed checkpoint of an incident's trail.
public struct Checkpoint: Sendable, Hashable {
    /// The incident whose trail is covered.
    public var incidentID: String
    /// Number of records covered (1..treeSize).
    public var treeSize: Int
    /// RFC 9162 Merkle root of records 1..treeSize (hex).
    public var merkleRoot: String
    /// Entry hash of record `treeSize` (hex).
    public var chainHead: String
    /// Name of the signing key.
    public var keyName: String
    /// The C2SP signed note: print it, paste it into the ticket, keep it somewhere the database is not.
    public var note: String
    /// When it was issued.
    public var createdAt: Instant
    /// Seq of the `checkpoint.issued` event that recorded it.
    public var eventSeq: Int?
}

/// A checkpoint that verified against the store.
public struct VerifiedCheckpoint: Sendable, Hashable {
    /// The log (incident origin) the note is for.
    public var origin: String
    /// Records 1..treeSize are proven unchanged.
    public var treeSize: Int
    /// The signed Merkle root (hex).
    public var merkleRoot: String
    /// The signed chain head (hex), if the note has a `chain` line.
    public var chainHead: String?
    /// The key that signed it.
    public var keyName: String
    /// Records after the checkpoint: not externally anchored by it.
    public var laterRecords: Int
}

/// Why a checkpoint note was rejected.
public enum CheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not a well-formed signed checkpoint.
    case malformed(String)
    /// No signature by the trusted key (signed by another key, or by nobody).
    case unknownKey(expected: String, found: [String])
    /// The trusted key's signature does not match the note text: forged or altered.
    case badSignature(keyName: String)
    /// The note is for another log.
    case wrongOrigin(expected: String, found: String)
    /// The store has fewer records than the checkpoint covers: truncated or rolled back.
    case truncated(checkpointSize: Int, storeSize: Int)
    /// The records no longer hash to the signed tree head: rewritten.
    case rewritten(treeSize: Int, detail: String)

    public var description: String {
        switch self {
        case .malformed(let why): return "malformed checkpoint: \(why)"
        case .unknownKey(let expected, let found):
            return "checkpoint is not signed by the trusted key \(expected) (signed by: "
                + (found.isEmpty ? "nobody" : found.joined(separator: ", ")) + ")"
        case .badSignature(let name): return "checkpoint signature by \(name) is invalid: the note was forged or altered"
        case .wrongOrigin(let expected, let found):
            return "checkpoint is for log '\(found)', not '\(expected)'"
        case .truncated(let size, let store):
            return "the store has \(store) records but the checkpoint covers \(size): records were removed "
                + "(truncation or rollback)"
        case .rewritten(let size, let detail):
            return "records 1..\(size) no longer match the signed checkpoint (\(detail)): the trail was rewritten"
        }
    }
}

/// The C2SP tlog-checkpoint / signed-note text format.
enum CheckpointNote {
    struct Signature {
        var name: String
        var keyID: [UInt8]
        var signature: [UInt8]
    }

    struct Parsed {
        var text: [UInt8]
        var origin: String
        var treeSize: Int
        var root: [UInt8]
        var chainHead: [UInt8]?
        var signatures: [Signature]
    }

    static func keyID(name: String, publicKey: [UInt8]) -> [UInt8] {
        Array(AuditHash.sha256(Array(name.utf8) + [0x0A, 0x01] + publicKey).prefix(4))
    }

    static func validateKeyName(_ name: String) throws {
        guard !name.isEmpty, name.utf8.count <= 255,
            !name.unicodeScalars.contains(where: { $0 == "+" || $0.properties.isWhitespace || $0.value < 0x20 })
        else { throw CheckpointError.malformed("key name '\(name)' must be non-empty with no spaces or '+'") }
    }

    /// `<origin>\n<size>\n<base64 root>\nchain <hex head>\n`
    static func body(origin: String, treeSize: Int, root: [UInt8], chainHead: [UInt8]) -> String {
        "\(origin)\n\(treeSize)\n\(Data(root).base64EncodedString())\nchain \(Hex.encode(chainHead))\n"
    }

    static func parse(_ note: String) throws -> Parsed {
        let bytes = Array(note.utf8)
        guard bytes.count <= 65536 else { throw CheckpointError.malformed("note longer than 64 KiB") }
        // The text ends at the last blank line; signature lines follow (as in golang.org/x/mod/sumdb/note).
        var split: Int?
        var i = bytes.count - 2
        while i >= 0 {
            if bytes[i] == 0x0A && bytes[i + 1] == 0x0A {
                split = i
                break
            }
            i -= 1
        }
        guard let split else { throw CheckpointError.malformed("no blank line before the signatures") }
        let text = Array(bytes[...split])
        let sigBlock = String(decoding: bytes[(split + 2)...], as: UTF8.self)
        guard sigBlock.hasSuffix("\n") else { throw CheckpointError.malformed("signature lines must end with a newline") }
        var signatures: [Signature] = []
        for line in sigBlock.dropLast().split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix("\u{2014} ") else { throw CheckpointError.malformed("signature line without '— '") }
            let fields = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 2, let raw = Data(base64Encoded: String(fields[1])), raw.count > 4 else {
                throw CheckpointError.malformed("signature line is not '— <name> <base64>'")
            }
            signatures.append(Signature(name: String(fields[0]), keyID: Array(raw.prefix(4)),
                                        signature: Array(raw.dropFirst(4))))
        }
        guard !signatures.isEmpty else { throw CheckpointError.malformed("no signature lines") }
        let lines = String(decoding: text.dropLast(), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 3 else { throw CheckpointError.malformed("a checkpoint has origin, size and root lines") }
        let sizeText = String(lines[1])
        guard let size = Int(sizeText), size >= 0, String(size) == sizeText else {
            throw CheckpointError.malformed("tree size '\(sizeText)' is not a decimal number")
        }
        guard let root = Data(base64Encoded: String(lines[2])), root.count == 32 else {
            throw CheckpointError.malformed("root is not base64 of 32 bytes")
        }
        var chain: [UInt8]?
        for line in lines.dropFirst(3) where line.hasPrefix("chain ") {
            guard let head = Hex.decode(String(line.dropFirst(6))), head.count == 32 else {
                throw CheckpointError.malformed("chain line is not 64 hex digits")
            }
            chain = head
        }
        return Parsed(text: text, origin: String(lines[0]), treeSize: size, root: Array(root), chainHead: chain,
                      signatures: signatures)
    }
}
