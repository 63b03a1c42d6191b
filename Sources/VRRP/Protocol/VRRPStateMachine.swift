import KeepalivedConfig
import DaemonCore

public enum VRRPState: String, Sendable {
    case initialize = "INIT"
    case backup = "BACKUP"
    case master = "MASTER"
    case fault = "FAULT"
    case stopped = "STOP"
}

/// What the state machine asks its runtime to do, in order.
public enum VRRPAction: Sendable, Equatable {
    /// A line for the log, in keepalived's words.
    case log(String)
    case sendAdvertisement(priority: UInt8)
    /// Add the virtual addresses and routes, then announce them with gratuitous ARP.
    case takeOwnership
    /// Remove exactly the addresses and routes `takeOwnership` added.
    case releaseOwnership
    /// Run the notify scripts for the state just entered.
    case notify(VRRPState)
    /// A master heard a lower priority (a healed split brain): announce the addresses again, so
    /// that neighbours which learned the other master's MAC come back (garp_lower_prio_*).
    case reannounce
}

/// One VRRP instance's protocol logic (RFC 3768 section 6.4 and RFC 5798 section 6.4, with
/// keepalived's FAULT state, preempt_delay and nopreempt): events and instants in, actions out. It owns two deadlines, the
/// advert timer and the master-down timer; the runtime arms one timer at `nextDeadline`.
public struct VRRPStateMachine: Sendable {
    public struct Settings: Sendable {
        public var name: String
        /// The configured priority, 1-255; 255 marks the address owner.
        public var priority: Int
        /// Seconds between adverts.
        public var advertInterval: Double
        public var preempt: Bool
        public var preemptDelay: Double
        /// `state MASTER` in the config: an address owner then starts as master at once.
        public var startsAsMaster: Bool
        /// Our address on the instance's network; it breaks ties between equal priorities.
        public var primaryAddress: IPAddress
        /// 2 or 3: version 3 learns the master's interval and scales Skew_Time by it.
        public var version: Int
        /// Adverts missed before a backup takes over (keepalived's down_timer_adverts; RFC: 3).
        public var downTimerAdverts: Int
        /// A master answers a lower priority's advert with its own at once (keepalived's default;
        /// off with lower_prio_no_advert and in strict mode).
        public var answersLowerPriority = true
        /// A master sends one advert before yielding to a higher priority (higher_prio_send_advert).
        public var advertisesBeforeYielding = false

        public init(name: String, priority: Int, advertInterval: Double, preempt: Bool = true, preemptDelay: Double = 0,
                    startsAsMaster: Bool = false, primaryAddress: IPAddress, version: Int = 2, downTimerAdverts: Int = 3) {
            self.version = version
            self.downTimerAdverts = downTimerAdverts
            self.name = name
            self.priority = priority
            self.advertInterval = advertInterval
            self.preempt = preempt
            self.preemptDelay = preemptDelay
            self.startsAsMaster = startsAsMaster
            self.primaryAddress = primaryAddress
        }
    }

    public private(set) var settings: Settings
    public private(set) var state = VRRPState.initialize
    /// The priority adverts carry: configured, moved by tracked scripts and interfaces.
    public private(set) var priority: Int
    public private(set) var advertDeadline: Instant?
    public private(set) var masterDownDeadline: Instant?
    /// Until then a lower-priority master is still obeyed (preempt_delay).
    private var preemptAllowedAt: Instant?
    /// Master_Adver_Interval of RFC 5798: the interval the master's adverts carry, learned by a
    /// backup (version 3); our own otherwise.
    public private(set) var masterAdvertInterval: Double

    public init(settings: Settings) {
        self.settings = settings
        self.priority = settings.priority
        masterAdvertInterval = settings.advertInterval
    }

    /// Skew_Time: (256 - Priority) / 256 seconds in RFC 3768; that fraction of
    /// Master_Adver_Interval in RFC 5798.
    public var skewTime: Double {
        settings.version == 3 ? Double(256 - priority) * masterAdvertInterval / 256 : Double(256 - priority) / 256
    }
    /// Master_Down_Interval: 3 (down_timer_adverts) x Master_Adver_Interval + Skew_Time.
    public var masterDownInterval: Double { Double(settings.downTimerAdverts) * masterAdvertInterval + skewTime }
    public var nextDeadline: Instant? {
        switch (advertDeadline, masterDownDeadline) {
        case (let advert?, let down?): return min(advert, down)
        case (let advert?, nil): return advert
        case (nil, let down?): return down
        case (nil, nil): return nil
        }
    }

