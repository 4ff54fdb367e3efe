import CrisisCore

/// The rules of the hash chain as pure functions over plain values: the canonical bytes of a record, the genesis
/// and entry hashes, the Merkle tree, and the link checks. No storage: every backend's append path, checkpoint
/// issuance and `verify` use these, so the chain has one definition (docs/audit-format.md, "Record" and "Hashes").
public enum HashChain {
    /// The record format version written into every record's `v` member.
    public static let recordVersion: Int64 = 1

    // MARK: - Records

    /// Everything a record holds, before it is encoded.
    public struct RecordFields: Sendable, Hashable {
        /// The incident the record belongs to.
        public var incidentID: String
        /// Its position, from 1.
        public var seq: Int
        /// The entry hash of the previous record (the genesis hash for seq 1).
        public var prevHash: [UInt8]
        /// Lower-case UUID.
        public var eventID: String
        /// The idempotency key.
        public var idempotencyKey: String
        /// The record type.
        public var type: RecordType
        /// When it happened (written as RFC 3339 UTC with milliseconds).
        public var recordedAt: Instant
        /// Who caused it.
        public var actor: AuditActor
        /// Who wrote it (the record's `where`).
        public var writer: WriterInfo
        /// The record's own content.
        public var body: CanonicalValue

        /// The fields of one record.
        public init(incidentID: String, seq: Int, prevHash: [UInt8], eventID: String, idempotencyKey: String,
                    type: RecordType, recordedAt: Instant, actor: AuditActor, writer: WriterInfo,
                    body: CanonicalValue)
        {
            self.incidentID = incidentID
            self.seq = seq
            self.prevHash = prevHash
            self.eventID = eventID
            self.idempotencyKey = idempotencyKey
            self.type = type
            self.recordedAt = recordedAt
            self.actor = actor
            self.writer = writer
            self.body = body
        }
    }

    /// The canonical record bytes: what is stored, hashed and signed. Throws `AuditError.invalid` when the body
    /// cannot be encoded canonically.
    public static func recordBytes(_ f: RecordFields) throws -> [UInt8] {
        var actor: [(String, CanonicalValue)] = [("id", .string(f.actor.id))]
        if let role = f.actor.role { actor.append(("role", .string(role))) }
        let value: CanonicalValue = .object([
            ("v", .integer(recordVersion)),
            ("incident", .string(f.incidentID)),
            ("seq", .integer(Int64(f.seq))),
            ("prev", .string(Hex.encode(f.prevHash))),
            ("event_id", .string(f.eventID)),
            ("idem", .string(f.idempotencyKey)),
            ("type", .string(f.type.rawValue)),
            ("at", .string(ISO8601.format(f.recordedAt))),
            ("actor", .object(actor)),
            ("where", .object([
                ("host", .string(f.writer.host)),
                ("pid", .integer(f.writer.pid)),
                ("app", "crisis"),
                ("app_version", .string(f.writer.appVersion)),
            ])),
            ("body", f.body),
        ])
        do {
            return try CanonicalJSON.encode(value)
        } catch {
            throw AuditError.invalid("\(f.type) event (record path): \(error)")
        }
    }

    // MARK: - Hashes

    /// The chain's starting point for an incident (see `AuditHash.genesis`).
    public static func genesis(incidentID: String, origin: String, createdUTCMilliseconds: Int64,
                               playbookSHA256: [UInt8]) -> [UInt8]
    {
        AuditHash.genesis(incidentID: incidentID, origin: origin, createdUTCMilliseconds: createdUTCMilliseconds,
                          playbookSHA256: playbookSHA256)
    }

    /// `SHA256("crisis-audit:v1:entry" ‖ 0x00 ‖ record)`: the hash the next record links to.
    public static func entryHash(record: [UInt8]) -> [UInt8] {
        AuditHash.entry(record: record)
    }

    /// RFC 9162 Merkle tree hash of records 1..N.
    public static func merkleRoot(records: [[UInt8]]) -> [UInt8] {
        AuditHash.merkleRoot(records: records)
    }

    /// Where the next record goes: seq `head + 1` linked to the head's entry hash, or seq 1 linked to the
    /// genesis hash when the incident has no record yet.
    public static func next(afterSeq headSeq: Int, entryHash headHash: [UInt8]?, genesis: [UInt8])
        -> (seq: Int, prev: [UInt8])
    {
        guard headSeq > 0, let headHash else { return (1, genesis) }
        return (headSeq + 1, headHash)
    }

    // MARK: - Links

    /// One stored record as a link of the chain: its seq and hash columns and its exact bytes.
    public struct Link: Sendable, Hashable {
        /// The stored seq.
        public var seq: Int
        /// The stored `prev_hash`.
        public var prevHash: [UInt8]
        /// The stored `entry_hash`.
        public var entryHash: [UInt8]
        /// The stored record bytes.
        public var record: [UInt8]

