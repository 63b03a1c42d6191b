#if canImport(Glibc)
import Glibc
#endif
import DaemonCore
import Dispatch
import KeepalivedConfig
import Logging

/// The IPVS part of the daemon: programs the table the configuration asks for at start, and
/// removes what it added at stop. Services no config of ours names are reported and left alone.
public final class IPVSRuntime: @unchecked Sendable {
    private(set) var configuration: KeepalivedConfiguration {
        didSet {
            groups = configuration.virtualServerGroupsByName
            metricsReport = nil
        }
    }
    /// Looked up on every health change, so made once per configuration.
    private(set) var groups: [String: VirtualServerGroup]
    private let logger: Logger
    let netlink: IPVSNetlink
    /// The services we programmed, so stop removes those and nothing else.
    private var managed: Set<IPVSServiceKey> = []
    /// What we last asked the kernel to hold. Reload and stop work from it, as keepalived does,
    /// instead of reading back a table of thousands of entries.
    private(set) var applied = IPVSTable() {
        didSet { metricsReport = nil }
    }
    /// Quorum verdicts (absent until first evaluated), by name so they survive a reload that
    /// moves the virtual server within the file.
    private(set) var quorumLost: [VirtualServerName: Bool] = [:] {
        didSet { metricsReport = nil }
    }
    /// Real servers the checkers (or `alpha`) hold down; every other one is up.
    private var down: Set<RealServerName> = [] {
        didSet { metricsReport = nil }
    }
    /// `virtualServerMetrics` as last built; dropped whenever what it shows changes, so a scrape
    /// of an unchanged table costs the loop nothing.
    var metricsReport: [VirtualServerMetrics]?
    /// Runs quorum_up / quorum_down; without one (unit tests) the scripts are only logged.
    private let scripts: ScriptRunner?
    /// Where quorum changes are also written as keepalived's `VS … UP|DOWN` lines.
    public var notifyFifos: NotifyFifos?
    /// Sends keepalived's mail when a virtual server with `smtp_alert` on gains or loses its
    /// quorum (nil: the configuration sends no mail).
    public var mailer: MailAlerter?
    /// Called after a virtual server gained or lost its quorum (announce_route follows it).
    public var onQuorumChange: () -> Void = {}
    /// Where a table left uncertain by a failed request is read again later; nil never retries.
    public var loop: EventLoop?
    private var resyncTimer: LoopTimer?
    private var resyncDelay = IPVSRuntime.firstResyncDelay
    private var stopped = false

    /// Call every method on the event loop `scripts` runs on.
    public init(configuration: KeepalivedConfiguration, logger: Logger, scripts: ScriptRunner? = nil) throws {
        self.configuration = configuration
        groups = configuration.virtualServerGroupsByName
        self.logger = logger
        self.scripts = scripts
        netlink = try IPVSNetlink.connect(logger: logger)
        down = Self.initiallyDown(configuration)
    }

    /// With `alpha`, a real server that has checkers starts down and waits for its first good
    /// check; one without checkers is always up, as in keepalived.
    static func initiallyDown(_ configuration: KeepalivedConfiguration) -> Set<RealServerName> {
        var down: Set<RealServerName> = []
        for server in configuration.virtualServers {
            for real in server.realServers where real.checkers.contains(where: { $0.alpha ?? real.alpha ?? server.alpha }) {
                down.insert(RealServerName(server, real))
            }
        }
        return down
    }

    var isUp: (DesiredTable.RealServerID) -> Bool {
        let down = down
        if down.isEmpty { return { _ in true } }
        let servers = configuration.virtualServers
        return { id in
            let server = servers[id.virtualServer]
            return !down.contains(RealServerName(server, server.realServers[id.realServer]))
        }
    }

    /// Weights a MISC_CHECK with misc_dynamic set, in place of the configured ones.
    private var dynamicWeights: [RealServerName: Int] = [:]

    /// MISC_CHECK's misc_dynamic verdict: the real server's weight becomes `weight`.
    public func setWeight(of id: DesiredTable.RealServerID, weight: Int) {
        let server = configuration.virtualServers[id.virtualServer]
        let name = RealServerName(server, server.realServers[id.realServer])
        guard dynamicWeights[name] != weight else { return }
        dynamicWeights[name] = weight
        update(virtualServer: id.virtualServer)
    }

