#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet
import KeepalivedConfig
import DaemonCore

/// What VRRP needs to know about an interface: its index, hardware address, first IPv4 address
/// and whether it is up with a carrier.
public struct NetworkInterface: Sendable, Equatable {
    public let name: String
    public let index: Int32
    public let hardwareAddress: [UInt8]
    /// The address adverts are sent from and ties are broken with, read before any VIP is added.
    public let primaryAddress: IPAddress?

    public static func named(_ name: String) throws -> NetworkInterface {
        let index = Int32(if_nametoindex(name))
        guard index > 0 else { throw SystemError("if_nametoindex(\(name))", errno: errno) }
        return NetworkInterface(name: name, index: index, hardwareAddress: try hardwareAddress(of: name),
                                primaryAddress: primaryIPv4Address(of: name))
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

    private static func primaryIPv4Address(of name: String) -> IPAddress? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return nil }
        defer { freeifaddrs(list) }
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
                  String(cString: entry.pointee.ifa_name) == name else { continue }
            let value = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
            return .v4(UInt32(bigEndian: value))
        }
        return nil
    }
}
