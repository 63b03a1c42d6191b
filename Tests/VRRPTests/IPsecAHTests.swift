import XCTest
import KeepalivedConfig
@testable import VRRP

/// `auth_type AH` as keepalived sends and checks it. The expected ICVs were computed apart from
/// this code (Python's hmac over keepalived's layout: the IP header with TOS, fragment field and
/// checksum zeroed, TTL zeroed for unicast; the AH with its ICV zeroed; the VRRP packet).
final class IPsecAHTests: XCTestCase {
    private let source: UInt32 = 0xC000_0201  // 192.0.2.1
    private let group: UInt32 = 0xE000_0012   // 224.0.0.18
    private let peer: UInt32 = 0xC000_0202    // 192.0.2.2
    private let key = Array("secret".utf8) + [0, 0]

    private func vrrp() -> [UInt8] {
        VRRPAdvertisement(virtualRouterID: 51, priority: 100, authenticationType: .ipAuthenticationHeader,
                          advertisementInterval: 1, addresses: [IPAddress("10.0.0.100")!]).encoded()
    }

    private func sealed(to destination: UInt32, unicast: Bool) -> [UInt8] {
        let payload = vrrp()
        let header = IPv4Header.build(source: source, destination: destination, ipProtocol: IPsecAH.ipProtocol,
                                      payloadLength: IPsecAH.length + payload.count, identification: 3)
        return IPsecAH.seal(ipHeader: header, vrrp: payload, spi: source, sequence: 7, key: key, unicast: unicast)
    }

    func testTheWireFormMatchesKeepalivedsLayout() {
        XCTAssertEqual(hex(vrrp()), "2133640102016e660a0000640000000000000000", "auth type 2, and no password in the VRRP packet")
        let packet = sealed(to: group, unicast: false)
        XCTAssertEqual(packet.count, 20 + 24 + 20)
        XCTAssertEqual(Array(packet[0..<12]), [0x45, 0xC0, 0, 64, 0, 3, 0, 0, 255, 51, 0, 0])
        XCTAssertEqual(hex(Array(packet[20..<32])), "70040000c000020100000007", "next header 112, length 4, SPI = source, sequence 7")
        XCTAssertEqual(hex(Array(packet[32..<44])), "d608b6446230cecf74c9084d")
        XCTAssertEqual(hex(Array(sealed(to: peer, unicast: true)[32..<44])), "8c0e2d35b91d6077acdd461a", "unicast leaves the TTL out")
    }

    func testReceivedHeadersAreCheckedAsKeepalivedChecksThem() throws {
        var packet = sealed(to: group, unicast: false)
        // What may change on the way (TOS, the checksum the kernel writes) does not matter.
        packet[1] = 0x10
        packet[10] = 0xAB
        let (header, start) = try XCTUnwrap(IPsecAH.parse(packet[...], ipHeaderLength: 20))
        XCTAssertEqual(start, 44)
        XCTAssertEqual(header.sequence, 7)
        XCTAssertEqual(header.spi, source)
        XCTAssertTrue(IPsecAH.verifies(header, key: key, unicast: false))
        XCTAssertFalse(IPsecAH.verifies(header, key: Array("other".utf8) + [0, 0, 0], unicast: false))
        var changed = packet
        changed[50] ^= 1  // the priority
        XCTAssertFalse(IPsecAH.verifies(try XCTUnwrap(IPsecAH.parse(changed[...], ipHeaderLength: 20)).header, key: key, unicast: false))
        var notVRRP = packet
        notVRRP[20] = 6
        XCTAssertNil(IPsecAH.parse(notVRRP[...], ipHeaderLength: 20), "AH for another protocol is not ours")
        XCTAssertNil(IPsecAH.parse(packet[..<40], ipHeaderLength: 20))

        var receiver = AHAuthenticator(password: "secret", unicast: false)
        XCTAssertEqual(receiver.check(nil, from: source), .missing)
        XCTAssertEqual(receiver.check(header, from: peer), .spi)
        XCTAssertNil(receiver.check(header, from: source))
        XCTAssertEqual(receiver.sequence, 7)
        XCTAssertEqual(receiver.check(header, from: source), .replayed, "the same number twice")
        var wrongKey = AHAuthenticator(password: "secreT", unicast: false)
        XCTAssertEqual(wrongKey.check(header, from: source), .icv)
    }

    func testOneCounterNumbersWhatIsSentAndWhatIsAccepted() throws {
        var master = AHAuthenticator(password: "pw", unicast: false)
        var backup = AHAuthenticator(password: "pw", unicast: false)
        for expected in 1...3 as ClosedRange<UInt32> {
            let packets = master.seal(vrrp(), from: source, to: [group])
            XCTAssertEqual(master.sequence, expected)
            let header = try XCTUnwrap(IPsecAH.parse(packets[0][...], ipHeaderLength: 20)).header
            XCTAssertNil(backup.check(header, from: source))
        }
        // The backup takes over and carries on from the master's last number: the old master,
        // now a backup, accepts it.
        let takeover = backup.seal(vrrp(), from: peer, to: [group])
        let header = try XCTUnwrap(IPsecAH.parse(takeover[0][...], ipHeaderLength: 20)).header
        XCTAssertEqual(header.sequence, 4)
        XCTAssertNil(master.check(header, from: peer))
        // One packet per unicast peer, each with its own IP identification, one sequence number.
        var unicast = AHAuthenticator(password: "pw", unicast: true)
        let two = unicast.seal(vrrp(), from: source, to: [peer, group])
        XCTAssertEqual(two.count, 2)
        XCTAssertNotEqual(Array(two[0][4..<6]), Array(two[1][4..<6]))
        XCTAssertEqual(Array(two[0][28..<32]), Array(two[1][28..<32]))
        // A master that hears a lower priority moves past the loser's number.
        var winner = AHAuthenticator(password: "pw", unicast: false)
        winner.followLowerPriority(header)
        XCTAssertEqual(winner.sequence, 5)
    }

    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
