import CrisisCore

/// Whether the people of a contacts directory can ever satisfy a statement's approval rule (`validate`): some
/// drafter among the holders of the step's role stands aside when `distinct_from_drafter`, a
/// final authority holds `final`, one distinct person acts as each `all_of` role, and enough distinct people hold
/// an approving role (`roles`, `all_of`, the fallback roles) for the quorum.
enum ApprovalRoster {
    /// Why no roster of `contacts` satisfies `rule`, or nil when one does.
    static func problem(_ rule: ApprovalSpec, drafterRoles: [String], contacts: ContactsDirectory) -> String? {
        let people = contacts.people
        var drafters: [Person?] = rule.distinctFromDrafter
            ? people.filter { p in drafterRoles.contains(where: { p.roles.contains($0) }) } : []
        if drafters.isEmpty { drafters = [nil] }
        var last = ""
        for drafter in drafters {
            let pool = people.filter { $0.id != drafter?.id }
            guard let why = problem(rule, pool: pool) else { return nil }
            last = why + (drafter.map { " once \($0.id), who may draft, stands aside" } ?? "")
        }
        return last
    }

    /// Why `pool` cannot satisfy `rule`, or nil.
    static func problem(_ rule: ApprovalSpec, pool: [Person]) -> String? {
        guard let final = rule.finalRole?.value else { return rest(rule, pool: pool) }
        let finals = pool.filter { $0.roles.contains(final) }
        if finals.isEmpty { return "nobody holds the final authority role '\(final)'" }
        var last = ""
        for f in finals {
            guard let why = rest(rule, pool: pool.filter { $0.id != f.id }) else { return nil }
            last = why + " besides \(f.id), the final authority"
        }
        return last
    }

    /// The quorum and `all_of` over `pool`.
    static func rest(_ rule: ApprovalSpec, pool: [Person]) -> String? {
        let allOf = rule.allOf.map(\.value)
        if !assign(allOf[...], pool: pool, used: []) {
            if let role = allOf.first(where: { r in !pool.contains { $0.roles.contains(r) } }) {
                return "nobody holds the 'all_of' role '\(role)'"
            }
            return "'all_of' needs \(allOf.count) distinct people, one for each of \(allOf.joined(separator: ", "))"
        }
        let approving = rule.roles.map(\.value) + allOf + rule.fallbackRoles.map(\.value)
        let count = pool.filter { p in approving.contains(where: { p.roles.contains($0) }) }.count
        let quorum = rule.roles.isEmpty ? 0 : max(1, rule.quorum)
        if count < quorum {
            return "quorum \(quorum) needs \(quorum) distinct approvers, but only \(count) \(count == 1 ? "person holds" : "people hold") the approving roles"
        }
        return nil
    }

    /// Whether each role of `roles` can get its own person of `pool` who holds it.
    static func assign(_ roles: ArraySlice<String>, pool: [Person], used: Set<String>) -> Bool {
        guard let role = roles.first else { return true }
        for p in pool where !used.contains(p.id) && p.roles.contains(role) {
            if assign(roles.dropFirst(), pool: pool, used: used.union([p.id])) { return true }
        }
        return false
    }
}
