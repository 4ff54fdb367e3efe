import CrisisCore

/// The names of people an incident excludes (a statement's `exclude_input`, the playbook's `conflicted:` input),
/// checked against the contacts directory when the incident starts: a misspelt name would let the conflicted
/// person act, so it is refused with the nearest names.
enum ConflictedNames {
    /// One problem per name that is nobody in `contacts` (none without a directory).
    static func problems(inputs: [String: String], playbook: Playbook, contacts: ContactsDirectory?) -> [String] {
        guard let contacts else { return [] }
        var names: [String] = []
        if let c = playbook.conflicted?.value { names.append(c) }
        for step in playbook.allSteps {
            if case .holdingStatement(let s) = step.kind, let input = s.approval.excludeInput?.value,
                !names.contains(input)
            {
                names.append(input)
            }
        }
        var problems: [String] = []
        for input in names {
            guard let value = inputs[input] else { continue }
            let listed = value.split(whereSeparator: { $0 == "," || $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
                .map { $0.trimmedBlanks() }.filter { !$0.isEmpty }
            for name in listed where !known(name, contacts) {
                let near = contacts.suggestions(for: name)
                problems.append(
                    "input '\(input)' names '\(name)', who is not in the contacts directory"
                        + (near.isEmpty ? "" : "; did you mean \(near.map { "'\($0)'" }.joined(separator: " or "))?"))
            }
        }
        return problems
    }

    static func known(_ name: String, _ contacts: ContactsDirectory) -> Bool {
        let lower = name.lowercased()
        return contacts.people.contains { $0.id.lowercased() == lower || $0.name.lowercased() == lower }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    fileprivate func trimmedBlanks() -> String {
        let set = " \t"
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
