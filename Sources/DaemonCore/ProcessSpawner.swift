#if canImport(Glibc)
import Glibc
#endif

/// Starts a program without a shell, its standard streams on /dev/null and its signals reset,
/// and reaps it. The only place that touches posix_spawn and waitpid.
public enum ProcessSpawner {
    /// The pid of the started program.
    public static func spawn(_ arguments: [String]) throws -> pid_t {
        guard let program = arguments.first else { throw SystemError("posix_spawn", errno: EINVAL) }
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
