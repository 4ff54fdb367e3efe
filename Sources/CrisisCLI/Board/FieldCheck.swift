import CrisisCore
import CrisisRuntime

/// Checks one field's value as the person types it on the board, before anything is recorded, with the same
/// rules the engine applies when the action arrives (`ValueType.problem(with:allowed:)`), so the board and
/// `crisis act` agree. The board also reads what a person types more kindly than `--set` does: an enum value
/// (or true/false) by an unambiguous prefix or by its 1-based number in the list shown.
enum FieldCheck {
    /// Why a typed value cannot be recorded, in one line.
    struct Problem: Error, Equatable, CustomStringConvertible {
        var description: String
    }

    /// The value to record for `field` from what was typed: nil when nothing is sent (an optional field left
    /// empty, or one with a default), else the value, or the problem with it.
    /// With `action` and `contacts`, an acknowledgement's `by` must name a person of the directory, as the
    /// runtime's intake requires (it says whom you may mean).
    static func check(_ typed: String, field: StatusReport.Field, action: String? = nil,
                      contacts: ContactsDirectory? = nil) -> Result<String?, Problem> {
        let value = typed.trimmingCharacters(in: .whitespaces)
        if action == "ack", field.name == "by", !value.isEmpty, let contacts, contacts.person(named: value) == nil {
            let mean = contacts.suggestions(for: value)
            return .failure(Problem(description: "by: '\(value)' is not in the contacts directory"
                + (mean.isEmpty ? "" : "; did you mean \(mean.joined(separator: " or "))?")))
        }
        if value.isEmpty {
            if field.required && field.default == nil {
                return .failure(Problem(description: "\(field.name) is required: type a value (Ctrl-D cancels)"))
            }
            // Enter takes the default the prompt showed, recorded as given.
            return .success(field.default)
        }
        let type = ValueType(rawValue: field.type)
        switch type {
        case .enum?:
            return pick(value, from: field.values ?? [], name: field.name).map { $0 }
        case .boolean?:
            return pick(value, from: ["true", "false"], name: field.name).map { $0 }
        case .time?:
            // Relative times are resolved against the incident's present when the action is recorded.
            if RelativeTime.isRelative(value) { return .success(value) }
            return problem(value, type: .time, field: field)
        case let type?:
            return problem(value, type: type, field: field)
        case nil:
            return .success(value)
        }
    }

    static func problem(_ value: String, type: ValueType, field: StatusReport.Field) -> Result<String?, Problem> {
        if let problem = type.problem(with: value, allowed: field.values ?? []) {
            return .failure(Problem(description: "\(field.name) \(problem)"))
        }
        return .success(value)
    }

    /// One of `values`: the value itself, its 1-based number, or a prefix that starts exactly one of them
    /// (case does not matter).
    static func pick(_ typed: String, from values: [String], name: String) -> Result<String, Problem> {
        if values.contains(typed) { return .success(typed) }
        if let n = Int(typed) {
            guard n >= 1, n <= values.count else {
                return .failure(Problem(description: "\(name): no value \(n); choose 1 to \(values.count) or type one"))
            }
            return .success(values[n - 1])
        }
        let lower = typed.lowercased()
        let matches = values.filter { $0.lowercased().hasPrefix(lower) }
        if matches.count == 1 { return .success(matches[0]) }
        if matches.count > 1 {
            return .failure(Problem(description: "\(name): '\(typed)' could be \(matches.joined(separator: " or ")); type more"))
        }
        let listed = values.enumerated().map { "\($0.offset + 1) \($0.element)" }.joined(separator: ", ")
        return .failure(Problem(description: "\(name): '\(typed)' is not one of \(listed)"))
    }
}