        /// A link as read from storage.
        public init(seq: Int, prevHash: [UInt8], entryHash: [UInt8], record: [UInt8]) {
            self.seq = seq
            self.prevHash = prevHash
            self.entryHash = entryHash
            self.record = record
        }
    }

    /// A broken chain rule at one link.
    public enum LinkProblem: Sendable, Hashable, CustomStringConvertible {
        /// Seqs `expected` … `found - 1` are missing.
        case missing(expected: Int, found: Int)
        /// `found` does not follow `previous` (repeated or out of order).
        case outOfOrder(found: Int, previous: Int)
        /// The stored entry hash is not the hash of the record bytes.
        case entryHashMismatch(seq: Int)
        /// The stored `prev_hash` is not the previous record's recomputed entry hash (or the genesis hash).
        case prevHashMismatch(seq: Int)
        /// The record bytes are not canonical JSON.
        case notCanonical(seq: Int, error: String)
        /// The record's own `seq` member is not its seq.
        case recordSeqMismatch(seq: Int, found: String)
        /// The record's own `prev` member is not the previous record's recomputed entry hash.
        case recordPrevMismatch(seq: Int)

        /// The seq the problem is reported at (the first missing seq for a gap).
        public var seq: Int {
            switch self {
            case .missing(let expected, let found): return min(expected, found)
            case .outOfOrder(let found, _): return found
            case .entryHashMismatch(let s), .prevHashMismatch(let s), .notCanonical(let s, _),
                 .recordSeqMismatch(let s, _), .recordPrevMismatch(let s):
                return s
            }
        }

        /// What the link should have pointed to, in words.
        static func linkName(_ seq: Int) -> String {
            seq == 1 ? "the genesis hash" : "the entry hash of seq \(seq - 1)"
        }

        /// The message `verify` reports (without the seq).
        public var description: String {
            switch self {
            case .missing(let expected, let found):
                return "seq \(expected)\(found - expected > 1 ? "–\(found - 1)" : "") missing (next stored seq is "
                    + "\(found))"
            case .outOfOrder(let found, let previous):
                return "seq \(found) out of order or repeated after seq \(previous)"
            case .entryHashMismatch:
                return "entry_hash column does not match the SHA-256 of the record bytes (record or hash edited)"
            case .prevHashMismatch(let seq):
                return "prev_hash column is not \(Self.linkName(seq))"
            case .notCanonical(_, let error):
                return "record is not canonical JSON: \(error)"
            case .recordSeqMismatch(_, let found):
                return "record seq is \(found)"
            case .recordPrevMismatch(let seq):
                return "record prev is not \(Self.linkName(seq))"
            }
        }
    }

    /// Walks a chain link by link from its genesis hash, checking every rule and folding the Merkle tree. Each
    /// link is judged against the recomputed entry hash of the one before it (never the stored one), so one
    /// edited record is reported at its own seq and at the next.
    public struct Walker: Sendable {
        /// The seq the next link should have.
        public private(set) var expectedSeq = 1
        /// The recomputed entry hash of the last link walked (the genesis hash before the first).
        public private(set) var head: [UInt8]
        /// The Merkle tree of the records walked.
        public private(set) var tree = MerkleTree()

        /// The result of walking one link.
        public struct Step: Sendable {
            /// Every rule the link breaks, in a fixed order (seq, entry hash, prev hash, record).
            public var problems: [LinkProblem]
            /// The record decoded, if it is canonical JSON.
            public var value: CanonicalValue?
            /// The recomputed entry hash of the record.
            public var entryHash: [UInt8]
        }

        /// A walk starting at `genesis`.
        public init(genesis: [UInt8]) {
            head = genesis
        }

        /// Number of links walked.
        public var count: Int { tree.size }

        /// The rules on a link's columns: seq, entry hash, prev hash. Returns the recomputed entry hash.
        private func checkColumns(_ link: Link, into problems: inout [LinkProblem]) -> [UInt8] {
            if link.seq > expectedSeq {
                problems.append(.missing(expected: expectedSeq, found: link.seq))
            } else if link.seq < expectedSeq {
                problems.append(.outOfOrder(found: link.seq, previous: expectedSeq - 1))
            }
            let entry = HashChain.entryHash(record: link.record)
            if link.entryHash != entry { problems.append(.entryHashMismatch(seq: link.seq)) }
            if link.prevHash != head { problems.append(.prevHashMismatch(seq: link.seq)) }
            return entry
        }

