import Crypto

/// The hash definitions of the audit trail (docs/audit-format.md): SHA-256 with domain prefixes for the chain,
/// RFC 9162 hashing for the Merkle tree.
public enum AuditHash {
    static let genesisPrefix = Array("crisis-audit:v1:genesis".utf8)
    static let entryPrefix = Array("crisis-audit:v1:entry".utf8)

    /// SHA-256 of `bytes`.
    public static func sha256(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var h = SHA256()
        let copied: Void? = bytes.withContiguousStorageIfAvailable { h.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        if copied == nil { h.update(data: Array(bytes)) }
        return h.finalize().withUnsafeBytes { Array($0) }
    }

    /// The chain's starting point for an incident:
    /// `SHA256("crisis-audit:v1:genesis" ‖ 0x00 ‖ utf8(incident_id) ‖ 0x00 ‖ utf8(origin) ‖ u64be(created_utc_ms)
    /// ‖ playbook_sha256)`, where `playbook_sha256` is the 32 raw bytes.
    public static func genesis(incidentID: String, origin: String, createdUTCMilliseconds: Int64,
                               playbookSHA256: [UInt8]) -> [UInt8]
    {
        var h = SHA256()
        h.update(data: genesisPrefix)
        h.update(data: [0])
        h.update(data: Array(incidentID.utf8))
        h.update(data: [0])
        h.update(data: Array(origin.utf8))
        let ms = UInt64(bitPattern: createdUTCMilliseconds)
        h.update(data: (0..<8).map { UInt8(truncatingIfNeeded: ms >> (56 - 8 * UInt64($0))) })
        h.update(data: playbookSHA256)
        return h.finalize().withUnsafeBytes { Array($0) }
    }

    /// `SHA256("crisis-audit:v1:entry" ‖ 0x00 ‖ record_bytes)`: the hash the next record links to.
    public static func entry(record: [UInt8]) -> [UInt8] {
        entry(record: record[...])
    }

    /// `entry(record:)` of a slice (a line of a bundle's records file), without copying it.
    public static func entry(record: ArraySlice<UInt8>) -> [UInt8] {
        var h = SHA256()
        h.update(data: entryPrefixWithNUL)
        record.withUnsafeBytes { h.update(bufferPointer: $0) }
        return h.finalize().withUnsafeBytes { Array($0) }
    }

    static let entryPrefixWithNUL = entryPrefix + [0]
    static let zero: [UInt8] = [0]
    static let one: [UInt8] = [1]

    /// RFC 9162 leaf hash: `SHA256(0x00 ‖ record_bytes)`.
    public static func merkleLeaf(_ record: [UInt8]) -> [UInt8] {
        merkleLeaf(record[...])
    }

    /// `merkleLeaf` of a slice, without copying it.
    public static func merkleLeaf(_ record: ArraySlice<UInt8>) -> [UInt8] {
        var h = SHA256()
        h.update(data: zero)
        record.withUnsafeBytes { h.update(bufferPointer: $0) }
        return h.finalize().withUnsafeBytes { Array($0) }
    }

    /// RFC 9162 interior node: `SHA256(0x01 ‖ left ‖ right)`.
    public static func merkleNode(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var h = SHA256()
        h.update(data: one)
        h.update(data: left)
        h.update(data: right)
        return h.finalize().withUnsafeBytes { Array($0) }
    }

    /// RFC 9162 Merkle tree hash (MTH) of records 1..N; for no records, SHA-256 of the empty string.
    public static func merkleRoot(records: [[UInt8]]) -> [UInt8] {
        var tree = MerkleTree()
        for r in records { tree.append(record: r) }
        return tree.root
    }
}

/// An append-only RFC 9162 Merkle tree that keeps only the roots of its perfect subtrees (O(log n) memory), so
/// a whole trail can be hashed while streaming it.
public struct MerkleTree: Sendable {
    /// Roots of perfect subtrees, largest (leftmost) first, with their leaf counts.
    private var stack: [(hash: [UInt8], size: Int)] = []
    /// Number of leaves appended.
    public private(set) var size = 0

    public init() {}

    /// Appends the record whose leaf hash is `SHA256(0x00 ‖ record)`.
    public mutating func append(record: [UInt8]) {
        append(leafHash: AuditHash.merkleLeaf(record))
    }

    /// Appends the record whose leaf hash is `SHA256(0x00 ‖ record)`, from a slice.
    public mutating func append(record: ArraySlice<UInt8>) {
        append(leafHash: AuditHash.merkleLeaf(record))
    }

    /// Appends an already computed leaf hash.
    public mutating func append(leafHash: [UInt8]) {
        var node = (hash: leafHash, size: 1)
        while let last = stack.last, last.size == node.size {
            stack.removeLast()
            node = (AuditHash.merkleNode(last.hash, node.hash), last.size * 2)
        }
        stack.append(node)
        size += 1
    }

    /// MTH of the leaves appended so far. RFC 9162 splits at the largest power of two below n, so the tree is
    /// the perfect subtrees folded from the right.
    public var root: [UInt8] {
        guard var acc = stack.last?.hash else { return AuditHash.sha256([UInt8]()) }
        for item in stack.dropLast().reversed() {
            acc = AuditHash.merkleNode(item.hash, acc)
        }
        return acc
    }
}

/// Lower-case hexadecimal helpers.
public enum Hex {
    /// The ASCII lower-case hex digit of a nibble.
    @inline(__always)
    static func digit(_ n: UInt8) -> UInt8 { n < 10 ? 0x30 &+ n : 0x57 &+ n }

    /// Whether `hex` is the lower-case hex of `bytes` (no string built).
    public static func matches(_ hex: ArraySlice<UInt8>, _ bytes: [UInt8]) -> Bool {
        guard hex.count == bytes.count * 2 else { return false }
        var i = hex.startIndex
        for b in bytes {
            guard hex[i] == digit(b >> 4), hex[i + 1] == digit(b & 0x0F) else { return false }
            i += 2
        }
        return true
    }

    /// Lower-case hex of `bytes`.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for b in bytes {
            out.append(digit(b >> 4))
            out.append(digit(b & 0x0F))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Lower-case hex of `bytes` (a hash, usually).
    public static func encode(_ bytes: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { buffer in
            var i = 0
            for b in bytes {
                buffer[i] = digit(b >> 4)
                buffer[i + 1] = digit(b & 0x0F)
                i += 2
            }
            return i
        }
    }

    /// Appends the lower-case hex of `bytes` to `out` as UTF-8.
    public static func append(_ bytes: [UInt8], to out: inout [UInt8]) {
        out.reserveCapacity(out.count + bytes.count * 2)
        for b in bytes {
            out.append(digit(b >> 4))
            out.append(digit(b & 0x0F))
        }
    }

    /// Bytes of a hex string (either case), or nil if it is not hex of even length.
    public static func decode(_ text: String) -> [UInt8]? {
        let u = Array(text.utf8)
        guard u.count % 2 == 0 else { return nil }
        func v(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let hi = v(u[i]), let lo = v(u[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}

/// Lower-case hex SHA-256 of `bytes` (for hashing playbooks, templates and other pinned files).
public func sha256Hex(_ bytes: some Sequence<UInt8>) -> String {
    Hex.encode(AuditHash.sha256(bytes))
}
