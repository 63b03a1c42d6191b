#if canImport(Glibc)
import Glibc
#endif
import DaemonCore
import KeepalivedConfig

/// keepalived's `startup_script` and `shutdown_script`: the parts start when the start-up
/// script has ended (or was killed at its timeout), and the process exits when the shutdown
/// script has ended, after the parts have stopped and the FIFOs are gone.
extension RunningDaemon {
    func runStartupScript(_ process: ProcessSettings, then start: @escaping () -> Void) {
        guard let script = process.startupScript else { return start() }
        run(script, kind: "startup", timeout: process.effectiveStartupScriptTimeout, then: start)
    }

    /// SIGTERM or SIGINT: stop every part (masters hand over with priority 0 and remove their
    /// addresses; the checkers stop; our IPVS services go), close the FIFOs, run the shutdown
    /// script, exit 0. A second signal while the shutdown script runs changes nothing.
    func shutDown() {
        guard !stopping else { return }
        stopping = true
        logger.info("Stopping")
        // The sync daemons first, as keepalived: a master handing over must not start a backup
        // daemon on its way out.
        syncDaemons?.stop()
        // Routes first: routers stop sending here before the services and addresses go.
        announcer?.stop()
        vrrp?.stop()
        checks?.stop()
        ipvs?.stop()
        fifos?.stop()
        // The configuration the parts got: its shutdown script passed the checks.
        guard let script = processSettings.shutdownScript else { return exit(status: 0) }
        run(script, kind: "shutdown", timeout: processSettings.effectiveShutdownScriptTimeout) { [self] in exit(status: 0) }
    }

    private func run(_ script: ScriptCommand, kind: String, timeout: Int, then next: @escaping () -> Void) {
        let program = ScriptArguments.split(script.command).first ?? script.command
        logger.debug("Running \(kind) script \(program)")
        scripts.start(script, timeout: Double(timeout)) { [logger] outcome in
            switch outcome {
            // keepalived's line says "script" twice ("startup script script failed"); kept, so
            // searches written for keepalived's logs still find it.
            case .exited(let status) where status != 0: logger.info("\(kind) script script failed, status \(status)")
            case .exited: logger.debug("\(kind) script script succeeded")
            case .timedOut: logger.info("\(kind) script timed out")
            case .couldNotStart: logger.info("Call of \(kind) script \(program) failed")
            case .signaled: break
            }
            next()
        }
    }
}
