import ArgumentParser
import Daemon
import DaemonCore
import KeepalivedConfig

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's command line, with keepalived's short and long option names so existing unit
/// files and habits keep working.
@main
struct SwiftKeepalived: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftkeepalived",
        abstract: "A keepalived-compatible VRRP and LVS director daemon.",
        discussion: "Reads keepalived.conf. With -t, checks it and exits: 0 when it has no errors, 1 otherwise.")

    static let version = "0.1.0"

    @Option(name: [.customShort("f"), .customLong("use-file")], help: "Configuration file.")
    var useFile = "/etc/keepalived/keepalived.conf"

    @Flag(name: [.customShort("t"), .customLong("config-test")], help: "Check the configuration and exit.")
    var configTest = false

    @Flag(name: [.customShort("d"), .customLong("dump-conf")], help: "Print the parsed configuration, defaults included (with -t).")
    var dumpConf = false

    @Flag(name: [.customShort("P"), .customLong("vrrp")], help: "Run only the VRRP part.")
    var vrrpOnly = false

    @Flag(name: [.customShort("C"), .customLong("check")], help: "Run only the IPVS part and its health checkers.")
    var checkOnly = false

    @Flag(name: [.customShort("n"), .customLong("dont-fork")], help: "Stay in the foreground.")
    var dontFork = false

    @Flag(name: [.customShort("l"), .customLong("log-console")], help: "Log to the console instead of syslog.")
    var logConsole = false

    @Flag(name: [.customShort("D"), .customLong("log-detail")], help: "Log more detail.")
    var logDetail = false

    @Option(name: [.customShort("S"), .customLong("log-facility")], help: "Syslog facility: 0-7 for local0-local7, or a name.")
    var logFacility: String?

    @Option(name: [.customShort("p"), .customLong("pid")], help: "Pid file of the main process (default /run/keepalived.pid).")
    var pidFile: String?

    @Option(name: [.customShort("s"), .customLong("namespace")], help: "Run in network namespace NAME (overrides the config's net_namespace).")
    var namespace: String?

    @Option(name: [.customShort("u"), .customLong("umask")], help: "File-creation mask, as a number (overrides the config's umask).")
    var umask: String?

    @Option(name: [.customShort("r"), .customLong("vrrp_pid")], help: "Pid file of the VRRP part (accepted for compatibility).")
    var vrrpPidFile: String?

    @Option(name: [.customShort("c"), .customLong("checkers_pid")], help: "Pid file of the checkers (accepted for compatibility).")
    var checkersPidFile: String?

    @Flag(name: [.customShort("I"), .customLong("dont-release-ipvs")], help: "Leave our IPVS services in the kernel at stop; the next start changes only what differs.")
    var dontReleaseIPVS = false

    @Option(name: [.customShort("i"), .customLong("config-id")], help: "Config id for '@id' lines (default: the short host name).")
    var configID: String?

    @Option(name: .customLong("metrics-listen"), help: ArgumentHelp(
        "Serve GET /metrics (Prometheus) and GET /json (the state of keepalived.json) on ADDRESS:PORT ([::1]:PORT for IPv6, :PORT for every address).",
        valueName: "address:port"))
    var metricsListen: String?

    @Option(name: .customLong("signum"), help: "Print the number of keepalived's signal for STOP, RELOAD, DATA, STATS, STATS_CLEAR or JSON and exit.")
    var signum: String?

    @Flag(name: [.customShort("v"), .customLong("version")], help: "Print the version and exit.")
    var showVersion = false

    func validate() throws {
        if vrrpOnly && checkOnly {
            throw ValidationError("-P (VRRP only) and -C (checkers only) exclude each other; give neither to run both.")
        }
        if let umask, umask.first?.isNumber != true || (try? UmaskValue.parse([umask]).get()) == nil {
            throw ValidationError("Invalid --umask option \(umask)")
        }
        if let metricsListen, ListenAddress(metricsListen) == nil {
            throw ValidationError("--metrics-listen takes ADDRESS:PORT (such as 127.0.0.1:9165, [::1]:9165 or :9165), not '\(metricsListen)'.")
        }
        if let logFacility, SyslogFacility(logFacility) == nil {
            throw ValidationError("-S takes 0-7 (local0-local7) or a facility name such as daemon, not '\(logFacility)'.")
        }
    }

    func run() throws {
        if let signum {
            // Exporters run `keepalived --signum=JSON` to learn what to send; keepalived's answers.
            guard let number = KeepalivedSignals.number(named: signum) else {
                printError("Unknown sigfunc \(signum)")
                throw ExitCode(1)
            }
            print(number)
            return
        }
        if showVersion {
            print("swiftkeepalived \(Self.version) (keepalived.conf compatible with Keepalived 2.x)")
            return
        }
        var options = ConfigLoadOptions()
        if let configID { options.configID = configID }
        let loaded = ConfigLoader.load(path: useFile, options: options)
        for diagnostic in loaded.diagnostics.all {
            printError(diagnostic.description)
        }
        if configTest {
            if dumpConf && !loaded.diagnostics.hasErrors {
                print(ConfigDump.render(loaded.configuration), terminator: "")
            }
            let errors = loaded.diagnostics.errors.count
            let warnings = loaded.diagnostics.warnings.count
            printError("\(useFile): \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
            // Exit here rather than unwind: tearing down a model of 50,000 real servers object by
            // object is wasted work when the process is about to end.
            Glibc.exit(errors > 0 ? 1 : 0)
        }
        if loaded.diagnostics.hasErrors { throw ExitCode(1) }
        var daemon = DaemonOptions(configurationFile: useFile, pidFile: pidFile ?? "/run/keepalived.pid")
        daemon.pidFileIsDefault = pidFile == nil
        daemon.namespace = namespace
        daemon.umask = umask.flatMap { try? UmaskValue.parse([$0]).get() }
        daemon.configID = configID
        daemon.runVRRP = !checkOnly
        daemon.runChecker = !vrrpOnly
        daemon.foreground = dontFork
        daemon.logToConsole = logConsole
        daemon.logDetail = logDetail
        daemon.releaseIPVSOnStop = !dontReleaseIPVS
        daemon.metricsListen = metricsListen.flatMap(ListenAddress.init)
        daemon.version = Self.version
        if let logFacility, let facility = SyslogFacility(logFacility) { daemon.syslogFacility = facility.code }
        DaemonRunner.run(daemon, configuration: loaded.configuration)
    }
}

/// Syslog facilities as keepalived's -S names them.
struct SyslogFacility {
    let code: Int32

    init?(_ text: String) {
        if let number = Int32(text), (0...7).contains(number) {
            code = (16 + number) << 3
            return
        }
        let named: [String: Int32] = ["daemon": 3 << 3, "user": 1 << 3, "local0": 16 << 3, "local1": 17 << 3,
                                      "local2": 18 << 3, "local3": 19 << 3, "local4": 20 << 3, "local5": 21 << 3,
                                      "local6": 22 << 3, "local7": 23 << 3]
        guard let code = named[text.lowercased()] else { return nil }
        self.code = code
    }
}

func printError(_ line: String) {
    StandardStream.write(line + "\n", to: 2)
}
