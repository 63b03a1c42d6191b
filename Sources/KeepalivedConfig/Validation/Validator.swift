/// Checks that need the whole configuration: required keywords, references between blocks,
/// duplicates and combinations that cannot mean what was written. Each problem points at the
/// block's opening line, or at the second occurrence of a duplicate.
private struct ServiceKey: Hashable {
    let key: VirtualServerKey
    let protocolName: String
}

struct Validator {
    let configuration: KeepalivedConfiguration
    let options: ConfigLoadOptions
    /// Settings written with a bad value (already reported), so they are not called missing too.
    let rejected: Set<RejectedSetting>
    var diagnostics = Diagnostics()

    init(configuration: KeepalivedConfiguration, options: ConfigLoadOptions, rejected: Set<RejectedSetting> = []) {
        self.configuration = configuration
        self.options = options
        self.rejected = rejected
    }

    mutating func run() {
        checkNotifyFifos()
        checkScripts()
        checkTrackFiles()
        checkTrackProcesses()
        checkInstances()
        checkStaticState()
        checkSyncGroups()
        checkVirtualServerGroups()
        checkVirtualServers()
        checkSyncDaemon()
    }

    /// keepalived drops a sync daemon whose instance is missing ("Unable to find vrrp instance")
    /// and runs without it; connections would then be lost at the first failover, so it is an error.
    private mutating func checkSyncDaemon() {
        guard let sync = configuration.globalDefs.lvsSyncDaemon, let location = configuration.globalDefs.lvsSyncDaemonLocation else { return }
        if let name = sync.instance, !configuration.vrrpInstances.contains(where: { $0.name == name }) {
            diagnostics.error(location, "lvs_sync_daemon: there is no vrrp_instance \(name) to follow")
        }
        if let exists = interfaceCheck, !exists(sync.interface) {
            diagnostics.warning(location, "lvs_sync_daemon: interface \(sync.interface) does not exist on this host")
        }
    }

    /// Reports every name after the first with an error pointing back at the first.
    private mutating func checkUnique<Item>(_ items: [Item], what: String, name: (Item) -> String,
                                            location: (Item) -> SourceLocation) {
        var first: [String: SourceLocation] = [:]
        for item in items {
            let key = name(item)
            if let earlier = first[key] {
                diagnostics.error(location(item), "duplicate \(what) \(key) (first defined at \(earlier))")
            } else {
                first[key] = location(item)
            }
        }
    }

    /// With `dynamic_interfaces`, interfaces may appear after start-up, so absence is no warning.
    private var interfaceCheck: (@Sendable (String) -> Bool)? {
        if configuration.globalDefs.dynamicInterfaces == true { return nil }
        return options.interfaceExists
    }

    // MARK: Process

    /// keepalived's rules for FIFOs that share a path (see `NotifyFifoPlan`), said at their lines.
    private mutating func checkNotifyFifos() {
        let process = configuration.globalDefs.process
        for kind in NotifyFifoKind.allCases {
            let fifo = process.fifo(kind)
            if fifo.path == nil, fifo.script != nil, let location = fifo.scriptLocation {
                diagnostics.warning(location, "\(kind.keyword)_script without \(kind.keyword) is ignored")
            }
        }
        let global = process.fifo(.global), vrrp = process.fifo(.vrrp), lvs = process.fifo(.lvs)
        if let path = global.path, vrrp.path == path, let location = vrrp.location {
            diagnostics.warning(location, "notify FIFO \(path) has been specified for global and vrrp FIFO - ignoring vrrp FIFO")
        }
        if let path = global.path, lvs.path == path, let location = lvs.location {
            diagnostics.warning(location, "notify FIFO \(path) has been specified for global and LVS FIFO - ignoring LVS FIFO")
        } else if let path = lvs.path, vrrp.path == path, lvs.script != nil, vrrp.script != nil, let location = lvs.scriptLocation {
            diagnostics.warning(location, "LVS notify FIFO and vrrp FIFO are the same both with scripts - ignoring LVS FIFO script")
        }
    }

    // MARK: VRRP

