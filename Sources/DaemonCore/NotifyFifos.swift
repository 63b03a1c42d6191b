#if canImport(Glibc)
import Glibc
#endif
import KeepalivedConfig
import Logging

/// The daemon's notify FIFOs: opened (and their scripts started) before the parts start, fed
/// with the parts' event lines, removed at exit. Runs on the event loop.
public final class NotifyFifos: @unchecked Sendable {
    public let plan: NotifyFifoPlan
    private let scripts: ScriptRunner
    private let vrrpLogger: Logger
    private let lvsLogger: Logger
    private var open: [(fifo: NotifyFifo, planned: NotifyFifoPlan.Fifo)] = []
    private var scriptPids: [pid_t] = []

    public init(plan: NotifyFifoPlan, scripts: ScriptRunner, vrrpLogger: Logger, lvsLogger: Logger) {
        self.plan = plan
        self.scripts = scripts
        self.vrrpLogger = vrrpLogger
        self.lvsLogger = lvsLogger
    }

    /// The part that speaks for a FIFO: the VRRP part for the global one when VRRP runs (it runs
    /// the global FIFO's script in keepalived too).
    private func logger(for planned: NotifyFifoPlan.Fifo) -> Logger {
        planned.sources.contains(.vrrp) ? vrrpLogger : lvsLogger
    }

    /// Opens every planned FIFO; `defaultOwner` owns those without a user of their own (nil: the
    /// default script user could not be set, and such FIFOs are ignored as keepalived does).
    public func start(defaultOwner: ScriptCredentials?) {
        for planned in plan.fifos {
            let logger = logger(for: planned)
            let type = planned.kind.rawValue
            let owner: ScriptCredentials
            if let user = planned.user {
                guard let found = try? UserDatabase.credentials(user: user, group: planned.group) else {
                    logger.info("Invalid user/group for \(type) fifo \(planned.path) - ignoring")
                    continue
                }
                owner = found
            } else if let defaultOwner {
                owner = defaultOwner
            } else {
                logger.info("Failed to set default user for \(type) fifo \(planned.path) - ignoring")
                continue
            }
            let result = NotifyFifo.open(path: planned.path, owner: owner,
                                         ownerFailed: { logger.info("Failed to set uid:gid for fifo \(planned.path)") },
                                         beforeOpening: { startScript(of: planned, logger: logger) })
            switch result {
            case .success(let fifo):
                open.append((fifo, planned))
            case .failure(.cannotCreate):
                logger.info("Unable to create \(type)notify fifo \(planned.path)")
            case .failure(.cannotOpen(let code)):
                logger.info("Unable to open \(type)notify fifo \(planned.path) - errno \(code)")
            case .failure(.notOurs):
                logger.info("\(type)notify fifo \(planned.path) is not a fifo we own - not using")
            }
        }
    }

    /// The script reads the FIFO named by its last argument and runs until the daemon ends.
    private func startScript(of planned: NotifyFifoPlan.Fifo, logger: Logger) {
        guard let script = planned.script else { return }
        let part = planned.sources.contains(.vrrp) ? "vrrp" : "lvs"
        let pid = scripts.start(script, extraArguments: [planned.path], timeout: nil) { _ in
            logger.info("\(part) notify fifo script terminated")
        }
        if let pid { scriptPids.append(pid) }
    }

    /// Writes `line` to every FIFO that takes `source`'s events.
    public func write(_ line: String, from source: NotifyFifoPlan.Source) {
        for (fifo, planned) in open where planned.sources.contains(source) {
            guard let code = fifo.write(line), source == .vrrp else { continue }
            vrrpLogger.info("\(planned.kind == .vrrp ? "vrrp " : "")notify fifo write error: \(String(cString: strerror(code)))")
        }
    }

    /// Ends the FIFOs' scripts and removes the FIFOs the daemon made.
    public func stop() {
        for pid in scriptPids { scripts.terminate(pid) }
        scriptPids = []
        for (fifo, _) in open { fifo.close() }
        open = []
    }
}
