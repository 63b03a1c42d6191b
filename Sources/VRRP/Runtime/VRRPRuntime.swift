import Dispatch
import KeepalivedConfig
import Logging

/// What instances share: the loop, the log, rtnetlink, interface lookups, notify scripts and the
/// hook that keeps sync groups and trackers informed.
final class VRRPEnvironment: @unchecked Sendable {
    let loop: EventLoop
    let logger: Logger
    let netlink: RouteNetlink
    var onNotify: (VRRPInstance, VRRPState, Int) -> Void = { _, _, _ in }
    var onStateObserved: (InstanceRuntime) -> Void = { _ in }

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
    private let configuration: KeepalivedConfiguration
    private let environment: VRRPEnvironment
    private var interfaces: [String: InterfaceRuntime] = [:]
    private var instances: [InstanceRuntime] = []
    private var linkMonitor: LinkMonitor?
    private var linkSource: DispatchSourceRead?
    private let scripts: ScriptRunner
    private var logger: Logger { environment.logger }

    public init(configuration: KeepalivedConfiguration, loop: EventLoop, logger: Logger) throws {
        self.configuration = configuration
        environment = VRRPEnvironment(loop: loop, logger: logger, netlink: try RouteNetlink())
        scripts = ScriptRunner(loop: loop, logger: logger)
        let globals = configuration.globalDefs
        for instanceConfig in configuration.vrrpInstances {
            guard let name = instanceConfig.interface else {
                logger.error("(\(instanceConfig.name)) has no interface; unicast without an interface is not supported yet")
                continue
            }
            let interfaceRuntime: InterfaceRuntime
            if let existing = interfaces[name] {
                interfaceRuntime = existing
            } else {
                let interface = try NetworkInterface.named(name)
                let group = configuration.vrrpInstances.contains { $0.interface == name && $0.unicastPeers.isEmpty }
                    ? (globals.vrrpMcastGroup4 ?? GlobalDefinitions.defaultMcastGroup4) : nil
                interfaceRuntime = try InterfaceRuntime(interface: interface, joinsMulticast: group, logger: logger)
                interfaces[name] = interfaceRuntime
            }
            let instance = try InstanceRuntime(config: instanceConfig, globals: globals, interface: interfaceRuntime, environment: environment)
            interfaceRuntime.add(instance)
            instances.append(instance)
        }
        environment.onNotify = { [scripts] instance, state, priority in
            scripts.notify(instance: instance, state: state, priority: priority)
        }
    }

    /// Starts every instance: each enters BACKUP (or MASTER as address owner, or FAULT).
    public func start() {
        for interface in interfaces.values { interface.startReceiving(on: environment.loop) }
        do {
            let monitor = try LinkMonitor()
            linkMonitor = monitor
            linkSource = environment.loop.readSource(monitor.descriptor) { [weak self] in self?.linksChanged() }
        } catch {
            logger.error("cannot watch interface state: \(error)")
        }
        for instance in instances {
            instance.start(faulty: isFaulty(instance.config))
            instance.priorityChanged(to: trackedPriority(instance.config))
        }
    }

    /// Stops every instance: masters send a priority-0 advert and remove their addresses.
    public func stop() {
        linkSource?.cancel()
        for instance in instances { instance.stop() }
        for interface in interfaces.values { interface.stopReceiving() }
    }

    /// Name and state of each instance, in config order.
    public var states: [(name: String, state: VRRPState, priority: Int)] {
        instances.map { ($0.config.name, $0.machine.state, $0.machine.priority) }
    }

    // MARK: Tracking

    private func linksChanged() {
        do {
            guard let monitor = linkMonitor, !(try monitor.changes()).isEmpty else { return }
        } catch {
            logger.error("reading interface changes: \(error)")
            return
        }
        for instance in instances {
            instance.faultChanged(isFaulty(instance.config))
            instance.priorityChanged(to: trackedPriority(instance.config))
        }
    }

    /// FAULT when the instance's interface, or a tracked interface without a weight, is down.
    private func isFaulty(_ config: VRRPInstance) -> Bool {
        if let name = config.interface, !config.dontTrackPrimary, !NetworkInterface.isUp(name) { return true }
        return config.trackInterfaces.contains { ($0.weight ?? 0) == 0 && NetworkInterface.isUp($0.name) == $0.reverse }
    }

    /// The configured priority moved by weighted tracked interfaces: a positive weight counts
    /// while the interface is up, a negative one while it is down (`reverse` swaps the two).
    private func trackedPriority(_ config: VRRPInstance) -> Int {
        var priority = config.effectivePriority
        for tracked in config.trackInterfaces {
            guard let weight = tracked.weight, weight != 0 else { continue }
            let up = NetworkInterface.isUp(tracked.name) != tracked.reverse
            if weight > 0 && up { priority += weight }
            if weight < 0 && !up { priority += weight }
        }
        return priority
    }
}
