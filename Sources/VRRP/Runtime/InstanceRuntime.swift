import Dispatch
import KeepalivedConfig
import Logging
import DaemonCore

/// One configured VRRP instance at run time: its state machine, its timer, and the kernel work
/// the machine's actions call for (adverts, addresses, routes, gratuitous ARP, notify scripts).
/// Lives on the event loop's queue.
final class InstanceRuntime: @unchecked Sendable {
    private(set) var config: VRRPInstance
    private(set) var machine: VRRPStateMachine
    private(set) var check: AdvertisementCheck
    let virtualRouterID: UInt8
    let interface: InterfaceRuntime
    /// Where the VIPs go and are announced from: the interface, or use_vmac's macvlan.
    let addressInterface: NetworkInterface
    private let announcer: AddressAnnouncer
    private let environment: VRRPEnvironment
    let sourceAddress: IPAddress
    private let destinations: [IPAddress]
    private(set) var garp: GarpSettings
    private var timer: LoopTimer?
    private var armedDeadline: Instant?
    /// While the timer repeats on its own (a master's adverts), every how many seconds.
    private var repeatingEvery: Double?
    /// The encoded adverts, one per destination, for the priority they carry: the same bytes are
    /// sent every interval until the priority or the configuration changes. `framed` are the
    /// same adverts as the socket writes them (IPv4: with the IP header).
    private var encodedAdverts: (priority: UInt8, packets: [[UInt8]], framed: [[UInt8]])?
    /// As master, traffic to the VIPs is dropped (see `dropsTraffic`).
    private var dropping: Bool
    /// Pending announcements (delayed bursts, refreshes, spaced sends), each with when it fires:
    /// those past are dropped as new ones come, and all are cancelled when the addresses go.
    private var garpTimers: [(due: Instant, timer: LoopTimer)] = []
    /// A delayed burst after a lower priority's advert is pending: more such adverts add none.
    private var lowerPriorityBurstPending = false
    /// Exactly what `takeOwnership` added, so release removes that and nothing else.
    private var addedAddresses: [VirtualIPAddress] = []
    private var addedRoutes: [VirtualRoute] = []
    private var addedRules: [RoutingRule] = []
    private(set) var statistics = InstanceStatistics()
    private var loggedRejections: Set<String> = []
    /// When the state last changed, on the wall clock (keepalived's last_transition).
    private(set) var lastTransition = WallClock.now()
    /// The sender and priority of the last advert accepted (keepalived's master router and priority).
    private(set) var lastAdvertSource: IPAddress?
    private(set) var lastAdvertPriority = 0
    private var stopping = false
    private var observedState = VRRPState.initialize

    struct GarpSettings {
        var repeatCount: Int
        var delay: Double
        var refresh: Double
        var refreshRepeat: Int
        var interval: Double
        /// The pause between unsolicited Neighbor Advertisements (vrrp_gna_interval).
        var neighborInterval: Double
        /// After a lower priority's advert: a burst now and another `lowerPriorityDelay` later.
        var lowerPriorityRepeat: Int
        var lowerPriorityDelay: Double

        init(_ config: VRRPInstance, _ globals: GlobalDefinitions) {
            repeatCount = config.garpMasterRepeat ?? globals.vrrpGarpMasterRepeat ?? GlobalDefinitions.defaultGarpMasterRepeat
            delay = config.garpMasterDelay ?? globals.vrrpGarpMasterDelay ?? GlobalDefinitions.defaultGarpMasterDelay
            refresh = config.garpMasterRefresh ?? globals.vrrpGarpMasterRefresh ?? 0
            refreshRepeat = config.garpMasterRefreshRepeat ?? globals.vrrpGarpMasterRefreshRepeat
                ?? GlobalDefinitions.defaultGarpMasterRefreshRepeat
            interval = config.garpInterval ?? globals.vrrpGarpInterval ?? 0
            neighborInterval = config.gnaInterval ?? globals.vrrpGnaInterval ?? 0
            // keepalived: the master burst's settings by default, none in strict mode.
            let strict = config.strictMode ?? globals.vrrpStrict ?? false
            lowerPriorityRepeat = strict ? 0 : config.garpLowerPrioRepeat ?? globals.vrrpGarpLowerPrioRepeat ?? repeatCount
            lowerPriorityDelay = strict ? 0 : config.garpLowerPrioDelay ?? globals.vrrpGarpLowerPrioDelay ?? delay
        }
    }

