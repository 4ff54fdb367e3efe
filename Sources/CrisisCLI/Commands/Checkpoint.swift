import ArgumentParser
import CrisisAudit
import CrisisCore
import CrisisRuntime
import Foundation

/// `--key`: the Ed25519 key that signs checkpoints, kept outside the database.
struct KeyOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Checkpoint signing key (created with mode 0600 if missing).",
        discussion: "Default: $CRISIS_KEY, else crisis-checkpoint.key next to the database.", valueName: "file"))
    var key: String?

    func path(store: StoreOptions) -> String {
        if let key { return key }
        if let k = ProcessInfo.processInfo.environment["CRISIS_KEY"], !k.isEmpty { return k }
        let dir = (store.path as NSString).deletingLastPathComponent
        return (dir.isEmpty ? "." : dir) + "/crisis-checkpoint.key"
    }

    func signer(store: StoreOptions) throws -> CheckpointSigner {
        try CheckpointSigner.loadOrCreate(keyFile: path(store: store), name: "crisis")
    }
}

struct CheckpointCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign the incident's current trail head and print the checkpoint to keep elsewhere.",
        discussion: """
            The hash chain proves the order of records, but anyone holding the database file could rebuild it.
            A checkpoint kept outside the machine (pasted into the ticket or chat, mailed to the regulator)
            anchors the trail: 'crisis verify ID --checkpoint FILE' then detects any later rewrite, truncation
            or rollback. The note goes to standard output; the verifier key (publish it once) to standard error.
            A checkpoint is also issued automatically when an incident closes.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var keys: KeyOptions
    @OptionGroup var display: DisplayOptions
    @Argument(help: "Incident id or a short part of it (default: the latest open incident).",
              completion: Complete.incidents("checkpoint"))
    var id: String?
    @Option(name: [.customShort("o"), .long], help: "Also write the note to this file.") var output: String?

    func run() async throws {
        do {
            let service = try store.service()
            let incident = try service.resolveIncident(id)
            let signer = try keys.signer(store: store)
            let checkpoint = try service.checkpoint(incident, signer: signer, wallNow: .wallClock())
            FileHandle.standardOutput.write(Data(checkpoint.note.utf8))
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: Data(checkpoint.note.utf8)) else {
                    throw RuntimeError.invalid("cannot write \(output)")
                }
            }
            Out.error("verifier key: \(signer.verifierKey)")
        } catch {
            throw fail(error)
        }
    }
}

/// Prints the checkpoint a command issued because it closed the incident.
func printClosingCheckpoint(_ result: CommitResult, print: Bool) {
    if let problem = result.checkpointProblem {
        Out.error("crisis: warning: the incident closed but no checkpoint could be issued: \(problem)")
    }
    guard print, let c = result.checkpoint else { return }
    Out.print("\nClosing checkpoint (keep it outside this machine; 'crisis verify --checkpoint' checks it):")
    Out.print(c.note, terminator: "")
}
