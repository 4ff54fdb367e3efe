import CrisisAudit
import CrisisCore

/// The debrief after a drill (the "hot wash"), as timeline notes tagged by the scribe:
///
///     crisis note ID "#strength Legal turned the second draft round in five minutes."
///     crisis note ID "#improve owner=jonas.lie due=2026-04-01 Pre-approve a staff text for e-mail outages."
///
/// `#strength` notes are what went well; `#improve` (or `#improvement`, `#afi`) notes are areas for improvement,
/// each with an optional owner and due date: the after-action report's improvement plan.
public struct HotWashItem: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable { case strength, improvement, parkingLot = "parking_lot" }
    public var kind: Kind
    public var text: String
    public var owner: String?
    /// `YYYY-MM-DD` as written.
    public var due: String?
    /// The note's record.
    public var record: Int

    /// A tagged note as an item; nil for any other note.
    public static func parse(_ note: String, record: Int) -> HotWashItem? {
        var words = note.split(separator: " ", omittingEmptySubsequences: true)[...]
        guard let tag = words.popFirst()?.lowercased() else { return nil }
        let kind: Kind
        switch tag {
        case "#strength", "#strengths": kind = .strength
        case "#improve", "#improvement", "#afi": kind = .improvement
        case "#parking": kind = .parkingLot
        default: return nil
        }
        var owner: String?
        var due: String?
        while let w = words.first {
            if w.hasPrefix("owner="), w.count > 6 { owner = String(w.dropFirst(6)) } else if w.hasPrefix("due="), w.count > 4 {
                due = String(w.dropFirst(4))
            } else {
                break
            }
            words = words.dropFirst()
        }
        let text = words.joined(separator: " ")
        guard !text.isEmpty else { return nil }
        return HotWashItem(kind: kind, text: text, owner: owner, due: due, record: record)
    }

    /// Every tagged note of an incident, in order.
    public static func items(_ store: any AuditLog, _ id: String) throws -> [HotWashItem] {
        var out: [HotWashItem] = []
        try store.forEachEvent(incident: id) { stored in
            guard stored.type == .note, case .note(let n) = try TrailRecord.decode(stored),
                let item = parse(n.text, record: stored.seq)
            else { return }
            out.append(item)
        }
        return out
    }
}