    private mutating func checkTrackFiles() {
        checkUnique(configuration.trackFiles, what: "track_file", name: { $0.name }, location: { $0.location })
        for file in configuration.trackFiles where file.path?.isEmpty ?? true {
            diagnostics.error(file.location, "track_file \(file.name) has no 'file' to follow")
        }
        let names = Set(configuration.trackFiles.map(\.name))
        for tracked in configuration.vrrpInstances.flatMap(\.trackFiles) + configuration.syncGroups.flatMap(\.trackFiles)
        where !names.contains(tracked.name) {
            diagnostics.error(tracked.location, "track_file \(tracked.name) names no track_file block")
        }
    }

    private mutating func checkTrackProcesses() {
        checkUnique(configuration.trackProcesses, what: "vrrp_track_process", name: { $0.name }, location: { $0.location })
        for tracked in configuration.trackProcesses {
            if tracked.process?.isEmpty ?? true {
                diagnostics.error(tracked.location, "track process '\(tracked.name)' process name not specified")
            }
            if let quorum = tracked.quorum, let maximum = tracked.quorumMax, quorum > maximum {
                diagnostics.error(tracked.location, "vrrp_track_process \(tracked.name): quorum \(quorum) is greater than quorum_max \(maximum)")
            }
        }
        let names = Set(configuration.trackProcesses.map(\.name))
        for tracked in configuration.vrrpInstances.flatMap(\.trackProcesses) + configuration.syncGroups.flatMap(\.trackProcesses)
        where !names.contains(tracked.name) {
            diagnostics.error(tracked.location, "track_process \(tracked.name) names no vrrp_track_process block")
        }
    }

    private mutating func checkScripts() {
        checkUnique(configuration.vrrpScripts, what: "vrrp_script", name: { $0.name }, location: { $0.location })
        for script in configuration.vrrpScripts where script.script?.command.isEmpty ?? true {
            diagnostics.warning(script.location, "vrrp_script \(script.name) has no 'script' to run; it is dropped and its trackers go on without it, as keepalived does")
        }
    }

    private mutating func checkInstances() {
        let instances = configuration.vrrpInstances
        checkUnique(instances, what: "vrrp_instance", name: { $0.name }, location: { $0.location })
        let scriptNames = Set(configuration.vrrpScripts.map(\.name))
        var routers: [String: (VRRPInstance, SourceLocation)] = [:]
        for instance in instances {
            let label = "vrrp_instance \(instance.name)"
            if instance.interface == nil && instance.unicastPeers.isEmpty {
                diagnostics.error(instance.location, "\(label) has no 'interface' (required unless unicast_peer is used)")
            }
            if instance.virtualRouterID == nil && !rejected.contains(RejectedSetting(block: instance.location, keyword: "virtual_router_id")) {
                diagnostics.error(instance.location, "\(label) has no 'virtual_router_id' (1-255, the same on every router of the group)")
            }
            checkAuthentication(instance, label: label)
            checkStrictMode(instance, label: label)
            checkIPVLAN(instance, label: label)
            checkAddresses(instance, label: label)
            if let interval = instance.advertInterval, effectiveVersion(instance) == 2, interval != interval.rounded() || interval < 1 {
                diagnostics.error(instance.advertIntervalLocation ?? instance.location, "\(label): advert_int \(formatSeconds(interval)) is not a whole number of seconds, which VRRPv2 adverts cannot carry (use 'version 3' for fractions)")
            }
            if let interval = instance.advertInterval, effectiveVersion(instance) == 3 {
                let location = instance.advertIntervalLocation ?? instance.location
                if interval > 40.95 {
                    diagnostics.error(location, "\(label): advert_int \(formatSeconds(interval)) is longer than the 40.95 s VRRPv3 adverts can carry")
                } else if abs((interval * 100).rounded() - interval * 100) > 1e-6 {
                    diagnostics.warning(location, "\(label): advert_int \(formatSeconds(interval)) is sent as \(formatSeconds((interval * 100).rounded() / 100)): VRRPv3 carries centiseconds")
                }
            }
            if instance.virtualIPAddresses.isEmpty && instance.excludedIPAddresses.isEmpty && !instance.allowsNoVirtualAddresses {
                diagnostics.warning(instance.location, "\(label) has no virtual_ipaddress: it will elect a master but move no address")
            }
            if instance.noPreempt && instance.state == .master {
                diagnostics.warning(instance.location, "\(label): nopreempt has no effect with 'state MASTER' (use 'state BACKUP' on every router)")
            }
            for tracked in instance.trackScripts where !scriptNames.contains(tracked.name) {
                diagnostics.error(tracked.location, "track_script \(tracked.name) names no vrrp_script")
            }
            if let exists = interfaceCheck {
                if let interface = instance.interface, !exists(interface) {
                    diagnostics.warning(instance.location, "\(label): interface \(interface) does not exist on this host")
                }
                for tracked in instance.trackInterfaces where !exists(tracked.name) {
                    diagnostics.warning(tracked.location, "track_interface \(tracked.name) does not exist on this host")
                }
            }
            if let vrid = instance.virtualRouterID, let interface = instance.interface {
                let key = "\(interface)|\(instance.family)|\(vrid)|\(instance.multicastDestination.map { "\($0)" } ?? "")"
                if let (other, location) = routers[key], peersOverlap(instance, other) {
                    diagnostics.error(instance.location, "\(label) uses virtual_router_id \(vrid) on \(interface), as vrrp_instance \(other.name) does (at \(location)); each router group needs its own VRID on an interface")
                } else {
                    routers[key] = (instance, instance.location)
                }
            }
        }
    }

