import DaemonCore
import KeepalivedConfig

/// One instance as the state dumps (SIGUSR1, SIGUSR2, SIGJSON) show it.
public struct VRRPInstanceReport: Sendable, Codable {
    public let name: String
    public let state: String
    public let interface: String
    public let virtualRouterID: Int
    public let configuredPriority: Int
    public let effectivePriority: Int
    public let virtualAddresses: [String]
    public let advertisementsReceived: Int
    public let advertisementsSent: Int
    public let priorityZeroReceived: Int
    public let priorityZeroSent: Int
    public let gratuitousARPsSent: Int
    public let sendErrors: Int
    /// Adverts refused, by reason (TTL, authentication, interval, address list…).
    public let rejected: [String: Int]
    /// keepalived's counters: keepalived.stats and the "stats" of keepalived.json.
    public var counters = VRRPCounters()
    /// What keepalived.data and the "data" of keepalived.json show beyond the fields above.
    public var details = VRRPInstanceDetails()
}

/// An instance's settings and run-time state as keepalived's state files show them. The
/// defaults are keepalived's.
public struct VRRPInstanceDetails: Sendable, Codable {
    public struct Tracked: Sendable, Codable, Equatable {
        public var name: String
        public var weight: Int
        public var reverse = false
        /// A tracked script's command, as keepalived quotes it.
        public var command = ""
    }

    public struct Notify: Sendable, Codable, Equatable {
        /// keepalived's word in keepalived.data: Master, Backup, Fault, Stop, Generic.
        public var kind: String
        /// keepalived's key in keepalived.json: script_master, …, script.
        public var jsonKey: String
        public var command: String
    }

    public var wantState = "BACKUP"
    public var version = 2
    public var syncGroup: String?
    /// Seconds since the epoch.
    public var lastTransition = 0.0
    /// When the instance's timer fires next, seconds since the epoch; nil when none runs.
    public var readTimeout: Double?
    public var masterDownTimerMicroseconds = 0
    /// As a backup: the master heard last, and its priority.
    public var masterRouter: String?
    public var masterPriority = 0
    public var sourceAddress = ""
    public var sourceFromConfiguration = false
    /// Nil when the instance sends to unicast peers.
    public var multicastGroup: String? = "224.0.0.18"
    public var unicastPeers: [String] = []
    public var garpDelay = 5.0
    public var garpRepeat = 5
    public var garpRefresh = 0.0
    public var garpRefreshRepeat = 1
    public var garpLowerPriorityDelay = 5.0
    public var garpLowerPriorityRepeat = 5
    public var downTimerAdverts = 3
    public var lowerPriorityNoAdvert = false
    public var higherPrioritySendAdvert = false
    /// Seconds.
    public var advertInterval = 1.0
    public var accept = true
    public var preempt = true
    public var preemptDelay = 0.0
    public var promoteSecondaries = false
    public var dontTrackPrimary = false
    public var skipCheckAdvertAddresses = false
    public var strict = false
    /// keepalived's numbers: 0 none, 1 simple password, 2 IPsec AH.
    public var authenticationType = 0
    public var password: String?
    /// In keepalived's words: `192.0.2.200 dev lan0 scope global set`.
    public var virtualAddresses: [String] = []
    public var excludedAddresses: [String] = []
    public var virtualRoutes: [String] = []
    public var virtualRules: [String] = []
    public var trackedInterfaces: [Tracked] = []
    public var trackedScripts: [Tracked] = []
    public var notifyScripts: [Notify] = []
    public var smtpAlert = false
    /// The socket adverts are sent and received on (one for both, where keepalived has two).
    public var socketDescriptor: Int?
    /// The virtual addresses are on the interface (a master's).
    public var addressesSet = false

    public init() {}
}

/// A `vrrp_script` as keepalived.data's VRRP Scripts section shows it.
public struct VRRPScriptReport: Sendable, Codable {
    public var name: String
    public var command: String
    public var interval: Double
    public var timeout: Double
    public var weight: Int
    public var weightReverse: Bool
    public var rise: Int
    public var fall: Int
    public var good: Bool
    public var running: Bool
    /// The instances that track it, with the weight each applies.
    public var trackingInstances: [VRRPInstanceDetails.Tracked]
}

/// A `vrrp_sync_group` as keepalived.data's VRRP Sync groups section shows it.
public struct VRRPSyncGroupReport: Sendable, Codable {
    public var name: String
    /// The members' state when they agree, else the one of the first member not in FAULT.
    public var state: String
    public var members: [String]
    public var faultyMembers: Int
    public var smtpAlert: Bool
    public var trackedInterfaces: [VRRPInstanceDetails.Tracked]
    public var trackedScripts: [VRRPInstanceDetails.Tracked]
    public var notifyScripts: [VRRPInstanceDetails.Notify]
}

