import CrisisCore
import CrisisPlaybook
import Testing

@Suite("validate: approval rules against the contacts directory")
struct ApprovalRuleValidatorTests {
    static func yaml(_ approval: String, spokesperson: String = "") -> String {
        playbookYAML(
            top: """
                  comms: {title: Comms}
                  legal: {title: Legal}
                  head_of_comms: {title: Head of communications}
                  ceo: {title: CEO}
                """,
            steps: """
                  a:
                    type: holding_statement
                    title: Statement
                    role: comms
                    template: templates/ok
                    channels: [website]
                    facts:
                      what_we_know: {prompt: "Facts"}
                    approval: \(approval)\(spokesperson)
                    timeout: "1h"
                    next: done
                  done: {type: end, title: Done, outcome: resolved}
                """)
    }

    func diagnostics(_ yaml: String, contacts: ContactsDirectory?) -> [Diagnostic] {
        let result = loadYAML(yaml)
        guard let p = result.partial else { return result.diagnostics }
        return (result.diagnostics + PlaybookValidator.validate(p, baseDirectory: ".", contacts: contacts))
            .filter { $0.code != DiagnosticCode.missingTemplate }
    }

    /// Three people hold the approving roles, and one of them is the only one who drafts.
    static let three = ContactsDirectory(people: [
        Person(id: "kari", name: "Kari", roles: ["comms", "legal"]),
        Person(id: "lars", name: "Lars", roles: ["legal"]),
        Person(id: "liv", name: "Liv", roles: ["legal"]),
        Person(id: "lena", name: "Lena", roles: ["lead"]),
    ])

    @Test("Quorum 3 over roles three people hold, one of whom drafts, is refused at the rule's line and column")
    func quorumWithDrafter() {
        let d = diagnostics(Self.yaml("{roles: [legal, comms], quorum: 3}"), contacts: Self.three)
        let refused = d.filter { $0.code == DiagnosticCode.unsatisfiableApproval }
        #expect(refused.count == 1)
        #expect(refused.first?.isError == true)
        #expect(refused.first?.location.line == 21)
        #expect(refused.first?.location.column == 15)
        #expect(refused.first?.message
            == "the approval of step 'a' cannot be met by the contacts directory: quorum 3 needs 3 distinct approvers, but only 2 people hold the approving roles once kari, who may draft, stands aside")
        // Quorum 2 can be met; so can 3 when the drafter may approve too.
        #expect(!diagnostics(Self.yaml("{roles: [legal], quorum: 2}"), contacts: Self.three).contains { $0.isError })
        #expect(!diagnostics(Self.yaml("{roles: [legal], quorum: 3, distinct_from_drafter: false}"), contacts: Self.three)
            .contains { $0.isError })
        // Without a directory it stays a warning about the roles.
        #expect(!diagnostics(Self.yaml("{roles: [legal], quorum: 3}"), contacts: nil).contains { $0.isError })
    }

    @Test("all_of and final roles nobody (else) holds are refused; unknown roles are named")
    func allOfAndFinal() {
        let nobody = diagnostics(Self.yaml("{all_of: [head_of_comms, legal]}"), contacts: Self.three)
            .filter { $0.code == DiagnosticCode.unsatisfiableApproval }
        #expect(nobody.map(\.message) == [
            "the approval of step 'a' cannot be met by the contacts directory: nobody holds the 'all_of' role 'head_of_comms' once kari, who may draft, stands aside"
        ])
        let noFinal = diagnostics(Self.yaml("{roles: [legal], final: ceo}"), contacts: Self.three)
        #expect(noFinal.contains { $0.code == DiagnosticCode.unsatisfiableApproval && $0.message.contains("nobody holds the final authority role 'ceo'") })
        var staffed = Self.three
        staffed.people.append(Person(id: "hanne", name: "Hanne", roles: ["head_of_comms", "ceo"]))
        // Hanne cannot be both the head of communications and the final authority.
        let both = diagnostics(Self.yaml("{all_of: [head_of_comms, legal], final: ceo}"), contacts: staffed)
        #expect(both.contains { $0.code == DiagnosticCode.unsatisfiableApproval })
        staffed.people.append(Person(id: "cato", name: "Cato", roles: ["ceo"]))
        #expect(!diagnostics(Self.yaml("{all_of: [head_of_comms, legal], final: ceo}"), contacts: staffed).contains { $0.isError })
        let unknown = diagnostics(Self.yaml("{all_of: [legl], inform: [bord]}", spokesperson: "\n    spokesperson: hed_of_comms"), contacts: nil)
        #expect(unknown.filter { $0.code == DiagnosticCode.unknownRole }.map(\.message).sorted() == [
            "'all_of' of the approval of step 'a' names role 'legl', which is not declared under 'roles'; did you mean 'legal'?",
            "'inform' of the approval of step 'a' names role 'bord', which is not declared under 'roles'",
            "the spokesperson of step 'a' names role 'hed_of_comms', which is not declared under 'roles'; did you mean 'head_of_comms'?",
        ])
    }

    @Test("A quorum without roles, and a role both in all_of and final, are errors of the rule")
    func shape() {
        #expect(diagnostics(Self.yaml("{all_of: [legal], quorum: 2}"), contacts: nil).contains {
            $0.isError && $0.message.contains("has a 'quorum' but no 'roles'")
        })
        #expect(diagnostics(Self.yaml("{all_of: [ceo], final: ceo}"), contacts: nil).contains {
            $0.isError && $0.message.contains("both in 'all_of' and the 'final' authority")
        })
        #expect(diagnostics(Self.yaml("{quorum: 1}"), contacts: nil).contains { $0.isError })
    }
}
