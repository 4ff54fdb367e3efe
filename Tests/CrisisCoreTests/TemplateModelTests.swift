import CrisisCore
import CrisisPlaybook
import Foundation
import Testing

/// One template model (issue 7, item 4): what `validate` accepts is exactly what the engine renders.
@Suite("Template model: the validator's variables are the engine's")
struct TemplateModelTests {
    /// A playbook with every variable family: inputs (one optional, left unset), steps that record fields
    /// (task, choice, wait, escalate, takedown), a notify message at the top level and one in a foreach body.
    /// `ANNOUNCE` and `BODY` are replaced by the messages under test.
    static let skeleton = """
        schema: crisis-playbook/v1
        id: tpl
        version: "1"
        title: Template test
        roles:
          lead: {title: Lead, lead: true}
        inputs:
          a: {type: string, prompt: "A", required: true}
          b: {type: string, prompt: "B"}
          urls: {type: urls, prompt: "Links", required: true}
        start: find_batch
        steps:
          find_batch:
            type: task
            title: Find the batch number
            timeout: "1h"
            next: decide
          decide:
            type: choice
            title: Decide
            timeout: "1h"
            options:
              x: {label: X, next: callback}
              y: {label: Y, next: callback}
            default: x
          callback:
            type: wait
            title: Wait for the callback
            event: callback
            timeout: "1h"
            next: page
          page:
            type: escalate
            title: Page
            levels:
              - {targets: [kari], ack_timeout: "10m", channels: [sms]}
            message: "Page {{incident.id}}"
            next: {acknowledged: announce, exhausted: announce}
          announce:
            type: notify
            title: Announce
            audience: staff
            channels: [email]
            message: "ANNOUNCE"
            timeout: "1h"
            next: {sent: each, failed: each, timeout: each}
          each:
            type: foreach
            title: Each link
            items: urls
            as: link
            failed_when: [failed]
            do:
              type: notify
              title: Tell about one link
              audience: staff
              channels: [email]
              message: "BODY"
              timeout: "1h"
            next: {done: take, failed: take}
          take:
            type: takedown
            title: Take it down
            platform: x
            urls: {input: urls}
            basis: dsa_art16
            timeout: "1h"
            next: {removed: fin, partially_removed: fin, refused: fin, no_response: fin, appealed: fin, timeout: fin}
          fin: {type: end, title: Done, outcome: resolved}
        """

