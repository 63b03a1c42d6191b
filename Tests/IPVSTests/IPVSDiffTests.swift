import IPVS
import KeepalivedConfig
import XCTest

final class IPVSDiffTests: XCTestCase {
    private func config(_ text: String) -> KeepalivedConfiguration {
        let result = ConfigLoader.load(text: text)
        XCTAssertFalse(result.diagnostics.hasErrors, "\(result.diagnostics.errors)")
        return result.configuration
    }

    private let seedLVS = """
    virtual_server 192.168.100.100 80 {
        lb_algo rr
        lb_kind DR
        persistence_timeout 50
        protocol TCP
        real_server 192.168.200.101 80 {
            weight 1
        }
        real_server 192.168.200.102 80 {
            weight 2
            inhibit_on_failure
        }
    }
    """

    func testDesiredTableOfTheSeedsLVSConfig() {
        let table = DesiredTable.build(config(seedLVS))
        let key = IPVSServiceKey.address(.tcp, IPAddress("192.168.100.100")!, port: 80)
        XCTAssertEqual(key.description, "[192.168.100.100]:tcp:80")
        let service = try! XCTUnwrap(table.services[key])
        XCTAssertEqual(service.settings.scheduler, .rr)
        XCTAssertEqual(service.settings.persistenceTimeout, 50)
        XCTAssertEqual(service.destinations.count, 2)
        XCTAssertEqual(service.destinations[IPVSDestinationKey(address: IPAddress("192.168.200.102")!, port: 80)],
                       IPVSDestinationSettings(forwarding: .dr, weight: 2))
    }

    func testFailedServersAreRemovedOrInhibited() {
        let table = DesiredTable.build(config(seedLVS), isUp: { _ in false })
        let service = table.services.values.first!
        XCTAssertEqual(service.destinations.count, 1, "the non-inhibited server is removed")
        XCTAssertEqual(service.destinations.values.first?.weight, 0, "inhibit_on_failure keeps the server with weight 0")
    }

    func testSorryServerReplacesTheRealServersWhenQuorumIsLost() {
        let text = seedLVS.replacingOccurrences(of: "protocol TCP", with: "protocol TCP\n    sorry_server 192.168.200.200 80")
        let table = DesiredTable.build(config(text), quorumLost: [0])
        let destinations = table.services.values.first!.destinations
        XCTAssertEqual(destinations[IPVSDestinationKey(address: IPAddress("192.168.200.200")!, port: 80)]?.weight, 1)
        XCTAssertNil(destinations[IPVSDestinationKey(address: IPAddress("192.168.200.101")!, port: 80)])
        XCTAssertEqual(destinations[IPVSDestinationKey(address: IPAddress("192.168.200.102")!, port: 80)]?.weight, 0)
    }

    /// DR and TUN cannot change the port, so keepalived forwards to the service's; NAT keeps the
    /// real server's own, and a firewall-mark service has no port to impose.
    func testDirectRoutingForwardsToTheServicePort() {
        let table = DesiredTable.build(config("""
        virtual_server 192.0.2.1 80 {
            lb_kind DR
            protocol TCP
            real_server 198.51.100.1 8080 {
            }
            real_server 198.51.100.2 8080 {
                lb_kind NAT
            }
        }
        virtual_server fwmark 7 {
            lb_kind DR
            protocol TCP
            real_server 198.51.100.3 8080 {
            }
        }
        """))
        XCTAssertEqual(Set(table.services[.address(.tcp, IPAddress("192.0.2.1")!, port: 80)]!.destinations.keys.map(\.description)),
                       ["[198.51.100.1]:80", "[198.51.100.2]:8080"])
        XCTAssertEqual(table.services[.fwmark(7, .inet)]!.destinations.keys.first?.port, 8080)
    }

    func testGroupsExpandToEveryAddressAndMark() {
        let table = DesiredTable.build(config("""
        virtual_server_group G {
            192.0.2.1-3 80
            fwmark 7
        }
        virtual_server group G {
            protocol TCP
            real_server 198.51.100.1 {
            }
        }
        """))
        XCTAssertEqual(table.services.keys.sorted().map(\.description),
                       ["[192.0.2.1]:tcp:80", "[192.0.2.2]:tcp:80", "[192.0.2.3]:tcp:80", "FWM 7"])
        XCTAssertEqual(table.services[.address(.tcp, IPAddress("192.0.2.2")!, port: 80)]?.destinations.keys.first?.port, 80)
    }

