#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import DaemonCore
import KeepalivedConfig
import Logging
import VRRP

/// Keeps the kernel routes of `announce_route` as `AnnouncementPlan` decides, for BIRD or FRR to
/// announce: removes what a killed predecessor left at start, follows quorum, VRRP and the
/// maintenance file, and withdraws everything at stop. Call every method on the event loop.
public final class RouteAnnouncer: @unchecked Sendable {
    private let loop: EventLoop
    private let logger: Logger
    private let netlink: RouteNetlink
    private var plan: AnnouncementPlan
    /// Per server of the plan: its index among the configuration's virtual servers, and the VRRP
    /// instance it is tied to.
    private var serverIndices: [Int] = []
    private var ties: [String?] = []
    /// The routes the kernel holds for us (the plan's, less those the kernel refused, retried).
    private var installed: Set<AnnouncedRoute> = []
    /// `hold_address` addresses made local, from start to stop.
    private var held: Set<HeldAddress> = []
    private var maintenanceFile: String?
    public private(set) var inMaintenance = false
    private var watcher: FileWatcher?
    private var timer: LoopTimer?
    private var stopping = false
    /// Whether the virtual server at this index of the configuration has its quorum.
    public var quorumHeld: (Int) -> Bool = { _ in false }
    /// Whether the named VRRP instance is MASTER.
    public var instanceIsMaster: (String) -> Bool = { _ in false }

    public init(configuration: KeepalivedConfiguration, loop: EventLoop, logger: Logger) throws {
        self.loop = loop
        self.logger = logger
        netlink = try RouteNetlink()
        plan = AnnouncementPlan(servers: [])
        configure(configuration)
    }

    /// True when the configuration announces anything.
    public static func isNeeded(by configuration: KeepalivedConfiguration) -> Bool {
        configuration.virtualServers.contains { $0.announcement != nil }
    }

    private func configure(_ configuration: KeepalivedConfiguration) {
        let groups = configuration.virtualServerGroupsByName
        var servers: [AnnouncementPlan.Server] = []
        serverIndices = []
        ties = []
        for (index, server) in configuration.virtualServers.enumerated() {
            guard let announcement = server.announcement else { continue }
            let routes = server.announcedPrefixes(groups: groups).map {
                AnnouncedRoute(prefix: $0, table: announcement.effectiveTable, protocolNumber: announcement.effectiveProtocol,
                               device: announcement.effectiveDevice)
            }
            servers.append(.init(name: "\(server.key)", routes: routes, upDelay: announcement.effectiveUpDelay))
            serverIndices.append(index)
            ties.append(announcement.vrrpInstance)
        }
        plan.replaceServers(servers)
        watchMaintenanceFile(configuration.globalDefs.announceMaintenanceFile)
        wantedHeld = Self.held(configuration)
    }

    /// What `hold_address` asks for in the configuration in force.
    private var wantedHeld: Set<HeldAddress> = []

    /// Removes the routes a previous run left in the tables and protocols we use (its local
    /// routes of `hold_address` too), then holds the addresses and decides.
    public func start() {
        var owners = Set(plan.routes.map { TableAndProtocol(table: $0.table, protocolNumber: $0.protocolNumber) })
        for address in wantedHeld { owners.insert(TableAndProtocol(table: Self.localTable, protocolNumber: address.protocolNumber)) }
        for owner in owners.sorted(by: { ($0.table, $0.protocolNumber) < ($1.table, $1.protocolNumber) }) {
            do {
                for destination in try netlink.removeRoutes(table: owner.table, protocolNumber: owner.protocolNumber) {
                    logger.info("Removing route \(destination) table \(owner.table) proto \(owner.protocolNumber) left by a previous run")
                }
            } catch {
                logger.error("announce_route: cannot clear table \(owner.table) proto \(owner.protocolNumber): \(error)")
            }
        }
        holdAddresses()
        update()
    }

    public func reload(_ configuration: KeepalivedConfiguration) {
        configure(configuration)
        holdAddresses()
        update()
    }

    private static let localTable = 255

    /// Decides again: call when a quorum or a VRRP state changed.
    public func update() {
        let (changes, next) = plan.evaluate(now: loop.now()) { [self] index in whyNotServing(index) }
        for change in changes {
            switch change {
            case .announce(let route):
                let names = plan.owners(of: route).map { plan.servers[$0].name }.joined(separator: ", ")
                logger.info("Announcing route \(route) (VS \(names) can serve)")
            case .withdraw(let route, let reason):
                logger.info("Withdrawing route \(route): \(reason)")
                remove(route)
            }
        }
        for route in plan.announced.subtracting(installed).sorted() { install(route) }
        schedule(next)
    }

    private func whyNotServing(_ index: Int) -> NotServing? {
        if stopping { return .stopping }
        if inMaintenance { return .maintenance }
        if !quorumHeld(serverIndices[index]) { return .quorumLost }
        if let name = ties[index], !instanceIsMaster(name) { return .instanceNotMaster(name) }
        return nil
    }

    private func install(_ route: AnnouncedRoute) {
        do {
            try netlink.addRoute(route.kernelRoute, interfaceIndex: nil)
            installed.insert(route)
        } catch where RouteNetlink.isExists(error) {
            installed.insert(route)
        } catch {
            // Tried again at the next decision (a device that appears later, say).
            logger.error("announce_route: cannot add route \(route): \(error)")
        }
    }

    private func remove(_ route: AnnouncedRoute) {
        guard installed.remove(route) != nil else { return }
        do {
            try netlink.removeRoute(route.kernelRoute, interfaceIndex: nil)
        } catch where RouteNetlink.isMissing(error) {
        } catch {
            logger.error("announce_route: cannot remove route \(route): \(error)")
        }
    }

