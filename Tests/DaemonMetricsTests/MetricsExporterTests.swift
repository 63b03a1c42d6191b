import Foundation
import XCTest
@testable import DaemonMetrics
@testable import HealthCheck
@testable import IPVS
@testable import VRRP
import KeepalivedConfig

/// One sample line of the exposition: name, labels, value.
struct Sample: Equatable {
    let name: String
    let labels: [String: String]
    let value: Double
}

/// The exposition split into its TYPE and HELP lines and its samples.
struct Exposition {
    var types: [String: String] = [:]
    var helps: [String: String] = [:]
    var samples: [Sample] = []

    init(_ bytes: [UInt8]) {
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let words = line.split(separator: " ")
                types[String(words[2])] = String(words[3])
            } else if line.hasPrefix("# HELP ") {
                let words = line.split(separator: " ", maxSplits: 3)
                helps[String(words[2])] = words.count > 3 ? String(words[3]) : ""
            } else if !line.hasPrefix("#") {
                samples.append(Self.sample(String(line)))
            }
        }
    }

    static func sample(_ line: String) -> Sample {
        let valueStart = line.lastIndex(of: " ")!
        let value = Double(line[line.index(after: valueStart)...]) ?? .nan
        let series = line[..<valueStart]
        guard let brace = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
        var labels: [String: String] = [:]
        var rest = series[series.index(after: brace)...].dropLast()
        while let equals = rest.firstIndex(of: "=") {
            let name = String(rest[..<equals])
            var index = rest.index(equals, offsetBy: 2)
            var text = ""
            while rest[index] != "\"" {
                if rest[index] == "\\" { index = rest.index(after: index) }
                text.append(rest[index])
                index = rest.index(after: index)
            }
            labels[name] = text
            rest = rest[rest.index(after: index)...].drop { $0 == "," }
        }
        return Sample(name: String(series[..<brace]), labels: labels, value: value)
    }

    func values(_ name: String) -> [Sample] { samples.filter { $0.name == name } }

    func value(_ name: String, _ labels: [String: String]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }
}

final class MetricsExporterTests: XCTestCase {
    static func instance(name: String = "VI_1", state: VRRPState = .master, received: Int = 7, sent: Int = 11,
                         rejected: [String: Int] = [:], addresses: [VRRPInstanceMetrics.Address]? = nil) -> VRRPInstanceMetrics {
        // The one place that builds a report: when the report gains fields, only this changes.
        var report = VRRPInstanceReport(
            name: name, state: state.rawValue, interface: "lan0", virtualRouterID: 51, configuredPriority: 100, effectivePriority: 90,
            virtualAddresses: ["192.0.2.100", "192.0.2.101/24"], advertisementsReceived: received, advertisementsSent: sent,
            priorityZeroReceived: 1, priorityZeroSent: 2, gratuitousARPsSent: 5, sendErrors: 0, rejected: rejected)
        report.counters.advertisementsReceived = received
        report.counters.advertisementsSent = sent
        report.counters.priorityZeroReceived = 1
        report.counters.priorityZeroSent = 2
        report.counters.ttlErrors = rejected[AdvertisementCheck.Rejection.wrongTTL.rawValue] ?? 0
        report.counters.becameMaster = 4
        report.counters.invalidAuthenticationType = 6
        return VRRPInstanceMetrics(
            report: report, stateNumber: state.keepalivedNumber,
            virtualAddresses: addresses ?? [.init(address: "192.0.2.100", device: "lan0"), .init(address: "192.0.2.101/24", device: "lan1")],
            excludedAddresses: [.init(address: "203.0.113.5", device: "lan0")], garpDelay: 5)
    }

    static func snapshot() -> MetricsSnapshot {
        var snapshot = MetricsSnapshot()
        snapshot.vrrpInstances = [instance(rejected: [AdvertisementCheck.Rejection.wrongTTL.rawValue: 3])]
        snapshot.trackedScripts = [TrackedScriptMetrics(name: "chk_nginx", isOK: true, isRunning: false)]
        snapshot.virtualServers = [VirtualServerMetrics(
            name: "[192.0.2.10]:tcp:80", quorum: 2, quorumLost: false, liveWeight: 3,
            realServers: [.init(name: "[198.51.100.1]:tcp:80", isUp: true, weight: 3),
                          .init(name: "[198.51.100.2]:tcp:80", isUp: false, weight: nil)])]
        snapshot.checkers = [CheckerMetrics(virtualServer: "[192.0.2.10]:tcp:80", realServer: "[198.51.100.1]:tcp:80",
                                            checker: "HTTP_GET", isUp: true, lastDuration: 0.004, failedChecks: 2)]
        var counters = IPVSCounters()
        counters.connections = 12
        counters.incomingBytes = 3400
        snapshot.kernel = IPVSStatistics(services: [.init(
            key: .address(.tcp, IPAddress("192.0.2.10")!, port: 80), counters: counters,
            destinations: [.init(key: IPVSDestinationKey(address: IPAddress("198.51.100.1")!, port: 80), counters: counters,
                                 activeConnections: 4, inactiveConnections: 1)])])
        snapshot.reloads.record(succeeded: false, duration: 0.012, endedAt: 1_800_000_000)
        return snapshot
    }

