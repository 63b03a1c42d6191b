import CNetlinkGenl
@testable import IPVS
import KeepalivedConfig
import XCTest

/// Our request bytes, read back with libnl's own parser (genlmsg_parse, nla_parse_nested) through
/// the code that reads the kernel's dumps, whose replies carry the same attributes.
final class IPVSRequestTests: XCTestCase {
    private let header = NetlinkWriter.Header(family: 42, flags: UInt16(NLM_F_ACK), sequence: 7, port: 99, command: 0, version: 1)

    private func encoded(_ operations: [IPVSOperation]) -> NetlinkWriter {
        var writer = NetlinkWriter()
        for operation in operations { IPVSRequest.encode(operation, header: header, into: &writer) }
        return writer
    }

    private func withMessage<Result>(_ writer: NetlinkWriter, at index: Int, _ body: (UnsafeMutablePointer<nlmsghdr>) -> Result) -> Result {
        var bytes = writer.bytes
        return bytes.withUnsafeMutableBytes { raw in
            body((raw.baseAddress! + writer.messageOffsets[index]).assumingMemoryBound(to: nlmsghdr.self))
        }
    }

    func testServicesReadBackThroughLibnl() {
        let services: [(IPVSServiceKey, IPVSServiceSettings)] = [
            (.address(.tcp, IPAddress("192.0.2.1")!, port: 80), IPVSServiceSettings(scheduler: .rr)),
            (.address(.udp, IPAddress("2001:db8::1")!, port: 53),
             IPVSServiceSettings(scheduler: .sh, persistenceTimeout: 50, persistenceNetmask: 64, schedulerFlags: ["sh-port", "sh-fallback"])),
            (.address(.sctp, IPAddress("192.0.2.2")!, port: 443),
             IPVSServiceSettings(scheduler: .wlc, persistenceTimeout: 300, persistenceNetmask: 0xFFFF_FF00, onePacketScheduling: true)),
            (.fwmark(7, .inet), IPVSServiceSettings(scheduler: .lc, persistenceTimeout: 60, persistenceEngine: "sip")),
        ]
        let writer = encoded(services.map { .addService($0.0, $0.1) })
        XCTAssertEqual(writer.messageOffsets.count, services.count)
        for (index, service) in services.enumerated() {
            let parsed = withMessage(writer, at: index) { IPVSNetlink.parseService($0) }
            XCTAssertEqual(parsed?.0, service.0)
            XCTAssertEqual(parsed?.1, service.1)
        }
    }

    func testDestinationsReadBackThroughLibnl() {
        let service = IPVSServiceKey.address(.tcp, IPAddress("192.0.2.1")!, port: 80)
        let destinations: [(IPVSDestinationKey, IPVSDestinationSettings)] = [
            (IPVSDestinationKey(address: IPAddress("198.51.100.1")!, port: 8080), IPVSDestinationSettings(forwarding: .nat, weight: 3)),
            (IPVSDestinationKey(address: IPAddress("198.51.100.2")!, port: 80),
             IPVSDestinationSettings(forwarding: .dr, weight: 0, upperThreshold: 100, lowerThreshold: 10)),
            (IPVSDestinationKey(address: IPAddress("2001:db8::2")!, port: 80), IPVSDestinationSettings(forwarding: .tun, weight: 1)),
        ]
        let writer = encoded(destinations.map { .addDestination(service, $0.0, $0.1) })
        for (index, destination) in destinations.enumerated() {
            let parsed = withMessage(writer, at: index) { IPVSNetlink.parseDestination($0) }
            XCTAssertEqual(parsed?.0, destination.0)
            XCTAssertEqual(parsed?.1, destination.1)
        }
    }

    func testHeadersLengthsAndAlignment() {
        let service = IPVSServiceKey.address(.tcp, IPAddress("192.0.2.1")!, port: 80)
        var writer = encoded([.addService(service, IPVSServiceSettings(scheduler: .wrr)), .deleteService(service)])
        writer.addFlag(NLM_F_ECHO, toMessageAt: writer.messageOffsets[1])
        for index in 0..<2 {
            withMessage(writer, at: index) { header in
                XCTAssertEqual(header.pointee.nlmsg_type, 42)
                XCTAssertEqual(header.pointee.nlmsg_seq, 7)
                XCTAssertEqual(header.pointee.nlmsg_pid, 99)
                XCTAssertEqual(Int(header.pointee.nlmsg_flags) & Int(NLM_F_REQUEST | NLM_F_ACK), Int(NLM_F_REQUEST | NLM_F_ACK))
                XCTAssertEqual(Int(header.pointee.nlmsg_flags) & Int(NLM_F_ECHO) != 0, index == 1)
                XCTAssertEqual(Int(header.pointee.nlmsg_len) % 4, 0)
                // libnl's own walk over the attributes accepts them and finds the service.
                let maximum = Int(__IPVS_CMD_ATTR_MAX) - 1
                var attributes = [UnsafeMutablePointer<nlattr>?](repeating: nil, count: maximum + 1)
                XCTAssertEqual(genlmsg_parse(header, 0, &attributes, Int32(maximum), nil), 0)
                XCTAssertNotNil(attributes[Int(IPVS_CMD_ATTR_SERVICE)])
            }
        }
        XCTAssertEqual(writer.messageOffsets[1], withMessage(writer, at: 0) { Int($0.pointee.nlmsg_len) })
        XCTAssertEqual(writer.bytes.count, writer.messageOffsets[1] + withMessage(writer, at: 1) { Int($0.pointee.nlmsg_len) })
        let commands = (0..<2).map { index in withMessage(writer, at: index) { UInt8(genlmsg_hdr($0).pointee.cmd) } }
        XCTAssertEqual(commands, [UInt8(IPVS_CMD_NEW_SERVICE), UInt8(IPVS_CMD_DEL_SERVICE)])
    }
}
