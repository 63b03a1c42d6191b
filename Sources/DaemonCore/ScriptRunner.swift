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
    private var running: [pid_t: (name: String, completion: (Int32) -> Void, timer: DispatchSourceTimer?)] = [:]
    private var childSignal: DispatchSourceSignal?

    public init(loop: EventLoop, logger: Logger) {
        self.loop = loop
        self.logger = logger
        // Installed now, long before the first script: Dispatch registers a signal source
        // asynchronously, and a SIGCHLD that comes before it is lost.
        watchChildren()
    }

    /// Runs `command`; `completion` gets its exit code, or 128 + the signal that ended it.
    public func run(_ command: ScriptCommand, extraArguments: [String] = [], timeout: Double?, completion: @escaping (Int32) -> Void) {
        let arguments = ScriptArguments.split(command.command) + extraArguments
        do {
            let pid = try ProcessSpawner.spawn(arguments)
            var timer: DispatchSourceTimer?
            if let timeout {
                timer = loop.timer(at: loop.now().adding(seconds: timeout)) { [weak self] in self?.timedOut(pid) }
            }
            running[pid] = (arguments.first ?? command.command, completion, timer)
        } catch {
            logger.error("cannot run \(command.command): \(error)")
            completion(127)
        }
    }

    private func watchChildren() {
        guard childSignal == nil else { return }
        let source = DispatchSource.makeSignalSource(signal: SIGCHLD, queue: loop.queue)
        source.setEventHandler { [weak self] in self?.reap() }
        source.resume()
        childSignal = source
    }

    private func reap() {
        for (pid, status) in ProcessSpawner.reapEnded() {
            guard let entry = running.removeValue(forKey: pid) else { continue }
            entry.timer?.cancel()
            entry.completion(status)
        }
    }

    private func timedOut(_ pid: pid_t) {
        // A child whose SIGCHLD went missing has ended but was never reaped: collect it first.
        reap()
        guard let entry = running[pid] else { return }
        logger.warning("\(entry.name) timed out; killing it")
        ProcessSpawner.signal(pid, SIGTERM)
        running[pid]?.timer = loop.timer(at: loop.now().adding(seconds: 1)) { ProcessSpawner.signal(pid, SIGKILL) }
    }
}
