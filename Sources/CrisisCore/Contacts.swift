import Foundation

/// The contacts directory (`contacts.yaml`): people, the roles they hold, how to reach them, their deputies,
/// when they are available, and escalation policies. Kept apart from playbooks so one playbook serves many teams.
///
/// The directory holds no clock reading: availability windows keep the zone's name and compute its UTC offset
/// for each instant they are asked about, so the same file gives the same directory in every season and in every
/// process time zone, and a replay pages the same people as the live run did.
public struct ContactsDirectory: Sendable, Hashable, Codable {
    public var people: [Person]
    public var policies: [EscalationPolicy]
    /// The IANA name of the zone the availability windows are written in (`timezone:`), `UTC` when not given.
    public var timeZone: String
    /// Distribution lists (`lists:`): named audiences a `notify` step sends to, one delivery per member.
    public var lists: [DistributionList]

    public init(people: [Person] = [], policies: [EscalationPolicy] = [], timeZone: String = "UTC",
                lists: [DistributionList] = []) {
        self.people = people
        self.policies = policies
        self.timeZone = timeZone
        self.lists = lists
    }

    enum CodingKeys: String, CodingKey { case people, policies, timeZone, lists }

    /// Decodes with the defaults of a directory written before distribution lists existed.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        people = try c.decode([Person].self, forKey: .people)
        policies = try c.decode([EscalationPolicy].self, forKey: .policies)
        timeZone = try c.decode(String.self, forKey: .timeZone)
        lists = try c.decodeIfPresent([DistributionList].self, forKey: .lists) ?? []
    }

    public func person(_ id: String) -> Person? { people.first { $0.id == id } }
    public func policy(_ id: String) -> EscalationPolicy? { policies.first { $0.id == id } }
    /// The distribution list with this id.
    public func list(_ id: String) -> DistributionList? { lists.first { $0.id == id } }

    /// People holding a role, in directory order.
    public func holders(of role: String) -> [Person] { people.filter { $0.roles.contains(role) } }

    /// The person whose id, else whose display name, is `name`.
    public func person(named name: String) -> Person? {
        people.first { $0.id == name } ?? people.first { $0.name == name }
    }

    /// For "did you mean": the person ids closest to `name` (compared with ids and display names, ignoring
    /// case), nearest first, at most three, within an edit distance that grows with the name's length.
    public func suggestions(for name: String) -> [String] {
        guard name.count <= 128 else { return [] }
        let word = Array(name.lowercased().unicodeScalars)
        let limit = word.count <= 3 ? 1 : (word.count <= 6 ? 2 : 3)
        var scored: [(id: String, distance: Int)] = []
        for p in people {
            let d = min(Self.distance(word, Array(p.id.lowercased().unicodeScalars)),
                        Self.distance(word, Array(p.name.lowercased().unicodeScalars)))
            if d <= limit { scored.append((p.id, d)) }
        }
        return scored.sorted { ($0.distance, $0.id) < ($1.distance, $1.id) }.prefix(3).map(\.id)
    }

    /// Levenshtein distance.
    static func distance(_ x: [Unicode.Scalar], _ y: [Unicode.Scalar]) -> Int {
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous = Array(0...y.count)
        for i in 1...x.count {
            var row = [i] + [Int](repeating: 0, count: y.count)
            for j in 1...y.count {
                row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            previous = row
        }
        return previous[y.count]
    }
}

