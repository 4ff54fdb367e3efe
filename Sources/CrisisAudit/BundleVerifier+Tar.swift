import Foundation

extension BundleVerifier {
    /// True when `path` is a regular file whose first block is a ustar header (a bundle written with
    /// `-o NAME.tar`).
    public static func isTarBundle(_ path: String) -> Bool {
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, let handle = FileHandle(forReadingAtPath: path)
        else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: TarFormat.block), head.count == TarFormat.block else { return false }
        return Array(head[257..<263]) == Array("ustar".utf8) + [0]
    }

    /// Verifies a bundle written as a ustar archive (`crisis export ID --format bundle -o NAME.tar`): the archive is
    /// read strictly (`TarReader`) into a temporary folder, removed afterwards, and its top folder verified as a
    /// bundle. A damaged archive (a bad header, non-zero padding, a link, a name leaving the folder) is a problem
    /// named after the archive file; a file that is no ustar archive, or whose folder is no bundle, throws
    /// `NotABundleError`.
    public static func verify(tar path: String, trustedKey: CheckpointVerifier?) throws -> BundleReport {
        let base = FileManager.default.temporaryDirectory.path + "/crisis-verify-XXXXXX"
        var template = Array(base.utf8CString)
        guard let made = mkdtemp(&template) else {
            throw AuditError.invalid("cannot create a temporary folder: \(String(cString: strerror(errno)))")
        }
        let scratch = String(cString: made)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let top: String
        do { top = try TarReader.extract(path, into: scratch) } catch let error as TarError {
            if error.notATar { throw NotABundleError(path: path) }
            var report = BundleReport()
            let file = (path as NSString).lastPathComponent
            report.problems = [BundleProblem(file: file, seq: nil, message: error.description)]
            return report
        }
        guard isBundle(scratch + "/" + top) else { throw NotABundleError(path: path) }
        return try verify(bundle: scratch + "/" + top, trustedKey: trustedKey)
    }
}