    private func schedule(_ deadline: Instant?) {
        timer?.cancel()
        timer = deadline.map { loop.timer(at: $0) { [weak self] in self?.update() } }
    }

    /// Withdraws every route and takes the held addresses away.
    public func stop() {
        stopping = true
        update()
        timer?.cancel()
        timer = nil
        for address in held.sorted() { setLocal(address, false) }
        held = []
    }

    // MARK: Maintenance

    private func watchMaintenanceFile(_ path: String?) {
        guard path != maintenanceFile else { return }
        maintenanceFile = path
        watcher = nil
        if let path {
            do {
                let watcher = try FileWatcher(loop: loop) { [weak self] changed in
                    guard let self, changed == self.maintenanceFile else { return }
                    self.checkMaintenance()
                    self.update()
                }
                try watcher.watch(fileAt: path)
                self.watcher = watcher
            } catch {
                logger.error("announce_maintenance_file: cannot watch \(path): \(error); it is read at start and at reloads only")
            }
        }
        checkMaintenance()
    }

    private func checkMaintenance() {
        let present = maintenanceFile.map { access($0, F_OK) == 0 } ?? false
        guard present != inMaintenance else { return }
        inMaintenance = present
        if present {
            logger.info("Entering maintenance (\(maintenanceFile ?? "")): withdrawing every announced route")
        } else {
            logger.info("Leaving maintenance: announcing again what can serve")
        }
    }

    // MARK: Held addresses

    private static func held(_ configuration: KeepalivedConfiguration) -> Set<HeldAddress> {
        let groups = configuration.virtualServerGroupsByName
        var wanted: Set<HeldAddress> = []
        for server in configuration.virtualServers {
            guard let announcement = server.announcement else { continue }
            for prefix in server.announcedPrefixes(groups: groups) where announcement.holdsLocally(prefix) {
                wanted.insert(HeldAddress(address: prefix.address, device: announcement.effectiveDevice, protocolNumber: announcement.effectiveProtocol))
            }
        }
        return wanted
    }

    private func holdAddresses() {
        for address in held.subtracting(wantedHeld).sorted() { setLocal(address, false) }
        for address in wantedHeld.subtracting(held).sorted() { setLocal(address, true) }
        held = wantedHeld
    }

    private func setLocal(_ held: HeldAddress, _ present: Bool) {
        do {
            try netlink.setLocalRoute(held.address, interfaceIndex: try RouteNetlink.interfaceIndex(held.device), protocolNumber: held.protocolNumber, present: present)
            if present { logger.info("Holding \(held.address) as local on \(held.device) for announce_route") }
        } catch where present ? RouteNetlink.isExists(error) : RouteNetlink.isMissing(error) {
        } catch {
            logger.error("announce_route: cannot \(present ? "add" : "remove") local route \(held.address) dev \(held.device): \(error)")
        }
    }

}

extension RouteAnnouncer {
    /// Every route of the configuration and whether the kernel holds it now.
    public var report: RouteAnnouncementReport {
        RouteAnnouncementReport(maintenance: inMaintenance, routes: plan.routes.map { route in
            .init(prefix: "\(route.prefix)", table: route.table, protocolNumber: route.protocolNumber, device: route.device,
                  announced: installed.contains(route), virtualServers: plan.owners(of: route).map { plan.servers[$0].name })
        })
    }
}

/// What the dumps and /metrics show of the announcements.
public struct RouteAnnouncementReport: Sendable, Codable, Equatable {
    public struct Route: Sendable, Codable, Equatable {
        public let prefix: String
        public let table: Int
        public let protocolNumber: Int
        public let device: String
        public let announced: Bool
        public let virtualServers: [String]
    }

    public var maintenance: Bool
    public var routes: [Route]

    public init(maintenance: Bool = false, routes: [Route] = []) {
        self.maintenance = maintenance
        self.routes = routes
    }

    /// keepalived_check.data's section (SIGUSR1), in the file's indented layout.
    public var dataLines: [String] {
        guard !routes.isEmpty else { return [] }
        var lines = ["------< Announced routes (swiftkeepalived) >------", " Maintenance = \(maintenance ? "yes" : "no")"]
        for route in routes {
            lines.append(" Route = \(route.prefix) dev \(route.device) table \(route.table) proto \(route.protocolNumber)")
            lines.append("   State = \(route.announced ? "announced" : "withdrawn")")
            lines.append("   Virtual servers = \(route.virtualServers.joined(separator: ", "))")
        }
        return lines
    }
}

private struct TableAndProtocol: Hashable {
    let table: Int
    let protocolNumber: Int
}

private struct HeldAddress: Hashable, Comparable {
    let address: IPAddress
    let device: String
    let protocolNumber: Int

    static func < (lhs: HeldAddress, rhs: HeldAddress) -> Bool {
        (lhs.address, lhs.device, lhs.protocolNumber) < (rhs.address, rhs.device, rhs.protocolNumber)
    }
}

extension AnnouncedRoute {
    /// Routes are matched by the kernel on their fields; the model's location is only for
    /// messages, so one stands for all (registered once, not per route added or removed).
    private static let location = SourceLocation(file: "announce_route", line: 0)

    var kernelRoute: VirtualRoute {
        var announcement = RouteAnnouncement(location: Self.location)
        announcement.table = table
        announcement.protocolNumber = protocolNumber
        announcement.device = device
        return announcement.route(for: prefix)
    }
}
