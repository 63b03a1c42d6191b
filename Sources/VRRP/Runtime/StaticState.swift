import KeepalivedConfig
import Logging
import DaemonCore

/// `static_ipaddress`, `static_routes` and `static_rules`, as keepalived's VRRP process keeps
/// them: leftovers of a killed predecessor removed and everything set at start, whatever the
/// instances do; put back when someone deletes them (unless `no_track`); changed by the diff on
/// reload; removed at stop. Lives on the event loop's queue.
final class StaticState {
    private let netlink: RouteNetlink
    private let logger: Logger
    private var addresses: [VirtualIPAddress]
    private var routes: [VirtualRoute]
    private var rules: [RoutingRule]
    /// What is in the kernel because we put it there, by value without location.
    private var setAddresses: Set<VirtualIPAddress> = []
    private var setRoutes: Set<VirtualRoute> = []
    private var setRules: Set<RoutingRule> = []

    init(_ configuration: KeepalivedConfiguration, netlink: RouteNetlink, logger: Logger) {
        self.netlink = netlink
        self.logger = logger
        addresses = configuration.staticAddresses
        routes = configuration.staticRoutes
        rules = configuration.staticRules
    }

    var isEmpty: Bool { addresses.isEmpty && routes.isEmpty && rules.isEmpty }

    /// At start: what a killed predecessor left is removed first (as keepalived does), then
    /// everything is set.
    func start() {
        for rule in rules { try? netlink.removeRule(rule) }
        for route in routes { try? removeRoute(route) }
        for address in addresses { try? removeAddress(address) }
        setAll()
    }

    /// At stop, in keepalived's order: rules, routes, addresses.
    func stop() {
        for rule in rules where setRules.contains(rule.ignoringLocation) { remove(rule) }
        for route in routes where setRoutes.contains(route.ignoringLocation) { remove(route) }
        for address in addresses where setAddresses.contains(address.ignoringLocation) { remove(address) }
        setRules.removeAll()
        setRoutes.removeAll()
        setAddresses.removeAll()
    }

    /// SIGHUP: what left the configuration is removed, what is new is set, the rest untouched.
    func reload(_ configuration: KeepalivedConfiguration) {
        let wantedRules = Set(configuration.staticRules.map(\.ignoringLocation))
        let wantedRoutes = Set(configuration.staticRoutes.map(\.ignoringLocation))
        let wantedAddresses = Set(configuration.staticAddresses.map(\.ignoringLocation))
        for rule in rules where !wantedRules.contains(rule.ignoringLocation) && setRules.contains(rule.ignoringLocation) {
            remove(rule)
            setRules.remove(rule.ignoringLocation)
        }
        for route in routes where !wantedRoutes.contains(route.ignoringLocation) && setRoutes.contains(route.ignoringLocation) {
            remove(route)
            setRoutes.remove(route.ignoringLocation)
        }
        for address in addresses where !wantedAddresses.contains(address.ignoringLocation) && setAddresses.contains(address.ignoringLocation) {
            remove(address)
            setAddresses.remove(address.ignoringLocation)
        }
        addresses = configuration.staticAddresses
        routes = configuration.staticRoutes
        rules = configuration.staticRules
        setAll()
    }

    /// Netlink reported deletions: each tracked entry that is gone is added again, with
    /// keepalived's line. An add the kernel refuses as existing means the entry is still there.
    func restore(after deletions: RoutingMonitor.Deletions) {
        if deletions.contains(.address) {
            for address in addresses where !address.noTrack && setAddresses.contains(address.ignoringLocation) {
                guard let device = device(of: address) else { continue }
                if (try? addAddress(address)) != nil {
                    logger.info("Restoring deleted static address \(KernelObjectText.address(address, device: device))")
                }
            }
        }
        // Deleting an address takes the routes through it along without a route notification.
        if deletions.contains(.route) || deletions.contains(.address) {
            for route in routes where !route.noTrack && setRoutes.contains(route.ignoringLocation) {
                if (try? addRoute(route)) != nil {
                    logger.info("Restoring deleted static route \(KernelObjectText.route(route))")
                }
            }
        }
        if deletions.contains(.rule) {
            for rule in rules where !rule.noTrack && setRules.contains(rule.ignoringLocation) {
                if (try? netlink.addRule(rule)) != nil {
                    logger.info("Restoring deleted static rule \(KernelObjectText.rule(rule))")
                }
            }
        }
    }

    // MARK: Kernel work

    private func setAll() {
        for address in addresses where !setAddresses.contains(address.ignoringLocation) {
            do {
                try addAddress(address)
                setAddresses.insert(address.ignoringLocation)
            } catch where RouteNetlink.isExists(error) {
                setAddresses.insert(address.ignoringLocation)
            } catch {
                logger.error("cannot add static address \(address.address): \(error)")
            }
        }
        for route in routes where !setRoutes.contains(route.ignoringLocation) {
            do {
                try addRoute(route)
                setRoutes.insert(route.ignoringLocation)
            } catch where RouteNetlink.isExists(error) {
                setRoutes.insert(route.ignoringLocation)
            } catch {
                logger.error("cannot add static route \(KernelObjectText.route(route)): \(error)")
            }
        }
        for rule in rules where !setRules.contains(rule.ignoringLocation) {
            do {
                try netlink.addRule(rule)
                setRules.insert(rule.ignoringLocation)
            } catch where RouteNetlink.isExists(error) {
                setRules.insert(rule.ignoringLocation)
            } catch {
                logger.error("cannot add static rule \(KernelObjectText.rule(rule)): \(error)")
            }
        }
    }

    private func remove(_ rule: RoutingRule) {
        do { try netlink.removeRule(rule) } catch where RouteNetlink.isMissing(error) {} catch {
            logger.error("cannot remove static rule \(KernelObjectText.rule(rule)): \(error)")
        }
    }

    private func remove(_ route: VirtualRoute) {
        do { try removeRoute(route) } catch where RouteNetlink.isMissing(error) {} catch {
            logger.error("cannot remove static route \(KernelObjectText.route(route)): \(error)")
        }
    }

    private func remove(_ address: VirtualIPAddress) {
        do { try removeAddress(address) } catch where RouteNetlink.isMissing(error) {} catch {
            logger.error("cannot remove static address \(address.address): \(error)")
        }
    }

    /// A static address without `dev` goes on the interface of the default route, as in keepalived.
    private func device(of address: VirtualIPAddress) -> String? {
        address.device ?? NetworkInterface.defaultRouteInterface()
    }

    private func interfaceIndex(of address: VirtualIPAddress) throws -> Int32 {
        guard let device = device(of: address) else {
            throw SystemError("static address \(address.address)", code: 0,
                              detail: "Static address \(address.address) requires either an interface or default interface must exist")
        }
        return try NetworkInterface.named(device).index
    }

    private func addAddress(_ address: VirtualIPAddress) throws {
        try netlink.addAddress(address, interfaceIndex: try interfaceIndex(of: address))
    }

    private func removeAddress(_ address: VirtualIPAddress) throws {
        try netlink.removeAddress(address, interfaceIndex: try interfaceIndex(of: address))
    }

    private func addRoute(_ route: VirtualRoute) throws {
        try netlink.addRoute(route, interfaceIndex: nil)
    }

    private func removeRoute(_ route: VirtualRoute) throws {
        try netlink.removeRoute(route, interfaceIndex: nil)
    }
}
