@testable import VRRP
import CLinuxNet
@testable import KeepalivedConfig
import XCTest

/// The deletion notices the static state listens to, and keepalived's wording of what it restores.
final class StaticStateTextTests: XCTestCase {
    /// One netlink message header (16 bytes, host order) of `type`, with `padding` bytes of body.
    private func message(_ type: Int32, body: Int = 4) -> [UInt8] {
        let length = UInt32(16 + body)
        var bytes = withUnsafeBytes(of: length.littleEndian) { Array($0) }
        bytes += withUnsafeBytes(of: UInt16(type).littleEndian) { Array($0) }
        bytes += [UInt8](repeating: 0, count: 10 + body)
        return bytes
    }

    func testDeletionsAreReadFromTheMessageTypes() {
        XCTAssertEqual(RoutingMonitor.parse(ArraySlice(message(Int32(RTM_NEWROUTE)) + message(Int32(RTM_DELRULE)))), [.rule])
        XCTAssertEqual(RoutingMonitor.parse(ArraySlice(message(Int32(RTM_DELADDR)) + message(Int32(RTM_DELROUTE)))), [.address, .route])
        XCTAssertEqual(RoutingMonitor.parse(ArraySlice(message(Int32(RTM_NEWADDR)))), [])
        XCTAssertEqual(RoutingMonitor.parse(ArraySlice(Array(message(Int32(RTM_DELRULE)).prefix(10)))), [], "a cut message is not read")
    }

    func testKeepalivedsWording() {
        let location = SourceLocation(file: "k.conf", line: 1)
        var route = VirtualRoute(destination: IPPrefix(address: IPAddress("198.51.100.0")!, length: 25), location: location)
        route.via = IPAddress("192.0.2.1")
        route.device = "lan0"
        route.table = 150
        XCTAssertEqual(KernelObjectText.route(route), "prepend 198.51.100.0/25 via inet 192.0.2.1 dev lan0 table 150 proto 18")
        route.via = nil
        route.nexthops = [RouteNexthop(via: IPAddress("192.0.2.1"), weight: 2), RouteNexthop(via: IPAddress("192.0.2.2"))]
        XCTAssertEqual(KernelObjectText.route(route), "prepend 198.51.100.0/25 dev lan0 table 150 proto 18 nexthop via inet 192.0.2.1 weight 2 nexthop via inet 192.0.2.2")

        var rule = RoutingRule(action: .table(150), location: location)
        rule.from = IPPrefix(address: IPAddress("198.51.100.0")!, length: 24)
        rule.preference = 1000
        XCTAssertEqual(KernelObjectText.rule(rule), "from 198.51.100.0/24 priority 1000 tos 0x0 protocol 18 lookup 150")
        rule.invert = true
        rule.from = nil
        rule.to = IPPrefix(address: IPAddress("203.0.113.7")!, length: 32)
        rule.fwmark = 16
        rule.fwmask = 255
        rule.action = .prohibit
        XCTAssertEqual(KernelObjectText.rule(rule), "not from all to 203.0.113.7 priority 1000 tos 0x0 fwmark 0x10/0xff protocol 18 type prohibit")

        let address = VirtualIPAddress(address: IPAddress("203.0.113.5")!, prefixLength: 24, location: location)
        XCTAssertEqual(KernelObjectText.address(address, device: "lan0"), "203.0.113.5/24 dev lan0 scope global set")
    }
}