    init(config: VRRPInstance, globals: GlobalDefinitions, interface: InterfaceRuntime, environment: VRRPEnvironment,
         addressInterface: NetworkInterface? = nil) throws {
        let family = config.family
        guard let primary = interface.interface.ownAddress(family) ?? config.unicastSourceIP else {
            throw SystemError("(\(config.name)) interface \(interface.interface.name) has no \(family == .inet ? "IPv4" : "IPv6 link-local") address",
                              code: 0, detail: "VRRP needs an address on the interface to send adverts from")
        }
        self.config = config
        self.interface = interface
        if let addressInterface, addressInterface != interface.interface {
            self.addressInterface = addressInterface
            announcer = try AddressAnnouncer(interface: addressInterface)
        } else {
            self.addressInterface = interface.interface
            announcer = interface.announcer
        }
        self.environment = environment
        self.virtualRouterID = UInt8(config.virtualRouterID ?? 0)
        sourceAddress = config.unicastSourceIP ?? primary
        let strict = Self.isStrict(config, globals)
        if config.unicastPeers.isEmpty {
            destinations = [config.multicastGroup(globals)]
        } else {
            destinations = config.unicastPeers.map(\.address)
        }
        var authenticationType = VRRPAdvertisement.AuthenticationType.none
        var password: String?
        // Strict mode and version 3 ignore the block (warned about by the validator), as keepalived does.
        let authenticates = !strict && config.effectiveVersion(globals) == 2
        if authenticates, let authentication = config.authentication, authentication.type == .pass {
            authenticationType = .simpleText
            password = authentication.password
        }
        if authenticates, let authentication = config.authentication, authentication.type == .ah, let key = authentication.password,
           sourceAddress.family == .inet {
            authenticationType = .ipAuthenticationHeader
            password = key
            authenticator = AHAuthenticator(password: key, unicast: !config.unicastPeers.isEmpty)
        }
        self.password = password
        self.authenticationType = authenticationType
        check = Self.advertisementCheck(config, globals, authenticationType: authenticationType, password: password)
        machine = VRRPStateMachine(settings: Self.machineSettings(config, globals, primaryAddress: sourceAddress))
        garp = GarpSettings(config, globals)
        dropping = Self.dropsTraffic(config, globals)
    }

    private static func isStrict(_ config: VRRPInstance, _ globals: GlobalDefinitions) -> Bool {
        config.strictMode ?? globals.vrrpStrict ?? false
    }

    /// Accept mode off (`no_accept`, or strict mode without `accept`) and not the address owner
    /// (RFC 5798 6.4.3: the owner always accepts): as master it drops traffic to its VIPs.
    static func dropsTraffic(_ config: VRRPInstance, _ globals: GlobalDefinitions) -> Bool {
        !(config.accept ?? !isStrict(config, globals)) && config.effectivePriority != 255
    }

    private static func advertisementCheck(_ config: VRRPInstance, _ globals: GlobalDefinitions,
                                           authenticationType: VRRPAdvertisement.AuthenticationType,
                                           password: String?) -> AdvertisementCheck {
        let version = config.effectiveVersion(globals)
        // Each version's unit: whole seconds (v2), centiseconds (v3, at most 40.95 s).
        let interval = version == 3
            ? min(UInt16((config.effectiveAdvertInterval * 100).rounded()), VRRPAdvertisement.maximumCentiseconds)
            : UInt16(clamping: Int(config.effectiveAdvertInterval.rounded()))
        return AdvertisementCheck(version: UInt8(version), authenticationType: authenticationType, password: password,
                                  advertisementInterval: interval,
                                  addresses: config.virtualIPAddresses.map(\.address),
                                  checksAddresses: !(config.skipCheckAdvAddr ?? globals.vrrpSkipCheckAdvAddr ?? false),
                                  requiredTTL: config.unicastPeers.isEmpty ? 255 : nil,
                                  checksumCoversPseudoHeader: !(config.checksumAsV2 ?? globals.vrrpChecksumAsV2 ?? false))
    }

