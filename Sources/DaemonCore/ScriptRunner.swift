#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import KeepalivedConfig
import Logging

/// Runs notify and tracking scripts without blocking the event loop: each is spawned, watched
/// through SIGCHLD, and killed when it outlives its timeout.
public final class ScriptRunner: @unchecked Sendable {
    private let loop: EventLoop
    private let logger: Logger
    private var running: [pid_t: (name: String, completion: (ScriptOutcome) -> Void, timer: LoopTimer?, timedOut: Bool)] = [:]
    private var childSignal: DispatchSourceSignal?
    /// Who a script without a user of its own runs as: `script_user`, else `keepalived_script`
    /// when it exists, else the daemon's own (see `ScriptUsers`).
    public var defaultCredentials = ScriptCredentials.current
    /// Users and groups named by scripts, looked up once per configuration.
    private var namedCredentials: [String: ScriptCredentials] = [:]

    public init(loop: EventLoop, logger: Logger) {
        self.loop = loop
        self.logger = logger
        // Installed now, long before the first script: Dispatch registers a signal source
        // asynchronously, and a SIGCHLD that comes before it is lost.
        watchChildren()
    }

    /// Runs `command`; `completion` gets its exit code, or 128 + the signal that ended it (a
    /// script killed for its timeout counts as ended by SIGTERM).
    public func run(_ command: ScriptCommand, extraArguments: [String] = [], timeout: Double?, completion: @escaping (Int32) -> Void) {
        start(command, extraArguments: extraArguments, timeout: timeout) { completion($0.status) }
    }

    /// Runs `command`; `completion` says how it ended, telling a timeout from a crash. Returns
    /// the script's pid, or nil when it could not start.
    @discardableResult
    public func start(_ command: ScriptCommand, extraArguments: [String] = [], timeout: Double?, whenDone completion: @escaping (ScriptOutcome) -> Void) -> pid_t? {
        let arguments = ScriptArguments.split(command.command) + extraArguments
        do {
            let pid = try ProcessSpawner.spawn(arguments, as: try credentials(for: command))
            var timer: LoopTimer?
            if let timeout {
                timer = loop.timer(at: loop.now().adding(seconds: timeout)) { [weak self] in self?.timedOut(pid) }
            }
            running[pid] = (arguments.first ?? command.command, completion, timer, false)
            return pid
        } catch {
            logger.error("cannot run \(command.command): \(error)")
            completion(.couldNotStart)
            return nil
        }
    }

    /// The credentials `command` runs with: its own user and group, or the default.
    public func credentials(for command: ScriptCommand) throws -> ScriptCredentials {
        guard let user = command.user else { return defaultCredentials }
        let key = user + ":" + (command.group ?? "")
        if let known = namedCredentials[key] { return known }
        let found = try UserDatabase.credentials(user: user, group: command.group)
        namedCredentials[key] = found
        return found
    }

    /// A new configuration: users are looked up again (one may have been added since).
    public func forgetNamedCredentials() {
        namedCredentials = [:]
    }

    /// Asks a running script to end (SIGTERM), as keepalived does with its FIFO scripts at exit.
    public func terminate(_ pid: pid_t) {
        guard running[pid] != nil else { return }
        ProcessSpawner.signal(pid, SIGTERM)
    }

    private func watchChildren() {
        guard childSignal == nil else { return }
        let source = DispatchSource.makeSignalSource(signal: SIGCHLD, queue: loop.queue)
        source.setEventHandler { [weak self] in self?.reap() }
        source.resume()
        childSignal = source
    }

    private func reap() {
        for (pid, end) in ProcessSpawner.reapEnded() {
            guard let entry = running.removeValue(forKey: pid) else { continue }
            entry.timer?.cancel()
            switch end {
            case _ where entry.timedOut: entry.completion(.timedOut)
            case .exited(let code): entry.completion(.exited(code))
            case .signaled(let signal): entry.completion(.signaled(signal))
            }
        }
    }

    private func timedOut(_ pid: pid_t) {
        // A child whose SIGCHLD went missing has ended but was never reaped: collect it first.
        reap()
        guard let entry = running[pid] else { return }
        logger.warning("\(entry.name) timed out; killing it")
        running[pid]?.timedOut = true
        ProcessSpawner.signal(pid, SIGTERM)
        running[pid]?.timer = loop.timer(at: loop.now().adding(seconds: 1)) { ProcessSpawner.signal(pid, SIGKILL) }
    }
}

/// How a script ended.
public enum ScriptOutcome: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)
    case timedOut
    case couldNotStart

    /// keepalived's single number: the exit code, 128 + a signal, 127 when it could not start.
    public var status: Int32 {
        switch self {
        case .exited(let code): return code
        case .signaled(let signal): return 128 + signal
        case .timedOut: return 128 + SIGTERM
        case .couldNotStart: return 127
        }
    }
}
