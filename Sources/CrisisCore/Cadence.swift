import Foundation

/// Cadences: a recurring statement or task ("a status page update every 30 minutes between 06:00 and 24:00 until
/// the service is back"). Each occurrence is a target, met or missed.
///
/// ```
///   origin ──every──▶ due 1 ──(met at m1)──every──▶ due 2 ──(timer: missed)──every──▶ due 3 ...
///                         │                              until recorded: pending occurrence dropped, ended
/// ```
///
/// Occurrence 1 is due `every` after the origin (the incident's start, a `time` input, or a moment recorded during
/// the run). Each next one is due `every` after the previous one was done: when it was met, or when its step took
/// the outcome late, or, when it was never done, its due instant. A due instant outside the `between` window (local
/// times in the playbook's zone) moves to the window's next start. `until` ends the cadence: the occurrence
/// pending then is dropped and no more are due.
public struct CadenceSpec: Sendable, Hashable, Codable {
    public var id: String
    public var title: String
    /// How long after the previous occurrence (or the origin) the next one is due. Positive.
    public var every: PlaybookDuration
    /// When occurrences may fall due, in the playbook's zone; nil: at any time.
    public var between: CadenceWindow?
    /// What occurrence 1 counts from.
    public var from: TargetOrigin
    /// The step whose outcome (or intermediate state) meets the pending occurrence.
    public var step: Located<String>
    /// The outcome of `step` that meets it (empty when `reaches` names a state instead).
    public var outcome: Located<String>
    /// An intermediate state of `step` that meets it when reached (as a target's `reaches`).
    public var reaches: Located<String>?
    /// The moment that ends the cadence; nil: it runs until the incident closes.
    public var until: RunAnchor?
    public var location: SourceLocation
    public init(
        id: String, title: String, every: PlaybookDuration, between: CadenceWindow? = nil,
        from: TargetOrigin = .incidentStart, step: Located<String>, outcome: Located<String>,
        reaches: Located<String>? = nil, until: RunAnchor? = nil, location: SourceLocation = .unknown
    ) {
        self.id = id
        self.title = title
        self.every = every
        self.between = between
        self.from = from
        self.step = step
        self.outcome = outcome
        self.reaches = reaches
        self.until = until
        self.location = location
    }

    /// When the occurrence after one done (or due) at `previous` is due: `every` later, moved into the window.
    public func nextDue(after previous: Instant, zone: String) -> Instant {
        let due = previous + every
        guard let between, let tz = ZonedTime.zone(zone) else { return due }
        return between.earliest(atOrAfter: due, in: tz)
    }
}

/// Local times of day between which a cadence's occurrences may fall due: `between: ["06:00", "24:00"]`. Both ends
/// are included. A window whose start is after its end crosses midnight (`["22:00", "06:00"]`).
public struct CadenceWindow: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Minutes after local midnight, 0 to 1439.
    public var startMinute: Int
    /// Minutes after local midnight, 1 to 1440 (`24:00`).
    public var endMinute: Int
    public init(startMinute: Int, endMinute: Int) {
        self.startMinute = startMinute
        self.endMinute = endMinute
    }

    /// `06:00-24:00`.
    public var description: String { "\(Self.clock(startMinute))-\(Self.clock(endMinute))" }

    /// `HH:MM` for minutes after midnight.
    public static func clock(_ minute: Int) -> String {
        let h = minute / 60, m = minute % 60
        return (h < 10 ? "0" : "") + "\(h):" + (m < 10 ? "0" : "") + "\(m)"
    }

    /// Reads `HH:MM` (00:00 to 24:00) as minutes after midnight; nil when it is not such a time.
    public static func minute(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
            (0...24).contains(h), (0...59).contains(m), h < 24 || m == 0
        else { return nil }
        return h * 60 + m
    }

    /// Whether `instant` falls inside the window in `zone`.
    public func contains(_ instant: Instant, in zone: TimeZone) -> Bool {
        let ms = ZonedTime.local(instant, in: zone).msOfDay
        let start = Int64(startMinute) * 60_000, end = Int64(endMinute) * 60_000
        if startMinute < endMinute {
            // 24:00 is the next day's 00:00.
            return (ms >= start && ms <= end) || (endMinute == 1440 && ms == 0)
        }
        return ms >= start || ms <= end
    }

    /// `instant` when it is inside the window, else the window's next start (local wall time in `zone`; in a
    /// DST gap, the instant after it).
    public func earliest(atOrAfter instant: Instant, in zone: TimeZone) -> Instant {
        if contains(instant, in: zone) { return instant }
        let local = ZonedTime.local(instant, in: zone)
        let start = Int64(startMinute) * 60_000
        // Outside a window that does not cross midnight and past its end: tomorrow's start. Otherwise today's.
        let day = startMinute < endMinute && local.msOfDay > start ? local.date.adding(days: 1) : local.date
        return ZonedTime.instant(day, seconds: startMinute * 60, in: zone)
    }
}

/// A cadence's run: its occurrences so far, the last one pending while the cadence runs.
public struct CadenceRun: Sendable, Hashable, Codable {
    public let id: String
    public let origin: Instant
    public internal(set) var occurrences: [CadenceOccurrence]
    /// When `until` was recorded (the cadence ended); nil while it runs.
    public internal(set) var endedAt: Instant?
    init(id: String, origin: Instant) {
        self.id = id
        self.origin = origin
        self.occurrences = []
        self.endedAt = nil
    }

    /// The occurrence waiting to be done, if any.
    public var pending: CadenceOccurrence? { occurrences.last.flatMap { $0.status == .pending ? $0 : nil } }
    /// How many occurrences were met.
    public var met: Int { occurrences.filter { $0.metAt != nil }.count }
    /// How many occurrences were missed (never done, or done late).
    public var missed: Int { occurrences.filter(\.missed).count }
}

/// One occurrence of a cadence: a target due at `due`.
public struct CadenceOccurrence: Sendable, Hashable, Codable {
    /// 1-based.
    public let number: Int
    public let due: Instant
    public internal(set) var status: TargetStatus
    /// When its step took the outcome late (a missed occurrence that was still done); nil otherwise.
    public internal(set) var doneLateAt: Instant?
    init(number: Int, due: Instant) {
        self.number = number
        self.due = due
        self.status = .pending
        self.doneLateAt = nil
    }
    /// When the occurrence was met, if it was.
    public var metAt: Instant? { if case .met(let at) = status { at } else { nil } }
    /// Whether the occurrence was missed.
    public var missed: Bool { status == .missed }

    /// The id the occurrence's met and missed effects carry: `public_updates#2`.
    public static func targetID(cadence: String, number: Int) -> String { "\(cadence)#\(number)" }
}
