import Foundation
import XCTest
@testable import DaemonMetrics
@testable import HealthCheck
@testable import IPVS
@testable import VRRP
@testable import RouteAnnounce
import CZlib
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
        snapshot.reloads.record(succeeded: false, duration: 0.012, endedAt: 1_800_000_000)
        return snapshot
    }

    /// The kernel's counters for `snapshot()`'s virtual server.
    static func kernel() -> IPVSStatistics {
        var counters = IPVSCounters()
        counters.connections = 12
        counters.incomingBytes = 3400
        return IPVSStatistics(services: [.init(
            key: .address(.tcp, IPAddress("192.0.2.10")!, port: 80), counters: counters,
            destinations: [.init(key: IPVSDestinationKey(address: IPAddress("198.51.100.1")!, port: 80), counters: counters,
                                 activeConnections: 4, inactiveConnections: 1)])])
    }

    func testAnnouncedRoutesAndMaintenance() {
        var snapshot = MetricsSnapshot()
        snapshot.announcements = RouteAnnouncementReport(maintenance: false, routes: [
            .init(prefix: "10.60.0.100/32", table: 254, protocolNumber: 250, device: "lo", announced: true, virtualServers: ["10.60.0.100:80"]),
            .init(prefix: "10.60.0.101/32", table: 254, protocolNumber: 250, device: "lo", announced: false, virtualServers: ["10.60.0.101:80"]),
        ])
        let exposition = Exposition(MetricsExporter(version: "1", startTime: 0).render(snapshot).text)
        XCTAssertEqual(exposition.types["keepalived_route_announced"], "gauge")
        XCTAssertEqual(exposition.samples.filter { $0.name == "keepalived_route_announced" }, [
            Sample(name: "keepalived_route_announced", labels: ["prefix": "10.60.0.100/32", "table": "254", "protocol": "250", "device": "lo"], value: 1),
            Sample(name: "keepalived_route_announced", labels: ["prefix": "10.60.0.101/32", "table": "254", "protocol": "250", "device": "lo"], value: 0),
        ])
        XCTAssertEqual(exposition.samples.first { $0.name == "keepalived_announce_maintenance" }?.value, 0)
        let without = Exposition(MetricsExporter(version: "1", startTime: 0).render(MetricsSnapshot()).text)
        XCTAssertFalse(without.samples.contains { $0.name.hasPrefix("keepalived_route_") || $0.name == "keepalived_announce_maintenance" },
                       "nothing about announcements without announce_route")
    }

    func testTheExportersMetricsKeepItsNamesLabelsAndTypes() {
        let exposition = Exposition(MetricsExporter(version: "1.2.3", startTime: 1000).render(Self.snapshot()).text)
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
        let exposition = Exposition(MetricsExporter(version: "1", startTime: 0).render(Self.snapshot()).text)
        let common = ["iname": "VI_1", "intf": "lan0", "vrid": "51"]
        for entry in ExporterCounters.perInstance { XCTAssertEqual(exposition.types[entry.name], "counter", entry.name) }
        XCTAssertEqual(ExporterCounters.perInstance.count, 14)
        XCTAssertEqual(exposition.value("keepalived_become_master_total", common), 4)
        XCTAssertEqual(exposition.value("keepalived_authentication_invalid_total", common), 6)
        XCTAssertEqual(exposition.value("keepalived_release_master_total", common), 0)
    }

    /// bench-metrics' table: 1,000 virtual servers x 20 real servers, and the kernel's counters.
    static func twentyOneThousand(virtualServers: Int = 1000, connections: UInt64 = 123_456) -> (MetricsSnapshot, IPVSStatistics) {
        var snapshot = MetricsSnapshot()
        var services: [IPVSStatistics.Service] = []
        var counters = IPVSCounters()
        counters.connections = connections
        counters.incomingBytes = 98_765_432_100
        for index in 0..<virtualServers {
            let address = "198.18.\(index / 254).\(index % 254 + 1)"
            let reals = (0..<20).map { real in "198.51.100.\(real + 1)" }
            snapshot.virtualServers.append(VirtualServerMetrics(
                name: "[\(address)]:tcp:80", quorum: 1, quorumLost: false, liveWeight: 20,
                realServers: reals.map { .init(name: "[\($0)]:tcp:80", isUp: true, weight: 1) }))
            services.append(.init(key: .address(.tcp, IPAddress(address)!, port: 80), counters: counters, destinations: reals.map {
                .init(key: IPVSDestinationKey(address: IPAddress($0)!, port: 80), counters: counters, activeConnections: 7, inactiveConnections: 3)
            }))
        }
        return (snapshot, IPVSStatistics(services: services))
    }

    /// Prints what a text of 21,000 real servers costs on this machine: written whole, again
    /// with nothing changed, with one real server changed, and the kernel's counters of
    /// /metrics/ipvs (Scripts/bench-metrics measures whole scrapes in the VM). The bounds catch a
    /// collapse only, except that an unchanged table must cost far less than a whole one.
    func testTheTextOfTwentyOneThousandRealServers() {
        var (snapshot, kernel) = Self.twentyOneThousand()
        let exporter = MetricsExporter(version: "1", startTime: 0)
        func milliseconds(_ work: () -> Void) -> Double {
            let elapsed = ContinuousClock().measure(work)
            return Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        }
        var body = MetricsBody(pieces: [])
        let whole = milliseconds { body = exporter.render(snapshot) }
        let (text, gzip) = (body.text.count, body.gzip.count)
        let unchanged = milliseconds { body = exporter.render(snapshot) }
        let join = milliseconds { _ = body.gzip }
        var servers = snapshot.virtualServers
        servers[500] = VirtualServerMetrics(name: servers[500].name, quorum: 1, quorumLost: false, liveWeight: 19,
                                            realServers: servers[500].realServers.enumerated().map { $0 == 3 ? .init(name: $1.name, isUp: false, weight: 0) : $1 })
        snapshot.virtualServers = servers
        let oneChanged = milliseconds { body = exporter.render(snapshot) }
        var ipvs = MetricsBody(pieces: [])
        let ipvsWhole = milliseconds { ipvs = exporter.renderIPVS(kernel) }
        // As from the kernel: the same counters in new arrays.
        kernel = Self.twentyOneThousand().1
        let ipvsUnchanged = milliseconds { ipvs = exporter.renderIPVS(kernel) }
        print(String(format: "metrics of 21,000 real servers: /metrics %d bytes (gzip %d): whole %.1f ms, unchanged %.1f ms + gzip join %.1f ms, one real server changed %.1f ms; /metrics/ipvs %d bytes (gzip %d): whole %.1f ms, unchanged %.1f ms",
                     text, gzip, whole, unchanged, join, oneChanged, ipvs.text.count, ipvs.gzip.count, ipvsWhole, ipvsUnchanged))
        XCTAssertGreaterThan(text, 4_000_000)
        XCTAssertLessThan(gzip, text / 5)
        XCTAssertGreaterThan(ipvs.text.count, 10_000_000)
        XCTAssertLessThan(whole, 5000)
        XCTAssertLessThan(unchanged, whole / 5)
    }

    /// Blocks kept from earlier renders must give exactly the text a fresh render gives: a real
    /// server changed, virtual servers removed and added, counters moved, a checker gone.
    func testKeptBlocksGiveTheSameTextAsAFreshRender() {
        let exporter = MetricsExporter(version: "1", startTime: 0)
        var (snapshot, kernel) = Self.twentyOneThousand(virtualServers: 300)
        snapshot.checkers = Self.snapshot().checkers
        _ = exporter.render(snapshot)
        _ = exporter.renderIPVS(kernel)
        var servers = snapshot.virtualServers
        servers[130] = VirtualServerMetrics(name: servers[130].name, quorum: 30, quorumLost: true, liveWeight: 20, realServers: servers[130].realServers)
        servers.removeSubrange(10..<12)
        servers.append(VirtualServerMetrics(name: "[192.0.2.99]:udp:53", quorum: 1, quorumLost: false, liveWeight: 1,
                                            realServers: [.init(name: "[198.51.100.9]:udp:53", isUp: true, weight: nil)]))
        snapshot.virtualServers = servers
        snapshot.checkers = []
        kernel = Self.twentyOneThousand(virtualServers: 300, connections: 7).1
        kernel.services.remove(at: 70)
        let kept = exporter.render(snapshot)
        let fresh = MetricsExporter(version: "1", startTime: 0).render(snapshot)
        Self.assertSameLines(kept.text, fresh.text)
        XCTAssertTrue(Self.gunzip(kept.gzip) == kept.text, "the gzip form holds another text")
        let keptIPVS = exporter.renderIPVS(kernel)
        Self.assertSameLines(keptIPVS.text, MetricsExporter(version: "1", startTime: 0).renderIPVS(kernel).text)
        XCTAssertTrue(Self.gunzip(keptIPVS.gzip) == keptIPVS.text, "the gzip form holds another text")
        let exposition = Exposition(kept.text)
        XCTAssertEqual(exposition.value("keepalived_virtual_server_quorum_up", ["virtual_server": "[198.18.0.131]:tcp:80"]), 0)
        XCTAssertTrue(exposition.types["keepalived_check_up"] == nil, "a family without samples is not written")
        XCTAssertEqual(Exposition(keptIPVS.text).value("keepalived_ipvs_virtual_server_connections_total", ["virtual_server": "[198.18.0.1]:tcp:80"]), 7)
    }

    /// Texts of megabytes: only the first line that differs is shown. The registry's constant
    /// series come in an order of its own, so they are left out.
    static func assertSameLines(_ got: [UInt8], _ expected: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        let registry = ["process_start_time_seconds", "keepalived_up", "keepalived_build_info"].map { Array($0.utf8) }
        func lines(_ text: [UInt8]) -> [ArraySlice<UInt8>] {
            text.split(separator: 10).filter { line in !registry.contains { line.starts(with: $0) || line.dropFirst(7).starts(with: $0) } }
        }
        let (gotLines, expectedLines) = (lines(got), lines(expected))
        for (number, (a, b)) in zip(gotLines, expectedLines).enumerated() where a != b {
            return XCTFail("line \(number + 1): \(String(decoding: a, as: UTF8.self)) != \(String(decoding: b, as: UTF8.self))", file: file, line: line)
        }
        XCTAssertEqual(gotLines.count, expectedLines.count, "lines", file: file, line: line)
    }

    func testGzipJoinsPiecesIntoOneStream() {
        let deflater = Deflater()
        let texts = ["# HELP a x\n", "", String(repeating: "a{b=\"c\"} 1\n", count: 5000), "tail\n"].map { Array($0.utf8) }
        let pieces = texts.map(deflater.piece)
        XCTAssertEqual(Self.gunzip(DeflatedPiece.gzip(pieces)), texts.flatMap { $0 })
        XCTAssertEqual(Self.gunzip(DeflatedPiece.gzip([])), [])
        // The uncompressed fallback is valid deflate too.
        let stored = DeflatedPiece(text: texts[2], deflated: Deflater.stored(texts[2]))
        XCTAssertEqual(Self.gunzip(DeflatedPiece.gzip([pieces[0], stored, pieces[3]])), texts[0] + texts[2] + texts[3])
    }

    /// zlib's inflate, told to read a gzip header (window bits 16 + 15): it checks the CRC and length.
    static func gunzip(_ member: [UInt8]) -> [UInt8]? {
        // zlib keeps the stream's address: it must not move between calls.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        guard inflateInit2_(stream, 16 + MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(stream) }
        var input = member
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var status = Z_OK
        input.withUnsafeMutableBufferPointer { source in
            stream.pointee.next_in = source.baseAddress
            stream.pointee.avail_in = uInt(source.count)
            while status == Z_OK {
                let produced = chunk.withUnsafeMutableBufferPointer { out -> Int in
                    stream.pointee.next_out = out.baseAddress
                    stream.pointee.avail_out = uInt(out.count)
                    status = inflate(stream, Z_NO_FLUSH)
                    return out.count - Int(stream.pointee.avail_out)
                }
                output += chunk[..<produced]
            }
        }
        return status == Z_STREAM_END && stream.pointee.avail_in == 0 ? output : nil
    }

    func testRealServersVirtualServersKernelAndReloads() {
        let exposition = Exposition(MetricsExporter(version: "1.2.3", startTime: 1000).render(Self.snapshot()).text)
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
        XCTAssertNil(exposition.types["keepalived_ipvs_virtual_server_connections_total"], "on /metrics/ipvs only")
        let destinations = Exposition(MetricsExporter(version: "1", startTime: 0).renderIPVS(Self.kernel()).text)
        XCTAssertEqual(destinations.value("keepalived_ipvs_real_server_connections_total", up), 12)
        XCTAssertEqual(destinations.value("keepalived_ipvs_real_server_active_connections", up), 4)
        XCTAssertEqual(destinations.types["keepalived_ipvs_real_server_connections_total"], "counter")
        XCTAssertEqual(destinations.value("keepalived_ipvs_virtual_server_connections_total", server), 12)
        XCTAssertEqual(destinations.value("keepalived_ipvs_virtual_server_incoming_bytes_total", server), 3400)
        XCTAssertEqual(destinations.value("keepalived_ipvs_read_errors_total", [:]), 0)
        let failed = MetricsExporter(version: "1", startTime: 0)
        _ = failed.renderIPVS(nil)
        XCTAssertEqual(Exposition(failed.renderIPVS(nil).text).value("keepalived_ipvs_read_errors_total", [:]), 2)
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
        let exposition = Exposition(exporter.render(Self.snapshot()).text)
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
        let exposition = Exposition(exporter.render(MetricsSnapshot()).text)
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
        let exposition = Exposition(exporter.render(snapshot).text)
        XCTAssertEqual(exposition.value("keepalived_advertisements_received_total", ["iname": "VI_1", "intf": "lan0", "vrid": "51"]), 3)
        XCTAssertEqual(exposition.value("keepalived_vrrp_state", ["iname": "VI_1", "intf": "lan0", "vrid": "51", "ip_address": "192.0.2.100"]), 1)
        XCTAssertTrue(exposition.samples.allSatisfy { $0.labels["iname"] != "VI_2" }, "VI_2's series outlived it")
        // An instance without addresses still has its state, with an empty address.
        snapshot.vrrpInstances = [Self.instance(name: "VI_3", addresses: [])]
        let bare = Exposition(exporter.render(snapshot).text)
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
        XCTAssertEqual(String(decoding: writer.text, as: UTF8.self), """
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
