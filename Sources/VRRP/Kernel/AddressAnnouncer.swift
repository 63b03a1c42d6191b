#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet
import KeepalivedConfig
import DaemonCore

/// Announces a new master's addresses on one interface through a packet socket, so that switches
/// and neighbours learn its MAC at once: gratuitous ARP requests for IPv4 addresses, unsolicited
/// Neighbor Advertisements for IPv6 ones (RFC 5798 section 6.4.1, as keepalived sends them).
public final class AddressAnnouncer: @unchecked Sendable {
    public let interface: NetworkInterface
    private let descriptor: Int32
    /// IPv6 forwarding on the interface: the adverts then carry the Router flag, as keepalived's do.
    private let isRouter: Bool

    public init(interface: NetworkInterface) throws {
        self.interface = interface
        // Protocol 0: a socket that only sends, each frame with its own EtherType.
        descriptor = try systemCall("socket(AF_PACKET, SOCK_RAW)") {
            socket(AF_PACKET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        isRouter = Self.forwardsIPv6(interface.name)
    }

    deinit {
        close(descriptor)
    }

    private static func forwardsIPv6(_ name: String) -> Bool {
        guard let file = fopen("/proc/sys/net/ipv6/conf/\(name)/forwarding", "r") else { return false }
        defer { fclose(file) }
        return fgetc(file) == Int32(UInt8(ascii: "1"))
    }

    /// The Ethernet frame of a gratuitous ARP request for `address` from `hardwareAddress`:
    /// broadcast, sender and target protocol address both the announced one.
    public static func gratuitousARP(announcing address: IPAddress, from hardwareAddress: [UInt8]) -> [UInt8] {
        guard case .v4 = address, hardwareAddress.count == 6 else { return [] }
        let ip = address.networkBytes
        let broadcast = [UInt8](repeating: 0xFF, count: 6)
        var frame = broadcast + hardwareAddress + [0x08, 0x06]
        frame += [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]  // Ethernet, IPv4, request
        frame += hardwareAddress + ip + broadcast + ip
        return frame
    }

    /// The all-nodes group ff02::1 and its Ethernet address (RFC 2464 section 7).
    static let allNodes = IPAddress("ff02::1")!
    static let allNodesMAC: [UInt8] = [0x33, 0x33, 0, 0, 0, 1]

    /// The Ethernet frame of an unsolicited Neighbor Advertisement (RFC 4861 section 4.4) for
    /// `address` from `hardwareAddress`: from the address itself to all nodes, hop limit 255,
    /// Override set (Router too when `router`), the MAC as target link-layer address option.
    public static func neighborAdvertisement(announcing address: IPAddress, from hardwareAddress: [UInt8], router: Bool) -> [UInt8] {
        guard case .v6 = address, hardwareAddress.count == 6 else { return [] }
        var icmp: [UInt8] = [136, 0, 0, 0, (router ? 0x80 : 0) | 0x20, 0, 0, 0]
        icmp += address.networkBytes
        icmp += [2, 1] + hardwareAddress  // target link-layer address, 8 bytes
        let pseudoHeader = VRRPAdvertisement.PseudoHeader(source: address, destination: allNodes)
        let checksum = InternetChecksum.compute(pseudoHeader.bytes(length: icmp.count, nextHeader: 58) + icmp)
        icmp[2] = UInt8(checksum >> 8)
        icmp[3] = UInt8(checksum & 0xFF)
        var frame = allNodesMAC + hardwareAddress + [0x86, 0xDD]
        frame += [0x60, 0, 0, 0, UInt8(icmp.count >> 8), UInt8(icmp.count & 0xFF), 58, 255]
        frame += address.networkBytes + allNodes.networkBytes
        return frame + icmp
    }

    /// A gratuitous ARP for an IPv4 address, a Neighbor Advertisement for an IPv6 one.
    public func announce(_ address: IPAddress) throws {
        let frame = address.family == .inet
            ? Self.gratuitousARP(announcing: address, from: interface.hardwareAddress)
            : Self.neighborAdvertisement(announcing: address, from: interface.hardwareAddress, router: isRouter)
        guard frame.count > 14 else { return }
        var link = sockaddr_ll()
        link.sll_family = UInt16(AF_PACKET)
        link.sll_protocol = (UInt16(frame[12]) << 8 | UInt16(frame[13])).bigEndian
        link.sll_ifindex = interface.index
        link.sll_halen = 6
        withUnsafeMutableBytes(of: &link.sll_addr) { raw in
            for index in 0..<6 { raw[index] = frame[index] }
        }
        let what = address.family == .inet ? "gratuitous ARP" : "Neighbor Advertisement"
        try systemCall("sendto(\(what) on \(interface.name))") {
            withUnsafePointer(to: &link) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    sendto(descriptor, frame, frame.count, 0, socketAddress, socklen_t(MemoryLayout<sockaddr_ll>.size))
                }
            }
        }
    }
}
