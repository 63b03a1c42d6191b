#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet
import KeepalivedConfig
import DaemonCore

/// The raw IPv6 protocol 112 socket of one interface (RFC 5798 section 5.1.2): adverts go out with
/// hop limit 255 from the instance's link-local address, given per packet (IPV6_PKTINFO); the
/// kernel computes and checks the checksum over the pseudo-header (IPV6_CHECKSUM at offset 6).
/// A received packet carries no IP header: its source, destination and hop limit come apart.
public final class VRRPSocket6: VRRPTransport, @unchecked Sendable {
    public let descriptor: Int32
    public let interface: NetworkInterface
    private var buffer = [UInt8](repeating: 0, count: 65536)

    public init(interface: NetworkInterface, multicastGroup: IPAddress?) throws {
        self.interface = interface
        descriptor = try systemCall("socket(AF_INET6, SOCK_RAW, 112)") {
            socket(AF_INET6, Int32(SOCK_RAW.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), VRRPAdvertisement.ipProtocol)
        }
        do {
            let ipv6 = Int32(IPPROTO_IPV6)
            try setSocketOption(descriptor, ipv6, IPV6_CHECKSUM, Int32(6), "IPV6_CHECKSUM")
            try setSocketOption(descriptor, ipv6, IPV6_MULTICAST_HOPS, Int32(255), "IPV6_MULTICAST_HOPS")
            try setSocketOption(descriptor, ipv6, IPV6_UNICAST_HOPS, Int32(255), "IPV6_UNICAST_HOPS")
            try setSocketOption(descriptor, ipv6, IPV6_MULTICAST_LOOP, Int32(0), "IPV6_MULTICAST_LOOP")
            try setSocketOption(descriptor, ipv6, IPV6_MULTICAST_IF, Int32(interface.index), "IPV6_MULTICAST_IF")
            try setSocketOption(descriptor, ipv6, IPV6_RECVPKTINFO, Int32(1), "IPV6_RECVPKTINFO")
            try setSocketOption(descriptor, ipv6, IPV6_RECVHOPLIMIT, Int32(1), "IPV6_RECVHOPLIMIT")
            _ = try systemCall("setsockopt(SO_TIMESTAMPNS)") { swiftkeepalived_enable_receive_timestamps(descriptor) }
            _ = try interface.name.withCString { name in
                try systemCall("setsockopt(SO_BINDTODEVICE \(interface.name))") {
                    setsockopt(descriptor, SOL_SOCKET, SO_BINDTODEVICE, name, socklen_t(strlen(name) + 1))
                }
            }
            if let multicastGroup, multicastGroup.family == .inet6 {
                var request = ipv6_mreq()
                request.ipv6mr_multiaddr = Self.in6(multicastGroup)
                request.ipv6mr_interface = UInt32(interface.index)
                _ = try systemCall("setsockopt(IPV6_ADD_MEMBERSHIP)") {
                    setsockopt(descriptor, ipv6, IPV6_ADD_MEMBERSHIP, &request, socklen_t(MemoryLayout<ipv6_mreq>.size))
                }
            }
        } catch {
            close(descriptor)
            throw error
        }
    }

    deinit {
        close(descriptor)
    }

    static func in6(_ address: IPAddress) -> in6_addr {
        var value = in6_addr()
        let bytes = address.v6Bytes
        withUnsafeMutableBytes(of: &value) { raw in
            for index in 0..<min(16, bytes.count) { raw[index] = bytes[index] }
        }
        return value
    }

    static func address(_ value: in6_addr) -> IPAddress {
        withUnsafeBytes(of: value) { IPAddress(v6Bytes: Array($0)) }
    }

    /// The kernel writes the IPv6 header (hop limit and source set per packet).
    public func framed(_ payload: [UInt8], from source: IPAddress, to destination: IPAddress) -> [UInt8] {
        payload
    }

    public func sendFramed(_ payload: [UInt8], from source: IPAddress, to destination: IPAddress) throws {
        guard source.family == .inet6, destination.family == .inet6 else { return }
        var to = sockaddr_in6()
        to.sin6_family = sa_family_t(AF_INET6)
        to.sin6_addr = Self.in6(destination)
        to.sin6_scope_id = UInt32(interface.index)
        var from = Self.in6(source)
        _ = try systemCall("sendmsg(VRRP on \(interface.name))") {
            swiftkeepalived_send6(descriptor, payload, payload.count, &to, &from, UInt32(interface.index))
        }
    }

    public func receive() throws -> ReceivedVRRPPacket? {
        while true {
            var from = sockaddr_in6()
            var destination = in6_addr()
            var hopLimit: Int32 = -1
            var stamp = timespec()
            let count = buffer.withUnsafeMutableBytes { bytes in
                swiftkeepalived_receive6(descriptor, bytes.baseAddress, bytes.count, &from, &destination, &hopLimit, &stamp)
            }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
                throw SystemError("recvmsg(VRRP on \(interface.name))", errno: errno)
            }
            return ReceivedVRRPPacket(source: Self.address(from.sin6_addr), destination: Self.address(destination),
                                      ttl: UInt8(clamping: hopLimit), payload: buffer[0..<count], age: VRRPSocket.age(of: stamp))
        }
    }
}
