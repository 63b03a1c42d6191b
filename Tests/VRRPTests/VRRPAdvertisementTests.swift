import KeepalivedConfig
import VRRP
import XCTest

final class VRRPAdvertisementTests: XCTestCase {
    /// VRID 51, priority 100, one address 172.25.250.100, PASS "1111", advert_int 1: what keepalived
    /// sends for the seed's VI_1 (checksum computed by hand over the 20 bytes).
    private let seedAdvert: [UInt8] = [
        0x21, 0x33, 0x64, 0x01, 0x01, 0x01, 0x00, 0x00,
        0xAC, 0x19, 0xFA, 0x64,
        0x31, 0x31, 0x31, 0x31, 0x00, 0x00, 0x00, 0x00,
    ]

    private var seedAdvertWithChecksum: [UInt8] {
        var bytes = seedAdvert
        // Sum of 16-bit words: 0x2133 + 0x6401 + 0x0101 + 0x0000 + 0xAC19 + 0xFA64 + 0x3131 + 0x3131 = 0x2_8F14,
        // folded: 0x8F14 + 0x2 = 0x8F16; complement 0x70E9.
        bytes[6] = 0x70
        bytes[7] = 0xE9
        return bytes
    }

    func testEncodingMatchesTheHandBuiltVector() {
        let advert = VRRPAdvertisement(virtualRouterID: 51, priority: 100, authenticationType: .simpleText, advertisementInterval: 1,
                                       addresses: [IPAddress("172.25.250.100")!], password: "1111")
        XCTAssertEqual(advert.encoded(), seedAdvertWithChecksum)
    }

    func testDecodingTheHandBuiltVector() throws {
        let advert = try VRRPAdvertisement.decode(seedAdvertWithChecksum[...]).get()
        XCTAssertEqual(advert.virtualRouterID, 51)
        XCTAssertEqual(advert.priority, 100)
        XCTAssertEqual(advert.authenticationType, .simpleText)
        XCTAssertEqual(advert.advertisementInterval, 1)
        XCTAssertEqual(advert.addresses, [IPAddress("172.25.250.100")!])
        XCTAssertEqual(advert.authenticationData, Array("1111".utf8) + [0, 0, 0, 0])
    }

    func testRoundTripWithSeveralAddressesAndNoAuthentication() throws {
        let addresses = ["192.168.200.16", "192.168.200.17", "192.168.200.18"].map { IPAddress($0)! }
        let advert = VRRPAdvertisement(virtualRouterID: 255, priority: 0, advertisementInterval: 255, addresses: addresses)
        let bytes = advert.encoded()
        XCTAssertEqual(bytes.count, 8 + 12 + 8)
        XCTAssertEqual(InternetChecksum.compute(bytes), 0)
        XCTAssertEqual(try VRRPAdvertisement.decode(bytes[...]).get(), advert)
    }

    func testEthernetPaddingAfterTheMessageIsIgnored() throws {
        XCTAssertNoThrow(try VRRPAdvertisement.decode((seedAdvertWithChecksum + [0, 0, 0, 0, 0, 0])[...]).get())
    }

    /// More than padding is a packet too long, as keepalived counts it (packet_len_err).
    func testBytesBeyondPaddingAreRefused() {
        let long = seedAdvertWithChecksum + [UInt8](repeating: 7, count: 1000)
        XCTAssertEqual(decodeError(long), .lengthMismatch(addressCount: 1, length: long.count))
    }

    func testMalformedPacketsAreRefusedWithAReason() {
        let good = seedAdvertWithChecksum
        XCTAssertEqual(decodeError(Array(good.prefix(10))), .tooShort(length: 10))
        var version4 = good
        version4[0] = 0x41
        XCTAssertEqual(decodeError(version4), .badVersion(4))
        var type2 = good
        type2[0] = 0x22
        XCTAssertEqual(decodeError(type2), .badType(2))
        var corrupted = good
        corrupted[9] ^= 0xFF
        XCTAssertEqual(decodeError(corrupted), .badChecksum)
        var tooManyAddresses = good
        tooManyAddresses[3] = 5
        XCTAssertEqual(decodeError(tooManyAddresses), .lengthMismatch(addressCount: 5, length: 20))
        XCTAssertEqual(decodeError(fixChecksum(good, authType: 7)), .unknownAuthenticationType(7))
    }

    func testChecksumOfOddLength() {
        XCTAssertEqual(InternetChecksum.compute([0x01]), ~UInt16(0x0100))
        XCTAssertEqual(InternetChecksum.compute([UInt8]()), 0xFFFF)
    }

    func testInstanceChecks() throws {
        let vip = IPAddress("172.25.250.100")!
        let check = AdvertisementCheck(authenticationType: .simpleText, password: "1111", advertisementInterval: 1,
                                       addresses: [vip], checksAddresses: true, requiredTTL: 255)
        let advert = try VRRPAdvertisement.decode(seedAdvertWithChecksum[...]).get()
        XCTAssertNil(check.rejection(of: advert, ttl: 255))
        XCTAssertEqual(check.rejection(of: advert, ttl: 64), .wrongTTL)
        var wrongPassword = advert
        wrongPassword.authenticationData = Array("2222".utf8) + [0, 0, 0, 0]
        XCTAssertEqual(check.rejection(of: wrongPassword, ttl: 255), .authenticationFailure)
        var noAuthentication = advert
        noAuthentication.authenticationType = .none
        XCTAssertEqual(check.rejection(of: noAuthentication, ttl: 255), .authenticationTypeMismatch)
        var slower = advert
        slower.advertisementInterval = 2
        XCTAssertEqual(check.rejection(of: slower, ttl: 255), .intervalMismatch)
        var otherAddress = advert
        otherAddress.addresses = [IPAddress("172.25.250.101")!]
        XCTAssertEqual(check.rejection(of: otherAddress, ttl: 255), .addressMismatch)
        var skipping = check
        skipping.checksAddresses = false
        XCTAssertNil(skipping.rejection(of: otherAddress, ttl: 255))
    }

    private func decodeError(_ bytes: [UInt8]) -> VRRPAdvertisement.DecodeError? {
        if case .failure(let error) = VRRPAdvertisement.decode(bytes[...]) { return error }
        return nil
    }

    private func fixChecksum(_ bytes: [UInt8], authType: UInt8) -> [UInt8] {
        var copy = bytes
        copy[4] = authType
        copy[6] = 0
        copy[7] = 0
        let sum = InternetChecksum.compute(copy)
        copy[6] = UInt8(sum >> 8)
        copy[7] = UInt8(sum & 0xFF)
        return copy
    }
}