    static func write(_ yaml: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crisis-tm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("p.yaml").path
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Loads and validates `yaml` with the real loader and validator.
    static func validated(_ yaml: String) throws -> LoadResult {
        let path = try write(yaml)
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        return PlaybookLoader.loadValidated(path: path)
    }

    static func yaml(announce: String, body: String = "{{item}}") -> String {
        skeleton.replacingOccurrences(of: "\"ANNOUNCE\"", with: quoted(announce))
            .replacingOccurrences(of: "\"BODY\"", with: quoted(body))
    }

    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static let urls = "https://x.example/1 https://x.example/2"
    static let inputs = ["a": "Alpha", "urls": urls]

    /// What each variable must render to when `announce` runs (this test's own table, not the model's).
    static func expected(_ name: String, item: String?) -> String? {
        let fixed = [
            "inputs.a": "Alpha", "inputs.b": "", "inputs.urls": urls,
            "incident.id": "INC-T", "incident.title": "Template title", "incident.mode": "drill",
            "steps.find_batch.note": "batch 4711", "steps.find_batch.reason": "",
            "steps.decide.option": "y", "steps.decide.rationale": "", "steps.decide.override": "",
            "steps.decide.reason": "", "steps.callback.details": "called back at T+40",
            "steps.page.by": "ola", "steps.page.via": "phone",
        ]
        if let v = fixed[name] { return v }
        // The takedown runs after the messages: nothing recorded on it yet, so its fields render empty.
        if name.hasPrefix("steps.take.") { return "" }
        if let item, name == "item" || name == "link" { return item }
        return nil
    }

    /// Drives the engine from start to the foreach, recording fields on the way; returns every delivery text.
    static func run(_ playbook: Playbook) throws -> [Delivery] {
        let def = RunDefinition(
            incidentID: "INC-T", title: "Template title", mode: .drill, playbook: playbook, playbookSHA256: "x",
            inputs: inputs)
        let t = try #require(ISO8601.parse("2025-10-24T08:00:00Z"))
        var (state, actions) = Engine.start(def, at: t)
        let lead = Actor(name: "kari", role: "lead")
        let events: [EngineEvent] = [
            .acted(step: "find_batch", action: "done", fields: ["note": "batch 4711"], actor: lead),
            .acted(step: "decide", action: "choose", fields: ["option": "y"], actor: lead),
            .acted(step: "callback", action: "received", fields: ["details": "called back at T+40"], actor: lead),
            .acted(step: "page", action: "ack", fields: ["by": "ola", "via": "phone"], actor: lead),
        ]
        for event in events {
            switch Engine.handle(event, in: state, at: t) {
            case .success(let (next, more)):
                state = next
                actions += more
            case .failure(let r):
                Issue.record("refused: \(r)")
                return []
            }
        }
        var deliveries = actions.compactMap { if case .deliver(let d) = $0 { d } else { nil } }
        // Settle the announcement so the foreach body runs.
        let announce = try #require(deliveries.first { $0.step == "announce" })
        guard case .success(let (_, more)) = Engine.handle(
            .deliveryCompleted(key: announce.key, result: .sandboxed, detail: nil, actor: .system), in: state, at: t)
        else {
            Issue.record("delivery refused")
            return []
        }
        deliveries += more.compactMap { if case .deliver(let d) = $0 { d } else { nil } }
        return deliveries
    }

    static func line(_ names: [String]) -> String { names.map { "\($0)=[{{\($0)}}]" }.joined(separator: " ") }

    @Test("Every variable the validator accepts renders to its value, in a message and in a foreach body")
    func everyAcceptedVariableRenders() throws {
        let skeletonLoad = try Self.validated(Self.yaml(announce: "x"))
        let skeleton = try #require(skeletonLoad.playbook)
        let top = TemplateModel.names(in: skeleton, for: .message(step: "announce"))
        let bodyID = try #require(skeleton.allSteps.compactMap { if case .foreach(let f) = $0.kind { f.body.id } else { nil } }.first)
        let inBody = TemplateModel.names(in: skeleton, for: .message(step: bodyID))
        // The table has what this test expects, and nothing it does not know how to check.
        for name in ["inputs.a", "inputs.b", "incident.mode", "steps.find_batch.note", "steps.page.by", "steps.take.ticket"] {
            #expect(top.contains(name), "\(name)")
        }
        #expect(!top.contains("item") && !top.contains("link"))
        #expect(inBody.contains("item") && inBody.contains("link"))
        #expect(inBody.filter { $0 != "item" && $0 != "link" } == top)
        #expect(!top.contains { $0.hasPrefix("facts.") })
        for name in inBody { #expect(Self.expected(name, item: "u") != nil, "untested variable \(name)") }

        // Validate a playbook using every accepted name, then run it and read what was sent.
        let loaded = try Self.validated(Self.yaml(announce: Self.line(top), body: Self.line(inBody)))
        #expect(!loaded.diagnostics.hasErrors, "\(loaded.diagnostics.filter { $0.severity == .error })")
        let playbook = try #require(loaded.playbook)
        let deliveries = try Self.run(playbook)
        let announce = try #require(deliveries.first { $0.step == "announce" })
        let want = top.map { "\($0)=[\(Self.expected($0, item: nil) ?? "?")]" }.joined(separator: " ")
        #expect(announce.text == want)
        #expect(!announce.text.contains("{{"))
        let items = deliveries.filter { $0.step.hasPrefix("each[") }.sorted { $0.step < $1.step }
        #expect(items.count == 2)
        for (delivery, url) in zip(items, Self.urls.split(separator: " ").map(String.init)) {
            #expect(delivery.text == inBody.map { "\($0)=[\(Self.expected($0, item: url) ?? "?")]" }.joined(separator: " "))
        }
    }

    @Test("What the validator refuses is refused at validate time", arguments: [
        "{{incident.nope}}", "{{inputs.nope}}", "{{inputs}}", "{{steps.nope.note}}", "{{steps.find_batch.nope}}",
        "{{steps.announce.text}}", "{{steps.find_batch}}", "{{steps.find_batch.note.x}}", "{{facts.known}}",
        "{{item}}", "{{link}}", "{{.}}", "{{#inputs.a}}{{anything}}{{/inputs.a}}", "{{> part}}",
        "{{uppercased(inputs.a)}}", "{{#inputs.a}}unclosed", "{{inputs.a", "{{#inputs.a}}x{{/inputs.b}}",
        "{{^inputs.b}}{{.}}{{/inputs.b}}",
    ])
    func refused(_ text: String) throws {
        let loaded = try Self.validated(Self.yaml(announce: "ok " + text))
        let codes = loaded.diagnostics.filter { $0.severity == .error }.map(\.code)
        #expect(!codes.isEmpty, "\(text) was accepted")
        #expect(codes.allSatisfy { [DiagnosticCode.unknownTemplateVariable, DiagnosticCode.templateSyntax].contains($0) }, "\(codes)")
    }

    @Test("The validator names what a step records when a field is wrong")
    func stepFieldMessage() throws {
        let loaded = try Self.validated(Self.yaml(announce: "{{steps.find_batch.nte}} {{steps.announce.x}}"))
        let messages = loaded.diagnostics.filter { $0.code == DiagnosticCode.unknownTemplateVariable }.map(\.message)
        #expect(messages.contains { $0.contains("no action of step 'find_batch' takes a field 'nte'") && $0.contains("steps.find_batch.note") })
        #expect(messages.contains { $0.contains("step 'announce' (notify) records no fields") })
    }

    @Test("Sections in messages validate and render by Mustache's rules: an empty value is false")
    func sections() throws {
        let text = "{{#inputs.b}}B={{inputs.b}}{{/inputs.b}}{{^inputs.b}}no b{{/inputs.b}}; "
            + "{{#steps.find_batch.note}}batch: {{.}}{{/steps.find_batch.note}}{{^steps.find_batch.reason}}, no reason{{/steps.find_batch.reason}}"
        let loaded = try Self.validated(Self.yaml(announce: text))
        #expect(!loaded.diagnostics.hasErrors, "\(loaded.diagnostics)")
        let playbook = try #require(loaded.playbook)
        let announce = try #require(try Self.run(playbook).first { $0.step == "announce" })
        #expect(announce.text == "no b; batch: batch 4711, no reason")
        var values = TemplateValues(
            incidentID: "I", incidentTitle: "T", incidentMode: .live, inputs: ["b": "bee"],
            steps: ["find_batch": ["note": "", "reason": "lost"]])
        #expect(try TemplateModel.render(text, values) == "B=bee; ")
        values.inputs["b"] = ""
        #expect(try TemplateModel.render(text, values) == "no b; ")
    }

    @Test("Plain text: nothing is HTML-escaped, the text's own line breaks stay, triple and & forms agree")
    func plainText() throws {
        let values = TemplateValues(
            incidentID: "I", incidentTitle: "Fish & <chips> \"q\" 'a'", incidentMode: .live, inputs: [:])
        #expect(try TemplateModel.render("{{incident.title}}|{{{incident.title}}}|{{&incident.title}}", values)
            == "Fish & <chips> \"q\" 'a'|Fish & <chips> \"q\" 'a'|Fish & <chips> \"q\" 'a'")
        #expect(try TemplateModel.render("\n{{incident.id}}\n", values) == "\nI\n")
        #expect(try TemplateModel.render("  \n{{incident.id}}", values) == "  \nI")
        #expect(try TemplateModel.render("a {{ incident.id }} b\r\nc", values) == "a I b\r\nc")
        #expect(try TemplateModel.render("no tags {single} }}", values) == "no tags {single} }}")
        #expect(TemplateModel.syntaxError(in: "{{#a}}x") != nil)
        #expect(TemplateModel.syntaxError(in: "{{a}}") == nil)
    }

    @Test("Recorded fields: accepted actions only, last value wins, no reserved or confirm_delivery fields")
    func recordedFields() throws {
        let skeletonLoad = try Self.validated(Self.yaml(announce: "x"))
        let playbook = try #require(skeletonLoad.playbook)
        let def = RunDefinition(
            incidentID: "INC-T", title: "T", mode: .drill, playbook: playbook, playbookSHA256: "x", inputs: Self.inputs)
        let t = try #require(ISO8601.parse("2025-10-24T08:00:00Z"))
        let (start, _) = Engine.start(def, at: t)
        #expect(start.recordedFields.isEmpty)
        let lead = Actor(name: "kari", role: "lead")
        // A refused action records nothing.
        let refused = Engine.handle(
            .acted(step: "find_batch", action: "done", fields: ["note": "n", "bogus": "1"], actor: lead), in: start, at: t)
        guard case .failure = refused else {
            Issue.record("an unknown field was accepted")
            return
        }
        guard case .success(let (done, _)) = Engine.handle(
            .acted(step: "find_batch", action: "done", fields: ["note": "batch 4711"], actor: lead), in: start, at: t)
        else {
            Issue.record("done refused")
            return
        }
        #expect(done.recordedFields == ["find_batch": ["note": "batch 4711"]])
    }

    @Test("Every field an engine action takes is one the validator offers as steps.STEP.FIELD (random walks)")
    func recordableFieldsMatchTheEngine() {
        var recorded = 0
        for seed in 0..<40 {
            let walk = WalkCheck.walk(seed: UInt64(seed) &* 0x9E37, length: 120)
            let playbook = walk.final.definition.playbook
            var (state, _) = Engine.start(walk.final.definition, at: t0)
            for (event, now) in walk.events {
                for run in state.active {
                    guard let step = playbook.step(run.stepID) else { continue }
                    let offered = Set(TemplateModel.recordableFields(of: step))
                    for spec in Engine.availableActions(for: run.instance, in: state) where spec.name != "confirm_delivery" && spec.name != "retry" {
                        for field in spec.fields {
                            #expect(offered.contains(field.name), "\(step.id) \(spec.name) \(field.name)")
                        }
                    }
                }
                if case .success(let (next, _)) = Engine.handle(event, in: state, at: now) { state = next }
            }
            for (stepID, fields) in walk.final.recordedFields {
                recorded += fields.count
                let offered = Set(playbook.step(stepID).map(TemplateModel.recordableFields) ?? [])
                #expect(Set(fields.keys).isSubset(of: offered), "\(stepID): \(fields.keys.sorted())")
                #expect(!fields.keys.contains { $0.hasPrefix("_") })
            }
            #expect(state == walk.final)
        }
        #expect(recorded > 20)
    }
}
