import ArgumentParser
import CrisisAudit
import CrisisCore
import CrisisRuntime
import Foundation

/// `--db`: where the audit trail lives.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "SQLite database file.",
        discussion: "Default: $CRISIS_DB, else $XDG_DATA_HOME/crisis/crisis.sqlite (~/.local/share/crisis/crisis.sqlite).",
        valueName: "path"))
    var db: String?

    var path: String {
        if let db { return db }
        let env = ProcessInfo.processInfo.environment
        if let p = env["CRISIS_DB"], !p.isEmpty { return p }
        let base = env["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() + "/.local/share")
        return base + "/crisis/crisis.sqlite"
    }

    /// The store. Only `start` creates a database; every other command refuses a path where none exists
    /// (a typo in --db must not silently create an empty evidence file).
    /// With `keys`, a command that closes an incident signs a checkpoint with that key.
    /// Readers (`reading`) never create the file or migrate its schema.
    func service(create: Bool = false, reading: Bool = false, keys: KeyOptions? = nil) throws -> IncidentService {
        if !create && !FileManager.default.fileExists(atPath: path) {
            throw RuntimeError.invalid("no database at \(path); pass --db or set CRISIS_DB ('crisis start' creates one)")
        }
        var service = IncidentService(store: try SQLiteAuditLog(path: path, mode: reading ? .existing : .create))
        if let keys {
            let keyFile = keys.path(store: self)
            service.checkpointSigner = { try CheckpointSigner.loadOrCreate(keyFile: keyFile, name: "crisis") }
        }
        return service
    }

    var exists: Bool { FileManager.default.fileExists(atPath: path) }
}

/// `--as` and `--role`: who is acting.
struct OperatorOptions: ParsableArguments {
    @Option(name: .customLong("as"), help: ArgumentHelp(
        "Who is acting (default: $CRISIS_OPERATOR, else your login name).", valueName: "name"))
    var operatorName: String?

    @Option(help: ArgumentHelp(
        "The playbook role you act in (checked against the contacts directory when the incident has one).",
        valueName: "role"))
    var role: String?

    var actor: Actor {
        let env = ProcessInfo.processInfo.environment
        let name = operatorName ?? env["CRISIS_OPERATOR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? env["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? NSUserName()
        return Actor(name: name, role: role)
    }
}

/// Parses repeated `--set NAME=VALUE`. A value may contain `=`; the name may not be empty.
func parseAssignments(_ raw: [String]) throws -> [(String, String)] {
    try raw.map { item in
        // Split on the first "=" byte, not Character: "=" followed by a combining mark is one grapheme, and
        // the value must keep its bytes exactly.
        let bytes = Array(item.utf8)
        guard let eq = bytes.firstIndex(of: UInt8(ascii: "=")), eq > 0 else {
            throw ValidationError("--set needs NAME=VALUE, got '\(TerminalText.escape(item))'")
        }
        return (String(decoding: bytes[..<eq], as: UTF8.self), String(decoding: bytes[(eq + 1)...], as: UTF8.self))
    }
}

/// Writes to standard output / error without buffering surprises between them.
enum Out {
    static func print(_ s: String, terminator: String = "\n") {
        FileHandle.standardOutput.write(Data((s + terminator).utf8))
    }
    /// Writes a message to standard error with control and bidi characters escaped (messages quote
    /// operator-typed text).
    static func error(_ s: String) {
        FileHandle.standardError.write(Data((TerminalText.escape(s, keepNewlines: true) + "\n").utf8))
    }
    /// One compact JSON object on its own line (for streams such as `watch --json`).
    static func jsonLine(_ value: [String: String]) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return }
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }
}

/// Maps runtime and store errors to the documented exit codes, with the message on standard error.
func fail(_ error: any Error) -> ExitCode {
    switch error {
    case let e as RuntimeError:
        switch e {
        case .conflict:
            Out.error("crisis: \(e)")
            return ExitCode(ExitStatus.conflict)
        case .corruptRecord:
            Out.error("crisis: \(e)")
            return ExitCode(ExitStatus.integrity)
        case .diagnostics(let d):
            for item in d { Out.error(item.description) }
            return ExitCode(ExitStatus.refused)
        case .invalidInputs(let problems, let missing):
            var lines = problems
            if !missing.isEmpty {
                lines.append("missing required inputs:")
                lines += missing.map { "  --set \($0.name)=…  (\($0.kind)) \($0.prompt)" }
            }
            Out.error("crisis: " + lines.joined(separator: "\n"))
            return ExitCode(ExitStatus.refused)
        case .refused(_, _, let hint):
            Out.error("crisis: \(e)")
            if let hint, let advice = advice(hint) { Out.error("  " + advice) }
            return ExitCode(ExitStatus.refused)
        default:
            Out.error("crisis: \(e)")
            return ExitCode(ExitStatus.refused)
        }
    case let e as AuditError:
        Out.error("crisis: \(e)")
        if case .integrity = e { return ExitCode(ExitStatus.integrity) }
        if case .conflict = e { return ExitCode(ExitStatus.conflict) }
        return ExitCode(ExitStatus.refused)
    case let e as ValidationError:
        Out.error("crisis: \(e.message)")
        return ExitCode(ExitStatus.usage)
    default:
        Out.error("crisis: \(error)")
        return ExitCode(ExitStatus.refused)
    }
}

/// A refusal's hint as command-line advice: the engine says what would be accepted, the CLI says how to type it.
func advice(_ hint: RejectionHint) -> String? {
    func list(_ items: [String]) -> String { items.joined(separator: ", ") }
    switch hint {
    case .roleNeeded(let roles):
        guard let first = roles.first else { return nil }
        return "act in a role that may do this: --role \(first)" + (roles.count > 1 ? " (or: \(list(Array(roles.dropFirst()))))" : "")
    case .fieldMissing(let name, let type, let allowed):
        return "give it with --set \(name)=" + (allowed.isEmpty ? "… (\(type.rawValue))" : "\(allowed[0])  (one of: \(list(allowed)))")
    case .fieldInvalid(let name, let allowed):
        return allowed.isEmpty ? nil : "--set \(name)= takes one of: \(list(allowed))"
    case .fieldsAccepted(let names):
        return names.isEmpty ? "this action takes no --set fields" : "this action takes --set for: \(list(names))"
    case .actionsAvailable(let names):
        return names.isEmpty ? "the step accepts no action now" : "actions available now: \(list(names))"
    case .stepsActive(let steps):
        return steps.isEmpty ? "no step is active now" : "active steps: \(list(steps.map(shellWord)))"
    case .elementsMissing(let names):
        return "fill them in first with the draft action: " + names.map { "--set \($0)=…" }.joined(separator: " ")
    case .peopleAllowed, .didYouMean:
        // The refusal's message already names them (it is what the log keeps); scripts read the hint.
        return nil
    }
}