    private static func machineSettings(_ config: VRRPInstance, _ globals: GlobalDefinitions,
                                        primaryAddress: IPAddress) -> VRRPStateMachine.Settings {
        let strict = isStrict(config, globals)
        let version = config.effectiveVersion(globals)
        // What the adverts carry, so that both ends count the same interval.
        let interval = version == 3 ? (config.effectiveAdvertInterval * 100).rounded() / 100 : config.effectiveAdvertInterval
        var settings = VRRPStateMachine.Settings(
            name: config.name, priority: config.effectivePriority, advertInterval: interval,
            preempt: !config.noPreempt, preemptDelay: strict ? 0 : (config.preemptDelay ?? 0),
            startsAsMaster: config.state == .master && !(strict && config.effectivePriority != 255),
            primaryAddress: primaryAddress, version: version,
            downTimerAdverts: config.downTimerAdverts ?? globals.vrrpDownTimerAdverts ?? 3)
        // Strict mode keeps to the RFC: silent towards a lower priority, no advert before yielding.
        settings.answersLowerPriority = !strict && !(config.lowerPrioNoAdvert ?? globals.vrrpLowerPrioNoAdvert ?? false)
        settings.advertisesBeforeYielding = !strict && (config.higherPrioSendAdvert ?? globals.vrrpHigherPrioSendAdvert ?? false)
        return settings
    }

    let password: String?
    let authenticationType: VRRPAdvertisement.AuthenticationType
    /// `auth_type AH`: the key and the sequence counter.
    private(set) var authenticator: AHAuthenticator?
    private var logger: Logger { environment.logger }
    private var label: String { "(\(config.name))" }

    // MARK: Events

    func start(faulty: Bool) {
        removeLeftovers()
        perform(machine.start(now: environment.loop.now(), faulty: faulty))
    }

    /// A daemon killed without its shutdown leaves its VIPs behind; as keepalived does, a new
    /// one removes the configured addresses before it starts, so that only a master holds them.
    private func removeLeftovers() {
        var removed = false
        for vip in config.virtualIPAddresses + config.excludedIPAddresses {
            do {
                try environment.netlink.removeAddress(vip, interfaceIndex: environment.interfaceIndex(vip.device) ?? addressInterface.index)
                removed = true
            } catch {}
        }
        if removed { logger.info("\(label) removing VIPs.") }
    }

    /// SIGHUP with a config whose wire identity (`VRRPInstance.wireIdentity`) is unchanged: the
    /// instance keeps its state and timers. A master adds the addresses and routes that are new
    /// (with gratuitous ARPs for the new addresses) and removes the ones that left the config;
    /// the addresses that stayed are not touched.
    func adopt(_ newConfig: VRRPInstance, globals: GlobalDefinitions) {
        config = newConfig
        encodedAdverts = nil
        let wasDropping = dropping
        dropping = Self.dropsTraffic(newConfig, globals)
        defer {
            // Accept mode changed on a master: the addresses it keeps follow the new setting.
            if machine.state == .master && wasDropping != dropping {
                let held = addedAddresses.map(\.address)
                if dropping { environment.firewall?.drop(held, instance: newConfig.name) } else { environment.firewall?.allow(held, instance: newConfig.name) }
            }
        }
        check = Self.advertisementCheck(newConfig, globals, authenticationType: authenticationType, password: password)
        garp = GarpSettings(newConfig, globals)
        machine.reconfigure(Self.machineSettings(newConfig, globals, primaryAddress: sourceAddress))
        guard machine.state == .master else { return }
        let wantedAddresses = newConfig.virtualIPAddresses + newConfig.excludedIPAddresses
        let wantedAddressKeys = Set(wantedAddresses.map(\.ignoringLocation))
        let wantedRouteKeys = Set(newConfig.virtualRoutes.map(\.ignoringLocation))
        let wantedRuleKeys = Set(newConfig.virtualRules.map(\.ignoringLocation))
        let leavingRoutes = addedRoutes.filter { !wantedRouteKeys.contains($0.ignoringLocation) }
        let leavingRules = addedRules.filter { !wantedRuleKeys.contains($0.ignoringLocation) }
        let leavingAddresses = addedAddresses.filter { !wantedAddressKeys.contains($0.ignoringLocation) }
        for vip in leavingAddresses { logger.info("\(label) removing VIP \(vip.address) (reload)") }
        if wasDropping { environment.firewall?.allow(leavingAddresses.map(\.address), instance: newConfig.name) }
        remove(rules: leavingRules, routes: leavingRoutes, addresses: leavingAddresses)
        addedRules.removeAll { !wantedRuleKeys.contains($0.ignoringLocation) }
        addedRoutes.removeAll { !wantedRouteKeys.contains($0.ignoringLocation) }
        addedAddresses.removeAll { !wantedAddressKeys.contains($0.ignoringLocation) }
        let heldAddresses = Set(addedAddresses.map(\.ignoringLocation))
        let heldRoutes = Set(addedRoutes.map(\.ignoringLocation))
        let heldRules = Set(addedRules.map(\.ignoringLocation))
        let newAddresses = wantedAddresses.filter { !heldAddresses.contains($0.ignoringLocation) }
        for vip in newAddresses { logger.info("\(label) adding VIP \(vip.address) (reload)") }
        if wasDropping && dropping { environment.firewall?.drop(newAddresses.map(\.address), instance: newConfig.name) }
        add(addresses: newAddresses, routes: newConfig.virtualRoutes.filter { !heldRoutes.contains($0.ignoringLocation) },
            rules: newConfig.virtualRules.filter { !heldRules.contains($0.ignoringLocation) })
        announce(burst: garp.repeatCount, only: Set(newAddresses.map(\.address)))
    }