/// A command as keepalived writes it in its state files: each argument in single quotes.
func keepalivedCommandText(_ command: String) -> String {
    ScriptArguments.split(command).map { "'\($0)'" }.joined(separator: " ")
}

extension VRRPRuntime {
    /// Every instance, in config order. Call on the loop.
    public var report: [VRRPInstanceReport] {
        let wallNow = WallClock.now()
        let now = environment.loop.now()
        return instanceRuntimes.map { instance in
            let statistics = instance.statistics
            var report = VRRPInstanceReport(
                name: instance.config.name, state: instance.machine.state.rawValue, interface: instance.config.interface ?? "",
                virtualRouterID: Int(instance.virtualRouterID), configuredPriority: instance.config.effectivePriority,
                effectivePriority: instance.machine.priority,
                virtualAddresses: instance.config.virtualIPAddresses.map { "\($0.address)" + ($0.prefixLength.map { "/\($0)" } ?? "") },
                advertisementsReceived: statistics.advertisementsReceived, advertisementsSent: statistics.advertisementsSent,
                priorityZeroReceived: statistics.priorityZeroReceived, priorityZeroSent: statistics.priorityZeroSent,
                gratuitousARPsSent: statistics.gratuitousARPsSent, sendErrors: statistics.sendErrors, rejected: statistics.rejected)
            report.counters = statistics.counters
            report.details = details(of: instance, wallNow: wallNow, now: now)
            return report
        }
    }

    /// Every tracked `vrrp_script`, in config order. Call on the loop.
    public var scriptReport: [VRRPScriptReport] {
        configuration.vrrpScripts.compactMap { script in
            guard let tracked = trackedScripts[script.name] else { return nil }
            let weight = script.weight ?? 0
            let trackers = configuration.vrrpInstances.compactMap { instance in
                instance.trackScripts.first { $0.name == script.name }.map {
                    VRRPInstanceDetails.Tracked(name: instance.name, weight: $0.weight ?? weight, reverse: $0.reverse)
                }
            }
            let interval = script.interval ?? VRRPScript.defaultInterval
            return VRRPScriptReport(name: script.name, command: script.script.map { keepalivedCommandText($0.command) } ?? "",
                                    interval: interval, timeout: script.timeout ?? 0, weight: weight,
                                    weightReverse: script.weightReverse, rise: script.rise ?? VRRPScript.defaultRise,
                                    fall: script.fall ?? VRRPScript.defaultFall, good: tracked.isOK, running: tracked.isRunning,
                                    trackingInstances: trackers)
        }
    }

    /// Every sync group, in config order. Call on the loop.
    public var syncGroupReport: [VRRPSyncGroupReport] {
        let states = Dictionary(instanceRuntimes.map { ($0.config.name, $0.machine.state.rawValue) }) { first, _ in first }
        return configuration.syncGroups.map { group in
            let memberStates = group.members.compactMap { states[$0] }
            let state = memberStates.first { $0 != VRRPState.fault.rawValue } ?? memberStates.first ?? VRRPState.initialize.rawValue
            let notify = group.notify
            let scripts = [("Backup", "script_backup", notify.backup), ("Master", "script_master", notify.master),
                           ("Fault", "script_fault", notify.fault), ("Stop", "script_stop", notify.stop),
                           ("Generic", "script", notify.any)].compactMap { kind, key, script in
                script.map { VRRPInstanceDetails.Notify(kind: kind, jsonKey: key, command: keepalivedCommandText($0.command)) }
            }
            let scriptWeights = Dictionary(configuration.vrrpScripts.map { ($0.name, $0.weight ?? 0) }) { first, _ in first }
            return VRRPSyncGroupReport(
                name: group.name, state: state, members: group.members,
                faultyMembers: memberStates.filter { $0 == VRRPState.fault.rawValue }.count, smtpAlert: group.smtpAlert ?? false,
                trackedInterfaces: group.trackInterfaces.map { .init(name: $0.name, weight: $0.weight ?? 0, reverse: $0.reverse) },
                trackedScripts: group.trackScripts.map { .init(name: $0.name, weight: $0.weight ?? scriptWeights[$0.name] ?? 0, reverse: $0.reverse) },
                notifyScripts: scripts)
        }
    }

    /// The global definitions the running configuration has, for keepalived.data.
    public var globalDefinitions: GlobalDefinitions { configuration.globalDefs }

    /// keepalived's STATS_CLEAR: every instance's counters start again from zero.
    public func clearCounters() {
        instanceRuntimes.forEach { $0.clearCounters() }
    }

