@testable import IPVS
import KeepalivedConfig
import XCTest

/// keepalived_check.data in keepalived's check_data layout.
final class CheckDataFileTests: XCTestCase {
    func testVirtualAndRealServersInKeepalivedsLayout() {
        let location = SourceLocation(file: "k.conf", line: 1)
        var server = VirtualServer(key: .address(IPAddress("192.0.2.10")!, port: 80), location: location)
        server.scheduler = .wrr
        server.protocolName = .tcp
        server.forwardingMethod = .dr
        server.timing.delayLoop = 6
        server.realServers = [RealServer(address: IPAddress("198.51.100.1")!, port: 80, location: location),
                              RealServer(address: IPAddress("198.51.100.2")!, port: 80, location: location)]
        let report = VirtualServerReport(name: "[192.0.2.10]:tcp:80", services: ["[192.0.2.10]:tcp:80"], quorumLost: false,
                                         realServers: [.init(address: "198.51.100.1", port: 80, up: true, weight: 1),
                                                       .init(address: "198.51.100.2", port: 80, up: false, weight: nil)])
        let lines = CheckDataFile.render([server], reports: [report]).split(separator: "\n").map(String.init)
        XCTAssertEqual(Array(lines.prefix(4)), ["------< LVS Topology >------", " System is compiled with LVS v1.2.1",
                                                " ------< Virtual server >------", " VS VIP = 192.0.2.10, VPORT = 80"])
        for line in ["   connection timeout = 5", "   flag-1 = disabled", "   One packet scheduling = disabled", "   delay_loop = 6", "   lvs_sched = wrr", "   protocol = TCP", "   quorum = 1, hysteresis = 0", "   alive = 1",
                     "   quorum_state_up = 1", "   ------< Real server >------", "   RIP = 198.51.100.1, RPORT = 80, WEIGHT = 1 EFF WEIGHT = 1",
                     "   forwarding method = DR", "   RIP = 198.51.100.2, RPORT = 80, WEIGHT = 0 EFF WEIGHT = 0", "   alive = 0"] {
            XCTAssertTrue(lines.contains(line), "missing '\(line)' in\n\(lines.joined(separator: "\n"))")
        }
        XCTAssertEqual(CheckDataFile.render([], reports: []), "")
    }
}