    private var weightOverride: (DesiredTable.RealServerID) -> Int? {
        let weights = dynamicWeights
        if weights.isEmpty { return { _ in nil } }
        let servers = configuration.virtualServers
        return { id in
            let server = servers[id.virtualServer]
            return weights[RealServerName(server, server.realServers[id.realServer])]
        }
    }

    /// A checker's verdict on a real server: the table (and quorum, and the sorry server) follow.
    public func setHealth(of id: DesiredTable.RealServerID, up: Bool) {
        let server = configuration.virtualServers[id.virtualServer]
        let name = RealServerName(server, server.realServers[id.realServer])
        let changed = up ? down.remove(name) != nil : down.insert(name).inserted
        if changed { update(virtualServer: id.virtualServer) }
    }

    /// One real server changed: only its virtual server is rebuilt and compared with what we
    /// programmed, so the cost does not grow with the size of the whole table (with thousands of
    /// real servers flapping under load, a whole-table pass per change fed on itself).
    private func update(virtualServer index: Int) {
        let server = configuration.virtualServers[index]
        evaluateQuorum(of: server, index: index)
        let lost = quorumLost[VirtualServerName(server)] == true
        let fresh = DesiredTable.services(of: server, index: index, groups: groups, isUp: isUp, weight: weightOverride, quorumLost: lost)
        var before = IPVSTable()
        var after = IPVSTable()
        for (key, service) in fresh {
            before.services[key] = applied.services[key]
            after.services[key] = service
        }
        apply(IPVSDiff.operations(from: before, to: after), detail: .info, current: before)
        for (key, service) in fresh { applied.services[key] = service }
    }


    /// Reads the kernel's table once (destinations only of services we are about to own, so
    /// a cold start reads almost nothing) and applies what differs.
    public func start() {
        if configuration.globalDefs.lvsFlush == true { flushTable(because: "lvs_flush") }
        applyTimeouts(configuration.globalDefs.lvsTimeouts)
        synchronize(.start)
    }

    /// Empties the whole table of the namespace, ours or not.
    private func flushTable(because keyword: String) {
        logger.info("Flushing the IPVS table (\(keyword))")
        do { try netlink.flush() } catch { logger.error("IPVS: \(error)") }
    }

    /// The kernel's timeouts before we changed them, put back when `lvs_timeouts` goes away and
    /// at stop (as keepalived does).
    private var originalTimeouts: IPVSTimeouts?

    private func applyTimeouts(_ wanted: LVSTimeouts?) {
        do {
            if let wanted {
                let original = try originalTimeouts ?? netlink.timeouts()
                originalTimeouts = original
                let timeouts = IPVSTimeouts(tcp: wanted.tcp ?? original.tcp, tcpFin: wanted.tcpFin ?? original.tcpFin, udp: wanted.udp ?? original.udp)
                try netlink.setTimeouts(timeouts)
                logger.info("IPVS timeouts set: tcp \(timeouts.tcp) s, tcpfin \(timeouts.tcpFin) s, udp \(timeouts.udp) s")
            } else if let original = originalTimeouts {
                try netlink.setTimeouts(original)
                originalTimeouts = nil
                logger.info("IPVS timeouts put back: tcp \(original.tcp) s, tcpfin \(original.tcpFin) s, udp \(original.udp) s")
            }
        } catch {
            // keepalived's words.
            logger.error("Failed to set ipvs timeouts: \(error)")
        }
    }

    /// Applies a new configuration: only the services and destinations that differ are touched;
    /// services the old configuration had and the new one does not are removed.
    public func reload(_ newConfiguration: KeepalivedConfiguration) {
        // Health and quorum carry over by name; servers new to the file start as at start-up.
        let kept = Self.everyRealServer(newConfiguration)
        down = down.intersection(kept).union(Self.initiallyDown(newConfiguration).subtracting(Self.everyRealServer(configuration)))
        dynamicWeights = dynamicWeights.filter { kept.contains($0.key) }
        let names = Set(newConfiguration.virtualServers.map(VirtualServerName.init))
        quorumLost = quorumLost.filter { names.contains($0.key) }
        let previousTimeouts = configuration.globalDefs.lvsTimeouts
        configuration = newConfiguration
        if newConfiguration.globalDefs.lvsTimeouts != previousTimeouts { applyTimeouts(newConfiguration.globalDefs.lvsTimeouts) }
        synchronize(.reload)
    }

