import ArgumentParser
import CrisisAudit
import CrisisCore
import CrisisRuntime
import Foundation

/// Shell completion from the database (`--db` on the command line being completed, else `$CRISIS_DB`, else the
/// default): incident ids, the steps of an incident that accept actions, the actions a step accepts now.
/// argument-parser calls these when the shell asks (`crisis ---completion …`); they never print, never create a
/// database, and answer nothing when something is wrong.
enum Complete {
    /// Options (of any command) that take a value as the next word.
    static let optionsWithValues: Set<String> = [
        "--db", "--as", "--role", "--set", "--note", "--expect-seq", "--idempotency-key", "--key", "--advance",
        "--speed", "--poll", "--checkpoint", "--verifier-key", "-o", "--output", "--title", "--contacts", "--clock",
        "--format", "--channel",
    ]

    /// What the command line being completed says so far.
    struct Line: Equatable {
        /// `--db` as typed (unquoted, `~/` expanded), anywhere on the line.
        var db: String?
        /// The positional words after the subcommand, before the word being completed.
        var positionals: [String]
    }

    /// Reads the shell's words (verbatim: quotes kept) up to the word at `index`.
    static func read(_ words: [String], index: Int, subcommand: String) -> Line {
        var line = Line(db: nil, positionals: [])
        var i = 1
        var seenSubcommand = false
        var terminated = false
        while i < words.count {
            let word = unquote(words[i])
            defer { i += 1 }
            if !terminated && word == "--" {
                terminated = true
                continue
            }
            if !terminated && word.hasPrefix("-") && word.count > 1 && !isRelativeTime(word) {
                if word.hasPrefix("--db=") {
                    line.db = expand(String(word.dropFirst(5)))
                } else if !word.contains("="), optionsWithValues.contains(word) {
                    if word == "--db", i + 1 < words.count { line.db = expand(unquote(words[i + 1])) }
                    i += 1
                }
                continue
            }
            guard i < index else { continue }
            if !seenSubcommand {
                seenSubcommand = word == subcommand
                continue
            }
            line.positionals.append(word)
        }
        return line
    }

    /// `-15m` is a value, not an option (it only reaches here as a positional by mistake, but must not eat a word).
    private static func isRelativeTime(_ word: String) -> Bool { RelativeTime.isRelative(word) }

    static func unquote(_ word: String) -> String {
        guard word.count >= 2, let first = word.first, first == "'" || first == "\"", word.last == first else {
            return word
        }
        return String(word.dropFirst().dropLast())
    }

    static func expand(_ path: String) -> String {
        path.hasPrefix("~/") ? NSHomeDirectory() + path.dropFirst() : path
    }

    /// The store the line names, opened for reading; nil when there is none.
    static func service(_ line: Line) -> IncidentService? {
        let path = StoreOptions.path(db: line.db)
        guard FileManager.default.fileExists(atPath: path),
            let store = try? SQLiteAuditLog(path: path, mode: .existing)
        else { return nil }
        return IncidentService(store: store)
    }

    /// Every incident id, open ones first (newest activity first within each group).
    static func incidentIDs(_ service: IncidentService) -> [String] {
        guard let headers = try? service.store.incidents() else { return [] }
        return headers.sorted { ($0.lastEventAt ?? $0.createdAt) > ($1.lastEventAt ?? $1.createdAt) }.map(\.id)
    }

    /// The steps of an incident that accept an action now (active steps, steps with deliveries waiting, and
    /// `incident` for incident-wide actions).
    static func steps(_ service: IncidentService, incident id: String) -> [String] {
        guard let incident = try? service.load(id), incident.state.status.isOpen else { return [] }
        var out = incident.state.active.map(\.instance)
        for d in incident.state.openDeliveries where !out.contains(d.delivery.step) { out.append(d.delivery.step) }
        if !Engine.availableActions(for: Engine.incidentStep, in: incident.state).isEmpty {
            out.append(Engine.incidentStep)
        }
        return out
    }

    /// The actions a step of an incident accepts now.
    static func actions(_ service: IncidentService, incident id: String, step: String) -> [String] {
        guard let incident = try? service.load(id) else { return [] }
        var out: [String] = []
        for spec in Engine.availableActions(for: step, in: incident.state) where !out.contains(spec.name) {
            out.append(spec.name)
        }
        return out
    }

    /// The one incident `reference` names, or nil.
    static func incident(_ service: IncidentService, _ reference: String) -> String? {
        guard let candidates = try? service.incidentCandidates(reference), candidates.count == 1 else { return nil }
        return candidates[0]
    }

    /// An incident id (`status`, `log`, `tick`, `verify`, `checkpoint`, `watch`).
    static func incidents(_ subcommand: String) -> CompletionKind {
        .custom { words, index, _ in
            guard let service = service(read(words, index: index, subcommand: subcommand)) else { return [] }
            return incidentIDs(service)
        }
    }

    /// `note [ID] TEXT`: the first word may be an incident.
    static let note: CompletionKind = .custom { words, index, _ in
        let line = read(words, index: index, subcommand: "note")
        guard line.positionals.isEmpty, let service = service(line) else { return [] }
        return incidentIDs(service)
    }

    /// `act [ID] STEP ACTION`: incidents and the latest open incident's steps first; then that incident's steps,
    /// or the default incident's actions for the step; then the actions.
    static let act: CompletionKind = .custom { words, index, _ in
        let line = read(words, index: index, subcommand: "act")
        guard let service = service(line) else { return [] }
        return actWords(service, positionals: line.positionals)
    }

    static func actWords(_ service: IncidentService, positionals p: [String]) -> [String] {
        let latest = try? service.latestOpenIncident()
        switch p.count {
        case 0:
            return incidentIDs(service) + (latest.map { steps(service, incident: $0) } ?? [])
        case 1:
            if let id = incident(service, p[0]), !(latest.map { steps(service, incident: $0).contains(p[0]) } ?? false) {
                return steps(service, incident: id)
            }
            return latest.map { actions(service, incident: $0, step: p[0]) } ?? []
        case 2:
            guard let id = incident(service, p[0]) else { return [] }
            return actions(service, incident: id, step: p[1])
        default:
            return []
        }
    }
}