    private func effectiveVersion(_ instance: VRRPInstance) -> Int {
        instance.effectiveVersion(configuration.globalDefs)
    }

    /// Two instances on one interface can share a VRID only when both are unicast to different peers.
    private func peersOverlap(_ a: VRRPInstance, _ b: VRRPInstance) -> Bool {
        if a.unicastPeers.isEmpty || b.unicastPeers.isEmpty { return true }
        return !Set(a.unicastPeers.map(\.address)).isDisjoint(with: b.unicastPeers.map(\.address))
    }

    private mutating func checkAuthentication(_ instance: VRRPInstance, label: String) {
        guard let authentication = instance.authentication else { return }
        if authentication.type == nil {
            diagnostics.error(authentication.location, "\(label): authentication needs 'auth_type PASS' or 'auth_type AH'")
        }
        if authentication.password == nil {
            diagnostics.error(authentication.location, "\(label): authentication needs 'auth_pass'")
        }
        if effectiveVersion(instance) == 3 {
            // keepalived ignores it with a warning: a config switched to `vrrp_version 3` keeps working.
            diagnostics.warning(authentication.location, "\(label): VRRP version 3 has no authentication; the block is ignored, as keepalived does")
        }
    }

    /// keepalived's strict mode (RFC conformance) refuses some settings and silently drops others;
    /// we say which.
    private mutating func checkIPVLAN(_ instance: VRRPInstance, label: String) {
        guard let ipvlan = instance.ipvlan else { return }
        if instance.useVMAC {
            diagnostics.error(instance.location, "\(label): use_vmac and use_ipvlan both make the interface the VIPs live on; keep one")
        }
        if let address = ipvlan.address, address.address.family != instance.family {
            diagnostics.error(address.location, "\(label): use_ipvlan address \(address.address) is not of the instance's family")
        }
    }

