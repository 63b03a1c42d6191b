#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import KeepalivedConfig
import Logging

/// Runs notify and tracking scripts without blocking the event loop: each is spawned, watched
/// through SIGCHLD, and killed when it outlives its timeout.
final class ScriptRunner: @unchecked Sendable {
    private let loop: EventLoop
    private let logger: Logger
    private var running: [pid_t: (name: String, completion: (Int32) -> Void, timer: DispatchSourceTimer?)] = [:]
    private var childSignal: DispatchSourceSignal?

    init(loop: EventLoop, logger: Logger) {
        self.loop = loop
        self.logger = logger
        // Installed now, long before the first script: Dispatch registers a signal source
        // asynchronously, and a SIGCHLD that comes before it is lost.
        watchChildren()
    }

    /// Runs `command`; `completion` gets its exit code, or 128 + the signal that ended it.
    func run(_ command: ScriptCommand, extraArguments: [String] = [], timeout: Double?, completion: @escaping (Int32) -> Void) {
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

    /// keepalived's notify calls: notify_STATE with no arguments, and `notify` with
    /// `INSTANCE NAME STATE PRIORITY`.
    func notify(instance: VRRPInstance, state: VRRPState, priority: Int) {
        notify(instance.notify, state: state, arguments: ["INSTANCE", instance.name, state.rawValue, String(priority)])
    }

    /// A sync group's notify_STATE, and `notify` with `GROUP NAME STATE`.
    func notify(group: VRRPSyncGroup, state: VRRPState) {
        notify(group.notify, state: state, arguments: ["GROUP", group.name, state.rawValue])
    }

    private func notify(_ scripts: NotifyScripts, state: VRRPState, arguments: [String]) {
        if let specific = scripts.command(for: state) { run(specific, timeout: 60) { _ in } }
        if let any = scripts.any { run(any, extraArguments: arguments, timeout: 60) { _ in } }
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

extension NotifyScripts {
    /// The notify_STATE script for `state`, if configured.
    func command(for state: VRRPState) -> ScriptCommand? {
        switch state {
        case .master: return master
        case .backup: return backup
        case .fault: return fault
        case .stopped: return stop
        case .initialize: return nil
        }
    }
}
