#if canImport(Glibc)
import Glibc
#endif
import KeepalivedConfig
import Logging

/// The IPVS part of the daemon: programs the table the configuration asks for at start, and
/// removes what it added at stop. Services no config of ours names are reported and left alone.
public final class IPVSRuntime: @unchecked Sendable {
    private var configuration: KeepalivedConfiguration
    private let logger: Logger
    private let netlink: IPVSNetlink
    /// The services we programmed, so stop removes those and nothing else.
    private var managed: Set<IPVSServiceKey> = []
    /// What we last asked the kernel to hold. Reload and stop work from it, as keepalived does,
    /// instead of reading back a table of thousands of entries.
    private var applied = IPVSTable()
    /// Quorum verdicts by virtual server index (absent until first evaluated).
    private var quorumLost: [Int: Bool] = [:]
    /// Health of real servers; every one is up until the checkers report otherwise.
    private var isUp: (DesiredTable.RealServerID) -> Bool = { _ in true }

    public init(configuration: KeepalivedConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        netlink = try Self.connect(logger: logger)
    }

    /// Connects, loading `ip_vs` first when the kernel does not know the family yet, as keepalived
    /// does (schedulers load themselves when a service names them).
    private static func connect(logger: Logger) throws -> IPVSNetlink {
        if let netlink = try? IPVSNetlink() { return netlink }
        logger.info("Loading the ip_vs kernel module")
        _ = system("/sbin/modprobe ip_vs >/dev/null 2>&1")
        return try IPVSNetlink()
    }

    /// Reads the kernel's table once (destinations only of services we are about to own, so
    /// a cold start reads almost nothing) and applies what differs.
    public func start() {
        synchronize(reporting: "programmed", reportForeign: true)
    }

    /// Applies a new configuration: only the services and destinations that differ are touched;
    /// services the old configuration had and the new one does not are removed.
    public func reload(_ newConfiguration: KeepalivedConfiguration) {
        configuration = newConfiguration
        synchronize(reporting: "reloaded", reportForeign: false)
    }

    private func synchronize(reporting verb: String, reportForeign: Bool) {
        let started = ContinuousClock.now
        evaluateQuorums()
        let lost = Set(quorumLost.filter(\.value).keys)
        let desired = DesiredTable.build(configuration, isUp: isUp, quorumLost: lost)
        let current: IPVSTable
        if reportForeign {
            do {
                current = try netlink.table(destinationsOf: Set(desired.services.keys))
            } catch {
                logger.error("cannot read the IPVS table: \(error)")
                return
            }
        } else {
            current = applied
        }
        if reportForeign {
            for key in current.services.keys.sorted() where desired.services[key] == nil && !managed.contains(key) {
                logger.info("IPVS service \(key) is not in the configuration; leaving it alone")
            }
        }
        let operations = IPVSDiff.operations(from: current, to: desired, managed: managed)
        // A cold start of thousands of real servers is one summary line, as keepalived's start is
        // silent about each; later changes are few and each is named.
        apply(operations, detail: reportForeign ? .debug : .info)
        managed = Set(desired.services.keys)
        applied = desired
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        logger.info("IPVS table \(verb): \(operations.count) operations in \(Int(milliseconds.rounded())) ms")
    }

    private func evaluateQuorums() {
        for (index, server) in configuration.virtualServers.enumerated() {
            let live = Quorum.liveWeight(of: server, index: index, isUp: isUp)
            let quorum = server.quorum ?? VirtualServer.defaultQuorum
            let previous = quorumLost[index]
            let lost = Quorum.isLost(liveWeight: live, quorum: quorum, hysteresis: server.hysteresis ?? 0, wasLost: previous)
            quorumLost[index] = lost
            guard lost != previous else { continue }
            guard previous != nil || lost else { continue }
            let name = DesiredTable.serviceKeys(server, groups: groups).first.map { "\($0.0)" } ?? "\(server.key)"
            if lost {
                logger.info("Lost quorum \(quorum)-\(server.hysteresis ?? 0)=\(quorum - (server.hysteresis ?? 0)) > \(live) for VS \(name)")
                if let sorry = server.sorryServer { logger.info("Adding sorry server [\(sorry.address)]:\(sorry.port ?? 0) to VS \(name)") }
            } else if previous != nil {
                logger.info("Gained quorum \(quorum)+\(server.hysteresis ?? 0)=\(quorum + (server.hysteresis ?? 0)) <= \(live) for VS \(name)")
            }
        }
    }

    private var groups: [String: VirtualServerGroup] {
        Dictionary(configuration.virtualServerGroups.map { ($0.name, $0) }) { first, _ in first }
    }

    public func stop() {
        let current = applied
        // One request removes a service with its destinations; with -D the log still names each
        // of them, as keepalived's does.
        for key in managed.sorted() {
            for destination in (current.services[key]?.destinations.keys.sorted() ?? []) {
                logger.debug("Removing service \(Self.realServer(destination, of: key)) from VS \(key)")
            }
        }
        apply(IPVSDiff.operations(from: current, to: IPVSTable(), managed: managed), detail: .debug)
        managed = []
        applied = IPVSTable()
    }

    /// Netlink requests sent so far.
    public var requestCount: Int { netlink.requestCount }

    private func apply(_ operations: [IPVSOperation], detail: Logger.Level) {
        for operation in operations {
            switch operation {
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
        for failure in netlink.apply(batch: operations) {
            logger.error("IPVS: \(failure.error)")
        }
    }

    /// keepalived names a real server like its service: `[10.0.0.2]:tcp:80`.
    static func realServer(_ destination: IPVSDestinationKey, of service: IPVSServiceKey) -> String {
        if case .address(let proto, _, _) = service { return "[\(destination.address)]:\(proto.rawValue.lowercased()):\(destination.port)" }
        return "[\(destination.address)]:\(destination.port)"
    }
}
