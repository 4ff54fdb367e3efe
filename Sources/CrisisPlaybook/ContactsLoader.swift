import CrisisCore
import Foundation
internal import Yams

/// Reads the contacts directory (`schema: crisis-contacts/v1`, docs/playbook-format.md "Contacts directory").
public enum ContactsLoader {
    /// The only contacts format this build reads.
    public static let schemaV1 = "crisis-contacts/v1"

    /// The directory, or nil when it has errors; and every problem found (warnings included).
    public static func load(path: String) -> (directory: ContactsDirectory?, diagnostics: [Diagnostic]) {
        let read = YAMLReader.read(path: path)
        guard let bytes = read.bytes else { return (nil, read.diagnostics) }
        return load(bytes: bytes, path: path)
    }

    /// Reads a directory from bytes; `path` is used in diagnostics. A pure function of the bytes: no clock is read
    /// and the process's time zone plays no part (windows keep the zone's name, `AvailabilityWindow.contains`
    /// computes its offset for each instant). An unknown zone name is an error, never a crash.
    public static func load(bytes: [UInt8], path: String)
        -> (directory: ContactsDirectory?, diagnostics: [Diagnostic])
    {
        let document = YAMLReader.parse(bytes: bytes, path: path)
        guard let root = document.root else {
            var d = document.diagnostics
            if !d.hasErrors {
                d.append(.error(DiagnosticCode.wrongType, "the file is empty; a contacts directory starts with 'schema:'",
                                at: SourceLocation(file: path, line: 1, column: 1)))
            }
            return (nil, Diagnostic.sorted(d))
        }
        let r = NodeReader(file: path)
        let directory = build(root, r: r)
        let all = Diagnostic.sorted(document.diagnostics + r.diagnostics)
        return (all.hasErrors ? nil : directory, all)
    }