        /// `walk`, with the record checked as canonical JSON by the same rules but without building its values:
        /// its top-level members come back as byte ranges (`Step.value` is nil). For `verify`, which reads a few
        /// members of every record.
        public mutating func walkMembers(_ link: Link) -> (step: Step, members: CanonicalMembers?) {
            let prepared = Self.prepare(link)
            return (commit(prepared), prepared.members)
        }

        /// The part of `walkMembers` that does not depend on the links before: both hashes of the record, its
        /// canonical form and members, its `seq`. Links can be prepared on several threads at once; `commit`
        /// then walks them in chain order.
        public struct Prepared: Sendable {
            public let seq: Int
            /// The record's top-level members, when it is canonical JSON holding an object.
            public let members: CanonicalMembers?
            let entry: [UInt8]
            let leaf: [UInt8]
            let entryHashMatches: Bool
            let prevHashColumn: ArraySlice<UInt8>
            /// `recordSeqMismatch` or `notCanonical`, when the record breaks a rule of its own.
            let recordProblem: LinkProblem?
        }

        /// Prepares `link` for `commit` (see `Prepared`).
        public static func prepare(_ link: Link) -> Prepared {
            prepare(seq: link.seq, record: link.record, prevHash: link.prevHash[...], entryHash: link.entryHash[...])
        }

        /// `prepare(_:)` of a link given by its parts, the hash columns as slices.
        public static func prepare(seq: Int, record: [UInt8], prevHash: ArraySlice<UInt8>,
                                   entryHash: ArraySlice<UInt8>) -> Prepared {
            let entry = HashChain.entryHash(record: record)
            var members: CanonicalMembers?
            var problem: LinkProblem?
            do {
                let m = try CanonicalJSON.members(record)
                members = m
                if m.integer("seq") != Int64(seq) {
                    problem = .recordSeqMismatch(seq: seq, found: m["seq"]?.description ?? "missing")
                }
            } catch {
                problem = .notCanonical(seq: seq, error: "\(error)")
            }
            return Prepared(seq: seq, members: members, entry: entry, leaf: AuditHash.merkleLeaf(record),
                            entryHashMatches: CanonicalJSON.sameBytes(entryHash, entry[...]), prevHashColumn: prevHash,
                            recordProblem: problem)
        }

        /// Walks a prepared link: the rules that depend on the chain so far (seq order, both links to the link
        /// before), in the order `walk` reports them.
        public mutating func commit(_ p: Prepared) -> Step {
            var problems: [LinkProblem] = []
            if p.seq > expectedSeq {
                problems.append(.missing(expected: expectedSeq, found: p.seq))
            } else if p.seq < expectedSeq {
                problems.append(.outOfOrder(found: p.seq, previous: expectedSeq - 1))
            }
            if !p.entryHashMatches { problems.append(.entryHashMismatch(seq: p.seq)) }
            if !CanonicalJSON.sameBytes(p.prevHashColumn, head[...]) { problems.append(.prevHashMismatch(seq: p.seq)) }
            if let m = p.members {
                if let problem = p.recordProblem { problems.append(problem) }
                // A hash's hex never needs an escape, so the plain string is the whole story.
                if !(m.plainString("prev").map { Hex.matches($0, head) } ?? false) {
                    problems.append(.recordPrevMismatch(seq: p.seq))
                }
            } else if let problem = p.recordProblem {
                problems.append(problem)
            }
            tree.append(leafHash: p.leaf)
            head = p.entry
            expectedSeq = p.seq + 1
            return Step(problems: problems, value: nil, entryHash: p.entry)
        }

        /// Checks `link` against the chain so far and advances past it.
        public mutating func walk(_ link: Link) -> Step {
            var problems: [LinkProblem] = []
            let entry = checkColumns(link, into: &problems)
            var value: CanonicalValue?
            do {
                let decoded = try CanonicalJSON.decode(link.record)
                value = decoded
                if decoded["seq"]?.int64Value != Int64(link.seq) {
                    problems.append(.recordSeqMismatch(seq: link.seq, found: decoded["seq"]?.description ?? "missing"))
                }
                if decoded["prev"]?.stringValue != Hex.encode(head) {
                    problems.append(.recordPrevMismatch(seq: link.seq))
                }
            } catch {
                problems.append(.notCanonical(seq: link.seq, error: "\(error)"))
            }
            tree.append(record: link.record)
            head = entry
            expectedSeq = link.seq + 1
            return Step(problems: problems, value: value, entryHash: entry)
        }
    }

    /// The first link that breaks a chain rule, or nil when every link holds.
    public static func firstBreak(genesis: [UInt8], links: some Sequence<Link>) -> LinkProblem? {
        var walker = Walker(genesis: genesis)
        for link in links {
            if let problem = walker.walk(link).problems.first { return problem }
        }
        return nil
    }
}