    private var label: String { "(\(settings.name))" }

    /// When the advert after one sent `now` is due: one interval on, brought back to the last
    /// multiple of a twentieth of the interval on the monotonic clock. Masters with the same
    /// interval then share deadlines, and the loop sends their adverts in one wake-up (255
    /// instances at 0.1 s: about 150 wake-ups a second instead of 600). Only an interval that
    /// starts off the grid is shortened, by less than 5%: an early advert only restarts a
    /// backup's master-down timer. Later adverts follow one interval apart, so none drift.
    private func nextAdvert(after now: Instant) -> Instant {
        let next = now.adding(seconds: settings.advertInterval)
        let grid = UInt64((settings.advertInterval * 1e9 / 20).rounded())
        guard grid > 0 else { return next }
        let aligned = Instant(nanoseconds: next.nanoseconds / grid * grid)
        return aligned > now ? aligned : next
    }

    // MARK: Events

    public mutating func start(now: Instant, faulty: Bool) -> [VRRPAction] {
        guard state == .initialize else { return [] }
        if faulty { return enterFault(now: now) }
        if priority == 255 && settings.startsAsMaster { return becomeMaster(now: now) }
        var actions: [VRRPAction] = [.log("\(label) Entering BACKUP STATE (init)")]
        state = .backup
        masterAdvertInterval = settings.advertInterval
        let delay = settings.preempt ? settings.preemptDelay : 0
        preemptAllowedAt = now.adding(seconds: delay)
        masterDownDeadline = now.adding(seconds: masterDownInterval + delay)
        actions.append(.notify(.backup))
        return actions
    }

    /// Call when `nextDeadline` has passed; whichever timers are due fire.
    public mutating func timerFired(now: Instant) -> [VRRPAction] {
        if state == .master, let deadline = advertDeadline, deadline <= now {
            // The next deadline follows the last one, not the moment we ran: adverts must not drift.
            var next = deadline.adding(seconds: settings.advertInterval)
            if next <= now { next = nextAdvert(after: now) }
            advertDeadline = next
            return [.sendAdvertisement(priority: UInt8(priority))]
        }
        if state == .backup, let deadline = masterDownDeadline, deadline <= now {
            return [.log("\(label) Receive advertisement timeout")] + becomeMaster(now: now)
        }
        return []
    }

    /// An advert that passed the packet and instance checks; `interval` is the one it carries, in
    /// seconds (version 3 learns it).
    public mutating func advertisementReceived(priority theirs: Int, from source: IPAddress, interval: Double? = nil,
                                               now: Instant) -> [VRRPAction] {
        switch state {
        case .backup:
            if theirs == 0 {
                masterDownDeadline = now.adding(seconds: skewTime)
                return [.log("\(label) Backup received priority 0 advertisement")]
            }
            let stillDeferring = preemptAllowedAt.map { now < $0 } ?? false
            if !settings.preempt || theirs >= priority || stillDeferring {
                if settings.version == 3, let interval, interval > 0 { masterAdvertInterval = interval }
                masterDownDeadline = now.adding(seconds: masterDownInterval)
            }
            return []
        case .master:
            if theirs == 0 {
                advertDeadline = nextAdvert(after: now)
                return [.sendAdvertisement(priority: UInt8(priority))]
            }
            let yielding: [VRRPAction] = settings.advertisesBeforeYielding ? [.sendAdvertisement(priority: UInt8(priority))] : []
            if theirs > priority {
                return yielding + [.log("\(label) Master received advert from \(source) with higher priority \(theirs), ours \(priority)")]
                    + becomeBackup(now: now, learning: interval)
            }
            if theirs == priority && source > settings.primaryAddress {
                return yielding + [.log("\(label) Master received advert from \(source) with same priority \(theirs) but higher IP address than ours")]
                    + becomeBackup(now: now, learning: interval)
            }
            // Another master of lower priority: a split brain healing. keepalived answers it at once
            // rather than waiting for its timer, and announces the addresses again.
            guard settings.answersLowerPriority else {
                return [.log("\(label) Received advert from \(source) with lower priority \(theirs), ours \(priority)"), .reannounce]
            }
            advertDeadline = nextAdvert(after: now)
            return [.log("\(label) Received advert from \(source) with lower priority \(theirs), ours \(priority), forcing new election"),
                    .sendAdvertisement(priority: UInt8(priority)), .reannounce]
        case .initialize, .fault, .stopped:
            return []
        }
    }