    /// Why the whole table is compared with what the config and the checks want: at start and
    /// after a failed request the kernel's table is read; a reload trusts what we programmed.
    private enum Pass: String {
        case start = "programmed", reload = "reloaded", resync = "resynchronized"
    }

    private func synchronize(_ pass: Pass) {
        let started = ContinuousClock.now
        evaluateQuorums()
        let lost = Set(configuration.virtualServers.indices.filter { quorumLost[VirtualServerName(configuration.virtualServers[$0])] == true })
        let desired = DesiredTable.build(configuration, isUp: isUp, weight: weightOverride, quorumLost: lost)
        let current: IPVSTable
        if pass != .reload {
            do {
                current = try netlink.table(destinationsOf: Set(desired.services.keys))
            } catch {
                // Read again later, and then programmed from what was read.
                logger.error("cannot read the IPVS table: \(error)")
                managed = Set(desired.services.keys)
                applied = desired
                return scheduleResync()
            }
        } else {
            current = applied
        }
        if pass == .start {
            for key in current.services.keys.sorted() where desired.services[key] == nil && !managed.contains(key) {
                logger.info("IPVS service \(key) is not in the configuration; leaving it alone")
            }
        }
        let operations = IPVSDiff.operations(from: current, to: desired, managed: managed)
        // A cold start of thousands of real servers is one summary line, as keepalived's start is
        // silent about each; later changes are few and each is named.
        apply(operations, detail: pass == .start ? .debug : .info, current: current)
        managed = Set(desired.services.keys)
        applied = desired
        if resyncTimer == nil { resyncDelay = Self.firstResyncDelay }
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        logger.info("IPVS table \(pass.rawValue): \(operations.count) operations in \(Int(milliseconds.rounded())) ms")
    }

    /// Decides every virtual server's quorum; a change is logged in keepalived's words and runs
    /// quorum_up or quorum_down. At start the first verdict counts as a change, as in keepalived.
    private func evaluateQuorums() {
        for (index, server) in configuration.virtualServers.enumerated() {
            evaluateQuorum(of: server, index: index)
        }
    }

    private func evaluateQuorum(of server: VirtualServer, index: Int) {
        let live = Quorum.liveWeight(of: server, index: index, isUp: isUp)
        let quorum = server.quorum ?? VirtualServer.defaultQuorum
        let hysteresis = server.hysteresis ?? 0
        let previous = quorumLost[VirtualServerName(server)]
        let lost = Quorum.isLost(liveWeight: live, quorum: quorum, hysteresis: hysteresis, wasLost: previous)
        quorumLost[VirtualServerName(server)] = lost
        guard lost != previous else { return }
        defer { onQuorumChange() }
        let name = serviceName(server)
        if lost {
            logger.info("Lost quorum \(quorum)-\(hysteresis)=\(quorum - hysteresis) > \(live) for VS \(name)")
            if let sorry = server.sorryServer { logger.info("Adding sorry server [\(sorry.address)]:\(sorry.port ?? 0) to VS \(name)") }
            run(server.quorumDown, for: name)
            notifyFifos?.write(NotifyFifoLine.virtualServer(name, up: false), from: .lvs)
            mailQuorum(of: server, name: name, up: false, initial: previous == nil, threshold: quorum - hysteresis, live: live)
        } else {
            logger.info("Gained quorum \(quorum)+\(hysteresis)=\(quorum + hysteresis) <= \(live) for VS \(name)")
            if let sorry = server.sorryServer, previous != nil {
                logger.info("Removing sorry server [\(sorry.address)]:\(sorry.port ?? 0) from VS \(name)")
            }
            run(server.quorumUp, for: name)
            notifyFifos?.write(NotifyFifoLine.virtualServer(name, up: true), from: .lvs)
            mailQuorum(of: server, name: name, up: true, initial: previous == nil, threshold: quorum + hysteresis, live: live)
        }
    }

