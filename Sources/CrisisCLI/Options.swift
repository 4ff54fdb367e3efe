import ArgumentParser
import CrisisAudit
import CrisisCore
import CrisisRuntime
import Foundation

/// `--db`: where the audit trail lives.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "SQLite database file.",
        discussion: "Default: $CRISIS_DB, else $XDG_DATA_HOME/crisis/crisis.sqlite (~/.local/share/crisis/crisis.sqlite). "
            + "Reading commands open a database on read-only media read-only; CRISIS_READ_ONLY=1 makes them always "
            + "do so (nothing written, no file created).",
        valueName: "path"))
    var db: String?

    @Option(name: .long, help: ArgumentHelp(
        "Transports file (crisis-transports/v1) for live deliveries.",
        discussion: "Default: $CRISIS_TRANSPORTS, else $XDG_CONFIG_HOME/crisis/transports.yaml when it exists; "
            + "without one every live delivery is handed to a person. Drills never deliver.",
        valueName: "file"))
    var transports: String?

    var path: String { Self.path(db: db) }

    /// The database a command uses: `db` when given, else `$CRISIS_DB`, else the XDG default.
    static func path(db: String?) -> String {
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
        var service = IncidentService(store: try SQLiteAuditLog(path: path, mode: reading ? Self.readingMode : .create))
        if !reading {
            service.transport = TransportsSetup.transport(option: transports)
            // While a watcher runs on this database, it sends what commands deliver: they return at once.
            let database = path
            service.watcherProbe = {
                WatcherLock.holder(database: database).map { DeliveryHandoff(watcher: "crisis watch (pid \($0))") }
            }
            service.sender = .thisProcess(
                (["crisis"] + CommandLine.arguments.dropFirst().prefix { !$0.hasPrefix("-") }.prefix(1)).joined(separator: " "))
        }
        if let keys {
            let keyFile = keys.path(store: self)
            service.checkpointSigner = { try CheckpointSigner.loadOrCreate(keyFile: keyFile, name: "crisis") }
        }
        return service
    }

    var exists: Bool { FileManager.default.fileExists(atPath: path) }

    /// Runs `body` (which opens the store with `create: true`); when it fails and the database did not exist
    /// before, removes the empty database it created, so a refused first `start` (a missing input, a bad playbook)
    /// leaves no file behind for later commands to find.
    func creating<T>(_ body: () throws -> T) throws -> T {
        let existed = exists
        do {
            return try body()
        } catch {
            if !existed, exists,
                (try? SQLiteAuditLog(path: path, mode: .existing).incidents().isEmpty) ?? false
            {
                for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            }
            throw error
        }
    }

    /// How reading commands open the store: `.existing` (read-only by itself on read-only media), or always
    /// `.readOnly` with `CRISIS_READ_ONLY` set to anything but empty or `0`.
    static var readingMode: SQLiteAuditLog.OpenMode {
        let flag = ProcessInfo.processInfo.environment["CRISIS_READ_ONLY"] ?? ""
        return flag.isEmpty || flag == "0" ? .existing : .readOnly
    }
}

extension KeyOptions {
    /// The signing key when its file exists, else nil. Never creates a key (readers such as `verify` use it).
    func existingSigner(store: StoreOptions) throws -> CheckpointSigner? {
        try CheckpointSigner.loadExisting(keyFile: path(store: store))
    }
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

/// `--no-color`: accepted by every command (and before the command name: `crisis --no-color status`).
/// `CrisisCommand.entry` takes it out of the arguments before parsing and turns colour and symbols off for the
/// whole process, as `NO_COLOR` does; this group only makes it known to `--help` and to shell completion.
struct DisplayOptions: ParsableArguments {
    @Flag(name: .customLong("no-color"),
          help: "No colour and no symbols (as NO_COLOR=1; also off when not on a terminal or with TERM=dumb).")
    var noColor = false
}

/// Whether output may use colour and symbols (→ ✓ ✗ ✉ ⏱): only on a terminal, never with `NO_COLOR` (any
/// non-empty value), `--no-color` (which sets `NO_COLOR` for the process) or `TERM=dumb`.
enum Style {
    /// Colour escapes on standard output.
    static var colour: Bool { decorated(descriptor: 1) }
    /// Symbols instead of ASCII words on standard output.
    static var symbols: Bool { decorated(descriptor: 1) }

    /// A symbol, or its plain fallback when symbols are off.
    static func symbol(_ unicode: String, plain: String) -> String { symbols ? unicode : plain }