/// A person in the directory.
public struct Person: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var roles: [String]
    /// Channels in order of preference.
    public var channels: [ContactChannel]
    /// Who stands in when this person is unavailable.
    public var deputy: String?
    /// When the person may be paged, in the directory's time zone. Empty means always.
    public var availability: [AvailabilityWindow]
    /// Absolute ranges when the person cannot be reached whatever the weekly windows say (a flight, leave).
    public var unavailable: [Unavailability]
    /// `deputy_holds_roles: true`: a deputy standing in for this person holds this person's roles for the rest of
    /// the incident (recorded in the escalation's substitution, never written back to the directory).
    public var deputyHoldsRoles: Bool
    /// The language messages to this person are in (`language: en`); nil: the playbook's first language.
    public var language: String?
    /// The IANA zone the person lives in (`timezone: America/New_York`), when it is not the directory's: their
    /// availability windows are in it, and their local time is shown beside their name when they are paged.
    public var timeZone: String?

    public init(id: String, name: String, roles: [String], channels: [ContactChannel] = [], deputy: String? = nil,
                availability: [AvailabilityWindow] = [], unavailable: [Unavailability] = [],
                deputyHoldsRoles: Bool = false, language: String? = nil, timeZone: String? = nil) {
        self.id = id
        self.name = name
        self.roles = roles
        self.channels = channels
        self.deputy = deputy
        self.availability = availability
        self.unavailable = unavailable
        self.deputyHoldsRoles = deputyHoldsRoles
        self.language = language
        self.timeZone = timeZone
    }

    enum CodingKeys: String, CodingKey {
        case id, name, roles, channels, deputy, availability, unavailable, deputyHoldsRoles, language, timeZone
    }

    /// Decodes with the defaults of a person written before `unavailable` and `deputy_holds_roles` existed.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        roles = try c.decode([String].self, forKey: .roles)
        channels = try c.decode([ContactChannel].self, forKey: .channels)
        deputy = try c.decodeIfPresent(String.self, forKey: .deputy)
        availability = try c.decode([AvailabilityWindow].self, forKey: .availability)
        unavailable = try c.decodeIfPresent([Unavailability].self, forKey: .unavailable) ?? []
        deputyHoldsRoles = try c.decodeIfPresent(Bool.self, forKey: .deputyHoldsRoles) ?? false
        language = try c.decodeIfPresent(String.self, forKey: .language)
        timeZone = try c.decodeIfPresent(String.self, forKey: .timeZone)
    }

    /// The person's own wall-clock time at `instant`, when they have their own zone: `14:05 America/New_York`.
    public func localTime(at instant: Instant) -> String? {
        guard let timeZone else { return nil }
        let offset = AvailabilityWindow.utcOffsetSeconds(of: timeZone, at: instant)
        let minutes = ((instant.millisecondsSinceEpoch / 1000 + Int64(offset)) / 60) % (24 * 60)
        let m = Int(minutes < 0 ? minutes + 24 * 60 : minutes)
        return String(format: "%02d:%02d", m / 60, m % 60) + " " + timeZone
    }

    /// The person's address on `channel` (the first of that type), nil when they have none.
    public func address(on channel: String) -> String? { channels.first { $0.type == channel }?.address }

    /// Why the person cannot be paged at `instant`, or nil when they can: an absolute range first (`on leave until
    /// 2026-01-12T08:00:00Z`), then the weekly windows (`outside availability windows`).
    public func unavailability(at instant: Instant) -> String? {
        if let range = unavailable.first(where: { $0.contains(instant) }) {
            let why = range.reason.map { "\($0) " } ?? "unavailable "
            return "\(why)until \(ISO8601.format(range.until))"
        }
        if !availability.isEmpty, !availability.contains(where: { $0.contains(instant) }) {
            return "outside availability windows"
        }
        return nil
    }

    /// Whether the person can be paged at `instant`.
    public func isAvailable(at instant: Instant) -> Bool { unavailability(at: instant) == nil }
}

/// A distribution list of the directory (`lists:`): an audience such as the retail chains, the partners or the
/// journalists who asked, as people of the directory. A `notify` step naming it (`list:`) makes one delivery per
/// member and channel, each addressed from that member's entry at the moment the step is entered.
public struct DistributionList: Sendable, Hashable, Codable {
    public var id: String
    /// For people: `Retail chains` (the id when the file gives no name).
    public var name: String
    /// Person ids, in the order written (deliveries go out in this order).
    public var members: [String]
    public init(id: String, name: String, members: [String]) {
        self.id = id
        self.name = name
        self.members = members
    }
}

/// An absolute range when a person cannot be reached: `{from, until, reason}` with RFC 3339 instants. `from` is
/// inside, `until` is not.
public struct Unavailability: Sendable, Hashable, Codable {
    public var from: Instant
    public var until: Instant
    public var reason: String?
    public init(from: Instant, until: Instant, reason: String? = nil) {
        self.from = from
        self.until = until
        self.reason = reason
    }
    public func contains(_ instant: Instant) -> Bool { from <= instant && instant < until }
}

/// One way of reaching a person: `{type: sms, address: "+47 ..."}`.
public struct ContactChannel: Sendable, Hashable, Codable {
    /// `sms`, `phone`, `email`, `slack`, `teams`, `signal`.
    public var type: String
    public var address: String
    public init(type: String, address: String) {
        self.type = type
        self.address = address
    }
}

