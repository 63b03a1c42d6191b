#if canImport(Glibc)
import Glibc
#endif
import CProcess

/// Starts a program without a shell, its standard streams on /dev/null and its signals reset,
/// and reaps it. The only place that touches posix_spawn, fork and waitpid.
public enum ProcessSpawner {
    /// The pid of the started program, run as `credentials` (nil: as the daemon). Another
    /// user's program is forked and exec'd by `swiftka_spawn_as` (posix_spawn cannot change
    /// credentials); the daemon's own are started with posix_spawn.
    public static func spawn(_ arguments: [String], as credentials: ScriptCredentials? = nil) throws -> pid_t {
        guard let program = arguments.first else { throw SystemError("posix_spawn", errno: EINVAL) }
        if let credentials, credentials != .current {
            return try spawn(arguments, switchingTo: credentials)
        }
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        for descriptor: Int32 in [0, 1, 2] {
            posix_spawn_file_actions_addopen(&fileActions, descriptor, "/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, program, &fileActions, &attributes, &argv, environ)
        guard result == 0 else { throw SystemError("posix_spawn(\(program))", errno: result) }
        return pid
    }

    private static func spawn(_ arguments: [String], switchingTo credentials: ScriptCredentials) throws -> pid_t {
        let program = arguments[0]
        guard let path = program.contains("/") ? program : searchPath(for: program) else {
            throw SystemError("exec(\(program))", errno: ENOENT)
        }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let pid = swiftka_spawn_as(path, &argv, environ, credentials.uid, credentials.gid)
        guard pid > 0 else { throw SystemError("exec(\(program)) as \(credentials)", errno: -pid) }
        return pid
    }

    /// The first executable `name` in PATH (or the C library's default path), as execvp looks.
    static func searchPath(for name: String) -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (folder.isEmpty ? "." : String(folder)) + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Every child that has ended since the last call, and how.
    public static func reapEnded() -> [(pid: pid_t, end: ProcessEnd)] {
        var ended: [(pid_t, ProcessEnd)] = []
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { return ended }
            let exited = status & 0x7F == 0
            ended.append((pid, exited ? .exited((status >> 8) & 0xFF) : .signaled(status & 0x7F)))
        }
    }

    public static func signal(_ pid: pid_t, _ signal: Int32) {
        kill(pid, signal)
    }
}

/// How a child process ended.
public enum ProcessEnd: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)
}