    func stop() {
        timer?.cancel()
        timer = nil
        stopping = true
        perform(machine.stop())
    }

    /// keepalived's STATS_CLEAR: the counters start again from zero.
    func clearCounters() {
        statistics.counters = VRRPCounters()
    }

    /// A packet for this instance's VRID that did not decode as an advert.
    func receivedMalformed(_ error: VRRPAdvertisement.DecodeError) {
        statistics.counters.count(error)
    }

    /// `age`: how long ago the kernel received it; the master-down timer counts from then.
    func received(_ advert: VRRPAdvertisement, from source: IPAddress, ttl: UInt8, age: Double = 0,
                  authentication: IPsecAH.Received? = nil) {
        statistics.advertisementsReceived += 1
        if authenticator != nil && (authentication != nil || advert.authenticationType == .ipAuthenticationHeader),
           let failure = authenticator?.check(authentication, from: source.v4Value ?? 0) {
            statistics.counters.authenticationFailures += 1
            statistics.rejected[failure.rawValue, default: 0] += 1
            if loggedRejections.insert(failure.rawValue).inserted {
                logger.warning("\(label) \(failure.rawValue) (from \(source); further ones are counted, not logged)")
            }
            return
        }
        if let rejection = check.rejection(of: advert, ttl: ttl) {
            statistics.counters.count(rejection, addressCountMatches: advert.addresses.count == check.addresses.count)
            statistics.rejected[rejection.rawValue, default: 0] += 1
            if loggedRejections.insert(rejection.rawValue).inserted {
                logger.warning("\(label) advertisement from \(source) rejected: \(rejection.rawValue) (further ones are counted, not logged)")
            }
            return
        }
        statistics.counters.advertisementsReceived += 1
        if advert.priority == 0 {
            statistics.priorityZeroReceived += 1
            statistics.counters.priorityZeroReceived += 1
        }
        if check.differsInInterval(advert), loggedRejections.insert("interval").inserted {
            // RFC 5798: a backup follows the master's interval; keepalived logs the difference.
            logger.warning("\(label) advertisement interval mismatch ours = \(check.advertisementInterval) centi-sec rcv'd=\(advert.advertisementInterval) centi-sec (following the master's; logged once)")
        }
        if machine.state == .master && authenticator != nil
            && (Int(advert.priority) < machine.priority || (Int(advert.priority) == machine.priority && source < sourceAddress)) {
            logger.info("\(label) IPSEC-AH : Syncing seq_num - Increment seq")
            authenticator?.followLowerPriority(authentication)
        }
        lastAdvertSource = source
        lastAdvertPriority = Int(advert.priority)
        perform(machine.advertisementReceived(priority: Int(advert.priority), from: source, interval: advert.intervalSeconds,
                                              now: environment.loop.now().subtracting(seconds: age)))
    }

    func faultChanged(_ faulty: Bool) {
        perform(machine.faultChanged(faulty: faulty, now: environment.loop.now()))
    }

    func syncToMaster(now: Instant) {
        perform(machine.syncToMaster(now: now))
    }

    func syncToBackup(now: Instant) {
        perform(machine.syncToBackup(now: now))
    }

    func priorityChanged(to priority: Int) {
        perform(machine.priorityChanged(to: priority))
    }