    static func decorated(descriptor: Int32) -> Bool {
        let env = ProcessInfo.processInfo.environment
        return isatty(descriptor) == 1 && (env["NO_COLOR"] ?? "").isEmpty && env["TERM"] != "dumb"
    }

    /// Called once at start-up by `entry` for `--no-color`.
    static func turnOff() { setenv("NO_COLOR", "1", 1) }
}

/// A refusal as `--json` prints it on standard output (the human message still goes to standard error; the
/// exit status is the same): `{"error": {"code", "message", "exit", "hint"?, ...}}`.
struct Refusal: Encodable {
    struct Body: Encodable {
        /// A stable identifier: a rejection code (docs/rejection-codes.md), or one of `usage`, `invalid`,
        /// `invalid-inputs`, `invalid-playbook`, `unknown-incident`, `ambiguous-incident`, `conflict`,
        /// `corrupt-trail`, `integrity`, `store`, `error`.
        var code: String
        /// What went wrong, as the human message says it.
        var message: String
        /// The exit status the command ends with.
        var exit: Int32
        /// What would be accepted, as command-line advice.
        var hint: String?
        /// Incidents an ambiguous reference could mean.
        var candidates: [String]?
        /// `start`: problems with the given inputs, or a playbook's diagnostics.
        var problems: [String]?
        /// `start`: required inputs not given.
        var missing: [Missing]?
        /// Conflicts: the sequence number expected, the one found, and who acted.
        var expected_seq: Int?
        var head_seq: Int?
        var by: String?
    }
    struct Missing: Encodable {
        var name: String
        var type: String
        var prompt: String
    }
    var error: Body

    init(code: String, message: String, exit: Int32, hint: String? = nil) {
        error = Body(code: code, message: message, exit: exit, hint: hint)
    }

