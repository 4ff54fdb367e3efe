// crisis-bench: figures that are not timed unit tests, and the generator of large incidents.
//
//   crisis-bench generate --events N --db PATH [--playbook FILE --contacts FILE --set NAME=VALUE ...]
//                         [--batch 1000] [--clock RFC3339]
//       opens a drill incident of a shipped playbook through IncidentService.start (default: executive
//       impersonation with Examples/contacts.yaml and its four inputs), then appends operator.note records
//       through the store's append path, `--batch` per transaction, until the incident holds N records. The
//       notes are what `crisis note` writes (same body, operators and roles from the contacts file), so the
//       incident replays, verifies and shows like a real one. Prints the append rate on standard error and the
//       incident id on the last line of standard output.
//   crisis-bench replay --events 10000 [--db PATH] [--repeat 5] [generate's options]
//       generates such an incident, then times a full load: read every record, decode its canonical JSON,
//       re-parse the pinned playbook, fold every event through the engine.
//   crisis-bench verify --events 10000 [...]
//       the same incident, timing `verify` (every hash recomputed, every link and column checked).
//
// scripts/bench runs these and the process-level comparison with the sqlite3 command side by side.
import CrisisAudit
import CrisisCore
import CrisisRuntime
import Foundation

func argument(_ name: String, default value: String) -> String {
    let args = CommandLine.arguments
    if let i = args.lastIndex(of: name), i + 1 < args.count { return args[i + 1] }
    return value
}

func arguments(_ name: String) -> [String] {
    let args = CommandLine.arguments
    return args.indices.filter { args[$0] == name && $0 + 1 < args.count }.map { args[$0 + 1] }
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("crisis-bench: \(message)\n".utf8))
    exit(1)
}

/// Builds large, realistic drill incidents through the runtime (start) and the store's append path (notes).
struct Generator {
    var playbook: String
    var contacts: String?
    var inputs: [(String, String)]
    var simulatedStart: Instant
    var batch: Int

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The example of `crisis start --help`, unless the command line names another playbook.
    static func fromArguments() -> Generator {
        let defaultPlaybook = root.appendingPathComponent("Playbooks/executive-impersonation.yaml").path
        let playbook = argument("--playbook", default: defaultPlaybook)
        var inputs: [(String, String)] = arguments("--set").map { item in
            guard let eq = item.firstIndex(of: "=") else { fail("--set needs NAME=VALUE, got '\(item)'") }
            return (String(item[..<eq]), String(item[item.index(after: eq)...]))
        }
        var contacts = arguments("--contacts").last
        if playbook == defaultPlaybook {
            contacts = contacts ?? root.appendingPathComponent("Examples/contacts.yaml").path
            if inputs.isEmpty {
                inputs = [("detected_at", "2025-10-24T10:00:00+02:00"), ("impostor_urls", "https://x.com/fake_ceo"),
                          ("executive", "Erik Solheim, CEO"), ("platform", "x")]
            }
        }
        guard let clock = ISO8601.parse(argument("--clock", default: "2025-10-24T10:00:00+02:00")) else {
            fail("--clock must be an RFC 3339 time")
        }
        let batch = Int(argument("--batch", default: "1000")) ?? 1000
        guard batch >= 1 else { fail("--batch must be at least 1") }
        return Generator(playbook: playbook, contacts: contacts, inputs: inputs, simulatedStart: clock, batch: batch)
    }

    /// Who writes the notes: the people of the contacts file in their first role, else a fixed crew.
    static let crew: [AuditActor] = [
        AuditActor(id: "Kari Nordmann", role: "crisis_lead"), AuditActor(id: "Ola Hansen", role: "spokesperson"),
        AuditActor(id: "Ingrid Berg", role: "comms_on_duty"), AuditActor(id: "Sara Ali", role: "social_media"),
        AuditActor(id: "Jonas Lie"),
    ]

    /// Note texts, each around its number (`%d`), split once.
    static let texts: [(String, String)] = templates.map { t in
        let r = t.range(of: "%d")!
        return (String(t[..<r.lowerBound]), String(t[r.upperBound...]))
    }

    static let templates = [
        "Called the platform's trust and safety desk; ticket %d opened, they promise a reply within the hour.",
        "Screenshot of the impostor profile archived (post %d); shared with legal.",
        "Customer service reports %d new enquiries about the fake giveaway since the last update.",
        "Press desk: a reporter from the local paper asked for comment (call %d); holding line given.",
        "The impostor account posted again (%d reposts so far); reported through the verified-org channel.",
        "Internal channel: staff reminded not to engage with the fake account (message %d).",
        "Checked the brand monitoring feed: %d mentions in the last 15 minutes, sentiment mostly neutral.",
        "Legal confirms the takedown request wording; nothing to add for update %d.",
        "Phone bridge with the CEO's office: they approve the next statement draft (item %d).",
        "Look-alike domain found in the replies (%d so far); passed to IT security for blocking.",
    ]