    func testTheExportersMetricsKeepItsNamesLabelsAndTypes() {
        let exposition = Exposition(MetricsExporter(version: "1.2.3", startTime: 1000).render(Self.snapshot()))
        XCTAssertEqual(exposition.types["keepalived_up"], "gauge")
        XCTAssertEqual(exposition.value("keepalived_up", [:]), 1)
        XCTAssertEqual(exposition.types["keepalived_vrrp_state"], "gauge")
        XCTAssertEqual(exposition.helps["keepalived_vrrp_state"], "State of vrrp")
        // One series per address, on the address's own interface, as the exporter reads keepalived's data.
        XCTAssertEqual(exposition.value("keepalived_vrrp_state", ["iname": "VI_1", "intf": "lan0", "vrid": "51", "ip_address": "192.0.2.100"]), 2)
        XCTAssertEqual(exposition.value("keepalived_vrrp_state", ["iname": "VI_1", "intf": "lan1", "vrid": "51", "ip_address": "192.0.2.101/24"]), 2)
        XCTAssertEqual(exposition.value("keepalived_vrrp_excluded_state", ["iname": "VI_1", "intf": "lan0", "vrid": "51", "ip_address": "203.0.113.5"]), 2)
        let common = ["iname": "VI_1", "intf": "lan0", "vrid": "51"]
        XCTAssertEqual(exposition.types["keepalived_advertisements_received_total"], "counter")
        XCTAssertEqual(exposition.value("keepalived_advertisements_received_total", common), 7)
        XCTAssertEqual(exposition.value("keepalived_advertisements_sent_total", common), 11)
        XCTAssertEqual(exposition.value("keepalived_priority_zero_received_total", common), 1)
        XCTAssertEqual(exposition.value("keepalived_priority_zero_sent_total", common), 2)
        XCTAssertEqual(exposition.value("keepalived_ip_ttl_errors_total", common), 3)
        XCTAssertEqual(exposition.value("keepalived_authentication_failure_total", common), 0)
        XCTAssertEqual(exposition.value("keepalived_gratuitous_arp_delay_total", common), 5)
        XCTAssertEqual(exposition.types["keepalived_gratuitous_arp_delay_total"], "counter")
        XCTAssertEqual(exposition.value("keepalived_script_status", ["name": "chk_nginx"]), 1)
        XCTAssertEqual(exposition.value("keepalived_script_state", ["name": "chk_nginx"]), 0)
        XCTAssertEqual(exposition.types["keepalived_script_status"], "gauge")
    }

    /// Every counter keepalived-exporter has, from keepalived's counters.
    func testEveryExporterCounterIsThere() {
        let exposition = Exposition(MetricsExporter(version: "1", startTime: 0).render(Self.snapshot()))
        let common = ["iname": "VI_1", "intf": "lan0", "vrid": "51"]
        for entry in ExporterCounters.perInstance { XCTAssertEqual(exposition.types[entry.name], "counter", entry.name) }
        XCTAssertEqual(ExporterCounters.perInstance.count, 14)
        XCTAssertEqual(exposition.value("keepalived_become_master_total", common), 4)
        XCTAssertEqual(exposition.value("keepalived_authentication_invalid_total", common), 6)
        XCTAssertEqual(exposition.value("keepalived_release_master_total", common), 0)
    }