    func testDiffTouchesOnlyWhatChanged() {
        let before = DesiredTable.build(config(seedLVS))
        XCTAssertEqual(IPVSDiff.operations(from: before, to: before), [])
        let changed = seedLVS.replacingOccurrences(of: "weight 2", with: "weight 5")
            .replacingOccurrences(of: "real_server 192.168.200.101 80 {", with: "real_server 192.168.200.103 80 {")
        let after = DesiredTable.build(config(changed))
        let key = IPVSServiceKey.address(.tcp, IPAddress("192.168.100.100")!, port: 80)
        XCTAssertEqual(IPVSDiff.operations(from: before, to: after).map(\.description), [
            "delete [192.168.200.101]:80 from \(key)",
            "edit [192.168.200.102]:80 of \(key)",
            "add [192.168.200.103]:80 to \(key)",
        ])
    }

    func testDiffFromAnEmptyKernelAndBackLeavesForeignServicesAlone() {
        let desired = DesiredTable.build(config(seedLVS))
        let foreignKey = IPVSServiceKey.address(.udp, IPAddress("203.0.113.1")!, port: 53)
        let kernel = IPVSTable(services: [foreignKey: IPVSService(settings: IPVSServiceSettings(scheduler: .wlc))])
        let start = IPVSDiff.operations(from: kernel, to: desired)
        XCTAssertEqual(start.count, 3, "one service and its two destinations")
        XCTAssertFalse(start.contains { $0.description.contains("203.0.113.1") })
        var running = kernel
        running.services.merge(desired.services) { first, _ in first }
        let stop = IPVSDiff.operations(from: running, to: IPVSTable(), managed: Set(desired.services.keys))
        XCTAssertEqual(stop, [.deleteService(IPVSServiceKey.address(.tcp, IPAddress("192.168.100.100")!, port: 80))])
    }

    /// The next start adds services in key order: stop removes them the other way round, so the
    /// kernel's trash holds the first service's destinations at its head.
    func testStopRemovesServicesLastAddedFirst() {
        let keys = (1...3).map { IPVSServiceKey.address(.tcp, IPAddress("192.0.2.\($0)")!, port: 80) }
        var table = IPVSTable()
        for key in keys { table.services[key] = IPVSService(settings: IPVSServiceSettings(scheduler: .rr)) }
        let adds = IPVSDiff.operations(from: IPVSTable(), to: table).map(\.description)
        XCTAssertEqual(adds, keys.map { "add service \($0)" })
        let foreign = IPVSServiceKey.address(.udp, IPAddress("203.0.113.1")!, port: 53)
        table.services[foreign] = IPVSService(settings: IPVSServiceSettings(scheduler: .wlc))
        XCTAssertEqual(IPVSDiff.removals(of: table, managed: Set(keys)), keys.reversed().map { .deleteService($0) })
    }

    func testServiceSettingChangesAreEdits() {
        let before = DesiredTable.build(config(seedLVS))
        let after = DesiredTable.build(config(seedLVS.replacingOccurrences(of: "lb_algo rr", with: "lb_algo wlc")))
        XCTAssertEqual(IPVSDiff.operations(from: before, to: after).map(\.description), ["edit service [192.168.100.100]:tcp:80"])
    }
}

final class QuorumTests: XCTestCase {
    func testQuorumWithHysteresis() {
        XCTAssertTrue(Quorum.isLost(liveWeight: 1, quorum: 2, hysteresis: 1, wasLost: nil), "start-up: plain comparison")
        XCTAssertFalse(Quorum.isLost(liveWeight: 2, quorum: 2, hysteresis: 1, wasLost: nil))
        XCTAssertFalse(Quorum.isLost(liveWeight: 1, quorum: 2, hysteresis: 1, wasLost: false), "within the dead band it is kept")
        XCTAssertTrue(Quorum.isLost(liveWeight: 0, quorum: 2, hysteresis: 1, wasLost: false))
        XCTAssertTrue(Quorum.isLost(liveWeight: 2, quorum: 2, hysteresis: 1, wasLost: true), "within the dead band it stays lost")
        XCTAssertFalse(Quorum.isLost(liveWeight: 3, quorum: 2, hysteresis: 1, wasLost: true))
    }
}
