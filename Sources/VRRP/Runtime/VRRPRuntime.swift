#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import KeepalivedConfig
import Logging
import DaemonCore

/// What instances share: the loop, the log, rtnetlink, interface lookups, notify scripts and the
/// hook that keeps sync groups and trackers informed.
final class VRRPEnvironment: @unchecked Sendable {
    let loop: EventLoop
    let logger: Logger
    let netlink: RouteNetlink
    /// The nftables table of `no_accept` masters; nil while no instance needs it.
    var firewall: VIPFirewall?
    var onNotify: (VRRPInstance, VRRPState, Int) -> Void = { _, _, _ in }
    var onStateObserved: (InstanceRuntime) -> Void = { _ in }
    /// An instance took its addresses (true) or gave them up.
    var onOwnership: (String, Bool) -> Void = { _, _ in }
    /// How late a master's advert timer ran, in seconds (see `VRRPRuntime.onAdvertDelay`).
    var onAdvertDelay: (InstanceRuntime, Double) -> Void = { _, _ in }

    init(loop: EventLoop, logger: Logger, netlink: RouteNetlink) {
        self.loop = loop
        self.logger = logger
        self.netlink = netlink
    }

    /// The index of `device`, or nil for "the instance's own interface".
    func interfaceIndex(_ device: String?) -> Int32? {
        guard let device else { return nil }
        return try? NetworkInterface.named(device).index
    }

    func notify(instance: VRRPInstance, state: VRRPState, priority: Int) {
        onNotify(instance, state, priority)
    }

    func stateObserved(_ instance: InstanceRuntime) {
        onStateObserved(instance)
    }
}

/// The VRRP part of the daemon: every configured instance, the interfaces they use, link
/// tracking and notify scripts. Create, `start()` and `stop()` it on the event loop's queue.
public final class VRRPRuntime: @unchecked Sendable {
    private(set) var configuration: KeepalivedConfiguration
    let environment: VRRPEnvironment
    private var interfaces: [String: InterfaceRuntime] = [:]
    /// use_vmac's macvlans by instance name, and the base interface each is on.
    private var virtualMACs: [String: (name: String, base: String)] = [:]
    /// A base interface's arp_ignore and arp_filter before use_vmac changed them.
    private var baseSettings: [String: (arpIgnore: Int, arpFilter: Int)] = [:]
    private var instances: [InstanceRuntime] = []
    private var linkMonitor: LinkMonitor?
    /// The index each instance's interface had when the instance was made: another one means the
    /// interface was deleted and made again, and its sockets and addresses belong to the old one.
    private var interfaceIndexes: [String: UInt32] = [:]
    /// Instances to make again once their new interface can take them (up, with its address),
    /// tried at each link change and every second meanwhile.
    private var pendingRestarts: Set<String> = []
    private var restartRetry: LoopTimer?
    private var linkSource: LoopReadSource?
    private let staticState: StaticState
    /// Deletions of addresses, routes and rules, for the static ones to be put back.
    private var routingMonitor: RoutingMonitor?
    private var routingSource: LoopReadSource?
    private let scripts: ScriptRunner
    private(set) var trackedScripts: [String: TrackedScript] = [:]
    /// The track_files some instance follows; their changes come from inotify.
    private var trackedFiles: TrackedFiles?
    /// The vrrp_track_processes some instance follows.
    private var trackedProcesses: TrackedProcesses?
    /// Sync group of each grouped instance, by instance name.
    private var groups: [String: VRRPSyncGroup] = [:]
    private var lastStates: [String: VRRPState] = [:]
    /// Link state of every interface an instance uses or tracks, as last logged.
    private var linkStates: [String: Bool] = [:]
    private var logger: Logger { environment.logger }
    /// Where instance and group states are also written as keepalived's FIFO lines.
    public var notifyFifos: NotifyFifos?
    /// Told by name when an instance becomes MASTER (true) or stops being one: the IPVS sync
    /// daemons follow it.
    public var onMastership: (String, Bool) -> Void {
        get { environment.onOwnership }
        set { environment.onOwnership = newValue }
    }

    /// `handler` is called on the loop each time a master's advert is due, with how late its
    /// timer ran (in seconds) after the deadline the state machine set: the send jitter /metrics shows.
    public func observeAdvertDelays(_ handler: @escaping (_ instance: String, _ seconds: Double) -> Void) {
        environment.onAdvertDelay = { instance, seconds in handler(instance.config.name, seconds) }
    }