    /// The size of bench-metrics' table: 1,000 virtual servers x 20 real servers with their kernel
    /// counters. Prints what one text costs on this machine (Scripts/bench-metrics measures the
    /// whole scrape in the VM); the bound only catches a collapse.
    func testTheTextOfTwentyOneThousandRealServers() {
        var snapshot = MetricsSnapshot()
        var services: [IPVSStatistics.Service] = []
        var counters = IPVSCounters()
        counters.connections = 123_456
        counters.incomingBytes = 98_765_432_100
        for index in 0..<1000 {
            let address = "198.18.\(index / 254).\(index % 254 + 1)"
            let reals = (0..<20).map { real in "198.51.100.\(real + 1)" }
            snapshot.virtualServers.append(VirtualServerMetrics(
                name: "[\(address)]:tcp:80", quorum: 1, quorumLost: false, liveWeight: 20,
                realServers: reals.map { .init(name: "[\($0)]:tcp:80", isUp: true, weight: 1) }))
            services.append(.init(key: .address(.tcp, IPAddress(address)!, port: 80), counters: counters, destinations: reals.map {
                .init(key: IPVSDestinationKey(address: IPAddress($0)!, port: 80), counters: counters, activeConnections: 7, inactiveConnections: 3)
            }))
        }
        snapshot.kernel = IPVSStatistics(services: services)
        let exporter = MetricsExporter(version: "1", startTime: 0)
        _ = exporter.render(snapshot)
        let clock = ContinuousClock()
        var size = 0
        let elapsed = clock.measure { size = exporter.render(snapshot).count }
        let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        print("metrics text of 21,000 real servers with kernel counters: \(size) bytes in \(String(format: "%.1f", milliseconds)) ms")
        XCTAssertGreaterThan(size, 10_000_000)
        XCTAssertLessThan(milliseconds, 5000)
    }

    func testRealServersVirtualServersKernelAndReloads() {
        let exposition = Exposition(MetricsExporter(version: "1.2.3", startTime: 1000).render(Self.snapshot()))
        let server = ["virtual_server": "[192.0.2.10]:tcp:80"]
        let up = server.merging(["real_server": "[198.51.100.1]:tcp:80"]) { $1 }
        let down = server.merging(["real_server": "[198.51.100.2]:tcp:80"]) { $1 }
        XCTAssertEqual(exposition.value("keepalived_virtual_server_quorum_up", server), 1)
        XCTAssertEqual(exposition.value("keepalived_virtual_server_live_weight", server), 3)
        XCTAssertEqual(exposition.value("keepalived_real_server_up", up), 1)
        XCTAssertEqual(exposition.value("keepalived_real_server_up", down), 0)
        XCTAssertEqual(exposition.value("keepalived_real_server_weight", up), 3)
        XCTAssertNil(exposition.value("keepalived_real_server_weight", down), "not in the kernel's table: no weight")
        let checker = up.merging(["checker": "HTTP_GET"]) { $1 }
        XCTAssertEqual(exposition.value("keepalived_check_up", checker), 1)
        XCTAssertEqual(exposition.value("keepalived_check_failures_total", checker), 2)
        XCTAssertEqual(exposition.value("keepalived_check_last_duration_seconds", checker), 0.004)
        XCTAssertEqual(exposition.value("keepalived_ipvs_virtual_server_connections_total", server), 12)
        XCTAssertEqual(exposition.value("keepalived_ipvs_virtual_server_incoming_bytes_total", server), 3400)
        XCTAssertEqual(exposition.value("keepalived_ipvs_real_server_connections_total", up), 12)
        XCTAssertEqual(exposition.value("keepalived_ipvs_real_server_active_connections", up), 4)
        XCTAssertEqual(exposition.types["keepalived_ipvs_real_server_connections_total"], "counter")
        XCTAssertEqual(exposition.value("keepalived_reloads_total", [:]), 1)
        XCTAssertEqual(exposition.value("keepalived_reload_failures_total", [:]), 1)
        XCTAssertEqual(exposition.value("keepalived_last_reload_success", [:]), 0)
        XCTAssertEqual(exposition.value("keepalived_last_reload_duration_seconds", [:]), 0.012)
        XCTAssertEqual(exposition.value("process_start_time_seconds", [:]), 1000)
        XCTAssertEqual(exposition.value("keepalived_build_info", ["version": "1.2.3", "implementation": "swiftkeepalived"]), 1)
    }

    /// promtool's lint: every family has HELP and TYPE, counters end in _total.
    func testEveryFamilyHasHelpAndTypeAndCountersEndInTotal() {
        let exporter = MetricsExporter(version: "1", startTime: 0)
        exporter.recordAdvertDelay(instance: "VI_1", seconds: 0.0003)
        exporter.recordCheckDuration(checker: "TCP_CHECK", seconds: 0.02)
        let exposition = Exposition(exporter.render(Self.snapshot()))
        XCTAssertGreaterThan(exposition.types.count, 40)
        for (name, type) in exposition.types {
            XCTAssertFalse(exposition.helps[name, default: ""].isEmpty, "\(name) has no help")
            if type == "counter" { XCTAssertTrue(name.hasSuffix("_total"), name) }
        }
        for sample in exposition.samples {
            let family = ["_bucket", "_sum", "_count"].reduce(sample.name) { name, suffix in
                exposition.types[name] == nil && name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : name
            }
            XCTAssertNotNil(exposition.types[family], "\(sample.name) has no TYPE")
        }
    }

