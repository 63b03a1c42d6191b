import HealthCheck
import IPVS
import Prometheus
import VRRP
import RouteAnnounce

/// /metrics in Prometheus' text format.
///
/// The daemon already counts (adverts, checks, reloads) in its own reports, so at each scrape
/// the series are written from a snapshot of them (`ExpositionWriter`, which says why not through
/// swift-prometheus' registry): a subject gone after a reload simply is not written, and a count
/// that restarts reads as a counter reset. What lives between scrapes is swift-prometheus':
/// the two histograms, fed as events happen, and the process's constant series. Not through
/// swift-metrics' global factory: its handlers carry no help text, and `promtool check metrics`
/// refuses metrics without one.
public final class MetricsExporter: @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    private var writer = ExpositionWriter()
    private var advertDelays: [String: DurationHistogram] = [:]
    private var checkDurations: [String: DurationHistogram] = [:]

    static let advertDelayBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
    ]
    static let checkDurationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    /// `startTime` in seconds since the Unix epoch.
    public init(version: String, startTime: Double) {
        registry.makeGauge(descriptor: Self.descriptor("process_start_time_seconds", "Start time of the process since unix epoch in seconds."))
            .set(startTime)
        registry.makeGauge(descriptor: Self.descriptor("keepalived_build_info", "The daemon's version; always 1"),
                           labels: [("version", version), ("implementation", "swiftkeepalived")]).set(1.0)
        registry.makeGauge(descriptor: Self.descriptor("keepalived_up", "Status")).set(1.0)
    }

    /// A master's advert timer ran `seconds` after its deadline.
    public func recordAdvertDelay(instance: String, seconds: Double) {
        record(seconds, in: &advertDelays, label: ("iname", instance), name: "keepalived_vrrp_advert_send_delay_seconds",
               help: "How late each advert of a master was sent after its due time", buckets: Self.advertDelayBuckets)
    }

    /// A check of kind `checker` (HTTP_GET, TCP_CHECK…) took `seconds`.
    public func recordCheckDuration(checker: String, seconds: Double) {
        record(seconds, in: &checkDurations, label: ("checker", checker), name: "keepalived_check_duration_seconds",
               help: "Duration of health checks, by checker type", buckets: Self.checkDurationBuckets)
    }

    /// Adds `seconds` to the histogram of `label`'s value, made in the registry the first time.
    private func record(_ seconds: Double, in histograms: inout [String: DurationHistogram], label: (String, String), name: String,
                        help: String, buckets: [Duration]) {
        let histogram = histograms[label.1] ?? {
            let made = registry.makeDurationHistogram(descriptor: Self.descriptor(name, help), labels: [label], buckets: buckets)
            histograms[label.1] = made
            return made
        }()
        histogram.record(.nanoseconds(Int64(max(0, seconds) * 1e9)))
    }

    /// Only `render` and `renderDestinations` touch these (on one thread at a time).
    private let deflater = Deflater()
    private var headers: [String: DeflatedPiece] = [:]
    private var virtualServerSection = CachedSection<VirtualServerMetrics>()
    private var checkerSection = CachedSection<CheckerMetrics>()
    private var ipvsSection = CachedSection<IPVSStatistics.Service>()

    /// /metrics for `snapshot`. The few series of the instances, scripts and reloads are written
    /// again each time; the thousands of the virtual servers and checkers come from blocks kept
    /// since the last render unless their subjects changed.
    public func render(_ snapshot: MetricsSnapshot) -> MetricsBody {
        writer = ExpositionWriter()
        exportVRRP(snapshot)
        exportReloads(snapshot.reloads)
        if let announcements = snapshot.announcements { exportAnnouncements(announcements) }
        counter("keepalived_metrics_builds_total", "Answers of /metrics and /metrics/destinations built (those reused within a second are not counted)",
                [], snapshot.builds)
        writer.sample(writer.family("keepalived_metrics_build_cpu_seconds_total", "counter", "CPU time the building of those answers took, off the event loop"),
                      [], snapshot.buildCPUSeconds)
        let head = registry.emitToBuffer() + writer.text
        writer = ExpositionWriter()
        virtualServerSection.update(snapshot.virtualServers, deflater: deflater, render: Self.writeVirtualServers)
        checkerSection.update(snapshot.checkers, deflater: deflater, render: Self.writeCheckers)
        return MetricsBody(pieces: [deflater.piece(head)] + pieces(virtualServerSection.families) + pieces(checkerSection.families))
    }

    /// /metrics/ipvs: the kernel's counters of every virtual service and real server (`nil`:
    /// they could not be read), apart from /metrics because reading them costs the kernel a
    /// netlink dump per virtual service: Prometheus can fetch them less often, or not at all.
    public func renderIPVS(_ statistics: IPVSStatistics?) -> MetricsBody {
        writer = ExpositionWriter()
        if statistics == nil { kernelReadFailures += 1 }
        counter("keepalived_ipvs_read_errors_total", "Scrapes whose read of the kernel's IPVS counters failed", [], kernelReadFailures)
        let head = writer.text
        writer = ExpositionWriter()
        ipvsSection.update(statistics?.services ?? [], deflater: deflater) { services, writer in
            Self.writeServices(services, &writer)
            Self.writeDestinations(services, &writer)
        }
        return MetricsBody(pieces: [deflater.piece(head)] + pieces(ipvsSection.families))
    }

    /// Each family's HELP and TYPE (compressed once per family) followed by its samples.
    private func pieces(_ families: [(family: ExpositionWriter.FamilyText, pieces: [DeflatedPiece])]) -> [DeflatedPiece] {
        var pieces: [DeflatedPiece] = []
        for (family, samples) in families {
            let header = headers[family.name] ?? deflater.piece(family.header)
            headers[family.name] = header
            pieces.append(header)
            pieces += samples
        }
        return pieces
    }

    // MARK: Sections

    private func exportVRRP(_ snapshot: MetricsSnapshot) {
        for instance in snapshot.vrrpInstances {
            let report = instance.report
            let labels = [("iname", report.name), ("intf", report.interface), ("vrid", "\(report.virtualRouterID)")]
            for entry in ExporterCounters.perInstance {
                counter(entry.name, entry.help, labels, entry.count(report.counters))
            }
            counter("keepalived_gratuitous_arp_delay_total", "Gratuitous ARP delay", labels, Int(instance.garpDelay))
            // As the exporter: one series per address, labelled with the address's interface; one
            // with an empty address for an instance without any.
            let state = Double(instance.stateNumber)
            for address in instance.virtualAddresses {
                gauge("keepalived_vrrp_state", "State of vrrp",
                      [("iname", report.name), ("intf", address.device), ("vrid", "\(report.virtualRouterID)"), ("ip_address", address.address)], state)
            }
            if instance.virtualAddresses.isEmpty {
                gauge("keepalived_vrrp_state", "State of vrrp", labels + [("ip_address", "")], state)
            }
            for address in instance.excludedAddresses {
                gauge("keepalived_vrrp_excluded_state", "State of vrrp with excluded VIP",
                      [("iname", report.name), ("intf", address.device), ("vrid", "\(report.virtualRouterID)"), ("ip_address", address.address)], state)
            }
            gauge("keepalived_vrrp_effective_priority", "The instance's priority with its trackers' weights", labels, Double(report.effectivePriority))
            counter("keepalived_gratuitous_arps_sent_total", "Gratuitous ARPs sent", labels, report.gratuitousARPsSent)
            counter("keepalived_advertisement_send_errors_total", "Adverts the kernel refused to send", labels, report.sendErrors)
        }
        for script in snapshot.trackedScripts {
            gauge("keepalived_script_status", "Tracker Script Status", [("name", script.name)], script.isOK ? 1 : 0)
            gauge("keepalived_script_state", "Tracker Script State", [("name", script.name)], script.isRunning ? 1 : 0)
        }
    }

    private static func writeVirtualServers(_ servers: ArraySlice<VirtualServerMetrics>, _ writer: inout ExpositionWriter) {
        for server in servers {
            let labels = [("virtual_server", server.name)]
            writer.gauge("keepalived_virtual_server_quorum_up", "1 while the virtual server holds its quorum", labels, server.quorumLost ? 0 : 1)
            writer.gauge("keepalived_virtual_server_live_weight", "Weight of the live real servers, held against the quorum", labels,
                         Double(server.liveWeight))
            writer.gauge("keepalived_virtual_server_quorum", "The quorum the live weight is held against", labels, Double(server.quorum))
            // Thousands of these: the families are looked up once, each server's labels encoded once.
            let up = writer.family("keepalived_real_server_up", "gauge", "1 while the real server's checkers pass")
            let weight = writer.family("keepalived_real_server_weight", "gauge", "The real server's weight in the kernel's table (0 when inhibited)")
            for real in server.realServers {
                let realLabels = ExpositionWriter.labels(labels + [("real_server", real.name)])
                writer.sample(up, realLabels, UInt64(real.isUp ? 1 : 0))
                if let value = real.weight { writer.sample(weight, realLabels, UInt64(clamping: value)) }
            }
        }
    }

    private static func writeCheckers(_ checkers: ArraySlice<CheckerMetrics>, _ writer: inout ExpositionWriter) {
        for checker in checkers {
            let labels = [("virtual_server", checker.virtualServer), ("real_server", checker.realServer), ("checker", checker.checker)]
            writer.gauge("keepalived_check_up", "1 while the checker finds the real server up", labels, checker.isUp ? 1 : 0)
            writer.counter("keepalived_check_failures_total", "Checks that failed, retries included", labels, checker.failedChecks)
            if let duration = checker.lastDuration {
                writer.gauge("keepalived_check_last_duration_seconds", "How long the checker's last check took", labels, duration)
            }
        }
    }

    private static func writeServices(_ services: ArraySlice<IPVSStatistics.Service>, _ writer: inout ExpositionWriter) {
        for service in services {
            let labels = [("virtual_server", "\(service.key)")]
            let counters = service.counters
            let what = "virtual service"
            let prefix = "keepalived_ipvs_virtual_server"
            writer.counter(prefix + "_connections_total", "Connections the kernel scheduled to the \(what)", labels, counters.connections)
            writer.counter(prefix + "_incoming_packets_total", "Packets in to the \(what)", labels, counters.incomingPackets)
            writer.counter(prefix + "_outgoing_packets_total", "Packets out from the \(what)", labels, counters.outgoingPackets)
            writer.counter(prefix + "_incoming_bytes_total", "Bytes in to the \(what)", labels, counters.incomingBytes)
            writer.counter(prefix + "_outgoing_bytes_total", "Bytes out from the \(what)", labels, counters.outgoingBytes)
        }
    }

    private static func writeDestinations(_ services: ArraySlice<IPVSStatistics.Service>, _ writer: inout ExpositionWriter) {
        let families = destinationFamilies.map { writer.family($0.name, $0.type, $0.help) }
        for service in services {
            let labels = [("virtual_server", "\(service.key)")]
            for destination in service.destinations {
                let realLabels = ExpositionWriter.labels(labels + [("real_server", notation(destination.key, in: service.key))])
                for (family, value) in zip(families, values(destination)) { writer.sample(family, realLabels, value) }
            }
        }
    }

    private var kernelReadFailures = 0

    /// A real server's kernel series, in the order of `values`.
    private static let destinationFamilies: [(name: String, type: String, help: String)] = [
        ("keepalived_ipvs_real_server_connections_total", "counter", "Connections the kernel scheduled to the real server"),
        ("keepalived_ipvs_real_server_incoming_packets_total", "counter", "Packets in to the real server"),
        ("keepalived_ipvs_real_server_outgoing_packets_total", "counter", "Packets out from the real server"),
        ("keepalived_ipvs_real_server_incoming_bytes_total", "counter", "Bytes in to the real server"),
        ("keepalived_ipvs_real_server_outgoing_bytes_total", "counter", "Bytes out from the real server"),
        ("keepalived_ipvs_real_server_active_connections", "gauge", "The kernel's active connections to the real server"),
        ("keepalived_ipvs_real_server_inactive_connections", "gauge", "The kernel's inactive connections to the real server"),
    ]

    private static func values(_ destination: IPVSStatistics.Destination) -> [UInt64] {
        let counters = destination.counters
        return [counters.connections, counters.incomingPackets, counters.outgoingPackets, counters.incomingBytes, counters.outgoingBytes,
                UInt64(destination.activeConnections), UInt64(destination.inactiveConnections)]
    }

    /// keepalived's notation for a real server, as the checkers' metrics label it.
    static func notation(_ destination: IPVSDestinationKey, in service: IPVSServiceKey) -> String {
        switch service {
        case .address(let proto, _, _): return "[\(destination.address)]:\(proto.rawValue.lowercased()):\(destination.port)"
        case .fwmark: return "[\(destination.address)]:\(destination.port)"
        }
    }

    private func exportReloads(_ reloads: ReloadRecord) {
        counter("keepalived_reloads_total", "Reloads (SIGHUP) so far", [], reloads.count)
        counter("keepalived_reload_failures_total", "Reloads refused (a config with errors)", [], reloads.failures)
        if let duration = reloads.lastDuration {
            gauge("keepalived_last_reload_duration_seconds", "How long the last reload took", [], duration)
        }
        if let succeeded = reloads.lastSucceeded {
            gauge("keepalived_last_reload_success", "1 when the last reload was applied, 0 when it was refused", [], succeeded ? 1 : 0)
        }
        if let ended = reloads.lastEnded {
            gauge("keepalived_last_reload_timestamp_seconds", "When the last reload ended, since unix epoch in seconds", [], ended)
        }
    }

    private func exportAnnouncements(_ report: RouteAnnouncementReport) {
        gauge("keepalived_announce_maintenance", "1 while announce_maintenance_file exists (every announced route withdrawn)", [], report.maintenance ? 1 : 0)
        for route in report.routes {
            gauge("keepalived_route_announced", "1 while the kernel holds the announce_route route for the routing daemon to announce",
                  [("prefix", route.prefix), ("table", String(route.table)), ("protocol", String(route.protocolNumber)), ("device", route.device)],
                  route.announced ? 1 : 0)
        }
    }

    // MARK: Series

    /// A whole metric name (ours and the exporter's carry their unit already) and its help text.
    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    private func counter<Count: BinaryInteger>(_ name: String, _ help: String, _ labels: [(String, String)], _ value: Count) {
        writer.counter(name, help, labels, value)
    }

    private func gauge(_ name: String, _ help: String, _ labels: [(String, String)], _ value: Double) {
        writer.gauge(name, help, labels, value)
    }
}

/// A rendered /metrics: its pieces, joined as plain text or as one gzip member.
public struct MetricsBody: Sendable {
    public let pieces: [DeflatedPiece]

    public var text: [UInt8] { DeflatedPiece.text(pieces) }
    public var gzip: [UInt8] { DeflatedPiece.gzip(pieces) }
}
