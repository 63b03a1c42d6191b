#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import KeepalivedConfig
import HealthCheck
import IPVS
import Logging
import VRRP
import DaemonCore

/// How the daemon was asked to run (the command line, parsed).
public struct DaemonOptions: Sendable {
    public var configurationFile: String
    public var configID: String?
    public var runVRRP = true
    public var runChecker = true
    public var foreground = false
    public var logToConsole = false
    public var logDetail = false
    public var syslogFacility: Int32 = LOG_DAEMON
    public var pidFile: String

    public init(configurationFile: String, pidFile: String) {
        self.configurationFile = configurationFile
        self.pidFile = pidFile
    }
}

/// Starts the daemon's parts on one event loop and runs it until SIGTERM or SIGINT.
public enum DaemonRunner {
    public static func run(_ options: DaemonOptions, configuration: KeepalivedConfiguration) -> Never {
        if !options.foreground { Daemonizer.detach() }
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = options.logToConsole
                ? ConsoleLogHandler(ident: label) as any LogHandler : SyslogLogHandler(ident: label, facility: options.syslogFacility)
            handler.logLevel = options.logDetail ? .debug : .info
            return handler
        }
        // The daemon's own lines (start, stop, reload) carry keepalived's parent-process ident.
        let logger = Logger(label: "Keepalived")
        let pidFile: PidFile
        do {
            pidFile = try PidFile.create(at: options.pidFile)
        } catch {
            logger.error("\(error)")
            exit(1)
        }
        logger.info("Starting Keepalived (swiftkeepalived), config \(options.configurationFile)")
        let loop = EventLoop()
        let daemon = RunningDaemon(loop: loop, logger: logger, pidFile: pidFile, options: options)
        loop.queue.async {
            daemon.startParts(configuration)
            // Under systemd (Type=notify): the first configuration is in place.
            SystemdNotify.send("READY=1")
        }
        daemon.installSignalHandlers()
        dispatchMain()
    }
}

/// The parts the options ask for, on the one event loop, and the signals that steer them.
/// SIGTERM and SIGINT stop every part (masters hand over with priority 0 and remove their
/// addresses; the checkers stop; the IPVS services we added are removed), remove the pid file and
/// exit 0. SIGHUP reloads; SIGUSR1, SIGUSR2 and SIGJSON write the running state.
final class RunningDaemon: @unchecked Sendable {
    let loop: EventLoop
    let logger: Logger
    let pidFile: PidFile
    let options: DaemonOptions
    var vrrp: VRRPRuntime?
    var ipvs: IPVSRuntime?
    var checks: HealthCheckRuntime?
    private var sources: [DispatchSourceSignal] = []
    /// One runner for every part's scripts: it reaps every child of the process.
    private let scripts: ScriptRunner
    private let checkerLogger = Logger(label: "Keepalived_healthcheckers")
    private let vrrpLogger = Logger(label: "Keepalived_vrrp")

    init(loop: EventLoop, logger: Logger, pidFile: PidFile, options: DaemonOptions) {
        self.loop = loop
        self.logger = logger
        self.pidFile = pidFile
        self.options = options
        scripts = ScriptRunner(loop: loop, logger: logger)
    }

    /// Starts the parts the configuration has work for; a reload that brings the first virtual
    /// server, VRRP instance or static address, route or rule starts that part then. A VRRP part that cannot start ends the
    /// daemon at start-up, but not a running daemon on reload: that keeps what it runs.
    func startParts(_ configuration: KeepalivedConfiguration, reloading: Bool = false) {
        if options.runChecker && checks == nil && !configuration.virtualServers.isEmpty {
            startCheckers(configuration)
        }
        // keepalived runs its VRRP process for static addresses, routes and rules too.
        if options.runVRRP && vrrp == nil && configuration.hasVRRPConfiguration {
            do {
                let vrrp = try VRRPRuntime(configuration: configuration, loop: loop, scripts: scripts, logger: vrrpLogger)
                self.vrrp = vrrp
                vrrp.start()
            } catch {
                vrrpLogger.error("cannot start VRRP: \(error)")
                if !reloading { exit(status: 1) }
            }
        }
    }

