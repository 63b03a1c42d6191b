#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet
import KeepalivedConfig
import DaemonCore

/// A packet read from the VRRP socket: the IP header fields VRRP checks, and the payload.
public struct ReceivedVRRPPacket: Sendable {
    public var source: IPAddress
    public var destination: IPAddress
    public var ttl: UInt8
    public var payload: ArraySlice<UInt8>
    /// How long ago the kernel received it (0 when it did not say): timers then start from the
    /// packet's arrival, not from when the loop got to it.
    public var age: Double = 0
    /// The IPsec AH header an advert came with (`auth_type AH`; the AH socket's packets only).
    public var authentication: IPsecAH.Received?
}

/// A VRRP socket of one address family on one interface, shared by the instances on it.
public protocol VRRPTransport: AnyObject, Sendable {
    var descriptor: Int32 { get }
    /// One advert as this socket writes it: an instance makes it once and sends it each time
    /// (IPv4: with the IP header this socket writes itself).
    func framed(_ payload: [UInt8], from source: IPAddress, to destination: IPAddress) -> [UInt8]
    /// Sends one advert made by `framed` from `source` to `destination` (the multicast group or a unicast peer).
    func sendFramed(_ packet: [UInt8], from source: IPAddress, to destination: IPAddress) throws
    /// The next waiting packet, nil when none is waiting.
    func receive() throws -> ReceivedVRRPPacket?
}

/// The raw IP protocol 112 socket of one interface, shared by the instances on it; or, for
/// instances with `auth_type AH`, one of protocol 51 (IPsec AH), whose adverts it takes apart.
///
/// It writes its own IP header (IP_HDRINCL) so that adverts carry TTL 255, precedence "internet
/// control" and the interface's primary address as source, whatever addresses are added later.
/// Receiving is bound to the interface; the multicast group is joined there.
public final class VRRPSocket: VRRPTransport, @unchecked Sendable {
    public let descriptor: Int32
    public let interface: NetworkInterface
    private let ipProtocol: Int32
    private var buffer = [UInt8](repeating: 0, count: 65536)

    public init(interface: NetworkInterface, multicastGroup: IPAddress?, ipProtocol: Int32 = VRRPAdvertisement.ipProtocol) throws {
        self.interface = interface
        self.ipProtocol = ipProtocol
        descriptor = try systemCall("socket(AF_INET, SOCK_RAW, \(ipProtocol))") {
            socket(AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), ipProtocol)
        }
        do {
            try setSocketOption(descriptor, Int32(IPPROTO_IP), IP_HDRINCL, Int32(1), "IP_HDRINCL")
            _ = try systemCall("setsockopt(SO_TIMESTAMPNS)") { swiftkeepalived_enable_receive_timestamps(descriptor) }
            _ = try interface.name.withCString { name in
                try systemCall("setsockopt(SO_BINDTODEVICE \(interface.name))") {
                    setsockopt(descriptor, SOL_SOCKET, SO_BINDTODEVICE, name, socklen_t(strlen(name) + 1))
                }
            }
            try setSocketOption(descriptor, Int32(IPPROTO_IP), IP_MULTICAST_LOOP, UInt8(0), "IP_MULTICAST_LOOP")
            var request = ip_mreqn()
            request.imr_ifindex = interface.index
            try setSocketOption(descriptor, Int32(IPPROTO_IP), IP_MULTICAST_IF, request, "IP_MULTICAST_IF")
            if case .v4(let group)? = multicastGroup {
                request.imr_multiaddr.s_addr = group.bigEndian
                try setSocketOption(descriptor, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, request, "IP_ADD_MEMBERSHIP")
            }
        } catch {
            close(descriptor)
            throw error
        }
    }

    deinit {
        close(descriptor)
    }

    /// Sends one advert from `source` to `destination` (the multicast group or a unicast peer).
    public func framed(_ payload: [UInt8], from source: IPAddress, to destination: IPAddress) -> [UInt8] {
        guard case .v4(let sourceValue) = source, case .v4(let destinationValue) = destination else { return [] }
        return IPv4Header.build(source: sourceValue, destination: destinationValue, ipProtocol: VRRPAdvertisement.ipProtocol,
                                payloadLength: payload.count) + payload
    }

    public func sendFramed(_ packet: [UInt8], from source: IPAddress, to destination: IPAddress) throws {
        guard !packet.isEmpty, case .v4(let destinationValue) = destination else { return }
        try sendPacket(packet, to: destinationValue)
    }

    /// Sends a whole IPv4 packet, its header included (an AH advert's).
    public func sendPacket(_ packet: [UInt8], to destination: UInt32) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = destination.bigEndian
        try systemCall("sendto(VRRP on \(interface.name))") {
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    sendto(descriptor, packet, packet.count, 0, socketAddress, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    /// Seconds since `stamp` on the wall clock; 0 for no stamp or one from the future (a clock step).
    static func age(of stamp: timespec) -> Double {
        guard stamp.tv_sec != 0 else { return 0 }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let age = Double(now.tv_sec - stamp.tv_sec) + Double(now.tv_nsec - stamp.tv_nsec) / 1e9
        return age > 0 && age < 5 ? age : 0
    }

    /// The next waiting packet, nil when none is waiting. Packets too short for an IP header
    /// are skipped here.
    public func receive() throws -> ReceivedVRRPPacket? {
        while true {
            var stamp = timespec()
            let count = buffer.withUnsafeMutableBytes { bytes in
                swiftkeepalived_receive_stamped(descriptor, bytes.baseAddress, bytes.count, &stamp)
            }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
                throw SystemError("recv(VRRP on \(interface.name))", errno: errno)
            }
            guard count >= 20 else { continue }
            let headerLength = Int(buffer[0] & 0x0F) * 4
            guard headerLength >= 20, count >= headerLength else { continue }
            func address(at offset: Int) -> IPAddress {
                .v4(UInt32(buffer[offset]) << 24 | UInt32(buffer[offset + 1]) << 16 | UInt32(buffer[offset + 2]) << 8 | UInt32(buffer[offset + 3]))
            }
            var packet = ReceivedVRRPPacket(source: address(at: 12), destination: address(at: 16), ttl: buffer[8],
                                            payload: buffer[headerLength..<count], age: Self.age(of: stamp))
            if ipProtocol == IPsecAH.ipProtocol {
                // AH for something other than VRRP (or another ICV) is not ours to look at.
                guard let (header, vrrpStart) = IPsecAH.parse(buffer[..<count], ipHeaderLength: headerLength) else { continue }
                packet.payload = buffer[vrrpStart..<count]
                packet.authentication = header
            }
            return packet
        }
    }
}
