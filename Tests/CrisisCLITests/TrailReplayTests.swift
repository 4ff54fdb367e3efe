import Foundation
import Testing

/// Trails recorded by an earlier build (scripts/golden-trails: every shipped playbook as a finished drill, a
/// part-way drill and a live incident, with statement drafts in the older record layout and deliveries settled
/// by hand, and a summer drill whose pages depended on availability windows) must replay to exactly the status
/// that build printed, verify clean, and read in `log` record by
/// record. A change to the engine, the record decoding or the loader that alters any replayed state fails here.
struct TrailReplayTests {
    static let dir = CLI.root.appendingPathComponent("Tests/CrisisCLITests/Fixtures/trails")

    static var databases: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".db") }.sorted()
    }

    @Test("golden trails replay to the recorded status, verify, and log every record", arguments: databases)
    func replay(_ name: String) throws {
        var cli = try CLI()
        defer { cli.remove() }
        // Work on a copy: opening for reading must not change the fixture, and nothing here may write to it.
        try FileManager.default.copyItem(atPath: Self.dir.appendingPathComponent(name).path, toPath: cli.db)
        cli.env["TZ"] = "America/Los_Angeles"
        let list = try cli.run(["list", "--json"])
        #expect(list.status == 0, "\(list.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count >= 3)
        for row in rows {
            let id = try #require(row["id"] as? String)
            let expectedURL = Self.dir.appendingPathComponent("\(id).status.json")
            let recorded = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: expectedURL)) as? [String: Any])
            let status = try cli.run(["status", id, "--json"])
            #expect(status.status == 0, "\(status.stderr)")
            let actual = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
            let expected = Self.perLanguageFacts(Self.ackByOptional(recorded, as: actual), as: actual)
            // Fields added since the recording are not compared; an open live incident's present is the wall
            // clock, so its `now` and what is due by then are not either. Everything else must be identical.
            var skip: Set<String> = ["due_in", "clock", "next", "acknowledged", "stand_ins", "waiting_for"]
            // Added to each active step for people (issue 9): a task's checklist, a choice's options and default,
            // a statement's quorum progress; the playbook's languages, in order.
            skip.formUnion(["checklist", "options", "default_option", "approvals", "languages"])
            // Added for people (issue 9): when the incident opened and how long it has been open (the LIVE
            // banner), and a waiting delivery's short key (what status suggests confirming it with).
            skip.formUnion(["opened_at", "elapsed", "short_key", "to"])
            // Added for distribution lists and retries (issue 12): a notify step's progress per recipient and
            // the failed deliveries to retry.
            skip.formUnion(["delivered", "failed_deliveries"])
            // Added for related incidents (issue 14): people also working another open incident of the database.
            skip.formUnion(["assigned_elsewhere", "related"])
            // Added for decisions as records (issue 14 item 8): decisions, objections, the obligations register, the
            // decision that started a clock.
            skip.formUnion(["decisions", "objections", "obligations", "started_by"])
            if expected["mode"] as? String == "live", expected["status"] as? String == "open" {
                skip.formUnion(["now", "due_now", "remaining"])
            }
            #expect(Self.strip(actual, skip) as? NSDictionary == Self.strip(expected, skip) as? NSDictionary,
                    "status of \(id) differs from what the recording build printed")
            let verify = try cli.run(["verify", id])
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            // --deep: SQLite's integrity_check and the full replay through the engine too.
            let deep = try cli.run(["verify", id, "--deep"])
            #expect(deep.status == 0, "\(deep.stdout)\(deep.stderr)")
            #expect(deep.stdout.components(separatedBy: "\n").first == verify.stdout.components(separatedBy: "\n").first)
            // --all: by default log folds delivery intents and sandboxed outcomes into the line that caused them.
            let log = try cli.run(["log", id, "--all"])
            #expect(log.status == 0)
            #expect(try cli.run(["log", id]).status == 0)
            #expect(!log.stdout.contains("unreadable"))
            let records = try #require(try JSONSerialization.jsonObject(
                with: Data(try cli.run(["log", id, "--json"]).stdout.utf8)) as? [Any])
            // One entry per record, numbered 1 to N (wrapped lines and day headings aside).
            let entry = /^ *(\d+) (\d\d:\d\d|  -  )\s\s/
            let numbers = log.stdout.split(separator: "\n").compactMap { line in
                (try? entry.firstMatch(in: String(line))).flatMap { Int($0.output.1) }
            }
            #expect(numbers == Array(1...records.count))
        }
    }

    /// The recording with one deliberate change of issue 9 applied where the replay shows it: with a contacts
    /// directory an ack's `by` defaults to the operator, so `status` lists it as optional (`required` false, the
    /// prompt saying the default). Only that exact change is carried over; anything else still differs.
    static func ackByOptional(_ recorded: [String: Any], as actual: [String: Any]) -> [String: Any] {
        func field(_ report: [String: Any], _ step: String) -> [String: Any]? {
            let run = (report["active"] as? [[String: Any]])?.first { $0["step"] as? String == step }
            let ack = (run?["actions"] as? [[String: Any]])?.first { $0["name"] as? String == "ack" }
            return (ack?["fields"] as? [[String: Any]])?.first { $0["name"] as? String == "by" }
        }
        var out = recorded
        guard var active = recorded["active"] as? [[String: Any]] else { return out }
        for (i, run) in active.enumerated() {
            guard let step = run["step"] as? String, let was = field(recorded, step), let now = field(actual, step),
                was["required"] as? Bool == true, now["required"] as? Bool == false,
                let prompt = was["prompt"] as? String, now["prompt"] as? String == prompt + "; default: you, the operator",
                var actions = run["actions"] as? [[String: Any]],
                let a = actions.firstIndex(where: { $0["name"] as? String == "ack" }),
                var fields = actions[a]["fields"] as? [[String: Any]],
                let f = fields.firstIndex(where: { $0["name"] as? String == "by" })
            else { continue }
            fields[f]["required"] = false
            fields[f]["prompt"] = now["prompt"]
            actions[a]["fields"] = fields
            active[i]["actions"] = actions
        }
        out["active"] = active
        return out
    }

    /// The recording with the deliberate change of issue 13 applied where the replay shows it: a statement's text
    /// fact in a bilingual playbook is asked once per language (`what_we_know.nb`, `what_we_know.en`, the prompt
    /// followed by the language, the default the same). Only that exact change is carried over.
    static func perLanguageFacts(_ recorded: [String: Any], as actual: [String: Any]) -> [String: Any] {
        func draftFields(_ run: [String: Any]?) -> [[String: Any]]? {
            let draft = (run?["actions"] as? [[String: Any]])?.first { $0["name"] as? String == "draft" }
            return draft?["fields"] as? [[String: Any]]
        }
        var out = recorded
        guard var active = recorded["active"] as? [[String: Any]] else { return out }
        for (i, run) in active.enumerated() where run["type"] as? String == "holding_statement" {
            let now = (actual["active"] as? [[String: Any]])?.first { $0["step"] as? String == run["step"] as? String }
            guard let was = draftFields(run), let replayed = draftFields(now),
                var actions = run["actions"] as? [[String: Any]],
                let a = actions.firstIndex(where: { $0["name"] as? String == "draft" })
            else { continue }
            var fields: [[String: Any]] = []
            for field in was {
                let name = field["name"] as? String ?? ""
                let split = replayed.filter { ($0["name"] as? String)?.hasPrefix(name + ".") == true }
                guard ["string", "text"].contains(field["type"] as? String ?? ""), !split.isEmpty,
                    split.allSatisfy({ f in
                        let language = String((f["name"] as? String ?? "").dropFirst(name.count + 1))
                        return f["prompt"] as? String == "\(field["prompt"] as? String ?? "") (\(language))"
                            && f["default"] as? String == field["default"] as? String
                            && f["required"] as? Bool == field["required"] as? Bool && f["type"] as? String == field["type"] as? String
                    })
                else {
                    fields.append(field)
                    continue
                }
                fields += split
            }
            actions[a]["fields"] = fields
            active[i]["actions"] = actions
        }
        out["active"] = active
        return out
    }

    /// `value` without the members named in `keys`, at any depth.
    static func strip(_ value: Any, _ keys: Set<String>) -> Any {
        if let d = value as? [String: Any] {
            return Dictionary(uniqueKeysWithValues: d.filter { !keys.contains($0.key) }.map { ($0.key, strip($0.value, keys)) })
        }
        if let a = value as? [Any] {
            // A choice's `object` action was added with decisions as records (issue 14 item 8).
            return a.filter { ($0 as? [String: Any])?["name"] as? String != "object" }.map { strip($0, keys) }
        }
        return value
    }
}
