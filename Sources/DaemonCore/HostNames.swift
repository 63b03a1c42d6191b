#if canImport(Glibc)
import Glibc
import CLinuxNet
#endif
import KeepalivedConfig

/// The host's names and clock text as the mail alerts need them (uname, getaddrinfo, getpwuid,
/// localtime_r): the only place with those calls.
public enum HostNames {
    /// The host's canonical name, as keepalived's default router_id: uname's node name looked up
    /// for its canonical form; nil when that lookup fails.
    public static func canonicalLocalName() -> String? {
        var names = utsname()
        guard uname(&names) == 0 else { return nil }
        let node = withUnsafeBytes(of: &names.nodename) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        var hints = addrinfo()
        hints.ai_flags = AI_CANONNAME
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(node, nil, &hints, &result) == 0, let first = result else { return nil }
        defer { freeaddrinfo(first) }
        return first.pointee.ai_canonname.map { String(cString: $0) }
    }

    /// The name of the user the daemon runs as.
    public static func userName() -> String? {
        guard let entry = getpwuid(getuid()), let name = entry.pointee.pw_name else { return nil }
        return String(cString: name)
    }

    /// The first address `host` resolves to (IPv4 first, as a TCP connection would try it).
    public static func resolve(_ host: String) -> IPAddress? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return nil }
        defer { freeaddrinfo(first) }
        var found: [IPAddress] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let address = current.pointee.ai_addr {
                var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { var a = $0.pointee.sin_addr; _ = inet_ntop(AF_INET, &a, &text, socklen_t(text.count)) }
                case AF_INET6:
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { var a = $0.pointee.sin6_addr; _ = inet_ntop(AF_INET6, &a, &text, socklen_t(text.count)) }
                default: break
                }
                if let parsed = IPAddress(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)) { found.append(parsed) }
            }
            entry = current.pointee.ai_next
        }
        return found.first { $0.family == .inet } ?? found.first
    }

    /// Now in RFC 5322's form in local time, as keepalived dates its mail:
    /// `Mon, 01 Mar 2021 09:44:08 +0000`.
    public static func mailDate() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var text = [CChar](repeating: 0, count: 64)
        let count = strftime(&text, text.count, "%a, %d %b %Y %H:%M:%S %z", &parts)
        return String(decoding: text.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
