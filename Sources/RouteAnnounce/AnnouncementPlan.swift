import DaemonCore
import KeepalivedConfig

/// One route the daemon may keep for a routing daemon to announce.
public struct AnnouncedRoute: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let prefix: IPPrefix
    public let table: Int
    public let protocolNumber: Int
    public let device: String

    public init(prefix: IPPrefix, table: Int, protocolNumber: Int, device: String) {
        self.prefix = prefix
        self.table = table
        self.protocolNumber = protocolNumber
        self.device = device
    }

    /// As `ip route` would be asked for it.
    public var description: String { "\(prefix) dev \(device) table \(table) proto \(protocolNumber)" }

    public static func < (lhs: AnnouncedRoute, rhs: AnnouncedRoute) -> Bool {
        (lhs.prefix.address, lhs.prefix.length, lhs.table, lhs.protocolNumber, lhs.device)
            < (rhs.prefix.address, rhs.prefix.length, rhs.table, rhs.protocolNumber, rhs.device)
    }
}

/// Why a virtual server cannot serve now; nil when it can.
public enum NotServing: Sendable, Hashable, CustomStringConvertible {
    case quorumLost
    case instanceNotMaster(String)
    case maintenance
    case stopping

    public var description: String {
        switch self {
        case .quorumLost: "lost its quorum"
        case .instanceNotMaster(let name): "VRRP instance \(name) is not MASTER"
        case .maintenance: "maintenance"
        case .stopping: "stopping"
        }
    }
}

/// Which routes to hold, decided from the virtual servers' states; pure, with time passed in.
///
/// A route is wanted while every virtual server announcing it can serve (a director that cannot
/// serve one service of a VIP must not draw that VIP's traffic). It is added once it has been
/// wanted for the longest `up_delay` of those servers, and removed as soon as it is not: routers
/// follow a failure at once and a recovery only when it has lasted.
public struct AnnouncementPlan: Sendable {
    public struct Server: Sendable {
        public let name: String
        public let routes: [AnnouncedRoute]
        public let upDelay: Double

        public init(name: String, routes: [AnnouncedRoute], upDelay: Double) {
            self.name = name
            self.routes = routes
            self.upDelay = upDelay
        }
    }

    /// A change to make in the kernel, with the reason to log.
    public enum Change: Sendable, Hashable {
        case announce(AnnouncedRoute)
        case withdraw(AnnouncedRoute, because: String)
    }

    public private(set) var servers: [Server]
    /// Route → indices of `servers` announcing it.
    private var owners: [AnnouncedRoute: [Int]] = [:]
    public private(set) var announced: Set<AnnouncedRoute> = []
    /// When each route last became wanted (absent while not wanted).
    private var wantedSince: [AnnouncedRoute: Instant] = [:]

    public init(servers: [Server]) {
        self.servers = servers
        owners = Self.owners(servers)
    }

    private static func owners(_ servers: [Server]) -> [AnnouncedRoute: [Int]] {
        var owners: [AnnouncedRoute: [Int]] = [:]
        for (index, server) in servers.enumerated() {
            for route in server.routes where owners[route]?.last != index { owners[route, default: []].append(index) }
        }
        return owners
    }

    /// Every route any server announces.
    public var routes: [AnnouncedRoute] { owners.keys.sorted() }

    /// A new configuration: wanted-since times and announcements carry over for routes that stay;
    /// routes no server announces any more are withdrawn by the next `evaluate`.
    public mutating func replaceServers(_ newServers: [Server]) {
        servers = newServers
        owners = Self.owners(newServers)
        wantedSince = wantedSince.filter { owners[$0.key] != nil }
    }

    /// The changes due at `now`, given why each server (by index) cannot serve; and when to
    /// evaluate again for a route still waiting out its up_delay (nil: nothing waits).
    public mutating func evaluate(now: Instant, notServing: (Int) -> NotServing?) -> (changes: [Change], next: Instant?) {
        var changes: [Change] = []
        for route in announced.sorted() where owners[route] == nil {
            announced.remove(route)
            changes.append(.withdraw(route, because: "no longer in the configuration"))
        }
        var verdicts: [Int: NotServing?] = [:]
        func reason(_ index: Int) -> NotServing? {
            if let known = verdicts[index] { return known }
            let verdict = notServing(index)
            verdicts[index] = verdict
            return verdict
        }
        var next: Instant?
        for (route, indices) in owners.sorted(by: { $0.key < $1.key }) {
            if let blocking = indices.first(where: { reason($0) != nil }) {
                wantedSince[route] = nil
                if announced.remove(route) != nil, let why = reason(blocking) {
                    changes.append(.withdraw(route, because: why == .stopping ? "stopping" : "VS \(servers[blocking].name) \(why)"))
                }
                continue
            }
            guard !announced.contains(route) else { continue }
            let since = wantedSince[route] ?? now
            wantedSince[route] = since
            let due = since.adding(seconds: indices.map { servers[$0].upDelay }.max() ?? 0)
            if due <= now {
                announced.insert(route)
                changes.append(.announce(route))
            } else {
                next = min(next ?? due, due)
            }
        }
        return (changes, next)
    }

    /// Servers (by index) that announce `route`.
    public func owners(of route: AnnouncedRoute) -> [Int] { owners[route] ?? [] }
}
