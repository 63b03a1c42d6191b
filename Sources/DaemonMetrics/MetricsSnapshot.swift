import HealthCheck
import IPVS
import VRRP
import RouteAnnounce

/// Everything /metrics shows, gathered on the loop when Prometheus asks.
public struct MetricsSnapshot: Sendable {
    public var vrrpInstances: [VRRPInstanceMetrics] = []
    public var trackedScripts: [TrackedScriptMetrics] = []
    public var virtualServers: [VirtualServerMetrics] = []
    public var checkers: [CheckerMetrics] = []
    public var reloads = ReloadRecord()
    /// announce_route's routes (nil: the configuration announces none).
    public var announcements: RouteAnnouncementReport?
    /// The endpoint's own cost so far: answers built (not those reused) and the CPU their
    /// building took off the loop.
    public var builds = 0
    public var buildCPUSeconds = 0.0

    public init() {}
}

/// SIGHUP reloads so far: how many, how many were refused, and the last one.
public struct ReloadRecord: Sendable, Equatable {
    public var count = 0
    public var failures = 0
    /// Seconds the last reload took, parse to parts changed.
    public var lastDuration: Double?
    public var lastSucceeded: Bool?
    /// When it ended, in seconds since the Unix epoch.
    public var lastEnded: Double?

    public init() {}

    public mutating func record(succeeded: Bool, duration: Double, endedAt: Double) {
        count += 1
        if !succeeded { failures += 1 }
        lastDuration = duration
        lastSucceeded = succeeded
        lastEnded = endedAt
    }
}