    /// The body `crisis note` writes (IncidentService.note): the incident's clock, the text, who wrote it.
    static func noteBody(_ text: String, actor: AuditActor, now: Instant) -> CanonicalValue {
        var who: [(String, CanonicalValue)] = [("name", .string(actor.id))]
        if let role = actor.role { who.append(("role", .string(role))) }
        return .object([("now", .integer(now.millisecondsSinceEpoch)), ("text", .string(text)),
                         ("actor", .object(who))])
    }

    /// Creates the incident and fills it to `events` records (or as many as start wrote, if more). Returns its
    /// id, its record count, the notes appended and the seconds the appends took.
    func generate(events: Int, store: AuditStore) throws -> (id: String, records: Int, appended: Int, seconds: Double) {
        let service = IncidentService(store: store)
        let wallStart = Instant.wallClock()
        let started = try service.start(.init(
            playbookPath: playbook, contactsPath: contacts, inputs: inputs, mode: .drill,
            actor: Actor(name: "Kari Nordmann", role: "crisis_lead"), wallNow: wallStart,
            simulatedStart: simulatedStart))
        let id = started.incident.header.id
        let now = started.incident.now
        var seq = started.incident.seq
        let target = max(events, seq)
        var appended = 0
        let time = try seconds {
            while seq < target {
                let n = min(batch, target - seq)
                let drafts = (0..<n).map { i -> EventDraft in
                    let k = seq + i + 1
                    let actor = Self.crew[k % Self.crew.count]
                    let parts = Self.texts[k % Self.texts.count]
                    let text = parts.0 + String(k) + parts.1
                    // The wall clock of a busy scribe: a note every two seconds after the start.
                    let at = Instant(millisecondsSinceEpoch: wallStart.millisecondsSinceEpoch + Int64(k) * 2000)
                    return EventDraft(type: .note, idempotencyKey: "generated/\(id)/\(k)", actor: actor,
                                      recordedAt: at, body: Self.noteBody(text, actor: actor, now: now))
                }
                let stored = try store.append(incident: id, expectedSeq: seq, events: drafts)
                seq = stored.last?.seq ?? seq
                appended += n
            }
        }
        return (id, seq, appended, time)
    }
}

let mode = CommandLine.arguments.dropFirst().first ?? "replay"
let events = Int(argument("--events", default: "10000")) ?? 10_000
let repeats = Int(argument("--repeat", default: "5")) ?? 5

do {
    let generator = Generator.fromArguments()
    switch mode {
    case "generate":
        guard CommandLine.arguments.contains("--db") else { fail("generate needs --db PATH") }
        let store = try AuditStore(path: argument("--db", default: ""))
        let result = try generator.generate(events: events, store: store)
        let rate = result.seconds > 0 ? Double(result.appended) / result.seconds : 0
        FileHandle.standardError.write(Data(("appended \(result.appended) notes in "
            + "\(String(format: "%.2f", result.seconds)) s (\(Int(rate)) records/s, batches of \(generator.batch))\n").utf8))
        print(result.id)
    case "replay", "verify":
        let dbPath = argument("--db", default: FileManager.default.temporaryDirectory
            .appendingPathComponent("crisis-bench-\(events)-\(getpid()).sqlite").path)
        let store = try AuditStore(path: dbPath)
        let service = IncidentService(store: store)
        let built = try generator.generate(events: events, store: store)
        let id = built.id
        print("built \(events) records in \(String(format: "%.2f", built.seconds)) s (\(dbPath))")
        var times: [Double] = []
        for _ in 0..<repeats {
            times.append(try seconds {
                if mode == "verify" {
                    let report = try store.verify(incident: id)
                    precondition(report.firstBadSeq == nil, "verify failed")
                } else {
                    let loaded = try service.replay(id)
                    precondition(loaded.seq == built.records, "replayed \(loaded.seq) records, expected \(built.records)")
                }
            })
        }
        times.sort()
        let median = times[times.count / 2]
        print("\(mode) \(events) records: median \(String(format: "%.3f", median)) s, min \(String(format: "%.3f", times[0])) s, "
              + "\(String(format: "%.1f", Double(events) / median / 1000)) k records/s (\(repeats) runs)")
        if argument("--keep", default: "no") == "no" {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dbPath + suffix) }
        }
    default:
        fail("unknown mode '\(mode)' (generate, replay, verify)")
    }
} catch {
    fail("\(error)")
}