    private mutating func checkStrictMode(_ instance: VRRPInstance, label: String) {
        guard instance.strictMode ?? configuration.globalDefs.vrrpStrict ?? false else { return }
        if let authentication = instance.authentication {
            diagnostics.warning(authentication.location, "\(label): strict mode (vrrp_strict) allows no authentication; the block is ignored, as keepalived does")
        }
        if instance.state == .master && instance.effectivePriority != 255 {
            diagnostics.warning(instance.location, "\(label): strict mode (vrrp_strict) lets only the address owner (priority 255) start as MASTER; it starts as BACKUP, as keepalived does")
        }
        if !instance.unicastPeers.isEmpty {
            diagnostics.error(instance.location, "\(label): strict mode (vrrp_strict) does not allow unicast_peer")
        }
        if instance.virtualIPAddresses.isEmpty {
            diagnostics.error(instance.location, "\(label): strict mode (vrrp_strict) needs at least one virtual_ipaddress")
        }
        if instance.allowsNoVirtualAddresses {
            diagnostics.warning(instance.location, "\(label): strict mode (vrrp_strict) does not allow no_virtual_ipaddress; it is ignored, as keepalived does")
        }
        if instance.preemptDelay != nil {
            diagnostics.warning(instance.location, "\(label): strict mode (vrrp_strict) does not support preempt_delay; it is ignored, as keepalived does")
        }
        if instance.higherPrioSendAdvert == true {
            diagnostics.warning(instance.location, "\(label): strict mode (vrrp_strict) does not allow higher_prio_send_advert; it is ignored, as keepalived does")
        }
    }

    private mutating func checkAddresses(_ instance: VRRPInstance, label: String) {
        let family = instance.family
        for vip in instance.virtualIPAddresses where vip.address.family != family {
            diagnostics.error(vip.location, "\(label): virtual_ipaddress mixes IPv4 and IPv6 (\(vip.address)); put the other family in virtual_ipaddress_excluded")
        }
        for peer in instance.unicastPeers where peer.address.family != family {
            diagnostics.error(peer.location, "\(label): unicast_peer \(peer.address) is not of the instance's address family")
        }
        if let source = instance.unicastSourceIP, source.family != family {
            diagnostics.error(instance.location, "\(label): unicast_src_ip \(source) is not of the instance's address family")
        }
        if let exists = interfaceCheck {
            for vip in instance.virtualIPAddresses + instance.excludedIPAddresses {
                if let device = vip.device, !exists(device) {
                    diagnostics.warning(vip.location, "\(label): interface \(device) of \(vip.address) does not exist on this host")
                }
            }
        }
    }

    /// Interfaces named by static and virtual routes and rules; a static address without `dev`.
    private mutating func checkStaticState() {
        for address in configuration.staticAddresses where address.device == nil {
            diagnostics.warning(address.location, "static address \(address.address) has no 'dev'; it goes on the interface of the default route, as keepalived does")
        }
        guard let exists = interfaceCheck else { return }
        var named: [(String, SourceLocation)] = configuration.staticAddresses.compactMap { address in address.device.map { ($0, address.location) } }
        let routes = configuration.staticRoutes + configuration.vrrpInstances.flatMap(\.virtualRoutes)
        for route in routes {
            named += ([route.device] + route.nexthops.map(\.device)).compactMap { $0.map { ($0, route.location) } }
        }
        for rule in configuration.staticRules + configuration.vrrpInstances.flatMap(\.virtualRules) {
            named += [rule.inputInterface, rule.outputInterface].compactMap { $0.map { ($0, rule.location) } }
        }
        for (interface, location) in named where !exists(interface) {
            diagnostics.warning(location, "interface \(interface) does not exist on this host")
        }
    }

    private mutating func checkSyncGroups() {
        checkUnique(configuration.syncGroups, what: "vrrp_sync_group", name: { $0.name }, location: { $0.location })
        let instanceNames = Set(configuration.vrrpInstances.map(\.name))
        var owner: [String: String] = [:]
        for group in configuration.syncGroups {
            if group.members.isEmpty {
                diagnostics.error(group.location, "vrrp_sync_group \(group.name) has no 'group { … }' of instances")
            } else if group.members.count == 1 {
                diagnostics.warning(group.location, "vrrp_sync_group \(group.name) has a single instance; a sync group needs two to mean anything")
            }
            for member in group.members {
                if !instanceNames.contains(member) {
                    diagnostics.error(group.location, "vrrp_sync_group \(group.name) names vrrp_instance \(member), which is not defined")
                } else if let other = owner[member] {
                    diagnostics.error(group.location, "vrrp_instance \(member) is in vrrp_sync_group \(other) and \(group.name); an instance can be in one group only")
                } else {
                    owner[member] = group.name
                }
            }
        }
    }

