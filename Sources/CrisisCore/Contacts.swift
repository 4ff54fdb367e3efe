/// The contacts directory (`contacts.yaml`): people, the roles they hold, how to reach them, their deputies,
/// when they are available, and escalation policies. Kept apart from playbooks so one playbook serves many teams.
public struct ContactsDirectory: Sendable, Hashable, Codable {
    public var people: [Person]
    public var policies: [EscalationPolicy]

    public init(people: [Person] = [], policies: [EscalationPolicy] = []) {
        self.people = people
        self.policies = policies
    }

    public func person(_ id: String) -> Person? { people.first { $0.id == id } }
    public func policy(_ id: String) -> EscalationPolicy? { policies.first { $0.id == id } }

    /// People holding a role, in directory order.
    public func holders(of role: String) -> [Person] { people.filter { $0.roles.contains(role) } }

    /// Whether `name` (a person id or display name) holds `role`.
    public func person(named name: String) -> Person? {
        people.first { $0.id == name } ?? people.first { $0.name == name }
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

    public init(id: String, name: String, roles: [String], channels: [ContactChannel] = [], deputy: String? = nil,
                availability: [AvailabilityWindow] = []) {
        self.id = id
        self.name = name
        self.roles = roles
        self.channels = channels
        self.deputy = deputy
        self.availability = availability
    }
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

/// A weekly availability window, as minutes since local midnight on the listed weekdays.
public struct AvailabilityWindow: Sendable, Hashable, Codable {
    /// 1 = Monday ... 7 = Sunday (ISO 8601).
    public var days: [Int]
    public var fromMinute: Int
    public var toMinute: Int
    /// Offset of the directory's zone from UTC, in seconds, for evaluating the window.
    public var utcOffsetSeconds: Int

    public init(days: [Int], fromMinute: Int, toMinute: Int, utcOffsetSeconds: Int = 0) {
        self.days = days
        self.fromMinute = fromMinute
        self.toMinute = toMinute
        self.utcOffsetSeconds = utcOffsetSeconds
    }

    /// Whether `instant` falls inside the window. A window whose end is before its start runs over midnight.
    public func contains(_ instant: Instant) -> Bool {
        let local = instant.millisecondsSinceEpoch / 1000 + Int64(utcOffsetSeconds)
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

public struct PolicyLevel: Sendable, Hashable, Codable {
    /// `role:NAME` or a person id.
    public var targets: [String]
    public var ackTimeout: PlaybookDuration
    public var channels: [String]

    public init(targets: [String], ackTimeout: PlaybookDuration, channels: [String] = []) {
        self.targets = targets
        self.ackTimeout = ackTimeout
        self.channels = channels
    }
}
