import CrisisCore
import Foundation
import GRDB
import Testing

@testable import CrisisAudit

/// A fresh directory under the system temporary directory, removed when the value is released.
final class TempDir: Sendable {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "crisis-audit-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }
}

enum Fixture {
    static let t0 = Instant(millisecondsSinceEpoch: 1_761_292_800_000)  // 2025-10-24T08:00:00.000Z
    static let writer = WriterInfo(host: "test-host", pid: 4242, appVersion: "0.1.0")
    static let playbookBytes = Array("schema: crisis/v1\nid: breach\nversion: \"3\"\ntitle: Data breach\n".utf8)
    static let templateBytes = Array("Hello {{name}}\n".utf8)

    static func files() -> [PinnedFile] {
        [PinnedFile(fileName: "breach.yaml", bytes: playbookBytes),
         PinnedFile(fileName: "templates/hello.md", bytes: templateBytes)]
    }

    static func header(_ id: String = "INC-1", at: Instant = t0) -> NewIncident {
        NewIncident(id: id, origin: "crisis.test/\(id)", title: "Customer data exposed", playbookID: "breach",
                    playbookVersion: "3", playbookSHA256: sha256Hex(playbookBytes), mode: .drill, createdAt: at)
    }

    static func opened() -> EventDraft {
        EventDraft(type: .opened, idempotencyKey: "open", actor: AuditActor(id: "alice", role: "lead"),
                   recordedAt: t0, body: ["title": "Customer data exposed", "mode": "drill"])
    }

    static func note(_ n: Int, actor: String = "alice", text: String? = nil) -> EventDraft {
        EventDraft(type: .note, idempotencyKey: "note-\(n)", actor: AuditActor(id: actor),
                   recordedAt: Instant(millisecondsSinceEpoch: t0.millisecondsSinceEpoch + Int64(n) * 1000),
                   body: ["text": .string(text ?? "note \(n)")])
    }

    /// A store with incident INC-1 holding `notes` notes after its opening event (seq 1...notes+1).
    static func store(in dir: TempDir, notes: Int = 0, name: String = "audit.sqlite") throws -> AuditStore {
        let store = try AuditStore(path: dir.file(name), writer: writer)
        try store.createIncident(header(), files: files(), firstEvent: opened())
        if notes > 0 {
            _ = try store.append(incident: "INC-1", expectedSeq: 1, events: (1...notes).map { note($0) })
        }
        return store
    }

    /// A raw connection that bypasses the store (for tampering), with the defaults of a plain sqlite3 client.
    static func raw(_ path: String) throws -> DatabaseQueue {
        try DatabaseQueue(path: path)
    }

    /// Every value of every row of every table, for "nothing changed" assertions.
    static func dump(_ path: String) throws -> [String] {
        let db = try raw(path)
        return try db.read { db in
            var out: [String] = []
            let tables = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            for table in tables {
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\" ORDER BY rowid") {
                    out.append("\(table): \(row)")
                }
            }
            return out
        }
    }
}
