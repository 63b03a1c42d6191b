#if canImport(Glibc)
import Glibc
#endif
import KeepalivedConfig
import XCTest

/// IPv4 addresses are read by our own fast path; it must agree with inet_pton on every input.
final class IPAddressTests: XCTestCase {
    private func reference(_ text: String) -> UInt32? {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1 ? UInt32(bigEndian: address.s_addr) : nil
    }

    private func ours(_ text: String) -> UInt32? {
        if case .v4(let value)? = IPAddress(text) { return value }
        return nil
    }

    func testAgreesWithInetPtonOnEdgeCases() {
        let cases = ["1.2.3.4", "0.0.0.0", "255.255.255.255", "192.0.2.10", "01.2.3.4", "1.2.3.04", "1.2.3.00", "256.1.1.1",
                     "1.2.3", "1.2.3.4.5", "1..2.3", "", ".1.2.3", "1.2.3.", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4/24", "1.2.3.-4",
                     "1.2.3.4a", "0x1.2.3.4", "1000.1.1.1", "1.2.3.2555", "١.2.3.4", "1.2.3.4\u{0}"]
        for text in cases {
            XCTAssertEqual(ours(text), reference(text), "'\(text)'")
        }
    }

    func testAgreesWithInetPtonOnRandomInput() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789.....a: ")
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...17, using: &generator)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            XCTAssertEqual(ours(text), reference(text), "'\(text)'")
        }
    }

    func testNetworkBytes() {
        XCTAssertEqual(IPAddress("192.0.2.1")!.withNetworkBytes { Array($0) }, [192, 0, 2, 1])
        XCTAssertEqual(IPAddress("192.0.2.1")!.withNetworkBytes(paddedTo16: true) { Array($0) }, [192, 0, 2, 1] + Array(repeating: 0, count: 12))
        XCTAssertEqual(IPAddress("2001:db8::1")!.withNetworkBytes { Array($0) }, IPAddress("2001:db8::1")!.v6Bytes)
    }
}