    /// Sends the e-mail alerts of instances and sync groups whose `smtp_alert` is on (nil: the
    /// configuration sends no mail).
    public var mailer: MailAlerter?
    /// The state last mailed, by instance and by group: keepalived mails a state once.
    private var lastMailed: [String: VRRPState] = [:]

    /// `scripts` is the daemon's one runner: it reaps every child, so the parts must share it.
    public init(configuration: KeepalivedConfiguration, loop: EventLoop, scripts: ScriptRunner, logger: Logger) throws {
        self.configuration = configuration
        environment = VRRPEnvironment(loop: loop, logger: logger, netlink: try RouteNetlink())
        self.scripts = scripts
        staticState = StaticState(configuration, netlink: environment.netlink, logger: logger)
        for instanceConfig in configuration.vrrpInstances {
            if let instance = try makeInstance(instanceConfig) { instances.append(instance) }
        }
        environment.onNotify = { [weak self, scripts] instance, state, priority in
            scripts.notify(instance: instance, state: state, priority: priority)
            self?.notifyFifos?.write(NotifyFifoLine.instance(instance.name, state: state.rawValue, priority: priority), from: .vrrp)
            self?.mail(instance: instance, state: state)
        }
        trackedScripts = makeTrackedScripts(keeping: [:])
        groups = Self.syncGroupsByMember(configuration)
        environment.onStateObserved = { [weak self] instance in self?.observe(instance) }
    }

    /// A runtime for one instance on its interface (opened on first use), or nil when the
    /// instance cannot run here (logged).
    private func makeInstance(_ instanceConfig: VRRPInstance) throws -> InstanceRuntime? {
        guard let name = instanceConfig.interface else {
            logger.error("(\(instanceConfig.name)) has no interface; unicast without an interface is not supported yet")
            return nil
        }
        let vmac = try makeVirtualMAC(instanceConfig, base: name)
        let key = Self.interfaceKey(instanceConfig, globals: configuration.globalDefs)
        let interfaceRuntime: InterfaceRuntime
        if let existing = interfaces[key] {
            interfaceRuntime = existing
        } else {
            let base = try NetworkInterface.named(name)
            let interface = vmac.map { instanceConfig.vmacTransmitsOnBase ? base : $0 } ?? base
            interfaceRuntime = try InterfaceRuntime(interface: interface, family: instanceConfig.family,
                                                    joinsMulticast: multicastGroup(for: key), logger: logger)
            interfaces[key] = interfaceRuntime
        }
        // keepalived 2.2.7 puts an ipvlan instance's VIPs on the base interface: only the adverts
        // leave from the ipvlan, with its address.
        let addressInterface = instanceConfig.ipvlan == nil ? vmac : try NetworkInterface.named(name)
        let instance: InstanceRuntime
        do {
            instance = try InstanceRuntime(config: instanceConfig, globals: configuration.globalDefs, interface: interfaceRuntime,
                                           environment: environment, addressInterface: addressInterface)
        } catch {
            // Not kept: the next attempt opens the interface again (it may have its address by then).
            if interfaceRuntime.instances.isEmpty { interfaces[key] = nil }
            throw error
        }
        interfaceIndexes[instanceConfig.name] = if_nametoindex(name)
        try interfaceRuntime.add(instance)
        return instance
    }

    /// Instances of IPv4 and of IPv6 on one interface have a socket each: `interfaces` is keyed
    /// by the name of the interface adverts leave from (use_vmac's macvlan unless vmac_xmit_base),
    /// with " inet6" after it for IPv6.
    private static func interfaceKey(_ instance: VRRPInstance, globals: GlobalDefinitions) -> String {
        let sender = instance.vmacTransmitsOnBase ? instance.interface : instance.virtualMACInterface(globals) ?? instance.interface
        return (sender ?? "") + (instance.family == .inet6 ? " inet6" : "")
    }

    /// Makes the nftables table when some instance drops traffic to its VIPs (no_accept), and,
    /// when `removing`, deletes it if none does any more.
    private func updateFirewall(removing: Bool) {
        let needed = configuration.vrrpInstances.contains { InstanceRuntime.dropsTraffic($0, configuration.globalDefs) }
        if needed && environment.firewall == nil {
            do {
                environment.firewall = try VIPFirewall(logger: logger)
                logger.info("no_accept: masters that are not the address owner drop traffic to their VIPs (nftables table inet \(VIPFirewall.table))")
            } catch {
                logger.error("no_accept: cannot make the nftables table inet \(VIPFirewall.table); traffic to the VIPs is accepted: \(error)")
            }
        } else if removing, !needed, let firewall = environment.firewall {
            firewall.remove()
            environment.firewall = nil
        }
    }

