#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet
import KeepalivedConfig
import DaemonCore

/// Announces addresses with gratuitous ARP requests through a packet socket on one interface,
/// so that switches and neighbours learn the new master's MAC for a VIP at once.
public final class GratuitousARP: @unchecked Sendable {
    public let interface: NetworkInterface
    private let descriptor: Int32

    public init(interface: NetworkInterface) throws {
        self.interface = interface
        descriptor = try systemCall("socket(AF_PACKET, SOCK_RAW)") {
            socket(AF_PACKET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(UInt16(ETH_P_ARP).bigEndian))
        }
    }

    deinit {
        close(descriptor)
    }

    /// The Ethernet frame of a gratuitous ARP request for `address` from `hardwareAddress`:
    /// broadcast, sender and target protocol address both the announced one.
    public static func frame(announcing address: IPAddress, from hardwareAddress: [UInt8]) -> [UInt8] {
        guard case .v4(let value) = address, hardwareAddress.count == 6 else { return [] }
        let ip = [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        let broadcast = [UInt8](repeating: 0xFF, count: 6)
        var frame = broadcast + hardwareAddress + [0x08, 0x06]
        frame += [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]  // Ethernet, IPv4, request
        frame += hardwareAddress + ip + broadcast + ip
        return frame
    }

    public func announce(_ address: IPAddress) throws {
        let frame = Self.frame(announcing: address, from: interface.hardwareAddress)
        guard !frame.isEmpty else { return }
        var link = sockaddr_ll()
        link.sll_family = UInt16(AF_PACKET)
        link.sll_protocol = UInt16(ETH_P_ARP).bigEndian
        link.sll_ifindex = interface.index
        link.sll_halen = 6
        withUnsafeMutableBytes(of: &link.sll_addr) { raw in
            for index in 0..<6 { raw[index] = 0xFF }
        }
        try systemCall("sendto(gratuitous ARP on \(interface.name))") {
            withUnsafePointer(to: &link) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    sendto(descriptor, frame, frame.count, 0, socketAddress, socklen_t(MemoryLayout<sockaddr_ll>.size))
                }
            }
        }
    }
}