    func testHistograms() {
        let exporter = MetricsExporter(version: "1", startTime: 0)
        exporter.recordAdvertDelay(instance: "VI_1", seconds: 0.0003)
        exporter.recordAdvertDelay(instance: "VI_1", seconds: 0.003)
        exporter.recordCheckDuration(checker: "TCP_CHECK", seconds: 0.02)
        let exposition = Exposition(exporter.render(MetricsSnapshot()))
        XCTAssertEqual(exposition.types["keepalived_vrrp_advert_send_delay_seconds"], "histogram")
        XCTAssertEqual(exposition.value("keepalived_vrrp_advert_send_delay_seconds_count", ["iname": "VI_1"]), 2)
        XCTAssertEqual(exposition.value("keepalived_vrrp_advert_send_delay_seconds_bucket", ["iname": "VI_1", "le": "0.0005"]), 1)
        XCTAssertEqual(exposition.value("keepalived_vrrp_advert_send_delay_seconds_bucket", ["iname": "VI_1", "le": "+Inf"]), 2)
        XCTAssertEqual(exposition.value("keepalived_check_duration_seconds_count", ["checker": "TCP_CHECK"]), 1)
        XCTAssertEqual(exposition.value("keepalived_check_duration_seconds_bucket", ["checker": "TCP_CHECK", "le": "0.025"]), 1)
    }

    /// A reload that removes an instance removes its series; one that restarts a count shows the
    /// new count (Prometheus reads the drop as a counter reset).
    func testSeriesFollowTheRunningState() {
        let exporter = MetricsExporter(version: "1", startTime: 0)
        var snapshot = MetricsSnapshot()
        snapshot.vrrpInstances = [Self.instance(name: "VI_1", received: 40), Self.instance(name: "VI_2")]
        _ = exporter.render(snapshot)
        snapshot.vrrpInstances = [Self.instance(name: "VI_1", state: .backup, received: 3)]
        let exposition = Exposition(exporter.render(snapshot))
        XCTAssertEqual(exposition.value("keepalived_advertisements_received_total", ["iname": "VI_1", "intf": "lan0", "vrid": "51"]), 3)
        XCTAssertEqual(exposition.value("keepalived_vrrp_state", ["iname": "VI_1", "intf": "lan0", "vrid": "51", "ip_address": "192.0.2.100"]), 1)
        XCTAssertTrue(exposition.samples.allSatisfy { $0.labels["iname"] != "VI_2" }, "VI_2's series outlived it")
        // An instance without addresses still has its state, with an empty address.
        snapshot.vrrpInstances = [Self.instance(name: "VI_3", addresses: [])]
        let bare = Exposition(exporter.render(snapshot))
        XCTAssertEqual(bare.value("keepalived_vrrp_state", ["iname": "VI_3", "intf": "lan0", "vrid": "51", "ip_address": ""]), 2)
        XCTAssertEqual(bare.values("keepalived_vrrp_state").count, 1)
    }

    func testLabelValuesAndNumbersAreWrittenAsTheFormatAsks() {
        XCTAssertEqual(ExpositionWriter.escape(#"a "b" \ c"# + "\n"), #"a \"b\" \\ c\n"#)
        XCTAssertEqual(ExpositionWriter.format(2), "2")
        XCTAssertEqual(ExpositionWriter.format(0.004), "0.004")
        XCTAssertEqual(ExpositionWriter.format(.infinity), "+Inf")
        var writer = ExpositionWriter()
        writer.gauge("g", "A gauge", [("name", "x\"y")], 1)
        writer.counter("c_total", "A counter", [], 3)
        writer.gauge("g", "A gauge", [("name", "z")], 0.5)
        var bytes: [UInt8] = []
        writer.write(into: &bytes)
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), """
            # HELP g A gauge
            # TYPE g gauge
            g{name="x\\"y"} 1
            g{name="z"} 0.5
            # HELP c_total A counter
            # TYPE c_total counter
            c_total 3

            """)
    }
}
