import DaemonCore
import KeepalivedConfig
import Logging

/// Every checker of every real server, on the daemon's event loop. A real server is up when all
/// its checkers are (one without checkers is always up); changes go to `onHealth` (the IPVS
/// part) with keepalived's notify_up / notify_down scripts.
public final class HealthCheckRuntime: @unchecked Sendable {
    /// A real server by position: virtual server, then real server, in file order.
    public struct ServerIndex: Sendable, Hashable {
        public let virtualServer: Int
        public let realServer: Int
    }

    private var configuration: KeepalivedConfiguration
    private let context: Checker.Context
    private(set) var checkers: [ServerIndex: [Checker]] = [:]
    private var trackedFiles: TrackedFiles?
    private let loop: EventLoop
    private let logger: Logger
    /// Reports a real server going up (true) or down.
    public var onHealth: (ServerIndex, Bool) -> Void = { _, _ in }
    /// Where real servers' health is also written as keepalived's `RS … UP|DOWN` lines.
    public var notifyFifos: NotifyFifos?
    /// Reports the weight a MISC_CHECK with misc_dynamic asked for.
    public var onWeight: (ServerIndex, Int) -> Void = { _, _ in }
    /// Each check's duration in seconds, by checker keyword (`HTTP_GET`, `TCP_CHECK`…).
    public var onCheckDuration: (_ checker: String, _ seconds: Double) -> Void = { _, _ in }
    /// Sends keepalived's mail when a checker's verdict on a real server with `smtp_alert` on
    /// changes (nil: the configuration sends no mail).
    public var mailer: MailAlerter?

    /// Call every method on `loop`. Fails only when the global SSL block cannot be loaded.
    public init(configuration: KeepalivedConfiguration, loop: EventLoop, scripts: ScriptRunner, logger: Logger) throws {
        self.configuration = configuration
        self.loop = loop
        self.logger = logger
        let needsTLS = configuration.virtualServers.contains { $0.realServers.contains { $0.checkers.contains { if case .sslGet = $0.kind { return true }; return false } } }
        context = Checker.Context(io: try CheckIO(loop: loop), scripts: scripts, logger: logger,
                                  tls: needsTLS ? try TLSContext(settings: configuration.ssl) : nil)
    }

    /// The number of checkers running.
    public var checkerCount: Int { checkers.values.reduce(0) { $0 + $1.count } }

    public func start() {
        startCheckers(carryingOver: [:])
    }

    /// A new configuration: checkers that are unchanged keep their verdict (they start over with
    /// it, so a down server stays down until it passes); the others start as at start-up.
    public func reload(_ newConfiguration: KeepalivedConfiguration) {
        var verdicts: [CheckerKey: Bool] = [:]
        for (index, group) in checkers {
            let server = configuration.virtualServers[index.virtualServer]
            let real = server.realServers[index.realServer]
            for checker in group { verdicts[CheckerKey(server, real, checker.config)] = checker.isUp }
        }
        stop()
        configuration = newConfiguration
        startCheckers(carryingOver: verdicts)
    }

    private func startCheckers(carryingOver verdicts: [CheckerKey: Bool]) {
        trackedFiles = configuration.trackFiles.isEmpty ? nil : TrackedFiles(configuration.trackFiles, loop: loop, logger: logger)
        trackedFiles?.onChange = { [weak self] name in self?.fileChanged(name) }
        for (serverIndex, server) in configuration.virtualServers.enumerated() {
            for (realIndex, real) in server.realServers.enumerated() where !real.checkers.isEmpty {
                let index = ServerIndex(virtualServer: serverIndex, realServer: realIndex)
                let name = Self.name(real, in: server)
                let group = real.checkers.map {
                    Checker(config: $0, real: real, server: server, serverName: name, context: context,
                            initiallyUp: verdicts[CheckerKey(server, real, $0)])
                }
                for checker in group {
                    checker.onTransition = { [weak self, unowned checker] up in
                        self?.reevaluate(index)
                        self?.mail(checker, of: index, up: up)
                    }
                    checker.onWeight = { [weak self] weight in self?.onWeight(index, weight) }
                    let keyword = checker.config.kind.keyword
                    checker.onChecked = { [weak self] seconds in self?.onCheckDuration(keyword, seconds) }
                }
                checkers[index] = group
                lastVerdict[index] = group.allSatisfy(\.isUp)
            }
        }
        for group in checkers.values { group.forEach { $0.start() } }
        for name in configuration.trackFiles.map(\.name) { fileChanged(name) }
    }

