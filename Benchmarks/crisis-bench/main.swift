// crisis-bench: figures that are not timed unit tests.
//
//   crisis-bench replay --events 10000 [--db PATH] [--repeat 5]
//       builds an incident with N note records (batched appends), then times a full load: read every record,
//       decode its canonical JSON, re-parse the pinned playbook, fold every event through the engine.
//   crisis-bench verify --events 10000
//       the same incident, timing `verify` (every hash recomputed, every link and column checked).
//
// scripts/bench runs these and the process-level comparison with the sqlite3 command side by side.
import CrisisAudit
import CrisisCore
import CrisisRuntime
import Foundation

func argument(_ name: String, default value: String) -> String {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count { return args[i + 1] }
    return value
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

let mode = CommandLine.arguments.dropFirst().first ?? "replay"
let events = Int(argument("--events", default: "10000")) ?? 10_000
let repeats = Int(argument("--repeat", default: "5")) ?? 5
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
let playbook = argument("--playbook", default: root.appendingPathComponent("Tests/CrisisCLITests/Fixtures/mini.yaml").path)
let dbPath = argument("--db", default: FileManager.default.temporaryDirectory
    .appendingPathComponent("crisis-bench-\(events)-\(getpid()).sqlite").path)

do {
    let service = IncidentService(store: try AuditStore(path: dbPath))
    let actor = Actor(name: "bench", role: nil)
let auditActor = AuditActor(id: "bench")
    let started = try service.start(.init(
        playbookPath: playbook, inputs: [("post_url", "https://example.com/p/1")], mode: .drill, actor: actor,
        wallNow: .wallClock()))
    let id = started.incident.header.id
    var seq = started.incident.seq
    let batch = 1000
    let build = try seconds {
        var written = 1
        while written < events {
            let n = min(batch, events - written)
            let drafts = (0..<n).map { i in
                EventDraft(
                    type: RecordType.note, idempotencyKey: "bench-\(written + i)", actor: auditActor,
                    recordedAt: .wallClock(),
                    body: .object([
                        ("actor", .object([("name", .string("bench"))])),
                        ("now", .integer(started.incident.now.millisecondsSinceEpoch)),
                        ("text", .string("Bench note \(written + i): the statement went out on X and the website.")),
                    ]))
            }
            let stored = try service.store.append(incident: id, expectedSeq: seq, events: drafts)
            seq = stored.last?.seq ?? seq
            written += n
        }
    }
    print("built \(events) records in \(String(format: "%.2f", build)) s (\(dbPath))")
    var times: [Double] = []
    for _ in 0..<repeats {
        times.append(try seconds {
            if mode == "verify" {
                let report = try service.store.verify(incident: id)
                precondition(report.firstBadSeq == nil, "verify failed")
            } else {
                let loaded = try service.load(id)
                precondition(loaded.seq == events, "replayed \(loaded.seq) records, expected \(events)")
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
} catch {
    FileHandle.standardError.write(Data("crisis-bench: \(error)\n".utf8))
    exit(1)
}