    private func startCheckers(_ configuration: KeepalivedConfiguration) {
        do {
            let ipvs = try IPVSRuntime(configuration: configuration, logger: checkerLogger, scripts: scripts)
            self.ipvs = ipvs
            ipvs.start()
        } catch {
            // The checkers still run and log; only the kernel table is out of reach.
            checkerLogger.error("cannot start IPVS: \(error)")
        }
        do {
            let checks = try HealthCheckRuntime(configuration: configuration, loop: loop, scripts: scripts, logger: checkerLogger)
            checks.onHealth = { [weak self] index, up in
                self?.ipvs?.setHealth(of: DesiredTable.RealServerID(virtualServer: index.virtualServer, realServer: index.realServer), up: up)
            }
            checks.onWeight = { [weak self] index, weight in
                self?.ipvs?.setWeight(of: DesiredTable.RealServerID(virtualServer: index.virtualServer, realServer: index.realServer), weight: weight)
            }
            self.checks = checks
            checks.start()
        } catch {
            checkerLogger.error("cannot start the health checkers: \(error)")
        }
    }

    /// keepalived's SIGJSON.
    static let jsonSignal = __libc_current_sigrtmin() + 2

    func installSignalHandlers() {
        for signalNumber in [SIGUSR1, SIGUSR2, Self.jsonSignal] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: loop.queue)
            source.setEventHandler { [weak self] in self?.dump(signalNumber) }
            source.resume()
            sources.append(source)
        }
        for signalNumber in [SIGTERM, SIGINT, SIGHUP] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: loop.queue)
            source.setEventHandler { [weak self] in
                guard let self else { return }
                if signalNumber == SIGHUP {
                    self.reload()
                    return
                }
                self.logger.info("Stopping")
                self.vrrp?.stop()
                self.checks?.stop()
                self.ipvs?.stop()
                self.exit(status: 0)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// SIGUSR1, SIGUSR2 and SIGJSON: the running state into keepalived's files.
    private func dump(_ signalNumber: Int32) {
        let dumps = StateDumps(vrrp: vrrp?.report ?? [], virtualServers: ipvs?.report ?? [])
        let (text, name) = signalNumber == SIGUSR1 ? (dumps.data, "keepalived.data")
            : signalNumber == SIGUSR2 ? (dumps.statistics, "keepalived.stats") : (dumps.json, "keepalived.json")
        do {
            try StateDumps.write(text, as: name)
            logger.info("Printing state to \(StateDumps.directory)/\(name)")
        } catch {
            logger.error("\(error)")
        }
    }

    /// SIGHUP: parse the file again; a config with errors is refused and the running one kept.
    /// Each part then changes only where the config did (see `VRRPRuntime.reload`,
    /// `IPVSRuntime.reload`, `HealthCheckRuntime.reload`).
    private func reload() {
        logger.info("Reloading")
        var loadOptions = ConfigLoadOptions()
        if let configID = options.configID { loadOptions.configID = configID }
        let loaded = ConfigLoader.load(path: options.configurationFile, options: loadOptions)
        guard !loaded.diagnostics.hasErrors else {
            for diagnostic in loaded.diagnostics.errors { logger.error("\(diagnostic)") }
            logger.error("Reload refused: \(loaded.diagnostics.errors.count) errors; the running configuration is kept")
            return
        }
        checks?.reload(loaded.configuration)
        ipvs?.reload(loaded.configuration)
        vrrp?.reload(loaded.configuration)
        startParts(loaded.configuration, reloading: true)
    }

    func exit(status: Int32) {
        pidFile.remove()
        Glibc.exit(status)
    }
}