    private func timerFired() {
        let now = environment.loop.now()
        if machine.state == .master, let deadline = machine.nextDeadline {
            environment.onAdvertDelay(self, now.seconds(since: deadline))
        }
        // A repeating timer has moved on by itself; a one-shot is armed again even for an
        // unchanged deadline (an early wake-up).
        armedDeadline = repeatingEvery.flatMap { interval in armedDeadline?.adding(seconds: interval) }
        perform(machine.timerFired(now: now))
    }

    // MARK: Actions

    private func perform(_ actions: [VRRPAction]) {
        for action in actions {
            switch action {
            case .log(let line): logger.info("\(line)")
            case .sendAdvertisement(let priority): sendAdvertisement(priority: priority)
            case .takeOwnership: takeOwnership()
            case .releaseOwnership: releaseOwnership()
            case .notify(let state): environment.notify(instance: config, state: state, priority: machine.priority)
            case .reannounce: reannounce()
            }
        }
        rearmTimer()
        // The machine has moved before its actions get here, so the state is compared with the
        // one seen last.
        // The runtime hears of changes only: at 2,550 adverts a second, telling it of each one
        // was a measurable share of the CPU.
        if machine.state != observedState {
            recordTransition(from: observedState)
            observedState = machine.state
            environment.stateObserved(self)
        }
    }

    /// keepalived counts entering MASTER, and leaving it for BACKUP or FAULT (not a stop).
    private func recordTransition(from before: VRRPState) {
        lastTransition = WallClock.now()
        if machine.state == .master { statistics.counters.becameMaster += 1 }
        if before == .master && !stopping { statistics.counters.releasedMaster += 1 }
    }

    /// One timer source for the instance's life, moved to each new deadline: making a source per
    /// advert cost more than the advert (255 instances at 0.1 s: 2,550 a second). A master's
    /// timer repeats at its advert interval, so that it is not moved at every advert: each move
    /// wakes Dispatch's timer thread, which cost more than the advert too.
    private func rearmTimer() {
        let deadline = machine.nextDeadline
        guard deadline != armedDeadline || timer == nil else { return }
        armedDeadline = deadline
        if timer == nil, let deadline {
            timer = environment.loop.timer(at: deadline) { [weak self] in self?.timerFired() }
            guard machine.state == .master else { return }
        }
        guard let timer else { return }
        let repeating = machine.state == .master && deadline != nil ? machine.settings.advertInterval : nil
        repeatingEvery = repeating
        // A master's advert may leave up to a millisecond late (its next deadline still follows
        // this one, so nothing drifts): many instances' adverts then share a wake-up. The
        // master-down timer has no leeway, so a takeover stays exact.
        let leeway = repeating.map { min(0.001, $0 / 100) } ?? 0
        environment.loop.reschedule(timer, at: deadline, repeating: repeating, leeway: leeway)
    }

    private func sendAdvertisement(priority: UInt8) {
        let packets: [[UInt8]]
        let framed: [[UInt8]]
        if let cached = encodedAdverts, cached.priority == priority {
            (packets, framed) = (cached.packets, cached.framed)
        } else {
            packets = encodeAdverts(priority: priority)
            framed = zip(destinations, packets).map { interface.socket.framed($1, from: sourceAddress, to: $0) }
            encodedAdverts = (priority, packets, framed)
        }
        var sent = false
        // AH: each advert numbered anew, the whole IP packet signed.
        var sealed: [[UInt8]]?
        if authenticator != nil {
            sealed = authenticator?.seal(packets[0], from: sourceAddress.v4Value ?? 0, to: destinations.map { $0.v4Value ?? 0 })
        }
        for (index, (destination, bytes)) in zip(destinations, framed).enumerated() {
            do {
                if let sealed, let socket = interface.authenticationHeaderSocket {
                    try socket.sendPacket(sealed[index], to: destination.v4Value ?? 0)
                } else {
                    try interface.socket.sendFramed(bytes, from: sourceAddress, to: destination)
                }
                statistics.advertisementsSent += 1
                if priority == 0 { statistics.priorityZeroSent += 1 }
                sent = true
            } catch {
                statistics.sendErrors += 1
                logger.error("\(label) cannot send advertisement to \(destination): \(error)")
            }
        }
        // keepalived counts an advert once, however many unicast peers it goes to.
        if sent {
            statistics.counters.advertisementsSent += 1
            if priority == 0 { statistics.counters.priorityZeroSent += 1 }
        }
    }

