import CrisisPlaybook
import Foundation
import Testing

/// Every shipped playbook, driven to an `end` by a client that reads only `status --json` and calls only
/// `act` and `tick`: the scripting contract of DESIGN.md §6.
@Suite(.serialized)
struct ShippedPlaybookTests {
    static let playbooks: [String] = {
        let dir = CLI.root.appendingPathComponent("Playbooks")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { "Playbooks/\($0)" }
    }()

    static let contacts = "Examples/contacts.yaml"
    static let preference = ["choose", "done", "draft", "approve", "publish", "submit", "acknowledge", "removed",
                             "ack", "received", "confirm_delivery"]

    @Test("six playbooks are shipped")
    func sixPlaybooks() {
        #expect(Self.playbooks.count == 6)
    }

    @Test("every shipped playbook validates clean against the example contacts")
    func validateClean() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let r = try cli.run(["validate"] + Self.playbooks + ["--contacts", Self.contacts, "--format", "json"],
                            withDB: false)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let json = try r.json()
        let files = try #require(json["files"] as? [[String: Any]])
        #expect(files.filter { ($0["file"] as? String)?.hasPrefix("Playbooks/") == true }.count == 6)
        #expect(files.allSatisfy { $0["valid"] as? Bool == true })
    }

    @Test("driven through status --json, act and tick, every shipped playbook reaches an end", arguments: playbooks)
    func driveToEnd(_ playbook: String) throws {
        let cli = try CLI()
        defer { cli.remove() }
        let directory = try #require(ContactsLoader.load(path: CLI.root.appendingPathComponent(Self.contacts).path).directory)
        var holders: [String: [String]] = [:]
        for person in directory.people { for role in person.roles { holders[role, default: []].append(person.id) } }

        // Learn the required inputs from the refusal, as a new user would.
        var start = ["start", playbook, "--drill", "--contacts", Self.contacts, "--clock", "2025-10-24T10:00:00+02:00"]
        let probe = try cli.run(start)
        #expect(probe.status == 1)
        for line in probe.stderr.split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("--set "), let eq = t.firstIndex(of: "=") else { continue }
            let name = String(t[t.index(t.startIndex, offsetBy: 6)..<eq])
            var kind = "string"
            var values: [String] = []
            if let open = t.firstIndex(of: "("), let close = t.firstIndex(of: ")") {
                kind = String(t[t.index(after: open)..<close])
                if kind.hasPrefix("enum: ") {
                    values = kind.dropFirst(6).split(separator: "|").map(String.init)
                    kind = "enum"
                }
            }
            start += ["--set", "\(name)=\(Self.value(type: kind, values: values, turn: 0, defaultValue: nil))"]
        }
        let started = try cli.run(start)
        #expect(started.status == 0, "\(started.stderr)")
        let id = started.lastLine

        var closed = false
        var turns = 0
        while turns < 400 {
            turns += 1
            let status = try cli.run(["status", id, "--json"]).json()
            if status["status"] as? String == "closed" {
                closed = true
                break
            }
            let active = status["active"] as? [[String: Any]] ?? []
            var picked: (String, [String: Any])?
            for step in active {
                let detail = step["detail"] as? [String: String] ?? [:]
                let drafted = (detail["phase"] ?? "drafting") != "drafting" || (detail["status"] ?? "drafting") != "drafting"
                let actions = (step["actions"] as? [[String: Any]] ?? []).filter {
                    guard let name = $0["name"] as? String, Self.preference.contains(name) else { return false }
                    return !(name == "draft" && drafted)
                }.sorted { Self.preference.firstIndex(of: $0["name"] as! String)! < Self.preference.firstIndex(of: $1["name"] as! String)! }
                if let first = actions.first, let stepID = step["step"] as? String {
                    picked = (stepID, first)
                    break
                }
            }
            guard let (stepID, action) = picked else {
                let tick = try cli.run(["tick", id, "--next"])
                #expect(tick.status == 0, "tick --next with nothing to do: \(tick.stderr)")
                if tick.status != 0 { break }
                continue
            }
            let name = action["name"] as! String
            var args = ["act", id, stepID, name]
            let detail = active.first { $0["step"] as? String == stepID }?["detail"] as? [String: String] ?? [:]
            for field in action["fields"] as? [[String: Any]] ?? [] {
                if name == "ack", field["name"] as? String == "by", let paged = detail["paging"]?.components(separatedBy: ", ").first {
                    // With a contacts directory only someone paged (or a lead) may acknowledge; `by` is then
                    // optional (it defaults to the operator), so name the person paged.
                    args += ["--set", "by=\(paged)"]
                    continue
                }
                guard field["required"] as? Bool == true || name == "draft" else { continue }
                args += ["--set", "\(field["name"] as! String)=\(Self.value(type: field["type"] as? String ?? "string", values: field["values"] as? [String] ?? [], turn: turns, defaultValue: field["default"] as? String))"]
            }
            if let role = action["role"] as? String {
                let people = holders[role] ?? []
                args += ["--role", role, "--as", people.isEmpty ? "operator-\(turns)" : people[turns % people.count]]
            } else {
                args += ["--as", "operator-\(turns)"]
            }
            let r = try cli.run(args)
            if r.status != 0 {
                // Four-eyes refusals are expected when the rotation picks the drafter; anything else is a bug.
                #expect(r.stderr.contains("own-draft") || r.stderr.contains("already-decided") || r.stderr.contains("may not approve")
                        || r.stderr.contains("already decided"), "\(args): \(r.stderr)")
                _ = try cli.run(["tick", id, "--next"])
            }
        }
        #expect(closed, "\(playbook) did not reach an end in 400 turns")
        let verify = try cli.run(["verify", id])
        #expect(verify.status == 0, "\(verify.stdout)")
        let log = try cli.run(["log", id, "--json"])
        #expect(!log.stdout.contains("\"input.rejected\"") || log.stdout.contains("may not approve") || log.stdout.contains("already decided"))
    }

    static func value(type: String, values: [String], turn: Int, defaultValue: String?) -> String {
        switch type {
        case "enum": return values.first(where: { ["sent", "yes", "notify", "publish", "escalate"].contains($0) }) ?? values.first ?? ""
        case "url", "urls": return "https://example.com/post/\(turn)"
        case "boolean": return "true"
        case "integer": return "1"
        case "time": return "2025-10-24T10:00:00+02:00"
        default: return defaultValue ?? "Drill value \(turn)"
        }
    }
}