    private func mailQuorum(of server: VirtualServer, name: String, up: Bool, initial: Bool, threshold: Int, live: Int) {
        guard let mailer, server.effectiveSMTPAlert(configuration.globalDefs) else { return }
        mailer.send(MailAlert.quorum(of: name, up: up, initial: initial, quorum: server.quorum ?? VirtualServer.defaultQuorum,
                                     hysteresis: server.hysteresis ?? 0, threshold: threshold, liveWeight: live), logger: logger)
    }

    private func serviceName(_ server: VirtualServer) -> String {
        DesiredTable.serviceKeys(server, groups: groups).first.map { "\($0.0)" } ?? "\(server.key)"
    }

    private func run(_ script: ScriptCommand?, for service: String) {
        guard let script else { return }
        guard let scripts else {
            logger.warning("not running \(script.command) for VS \(service): no script runner")
            return
        }
        scripts.run(script, timeout: Self.scriptTimeout) { [logger] status in
            if status != 0 { logger.warning("\(script.command) for VS \(service) exited with status \(status)") }
        }
    }

    private static func everyRealServer(_ configuration: KeepalivedConfiguration) -> Set<RealServerName> {
        Set(configuration.virtualServers.flatMap { server in server.realServers.map { RealServerName(server, $0) } })
    }

    /// keepalived gives quorum scripts no limit; a minute keeps a stuck one from lingering forever.
    static let scriptTimeout = 60.0

    /// `-I` (`--dont-release-ipvs`) turns this off: stop then leaves the kernel's IPVS state
    /// (services, destinations, timeouts) as it is, and skips omega's quorum_down, as keepalived's
    /// -I does. The next start reads the table and changes only what differs.
    public var releaseOnStop = true

    public func stop() {
        stopped = true
        resyncTimer?.cancel()
        resyncTimer = nil
        guard releaseOnStop else {
            logger.info("Leaving \(managed.count) IPVS services in the kernel (--dont-release-ipvs)")
            return
        }
        // omega: leaving counts as losing the quorum, so quorum_down tells whoever relies on it.
        for server in configuration.virtualServers where server.omega && quorumLost[VirtualServerName(server)] == false {
            run(server.quorumDown, for: serviceName(server))
            notifyFifos?.write(NotifyFifoLine.virtualServer(serviceName(server), up: false), from: .lvs)
        }
        defer { applyTimeouts(nil) }
        if configuration.globalDefs.lvsFlushOnStop == .wholeTable {
            flushTable(because: "lvs_flush_on_stop")
            managed = []
            applied = IPVSTable()
            return
        }
        let current = applied
        // One request removes a service with its destinations (what keepalived's
        // `lvs_flush_on_stop VS` asks for); with -D the log still names each of them, as
        // keepalived's does.
        for key in managed.sorted() {
            for destination in (current.services[key]?.destinations.keys.sorted() ?? []) {
                logger.debug("Removing service \(Self.realServer(destination, of: key)) from VS \(key)")
            }
        }
        apply(IPVSDiff.removals(of: current, managed: managed), detail: .debug)
        managed = []
        applied = IPVSTable()
    }

    /// Whether the virtual server at `index` of the configuration has its quorum now.
    public func hasQuorum(_ index: Int) -> Bool {
        guard configuration.virtualServers.indices.contains(index) else { return false }
        return quorumLost[VirtualServerName(configuration.virtualServers[index])] == false
    }

    /// Netlink requests sent so far.
    public var requestCount: Int { netlink.requestCount }