    /// The advert for each destination (a version 3 checksum covers the destination).
    private func encodeAdverts(priority: UInt8) -> [[UInt8]] {
        let addresses = config.virtualIPAddresses.map(\.address).filter { $0.family == sourceAddress.family }
        let advert = check.version == 3
            ? VRRPAdvertisement(virtualRouterID: virtualRouterID, priority: priority, centiseconds: check.advertisementInterval,
                                addresses: addresses)
            : VRRPAdvertisement(virtualRouterID: virtualRouterID, priority: priority, authenticationType: authenticationType,
                                advertisementInterval: UInt8(clamping: check.advertisementInterval), addresses: addresses,
                                password: authenticationType == .simpleText ? password : nil)
        let coversDestination = check.version == 3 && check.checksumCoversPseudoHeader
        let plain = coversDestination ? nil : advert.encoded()
        return destinations.map { plain ?? advert.encoded(pseudoHeader: .init(source: sourceAddress, destination: $0)) }
    }

    private func takeOwnership() {
        if !config.virtualIPAddresses.isEmpty || !config.excludedIPAddresses.isEmpty {
            logger.info("\(label) setting VIPs.")
        }
        add(addresses: config.virtualIPAddresses + config.excludedIPAddresses, routes: config.virtualRoutes, rules: config.virtualRules)
        if dropping { environment.firewall?.drop(addedAddresses.map(\.address), instance: config.name) }
        announce(burst: garp.repeatCount)
        environment.onOwnership(config.name, true)
        if garp.delay > 0 {
            later(garp.delay) { [weak self] in self?.announce(burst: self?.garp.repeatCount ?? 0) }
        }
        if garp.refresh > 0 { scheduleRefresh() }
    }

    /// Addresses first, then the routes (which may use them as source), then the rules.
    private func add(addresses: [VirtualIPAddress], routes: [VirtualRoute], rules: [RoutingRule]) {
        for vip in addresses {
            do {
                try environment.netlink.addAddress(vip, interfaceIndex: environment.interfaceIndex(vip.device) ?? addressInterface.index)
                addedAddresses.append(vip)
            } catch where RouteNetlink.isExists(error) {
                addedAddresses.append(vip)
            } catch {
                logger.error("\(label) cannot add \(vip.address) to \(vip.device ?? addressInterface.name): \(error)")
            }
        }
        for route in routes {
            do {
                try environment.netlink.addRoute(route, interfaceIndex: environment.interfaceIndex(route.device) ?? addressInterface.index)
                addedRoutes.append(route)
            } catch where RouteNetlink.isExists(error) {
                addedRoutes.append(route)
            } catch {
                logger.error("\(label) cannot add route \(route.destination): \(error)")
            }
        }
        for rule in rules {
            do {
                try environment.netlink.addRule(rule)
                addedRules.append(rule)
            } catch where RouteNetlink.isExists(error) {
                addedRules.append(rule)
            } catch {
                logger.error("\(label) cannot add rule \(KernelObjectText.rule(rule)): \(error)")
            }
        }
    }

    private func scheduleRefresh() {
        later(garp.refresh) { [weak self] in
            guard let self, self.machine.state == .master else { return }
            self.announce(burst: self.garp.refreshRepeat)
            self.scheduleRefresh()
        }
    }

    /// Runs `work` on the loop `seconds` from now, until the addresses are released.
    private func later(_ seconds: Double, _ work: @escaping @Sendable () -> Void) {
        let loop = environment.loop
        let now = loop.now()
        garpTimers.removeAll { $0.due < now }
        let due = now.adding(seconds: seconds)
        garpTimers.append((due, loop.timer(at: due, work)))
    }

    /// A lower priority's advert while master: a burst now, and one more garp_lower_prio_delay
    /// later (one pending at a time, however many such adverts come).
    private func reannounce() {
        guard garp.lowerPriorityRepeat > 0 else { return }
        announce(burst: garp.lowerPriorityRepeat)
        guard garp.lowerPriorityDelay > 0, !lowerPriorityBurstPending else { return }
        lowerPriorityBurstPending = true
        later(garp.lowerPriorityDelay) { [weak self] in
            guard let self else { return }
            self.lowerPriorityBurstPending = false
            self.announce(burst: self.garp.lowerPriorityRepeat)
        }
    }

