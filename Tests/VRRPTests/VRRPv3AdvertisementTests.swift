import KeepalivedConfig
import VRRP
import XCTest

/// VRRPv3 (RFC 5798 section 5): centisecond intervals, no authentication, a checksum over the IP
/// pseudo-header, IPv6 addresses. The expected bytes were computed apart from this code (Python's
/// ipaddress and struct, RFC 1071's sum over RFC 768's and RFC 8200's pseudo-headers).
final class VRRPv3AdvertisementTests: XCTestCase {
    private let vip = IPAddress("172.25.250.100")!
    private let source = IPAddress("172.25.250.11")!
    private let group = IPAddress("224.0.0.18")!

    private func bytes(_ hex: String) -> [UInt8] {
        stride(from: 0, to: hex.count, by: 2).map { offset in
            let start = hex.index(hex.startIndex, offsetBy: offset)
            return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
        }
    }

    func testIPv4EncodingCoversThePseudoHeader() {
        let advert = VRRPAdvertisement(virtualRouterID: 51, priority: 100, centiseconds: 10, addresses: [vip])
        XCTAssertEqual(advert.encoded(pseudoHeader: .init(source: source, destination: group)), bytes("31336401000a3d8eac19fa64"))
        // Unicast: the peer's address is in the sum.
        XCTAssertEqual(advert.encoded(pseudoHeader: .init(source: source, destination: IPAddress("172.25.250.12")!)),
                       bytes("31336401000a777aac19fa64"))
        // v3_checksum_as_v2: the message alone.
        XCTAssertEqual(advert.encoded(), bytes("31336401000ac442ac19fa64"))
        XCTAssertEqual(advert.intervalSeconds, 0.1)
    }

    func testIPv4DecodingTellsWhichChecksumWasUsed() throws {
        let header = VRRPAdvertisement.PseudoHeader(source: source, destination: group)
        let rfc = try VRRPAdvertisement.decode(bytes("31336401000a3d8eac19fa64")[...], pseudoHeader: header).get()
        XCTAssertEqual(rfc.version, 3)
        XCTAssertEqual(rfc.virtualRouterID, 51)
        XCTAssertEqual(rfc.priority, 100)
        XCTAssertEqual(rfc.advertisementInterval, 10)
        XCTAssertEqual(rfc.addresses, [vip])
        XCTAssertTrue(rfc.checksumCoversPseudoHeader)
        XCTAssertEqual(rfc.authenticationData, [])
        let asV2 = try VRRPAdvertisement.decode(bytes("31336401000ac442ac19fa64")[...], pseudoHeader: header).get()
        XCTAssertFalse(asV2.checksumCoversPseudoHeader)
        // Sent to another destination than the one it arrived at: neither sum holds.
        let elsewhere = VRRPAdvertisement.PseudoHeader(source: source, destination: IPAddress("224.0.0.19")!)
        XCTAssertEqual(decodeError(bytes("31336401000a3d8eac19fa64"), elsewhere), .badChecksum)
        var corrupted = bytes("31336401000a3d8eac19fa64")
        corrupted[11] ^= 1
        XCTAssertEqual(decodeError(corrupted, header), .badChecksum)
        // Version 3 carries no authentication bytes: 4 bytes more than the count's addresses is a bad length.
        XCTAssertEqual(decodeError(bytes("31336401000a3d8eac19fa64") + [0, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 30), header),
                       .lengthMismatch(addressCount: 1, length: 50))
    }

    func testIntervalIsTwelveBitsOfCentiseconds() throws {
        let slowest = VRRPAdvertisement(virtualRouterID: 1, priority: 1, centiseconds: 9999, addresses: [vip])
        XCTAssertEqual(slowest.advertisementInterval, 4095)
        let header = VRRPAdvertisement.PseudoHeader(source: source, destination: group)
        var wire = slowest.encoded(pseudoHeader: header)
        XCTAssertEqual(Array(wire[4...5]), [0x0F, 0xFF])
        // The 4 reserved bits are ignored by a receiver (RFC 5798 5.2.5) but covered by the checksum.
        wire[4] |= 0xF0
        wire[6] = 0
        wire[7] = 0
        let sum = InternetChecksum.compute(header.bytes(length: wire.count) + wire)
        wire[6] = UInt8(sum >> 8)
        wire[7] = UInt8(sum & 0xFF)
        XCTAssertEqual(try VRRPAdvertisement.decode(wire[...], pseudoHeader: header).get().intervalSeconds, 40.95)
    }

    func testIPv6RoundTripFromALinkLocalSource() throws {
        let addresses = [IPAddress("2001:db8::100")!, IPAddress("2001:db8::101")!]
        let header = VRRPAdvertisement.PseudoHeader(source: IPAddress("fe80::1")!, destination: IPAddress("ff02::12")!)
        let advert = VRRPAdvertisement(virtualRouterID: 7, priority: 200, centiseconds: 50, addresses: addresses)
        let wire = advert.encoded(pseudoHeader: header)
        XCTAssertEqual(wire, bytes("3107c8020032ab2120010db800000000000000000000010020010db8000000000000000000000101"))
        let back = try VRRPAdvertisement.decode(wire[...], pseudoHeader: header).get()
        XCTAssertEqual(back.addresses, addresses)
        XCTAssertEqual(back.intervalSeconds, 0.5)
        // IPv6 has no v2-style checksum to fall back on.
        XCTAssertEqual(decodeError(bytes("3107c8020032a95020010db800000000000000000000010020010db8000000000000000000000101"), header),
                       .badChecksum)
    }

    func testInstanceChecksOfVersion3() throws {
        let header = VRRPAdvertisement.PseudoHeader(source: source, destination: group)
        let advert = try VRRPAdvertisement.decode(bytes("31336401000a3d8eac19fa64")[...], pseudoHeader: header).get()
        let check = AdvertisementCheck(version: 3, authenticationType: .none, password: nil, advertisementInterval: 10,
                                       addresses: [vip], checksAddresses: true, requiredTTL: 255)
        XCTAssertNil(check.rejection(of: advert, ttl: 255))
        XCTAssertFalse(check.differsInInterval(advert))
        // Another interval is accepted (the backup follows the master's) and noticed.
        var slower = check
        slower.advertisementInterval = 100
        XCTAssertNil(slower.rejection(of: advert, ttl: 255))
        XCTAssertTrue(slower.differsInInterval(advert))
        var asV2 = check
        asV2.checksumCoversPseudoHeader = false
        XCTAssertEqual(asV2.rejection(of: advert, ttl: 255), .checksumKind)
        var version2 = check
        version2.version = 2
        XCTAssertEqual(version2.rejection(of: advert, ttl: 255), .wrongVersion)
        let v2Advert = VRRPAdvertisement(virtualRouterID: 51, priority: 100, advertisementInterval: 1, addresses: [vip])
        XCTAssertEqual(check.rejection(of: v2Advert, ttl: 255), .wrongVersion)
        XCTAssertEqual(check.rejection(of: advert, ttl: 254), .wrongTTL)
    }

    private func decodeError(_ bytes: [UInt8], _ header: VRRPAdvertisement.PseudoHeader) -> VRRPAdvertisement.DecodeError? {
        if case .failure(let error) = VRRPAdvertisement.decode(bytes[...], pseudoHeader: header) { return error }
        return nil
    }
}