    /// use_vmac: the instance's macvlan, made anew (one a killed run left is removed first), with
    /// the settings keepalived makes. IPv4: the macvlan answers no ARP for the base's addresses and
    /// hears adverts without an address of its own; the base answers no ARP for the VIPs. IPv6: no
    /// link-local address made from the shared MAC (RFC 5798 7.4: both routers would have it), but
    /// the one adverts leave from (`unicast_src_ip`, else the base's). use_ipvlan: an ipvlan in L2
    /// mode instead (the base's MAC: no ARP settings), with its address if one is given, which
    /// the adverts then leave from. Nil without either.
    private func makeVirtualMAC(_ instance: VRRPInstance, base: String) throws -> NetworkInterface? {
        guard let name = instance.virtualMACInterface(configuration.globalDefs) else { return nil }
        let netlink = environment.netlink
        if try netlink.removeVirtualMAC(name: name) { logger.info("(\(instance.name)) removing \(name) left by a previous run") }
        let baseInterface = try NetworkInterface.named(base)
        let upAtOnce = instance.family == .inet
        if let ipvlan = instance.ipvlan {
            let flags: UInt16 = switch ipvlan.mode {
            case .bridge: 0
            case .private: 1
            case .vepa: 2
            }
            try netlink.addIPVLAN(name: name, on: baseInterface.index, flags: flags, up: upAtOnce)
        } else {
            let address = RouteNetlink.virtualMAC(virtualRouterID: UInt8(instance.virtualRouterID ?? 0), family: instance.family)
            try netlink.addVirtualMAC(name: name, on: baseInterface.index, address: address, up: upAtOnce)
        }
        virtualMACs[instance.name] = (name, base)
        let index = try NetworkInterface.named(name).index
        if instance.family == .inet6 {
            // Read when the link comes up: set before.
            try InterfaceSysctl.write(name, "addr_gen_mode", 1, family: "ipv6")
            try netlink.setLinkUp(name: name)
            if !instance.vmacTransmitsOnBase, let source = instance.unicastSourceIP ?? baseInterface.linkLocalAddress {
                try netlink.addAddress(VirtualIPAddress(address: source, prefixLength: 64, location: instance.location), interfaceIndex: index)
            }
        } else {
            try? InterfaceSysctl.write(name, "disable_ipv6", 1, family: "ipv6")
            if instance.ipvlan == nil { setARPSysctls(vmac: name, base: base) }
        }
        if let address = instance.ipvlan?.address {
            try netlink.addAddress(address, interfaceIndex: index)
        }
        logger.info("(\(instance.name)) created \(instance.ipvlan == nil ? "VMAC" : "ipvlan") interface \(name) on \(base)")
        let primary = instance.ipvlan?.address.map(\.address).flatMap { $0.family == .inet ? $0 : nil }
        return try NetworkInterface.named(name).borrowingAddresses(of: baseInterface, primary: primary)
    }

    /// keepalived's ARP settings for a macvlan and its base (the base's put back with its last one).
    private func setARPSysctls(vmac name: String, base: String) {
        for (key, value) in [("arp_ignore", 1), ("accept_local", 1), ("rp_filter", 0)] {
            try? InterfaceSysctl.write(name, key, value)
        }
        if baseSettings[base] == nil {
            baseSettings[base] = (InterfaceSysctl.read(base, "arp_ignore") ?? 0, InterfaceSysctl.read(base, "arp_filter") ?? 0)
            try? InterfaceSysctl.write(base, "arp_ignore", 1)
            try? InterfaceSysctl.write(base, "arp_filter", 1)
        }
    }

    /// Removes a stopped instance's macvlan; the base's sysctls are put back with the last one on it.
    private func removeVirtualMAC(of instance: String) {
        guard let (name, base) = virtualMACs.removeValue(forKey: instance) else { return }
        do {
            try environment.netlink.removeVirtualMAC(name: name)
        } catch {
            logger.error("(\(instance)) cannot remove \(name): \(error)")
        }
        guard !virtualMACs.values.contains(where: { $0.base == base }), let saved = baseSettings.removeValue(forKey: base) else { return }
        try? InterfaceSysctl.write(base, "arp_ignore", saved.arpIgnore)
        try? InterfaceSysctl.write(base, "arp_filter", saved.arpFilter)
    }