    /// Hands a track_file's number to the FILE_CHECKs that follow it.
    private func fileChanged(_ name: String) {
        guard let trackedFiles else { return }
        let track = configuration.trackFiles.first { $0.name == name }
        for (index, group) in checkers {
            let real = configuration.virtualServers[index.virtualServer].realServers[index.realServer]
            for checker in group {
                guard case .fileCheck(let file) = checker.config.kind, file.trackFile == name else { continue }
                checker.follow(file, track: track, value: trackedFiles.value(of: name), realWeight: real.weight ?? 1)
            }
        }
    }

    public func stop() {
        for group in checkers.values { group.forEach { $0.stop() } }
        checkers = [:]
        lastVerdict = [:]
        trackedFiles = nil
    }

    private var lastVerdict: [ServerIndex: Bool] = [:]

    private func reevaluate(_ index: ServerIndex) {
        guard let group = checkers[index] else { return }
        let up = group.allSatisfy(\.isUp)
        guard lastVerdict[index] != up else { return }
        lastVerdict[index] = up
        onHealth(index, up)
        let real = configuration.virtualServers[index.virtualServer].realServers[index.realServer]
        if let script = up ? real.notifyUp : real.notifyDown {
            context.scripts.run(script, timeout: 60) { _ in }
        }
        let server = configuration.virtualServers[index.virtualServer]
        notifyFifos?.write(NotifyFifoLine.realServer(Self.name(real, in: server), of: Self.name(of: server), up: up), from: .lvs)
    }

    /// keepalived mails each checker's change, the subject saying what the real server is now.
    private func mail(_ checker: Checker, of index: ServerIndex, up: Bool) {
        let server = configuration.virtualServers[index.virtualServer]
        let real = server.realServers[index.realServer]
        guard let mailer, real.effectiveSMTPAlert(configuration.globalDefs), let body = checker.mailBody(up: up) else { return }
        let alive = lastVerdict[index] ?? up
        mailer.send(MailAlert.realServer(Self.name(real, in: server), of: Self.name(of: server), alive: alive, body: body), logger: logger)
    }

    /// keepalived's notation for a virtual server: `[192.0.2.1]:tcp:80`, `FWM 7`, `[GROUP]:0`.
    static func name(of server: VirtualServer) -> String {
        switch server.key {
        case .address(let address, let port): return "[\(address)]:\(server.effectiveProtocol.rawValue.lowercased()):\(port)"
        case .fwmark(let mark): return "FWM \(mark)"
        case .group(let group): return "[\(group)]:0"
        }
    }

    /// keepalived's notation for a real server: `[198.51.100.2]:tcp:80`.
    static func name(_ real: RealServer, in server: VirtualServer) -> String {
        let address = "[\(real.address)]"
        let port = real.effectivePort(in: server)
        if case .fwmark = server.key { return "\(address):\(port)" }
        return "\(address):\(server.effectiveProtocol.rawValue.lowercased()):\(port)"
    }
}

/// A checker as the file defines it, to recognise it across a reload.
private struct CheckerKey: Hashable {
    let virtualServer: VirtualServerKey
    let proto: LVSProtocol
    let address: IPAddress
    let port: Int?
    let checker: HealthChecker

    init(_ server: VirtualServer, _ real: RealServer, _ checker: HealthChecker) {
        virtualServer = server.key
        proto = server.effectiveProtocol
        address = real.address
        port = real.port
        // Where it is written does not matter: editing lines above it must not reset it.
        let nowhere = SourceLocation(file: "", line: 0)
        var checker = checker
        checker.location = nowhere
        switch checker.kind {
        case .httpGet(var http):
            http.urls = http.urls.map { var url = $0; url.location = nowhere; return url }
            checker.kind = .httpGet(http)
        case .sslGet(var http):
            http.urls = http.urls.map { var url = $0; url.location = nowhere; return url }
            checker.kind = .sslGet(http)
        default:
            break
        }
        self.checker = checker
    }
}