    // MARK: LVS

    private mutating func checkVirtualServerGroups() {
        checkUnique(configuration.virtualServerGroups, what: "virtual_server_group", name: { $0.name }, location: { $0.location })
        for group in configuration.virtualServerGroups where group.entries.isEmpty {
            diagnostics.warning(group.location, "virtual_server_group \(group.name) is empty")
        }
    }

    private func family(of server: VirtualServer, groups: [String: VirtualServerGroup]) -> AddressFamily? {
        switch server.key {
        case .address(let address, _): return address.family
        case .fwmark: return server.ipFamily
        case .group(let name):
            for (entry, _) in groups[name]?.entries ?? [] {
                if case .range(let first, _, _) = entry { return first.family }
            }
            return server.ipFamily
        }
    }

    private mutating func checkVirtualServers() {
        let groups = configuration.virtualServerGroupsByName
        var services: [ServiceKey: SourceLocation] = [:]
        for server in configuration.virtualServers {
            let label = "virtual_server \(server.key)"
            if case .group(let name) = server.key, groups[name] == nil {
                diagnostics.error(server.location, "\(label) names a virtual_server_group that is not defined")
            }
            var protocolKey = server.effectiveProtocol.rawValue
            if case .fwmark = server.key {
                protocolKey = "fwmark"
            } else if server.protocolName == nil {
                diagnostics.warning(server.location, "\(label) has no 'protocol'; TCP is used (keepalived 2.x would program UDP here)")
            }
            let serviceKey = ServiceKey(key: server.key, protocolName: protocolKey)
            if let first = services[serviceKey] {
                diagnostics.error(server.location, "duplicate \(label) (first defined at \(first))")
            } else {
                services[serviceKey] = server.location
            }
            if case .address(_, let port) = server.key, port == 0, (server.persistenceTimeout ?? 0) == 0 {
                diagnostics.error(server.location, "\(label) has no port; only a persistent service (persistence_timeout) may leave it out")
            }
            let family = family(of: server, groups: groups)
            if let sorry = server.sorryServer, let family, sorry.address.family != family,
               (server.sorryServerForwardingMethod ?? server.effectiveForwardingMethod) != .tun {
                diagnostics.error(server.location, "\(label): sorry_server \(sorry.address) is not of the service's address family")
            }
            checkRealServers(of: server, family: family, label: label)
            checkAnnouncement(of: server, groups: groups, label: label)
        }
    }

    private mutating func checkAnnouncement(of server: VirtualServer, groups: [String: VirtualServerGroup], label: String) {
        guard let announcement = server.announcement else { return }
        if let name = announcement.vrrpInstance, !configuration.vrrpInstances.contains(where: { $0.name == name }) {
            diagnostics.error(announcement.location, "\(label): announce_route names vrrp_instance \(name), which is not defined")
        }
        var groupMissing = false
        if case .group(let name) = server.key { groupMissing = groups[name] == nil }
        if !groupMissing && server.announcedPrefixes(groups: groups).isEmpty {
            diagnostics.error(announcement.location, "\(label): announce_route has nothing to announce (a fwmark service has no address); add 'prefix ADDRESS/LENGTH' lines")
        }
    }