    private func apply(_ operations: [IPVSOperation], detail: Logger.Level, current: IPVSTable = IPVSTable()) {
        for operation in operations {
            switch operation {
            case .editDestination(let service, let destination, let settings):
                if let old = current.services[service]?.destinations[destination], old.weight != settings.weight {
                    logger.log(level: detail, "Changing weight from \(old.weight) to \(settings.weight) for \(settings.weight > 0 ? "active" : "inactive") service \(Self.realServer(destination, of: service)) of VS \(service)")
                }
            case .addDestination(let service, let destination, _):
                logger.log(level: detail, "Adding service \(Self.realServer(destination, of: service)) to VS \(service)")
            case .deleteDestination(let service, let destination):
                logger.log(level: detail, "Removing service \(Self.realServer(destination, of: service)) from VS \(service)")
            case .addService(let service, _):
                logger.debug("Adding Virtual Server \(service)")
            case .deleteService(let service):
                logger.log(level: detail, "Removing Virtual Server \(service)")
            default:
                break
            }
        }
        // Sent back to back; the kernel's refusals are matched to their requests afterwards.
        let failures = netlink.apply(batch: operations)
        for failure in failures {
            logger.error("IPVS: \(failure.error)")
        }
        if failures.contains(where: { $0.error.leavesTableUnknown }) { scheduleResync() }
    }

    static let firstResyncDelay = 1.0
    static let longestResyncDelay = 30.0

    /// A request failed for want of memory or buffer space, or the kernel was busy, or its answer
    /// was lost: whether the table holds what was asked is unknown. It is read again after a
    /// second (then 2, 4, … up to 30 s while that keeps failing), and what differs from what the
    /// config and the checks want is applied, so that no change is lost to a passing fault.
    private func scheduleResync() {
        guard !stopped, resyncTimer == nil, let loop else { return }
        let delay = resyncDelay
        resyncDelay = min(resyncDelay * 2, Self.longestResyncDelay)
        logger.warning("IPVS: the kernel table is uncertain after a failed request; reading it again in \(Int(delay)) s")
        resyncTimer = loop.timer(at: loop.now().adding(seconds: delay)) { [weak self] in
            guard let self, !self.stopped else { return }
            self.resyncTimer = nil
            self.synchronize(.resync)
        }
    }

    /// keepalived names a real server like its service: `[10.0.0.2]:tcp:80`.
    static func realServer(_ destination: IPVSDestinationKey, of service: IPVSServiceKey) -> String {
        if case .address(let proto, _, _) = service { return "[\(destination.address)]:\(proto.rawValue.lowercased()):\(destination.port)" }
        return "[\(destination.address)]:\(destination.port)"
    }
}

/// A virtual server as the file names it, stable across reloads.
struct VirtualServerName: Hashable {
    let key: VirtualServerKey
    let proto: LVSProtocol

    init(_ server: VirtualServer) {
        key = server.key
        proto = server.effectiveProtocol
    }
}

/// A real server of a virtual server, stable across reloads.
struct RealServerName: Hashable {
    let virtualServer: VirtualServerName
    let address: IPAddress
    let port: Int?

    init(_ server: VirtualServer, _ real: RealServer) {
        virtualServer = VirtualServerName(server)
        address = real.address
        port = real.port
    }
}

/// One virtual server as the state dumps show it: its kernel services and each real server's health.
public struct VirtualServerReport: Sendable, Codable {
    public struct RealServer: Sendable, Codable {
        public let address: String
        public let port: Int
        public let up: Bool
        /// The weight in the kernel (0 when inhibited); nil when not in the kernel table.
        public let weight: Int?
    }

    public let name: String
    public let services: [String]
    public let quorumLost: Bool
    public let realServers: [RealServer]
}

extension IPVSRuntime {
    /// Every virtual server, in config order. Call on the loop.
    public var report: [VirtualServerReport] {
        configuration.virtualServers.enumerated().map { index, server in
            let keys = DesiredTable.serviceKeys(server, groups: groups)
            let reals = server.realServers.map { real in
                let port = real.effectivePort(in: server)
                let key = IPVSDestinationKey(address: real.address, port: port)
                let weight = keys.first.flatMap { applied.services[$0.0]?.destinations[key]?.weight }
                return VirtualServerReport.RealServer(address: "\(real.address)", port: port,
                                                      up: !down.contains(RealServerName(server, real)), weight: weight)
            }
            return VirtualServerReport(name: serviceName(server), services: keys.map { "\($0.0)" },
                                       quorumLost: quorumLost[VirtualServerName(server)] == true, realServers: reals)
        }
    }
}
