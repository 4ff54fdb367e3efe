import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The `exec` transport's one attempt: runs a program with posix_spawn (Foundation's `Process` is not used: it is
/// unreliable on Linux under load), the message on its standard input from a private temporary file, its output
/// kept (the first bytes) for the trail, bounded in time: on timeout its whole process group is killed.
enum ExecRunner {
    struct Outcome: Sendable {
        /// The exit status, nil when it could not start, timed out or died of a signal.
        var status: Int32?
        var output: String
        var error: String?
        var timedOut = false
        var latencyMs: Int64 = 0
    }

    /// Most output bytes read (the record keeps less).
    static let outputLimit = 512

    /// Variables of crisis's own environment every program gets, when they are set.
    static let inherited = ["PATH", "HOME", "LANG", "LC_ALL", "TZ"]

    /// The program's whole environment: `inherited` from `parent` (PATH defaults to `/usr/local/bin:/usr/bin:/bin`),
    /// then the transport's `named` variables, then the message's `CRISIS_*` ones. Nothing else: a token in
    /// crisis's environment reaches the program only when the transport names it.
    static func environment(message: [String: String], named: [String: String],
                            parent: [String: String] = ProcessInfo.processInfo.environment) -> [String: String]
    {
        var env: [String: String] = ["PATH": "/usr/local/bin:/usr/bin:/bin"]
        for name in inherited { if let v = parent[name], !v.isEmpty { env[name] = v } }
        for (k, v) in named { env[k] = v }
        for (k, v) in message { env[k] = v }
        return env
    }

    /// Runs `argv` with exactly `environment` (see `environment(message:named:parent:)`).
    static func run(_ argv: [String], stdin: [UInt8], environment: [String: String], timeoutMs: Int64) -> Outcome {
        guard let path = argv.first else { return Outcome(status: nil, output: "", error: "no program") }
        let dir = FileManager.default.temporaryDirectory.path
        let token = UUID().uuidString
        let inPath = "\(dir)/crisis-exec-in-\(token)"
        let outPath = "\(dir)/crisis-exec-out-\(token)"
        defer {
            unlink(inPath)
            unlink(outPath)
        }
        let fd = open(inPath, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { return Outcome(status: nil, output: "", error: "cannot write the message for the program") }
        _ = stdin.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        closeFrom(&actions, 3)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attr, 0)

        let env = environment
        let envp: [UnsafeMutablePointer<CChar>?] = env.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        let args: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer {
            for a in envp { free(a) }
            for a in args { free(a) }
        }
        let start = DispatchTime.now().uptimeNanoseconds
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attr, args, envp)
        guard rc == 0 else {
            return Outcome(status: nil, output: "", error: "cannot start \(path): \(String(cString: strerror(rc)))")
        }
        var status: Int32 = 0
        var timedOut = false
        let deadline = start + UInt64(max(1, timeoutMs)) * 1_000_000
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r == -1 && errno != EINTR { break }
            if DispatchTime.now().uptimeNanoseconds >= deadline {
                timedOut = true
                kill(-pid, SIGKILL)
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                break
            }
            usleep(2_000)
        }
        let latency = Int64((DispatchTime.now().uptimeNanoseconds - start) / 1_000_000)
        // Only the first bytes are read: a program that writes megabytes costs no memory here.
        let data = FileHandle(forReadingAtPath: outPath).map { h in
            defer { try? h.close() }
            return (try? h.read(upToCount: outputLimit)) ?? nil
        } ?? nil
        let output = String(decoding: data ?? Data(), as: UTF8.self)
        if timedOut {
            return Outcome(status: nil, output: output, error: "no exit within \(timeoutMs) ms: killed", timedOut: true,
                           latencyMs: latency)
        }
        let exited = (status & 0x7f) == 0
        if !exited {
            return Outcome(status: nil, output: output, error: "killed by signal \(status & 0x7f)", latencyMs: latency)
        }
        return Outcome(status: (status >> 8) & 0xff, output: output, error: nil, latencyMs: latency)
    }

    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), else a close action per open descriptor.
    private static func closeFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ low: Int32) {
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
            if unsafeBitCast(symbol, to: CloseFrom.self)(actions, low) == 0 { return }
        }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap(Int32.init) where fd >= low { posix_spawn_file_actions_addclose(actions, fd) }
    }
}
