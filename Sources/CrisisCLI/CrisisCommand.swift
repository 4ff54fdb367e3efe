import ArgumentParser
import CrisisRuntime
import Foundation

/// The `crisis` command: a crisis-communication playbook runner.
public struct CrisisCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "crisis",
        abstract: "Run crisis-communication playbooks with a tamper-evident audit trail.",
        discussion: """
            Exit codes: 0 ok, 1 refused or invalid input, 2 usage error, 3 audit integrity failure, \
            4 conflict (someone else acted first).
            """,
        version: CrisisVersion.description,
        subcommands: [
            ValidateCommand.self, GraphCommand.self, CheckTextCommand.self, StartCommand.self, StatusCommand.self,
            ActCommand.self, NoteCommand.self, TickCommand.self, WatchCommand.self, RunCommand.self, ShowCommand.self,
            LogCommand.self, ListCommand.self, VerifyCommand.self, CheckpointCommand.self, ExportCommand.self,
            DeliveriesCommand.self, SentCommand.self, FailedCommand.self, DrillCommand.self, DeadlineCommand.self,
            TransportsCommand.self,
        ]
    )

    public init() {}

    /// Entry point used by the `crisis` executable: runs the command and maps errors to the documented exit
    /// codes (usage errors exit 2, not argument-parser's 64).
    public static func entry() async {
        // Swift decodes argv with U+FFFD for invalid UTF-8; refuse instead of silently storing altered bytes.
        for i in 1..<Int(CommandLine.argc) {
            guard let raw = CommandLine.unsafeArgv[i] else { continue }
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(raw).assumingMemoryBound(to: UInt8.self),
                                            count: strlen(raw))
            if String(validating: bytes, as: UTF8.self) == nil {
                FileHandle.standardError.write(Data(
                    "crisis: argument \(i) is not valid UTF-8; nothing was recorded\n".utf8))
                Foundation.exit(ExitStatus.refused)
            }
        }
        var arguments = Array(CommandLine.arguments.dropFirst())
        // A completion request carries the shell's words verbatim: leave them as they are.
        if arguments.first != "---completion" {
            arguments = takeGlobalFlags(arguments)
        }
        let wantsJSON = arguments.prefix { $0 != "--" }.contains("--json")
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                if wantsJSON { Refusal(code: "usage", message: message(for: error), exit: ExitStatus.usage).print() }
                Foundation.exit(ExitStatus.usage)
            }
            exit(withError: error)
        }
    }

    /// Takes the flags every command accepts anywhere before a `--` out of the arguments and applies them:
    /// `--no-color` (colour and symbols off, as `NO_COLOR=1`). argument-parser has no global flags, so the
    /// commands only declare it (`DisplayOptions`) for `--help` and completion.
    static func takeGlobalFlags(_ arguments: [String]) -> [String] {
        var out: [String] = []
        var terminated = false
        for argument in arguments {
            if argument == "--" { terminated = true }
            if !terminated && argument == "--no-color" {
                Style.turnOff()
                continue
            }
            out.append(argument)
        }
        return out
    }
}

/// The version of `crisis`, from this one place: `crisis --version` prints it.
public enum CrisisVersion {
    /// The release.
    public static let release = "0.9.0"
    /// `0.9.0 (engine crisis/0.4)`: the release and the engine version its records carry.
    public static var description: String { "\(release) (engine \(IncidentService.engineVersion))" }
}

/// The documented exit statuses.
public enum ExitStatus {
    public static let ok: Int32 = 0
    /// Refused or invalid input.
    public static let refused: Int32 = 1
    public static let usage: Int32 = 2
    /// The audit trail failed verification.
    public static let integrity: Int32 = 3
    /// `--expect-seq` was stale: someone else acted first.
    public static let conflict: Int32 = 4
}
