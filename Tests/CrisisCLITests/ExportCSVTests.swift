import Foundation
import Testing

/// `crisis export --format csv`, read back by Python's `csv` module: one row per record under a header, hostile
/// text kept exactly where it is data and never able to start a formula.
@Suite(.serialized)
struct ExportCSVTests {
    /// Text a spreadsheet would evaluate, split, reorder or a page would run.
    static let hostile = [
        "=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tleading tab", "\rleading CR", "a, comma",
        "a \"quote\"", "two\nlines", "bidi \u{202E}evil\u{202C} end", "</script><script>alert(1)</script>",
    ]
    /// Cells a spreadsheet treats as formulas when they begin with one of these.
    static let formulaStarts: Set<Character> = ["=", "+", "-", "@", "\t", "\r"]

    /// Reads a CSV file with Python's csv module; returns its rows.
    static func pythonRows(_ path: String, encoding: String = "utf-8") throws -> [[String]] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", """
            import csv, json, sys
            with open(sys.argv[1], newline="", encoding=sys.argv[2]) as f:
                json.dump(list(csv.reader(f, strict=True)), sys.stdout)
            """, path, encoding]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let r = CLI.collect(p, out, err)
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String]])
    }

    /// A drill of Fixtures/show.yaml with a hostile platform input, every hostile string as a note and as the
    /// note of an action, and as --set fields of the takedown draft. Returns the cli and the incident id.
    static func hostileIncident() throws -> (ShowGoldenTests.Drill, String) {
        var drill = try ShowGoldenTests.Drill()
        drill.cli.env["COLUMNS"] = "200"
        let id = drill.id
        for text in hostile {
            // `--` so that "-2" is text, not an option; --db must come before it.
            let r = try drill.cli.run(["note", "--db", drill.cli.db, id, "--", text], withDB: false)
            #expect(r.status == 0, "\(text): \(r.stderr)")
        }
        try drill.act("page_comms", "ack", as: "jonas.comms", ["by=jonas.comms"])
        try drill.run(["act", id, "triage", "choose", "--set", "option=serious", "--as", "jonas.comms",
                       "--note", hostile[0]])
        try drill.act("check_facts", "done", as: "jonas.comms")
        try drill.act("statement", "draft", as: "jonas.comms", ["what_we_know.nb=A post names a colleague.", "what_we_know.en=A post names a colleague.", "next_update_at.nb=at 11:00", "next_update_at.en=at 11:00"])
        try drill.act("statement", "approve", as: "lars.legal")
        try drill.act("statement", "approve", as: "hanne.hr")
        try drill.act("statement", "publish", as: "jonas.comms")
        try drill.act("removal", "draft", as: "lars.legal", [
            "explanation=" + hostile.joined(separator: " | "), "affected_person=" + hostile[3],
            "authorisation=" + hostile[1],
        ])
        return (drill, id)
    }

    @Test("csv: one row per record under a header, read back by Python's csv; formula cells neutralised, hostile text kept")
    func roundTrip() throws {
        let (drill, id) = try Self.hostileIncident()
        let cli = drill.cli
        defer { cli.remove() }
        let records = try cli.run(["log", id, "--json"]).stdout.split(separator: "\n").count - 2
        #expect(records > Self.hostile.count + 8)
        let path = cli.dir.appendingPathComponent("trail.csv").path
        let export = try cli.run(["export", id, "--format", "csv", "-o", path])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stderr.contains("exported \(records) records as CSV; written to \(path)"))

        // Bytes: no byte order mark, CRLF after every row.
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(Array(bytes.prefix(3)) != [0xEF, 0xBB, 0xBF])
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("seq,time_utc,local_time,recorded_utc,actor,role,type,step,action,summary,note,fields,hash,prev_hash\r\n"))
        #expect(bytes.suffix(2) == [0x0D, 0x0A])

        let rows = try Self.pythonRows(path)
        #expect(rows.count == records + 1)
        #expect(rows.first == ["seq", "time_utc", "local_time", "recorded_utc", "actor", "role", "type", "step",
                               "action", "summary", "note", "fields", "hash", "prev_hash"])
        for row in rows {
            #expect(row.count == 14, "\(row)")
            for cell in row {
                #expect(cell.first.map { !Self.formulaStarts.contains($0) } ?? true, "a formula cell: \(cell.debugDescription)")
            }
        }
        let body = Array(rows.dropFirst())
        #expect(body.map { $0[0] } == (1...records).map(String.init))
        // Hash and link columns chain: each prev_hash is the hash before it.
        for (a, b) in zip(body, body.dropFirst()) { #expect(b[13] == a[12]) }
        // Times: UTC ISO-8601 and the incident's zone (Europe/Oslo, +01:00 in March) for the drill's clock.
        #expect(body[0][1] == "2026-03-02T08:00:00.000Z")
        #expect(body[0][2] == "2026-03-02T09:00:00+01:00")

        // Each hostile note is one row; its note cell holds the exact text, with ' before a formula start.
        let notes = body.filter { $0[9].hasPrefix("note: ") }
        #expect(notes.count == Self.hostile.count)
        for (row, text) in zip(notes, Self.hostile) {
            let neutral = Self.formulaStarts.contains(text.first!) ? "'" + text : text
            #expect(row[10] == neutral, "\(row[10].debugDescription) vs \(neutral.debugDescription)")
            // The one-line summary escapes controls and bidi overrides; the note cell keeps the data.
            #expect(!row[9].contains("\n") && !row[9].contains("\r") && !row[9].unicodeScalars.contains("\u{202E}"))
        }
        #expect(notes[9][9].contains("\\u{202E}"))
        // The action's note and its --set fields: compact JSON a JSON reader gets back exactly.
        let choose = try #require(body.first { $0[7] == "triage" && $0[8] == "choose" })
        #expect(choose[10] == "'" + Self.hostile[0])
        #expect(choose[11] == "{\"option\":\"serious\"}")
        #expect(choose[4] == "jonas.comms" && choose[5] == "comms")
        let draft = try #require(body.first { $0[7] == "removal" && $0[8] == "draft" })
        let fields = try #require(JSONSerialization.jsonObject(with: Data(draft[11].utf8)) as? [String: String])
        #expect(fields["explanation"] == Self.hostile.joined(separator: " | "))
        #expect(fields["affected_person"] == Self.hostile[3])
        #expect(!draft[11].unicodeScalars.contains("\u{202E}") && draft[11].contains("\\u202e"))
        // The start inputs are the opened record's fields.
        #expect(body[0][11].contains("\"post_url\":\"https://x.com/someone/status/1790\""))

        // Standard output gives the same bytes; --bom adds only the byte order mark.
        let stdout = try cli.run(["export", id, "--format", "csv"])
        #expect(Array(stdout.stdout.utf8) == bytes)
        let bomPath = cli.dir.appendingPathComponent("bom.csv").path
        #expect(try cli.run(["export", id, "--format", "csv", "--bom", "-o", bomPath]).status == 0)
        let withBOM = try [UInt8](Data(contentsOf: URL(fileURLWithPath: bomPath)))
        #expect(withBOM == [0xEF, 0xBB, 0xBF] + bytes)
        #expect(try Self.pythonRows(bomPath, encoding: "utf-8-sig") == rows)

        // An existing file is refused unless --force; a folder always.
        let again = try cli.run(["export", id, "--format", "csv", "-o", path])
        #expect(again.status == 1 && again.stderr.contains("already exists; pass --force"))
        #expect(try cli.run(["export", id, "--format", "csv", "-o", path, "--force"]).status == 0)
        let folder = try cli.run(["export", id, "--format", "csv", "-o", cli.dir.path, "--force"])
        #expect(folder.status == 1 && folder.stderr.contains("is a folder"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: cli.dir.path).filter { $0.contains(".partial") }
        #expect(leftovers.isEmpty)
    }
}
