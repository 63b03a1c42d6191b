#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet
import KeepalivedConfig
import DaemonCore

/// What VRRP needs to know about an interface: its index, hardware address, first IPv4 address,
/// IPv6 link-local address and whether it is up with a carrier.
public struct NetworkInterface: Sendable, Equatable {
    public let name: String
    public let index: Int32
    public let hardwareAddress: [UInt8]
    /// The address adverts are sent from and ties are broken with, read before any VIP is added.
    public let primaryAddress: IPAddress?
    /// The fe80::/10 address IPv6 adverts are sent from (RFC 5798 section 5.1.2.1).
    public let linkLocalAddress: IPAddress?

    public static func named(_ name: String) throws -> NetworkInterface {
        let index = Int32(if_nametoindex(name))
        guard index > 0 else { throw SystemError("if_nametoindex(\(name))", errno: errno) }
        let addresses = interfaceAddresses(of: name)
        return NetworkInterface(name: name, index: index, hardwareAddress: try hardwareAddress(of: name),
                                primaryAddress: addresses.first { $0.family == .inet },
                                linkLocalAddress: addresses.first { $0.isLinkLocalIPv6 })
    }

    /// This interface, with the addresses of `base`: a VMAC has none of its own and speaks with
    /// its base interface's (or with `primary`, use_ipvlan's address).
    public func borrowingAddresses(of base: NetworkInterface, primary: IPAddress? = nil) -> NetworkInterface {
        NetworkInterface(name: name, index: index, hardwareAddress: hardwareAddress, primaryAddress: primary ?? base.primaryAddress,
                         linkLocalAddress: base.linkLocalAddress)
    }

    /// The primary address of `family`: the IPv4 one, or the IPv6 link-local one.
    public func ownAddress(_ family: AddressFamily) -> IPAddress? {
        family == .inet ? primaryAddress : linkLocalAddress
    }

    /// Up and with a carrier (IFF_UP and IFF_RUNNING), read from the kernel now.
    public static func isUp(_ name: String) -> Bool {
        guard let flags = try? interfaceFlags(of: name) else { return false }
        return flags & Int32(IFF_UP) != 0 && flags & Int32(IFF_RUNNING) != 0
    }

    /// The interface of the IPv4 default route (main table), where keepalived puts a static
    /// address written without `dev`; nil without one.
    public static func defaultRouteInterface() -> String? {
        guard let file = fopen("/proc/net/route", "r") else { return nil }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        // Columns: Iface Destination Gateway Flags RefCnt Use Metric Mask …, in hex.
        while getline(&line, &capacity, file) > 0, let line {
            let columns = String(cString: line).split(whereSeparator: { $0 == "\t" || $0 == " " || $0 == "\n" })
            if columns.count > 7, columns[1] == "00000000", columns[7] == "00000000" { return String(columns[0]) }
        }
        return nil
    }

    private static func withInterfaceRequest<T>(_ name: String, request: UInt, _ read: (ifreq) -> T) throws -> T {
        let descriptor = try systemCall("socket(AF_INET, SOCK_DGRAM)") { socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        defer { close(descriptor) }
        var interfaceRequest = ifreq()
        withUnsafeMutableBytes(of: &interfaceRequest.ifr_ifrn.ifrn_name) { raw in
            for (offset, byte) in name.utf8.prefix(Int(IFNAMSIZ) - 1).enumerated() { raw[offset] = byte }
        }
        try systemCall("ioctl(\(name))") { ioctl(descriptor, request, &interfaceRequest) }
        return read(interfaceRequest)
    }

    private static func hardwareAddress(of name: String) throws -> [UInt8] {
        try withInterfaceRequest(name, request: UInt(SIOCGIFHWADDR)) { request in
            withUnsafeBytes(of: request.ifr_ifru.ifru_hwaddr.sa_data) { Array($0.prefix(6)) }
        }
    }

    private static func interfaceFlags(of name: String) throws -> Int32 {
        try withInterfaceRequest(name, request: UInt(SIOCGIFFLAGS)) { Int32(truncatingIfNeeded: $0.ifr_ifru.ifru_flags) }
    }

    /// The interface's IPv4 and IPv6 addresses, in the kernel's order.
    private static func interfaceAddresses(of name: String) -> [IPAddress] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var found: [IPAddress] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, String(cString: entry.pointee.ifa_name) == name else { continue }
            if address.pointee.sa_family == sa_family_t(AF_INET) {
                let value = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                found.append(.v4(UInt32(bigEndian: value)))
            } else if address.pointee.sa_family == sa_family_t(AF_INET6) {
                let value = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                found.append(withUnsafeBytes(of: value) { IPAddress(v6Bytes: Array($0)) })
            }
        }
        return found
    }
}

extension IPAddress {
    /// In fe80::/10.
    var isLinkLocalIPv6: Bool {
        guard case .v6(let high, _) = self else { return false }
        return high >> 54 == 0x3FA
    }
}
