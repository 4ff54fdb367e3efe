import CrisisCore
import CrisisPlaybook
import Foundation
import Testing

/// The shipped playbooks render the same text through the template model as through the substitution the
/// engine used before it (kept here as the reference), and their statement templates as by plain replacement.
@Suite("Template model: shipped playbooks render as before")
struct ShippedTemplatesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Playbooks")

    /// The engine's substitution before the template model: known names replaced, the rest left as written.
    static func previousSubstitute(_ text: String, variables: [String: String]) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.firstRange(of: "{{") {
            out += rest[..<open.lowerBound]
            let after = rest[open.upperBound...]
            guard let close = after.firstRange(of: "}}") else {
                out += rest[open.lowerBound...]
                return out
            }
            let name = after[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if let value = variables[name] {
                out += value
            } else {
                out += rest[open.lowerBound..<close.upperBound]
            }
            rest = after[close.upperBound...]
        }
        out += rest
        return out
    }

    /// Texts the engine fills, per step: messages, prefills, literal platform and urls.
    static func texts(_ step: Step) -> [String] {
        switch step.kind {
        case .escalate(let e): return [e.message]
        case .notify(let n): return [n.message]
        case .takedown(let t):
            var out = t.prefill.keys.sorted().compactMap { t.prefill[$0] }
            if case .literal(let s) = t.platform { out.append(s) }
            if case .literal(let s) = t.urls { out.append(s) }
            return out
        default: return []
        }
    }

    @Test("Every shipped playbook validates, and every text it fills renders exactly as before")
    func shipped() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.root.path).filter { $0.hasSuffix(".yaml") }
            .sorted()
        #expect(files.count >= 6)
        var compared = 0
        var statements = 0
        for file in files {
            let loaded = PlaybookLoader.loadValidated(path: Self.root.appendingPathComponent(file).path)
            #expect(!loaded.diagnostics.hasErrors, "\(file): \(loaded.diagnostics.filter(\.isError))")
            let playbook = try #require(loaded.playbook)
            // Every other optional input without a default is left unset.
            var inputs: [String: String] = [:]
            for (i, input) in playbook.inputs.enumerated() where input.required || input.defaultValue != nil || i % 2 == 0 {
                inputs[input.name] = input.defaultValue ?? "value of \(input.name) & <\(i)>"
            }
            let values = TemplateValues(
                incidentID: "INC-20251024-0001", incidentTitle: "Title \(file)", incidentMode: .live, inputs: inputs)
            var variables = ["incident.id": values.incidentID, "incident.title": values.incidentTitle]
            for input in playbook.inputs { variables["inputs.\(input.name)"] = "" }
            for (name, value) in inputs { variables["inputs.\(name)"] = value }
            for step in playbook.allSteps {
                var stepValues = values
                var stepVariables = variables
                for owner in playbook.allSteps {
                    if case .foreach(let f) = owner.kind, f.body.id == step.id {
                        stepValues.item = "https://example.com/item"
                        stepValues.itemName = f.itemName
                        stepVariables["item"] = "https://example.com/item"
                        stepVariables[f.itemName] = "https://example.com/item"
                    }
                }
                for text in Self.texts(step) {
                    let now = try TemplateModel.render(text, stepValues)
                    #expect(now == Self.previousSubstitute(text, variables: stepVariables), "\(file) \(step.id)")
                    #expect(!now.contains("{{"), "\(file) \(step.id)")
                    if text.contains("{{") { compared += 1 }
                }
                if case .holdingStatement(let s) = step.kind {
                    var facts: [String: String] = [:]
                    for fact in s.facts { facts[fact.name] = "fact \(fact.name)" }
                    var withFacts = stepValues
                    withFacts.facts = facts
                    var factVariables = stepVariables
                    for (k, v) in facts { factVariables["facts.\(k)"] = v }
                    for lang in playbook.languages {
                        let path = Self.root.appendingPathComponent("\(s.template.value).\(lang).mustache").path
                        let source = try String(contentsOfFile: path, encoding: .utf8)
                        let now = try TemplateModel.render(source, withFacts)
                        #expect(now == Self.previousSubstitute(source, variables: factVariables), "\(path)")
                        statements += 1
                    }
                }
            }
        }
        #expect(compared > 15)
        #expect(statements > 8)
    }
}