    /// Gratuitous ARPs for every IPv4 virtual address on the instance's interface, unsolicited
    /// Neighbor Advertisements for every IPv6 one (link-local ones too), `burst` each. With
    /// vrrp_garp_interval (vrrp_gna_interval for IPv6) the sends of a family are that far apart.
    private func announce(burst: Int, only: Set<IPAddress>? = nil) {
        guard machine.state == .master else { return }
        let addresses = addedAddresses.filter {
            ($0.device == nil || $0.device == addressInterface.name) && (only?.contains($0.address) ?? true)
        }.map(\.address)
        guard !addresses.isEmpty else { return }
        let name = addressInterface.name
        for address in addresses {
            logger.info("\(label) Sending/queueing \(Self.announcement(address, plural: true)) on \(name) for \(address)")
        }
        for family in [AddressFamily.inet, .inet6] {
            let sends = (0..<burst).flatMap { _ in addresses.filter { $0.family == family } }
            let pause = family == .inet ? garp.interval : garp.neighborInterval
            for (index, address) in sends.enumerated() {
                if pause > 0 && index > 0 {
                    later(pause * Double(index)) { [weak self] in
                        guard let self, self.machine.state == .master else { return }
                        self.send(announcementOf: address)
                    }
                } else {
                    send(announcementOf: address)
                }
            }
        }
    }

    /// keepalived's words for each, which operators search their logs for.
    private static func announcement(_ address: IPAddress, plural: Bool) -> String {
        address.family == .inet ? (plural ? "gratuitous ARPs" : "gratuitous ARP")
            : (plural ? "Unsolicited Neighbour Adverts" : "unsolicited Neighbour Advert")
    }

    private func send(announcementOf address: IPAddress) {
        let name = addressInterface.name
        do {
            try announcer.announce(address)
            statistics.gratuitousARPsSent += 1
            logger.info("Sending \(Self.announcement(address, plural: false)) on \(name) for \(address)")
        } catch {
            logger.error("\(label) cannot send \(Self.announcement(address, plural: false)) for \(address) on \(name): \(error)")
        }
    }

    private func releaseOwnership() {
        environment.onOwnership(config.name, false)
        garpTimers.forEach { $0.timer.cancel() }
        garpTimers.removeAll()
        lowerPriorityBurstPending = false
        if dropping { environment.firewall?.allow(addedAddresses.map(\.address), instance: config.name) }
        if !addedAddresses.isEmpty { logger.info("\(label) removing VIPs.") }
        remove(rules: addedRules, routes: addedRoutes, addresses: addedAddresses)
        addedRules.removeAll()
        addedRoutes.removeAll()
        addedAddresses.removeAll()
    }

    private func remove(rules: [RoutingRule], routes: [VirtualRoute], addresses: [VirtualIPAddress]) {
        for rule in rules.reversed() {
            do {
                try environment.netlink.removeRule(rule)
            } catch where RouteNetlink.isMissing(error) {
            } catch {
                logger.error("\(label) cannot remove rule \(KernelObjectText.rule(rule)): \(error)")
            }
        }
        for route in routes.reversed() {
            do {
                try environment.netlink.removeRoute(route, interfaceIndex: environment.interfaceIndex(route.device) ?? addressInterface.index)
            } catch where RouteNetlink.isMissing(error) {
            } catch {
                logger.error("\(label) cannot remove route \(route.destination): \(error)")
            }
        }
        for vip in addresses.reversed() {
            do {
                try environment.netlink.removeAddress(vip, interfaceIndex: environment.interfaceIndex(vip.device) ?? addressInterface.index)
            } catch where RouteNetlink.isMissing(error) {
            } catch {
                logger.error("\(label) cannot remove \(vip.address): \(error)")
            }
        }
    }
}

/// Counters per instance, for the statistics dump and the tests.
struct InstanceStatistics: Sendable {
    var advertisementsReceived = 0
    var advertisementsSent = 0
    var priorityZeroReceived = 0
    var priorityZeroSent = 0
    var gratuitousARPsSent = 0
    var sendErrors = 0
    var rejected: [String: Int] = [:]
    /// keepalived's counters, which STATS_CLEAR resets (the ones above are never reset).
    var counters = VRRPCounters()
}