    static let dayNumbers = ["mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7]

    /// `[a-z0-9][a-z0-9._-]*`: `kari.nordmann`, `on-call-2`.
    static func isPersonID(_ s: String) -> Bool {
        guard let first = s.utf8.first, s.utf8.count <= 64,
            (first >= 0x61 && first <= 0x7A) || (first >= 0x30 && first <= 0x39)
        else { return false }
        return s.utf8.allSatisfy {
            ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D
        }
    }

    /// "HH:MM" to minutes since midnight; "24:00" is the end of the day.
    static func minutes(_ s: String) -> Int? {
        let b = Array(s.utf8)
        guard b.count == 5, b[2] == 0x3A,
            b.enumerated().allSatisfy({ $0.offset == 2 || ($0.element >= 0x30 && $0.element <= 0x39) })
        else { return nil }
        let h = Int(b[0] - 0x30) * 10 + Int(b[1] - 0x30)
        let m = Int(b[3] - 0x30) * 10 + Int(b[4] - 0x30)
        guard (h < 24 && m < 60) || (h == 24 && m == 0) else { return nil }
        return h * 60 + m
    }

    static func build(_ root: Node, r: NodeReader) -> ContactsDirectory? {
        guard let m = r.mapping(root, what: "the contacts directory", allowed: ["schema", "timezone", "people", "policies", "lists"])
        else { return nil }
        let what = "the contacts directory"
        if let schema = r.string(m, "schema", what: what, required: true), schema != schemaV1, let node = m["schema"] {
            r.error(DiagnosticCode.unknownSchema, "schema '\(schema)' is not supported; this build reads '\(schemaV1)'",
                    at: r.location(node))
        }
        var timeZone = "UTC"
        if let node = m["timezone"], let tz = r.string(node, what: "'timezone'") {
            if TimeZone(identifier: tz) != nil {
                timeZone = tz
            } else {
                r.error(DiagnosticCode.badTimezone, "unknown time zone '\(tz)'; use an IANA name such as Europe/Oslo",
                        at: r.location(node))
            }
        }

        var people: [Person] = []
        var deputies: [(person: String, deputy: Located<String>)] = []
        if let node = r.require(m, "people", what: what), let pm = r.mapping(node, what: "'people'") {
            for e in pm.entries {
                if !isPersonID(e.key) {
                    r.error(DiagnosticCode.badIdentifier,
                            "person id '\(e.key)' must use lower-case letters, digits, '.', '_' and '-'", at: e.keyLocation)
                }
                let w = "person '\(e.key)'"
                guard let vm = r.mapping(e.value, what: w, allowed: [
                    "name", "roles", "channels", "deputy", "availability", "unavailable", "deputy_holds_roles",
                    "language", "timezone",
                ])
                else { continue }
                // A person's own zone: their availability windows are written in it (else the directory's).
                var ownZone: String?
                if let node = vm["timezone"], let tz = r.string(node, what: "'timezone' of \(w)") {
                    if TimeZone(identifier: tz) != nil {
                        ownZone = tz
                    } else {
                        r.error(DiagnosticCode.badTimezone, "unknown time zone '\(tz)' for \(w); use an IANA name such as America/New_York",
                                at: r.location(node))
                    }
                }
                let name = r.string(vm, "name", what: w, required: true) ?? e.key
                let roles = vm["roles"].flatMap { r.identifierList($0, what: "'roles' of \(w)") }?.map(\.value) ?? []
                var channels: [ContactChannel] = []
                if let cn = vm["channels"], let items = r.sequence(cn, what: "'channels' of \(w)") {
                    for item in items {
                        guard let cm = r.mapping(item, what: "a channel of \(w)", allowed: ["type", "address"]) else { continue }
                        let type = r.string(cm, "type", what: "a channel of \(w)", required: true)
                        let address = r.string(cm, "address", what: "a channel of \(w)", required: true)
                        if let type, let address { channels.append(ContactChannel(type: type, address: address)) }
                    }
                }
                var deputy: String?
                if let dn = vm["deputy"], let d = r.located(dn, what: "'deputy' of \(w)") {
                    deputy = d.value
                    deputies.append((e.key, d))
                }
                var availability: [AvailabilityWindow] = []
                var windowLocations: [SourceLocation] = []
                if let an = vm["availability"], let items = r.sequence(an, what: "'availability' of \(w)") {
                    for item in items {
                        let aw = "an availability window of \(w)"
                        guard let am = r.mapping(item, what: aw, allowed: ["days", "from", "to"]) else { continue }
                        var days: [Int] = []
                        if let dn = r.require(am, "days", what: aw), let list = r.stringList(dn, what: "'days' of \(aw)") {
                            for d in list {
                                if let n = dayNumbers[d.value] {
                                    days.append(n)
                                } else {
                                    r.error(DiagnosticCode.badValue, "'\(d.value)' is not a day; use mon, tue, wed, thu, fri, sat, sun",
                                            at: d.location)
                                }
                            }
                        }
                        var from: Int?
                        var to: Int?
                        for (key, slot) in [("from", 0), ("to", 1)] {
                            guard let tn = r.require(am, key, what: aw), let t = r.scalar(tn, what: "'\(key)' of \(aw)") else { continue }
                            guard let v = minutes(t) else {
                                r.error(DiagnosticCode.badValue, "'\(t)' is not a time of day; write \"HH:MM\", such as \"07:00\"",
                                        at: r.location(tn))
                                continue
                            }
                            if slot == 0 { from = v } else { to = v }
                        }
                        if let from, let to, !days.isEmpty {
                            availability.append(AvailabilityWindow(days: days, fromMinute: from, toMinute: to,
                                                                   timeZone: ownZone ?? timeZone))
                            windowLocations.append(am.location)
                        }
                    }
                }
                checkWeeklyOverlaps(availability, at: windowLocations, of: w, r: r)
                let unavailable = vm["unavailable"].map { unavailability($0, of: w, r: r) } ?? []
                let holds = r.bool(vm, "deputy_holds_roles", what: w) ?? false
                let language = vm["language"].flatMap { r.identifier($0, what: "'language' of \(w)") }?.value
                people.append(Person(id: e.key, name: name, roles: roles, channels: channels, deputy: deputy,
                                     availability: availability, unavailable: unavailable, deputyHoldsRoles: holds,
                                     language: language, timeZone: ownZone))
            }
        }
        let ids = Set(people.map(\.id))
        for (person, deputy) in deputies {
            if deputy.value == person {
                r.error(DiagnosticCode.unknownDeputy, "\(person) cannot be their own deputy", at: deputy.location)
            } else if !ids.contains(deputy.value) {
                var message = "deputy '\(deputy.value)' of '\(person)' is not in the directory"
                if let s = EditDistance.suggestion(for: deputy.value, among: ids.sorted()) { message += "; did you mean '\(s)'?" }
                r.error(DiagnosticCode.unknownDeputy, message, at: deputy.location)
            }
        }

        var policies: [EscalationPolicy] = []
        if let node = m["policies"], !NodeReader.isEmpty(node), let pm = r.mapping(node, what: "'policies'") {
            for e in pm.entries {
                r.checkIdentifier(e.key, what: "policy id", at: e.keyLocation)
                let w = "policy '\(e.key)'"
                guard let vm = r.mapping(e.value, what: w, allowed: ["repeat", "levels"]) else { continue }
                let repeats = r.integer(vm, "repeat", what: w, range: 0...5) ?? 0
                var levels: [PolicyLevel] = []
                if let ln = r.require(vm, "levels", what: w), let items = r.sequence(ln, what: "'levels' of \(w)") {
                    if items.isEmpty { r.error(DiagnosticCode.badValue, "\(w) needs at least one level", at: r.location(ln)) }
                    for (i, item) in items.enumerated() {
                        let lw = "level \(i + 1) of \(w)"
                        guard let lm = r.mapping(item, what: lw, allowed: EscalationShape.levelKeys) else { continue }
                        var targets: [PageTarget] = []
                        if let tn = r.require(lm, "targets", what: lw), let list = r.stringList(tn, what: "'targets' of \(lw)") {
                            for t in list {
                                let target = PageTarget(parsing: t.value)
                                targets.append(target)
                                switch target {
                                case .role(let role):
                                    if r.checkIdentifier(role, what: "role", at: t.location),
                                        !people.contains(where: { $0.roles.contains(role) })
                                    {
                                        r.warning(DiagnosticCode.roleWithoutHolder,
                                                  "\(lw) pages role '\(role)', which nobody in the directory holds", at: t.location)
                                    }
                                case .person(let id) where !ids.contains(id):
                                    var message = "\(lw) pages '\(id)', who is not in the directory"
                                    if let s = EditDistance.suggestion(for: id, among: ids.sorted()) {
                                        message += "; did you mean '\(s)'?"
                                    }
                                    r.error(DiagnosticCode.unknownContact, message, at: t.location)
                                case .person:
                                    break
                                }
                            }
                        }
                        let channels = lm["channels"].flatMap { r.stringList($0, what: "'channels' of \(lw)") }?.map(\.value) ?? []
                        if let s = EscalationShape.read(lm, what: lw, r: r) {
                            levels.append(PolicyLevel(
                                targets: targets, ackTimeout: s.ackTimeout, channels: channels, ack: s.ack,
                                attempts: s.attempts, every: s.every, inform: s.inform))
                        }
                    }
                }
                policies.append(EscalationPolicy(id: e.key, levels: levels, repeats: repeats))
            }
        }
        let lists = m["lists"].map { distributionLists($0, people: ids, r: r) } ?? []
        return ContactsDirectory(people: people, policies: policies, timeZone: timeZone, lists: lists)
    }

    /// `lists: {ID: {name, members: [person ids]}}`: every member a person of the directory, none twice.
    static func distributionLists(_ node: Node, people ids: Set<String>, r: NodeReader) -> [DistributionList] {
        guard !NodeReader.isEmpty(node), let lm = r.mapping(node, what: "'lists'") else { return [] }
        var lists: [DistributionList] = []
        for e in lm.entries {
            r.checkIdentifier(e.key, what: "list id", at: e.keyLocation)
            let w = "list '\(e.key)'"
            guard let vm = r.mapping(e.value, what: w, allowed: ["name", "members"]) else { continue }
            let name = r.string(vm, "name", what: w) ?? e.key
            var members: [String] = []
            if let mn = r.require(vm, "members", what: w), let list = r.stringList(mn, what: "'members' of \(w)") {
                for member in list {
                    if !ids.contains(member.value) {
                        var message = "\(w) names '\(member.value)', who is not in the directory"
                        if let s = EditDistance.suggestion(for: member.value, among: ids.sorted()) {
                            message += "; did you mean '\(s)'?"
                        }
                        r.error(DiagnosticCode.unknownContact, message, at: member.location)
                    } else if members.contains(member.value) {
                        r.error(DiagnosticCode.badValue, "\(w) names '\(member.value)' twice", at: member.location)
                    } else {
                        members.append(member.value)
                    }
                }
            }
            lists.append(DistributionList(id: e.key, name: name, members: members))
        }
        return lists
    }

    /// `unavailable: [{from, until, reason}]`: RFC 3339 instants with an offset (`2026-01-10T08:00:00+01:00`),
    /// `until` after `from`, no two ranges of a person overlapping.
    static func unavailability(_ node: Node, of w: String, r: NodeReader) -> [Unavailability] {
        guard let items = r.sequence(node, what: "'unavailable' of \(w)") else { return [] }
        var out: [(range: Unavailability, at: SourceLocation)] = []
        for item in items {
            let uw = "an unavailable range of \(w)"
            guard let um = r.mapping(item, what: uw, allowed: ["from", "until", "reason"]) else { continue }
            var instants: [Instant?] = [nil, nil]
            for (slot, key) in ["from", "until"].enumerated() {
                guard let n = r.require(um, key, what: uw), let text = r.scalar(n, what: "'\(key)' of \(uw)") else { continue }
                if let instant = ISO8601.parse(text) {
                    instants[slot] = instant
                } else {
                    r.error(DiagnosticCode.badValue,
                            "'\(text)' is not an instant with an offset; write RFC 3339 such as \"2026-01-10T08:00:00+01:00\"",
                            at: r.location(n))
                }
            }
            let reason = um["reason"].flatMap { r.string($0, what: "'reason' of \(uw)") }
            guard let from = instants[0], let until = instants[1] else { continue }
            if until <= from {
                r.error(DiagnosticCode.badValue,
                        "\(uw) ends (\(ISO8601.format(until))) before it starts (\(ISO8601.format(from))); 'until' must be after 'from'",
                        at: um["until"].map(r.location) ?? um.location)
                continue
            }
            let range = Unavailability(from: from, until: until, reason: reason)
            if let other = out.first(where: { $0.range.from < until && from < $0.range.until }) {
                r.error(DiagnosticCode.badValue,
                        "\(uw) overlaps the one at line \(other.at.line); merge them into one range",
                        at: um.location)
                continue
            }
            out.append((range, um.location))
        }
        return out.map(\.range)
    }

    /// Refuses two weekly windows of a person that share a minute of the week (written once, they are easier to
    /// read and to change).
    static func checkWeeklyOverlaps(_ windows: [AvailabilityWindow], at locations: [SourceLocation], of w: String,
                                    r: NodeReader) {
        func spans(_ window: AvailabilityWindow) -> [Range<Int>] {
            let week = 7 * 1440
            var out: [Range<Int>] = []
            for day in window.days {
                let start = (day - 1) * 1440 + window.fromMinute
                let end = window.fromMinute < window.toMinute
                    ? (day - 1) * 1440 + window.toMinute : day * 1440 + window.toMinute
                if end <= week {
                    out.append(start..<end)
                } else {
                    out.append(start..<week)
                    out.append(0..<(end - week))
                }
            }
            return out.filter { !$0.isEmpty }
        }
        let all = windows.map(spans)
        for i in all.indices {
            for j in 0..<i where all[i].contains(where: { a in all[j].contains(where: { a.overlaps($0) }) }) {
                r.error(DiagnosticCode.badValue,
                        "this availability window of \(w) overlaps the one at line \(locations[j].line); a minute of the week belongs to one window",
                        at: locations[i])
                break
            }
        }
    }
}