    /// The group an interface's socket joins: the one multicast instances on it advertise to, if any.
    private func multicastGroup(for key: String) -> IPAddress? {
        let globals = configuration.globalDefs
        let instance = configuration.vrrpInstances.first { Self.interfaceKey($0, globals: globals) == key && $0.unicastPeers.isEmpty }
        return instance.map { globals.multicastGroup($0.family) }
    }

    /// The scripts some instance or sync group tracks; those in `running` whose definition is
    /// unchanged are kept (with their rise/fall history), the others made anew.
    private func makeTrackedScripts(keeping running: [String: TrackedScript]) -> [String: TrackedScript] {
        let used = Set(configuration.vrrpInstances.flatMap { $0.trackScripts.map(\.name) }
            + configuration.syncGroups.flatMap { $0.trackScripts.map(\.name) })
        var made: [String: TrackedScript] = [:]
        for script in configuration.vrrpScripts where used.contains(script.name) {
            if let existing = running[script.name], existing.config.ignoringLocation == script.ignoringLocation {
                made[script.name] = existing
            } else {
                made[script.name] = TrackedScript(config: script, loop: environment.loop, runner: scripts, logger: logger)
            }
        }
        return made
    }

    private static func syncGroupsByMember(_ configuration: KeepalivedConfiguration) -> [String: VRRPSyncGroup] {
        var groups: [String: VRRPSyncGroup] = [:]
        for group in configuration.syncGroups {
            for member in group.members { groups[member] = group }
        }
        return groups
    }

    /// Sets the static addresses, routes and rules, then starts every instance: each enters
    /// BACKUP (or MASTER as address owner, or FAULT).
    public func start() {
        staticState.start()
        updateFirewall(removing: false)
        do {
            let monitor = try RoutingMonitor()
            routingMonitor = monitor
            routingSource = environment.loop.readSource(monitor.descriptor) { [weak self] in self?.routingChanged() }
        } catch {
            logger.error("cannot watch address, route and rule deletions: \(error)")
        }
        for interface in interfaces.values { interface.startReceiving(on: environment.loop) }
        do {
            let monitor = try LinkMonitor()
            linkMonitor = monitor
            linkSource = environment.loop.readSource(monitor.descriptor) { [weak self] in self?.linksChanged() }
            logLinkChanges()
        } catch {
            logger.error("cannot watch interface state: \(error)")
        }
        for instance in instances {
            instance.start(faulty: isFaulty(instance.config))
            instance.priorityChanged(to: trackedPriority(instance.config))
        }
        for script in trackedScripts.values { start(script) }
        watchTrackedFiles()
    }

    private func watchTrackedFiles() {
        let used = Set(configuration.vrrpInstances.flatMap { $0.trackFiles.map(\.name) })
        let files = configuration.trackFiles.filter { used.contains($0.name) }
        trackedFiles = files.isEmpty ? nil : TrackedFiles(files, loop: environment.loop, logger: logger)
        trackedFiles?.onChange = { [weak self] _ in self?.recomputeTracking() }
        let followed = Set(configuration.vrrpInstances.flatMap { $0.trackProcesses.map(\.name) })
        let processes = configuration.trackProcesses.filter { followed.contains($0.name) }
        if processes != (trackedProcesses?.trackers ?? []) {
            trackedProcesses = processes.isEmpty ? nil : TrackedProcesses(processes, loop: environment.loop, logger: logger)
            trackedProcesses?.onChange = { [weak self] in self?.recomputeTracking() }
        }
        if trackedFiles != nil || trackedProcesses != nil { recomputeTracking() }
    }

    /// Whether a tracked process set counts as good for an instance, and the weight it carries
    /// (the instance's line replaces the vrrp_track_process's own).
    private func processState(of tracked: TrackedItem) -> (good: Bool, weight: Int) {
        let config = configuration.trackProcesses.first { $0.name == tracked.name }
        let weight = tracked.weight ?? config?.weight ?? 0
        let reverse = tracked.weight != nil ? tracked.reverse : (config?.weightReverse ?? false)
        return ((trackedProcesses?.isUp(tracked.name) ?? false) != reverse, weight)
    }

