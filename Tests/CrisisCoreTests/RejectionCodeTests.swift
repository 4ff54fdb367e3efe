import CrisisCore
import Foundation
import Testing

@Suite("Rejection codes")
struct RejectionCodeTests {
    /// docs/rejection-codes.md, from this file's place in the source tree.
    static var docURL: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/rejection-codes.md")
    }

    static func line(_ code: RejectionCode) -> String {
        "- `\(code.rawValue)` (\(code.isEngineCode ? "engine" : "shell")): \(code.summary)"
    }

    @Test("docs/rejection-codes.md lists exactly RejectionCode.allCases, in order, with their summaries")
    func documented() throws {
        let text = try String(contentsOf: Self.docURL, encoding: .utf8)
        let listed = text.split(separator: "\n", omittingEmptySubsequences: false).filter { $0.hasPrefix("- `") }
            .map(String.init)
        let expected = RejectionCode.allCases.map(Self.line)
        #expect(listed == expected, "regenerate the list in docs/rejection-codes.md:\n\(expected.joined(separator: "\n"))")
    }

    @Test("Raw values are unique, lower-case with dashes, and keep the strings records already hold")
    func rawValues() {
        let raw = RejectionCode.allCases.map(\.rawValue)
        #expect(Set(raw).count == raw.count)
        #expect(raw.allSatisfy { $0.allSatisfy { $0 == "-" || ("a"..."z").contains($0) } })
        // Strings in trails written before the codes were typed.
        for old in [
            "closed", "unknown-step", "not-active", "unknown-action", "action-unavailable", "role-required", "wrong-role",
            "unknown-field", "missing-field", "invalid-field", "reserved-field", "own-draft", "conflicted-approver",
            "already-decided", "missing-elements", "unknown-timer", "timer-not-due", "unknown-delivery", "delivery-final",
            "invalid-operator", "too-large", "duplicate-field", "not-in-directory", "unknown-role", "role-not-held",
            "missing-template", "template-error", "over-channel-limit", "invalid-text",
        ] {
            #expect(RejectionCode(rawValue: old) != nil, "\(old) is no longer a code")
        }
    }

    @Test("A rejection encodes its code as the raw string")
    func encoding() throws {
        let r = Rejection(.missingField, "m", hint: .fieldMissing(name: "f", type: .text, allowed: []))
        let data = try JSONEncoder().encode(r)
        let json = String(decoding: data, as: UTF8.self)
        #expect(json.contains("\"code\":\"missing-field\""))
        #expect(try JSONDecoder().decode(Rejection.self, from: data) == r)
        #expect(r.description == "m [missing-field]")
    }
}
