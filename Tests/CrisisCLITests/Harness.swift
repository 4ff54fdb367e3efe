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
        return CLI.collect(p, out, err)
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
        return CLI.collect(p, out, err)
    }

    /// How long one command may run before the harness kills it: a hung command fails its test, it never
    /// hangs the suite.
    static let commandLimit: Double = 180

    /// Reads both pipes at once (a child filling one pipe never deadlocks us) and waits for the process,
    /// killing it after `limit` seconds; a killed command reports status -9 and says so on stderr.
    static func collect(_ p: Process, _ out: Pipe, _ err: Pipe, limit: Double = commandLimit) -> Result {
        let o = Collected(), e = Collected()
        let group = DispatchGroup()
        for (pipe, box) in [(out, o), (err, e)] {
            group.enter()
            DispatchQueue.global().async {
                box.set(pipe.fileHandleForReading.readDataToEndOfFile())
                group.leave()
            }
        }
        var timedOut = false
        if group.wait(timeout: .now() + limit) == .timedOut {
            timedOut = true
            kill(p.processIdentifier, SIGKILL)
            _ = group.wait(timeout: .now() + 5)
        }
        p.waitUntilExit()
        var stderr = String(decoding: e.get(), as: UTF8.self)
        if timedOut {
            stderr += "\n[harness] killed after \(Int(limit)) s: \(p.arguments ?? [])"
            Issue.record("command did not finish in \(Int(limit)) s: \(p.arguments ?? [])")
        }
        return Result(status: timedOut ? -9 : p.terminationStatus, stdout: String(decoding: o.get(), as: UTF8.self),
                      stderr: stderr)
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

/// Bytes read on another thread.
final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) { lock.withLock { data = d } }
    func get() -> Data { lock.withLock { data } }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Runs a program and waits for it with `posix_spawn` and `waitpid`, not Foundation's `Process`. A program that
/// leaves a daemon behind (`tmux new-session` starting the tmux server) hands that daemon whatever descriptor
/// `Process` watches, and `Process.waitUntilExit()` then never returns although the program has exited; the
/// suite hung on CI that way. `waitpid` on the child's own pid does not care what its grandchildren hold.
enum Spawn {
    /// Runs `path ARGS` with standard input from /dev/null, standard error discarded, and standard output
    /// captured when `capture` is true; returns the exit status (-1 if it could not start or was killed) and
    /// what it printed.
    @discardableResult
    static func run(_ path: String, _ args: [String], capture: Bool = false) -> (status: Int32, stdout: String) {
        let outPath = FileManager.default.temporaryDirectory.appendingPathComponent("spawn-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: outPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, capture ? outPath : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // Nothing else of ours goes to the child (nor to a daemon it leaves behind): another test's pipes held
        // open by a tmux server would keep that test waiting for an end of file.
        closeFrom(&actions, 3)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + args).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, path, &actions, nil, argv, environ) == 0 else { return (-1, "") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        let text = capture ? ((try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "") : ""
        return (exited ? (status >> 8) & 0xff : -1, text)
    }

    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later; the Swift overlay does not export it),
    /// else a close action for each descriptor open now.
    private static func closeFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ low: Int32) {
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
            if unsafeBitCast(symbol, to: CloseFrom.self)(actions, low) == 0 { return }
        }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap(Int32.init) where fd >= low { posix_spawn_file_actions_addclose(actions, fd) }
    }
}