    /// What a tracked file's number does to an instance; a weight written on the instance's
    /// track_file line replaces the file's own.
    private func effect(of tracked: TrackedItem) -> TrackedFileEffect {
        let file = configuration.trackFiles.first { $0.name == tracked.name }
        let weight = tracked.weight ?? file?.weight ?? TrackFile.defaultWeight
        let reverse = tracked.weight != nil ? tracked.reverse : (file?.weightReverse ?? false)
        return TrackedFileEffect.of(value: trackedFiles?.value(of: tracked.name) ?? 0, weight: weight, reverse: reverse, faultAt: -254)
    }

    private func start(_ script: TrackedScript) {
        script.onChange = { [weak self] in self?.recomputeTracking() }
        script.start()
    }

    /// SIGHUP. Instances are matched by name. One whose wire identity is unchanged keeps its
    /// state, timers and the addresses that stayed (`InstanceRuntime.adopt`); one that is new
    /// starts in BACKUP; one that is gone, or whose identity changed, stops as at shutdown (a
    /// master hands over with priority 0) and, if still configured, starts again.
    /// `restarting`: instances made anew whatever their config (their interface was made again).
    public func reload(_ newConfiguration: KeepalivedConfiguration, restarting: Set<String> = []) {
        let globals = newConfiguration.globalDefs
        let oldGlobals = configuration.globalDefs
        let running = Dictionary(instances.map { ($0.config.name, $0) }, uniquingKeysWith: { first, _ in first })
        var kept: [String: InstanceRuntime] = [:]
        // Their interfaces' sockets are closed too, those of a failed attempt included.
        let restartedKeys = Set(configuration.vrrpInstances.filter { restarting.contains($0.name) }.map { Self.interfaceKey($0, globals: oldGlobals) })
        for config in newConfiguration.vrrpInstances where !restarting.contains(config.name) {
            guard let instance = running[config.name],
                  instance.config.wireIdentity(globals: oldGlobals) == config.wireIdentity(globals: globals) else { continue }
            kept[config.name] = instance
        }
        for instance in instances where kept[instance.config.name] !== instance {
            let why = restarting.contains(instance.config.name) ? "its interface \(instance.config.interface ?? "") was deleted and made again"
                : newConfiguration.vrrpInstances.contains { $0.name == instance.config.name } ? "its interface, VRID, authentication or advert settings changed"
                : "no longer in the configuration"
            logger.info("(\(instance.config.name)) stopping: \(why)")
            instance.stop()
            interfaces[Self.interfaceKey(instance.config, globals: oldGlobals)]?.remove(instance)
            removeVirtualMAC(of: instance.config.name)
            lastStates[instance.config.name] = nil
        }
        configuration = newConfiguration
        // Made before the running masters adopt the new config (one turned no_accept drops at
        // once), deleted only after they have let their addresses go.
        updateFirewall(removing: false)
        for (name, interface) in interfaces where interface.instances.isEmpty
            && (restartedKeys.contains(name) || !newConfiguration.vrrpInstances.contains(where: { Self.interfaceKey($0, globals: globals) == name })) {
            interface.stopReceiving()
            interfaces[name] = nil
        }
        let previousScripts = trackedScripts
        trackedScripts = makeTrackedScripts(keeping: previousScripts)
        watchTrackedFiles()
        for (name, script) in previousScripts where trackedScripts[name] !== script { script.stop() }
        groups = Self.syncGroupsByMember(newConfiguration)
        var reloaded: [InstanceRuntime] = []
        var started: [InstanceRuntime] = []
        for config in newConfiguration.vrrpInstances {
            if let instance = kept[config.name] {
                instance.adopt(config, globals: globals)
                reloaded.append(instance)
                continue
            }
            do {
                let key = Self.interfaceKey(config, globals: globals)
                let wasOpen = interfaces[key] != nil
                guard let instance = try makeInstance(config) else { continue }
                if !wasOpen { interfaces[key]?.startReceiving(on: environment.loop) }
                pendingRestarts.remove(config.name)
                let why = restarting.contains(config.name) ? "again, on the new \(config.interface ?? "")"
                    : running[config.name] == nil ? "new in the configuration" : "again, with its new settings"
                logger.info("(\(config.name)) starting: \(why)")
                reloaded.append(instance)
                started.append(instance)
            } catch {
                if restarting.contains(config.name) {
                    if pendingRestarts.insert(config.name).inserted {
                        logger.warning("(\(config.name)) cannot start on the new \(config.interface ?? "") yet (\(error)); trying again every second")
                    }
                    continue
                }
                logger.error("(\(config.name)) cannot start: \(error)")
            }
        }
        for (name, interface) in interfaces where !interface.joinsMulticast && multicastGroup(for: name) != nil {
            logger.warning("\(name): multicast adverts are received after a restart (this interface had only unicast instances)")
        }
        instances = reloaded
        updateFirewall(removing: true)
        staticState.reload(newConfiguration)
        for instance in started { instance.start(faulty: isFaulty(instance.config)) }
        for (name, script) in trackedScripts where previousScripts[name] !== script { start(script) }
        recomputeTracking()
    }