    /// The instance's interface, or something it tracks without a weight, went down or came back.
    public mutating func faultChanged(faulty: Bool, now: Instant) -> [VRRPAction] {
        if faulty && state != .fault && state != .stopped && state != .initialize { return enterFault(now: now) }
        guard !faulty && state == .fault else { return [] }
        state = .backup
        masterAdvertInterval = settings.advertInterval
        masterDownDeadline = now.adding(seconds: masterDownInterval)
        preemptAllowedAt = nil
        return [.log("\(label) Entering BACKUP STATE"), .notify(.backup)]
    }

    /// Another member of this instance's sync group became master: follow it at once.
    public mutating func syncToMaster(now: Instant) -> [VRRPAction] {
        guard state == .backup else { return [] }
        return becomeMaster(now: now)
    }

    /// Another member of this instance's sync group fell back to backup: follow it.
    public mutating func syncToBackup(now: Instant) -> [VRRPAction] {
        guard state == .master else { return [] }
        return becomeBackup(now: now)
    }

    /// A tracked script or interface moved the priority. The address owner's 255 never moves.
    public mutating func priorityChanged(to newPriority: Int) -> [VRRPAction] {
        let clamped = settings.priority == 255 ? 255 : min(254, max(1, newPriority))
        guard clamped != priority else { return [] }
        let old = priority
        priority = clamped
        return [.log("\(label) Changing effective priority from \(old) to \(clamped)")]
    }

    /// A reload changed what needs no restart (base priority, preemption): state and timers
    /// stay. The new base priority takes effect through `priorityChanged(to:)`, as a tracker's would.
    public mutating func reconfigure(_ newSettings: Settings) {
        settings = newSettings
    }

    /// Shutdown: a master hands over at once with a priority-0 advert.
    public mutating func stop() -> [VRRPAction] {
        let wasMaster = state == .master
        state = .stopped
        advertDeadline = nil
        masterDownDeadline = nil
        guard wasMaster else { return [.notify(.stopped)] }
        return [.sendAdvertisement(priority: 0), .log("\(label) sent 0 priority"), .releaseOwnership, .notify(.stopped)]
    }

    // MARK: Transitions

    private mutating func becomeMaster(now: Instant) -> [VRRPAction] {
        state = .master
        masterDownDeadline = nil
        advertDeadline = nextAdvert(after: now)
        // The advert goes first: it is what stops the other routers' timers.
        return [.log("\(label) Entering MASTER STATE"), .sendAdvertisement(priority: UInt8(priority)), .takeOwnership, .notify(.master)]
    }

    /// `learning`: the interval of the advert that made us yield, which version 3 follows.
    private mutating func becomeBackup(now: Instant, learning interval: Double? = nil) -> [VRRPAction] {
        state = .backup
        masterAdvertInterval = settings.advertInterval
        if settings.version == 3, let interval, interval > 0 { masterAdvertInterval = interval }
        advertDeadline = nil
        masterDownDeadline = now.adding(seconds: masterDownInterval)
        return [.log("\(label) Entering BACKUP STATE"), .releaseOwnership, .notify(.backup)]
    }

    private mutating func enterFault(now: Instant) -> [VRRPAction] {
        let wasMaster = state == .master
        state = .fault
        advertDeadline = nil
        masterDownDeadline = nil
        // keepalived's order in the log: the state first, then the addresses going.
        var actions: [VRRPAction] = [.log("\(label) Entering FAULT STATE")]
        if wasMaster { actions += [.sendAdvertisement(priority: 0), .releaseOwnership] }
        actions.append(.notify(.fault))
        return actions
    }
}