    private mutating func checkRealServers(of server: VirtualServer, family: AddressFamily?, label: String) {
        // Sorting finds duplicates without hashing each of tens of thousands of real servers.
        let servers = server.realServers
        let ports = servers.map { $0.effectivePort(in: server) }
        let order = servers.indices.sorted { (servers[$0].address, ports[$0], $0) < (servers[$1].address, ports[$1], $1) }
        for (previous, current) in zip(order, order.dropFirst()) {
            let first = servers[previous]
            let again = servers[current]
            if first.address == again.address && ports[previous] == ports[current] {
                diagnostics.error(again.location, "\(label): duplicate real_server \(again.address) \(ports[current]) (first at \(first.location))")
            }
        }
        for real in servers {
            if real.port == 0, case .address(_, let servicePort) = server.key, servicePort != 0, real.effectiveForwardingMethod(in: server) == .nat {
                diagnostics.error(real.location, "\(label): real_server \(real.address) port 0 cannot be used with NAT, which must rewrite the port; write the server's port or leave it out (port 0 is for fwmark services, DR and TUN)")
            }
            if let written = real.port, case .address(_, let servicePort) = server.key, servicePort != 0,
               real.effectiveForwardingMethod(in: server) != .nat, written != servicePort {
                diagnostics.warning(real.location, "\(label): real_server \(real.address) port \(written) differs from the service's port \(servicePort); \(real.effectiveForwardingMethod(in: server).rawValue) forwards without changing the port, so \(servicePort) is used (keepalived resets it too)")
            }
            if let family, real.address.family != family, real.effectiveForwardingMethod(in: server) != .tun {
                diagnostics.error(real.location, "\(label): real_server \(real.address) is not of the service's address family (only tunnelled real servers may differ)")
            }
            for checker in real.checkers {
                checkChecker(checker, real: real)
                checkPort(of: checker, real: real, server: server)
            }
        }
    }

    /// A checker that connects to port 0 always fails: under a fwmark service (or a real server
    /// on port 0) it needs connect_port.
    private mutating func checkPort(of checker: HealthChecker, real: RealServer, server: VirtualServer) {
        switch checker.kind {
        case .miscCheck, .pingCheck, .fileCheck: return
        default: break
        }
        if checker.connectPort == nil && real.effectivePort(in: server) == 0 {
            diagnostics.warning(checker.location, "\(checker.kind.keyword) for real_server \(real.address) would connect to port 0, which always fails; set connect_port")
        }
    }

    /// The pattern must compile (keepalived would log and check on without it), and its
    /// settings mean nothing without it.
    private mutating func checkRegex(of url: CheckedURL) {
        guard let regex = url.regex else { return }
        guard let pattern = regex.pattern else {
            return diagnostics.warning(url.location, "regex parameters specified without regex; they are ignored, as keepalived does")
        }
        do {
            _ = try CompiledRegex(pattern: pattern, options: regex.options)
        } catch {
            diagnostics.error(url.location, "regex '\(pattern)' does not compile: \(error)")
        }
        if let minimum = regex.minOffset, let maximum = regex.maxOffset, minimum > maximum {
            diagnostics.error(url.location, "regex_min_offset \(minimum) is beyond regex_max_offset \(maximum): no match could count")
        }
    }

    private mutating func checkChecker(_ checker: HealthChecker, real: RealServer) {
        switch checker.kind {
        case .httpGet(let http), .sslGet(let http):
            if http.urls.isEmpty {
                diagnostics.error(checker.location, "\(checker.kind.keyword) for real_server \(real.address) has no 'url { path … }' to fetch")
            }
            for url in http.urls where url.path == nil {
                diagnostics.error(url.location, "url has no 'path'")
            }
            for url in http.urls { checkRegex(of: url) }
        case .miscCheck(let misc):
            if misc.path?.command.isEmpty ?? true {
                diagnostics.error(checker.location, "MISC_CHECK for real_server \(real.address) has no 'misc_path' to run")
            }
        case .tcpCheck, .pingCheck, .dnsCheck, .smtpCheck:
            break
        case .fileCheck(let file):
            if let name = file.trackFile {
                if !configuration.trackFiles.contains(where: { $0.name == name }) {
                    diagnostics.error(checker.location, "FILE_CHECK for real_server \(real.address) names track_file \(name), which is not defined")
                }
            } else {
                diagnostics.error(checker.location, "FILE_CHECK for real_server \(real.address) has no 'track_file' to follow")
            }
        case .udpCheck(let udp):
            if let minimum = udp.minReplyLength, let maximum = udp.maxReplyLength, minimum > maximum {
                diagnostics.error(checker.location, "UDP_CHECK for real_server \(real.address): min_reply_length \(minimum) is larger than max_reply_length \(maximum)")
            }
        }
    }
}
