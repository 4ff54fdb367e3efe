import CrisisAudit
import CrisisCore

/// The members a statement draft's measures and failed checks add to the `statement` object of an
/// `operator.action` record (docs/audit-format.md): `measures` and `findings`, each absent when empty, so drafts
/// written before crisis/0.4 keep their bytes and decode to no checks.
enum DraftChecksCoding {
    static func members(_ c: DraftChecks) -> [(String, CanonicalValue?)] {
        [
            ("measures", c.measures.isEmpty ? nil : .array(c.measures.map(measure))),
            ("findings", c.findings.isEmpty ? nil : .array(c.findings.map(finding))),
        ]
    }

    static func decode(_ statement: CanonicalValue) throws -> DraftChecks {
        var out = DraftChecks()
        for m in statement["measures"]?.arrayValue ?? [] {
            out.measures.append(DraftMeasure(
                channel: try m.requiredString("channel"), language: try m.requiredString("language"),
                count: Int(try m.requiredInt("count")), unit: try m.requiredString("unit"), limit: m["limit"]?.intValue,
                encoding: m["encoding"]?.stringValue, segments: m["segments"]?.intValue))
        }
        for f in statement["findings"]?.arrayValue ?? [] {
            guard let check = CheckFinding.Check(rawValue: try f.requiredString("check")) else {
                throw RuntimeError.corruptRecord("unknown statement check")
            }
            out.findings.append(CheckFinding(
                check: check, language: try f.requiredString("language"), channel: f["channel"]?.stringValue,
                rule: try f.requiredString("rule"), found: f["found"]?.stringValue ?? ""))
        }
        return out
    }

    private static func measure(_ m: DraftMeasure) -> CanonicalValue {
        obj([
            ("channel", .string(m.channel)), ("language", .string(m.language)), ("count", .integer(Int64(m.count))),
            ("unit", .string(m.unit)), ("limit", m.limit.map { .integer(Int64($0)) }),
            ("encoding", m.encoding.map { .string($0) }), ("segments", m.segments.map { .integer(Int64($0)) }),
        ])
    }

    private static func finding(_ f: CheckFinding) -> CanonicalValue {
        obj([
            ("check", .string(f.check.rawValue)), ("language", .string(f.language)),
            ("channel", f.channel.map { .string($0) }), ("rule", .string(f.rule)),
            ("found", f.found.isEmpty ? nil : .string(f.found)),
        ])
    }

    private static func obj(_ members: [(String, CanonicalValue?)]) -> CanonicalValue {
        .object(members.compactMap { k, v in v.map { (k, $0) } })
    }
}