    private func details(of instance: InstanceRuntime, wallNow: Double, now: Instant) -> VRRPInstanceDetails {
        let config = instance.config
        let globals = configuration.globalDefs
        let machine = instance.machine
        var details = VRRPInstanceDetails()
        details.wantState = machine.state == .stopped ? "STOP" : machine.state.rawValue
        details.version = config.version ?? 2
        details.syncGroup = configuration.syncGroups.first { $0.members.contains(config.name) }?.name
        details.lastTransition = instance.lastTransition
        details.readTimeout = machine.nextDeadline.map { wallNow + ($0 > now ? $0.seconds(since: now) : 0) }
        details.masterDownTimerMicroseconds = Int((machine.masterDownInterval * 1_000_000).rounded(.down))
        if machine.state == .backup, let source = instance.lastAdvertSource {
            details.masterRouter = "\(source)"
            details.masterPriority = instance.lastAdvertPriority
        }
        details.sourceAddress = "\(instance.sourceAddress)"
        details.sourceFromConfiguration = config.unicastSourceIP != nil
        if config.unicastPeers.isEmpty {
            details.multicastGroup = "\(config.multicastGroup(globals))"
        } else {
            details.multicastGroup = nil
            details.unicastPeers = config.unicastPeers.map { "\($0.address)" }
        }
        details.garpDelay = config.garpMasterDelay ?? globals.vrrpGarpMasterDelay ?? GlobalDefinitions.defaultGarpMasterDelay
        details.garpRepeat = config.garpMasterRepeat ?? globals.vrrpGarpMasterRepeat ?? GlobalDefinitions.defaultGarpMasterRepeat
        details.garpRefresh = config.garpMasterRefresh ?? globals.vrrpGarpMasterRefresh ?? 0
        details.garpRefreshRepeat = config.garpMasterRefreshRepeat ?? globals.vrrpGarpMasterRefreshRepeat
            ?? GlobalDefinitions.defaultGarpMasterRefreshRepeat
        details.garpLowerPriorityDelay = config.garpLowerPrioDelay ?? globals.vrrpGarpLowerPrioDelay ?? details.garpDelay
        details.garpLowerPriorityRepeat = config.garpLowerPrioRepeat ?? globals.vrrpGarpLowerPrioRepeat ?? details.garpRepeat
        details.advertInterval = config.effectiveAdvertInterval
        let strict = config.strictMode ?? globals.vrrpStrict ?? false
        details.strict = strict
        details.accept = config.accept ?? !strict
        details.preempt = !config.noPreempt
        details.preemptDelay = config.preemptDelay ?? 0
        details.dontTrackPrimary = config.dontTrackPrimary
        details.skipCheckAdvertAddresses = config.skipCheckAdvAddr ?? globals.vrrpSkipCheckAdvAddr ?? false
        switch instance.authenticationType {
        case .none: details.authenticationType = 0
        case .simpleText: details.authenticationType = 1
        case .ipAuthenticationHeader: details.authenticationType = 2
        }
        details.password = instance.authenticationType == .simpleText ? instance.password : nil
        let device = config.interface ?? ""
        let held = machine.state == .master
        details.virtualAddresses = config.virtualIPAddresses.map { KernelObjectText.address($0, device: $0.device ?? device, set: held) }
        details.excludedAddresses = config.excludedIPAddresses.map { KernelObjectText.address($0, device: $0.device ?? device, set: held) }
        details.virtualRoutes = config.virtualRoutes.map(KernelObjectText.route)
        details.virtualRules = config.virtualRules.map(KernelObjectText.rule)
        details.trackedInterfaces = config.trackInterfaces.map { .init(name: $0.name, weight: $0.weight ?? 0, reverse: $0.reverse) }
        details.trackedScripts = config.trackScripts.compactMap { tracked in
            guard let script = configuration.vrrpScripts.first(where: { $0.name == tracked.name }) else { return nil }
            return .init(name: tracked.name, weight: tracked.weight ?? script.weight ?? 0,
                         reverse: tracked.weight == nil ? script.weightReverse : tracked.reverse,
                         command: script.script.map { keepalivedCommandText($0.command) } ?? "")
        }
        let notify = config.notify
        details.notifyScripts = [("Backup", "script_backup", notify.backup), ("Master", "script_master", notify.master),
                                 ("Fault", "script_fault", notify.fault), ("Stop", "script_stop", notify.stop),
                                 ("Generic", "script", notify.any)].compactMap { kind, key, script in
            script.map { VRRPInstanceDetails.Notify(kind: kind, jsonKey: key, command: keepalivedCommandText($0.command)) }
        }
        details.smtpAlert = config.smtpAlert ?? false
        details.addressesSet = held
        details.socketDescriptor = Int(instance.interface.socket.descriptor)
        return details
    }
}
