@testable import VRRP
import Foundation
import DaemonCore
import KeepalivedConfig
import XCTest

/// The byte formats the kernel layer writes and reads, checked without a kernel.
final class KernelFormatTests: XCTestCase {
    func testGratuitousARPFrame() {
        let mac: [UInt8] = [0x02, 0x00, 0x5E, 0x10, 0x20, 0x30]
        let frame = AddressAnnouncer.gratuitousARP(announcing: IPAddress("192.0.2.200")!, from: mac)
        XCTAssertEqual(frame.count, 42)
        XCTAssertEqual(Array(frame[0..<6]), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], "broadcast")
        XCTAssertEqual(Array(frame[6..<12]), mac, "from our MAC")
        XCTAssertEqual(Array(frame[12..<14]), [0x08, 0x06], "ARP")
        XCTAssertEqual(Array(frame[14..<22]), [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01], "Ethernet/IPv4 request")
        XCTAssertEqual(Array(frame[22..<28]), mac, "sender hardware address")
        XCTAssertEqual(Array(frame[28..<32]), [192, 0, 2, 200], "sender protocol address")
        XCTAssertEqual(Array(frame[38..<42]), [192, 0, 2, 200], "target protocol address")
        XCTAssertEqual(AddressAnnouncer.gratuitousARP(announcing: IPAddress("2001:db8::1")!, from: mac), [])
    }

    /// The expected bytes were computed apart from this code (Python, RFC 4861's layout and the
    /// ICMPv6 checksum over RFC 8200's pseudo-header).
    func testUnsolicitedNeighborAdvertisementFrame() {
        let mac: [UInt8] = [0x02, 0x00, 0x5E, 0x10, 0x00, 0x01]
        let frame = AddressAnnouncer.neighborAdvertisement(announcing: IPAddress("2001:db8::200")!, from: mac, router: false)
        let expected = "33330000000102005e10000186dd6000000000203aff20010db8000000000000000000000200ff020000000000000000000000000001"
            + "8800971c2000000020010db8000000000000000000000200020102005e100001"
        XCTAssertEqual(frame.map { String(format: "%02x", $0) }.joined(), expected)
        let router = AddressAnnouncer.neighborAdvertisement(announcing: IPAddress("2001:db8::200")!, from: mac, router: true)
        XCTAssertEqual(router[14 + 40 + 4], 0xA0, "Router and Override")
        XCTAssertEqual(AddressAnnouncer.neighborAdvertisement(announcing: IPAddress("192.0.2.1")!, from: mac, router: false), [])
    }

    func testScriptArgumentsSplitLikeKeepalived() {
        XCTAssertEqual(ScriptArguments.split("/usr/bin/killall -0 haproxy"), ["/usr/bin/killall", "-0", "haproxy"])
        XCTAssertEqual(ScriptArguments.split("/bin/notify 'two words' \"and more\"  end"), ["/bin/notify", "two words", "and more", "end"])
        XCTAssertEqual(ScriptArguments.split(#"/bin/x a\ b ''"#), ["/bin/x", "a b", ""])
        XCTAssertEqual(ScriptArguments.split("   "), [])
    }

    func testLinkMessagesAreParsed() {
        func message(type: UInt16, index: Int32, flags: UInt32) -> [UInt8] {
            var bytes: [UInt8] = []
            func append32(_ value: UInt32) { bytes += [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)] }
            append32(32)                              // nlmsg_len: header + ifinfomsg
            bytes += [UInt8(type & 0xFF), UInt8(type >> 8), 0, 0]
            append32(0)                               // sequence
            append32(0)                               // port id
            bytes += [0, 0, 1, 0]                     // family, pad, type
            append32(UInt32(bitPattern: index))
            append32(flags)
            append32(0)                               // change mask
            return bytes
        }
        let up = message(type: 16, index: 3, flags: 0x1 | 0x40)    // RTM_NEWLINK, IFF_UP | IFF_RUNNING
        let noCarrier = message(type: 16, index: 4, flags: 0x1)
        let removed = message(type: 17, index: 5, flags: 0x41)     // RTM_DELLINK
        XCTAssertEqual(LinkMonitor.parse((up + noCarrier + removed)[...]),
                       [.init(index: 3, isUp: true), .init(index: 4, isUp: false), .init(index: 5, isUp: false)])
        XCTAssertEqual(LinkMonitor.parse(Array(up.prefix(10))[...]), [])
    }
}

/// The nftables commands of accept mode off, checked without a kernel.
final class VIPFirewallCommandTests: XCTestCase {
    func testElementsGoToTheSetOfTheirFamily() {
        XCTAssertEqual(VIPFirewall.commands([IPAddress("192.0.2.1")!, IPAddress("2001:db8::1")!, IPAddress("192.0.2.2")!], adding: true),
                       "add element inet swiftkeepalived vips4 { 192.0.2.1, 192.0.2.2 }\nadd element inet swiftkeepalived vips6 { 2001:db8::1 }")
        XCTAssertEqual(VIPFirewall.commands([IPAddress("192.0.2.1")!], adding: false), "delete element inet swiftkeepalived vips4 { 192.0.2.1 }")
        XCTAssertEqual(VIPFirewall.commands([], adding: true), "")
        XCTAssertTrue(VIPFirewall.setupCommands.contains("add rule inet swiftkeepalived in ip daddr @vips4 drop"))
    }
}
