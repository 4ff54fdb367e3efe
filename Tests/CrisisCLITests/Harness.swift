import Foundation
import Testing

/// Runs the real `crisis` binary, as a user or a script would.
struct CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var lastLine: String { stdout.split(separator: "\n").last.map(String.init) ?? "" }
        func json() throws -> [String: Any] {
            guard let obj = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any] else {
                throw HarnessError("stdout is not a JSON object: \(stdout.prefix(300))")
            }
            return obj
        }
    }

    /// The package root, found from this file's path.
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The built binary: $CRISIS_BIN, else the debug build next to the tests.
    static let binary: String = {
        if let b = ProcessInfo.processInfo.environment["CRISIS_BIN"] { return b }
        let candidates = [".build/debug/crisis", ".build/x86_64-unknown-linux-gnu/debug/crisis",
                          ".build/aarch64-unknown-linux-gnu/debug/crisis"]
        for c in candidates where FileManager.default.isExecutableFile(atPath: root.appendingPathComponent(c).path) {
            return root.appendingPathComponent(c).path
        }
        return root.appendingPathComponent(".build/debug/crisis").path
    }()

    let db: String
    let dir: URL
    var env: [String: String] = [:]

    /// A fresh temporary folder and database path.
    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("crisis-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        db = dir.appendingPathComponent("audit.sqlite").path
    }

    /// Runs `crisis ARGS --db <temp db>` in the package root; `--db` is added unless `withDB` is false.
    @discardableResult
    func run(_ args: [String], withDB: Bool = true, env extra: [String: String] = [:], stdin: Data? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        var a = args
        if withDB { a += ["--db", db] }
        p.arguments = a
        p.currentDirectoryURL = CLI.root
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        environment["CRISIS_OPERATOR"] = "test-operator"
        environment.removeValue(forKey: "CRISIS_DB")
        for (k, v) in env { environment[k] = v }
        for (k, v) in extra { environment[k] = v }
        p.environment = environment
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let input = Pipe()
        p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
    }

    /// Runs a shell command line with $CRISIS and $DB set (for arguments Foundation cannot pass, such as
    /// invalid UTF-8 bytes).
    func runShell(_ line: String) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", line]
        var environment = ProcessInfo.processInfo.environment
        environment["CRISIS"] = CLI.binary
        environment["DB"] = db
        environment["NO_COLOR"] = "1"
        p.environment = environment
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
    }

    func remove() { try? FileManager.default.removeItem(at: dir) }

    /// Waits until `condition` holds, checking every 0.2 s, up to `seconds` (for tests on the real clock).
    static func wait(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return try condition()
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