    /// Prints it on standard output as one JSON object on one line (also in a stream such as `watch --json`).
    func print() {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return }
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}

/// Maps runtime and store errors to the documented exit codes, with the message on standard error; with `json`,
/// also the refusal as JSON on standard output.
func fail(_ error: any Error, json: Bool = false) -> ExitCode {
    let (refusal, lines) = explain(error)
    for line in lines { Out.error(line) }
    if json { refusal.print() }
    return ExitCode(refusal.error.exit)
}

/// An error as the lines printed on standard error and its JSON form.
func explain(_ error: any Error) -> (Refusal, [String]) {
    switch error {
    case let e as RuntimeError:
        switch e {
        case .conflict(let expected, let head, let by):
            var r = Refusal(code: "conflict", message: "\(e)", exit: ExitStatus.conflict)
            r.error.expected_seq = expected
            r.error.head_seq = head
            r.error.by = by
            return (r, ["crisis: \(e)"])
        case .corruptRecord:
            return (Refusal(code: "corrupt-trail", message: "\(e)", exit: ExitStatus.integrity), ["crisis: \(e)"])
        case .diagnostics(let d):
            var r = Refusal(code: "invalid-playbook", message: "the playbook or contacts file has errors",
                            exit: ExitStatus.refused)
            r.error.problems = d.map(\.description)
            return (r, d.map(\.description))
        case .invalidInputs(let problems, let missing):
            var lines = problems
            if !missing.isEmpty {
                lines.append("missing required inputs:")
                // The option and its type on one line (scripts read it), the prompt under it, wrapped to 80.
                for m in missing {
                    lines.append("  --set \(m.name)=\(Sym.errorEllipsis)  (\(m.kind))")
                    lines += TimelineText.wrap(m.prompt, width: max(34, min(Fit.terminalWidth(), 80) - 6)).map { "      " + $0 }
                }
            }
            var r = Refusal(code: "invalid-inputs", message: "\(e)", exit: ExitStatus.refused)
            r.error.problems = problems
            r.error.missing = missing.map { Refusal.Missing(name: $0.name, type: $0.kind, prompt: $0.prompt) }
            return (r, ["crisis: " + lines.joined(separator: "\n")])
        case .refused(let code, let message, let hint):
            let shown = hint.flatMap { advice($0) }
            let r = Refusal(code: code, message: message, exit: ExitStatus.refused, hint: shown)
            if let hint, let commands = retryCommands(hint) {
                return (r, Fit.lines("crisis: \(e)", width: max(40, min(Fit.terminalWidth(), 80))) + commands)
            }
            return (r, ["crisis: \(e)"] + (shown.map { ["  " + $0] } ?? []))
        case .invalid(let message):
            return (Refusal(code: "invalid", message: message, exit: ExitStatus.refused), ["crisis: \(e)"])
        }
    case let e as IncidentReferenceError:
        var r = Refusal(code: e.code, message: e.description, exit: ExitStatus.refused,
                        hint: e.candidates.isEmpty ? "'crisis list' shows the incidents" : nil)
        if !e.candidates.isEmpty { r.error.candidates = e.candidates }
        return (r, ["crisis: \(e)"])
    case let e as AuditError:
        let code: (String, Int32)
        switch e {
        case .integrity: code = ("integrity", ExitStatus.integrity)
        case .conflict: code = ("conflict", ExitStatus.conflict)
        default: code = ("store", ExitStatus.refused)
        }
        return (Refusal(code: code.0, message: "\(e)", exit: code.1), ["crisis: \(e)"])
    case let e as ValidationError:
        return (Refusal(code: "usage", message: e.message, exit: ExitStatus.usage), ["crisis: \(e.message)"])
    default:
        return (Refusal(code: "error", message: "\(error)", exit: ExitStatus.refused), ["crisis: \(error)"])
    }
}

/// An `act` refused for a missing field that takes one of a few values, answered with the command the person
/// typed and that field added: one paste-safe line per value (as `status` suggests them; never an `a|b`), each
/// fitted to the width with ` \` continuations. With more values than `Suggest.maxAlternatives`, one line to fill
/// in and the values under it. Nil for other refusals and other commands. `--json`, `--no-color`, `--expect-seq`
/// and `--idempotency-key` are left out: the refusal itself was recorded, so the old sequence number is stale.
func retryCommands(_ hint: RejectionHint, arguments: [String] = Array(CommandLine.arguments.dropFirst()),
                   width: Int = Fit.terminalWidth()) -> [String]? {
    guard case .fieldMissing(let name, _, let allowed) = hint, !allowed.isEmpty else { return nil }
    var kept: [String] = []
    var skipNext = false
    for argument in arguments {
        if skipNext {
            skipNext = false
            continue
        }
        if ["--json", "--no-color"].contains(argument) { continue }
        if ["--expect-seq", "--idempotency-key"].contains(argument) {
            skipNext = true
            continue
        }
        if argument.hasPrefix("--expect-seq=") || argument.hasPrefix("--idempotency-key=") { continue }
        kept.append(argument)
    }
    guard kept.first == "act" else { return nil }
    // Options as options (`--role`, not `'--role'`); every other word quoted for the shell where it must be.
    let words = kept.map { $0.hasPrefix("-") && shellWord("x" + $0) == "x" + $0 ? $0 : shellWord($0) }
    let base = "  → crisis " + words.joined(separator: " ")
    let room = max(40, min(width, 80))
    if allowed.count <= Suggest.maxAlternatives {
        return ["  give it with one of:"]
            + allowed.flatMap { Fit.lines(base + " --set " + shellWord(name + "=" + $0), width: room) }
    }
    return ["  give it with:"] + Fit.lines(base + " --set \(shellWord(name))=\(Sym.errorEllipsis)", width: room)
        + Fit.paragraph("\(name) is one of: " + allowed.joined(separator: ", "), indent: 4, width: room)
}

/// A refusal's hint as command-line advice: the engine says what would be accepted, the CLI says how to type it.
func advice(_ hint: RejectionHint) -> String? {
    func list(_ items: [String]) -> String { items.joined(separator: ", ") }
    switch hint {
    case .roleNeeded(let roles):
        guard let first = roles.first else { return nil }
        return "act in a role that may do this: --role \(first)" + (roles.count > 1 ? " (or: \(list(Array(roles.dropFirst()))))" : "")
    case .fieldMissing(let name, let type, let allowed):
        return "give it with --set \(name)=" + (allowed.isEmpty ? "\(Sym.errorEllipsis) (\(type.rawValue))" : "\(allowed[0])  (one of: \(list(allowed)))")
    case .fieldInvalid(let name, let allowed):
        return allowed.isEmpty ? nil : "--set \(name)= takes one of: \(list(allowed))"
    case .fieldsAccepted(let names):
        return names.isEmpty ? "this action takes no --set fields" : "this action takes --set for: \(list(names))"
    case .actionsAvailable(let names):
        return names.isEmpty ? "the step accepts no action now" : "actions available now: \(list(names))"
    case .stepsActive(let steps):
        return steps.isEmpty ? "no step is active now" : "active steps: \(list(steps.map(shellWord)))"
    case .elementsMissing(let names):
        return "fill them in first with the draft action: " + names.map { "--set \($0)=\(Sym.errorEllipsis)" }.joined(separator: " ")
    case .peopleAllowed, .didYouMean:
        // The refusal's message already names them (it is what the log keeps); scripts read the hint.
        return nil
    }
}