    /// Stops every instance (masters send a priority-0 advert and remove their addresses), then
    /// removes the static rules, routes and addresses, as keepalived does.
    public func stop() {
        linkSource?.cancel()
        routingSource?.cancel()
        for script in trackedScripts.values { script.stop() }
        for instance in instances { instance.stop() }
        for interface in interfaces.values { interface.stopReceiving() }
        for instance in instances { removeVirtualMAC(of: instance.config.name) }
        environment.firewall?.remove()
        environment.firewall = nil
        staticState.stop()
    }

    private func routingChanged() {
        guard let monitor = routingMonitor else { return }
        do {
            let deletions = try monitor.deletions()
            if monitor.overran { logOverrun() }
            if !deletions.isEmpty && !staticState.isEmpty { staticState.restore(after: deletions) }
        } catch {
            logger.error("reading address, route and rule changes: \(error)")
        }
    }

    var instanceRuntimes: [InstanceRuntime] { instances }

    /// Name and state of each instance, in config order.
    public var states: [(name: String, state: VRRPState, priority: Int)] {
        instances.map { ($0.config.name, $0.machine.state, $0.machine.priority) }
    }

    // MARK: Tracking

    private func linksChanged() {
        do {
            guard let monitor = linkMonitor else { return }
            let changes = try monitor.changes()
            // After an overrun any interface may have changed unseen: every one is read again.
            if monitor.overran { logOverrun() }
            guard !changes.isEmpty || monitor.overran else { return }
        } catch {
            logger.error("reading interface changes: \(error)")
            return
        }
        logLinkChanges()
        restartRemadeInterfaces()
        recomputeTracking()
    }

    /// keepalived's words, so that searches for them still find ours; nothing is lost by it,
    /// since both monitors then read the whole state again.
    private func logOverrun() {
        logger.info("Netlink: Receive buffer overrun on monitor socket - (\(String(cString: strerror(ENOBUFS))))")
    }

    /// Instances whose interface was deleted and made again (another index) are made anew once it
    /// is up: their sockets, macvlans and addresses went with the old one.
    private func restartRemadeInterfaces() {
        let remade = Set(instances.compactMap { instance -> String? in
            guard let name = instance.config.interface, let known = interfaceIndexes[instance.config.name] else { return nil }
            let now = if_nametoindex(name)
            return now != 0 && now != known && NetworkInterface.isUp(name) ? instance.config.name : nil
        })
        let ready = remade.union(pendingRestarts.filter { name in
            configuration.vrrpInstances.first { $0.name == name }?.interface.map(NetworkInterface.isUp) ?? false
        })
        guard !ready.isEmpty else { return }
        reload(configuration, restarting: ready)
        restartRetry?.cancel()
        restartRetry = nil
        if !pendingRestarts.isEmpty {
            restartRetry = environment.loop.timer(at: environment.loop.now().adding(seconds: 1)) { [weak self] in
                self?.restartRetry = nil
                self?.restartRemadeInterfaces()
            }
        }
    }

    /// keepalived's `Netlink reports eth0 down` / `up`, once per change of a watched interface.
    private func logLinkChanges() {
        let watched = Set(configuration.vrrpInstances.flatMap { [$0.interface].compactMap { $0 } + $0.trackInterfaces.map(\.name) }
            + configuration.syncGroups.flatMap { $0.trackInterfaces.map(\.name) })
        for name in watched.sorted() {
            let up = NetworkInterface.isUp(name)
            if let previous = linkStates.updateValue(up, forKey: name), previous != up {
                logger.info("Netlink reports \(name) \(up ? "up" : "down")")
            }
        }
    }

    private func recomputeTracking() {
        for instance in instances {
            instance.faultChanged(isFaulty(instance.config))
            instance.priorityChanged(to: trackedPriority(instance.config))
        }
    }