/// A weekly availability window: minutes since local midnight on the listed weekdays, local meaning the wall
/// clock of the zone `timeZone` at the instant being tested (so a 09:00-10:00 Europe/Oslo window is 07:00-08:00Z
/// in July and 08:00-09:00Z in January).
public struct AvailabilityWindow: Sendable, Hashable, Codable {
    /// 1 = Monday ... 7 = Sunday (ISO 8601).
    public var days: [Int]
    public var fromMinute: Int
    public var toMinute: Int
    /// IANA name of the zone the window is written in (the directory's `timezone:`). The offset from UTC is
    /// computed for each instant tested, never stored. A name Foundation cannot load counts as UTC; the
    /// contacts loader refuses such names, so only a window built by hand can carry one.
    public var timeZone: String

    public init(days: [Int], fromMinute: Int, toMinute: Int, timeZone: String = "UTC") {
        self.days = days
        self.fromMinute = fromMinute
        self.toMinute = toMinute
        self.timeZone = timeZone
    }

    /// Whether `instant` falls inside the window. A window whose end is before its start runs over midnight
    /// (it belongs to the day it starts on). On the days clocks change, the local wall clock at `instant` decides:
    /// a local time skipped in spring is never inside, one repeated in autumn is inside both times.
    public func contains(_ instant: Instant) -> Bool {
        let seconds = instant.millisecondsSinceEpoch / 1000
        let local = seconds + Int64(AvailabilityWindow.utcOffsetSeconds(of: timeZone, at: instant))
        var dayNumber = local / 86_400
        var secondOfDay = local % 86_400
        if secondOfDay < 0 { secondOfDay += 86_400; dayNumber -= 1 }
        // 1970-01-01 was a Thursday (ISO weekday 4).
        var weekday = Int((dayNumber + 3) % 7)
        if weekday < 0 { weekday += 7 }
        weekday += 1
        let minute = Int(secondOfDay / 60)
        if fromMinute <= toMinute {
            return days.contains(weekday) && minute >= fromMinute && minute < toMinute
        }
        let previous = weekday == 1 ? 7 : weekday - 1
        return (days.contains(weekday) && minute >= fromMinute) || (days.contains(previous) && minute < toMinute)
    }

    /// The offset of zone `name` from UTC at `instant`, in seconds (0 for a name Foundation cannot load).
    public static func utcOffsetSeconds(of name: String, at instant: Instant) -> Int {
        guard name != "UTC", let zone = TimeZone(identifier: name) else { return 0 }
        let date = Date(timeIntervalSince1970: Double(instant.millisecondsSinceEpoch) / 1000)
        return zone.secondsFromGMT(for: date)
    }
}

/// An escalation policy of the directory.
public struct EscalationPolicy: Sendable, Hashable, Codable {
    public var id: String
    public var levels: [PolicyLevel]
    public var repeats: Int

    public init(id: String, levels: [PolicyLevel], repeats: Int = 0) {
        self.id = id
        self.levels = levels
        self.repeats = repeats
    }
}

/// A level of a directory policy; the same keys as a playbook's inline level (`EscalationLevel`).
public struct PolicyLevel: Sendable, Hashable, Codable {
    /// Who is paged: the holders of a role, or a person (parsed once, when the directory is loaded).
    public var targets: [PageTarget]
    /// The ack timeout; for an inform-only level, the wait before the next level.
    public var ackTimeout: PlaybookDuration
    public var channels: [String]
    public var ack: AckMode
    public var attempts: AttemptMode
    public var every: PlaybookDuration?
    public var inform: Bool

    public init(targets: [PageTarget], ackTimeout: PlaybookDuration, channels: [String] = [], ack: AckMode = .any,
                attempts: AttemptMode = .first, every: PlaybookDuration? = nil, inform: Bool = false) {
        self.targets = targets
        self.ackTimeout = ackTimeout
        self.channels = channels
        self.ack = ack
        self.attempts = attempts
        self.every = every
        self.inform = inform
    }

    enum CodingKeys: String, CodingKey { case targets, ackTimeout, channels, ack, attempts, every, inform }

    /// Decodes with the defaults of a level written before `ack`, `attempts`, `every` and `inform` existed.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        targets = try c.decode([PageTarget].self, forKey: .targets)
        ackTimeout = try c.decode(PlaybookDuration.self, forKey: .ackTimeout)
        channels = try c.decode([String].self, forKey: .channels)
        ack = try c.decodeIfPresent(AckMode.self, forKey: .ack) ?? .any
        attempts = try c.decodeIfPresent(AttemptMode.self, forKey: .attempts) ?? .first
        every = try c.decodeIfPresent(PlaybookDuration.self, forKey: .every)
        inform = try c.decodeIfPresent(Bool.self, forKey: .inform) ?? false
    }
}
