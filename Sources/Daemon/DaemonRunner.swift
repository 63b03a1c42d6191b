#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import DaemonMetrics
import KeepalivedConfig
import HealthCheck
import IPVS
import Logging
import VRRP
import RouteAnnounce
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
    /// No `-p`: under a network namespace the pid file then goes to its folder, as keepalived's.
    public var pidFileIsDefault = false
    /// `-s`: the network namespace, over the config's `net_namespace`.
    public var namespace: String?
    /// `-u`: the file-creation mask, over the config's `umask`.
    public var umask: UInt16?
    /// `--metrics-listen`: where /metrics and /json are served; nil serves nothing.
    public var metricsListen: ListenAddress?
    /// No `-I`: our IPVS services go at stop. With it they stay, so that a restart finds the
    /// table in place and changes only what differs (no gap, no walk of the kernel's trash).
    public var releaseIPVSOnStop = true
    /// The version /metrics reports in keepalived_build_info.
    public var version = ""

    public init(configurationFile: String, pidFile: String) {
        self.configurationFile = configurationFile
        self.pidFile = pidFile
    }
}

/// Starts the daemon's parts on one event loop and runs it until SIGTERM or SIGINT.
public enum DaemonRunner {
    public static func run(_ options: DaemonOptions, configuration: KeepalivedConfiguration) -> Never {
        let process = configuration.globalDefs.process
        let namespace = options.namespace ?? process.netNamespace
        if let namespace {
            // Before anything starts a thread or forks: every thread and child then lives there.
            do {
                try NetworkNamespace.enter(namespace)
            } catch {
                StandardStream.write("\(error)\nUnable to set network namespace \(namespace) - exiting\n", to: 2)
                exit(1)
            }
        }
        Glibc.umask(mode_t(options.umask ?? process.effectiveUmask))
        if !options.foreground { Daemonizer.detach() }
        // keepalived appends the namespace to every ident: Keepalived_vrrp_NAME.
        let identSuffix = namespace.map { "_" + $0 } ?? ""
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = options.logToConsole
                ? ConsoleLogHandler(ident: label + identSuffix) as any LogHandler
                : SyslogLogHandler(ident: label + identSuffix, facility: options.syslogFacility)
            handler.logLevel = options.logDetail ? .debug : .info
            return handler
        }
        // The daemon's own lines (start, stop, reload) carry keepalived's parent-process ident.
        let logger = Logger(label: "Keepalived")
        if options.umask != nil && process.umask != nil {
            logger.info("umask command line option specified, ignoring config option")
        }
        let loop: EventLoop
        do {
            loop = try EventLoop()
        } catch {
            logger.error("Cannot start the event loop: \(error)")
            exit(1)
        }
        let pidFile: PidFile
        do {
            let (path, folder) = pidFilePath(options, namespace: namespace)
            pidFile = try PidFile.create(at: path)
            pidFile.folder = folder
        } catch {
            logger.error("\(error)")
            exit(1)
        }
        logger.info("Starting Keepalived (swiftkeepalived), config \(options.configurationFile)")
        let daemon = RunningDaemon(loop: loop, logger: logger, pidFile: pidFile, options: options, namespace: namespace)
        if let address = options.metricsListen {
            // Bound here, in the daemon's namespace, so a port in use stops the start-up.
            do {
                daemon.metrics = try MetricsEndpoint(address: address, loop: loop, version: options.version, daemon: daemon)
            } catch {
                logger.error("Cannot serve metrics on \(address): \(error)")
                pidFile.remove()
                exit(1)
            }
        }
        loop.queue.async {
            daemon.metrics?.start()
            daemon.begin(configuration)
        }
        daemon.installSignalHandlers()
        dispatchMain()
    }

    /// keepalived keeps the pid files of a daemon in a namespace apart: /run/keepalived/NAME/
    /// (its bind mount makes that /run/keepalived for the daemon itself).
    static func pidFilePath(_ options: DaemonOptions, namespace: String?) -> (path: String, madeFolder: String?) {
        guard let namespace, options.pidFileIsDefault else { return (options.pidFile, nil) }
        let folder = "/run/keepalived/" + namespace
        // rwxr-xr-x whatever the umask, as keepalived makes them.
        if mkdir("/run/keepalived", 0o755) == 0 { chmod("/run/keepalived", 0o755) }
        let made = mkdir(folder, 0o755) == 0
        if made { chmod(folder, 0o755) }
        return (folder + "/keepalived.pid", made ? folder : nil)
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
    /// The network namespace the daemon entered at start; a reload cannot change it.
    let namespace: String?
    var vrrp: VRRPRuntime?
    var ipvs: IPVSRuntime?
    var checks: HealthCheckRuntime?
    /// The kernel's IPVS sync daemons, while `lvs_sync_daemon` is set.
    var syncDaemons: SyncDaemonRuntime?
    /// announce_route's kernel routes, while the configuration has any.
    var announcer: RouteAnnouncer?
    private var sources: [DispatchSourceSignal] = []
    /// Renders and writes the state dumps: 1,000 virtual servers' text took half a second of
    /// the loop in the emulated VM, long enough to make an advert late. Made at the first dump.
    private lazy var dumpWriter = JobThread(name: "dumps")
    /// Reads and parses the file at a reload: the 1,000-virtual-server config took 0.9 s of
    /// the loop in the emulated VM. At normal priority: a reload should not wait behind the
    /// checks. Made at the first reload.
    private lazy var configReader = JobThread(name: "reload", nice: 0)
    /// A reload is being parsed; a SIGHUP meanwhile asks for one more after it (`reloadAgain`).
    private var reloading = false
    private var reloadAgain = false
    /// One runner for every part's scripts: it reaps every child of the process.
    let scripts: ScriptRunner
    var fifos: NotifyFifos?
    /// Sends every part's e-mail alerts; nil when the configuration sends no mail.
    var mailer: MailSender?
    /// The process settings in force (their scripts vetted): the shutdown script comes from here.
    var processSettings = ProcessSettings()
    /// Who owns a FIFO the daemon makes without a user of its own (nil: none could be set).
    var defaultFifoOwner: ScriptCredentials?
    /// Set by SIGTERM: the parts are stopping or stopped (a start-up script still running must
    /// not start them afterwards).
    var stopping = false
    /// `--metrics-listen`'s server, when asked for.
    var metrics: MetricsEndpoint?
    var reloads = ReloadRecord()
    let checkerLogger = Logger(label: "Keepalived_healthcheckers")
    let vrrpLogger = Logger(label: "Keepalived_vrrp")

    init(loop: EventLoop, logger: Logger, pidFile: PidFile, options: DaemonOptions, namespace: String?) {
        self.loop = loop
        self.logger = logger
        self.pidFile = pidFile
        self.options = options
        self.namespace = namespace
        scripts = ScriptRunner(loop: loop, logger: logger)
    }

    /// Vets the scripts, runs the start-up script, and then opens the FIFOs and starts the parts.
    func begin(_ configuration: KeepalivedConfiguration) {
        let vetted = vet(configuration)
        processSettings = vetted.globalDefs.process
        runStartupScript(vetted.globalDefs.process) { [self] in
            guard !stopping else { return }
            openFifos(vetted)
            configureMail(vetted)
            startParts(vetted)
            // Under systemd (Type=notify): the first configuration is in place.
            SystemdNotify.send("READY=1")
        }
    }

    /// The configuration with the scripts that may not run taken out (see `ScriptVetting`), and
    /// the script runner set to the default user.
    func vet(_ configuration: KeepalivedConfiguration) -> KeepalivedConfiguration {
        var vetting = ScriptVetting(globalDefs: configuration.globalDefs)
        let vetted = vetting.vet(configuration, vrrp: options.runVRRP, checkers: options.runChecker)
        for (part, line) in vetting.lines {
            switch part {
            case .parent: logger.info("\(line)")
            case .vrrp: vrrpLogger.info("\(line)")
            case .checkers: checkerLogger.info("\(line)")
            }
        }
        scripts.defaultCredentials = vetting.defaultCredentials ?? .current
        defaultFifoOwner = vetting.defaultCredentials
        scripts.forgetNamedCredentials()
        return vetted
    }

    /// Opens the FIFOs of the parts that will run, unless those open already are the same.
    func openFifos(_ configuration: KeepalivedConfiguration) {
        let plan = NotifyFifoPlan(configuration.globalDefs.process,
                                  vrrp: options.runVRRP && !configuration.vrrpInstances.isEmpty,
                                  lvs: options.runChecker && !configuration.virtualServers.isEmpty)
        guard fifos?.plan != plan else { return }
        fifos?.stop()
        let fifos = NotifyFifos(plan: plan, scripts: scripts, vrrpLogger: vrrpLogger, lvsLogger: checkerLogger)
        fifos.start(defaultOwner: defaultFifoOwner)
        self.fifos = fifos
        vrrp?.notifyFifos = fifos
        ipvs?.notifyFifos = fifos
        checks?.notifyFifos = fifos
    }

    /// The mail settings of `configuration`, with keepalived's defaults: the sender is kept over
    /// a reload (exchanges under way finish), or made, or dropped; every part is told.
    func configureMail(_ configuration: KeepalivedConfiguration) {
        var settings: MailSettings?
        switch MailSettings.resolve(configuration.globalDefs, localName: HostNames.canonicalLocalName,
                                    userName: HostNames.userName, resolve: HostNames.resolve) {
        case .success(let resolved)?: settings = resolved
        case .failure(let problem)?: logger.error("\(problem)")
        case nil: break
        }
        if let settings {
            if let mailer {
                mailer.settings = settings
            } else {
                do {
                    mailer = try MailSender(settings: settings, loop: loop)
                } catch {
                    logger.error("cannot send mail alerts: \(error)")
                }
            }
        } else {
            mailer = nil
        }
        vrrp?.mailer = mailer
        ipvs?.mailer = mailer
        checks?.mailer = mailer
    }

    /// Starts the parts the configuration has work for; a reload that brings the first virtual
    /// server, VRRP instance or static address, route or rule starts that part then. A VRRP part that cannot start ends the
    /// daemon at start-up, but not a running daemon on reload: that keeps what it runs.
    func startParts(_ configuration: KeepalivedConfiguration, reloading: Bool = false) {
        raiseDescriptorLimit(for: configuration)
        if options.runChecker && checks == nil && !configuration.virtualServers.isEmpty {
            startCheckers(configuration)
        }
        // keepalived runs its VRRP process for static addresses, routes and rules too.
        if options.runVRRP && vrrp == nil && configuration.hasVRRPConfiguration {
            do {
                let vrrp = try VRRPRuntime(configuration: configuration, loop: loop, scripts: scripts, logger: vrrpLogger)
                vrrp.notifyFifos = fifos
                vrrp.onMastership = { [weak self] name, isMaster in
                    self?.announcer?.update()
                    guard let sync = self?.syncDaemons, sync.instance == name else { return }
                    sync.instanceIsMaster(isMaster)
                }
                vrrp.mailer = mailer
                self.vrrp = vrrp
                // Before the instances start: the backup daemon runs first, as in keepalived.
                updateSyncDaemons(configuration)
                vrrp.start()
            } catch {
                vrrpLogger.error("cannot start VRRP: \(error)")
                if !reloading { exit(status: 1) }
            }
        }
        updateSyncDaemons(configuration)
        updateAnnouncer(configuration)
        observeForMetrics()
    }

    /// Feeds the histograms of /metrics from the parts running now.
    private func observeForMetrics() {
        guard let exporter = metrics?.exporter else { return }
        vrrp?.observeAdvertDelays { instance, seconds in exporter.recordAdvertDelay(instance: instance, seconds: seconds) }
        checks?.onCheckDuration = { checker, seconds in exporter.recordCheckDuration(checker: checker, seconds: seconds) }
    }

    /// What /metrics shows now (the kernel's counters are /metrics/ipvs'). Call on the loop.
    func metricsSnapshot() -> MetricsSnapshot {
        var snapshot = MetricsSnapshot()
        if let vrrp {
            (snapshot.vrrpInstances, snapshot.trackedScripts) = vrrp.metricsReport
        }
        if let ipvs { snapshot.virtualServers = ipvs.virtualServerMetrics }
        snapshot.announcements = announcer?.report
        snapshot.checkers = checks?.checkerMetrics ?? []
        snapshot.reloads = reloads
        return snapshot
    }

    /// The VRRP state as keepalived's dumps give it (SIGUSR1, SIGUSR2, SIGJSON and /json). The
    /// LVS topology and the sync daemons' lines are added by SIGUSR1 only: they cost a text of
    /// every real server and a netlink read, which the other dumps and /json do not show.
    var stateDumps: StateDumps {
        StateDumps(vrrp: vrrp?.report ?? [], scripts: vrrp?.scriptReport ?? [],
                   syncGroups: vrrp?.syncGroupReport ?? [], globals: vrrp?.globalDefinitions)
    }

    /// keepalived.data's global lines for the IPVS sync daemons and timeouts.
    private var lvsStateLines: [String] {
        LVSStateLines(sync: syncDaemons?.settingsInForce, running: syncDaemons.flatMap { try? $0.kernelDaemons() },
                      timeouts: vrrp?.globalDefinitions.lvsTimeouts).lines
    }

    /// Every checker may hold a socket at once and every VRRP instance a few: past the soft limit
    /// (1,024 by default) checks would fail with EMFILE and take healthy real servers out.
    /// keepalived raises its limit the same way.
    private func raiseDescriptorLimit(for configuration: KeepalivedConfiguration) {
        let checkers = !options.runChecker ? 0 : configuration.virtualServers.reduce(0) { total, server in
            total + server.realServers.reduce(0) { $0 + $1.checkers.count }
        }
        let instances = options.runVRRP ? configuration.vrrpInstances.count : 0
        let needed = DescriptorLimit.base + checkers + 4 * instances
        do {
            if let (before, after) = try DescriptorLimit.raise(to: needed) {
                logger.info("Set open file limit to \(after) (was \(before)) for \(checkers) checkers and \(instances) VRRP instances")
                if after < needed {
                    logger.warning("The open file limit stays below the \(needed) descriptors the configuration needs (no CAP_SYS_RESOURCE to raise the hard limit); checks may fail for want of descriptors")
                }
            }
        } catch {
            logger.warning("Cannot raise the open file limit to \(needed): \(error); checks may fail for want of descriptors")
        }
    }

    private func startCheckers(_ configuration: KeepalivedConfiguration) {
        do {
            let ipvs = try IPVSRuntime(configuration: configuration, logger: checkerLogger, scripts: scripts)
            ipvs.notifyFifos = fifos
            ipvs.mailer = mailer
            ipvs.releaseOnStop = options.releaseIPVSOnStop
            ipvs.loop = loop
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
            checks.notifyFifos = fifos
            checks.mailer = mailer
            self.checks = checks
            checks.start()
        } catch {
            checkerLogger.error("cannot start the health checkers: \(error)")
        }
    }

    func installSignalHandlers() {
        for signalNumber in [SIGUSR1, SIGUSR2, KeepalivedSignals.statsClear, KeepalivedSignals.json] {
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
                self.shutDown()
            }
            source.resume()
            sources.append(source)
        }
    }

    /// SIGUSR1, SIGUSR2, STATS_CLEAR and SIGJSON: the running state into keepalived's files, with
    /// keepalived's log lines. As in keepalived, a part that does not run writes no file, and
    /// there is no keepalived.json without instances.
    private func dump(_ signalNumber: Int32) {
        let pid = getpid()
        let dumps = stateDumps
        // The state is copied here, on the loop; its text is made and written by `dumpWriter`,
        // in the order of the signals.
        var files: [(text: @Sendable () -> String, name: String)] = []
        switch signalNumber {
        case SIGUSR1:
            if vrrp != nil {
                vrrpLogger.info("Printing VRRP data for process(\(pid)) on signal")
                var withLVS = dumps
                withLVS.lvsLines = lvsStateLines
                files.append(({ [withLVS] in withLVS.data }, "keepalived.data"))
            }
            if let ipvs {
                checkerLogger.info("Printing checker data for process(\(pid)) on signal")
                let announced = announcer?.report.dataLines ?? []
                let checkData = ipvs.checkDataText
                files.append(({ checkData() + announced.map { $0 + "\n" }.joined() }, "keepalived_check.data"))
            }
        case SIGUSR2, KeepalivedSignals.statsClear:
            guard let vrrp else { return }
            let clearing = signalNumber == KeepalivedSignals.statsClear
            vrrpLogger.info("Printing \(clearing ? "and clearing " : "")VRRP stats for process(\(pid)) on signal")
            files.append(({ dumps.statistics }, "keepalived.stats"))
            if clearing { vrrp.clearCounters() }
        default:
            guard vrrp != nil else { return }
            vrrpLogger.info("Printing VRRP as json for process(\(pid)) on signal")
            if !dumps.vrrp.isEmpty { files.append(({ dumps.json }, "keepalived.json")) }
        }
        guard !files.isEmpty else { return }
        let (logger, queue) = (logger, loop.queue)
        dumpWriter.run { [files] in
            for file in files {
                do {
                    try StateDumps.write(file.text(), as: file.name)
                } catch {
                    queue.async { logger.error("\(error)") }
                }
            }
        }
    }

    /// SIGHUP, timed and counted for /metrics. The file is read and parsed away from the loop,
    /// and applied on it; SIGHUPs during a reload make one more reload after it, of the file as
    /// it is then.
    private func reload() {
        guard !reloading else {
            reloadAgain = true
            return
        }
        reloading = true
        let started = loop.now()
        logger.info("Reloading")
        var loadOptions = ConfigLoadOptions()
        if let configID = options.configID { loadOptions.configID = configID }
        let (path, queue) = (options.configurationFile, loop.queue)
        configReader.run { [self, loadOptions] in
            let loaded = ConfigLoader.load(path: path, options: loadOptions)
            queue.async { [self] in
                let applied = apply(loaded)
                var now = timespec()
                clock_gettime(CLOCK_REALTIME, &now)
                reloads.record(succeeded: applied, duration: loop.now().seconds(since: started),
                               endedAt: Double(now.tv_sec) + Double(now.tv_nsec) / 1e9)
                reloading = false
                if reloadAgain {
                    reloadAgain = false
                    reload()
                }
            }
        }
    }

    /// The file parsed again; a config with errors is refused and the running one kept (false).
    /// Each part then changes only where the config did (see `VRRPRuntime.reload`,
    /// `IPVSRuntime.reload`, `HealthCheckRuntime.reload`).
    private func apply(_ loaded: LoadedConfiguration) -> Bool {
        guard !loaded.diagnostics.hasErrors else {
            for diagnostic in loaded.diagnostics.errors { logger.error("\(diagnostic)") }
            logger.error("Reload refused: \(loaded.diagnostics.errors.count) errors; the running configuration is kept")
            return false
        }
        let process = loaded.configuration.globalDefs.process
        guard (options.namespace ?? process.netNamespace) == namespace else {
            logger.info("Cannot change network namespace at a reload - please restart keepalived")
            return false
        }
        guard !stopping else { return false }
        if options.umask == nil { Glibc.umask(mode_t(process.effectiveUmask)) }
        let vetted = vet(loaded.configuration)
        processSettings = vetted.globalDefs.process
        openFifos(vetted)
        configureMail(vetted)
        checks?.reload(vetted)
        ipvs?.reload(vetted)
        vrrp?.reload(vetted)
        startParts(vetted, reloading: true)
        if process.fifoWriteVRRPStatesOnReload == true, let vrrp {
            for instance in vrrp.report {
                fifos?.write(NotifyFifoLine.instance(instance.name, state: instance.state, priority: instance.effectivePriority), from: .vrrp)
            }
        }
        return true
    }

    func exit(status: Int32) {
        pidFile.remove()
        Glibc.exit(status)
    }
}