    /// FAULT when the instance's interface, a tracked interface or script without a weight is
    /// down, or when that is so for another member of its sync group.
    private func isFaulty(_ config: VRRPInstance) -> Bool {
        if hasOwnFault(config) { return true }
        guard let group = groups[config.name] else { return false }
        return configuration.vrrpInstances.contains { group.members.contains($0.name) && hasOwnFault($0) }
    }

    private func hasOwnFault(_ config: VRRPInstance) -> Bool {
        if let name = config.interface, !config.dontTrackPrimary, !NetworkInterface.isUp(name) { return true }
        if config.trackInterfaces.contains(where: { ($0.weight ?? 0) == 0 && NetworkInterface.isUp($0.name) == $0.reverse }) { return true }
        if config.trackFiles.contains(where: { effect(of: $0) == .fault }) { return true }
        if config.trackProcesses.contains(where: { let state = processState(of: $0); return state.weight == 0 && !state.good }) { return true }
        return config.trackScripts.contains { tracked in
            guard let script = trackedScripts[tracked.name], (tracked.weight ?? script.config.weight ?? 0) == 0 else { return false }
            return script.isOK == tracked.reverse
        }
    }

    // MARK: Sync groups

    /// Keeps sync group members together: one entering MASTER or leaving it takes the rest along.
    private func observe(_ instance: InstanceRuntime) {
        let name = instance.config.name
        let state = instance.machine.state
        let previous = lastStates.updateValue(state, forKey: name)
        guard previous != state, let group = groups[name] else { return }
        let others = instances.filter { $0 !== instance && group.members.contains($0.config.name) }
        let now = environment.loop.now()
        if state == .master && others.contains(where: { $0.machine.state == .backup }) {
            logger.info("VRRP_Group(\(group.name)) Syncing instances to MASTER state")
            notify(group: group, state: .master)
            others.forEach { $0.syncToMaster(now: now) }
        } else if state == .backup && previous == .master && others.contains(where: { $0.machine.state == .master }) {
            logger.info("VRRP_Group(\(group.name)) Syncing instances to BACKUP state")
            notify(group: group, state: .backup)
            others.forEach { $0.syncToBackup(now: now) }
        }
    }

    private func notify(group: VRRPSyncGroup, state: VRRPState) {
        scripts.notify(group: group, state: state)
        notifyFifos?.write(NotifyFifoLine.group(group.name, state: state.rawValue), from: .vrrp)
        guard let mailer, group.effectiveSMTPAlert(configuration.globalDefs),
              lastMailed.updateValue(state, forKey: "group " + group.name) != state,
              let alert = MailAlert.group(group.name, state: state.rawValue) else { return }
        mailer.send(alert, logger: logger)
    }

    private func mail(instance: VRRPInstance, state: VRRPState) {
        guard let mailer, instance.effectiveSMTPAlert(configuration.globalDefs),
              lastMailed.updateValue(state, forKey: "instance " + instance.name) != state,
              let alert = MailAlert.instance(instance.name, state: state.rawValue) else { return }
        mailer.send(alert, logger: logger)
    }

    /// The configured priority moved by weighted trackers: a positive weight counts while the
    /// interface is up or the script succeeds, a negative one while it is down or failing
    /// (`reverse` swaps the two).
    private func trackedPriority(_ config: VRRPInstance) -> Int {
        var priority = config.effectivePriority
        func apply(_ weight: Int, good: Bool) {
            if weight > 0 && good { priority += weight }
            if weight < 0 && !good { priority += weight }
        }
        for tracked in config.trackFiles {
            if case .offset(let offset) = effect(of: tracked) { priority += offset }
        }
        for tracked in config.trackProcesses {
            let state = processState(of: tracked)
            if state.weight != 0 { apply(state.weight, good: state.good) }
        }
        for tracked in config.trackInterfaces {
            guard let weight = tracked.weight, weight != 0 else { continue }
            apply(weight, good: NetworkInterface.isUp(tracked.name) != tracked.reverse)
        }
        for tracked in config.trackScripts {
            guard let script = trackedScripts[tracked.name] else { continue }
            let weight = tracked.weight ?? script.config.weight ?? 0
            guard weight != 0 else { continue }
            apply(weight, good: script.isOK != (tracked.reverse || (tracked.weight == nil && script.config.weightReverse)))
        }
        return priority
    }
}
