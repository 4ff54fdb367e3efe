import ArgumentParser
import CrisisAudit
import Foundation

/// `crisis verify FOLDER`: verifies an exported bundle offline (`BundleVerifier`). `VerifyCommand` hands a folder
/// argument here; nothing else of `verify` (databases, `--checkpoint` notes) applies to a bundle.
enum BundleVerify {
    /// The verdict as `verify --json` prints it.
    struct Outcome: Encodable {
        var bundle: String
        var incident: String?
        var ok: Bool
        var records: Int
        var files_checked: Int
        var head: String?
        var merkle_root: String
        var checkpoints: Int
        var trusted_key: String?
        var anchored_up_to: Int?
        var unanchored_records: Int
        var first_bad_file: String?
        var first_bad_seq: Int?
        var problems: [String]
        var unchecked: [String]
    }

    /// True when `argument` names a folder that `verify` should treat as a bundle: one that holds a manifest or
    /// records file, or any folder named with a `/` or ending in `.bundle` (so it is refused as "not a bundle"
    /// rather than looked up as an incident id).
    static func isBundleArgument(_ argument: String) -> Bool {
        // A bundle written with -o NAME.tar (a file that is no archive is then refused as "not a bundle").
        if BundleVerifier.isTarBundle(argument)
            || argument.hasSuffix(".tar") && FileManager.default.fileExists(atPath: argument)
        {
            return true
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDir), isDir.boolValue else {
            return false
        }
        return BundleVerifier.isBundle(argument) || argument.contains("/") || argument.hasSuffix(".bundle")
    }

    /// Verifies the bundle at `path` and prints the verdict; `key` is a verifier key, or a file holding one or
    /// holding the signing key (never created). Returns the exit status: 0 intact (with what was not checked),
    /// 3 tampered, 1 not a bundle or an unreadable key, 2 `--checkpoint` given with a bundle.
    static func run(path: String, key: String?, checkpoints: [String], json: Bool) -> Int32 {
        if !checkpoints.isEmpty {
            Out.error("crisis: --checkpoint applies to a database; a bundle carries its own checkpoints (use --key)")
            return ExitStatus.usage
        }
        let trusted: CheckpointVerifier?
        do { trusted = try key.map(CheckpointVerifier.load) } catch {
            Out.error("crisis: \(error)")
            return ExitStatus.refused
        }
        let report: BundleReport
        do {
            var isDir: ObjCBool = false
            let file = FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && !isDir.boolValue
            report = file ? try BundleVerifier.verify(tar: path, trustedKey: trusted)
                : try BundleVerifier.verify(bundle: path, trustedKey: trusted)
        } catch {
            Out.error("crisis: \(error)")
            return ExitStatus.refused
        }
        let anchored = report.anchoredUpTo ?? 0
        let outcome = Outcome(
            bundle: path, incident: report.incidentID, ok: report.ok, records: report.recordCount,
            files_checked: report.filesChecked, head: report.chainHead, merkle_root: report.merkleRoot,
            checkpoints: report.checkpoints.count, trusted_key: report.trustedKey, anchored_up_to: report.anchoredUpTo,
            unanchored_records: report.recordCount - anchored, first_bad_file: report.firstProblem?.file,
            first_bad_seq: report.firstProblem?.seq, problems: report.problems.map(\.description),
            unchecked: report.unchecked)
        if json {
            try? Out.json(outcome)
        } else {
            print(report, path: path)
        }
        return report.ok ? ExitStatus.ok : ExitStatus.integrity
    }

    static func print(_ report: BundleReport, path: String) {
        let name = report.incidentID ?? path
        if let first = report.firstProblem {
            Out.print("\(name): TAMPERED: \(TerminalText.escape(first.description))")
            if report.problems.count > 1 { Out.print("  and \(report.problems.count - 1) more problem(s)") }
            return
        }
        Out.print("\(name): ok: \(report.recordCount) records, \(report.filesChecked) files match the manifest, "
                  + "chain intact, head \(report.chainHead ?? "-")")
        if let trusted = report.trustedKey {
            if let anchored = report.anchoredUpTo {
                let tail = report.recordCount - anchored
                Out.print("  records 1..\(anchored) are anchored by a checkpoint signed by the trusted key \(trusted); "
                          + (tail == 0 ? "no later record" : "records \(anchored + 1)..\(report.recordCount) "
                             + "(\(tail)) are not externally anchored"))
            } else {
                Out.print("  no checkpoint is signed by the trusted key \(trusted): no record is anchored")
            }
        }
        for line in report.unchecked { Out.print("  not checked: \(line)") }
    }
}
